"""What cannot be expanded offline fails closed (issue 11, item 5).

A multi-language (remote) component's children are made by its provider plugin's Construct;
a dynamic provider's create is the program's own code run at deploy time. Offline neither can
run, so neither may pass silently: each is a mandatory finding naming the resource and why,
which a time-boxed waiver in the policy config (the pack's `waivers` shape) can accept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "offline"
GOOD = Path(__file__).parent / "fixtures" / "packs" / "good"
POLICY = "preflight-offline-unevaluable"


def _config(tmp_path: Path, case: str) -> Path:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(f"config:\n  oci:region: us-ashburn-1\n  fixture-offline:case: {case}\n")
    return path


def _gate(tmp_path: Path, case: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    env["USDR_TODAY"] = "2026-12-03"
    return subprocess.run(
        [sys.executable, "-m", "preflight", "gate", "--project-dir", str(FIXTURE), "--stack", "dev",
         "--config-file", str(_config(tmp_path, case)), "--policy-pack", str(GOOD), "--no-checkov",
         "--no-progress", "--format", "json", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("case", "name", "why"), [("remote", "network", "remote"), ("dynamic", "copy", "dynamic")]
)
def test_the_record_says_why_it_cannot_be_evaluated_offline(
    tmp_path: Path, case: str, name: str, why: str
) -> None:
    result = synthesize(FIXTURE, "dev", _config(tmp_path, case))
    record = next(r for r in result.resources if r.name == name)
    assert record.unevaluable is not None and why in record.unevaluable
    assert next(r for r in result.resources if r.name == "home").unevaluable is None


@pytest.mark.slow
@pytest.mark.parametrize(("case", "name"), [("remote", "network"), ("dynamic", "copy")])
def test_the_gate_blocks_what_it_cannot_evaluate_offline(tmp_path: Path, case: str, name: str) -> None:
    proc = _gate(tmp_path, case)
    assert proc.returncode == 1, proc.stderr
    blocking = [f for f in json.loads(proc.stdout)["findings"] if f["enforcement"] == "mandatory"]
    assert [(f["policy"], f["name"]) for f in blocking] == [(POLICY, name)]
    assert "cannot be evaluated offline" in blocking[0]["message"]


@pytest.mark.slow
def test_an_active_waiver_accepts_it_and_an_expired_one_does_not(tmp_path: Path) -> None:
    def waiver(expires: str) -> Path:
        path = tmp_path / f"config-{expires}.json"
        entry = {
            "target": "network",
            "owner": "platform@example.com",
            "reason": "awsx VPC",
            "expires": expires,
        }
        path.write_text(json.dumps({"bucket-us-only": {"waivers": [entry]}}))
        return path

    proc = _gate(tmp_path, "remote", "--policy-config", str(waiver("2027-01-31")))
    assert proc.returncode == 0, proc.stderr
    found = [f for f in json.loads(proc.stdout)["findings"] if f["policy"] == POLICY]
    assert [(f["enforcement"], f["waiver"]) for f in found] == [("advisory", "network")]
    proc = _gate(tmp_path, "remote", "--policy-config", str(waiver("2026-12-02")))
    assert proc.returncode == 1, proc.stderr
    found = [f for f in json.loads(proc.stdout)["findings"] if f["policy"] == POLICY]
    assert [f["enforcement"] for f in found] == ["mandatory"]
    assert "expired on 2026-12-02" in found[0]["message"]
