"""drift.yml's verdict: drift or none from the engine's changeSummary, never from English text."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".github" / "scripts" / "drift_status.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("drift_status", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


drift_status = _module()
BUCKET = "urn:pulumi:prod::us-data-residency::oci:ObjectStorage/bucket:Bucket::data-iad"


def run(tmp_path: Path, text: str) -> tuple[int, str, str, str]:
    """(exit code, stdout, stderr, markdown) of the script as the workflow runs it."""
    src, md = tmp_path / "refresh.json", tmp_path / "drift.md"
    src.write_text(text)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(src), "--stack", "prod", "--markdown", str(md)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr, md.read_text() if md.exists() else ""


def test_nothing_but_same_is_no_drift(tmp_path: Path) -> None:
    code, out, _err, md = run(tmp_path, json.dumps({"changeSummary": {"same": 377}, "steps": []}))
    assert (code, out) == (0, "none\n")
    assert "377 resources unchanged" in md and "· none" in md


@pytest.mark.parametrize(
    "summary", [{"same": 376, "update": 1}, {"same": 376, "delete": 1}, {"update": 2, "delete": 1}]
)
def test_an_update_or_a_delete_is_drift(tmp_path: Path, summary: dict[str, int]) -> None:
    digest = {
        "changeSummary": summary,
        "steps": [{"op": "update", "urn": BUCKET}, {"op": "same", "urn": "x"}],
    }
    code, out, _err, md = run(tmp_path, json.dumps(digest))
    assert (code, out) == (0, "drift\n")
    assert f"`{BUCKET}`" in md and "`x`" not in md
    for op, count in summary.items():
        if op != "same":
            assert f"| {op} | {count} |" in md


def test_a_zero_count_is_not_drift(tmp_path: Path) -> None:
    assert run(tmp_path, json.dumps({"changeSummary": {"same": 3, "update": 0}}))[:2] == (0, "none\n")


def test_text_before_the_json_is_skipped(tmp_path: Path) -> None:
    text = "+ pulumi refresh --stack prod\n" + json.dumps({"changeSummary": {"update": 1}})
    assert run(tmp_path, text)[:2] == (0, "drift\n")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "no JSON object"),
        ("error: no changes were expected but changes were proposed", "no JSON object"),
        ("{not json", "not JSON"),
        (json.dumps({"steps": []}), "no changeSummary"),
        (json.dumps({"changeSummary": {"update": "1"}}), "changeSummary.update"),
    ],
)
def test_anything_else_is_could_not_check(tmp_path: Path, text: str, why: str) -> None:
    code, out, err, md = run(tmp_path, text)
    assert code == 2 and out == "" and md == ""
    assert err.count("\n") == 1 and why in err and err.startswith("drift_status: ")


def test_a_missing_file_is_could_not_check(tmp_path: Path) -> None:
    assert drift_status.main([str(tmp_path / "absent.json")]) == 2
