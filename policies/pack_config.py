"""The pack's configuration: schema, strict parsing, defaults, residency decisions, waivers.

Every policy reads the same properties (CrossGuard hands each policy only its own config,
so `stacks/policy_config.py` writes the same block under every policy name). All keys are
optional: defaults come from the pack's region catalogue. Unknown keys and wrong types
are errors, and an error makes every policy that needs the config fail closed.

    catalogue          [{identifier, key, realm, jurisdiction, status, note?}]  replaces regions.yaml
    allowedRegions     [identifier | {identifier, key, realm}]  the allow list; overrides status
    optInRegions       [identifier]  opt-in regions this organisation opted into
    realm              "oc1"  every region (and cross-region target) must be in it
    homeRegion         "us-ashburn-1"  where IAM lives; must itself be approved
    accessTeam         {admins: [group], operators: [group], auditors: [group]}
    allowedServices    [service principal]  e.g. objectstorage-us-ashburn-1 (default: one per approved region)
    allowedDynamicGroups [name]
    legacySites        [{name, endpoint, awsRegion, country, mode, writer?, restorePrincipal,
                         deployer?, sunset}]
    allowedCountries   ["US"]  legacy sites elsewhere need a waiver
    legacyServiceWriters ["logging.s3.amazonaws.com"]  services that may write at a site (access logs)
    awsAllowedRegions  []  real AWS regions data may use (none by default: only declared sites)
    waivers            [{target, owner, reason, expires}]
    waiverWarningDays  30
    requiredTags       ["data-residency", "stack", "managed-by"]
    adminPorts         [22, 23, 3389, 5900, 5985, 5986]
    maxRotationDays    365
    dataSubnets        {region: [cidr]}  subnets the firewall's IDS must cover
    dataBearingTypes   [type token]  resources that hold data (protected, define data regions)
    usDataCompartments [name | OCID]  compartments holding US data, network, keys (default: every one)
    nonUsSourceCidrs   [cidr]  ranges outside the US: no network source may allow them
    outsideDataCompartments [OCID]  compartments known to hold no US data and to be no ancestor
                       of one (a grant `in compartment id <ocid>` elsewhere counts as reaching it)
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from pack_runtime import in_call, remember
from residency_catalogue import (
    catalogue_error_types,
    catalogue_from_rows,
    catalogue_path,
    default_catalogue,
)
from resource_props import normalise_endpoint

if TYPE_CHECKING:
    from usdr_common.regions import Catalogue

TODAY_ENV: Final = "USDR_TODAY"  # the same pin stacks/settings.py honours
DEFAULT_REQUIRED_TAGS: Final = ("data-residency", "stack", "managed-by")
DEFAULT_ADMIN_PORTS: Final = (22, 23, 3389, 5900, 5985, 5986)
DEFAULT_DATA_BEARING_TYPES: Final = (
    "oci:ObjectStorage/bucket:Bucket",
    "oci:Kms/vault:Vault",
    "oci:Kms/key:Key",
    "oci:Core/volume:Volume",
    "oci:Core/bootVolume:BootVolume",
    "oci:Database/autonomousDatabase:AutonomousDatabase",
    "oci:Database/dbSystem:DbSystem",
    "oci:Mysql/mysqlDbSystem:MysqlDbSystem",
    "oci:Psql/dbSystem:DbSystem",
    "oci:Nosql/table:Table",
    "oci:FileStorage/fileSystem:FileSystem",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
)
SITE_MODES: Final = ("replica", "frozen")
# S3 server access logging writes a site's access-log bucket: logs, not replicated user data.
DEFAULT_LEGACY_SERVICE_WRITERS: Final = ("logging.s3.amazonaws.com",)

_STR_LIST: Final = {"type": "array", "items": {"type": "string"}}
_REGION_ROW: Final = {
    "type": "object",
    "properties": {
        k: {"type": "string"} for k in ("identifier", "key", "realm", "jurisdiction", "status", "note")
    },
    "required": ["identifier", "key", "realm", "jurisdiction", "status"],
    "additionalProperties": False,
}
# JSON Schema (draft 4, what the CLI validates with) of one policy's config properties.
CONFIG_SCHEMA: Final[dict[str, dict[str, Any]]] = {
    "catalogue": {"type": "array", "items": _REGION_ROW, "description": "Region catalogue rows"},
    "allowedRegions": {
        "type": "array",
        "items": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {
                        "identifier": {"type": "string"},
                        "key": {"type": "string"},
                        "realm": {"type": "string"},
                    },
                    "required": ["identifier"],
                    "additionalProperties": False,
                },
            ]
        },
        "description": "Regions US data may use (overrides catalogue status)",
    },
    "optInRegions": {**_STR_LIST, "description": "Opt-in regions opted into"},
    "realm": {"type": "string", "description": "The tenancy's realm, e.g. oc1"},
    "homeRegion": {"type": "string", "description": "The tenancy's home region (IAM)"},
    "accessTeam": {
        "type": "object",
        "properties": {"admins": _STR_LIST, "operators": _STR_LIST, "auditors": _STR_LIST},
        "additionalProperties": False,
        "description": "The only groups IAM statements may grant to",
    },
    "allowedServices": {**_STR_LIST, "description": "Service principals IAM statements may grant to"},
    "allowedDynamicGroups": {**_STR_LIST, "description": "Dynamic groups IAM statements may grant to"},
    "legacySites": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "endpoint": {"type": "string"},
                "awsRegion": {"type": "string"},
                "country": {"type": "string"},
                "mode": {"type": "string", "enum": list(SITE_MODES)},
                "writer": {"type": ["string", "null"]},
                "restorePrincipal": {"type": "string"},
                "deployer": {"type": ["string", "null"]},
                "sunset": {"type": "string"},
            },
            "required": ["name", "endpoint", "country", "mode", "sunset"],
            "additionalProperties": False,
        },
        "description": "Declared legacy datacenters (S3-compatible endpoints)",
    },
    "allowedCountries": {**_STR_LIST, "description": "Countries a legacy site may be in without a waiver"},
    "legacyServiceWriters": {
        **_STR_LIST,
        "description": "Service principals that may write at a legacy site",
    },
    "awsAllowedRegions": {**_STR_LIST, "description": "Real AWS regions data may use"},
    "waivers": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {k: {"type": "string"} for k in ("target", "owner", "reason", "expires")},
            "required": ["target", "owner", "reason", "expires"],
            "additionalProperties": False,
        },
        "description": "Time-boxed exceptions to residency findings",
    },
    "waiverWarningDays": {
        "type": "integer",
        "minimum": 0,
        "description": "Warn when a waiver has fewer days left",
    },
    "requiredTags": {**_STR_LIST, "description": "Tag keys every taggable resource carries"},
    "adminPorts": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "Ports never open to 0.0.0.0/0",
    },
    "maxRotationDays": {
        "type": "integer",
        "minimum": 1,
        "description": "Longest allowed key rotation interval",
    },
    "dataSubnets": {
        "type": "object",
        "additionalProperties": _STR_LIST,
        "description": "Per region, the CIDRs of data subnets the IDS must cover",
    },
    "dataBearingTypes": {**_STR_LIST, "description": "Type tokens of resources that hold data"},
    "usDataCompartments": {**_STR_LIST, "description": "Compartments (names or OCIDs) that hold US data"},
    "nonUsSourceCidrs": {**_STR_LIST, "description": "IP ranges outside the US (never in a network source)"},
    "outsideDataCompartments": {
        **_STR_LIST,
        "description": "Compartment OCIDs that hold no US data and are no ancestor of one that does",
    },
}


class ConfigError(ValueError):
    """The pack config is invalid: every policy that needs it fails closed with this message."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class RegionRef:
    identifier: str
    key: str | None
    realm: str | None
    jurisdiction: str | None = None


