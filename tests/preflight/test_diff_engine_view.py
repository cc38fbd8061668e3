"""preflight diff says what the engine would do (issue 17): a provider change replaces, an
aliased rename changes nothing that refers to it, a default provider's version bump changes
nothing. Two-commit repositories of a small real program, diffed for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from preflight import diff as pdiff

PROGRAM = '''\
"""A legacy site's protected bucket and its attachments, on one of two S3-compatible endpoints."""

import json

import pulumi
import pulumi_aws as aws

cfg = pulumi.Config()
endpoints = {"east": "https://s3.dc-east.example.com", "east-new": "https://s3.dc-east-2.example.com"}
site = cfg.get("site") or "east"
if site not in endpoints:  # the program's own settings validation, as stacks/settings.py does it
    raise pulumi.RunError(f"Pulumi.dev.yaml: fixture-legacy:site: {site!r} is not one of {sorted(endpoints)}")
logical = cfg.get("logical") or "backups"
aliases = [pulumi.Alias(name=a) for a in cfg.get_object("aliases") or []]
version = cfg.get("awsVersion")
deny = cfg.get_object("deny") or ["s3:DeleteObject"]
restorer = cfg.get("restorer") or "arn:aws:iam::111122223333:role/restore"
reorder = cfg.get_bool("reorder") or False

