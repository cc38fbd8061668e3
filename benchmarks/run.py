"""preflight performance, measured in one run: the floor, synth, the gate, analysis and checkov.

    .venv/bin/python -m benchmarks.run                  # prod + synthetic 2,000 and 8,000
    .venv/bin/python -m benchmarks.run --sizes 500      # a quick look (prod + 500)
    .venv/bin/python -m benchmarks.run --json out/benchmark.json --repeat 1   # faster, noisier

For each estate (the prod stack of this repository, and the synthetic program in
`benchmarks/estate/` at each size) it runs, each in a fresh subprocess:

    floor      the bare Pulumi SDK running the program under plain `pulumi.runtime.Mocks`
               (`set_mocks`, no recording monitor): the least any offline run can cost
    floor-gc   the same with the collector paused while the program runs, as synth runs
               programs (`preflight.synth.collector_paused`): the floor the SDK would have
               with synth's tuning, so the gate is judged against both
    synth      `preflight.synth.synthesize` alone (writes the records the next steps read)
    gate       `python -m preflight gate --no-checkov`: synth + policy analysis, streamed
    analyze    `preflight.analyze.analyze` on the saved records: policy analysis alone
    checkov    `preflight.checkov.scan` on the same records: tfplan + checkov (in batches of
               2,000 resources, as the gate runs it)
    gate-full  `python -m preflight gate` with checkov: what a user runs
    checkov-1  (estates over 2,000 resources) checkov in one run over the whole plan

and records wall time (from outside, interpreter start to exit), CPU time (the process and
its waited-for children) and peak RSS. Peak RSS comes two ways: `max_rss_mb`, the largest
single process of the tree (`wait4` rusage, exact), and `tree_rss_mb`, the sum over every
live process of the tree (sampled from /proc every 50 ms; what the machine has to hold, e.g.
synth, the policy pack and checkov together). Targets (issue 6) are judged on wall time and
`tree_rss_mb`.

Nothing here asserts: it prints a table and writes JSON. Timed assertions in tests would
fail on a busy machine; this is run on purpose, and docs/performance.md records a run.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHUNK_SIZE = 2000  # preflight.checkov.CHUNK_SIZE (not imported here: the parent stays light)
ESTATE = ROOT / "benchmarks" / "estate"
PACK = ROOT / "policies"
STEPS = ("floor", "floor-gc", "synth", "gate", "analyze", "checkov", "gate-full")
FLOORS = ("floor", "floor-gc")
# checkov in one run over the whole plan (no batches), where the bridge would batch it
SINGLE = "checkov-1"
PAGE = os.sysconf("SC_PAGE_SIZE")

# Targets from issue 6.
GATE_OVER_FLOOR = 1.5
ANALYSIS_SPEEDUP = 5.0
MAX_RSS_MB_AT_8K = 1024.0
LINEAR_SLACK = 1.10  # "no worse than linear": 8k/2k time ratio within 10% of the size ratio
# Issue 17: a re-run of the PR check costs one synthesis (the base comes from the diff cache).
DIFF_STEPS = ("diff", "diff-rerun")
DIFF_OVER_GATE = 1.2


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    """One measured subprocess."""

    step: str
    estate: str
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    tree_rss_mb: float
    exit_code: int
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _tree_rss(root_pid: int) -> int:
    """Bytes resident in `root_pid` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{entry.name}/statm", "rb") as f:
                resident = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        rss[pid] = resident * PAGE
    total = 0
    for pid in rss:
        p = pid
        while p and p != root_pid:
            p = parents.get(p, 0)
        if p == root_pid:
            total += rss[pid]
    return total