@dataclass(frozen=True)
class RegionDecision:
    allowed: bool
    reason: str
    region: RegionRef | None


@dataclass(frozen=True)
class LegacySite:
    name: str
    endpoint: str  # normalised scheme://host[:port]
    aws_region: str | None
    country: str
    mode: str  # replica | frozen
    writer: str | None
    restore_principal: str | None
    sunset: date
    # The site's deploying principal: may read bucket metadata (HeadBucket = s3:ListBucket) and
    # replace the bucket policy, nothing else (policies/legacy_access.py DEPLOYER_MAY).
    deployer: str | None = None


@dataclass(frozen=True)
class Waiver:
    target: str
    owner: str
    reason: str
    expires: date

    def active(self, today: date) -> bool:
        return today <= self.expires

    def days_left(self, today: date) -> int:
        return (self.expires - today).days

    def describe(self, today: date) -> str:
        left = self.days_left(today)
        if left < 0:
            when = f"expired on {self.expires}"
        else:
            when = f"expires {self.expires}, {left} day{'s' if left != 1 else ''} left"
        return f"waiver {self.target!r} (owner {self.owner}, {when}; reason: {self.reason})"


@dataclass(frozen=True)
class PackConfig:
    catalogue: Catalogue | None
    catalogue_problem: str | None  # why there is no catalogue, for fail-closed messages
    allowed: tuple[RegionRef, ...] | None
    opt_ins: tuple[str, ...]
    realm: str | None
    home_region: str | None
    admins: tuple[str, ...] | None  # None: no access team configured (every grant fails)
    operators: tuple[str, ...]
    auditors: tuple[str, ...]
    allowed_services: tuple[str, ...] | None  # None: one objectstorage-<region> per approved region
    allowed_dynamic_groups: tuple[str, ...]
    legacy_sites: tuple[LegacySite, ...]
    allowed_countries: tuple[str, ...]
    legacy_service_writers: tuple[str, ...]
    aws_allowed_regions: tuple[str, ...]
    waivers: tuple[Waiver, ...]
    waiver_warning_days: int
    required_tags: tuple[str, ...]
    admin_ports: tuple[int, ...]
    max_rotation_days: int
    data_subnets: Mapping[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]] | None
    data_bearing_types: tuple[str, ...]
    today: date
    us_data_compartments: tuple[str, ...] | None = None  # None: every compartment may hold US data
    outside_data_compartments: tuple[str, ...] = ()  # OCIDs known to be neither US data nor its ancestor
    non_us_source_cidrs: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    # ---------------------------------------------------------------- regions

    def resolve(self, name: str | None) -> RegionRef | None:
        """A region by identifier or key, from the catalogue or the allow-list entries."""
        if not isinstance(name, str) or not name.strip():
            return None
        if self.catalogue is not None:
            r = self.catalogue.lookup(name)
            if r is not None:
                return RegionRef(r.identifier, r.key, r.realm, r.jurisdiction)
        want = name.strip().lower()
        for ref in self.allowed or ():
            if want in (ref.identifier.lower(), (ref.key or "").lower()):
                return ref
        return None

    @property
    def required_realm(self) -> str | None:
        if self.realm:
            return self.realm
        home = self.resolve(self.home_region)
        return home.realm if home is not None else None

    def decide(self, name: str | None, realm: str | None = None) -> RegionDecision:
        """May US data live in `name`? Fails closed on anything unknown or unconfigured."""
        realm = realm or self.required_realm
        if not isinstance(name, str) or not name.strip():
            return RegionDecision(False, "region is undetermined", None)
        if self.allowed is None:
            if self.catalogue is None:
                why = self.catalogue_problem or "no region catalogue"
                return RegionDecision(
                    False, f"cannot judge region {name!r}: {why}, and no allowedRegions configured", None
                )
            d = self.catalogue.decide(name, self.opt_ins, realm)
            ref = self.resolve(name) if d.region is not None else None
            return RegionDecision(d.allowed, d.reason, ref)
        ref = self.resolve(name)
        if ref is None:
            return RegionDecision(
                False, f"region {name!r} is not in the region catalogue or allowedRegions", None
            )
        if ref.identifier.lower() not in {a.identifier.lower() for a in self.allowed}:
            known = self.catalogue.decide(name, self.opt_ins, realm) if self.catalogue is not None else None
            if known is not None and not known.allowed:
                return RegionDecision(False, known.reason, ref)  # the catalogue says why, more precisely
            return RegionDecision(False, f"region {ref.identifier} is not in the pack's allowedRegions", ref)
        if realm is not None and ref.realm != realm:
            got = ref.realm or "an unknown realm"
            return RegionDecision(False, f"region {ref.identifier} is in {got}, not {realm}", ref)
        return RegionDecision(True, f"region {ref.identifier} is approved", ref)

    def approved_identifiers(self) -> tuple[str, ...]:
        if self.allowed is not None:
            return tuple(a.identifier for a in self.allowed)
        if self.catalogue is None:
            return ()
        realm = self.required_realm
        return tuple(
            r.identifier for r in self.catalogue.approved(self.opt_ins) if realm is None or r.realm == realm
        )

    @property
    def approved_text(self) -> str:
        ids = self.approved_identifiers()
        return ", ".join(ids) if ids else "none"

    # ---------------------------------------------------------------- access team

    @property
    def access_groups(self) -> tuple[str, ...]:
        return (*(self.admins or ()), *self.operators, *self.auditors)

    def services(self) -> tuple[str, ...]:
        if self.allowed_services is not None:
            return self.allowed_services
        return tuple(f"objectstorage-{r}" for r in self.approved_identifiers())

    # ---------------------------------------------------------------- sites and waivers

    def site_for_endpoint(self, endpoint: str | None) -> LegacySite | None:
        if not endpoint:
            return None
        for s in self.legacy_sites:
            if s.endpoint == endpoint:
                return s
        return None

    def waiver_for(self, *targets: str | None) -> Waiver | None:
        """The waiver naming any of `targets` (URN, logical name, site); an active one first."""
        found = [w for w in self.waivers if w.target in {t for t in targets if t}]
        found.sort(key=lambda w: (not w.active(self.today), -w.expires.toordinal()))
        return found[0] if found else None


