"""The CI workflows: parsed, pinned, least-privilege, and clean under checkov's github_actions checks.

These run offline: nothing here talks to GitHub. What they prove is what a reviewer would
otherwise check by eye on every change to .github/: every action pinned by a full commit SHA
(with the release in a comment, for Dependabot), permissions declared and narrow, no
`${{ }}` expression pasted into a shell script, the deploy gated by the policy pack and
environment protection, and checkov's github_actions framework finding nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
PINNED = re.compile(r"^(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40})$")
# `uses: owner/repo@<sha> # vX.Y.Z` on one line: the comment is what Dependabot updates.
PIN_LINE = re.compile(r"uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>\S.*))?$")
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
# attestations: the deploy jobs' actions/attest stores the signed residency attestations.
WRITE_ALLOWED = {"security-events", "pull-requests", "issues", "id-token", "attestations"}


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path}: not a mapping"
    return doc


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert isinstance(on, dict), "`on:` must be a mapping"
    return on


def steps_of(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if "jobs" in doc:
        return [(name, step) for name, job in doc["jobs"].items() for step in job.get("steps", [])]
    return [("composite", step) for step in doc["runs"]["steps"]]


def test_the_three_workflows_and_dependabot_exist() -> None:
    assert {p.name for p in WORKFLOWS} >= {"preview.yml", "deploy.yml", "drift.yml"}
    dependabot = load(GITHUB / "dependabot.yml")
    ecosystems = {u["package-ecosystem"] for u in dependabot["updates"]}
    assert "github-actions" in ecosystems


def test_dependabot_updates_the_actions_and_the_uv_lock_weekly_and_grouped() -> None:
    """One grouped PR a week per ecosystem: the actions, and the project's Python dependencies
    (uv: pyproject.toml with uv.lock, the files `uv sync --locked` installs from) and the policy
    pack's own uv project beside them, in the same group."""
    updates = {u["package-ecosystem"]: u for u in load(GITHUB / "dependabot.yml")["updates"]}
    assert set(updates) == {"github-actions", "uv"}
    assert updates["uv"]["directories"] == ["/", "/policies"]
    for d in updates["uv"]["directories"]:
        assert (ROOT / d.lstrip("/") / "uv.lock").is_file() and (
            ROOT / d.lstrip("/") / "pyproject.toml"
        ).is_file()
    for update in updates.values():
        assert update["schedule"]["interval"] == "weekly"
        [group] = update["groups"].values()
        assert group["patterns"] == ["*"]
    actions_dirs = {"/" + str(p.parent.relative_to(ROOT)) for p in ACTIONS}
    assert set(updates["github-actions"]["directories"]) == {"/", *actions_dirs}


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: str(p.relative_to(GITHUB)))
def test_every_action_is_pinned_by_full_commit_sha_with_its_release(path: Path) -> None:
    doc = load(path)
    uses = [step["uses"] for _job, step in steps_of(doc) if "uses" in step]
    uses += [job["uses"] for job in doc.get("jobs", {}).values() if "uses" in job]  # reusable workflows
    for ref in uses:
        if ref.startswith("./"):
            assert (ROOT / ref / "action.yml").is_file(), f"{path.name}: local action {ref} does not exist"
            continue
        assert PINNED.match(ref), f"{path.name}: `{ref}` is not pinned by a 40-hex commit SHA"
    for line in path.read_text(encoding="utf-8").splitlines():
        m = PIN_LINE.search(line.strip().removeprefix("- "))
        if not m or m.group("ref").startswith("./"):
            continue
        comment = (m.group("comment") or "").split()[0] if m.group("comment") else ""
        assert VERSION.match(comment), f"{path.name}: `{line.strip()}` needs a `# vX.Y.Z` comment"


