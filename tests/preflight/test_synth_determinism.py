"""Determinism across processes: the prod stack synthesized, planned and attested in separate
interpreters (different PYTHONHASHSEED) gives the same records, dependency lists, report,
tfplan and attestation, byte for byte (issue 20, item 3).

The SDK registers resources as their inputs resolve and builds dependency lists from sets, so
registration order differs from one process to the next (it did, before
`preflight.engine.result.canonical_order` and the sorted lists of the recording monitor). One
process repeating itself proves nothing about this: each case here compares two processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from preflight.engine.result import canonical_order
from preflight.model import ResourceRecord

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("1", "4242")

# One synthesis of prod in a fresh interpreter: its records and the tfplan built from them.
_SYNTH = """
import json, sys
from pathlib import Path
from preflight.synth import synthesize
from preflight.tfplan import to_tfplan
result = synthesize(Path(sys.argv[1]), "prod")
doc = result.to_dict()
doc.pop("seconds")
json.dump({"synth": doc, "tfplan": to_tfplan(result.resources)}, sys.stdout, sort_keys=True)
"""


def _python(args: list[str], seed: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def _both(args_of: Any) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(len(SEEDS)) as pool:
        return list(pool.map(lambda seed: _python(args_of(seed), seed), SEEDS))


@pytest.mark.slow
def test_records_and_tfplan_are_the_same_in_two_processes() -> None:
    runs = _both(lambda _seed: ["-c", _SYNTH, str(ROOT)])
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    first, second = (json.loads(r.stdout) for r in runs)
    urns = [r["urn"] for r in first["synth"]["resources"]]
    assert len(urns) > 300 and urns == [r["urn"] for r in second["synth"]["resources"]], "record order"
    for a, b in zip(first["synth"]["resources"], second["synth"]["resources"], strict=True):
        assert a["dependencies"] == b["dependencies"], a["urn"]
        assert a["property_dependencies"] == b["property_dependencies"], a["urn"]
    assert first == second


@pytest.mark.slow
def test_report_tfplan_and_attestation_are_the_same_in_two_processes(tmp_path: Path) -> None:
    config = tmp_path / "policy-config.json"
    made = _python(["-m", "stacks.policy_config", "--stack", "prod", "--out", str(config)], "0")
    assert made.returncode == 0, made.stderr

    def plan(seed: str) -> list[str]:
        out = tmp_path / seed
        out.mkdir()
        return [
            "-m", "preflight", "plan", "--stack", "prod", "--no-checkov", "--no-progress",
            "--policy-config", str(config), "--format", "json", "--out", str(out / "report.json"),
            "--tfplan-out", str(out / "tfplan.json"), "--attestation", str(out / "attestation.json"),
            "--residency-map", str(out / "map.mmd"),
        ]  # fmt: skip

    for run in _both(plan):
        assert run.returncode == 0, run.stderr[-2000:]
    a, b = (tmp_path / seed for seed in SEEDS)
    for name in ("tfplan.json", "attestation.json", "map.mmd"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    reports = [json.loads((d / "report.json").read_text()) for d in (a, b)]
    for report in reports:  # wall-clock times are the only thing allowed to differ
        _drop_timings(report)
    assert reports[0]["findings"] == reports[1]["findings"], "findings in one order"
    assert reports[0] == reports[1]


def _drop_timings(doc: Any) -> None:
    if isinstance(doc, dict):
        for key in [k for k in doc if k == "seconds" or k.endswith("_seconds") or k == "timings"]:
            del doc[key]
        for value in doc.values():
            _drop_timings(value)
    elif isinstance(doc, list):
        for value in doc:
            _drop_timings(value)


def _record(
    urn: str, parent: str | None = None, deps: tuple[str, ...] = (), provider: str | None = None
) -> ResourceRecord:
    return ResourceRecord(
        urn=urn, type="t:m:T", name=urn, custom=True, parent=parent, provider=provider,
        region=None, region_source="none", inputs={}, outputs={}, dependencies=list(deps),
        property_dependencies={},
    )  # fmt: skip


def test_canonical_order_is_one_order_for_every_registration_order() -> None:
    stack = _record("urn:0-stack")
    prov = _record("urn:9-provider", parent="urn:0-stack")
    late = _record("urn:1-needs-provider", parent="urn:0-stack", provider="urn:9-provider::id-1")
    dep = _record("urn:8-dep", parent="urn:0-stack")
    user = _record("urn:2-user", parent="urn:0-stack", deps=("urn:8-dep", "urn:elsewhere"))
    free = _record("urn:5-free", parent="urn:0-stack")
    orders = [
        [stack, prov, late, dep, user, free],
        [stack, free, dep, prov, user, late],
        [stack, dep, user, free, prov, late],
    ]
    got = [[r.urn for r in canonical_order(o)] for o in orders]
    assert got[0] == got[1] == got[2]
    assert got[0] == [
        "urn:0-stack", "urn:5-free", "urn:8-dep", "urn:2-user", "urn:9-provider", "urn:1-needs-provider"
    ]  # fmt: skip