providers = {
    name: aws.Provider(
        f"{name}-s3",
        region="us-east-1",
        endpoints=[aws.ProviderEndpointArgs(s3=url)],
        skip_credentials_validation=True,
        skip_region_validation=True,
        skip_requesting_account_id=True,
    )
    for name, url in endpoints.items()
}
bucket = aws.s3.Bucket(
    logical,
    bucket="legacy-backups",
    tags={"legacy-site": "east"},
    opts=pulumi.ResourceOptions(provider=providers[site], protect=True, aliases=aliases),
)
aws.s3.BucketVersioning(
    "backups-versioning",
    bucket=bucket.id,
    versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
    opts=pulumi.ResourceOptions(provider=providers[site]),
)
aws.s3.BucketPolicy(
    "backups-policy",
    bucket=bucket.id,
    policy=bucket.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "RestoreOnly", "Effect": "Allow", "Principal": {"AWS": restorer},
                     "Action": ["s3:GetObject"], "Resource": f"{arn}/*"},
                    {"Sid": "DenyDelete", "Effect": "Deny", "Principal": "*",
                     "Action": deny, "Resource": f"{arn}/*"},
                ][:: -1 if reorder else 1],
            },
            indent=2 if reorder else None,
        )
    ),
    opts=pulumi.ResourceOptions(provider=providers[site]),
)
# On the default provider: a version bump renames the default provider, nothing else.
aws.s3.Bucket("scratch", bucket="scratch", opts=pulumi.ResourceOptions(version=version) if version else None)
'''

PACK = """\
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

PolicyPack(
    "fixture-pack",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[ResourceValidationPolicy(name="noop", description="Nothing.", validate=lambda a, r: None)],
)
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def diff(tmp_path: Path, base: dict[str, Any], head: dict[str, Any]) -> pdiff.DiffResult:
    repo = make_repo(tmp_path, base, head)
    return pdiff.run_diff(pdiff.Options(base="HEAD~1", project_dir=repo, stack="dev", no_checkov=True))


def make_repo(tmp_path: Path, base: dict[str, Any], head: dict[str, Any]) -> Path:
    repo = tmp_path / "estate"
    (repo / "policies").mkdir(parents=True)
    (repo / "Pulumi.yaml").write_text("name: fixture-legacy\nruntime: python\n")
    (repo / "__main__.py").write_text(PROGRAM)
    (repo / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\ndescription: fixture pack\n")
    (repo / "policies" / "__main__.py").write_text(PACK)

    def stack(config: dict[str, Any]) -> None:
        full = {"aws:region": "us-east-1", **{f"fixture-legacy:{k}": v for k, v in config.items()}}
        (repo / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": full}))

    stack(base)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    stack(head)
    git(repo, "commit", "-q", "--allow-empty", "-am", "head")
    return repo


def actions(result: pdiff.DiffResult) -> dict[str, str]:
    return {c.name: c.action for c in result.changes}


@pytest.mark.slow
def test_moving_a_protected_bucket_to_another_endpoint_is_a_blocking_replace(tmp_path: Path) -> None:
    """Same region string, another provider resource with another endpoint: the engine's
    DiffConfig sees a different configuration, so the bucket is deleted and created anew."""
    result = diff(tmp_path, {}, {"site": "east-new"})
    bucket = next(c for c in result.changes if c.name == "backups")
    assert bucket.action == "replace"
    assert any("moves to provider `east-new-s3`" in r and "`endpoints`" in r for r in bucket.reasons)
    assert bucket.is_blocking and result.blocked
    markdown = pdiff.render_markdown(result)
    assert "moves to provider `east-new-s3`" in markdown
    # Its attachments move too: each is replaced (not protected, not data-bearing itself).
    assert actions(result)["backups-versioning"] == "replace"


@pytest.mark.slow
def test_an_aliased_rename_changes_nothing_that_refers_to_it(tmp_path: Path) -> None:
    """The engine keeps the aliased bucket's state and ID: its versioning and policy, which
    refer to it by ID and ARN, see no change (offline IDs follow the URN; they are carried)."""
    result = diff(tmp_path, {}, {"logical": "legacy-backups", "aliases": ["backups"]})
    assert [c for c in result.changes if c.action in ("replace", "delete", "create")] == []
    assert not result.blocked
    renamed = [c for c in result.changes if c.name == "legacy-backups"]
    assert all(c.action == "update" for c in renamed)  # at most the rename itself is shown
    assert "backups-versioning" not in actions(result) and "backups-policy" not in actions(result)


@pytest.mark.slow
def test_a_rename_without_alias_still_replaces_its_attachments(tmp_path: Path) -> None:
    """The other side of the same rule: without an alias the engine replaces the bucket, so
    what refers to its ID changes too. Carrying IDs must not hide that."""
    result = diff(tmp_path, {}, {"logical": "legacy-backups"})
    assert actions(result)["legacy-backups"] == "replace"
    assert "backups-versioning" in actions(result)
    assert result.blocked


@pytest.mark.slow
def test_a_default_provider_version_bump_is_no_change(tmp_path: Path) -> None:
    result = diff(tmp_path, {}, {"awsVersion": "7.0.0"})
    assert "scratch" not in actions(result), result.changes
    assert not result.blocked


def test_provider_move_rules() -> None:
    """Unit view of step_generator.go providerChanged: alias, same config, different config."""
    from preflight.model import ResourceRecord

    def rec(urn: str, provider: str | None = None, **inputs: Any) -> ResourceRecord:
        kw: dict[str, Any] = {"options": {"aliases": inputs.pop("aliases")}} if "aliases" in inputs else {}
        name = urn.rsplit("::", 1)[-1]
        return ResourceRecord(urn, "t", name, True, None, provider, None, "none", inputs, {}, **kw)

    p = "urn:pulumi:dev::x::pulumi:providers:aws::"
    a, b, c = rec(p + "a", region="us-east-1"), rec(p + "b", region="us-east-1"), rec(p + "c", region="x")
    aliased = rec(p + "d", region="y", aliases=[p + "a"])
    olds = {r.urn: r for r in (a, b, c)}
    news = {r.urn: r for r in (a, b, c, aliased)}
    res = rec("urn:pulumi:dev::x::t::r", f"{p}a::1")
    moved = rec("urn:pulumi:dev::x::t::r", f"{p}c::3")
    assert pdiff._provider_move(res, rec(res.urn, f"{p}a::1"), olds, news) is None
    assert pdiff._provider_move(res, rec(res.urn, f"{p}b::2"), olds, news) is None  # same config
    assert pdiff._provider_move(res, rec(res.urn, f"{p}d::4"), olds, news) is None  # aliased
    reason = pdiff._provider_move(res, moved, olds, news)
    assert reason is not None and "moves to provider `c`" in reason and "`region`" in reason


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_a_head_that_cannot_be_planned_still_gets_a_blocking_comment(tmp_path: Path, fmt: str) -> None:
    """The head's settings are refused: exit 2 as documented, and the reviewer reads why."""
    repo = make_repo(tmp_path, {}, {"site": "mars"})
    out = tmp_path / "comment"
    cmd = [sys.executable, "-m", "preflight", "diff", "--base", "HEAD~1", "--project-dir", str(repo)]
    cmd += ["--stack", "dev", "--no-checkov", "--format", fmt, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 2, proc.stderr
    refused = "Pulumi.dev.yaml: fixture-legacy:site: 'mars' is not one of ['east', 'east-new']"
    assert proc.stderr.strip().splitlines()[-1] == f"preflight: error: {refused}"
    text = out.read_text()
    if fmt == "json":
        doc = json.loads(text)
        assert doc["blocking"] is True
        assert doc["refused"]["side"] == "head" and doc["refused"]["message"] == refused
        assert doc["refused"]["exit_code"] == 2
    else:
        assert text.startswith(pdiff.MARKER)  # CI finds and updates the comment by it
        assert "**BLOCKING: this change (the head) could not be planned" in text
        assert refused in text and "Exit code 2 (bad input)" in text


def test_the_comment_says_how_each_side_was_judged() -> None:
    own = "its own policy config, made from its stack settings (`python -m stacks.policy_config`)"
    default = "the pack's defaults (no --policy-config, no stacks/policy_config.py)"

    def side(how: str, exists: bool = True) -> pdiff.Side:
        return pdiff.Side([], judged_by=how, exists=exists)

    assert pdiff._judged_note(side(own), side(own)).startswith("Judged: each side with its own policy config")
    assert (
        pdiff._judged_note(side(default), side(own))
        == f"Judged: the base with {default}; the head with {own}."
    )
    assert pdiff._judged_note(side("", exists=False), side(default)) == f"Judged: both sides with {default}."
    opts = pdiff.Options(base="HEAD", project_dir=Path("."), policy_config=Path("pc.json"))
    program = pdiff._Program(Path("."), "p", "dev", None, {}, {})
    assert pdiff._judged_by(program, opts) == "one policy config for both sides, `pc.json` (--policy-config)"


@pytest.mark.slow
def test_the_rendered_comment_carries_the_judged_line(tmp_path: Path) -> None:
    result = diff(tmp_path, {}, {"awsVersion": "7.0.0"})
    assert "Judged: both sides with the pack's defaults" in pdiff.render_markdown(result)
    assert json.loads(pdiff.render_json(result))["judged"] == result.judged


@pytest.mark.slow
def test_a_policy_document_is_diffed_as_a_document(tmp_path: Path) -> None:
    """The changed statement, principal and action are named; nothing is cut at a few hundred
    characters; reordering and reformatting the statements is no change at all."""
    result = diff(
        tmp_path,
        {},
        {"deny": ["s3:DeleteObject", "s3:PutBucketPolicy"], "restorer": "arn:aws:iam::444455556666:root"},
    )
    policy = next(c for c in result.changes if c.name == "backups-policy")
    assert policy.action == "update"
    by_path = {p.path: p for p in policy.properties}
    assert by_path["policy.Statement[1].Action[1]"].new == "s3:PutBucketPolicy"
    assert by_path["policy.Statement[0].Principal.AWS"].old == "arn:aws:iam::111122223333:role/restore"
    assert (
        by_path["policy.Statement[1].Action[1]"].context == "policy.Statement[1]: Sid DenyDelete, Effect Deny"
    )
    markdown = pdiff.render_markdown(result)
    assert "# policy.Statement[0]: Sid RestoreOnly, Effect Allow" in markdown
    assert '+ policy.Statement[1].Action[1]: "s3:PutBucketPolicy"' in markdown
    assert '+ policy.Statement[0].Principal.AWS: "arn:aws:iam::444455556666:root"' in markdown
    same = diff(tmp_path / "again", {}, {"reorder": True})
    assert "backups-policy" not in actions(same)


def test_json_documents_unit() -> None:
    doc = {"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject"}]}
    wider = {
        "Statement": [
            {"Sid": "B", "Effect": "Deny", "Action": "*"},
            {"Sid": "A", "Effect": "Allow", "Action": "s3:*"},
        ]
    }
    changes = {
        c.path: c for c in pdiff.diff_values({"p": json.dumps(doc)}, {"p": json.dumps(wider, indent=4)})
    }
    assert (
        changes["p.Statement[1].Action"].old == "s3:GetObject"
        and changes["p.Statement[1].Action"].new == "s3:*"
    )
    assert (
        changes["p.Statement[0].Effect"].new == "Deny"
        and changes["p.Statement[0].Effect"].context.endswith("(removed)") is False
    )
    assert pdiff.diff_values({"p": json.dumps(doc)}, {"p": json.dumps(doc, indent=2)}) == []
    # Not JSON on both sides: shown as the strings they are.
    assert [c.new for c in pdiff.diff_values({"p": "{not json"}, {"p": "{}"})] == ["{}"]


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = pdiff._synthesize

    def counting(directory: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(directory)
        return real(directory, *args, **kwargs)

    monkeypatch.setattr(pdiff, "_synthesize", counting)
    return calls


@pytest.mark.slow
def test_a_rerun_synthesizes_only_the_head_and_a_tampered_entry_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, {}, {"deny": ["s3:DeleteObject", "s3:PutObject"]})
    opts = pdiff.Options(base="HEAD~1", project_dir=repo, stack="dev", no_checkov=True)
    calls = _counted(monkeypatch)
    first = pdiff.run_diff(opts)
    assert len(calls) == 2 and not first.cached
    calls.clear()
    again = pdiff.run_diff(opts)
    assert again.cached and calls == [repo.resolve()]  # the head only
    assert [c.to_dict() for c in again.changes] == [c.to_dict() for c in first.changes]
    assert again.findings.to_dict() == first.findings.to_dict()

    # Someone edits the entry (to hide a resource, say): it no longer verifies and is rebuilt.
    entry = next((tmp_path / "preflight-cache" / "diff").glob("*.entry"))
    blob = bytearray(entry.read_bytes())
    blob[-20] ^= 0xFF
    entry.write_bytes(bytes(blob))
    calls.clear()
    tampered = pdiff.run_diff(opts)
    assert not tampered.cached and len(calls) == 2
    assert any("did not verify" in n for n in tampered.notes)
    assert [c.to_dict() for c in tampered.changes] == [c.to_dict() for c in first.changes]

    # A corrupt entry (cut short) is ignored the same way; --no-cache never reads one.
    entry = next((tmp_path / "preflight-cache" / "diff").glob("*.entry"))
    entry.write_bytes(entry.read_bytes()[:40])
    calls.clear()
    assert not pdiff.run_diff(opts).cached and len(calls) == 2
    calls.clear()
    assert not pdiff.run_diff(pdiff.Options(**{**opts.__dict__, "cache": False})).cached and len(calls) == 2


@pytest.mark.slow
def test_what_shapes_the_base_is_in_the_cache_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed pack (it judges both sides) or another stack file is another key: no stale plan."""
    repo = make_repo(tmp_path, {}, {"site": "east-new"})
    opts = pdiff.Options(base="HEAD~1", project_dir=repo, stack="dev", no_checkov=True)
    calls = _counted(monkeypatch)
    pdiff.run_diff(opts)
    (repo / "policies" / "__main__.py").write_text(PACK + "\n# a change to the pack\n")
    calls.clear()
    assert not pdiff.run_diff(opts).cached and len(calls) == 2
    calls.clear()
    assert pdiff.run_diff(opts).cached and len(calls) == 1
    monkeypatch.setenv("USDR_TODAY", "2030-01-01")  # waivers and sunsets hold for a date
    calls.clear()
    assert not pdiff.run_diff(opts).cached


def test_the_cache_key_covers_the_whole_commit_and_the_programs_environment(tmp_path: Path) -> None:
    """A program may import code from beside its project (`../lib`): a change there is another
    key. So is an upgrade of the interpreter's packages."""
    repo = tmp_path / "mono"
    (repo / "infra").mkdir(parents=True)
    (repo / "lib").mkdir()
    (repo / "infra" / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (repo / "infra" / "__main__.py").write_text("import regions\n")
    (repo / "lib" / "regions.py").write_text("DR = 'us-phoenix-1'\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    (repo / "lib" / "regions.py").write_text("DR = 'eu-frankfurt-1'\n")
    git(repo, "commit", "-q", "-am", "two")
    opts = pdiff.Options(base="HEAD", project_dir=repo / "infra", no_checkov=True)

    def key(ref: str) -> str | None:
        sha = subprocess.run(
            ["git", "rev-parse", ref], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        return pdiff._base_key(repo, sha, Path("infra"), repo / "infra", "dev", None, opts)

    assert key("HEAD") is not None and key("HEAD") != key("HEAD~1")
    assert key("HEAD") == key("HEAD")
    fingerprint = pdiff.diff_cache.interpreter_fingerprint(sys.executable)
    assert "site-packages:" in fingerprint  # the packages the program imports are part of it
