"""Data-source lookups (invokes) answered offline, as the calling provider would answer them.

The engine sends an invoke to the provider the program chose (or the package's default
provider) and returns what the cloud says. Offline there is no cloud, so an answer comes from,
in this order:

1. **The project's fixtures**: `preflight-lookups.yaml` beside `Pulumi.yaml`, and any
   `--lookups FILE` (consulted first). Format (README, "Offline lookups"):

       lookups:
         - token: oci:Core/getImages:getImages    # the invoke's token, as the SDK sends it
           region: us-ashburn-1                   # optional: only for a provider in this region
           args: {operatingSystem: Oracle Linux}  # optional: these arguments must match (wire names)
           result: {images: [{id: "ocid1.image.oc1.${key}.aaaa"}]}
       tenancy:                                   # optional: tenancy state the model cannot know
         homeRegion: us-ashburn-1
         subscribedRegions: [us-ashburn-1, us-phoenix-1]
         namespace: axaxaxaxaxax

   In result strings `${region}` is the calling provider's region and `${key}` its key in
   lower case (`${KEY}` upper case). The arguments are echoed into the result, as the
   provider's data sources return their inputs; the result's own fields win.

2. **The model**: deterministic answers derived from the region catalogue and the calling
   provider's region for the lookups every OCI program makes: availability and fault
   domains, the Object Storage namespace, the region's services, regions and region
   subscriptions, the tenancy; and the AWS caller identity, region and partition.
   Where the truth is tenancy state (the home region), the model answers only from the
   fixtures' `tenancy:`; where a superset is the safe answer (which regions a tenancy may
   be subscribed to), it answers the superset, so a program that deploys "to every
   subscribed region" is judged for every region it could reach.

3. **No answer**: the lookup fails, as a provider error would. The program sees
   `invoke of <token> failed`, and the run stops with one line naming the lookup, its
   provider and how to answer it: a value a policy would judge never becomes a silent None.

OCI data sources' `filters` (`{name, values, regex}`) are applied to every list in the
answer as terraform-provider-oci applies them (an element is kept when its attribute `name`,
in snake_case, equals one of `values`, or matches one as a regular expression with
`regex: true`; several filters must all hold).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preflight import catalogue
from preflight.errors import BadInput
from preflight.project import read_yaml

FIXTURES_FILE = "preflight-lookups.yaml"
OPTION = "--lookups"
_TOKEN = re.compile(r"[A-Za-z0-9_.-]+:[A-Za-z0-9_./-]*:[A-Za-z0-9_]+")
_TENANCY_KEYS = ("homeRegion", "subscribedRegions", "namespace")


class NoAnswer(Exception):
    """The lookup cannot be answered offline; the message says why."""


@dataclass(frozen=True)
class Caller:
    """One invoke as the provider receives it."""

    token: str
    args: Mapping[str, Any]
    region: str | None  # the calling provider's region, None when the program does not set it
    provider: str  # the provider's name, for messages
    config: Mapping[str, Any]  # the provider's inputs (tenancyOcid, ...)


@dataclass(frozen=True)
class Fixture:
    token: str
    result: Mapping[str, Any]
    args: Mapping[str, Any] | None = None
    region: str | None = None

    def matches(self, caller: Caller) -> bool:
        if self.token != caller.token:
            return False
        if self.region is not None and _identifier(caller.region) != self.region:
            return False
        return self.args is None or all(caller.args.get(k) == v for k, v in self.args.items())


@dataclass(frozen=True)
class Tenancy:
    home_region: str | None = None
    subscribed: tuple[str, ...] | None = None
    namespace: str | None = None


@dataclass
class Lookups:
    fixtures: list[Fixture] = field(default_factory=list)
    tenancy: Tenancy = field(default_factory=Tenancy)
    sources: list[str] = field(default_factory=list)  # the files read, for messages

    def answer(self, caller: Caller) -> dict[str, Any]:
        """The result of `caller`'s lookup (wire names); NoAnswer when there is none offline."""
        for fixture in self.fixtures:
            if fixture.matches(caller):
                result = _substitute(dict(fixture.result), caller.region)
                return _filtered({**caller.args, **result}, caller.args.get("filters"))
        model = _MODEL.get(caller.token)
        if model is None:
            raise NoAnswer("preflight does not model this lookup and no fixture answers it")
        return _filtered({**caller.args, **model(caller, self.tenancy)}, caller.args.get("filters"))

    def how_to_answer(self) -> str:
        files = " or ".join(self.sources) if self.sources else FIXTURES_FILE
        return f"answer it in {files} (README: Offline lookups)"


