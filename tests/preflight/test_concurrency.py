"""Two gates that share output paths each judge their own stack (issue 15, item 1).

The adversarial case: CI runs a gate per stack in parallel and both write the same
`--tfplan-out`, `--out` and `--attestation`. Before, checkov scanned the user-visible
`--tfplan-out` file, so the other gate's write changed the verdict (a stack with checkov failures
passed). Here checkov is a stand-in that reads the plan it was given, waits long enough for the
other gate to write its plan, and reads it again: a gate that scans a shared file sees the other
stack's plan. Each gate's verdict (exit code and checkov findings) must be its own, every time,
and every output file must be one whole document (atomic write) of one of the two runs.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
ALLOW_ALL = {"bucket-us-only": {"allowed": ["us-ashburn-1", "us-phoenix-1", "ap-singapore-1", "us-east-1"]}}
ROUNDS = 5

pytestmark = pytest.mark.slow

# Fails one check on every resource whose values contain "blocked"; reads the plan twice with a
# pause between, as a slow scanner would (the second read is what it reports on).
FAKE_CHECKOV = r"""
import json, sys, time

path = sys.argv[sys.argv.index("-f") + 1]
open(path).read()
time.sleep(0.4)
plan = json.load(open(path))
resources = plan["planned_values"]["root_module"]["resources"]
failed = [
    {"check_id": "CKV_FAKE_1", "check_name": "fake: blocked tag", "resource_address": r["address"]}
    for r in resources
    if "blocked" in json.dumps(r.get("values"))
]
print(json.dumps({
    "check_type": "terraform_plan",
    "results": {"failed_checks": failed, "parsing_errors": []},
    "summary": {"passed": len(resources) - len(failed), "failed": len(failed), "parsing_errors": 0,
                "resource_count": len(resources), "checkov_version": "fake"},
}))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """fixture-basic with two stacks: `clean` (no checkov failure) and `dirty` (one, on `legacy`)."""
    proj = tmp_path / "proj"
    shutil.copytree(FIXTURES / "basic", proj)
    base = (proj / "Pulumi.dev.yaml").read_text()
    (proj / "Pulumi.clean.yaml").write_text(base)
    (proj / "Pulumi.dirty.yaml").write_text(base.replace("sunset: 2027-09-30", "sunset: blocked"))
    return proj


def _fake_checkov(directory: Path) -> Path:
    script = directory / "checkov"
    script.write_text(f"#!{sys.executable}\n{FAKE_CHECKOV}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_two_gates_sharing_output_paths_each_get_their_own_verdict(project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps(ALLOW_ALL))
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    env["PREFLIGHT_CHECKOV"] = str(_fake_checkov(tmp_path))

    def gate(stack: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "preflight", "gate", "--project-dir", str(project), "--stack", stack,
             "--policy-pack", str(FIXTURES / "packs" / "good"), "--policy-config", str(config),
             "--no-progress", "--format", "json", "--out", str(shared / "report.json"),
             "--tfplan-out", str(shared / "plan.json"), "--attestation", str(shared / "att.json"),
             "--residency-map", str(shared / "map.mmd")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    for round_ in range(ROUNDS):
        # Alternate who starts first so each gate is sometimes the one whose file is overwritten.
        order = ("clean", "dirty") if round_ % 2 == 0 else ("dirty", "clean")
        procs = {stack: gate(stack) for stack in order}
        results = {stack: (p.wait(timeout=240), p.communicate()[1]) for stack, p in procs.items()}
        clean_code, clean_err = results["clean"]
        dirty_code, dirty_err = results["dirty"]
        assert clean_code == 0, f"round {round_}: the clean stack was judged on another plan: {clean_err}"
        assert dirty_code == 1, f"round {round_}: the dirty stack passed: {dirty_err}"
        assert "BLOCKED · 1 blocking" in dirty_err, dirty_err
        assert "passed · 0 blocking" in clean_err, clean_err
        # Every shared output is one whole document of one of the two runs.
        assert json.loads((shared / "report.json").read_text())["summary"]
        json.loads((shared / "plan.json").read_text())
        json.loads((shared / "att.json").read_text())
        assert not [p.name for p in shared.iterdir() if p.name.endswith(".tmp")], "a temp file was left"
