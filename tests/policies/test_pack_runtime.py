"""policies/pack_runtime.py: the SDK's servicer, faster, and not one byte of an answer different.

Every comparison runs the same requests through the plain SDK servicer (`uninstall()`) and the
installed runtime and compares the serialised responses: every diagnostic, its order, its
message, its level. The requests are the pack's whole test corpus and the prod stack as
preflight synthesizes it and sends it.
"""

from __future__ import annotations

import gc
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


def test_the_stack_request_read_once_carries_every_field_the_sdk_reads(
    prod_records: list[ResourceRecord],
) -> None:
    message = _prod_requests(prod_records)[-1]
    shim = pack_runtime._StackRequest(message)
    assert len(shim.resources) == len(message.resources) == len(prod_records)
    for r, m in zip(shim.resources, message.resources, strict=True):
        assert (r.type, r.urn, r.name, r.parent) == (m.type, m.urn, m.name, m.parent)
        assert r.properties is m.properties and r.options is m.options
        assert r.HasField("provider") == m.HasField("provider")
        assert r.dependencies == list(m.dependencies)
        assert {k: v.urns for k, v in r.propertyDependencies.items()} == {
            k: list(v.urns) for k, v in m.propertyDependencies.items()
        }
    assert any(r.dependencies for r in shim.resources) and any(r.propertyDependencies for r in shim.resources)
