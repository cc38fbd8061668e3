"""Mutation testing of the policy pack and the verdict path of preflight, with cosmic-ray.

    python3 dev.py mutate                                     # every module of MODULES
    python3 dev.py mutate --module policies/security/key_hsm.py --sample 40
    python3 dev.py mutate --group residency --budget 1800     # stop starting mutants after 30 min
    python3 dev.py mutate --list                              # the modules and the tests of each

For each module it asks cosmic-ray (`cosmic_ray.commands.init`) for every mutant of the file,
drops the ones inside type annotations (the project uses `from __future__ import annotations`:
an annotation is never evaluated, so such a mutant cannot change behaviour), takes a seeded
sample when `--sample N` is given, runs the module's own tests unmutated once (a failing
baseline stops the run, exit 1: a survivor count over a red suite means nothing), then runs
each mutant with cosmic-ray's `mutate_and_test`: the mutant is written to the file on disk, the
module's tests run as one pytest subprocess (`-x`, one worker), and the original is put back.
Writing to disk is why cosmic-ray and not mutmut: many of these tests start the pack as the
CLI starts it (a subprocess over gRPC) or the engine in child processes, and they see the
mutant only because it is the file they import (docs/mutation-testing.md).

The session of each module is cosmic-ray's own work db, `.mutation/<module>.sqlite`
(`cr-report .mutation/policies.security.key_hsm.sqlite` reads it). The run writes
`.mutation/report.json` (figures and every survivor with its diff) and `.mutation/report.md`
(the table docs/mutation-testing.md records), and prints the table.

A mutant that survives is a one-line edit of the gate that every test of its module lets
through: kill it with a test, or list it in docs/mutation-testing.md with why it is equivalent.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".mutation"
EXIT_BAD_INPUT = 2

_FAST = ("-m", "not slow")
_POLICY_TESTS = ("tests/policies/test_residency.py", "tests/policies/test_security.py")


_LIFECYCLE_TESTS = ("tests/policies/test_lifecycle.py",)
_VERDICT_GAPS = "tests/preflight/test_verdict_mutation_gaps.py"


def _cases(policy: str, *extra: str, tests: tuple[str, ...] = _POLICY_TESTS) -> tuple[str, ...]:
    """The four-ways cases of one policy (tests/policies/cases.py) and the module's own files."""
    keywords = " or ".join([f"{policy}:", *(Path(f).stem for f in extra)])
    return (*tests, *extra, "-k", keywords)


def _lifecycle(policy: str, *extra: str) -> tuple[str, ...]:
    return _cases(policy, *extra, tests=_LIFECYCLE_TESTS)