# --------------------------------------------------------------------------- fixtures


def load(project_dir: Path, files: list[str] | None = None) -> Lookups:
    """The fixtures of `--lookups` files (first) and the project's `preflight-lookups.yaml`."""
    paths = [Path(f) for f in files or []]
    own = project_dir / FIXTURES_FILE
    if own.is_file():
        paths.append(own)
    lookups = Lookups()
    for path in paths:
        if not path.is_file():
            raise BadInput(f"{OPTION} {path}: no such file")
        shown = _shown(path, project_dir)
        lookups.sources.append(shown)
        _parse(read_yaml(path, shown), shown, lookups)
    return lookups


def _shown(path: Path, project_dir: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def _parse(doc: Any, shown: str, into: Lookups) -> None:
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise BadInput(f"{shown}: expected a mapping with `lookups:` and/or `tenancy:`")
    for key in doc:
        if key not in ("lookups", "tenancy"):
            raise BadInput(f"{shown}: {key}: unknown key (expected lookups, tenancy)")
    entries = doc.get("lookups") or []
    if not isinstance(entries, list):
        raise BadInput(f"{shown}: lookups: expected a list")
    for i, entry in enumerate(entries):
        into.fixtures.append(_fixture(entry, f"{shown}: lookups[{i}]"))
    if "tenancy" in doc:
        into.tenancy = _tenancy(doc["tenancy"], f"{shown}: tenancy", into.tenancy)


def _fixture(entry: Any, where: str) -> Fixture:
    if not isinstance(entry, dict):
        raise BadInput(f"{where}: expected a mapping with token and result")
    for key in entry:
        if key not in ("token", "result", "args", "region"):
            raise BadInput(f"{where}.{key}: unknown key (expected token, result, args, region)")
    token = entry.get("token")
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise BadInput(f"{where}.token: expected an invoke token like oci:Core/getImages:getImages")
    result = entry.get("result")
    if not isinstance(result, dict):
        raise BadInput(f"{where}.result: expected a mapping (the lookup's result, wire names)")
    args = entry.get("args")
    if args is not None and not isinstance(args, dict):
        raise BadInput(f"{where}.args: expected a mapping of arguments to match")
    region = entry.get("region")
    if region is not None:
        region = _known_region(region, f"{where}.region")
    return Fixture(token=token, result=result, args=args, region=region)


def _tenancy(value: Any, where: str, before: Tenancy) -> Tenancy:
    if not isinstance(value, dict):
        raise BadInput(f"{where}: expected a mapping ({', '.join(_TENANCY_KEYS)})")
    for key in value:
        if key not in _TENANCY_KEYS:
            raise BadInput(f"{where}.{key}: unknown key (expected {', '.join(_TENANCY_KEYS)})")
    home = before.home_region
    if "homeRegion" in value:
        home = _known_region(value["homeRegion"], f"{where}.homeRegion")
    subscribed = before.subscribed
    if "subscribedRegions" in value:
        listed = value["subscribedRegions"]
        if not isinstance(listed, list) or not listed:
            raise BadInput(f"{where}.subscribedRegions: expected a non-empty list of regions")
        subscribed = tuple(_known_region(r, f"{where}.subscribedRegions[{i}]") for i, r in enumerate(listed))
    namespace = before.namespace
    if "namespace" in value:
        if not isinstance(value["namespace"], str) or not value["namespace"]:
            raise BadInput(f"{where}.namespace: expected text")
        namespace = value["namespace"]
    if home is not None and subscribed is not None and home not in subscribed:
        raise BadInput(f"{where}.subscribedRegions: the home region {home} must be one of them")
    return Tenancy(home_region=home, subscribed=subscribed, namespace=namespace)


def _known_region(value: Any, where: str) -> str:
    found = catalogue.region(value) if isinstance(value, str) else None
    if found is None:
        catalogue_file = "policies/usdr_common/regions.yaml"
        raise BadInput(f"{where}: {value!r} is not a region of the catalogue ({catalogue_file})")
    return str(found.identifier)


def _identifier(region: str | None) -> str | None:
    found = catalogue.region(region)
    return str(found.identifier) if found is not None else region


def _substitute(value: Any, region: str | None) -> Any:
    if isinstance(value, str) and "${" in value:
        found = catalogue.region(region)
        key = str(found.key) if found is not None else ""
        return value.replace("${region}", region or "").replace("${key}", key.lower()).replace("${KEY}", key)
    if isinstance(value, dict):
        return {k: _substitute(v, region) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, region) for v in value]
    return value


