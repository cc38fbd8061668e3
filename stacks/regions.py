"""The region catalogue, as the program imports it: `policies/usdr_common/regions.py`, re-exported.

The catalogue (`policies/usdr_common/regions.yaml`) and its loader live in the pack's folder so a
published pack carries them; this module only keeps the program's import path stable. There is
no second list of regions here.
"""

from __future__ import annotations

from usdr_common.regions import (
    CATALOGUE_PATH,
    Catalogue,
    CatalogueError,
    Decision,
    Region,
    Status,
    catalogue_from_data,
    load_catalogue,
)

__all__ = [
    "CATALOGUE_PATH",
    "Catalogue",
    "CatalogueError",
    "Decision",
    "Region",
    "Status",
    "catalogue_from_data",
    "load_catalogue",
]
