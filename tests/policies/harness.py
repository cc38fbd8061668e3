"""Test harness for the policy pack: resources as the engine sends them, and two ways to run them.

`InProcessPack` drives the SDK's own analyzer servicer (the object `PolicyPack` serves over
gRPC) with the pack's policies, imported from their modules: the same protobuf requests, the
same props proxy, the same enforcement handling, no process. `test_pack_grpc.py` sends the
very same requests to the pack started as the CLI starts it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from stacks.policy_config import PACK_DIR, configure_request, load_policies

PACK_NAME = "us-data-residency"
STACK_URN = "urn:pulumi:test::us-data-residency"
UNKNOWN = UNKNOWN_STRING_VALUE  # what the engine sends for a value unknown during preview
LEVELS = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory"}


def urn(type_: str, name: str) -> str:
    return f"{STACK_URN}::{type_}::{name}"


@dataclass(frozen=True)
class Prov:
    type: str
    name: str
    props: Mapping[str, Any]

    @property
    def urn(self) -> str:
        return urn(self.type, self.name)

    def message(self) -> analyzer_pb2.AnalyzerProviderResource:
        return analyzer_pb2.AnalyzerProviderResource(
            type=self.type, name=self.name, urn=self.urn, properties=struct(self.props)
        )


@dataclass(frozen=True)
class Res:
    """One resource: wire (camelCase) props, its provider, protect, and property dependencies by name."""

    type: str
    name: str
    props: Mapping[str, Any]
    provider: Prov | None = None
    protect: bool = False
    deps: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return urn(self.type, self.name)

    def set(self, **props: Any) -> Res:
        """A copy with props changed (None removes the prop)."""
        merged = {**self.props, **props}
        return replace(self, props={k: v for k, v in merged.items() if v is not None})

    def without(self, *keys: str) -> Res:
        return replace(self, props={k: v for k, v in self.props.items() if k not in keys})

    def on(self, provider: Prov | None) -> Res:
        return replace(self, provider=provider)


def struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(props)))
    return s


def analyze_request(res: Res) -> analyzer_pb2.AnalyzeRequest:
    req = analyzer_pb2.AnalyzeRequest(
        type=res.type,
        name=res.name,
        urn=res.urn,
        properties=struct(res.props),
        options=analyzer_pb2.AnalyzerResourceOptions(protect=res.protect),
    )
    if res.provider is not None:
        req.provider.CopyFrom(res.provider.message())
    return req


def stack_request(resources: Iterable[Res]) -> analyzer_pb2.AnalyzeStackRequest:
    resources = list(resources)
    by_name = {r.name: r.urn for r in resources}
    out = []
    for r in resources:
        # A dependency on a resource a case dropped is dropped too (the engine only sends real ones).
        prop_deps = {
            k: analyzer_pb2.AnalyzerPropertyDependencies(urns=[by_name[n] for n in names if n in by_name])
            for k, names in r.deps.items()
        }
        deps = sorted({by_name[n] for names in r.deps.values() for n in names if n in by_name})
        msg = analyzer_pb2.AnalyzerResource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            properties=struct(r.props),
            options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect),
            dependencies=deps,
            propertyDependencies=prop_deps,
        )
        if r.provider is not None:
            msg.provider.CopyFrom(r.provider.message())
        out.append(msg)
    return analyzer_pb2.AnalyzeStackRequest(resources=out)


@dataclass(frozen=True)
class Diag:
    policy: str
    enforcement: str
    message: str
    urn: str


def diags(response: analyzer_pb2.AnalyzeResponse) -> list[Diag]:
    return [
        Diag(d.policyName, LEVELS.get(d.enforcementLevel, str(d.enforcementLevel)), d.message, d.urn)
        for d in response.diagnostics
    ]


def full_config(
    properties: Mapping[str, Any], names: Iterable[str], **per_policy: Mapping[str, Any]
) -> dict[str, Any]:
    """The pack config the generator would write: `properties` under every policy name."""
    config: dict[str, Any] = {n: dict(properties) for n in names}
    for name, extra in per_policy.items():
        config[name] = {**config.get(name, {}), **extra}
    return config


class InProcessPack:
    """The SDK's analyzer servicer with every policy of the pack, driven without gRPC."""

    def __init__(self) -> None:
        self.policies = load_policies(PACK_DIR)
        self.servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", self.policies, EnforcementLevel.MANDATORY)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.policies]

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)

    def configure(self, config: Mapping[str, Any]) -> None:
        self.servicer.Configure(configure_request(self.info(), config), None)

    def analyze(self, res: Res) -> list[Diag]:
        return diags(self.servicer.Analyze(analyze_request(res), None))

    def analyze_stack(self, resources: Iterable[Res]) -> list[Diag]:
        return diags(self.servicer.AnalyzeStack(stack_request(resources), None))
