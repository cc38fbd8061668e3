"""Stack settings: parsed once from Pulumi.<stack>.yaml into frozen, typed objects.

Why frozen dataclasses and not pydantic: the rules here are mostly cross-field (CIDR overlap
across regions and legacy sites, reciprocal DR pairs, waivers that must cover a site), every
error must read `<file>: <key.path>: <what is wrong>` on one line, and the CrossGuard pack and
preflight import this code in environments we want small. A 300-line explicit parser with a
path-tracking reader gives exact messages and no dependency; pydantic would give us type
coercion we do not want (a `"true"` that silently becomes True) and messages we would have to
rewrite anyway.

Validation collects every error before raising, so one run shows all of them, one per line.
Nothing here touches Pulumi resources: `load_settings` runs before the first resource exists.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from usdr_common import strict_yaml

from stacks.regions import Catalogue, Region, Status, load_catalogue

PROJECT = "us-data-residency"
NS = f"{PROJECT}:"
MAX_WAIVER_DAYS = 365
VAULT_TYPES = ("DEFAULT", "VIRTUAL_PRIVATE")
# OCI automatic key rotation: interval bounds (see the kms checks in parse_settings).
MIN_ROTATION_DAYS, MAX_ROTATION_DAYS = 60, 365
PROTECTION_MODES = ("HSM", "SOFTWARE")
IDS_MODES = ("INTRUSION_DETECTION", "INTRUSION_PREVENTION")
SITE_MODES = ("replica", "frozen")
# Keys outside our namespace that a stack file may carry; anything else is a typo.
FOREIGN_KEYS = frozenset({"oci:region", "pulumi:disable-default-providers", "pulumi:tags"})
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
_OCID = re.compile(r"^ocid1\.[a-z0-9]+\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PRINCIPAL = re.compile(r"^[A-Za-z0-9._+@-]{1,100}$")
# An IAM user or role ARN, no wildcard: a bucket policy exempts exactly this principal, and a
# `*` or `?` in aws:PrincipalArn under StringNotEquals would be read literally by S3 but as a
# pattern by a reviewer (and as an exemption for many under StringNotLike).
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{0,12}:(user|role)/[A-Za-z0-9+=,.@_/-]{1,128}$")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T00:00:00Z)?$")
TODAY_ENV = "USDR_TODAY"

Net = ipaddress.IPv4Network


class SettingsError(ValueError):
    """Invalid stack settings. `str()` is one line per problem: `<file>: <key.path>: <message>`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# --------------------------------------------------------------------------- model


# tenancy.propagationWaitSeconds: at least a minute (Oracle's Core Landing Zone waits 70 s; a wait
# much shorter is what its README's troubleshooting item 11 shows failing), at most 10 minutes.
MIN_PROPAGATION_WAIT, MAX_PROPAGATION_WAIT = 60, 600


@dataclass(frozen=True)
class Tenancy:
    ocid: str
    home_region: str
    name_prefix: str
    opt_in_regions: tuple[str, ...] = ()
    # Seconds between creating compartments and IAM policies and their first use (issue 13 item
    # 3): OCI propagates both asynchronously ("not found in Compartment Tree", 404
    # NotAuthorizedOrNotFound right after creation). 70 s is what Oracle's Core Landing Zone waits
    # (`time_sleep.wait_on_compartments` / `wait_on_services_policy`, `create_duration = "70s"`,
    # sec_vault.tf), and its README's troubleshooting item 11 is the 404 a missing wait gives.
    propagation_wait_seconds: int = 70


@dataclass(frozen=True)
class Compartments:
    parent_ocid: str
    us_data: str
    network: str
    security: str


@dataclass(frozen=True)
class Subnets:
    data: Net
    app: Net
    firewall: Net


@dataclass(frozen=True)
class RegionPlan:
    identifier: str  # us-ashburn-1
    key: str  # IAD
    realm: str  # oc1
    vcn_cidr: Net
    subnets: Subnets
    dr_partner: str | None


@dataclass(frozen=True)
class DataClass:
    name: str
    description: str
    buckets: tuple[str, ...]


@dataclass(frozen=True)
class Kms:
    vault_type: str = "VIRTUAL_PRIVATE"
    protection_mode: str = "HSM"
    rotation_days: int = 90
    replicate_vaults: bool = True


@dataclass(frozen=True)
class Firewall:
    ids_mode: str = "INTRUSION_PREVENTION"


@dataclass(frozen=True)
class ThreatDetection:
    cloud_guard: bool = True
    security_zone: bool = True


@dataclass(frozen=True)
class NetworkSources:
    """Where the access team may work from (issue 19): one OCI network source, in the home region.

    `corporate_egress`: public IPv4 ranges of the US offices' internet egress; `stack_vcns`: also
    every VCN of the stack (its whole `vcnCidr`, e.g. a bastion's subnet); `non_us`: ranges known
    to be outside the US, refused here and, by the pack, in any network source of any program.
    """

    corporate_egress: tuple[Net, ...]
    stack_vcns: bool = True
    non_us: tuple[Net, ...] = ()