# module -> the pytest arguments that select the tests concerning it. A policy's cases are
# selected by the policy's name (`-k residency-oci-region:`); a module with its own test file
# runs that file and every case (the cases exercise it through the pack).
MODULES: dict[str, tuple[str, ...]] = {
    "policies/residency/aws_location.py": _cases("residency-aws-location"),
    "policies/residency/cross_region.py": _cases("residency-cross-region"),
    "policies/residency/iam_access_conditions.py": _cases(
        "residency-iam-access-conditions", "tests/policies/test_iam_access_conditions.py"
    ),
    "policies/residency/iam_home_region.py": _cases("residency-iam-home-region"),
    "policies/residency/iam_statements.py": _cases("residency-iam-statements"),
    "policies/residency/location_values.py": _cases(
        "residency-location-values", "tests/policies/test_location_values.py"
    ),
    "policies/residency/oci_region.py": _cases("residency-oci-region"),
    "policies/residency/referenced_ocids.py": _cases("residency-referenced-ocids"),
    "policies/residency/unplaced_types.py": _cases("residency-unplaced-types"),
    "policies/residency/waived_findings.py": _cases(
        "residency-waived", "tests/policies/test_waiver_warning.py"
    ),
    "policies/residency/waiver_expiry.py": _cases(
        "residency-waiver-expiry", "tests/policies/test_waiver_warning.py"
    ),
    "policies/security/admin_ingress.py": _cases("security-no-admin-ingress"),
    "policies/security/bucket_cmk.py": _cases("security-bucket-cmk"),
    "policies/security/bucket_not_public.py": _cases(
        "security-bucket-not-public", "tests/policies/test_public_access_sets.py"
    ),
    "policies/security/bucket_object_events.py": _cases("security-bucket-object-events"),
    "policies/security/bucket_public_writes.py": _cases(
        "security-bucket-public-writes", "tests/policies/test_public_access_sets.py"
    ),
    "policies/security/bucket_versioning.py": _cases("security-bucket-versioning"),
    "policies/security/data_ingress.py": _cases(
        "security-no-data-ingress", "tests/policies/test_public_access_sets.py"
    ),
    "policies/security/exposure_union.py": _cases("security-exposure-across-rules"),
    # Its adversarial programs (test_egress_programs.py, real SDK runs, marked slow) are left out
    # of the run for the budget, like the verdict path's slow tests: its 18 cases reach the same code.
    "policies/security/egress_firewall.py": (
        *_cases("security-egress-through-firewall", "tests/policies/test_egress_programs.py"),
        *_FAST,
    ),
    "policies/security/firewall_ids.py": _cases("security-firewall-ids"),
    "policies/security/key_hsm.py": _cases("security-key-hsm"),
    "policies/security/key_rotation.py": _cases("security-key-rotation"),
    "policies/security/par_public_read.py": _cases(
        "security-par-public-read", "tests/policies/test_public_access_sets.py"
    ),
    "policies/security/region_cloud_guard.py": _cases("stack-region-cloud-guard"),
    "policies/security/region_firewall.py": _cases("stack-region-firewall"),
    "policies/security/region_vault.py": _cases("stack-region-vault"),
    "policies/security/required_tags.py": _cases("security-required-tags"),
    "policies/security/subnet_flow_logs.py": _cases("stack-subnet-flow-logs"),
    "policies/pack_config.py": (
        "tests/policies/test_mutation_gaps_config.py",
        "tests/policies/test_policy_config.py",
        "tests/policies/test_fail_closed.py",
        "tests/policies/test_parsers.py",
        *_POLICY_TESTS,
    ),
    "policies/locations.py": (
        "tests/policies/test_location_values.py",
        "tests/policies/test_parsers.py",
        *_POLICY_TESTS,
    ),
    # The pack's shared modules (measured from issue 20's second round): each runs the tests
    # that import it and the policies' cases that reach it; the slow gRPC tests are left out
    # (the in-process cases judge the same code) and so is test_pack_runtime's corpus test
    # (130 s: it replays every case, which the cases already run).
    "policies/pack_policy.py": ("tests/policies/test_fail_closed.py", *_POLICY_TESTS, *_FAST),
    "policies/pack_runtime.py": (
        "tests/policies/test_pack_runtime.py",
        "tests/policies/test_fail_closed.py",
        *_FAST,
        "-k",
        "not test_corpus",
    ),
    "policies/resource_props.py": (
        "tests/policies/test_parsers.py",
        "tests/policies/test_fail_closed.py",
        *_POLICY_TESTS,
        *_LIFECYCLE_TESTS,
        *_FAST,
    ),
    "policies/residency_catalogue.py": (
        "tests/policies/test_fail_closed.py",
        "tests/test_regions.py",
        "tests/test_shared_modules.py",
        *_FAST,
    ),
    "policies/stack_graph.py": (*_POLICY_TESTS, *_LIFECYCLE_TESTS, "-k", "stack- or security-"),
    "policies/legacy_sites.py": (
        *_LIFECYCLE_TESTS,
        "tests/policies/test_legacy_stacks.py",
        "tests/policies/test_foreign_programs.py",
        *_FAST,
    ),
    "policies/legacy_access.py": (*_LIFECYCLE_TESTS, "tests/policies/test_s3_policy_eval.py"),
    "policies/s3_policy_eval.py": (
        "tests/policies/test_s3_policy_eval.py",
        "tests/policies/test_mutation_gaps_s3.py",
        *_LIFECYCLE_TESTS,
    ),
    "policies/s3_inline.py": (
        *_LIFECYCLE_TESTS,
        *_POLICY_TESTS,
        "tests/policies/test_public_access_sets.py",
        "-k",
        "legacy- or security-bucket- or test_public_access_sets",
    ),
    "policies/s3_policy_document.py": (
        "tests/policies/test_parsers.py",
        *_LIFECYCLE_TESTS,
        *_POLICY_TESTS,
        "tests/policies/test_public_access_sets.py",
        "-k",
        "test_parsers or legacy-replica-writers: or security-bucket- or test_public_access_sets",
    ),
    "policies/lifecycle/bucket_inline_conflicts.py": _lifecycle("legacy-bucket-inline-conflicts"),
    "policies/lifecycle/data_protected.py": _lifecycle("stack-data-protected"),
    "policies/lifecycle/replica_destinations.py": _lifecycle("legacy-data-destinations"),
    "policies/lifecycle/replica_expiry.py": _lifecycle("legacy-replica-expiry"),
    "policies/lifecycle/replica_lockdown.py": _lifecycle("legacy-replica-lockdown"),
    "policies/lifecycle/replica_retention.py": _lifecycle("legacy-replica-retention"),
    "policies/lifecycle/replica_writers.py": _lifecycle("legacy-replica-writers"),
    "policies/usdr_common/regions.py": (
        "tests/test_regions.py",
        "tests/test_shared_modules.py",
        "tests/policies/test_fail_closed.py",
        *_FAST,
    ),
    "policies/usdr_common/strict_yaml.py": (
        "tests/test_shared_modules.py",
        "tests/preflight/test_hostile_files.py",
        "tests/policies/test_policy_config.py",
        *_FAST,
    ),
    "policies/usdr_common/errors.py": (
        "tests/test_regions.py",
        "tests/test_shared_modules.py",
        "tests/policies/test_fail_closed.py",
        *_FAST,
    ),
    # The verdict path: the tests marked slow (the program end to end, checkov itself) are left
    # out to fit the budget; the in-process ones reach the same code.
    "preflight/report.py": (
        "tests/preflight/test_report.py",
        "tests/preflight/test_readable.py",
        "tests/preflight/test_sarif.py",
        _VERDICT_GAPS,
        *_FAST,
    ),
    # Masking is reached only through the CLI and the engine's child: its slow tests stay in.
    "preflight/masking.py": ("tests/preflight/test_masking.py", _VERDICT_GAPS),
    "preflight/checkov.py": ("tests/preflight/test_checkov.py", _VERDICT_GAPS, *_FAST),
    "preflight/attest.py": (
        "tests/preflight/test_attest.py",
        "tests/preflight/test_attest_statement.py",
        "tests/preflight/test_attest_sign.py",
        _VERDICT_GAPS,
        *_FAST,
    ),
}
GROUPS = {
    "residency": "policies/residency/",
    "security": "policies/security/",
    "pack": "policies/",
    "verdict": "preflight/",
}


