"""preflight.checkov: the real checkov subprocess on hand-built records, findings back on URNs.

The `slow` tests run checkov from .venv-checkov/ (a few seconds each); they are not skipped.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from preflight.checkov import (
    CHECKOV_ENV,
    DEFAULT_SUPPRESSIONS,
    NOT_SCANNED,
    chunks,
    find_checkov,
    load_suppressions,
    parse_report,
    run_checkov,
    scan,
)
from preflight.errors import BadInput, InternalFailure
from preflight.model import Finding, ResourceRecord

PROJECT = "us-data-residency"
STACK_URN = f"urn:pulumi:prod::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-prod"
BUCKET = "oci:ObjectStorage/bucket:Bucket"
OCI_BUCKET_CHECKS = {"CKV_OCI_7", "CKV_OCI_8", "CKV_OCI_9", "CKV_OCI_10"}


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:prod::{PROJECT}::usdr:storage:DataBucket${type_}::{name}"


def _provider(pkg: str, name: str, region: str) -> ResourceRecord:
    type_ = f"pulumi:providers:{pkg}"
    return ResourceRecord(
        urn=f"urn:pulumi:prod::{PROJECT}::{type_}::{name}",
        type=type_,
        name=name,
        custom=True,
        parent=STACK_URN,
        provider=None,
        region=region,
        region_source="provider",
        inputs={"region": region},
        outputs={"region": region},
        id=f"{name}-id",
    )


IAD = _provider("oci", "oci-us-ashburn-1", "us-ashburn-1")
LEGACY = _provider("aws", "legacy-us-east", "us-east-1")
STACK = ResourceRecord(
    urn=STACK_URN,
    type="pulumi:pulumi:Stack",
    name=f"{PROJECT}-prod",
    custom=False,
    parent=None,
    provider=None,
    region=None,
    region_source="none",
    inputs={},
    outputs={},
)


def _record(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    line: int,
    *,
    prov: ResourceRecord = IAD,
    deps: dict[str, list[str]] | None = None,
    ident: str | None = None,
) -> ResourceRecord:
    deps = deps or {}
    return ResourceRecord(
        urn=_urn(type_, name),
        type=type_,
        name=name,
        custom=True,
        parent=STACK_URN,
        provider=f"{prov.urn}::{prov.id}",
        region=prov.region,
        region_source="provider",
        inputs=inputs,
        outputs=dict(inputs),
        dependencies=sorted({u for us in deps.values() for u in us}),
        property_dependencies=deps,
        location=f"components/object_storage.py:{line}",
        id=ident or f"ocid1.{name}.oc1.us-ashburn-1.amaaaaaa",
    )


KEY = _record(
    "oci:Kms/key:Key", "data-key", {"displayName": "data"}, 20, ident="ocid1.key.oc1.iad.amaaaaaakey"
)
GOOD = _record(
    BUCKET,
    "media",
    {
        "name": "usdr-prod-media",
        "namespace": "ns",
        "compartmentId": "ocid1.compartment.oc1..data",
        "accessType": "NoPublicAccess",
        "versioning": "Enabled",
        "objectEventsEnabled": True,
        "kmsKeyId": KEY.id,
        "freeformTags": {"DataClass": "user-content"},
    },
    41,
    deps={"kmsKeyId": [KEY.urn]},
)
BAD = _record(
    BUCKET,
    "scratch",
    {
        "name": "usdr-prod-scratch",
        "namespace": "ns",
        "compartmentId": "ocid1.compartment.oc1..data",
        "accessType": "ObjectRead",
        "versioning": "Disabled",
    },
    77,
)
ESTATE = [STACK, IAD, KEY, GOOD, BAD]


@pytest.fixture
def no_suppressions(tmp_path: Path) -> Path:
    path = tmp_path / "none.yaml"
    path.write_text("suppressions: []\n")
    return path


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suppressions.yaml"
    path.write_text(text)
    return path


def _by(findings: list[Finding], urn: str) -> dict[str, Finding]:
    return {f.policy: f for f in findings if f.urn == urn}


# --- the real checkov -----------------------------------------------------------------------


@pytest.mark.slow
def test_failures_map_back_to_urn_type_region_and_line(tmp_path: Path, no_suppressions: Path) -> None:
    out = tmp_path / "out" / "plan.json"
    findings = run_checkov(ESTATE, tfplan_out=out, suppressions=no_suppressions)

    assert _by(findings, GOOD.urn) == {}, "the compliant bucket must pass every OCI bucket check"
    bad = _by(findings, BAD.urn)
    assert set(bad) == OCI_BUCKET_CHECKS
    for check_id, finding in bad.items():
        assert finding.source == "checkov"
        assert finding.type == BUCKET
        assert finding.name == "scratch"
        assert finding.region == "us-ashburn-1"
        assert finding.location == "components/object_storage.py:77"
        assert finding.enforcement == "mandatory"
        assert finding.severity == "medium"  # checkov gives no severity without a platform key
        assert finding.blocking
        assert check_id in finding.message
        assert "oci_objectstorage_bucket.scratch" in finding.message
    assert "Customer Managed Key" in bad["CKV_OCI_9"].message  # the check's title
    # the plan checkov scanned is the one written out
    plan = json.loads(out.read_text())
    assert plan["preflight"]["addresses"]["oci_objectstorage_bucket.scratch"] == BAD.urn


@pytest.mark.slow
def test_suppression_with_reason_suppresses(tmp_path: Path) -> None:
    suppressions = _write(
        tmp_path,
        """
