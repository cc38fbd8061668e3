"""A policy config that switches policies off is said out loud in every report format (issue 15, 13).

The adversarial config: `{"all": "disabled"}` turns the whole pack off and the gate passes with
no finding at all; a reviewer reading the report must see that nothing was enforced, and how much.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"

ALL = ["bucket-protected", "bucket-tagged", "bucket-us-only"]  # the fixture pack's policies

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, config: dict[str, object], fmt: str, *extra: str) -> tuple[str, str]:
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config))
    out = tmp_path / f"report.{fmt}"
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "plan", "--project-dir", str(FIXTURES / "basic"),
         "--stack", "dev",
         "--policy-pack", str(FIXTURES / "packs" / "good"), "--policy-config", str(cfg), "--no-checkov",
         "--no-progress", "--format", fmt, "--out", str(out), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out.read_text(), proc.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif"])
def test_all_disabled_is_in_the_summary_of_every_format(tmp_path: Path, fmt: str) -> None:
    report, stderr = _run(tmp_path, {"all": "disabled"}, fmt)
    if fmt in ("json", "sarif"):
        doc = json.loads(report)
        summary = doc["summary"] if fmt == "json" else doc["runs"][0]["properties"]["summary"]
        assert summary["policies_disabled"] == ALL
        assert summary["policies_disabled_count"] == 3
    else:
        # the sentence, however the terminal width wraps it
        assert f"3 of 3 policies disabled by the policy config: {', '.join(ALL)}" in " ".join(report.split())
    assert "(3 policies disabled by the config)" in stderr


def test_a_single_disabled_policy_is_named_and_none_disabled_says_nothing(tmp_path: Path) -> None:
    report, _ = _run(tmp_path, {"bucket-us-only": "disabled"}, "json")
    assert json.loads(report)["summary"]["policies_disabled"] == ["bucket-us-only"]
    report, stderr = _run(tmp_path, {"bucket-us-only": "advisory"}, "json")
    assert json.loads(report)["summary"]["policies_disabled_count"] == 0
    assert "disabled" not in stderr


def test_the_attestation_counts_the_disabled_policies(tmp_path: Path) -> None:
    attestation = tmp_path / "attestation.json"
    _run(tmp_path, {"bucket-us-only": "disabled"}, "json", "--attestation", str(attestation))
    doc = json.loads(attestation.read_text())["predicate"]  # the in-toto statement's predicate
    assert doc["policies"] == {"total": 3, "disabled_count": 1, "disabled": ["bucket-us-only"]}
    _run(tmp_path, {}, "json", "--attestation", str(attestation))
    assert json.loads(attestation.read_text())["predicate"]["policies"]["disabled_count"] == 0
