"""analyze: fixture packs started as the CLI starts them, over the Analyzer protocol; fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.analyze import AnalysisResult, AnalysisSession, analyze, pack_content_hash
from preflight.errors import BadInput, InternalFailure
from preflight.model import ResourceRecord
from preflight.synth import SynthResult, synthesize

FIXTURES = Path(__file__).parent / "fixtures"
PACKS = FIXTURES / "packs"
SG_BUCKET = "store-ap-singapore-1-bucket"

pytestmark = pytest.mark.slow  # every test here starts a policy pack process


@pytest.fixture(scope="module")
def basic() -> SynthResult:
    return synthesize(FIXTURES / "basic", "dev")


def _run(
    basic: SynthResult, pack: str, config: dict[str, object] | None = None, timeout: float = 30
) -> AnalysisResult:
    return analyze(
        basic.resources,
        pack_dir=PACKS / pack,
        config=config,
        timeout=timeout,
        stack="dev",
        project=basic.project,
    )


def test_a_violation_is_a_mandatory_finding_on_the_declaring_line(basic: SynthResult) -> None:
    result = _run(basic, "good")
    assert (result.pack_name, result.pack_version) == ("fixture-pack", "1.2.3"), (
        "version from PulumiPolicy.yaml"
    )
    assert result.pack_hash == pack_content_hash(PACKS / "good")
    assert result.resources_analyzed == len(basic.resources)
    blocking = [f for f in result.findings if f.blocking]
    assert [(f.policy, f.name) for f in blocking] == [("bucket-us-only", SG_BUCKET)]
    f = blocking[0]
    assert f.source == "fixture-pack" and f.severity == "critical" and f.region == "ap-singapore-1"
    assert f.location == "app/storage.py:17"
    assert f.message.startswith(f"bucket {SG_BUCKET} is in ap-singapore-1"), "description prefix stripped"
    advisory = {(f.policy, f.name) for f in result.findings if f.enforcement == "advisory"}
    assert ("bucket-tagged", SG_BUCKET) in advisory and ("bucket-protected", "home") in advisory
    waived = {f.name: f.waiver for f in result.findings if f.waiver}
    assert waived == {"home": "unprotected-home", "legacy": "unprotected-legacy"}, (
        "stack policy, parsed waiver"
    )
    names = {p["name"]: p for p in result.policies}
    assert (
        names["bucket-us-only"]["enforcement"] == "mandatory" and names["bucket-protected"]["type"] == "stack"
    )


def test_policy_config_is_reconciled_like_the_cli(basic: SynthResult) -> None:
    # Only phoenix allowed: the ashburn and us-east-1 buckets now fail too; levels are kept.
    result = _run(basic, "good", {"bucket-us-only": {"allowed": ["us-phoenix-1"]}})
    assert sorted(f.name for f in result.findings if f.blocking) == ["home", "legacy", SG_BUCKET]
    # A level for all policies, then one override.
    result = _run(basic, "good", {"all": "advisory", "bucket-tagged": "disabled"})
    assert not [f for f in result.findings if f.blocking]
    assert not [f for f in result.findings if f.policy == "bucket-tagged"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"no-such-policy": "advisory"}, "no-such-policy: no such policy in pack fixture-pack"),
        ({"bucket-tagged": "loud"}, "'loud' is not advisory, mandatory, remediate or disabled"),
        ({"bucket-us-only": {"alowed": []}}, "bucket-us-only.alowed: not in the policy's config schema"),
    ],
)
def test_bad_policy_config_is_bad_input(basic: SynthResult, config: dict[str, object], expected: str) -> None:
    with pytest.raises(BadInput) as err:
        _run(basic, "good", config)
    assert expected in err.value.message


def test_streaming_gives_the_same_findings(basic: SynthResult) -> None:
    with AnalysisSession(
        PACKS / "good", config=None, timeout=30, stack="dev", project="fixture-basic"
    ) as session:
        streamed = synthesize(FIXTURES / "basic", "dev", on_resource=session.submit)
        result = session.finish(streamed.resources)
    assert [f.to_dict() for f in result.findings] == [f.to_dict() for f in _run(basic, "good").findings]


@pytest.mark.parametrize(
    ("pack", "timeout", "expected"),
    [
        (
            "crash",
            30,
            "policy pack crash exited before it started (exit code 1): RuntimeError: pack failed to load",
        ),
        ("hang", 2, "policy pack hanging-pack did not answer Analyze for urn:pulumi:dev::fixture-basic::"),
        # which resource is judged first follows the canonical record order (preflight/engine/result.py)
        ("raises", 30, "policy pack raising-pack failed in Analyze for urn:pulumi:dev::fixture-basic::"),
        ("garbage", 30, "policy pack garbage printed 'hello from the pack' instead of its port"),
    ],
)
def test_a_broken_pack_is_an_internal_failure(
    basic: SynthResult, pack: str, timeout: float, expected: str
) -> None:
    with pytest.raises(InternalFailure) as err:
        _run(basic, pack, timeout=timeout)
    assert err.value.message.startswith(expected), err.value.message
    assert "\n" not in err.value.message


def test_a_missing_pack_is_bad_input(basic: SynthResult, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such directory"):
        _run(basic, "does-not-exist")
    with pytest.raises(BadInput, match="not a policy pack"):
        analyze(basic.resources, pack_dir=tmp_path, config=None, timeout=5, stack="dev", project="p")


def test_what_cannot_be_checked_does_not_pass(basic: SynthResult) -> None:
    """An unknown value makes the SDK answer "can't run policy"; preflight makes that blocking."""
    records = [r for r in basic.resources if r.name == "home" or r.urn == basic.stack_urn]
    provider = next(
        r for r in basic.resources if r.type == "pulumi:providers:oci" and r.name.startswith("default")
    )
    unknown = ResourceRecord(**{**provider.to_dict(), "inputs": {"region": "[unknown]"}})
    result = analyze(
        [records[0], unknown, records[1]],
        pack_dir=PACKS / "good",
        config=None,
        timeout=30,
        stack="dev",
        project=basic.project,
    )
    blocked = [f for f in result.findings if f.blocking]
    assert [f.name for f in blocked] == ["home"]
    assert blocked[0].message.startswith("could not be checked: can't run policy 'bucket-us-only'")


def test_a_hung_pack_costs_one_timeout_not_two(basic: SynthResult) -> None:
    """Issue 15 item 5: with more resources than calls in flight, the dispatcher used to wait for
    a slot, get one when the first calls timed out, and send the next call with a fresh timeout
    (2x --timeout for a CI job). After the first failed call nothing more is sent and the calls
    still in flight are cancelled."""
    import dataclasses
    import time

    records = [dataclasses.replace(r, urn=f"{r.urn}-{i}") for i in range(6) for r in basic.resources]
    timeout = 3.0
    started = time.perf_counter()
    with (
        pytest.raises(InternalFailure, match="did not answer Analyze"),
        AnalysisSession(
            PACKS / "hang", config=None, timeout=timeout, stack="dev", project=basic.project, max_in_flight=4
        ) as session,
    ):
        session.wait_ready()
        began = time.perf_counter()
        for r in records:
            session.submit(r)
        session.finish(records)
    elapsed = time.perf_counter() - began
    assert elapsed < timeout * 1.5, f"a hung pack cost {elapsed:.1f}s with --timeout {timeout:g}"
    assert time.perf_counter() - started < timeout * 1.5 + 15


def test_starting_is_not_held_to_one_calls_timeout(basic: SynthResult) -> None:
    """A pack that needs longer to start than --timeout allows one call (importing pulumi, grpc
    and the policies on a busy runner) still starts and judges: the start has its own budget,
    the longer of --timeout and START_TIMEOUT."""
    slow = _run(basic, "slowstart", timeout=1.0)
    assert [f.to_dict() for f in slow.findings] == [f.to_dict() for f in _run(basic, "good").findings]


def test_a_pack_that_never_prints_its_port_is_ended_after_the_start_budget(
    basic: SynthResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    import preflight.analyze as analyze_module

    monkeypatch.setattr(analyze_module, "START_TIMEOUT", 1.5)
    with pytest.raises(InternalFailure) as err:
        _run(basic, "silent", timeout=0.5)
    assert err.value.message == "policy pack silent did not print its port within 1.5s"
