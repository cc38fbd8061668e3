"""policies/pack_runtime.py: the SDK's servicer, faster, and not one byte of an answer different.

Every comparison runs the same requests through the plain SDK servicer (`uninstall()`) and the
installed runtime and compares the serialised responses: every diagnostic, its order, its
message, its level. The requests are the pack's whole test corpus and the prod stack as
preflight synthesizes it and sends it.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pack_runtime
import pytest
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

from preflight.analyze import analyze_request, stack_request
from preflight.model import ResourceRecord
from preflight.synth import synthesize
from tests.policies import harness
from tests.policies.cases import ALL
from tests.policies.harness import InProcessPack
from tests.policies.run_cases import case_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def plain() -> Iterator[None]:
    pack_runtime.uninstall()
    yield
    pack_runtime.uninstall()


def _answers(pack: InProcessPack, run: list[tuple[dict[str, Any], list[Any]]]) -> list[bytes]:
    """Configure each config, send its requests, and collect every serialised response."""
    out = []
    for config, requests in run:
        pack.configure(config)
        for request in requests:
            method = (
                pack.servicer.AnalyzeStack
                if isinstance(request, analyzer_pb2.AnalyzeStackRequest)
                else (pack.servicer.Analyze)
            )
            out.append(method(request, None).SerializeToString(deterministic=True))
    return out


def _corpus(pack: InProcessPack, props: dict[str, Any]) -> list[tuple[dict[str, Any], list[Any]]]:
    run = []
    for case in ALL:
        requests: list[Any] = (
            [harness.stack_request(case.resources)]
            if case.stack
            else [harness.analyze_request(r) for r in case.resources]
        )
        run.append((case_config(case, props, pack.names), requests))
    return run


def _prod_requests(records: list[ResourceRecord]) -> list[Any]:
    """What preflight's AnalysisSession sends for the prod stack: every Analyze, then AnalyzeStack."""
    providers = {f"{r.urn}::{r.id}": r for r in records if r.type.startswith("pulumi:providers:") and r.id}
    return [*(analyze_request(r, providers) for r in records), stack_request(records, providers)]


@pytest.fixture(scope="module")
def prod_records() -> list[ResourceRecord]:
    return synthesize(ROOT, "prod").resources


def test_runtime_answers_the_test_corpus_byte_for_byte_like_the_sdk(
    plain: None, pack: InProcessPack, prod_properties: dict[str, Any], clean_stack_config: None
) -> None:
    run = _corpus(pack, prod_properties)
    before = _answers(pack, run)
    assert pack_runtime.install()
    after = _answers(pack, run)
    assert after == before
    findings = sum(len(analyzer_pb2.AnalyzeResponse.FromString(b).diagnostics) for b in after)
    assert findings > 50, "the corpus must produce findings for the comparison to mean anything"


def test_runtime_answers_the_prod_stack_byte_for_byte_like_the_sdk(
    plain: None,
    pack: InProcessPack,
    prod_properties: dict[str, Any],
    prod_records: list[ResourceRecord],
    clean_stack_config: None,
) -> None:
    config = {name: dict(prod_properties) for name in pack.names}
    run = [(config, _prod_requests(prod_records))]
    before = _answers(pack, run)
    assert pack_runtime.install()
    after = _answers(pack, run)
    assert after == before
    assert len(after) == len(prod_records) + 1
    policies = {d.policyName for b in after for d in analyzer_pb2.AnalyzeResponse.FromString(b).diagnostics}
    assert "residency-waived" in policies, (
        "prod's waived legacy site must show in the answers for the comparison to mean anything"
    )