def run_measured(step: str, estate: str, cmd: list[str], timeout: float, env: dict[str, str]) -> Sample:
    """Run `cmd` in its own process group; wall, CPU and RSS of the whole tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(proc.pid))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        out.seek(0)
        stdout = out.read().decode(errors="replace")
    sample_ = Sample(
        step=step,
        estate=estate,
        wall_s=round(wall, 3),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        max_rss_mb=round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        tree_rss_mb=round(peak / 2**20, 1),
        exit_code=proc.returncode,
    )
    last = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if last:
        sample_.detail = json.loads(last[-1])
    gate = step in ("gate", "gate-full")  # exit 1 = blocking findings, a normal outcome
    if proc.returncode not in (0, 1) or (not gate and proc.returncode != 0):
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        sample_.error = lines[-1][:300] if lines else f"exit {proc.returncode}"
    return sample_


# --------------------------------------------------------------------------- the steps (child side)


def _project(project_dir: Path, stack: str, config_file: Path | None) -> tuple[Any, Any]:
    from preflight.project import load_project, load_stack_config

    project = load_project(project_dir)
    return project, load_stack_config(project, stack, config_file)


def _gc_collections() -> list[int]:
    return [int(generation["collections"]) for generation in gc.get_stats()]


def step_floor(project_dir: Path, stack: str, config_file: Path | None, tuned_gc: bool) -> dict[str, Any]:
    """The program under the SDK's own MockMonitor: what the SDK costs without preflight.

    `tuned_gc`: with the collector paused as synth pauses it while a program runs, over the
    same scope (the program run, from setting up the runtime to its last RPC).
    """
    import asyncio
    import runpy

    import pulumi
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import mocks

    # imported either way, so that both floors load the same modules
    from preflight.synth import collector_paused

    project, config = _project(project_dir, stack, config_file)

    class PlainMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}_id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return {}, []  # the least a lookup can cost (synth answers them: engine/lookups.py)

    async def program() -> None:
        runpy.run_path(str(project.main), run_name="__main__")
        await pulumi.runtime.stack.wait_for_rpcs()

    with collector_paused() if tuned_gc else contextlib.nullcontext():
        collector = "paused" if not gc.isenabled() else "default " + ",".join(map(str, gc.get_threshold()))
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        monitor = mocks.MockMonitor(PlainMocks())
        mock = PlainMocks()
        collections = _gc_collections()
        started = time.perf_counter()
        pulumi.runtime.set_mocks(mock, project=project.name, stack=stack, preview=False, monitor=monitor)
        # as the language host sets them up: config in the environment and the runtime, cwd, sys.path
        os.environ["PULUMI_CONFIG"] = json.dumps(config.wire())
        os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(config.secret_keys))
        runtime_config.set_all_config(config.wire(), list(config.secret_keys))
        os.chdir(project.dir)
        sys.path.insert(0, str(project.main.parent))
        loop.run_until_complete(program())
        seconds = time.perf_counter() - started
        collections = [b - a for a, b in zip(collections, _gc_collections(), strict=True)]
    return {
        # + 1: set_mocks registers the stack resource outside the monitor's table
        "resources": len(monitor.resources) + 1,
        "seconds": round(seconds, 3),
        "gc": collector,
        "gc_collections": collections,  # per generation, during the timed run
    }


def step_synth(project_dir: Path, stack: str, config_file: Path | None, records: Path) -> dict[str, Any]:
    from preflight.synth import synthesize, write_result

    started = time.perf_counter()
    result = synthesize(project_dir, stack, config_file)
    seconds = time.perf_counter() - started
    write_result(result, records)
    return {"resources": len(result.resources), "seconds": round(seconds, 3)}


def _load_records(records: Path) -> Any:
    from preflight.synth import SynthResult

    return SynthResult.from_dict(json.loads(records.read_text(encoding="utf-8")))


def step_analyze(
    project_dir: Path, stack: str, config_file: Path | None, records: Path, timeout: float
) -> dict[str, Any]:
    from preflight.analyze import analyze

    project, config = _project(project_dir, stack, config_file)
    synth = _load_records(records)
    started = time.perf_counter()
    result = analyze(
        synth.resources,
        pack_dir=PACK,
        config=None,
        timeout=timeout,
        stack=stack,
        project=project.name,
        stack_config=config.wire(),
    )
    seconds = time.perf_counter() - started
    return {
        "resources": len(synth.resources),
        "analyzed": result.resources_analyzed,
        "seconds": round(seconds, 3),
        "findings": len(result.findings),
        "mandatory": sum(1 for f in result.findings if f.enforcement == "mandatory"),
    }


def step_checkov(records: Path, timeout: float, single: bool) -> dict[str, Any]:
    from preflight.checkov import CHUNK_SIZE, chunks, scan
    from preflight.tfplan import build_tfplan

    synth = _load_records(records)
    started = time.perf_counter()
    plan = build_tfplan(synth.resources)
    tfplan_seconds = time.perf_counter() - started
    chunk_size = 10**9 if single else CHUNK_SIZE
    started = time.perf_counter()
    result = scan(synth.resources, timeout=timeout, chunk_size=chunk_size)
    seconds = time.perf_counter() - started
    return {
        "resources": len(synth.resources),
        "plan_resources": len(plan.addresses),
        "checkov_read": result.resource_count,
        "tfplan_seconds": round(tfplan_seconds, 3),
        "batches": len(chunks(plan.plan, chunk_size)),
        "seconds": round(seconds, 3),
        "findings": len(result.findings),
        "blocking": sum(1 for f in result.findings if f.blocking),
    }


def _child(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.run _measure")
    p.add_argument("step", choices=(*FLOORS, "synth", "analyze", "checkov", SINGLE))
    p.add_argument("--project-dir", type=Path, required=True)
    p.add_argument("--stack", required=True)
    p.add_argument("--config-file", type=Path)
    p.add_argument("--records", type=Path)
    p.add_argument("--timeout", type=float, default=1800.0)
    a = p.parse_args(argv)
    if a.step in FLOORS:
        detail = step_floor(a.project_dir, a.stack, a.config_file, tuned_gc=a.step == "floor-gc")
    elif a.step == "synth":
        detail = step_synth(a.project_dir, a.stack, a.config_file, a.records)
    elif a.step == "analyze":
        detail = step_analyze(a.project_dir, a.stack, a.config_file, a.records, a.timeout)
    else:
        detail = step_checkov(a.records, a.timeout, single=a.step == SINGLE)
    sys.stdout.flush()
    os.write(1, (json.dumps(detail) + "\n").encode())
    return 0


# --------------------------------------------------------------------------- orchestration


@dataclass
class Estate:
    name: str
    project_dir: Path
    stack: str
    config_file: Path | None
    pack: Path
    size: int | None = None  # synthetic estates: the resource count asked for
    single_checkov: bool = False  # also time checkov in one run over the whole plan
    diff_repo: Path | None = None  # a two-commit copy to time `preflight diff` on (prod)


_DIFF_FILES = ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py", "preflight-lookups.yaml")
_DIFF_DIRS = ("stacks", "components", "policies")


def _diff_repo(tmp: Path) -> Path:
    """A git repository holding this project twice: the base, and a head whose stack file gains
    a comment, so the plan of both sides is the same and the diff's cost is all synthesis,
    analysis and the comparison (the `.venv` is linked, as the pack's requirements expect)."""
    import shutil

    repo = tmp / "diff-repo"
    repo.mkdir()
    for name in _DIFF_FILES:
        shutil.copy2(ROOT / name, repo / name)
    for name in _DIFF_DIRS:
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (repo / ".gitignore").write_text(".venv\n")
    git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=repo, check=True)
    with (repo / "Pulumi.prod.yaml").open("a", encoding="utf-8") as f:
        f.write("# a head commit\n")
    subprocess.run([*git, "commit", "-q", "-am", "head"], cwd=repo, check=True)
    return repo