# --------------------------------------------------------------------------- filters


def _filtered(result: dict[str, Any], filters: Any) -> dict[str, Any]:
    """terraform-provider-oci's `filter` blocks (internal/tfresource/filter.go, ApplyFilters)."""
    if not filters:
        return result
    if not isinstance(filters, list):
        raise NoAnswer("its filters are not a list")
    out = dict(result)
    for name, value in result.items():
        if name != "filters" and isinstance(value, list) and all(isinstance(v, dict) for v in value):
            out[name] = [item for item in value if all(_keeps(item, f) for f in filters)]
    return out


def _keeps(item: Mapping[str, Any], spec: Any) -> bool:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise NoAnswer("a filter has no name")
    attr = _attribute(item, spec["name"])
    wanted = [str(v) for v in spec.get("values") or []]
    got = [attr] if not isinstance(attr, list) else attr
    got_text = [_text(v) for v in got if v is not None]
    if spec.get("regex"):
        try:
            patterns = [re.compile(v) for v in wanted]
        except re.error as exc:
            raise NoAnswer(f"a filter's regular expression does not compile: {exc}") from None
        return any(p.search(g) for p in patterns for g in got_text)
    return any(g == w for g in got_text for w in wanted)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _attribute(item: Mapping[str, Any], snake: str) -> Any:
    """An element's attribute by its Terraform (snake_case) name; the answer uses wire names."""
    head, *rest = snake.split(".", 1)
    camel = re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), head)
    value = item.get(camel, item.get(head))
    if rest and isinstance(value, dict):
        return _attribute(value, rest[0])
    return value


# --------------------------------------------------------------------------- the model


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _region(caller: Caller) -> Any:
    """The catalogue region of the calling provider; a region-bound lookup needs one."""
    if not caller.region:
        raise NoAnswer(
            f"provider {caller.provider} sets no region: a real run would take it from the "
            "runner's environment (OCI_REGION, ~/.oci/config, AWS_REGION), so the answer is "
            "unknowable offline"
        )
    found = catalogue.region(caller.region)
    if found is None:
        raise NoAnswer(
            f"region {caller.region!r} of provider {caller.provider} is not in the region catalogue"
        )
    return found


def _catalogued(name: str) -> Any:
    """A region the fixtures' loader already checked against the catalogue."""
    found = catalogue.region(name)
    if found is None:
        raise NoAnswer(f"region {name!r} is not in the region catalogue")
    return found