def test_one_analyze_parses_the_request_once_not_once_per_policy(
    plain: None, pack: InProcessPack, prod_properties: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = json_format.MessageToDict

    def counting(message: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(id(message))
        return real(message, *args, **kwargs)

    monkeypatch.setattr(json_format, "MessageToDict", counting)
    case = next(c for c in ALL if not c.stack and c.resources[0].provider is not None)
    pack.configure({})

    pack.analyze(case.resources[0])
    unmemoised = len(calls)
    calls.clear()
    assert pack_runtime.install()  # wraps the (counting) MessageToDict that is now in place
    pack.analyze(case.resources[0])
    assert len(calls) == len(set(calls)), "a message was converted more than once in one call"
    assert len(calls) * 10 <= unmemoised, (len(calls), unmemoised)


def test_policies_that_cannot_apply_to_a_type_are_not_called(
    plain: None, pack: InProcessPack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi_policy import ResourceValidationPolicy

    called: list[str] = []
    real = ResourceValidationPolicy.validate

    def counting(self: Any, args: Any, report: Any) -> Any:
        called.append(self.name)
        return real(self, args, report)

    monkeypatch.setattr(ResourceValidationPolicy, "validate", counting)
    pack.configure({})
    case = next(c for c in ALL if not c.stack and c.resources[0].type == "oci:Kms/key:Key")
    assert pack_runtime.install()
    pack.analyze(case.resources[0])
    declared = [p for p in pack.policies if getattr(p, pack_runtime.APPLIES_TO, None) is not None]
    assert declared, "the pack's resource policies declare their types"
    expected = {p.name for p in declared if getattr(p, pack_runtime.APPLIES_TO)("oci:Kms/key:Key")}
    assert set(called) == expected
    assert "bucket-cmk" not in called


def test_the_collector_is_paused_during_a_call_and_resumed_after(
    plain: None, pack: InProcessPack, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack.configure({})
    case = next(c for c in ALL if not c.stack)
    seen: list[bool] = []
    real = pack_runtime.remember

    def spy(fn_key: object, anchor: object, compute: Any) -> Any:
        seen.append(gc.isenabled())
        return real(fn_key, anchor, compute)

    monkeypatch.setattr(pack_runtime, "remember", spy)
    assert pack_runtime.install()
    assert gc.isenabled()
    pack.analyze(case.resources[0])
    assert seen and not any(seen), "the collector ran during the call"
    assert gc.isenabled(), "the collector was not resumed"


def test_concurrent_calls_resume_the_collector_only_when_the_last_one_ends(plain: None) -> None:
    pause = pack_runtime._CollectorPause()
    first_inside, release_first = threading.Event(), threading.Event()

    def first() -> None:
        with pause:
            first_inside.set()
            release_first.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_inside.wait(5)
    with pause:
        assert not gc.isenabled()
    assert not gc.isenabled(), "the second call's end resumed the collector under the first"
    release_first.set()
    thread.join(5)
    assert gc.isenabled()


def test_install_is_idempotent_reversible_and_verified_against_the_locked_sdk(
    plain: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi_policy import policy as sdk
    from pulumi_policy import version

    original = sdk._PolicyAnalyzerServicer.Analyze
    assert version.VERSION == pack_runtime.VERIFIED_SDK, (
        "pulumi-policy changed: check pack_runtime against the new servicer, then update VERIFIED_SDK"
    )
    original_futures = sdk.futures
    assert pack_runtime.install() and pack_runtime.install()
    assert sdk._PolicyAnalyzerServicer.Analyze is not original
    # The server the SDK builds (PolicyPack.__init__: ThreadPoolExecutor(max_workers=4)) gets one
    # worker; the rest of concurrent.futures is the real module's.
    pool = sdk.futures.ThreadPoolExecutor(max_workers=4)
    assert pool._max_workers == 1
    pool.shutdown()
    assert sdk.futures.Future is original_futures.Future
    pack_runtime.uninstall()
    assert sdk._PolicyAnalyzerServicer.Analyze is original
    assert sdk.futures is original_futures

    monkeypatch.setattr(version, "VERSION", "9.9.9")
    assert not pack_runtime.install(), "an SDK it was not verified against must run unchanged"
    assert sdk._PolicyAnalyzerServicer.Analyze is original


def _seen(args: Any, report: Any) -> None:
    """A stack policy that reports everything the SDK hands it: identity-sensitive wiring too."""
    for r in args.resources:
        props = r.props["__target"]
        report(
            json.dumps(
                {
                    "type": r.resource_type,
                    "name": r.name,
                    "parent": r.parent.urn if r.parent is not None else None,
                    "parent_is_listed": any(r.parent is x for x in args.resources),
                    "deps": [d.urn for d in r.dependencies],
                    "prop_deps": {k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
                    "protect": r.opts.protect,
                    "provider": r.provider.urn if r.provider is not None else None,
                    "props": sorted(props),
                },
                sort_keys=True,
            ),
            r.urn,
        )


def _reads_unknown(args: Any, report: Any) -> None:
    for r in args.resources:
        if "computed" in r.props["__target"]:
            report(str(r.props["computed"]), r.urn)  # unknown in preview: the SDK's advisory note


def _not_applicable(args: Any, report: Any) -> None:
    args.not_applicable("nothing to judge")


def _adversarial_stack() -> Any:
    """Wiring the fast path could get wrong: a parent and dependencies outside the request, a
    duplicate URN (the SDK keeps the later), property dependencies with a dangling URN, an
    unknown value, a provider and protect."""
    from google.protobuf import struct_pb2

    def res(
        urn: str, *, parent: str = "", deps: tuple[str, ...] = (), prop_deps: Any = None, **props: Any
    ) -> Any:
        properties = struct_pb2.Struct()
        properties.update(props)
        msg = analyzer_pb2.AnalyzerResource(
            type="test:index:Thing",
            name=urn.rsplit("::", 1)[-1],
            urn=urn,
            properties=properties,
            options=analyzer_pb2.AnalyzerResourceOptions(protect=urn.endswith("b")),
            parent=parent,
            dependencies=list(deps),
            propertyDependencies={
                k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                for k, v in (prop_deps or {}).items()
            },
        )
        if urn.endswith("c"):
            msg.provider.CopyFrom(
                analyzer_pb2.AnalyzerProviderResource(
                    type="pulumi:providers:test",
                    urn="urn:pulumi:s::p::pulumi:providers:test::prov",
                    name="prov",
                )
            )
        return msg

    u = "urn:pulumi:s::p::test:index:Thing::"
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown sentinel
    resources = [
        res(u + "a", x=1),
        res(u + "b", parent=u + "a", deps=(u + "a", u + "gone"), prop_deps={"x": (u + "a", u + "gone")}, x=2),
        res(u + "c", parent=u + "nowhere", deps=(u + "b",), computed=unknown),
        res(u + "a", y="the later one wins"),
        res(u + "d", parent=u + "c", prop_deps={"y": ()}, computed="known"),
    ]
    return analyzer_pb2.AnalyzeStackRequest(resources=resources)


def test_the_stack_fast_path_answers_adversarial_stacks_like_the_sdk(plain: None) -> None:
    """`_analyze_stack` builds the resources once; the SDK builds them per policy. Same answers,
    byte for byte, on wiring and levels chosen to tell the two apart."""
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    policies = [
        StackValidationPolicy("seen", "what the policy sees", validate=_seen),
        StackValidationPolicy("seen-again", "the same, second: sharing must not leak", validate=_seen),
        StackValidationPolicy("reads-unknown", "reads an unknown", validate=_reads_unknown),
        StackValidationPolicy("not-applicable", "not applicable", validate=_not_applicable),
        StackValidationPolicy(
            "disabled", "disabled", validate=_seen, enforcement_level=EnforcementLevel.DISABLED
        ),
        StackValidationPolicy(
            "remediate", "remediate", validate=_seen, enforcement_level=EnforcementLevel.REMEDIATE
        ),
        ResourceValidationPolicy("resource", "a resource policy", validate=lambda args, report: report("no")),
    ]
    servicer = _PolicyAnalyzerServicer("adversarial", "0.0.1", policies, EnforcementLevel.ADVISORY)
    request = _adversarial_stack()
    before = servicer.AnalyzeStack(request, None).SerializeToString(deterministic=True)
    assert pack_runtime.install()
    after = servicer.AnalyzeStack(request, None).SerializeToString(deterministic=True)
    assert after == before
    response = analyzer_pb2.AnalyzeResponse.FromString(after)
    names = [d.policyName for d in response.diagnostics]
    assert names.count("seen") == names.count("seen-again") == names.count("remediate") == 5
    assert "disabled" not in names and "resource" not in names
    assert any("during preview" in d.message for d in response.diagnostics if d.policyName == "reads-unknown")
    assert [n.policy_name for n in response.not_applicable] == ["not-applicable"]
    wired = [d.message for d in response.diagnostics if d.policyName == "seen"]
    assert any('"deps": ["' + _URN_A + '"]' in m for m in wired), "a dangling dependency must be dropped"


_URN_A = "urn:pulumi:s::p::test:index:Thing::a"