@dataclass(frozen=True)
class BreakGlass:
    """Who hears of a tenancy-administrator sign-in and of every IAM change (docs/break-glass.md)."""

    notify: tuple[str, ...]  # e-mail addresses subscribed to the notification topic
    # The break-glass accounts' user names: when named, the sign-in alert is theirs only (every
    # other sign-in is not break glass); when not, every interactive sign-in is announced.
    accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessTeam:
    admins: str
    operators: str
    auditors: str
    quota_families: tuple[str, ...]
    network_sources: NetworkSources = NetworkSources(())
    break_glass: BreakGlass = BreakGlass(())

    @property
    def groups(self) -> tuple[str, str, str]:
        return (self.admins, self.operators, self.auditors)


# What a site's S3-compatible store supports of what pulumi-aws sends (issue 13 item 5), each
# default true (what the component has always managed). RELIED_ON: a residency control depends
# on it, so a site without it is refused (fail closed) rather than silently left unmanaged:
# - versioning: restores by version id through the drain window, and USDR-SEC-03;
# - publicAccessBlock: USDR-SEC-02 (the pack requires the block at every site);
# - accessLogging: the trail of who restored what (docs/legacy-decommission.md, Step 3);
# - lifecycleTransitionMinimumObjectSize: pulumi-aws always sends the
#   `x-amz-transition-default-minimum-object-size` header with a lifecycle and waits for the
#   store to echo it back (terraform-provider-aws#25939, #46021: Ceph before the Sept. 2024 S3
#   API hangs or fails), and the lifecycle is what empties a site by its sunset.
# ownershipControls is the one a site may lack: the bucket policy already denies every ACL change
# to everyone and the pack refuses ACL grants at a site (USDR-LEG-01), the documented compensating
# control (docs/legacy-decommission.md, "A site's capabilities").
SITE_CAPABILITIES = (
    "versioning",
    "publicAccessBlock",
    "ownershipControls",
    "accessLogging",
    "lifecycleTransitionMinimumObjectSize",
)
RELIED_ON_CAPABILITIES = frozenset(SITE_CAPABILITIES) - {"ownershipControls"}


@dataclass(frozen=True)
class SiteCapabilities:
    versioning: bool = True
    public_access_block: bool = True
    ownership_controls: bool = True
    access_logging: bool = True
    lifecycle_transition_minimum_object_size: bool = True


@dataclass(frozen=True)
class LegacySite:
    name: str
    country: str  # ISO 3166 alpha-2
    endpoint: str  # https URL of the site's S3-compatible object store
    aws_region: str  # the region string the S3 API of that site expects
    mode: str  # "replica" (one writer: the replication job) or "frozen" (no writer)
    writer: str | None
    restore_principal: str
    # The principal `pulumi up`/`refresh` runs as at this site (its credentials profile): it may
    # read bucket metadata (HeadBucket, which S3 authorizes as s3:ListBucket) and replace the
    # bucket policy, never read or write objects (components/legacy_backup.py).
    deployer: str
    cidr: Net
    cpe_ip: str
    link_region: str  # the OCI region whose DRG holds the IPSec link to this site
    # The addresses `endpoint`'s host resolves to, inside `cidr`: the only hosts of the site the
    # estate may reach, on `store_port` only (issue 13 item 6). Stated, not resolved: preflight runs
    # offline and a DNS answer could change under the gate.
    store_addresses: tuple[str, ...]
    sunset: date
    buckets: tuple[str, ...]
    capabilities: SiteCapabilities = SiteCapabilities()

    @property
    def is_us(self) -> bool:
        return self.country == "US"

    @property
    def store_port(self) -> int:
        """The TCP port of the store's HTTPS endpoint: the URL's, else 443."""
        return urlparse(self.endpoint).port or 443


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


@dataclass(frozen=True)
class Settings:
    source: str  # the stack file's name, for messages
    stack: str
    tenancy: Tenancy
    compartments: Compartments
    regions: tuple[RegionPlan, ...]
    data_classes: tuple[DataClass, ...]
    kms: Kms
    firewall: Firewall
    threat_detection: ThreatDetection
    access_team: AccessTeam
    legacy_sites: tuple[LegacySite, ...]
    waivers: tuple[Waiver, ...]
    protect_data: bool
    today: date
    catalogue: Catalogue = field(repr=False, compare=False)

    def region(self, identifier: str) -> RegionPlan:
        for r in self.regions:
            if r.identifier == identifier:
                return r
        raise KeyError(identifier)

    @property
    def home(self) -> RegionPlan:
        return self.region(self.tenancy.home_region)

    @property
    def approved_regions(self) -> tuple[Region, ...]:
        return self.catalogue.approved(self.tenancy.opt_in_regions)

    def tags(self, **extra: str) -> dict[str, str]:
        """The tags every resource carries (OCI freeform tags, S3 tags), plus `extra`."""
        return {
            "data-residency": "us-only",
            "stack": self.stack,
            "managed-by": f"pulumi/{PROJECT}",
            **extra,
        }

    def waiver_for(self, target: str) -> Waiver | None:
        for w in self.waivers:
            if w.target == target:
                return w
        return None

    def sites_linked_to(self, region: str) -> tuple[LegacySite, ...]:
        return tuple(s for s in self.legacy_sites if s.link_region == region)

    def dr_pairs(self) -> tuple[tuple[str, str], ...]:
        """Each DR pair once, in stack order of its first region."""
        seen: set[frozenset[str]] = set()
        pairs = []
        for r in self.regions:
            if r.dr_partner and frozenset((r.identifier, r.dr_partner)) not in seen:
                seen.add(frozenset((r.identifier, r.dr_partner)))
                pairs.append((r.identifier, r.dr_partner))
        return tuple(pairs)


