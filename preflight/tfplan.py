"""The checkov bridge, part 1: resource records -> Terraform-plan JSON.

checkov cannot read a Pulumi program, but it scans a Terraform plan (`terraform show -json`),
and so do OPA/conftest and most other plan readers. This module writes the estate that synth
recorded in that format, as a plan that would create every resource:

- `planned_values.root_module.resources[]` and `resource_changes[]` (action `create`) carry
  each resource's Terraform type, a unique address and its inputs under Terraform names;
- `configuration.root_module.resources[].expressions.<attr>.references` are built from Pulumi
  property dependencies, so graph checks see that a public access block points at its bucket;
  a value that is another resource's id is "known after apply", as in a real plan, and left
  out of the values (checkov then reads the reference in its place);
- `configuration.provider_config` has one entry per provider with its region;
- a top-level `preflight` object (ignored by Terraform-plan readers, which must skip unknown
  keys) maps every address back to its URN and lists the resources left out, with the reason.

Type names: pulumi-oci tokens `oci:<Module>/<camelName>:<Name>` become
`oci_<prefix>_<snake_name>` with the prefix from `data/oci-module-prefixes.tsv`, except the
tokens in `data/oci-resource-token-overrides.tsv`; pulumi-aws has no rule, so `AWS_TYPES` names
the types this project uses. Property names: wire camelCase -> snake_case, except the
exceptions in `data/pulumi-property-names.tsv` (lists of blocks that Pulumi pluralised, and map
attributes whose keys stay verbatim).

Nothing is dropped silently: a custom resource whose type has no Terraform name is listed in
`TfPlan.skipped` (and in the plan's `preflight.skipped`), and the caller reports it.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

from preflight.model import ResourceRecord

DATA_DIR: Final = Path(__file__).resolve().parent / "data"

FORMAT_VERSION: Final = "1.2"
# The Terraform release whose plan format this imitates (1.x plans are format 1.x).
TERRAFORM_VERSION: Final = "1.9.8"

# Terraform provider source addresses, by Pulumi package.
PROVIDERS: Final[dict[str, str]] = {
    "oci": "registry.terraform.io/oracle/oci",
    "aws": "registry.terraform.io/hashicorp/aws",
    "time": "registry.terraform.io/hashicorp/time",
}

# Other bridged packages, type by type: pulumiverse-time bridges hashicorp/terraform-provider-time
# (its `time:index/sleep:Sleep` is Terraform's `time_sleep`, the wait Oracle's Core Landing Zone
# uses between creating compartments and policies and their first use). Holds no data; mapped so
# that the plan shows the wait where a Terraform reader expects it, instead of "not scanned".
OTHER_TYPES: Final[dict[str, str]] = {
    "time:index/sleep:Sleep": "time_sleep",
}

# pulumi-aws 7.51.1 tokens (checked in pulumi_aws/s3/*.py) -> Terraform types. Module names do
# not follow a rule in pulumi-aws, so only what is listed here is mapped. V2 tokens are the
# deprecated aliases pulumi-aws still ships; both name the same Terraform type.
AWS_TYPES: Final[dict[str, str]] = {
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketV2:BucketV2": "aws_s3_bucket",
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "aws_s3_bucket_versioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketLoggingV2:BucketLoggingV2": "aws_s3_bucket_logging",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": (
        "aws_s3_bucket_object_lock_configuration"
    ),
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": (
        "aws_s3_bucket_object_lock_configuration"
    ),
    "aws:s3/bucketAcl:BucketAcl": "aws_s3_bucket_acl",
    "aws:s3/bucketAclV2:BucketAclV2": "aws_s3_bucket_acl",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:s3/bucketNotification:BucketNotification": "aws_s3_bucket_notification",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": "aws_s3_bucket_cors_configuration",
    "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2": "aws_s3_bucket_cors_configuration",
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": "aws_s3_account_public_access_block",
}

# Map attributes of (nearly) every type: their keys are tag names, never property names.
MAP_PROPERTIES: Final = frozenset(
    {"tags", "tagsAll", "freeformTags", "definedTags", "systemTags", "securityAttributes"}
)

# Values not known before apply: the engine's wire sentinel (pulumi.runtime.rpc.UNKNOWN) and
# the placeholder synth records for it (preflight.synth.UNKNOWN_PLACEHOLDER).
_UNKNOWN_VALUES: Final = frozenset({"04da6b54-80e4-46f7-96ec-b56ff0331ba9", "[unknown]"})
# The mask synth records for every secret (preflight.project.SECRET_PLACEHOLDER): the plan
# carries the mask, never the secret, and marks it in `sensitive_values`.
SECRET_PLACEHOLDER: Final = "[secret]"  # noqa: S105 - the mask, not a secret

_TOKEN = re.compile(r"^(?P<pkg>[A-Za-z0-9-]+):(?P<module>[A-Za-z0-9]+)/(?P<file>[A-Za-z0-9]+):(?P<name>\w+)$")
_CAMEL_HUMP = re.compile(r"([A-Z])")
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class SkippedResource:
    """A custom resource left out of the plan: no Terraform type is known for it."""

    urn: str
    type: str
    reason: str


@dataclass
class TfPlan:
    """The plan, and how to read it back: address -> URN, and what was left out."""

    plan: dict[str, Any]
    addresses: dict[str, str]  # Terraform address -> Pulumi URN
    skipped: list[SkippedResource] = field(default_factory=list)

    @property
    def skipped_urns(self) -> list[str]:
        return [s.urn for s in self.skipped]


def snake_case(wire_name: str) -> str:
    """`kmsKeyId` -> `kms_key_id`: the inverse of the bridge's Terraform -> Pulumi naming."""
    return _CAMEL_HUMP.sub(lambda m: "_" + m.group(1).lower(), wire_name)


