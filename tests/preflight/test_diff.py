"""preflight diff: against temporary git repositories holding two commits of a small Pulumi project.

The fixture program below is a real Pulumi Python program (pulumi-oci, pulumi-aws, a policy
pack of one mandatory policy); each scenario commits a base and a head version of its stack
file and runs the diff of HEAD against HEAD~1, so synthesis, the worktree and the pack all run
for real. The unit tests at the end cover what needs no program: value diffs, masking,
truncation, the replace table against the installed SDKs and docs/replacements.md.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from preflight import diff as pdiff
from preflight.errors import BadInput, InternalFailure
from preflight.model import Finding, ResourceRecord
from preflight.replacements import DOC_FILE, load_table, render_markdown

ROOT = Path(__file__).resolve().parents[2]
SITE_PACKAGES = Path(pytest.importorskip("pulumi_oci").__file__).resolve().parents[1]

PROGRAM = '''\
"""A small estate: per region an OCI provider, a VCN and a protected bucket; legacy sites on S3."""

import pulumi
import pulumi_aws as aws
import pulumi_oci as oci

cfg = pulumi.Config()
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaafixture"
regions = cfg.require_object("regions")
team = cfg.get("team") or "storage"
bucket_name = cfg.get("bucketName") or "media"
logical = cfg.get("bucketLogicalName") or "media"
residency = cfg.get("residencyTag") or "us-only"
api_key = cfg.require_secret("apiKey")
token = cfg.get("apiToken") or "none"
versioning = cfg.get("versioning") or "Enabled"

for i, region in enumerate(regions):
    provider = oci.Provider(f"oci-{region}", region=region)
    oci.core.Vcn(
        f"vcn-{region}",
        compartment_id=COMPARTMENT,
        cidr_blocks=[f"10.{10 + i}.0.0/16"],
        freeform_tags={"team": "network"},
        opts=pulumi.ResourceOptions(provider=provider),
    )
    oci.objectstorage.Bucket(
        f"{logical}-{region}",
        compartment_id=COMPARTMENT,
        namespace="fixturens",
        name=f"{bucket_name}-{region}",
        freeform_tags={"team": team, "data-residency": residency, "api-token": token},
        metadata={"api-key": api_key},
        kms_key_id=f"ocid1.key.oc1.{region}.aaaaaaaafixturekey",
        versioning=versioning,
        object_events_enabled=True,
        access_type="NoPublicAccess",
        opts=pulumi.ResourceOptions(provider=provider, protect=True),
    )

for site, spec in (cfg.get_object("legacySites") or {}).items():
    provider = aws.Provider(
        f"{site}-s3",
        region=spec["awsRegion"],
        skip_credentials_validation=True,
        skip_region_validation=True,
        skip_requesting_account_id=True,
    )
    aws.s3.Bucket(
        f"{site}-backups",
        bucket=f"{site}-backups",
        tags={"legacy-site": site},
        opts=pulumi.ResourceOptions(provider=provider, protect=True),
    )
'''

PACK = """\
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def bucket_residency_tag(args, report_violation):
    if args.resource_type == "oci:ObjectStorage/bucket:Bucket":
        tags = args.props.get("freeformTags") or {}
        if tags.get("data-residency") != "us-only":
            report_violation("bucket must be tagged data-residency=us-only")