# --------------------------------------------------------------------------- reader

T = TypeVar("T")
_MISSING = object()


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        # One line per problem, whatever a key or value holds: control characters are escaped.
        line = f"{self.source}: {path}: {message}"
        self.items.append("".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line))


class _Node:
    """A mapping being read, with its key path; records unknown keys on `done()`."""

    def __init__(self, value: Any, path: str, problems: _Problems) -> None:
        self.path = path
        self.p = problems
        self.ok = isinstance(value, Mapping)
        if value is not None and not self.ok:
            problems.add(path, f"must be a mapping, got {_kind(value)}")
        self.value: Mapping[Any, Any] = value if self.ok else {}
        self.seen: set[str] = set()

    def sub(self, key: str) -> str:
        # The root node has no path: its keys read as stack config keys, `us-data-residency:kms`.
        return f"{self.path}.{key}" if self.path else f"{NS}{key}"

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.value.get(key, _MISSING)

    def get(self, key: str, check: Callable[[Any, str], T | None], default: Any = _MISSING) -> T | None:
        value = self.raw(key)
        if value is _MISSING or value is None:
            if default is _MISSING:
                if self.ok:
                    self.p.add(self.sub(key), "required")
                return None
            return default  # type: ignore[no-any-return]
        return check(value, self.sub(key))

    def node(self, key: str, required: bool = True) -> _Node:
        value = self.raw(key)
        if (value is _MISSING or value is None) and required and self.ok:
            self.p.add(self.sub(key), "required")
        return _Node(None if value is _MISSING else value, self.sub(key), self.p)

    def entries(self) -> Iterator[tuple[str, Any]]:
        for k, v in self.value.items():
            if not isinstance(k, str):
                self.p.add(self.path, f"key {k!r} must be text")
                continue
            self.seen.add(k)
            yield k, v

    def done(self) -> None:
        for k in self.value:
            if isinstance(k, str) and k not in self.seen:
                self.p.add(self.sub(k), "unknown key")


def _kind(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "a boolean"}.get(type(v), type(v).__name__)