def _data_rows(name: str, columns: int) -> Iterable[list[str]]:
    """Rows of a shipped TSV table: `#` comments and the header line skipped."""
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    header_seen = False
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        cells = line.split("\t")
        if len(cells) != columns or not all(cells):
            raise ValueError(f"preflight/data/{name}:{number}: expected {columns} tab-separated cells")
        yield cells


@cache
def _oci_prefixes() -> dict[str, str | None]:
    """pulumi-oci module -> Terraform prefix; None where two prefixes share a module."""
    prefixes: dict[str, set[str]] = defaultdict(set)
    for prefix, module in _data_rows("oci-module-prefixes.tsv", 2):
        prefixes[module].add(prefix)
    return {module: (next(iter(p)) if len(p) == 1 else None) for module, p in prefixes.items()}


@cache
def _oci_overrides() -> dict[str, str]:
    return dict(_data_rows("oci-resource-token-overrides.tsv", 2))


@cache
def _property_table() -> tuple[dict[tuple[str, str], str], frozenset[tuple[str, str]]]:
    """(token, wire path) -> Terraform name for lists of blocks; the set of map paths."""
    names: dict[tuple[str, str], str] = {}
    maps: set[tuple[str, str]] = set()
    for kind, token, path, tf_name in _data_rows("pulumi-property-names.tsv", 4):
        if kind == "blocks":
            names[(token, path)] = tf_name
        elif kind == "map":
            maps.add((token, path))
        else:
            raise ValueError(f"preflight/data/pulumi-property-names.tsv: unknown kind {kind!r}")
    return names, frozenset(maps)


def terraform_type(pulumi_type: str) -> tuple[str | None, str]:
    """The Terraform type for a Pulumi type token, or (None, why not)."""
    if pulumi_type in AWS_TYPES:
        return AWS_TYPES[pulumi_type], ""
    if pulumi_type in OTHER_TYPES:
        return OTHER_TYPES[pulumi_type], ""
    if pulumi_type in _oci_overrides():
        return _oci_overrides()[pulumi_type], ""
    match = _TOKEN.match(pulumi_type)
    if match is None:
        return None, "not a provider resource type token"
    if match["pkg"] == "aws":
        return None, "pulumi-aws type not in preflight.tfplan.AWS_TYPES"
    if match["pkg"] != "oci":
        return None, f"no Terraform mapping for package {match['pkg']!r}"
    prefixes = _oci_prefixes()
    if match["module"] not in prefixes:
        return None, f"pulumi-oci module {match['module']!r} not in data/oci-module-prefixes.tsv"
    prefix = prefixes[match["module"]]
    if prefix is None:
        return None, f"pulumi-oci module {match['module']!r} has several Terraform prefixes"
    return f"oci_{prefix}_{snake_case(match['file'])}", ""


def property_name(pulumi_type: str, wire_path: str) -> str:
    """Terraform name of the property at `wire_path` (dotted wire names, no list levels)."""
    names, _ = _property_table()
    known = names.get((pulumi_type, wire_path))
    return known if known is not None else snake_case(wire_path.rsplit(".", 1)[-1])


