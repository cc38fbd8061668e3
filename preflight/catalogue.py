"""Region facts for reports: the realm and jurisdiction of a region, from this repository's catalogue.

The catalogue (`policies/usdr_common/regions.yaml`) and its loader live in the policy pack's
folder, shared with the program and the pack. preflight runs any Pulumi project, so it must not
import the project's packages by name (a project with its own `stacks` or `usdr_common` would
then get ours, or we theirs): preflight/common.py loads the loader under a private name. If the
catalogue is missing or broken, realms are simply unknown in reports (the gate itself is the
pack's, which fails closed).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from preflight import common


@lru_cache(maxsize=1)
def _catalogue() -> Any | None:
    try:
        return common.load("regions").load_catalogue()
    except Exception:  # a broken catalogue only makes realms unknown in reports
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
    """The catalogue's region (usdr_common/regions.py `Region`) for an identifier or key, or None."""
    cat = _catalogue()
    return cat.lookup(name) if cat is not None and isinstance(name, str) and name else None


def regions_in_realm(realm: str) -> list[Any]:
    """Every catalogue region of `realm`, in catalogue order (a tenancy can subscribe to any)."""
    cat = _catalogue()
    return [r for r in cat if r.realm == realm] if cat is not None else []
