"""Run a Pulumi program under mocks and record what the engine would be asked to do.

`MockResourceArgs` carries no parent, dependencies or protect flag, so `RecordingMonitor` keeps
the raw RegisterResourceRequest of every resource (parent, provider reference, protect,
dependencies, replace options) and every Invoke (token, args, provider). Each resource's
region is its explicit provider's `region` input, resolved from the provider reference.

`OciMocks` answers the lookups the estate makes (Oracle services, the firewall's private IP,
the Object Storage namespace, Cloud Guard recipes and security-zone policies) and gives every
custom resource an OCID whose region segment is its provider's region key, as OCI would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime.settings import ROOT
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from stacks.regions import load_catalogue
from stacks.settings import PROJECT

T = TypeVar("T")
OCI_PROVIDER = "pulumi:providers:oci"
NAMESPACE = "usdrmocknamespace"
GLOBAL_TYPE_PREFIXES = ("oci:Identity/", "oci:Limits/")
SECURITY_POLICY_IDS = (
    "ocid1.securityzonessecuritypolicy.oc1..mockpolicya",
    "ocid1.securityzonessecuritypolicy.oc1..mockpolicyb",
)


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    parent: str
    provider: str  # "urn::id" of the explicit provider, "" if none
    providers: dict[str, str]  # package -> "urn::id": what a component hands its children
    protect: bool
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    id: str = ""
    region: str | None = None  # the explicit provider's region; None = no explicit provider

    @property
    def parent_type(self) -> str:
        """The type token of the parent (mock URNs keep only the last parent type)."""
        return self.parent.split("::")[2].split("$")[-1] if self.parent else ""

    def tags(self) -> dict[str, str]:
        return dict(self.inputs.get("freeformTags") or {})


@dataclass
class Invoked:
    token: str
    args: dict[str, Any]
    provider: str
    # How many resources had registered when the invoke arrived: an invoke that depends on a
    # resource (InvokeOutputOptions.depends_on) arrives only after it registered.
    registered_before: int = 0


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, m: OciMocks) -> None:
        super().__init__(m)
        self.oci_mocks = m
        self.records: list[Registered] = []
        self.invokes: list[Invoked] = []
        self.outputs: dict[str, dict[str, Any]] = {}  # urn -> what register_outputs registered

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method's name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        mocks._ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        if request.type == OCI_PROVIDER:
            self.oci_mocks.provider_regions[f"{response.urn}::{response.id}"] = inputs.get("region")
        self.records.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                provider=request.provider,
                providers=dict(request.providers),
                protect=request.protect,
                custom=request.custom,
                inputs=inputs,
                dependencies=list(request.dependencies),
                replace_on_changes=list(request.replaceOnChanges),
                delete_before_replace=request.deleteBeforeReplace,
                id=response.id,
                region=self.oci_mocks.provider_regions.get(request.provider) if request.provider else None,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # the gRPC method's name
        mocks._ensure_event_loop()
        self.outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request: Any) -> Any:  # the gRPC method's name
        mocks._ensure_event_loop()
        self.invokes.append(
            Invoked(
                request.tok, rpc.deserialize_properties(request.args), request.provider, len(self.records)
            )
        )
        return super().Invoke(request)


class OciMocks(mocks.Mocks):
    """Outputs = inputs plus what OCI computes; OCIDs carry their provider's region key."""

    def __init__(self, answer_lookups: bool = True) -> None:
        self.provider_regions: dict[str, str | None] = {}
        # False: every invoke is answered with nothing (components/lookups.py's unknown path).
        self.answer_lookups = answer_lookups

    def _key(self, provider: str | None) -> str:
        region = load_catalogue().lookup(self.provider_regions.get(provider or "") or "")
        return region.key.lower() if region else "unknown"

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-id", state
        kind = args.typ.split(":")[-1].lower()
        # IAM and quota OCIDs are global: their region segment is empty, as in OCI.
        key = "" if args.typ.startswith(GLOBAL_TYPE_PREFIXES) else self._key(args.provider)
        ocid = f"ocid1.{kind}.oc1.{key}.{args.name.replace('-', '')}"
        if args.typ == "oci:Kms/vault:Vault":
            state["managementEndpoint"] = f"https://{args.name}-management.kms.{key}.oci.example"
            state["cryptoEndpoint"] = f"https://{args.name}-crypto.kms.{key}.oci.example"
        if args.typ == "oci:NetworkFirewall/networkFirewall:NetworkFirewall":
            state["ipv4address"] = "10.255.255.10"
        if args.typ == "oci:Core/vcn:Vcn":
            # Computed by OCI with every VCN (pulumi_oci.core.Vcn outputs).
            for output in ("defaultSecurityListId", "defaultRouteTableId", "defaultDhcpOptionsId"):
                kind = output.removeprefix("default").removesuffix("Id").lower()
                state[output] = f"ocid1.{kind}.oc1.{key}.{args.name.replace('-', '')}default"
        return ocid, state

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if not self.answer_lookups:
            return {}, []
        key = self._key(args.provider)
        a = args.args
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "oci:Core/getServices:getServices": lambda: {
                "services": [
                    {
                        "id": f"ocid1.service.oc1.{key}.objectstorage",
                        "name": f"OCI {key.upper()} Object Storage",
                        "cidrBlock": f"oci-{key}-objectstorage",
                        "description": "Object Storage",
                    },
                    {
                        "id": f"ocid1.service.oc1.{key}.all",
                        "name": f"All {key.upper()} Services In Oracle Services Network",
                        "cidrBlock": f"all-{key}-services-in-oracle-services-network",
                        "description": "All services",
                    },
                ]
            },
            "oci:Core/getPrivateIps:getPrivateIps": lambda: {
                "ipAddress": a.get("ipAddress"),
                "privateIps": [
                    {"id": f"ocid1.privateip.oc1.{key}.firewall", "ipAddress": a.get("ipAddress")}
                ],
            },
            "oci:ObjectStorage/getNamespace:getNamespace": lambda: {"namespace": NAMESPACE, "id": NAMESPACE},
            "oci:CloudGuard/getDetectorRecipes:getDetectorRecipes": lambda: {
                "detectorRecipeCollections": [{"items": [_recipe("detectorrecipe", a, key)]}]
            },
            "oci:CloudGuard/getResponderRecipes:getResponderRecipes": lambda: {
                "responderRecipeCollections": [{"items": [_recipe("responderrecipe", a, key)]}]
            },
            "oci:CloudGuard/getSecurityPolicies:getSecurityPolicies": lambda: {
                "securityPolicyCollections": [{"items": [{"id": i} for i in SECURITY_POLICY_IDS]}]
            },
        }
        if args.token not in answers:
            raise AssertionError(f"unexpected invoke {args.token}")
        return answers[args.token](), []


