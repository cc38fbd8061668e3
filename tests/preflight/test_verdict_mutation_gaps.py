"""What the mutation run of the verdict path showed no test held (docs/mutation-testing.md,
issue 20): an old attestation of another schema, the sentence naming disabled policies past ten,
and the line checkov's unreadable output is reported with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from preflight import attest
from preflight.attest_sign import verify_file
from preflight.checkov import parse_report
from preflight.errors import InternalFailure
from preflight.report import disabled_line


def _old(**fields: Any) -> dict[str, Any]:
    """An old self-sealed attestation, its seal recomputed over whatever it holds."""
    body: dict[str, Any] = {
        "schema": attest.SCHEMA,
        "project": "us-data-residency",
        "stack": "prod",
        "git": {"commit": "0123456789abcdef0123456789abcdef01234567"},
        "verdict": {"passed": True, "blocking": 0, "mandatory": 0, "advisory": 0, "suppressed": 0},
        "data_resources": [{"name": "store", "region": "us-ashburn-1"}],
        "waivers_used": [],
    }
    body.update(fields)
    return attest.seal({k: v for k, v in body.items() if v is not None})


def _verify(doc: dict[str, Any], tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "attestation.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = verify_file(path, [], allow_unsigned=True)
    return result.code, " ".join(result.lines + result.errors)


def test_an_intact_old_attestation_of_this_schema_is_read(tmp_path: Path) -> None:
    code, message = _verify(_old(), tmp_path)
    assert (
        code == 0 and "seal intact" in message and "us-data-residency/prod passed at 0123456789ab" in message
    )


@pytest.mark.parametrize(
    "schema",
    [
        "preflight.residency-attestation/v2",  # sorts after v1: a newer format is not this one
        "preflight.residency-attestation/v0",
        "preflight.residency-attestation/v1 ",
        1,
    ],
)
def test_an_old_attestation_of_another_schema_is_refused_even_with_a_valid_seal(
    schema: object, tmp_path: Path
) -> None:
    """The seal is recomputable by anyone, so only the schema says the fields mean what this
    verifier reads; a correctly sealed document of another schema is refused, not read."""
    code, message = _verify(_old(schema=schema), tmp_path)
    assert code == 1, message
    assert f"schema {schema!r} is not {attest.SCHEMA}" in message


@pytest.mark.parametrize("field", ["project", "stack", "git", "verdict", "data_resources", "waivers_used"])
def test_changing_any_field_of_an_old_attestation_breaks_its_seal(field: str, tmp_path: Path) -> None:
    code, message = _verify({**_old(), field: "tampered"}, tmp_path)
    assert code == 1 and "MODIFIED" in message, message


def test_the_disabled_sentence_names_ten_policies_and_counts_the_rest() -> None:
    names = [f"policy-{i:02d}" for i in range(1, 13)]
    assert disabled_line(names, 40) == (
        "12 of 40 policies disabled by the policy config: " + ", ".join(names[:10]) + " and 2 more"
    )
    assert disabled_line(names[:10], 40) == (
        "10 of 40 policies disabled by the policy config: " + ", ".join(names[:10])
    )
    assert disabled_line(names[:3], 40) == (
        "3 of 40 policies disabled by the policy config: policy-01, policy-02, policy-03"
    )


def test_checkov_output_that_is_not_json_is_reported_with_its_last_line() -> None:
    with pytest.raises(InternalFailure) as raised:
        parse_report(
            "Traceback (most recent call last):\n  ...\nModuleNotFoundError: No module named 'x'\n", 3
        )
    assert str(raised.value) == "checkov output is not JSON (got: ModuleNotFoundError: No module named 'x')"
    with pytest.raises(InternalFailure) as raised:
        parse_report("  \n", 3)
    assert str(raised.value) == "checkov output is not JSON (got: nothing)"


# --- checkov's failures mapped back and suppressed, checkov itself replaced ---------------------
# The real-checkov tests (tests/preflight/test_checkov.py, marked slow) prove the same mapping end
# to end; these run in process, so the mutation run (which leaves slow tests out) judges it too.


def _scan_with_failures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, suppressions: str, checks: list[str]
) -> dict[str, Any]:
    from preflight import checkov
    from preflight.tfplan import build_tfplan
    from tests.preflight.test_checkov import BAD, ESTATE

    address = next(a for a, urn in build_tfplan(ESTATE).addresses.items() if urn == BAD.urn)
    seen: list[Any] = []

    def fake_execute(_checkov: Path, plan_path: Path, _timeout: float, _limit: float | None = None) -> str:
        seen.append(json.loads(plan_path.read_text(encoding="utf-8")))  # the plan checkov would read
        failed = [{"check_id": c, "check_name": c, "resource_address": address} for c in checks]
        return json.dumps(
            {
                "check_type": "terraform_plan",
                "results": {"failed_checks": failed, "parsing_errors": []},
                "summary": {"passed": 0, "failed": len(failed), "parsing_errors": 0,
                            "resource_count": len(ESTATE), "checkov_version": "3.3.30"},
            }
        )  # fmt: skip

    monkeypatch.setattr(checkov, "find_checkov", lambda *a, **k: Path("/nonexistent/checkov"))
    monkeypatch.setattr(checkov, "_execute", fake_execute)
    path = tmp_path / "suppressions.yaml"
    path.write_text(suppressions, encoding="utf-8")
    result = checkov.scan(ESTATE, suppressions=path)
    assert len(seen) == 1 and seen[0]["resource_changes"], "checkov is given the plan as JSON"
    return {f.policy: f for f in result.findings if f.urn == BAD.urn}


def test_a_suppression_applies_to_its_check_only_and_by_terraform_type(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A suppression is scoped: its check id exactly (not one that sorts before it), its type
    as the Pulumi type or the Terraform type, its URN glob."""
    found = _scan_with_failures(
        monkeypatch,
        tmp_path,
        """
suppressions:
  - check: CKV_OCI_8
    type: oci_objectstorage_bucket
    reason: Suppressed by the Terraform type.
  - check: CKV_OCI_9
    urn: "urn:pulumi:*::us-data-residency::*::media"
    reason: Another bucket only.
""",
        ["CKV_OCI_7", "CKV_OCI_8", "CKV_OCI_9"],
    )
    assert found["CKV_OCI_8"].suppressed == "Suppressed by the Terraform type."
    assert found["CKV_OCI_7"].suppressed is None and found["CKV_OCI_7"].blocking, "CKV_OCI_7 < CKV_OCI_8"
    assert found["CKV_OCI_9"].suppressed is None and found["CKV_OCI_9"].blocking, "outside its URN glob"


