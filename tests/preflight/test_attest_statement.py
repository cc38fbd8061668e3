"""The residency attestation as an in-toto Statement v1 (issue 14, item 1): its subjects, its
predicate against the schema published in docs/, and the same bytes for the same inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from preflight import attest
from preflight.analyze import pack_content_hash
from preflight.attest_sign import statement_problems
from preflight.inventory import build_inventory
from preflight.model import Finding
from preflight.synth import SynthResult, synthesize
from tests.preflight.attest_helpers import waived_finding

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
DOCS_SCHEMA = ROOT / "docs" / "attestation" / "residency-predicate-v1.schema.json"
PACK = FIXTURES / "packs" / "good"


@pytest.fixture(scope="module")
def synth() -> SynthResult:
    return synthesize(FIXTURES / "basic", "dev")


def predicate_of(synth: SynthResult, findings: list[Finding] | None = None) -> dict[str, Any]:
    found = findings or []
    return attest.build_predicate(
        project=synth.project,
        stack=synth.stack,
        project_dir=FIXTURES / "basic",
        inventory=build_inventory(synth.resources, synth.outputs, found),
        verdict=attest.verdict_of(found),
        pack={"name": "fixture-pack", "version": "1.2.3", "sha256": pack_content_hash(PACK)},
        checkov="skipped (--no-checkov)",
        tool_version="0.1.0",
        policies=[
            {"name": "bucket-us-only", "enforcement": "disabled"},
            {"name": "x", "enforcement": "mandatory"},
        ],
        program_ended="completed",
    )


def subjects_of(project: Path, commit: str = "a" * 40) -> list[dict[str, Any]]:
    config = project / "policy-config.json"
    config.write_text('{"all": "mandatory"}\n')
    return attest.plan_subjects(
        project_dir=project,
        commit=commit,
        stack_file=project / "Pulumi.dev.yaml",
        pack_dir=project / "policies",
        pack_hash=pack_content_hash(project / "policies"),
        policy_config=config,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "basic", tmp_path / "basic")
    shutil.copytree(PACK, tmp_path / "basic" / "policies")
    return tmp_path / "basic"


def test_statement_shape_and_subjects(
    synth: SynthResult, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795910400")  # 2026-11-29
    doc = json.loads(attest.statement(predicate_of(synth), subjects_of(project)))
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["predicateType"] == attest.PREDICATE_TYPE
    assert set(doc) == {"_type", "subject", "predicateType", "predicate"}
    names = {s["name"]: s["digest"] for s in doc["subject"]}
    assert names["git-commit"] == {"gitCommit": "a" * 40}
    assert names["stack-file:Pulumi.dev.yaml"] == {"sha256": attest.sha256_file(project / "Pulumi.dev.yaml")}
    assert names["policy-pack:policies"] == {"sha256": pack_content_hash(project / "policies")[7:]}
    assert names["policy-config:policy-config.json"]["sha256"] == attest.sha256_file(
        project / "policy-config.json"
    )
    p = doc["predicate"]
    assert p["source"] == {"kind": "plan"} and p["as_of"] == "2026-11-29" and p["stack"] == "dev"
    assert p["policies"] == {"total": 2, "disabled_count": 1, "disabled": ["bucket-us-only"]}
    assert p["program_ended"] == "completed" and p["verdict"]["passed"] is True
    data = {d["name"]: d for d in p["data_resources"]}
    sg = data["store-ap-singapore-1-data"]
    assert (sg["region"], sg["realm"], sg["jurisdiction"]) == ("ap-singapore-1", "oc1", "SG")
    assert data["legacy-backups"]["kind"] == "s3-bucket"
    assert {"replication_edges", "legacy_replicas", "waivers_used"} <= set(p)


def test_statement_is_byte_for_byte_deterministic(
    synth: SynthResult, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795910400")
    subjects = subjects_of(project)
    first = attest.statement(predicate_of(synth), subjects)
    again = synthesize(FIXTURES / "basic", "dev")
    assert attest.statement(predicate_of(again), list(reversed(subjects))) == first
    assert first == attest.canonical(json.loads(first)), "canonical JSON: sorted keys, no whitespace"
    assert attest.statement({**predicate_of(synth), "stack": "other"}, subjects) != first
    (project / "Pulumi.dev.yaml").write_text((project / "Pulumi.dev.yaml").read_text() + "# edited\n")
    assert attest.statement(predicate_of(synth), subjects_of(project)) != first, "the stack file's digest"


def test_no_commit_outside_git_and_no_empty_subject(synth: SynthResult, project: Path) -> None:
    names = [s["name"] for s in subjects_of(project, commit="unknown")]
    assert "git-commit" not in names and "stack-file:Pulumi.dev.yaml" in names
    with pytest.raises(ValueError):
        attest.statement(predicate_of(synth), [])


def test_the_statement_validates_against_the_published_schema(synth: SynthResult, project: Path) -> None:
    schema = json.loads(DOCS_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert DOCS_SCHEMA.read_bytes() == attest.PREDICATE_SCHEMA.read_bytes(), (
        "docs/ and preflight ship one schema"
    )
    legacy = synth.by_urn()["urn:pulumi:dev::fixture-basic::aws:s3/bucket:Bucket::legacy"]
    waived = waived_finding(legacy)
    doc = json.loads(attest.statement(predicate_of(synth, [waived]), subjects_of(project)))
    assert doc["predicate"]["waivers_used"], "the waiver is in the statement"
    jsonschema.validate(doc["predicate"], schema)
    assert statement_problems(doc) == []


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda p: p["data_resources"][0].update(region=7), "data_resources/0/region"),
        (lambda p: p["data_resources"][0].pop("key_region"), "data_resources/0"),
        (lambda p: p.update(verdict={"passed": "yes"}), "verdict"),
        (lambda p: p.update(extra=1), "(root)"),
        (lambda p: p["git"].update(commit="HEAD"), "git/commit"),
        (lambda p: p.update(source={"kind": "guess"}), "source"),
    ],
)
def test_the_schema_refuses_what_it_does_not_describe(
    synth: SynthResult, project: Path, edit: Any, where: str
) -> None:
    doc = json.loads(attest.statement(predicate_of(synth), subjects_of(project)))
    edit(doc["predicate"])
    problems = statement_problems(doc)
    assert problems and any(p.startswith(f"predicate/{where}") for p in problems), problems
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc["predicate"], json.loads(DOCS_SCHEMA.read_text()))


def test_statement_fields_are_checked(synth: SynthResult, project: Path) -> None:
    doc = json.loads(attest.statement(predicate_of(synth), subjects_of(project)))
    assert statement_problems({**doc, "_type": "https://in-toto.io/Statement/v0.1"})
    assert statement_problems({**doc, "predicateType": "https://slsa.dev/provenance/v1"})
    assert statement_problems({**doc, "subject": []})
    assert statement_problems({**doc, "subject": [{"name": "x", "digest": {}}]})
    assert statement_problems({**doc, "extra": 1})