def is_map_property(pulumi_type: str, wire_path: str) -> bool:
    _, maps = _property_table()
    return wire_path.rsplit(".", 1)[-1] in MAP_PROPERTIES or (pulumi_type, wire_path) in maps


def _number(value: float) -> int | float:
    """The engine sends every number as a float; Terraform writes whole numbers as integers."""
    return int(value) if value.is_integer() else value


class _Unknown:
    """A value that is known only after apply; left out of the plan's values."""


UNKNOWN: Final = _Unknown()


def _plain(value: Any) -> Any:
    """A value inside a map: keys verbatim, numbers normalised."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)


def convert_value(pulumi_type: str, wire_path: str, value: Any) -> Any:
    """A wire value -> its Terraform-plan form. Nested blocks become lists of objects (as in
    `terraform show -json`, where even a single block is a one-element list); maps keep their
    keys; unknown values become UNKNOWN."""
    if isinstance(value, str) and value in _UNKNOWN_VALUES:
        return UNKNOWN
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        if is_map_property(pulumi_type, wire_path):
            return _plain(value)
        return [_convert_block(pulumi_type, wire_path, value)]
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if isinstance(item, dict) and not is_map_property(pulumi_type, wire_path):
                items.append(_convert_block(pulumi_type, wire_path, item))
            else:
                converted = convert_value(pulumi_type, wire_path, item)
                items.append(None if converted is UNKNOWN else converted)
        return items
    return str(value)


def _convert_block(pulumi_type: str, wire_path: str, block: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in block.items():
        if key.startswith("__"):
            continue
        path = f"{wire_path}.{key}" if wire_path else key
        converted = convert_value(pulumi_type, path, value)
        if converted is not UNKNOWN:
            out[property_name(pulumi_type, path)] = converted
    return out


# --- references -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """A resource a property depends on, and the values of it that may appear in the property."""

    address: str
    id: str | None
    outputs: dict[str, Any]
    inputs: dict[str, Any]


def _match(value: str, targets: list[_Target]) -> tuple[list[str], bool] | None:
    """References for a string that is another resource's attribute, and whether it is known
    at plan time (a configured attribute) or only after apply (an id or a computed output)."""
    for target in targets:
        if target.id and value == target.id:
            return [f"{target.address}.id", target.address], False
    for target in targets:
        for key, out in target.outputs.items():
            if isinstance(out, str) and out and value == out:
                known = target.inputs.get(key) == value
                return [f"{target.address}.{snake_case(key)}", target.address], known
    return None


def _link(value: Any, targets: list[_Target]) -> tuple[Any, Any]:
    """(value with after-apply leaves replaced by UNKNOWN, expressions for it or None)."""
    if isinstance(value, str):
        hit = _match(value, targets)
        if hit is None:
            return value, None
        refs, known = hit
        return (value if known else UNKNOWN), {"references": refs}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        blocks: list[dict[str, Any]] = []
        exprs: list[dict[str, Any]] = []
        for block in value:
            new_block: dict[str, Any] = {}
            block_expr: dict[str, Any] = {}
            for key, inner in block.items():
                new_inner, inner_expr = _link(inner, targets)
                if new_inner is not UNKNOWN:
                    new_block[key] = new_inner
                if inner_expr is not None:
                    block_expr[key] = inner_expr
            blocks.append(new_block)
            exprs.append(block_expr)
        return blocks, (exprs if any(exprs) else None)
    if isinstance(value, list):
        found: list[str] = []
        unknown = False
        for item in value:
            if isinstance(item, str) and (hit := _match(item, targets)) is not None:
                found.extend(r for r in hit[0] if r not in found)
                unknown = unknown or not hit[1]
        if not found:
            return value, None
        return (UNKNOWN if unknown else value), {"references": found}
    return value, None


def _after_unknown(original: Any, linked: Any) -> Any:
    """`after_unknown` for one attribute: True where the plan left a value out, mirrored
    through nested blocks; None where everything is known."""
    if linked is UNKNOWN:
        return True
    if isinstance(original, list) and isinstance(linked, list) and len(original) == len(linked):
        marks: list[Any] = []
        for before, after in zip(original, linked, strict=True):
            if isinstance(before, dict) and isinstance(after, dict):
                inner = {}
                for key, value in before.items():
                    mark = True if key not in after else _after_unknown(value, after[key])
                    if mark is not None:
                        inner[key] = mark
                marks.append(inner)
            else:
                marks.append(False)
        return marks if any(marks) else None
    return None


def _sensitive(value: Any) -> Any:
    """`sensitive_values` for one attribute: True where the value is the secret mask."""
    if value == SECRET_PLACEHOLDER:
        return True
    if isinstance(value, list):
        marks = [_sensitive(v) or False for v in value]
        return marks if any(marks) else None
    if isinstance(value, dict):
        inner = {k: m for k, v in value.items() if (m := _sensitive(v)) is not None}
        return inner or None
    return None


def _referenced(expressions: Any) -> set[str]:
    """Every reference string in an expressions tree."""
    found: set[str] = set()
    if isinstance(expressions, dict):
        for key, value in expressions.items():
            if key == "references" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                found |= _referenced(value)
    elif isinstance(expressions, list):
        for item in expressions:
            found |= _referenced(item)
    return found


# --- addresses and providers ------------------------------------------------------------


def _tf_name(name: str) -> str:
    """A Pulumi logical name as a Terraform resource name (letters, digits, `_`, `-`)."""
    cleaned = _NOT_IN_NAME.sub("_", name) or "_"
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


def _addresses(records: list[tuple[ResourceRecord, str]]) -> dict[str, str]:
    """URN -> address. The name is the logical name; where two resources of one Terraform type
    share it, every one of them gets a hash of its URN, so the result does not depend on order."""
    by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record, tf_type in records:
        by_name[(tf_type, _tf_name(record.name))].append(record.urn)
    out: dict[str, str] = {}
    for (tf_type, name), urns in by_name.items():
        for urn in urns:
            if len(urns) == 1:
                out[urn] = f"{tf_type}.{name}"
            else:
                out[urn] = f"{tf_type}.{name}_{hashlib.sha256(urn.encode()).hexdigest()[:12]}"
    if len(set(out.values())) != len(out):  # pragma: no cover - a 48-bit hash collision
        raise ValueError("Terraform addresses are not unique")
    return out


def _provider_urn(ref: str | None) -> str | None:
    return ref.rsplit("::", 1)[0] if ref else None


def _provider_key(package: str, provider_ref: str | None) -> str:
    """`oci.<alias>` for an explicit provider, `oci` for the default one."""
    urn = _provider_urn(provider_ref)
    if urn is None:
        return package
    name = urn.rsplit("::", 1)[-1]
    if name.startswith("default"):
        return package
    return f"{package}.{_tf_name(name)}"


# --- the plan ---------------------------------------------------------------------------


def _is_provider(record: ResourceRecord) -> bool:
    return record.type.startswith("pulumi:providers:")


def build_tfplan(resources: list[ResourceRecord]) -> TfPlan:
    """The Terraform plan for `resources`, with address -> URN and the resources left out."""
    mapped: list[tuple[ResourceRecord, str]] = []
    skipped: list[SkippedResource] = []
    for record in resources:
        if not record.custom or _is_provider(record):
            continue  # components, the stack and providers are not Terraform resources
        tf_type, reason = terraform_type(record.type)
        if tf_type is None:
            skipped.append(SkippedResource(record.urn, record.type, reason))
        else:
            mapped.append((record, tf_type))

    address_of = _addresses(mapped)
    by_urn = {record.urn: record for record, _ in mapped}

    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    config_resources: list[dict[str, Any]] = []
    provider_config: dict[str, dict[str, Any]] = {}

    for record, tf_type in sorted(mapped, key=lambda rt: address_of[rt[0].urn]):
        address = address_of[record.urn]
        package = record.type.split(":", 1)[0]
        values: dict[str, Any] = {}
        sensitive: dict[str, Any] = {}
        after_unknown: dict[str, Any] = {}
        expressions: dict[str, Any] = {}

        for key, raw in record.inputs.items():
            if key.startswith("__"):
                continue
            attr = property_name(record.type, key)
            value = convert_value(record.type, key, raw)
            targets = [
                _Target(address_of[u], by_urn[u].id, by_urn[u].outputs, by_urn[u].inputs)
                for u in record.property_dependencies.get(key, [])
                if u in address_of
            ]
            if targets and value is not UNKNOWN:
                linked, expr = _link(value, targets)
                if expr is not None:
                    expressions[attr] = expr
                unknown_marks = _after_unknown(value, linked)
                if unknown_marks is not None:
                    after_unknown[attr] = unknown_marks
                value = linked
            if value is UNKNOWN:
                after_unknown[attr] = True
            else:
                values[attr] = value
                if (mark := _sensitive(value)) is not None:
                    sensitive[attr] = mark

        # Dependencies no expression references (explicit depends_on, or a property whose value
        # does not show which attribute it took) stay visible as depends_on.
        referenced = _referenced(expressions)
        all_deps = set(record.dependencies) | {
            u for urns in record.property_dependencies.values() for u in urns
        }
        depends_on = sorted(
            {address_of[u] for u in all_deps if u in address_of and address_of[u] not in referenced}
        )

        provider_key = _provider_key(package, record.provider)
        if provider_key not in provider_config:
            entry: dict[str, Any] = {"name": package, "full_name": PROVIDERS.get(package, package)}
            if "." in provider_key:
                entry["alias"] = provider_key.split(".", 1)[1]
            if record.region is not None and record.region_source in ("provider", "stack-config"):
                entry["expressions"] = {"region": {"constant_value": record.region}}
            provider_config[provider_key] = entry

        name = address.split(".", 1)[1]
        provider_name = PROVIDERS.get(package, package)
        planned.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": name,
                "provider_name": provider_name,
                "schema_version": 0,
                "values": values,
                "sensitive_values": sensitive,
            }
        )
        changes.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": name,
                "provider_name": provider_name,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": values,
                    "after_unknown": after_unknown,
                    "before_sensitive": False,
                    "after_sensitive": sensitive,
                },
            }
        )
        conf: dict[str, Any] = {
            "address": address,
            "mode": "managed",
            "type": tf_type,
            "name": name,
            "provider_config_key": provider_key,
            "expressions": expressions,
            "schema_version": 0,
        }
        if depends_on:
            conf["depends_on"] = depends_on
        config_resources.append(conf)

    addresses = {address_of[record.urn]: record.urn for record, _ in mapped}
    plan: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": dict(sorted(provider_config.items())),
            "root_module": {"resources": config_resources},
        },
        "preflight": {
            "note": "Written by preflight from a Pulumi program; not a Terraform plan of a real run.",
            "addresses": dict(sorted(addresses.items())),
            "skipped": [{"urn": s.urn, "type": s.type, "reason": s.reason} for s in skipped],
        },
    }
    return TfPlan(plan=plan, addresses=addresses, skipped=skipped)


def connected_groups(plan: dict[str, Any]) -> list[list[str]]:
    """The plan's addresses in groups that no reference or depends_on crosses, in plan order.

    Graph checks only follow references, so scanning each group (or any union of groups)
    separately gives the same results as scanning the whole plan; see preflight.checkov."""
    addresses = [r["address"] for r in plan["planned_values"]["root_module"]["resources"]]
    parent = {a: a for a in addresses}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for conf in plan["configuration"]["root_module"]["resources"]:
        linked = _referenced(conf.get("expressions", {})) | set(conf.get("depends_on", []))
        for ref in linked:
            target = ".".join(ref.split(".")[:2])  # "type.name.attr" -> the address "type.name"
            if target in parent and conf["address"] in parent:
                parent[find(conf["address"])] = find(target)
    groups: dict[str, list[str]] = {}
    for a in addresses:
        groups.setdefault(find(a), []).append(a)
    return list(groups.values())


def subplan(plan: dict[str, Any], addresses: Iterable[str]) -> dict[str, Any]:
    """The same plan restricted to `addresses` (providers and header kept)."""
    keep = set(addresses)
    out = dict(plan)
    out["planned_values"] = {
        "root_module": {
            "resources": [
                r for r in plan["planned_values"]["root_module"]["resources"] if r["address"] in keep
            ]
        }
    }
    out["resource_changes"] = [r for r in plan["resource_changes"] if r["address"] in keep]
    out["configuration"] = {
        "provider_config": plan["configuration"]["provider_config"],
        "root_module": {
            "resources": [
                r for r in plan["configuration"]["root_module"]["resources"] if r["address"] in keep
            ]
        },
    }
    meta = plan.get("preflight", {})
    out["preflight"] = {
        **meta,
        "addresses": {a: u for a, u in meta.get("addresses", {}).items() if a in keep},
        "skipped": [],  # reported once, with the whole plan
    }
    return out


def to_tfplan(resources: list[ResourceRecord]) -> dict[str, Any]:
    """Terraform-plan JSON (as a dict) for `resources`. Resources whose type has no Terraform
    name are not in it; they are listed under `plan["preflight"]["skipped"]` (use
    `build_tfplan` for the typed list)."""
    return build_tfplan(resources).plan