def _tenancy_ocid(caller: Caller) -> str:
    candidates = (
        caller.config.get("tenancyOcid"),
        caller.args.get("tenancyId"),
        caller.args.get("compartmentId"),
    )
    for value in candidates:
        if isinstance(value, str) and value:
            return value
    return "ocid1.tenancy.oc1..offline"


def _ad_prefix(caller: Caller) -> str:
    """The tenancy-specific prefix of AD names (`Uocm:` in OCI's examples): four letters."""
    letters = "".join(c for c in _digest("ad", _tenancy_ocid(caller)) if c.isalpha()) + "abcd"
    return letters[0].upper() + letters[1:4]


def _ads(caller: Caller) -> list[dict[str, Any]]:
    region = _region(caller)
    prefix = _ad_prefix(caller)
    tenancy = _tenancy_ocid(caller)
    return [
        {
            "compartmentId": caller.args.get("compartmentId") or tenancy,
            "id": f"ocid1.availabilitydomain.{region.realm}..{_digest(tenancy, region.identifier, n)[:40]}",
            "name": region.ad_name(prefix, n),
        }
        for n in range(1, region.ads + 1)
    ]


def _availability_domains(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    return {"availabilityDomains": _ads(caller), "id": _digest("ads", caller.region)[:16]}


def _availability_domain(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    ads = _ads(caller)
    number, ident = caller.args.get("adNumber"), caller.args.get("id")
    for n, ad in enumerate(ads, start=1):
        if (number is None or int(number) == n) and (ident is None or ident == ad["id"]):
            return {**ad, "adNumber": n}
    raise NoAnswer(f"region {caller.region} has no such availability domain ({dict(caller.args)})")


def _fault_domains(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    names = {ad["name"]: ad for ad in _ads(caller)}
    wanted = caller.args.get("availabilityDomain")
    if wanted not in names:
        # The API refuses an AD of another region, or a name it does not know.
        raise NoAnswer(
            f"availability domain {wanted!r} is not one of region {caller.region}'s {sorted(names)}"
        )
    return {
        "faultDomains": [
            {
                "availabilityDomain": wanted,
                "compartmentId": caller.args.get("compartmentId"),
                "id": f"ocid1.faultdomain.{_region(caller).realm}..{_digest(wanted, n)[:40]}",
                "name": f"FAULT-DOMAIN-{n}",  # every AD has three (Regions and Availability Domains)
            }
            for n in (1, 2, 3)
        ],
        "id": _digest("fds", wanted)[:16],
    }


def _namespace(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    # One namespace per tenancy, the same from every region (Understanding Object Storage Namespaces).
    name = tenancy.namespace or "".join(c for c in _digest("ns", _tenancy_ocid(caller)) if c.isalnum())[:12]
    return {"namespace": name, "id": name}


def _services(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    region = _region(caller)
    key = str(region.key).lower()
    # The two services a service gateway can use (Service Gateway docs: "All <key> Services In
    # Oracle Services Network" and "OCI <key> Object Storage"), with their CIDR labels.
    return {
        "services": [
            {
                "cidrBlock": f"all-{key}-services-in-oracle-services-network",
                "description": f"All {key.upper()} Services In Oracle Services Network",
                "id": f"ocid1.service.{region.realm}.{key}.{_digest('all', key)[:40]}",
                "name": f"All {key.upper()} Services In Oracle Services Network",
            },
            {
                "cidrBlock": f"oci-{key}-objectstorage",
                "description": f"OCI {key.upper()} Object Storage",
                "id": f"ocid1.service.{region.realm}.{key}.{_digest('os', key)[:40]}",
                "name": f"OCI {key.upper()} Object Storage",
            },
        ],
        "id": _digest("services", key)[:16],
    }


def _regions(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    realm = _region(caller).realm
    rows = [{"key": r.key, "name": r.identifier} for r in catalogue.regions_in_realm(realm)]
    return {"regions": rows, "id": _digest("regions", realm)[:16]}


def _subscriptions(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    realm = _region(caller).realm
    if tenancy.home_region is None:
        raise NoAnswer("which region is the tenancy's home is tenancy state: give tenancy.homeRegion")
    names = tenancy.subscribed or tuple(r.identifier for r in catalogue.regions_in_realm(realm))
    tenancy_id = caller.args.get("tenancyId") or _tenancy_ocid(caller)
    rows = []
    for name in names:
        r = _catalogued(name)
        rows.append(
            {
                "isHomeRegion": r.identifier == tenancy.home_region,
                "regionKey": r.key,
                "regionName": r.identifier,
                "state": "READY",
                "tenancyId": tenancy_id,
            }
        )
    return {"regionSubscriptions": rows, "id": _digest("subs", tenancy_id)[:16]}


def _get_tenancy(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    if tenancy.home_region is None:
        raise NoAnswer("the tenancy's home region is tenancy state: give tenancy.homeRegion")
    home = _catalogued(tenancy.home_region)
    ident = caller.args.get("tenancyId") or _tenancy_ocid(caller)
    return {"homeRegionKey": home.key, "id": ident, "name": "tenancy", "description": ""}


def _aws_region(caller: Caller) -> str:
    region = caller.args.get("region") or caller.args.get("name") or caller.region
    if not isinstance(region, str) or not region:
        raise NoAnswer(
            f"provider {caller.provider} sets no region: a real run would take it from AWS_REGION "
            "or ~/.aws/config, so the answer is unknowable offline"
        )
    return region


def _aws_partition_of(region: str) -> tuple[str, str]:
    # AWS partitions (General Reference, "AWS partitions"): China and GovCloud have their own.
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


def _caller_identity(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    allowed = caller.config.get("allowedAccountIds")
    account = None
    if isinstance(allowed, list) and allowed:
        account = str(allowed[0])
    elif isinstance(allowed, str) and allowed.strip('[]" '):
        account = allowed.strip('[]" ').split(",")[0].strip().strip('"')
    account = account or str(int(_digest("account", caller.provider)[:12], 16) % 10**12).zfill(12)
    partition, _ = _aws_partition_of(caller.region or "")
    user = "AIDA" + _digest("user", account)[:17].upper()
    arn = f"arn:{partition}:iam::{account}:user/preflight"
    return {"accountId": account, "arn": arn, "userId": user, "id": account}


def _aws_get_region(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    region = _aws_region(caller)
    _, suffix = _aws_partition_of(region)
    endpoint = f"ec2.{region}.{suffix}"
    return {"region": region, "name": region, "endpoint": endpoint, "description": region, "id": region}


def _aws_partition(caller: Caller, tenancy: Tenancy) -> dict[str, Any]:
    partition, suffix = _aws_partition_of(_aws_region(caller))
    prefix = ".".join(reversed(suffix.split(".")))
    return {"partition": partition, "dnsSuffix": suffix, "reverseDnsPrefix": prefix, "id": partition}


_MODEL: dict[str, Callable[[Caller, Tenancy], dict[str, Any]]] = {
    "oci:Identity/getAvailabilityDomains:getAvailabilityDomains": _availability_domains,
    "oci:Identity/getAvailabilityDomain:getAvailabilityDomain": _availability_domain,
    "oci:Identity/getFaultDomains:getFaultDomains": _fault_domains,
    "oci:ObjectStorage/getNamespace:getNamespace": _namespace,
    "oci:Core/getServices:getServices": _services,
    "oci:Identity/getRegions:getRegions": _regions,
    "oci:Identity/getRegionSubscriptions:getRegionSubscriptions": _subscriptions,
    "oci:Identity/getTenancy:getTenancy": _get_tenancy,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegion:getRegion": _aws_get_region,
    "aws:index/getPartition:getPartition": _aws_partition,
}
MODELLED = tuple(sorted(_MODEL))