class _Checks:
    def __init__(self, p: _Problems) -> None:
        self.p = p

    def text(self, v: Any, path: str) -> str | None:
        if isinstance(v, str) and v.strip():
            return v.strip()
        self.p.add(path, f"must be non-empty text, got {_kind(v)}")
        return None

    def name(self, v: Any, path: str) -> str | None:
        s = self.text(v, path)
        if s is not None and not _NAME.match(s):
            self.p.add(path, f"{s!r} is not a valid name (lower case, digits, '-', 2-40 chars)")
            return None
        return s

    def ocid(self, v: Any, path: str) -> str | None:
        s = self.text(v, path)
        if s is not None and not _OCID.match(s):
            self.p.add(path, f"{s!r} is not an OCID")
            return None
        return s

    def iam_principal_arn(self, v: Any, path: str) -> str | None:
        s = self.text(v, path)
        if s is not None and not _IAM_PRINCIPAL_ARN.match(s):
            self.p.add(path, f"{s!r} is not an IAM user or role ARN (arn:aws:iam::<account>:role/<name>)")
            return None
        return s

    def boolean(self, v: Any, path: str) -> bool | None:
        if isinstance(v, bool):
            return v
        self.p.add(path, f"must be true or false, got {_kind(v)}")
        return None

    def positive_int(self, v: Any, path: str) -> int | None:
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            self.p.add(path, f"must be a positive whole number, got {v!r}")
            return None
        return v

    def choice(self, options: tuple[str, ...]) -> Callable[[Any, str], str | None]:
        def check(v: Any, path: str) -> str | None:
            if v in options:
                return str(v)
            self.p.add(path, f"{v!r} is not one of {', '.join(options)}")
            return None

        return check

    def day(self, v: Any, path: str) -> date | None:
        if isinstance(v, datetime):
            v = v.date()
        if isinstance(v, date):
            return v
        m = _DATE.match(v) if isinstance(v, str) else None
        if m:
            try:
                return date.fromisoformat(m.group(1))
            except ValueError:
                pass
        self.p.add(path, f"{v!r} is not a date (YYYY-MM-DD)")
        return None

    def cidr(self, v: Any, path: str) -> Net | None:
        if not isinstance(v, str):
            self.p.add(path, f"must be a CIDR block as text, got {_kind(v)}")
            return None
        try:
            net = ipaddress.IPv4Network(v, strict=True)
        except ValueError as exc:
            self.p.add(path, f"{v!r} is not a valid IPv4 CIDR block ({exc})")
            return None
        if not any(net.subnet_of(block) for block in _RFC1918):
            self.p.add(path, f"{v} is not inside RFC 1918 private space")
            return None
        return net

    def ipv4(self, v: Any, path: str) -> str | None:
        try:
            return str(ipaddress.IPv4Address(v))
        except (ValueError, TypeError):
            self.p.add(path, f"{v!r} is not an IPv4 address")
            return None

    def addresses(self, v: Any, path: str) -> tuple[str, ...] | None:
        """A non-empty list of distinct IPv4 addresses."""
        if not isinstance(v, list) or not v:
            self.p.add(path, f"must be a non-empty list of IPv4 addresses, got {_kind(v)}")
            return None
        out: list[str] = []
        for i, item in enumerate(v):
            address = self.ipv4(item, f"{path}[{i}]")
            if address is None:
                continue
            if address in out:
                self.p.add(f"{path}[{i}]", f"duplicate address {address}")
            else:
                out.append(address)
        return tuple(out) if len(out) == len(v) else None

    def https_url(self, v: Any, path: str) -> str | None:
        s = self.text(v, path)
        if s is None:
            return None
        u = urlparse(s)
        if u.scheme != "https" or not u.hostname:
            self.p.add(path, f"{s!r} must be an https:// URL")
            return None
        return s

    def public_cidrs(self, v: Any, path: str) -> tuple[Net, ...] | None:
        """A list of public IPv4 CIDR blocks: never the whole internet, never private space."""
        if not isinstance(v, list):
            self.p.add(path, f"must be a list of CIDR blocks, got {_kind(v)}")
            return None
        out: list[Net] = []
        for i, item in enumerate(v):
            where = f"{path}[{i}]"
            try:
                net = ipaddress.IPv4Network(item, strict=True) if isinstance(item, str) else None
            except ValueError as exc:
                self.p.add(where, f"{item!r} is not a valid IPv4 CIDR block ({exc})")
                continue
            if net is None:
                self.p.add(where, f"must be a CIDR block as text, got {_kind(item)}")
            elif net.prefixlen == 0:
                self.p.add(where, f"{net} is the whole internet, not a network the team works from")
            elif any(net.overlaps(block) for block in _RFC1918):
                self.p.add(where, f"{net} is private address space: VCN ranges come from stackVcns")
            elif net in out:
                self.p.add(where, f"duplicate range {net}")
            else:
                out.append(net)
        return tuple(out)

    def emails(self, v: Any, path: str) -> tuple[str, ...] | None:
        if not isinstance(v, list):
            self.p.add(path, f"must be a list of e-mail addresses, got {_kind(v)}")
            return None
        out = []
        for i, item in enumerate(v):
            if not isinstance(item, str) or not _EMAIL.match(item):
                self.p.add(f"{path}[{i}]", f"{item!r} is not an e-mail address")
            else:
                out.append(item)
        if not v:
            self.p.add(path, "must name at least one recipient")
        return tuple(out)

    def principals(self, v: Any, path: str) -> tuple[str, ...] | None:
        """OCI user names: no spaces; letters, digits, '-', '.', '_', '+' and '@' (the rule the
        OCI Console states for a user's name), unique."""
        if not isinstance(v, list) or not v:
            self.p.add(path, f"must be a non-empty list of user names, got {_kind(v)}")
            return None
        out: list[str] = []
        for i, item in enumerate(v):
            if not isinstance(item, str) or not _PRINCIPAL.match(item):
                self.p.add(
                    f"{path}[{i}]", f"{item!r} is not an OCI user name (no spaces; letters, digits, -._+@)"
                )
            elif item in out:
                self.p.add(f"{path}[{i}]", f"duplicate user name {item!r}")
            else:
                out.append(item)
        return tuple(out)

    def names(self, v: Any, path: str) -> tuple[str, ...] | None:
        if not isinstance(v, list) or not v:
            self.p.add(path, f"must be a non-empty list, got {_kind(v)}")
            return None
        out = []
        for i, item in enumerate(v):
            n = self.name(item, f"{path}[{i}]")
            if n is not None:
                if n in out:
                    self.p.add(f"{path}[{i}]", f"duplicate name {n!r}")
                else:
                    out.append(n)
        return tuple(out)


