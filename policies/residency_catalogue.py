"""The pack's region catalogue: `usdr_common/regions.yaml` in this folder, read by `usdr_common/regions.py`.

The pack carries its catalogue and loader (standard library + PyYAML only) in its own folder,
because `pulumi policy publish` uploads only this folder and a published pack is installed
without the repository. The program (`stacks/regions.py` re-exports the same module) and
preflight's reports read these very files: one catalogue, one loader.

If the catalogue file is missing (a copy of the pack without it), `default_catalogue()` returns
None and every residency decision fails closed unless the pack config supplies a `catalogue` or
`allowedRegions` entries with their keys and realms.
"""

from __future__ import annotations

from pathlib import Path

from usdr_common import regions
from usdr_common.regions import Catalogue, CatalogueError

# The file default_catalogue() reads; a module global so a test can point it elsewhere.
CATALOGUE_FILE: Path = regions.CATALOGUE_PATH


def catalogue_path() -> Path:
    return CATALOGUE_FILE


def default_catalogue() -> Catalogue | None:
    """The pack's catalogue (`usdr_common/regions.yaml`), or None if that file is not there.

    A catalogue that is present but cannot be read or parsed raises CatalogueError: that is a
    broken pack, not a missing catalogue, and the policies turn it into a fail-closed violation.
    """
    path = catalogue_path()
    if not path.exists() and not path.is_symlink():
        return None
    return regions.load_catalogue(path)


def catalogue_from_rows(rows: object, source: str) -> Catalogue:
    """A catalogue from pack-config rows, parsed by the same loader; raises CatalogueError."""
    return regions.catalogue_from_data(rows, source)


def catalogue_error_types() -> tuple[type[Exception], ...]:
    return (CatalogueError,)