PolicyPack(
    "fixture-pack",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="bucket-residency-tag",
            description="Buckets carry the data-residency tag.",
            validate=bucket_residency_tag,
        )
    ],
)
"""

BASE: dict[str, Any] = {
    "fixture-estate:regions": ["us-ashburn-1"],
    "fixture-estate:apiKey": "hunter2-base-value",
    "fixture-estate:legacySites": {"legacy-sg": {"awsRegion": "ap-southeast-1", "sunset": "2027-06-30"}},
}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _stack_file(repo: Path, config: dict[str, Any]) -> None:
    (repo / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=True))


def make_repo(tmp_path: Path, head: dict[str, Any], *, base: dict[str, Any] | None = None) -> Path:
    """A git repo whose HEAD~1 has the `base` stack config and whose HEAD has `head`."""
    repo = tmp_path / "estate"
    (repo / "policies").mkdir(parents=True)
    (repo / "Pulumi.yaml").write_text("name: fixture-estate\nruntime: python\n")
    (repo / "__main__.py").write_text(PROGRAM)
    (repo / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\ndescription: fixture pack\n")
    (repo / "policies" / "__main__.py").write_text(PACK)
    _stack_file(repo, base if base is not None else BASE)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _stack_file(repo, head)
    _git(repo, "commit", "-q", "--allow-empty", "-am", "head")
    return repo


def run(repo: Path, base: str = "HEAD~1", *, checkov: bool = False) -> tuple[pdiff.DiffResult, str]:
    # checkov costs ~8 s a side; the tests that are about it turn it on.
    options = pdiff.Options(base=base, project_dir=repo, stack="dev", no_checkov=not checkov)
    result = pdiff.run_diff(options)
    return result, pdiff.render_markdown(result)


def by_name(result: pdiff.DiffResult, name: str) -> pdiff.ResourceChange:
    found = [c for c in result.changes if c.name == name]
    assert len(found) == 1, f"expected one change for {name}, got {[c.name for c in result.changes]}"
    return found[0]


def worktrees(repo: Path) -> list[str]:
    return [
        ln for ln in _git(repo, "worktree", "list", "--porcelain").splitlines() if ln.startswith("worktree ")
    ]


# --------------------------------------------------------------------------- the four scenarios


@pytest.mark.slow
def test_adding_a_region_creates_only(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {**BASE, "fixture-estate:regions": ["us-ashburn-1", "us-phoenix-1"]})
    result, md = run(repo)

    assert result.counts == {"create": 3, "update": 0, "replace": 0, "delete": 0, "unchanged": 5}
    created = {(c.type, c.name, c.region) for c in result.changes}
    assert created == {
        ("pulumi:providers:oci", "oci-us-phoenix-1", "us-phoenix-1"),
        ("oci:Core/vcn:Vcn", "vcn-us-phoenix-1", "us-phoenix-1"),
        ("oci:ObjectStorage/bucket:Bucket", "media-us-phoenix-1", "us-phoenix-1"),
    }
    assert not result.blocked and result.exit_code == 0
    assert "BLOCKING" not in md
    assert "| 3 | 0 | 0 | 0 | 5 |" in md
    # The residency map shows the new region as added, the old one unchanged.
    assert re.search(r'p\d+\["us-phoenix-1<br/>new · 2 resources"\]:::added', md), md
    assert re.search(r'p\d+\["us-ashburn-1<br/>2 resources"\]:::same', md), md
    assert "| us-phoenix-1 | 0 | 2 | create 2 |" in md


@pytest.mark.slow
def test_changing_a_tag_is_an_in_place_update(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {**BASE, "fixture-estate:team": "media"})
    result, md = run(repo)

    assert result.counts["update"] == 1
    assert result.counts["create"] == result.counts["replace"] == result.counts["delete"] == 0
    bucket = by_name(result, "media-us-ashburn-1")
    assert bucket.action == "update" and not bucket.reasons and not bucket.blocking
    assert [(p.path, p.old, p.new, p.replaces) for p in bucket.properties] == [
        ("freeformTags.team", "storage", "media", None)
    ]
    assert not result.blocked
    assert '- freeformTags.team: "storage"\n+ freeformTags.team: "media"\n' in md
    assert "BLOCKING" not in md


@pytest.mark.slow
def test_renaming_a_protected_bucket_is_a_blocking_replace(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {**BASE, "fixture-estate:bucketName": "media-v2"})
    out = tmp_path / "comment.md"
    proc = subprocess.run(
        [sys.executable, "-m", "preflight.diff", "--base", "HEAD~1", "--stack", "dev", "--out", str(out)],
        cwd=repo,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "USDR_TODAY": "2026-11-29"},
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "BLOCKING: 1 change(s)" in proc.stderr
    md = out.read_text()

    result, _ = run(repo)
    bucket = by_name(result, "media-us-ashburn-1")
    assert bucket.action == "replace"
    assert bucket.reasons == ["`name` changed"]
    assert bucket.blocking == [
        "protected (`pulumi up` refuses until it is unprotected)",
        "data-bearing: Object Storage bucket (US user data)",
    ]
    assert result.counts == {"create": 0, "update": 0, "replace": 1, "delete": 0, "unchanged": 4}
    # The blocking section comes first, before the summary, and names the remedy.
    assert md.index("BLOCKING") < md.index("#### Summary")
    assert re.search(r"\| \*\*replace\*\* \| `media-us-ashburn-1` `Bucket` \| us-ashburn-1 \| protected", md)
    assert "docs/replacements.md#create-then-migrate" in md
    assert '+ name: "media-v2-us-ashburn-1"   # forces replacement:' in md


@pytest.mark.slow
def test_removing_a_legacy_site_shows_the_delete_with_its_sunset(tmp_path: Path) -> None:
    head = {k: v for k, v in BASE.items() if k != "fixture-estate:legacySites"}
    repo = make_repo(tmp_path, head)
    result, md = run(repo)

    assert result.counts == {"create": 0, "update": 0, "replace": 0, "delete": 2, "unchanged": 3}
    bucket = by_name(result, "legacy-sg-backups")
    assert bucket.action == "delete" and bucket.type == "aws:s3/bucket:Bucket"
    # USDR_TODAY is pinned to 2026-11-29 (tests/conftest.py).
    assert bucket.sunset == "2027-06-30 (in 213 days)"
    assert bucket.blocking and result.exit_code == 1
    assert "legacy site sunset **2027-06-30 (in 213 days)**" in md
    assert md.index("legacy-sg-backups") < md.index("#### Summary")
    assert re.search(r'\["ap-southeast-1 · legacy-sg-s3<br/>removed · 1 resources"\]:::removed', md), md


# --------------------------------------------------------------------------- findings, secrets, git


@pytest.mark.slow
def test_policy_findings_introduced_block_and_resolved_pass(tmp_path: Path) -> None:
    bad = {**BASE, "fixture-estate:residencyTag": "anywhere"}
    result, md = run(make_repo(tmp_path / "a", bad))
    assert [(f.policy, f.name, f.enforcement) for f in result.findings.introduced] == [
        ("bucket-residency-tag", "media-us-ashburn-1", "mandatory")
    ]
    assert result.findings.introduced_blocking and result.exit_code == 1
    assert "1 blocking policy finding introduced" in md

    result, md = run(make_repo(tmp_path / "b", BASE, base=bad))
    assert [f.name for f in result.findings.resolved] == ["media-us-ashburn-1"]
    assert not result.findings.introduced and result.exit_code == 0
    assert "**1 resolved**" in md


@pytest.mark.slow
def test_checkov_findings_introduced_by_the_change_block(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {**BASE, "fixture-estate:versioning": "Disabled"})
    result, md = run(repo, checkov=True)
    introduced = [(f.source, f.name) for f in result.findings.introduced]
    assert ("checkov", "media-us-ashburn-1") in introduced, introduced
    assert all(src == "checkov" for src, _ in introduced)
    assert result.findings.introduced_blocking and result.exit_code == 1
    assert "checkov was not run" not in md
    # The same pair without checkov: the update alone does not block, and the comment says so.
    result, md = run(repo)
    assert not result.blocked and "checkov was not run (--no-checkov)" in md


@pytest.mark.slow
def test_secrets_are_never_shown(tmp_path: Path) -> None:
    head = {
        **BASE,
        "fixture-estate:apiKey": "hunter2-head-value",
        "fixture-estate:apiToken": "tok-head-value",
    }
    base = {**BASE, "fixture-estate:apiToken": "tok-base-value"}
    repo = make_repo(tmp_path, head, base=base)
    result, md = run(repo)
    js = pdiff.render_json(result)
    for text in (md, js):
        for secret in ("hunter2", "tok-base-value", "tok-head-value"):
            assert secret not in text
    change = by_name(result, "media-us-ashburn-1")
    token = [p for p in change.properties if p.path == "freeformTags.api-token"]
    assert token and token[0].secret and (token[0].old, token[0].new) == ("[secret]", "[secret]")
    assert "+ freeformTags.api-token: [secret]   # secret changed" in md


@pytest.mark.slow
def test_worktree_is_removed_and_working_tree_untouched_even_on_failure(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {**BASE, "fixture-estate:team": "media"})
    (repo / "notes.txt").write_text("uncommitted\n")
    status = _git(repo, "status", "--porcelain")
    run(repo)
    assert worktrees(repo) == [f"worktree {repo.resolve()}"]
    assert _git(repo, "status", "--porcelain") == status

    # A base whose program raises: exit 3, and the worktree is still cleaned up.
    (repo / "__main__.py").write_text("raise RuntimeError('broken at base')\n")
    _git(repo, "commit", "-q", "-am", "broken")
    (repo / "__main__.py").write_text(PROGRAM)
    _git(repo, "commit", "-q", "-am", "fixed")
    with pytest.raises(InternalFailure, match="broken at base"):
        run(repo)
    assert worktrees(repo) == [f"worktree {repo.resolve()}"]
    assert not list(Path(repo / ".git" / "worktrees").glob("*"))


@pytest.mark.slow
def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, BASE)
    assert pdiff.main(["--project-dir", str(repo), "--base", "no-such-ref", "--stack", "dev"]) == 2
    assert "--base: 'no-such-ref' is not a commit" in capsys.readouterr().err
    assert pdiff.main(["--project-dir", str(repo), "--base=--upload-pack=x", "--stack", "dev"]) == 2
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (plain / "__main__.py").write_text("")
    assert pdiff.main(["--project-dir", str(plain), "--base", "HEAD", "--stack", "dev"]) == 2
    assert "not inside a git repository" in capsys.readouterr().err


@pytest.mark.slow
def test_a_stack_new_in_this_change_is_all_creates(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, BASE)
    (repo / "Pulumi.dev.yaml").rename(repo / "Pulumi.qa.yaml")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "qa")
    result = pdiff.run_diff(pdiff.Options(base="HEAD~1", project_dir=repo, stack="qa", no_checkov=True))
    assert result.counts["create"] == 5 and result.counts["delete"] == 0
    assert any("did not exist at the base" in n for n in result.notes)


@pytest.mark.slow
def test_the_real_program_removing_a_legacy_site_blocks_with_its_sunset(tmp_path: Path) -> None:
    """This project's own program and pack (staging): the decommission PR is loud and blocked."""
    repo = tmp_path / "real"
    repo.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv")
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "__main__.py", "preflight-lookups.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    for name in ("stacks", "components", "policies"):
        shutil.copytree(ROOT / name, repo / name, ignore=skip)
    (repo / ".venv").symlink_to(ROOT / ".venv")
    # The pack's virtualenv is policies/.venv, in this repository a link to ../.venv (dev.py).
    (repo / "policies" / ".venv").symlink_to(Path("..") / ".venv", target_is_directory=True)
    (repo / ".gitignore").write_text(".venv\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    stack_file = repo / "Pulumi.staging.yaml"
    text = stack_file.read_text()
    head = re.sub(r"  us-data-residency:legacySites:\n(?:    .*\n)+", "", text)
    assert head != text, "Pulumi.staging.yaml has no legacySites block to remove"
    stack_file.write_text(head)
    _git(repo, "commit", "-q", "-am", "decommission legacy-us-east")

    result = pdiff.run_diff(pdiff.Options(base="HEAD~1", project_dir=repo, stack="staging", no_checkov=True))
    md = pdiff.render_markdown(result)

    assert result.exit_code == 1 and result.counts["create"] == 0
    buckets = [c for c in result.changes if c.type == "aws:s3/bucket:Bucket"]
    assert buckets and all(c.action == "delete" for c in buckets)
    for bucket in buckets:
        assert bucket.sunset == "2027-09-30 (in 305 days)", bucket
        assert any(b.startswith("data-bearing") for b in bucket.blocking)
        assert f"`{bucket.name}` `Bucket`" in md.split("#### Summary")[0]
    # The OCI side of the link (CPE, IPSec, routes) goes too, but only the site's buckets block.
    assert {c.region for c in result.blocking_changes} == {"us-east-1"}
    assert any(c.action == "delete" and c.region == "us-chicago-1" for c in result.changes)
    assert re.search(r'\["us-east-1 · legacy-us-east-s3<br/>removed · \d+ resources"\]:::removed', md), md
    assert worktrees(repo) == [f"worktree {repo.resolve()}"]


# --------------------------------------------------------------------------- unit: values and masking


def rec(name: str, inputs: dict[str, Any], **kw: Any) -> ResourceRecord:
    type_ = kw.pop("type", "oci:ObjectStorage/bucket:Bucket")
    return ResourceRecord(
        urn=kw.pop("urn", f"urn:pulumi:dev::p::{type_}::{name}"),
        type=type_,
        name=name,
        custom=True,
        parent="urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
        provider=kw.pop("provider", None),
        region=kw.pop("region", "us-ashburn-1"),
        region_source="provider",
        inputs=inputs,
        outputs={},
        **kw,
    )


def test_scalar_lists_diff_by_insertion_not_by_index() -> None:
    changes = pdiff.diff_values(
        {"cidrBlocks": ["10.1.0.0/16", "10.2.0.0/16"]},
        {"cidrBlocks": ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"]},
    )
    assert [(c.path, c.old, c.new) for c in changes] == [("cidrBlocks[0]", pdiff.MISSING, "10.0.0.0/16")]


def test_removing_one_of_several_blocks_shows_only_that_block() -> None:
    rules = [
        {"destination": d, "description": f"to {d}"} for d in ("10.0.0.0/8", "172.16.0.0/16", "0.0.0.0/0")
    ]
    changes = pdiff.diff_values({"routeRules": rules}, {"routeRules": [rules[0], rules[2]]})
    assert [(c.path, c.old, c.new) for c in changes] == [
        ("routeRules[1].description", "to 172.16.0.0/16", pdiff.MISSING),
        ("routeRules[1].destination", "172.16.0.0/16", pdiff.MISSING),
    ]


def test_absent_null_and_empty_are_the_same_and_nested_paths_are_stable() -> None:
    assert pdiff.diff_values({"a": None, "b": {}}, {"c": []}) == []
    changes = pdiff.diff_values(
        {"keyShape": {"length": 32.0, "algorithm": "AES"}}, {"keyShape": {"length": 32, "algorithm": "RSA"}}
    )
    assert [(c.path, c.old, c.new) for c in changes] == [("keyShape.algorithm", "AES", "RSA")]
    changes = pdiff.diff_values({}, {"tags": {"a.b": "1", "z": "2"}})
    assert [c.path for c in changes] == ['tags["a.b"]', "tags.z"]


def test_a_changed_secret_is_masked_in_the_pr_diff_however_the_program_marked_it() -> None:
    """The PR comment's property changes go through preflight/masking.py like every other output:
    secret-named keys, additionalSecretOutputs, a value secret elsewhere, credential-looking text,
    and the engine's wire secret form (while an asset's wire form is not a secret)."""
    wire = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "wire-plain-1"}
    asset = {"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", "path": "a.txt"}
    old = rec(
        "cfg",
        {"nested": {"sharedSecret": "nested-plain-1"}, "opaque": "aso-plain-1", "copy": "x",
         "note": "key AKIAABCDEFGHIJKLMNOP", "wire": "w", "file": "f", "isSecretRotationEnabled": False},
        options={"additionalSecretOutputs": ["opaque"]},
    )  # fmt: skip
    new = rec(
        "cfg",
        {"nested": {"sharedSecret": "nested-plain-2"}, "opaque": "aso-plain-2", "copy": "known-plain-2",
         "note": "key AKIAQRSTUVWXYZ234567", "wire": wire, "file": asset, "isSecretRotationEnabled": True},
        options={"additionalSecretOutputs": ["opaque"]},
    )  # fmt: skip
    # A second resource whose secret-named input holds the value the first one copies.
    holder = rec("holder", {"adminPassword": "known-plain-2"})
    result = pdiff.compare(pdiff.Side([old, holder]), pdiff.Side([new, holder]), stack="s")
    shown = {p.path: (p.old, p.new) for c in result.changes for p in c.properties}
    assert shown["nested.sharedSecret"] == ("[secret]", "[secret]")
    assert shown["opaque"] == ("[secret]", "[secret]")
    assert shown["copy"] == ("x", "[secret]")
    assert shown["note"] == ("key [secret]", "key [secret]")
    assert shown["wire"] == ("w", "[secret]")
    assert shown["file"][1] == asset  # an asset is shown
    assert shown["isSecretRotationEnabled"] == (False, True)  # a boolean is never a secret
    for text in (pdiff.render_markdown(result), pdiff.render_json(result)):
        for planted in ("plain-1", "plain-2", "AKIA"):
            assert planted not in text


def test_disabled_policies_are_named_in_the_pr_comment_and_json() -> None:
    r = rec("b", {"name": "b"})
    on = [{"name": "residency", "enforcement": "mandatory"}, {"name": "kms", "enforcement": "mandatory"}]
    off = [{"name": "residency", "enforcement": "disabled"}, {"name": "kms", "enforcement": "mandatory"}]
    result = pdiff.compare(pdiff.Side([r], policies=on), pdiff.Side([r], policies=off), stack="s")
    md = pdiff.render_markdown(result)
    assert "1 of 2 policies disabled by the policy config: residency (1 newly disabled by this change)" in md
    assert json.loads(pdiff.render_json(result))["policies_disabled"] == ["residency"]
    assert "1 of 2 policies disabled" in pdiff.summary_line(result)
    quiet = pdiff.compare(pdiff.Side([r], policies=on), pdiff.Side([r], policies=on), stack="s")
    assert "disabled" not in pdiff.render_markdown(quiet)


def test_logical_rename_pairs_into_one_replace_and_an_alias_makes_it_no_change() -> None:
    inputs = {"name": "media", "namespace": "ns", "compartmentId": "c", "freeformTags": {"a": "1"}}
    old = rec("media", inputs, protect=True)
    new = rec("media-renamed", dict(inputs), protect=True)
    result = pdiff.compare(pdiff.Side([old]), pdiff.Side([new]), stack="dev")
    assert [(c.action, c.name, c.old_urn) for c in result.changes] == [("replace", "media-renamed", old.urn)]
    assert result.changes[0].reasons[0].startswith("URN changed")
    assert result.blocked

    aliased = rec("media-renamed", dict(inputs), protect=True, options={"aliases": [old.urn]})
    result = pdiff.compare(pdiff.Side([old]), pdiff.Side([aliased]), stack="dev")
    assert result.changes == [] and result.unchanged == 1 and not result.blocked


def test_region_change_ignore_changes_replace_on_changes_and_retain_on_delete() -> None:
    a = rec("vcn", {"displayName": "a"}, type="oci:Core/vcn:Vcn")
    moved = rec("vcn", {"displayName": "a"}, type="oci:Core/vcn:Vcn", region="us-phoenix-1")
    assert pdiff.compare(pdiff.Side([a]), pdiff.Side([moved]), stack="s").changes[0].action == "replace"

    ignored = rec(
        "vcn", {"displayName": "b"}, type="oci:Core/vcn:Vcn", options={"ignoreChanges": ["displayName"]}
    )
    assert pdiff.compare(pdiff.Side([a]), pdiff.Side([ignored]), stack="s").changes == []

    forced = rec(
        "vcn", {"displayName": "b"}, type="oci:Core/vcn:Vcn", options={"replaceOnChanges": ["displayName"]}
    )
    assert pdiff.compare(pdiff.Side([a]), pdiff.Side([forced]), stack="s").changes[0].action == "replace"

    kept = rec("logs", {"name": "x"}, protect=False, options={"retainOnDelete": True})
    result = pdiff.compare(pdiff.Side([kept]), pdiff.Side([]), stack="s")
    assert result.changes[0].action == "delete" and not result.blocked


def test_sunset_comes_from_a_tag_when_the_config_does_not_say() -> None:
    bucket = rec(
        "old-backups", {"bucket": "b", "tags": {"sunset": "2027-01-31"}}, type="aws:s3/bucket:Bucket"
    )
    result = pdiff.compare(pdiff.Side([bucket]), pdiff.Side([]), stack="s")
    assert result.changes[0].sunset == "2027-01-31 (in 63 days)"


# --------------------------------------------------------------------------- unit: truncation


def _big_result(n: int) -> pdiff.DiffResult:
    changes = []
    for i in range(n):
        props = [pdiff.PropertyChange(f"freeformTags.k{j}", "x" * 80, "y" * 80) for j in range(10)]
        changes.append(
            pdiff.ResourceChange(
                "update",
                f"urn:pulumi:s::p::t::r{i:05d}",
                "oci:Core/vcn:Vcn",
                f"r{i:05d}",
                "us-ashburn-1",
                properties=props,
            )
        )
    blocking = pdiff.ResourceChange(
        "delete",
        "urn:pulumi:s::p::b::gone",
        "oci:ObjectStorage/bucket:Bucket",
        "gone",
        "us-ashburn-1",
        blocking=["protected"],
    )
    empty = pdiff.RegionDelta([], [], [], [])
    return pdiff.DiffResult("s", "base", "head", [blocking, *changes], 0, pdiff.FindingDelta(), empty)


def test_markdown_stays_under_64000_chars_and_counts_what_was_left_out() -> None:
    result = _big_result(2_000)
    md = pdiff.render_markdown(result)
    assert len(md) < 64_000
    shown = md.count("<details><summary><b>update</b>")
    left = int(re.search(r"left out (\d+) resource diffs", md).group(1))  # type: ignore[union-attr]
    assert shown > 10 and shown + left == 2_000
    assert md.index("BLOCKING") < md.index("#### Summary") < md.index("Truncated")
    assert md.count("<details>") == md.count("</details>")

    small = pdiff.render_markdown(_big_result(3))
    assert "Truncated" not in small and small.count("<details><summary><b>update</b>") == 3


def test_huge_values_and_backticks_cannot_break_the_comment() -> None:
    weird = "```\n</details> | <!-- `x` -->" + "z" * 10_000
    change = pdiff.ResourceChange(
        "update",
        "urn:x",
        "oci:Core/vcn:Vcn",
        "v`|<b>",
        "us-ashburn-1",
        properties=[pdiff.PropertyChange("displayName", "a", weird)],
    )
    result = pdiff.DiffResult(
        "s", "b", "h", [change], 0, pdiff.FindingDelta(), pdiff.RegionDelta([], [], [], [])
    )
    md = pdiff.render_markdown(result)
    assert len(md) < 12_000 and "more chars" in md
    # The value holds a ``` run: the fence around it is longer, so it stays code (and its
    # </details> text with it); the real closing tag comes after the fence.
    assert "````diff\n" in md and md.rstrip().endswith("````\n\n</details>")
    assert "<b>v`|&lt;b&gt;</b>" in md


# --------------------------------------------------------------------------- unit: findings


def _finding(urn: str, enforcement: str = "mandatory", waiver: str | None = None) -> Finding:
    return Finding("pack", "p1", enforcement, "high", urn, "t", "n", "us-ashburn-1", "m", None, waiver)  # type: ignore[arg-type]


def test_a_waiver_shows_as_changed_and_a_lost_waiver_blocks() -> None:
    r = rec("b", {"name": "b"})
    waived, strict = _finding(r.urn, "advisory", "legacy-sg"), _finding(r.urn)
    result = pdiff.compare(pdiff.Side([r], [strict]), pdiff.Side([r], [waived]), stack="s")
    assert len(result.findings.changed) == 1 and not result.blocked
    result = pdiff.compare(pdiff.Side([r], [waived]), pdiff.Side([r], [strict]), stack="s")
    assert result.findings.introduced_blocking and result.blocked
    result = pdiff.compare(pdiff.Side([r], [strict]), pdiff.Side([r], [strict]), stack="s")
    assert not result.blocked and result.findings.still_blocking == 1


# --------------------------------------------------------------------------- the replace table


# `@pulumi.getter(name="wireName")`, maybe more decorators, then `def snake_name(`.
GETTER = r'@pulumi\.getter(?:\(name="(\w+)"\))?\n(?:    @[^\n]*\n)*    def (\w+)\('


def _oci_sdk_inputs(token: str) -> dict[str, bool]:
    """wire input name -> fixed at creation (no "(Updatable)" in the SDK docstring)."""
    module, name = token.split(":")[1].split("/")
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    source = (SITE_PACKAGES / "pulumi_oci" / module.lower() / f"{snake}.py").read_text()
    args = source.split("class _")[0]
    params = dict(re.findall(r":param [^\n]*?\] (\w+): (.*)", args))
    wire = {py: (w or py) for w, py in re.findall(GETTER, args)}
    return {wire.get(k, k): not v.startswith("(Updatable)") for k, v in params.items()}


def _aws_sdk_inputs(token: str) -> set[str]:
    module, name = token.split(":")[1].split("/")
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    source = (SITE_PACKAGES / "pulumi_aws" / module / f"{snake}.py").read_text()
    args = source.split("class _")[0]
    return {w or py for w, py in re.findall(GETTER, args)}


def test_oci_replace_lists_are_exactly_what_the_sdk_says_is_fixed_at_creation() -> None:
    table = load_table()
    checked = 0
    for token, rule in table.types.items():
        if not token.startswith("oci:"):
            continue
        sdk = _oci_sdk_inputs(token)
        fixed = {k for k, v in sdk.items() if v}
        listed = set(rule.replace) | set(rule.not_replace)
        assert listed == fixed, f"{token}: table {sorted(listed)} vs SDK not-(Updatable) {sorted(fixed)}"
        unknown = set(rule.caution) - set(sdk)
        assert not unknown, f"{token}: caution names inputs the SDK does not have: {unknown}"
        checked += 1
    assert checked >= 30


def test_aws_and_provider_properties_exist_in_the_sdk() -> None:
    table = load_table()
    for token, rule in table.types.items():
        if token.startswith("aws:"):
            inputs = _aws_sdk_inputs(token)
            missing = (set(rule.replace) | set(rule.caution)) - inputs
            assert not missing, f"{token}: not inputs of the SDK: {missing}"
    assert table.forces_replacement("pulumi:providers:oci", "region")
    assert table.forces_replacement("oci:Kms/key:Key", "keyShape.length")
    assert table.forces_replacement("oci:ObjectStorage/bucket:Bucket", "freeformTags.x") is None
    assert table.data_bearing("aws:s3/bucket:Bucket") and not table.data_bearing("oci:Core/vcn:Vcn")


def test_replacements_doc_is_generated_from_the_table() -> None:
    assert DOC_FILE.read_text() == render_markdown(load_table()), (
        "docs/replacements.md is stale: run python -m preflight.replacements --write"
    )


def test_every_type_the_program_declares_is_in_the_table() -> None:
    """The components' resource classes, read from source: a new type must bring its replace facts."""
    table = load_table()
    sources = [*(ROOT / "components").glob("*.py"), *(ROOT / "stacks").glob("*.py")]
    text = "\n".join(p.read_text() for p in sources)
    oci_classes = set(re.findall(r"\boci\.([a-z]+)\.([A-Z][A-Za-z]+)\(", text))
    s3_classes = set(re.findall(r"\b(?:S3|aws\.s3)\.([A-Z][A-Za-z0-9]+)\(", text))
    declared = {
        f"oci:{module}:{cls}"
        for module, cls in oci_classes
        if not cls.endswith("Args") and not cls.startswith("Get")
    }
    known = {
        (t.split(":")[1].split("/")[0].lower(), t.rsplit(":", 1)[1])
        for t in table.types
        if t.startswith("oci:")
    }
    missing = sorted(f"oci.{m}.{c}" for m, c in oci_classes if (m, c) not in known and not c.endswith("Args"))
    missing += sorted(
        f"aws.s3.{c}"
        for c in s3_classes
        if not c.endswith("Args") and not any(t.endswith(f":{c}") for t in table.types)
    )
    assert declared, "found no OCI resource classes in components/ — the scan is broken"
    assert not missing, f"add these to preflight/data/replace_properties.yaml: {missing}"


def test_json_output_is_one_object_with_the_summary() -> None:
    r = rec("b", {"name": "b"})
    result = pdiff.compare(pdiff.Side([r]), pdiff.Side([]), stack="s")
    data = json.loads(pdiff.render_json(result))
    assert data["summary"]["delete"] == 1 and data["summary"]["blocked"] is True
    assert data["changes"][0]["blocking"]


def test_options_reject_unsupported_formats() -> None:
    import argparse

    ns = argparse.Namespace(base="main", format="sarif")
    with pytest.raises(BadInput, match="markdown or json"):
        pdiff.options_from_args(ns)