_RFC1918 = tuple(ipaddress.IPv4Network(b) for b in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


# --------------------------------------------------------------------------- parse


def parse_settings(
    config: Mapping[str, Any],
    *,
    source: str,
    stack: str,
    today: date | None = None,
    catalogue: Catalogue | None = None,
) -> Settings:
    """Validate a stack's config (`{"ns:key": value}`, values already structured) into Settings.

    Raises SettingsError listing every problem, each `<source>: <key.path>: <message>`.
    """
    today = today or current_date()
    cat = catalogue or load_catalogue()
    p = _Problems(source)
    c = _Checks(p)

    if not isinstance(config, Mapping):
        p.add("config", f"must be a mapping, got {_kind(config)}")
        raise SettingsError(p.items)
    ours: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str):
            p.add("config", f"key {key!r} must be text")
        elif key.startswith(NS):
            ours[key[len(NS) :]] = value
        elif key not in FOREIGN_KEYS and not key.startswith(("oci:", "aws:")):
            p.add(key, "unknown key")
    root = _Node(ours, "", p)

    # tenancy ---------------------------------------------------------------
    t = root.node("tenancy")
    tenancy_ocid = t.get("ocid", c.ocid)
    home = t.get("homeRegion", c.text)
    prefix = t.get("namePrefix", c.name)
    opt_ins: tuple[str, ...] = ()
    raw_opt = t.raw("optInRegions")
    if raw_opt not in (_MISSING, None, []):
        if not isinstance(raw_opt, list):
            p.add(t.sub("optInRegions"), f"must be a list, got {_kind(raw_opt)}")
        else:
            vals = []
            for i, item in enumerate(raw_opt):
                opt = cat.lookup(item) if isinstance(item, str) else None
                if opt is None or opt.status is not Status.OPT_IN:
                    p.add(
                        f"{t.sub('optInRegions')}[{i}]", f"{item!r} is not an opt-in region of the catalogue"
                    )
                else:
                    vals.append(opt.identifier)
            opt_ins = tuple(vals)
    wait = t.get("propagationWaitSeconds", c.positive_int, default=Tenancy.propagation_wait_seconds)
    if wait is not None and not MIN_PROPAGATION_WAIT <= wait <= MAX_PROPAGATION_WAIT:
        p.add(
            t.sub("propagationWaitSeconds"),
            f"{wait} s is outside {MIN_PROPAGATION_WAIT}-{MAX_PROPAGATION_WAIT} s: a shorter wait risks a "
            "first deploy that fails until a second run (Oracle's Core Landing Zone waits 70 s)",
        )
    t.done()

    # compartments ----------------------------------------------------------
    cm = root.node("compartments")
    compartments = Compartments(
        parent_ocid=cm.get("parentOcid", c.ocid) or "",
        us_data=cm.get("usData", c.name) or "",
        network=cm.get("network", c.name) or "",
        security=cm.get("security", c.name) or "",
    )
    cm.done()

    # regions ---------------------------------------------------------------
    # `declared` holds every allowed region of the stack, even one whose address plan is
    # broken, so that one mistake is reported once and not again by every rule that
    # refers to that region (DR partner, home region, legacy link).
    realm_of_home: str | None = None
    rn = root.node("regions")
    plans: list[RegionPlan] = []
    declared: dict[str, tuple[Region, str | None]] = {}
    cidrs: list[tuple[str, Net]] = []
    for ident, raw in rn.entries():
        path = rn.sub(ident)
        decision = cat.decide(ident, opt_ins)
        node = _Node(raw, path, p)
        if raw is None:
            p.add(path, "must be a mapping, got nothing")
        vcn = node.get("vcnCidr", c.cidr)
        sn = node.node("subnets")
        subnets = {k: sn.get(k, c.cidr) for k in ("data", "app", "firewall")}
        sn.done()
        partner = node.get("drPartner", c.text, default=None)
        node.done()
        if not decision.allowed:
            p.add(path, decision.reason + "; US data may only live in: " + _approved_list(cat, opt_ins))
            continue
        region = decision.region
        assert region is not None
        declared[region.identifier] = (region, partner)
        if vcn is not None:
            cidrs.append((f"{path}.vcnCidr", vcn))
            seen_sub: list[tuple[str, Net]] = []
            for role, net in subnets.items():
                if net is None:
                    continue
                spath = f"{sn.path}.{role}"
                if not net.subnet_of(vcn):
                    p.add(spath, f"{net} is not inside the VCN {vcn}")
                for other_path, other in seen_sub:
                    if net.overlaps(other):
                        p.add(spath, f"{net} overlaps {other} at {other_path}")
                seen_sub.append((spath, net))
        if vcn is None or None in subnets.values():
            continue
        plans.append(
            RegionPlan(
                identifier=region.identifier,
                key=region.key,
                realm=region.realm,
                vcn_cidr=vcn,
                subnets=Subnets(**subnets),  # type: ignore[arg-type]
                dr_partner=partner,
            )
        )
    if rn.ok and not list(rn.value):
        p.add(rn.path, "at least one region is required")

    # home region -----------------------------------------------------------
    if home is not None:
        d = cat.decide(home, opt_ins)
        if not d.allowed:
            p.add(t.sub("homeRegion"), d.reason)
        elif home not in declared and rn.ok and rn.value:
            p.add(t.sub("homeRegion"), f"{home} must be one of the stack's regions")
        elif d.region is not None:
            realm_of_home = d.region.realm

    # DR pairs ----------------------------------------------------------------
    for ident, (region, partner) in declared.items():
        if partner is None:
            continue
        path = f"{rn.sub(ident)}.drPartner"
        partner_d = cat.decide(partner, opt_ins)
        if not partner_d.allowed:
            p.add(path, partner_d.reason)
        elif partner == ident:
            p.add(path, "a region cannot be its own DR partner")
        elif partner not in declared:
            p.add(path, f"{partner} is not one of the stack's regions")
        elif declared[partner][0].realm != region.realm:
            p.add(path, f"{partner} is in realm {declared[partner][0].realm}, {ident} in {region.realm}")
        elif declared[partner][1] != ident:
            p.add(path, f"DR pairs are mutual: {partner}.drPartner must be {ident}")
    if realm_of_home is not None:
        for ident, (region, _) in declared.items():
            if region.realm != realm_of_home:
                p.add(rn.sub(ident), f"realm {region.realm} differs from the home region's {realm_of_home}")

    # data classes ------------------------------------------------------------
    dn = root.node("dataClasses")
    classes: list[DataClass] = []
    bucket_owner: dict[str, str] = {}
    for cname, raw in dn.entries():
        path = dn.sub(cname)
        c.name(cname, path)
        node = _Node(raw, path, p)
        desc = node.get("description", c.text, default="")
        buckets = node.get("buckets", c.names)
        node.done()
        for b in buckets or ():
            if b in bucket_owner:
                p.add(f"{path}.buckets", f"duplicate bucket name {b!r} (also in {bucket_owner[b]})")
            bucket_owner[b] = path
        if buckets:
            classes.append(DataClass(cname, desc or "", buckets))
    if dn.ok and not list(dn.value):
        p.add(dn.path, "at least one data class is required")

    # kms / firewall / threat detection --------------------------------------
    kn = root.node("kms", required=False)
    kms = Kms(
        vault_type=kn.get("vaultType", c.choice(VAULT_TYPES), default=Kms.vault_type) or Kms.vault_type,
        protection_mode=kn.get("protectionMode", c.choice(PROTECTION_MODES), default="HSM") or "HSM",
        rotation_days=kn.get("rotationDays", c.positive_int, default=90) or 90,
        replicate_vaults=bool(kn.get("replicateVaults", c.boolean, default=True)),
    )
    # Every key rotates automatically (CIS OCI 4.16, security-key-rotation), and OCI offers that
    # only in virtual private vaults, with an interval of 60 to 365 days (OCI docs, "Enabling and
    # Updating Automatic Key Rotation": "This feature is only available for virtual private
    # vaults", "between 60 and 365"; pulumi_oci.kms KeyAutoKeyRotationDetailsArgs: "the interval
    # should between 60 day and 365 days"). tests/test_settings.py::test_kms_values.
    if kms.vault_type == "DEFAULT":
        p.add(
            kn.sub("vaultType"),
            "DEFAULT vaults cannot rotate keys automatically (OCI offers it only in virtual private "
            "vaults) and every key here rotates: use VIRTUAL_PRIVATE",
        )
    if not MIN_ROTATION_DAYS <= kms.rotation_days <= MAX_ROTATION_DAYS:
        p.add(
            kn.sub("rotationDays"),
            f"{kms.rotation_days} days is outside the {MIN_ROTATION_DAYS}-{MAX_ROTATION_DAYS} days "
            "OCI accepts for automatic rotation",
        )
    if kms.replicate_vaults and kms.vault_type != "VIRTUAL_PRIVATE":
        p.add(kn.sub("replicateVaults"), "vault replication needs vaultType VIRTUAL_PRIVATE")
    kn.done()

    fn = root.node("firewall", required=False)
    firewall = Firewall(ids_mode=fn.get("idsMode", c.choice(IDS_MODES), default=Firewall.ids_mode) or "")
    fn.done()

    tn = root.node("threatDetection", required=False)
    threat = ThreatDetection(
        cloud_guard=bool(tn.get("cloudGuard", c.boolean, default=True)),
        security_zone=bool(tn.get("securityZone", c.boolean, default=True)),
    )
    if threat.security_zone and not threat.cloud_guard:
        p.add(tn.sub("securityZone"), "a Security Zone needs Cloud Guard: set cloudGuard: true")
    tn.done()

    # access team -------------------------------------------------------------
    an = root.node("accessTeam")
    gn = an.node("groups")
    groups = {k: gn.get(k, c.name) for k in ("admins", "operators", "auditors")}
    gn.done()
    named = [g for g in groups.values() if g]
    if len(set(named)) != len(named):
        p.add(gn.path, "admins, operators and auditors must be three different groups")
    families = an.get("quotaFamilies", c.names, default=DEFAULT_QUOTA_FAMILIES)
    floor_missing = [f for f in FLOOR_QUOTA_FAMILIES if families is not None and f not in families]
    if floor_missing:
        p.add(
            an.sub("quotaFamilies"),
            f"missing {', '.join(floor_missing)}: object storage, compute and networking are zeroed "
            "outside the approved regions (the CIS floor, docs/landing-zone.md)",
        )
    nn = an.node("networkSources")
    egress = nn.get("corporateEgress", c.public_cidrs, default=()) or ()
    stack_vcns = nn.get("stackVcns", c.boolean, default=True)
    non_us = nn.get("nonUs", c.public_cidrs, default=()) or ()
    nn.done()
    for i, net in enumerate(egress):
        for other in non_us:
            if net.overlaps(other):
                p.add(
                    f"{nn.sub('corporateEgress')}[{i}]",
                    f"{net} overlaps {other}, marked outside the US in nonUs",
                )
    bn = an.node("breakGlass")
    notify = bn.get("notify", c.emails) or ()
    accounts = bn.get("accounts", c.principals, default=()) or ()
    bn.done()
    an.done()
    access = AccessTeam(
        admins=groups["admins"] or "",
        operators=groups["operators"] or "",
        auditors=groups["auditors"] or "",
        quota_families=families or DEFAULT_QUOTA_FAMILIES,
        network_sources=NetworkSources(tuple(egress), bool(stack_vcns), tuple(non_us)),
        break_glass=BreakGlass(tuple(notify), tuple(accounts)),
    )

    # waivers -----------------------------------------------------------------
    waivers: list[Waiver] = []
    raw_w = root.raw("waivers")
    wpath = root.sub("waivers")
    if raw_w not in (_MISSING, None):
        if not isinstance(raw_w, list):
            p.add(wpath, f"must be a list, got {_kind(raw_w)}")
            raw_w = []
        for i, raw in enumerate(raw_w):
            node = _Node(raw, f"{wpath}[{i}]", p)
            target = node.get("target", c.text)
            owner = node.get("owner", c.text)
            reason = node.get("reason", c.text)
            expires = node.get("expires", c.day)
            node.done()
            if expires is not None and (expires - today).days > MAX_WAIVER_DAYS:
                p.add(node.sub("expires"), f"{expires} is more than {MAX_WAIVER_DAYS} days after {today}")
            if target is not None and any(w.target == target for w in waivers):
                p.add(node.sub("target"), f"duplicate waiver for {target!r}")
            if target and owner and reason and expires:
                waivers.append(Waiver(target, owner, reason, expires))

    # legacy sites ------------------------------------------------------------
    # protectData is validated below; peeked here: a stack that protects its data states its sites.
    protect_given = root.value.get("protectData", True)
    ln = root.node("legacySites", required=False)
    sites: list[LegacySite] = []
    for sname, raw in ln.entries():
        path = ln.sub(sname)
        c.name(sname, path)
        node = _Node(raw, path, p)
        country = node.get("country", c.text)
        if country is not None and not _COUNTRY.match(country):
            p.add(node.sub("country"), f"{country!r} is not an ISO 3166 two-letter country code")
        endpoint = node.get("endpoint", c.https_url)
        aws_region = node.get("awsRegion", c.text)
        mode = node.get("mode", c.choice(SITE_MODES))
        writer = node.get("writer", c.text, default=None)
        restore = node.get("restorePrincipal", c.text)
        deployer = node.get("deployer", c.iam_principal_arn)
        cidr = node.get("cidr", c.cidr)
        cpe = node.get("cpeIp", c.ipv4)
        link = node.get("linkRegion", c.text)
        stores = node.get("storeAddresses", c.addresses)
        sunset = node.get("sunset", c.day)
        buckets = node.get("buckets", c.names)
        capn = node.node("capabilities", required=False)
        caps: dict[str, bool] = {}
        stated = node.value.get("capabilities") is not None
        if not stated and protect_given is not False and node.ok:
            # A stack that protects its data (prod) states what each site's store supports.
            p.add(
                node.sub("capabilities"),
                f"required when protectData is true: state {', '.join(SITE_CAPABILITIES)} "
                "(docs/legacy-decommission.md, A site's capabilities)",
            )
        for cap in SITE_CAPABILITIES:
            value = capn.get(cap, c.boolean, default=None)
            if cap not in capn.value and stated and capn.ok and protect_given is not False:
                p.add(capn.sub(cap), "required when protectData is true: true or false")
            elif value is False and cap in RELIED_ON_CAPABILITIES:
                p.add(
                    capn.sub(cap),
                    f"the site's store lacks {cap}, which a residency control relies on: this project "
                    "cannot manage the site (docs/legacy-decommission.md, A site's capabilities)",
                )
            caps[cap] = value is not False
        capn.done()
        node.done()
        if mode == "replica" and writer is None:
            p.add(node.sub("writer"), "mode replica needs the replication writer principal")
        if mode == "frozen" and writer is not None:
            p.add(node.sub("writer"), "mode frozen has no writer: remove it, or use mode replica")
        if deployer is not None and deployer in (restore, writer):
            role = "restorePrincipal" if deployer == restore else "writer"
            p.add(
                node.sub("deployer"),
                f"must differ from {role}: the deployer reads no objects and writes none",
            )
        if mode == "replica" and sunset is not None and sunset < today:
            p.add(
                node.sub("sunset"),
                f"sunset {sunset} has passed: stop replication (mode frozen) and decommission",
            )
        if link is not None and link not in declared:
            p.add(node.sub("linkRegion"), f"{link} is not one of the stack's regions")
        if cidr is not None:
            cidrs.append((node.sub("cidr"), cidr))
            for i, address in enumerate(stores or ()):
                if ipaddress.IPv4Address(address) not in cidr:
                    p.add(
                        f"{node.sub('storeAddresses')}[{i}]",
                        f"{address} is not inside the site's cidr {cidr}: the link reaches nothing else",
                    )
        if country is not None and country != "US":
            w = next((w for w in waivers if w.target == sname), None)
            if w is None:
                p.add(
                    path,
                    f"a site in {country} keeps US data abroad: it needs a waiver with target {sname}",
                )
            elif not w.active(today):
                p.add(path, f"the waiver for this {country} site expired on {w.expires}")
        if None not in (
            country,
            endpoint,
            aws_region,
            mode,
            restore,
            deployer,
            cidr,
            cpe,
            link,
            stores,
            sunset,
            buckets,
        ):
            sites.append(
                LegacySite(
                    name=sname,
                    country=country or "",
                    endpoint=endpoint or "",
                    aws_region=aws_region or "",
                    mode=mode or "",
                    writer=writer,
                    restore_principal=restore or "",
                    deployer=deployer or "",
                    cidr=cidr,  # type: ignore[arg-type]
                    cpe_ip=cpe or "",
                    link_region=link or "",
                    store_addresses=stores or (),
                    sunset=sunset,  # type: ignore[arg-type]
                    buckets=buckets or (),
                    capabilities=SiteCapabilities(
                        versioning=caps["versioning"],
                        public_access_block=caps["publicAccessBlock"],
                        ownership_controls=caps["ownershipControls"],
                        access_logging=caps["accessLogging"],
                        lifecycle_transition_minimum_object_size=caps["lifecycleTransitionMinimumObjectSize"],
                    ),
                )
            )

    # address plan: nothing overlaps anything -----------------------------------
    for i, (path_a, net_a) in enumerate(cidrs):
        for path_b, net_b in cidrs[:i]:
            if net_a.overlaps(net_b):
                p.add(path_a, f"{net_a} overlaps {net_b} at {path_b}")

    protect = root.get("protectData", c.boolean, default=True)
    root.done()

    # access networks: a stack that protects its data (prod) names its offices' egress ------------
    egress_given = nn.value.get("corporateEgress") not in (None, [])
    if nn.ok and protect is not False and not egress_given:
        p.add(nn.sub("corporateEgress"), "must list the US offices' egress ranges when protectData is true")
    if nn.ok and not egress_given and stack_vcns is False:
        p.add(nn.path, "names no network at all: the access team could not reach anything")

    if p.items:
        raise SettingsError(p.items)
    return Settings(
        source=source,
        stack=stack,
        tenancy=Tenancy(
            tenancy_ocid or "",
            home or "",
            prefix or "",
            opt_ins,
            propagation_wait_seconds=wait or Tenancy.propagation_wait_seconds,
        ),
        compartments=compartments,
        regions=tuple(plans),
        data_classes=tuple(classes),
        kms=kms,
        firewall=firewall,
        threat_detection=threat,
        access_team=access,
        legacy_sites=tuple(sites),
        waivers=tuple(waivers),
        protect_data=bool(protect),
        today=today,
        catalogue=cat,
    )