class UsageError(Exception):
    """Bad command line or configuration: one line, exit 2."""


@dataclass
class Survivor:
    operator: str
    occurrence: int
    line: int
    definition: str | None
    diff: str


@dataclass
class ModuleResult:
    module: str
    mutants: int  # every mutant cosmic-ray makes of the file, annotations excluded
    annotation_mutants: int  # left out: never evaluated (from __future__ import annotations)
    sampled: int
    killed: int = 0
    survived: int = 0
    incompetent: int = 0  # the mutant could not be applied or run (counted neither way)
    not_run: int = 0  # left when the budget ran out
    seconds: float = 0.0
    survivors: list[Survivor] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        judged = self.killed + self.survived
        return None if judged == 0 else self.killed / judged


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for node in ast.walk(ast.parse(source)):
        notes: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            notes.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        for note in notes:
            if note is not None and note.end_lineno is not None and note.end_col_offset is not None:
                spans.append(((note.lineno, note.col_offset), (note.end_lineno, note.end_col_offset)))
    return spans


def _in_annotation(pos: tuple[int, int], spans: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def _pytest_command(selection: Sequence[str], basetemp: Path) -> str:
    import shlex

    args = [
        sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
        f"--basetemp={basetemp}", *selection,
    ]  # fmt: skip
    return shlex.join(args)


@contextlib.contextmanager
def _terminations_unwind() -> Iterator[None]:
    """SIGTERM/SIGHUP raise SystemExit, so cosmic-ray's `restore_contents` puts the file back."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_module(
    module: str,
    *,
    sample: int | None,
    seed: int,
    deadline: float | None,
    timeout_factor: float,
    again: dict[str, Any] | None = None,
) -> ModuleResult:
    """Every mutant of the sample, or with `again` (the module's entry of an earlier report of
    the same source) only that run's survivors: its killed mutants stay killed, since tests were
    only added since (a mutant is judged by its module's tests alone)."""
    from cosmic_ray.commands.init import init
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.testing import run_tests
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    path = ROOT / module
    original = path.read_bytes()
    spans = _annotation_spans(original.decode("utf-8"))
    OUT.mkdir(exist_ok=True)
    session = OUT / (module.removesuffix(".py").replace("/", ".") + ".sqlite")
    session.unlink(missing_ok=True)
    # Outside the project: a test that looks over the tree (tests/test_shared_modules.py: one
    # regions.yaml) would otherwise find the files other tests left in their temporary folders;
    # and one folder per run, so runs in two worktrees never share it.
    basetemp = Path(tempfile.gettempdir()) / f"usdr-mutation-{os.getpid()}"
    command = _pytest_command(MODULES[module], basetemp)
    # cosmic-ray reads and writes the module by this path, and the tests run in the process's
    # directory: both are the project's, wherever the runner was started from.
    with contextlib.chdir(ROOT), use_db(str(session), WorkDB.Mode.create) as db:
        init([path.relative_to(ROOT)], db, {})
        items = list(db.pending_work_items)
        in_notes = [i for i in items if _in_annotation(i.mutations[0].start_pos, spans)]
        for item in in_notes:  # recorded as skipped in the session, as cr-filter-* do
            db.set_result(item.job_id, _skipped())
        live = [i for i in items if i not in in_notes]
        live.sort(key=_order)  # the whole spec: cosmic-ray lists them in no fixed order
        chosen = live if sample is None or sample >= len(live) else random.Random(seed).sample(live, sample)  # noqa: S311 (a sample, not a secret)
        chosen.sort(key=_order)
        result = ModuleResult(module, len(live), len(in_notes), len(chosen))
        if again is not None:
            if again["mutants"] != len(live):
                raise RuntimeError(
                    f"{module}: not the source of the earlier report ({again['mutants']} mutants)"
                )
            # An operator's occurrence numbers the mutants of one file in source order, so
            # (operator, occurrence) names one mutant whatever the draw: the earlier survivors are
            # found among every mutant, not in a new draw (an earlier draw made before `_order`
            # could differ from today's where one operator makes two mutants at one place).
            left = {(s["operator"], s["occurrence"]) for s in again["survivors"]}
            chosen = [i for i in live if (i.mutations[0].operator_name, i.mutations[0].occurrence) in left]
            if len(chosen) != len(left):
                raise RuntimeError(
                    f"{module}: {len(left) - len(chosen)} of the earlier survivors are not mutants of it"
                )
            result.sampled, result.killed = again["sampled"], again["killed"]
            result.incompetent, result.not_run = again["incompetent"], again["not_run"]
        if deadline is not None and time.monotonic() >= deadline:  # no baseline for nothing
            result.not_run += len(chosen)
            return result
        started = time.monotonic()
        outcome, output = run_tests(command, None)
        baseline = time.monotonic() - started
        if outcome != TestOutcome.SURVIVED:
            raise RuntimeError(f"{module}: its tests fail unmutated:\n{output[-2000:]}")
        timeout = max(30.0, baseline * timeout_factor)
        for item in chosen:
            if deadline is not None and time.monotonic() >= deadline:
                result.not_run += 1
                continue
            try:
                outcome_of = mutate_and_test(item.mutations, command, timeout)
            finally:
                if path.read_bytes() != original:  # never leave a mutant behind
                    path.write_bytes(original)
            db.set_result(item.job_id, outcome_of)
            spec = item.mutations[0]
            if outcome_of.worker_outcome != WorkerOutcome.NORMAL:
                result.incompetent += 1
            elif outcome_of.test_outcome == TestOutcome.KILLED:
                result.killed += 1
            elif outcome_of.test_outcome == TestOutcome.SURVIVED:
                result.survived += 1
                result.survivors.append(
                    Survivor(
                        operator=spec.operator_name,
                        occurrence=spec.occurrence,
                        line=spec.start_pos[0],
                        definition=spec.definition_name,
                        diff=outcome_of.diff or "",
                    )
                )
            else:
                result.incompetent += 1
        result.seconds = round(time.monotonic() - started, 1)
    assert path.read_bytes() == original, f"{module} was not restored"
    return result


def _order(item: Any) -> tuple[Any, ...]:
    """Two mutants of one operator at one place (NumberReplacer's n-1 and n+1) differ only by
    occurrence: without it their order, and so a seeded draw, changed from run to run."""
    spec = item.mutations[0]
    return (spec.start_pos, spec.operator_name, spec.occurrence)


def _skipped() -> Any:
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    return WorkResult(worker_outcome=WorkerOutcome.SKIPPED)


def table(results: Sequence[ModuleResult]) -> str:
    rows = [
        "| module | mutants | sampled | killed | survived | incompetent | not run | survivors % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        pct = "n/a" if r.killed + r.survived == 0 else f"{_survivor_pct(r):.1f}"
        rows.append(
            f"| `{r.module}` | {r.mutants} | {r.sampled} | {r.killed} | {r.survived} | {r.incompetent}"
            f" | {r.not_run} | {pct} |"
        )
    return "\n".join(rows)


def select(modules: Sequence[str], groups: Sequence[str]) -> list[str]:
    for m in modules:
        if m not in MODULES:
            raise UsageError(f"mutate: --module {m}: not a module of benchmarks/mutation.py MODULES")
    for g in groups:
        if g not in GROUPS:
            raise UsageError(f"mutate: --group {g}: one of {', '.join(GROUPS)}")
    chosen = [m for m in MODULES if m in modules or any(m.startswith(GROUPS[g]) for g in groups)]
    return chosen or ([] if modules or groups else list(MODULES))


def parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="dev.py mutate", description=__doc__.split("\n\n")[0])
    p.add_argument("--module", action="append", default=[], help="a module of MODULES (repeatable)")
    p.add_argument("--group", action="append", default=[], help=f"one of {', '.join(GROUPS)} (repeatable)")
    p.add_argument("--sample", type=int, default=None, help="at most N mutants per module (seeded)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=None, help="seconds; no mutant starts after it")
    p.add_argument("--timeout-factor", type=float, default=4.0, help="per mutant: baseline time x this")
    p.add_argument("--json", type=Path, default=OUT / "report.json")
    p.add_argument(
        "--fail-above", type=float, default=None, metavar="PCT", help="exit 1 above PCT%% survivors"
    )
    p.add_argument("--list", action="store_true", help="print the modules and their tests, run nothing")
    p.add_argument(
        "--survivors-of", type=Path, default=None, metavar="REPORT", help="re-run only REPORT's survivors"
    )
    ns = p.parse_args(list(argv))
    if ns.sample is not None and ns.sample < 1:
        raise UsageError("mutate: --sample must be at least 1")
    if ns.budget is not None and ns.budget <= 0:
        raise UsageError("mutate: --budget must be a positive number of seconds")
    return ns


def main(argv: Sequence[str]) -> int:
    try:
        ns = parse(argv)
        modules = select(ns.module, ns.group)
    except UsageError as e:
        print(e, file=sys.stderr)
        return EXIT_BAD_INPUT
    if ns.list:
        for m in modules:
            print(f"{m}: pytest {' '.join(MODULES[m])}")
        return 0
    deadline = None if ns.budget is None else time.monotonic() + ns.budget
    earlier: dict[str, dict[str, Any]] = {}
    if ns.survivors_of is not None:
        try:
            earlier = {
                m["module"]: m for m in json.loads(ns.survivors_of.read_text(encoding="utf-8"))["modules"]
            }
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(
                f"mutate: --survivors-of {ns.survivors_of}: not a report of this tool ({e})", file=sys.stderr
            )
            return EXIT_BAD_INPUT
        modules = [m for m in modules if m in earlier]
        previous = json.loads(ns.survivors_of.read_text(encoding="utf-8"))
        ns.sample, ns.seed = previous.get("sample"), previous.get("seed", 0)  # the same draw
    results: list[ModuleResult] = []
    with _terminations_unwind():
        for m in modules:
            print(f"mutate: {m} ...", file=sys.stderr, flush=True)
            try:
                r = run_module(
                    m,
                    sample=ns.sample,
                    seed=ns.seed,
                    deadline=deadline,
                    timeout_factor=ns.timeout_factor,
                    again=earlier.get(m),
                )
            except RuntimeError as e:
                print(f"mutate: {e}", file=sys.stderr)
                return 1
            results.append(r)
            print(table([r]).splitlines()[-1], file=sys.stderr, flush=True)
    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tool": "cosmic-ray " + _version(),
        "sample": ns.sample,
        "seed": ns.seed,
        "survivors_of": None if ns.survivors_of is None else str(ns.survivors_of),
        "modules": [{**asdict(r), "score": r.score} for r in results],
    }
    ns.json.parent.mkdir(parents=True, exist_ok=True)
    ns.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md = table(results)
    ns.json.with_suffix(".md").write_text(md + "\n", encoding="utf-8")
    print(md)
    over = [r.module for r in results if ns.fail_above is not None and _survivor_pct(r) > ns.fail_above]
    if over:
        print(f"mutate: survivors above {ns.fail_above:g}% in {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


def _survivor_pct(r: ModuleResult) -> float:
    judged = r.killed + r.survived
    return 0.0 if judged == 0 else 100 * r.survived / judged


def _version() -> str:
    from importlib.metadata import version

    return version("cosmic-ray")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
