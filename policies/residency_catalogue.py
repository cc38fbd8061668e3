"""The region catalogue, loaded from the project's one loader: `../stacks/regions.py`.

The pack does not copy the catalogue or its parser. It loads `stacks/regions.py` (stdlib +
PyYAML only, on purpose) by file path, so the pack, the stack settings and preflight's
reports answer residency questions from the same code and the same `regions.yaml`.

When the pack runs without the project around it (published on its own), the loader is
missing: `regions_module()` returns None and every residency decision fails closed unless
the pack config supplies `allowedRegions` entries with their keys and realms.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from stacks.regions import Catalogue

# Overridable for tests and for packs installed next to a different checkout.
REGIONS_MODULE_ENV = "USDR_REGIONS_MODULE"
DEFAULT_REGIONS_MODULE = Path(__file__).resolve().parent.parent / "stacks" / "regions.py"
_MODULE_NAME = "usdr_pack_regions"


def regions_module_path() -> Path:
    override = os.environ.get(REGIONS_MODULE_ENV)
    return Path(override) if override else DEFAULT_REGIONS_MODULE


@cache
def _load(path: Path) -> ModuleType | None:
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"{_MODULE_NAME}_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve annotations through sys.modules: register before executing.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[spec.name]
        raise
    return module


def regions_module() -> ModuleType | None:
    """`stacks/regions.py` as a module, or None when it is not there."""
    return _load(regions_module_path().resolve())


def default_catalogue() -> Catalogue | None:
    """The project's catalogue (`stacks/regions.yaml`), or None if the loader is missing.

    A loader that is present but cannot read its catalogue raises: that is a broken
    project, not a missing one, and the policies turn it into a fail-closed violation.
    """
    module = regions_module()
    if module is None:
        return None
    return cast("Catalogue", module.load_catalogue())


def catalogue_from_rows(rows: object, source: str) -> Catalogue:
    """A catalogue from pack-config rows, parsed by the same loader; raises if unavailable."""
    module = regions_module()
    if module is None:
        raise LookupError(
            f"{source}: a catalogue was configured but the region loader "
            f"({regions_module_path()}) is not available to parse it"
        )
    return cast("Catalogue", module.catalogue_from_data(rows, source))


def catalogue_error_types() -> tuple[type[Exception], ...]:
    module = regions_module()
    if module is None:
        return ()
    return (cast("type[Exception]", module.CatalogueError),)
