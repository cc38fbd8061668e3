"""SARIF for code scanning: valid against the OASIS 2.1.0 schema, quiet when nothing changed.

* waived and suppressed findings are `suppressions` (justification: the waiver or the reason),
* fingerprints survive a new day and unrelated new resources,
* every rule is described by its policy (or checkov check), not by one resource's message,
* no `automationDetails` that would override upload-sarif's `category`.

The schema is the OASIS errata-01 file, committed at fixtures/sarif/sarif-schema-2.1.0.json
(oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json at e0583813964e, sha256
c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from preflight.checkov import find_checkov
from preflight.inventory import build_inventory
from preflight.model import Finding
from preflight.report import Report, fingerprint, render_sarif, waiver_justification
from preflight.synth import SynthResult, synthesize

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
SCHEMA = FIXTURES / "sarif" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
SG = (
    "urn:pulumi:dev::fixture-basic::fixture:storage:RegionalStore$oci:ObjectStorage/bucket:Bucket"
    "::store-ap-singapore-1-bucket"
)

# jsonschema is a dependency of checkov, so it is in .venv-checkov (built from checkov.lock by
# dev.py bootstrap); the project's own environment does not carry it.
_VALIDATE = """
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
doc = json.load(sys.stdin)
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors[:20]:
    print("/".join(map(str, e.absolute_path)) + ": " + e.message)