def _commands(estate: Estate, step: str, records: Path, gate_out: Path, timeout: float) -> list[str]:
    where = ["--project-dir", str(estate.project_dir), "--stack", estate.stack]
    if estate.config_file is not None:
        where += ["--config-file", str(estate.config_file)]
    if step in ("gate", "gate-full"):
        return [
            sys.executable, "-m", "preflight", "gate", *where,
            "--policy-pack", str(estate.pack), "--no-progress",
            "--format", "json", "--out", str(gate_out), "--timeout", "300",
            *(["--no-checkov"] if step == "gate" else ["--checkov-timeout", str(timeout)]),
        ]  # fmt: skip
    cmd = [sys.executable, "-m", "benchmarks.run", "_measure", step, *where, "--timeout", str(timeout)]
    if step in ("synth", "analyze", "checkov", SINGLE):
        cmd += ["--records", str(records)]
    return cmd


ONCE = ("gate-full", SINGLE)  # long and only there for their RSS and the comparison: one run each


def run_round(
    estate: Estate,
    first: bool,
    tmp: Path,
    timeout: float,
    env: dict[str, str],
    only: Sequence[str] | None = None,
) -> list[Sample]:
    """Every step of the estate once (`first`: also the once-only steps); `only`: just those."""
    records = tmp / f"{estate.name}-records.json"
    gate_out = tmp / f"{estate.name}-gate.json"
    steps = [s for s in STEPS if s not in ONCE]
    if first:
        steps += ["gate-full", *([SINGLE] if estate.single_checkov else [])]
    if only is not None:
        steps = [s for s in steps if s in only]
    out: list[Sample] = []
    for step in steps:
        cmd = _commands(estate, step, records, gate_out, timeout)
        print(f"  {estate.name:<10} {step:<9} ...", end="", flush=True, file=sys.stderr)
        sample = run_measured(step, estate.name, cmd, timeout, env)
        sample.detail["load_average"] = round(os.getloadavg()[0], 2)
        error = f"  ERROR {sample.error}" if sample.error else ""
        print(f" {sample.wall_s:8.2f}s {sample.tree_rss_mb:7.1f} MB{error}", file=sys.stderr)
        if step in ("gate", "gate-full") and gate_out.is_file():
            report = json.loads(gate_out.read_text(encoding="utf-8"))
            sample.detail["summary"] = report.get("summary")
            sample.detail["resources"] = len(report.get("resources", []))
            gate_out.unlink()
        out.append(sample)
    if estate.diff_repo is not None and (only is None or set(DIFF_STEPS) <= set(only)):
        out += _diff_round(estate, tmp, timeout, env)
    return out