suppressions:
  - check: CKV_OCI_7
    type: oci:ObjectStorage/bucket:Bucket
    reason: Object events are delivered by the estate-wide Events rule, not per bucket.
  - check: CKV_OCI_10
    urn: "urn:pulumi:*::us-data-residency::*::scratch"
    reason: The scratch bucket holds public test fixtures only.
  - check: CKV_OCI_16
    type: oci_core_security_list
    reason: Not used by this test; reported as unused.
""",
    )
    result = scan(ESTATE, suppressions=suppressions)
    bad = _by(result.findings, BAD.urn)
    assert set(bad) == OCI_BUCKET_CHECKS, "suppressed findings stay in the output"
    assert bad["CKV_OCI_7"].suppressed == (
        "Object events are delivered by the estate-wide Events rule, not per bucket."
    )
    assert bad["CKV_OCI_10"].suppressed == "The scratch bucket holds public test fixtures only."
    assert not bad["CKV_OCI_7"].blocking and not bad["CKV_OCI_10"].blocking
    assert bad["CKV_OCI_8"].blocking and bad["CKV_OCI_9"].blocking
    assert [s.check for s in result.unused_suppressions] == ["CKV_OCI_16"]
    assert result.resource_count == 3  # key + two buckets: checkov read the whole plan


@pytest.mark.slow
def test_graph_checks_follow_references(no_suppressions: Path) -> None:
    """CKV2_AWS_6 (a bucket has a public access block) needs the block -> bucket edge, which
    only exists through the references built from property dependencies."""
    covered = _record(
        "aws:s3/bucket:Bucket", "backups", {"bucket": "backups"}, 10, prov=LEGACY, ident="backups"
    )
    bare = _record("aws:s3/bucket:Bucket", "archive", {"bucket": "archive"}, 11, prov=LEGACY, ident="archive")
    pab = _record(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "backups-pab",
        {
            "bucket": "backups",
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        12,
        prov=LEGACY,
        deps={"bucket": [covered.urn]},
    )
    findings = run_checkov([STACK, LEGACY, covered, bare, pab], suppressions=no_suppressions)
    assert "CKV2_AWS_6" not in _by(findings, covered.urn)
    assert "CKV2_AWS_6" in _by(findings, bare.urn)


@pytest.mark.slow
def test_caller_environment_cannot_switch_checks_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_suppressions: Path
) -> None:
    monkeypatch.setenv("CKV_SKIP_CHECK", "CKV_OCI_7,CKV_OCI_8,CKV_OCI_9,CKV_OCI_10")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".checkov.yaml").write_text("skip-check:\n  - CKV_OCI_9\n")
    findings = run_checkov(ESTATE, suppressions=no_suppressions)
    assert set(_by(findings, BAD.urn)) == OCI_BUCKET_CHECKS


@pytest.mark.slow
def test_unmapped_types_are_reported_as_not_scanned(no_suppressions: Path) -> None:
    odd = _record("random:index/randomId:RandomId", "suffix", {"byteLength": 4.0}, 5)
    findings = run_checkov([STACK, IAD, odd], suppressions=no_suppressions)
    assert [(f.policy, f.urn, f.enforcement) for f in findings] == [(NOT_SCANNED, odd.urn, "advisory")]
    assert "package 'random'" in findings[0].message


# --- the suppressions file ------------------------------------------------------------------


def test_suppression_without_reason_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
suppressions:
  - check: CKV_OCI_7
    type: oci:ObjectStorage/bucket:Bucket
    reason: A real reason for the first one.
  - check: CKV_OCI_8
    type: oci:ObjectStorage/bucket:Bucket
""",
    )
    with pytest.raises(BadInput) as err:
        run_checkov(ESTATE, suppressions=path)
    assert str(path) in err.value.message
    assert "suppressions[1] (CKV_OCI_8)" in err.value.message
    assert "reason" in err.value.message
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("{check: CKV_OCI_8, type: x, reason: '   '}", "no reason given"),
        ("{check: CKV_OCI_8, type: x, reason: TODO}", "no reason given"),
        ("{check: CKV_OCI_8, reason: Because.}", "needs a resource selector"),
        ("{check: 'CKV_OCI_*', type: x, reason: Because.}", "one checkov check id"),
        ("{check: CKV_OCI_8, type: x, reason: Because., expires: 2027-01-01}", "unknown key(s) expires"),
        ("{check: CKV_OCI_8, urn: '', reason: Because.}", "`urn` must be a non-empty string"),
        ("just-a-string", "expected a mapping"),
    ],
)
def test_malformed_suppressions_are_refused(tmp_path: Path, entry: str, complaint: str) -> None:
    path = _write(tmp_path, f"suppressions:\n  - {entry}\n")
    with pytest.raises(BadInput) as err:
        load_suppressions(path)
    assert complaint in err.value.message
    assert f"{path}: suppressions[0]" in err.value.message