# Quota families zeroed outside the approved regions (OCI "Available Quotas by Service": the
# family names of `zero <family> quotas in tenancy where request.region != ...`). The floor is
# what issue 13 (CIS floor) requires whatever a stack lists: Object Storage (`object-storage`,
# storage-bytes, regional), compute (`compute-core`, `compute-memory`) and networking (`vcn`);
# the rest hold data too (block volumes, databases, file systems, MySQL, NoSQL, vaults).
FLOOR_QUOTA_FAMILIES: tuple[str, ...] = ("object-storage", "compute-core", "compute-memory", "vcn")
DEFAULT_QUOTA_FAMILIES: tuple[str, ...] = (
    *FLOOR_QUOTA_FAMILIES,
    "block-storage",
    "database",
    "filesystem",
    "mysql",
    "nosql",
    "kms",
)


def _approved_list(cat: Catalogue, opt_ins: tuple[str, ...]) -> str:
    return ", ".join(r.identifier for r in cat.approved(opt_ins))


def current_date() -> date:
    """Today in UTC, or USDR_TODAY (YYYY-MM-DD) for reproducible runs and tests."""
    pinned = os.environ.get(TODAY_ENV)
    if pinned:
        try:
            return date.fromisoformat(pinned)
        except ValueError:
            raise SettingsError(
                [f"environment: {TODAY_ENV}: {pinned!r} is not a date (YYYY-MM-DD)"]
            ) from None
    return datetime.now(UTC).date()