def _diff_round(estate: Estate, tmp: Path, timeout: float, env: dict[str, str]) -> list[Sample]:
    """`preflight diff` with an empty cache (both sides synthesized), then the same again (a
    re-run after a push: the base comes from the cache), each from outside as the gate is."""
    import shutil

    assert estate.diff_repo is not None
    cache = tmp / "diff-cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {**env, "PREFLIGHT_CACHE_DIR": str(cache)}
    out_file = tmp / "diff.json"
    cmd = [
        sys.executable, "-m", "preflight", "diff", "--base", "HEAD~1", "--project-dir", str(estate.diff_repo),
        "--stack", estate.stack, "--no-checkov", "--format", "json", "--out", str(out_file),
        "--timeout", "300",
    ]  # fmt: skip
    samples = []
    for step in DIFF_STEPS:
        print(f"  {estate.name:<10} {step:<9} ...", end="", flush=True, file=sys.stderr)
        sample = run_measured(step, estate.name, cmd, timeout, env)
        sample.detail["load_average"] = round(os.getloadavg()[0], 2)
        if out_file.is_file():
            report = json.loads(out_file.read_text(encoding="utf-8"))
            sample.detail["base_cached"] = report.get("base_cached")
            sample.detail["unchanged"] = (report.get("summary") or {}).get("unchanged")
            out_file.unlink()
        error = f"  ERROR {sample.error}" if sample.error else ""
        print(f" {sample.wall_s:8.2f}s {sample.tree_rss_mb:7.1f} MB{error}", file=sys.stderr)
        samples.append(sample)
    return samples