def _recipe(kind: str, a: dict[str, Any], key: str) -> dict[str, Any]:
    name = str(a.get("displayName"))
    return {
        "id": f"ocid1.cloudguard{kind}.oc1.{key}.{name.lower().replace(' ', '')}",
        "displayName": name,
        "owner": "ORACLE",
    }


@dataclass
class Synth(Generic[T]):
    value: T
    resources: list[Registered]
    invokes: list[Invoked]
    outputs: dict[str, dict[str, Any]]

    def of_type(self, t: str) -> list[Registered]:
        return [r for r in self.resources if r.type == t]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)

    def named(self, name: str) -> Registered:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {[r.urn for r in found]}"
        return found[0]

    def children_of(self, parent: Registered) -> list[Registered]:
        return [r for r in self.resources if r.parent == parent.urn]

    def counts(self, resources: Iterable[Registered] | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.resources if resources is None else resources:
            out[r.type] = out.get(r.type, 0) + 1
        return dict(sorted(out.items()))

    def resolve(self, value: Any) -> Any:
        """The resolved value of an Output (or of a structure holding Outputs)."""
        return _sync_await(pulumi.Output.from_input(value).future())


def synth(program: Callable[[], T], stack: str = "prod", answer_lookups: bool = True) -> Synth[T]:
    """Run `program` as a Pulumi program under mocks; raise what it (or an apply) raised."""
    m = OciMocks(answer_lookups)
    monitor = RecordingMonitor(m)
    ROOT.set(None)  # a fresh stack resource per synthesis
    pulumi.runtime.set_mocks(m, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    holder: list[T] = []
    _sync_await(run_pulumi_func(lambda: holder.append(program())))
    return Synth(holder[0], monitor.records, monitor.invokes, monitor.outputs)


C = TypeVar("C", bound=pulumi.ComponentResource)
TEST_REGION = "us-ashburn-1"


def synth_component(
    factory: Callable[[pulumi.ResourceOptions], C], region: str = TEST_REGION, answer_lookups: bool = True
) -> Synth[C]:
    """Build one component on an explicit provider for `region`, as the estate does."""
    import pulumi_oci as oci

    def program() -> C:
        p = oci.Provider(f"oci-{region}", region=region)
        return factory(pulumi.ResourceOptions(provider=p))

    return synth(program, answer_lookups=answer_lookups)


def check_anatomy(s: Synth[Any], type_token: str, name: str) -> tuple[Registered, list[Registered]]:
    """STYLE.md's anatomy, as the engine sees it; returns the component and its children.

    One component of `type_token` named `name`, on the one explicit provider; every other
    resource is its child (`parent=self`), named `<name>-<role>`, on that same provider
    (inherited, never built inside); and `register_outputs` was called.
    """
    providers = [r for r in s.resources if r.type.startswith("pulumi:providers:")]
    assert len(providers) == 1, f"the component built a provider: {[p.urn for p in providers]}"
    ref = f"{providers[0].urn}::{providers[0].id}"
    (comp,) = [r for r in s.resources if r.type == type_token]
    assert comp.name == name, comp.urn
    assert not comp.custom, f"{comp.urn} must be a ComponentResource"
    assert comp.providers.get("oci") == ref, f"{comp.urn}: provider not received through opts"
    others = [r for r in s.resources if r is not comp and r is not providers[0]]
    assert others, f"{comp.urn} created nothing"
    for r in others:
        assert r.parent == comp.urn, f"{r.urn}: parent is {r.parent!r}, not the component"
        assert r.name.startswith(f"{name}-"), f"{r.urn}: name not derived from {name!r}"
        assert r.provider == ref, f"{r.urn}: provider {r.provider!r} is not the component's"
    assert comp.urn in s.outputs, f"{comp.urn}: register_outputs was not called"
    for inv in s.invokes:
        assert inv.provider == ref, f"invoke {inv.token} does not use the component's provider"
    return comp, others
