"""End to end on this repository: the real program, the real pack, the prod stack, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def prod_gate(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("prod")
    config = tmp / "policy-config.json"
    made = run("-m", "stacks.policy_config", "--stack", "prod", "--out", config)
    assert made.returncode == 0, made.stderr
    out = tmp / "gate.json"
    gate = run(
        "-m",
        "preflight",
        "gate",
        "--stack",
        "prod",
        "--no-checkov",
        "--no-progress",
        "--policy-config",
        config,
        "--format",
        "json",
        "--out",
        out,
        "--attestation",
        tmp / "attestation.json",
        "--format",
        "json",
    )
    return gate, tmp


def test_prod_gate_runs_the_real_program_and_pack(
    prod_gate: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    gate, tmp = prod_gate
    assert gate.returncode in (0, 1), gate.stderr  # it could check everything
    doc = json.loads((tmp / "gate.json").read_text())
    s = doc["summary"]
    assert s["policy_pack"]["name"] == "us-data-residency"
    assert s["resources"] > 300 and s["data_bearing"] > 40
    approved = {"us-ashburn-1", "us-phoenix-1", "us-sanjose-1", "us-chicago-1"}
    oci_regions = {r["region"] for r in doc["resources"] if r["type"].startswith("oci:")}
    assert oci_regions <= approved, oci_regions
    assert all(f["location"] for f in doc["findings"] if f["type"].startswith(("oci:", "aws:"))), "on a line"
    waived = {f["waiver"] for f in doc["findings"] if f["waiver"]}
    assert waived == {"legacy-sg"}, "the Singapore site runs on its waiver, and the report says so"
    # Written without --sign-key: an unsigned statement, checked (schema, subjects) only when allowed.
    verify = run("-m", "preflight", "verify", tmp / "attestation.json")
    assert verify.returncode == 1 and "UNSIGNED" in verify.stderr, verify.stderr
    verify = run("-m", "preflight", "verify", tmp / "attestation.json", "--allow-unsigned")
    assert verify.returncode == 0, verify.stderr


def test_prod_gate_passes(prod_gate: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    gate, tmp = prod_gate
    doc = json.loads((tmp / "gate.json").read_text())
    blocking = [
        f"{f['policy']} on {f['name']}: {f['message']}"
        for f in doc["findings"]
        if f["enforcement"] == "mandatory"
    ]
    assert gate.returncode == 0, "prod must pass its own gate:\n" + "\n".join(blocking)


def test_the_readme_main_job_plans_prod() -> None:
    proc = run(
        "-m", "preflight", "plan", "--stack", "prod", "--no-checkov", "--no-progress", "--format", "markdown"
    )
    assert proc.returncode == 0, proc.stderr
    assert "### Residency map" in proc.stdout and "legacy-sg" in proc.stdout
