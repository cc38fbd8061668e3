"""synth: the real program under a recording monitor, engine-style records, errors as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight.engine.result import canonical_order
from preflight.errors import BadInput, InternalFailure
from preflight.synth import SynthResult, make_urn, synthesize, synthesize_isolated

FIXTURES = Path(__file__).parent / "fixtures"
BASIC = FIXTURES / "basic"
STACK = "urn:pulumi:dev::fixture-basic::pulumi:pulumi:Stack::fixture-basic-dev"
COMP = "urn:pulumi:dev::fixture-basic::fixture:storage:RegionalStore::store-us-phoenix-1"
CHILD_BUCKET = (
    "urn:pulumi:dev::fixture-basic::fixture:storage:RegionalStore$oci:ObjectStorage/bucket:Bucket"
    "::store-us-phoenix-1-bucket"
)


@pytest.fixture(scope="module")
def basic() -> SynthResult:
    return synthesize(BASIC, "dev")


def test_urns_follow_the_engine_rule() -> None:
    assert make_urn("s", "p", "", "pulumi:pulumi:Stack", "p-s") == "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"
    stack = "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"
    top = make_urn("s", "p", stack, "a:b:C", "c")
    assert top == "urn:pulumi:s::p::a:b:C::c", "children of the stack do not carry the stack type"
    child = make_urn("s", "p", top, "d:e:F", "f")
    grandchild = make_urn("s", "p", child, "g:h:I", "i")
    assert grandchild == "urn:pulumi:s::p::a:b:C$d:e:F$g:h:I::i", "the whole parent chain is kept"


def test_records_parents_providers_regions_and_protect(basic: SynthResult) -> None:
    by = basic.by_urn()
    assert basic.resources[0].urn == STACK and basic.resources[0].parent is None
    assert basic.stack_urn == STACK
    assert by[COMP].parent == STACK and not by[COMP].custom
    bucket = by[CHILD_BUCKET]
    assert bucket.parent == COMP, bucket.parent
    assert bucket.region == "us-phoenix-1" and bucket.region_source == "provider", CHILD_BUCKET
    assert bucket.protect is True
    provider_urn = bucket.provider.split("::")[0:4] if bucket.provider else []
    assert "::".join(provider_urn).endswith("pulumi:providers:oci::store-us-phoenix-1-provider")
    home = by["urn:pulumi:dev::fixture-basic::oci:ObjectStorage/bucket:Bucket::home"]
    assert home.region == "us-ashburn-1" and home.region_source == "stack-config"
    assert home.provider and "pulumi:providers:oci::default_" in home.provider
    assert home.id and home.id.startswith("ocid1.bucket.oc1.us-ashburn-1."), home.id
    legacy = by["urn:pulumi:dev::fixture-basic::aws:s3/bucket:Bucket::legacy"]
    assert legacy.region == "us-east-1" and legacy.inputs["tags"] == {"sunset": "2027-09-30"}, (
        "YAML dates stay text, as the engine passes them"
    )
    assert all(r.parent for r in basic.resources[1:]), "only the stack has no parent"


def test_locations_point_at_the_declaring_line(basic: SynthResult) -> None:
    by = basic.by_urn()
    assert by[CHILD_BUCKET].location == "app/storage.py:17"
    assert by[COMP].location == "__main__.py:12"
    provider = next(r for r in basic.resources if r.name == "store-us-phoenix-1-provider")
    assert provider.location == "app/storage.py:14", "not a line inside the provider SDK"


def test_secrets_are_masked_everywhere(basic: SynthResult) -> None:
    text = json.dumps(basic.to_dict())
    assert "v1:AAAA" not in text
    assert basic.outputs["apiKey"] == "[secret]"
    home = basic.by_urn()["urn:pulumi:dev::fixture-basic::oci:ObjectStorage/bucket:Bucket::home"]
    assert home.inputs["freeformTags"] == {"token": "[secret]"}


def test_deterministic_and_repeatable_in_one_process(basic: SynthResult) -> None:
    again = synthesize(BASIC, "dev")
    assert again.to_dict()["resources"] == basic.to_dict()["resources"]
    assert SynthResult.from_dict(json.loads(json.dumps(basic.to_dict()))).to_dict() == basic.to_dict()


@pytest.mark.slow
def test_isolated_synth_matches(basic: SynthResult) -> None:
    isolated = synthesize_isolated(BASIC, "dev")
    assert [r.to_dict() for r in isolated.resources] == [r.to_dict() for r in basic.resources]


@pytest.mark.slow
def test_isolated_synth_streams_every_record_in_order_then_the_later_outputs(basic: SynthResult) -> None:
    seen: list[tuple[str, dict[str, object]]] = []
    isolated = synthesize_isolated(BASIC, "dev", on_resource=lambda r: seen.append((r.urn, dict(r.outputs))))
    streamed = [urn for urn, _ in seen]
    assert sorted(streamed) == sorted(r.urn for r in basic.resources)
    by = isolated.by_urn()
    assert all(streamed.index(by[u].parent or u) <= streamed.index(u) for u in streamed), "parents first"
    # The result's order is the canonical one, whatever order the records streamed in.
    assert [r.urn for r in isolated.resources] == [r.urn for r in basic.resources]
    reordered = canonical_order(by[u] for u in reversed(streamed))
    assert [r.urn for r in reordered] == [r.urn for r in basic.resources]
    assert dict(seen)[COMP] == {}, "a component has no outputs when it registers"
    assert isolated.by_urn()[COMP].outputs == basic.by_urn()[COMP].outputs != {}, (
        "outputs a component registers later must arrive with the result"
    )
    assert isolated.outputs == basic.outputs and isolated.stack_urn == basic.stack_urn


@pytest.mark.slow
def test_isolated_synth_stops_when_the_consumer_fails() -> None:
    seen: list[str] = []

    def consumer(record: object) -> None:
        seen.append(getattr(record, "urn", ""))
        if len(seen) == 2:
            raise InternalFailure("policy pack us-data-residency exited with code 1")

    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(BASIC, "dev", on_resource=consumer)
    assert err.value.message == "policy pack us-data-residency exited with code 1"
    assert len(seen) == 2, "no record may be handed on after the consumer failed"

    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(BASIC, "dev", on_resource=lambda r: 1 / 0)
    assert err.value.message.startswith("while streaming urn:pulumi:dev::fixture-basic::")
    assert "ZeroDivisionError" in err.value.message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "error", "expected"),
    [
        (
            "raises",
            InternalFailure,
            "program error: __main__.py:10: ValueError: capacity 5 exceeds the limit of 2",
        ),
        ("runerror", BadInput, "must be at least 1; "),
    ],
)
def test_isolated_synth_reports_the_childs_error_as_one_line(
    fixture: str, error: type[Exception], expected: str
) -> None:
    with pytest.raises(error) as err:
        synthesize_isolated(FIXTURES / fixture, "dev", on_resource=lambda r: None)
    message = getattr(err.value, "message", "")
    assert expected in message and "\n" not in message


@pytest.mark.slow
def test_isolated_synth_times_out_as_an_internal_failure() -> None:
    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(BASIC, "dev", timeout=0.01)
    assert "took longer than 0.01s" in err.value.message


def test_the_collector_is_paused_while_the_program_runs_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import preflight.engine.run as synth_module

    states: list[bool] = []
    real = synth_module._run_program

    def spy(*args: object, **kwargs: object) -> None:
        states.append(gc.isenabled())
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(synth_module, "_run_program", spy)
    assert gc.isenabled()
    synthesize(BASIC, "dev")
    assert states == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        synthesize(BASIC, "dev")
        assert not gc.isenabled(), "a caller's disabled collector stays disabled"
    finally:
        gc.enable()


def test_program_error_names_its_line() -> None:
    with pytest.raises(InternalFailure) as err:
        synthesize(FIXTURES / "raises", "dev")
    assert err.value.message == "program error: __main__.py:10: ValueError: capacity 5 exceeds the limit of 2"


def test_run_error_is_bad_input_on_one_line() -> None:
    with pytest.raises(BadInput) as err:
        synthesize(FIXTURES / "runerror", "dev")
    assert "\n" not in err.value.message and "must be at least 1; " in err.value.message


@pytest.mark.parametrize(
    ("where", "stack", "expected"),
    [
        (FIXTURES, "dev", "not a Pulumi project"),
        (BASIC, "missing", "Pulumi.missing.yaml: no such stack file"),
    ],
)
def test_bad_input(where: Path, stack: str, expected: str) -> None:
    with pytest.raises(BadInput) as err:
        synthesize(where, stack)
    assert expected in err.value.message


def test_modules_of_one_project_do_not_leak_into_the_next(basic: SynthResult) -> None:
    clash = synthesize(FIXTURES / "clash", "dev")
    assert [r.type for r in clash.resources if r.custom and not r.type.startswith("pulumi:")] == [
        "aws:s3/bucket:Bucket"
    ]
    again = synthesize(BASIC, "dev")
    assert len(again.resources) == len(basic.resources)


def test_disabled_default_providers_are_enforced_like_the_engine() -> None:
    with pytest.raises(InternalFailure) as err:
        synthesize(FIXTURES / "nodefaults", "dev")
    assert err.value.message.startswith("program error: __main__.py:5: ")
    assert "pulumi:disable-default-providers" in err.value.message


def test_streaming_callback_sees_every_record_as_it_registers(basic: SynthResult) -> None:
    seen: list[str] = []
    result = synthesize(BASIC, "dev", on_resource=lambda r: seen.append(r.urn))
    assert sorted(seen) == sorted(r.urn for r in result.resources) and len(seen) == len(result.resources)
    by = result.by_urn()
    assert all(seen.index(by[u].parent or u) <= seen.index(u) for u in seen), "in registration order"
    assert [r.urn for r in result.resources] == [r.urn for r in canonical_order(by[u] for u in seen)]


def test_a_failing_consumer_stops_synthesis() -> None:
    def boom(_: object) -> None:
        raise RuntimeError("queue full")

    with pytest.raises(InternalFailure) as err:
        synthesize(BASIC, "dev", on_resource=boom)
    assert "queue full" in err.value.message


def test_the_programs_own_packages_win_over_already_imported_ones() -> None:
    import sys

    import stacks.settings  # this repository's `stacks`, as the test session already has it

    result = synthesize(FIXTURES / "shadow", "dev")
    assert "from-the-fixture" in [r.name for r in result.resources]
    assert sys.modules["stacks.settings"] is stacks.settings, "the host's modules are put back"
    assert "stacks.marker" not in sys.modules


def test_aliases_are_recorded_as_urns(tmp_path: Path) -> None:
    """A rename with `aliases` must reach `preflight diff` as the old URN, or it looks like a replace."""
    (tmp_path / "Pulumi.yaml").write_text("name: aliased\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  oci:region: us-ashburn-1\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "import pulumi_oci as oci\n"
        "oci.objectstorage.Bucket('renamed', compartment_id='c', name='b', namespace='n',\n"
        "    opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name='original')]))\n"
    )
    result = synthesize(tmp_path, "dev")
    (bucket,) = [r for r in result.resources if r.name == "renamed"]
    assert bucket.options.get("aliases") == [
        "urn:pulumi:dev::aliased::oci:ObjectStorage/bucket:Bucket::original"
    ], bucket.options