def test_suppressions_file_shape(tmp_path: Path) -> None:
    assert load_suppressions(_write(tmp_path, "")) == []
    with pytest.raises(BadInput, match="one key"):
        load_suppressions(_write(tmp_path, "suppression: []\n"))
    with pytest.raises(BadInput, match="not readable YAML"):
        load_suppressions(_write(tmp_path, "suppressions: [\n"))
    with pytest.raises(BadInput, match="not found"):
        load_suppressions(tmp_path / "missing.yaml")
    assert load_suppressions(tmp_path / "missing.yaml", required=False) == []


def test_the_shipped_suppressions_file_is_valid() -> None:
    for rule in load_suppressions(DEFAULT_SUPPRESSIONS):
        assert len(rule.reason) >= 40, f"{rule.entry}: say why in a sentence a reviewer can check"


# --- checkov missing, crashing, hanging, lying ------------------------------------------


def test_missing_checkov_is_an_internal_failure(
    monkeypatch: pytest.MonkeyPatch, no_suppressions: Path
) -> None:
    monkeypatch.setenv(CHECKOV_ENV, "/nonexistent/bin/checkov")
    with pytest.raises(InternalFailure) as err:
        run_checkov(ESTATE, suppressions=no_suppressions)
    assert err.value.exit_code == 3
    assert "checkov not found" in err.value.message


def test_checkov_found_nowhere(tmp_path: Path) -> None:
    with pytest.raises(InternalFailure, match=r"dev\.py bootstrap"):
        find_checkov({"PATH": str(tmp_path)}, repo_root=tmp_path)


def test_checkov_lookup_order(tmp_path: Path) -> None:
    bundled = _fake(tmp_path / ".venv-checkov" / "bin", "checkov", "exit 0")
    on_path = _fake(tmp_path / "path", "checkov", "exit 0")
    explicit = _fake(tmp_path / "elsewhere", "my-checkov", "exit 0")
    assert find_checkov({CHECKOV_ENV: str(explicit)}, repo_root=tmp_path) == explicit
    assert find_checkov({"PATH": str(on_path.parent)}, repo_root=tmp_path) == bundled
    assert find_checkov({"PATH": str(on_path.parent)}, repo_root=tmp_path / "none") == on_path


