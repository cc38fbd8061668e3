"""Region facts for reports: the realm and jurisdiction of a region, from this repository's catalogue.

preflight runs any Pulumi project, so it must not import the project's packages by name (a
project with its own `stacks` package would then get ours). The catalogue module
(`stacks/regions.py`, standard library + PyYAML only) is loaded by file path under a private
module name, exactly as the policy pack does. If it is missing, realms are simply unknown.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

_MODULE = "preflight._region_catalogue"
_PATH = Path(__file__).resolve().parents[1] / "stacks" / "regions.py"


@lru_cache(maxsize=1)
def _catalogue() -> Any | None:
    if not _PATH.is_file():
        return None
    try:
        spec = importlib.util.spec_from_file_location(_MODULE, _PATH)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE] = module  # dataclasses resolve annotations through sys.modules
        spec.loader.exec_module(module)
        return module.load_catalogue()
    except Exception:  # a broken catalogue only makes realms unknown in reports
        sys.modules.pop(_MODULE, None)
        return None


def region_facts(region: str | None) -> dict[str, str] | None:
    """{"identifier", "key", "realm", "jurisdiction", "status"} of a region, or None if unknown."""
    cat = _catalogue()
    if cat is None or not region:
        return None
    r = cat.lookup(region)
    if r is None:
        return None
    return {
        "identifier": r.identifier,
        "key": r.key,
        "realm": r.realm,
        "jurisdiction": r.jurisdiction,
        "status": str(r.status.value),
    }


def realm_of(region: str | None) -> str | None:
    facts = region_facts(region)
    return facts["realm"] if facts else None


def ocid_region(ocid: Any) -> str | None:
    """The region named by an OCID's region segment (key or long form), if the catalogue knows it."""
    if not isinstance(ocid, str) or not ocid.startswith("ocid1."):
        return None
    parts = ocid.split(".")
    if len(parts) < 5 or not parts[3]:
        return None
    facts = region_facts(parts[3])
    return facts["identifier"] if facts else parts[3]


def region(name: str | None) -> Any | None:
    """The catalogue's region (stacks/regions.py `Region`) for an identifier or key, or None."""
    cat = _catalogue()
    return cat.lookup(name) if cat is not None and isinstance(name, str) and name else None


def regions_in_realm(realm: str) -> list[Any]:
    """Every catalogue region of `realm`, in catalogue order (a tenancy can subscribe to any)."""
    cat = _catalogue()
    return [r for r in cat if r.realm == realm] if cat is not None else []