def test_one_sha_per_action_everywhere() -> None:
    """The same action at two SHAs means a half-done update."""
    seen: dict[str, set[str]] = {}
    for path in WORKFLOWS + ACTIONS:
        for _job, step in steps_of(load(path)):
            m = PINNED.match(step.get("uses", ""))
            if m:
                repo = "/".join(m.group("action").split("/")[:2])
                seen.setdefault(repo, set()).add(m.group("sha"))
    assert {a: s for a, s in seen.items() if len(s) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_empty_at_the_top_and_declared_per_job(path: Path) -> None:
    doc = load(path)
    assert doc.get("permissions") == {}, f"{path.name}: top level must be `permissions: {{}}`"
    for name, job in doc["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict), f"{path.name}: job {name} must declare its permissions"
        for scope, level in perms.items():
            assert level in ("read", "write", "none"), f"{path.name}: {name}: {scope}: {level}"
            if level == "write":
                assert scope in WRITE_ALLOWED, f"{path.name}: {name} must not write {scope}"
        uses_cloud = any(
            s.get("uses") == "./.github/actions/pulumi-cloud-login" for s in job.get("steps", [])
        )
        assert (perms.get("id-token") == "write") == uses_cloud, (
            f"{path.name}: {name}: id-token: write exactly when the job logs in to the cloud (OIDC)"
        )
        if uses_cloud:
            assert "environment" in job, f"{path.name}: {name}: cloud credentials come from an environment"
            assert not (set(perms) & {"issues", "security-events"}), f"{path.name}: {name}: too broad"


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: str(p.relative_to(GITHUB)))
def test_no_expression_is_pasted_into_a_shell_script(path: Path) -> None:
    """`${{ ... }}` inside `run:` is template injection; values go through `env:`."""
    for job, step in steps_of(load(path)):
        if "run" in step:
            assert "${{" not in step["run"], (
                f"{path.name}: {job}: step {step.get('name')!r} expands ${{{{ }}}}"
            )


def test_no_pull_request_target_and_checkouts_do_not_keep_the_token() -> None:
    for path in WORKFLOWS:
        doc = load(path)
        assert "pull_request_target" not in triggers(doc), (
            f"{path.name}: pull_request_target runs fork code with secrets"
        )
        for job, step in steps_of(doc):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {job}"


def test_preview_runs_gate_with_sarif_diff_as_one_comment_and_the_pulumi_preview() -> None:
    doc = load(GITHUB / "workflows" / "preview.yml")
    assert "pull_request" in triggers(doc)
    jobs = doc["jobs"]
    assert {"test", "gate", "diff", "pulumi-preview"} <= set(jobs)
    assert any("python3 dev.py bootstrap" in s.get("run", "") for s in jobs["test"]["steps"])
    assert any("python3 dev.py test" in s.get("run", "") for s in jobs["test"]["steps"])

    gate = jobs["gate"]["steps"]
    gate_run = next(s["run"] for s in gate if "dev.py gate" in s.get("run", ""))
    # dev.py gate generates the stack's policy config and passes it (tests/test_dev.py).
    assert '--stack "${STACK}"' in gate_run and "--format sarif" in gate_run
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in gate)

    diff = jobs["diff"]
    checkout = next(s for s in diff["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0, "the base commit must be in the clone"
    assert any("preflight diff --base" in s.get("run", "") for s in diff["steps"])
    script = next(s for s in diff["steps"] if s.get("uses", "").startswith("actions/github-script@"))["with"][
        "script"
    ]
    assert (
        "<!-- preflight-diff-comment -->" in script
        and "updateComment" in script
        and "createComment" in script
    )

    preview = jobs["pulumi-preview"]
    assert "vars.PULUMI_BACKEND_URL != ''" in preview["if"]
    pulumi = next(s["run"] for s in preview["steps"] if "dev.py preview" in s.get("run", ""))
    assert 'python3 dev.py preview --stack "${STACK}"' in pulumi and "--diff" in pulumi


def test_deploy_is_gated_by_policy_pack_environment_and_per_stack_concurrency() -> None:
    doc = load(GITHUB / "workflows" / "deploy.yml")
    assert triggers(doc)["push"]["branches"] == ["main"]
    jobs = doc["jobs"]
    assert set(jobs) == {"staging", "prod"}
    assert jobs["prod"]["needs"] == ["staging"], (
        "prod deploys only after staging did (needs:, not matrix order)"
    )
    assert "needs" not in jobs["staging"] and "strategy" not in jobs["staging"]
    for stack, job in jobs.items():
        assert job["environment"]["name"] == stack and job["env"]["STACK"] == stack
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
        runs = [s.get("run", "") for s in job["steps"]]
        gate = next(i for i, r in enumerate(runs) if "dev.py gate" in r)
        up_index = next(i for i, r in enumerate(runs) if "dev.py up" in r)
        assert gate < up_index and '--stack "${STACK}"' in runs[gate], "the offline gate runs first"
        # dev.py up always adds the pack and the stack's generated config (tests/test_dev.py).
        for flag in ("python3 dev.py up", "--yes", '--stack "${STACK}"', "--refresh"):
            assert flag in runs[up_index], f"{stack}: {flag}"
    assert jobs["staging"]["steps"] == jobs["prod"]["steps"], "the two deploy jobs are the same steps"
    assert {
        k: v
        for k, v in jobs["staging"].items()
        if k not in ("name", "needs", "environment", "concurrency", "env")
    } == {
        k: v
        for k, v in jobs["prod"].items()
        if k not in ("name", "needs", "environment", "concurrency", "env")
    }


def test_drift_refreshes_preview_only_nightly_and_reports_through_an_issue() -> None:
    doc = load(GITHUB / "workflows" / "drift.yml")
    assert triggers(doc)["schedule"][0]["cron"]
    refresh, report = doc["jobs"]["refresh"], doc["jobs"]["report"]
    script = next(s["run"] for s in refresh["steps"] if "dev.py refresh" in s.get("run", ""))
    assert "--preview-only" in script and "--json" in script
    # decided by the exit code and the JSON's changeSummary, never by the CLI's English
    assert "grep" not in script and "--expect-no-changes" not in script
    assert "code=$?" in script and '"${code}" -ne 0' in script
    assert "python3 .github/scripts/drift_status.py" in script
    assert refresh["concurrency"] == {"group": "drift-${{ matrix.stack }}", "cancel-in-progress": False}
    deploy = load(GITHUB / "workflows" / "deploy.yml")["jobs"].values()
    deploy_groups = {job["concurrency"]["group"] for job in deploy}
    drift_groups = {f"drift-{stack}" for stack in refresh["strategy"]["matrix"]["stack"]}
    assert deploy_groups == {"deploy-prod", "deploy-staging"} and drift_groups == {
        "drift-prod",
        "drift-staging",
    }
    assert not drift_groups & deploy_groups, (
        "a shared group: a pending drift run could cancel a pending deploy"
    )
    assert report["permissions"] == {"issues": "write"}
    issue_script = next(s for s in report["steps"] if s.get("uses", "").startswith("actions/github-script@"))
    assert (
        "issues.create" in issue_script["with"]["script"]
        and "createComment" in issue_script["with"]["script"]
    )


# jobs whose commands run checkov: the test suite, preflight gate/plan/diff
_RUNS_CHECKOV = re.compile(r"dev\.py (?:test|gate|plan|bootstrap)\b|preflight (?:diff|gate|plan)\b")
_USES_PYTHON_ENV = re.compile(r"dev\.py |\.venv/bin/")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_environments_are_cached_and_checkovs_only_where_it_runs(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        steps = job.get("steps", [])
        runs = "\n".join(s.get("run", "") for s in steps)
        if not _USES_PYTHON_ENV.search(runs):
            continue
        caches = [
            s
            for s in steps
            if s.get("uses", "").startswith("actions/cache@") and ".venv" in s.get("with", {}).get("path", "")
        ]
        assert len(caches) == 1, f"{path.name}: {name}: the environments are cached"
        (cache,) = caches
        first_use = next(i for i, s in enumerate(steps) if _USES_PYTHON_ENV.search(s.get("run", "")))
        assert steps.index(cache) < first_use, f"{path.name}: {name}: restored before first use"
        paths = set(cache["with"]["path"].split())
        key = cache["with"]["key"]
        assert "steps.python.outputs.python-version" in key
        assert "'uv.lock'" in key and "'policies/uv.lock'" in key and "uv-bootstrap.lock" in key, (
            f"{path.name}: {name}: keyed on the locks"
        )
        python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
        assert python.get("id") == "python"
        if _RUNS_CHECKOV.search(runs):
            assert (
                paths == {".venv", "policies/.venv", ".venv-uv", ".venv-checkov"} and "checkov.lock" in key
            ), f"{path.name}: {name}"
        else:
            assert paths == {".venv", "policies/.venv", ".venv-uv"} and "checkov.lock" not in key, (
                f"{path.name}: {name} never runs checkov: it neither builds nor caches .venv-checkov"
            )


def test_the_diff_cache_is_per_base_and_signed_with_a_secret() -> None:
    """A re-run restores the base's plan (preflight/diff_cache.py); entries verify only with the
    repository secret, so a cache written by anyone else is rebuilt, never used."""
    steps = load(GITHUB / "workflows" / "preview.yml")["jobs"]["diff"]["steps"]
    cache = next(
        s
        for s in steps
        if s.get("uses", "").startswith("actions/cache@") and "preflight" in s["with"]["path"]
    )
    assert cache["with"]["path"] == "~/.cache/preflight/diff"
    assert "github.event.pull_request.base.sha" in cache["with"]["key"]
    diff = next(s for s in steps if s.get("id") == "diff")
    assert diff["env"]["PREFLIGHT_CACHE_KEY"] == "${{ secrets.PREFLIGHT_CACHE_KEY }}"
    assert steps.index(cache) < steps.index(diff)


def test_previews_refresh_the_state_first() -> None:
    preview = load(GITHUB / "workflows" / "preview.yml")["jobs"]["pulumi-preview"]
    run = next(s["run"] for s in preview["steps"] if "dev.py preview" in s.get("run", ""))
    assert "--refresh" in run


def _checkov(directory: Path) -> dict[str, Any]:
    assert CHECKOV.is_file(), f"{CHECKOV} missing: run python3 dev.py bootstrap"
    cmd = [str(CHECKOV), "-d", str(directory), "--framework", "github_actions", "-o", "json"]
    proc = subprocess.run(
        [*cmd, "--quiet", "--compact", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    data = json.loads(proc.stdout) if proc.stdout.strip() else {}
    if isinstance(data, list):
        (data,) = [d for d in data if d.get("check_type") == "github_actions"]
    return data


@pytest.mark.slow
def test_checkov_github_actions_finds_nothing() -> None:
    data = _checkov(GITHUB)
    summary = data["summary"]
    failed = [
        f"{c['check_id']} {c['file_path']}:{c['file_line_range']}" for c in data["results"]["failed_checks"]
    ]
    assert summary["failed"] == 0, failed
    assert summary["parsing_errors"] == 0
    assert summary["passed"] >= 50, "checkov checked almost nothing: did it find the workflows?"


@pytest.mark.slow
def test_checkov_would_catch_a_template_injection(tmp_path: Path) -> None:
    """The lint above is only worth something if it fails on a bad workflow."""
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text(
        "on: pull_request\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    permissions: {}\n"
        '    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    data = _checkov(tmp_path / ".github")
    assert "CKV_GHA_2" in {c["check_id"] for c in data["results"]["failed_checks"]}


# `pulumi up` as a command: at the start of a line or after `;`, `&&`, `|`, `$(` (not in an echo).
PULUMI_ACTION = re.compile(r"(?:^|[;&|(])\s*(?:\S*/)?pulumi\s+(?:\S+\s+)*?(preview|up|refresh)\b")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_pulumi_preview_up_refresh_only_run_through_dev_py(path: Path) -> None:
    """The same commands as the README: dev.py always passes the pack and the stack's config;
    a bare `pulumi up` (or the Pulumi action's `command:`) would skip the gate."""
    for name, job in load(path)["jobs"].items():
        for step in job.get("steps", []):
            for line in step.get("run", "").splitlines():
                if line.strip().startswith("#"):
                    continue
                assert not PULUMI_ACTION.search(line), (
                    f"{path.name}: {name}: `{line.strip()}` runs pulumi without dev.py"
                )
            if step.get("uses", "").startswith("pulumi/actions@"):
                assert "command" not in step.get("with", {}), f"{path.name}: {name}: use dev.py"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_do_not_force_colour(path: Path) -> None:
    """FORCE_COLOR set to anything, "0" included, turns rich's colour on; NO_COLOR is the switch."""
    assert "FORCE_COLOR" not in path.read_text(encoding="utf-8")