def _fake(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("echo 'Traceback: boom' >&2; exit 2", "checkov failed (exit 2): Traceback: boom"),
        ("echo 'this is not json'", "not JSON"),
        ("echo '[1, 2]'", "not a report"),
        (
            """echo '{"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}'""",
            "found no resources in a plan with 3",
        ),
        ("sleep 30", "took longer than 1s"),
    ],
)
def test_broken_checkov_fails_closed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_suppressions: Path, body: str, complaint: str
) -> None:
    monkeypatch.setenv(CHECKOV_ENV, str(_fake(tmp_path, "checkov", body)))
    with pytest.raises(InternalFailure) as err:
        run_checkov(ESTATE, suppressions=no_suppressions, timeout=1.0)
    assert complaint in err.value.message


def _report(failed: list[dict[str, Any]], count: int, errors: list[str] | None = None) -> dict[str, Any]:
    return {
        "check_type": "terraform_plan",
        "results": {"failed_checks": failed, "parsing_errors": errors or []},
        "summary": {"passed": 1, "failed": len(failed), "parsing_errors": len(errors or []),
                    "resource_count": count, "checkov_version": "3.3.30"},
    }  # fmt: skip


def test_report_shapes() -> None:
    one = {"check_id": "CKV_OCI_7", "resource": "oci_objectstorage_bucket.a"}
    assert parse_report(json.dumps(_report([one], 2)), 2).failed == [one]
    # several frameworks: a list; only the plan report counts
    other = {"check_type": "secrets", "results": {"failed_checks": [{}]}, "summary": {}}
    assert parse_report(json.dumps([other, _report([one], 2)]), 2).failed == [one]
    empty = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
    assert parse_report(json.dumps(empty), 0).failed == []
    with pytest.raises(InternalFailure, match="could not parse the plan"):
        parse_report(json.dumps(_report([], 0, ["/plan.json"])), 0)
    with pytest.raises(InternalFailure, match="read 1 of the plan's 2"):
        parse_report(json.dumps(_report([], 1)), 2)
    with pytest.raises(InternalFailure, match="no terraform_plan report"):
        parse_report(json.dumps([other]), 1)


def test_module_does_not_import_pulumi() -> None:
    """The bridge must stay importable and cheap without the program's SDKs loaded."""
    import subprocess
    import sys

    code = "import sys, preflight.checkov; print(any(m.startswith('pulumi') for m in sys.modules))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", os.linesep + out.stderr


# --- the prod stack -------------------------------------------------------------------------


@pytest.mark.slow
def test_prod_has_no_unsuppressed_checkov_failure(root: Path) -> None:
    """The target of issue 6: every checkov failure on prod is fixed or suppressed with a reason,
    and checkov read every resource of the plan."""
    from preflight.synth import synthesize

    resources = synthesize(root, "prod").resources
    result = scan(resources)
    blocking = [f"{f.policy} {f.name} ({f.location}): {f.message}" for f in result.findings if f.blocking]
    assert blocking == [], "unsuppressed checkov failures on prod:\n" + "\n".join(blocking)
    assert not [f for f in result.findings if f.policy == NOT_SCANNED]
    assert result.resource_count == len(result.plan.addresses)
    assert result.unused_suppressions == [], "a suppression that matches nothing is stale"


@pytest.mark.slow
def test_batched_scans_equal_one_scan(no_suppressions: Path) -> None:
    """Large plans are scanned in batches of whole connected groups; the findings must be the
    same as one run over the whole plan, graph checks included."""
    s3 = "aws:s3/bucket:Bucket"
    covered = _record(s3, "backups", {"bucket": "backups"}, 10, prov=LEGACY, ident="backups")
    pab = _record(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "backups-pab",
        {"bucket": "backups", "blockPublicAcls": True, "blockPublicPolicy": True},
        12,
        prov=LEGACY,
        deps={"bucket": [covered.urn]},
    )
    estate = [*ESTATE, LEGACY, covered, pab]
    whole = scan(estate, suppressions=no_suppressions)
    batched = scan(estate, suppressions=no_suppressions, chunk_size=2)
    assert len(chunks(whole.plan.plan, 2)) > 2
    key = [(f.urn, f.policy, f.suppressed) for f in whole.findings]
    assert [(f.urn, f.policy, f.suppressed) for f in batched.findings] == key
    assert batched.resource_count == whole.resource_count == len(whole.plan.addresses)
