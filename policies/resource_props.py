"""Reading resource props defensively, and where a resource lives.

Policies never touch the SDK's props proxy directly: an unknown value read through it raises
`UnknownValueError`, which the SDK turns into an *advisory* "can't run during preview" note,
which would let a residency check pass silently. `plain()` copies props into plain dicts and
lists and replaces every unknown with the `UNKNOWN` marker, so each policy decides what an
unknown means (residency: cannot prove, so a violation).

Missing and null are the same thing here: `None`. Numbers arrive as floats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlparse

import pulumi.runtime
from pack_runtime import once_per_call
from pulumi_policy import PolicyResource, ResourceValidationArgs
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

_SENTINELS: Final = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class _Unknown:
    """A value the engine does not know yet (preview of a computed output)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = _Unknown()
OCI_PROVIDER = "pulumi:providers:oci"
# What preflight sends for a value the program marked secret (preflight/project.py
# SECRET_PLACEHOLDER): a check that needs the value cannot judge it.
SECRET_PLACEHOLDER: Final = "[secret]"  # noqa: S105 - a placeholder, not a secret
AWS_PROVIDER = "pulumi:providers:aws"


def is_unknown(value: object) -> bool:
    return value is UNKNOWN


def _target(value: Any) -> Any:
    """The raw container behind a pulumi_policy proxy (`proxy["__target"]`), else the value."""
    if isinstance(value, Mapping | Sequence) and not isinstance(value, str | bytes | dict | list):
        try:
            return value["__target"]  # type: ignore[call-overload]
        except (KeyError, TypeError, IndexError):
            return value
    return value


def plain(value: Any) -> Any:
    """A deep copy of props as dicts/lists/scalars, unknowns replaced by `UNKNOWN`."""
    value = _target(value)
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return [plain(v) for v in value]
    return value


def get(props: Any, *path: str | int) -> Any:
    """props[path...]; None when any step is missing, null or of the wrong kind; UNKNOWN passes."""
    cur = props
    for step in path:
        if cur is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(cur, list) or not -len(cur) <= step < len(cur):
                return None
            cur = cur[step]
        else:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(step)
    return cur


def text(value: Any) -> str | None:
    """A non-empty string, else None (UNKNOWN included: test `is_unknown` first when it matters)."""
    return value if isinstance(value, str) and value.strip() else None


def items(value: Any) -> list[Any]:
    """A list prop as a list (a single object counts as a one-item list; missing = empty)."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def json_value(value: Any) -> Any:
    """Provider configs and policy documents arrive as JSON text or as structures: accept both."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, leaf-or-container) in props, depth first; the path is keys and indexes."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, (*path, str(i)))


def leaves(props: dict[str, Any]) -> tuple[tuple[tuple[str, ...], Any], ...]:
    """`walk(props)` as a tuple, computed once per analyzer call for these props."""
    return once_per_call(_walked, props)  # type: ignore[no-any-return]


def _walked(props: dict[str, Any]) -> tuple[tuple[tuple[str, ...], Any], ...]:
    return tuple(walk(props))


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(path) if path else "(root)"


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class Provider:
    type: str
    name: str
    urn: str
    props: dict[str, Any]


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it: plain props, provider props and options."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    provider: Provider | None = None
    protect: bool = False
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return self.type.split(":", 1)[0]

    @property
    def module(self) -> str:
        """`oci:ObjectStorage/bucket:Bucket` -> `ObjectStorage`; `aws:s3/bucket:Bucket` -> `s3`."""
        parts = self.type.split(":")
        return parts[1].split("/", 1)[0] if len(parts) == 3 else ""

    def depends_on(self, urn: str, prop: str | None = None) -> bool:
        if prop is not None:
            return urn in self.property_dependencies.get(prop, ())
        return urn in self.dependencies or any(urn in v for v in self.property_dependencies.values())

    @staticmethod
    def from_args(args: ResourceValidationArgs) -> Resource:
        """The resource of an Analyze call as plain data; once per call. The SDK builds new args
        for every policy, around the one props proxy the pack's runtime keeps per call
        (`unknown_checking_proxy`, remembered), whose identity therefore names the resource."""
        return once_per_call(_from_args, args, key=args.props)  # type: ignore[no-any-return]

    @staticmethod
    def from_policy_resource(r: PolicyResource) -> Resource:
        """`r` as plain data; once per analyzer call for each resource of the request.

        The pack's runtime hands every stack policy of a call the same `PolicyResource`
        objects (`pack_runtime._analyze_stack`), whose identity therefore names the resource.
        """
        return once_per_call(_from_policy_resource, r)  # type: ignore[no-any-return]


def _from_args(args: ResourceValidationArgs) -> Resource:
    return Resource(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=_as_dict(once_per_call(plain, _target(args.props))),
        provider=_provider(args.provider),
        protect=bool(args.opts.protect) if args.opts is not None else False,
        parent=(args.opts.parent or None) if args.opts is not None else None,
    )


