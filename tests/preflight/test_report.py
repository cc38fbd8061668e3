"""Report formats render the same run; SARIF is structurally valid 2.1.0 with locations on declaring lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight.inventory import build_inventory
from preflight.model import Finding
from preflight.report import Report, render, render_sarif, residency_map, summary
from preflight.synth import SynthResult, synthesize

FIXTURES = Path(__file__).parent / "fixtures"
SG = (
    "urn:pulumi:dev::fixture-basic::fixture:storage:RegionalStore$oci:ObjectStorage/bucket:Bucket"
    "::store-ap-singapore-1-bucket"
)


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
        "message": 'bucket is in ap-singapore-1 | "quoted" <b>',
        "location": r.location,
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def report(synth: SynthResult) -> Report:
    findings = [
        finding(synth, SG),
        finding(
            synth,
            synth.stack_urn,
            policy="stack-check",
            enforcement="advisory",
            severity="low",
            message="waived by waiver 'legacy-sg'",
            waiver="legacy-sg",
        ),
        finding(synth, SG, source="checkov", policy="CKV_OCI_8", suppressed="replica is read-only by design"),
    ]
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
                "remediation": "Move the bucket.",
                "url": "https://example.com/policy",
            }
        ],
        checkov="1 finding",
        repo_prefix="tests/preflight/fixtures/basic",
        tool_version="0.1.0",
    )


def test_summary_and_exit_code(report: Report) -> None:
    s = summary(report)
    assert (s["blocking"], s["mandatory"], s["advisory"], s["suppressed"], s["waived"]) == (1, 2, 1, 1, 1)
    assert report.exit_code == 1 and s["verdict"] == "blocked"


def test_sarif_is_structurally_valid(report: Report) -> None:
    sarif = json.loads(render_sarif(report))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "preflight"
    ids = [r["id"] for r in rules]
    assert ids == ["fixture-pack/bucket-us-only", "fixture-pack/stack-check", "checkov/CKV_OCI_8"]
    assert (
        rules[0]["help"]["text"] == "Move the bucket." and rules[0]["helpUri"] == "https://example.com/policy"
    )
    assert rules[0]["properties"]["security-severity"] == "9.5"
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        loc = result["locations"][0]["physicalLocation"]
        assert loc["region"]["startLine"] >= 1 and not loc["artifactLocation"]["uri"].startswith("/")
        assert result["partialFingerprints"]
    first = run["results"][0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == "tests/preflight/fixtures/basic/app/storage.py", (
        "repo-relative"
    )
    assert first["region"]["startLine"] == 17
    stack_level = run["results"][1]["locations"][0]["physicalLocation"]
    assert stack_level["artifactLocation"]["uri"].endswith("Pulumi.dev.yaml"), (
        "no declaring line: the stack file"
    )
    suppressed = run["results"][2]
    assert suppressed["suppressions"][0]["justification"] == "replica is read-only by design"


def test_json_carries_the_contract(report: Report) -> None:
    doc = json.loads(render(report, "json"))
    assert {"resources", "findings", "summary"} <= set(doc)
    assert all("outputs" not in r for r in doc["resources"])
    assert doc["findings"][0]["location"] == "app/storage.py:17"


def test_markdown_and_text(report: Report) -> None:
    md = render(report, "markdown")
    assert "**BLOCKED**" in md and "```mermaid\nflowchart LR" in md
    assert '\\| "quoted"' in md, "table cells escape pipes"
    text = render(report, "text", width=200)
    assert "BLOCKED · 1 blocking" in text and "waived" in text and "suppressed" in text


def test_residency_map(report: Report) -> None:
    mermaid = residency_map(report.inventory, report.synth)
    assert mermaid.startswith("flowchart LR")
    assert 'subgraph R0["ap-singapore-1 · SIN · oc1 · SG · forbidden"]' in mermaid
    assert "style R0 fill:#fde2e2" in mermaid, "regions outside the approved set stand out"
    assert "bucket: store-ap-singapore-1-data" in mermaid
    assert 'W1>"waiver: legacy-sg"]' in mermaid
