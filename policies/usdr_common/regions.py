"""The OCI region catalogue (regions.yaml, beside this file) and the residency questions asked of it.

One catalogue, one loader, for the program's settings and components (through
`stacks/regions.py`), the CrossGuard pack (policies/residency_catalogue.py) and preflight's
reports (preflight/catalogue.py). It lives in the pack's folder so that a published pack,
installed without the repository, still carries it; it depends on nothing but the standard
library and PyYAML.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .strict_yaml import read_yaml

CATALOGUE_PATH = Path(__file__).resolve().with_name("regions.yaml")
_FIELDS = ("identifier", "key", "realm", "jurisdiction", "status", "note", "ads", "ad_label")


class Status(enum.StrEnum):
    APPROVED = "approved"
    OPT_IN = "opt-in"
    FORBIDDEN = "forbidden"


class CatalogueError(InputError):
    """The catalogue itself is malformed (a bug in regions.yaml or in a pack config)."""


@dataclass(frozen=True)
class Region:
    identifier: str  # us-ashburn-1
    key: str  # IAD (upper case, as OCI documents it)
    realm: str  # oc1
    jurisdiction: str  # US, SG, ... or "unknown"
    status: Status
    note: str = ""
    # Availability domains (OCI's region table, "Availability Domains" column); 1 unless stated.
    # preflight's offline lookups answer get_availability_domains with this many.
    ads: int = 1
    # What an AD name carries after the tenancy prefix: `Uocm:<label>-AD-1`. The region
    # identifier in upper case, except where OCI kept an older form (Phoenix: `PHX-AD-1`,
    # Ashburn: `US-ASHBURN-AD-1`; docs.oracle.com/iaas/Content/General/Concepts/regions.htm).
    ad_label: str = ""

    def ad_name(self, prefix: str, number: int) -> str:
        return f"{prefix}:{self.ad_label or self.identifier.upper()}-AD-{number}"


@dataclass(frozen=True)
class Decision:
    """Whether US data may live in a region, and why not when it may not."""

    allowed: bool
    reason: str
    region: Region | None


@dataclass(frozen=True)
class Catalogue:
    regions: tuple[Region, ...]
    _by_name: Mapping[str, Region] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Region] = {}
        for r in self.regions:
            for name in (r.identifier.lower(), r.key.lower()):
                if name in index:
                    raise CatalogueError(f"region catalogue: duplicate identifier or key {name!r}")
                index[name] = r
        object.__setattr__(self, "_by_name", index)

    def __iter__(self) -> Iterator[Region]:
        return iter(self.regions)

    def lookup(self, name: str | None) -> Region | None:
        """A region by identifier (`us-ashburn-1`) or key (`IAD`/`iad`); None if unknown."""
        if not isinstance(name, str):
            return None
        return self._by_name.get(name.strip().lower())

    def approved(self, opt_ins: Iterable[str] = ()) -> tuple[Region, ...]:
        """Approved regions, plus opt-in regions explicitly opted into, catalogue order."""
        opted = {o.lower() for o in opt_ins}
        return tuple(
            r
            for r in self.regions
            if r.status is Status.APPROVED or (r.status is Status.OPT_IN and r.identifier.lower() in opted)
        )

    def decide(self, name: str | None, opt_ins: Iterable[str] = (), realm: str | None = None) -> Decision:
        """May US data live in `name`? Unknown, forbidden, not-opted-in or other-realm: no."""
        region = self.lookup(name)
        if region is None:
            shown = "undetermined" if not name else repr(name)
            return Decision(False, f"region {shown} is not in the region catalogue", None)
        if region.status is Status.FORBIDDEN:
            why = f"jurisdiction {region.jurisdiction}, realm {region.realm}"
            return Decision(False, f"region {region.identifier} is forbidden ({why})", region)
        if region.status is Status.OPT_IN and region.identifier.lower() not in {o.lower() for o in opt_ins}:
            return Decision(False, f"region {region.identifier} is opt-in and not opted into", region)
        if realm is not None and region.realm != realm:
            return Decision(
                False, f"region {region.identifier} is in realm {region.realm}, not {realm}", region
            )
        return Decision(True, f"region {region.identifier} is approved", region)

    def region_of_ocid(self, ocid: str) -> tuple[str | None, Region | None]:
        """The region segment of an OCID and the catalogue's region for it.

        OCIDs are `ocid1.<type>.<realm>.<region>.<unique>`: older regions by key
        (`ocid1.key.oc1.iad.…`), newer by name (`….oc1.eu-frankfurt-1.…`); global
        resources (tenancy, compartment, group) leave the segment empty -> (None, None).
        """
        parts = ocid.split(".")
        if len(parts) < 5 or parts[0] != "ocid1":
            return None, None
        segment = parts[3]
        if not segment:
            return None, None
        return segment, self.lookup(segment)

    def to_data(self) -> list[dict[str, str]]:
        return [
            {
                "identifier": r.identifier,
                "key": r.key,
                "realm": r.realm,
                "jurisdiction": r.jurisdiction,
                "status": r.status.value,
                "note": r.note,
            }
            for r in self.regions
        ]


def catalogue_from_data(rows: Any, source: str) -> Catalogue:
    """Build a catalogue from a list of mappings (regions.yaml, or a policy pack config)."""
    if not isinstance(rows, list) or not rows:
        raise CatalogueError(f"{source}: regions must be a non-empty list")
    regions = []
    for i, row in enumerate(rows):
        where = f"{source}: regions[{i}]"
        if not isinstance(row, Mapping):
            raise CatalogueError(f"{where}: must be a mapping")
        unknown = sorted(set(row) - set(_FIELDS))
        if unknown:
            raise CatalogueError(f"{where}.{unknown[0]}: unknown key")
        for name in _FIELDS[:5]:
            if not isinstance(row.get(name), str) or not row[name]:
                raise CatalogueError(f"{where}.{name}: required text")
        try:
            status = Status(row["status"])
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise CatalogueError(f"{where}.status: {row['status']!r} is not one of {allowed}") from None
        regions.append(
            Region(
                identifier=row["identifier"],
                key=row["key"].upper(),
                realm=row["realm"].lower(),
                jurisdiction=row["jurisdiction"],
                status=status,
                note=str(row.get("note") or ""),
                ads=_ads(row.get("ads", 1), where),
                ad_label=_text(row.get("ad_label", ""), f"{where}.ad_label").upper(),
            )
        )
    return Catalogue(tuple(regions))


def _ads(value: Any, where: str) -> int:
    # An OCI region has one to three availability domains (regions.htm).
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3:
        raise CatalogueError(f"{where}.ads: {value!r} is not a number of availability domains (1-3)")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise CatalogueError(f"{where}: must be text")
    return value


_CACHE: dict[Path, Catalogue] = {}


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """The catalogue in `path` (default: regions.yaml beside this file), parsed once per process.

    Read with the strict reader (a duplicate key is an error, as in a stack file)."""
    path = path.resolve()
    if path not in _CACHE:
        try:
            doc = read_yaml(path, f"region catalogue {path.name}")
        except InputError as exc:
            raise CatalogueError(exc.message) from None
        if not isinstance(doc, Mapping) or doc.get("schema") != 1:
            raise CatalogueError(f"{path.name}: expected a mapping with schema: 1")
        _CACHE[path] = catalogue_from_data(doc.get("regions"), path.name)
    return _CACHE[path]