# --------------------------------------------------------------------------- files


def read_yaml(path: Path) -> Any:
    """Parse a stack file exactly as preflight and the Pulumi CLI read it (YAML 1.2: no dates,
    only true/false are booleans; a duplicate key is an error). One loader for the repository,
    `usdr_common.strict_yaml` (no preflight import: the program runs without it). Errors are
    one SettingsError line with file, line and column."""
    try:
        return strict_yaml.read_yaml(path, shown=path.name)
    except strict_yaml.InputError as exc:
        raise SettingsError([exc.message]) from None


# Top-level keys Pulumi itself writes into a stack file.
_STACK_FILE_KEYS = ("config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment")


def stack_config_from_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a Pulumi stack file, keys as written (`ns:key`)."""
    doc = read_yaml(path)
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise SettingsError([f"{path.name}: must be a mapping with a config: section"])
    unknown = sorted(str(k) for k in doc if k not in _STACK_FILE_KEYS)
    if unknown:
        raise SettingsError([f"{path.name}: {unknown[0]}: unknown top-level key"])
    config = doc.get("config") or {}
    if not isinstance(config, Mapping):
        raise SettingsError([f"{path.name}: config: must be a mapping"])
    return dict(config)


def load_settings_file(path: Path, stack: str | None = None, today: date | None = None) -> Settings:
    """Settings straight from a stack file (preflight, tests, docs)."""
    stack = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    return parse_settings(stack_config_from_file(path), source=path.name, stack=stack, today=today)


def load_settings_from_pulumi() -> Settings:
    """Settings from the running Pulumi program's config (the engine, or preflight's mocks)."""
    import pulumi
    from pulumi.runtime.config import get_config_env  # all keys: unknown ones are errors too

    stack = pulumi.get_stack()
    config: dict[str, Any] = {}
    for key, value in get_config_env().items():
        config[key] = _decode(value)
    return parse_settings(config, source=f"Pulumi.{stack}.yaml", stack=stack)


def _decode(value: Any) -> Any:
    """The engine hands structured config over as JSON text; plain strings stay strings."""
    if isinstance(value, str) and value[:1] in ("{", "[") and value[-1:] in ("}", "]"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value