# --------------------------------------------------------------------------- parsing


class _Reader:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def strings(self, key: str, value: Any = None) -> tuple[str, ...] | None:
        value = self.raw.get(key) if value is None else value
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"{key}: must be a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def string(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}: must be a non-empty string")
        return value.strip()

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        return _int(value, key, minimum)


def _default(value: tuple[str, ...] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """An explicitly empty list stays empty; only a missing key takes the default."""
    return default if value is None else value


def _int(value: Any, where: str, minimum: int = 0) -> int:
    # Configure delivers JSON numbers as floats: 22.0 is 22, 22.5 is an error.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value != int(value)
        or value < minimum
    ):
        raise ConfigError(f"{where}: must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _day(value: Any, where: str) -> date:
    if isinstance(value, str):
        m = re.match(r"^(\d{4}-\d{2}-\d{2})(T00:00:00Z)?$", value.strip())
        if m:
            try:
                return date.fromisoformat(m.group(1))
            except ValueError:
                pass
    raise ConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")


def _mapping(value: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key")
    return value


def today() -> date:
    """Today in UTC, or USDR_TODAY (the pin tests and reproducible runs use)."""
    pinned = os.environ.get(TODAY_ENV)
    if pinned:
        try:
            return date.fromisoformat(pinned)
        except ValueError:
            raise ConfigError(f"environment {TODAY_ENV}: {pinned!r} is not a date (YYYY-MM-DD)") from None
    return datetime.now(UTC).date()


def parse_config(raw: Mapping[str, Any] | None) -> PackConfig:
    """A PackConfig from one policy's config; raises ConfigError with a one-line message."""
    raw = dict(raw or {})
    raw.pop("enforcementLevel", None)  # the CLI strips it; a hand-made Configure may not
    _mapping(raw, "config", set(CONFIG_SCHEMA))
    r = _Reader(raw)

    catalogue: Catalogue | None = None
    problem: str | None = None
    try:
        if raw.get("catalogue") is not None:
            catalogue = catalogue_from_rows(raw["catalogue"], "pack config catalogue")
        else:
            catalogue = default_catalogue()
            if catalogue is None:
                problem = "the pack's region catalogue (usdr_common/regions.yaml) is not available"
    except LookupError as exc:
        raise ConfigError(str(exc)) from None
    except catalogue_error_types() as exc:
        raise ConfigError(str(exc)) from None

    allowed: tuple[RegionRef, ...] | None = None
    if raw.get("allowedRegions") is not None:
        entries = raw["allowedRegions"]
        if not isinstance(entries, list):
            raise ConfigError("allowedRegions: must be a list")
        refs: list[RegionRef] = []
        for i, e in enumerate(entries):
            where = f"allowedRegions[{i}]"
            if isinstance(e, str) and e.strip():
                known = catalogue.lookup(e) if catalogue is not None else None
                refs.append(
                    RegionRef(known.identifier, known.key, known.realm, known.jurisdiction)
                    if known
                    else RegionRef(e.strip(), None, None)
                )
            elif isinstance(e, Mapping):
                m = _mapping(e, where, {"identifier", "key", "realm"})
                ident = m.get("identifier")
                if not isinstance(ident, str) or not ident.strip():
                    raise ConfigError(f"{where}.identifier: required text")
                known = catalogue.lookup(ident) if catalogue is not None else None
                key = m.get("key") or (known.key if known else None)
                realm = m.get("realm") or (known.realm if known else None)
                refs.append(RegionRef(ident.strip(), key, realm, known.jurisdiction if known else None))
            else:
                raise ConfigError(f"{where}: must be a region identifier or an object")
        allowed = tuple(refs)

    opt_ins = r.strings("optInRegions") or ()
    if catalogue is not None:
        for i, o in enumerate(opt_ins):
            if catalogue.lookup(o) is None:
                raise ConfigError(f"optInRegions[{i}]: {o!r} is not in the region catalogue")

    admins = operators = auditors = None
    if raw.get("accessTeam") is not None:
        team = _mapping(raw["accessTeam"], "accessTeam", {"admins", "operators", "auditors"})
        admins = r.strings("accessTeam.admins", team.get("admins") or [])
        operators = r.strings("accessTeam.operators", team.get("operators") or [])
        auditors = r.strings("accessTeam.auditors", team.get("auditors") or [])

    sites: list[LegacySite] = []
    raw_sites = raw.get("legacySites") or []
    if not isinstance(raw_sites, list):
        raise ConfigError("legacySites: must be a list")
    for i, s in enumerate(raw_sites):
        where = f"legacySites[{i}]"
        m = _mapping(
            s,
            where,
            {
                "name",
                "endpoint",
                "awsRegion",
                "country",
                "mode",
                "writer",
                "restorePrincipal",
                "deployer",
                "sunset",
            },
        )
        for k in ("name", "endpoint", "country", "mode", "sunset"):
            if not isinstance(m.get(k), str) or not m[k].strip():
                raise ConfigError(f"{where}.{k}: required text")
        if m["mode"] not in SITE_MODES:
            raise ConfigError(f"{where}.mode: {m['mode']!r} is not one of {', '.join(SITE_MODES)}")
        writer = m.get("writer")
        if writer is not None and (not isinstance(writer, str) or not writer.strip()):
            raise ConfigError(f"{where}.writer: must be text or null")
        if m["mode"] == "replica" and not writer:
            raise ConfigError(f"{where}.writer: mode replica needs the replication writer")
        if m["mode"] == "frozen" and writer:
            raise ConfigError(f"{where}.writer: mode frozen has no writer")
        deployer = m.get("deployer")
        if deployer is not None and (not isinstance(deployer, str) or not deployer.strip()):
            raise ConfigError(f"{where}.deployer: must be text or null")
        if deployer and deployer.strip() in (m.get("restorePrincipal"), writer):
            raise ConfigError(f"{where}.deployer: must differ from the restore principal and the writer")
        sites.append(
            LegacySite(
                name=m["name"].strip(),
                endpoint=normalise_endpoint(m["endpoint"]),
                aws_region=(m.get("awsRegion") or None),
                country=m["country"].strip().upper(),
                mode=m["mode"],
                writer=writer.strip() if isinstance(writer, str) else None,
                restore_principal=m.get("restorePrincipal") or None,
                sunset=_day(m["sunset"], f"{where}.sunset"),
                deployer=deployer.strip() if isinstance(deployer, str) else None,
            )
        )

    waivers: list[Waiver] = []
    raw_waivers = raw.get("waivers") or []
    if not isinstance(raw_waivers, list):
        raise ConfigError("waivers: must be a list")
    for i, w in enumerate(raw_waivers):
        where = f"waivers[{i}]"
        m = _mapping(w, where, {"target", "owner", "reason", "expires"})
        for k in ("target", "owner", "reason", "expires"):
            if not isinstance(m.get(k), str) or not m[k].strip():
                raise ConfigError(f"{where}.{k}: required text")
        waivers.append(
            Waiver(
                m["target"].strip(),
                m["owner"].strip(),
                m["reason"].strip(),
                _day(m["expires"], f"{where}.expires"),
            )
        )

    ports = raw.get("adminPorts")
    admin_ports: tuple[int, ...]
    if ports is None:
        admin_ports = DEFAULT_ADMIN_PORTS
    elif isinstance(ports, list):
        admin_ports = tuple(_int(p, f"adminPorts[{i}]", 0) for i, p in enumerate(ports))
    else:
        raise ConfigError("adminPorts: must be a list of port numbers")

    data_subnets: dict[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]] | None = None
    if raw.get("dataSubnets") is not None:
        ds = raw["dataSubnets"]
        if not isinstance(ds, Mapping):
            raise ConfigError("dataSubnets: must be an object of region -> [cidr]")
        data_subnets = {}
        for region, cidrs in ds.items():
            nets = []
            for i, c in enumerate(
                r.strings(f"dataSubnets.{region}", cidrs if cidrs is not None else []) or ()
            ):
                try:
                    nets.append(ipaddress.ip_network(c, strict=False))
                except ValueError:
                    raise ConfigError(f"dataSubnets.{region}[{i}]: {c!r} is not a CIDR block") from None
            data_subnets[str(region)] = tuple(nets)

    non_us = []
    for i, c in enumerate(r.strings("nonUsSourceCidrs") or ()):
        try:
            non_us.append(ipaddress.ip_network(c, strict=False))
        except ValueError:
            raise ConfigError(f"nonUsSourceCidrs[{i}]: {c!r} is not a CIDR block") from None

    home = r.string("homeRegion")
    cfg = PackConfig(
        catalogue=catalogue,
        catalogue_problem=problem,
        allowed=allowed,
        opt_ins=opt_ins,
        realm=(r.string("realm") or "").lower() or None,
        home_region=home,
        admins=admins,
        operators=operators or (),
        auditors=auditors or (),
        allowed_services=r.strings("allowedServices"),
        allowed_dynamic_groups=r.strings("allowedDynamicGroups") or (),
        legacy_sites=tuple(sites),
        allowed_countries=tuple(c.upper() for c in _default(r.strings("allowedCountries"), ("US",))),
        legacy_service_writers=_default(r.strings("legacyServiceWriters"), DEFAULT_LEGACY_SERVICE_WRITERS),
        aws_allowed_regions=r.strings("awsAllowedRegions") or (),
        waivers=tuple(waivers),
        waiver_warning_days=r.integer("waiverWarningDays", 30),
        required_tags=_default(r.strings("requiredTags"), DEFAULT_REQUIRED_TAGS),
        admin_ports=admin_ports,
        max_rotation_days=r.integer("maxRotationDays", 365, minimum=1),
        data_subnets=data_subnets,
        data_bearing_types=_default(r.strings("dataBearingTypes"), DEFAULT_DATA_BEARING_TYPES),
        today=today(),
        us_data_compartments=r.strings("usDataCompartments"),
        outside_data_compartments=r.strings("outsideDataCompartments") or (),
        non_us_source_cidrs=tuple(non_us),
    )
    if home is not None and cfg.resolve(home) is None and cfg.catalogue is not None:
        raise ConfigError(f"homeRegion: {home!r} is not in the region catalogue")
    return cfg


@lru_cache(maxsize=32)
def _parse_cached(key: str, day: str, catalogue_file: str) -> PackConfig:
    return parse_config(json.loads(key))


# Within analyzer calls, the SDK hands each policy a fresh copy of its config dict whose values
# are the very objects `Configure` parsed (and nothing mutates): a config made of the same value
# objects, on the same day, is the same config, and is not serialised again to find out.
_SAME_VALUES: dict[tuple[tuple[str, int], ...], tuple[str, tuple[Any, ...], PackConfig]] = {}


def _config_day() -> str:
    return os.environ.get(TODAY_ENV, "") or datetime.now(UTC).date().isoformat()


def load_config(raw: Mapping[str, Any] | None) -> PackConfig:
    """parse_config, cached per distinct config (policies call this once per resource)."""
    raw = dict(raw or {})
    memo = in_call()  # outside the runtime (tests, tools) a caller may mutate its dict
    # The day is asked once per analyzer call, not once per policy and resource.
    day = remember(_config_day, _config_day, _config_day) if memo else _config_day()
    fingerprint = tuple((k, id(v)) for k, v in raw.items())
    if memo:
        hit = _SAME_VALUES.get(fingerprint)
        if (
            hit is not None
            and hit[0] == day
            and all(a is b for a, b in zip(hit[1], raw.values(), strict=True))
        ):
            return hit[2]
    try:
        key = json.dumps(raw, sort_keys=True, default=str)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config is not JSON data: {exc}") from None
    cfg = _parse_cached(key, day, str(catalogue_path()))
    if memo:
        if len(_SAME_VALUES) > 256:  # a long-lived pack reconfigured many times
            _SAME_VALUES.clear()
        _SAME_VALUES[fingerprint] = (day, tuple(raw.values()), cfg)  # holds the values: ids stay theirs
    return cfg