def medians(runs: list[Sample], estates: list[str]) -> list[Sample]:
    """Per estate and step, the run with the median wall time; every wall time in `detail`."""
    samples: list[Sample] = []
    for name in estates:
        for step in (*STEPS, SINGLE, *DIFF_STEPS):
            mine = [r for r in runs if r.estate == name and r.step == step]
            if not mine:
                continue
            ordered = sorted(mine, key=lambda r: r.wall_s)
            median = ordered[len(ordered) // 2]
            median.detail["walls"] = [r.wall_s for r in mine]
            median.detail["min_wall"] = ordered[0].wall_s
            samples.append(median)
    return samples


def _by(samples: list[Sample], estate: str, step: str) -> Sample | None:
    return next((s for s in samples if s.estate == estate and s.step == step), None)


def _seconds(sample: Sample | None) -> float | None:
    value = sample.detail.get("seconds") if sample else None
    return float(value) if value else None


def summarise(samples: list[Sample], estates: list[str], sizes: dict[str, int]) -> dict[str, Any]:
    """Per estate: the ratios the targets talk about; between the two sizes: growth."""
    per: dict[str, Any] = {}
    for name in estates:
        synth, gate = _by(samples, name, "synth"), _by(samples, name, "gate")
        analysis, checkov = _by(samples, name, "analyze"), _by(samples, name, "checkov")
        row: dict[str, Any] = {"resources": synth.detail.get("resources") if synth else None}
        for floor_step in FLOORS:
            floor = _by(samples, name, floor_step)
            suffix = floor_step.replace("-", "_")  # gate_over_floor, gate_over_floor_gc
            if floor and floor.wall_s and gate:
                row[f"gate_over_{suffix}"] = round(gate.wall_s / floor.wall_s, 2)
            if floor and floor.wall_s and synth:
                row[f"synth_over_{suffix}"] = round(synth.wall_s / floor.wall_s, 2)
        analysis_s, checkov_s = _seconds(analysis), _seconds(checkov)
        if analysis_s and checkov_s and checkov:
            n = int(checkov.detail.get("plan_resources") or 1)
            row["analysis_ms_per_resource"] = round(1000 * analysis_s / n, 3)
            row["checkov_ms_per_resource"] = round(1000 * checkov_s / n, 3)
            row["checkov_over_analysis"] = round(checkov_s / analysis_s, 2)
            single_s = _seconds(_by(samples, name, SINGLE))
            if single_s:
                row["checkov_unbatched_ms_per_resource"] = round(1000 * single_s / n, 3)
                row["checkov_unbatched_over_analysis"] = round(single_s / analysis_s, 2)
        for step in ("gate", "gate-full", "checkov", SINGLE):
            sample = _by(samples, name, step)
            if sample is not None:
                row[f"tree_rss_mb_{step}"] = sample.tree_rss_mb
        for step in DIFF_STEPS:
            sample = _by(samples, name, step)
            if sample is not None and gate and gate.wall_s:
                row[f"{step.replace('-', '_')}_over_gate"] = round(sample.wall_s / gate.wall_s, 2)
        per[name] = row
    growth: dict[str, Any] = {}
    ordered = sorted(sizes, key=sizes.__getitem__)
    if len(ordered) >= 2:
        small, large = ordered[0], ordered[-1]
        growth["sizes"] = [sizes[small], sizes[large]]
        growth["size_ratio"] = round(sizes[large] / sizes[small], 2)
        for step in STEPS:
            a, b = _by(samples, small, step), _by(samples, large, step)
            if not (a and b and a.wall_s):
                continue
            entry: dict[str, Any] = {"wall_ratio": round(b.wall_s / a.wall_s, 2)}
            inner_a, inner_b = _seconds(a), _seconds(b)
            if inner_a and inner_b:
                entry["inner_ratio"] = round(inner_b / inner_a, 2)
                slope = (inner_b - inner_a) / (sizes[large] - sizes[small])
                entry["marginal_ms_per_resource"] = round(1000 * slope, 3)
            growth[step] = entry
        for floor_step in FLOORS:
            floor_growth = growth.get(floor_step, {}).get("inner_ratio")
            for step, entry in growth.items():
                if isinstance(entry, dict) and step not in FLOORS and floor_growth:
                    # growth beyond the SDK's own (the floor is not quite linear either)
                    ratio = entry.get("inner_ratio", entry["wall_ratio"]) / floor_growth
                    entry[f"vs_{floor_step.replace('-', '_')}"] = round(ratio, 2)
    return {"estates": per, "growth": growth}


def _target(target: str, value: float, met: bool) -> dict[str, Any]:
    return {"target": target, "value": value, "met": met}


def targets(summary: dict[str, Any], sizes: dict[str, int]) -> list[dict[str, Any]]:
    """The issue's targets, each judged on this run."""
    out: list[dict[str, Any]] = []
    for name, row in summary["estates"].items():
        for key, floor in (
            ("gate_over_floor", "floor"),
            ("gate_over_floor_gc", "floor-gc (the collector paused as synth pauses it)"),
        ):
            if key in row:
                ratio = row[key]
                out.append(_target(f"gate --no-checkov <= {GATE_OVER_FLOOR}x {floor} ({name})", ratio,
                                   ratio <= GATE_OVER_FLOOR))  # fmt: skip
        if "checkov_over_analysis" in row:
            ratio = row["checkov_over_analysis"]
            out.append(_target(f"analysis >= {ANALYSIS_SPEEDUP}x faster than checkov ({name})", ratio,
                               ratio >= ANALYSIS_SPEEDUP))  # fmt: skip
        if "diff_rerun_over_gate" in row:
            ratio = row["diff_rerun_over_gate"]
            out.append(_target(f"diff re-run (base cached) <= {DIFF_OVER_GATE}x gate --no-checkov ({name})",
                               ratio, ratio <= DIFF_OVER_GATE))  # fmt: skip
    growth = summary["growth"]
    for step in ("synth", "gate", "analyze"):
        if step in growth:
            g = growth[step]
            # the step's own time where it reports one (no interpreter start-up), else wall time
            ratio = g.get("inner_ratio", g["wall_ratio"])
            label = f"{step}: {growth['sizes'][0]}->{growth['sizes'][1]} growth no worse than linear"
            out.append(_target(label, ratio, ratio <= growth["size_ratio"] * LINEAR_SLACK))
    if sizes:
        largest = max(sizes, key=sizes.__getitem__)
        row = summary["estates"].get(largest, {})
        for step, what in (("gate", "gate --no-checkov"), ("gate-full", "gate with checkov")):
            rss = row.get(f"tree_rss_mb_{step}")
            if rss is not None:
                label = f"peak RSS <= {MAX_RSS_MB_AT_8K:.0f} MB at {sizes[largest]} resources ({what})"
                out.append(_target(label, rss, rss <= MAX_RSS_MB_AT_8K))
    return out


def _note(s: Sample) -> str:
    if s.error:
        return s.error
    if s.step in ("gate", "gate-full") and isinstance(s.detail.get("summary"), dict):
        sm = s.detail["summary"]
        return f"exit {s.exit_code}: {sm.get('blocking', '?')} blocking, {sm.get('mandatory', '?')} mandatory"
    if s.step in ("checkov", SINGLE):
        return (
            f"{s.detail.get('checkov_read')} read by checkov in {s.detail.get('batches')} run(s), "
            f"{s.detail.get('blocking')} blocking"
        )
    if s.step == "analyze":
        return f"{s.detail.get('findings')} findings"
    if s.step in DIFF_STEPS:
        how = "base from the cache" if s.detail.get("base_cached") else "both sides synthesized"
        return f"exit {s.exit_code}: {how}, {s.detail.get('unchanged', '?')} unchanged"
    return f"{s.detail.get('resources', '?')} resources"


def print_table(samples: list[Sample], summary: dict[str, Any], checks: list[dict[str, Any]]) -> None:
    columns = (
        f"{'estate':<10} {'step':<8} {'wall s':>8} {'cpu s':>8} {'own s':>8} {'max RSS':>8} {'tree RSS':>9}"
    )
    print(f"{columns}  note")
    print("-" * (len(columns) + 40))
    for s in samples:
        own = _seconds(s)
        shown = f"{own:.2f}" if own else "-"
        print(
            f"{s.estate:<10} {s.step:<8} {s.wall_s:>8.2f} {s.cpu_s:>8.2f} {shown:>8} "
            f"{s.max_rss_mb:>7.0f}M {s.tree_rss_mb:>8.0f}M  {_note(s)}"
        )
    print()
    for name, row in summary["estates"].items():
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in row.items()))
    if summary["growth"]:
        print("growth: " + json.dumps(summary["growth"]))
    print()
    for c in checks:
        print(f"[{'met' if c['met'] else 'NOT MET'}] {c['target']}: {c['value']}")