def test_a_checkov_report_without_results_or_summary_objects_fails_closed() -> None:
    for report in (
        {"check_type": "terraform_plan", "results": [], "summary": {"resource_count": 1}},
        {"check_type": "terraform_plan", "results": {"failed_checks": []}, "summary": []},
    ):
        with pytest.raises(InternalFailure, match="lacks `results` or `summary`"):
            parse_report(json.dumps(report), 1)


# --- the attestation's verdict and policy state ------------------------------------------------


def _finding(enforcement: str, *, suppressed: str | None = None) -> Any:
    from preflight.model import Finding

    return Finding(
        source="pack", policy="p", enforcement=enforcement, severity="high",  # type: ignore[arg-type]
        urn="urn:x", type="t", name="n", region=None, message="m", location=None, suppressed=suppressed,
    )  # fmt: skip


def test_the_attested_verdict_counts_each_finding_once() -> None:
    found = [_finding("mandatory"), _finding("mandatory", suppressed="why"), _finding("advisory")]
    assert attest.verdict_of(found) == {
        "passed": False,
        "blocking": 1,
        "mandatory": 2,
        "advisory": 1,
        "suppressed": 1,
    }
    assert attest.verdict_of([_finding("mandatory", suppressed="why")])["passed"] is True


def test_a_disabled_policy_read_from_a_file_is_counted() -> None:
    """The enforcement comes from the pack's JSON answer: a string equal to "disabled", not the
    same object (a `is` comparison would miss it)."""
    listed = json.loads(
        '[{"name": "b", "enforcement": "disabled"}, {"name": "a", "enforcement": "mandatory"}]'
    )
    listed.append({"name": "c", "enforcement": "".join(["dis", "abled"])})
    assert attest._policy_state(listed) == {"total": 3, "disabled_count": 2, "disabled": ["b", "c"]}


def test_a_seal_recorded_greater_than_the_content_hash_is_modified(tmp_path: Path) -> None:
    for recorded in ("f" * 64, "0" * 64):
        code, message = _verify({**_old(), "sha256": recorded}, tmp_path)
        assert code == 1 and "MODIFIED" in message, (recorded, message)


# --- masking ---------------------------------------------------------------------------------


def test_a_property_named_by_additional_secret_outputs_is_masked_wherever_it_travels() -> None:
    """`additionalSecretOutputs` marks an output secret by name; its value is masked in the
    record, and the same value is masked where another record carries it (an export, an input)."""
    from preflight.masking import SECRET, mask_records, secret_output_names
    from preflight.model import ResourceRecord

    def record(name: str, **kw: Any) -> ResourceRecord:
        return ResourceRecord(
            urn=f"urn:pulumi:prod::p::t::{name}", type="t", name=name, custom=True, parent=None,
            provider=None, region=None, region_source="none", **kw,
        )  # fmt: skip

    token = "opaque-value-7f3a9c2e41"
    owner = record(
        "owner",
        inputs={},
        outputs={"opaque": token, "plain": "visible-value-0000"},
        options={"additionalSecretOutputs": ["opaque"]},
    )
    user = record("user", inputs={"copy": token}, outputs={})
    assert secret_output_names(owner) == {"opaque"}
    assert secret_output_names(user) == set()
    masked_owner, masked_user = mask_records([owner, user])
    assert masked_owner.outputs == {"opaque": SECRET, "plain": "visible-value-0000"}
    assert masked_user.inputs == {"copy": SECRET}
    assert owner.outputs["opaque"] == token, "the pack and checkov judge the unmasked original"
