"""The residency attestation's content, and the old self-sealed format: still read by verify, only
with --allow-unsigned, and always reported as unsigned (anyone can recompute its seal)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight.attest import SCHEMA, build_attestation, write
from preflight.attest_sign import Verdict, verify_file
from preflight.inventory import build_inventory
from preflight.synth import SynthResult, synthesize
from tests.preflight.attest_helpers import waived_finding

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def synth() -> SynthResult:
    return synthesize(FIXTURES / "basic", "dev")


@pytest.fixture
def attestation(synth: SynthResult, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795910400")  # 2026-11-29
    legacy = synth.by_urn()["urn:pulumi:dev::fixture-basic::aws:s3/bucket:Bucket::legacy"]
    waived = waived_finding(legacy)
    return build_attestation(
        project=synth.project,
        stack=synth.stack,
        project_dir=FIXTURES / "basic",
        inventory=build_inventory(synth.resources, synth.outputs, [waived]),
        findings=[waived],
        pack={"name": "fixture-pack", "version": "1.2.3", "sha256": "sha256:abc"},
        checkov="skipped (--no-checkov)",
        tool_version="0.1.0",
    )


def test_content(attestation: dict[str, object]) -> None:
    a = attestation
    assert a["schema"] == SCHEMA and a["as_of"] == "2026-11-29"
    assert a["policy_pack"] == {"name": "fixture-pack", "version": "1.2.3", "sha256": "sha256:abc"}
    git = a["git"]
    assert isinstance(git, dict) and len(str(git["commit"])) in (40, 7)  # a sha, or "unknown" outside git
    data = {d["name"]: d for d in a["data_resources"]}  # type: ignore[attr-defined]
    assert data["store-ap-singapore-1-data"]["region"] == "ap-singapore-1"
    assert data["store-ap-singapore-1-data"]["realm"] == "oc1"
    assert data["store-ap-singapore-1-data"]["jurisdiction"] == "SG"
    assert data["home"]["region"] == "us-ashburn-1" and data["legacy-backups"]["kind"] == "s3-bucket"
    assert a["waivers_used"] == [
        {
            "target": "legacy",
            "policy": "residency-waived",
            "urn": data["legacy-backups"]["urn"],
            "message": "waived by waiver 'legacy'",
        }
    ]
    assert a["verdict"] == {"passed": True, "blocking": 0, "mandatory": 0, "advisory": 1, "suppressed": 0}
    assert len(str(a["sha256"])) == 64


def test_reproducible(attestation: dict[str, object], synth: SynthResult) -> None:
    again = synthesize(FIXTURES / "basic", "dev")
    assert again.to_dict()["resources"] == synth.to_dict()["resources"]
    assert attestation["sha256"] == json.loads(json.dumps(attestation))["sha256"]


def verify(path: Path, allow_unsigned: bool = True) -> tuple[int, str]:
    result: Verdict = verify_file(path, [], allow_unsigned=allow_unsigned)
    return result.code, " ".join(result.lines + result.errors)


def test_an_old_attestation_is_unsigned_and_read_only_when_allowed(
    attestation: dict[str, object], tmp_path: Path
) -> None:
    path = tmp_path / "attestation.json"
    write(attestation, path)
    code, message = verify(path, allow_unsigned=False)
    assert code == 1 and "UNSIGNED" in message and "--allow-unsigned" in message
    code, message = verify(path)
    assert code == 0 and "UNSIGNED" in message and "seal intact" in message
    # Even allowed, it names no subjects, so it cannot be checked against a checkout.
    assert verify_file(path, [], allow_unsigned=True, against=tmp_path).code == 1


def test_verify_detects_tampering_of_an_old_attestation(
    attestation: dict[str, object], tmp_path: Path
) -> None:
    path = tmp_path / "attestation.json"
    write(attestation, path)
    assert verify(path)[0] == 0

    doc = json.loads(path.read_text())
    doc["data_resources"][0]["region"] = "eu-frankfurt-1"
    path.write_text(json.dumps(doc, indent=2))
    code, message = verify(path)
    assert code == 1 and "MODIFIED" in message

    doc = json.loads(json.dumps(attestation))
    doc["sha256"] = "0" * 64
    path.write_text(json.dumps(doc))
    assert verify(path)[0] == 1

    doc = json.loads(json.dumps(attestation))
    doc["waivers_used"] = []
    path.write_text(json.dumps(doc, sort_keys=True))
    assert verify(path)[0] == 1, "removing a waiver from the record is detected"

    # Reformatting does not change the content, so it is still intact.
    path.write_text(json.dumps(attestation, indent=None, sort_keys=False))
    assert verify(path)[0] == 0


@pytest.mark.parametrize("text", ["", "{", "[]", '{"x": 1}', "\xff"])
def test_unreadable_is_exit_2(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(text.encode("latin-1"))
    assert verify(path)[0] == 2
    assert verify_file(tmp_path / "missing.json", []).code == 2