sys.exit(1 if errors else 0)
"""


def schema_errors(doc: dict[str, Any]) -> str:
    """'' when `doc` is valid SARIF 2.1.0, else the validator's errors (path: message)."""
    try:
        import jsonschema  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        python = find_checkov().parent / "python"
    else:
        python = Path(sys.executable)
    proc = subprocess.run(
        [str(python), "-c", _VALIDATE, str(SCHEMA)],
        input=json.dumps(doc),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_the_schema_is_the_oasis_file() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


@pytest.fixture(scope="module")
def synth() -> SynthResult:
    return synthesize(FIXTURES / "basic", "dev")


def finding(synth: SynthResult, urn: str, **kw: object) -> Finding:
    r = synth.by_urn()[urn]
    base: dict[str, object] = {
        "source": "fixture-pack",
        "policy": "bucket-us-only",
        "enforcement": "mandatory",
        "severity": "critical",
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "region": r.region,
        "message": "bucket is in ap-singapore-1",
        "location": r.location,
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def waived_message(today_left: int, warn: bool) -> str:
    """The message the pack's residency-waived policy writes (policies/residency/waived_findings.py)."""
    warning = f"; WARNING: the waiver expires in {today_left} days: renew it or remediate" if warn else ""
    return (
        "[residency-oci-region] bucket is in ap-singapore-1, outside the approved regions: waived by "
        f"waiver 'legacy-sg' (owner data-residency@example.com, expires 2027-06-30, {today_left} days "
        f"left; reason: frozen replica (read-only) until the sunset){warning}"
    )


def make_report(synth: SynthResult, findings: list[Finding]) -> Report:
    return Report(
        command="gate",
        synth=synth,
        findings=findings,
        inventory=build_inventory(synth.resources, synth.outputs, findings),
        pack={"name": "fixture-pack", "version": "1.2.3", "sha256": "sha256:00"},
        policies=[
            {
                "name": "bucket-us-only",
                "displayName": "Bucket US only",
                "description": "Buckets stay in approved US regions.",
                "enforcement": "mandatory",
                "severity": "critical",
                "remediation": "Move the bucket to an approved region.",
                "url": "https://example.com/policy",
            },
            {
                "name": "residency-waived",
                "displayName": "Waived residency findings",
                "description": "A residency finding covered by an active waiver, as advisory.",
                "enforcement": "advisory",
                "severity": "high",
                "remediation": "Remove the exception or renew the waiver before it expires.",
                "url": "",
            },
        ],
        checkov="2 findings",
        repo_prefix="tests/preflight/fixtures/basic",
        tool_version="0.1.0",
    )


def findings_on(synth: SynthResult, left: int) -> list[Finding]:
    """One run's findings on a day with `left` days before the waiver expires."""
    return [
        finding(synth, SG),
        finding(
            synth,
            SG,
            policy="residency-waived",
            enforcement="advisory",
            severity="high",
            message=waived_message(left, warn=left < 30),
            waiver="legacy-sg",
        ),
        finding(
            synth,
            SG,
            source="checkov",
            policy="CKV_OCI_8",
            message="Ensure OCI Object Storage has versioning enabled "
            "[CKV_OCI_8 on oci_objectstorage_bucket.b]",
            suppressed="replica is read-only by design",
        ),
        finding(
            synth,
            SG,
            source="checkov",
            policy="CKV_OCI_9",
            message="Ensure OCI Object Storage is encrypted with a customer managed key "
            "[CKV_OCI_9 on oci_objectstorage_bucket.b] https://docs.example.com/ckv-oci-9",
        ),
    ]


def sarif_of(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_sarif(report))
    return doc


def keys(doc: dict[str, Any]) -> dict[str, str]:
    """ruleId -> fingerprint, for each result of the run."""
    return {
        r["ruleId"]: r["partialFingerprints"]["primaryLocationLineHash"] for r in doc["runs"][0]["results"]
    }


def test_sarif_is_valid_against_the_2_1_0_schema(synth: SynthResult) -> None:
    doc = sarif_of(make_report(synth, findings_on(synth, 209)))
    assert schema_errors(doc) == ""
    empty = sarif_of(make_report(synth, []))
    assert schema_errors(empty) == "" and empty["runs"][0]["results"] == []


def test_the_schema_check_can_fail(synth: SynthResult) -> None:
    doc = sarif_of(make_report(synth, findings_on(synth, 209)))
    bad = copy.deepcopy(doc)
    bad["runs"][0]["results"][1]["suppressions"][0]["kind"] = "waived"
    assert "suppressions/0/kind" in schema_errors(bad)
    bad = copy.deepcopy(doc)
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert "startLine" in schema_errors(bad)


def test_waived_and_suppressed_findings_are_suppressions(synth: SynthResult) -> None:
    results = sarif_of(make_report(synth, findings_on(synth, 209)))["runs"][0]["results"]
    blocking, waived, suppressed, open_checkov = results
    assert blocking["level"] == "error" and "suppressions" not in blocking
    assert open_checkov["level"] == "error" and "suppressions" not in open_checkov
    assert waived["level"] == "note" and waived["properties"]["waiver"] == "legacy-sg"
    assert waived["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "waiver 'legacy-sg' (owner data-residency@example.com, expires 2027-06-30; "
            "reason: frozen replica (read-only) until the sunset)",
        }
    ], "the waiver's target, owner, expiry and whole reason (parentheses too); no days left"
    assert suppressed["level"] == "note"
    assert suppressed["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "replica is read-only by design"}
    ]


def test_a_waiver_named_without_its_facts_is_still_the_justification(synth: SynthResult) -> None:
    f = finding(synth, SG, enforcement="advisory", message="waived by waiver 'legacy-sg'", waiver="legacy-sg")
    assert waiver_justification(f) == "waiver 'legacy-sg'"
    expired = finding(
        synth,
        SG,
        enforcement="advisory",
        waiver="legacy-sg",
        message="x: waived by waiver 'legacy-sg' (owner o@example.com, expired on 2026-01-01; reason: r)",
    )
    assert (
        waiver_justification(expired)
        == "waiver 'legacy-sg' (owner o@example.com, expired on 2026-01-01; reason: r)"
    )


def test_fingerprints_do_not_change_with_the_date(synth: SynthResult) -> None:
    """Same estate on two days: 209 days left, then 12 (the warning appears): same alerts."""
    before = sarif_of(make_report(synth, findings_on(synth, 209)))
    later = sarif_of(make_report(synth, findings_on(synth, 12)))
    assert "WARNING" in later["runs"][0]["results"][1]["message"]["text"]
    assert keys(before) == keys(later)
    for result in before["runs"][0]["results"]:
        fp = result["partialFingerprints"]
        assert fp["preflightFinding/v2"] == fp["primaryLocationLineHash"]
    # a date inside the finding itself (retention "until about <today + N>") is not identity either
    a = finding(
        synth, SG, message="retention locks new objects until about 2027-01-05, after the sunset 2026-12-31"
    )
    b = finding(
        synth, SG, message="retention locks new objects until about 2027-01-06, after the sunset 2026-12-31"
    )
    assert fingerprint(a) == fingerprint(b)


def test_fingerprints_tell_different_findings_apart(synth: SynthResult) -> None:
    a = finding(synth, SG)
    assert fingerprint(a) != fingerprint(finding(synth, SG, message="bucket is not versioned"))
    assert fingerprint(a) != fingerprint(finding(synth, SG, policy="bucket-versioned"))
    assert fingerprint(a) != fingerprint(finding(synth, synth.stack_urn))
    ck = finding(synth, SG, source="checkov", policy="CKV_OCI_8", message="t [CKV_OCI_8 on a.b]")
    assert fingerprint(ck) != fingerprint(
        finding(synth, SG, source="checkov", policy="CKV_OCI_9", message="t")
    )


def test_fingerprints_do_not_change_when_unrelated_resources_are_added(synth: SynthResult) -> None:
    base = findings_on(synth, 209)
    region_level = finding(
        synth,
        SG,
        policy="region-cloud-guard",
        message="region ap-singapore-1 holds data that no Cloud Guard target covers: store-bucket",
    )
    before = make_report(synth, [*base, region_level])
    other = next(r for r in synth.resources if r.custom and r.urn != SG)
    added = [
        finding(synth, other.urn, message="another bucket outside the US"),
        finding(synth, other.urn, source="checkov", policy="CKV_OCI_8", message="t [CKV_OCI_8 on x.y]"),
    ]
    # the region's finding now sits on the first data resource, and counts the new one
    region_later = finding(
        synth,
        other.urn,
        policy="region-cloud-guard",
        message="region ap-singapore-1 holds data that no Cloud Guard target covers: other (and 1 more)",
    )
    # checkov's plan address of the bucket gains a hash suffix once another resource shares its name
    renamed = [
        Finding(**{**f.to_dict(), "message": f.message.replace("_bucket.b]", "_bucket.b_0a1b2c3d4e5f]")})
        for f in base
    ]
    after = make_report(synth, [*added, *renamed, region_later])
    fp_before = [
        r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif_of(before)["runs"][0]["results"]
    ]
    fp_after = {
        r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif_of(after)["runs"][0]["results"]
    }
    assert set(fp_before) <= fp_after, "every earlier alert is found again"
    assert len(fp_after) == len(fp_before) + 2, "the two new findings are new alerts"


def test_each_rule_has_its_own_description_and_help(synth: SynthResult) -> None:
    driver = sarif_of(make_report(synth, findings_on(synth, 209)))["runs"][0]["tool"]["driver"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert list(rules) == [
        "fixture-pack/bucket-us-only",
        "fixture-pack/residency-waived",
        "checkov/CKV_OCI_8",
        "checkov/CKV_OCI_9",
    ], "rule ids stay the policy names and checkov ids"
    us = rules["fixture-pack/bucket-us-only"]
    assert us["shortDescription"]["text"] == "Bucket US only"
    assert us["fullDescription"]["text"] == "Buckets stay in approved US regions."
    assert (
        us["help"]["text"] == "Move the bucket to an approved region."
        and us["helpUri"] == "https://example.com/policy"
    )
    waived = rules["fixture-pack/residency-waived"]
    assert waived["help"]["text"].startswith("Remove the exception") and "helpUri" not in waived
    assert waived["defaultConfiguration"]["level"] == "warning"
    ckv8, ckv9 = rules["checkov/CKV_OCI_8"], rules["checkov/CKV_OCI_9"]
    assert ckv8["shortDescription"]["text"] == "Ensure OCI Object Storage has versioning enabled"
    assert "oci_objectstorage_bucket.b" not in json.dumps(ckv8), "no one resource's address in a rule"
    assert "checkov-suppressions.yaml" in ckv8["help"]["text"] and "helpUri" not in ckv8
    assert ckv9["helpUri"] == "https://docs.example.com/ckv-oci-9", "checkov's guideline URL"
    assert "https://docs.example.com/ckv-oci-9" in ckv9["help"]["text"]
    texts = [r["fullDescription"]["text"] for r in rules.values()]
    assert len(set(texts)) == len(texts)
    for r in rules.values():
        assert "ap-singapore-1" not in r["shortDescription"]["text"] + r["fullDescription"]["text"]


def test_no_automation_details_to_override_the_upload_category(synth: SynthResult) -> None:
    run = sarif_of(make_report(synth, findings_on(synth, 209)))["runs"][0]
    assert "automationDetails" not in run
    workflow = (ROOT / ".github" / "workflows" / "preview.yml").read_text()
    assert "category: preflight-${{ matrix.stack }}" in workflow, "the workflow names the category"


# --------------------------------------------------------------------------- the real pack


def _gate_sarif(tmp: Path, today: str, *extra: str) -> dict[str, Any]:
    config = tmp / "policy-config.json"
    if not config.exists():
        made = subprocess.run(
            [sys.executable, "-m", "stacks.policy_config", "--stack", "prod", "--out", str(config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert made.returncode == 0, made.stderr
    out = tmp / f"{today}{''.join(extra)}.sarif"
    gate = subprocess.run(
        [
            *(sys.executable, "-m", "preflight", "gate", "--stack", "prod", "--no-progress"),
            *(extra or ("--no-checkov",)),
            *("--policy-config", str(config), "--format", "sarif", "--out", str(out)),
        ],
        cwd=ROOT,
        env={**os.environ, "USDR_TODAY": today},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert gate.returncode == 0, gate.stderr
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


@pytest.mark.slow
def test_prod_sarif_on_two_dates(tmp_path: Path) -> None:
    """The real program and pack: 209 days before the waiver expires, then 5 days before."""
    early, late = _gate_sarif(tmp_path, "2026-12-03"), _gate_sarif(tmp_path, "2027-06-25")
    assert schema_errors(early) == "" and schema_errors(late) == ""
    waived_early = [r for r in early["runs"][0]["results"] if r["ruleId"].endswith("/residency-waived")]
    waived_late = [r for r in late["runs"][0]["results"] if r["ruleId"].endswith("/residency-waived")]
    assert len(waived_early) == len(waived_late) == early["runs"][0]["properties"]["summary"]["waived"] > 0
    for r in waived_early + waived_late:
        assert r["level"] == "note"
        (s,) = r["suppressions"]
        assert s["kind"] == "external" and s["status"] == "accepted"
        assert s["justification"].startswith(
            "waiver 'legacy-sg' (owner data-residency@example.com, expires 2027-06-30;"
        )
        assert "days left" not in s["justification"]
    assert (
        "209 days left" in waived_early[0]["message"]["text"]
        and "5 days left" in waived_late[0]["message"]["text"]
    )
    fp = [
        {r["partialFingerprints"]["primaryLocationLineHash"] for r in w} for w in (waived_early, waived_late)
    ]
    assert fp[0] == fp[1] and len(fp[0]) == len(waived_early), "same alerts, one per finding"
    # five days out the pack also warns about the waiver itself: that one stays an open warning
    expiring = [r for r in late["runs"][0]["results"] if r["ruleId"].endswith("/residency-waiver-expiry")]
    assert expiring and all(r["level"] == "warning" and "suppressions" not in r for r in expiring)
    assert late["runs"][0]["properties"]["summary"]["waived"] == len(waived_late), "not counted as waived"
    rules = {r["id"]: r for r in late["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["us-data-residency/residency-waived"]["help"]["text"].startswith("Nothing blocks while")
    assert rules["us-data-residency/residency-waiver-expiry"]["help"]["text"].startswith("Renew a waiver")
    assert all("automationDetails" not in run for run in (early["runs"][0], late["runs"][0]))


@pytest.mark.slow
def test_prod_sarif_with_checkov_opens_no_alert(tmp_path: Path) -> None:
    """prod passes: every checkov failure there is suppressed with a reason, every residency
    finding waived; the SARIF is valid and every result is a `note` with a suppression."""
    doc = _gate_sarif(tmp_path, "2026-12-03", "--checkov-timeout", "600")
    assert schema_errors(doc) == ""
    run = doc["runs"][0]
    results = run["results"]
    checkov = [r for r in results if r["ruleId"].startswith("checkov/")]
    assert checkov and len(checkov) == run["properties"]["summary"]["suppressed"]
    assert all(r["level"] == "note" and r["suppressions"][0]["justification"] for r in results)
    keys = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert len(set(keys)) == len(keys), "one alert per finding"
    for rule in run["tool"]["driver"]["rules"]:
        if rule["id"].startswith("checkov/"):
            assert rule["shortDescription"]["text"] and "[" not in rule["shortDescription"]["text"]