def markdown(result: dict[str, Any]) -> str:
    """The run as Markdown: samples, ratios, growth, targets."""
    loads = [d["detail"].get("load_average", 0) for d in result["samples"]]
    lines = [
        f"Run {result['started']} ({result['seconds']:.0f} s), {result['machine']['cpus']} CPUs, "
        f"load average {result['machine']['load_average_before'][0]} before and "
        f"{result['machine']['load_average_after'][0]} after (between "
        f"{min(loads, default=0)} and {max(loads, default=0)} after each step); rounds: "
        + ", ".join(f"{k} {v}" for k, v in result["runs_per_step"].items())
        + " (every round runs every estate; per step the median run is kept; gate-full and checkov-1 "
        "run once).",
        "",
        "| estate | step | wall s (median) | all walls | CPU s | own s | max RSS MB | tree RSS MB | note |",
        "|---|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for d in result["samples"]:
        s = Sample(**d)
        own = _seconds(s)
        walls = " ".join(f"{w:.1f}" for w in s.detail.get("walls", []))
        lines.append(
            f"| {s.estate} | {s.step} | {s.wall_s:.2f} | {walls} "
            f"| {s.cpu_s:.2f} | {f'{own:.2f}' if own else '-'} "
            f"| {s.max_rss_mb:.0f} | {s.tree_rss_mb:.0f} | {_note(s)} |"
        )
    lines += ["", "| estate | ratio | value |", "|---|---|---:|"]
    for name, row in result["summary"]["estates"].items():
        for key, value in row.items():
            lines.append(f"| {name} | {key} | {value} |")
    growth = result["summary"]["growth"]
    if growth:
        small, large = growth["sizes"]
        lines += [
            "",
            f"| step | {small}->{large} wall ratio | own-time ratio | marginal ms/resource | vs floor "
            "| vs floor-gc |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for step, g in growth.items():
            if isinstance(g, dict):
                lines.append(
                    f"| {step} | {g['wall_ratio']} | {g.get('inner_ratio', '-')} "
                    f"| {g.get('marginal_ms_per_resource', '-')} | {g.get('vs_floor', '-')} "
                    f"| {g.get('vs_floor_gc', '-')} |"
                )
    lines += ["", "| target | this run | met |", "|---|---:|---|"]
    for c in result["targets"]:
        lines.append(f"| {c['target']} | {c['value']} | {'yes' if c['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_measure"]:
        return _child(argv[1:])
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="2000,8000", help="synthetic estate sizes (default 2000,8000)")
    p.add_argument("--no-prod", action="store_true", help="skip the prod stack")
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds over all estates; per step the median run is kept (default 3)",
    )
    p.add_argument(
        "--no-single-checkov",
        action="store_true",
        help="skip timing checkov in one unbatched run on estates the bridge batches",
    )
    p.add_argument(
        "--steps",
        help="only these steps, comma-separated (e.g. synth,analyze,checkov: analysis against checkov; "
        "synth writes the records the others read, so keep it first)",
    )
    p.add_argument("--markdown", type=Path, help="also write the results as Markdown tables")
    p.add_argument("--timeout", type=float, default=1800.0, help="limit per measurement, seconds")
    p.add_argument("--json", type=Path, default=ROOT / "out" / "benchmark.json", help="where to write JSON")
    a = p.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    only = [s.strip() for s in a.steps.split(",") if s.strip()] if a.steps else None
    known = {*STEPS, SINGLE, *DIFF_STEPS}
    if only is not None and (unknown := [s for s in only if s not in known]):
        p.error(f"--steps: unknown step(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if only is not None and "synth" not in only and any(s in only for s in ("analyze", "checkov", SINGLE)):
        p.error("--steps: analyze and checkov read the records synth writes; include synth")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CKV_", "BC_"))}
    env["PYTHONPATH"] = os.pathsep.join(x for x in (str(ROOT), env.get("PYTHONPATH", "")) if x)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.time()
    load_before = os.getloadavg()
    size_of: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as tmp_name:
        tmp = Path(tmp_name)
        estates: list[Estate] = []
        if not a.no_prod:
            wants_diff = only is None or any(s in only for s in DIFF_STEPS)
            estates.append(
                Estate("prod", ROOT, "prod", None, PACK, diff_repo=_diff_repo(tmp) if wants_diff else None)
            )
        base = (ESTATE / "Pulumi.bench.yaml").read_text(encoding="utf-8")
        for n in sizes:
            config = tmp / f"Pulumi.bench-{n}.yaml"
            config.write_text(base.replace("usdr-bench:resources: 2000", f"usdr-bench:resources: {n}"))
            name = f"synth-{n // 1000}k" if n % 1000 == 0 else f"synth-{n}"
            estates.append(
                Estate(
                    name,
                    ESTATE,
                    "bench",
                    config,
                    PACK,
                    size=n,
                    single_checkov=not a.no_single_checkov and n > CHUNK_SIZE,
                )
            )
            size_of[name] = n
        print(f"benchmark: {len(estates)} estate(s), load average {load_before[0]:.2f}", file=sys.stderr)
        # Rounds over all estates (prod, 2k, 8k, then again): every size sees the same spread of
        # machine load, so ratios between sizes are not skewed by whoever else is using the CPUs.
        runs: list[Sample] = []
        names = [e.name for e in estates]
        for round_ in range(max(1, a.repeat)):
            print(f" round {round_ + 1} of {max(1, a.repeat)}", file=sys.stderr)
            for estate in estates:
                runs += run_round(estate, round_ == 0, tmp, a.timeout, env, only)
        samples = medians(runs, names)
    summary = summarise(samples, names, size_of)
    checks = targets(summary, size_of)
    print_table(samples, summary, checks)
    result = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "memory_mb": round(os.sysconf("SC_PHYS_PAGES") * PAGE / 2**20),
        },
        "command": " ".join([Path(sys.executable).name, "-m", "benchmarks.run", *argv]),
        "samples": [asdict(s) for s in samples],
        "summary": summary,
        "targets": checks,
        "runs_per_step": dict.fromkeys(names, max(1, a.repeat)),
    }
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {a.json}", file=sys.stderr)
    if a.markdown:
        a.markdown.parent.mkdir(parents=True, exist_ok=True)
        a.markdown.write_text(markdown(result), encoding="utf-8")
        print(f"wrote {a.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