def _from_policy_resource(r: PolicyResource) -> Resource:
    return Resource(
        type=r.resource_type,
        name=r.name,
        urn=r.urn,
        props=_as_dict(once_per_call(plain, _target(r.props))),
        provider=_provider(r.provider),
        protect=bool(r.opts.protect) if r.opts is not None else False,
        parent=r.parent.urn if r.parent is not None else ((r.opts.parent or None) if r.opts else None),
        dependencies=tuple(d.urn for d in r.dependencies),
        property_dependencies={k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()},
    )


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _provider(p: Any) -> Provider | None:
    if p is None:
        return None
    props = _as_dict(once_per_call(plain, _target(p.props)))
    return Provider(type=p.resource_type, name=p.name or "", urn=p.urn or "", props=props)


# --------------------------------------------------------------------------- placement


def stack_config(key: str) -> Any:
    """A stack config value (`oci:region`) as the CLI hands it to the pack (PULUMI_CONFIG)."""
    try:
        value = pulumi.runtime.get_config(key)
    except Exception:  # a broken PULUMI_CONFIG is "not determinable", never a crash here
        return None
    return json_value(value) if isinstance(value, str) and value[:1] in "[{" else value


@dataclass(frozen=True)
class Placement:
    """Where a resource's API calls go: a region name, or why it cannot be told."""

    region: str | None
    source: str  # "provider", "resource", "stack-config" or "none"
    problem: str | None = None

    @property
    def shown(self) -> str:
        return f"{self.region} (from {self.source})" if self.region else "undetermined"


def oci_placement(res: Resource) -> Placement:
    """The effective OCI region: the provider's `region`.

    The engine's own default provider is registered with the package's stack config as its
    inputs (pkg/resource/deploy/default_providers.go, newRegisterDefaultProviderEvent), so
    `oci:region` reaches the pack as that provider's `region`. A provider, whatever its name
    (`oci.Provider("default")` included), without a region falls back to the OCI CLI config or
    environment of whoever runs `pulumi up`: the program does not say, so the region is
    undetermined. Stack config is read only when the request names no provider at all.
    """
    prov = res.provider
    if prov is not None and prov.type == OCI_PROVIDER:
        region = prov.props.get("region")
        if is_unknown(region):
            return Placement(None, "provider", f"provider {prov.name!r} region is unknown during preview")
        if text(region):
            return Placement(str(region).strip(), "provider")
        return Placement(
            None,
            "none",
            f"provider {prov.name!r} sets no region (it would come from the runner's OCI config)",
        )
    region = stack_config("oci:region")
    if text(region):
        return Placement(str(region).strip(), "stack-config")
    return Placement(None, "none", "no provider region and no oci:region in stack config")


@dataclass(frozen=True)
class AwsPlacement:
    region: str | None  # the API region string (per-resource `region`, provider, aws:region)
    endpoint: str | None  # custom endpoint for this resource's service, normalised
    source: str
    problem: str | None = None


def normalise_endpoint(url: str) -> str:
    u = urlparse(url.strip() if "://" in url else f"https://{url.strip()}")
    host = (u.hostname or "").lower()
    port = f":{u.port}" if u.port and u.port != 443 else ""
    return f"{(u.scheme or 'https').lower()}://{host}{port}"


def _endpoints(value: Any) -> dict[str, Any] | None:
    """Provider `endpoints`: JSON text or a list of {service: url} maps -> one merged map."""
    value = json_value(value)
    if is_unknown(value):
        return None
    merged: dict[str, Any] = {}
    for item in items(value):
        if isinstance(item, dict):
            merged.update({k: v for k, v in item.items() if v is not None})
    return merged


def aws_placement(res: Resource) -> AwsPlacement:
    """Region and custom endpoint of an `aws:*` resource.

    The endpoint is the provider's override for the resource's own service (`s3` for
    `aws:s3/...`, also `s3api`), which is how an S3-compatible legacy store is targeted.
    """
    prov = res.provider
    provider_props: dict[str, Any] = prov.props if prov is not None and prov.type == AWS_PROVIDER else {}
    # As for OCI: the engine's default provider carries aws:* stack config as its inputs, so
    # stack config is read only when there is no AWS provider to read.
    use_stack = prov is None or prov.type != AWS_PROVIDER

    raw_endpoints = provider_props.get("endpoints")
    if raw_endpoints is None and use_stack:
        raw_endpoints = stack_config("aws:endpoints")
    endpoints = _endpoints(raw_endpoints)
    if endpoints is None:
        return AwsPlacement(None, None, "provider", "provider endpoints are unknown during preview")
    service = res.module.lower()
    candidates = [service, "s3api"] if service == "s3" else [service]
    endpoint: str | None = None
    for key in candidates:
        url = endpoints.get(key)
        if is_unknown(url):
            return AwsPlacement(
                None, None, "provider", f"provider endpoint {key!r} is unknown during preview"
            )
        if text(url):
            endpoint = normalise_endpoint(str(url))
            break

    own = res.props.get("region")
    if is_unknown(own):
        return AwsPlacement(None, endpoint, "resource", "resource region is unknown during preview")
    if text(own):
        return AwsPlacement(str(own).strip(), endpoint, "resource")
    region = provider_props.get("region")
    if is_unknown(region):
        return AwsPlacement(None, endpoint, "provider", "provider region is unknown during preview")
    if text(region):
        return AwsPlacement(str(region).strip(), endpoint, "provider")
    if use_stack:
        region = stack_config("aws:region")
        if text(region):
            return AwsPlacement(str(region).strip(), endpoint, "stack-config")
    return AwsPlacement(None, endpoint, "none", "no resource, provider or stack-config region")
