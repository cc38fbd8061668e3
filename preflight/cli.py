"""The `preflight` command line (shared/DESIGN.md is the contract).

    preflight plan   --stack NAME [options]   synthesize, analyze, report; exit 0 unless it could not run
    preflight gate   --stack NAME [options]   the same; exit 1 on any blocking finding
    preflight diff   --base REF [options]     PR comment of a change (markdown|json; preflight/diff.py)
    preflight attest-state EXPORT.json        the residency attestation of a deployed state
    preflight attest-diff PLANNED DEPLOYED    what the deploy did that the plan did not say
    preflight verify FILE --public-key KEY    check a residency attestation's signature and schema
                     [--against DIR]          ... and that its subjects are that checkout's

Exit codes: 0 ok, 1 blocked (gate, diff), not proven (verify) or differing (attest-diff), 2 bad
input, 3 internal failure. Every error is one line on stderr; PREFLIGHT_DEBUG=1 adds the traceback of an
unexpected one. Never 0 when something could not be checked.

How a run goes: the policy pack is started first (it takes a second to boot), then the
program is synthesized in a child interpreter that streams every resource back as it
registers, and each is handed to the pack at once, so the analysis runs alongside the
program on the other core; AnalyzeStack and checkov (on the Terraform-plan JSON, in its own
environment) run when synthesis ends and the child has given its memory back.

Policy config: `--policy-config FILE` (JSON, as `pulumi preview --policy-pack-config`). There
is deliberately no default: preflight runs any project and does not guess how a project makes
its pack's config (this one: `python -m stacks.policy_config --stack prod --out FILE`).

Adding a subcommand from another module takes a few lines in `build_parser` (see `_add_diff`):
the module provides `configure_parser(parser, shared=False)` for its own options and
`run(args) -> int`, raising PreflightError for exit codes 2 and 3.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

from preflight import __version__
from preflight.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, BadInput, PreflightError

PROG = "preflight"
FORMATS = ("text", "json", "markdown", "sarif")
DIFF_FORMATS = ("markdown", "json")  # what preflight/diff.py writes
DEFAULT_TIMEOUT = 120.0
SYNTH_TIMEOUT = 1800.0  # a program that never ends is a failure to check, not a hung CI job
CHECKOV_TIMEOUT = 600.0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


# --------------------------------------------------------------------------- parser

# Pulumi's own rule for a stack name (pulumi/pulumi pkg/backend/diy/backend.go, validateStackName:
# `^[A-Za-z0-9_.-]{1,100}$`, "stack names may only contain alphanumeric, hyphens, underscores, or
# periods"; a slash is refused there too). preflight reads Pulumi.<NAME>.yaml, so a name is a name,
# never a path: `--stack ../etc` is bad input.
_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def _seconds(text: str) -> float:
    """A time limit: a finite number of seconds above zero (NaN, inf, 0, negatives are usage errors)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number of seconds above 0")
    return value


def _stack_arg(text: str) -> str:
    if not _STACK_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a stack name (Pulumi's rule: 1-100 letters, digits, '-', '_' or '.'; no '/')"
        )
    return text


def _shared_options(formats: Sequence[str] = FORMATS, default_format: str = "text") -> _Parser:
    """The options every project command shares (plan, gate, diff); `formats`: the ones the
    command writes (diff: markdown and json), the only ones its --help lists."""
    p = _Parser(add_help=False)
    p.add_argument("--project-dir", default=".", metavar="DIR", help="the Pulumi project (default: .)")
    p.add_argument(
        "--stack", type=_stack_arg, metavar="NAME", help="stack name: reads Pulumi.NAME.yaml in the project"
    )
    p.add_argument("--config-file", metavar="FILE", help="use FILE instead of the stack file")
    p.add_argument("--policy-pack", metavar="DIR", help="policy pack directory (default: <project>/policies)")
    p.add_argument("--policy-config", metavar="FILE", help="policy config JSON for the pack (default: none)")
    p.add_argument("--format", choices=formats, help=f"output format (default: {default_format})")
    p.add_argument("--out", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--no-checkov", action="store_true", help="do not run checkov")
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"time the policy pack may take to start or answer one call (default {DEFAULT_TIMEOUT:g})",
    )
    return p


def _plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tfplan-out", metavar="FILE", help="write the Terraform-plan JSON checkov scans")
    parser.add_argument(
        "--attestation",
        metavar="FILE",
        help="write the residency attestation: an in-toto statement, or with --sign-key a DSSE envelope",
    )
    parser.add_argument(
        "--sign-key",
        metavar="FILE",
        help="sign the --attestation with this PEM private key (Ed25519 or ECDSA P-256; docs/attestation.md)",
    )
    parser.add_argument("--residency-map", metavar="FILE", help="write the residency map (Mermaid)")
    parser.add_argument(
        "--checkov-timeout",
        type=_seconds,
        default=CHECKOV_TIMEOUT,
        metavar="SECONDS",
        help="checkov's time limit",
    )
    parser.add_argument(
        "--synth-timeout",
        type=_seconds,
        default=SYNTH_TIMEOUT,
        metavar="SECONDS",
        help=f"time the program may take to run under mocks (default {SYNTH_TIMEOUT:g})",
    )
    parser.add_argument(
        "--stack-outputs",
        action="append",
        default=[],
        metavar="ORG/PROJECT/STACK=FILE",
        help="outputs of a referenced stack (pulumi stack output --json or pulumi stack export); repeatable",
    )
    parser.add_argument(
        "--lookups",
        action="append",
        default=[],
        metavar="FILE",
        help="answers for data-source lookups, read before the project's preflight-lookups.yaml "
        "(README: Offline lookups); repeatable",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress on stderr (default: a live line on a terminal, a line per stage in a log)",
    )


def _add_diff(sub: Any) -> None:
    """`diff` lives in preflight/diff.py (issue 7); these lines are all the CLI needs of it."""
    try:
        from preflight import diff
    except ModuleNotFoundError as exc:
        if exc.name != "preflight.diff":
            raise
        return
    what = (
        "compare the plan of a git base ref with the working tree: a Markdown PR comment (or JSON) of "
        "resource, residency and finding changes"
    )
    p = sub.add_parser(
        "diff",
        parents=[_shared_options(DIFF_FORMATS, "markdown")],
        help=what,
        description=what,
        epilog=_exits(
            ("0", "nothing in the change blocks"),
            (
                "1",
                "the change deletes or replaces a protected or data-bearing resource, or introduces a "
                "blocking finding",
            ),
            *_ERROR_EXITS,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.configure_parser(p, shared=False)
    p.set_defaults(handler=diff.run)


def _add_synth(sub: Any) -> None:
    # Internal: synthesis in a fresh interpreter for synth.synthesize_isolated (not in --help).
    p = sub.add_parser("_synth")
    p.add_argument("--project-dir", type=Path, default=Path("."))
    p.add_argument("--stack", required=True)
    p.add_argument("--config-file", type=Path)
    p.add_argument("--stream-fd", type=int, required=True)
    p.add_argument("--stack-outputs", action="append", default=[])
    p.add_argument("--lookups", action="append", default=[])
    p.set_defaults(handler=_run_synth)


_ERROR_EXITS = (
    ("2", "bad input: usage, an unreadable or invalid file or config, not a Pulumi project"),
    (
        "3",
        "internal failure: the program, the policy pack or checkov failed or timed out; nothing was checked",
    ),
)


def _exits(*codes: tuple[str, str]) -> str:
    """An --help epilog: the command's exit codes, one a line."""
    return "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in codes)


def build_parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Offline plan and policy gate for Pulumi Python projects: runs the program under "
        "mocks and the CrossGuard policy pack (and checkov) with no cloud credentials.",
        epilog=_exits(
            ("0", "ok: no blocking finding (plan: the report was written)"),
            (
                "1",
                "gate/diff: blocking findings; verify: not proven (bad signature, unsigned, modified, "
                "other subjects); attest-diff: the deployed state differs from the plan",
            ),
            *_ERROR_EXITS,
        )
        + "\n\n`preflight COMMAND --help` says what each command does.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="{plan,gate,diff,verify,attest-state,attest-diff}", parser_class=_Parser
    )
    sub.required = True
    shared = _shared_options()
    for name, what, exits in (
        (
            "plan",
            "synthesize the program under mocks, run the policy pack and checkov, and report what the "
            "gate would decide",
            (("0", "the report was written, blocking findings or not"),),
        ),
        (
            "gate",
            "the same as plan, as a check: fails on any mandatory violation or unsuppressed checkov "
            "failure, and on anything that could not be checked",
            (("0", "no blocking finding"), ("1", "a mandatory violation or an unsuppressed checkov failure")),
        ),
    ):
        p = sub.add_parser(
            name,
            parents=[shared],
            help=what,
            description=what,
            epilog=_exits(*exits, *_ERROR_EXITS),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _plan_options(p)
        p.set_defaults(handler=_run_plan)
    _add_diff(sub)
    _add_attest(sub)
    _add_synth(sub)
    return parser


# --------------------------------------------------------------------------- commands


def _run_synth(args: argparse.Namespace) -> int:
    from preflight.synth import stream_synthesis

    code = stream_synthesis(
        args.stream_fd, args.project_dir, args.stack, args.config_file, args.stack_outputs, args.lookups
    )
    # Everything is sent: skip the interpreter's teardown, which would free the program's
    # objects one by one (seconds at 8,000 resources) for a process that is about to vanish.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _add_attest(sub: Any) -> None:
    """verify, attest-state and attest-diff (preflight/attest_sign.py, preflight/attest_state.py)."""
    what = (
        "check a residency attestation: its DSSE signature under a trusted key, its payload type and "
        "statement schema, and with --against DIR that its subjects are that checkout's"
    )
    v = sub.add_parser(
        "verify",
        help=what,
        description=what,
        epilog=_exits(
            ("0", "signed by a trusted key, well formed, and (--against) its subjects match"),
            (
                "1",
                "a bad signature or an untrusted key, an edited byte, unsigned (without --allow-unsigned), "
                "or subjects that do not match",
            ),
            ("2", "unreadable: the file or a key cannot be read, or is not an attestation"),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument("file", metavar="FILE")
    v.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="KEY",
        help="a trusted PEM public key; repeatable",
    )
    v.add_argument(
        "--trusted-keys",
        action="append",
        default=[],
        metavar="FILE",
        help="a file of trusted PEM public keys (every block in it); repeatable",
    )
    v.add_argument("--against", metavar="DIR", help="check the subjects against this project checkout")
    v.add_argument(
        "--allow-unsigned",
        "--allow-unsigned-legacy",
        action="store_true",
        help="read an unsigned statement or an old self-sealed attestation (reported as UNSIGNED)",
    )
    v.set_defaults(handler=_run_verify)

    what = (
        "build the residency attestation of what is deployed from a `pulumi stack export` file: "
        "every data-bearing resource where it actually landed"
    )
    s = sub.add_parser(
        "attest-state",
        help=what,
        description=what,
        epilog=_exits(("0", "the attestation was written"), ("2", "an unreadable or invalid export or key")),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("export", metavar="EXPORT.json")
    s.add_argument("--project-dir", default=".", metavar="DIR", help="the Pulumi project (default: .)")
    s.add_argument("--stack", type=_stack_arg, metavar="NAME", help="stack name (default: from the export)")
    s.add_argument("--out", required=True, metavar="FILE", help="write the attestation here")
    s.add_argument("--sign-key", metavar="FILE", help="sign it with this PEM private key (a DSSE envelope)")
    s.set_defaults(handler=_run_attest_state)

    what = "compare a planned and a deployed residency attestation: what landed elsewhere, or is missing"
    d = sub.add_parser(
        "attest-diff",
        help=what,
        description=what,
        epilog=_exits(
            ("0", "the deployed state is what the plan said"),
            ("1", "a difference (printed), or a signature that does not verify"),
            ("2", "an unreadable file or key"),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("planned", metavar="PLANNED")
    d.add_argument("deployed", metavar="DEPLOYED")
    d.add_argument("--public-key", action="append", default=[], metavar="KEY", help="verify both under KEY")
    d.add_argument(
        "--trusted-keys", action="append", default=[], metavar="FILE", help="verify both under these"
    )
    d.add_argument(
        "--allow-unsigned", action="store_true", help="compare unsigned statements (reported as UNSIGNED)"
    )
    d.set_defaults(handler=_run_attest_diff)


def _run_verify(args: argparse.Namespace) -> int:
    from preflight.attest_sign import load_public_keys, verify_file

    keys = load_public_keys(args.public_key, args.trusted_keys)
    against = Path(args.against) if args.against else None
    if against is not None and not against.is_dir():
        raise BadInput(f"--against {args.against}: not a directory")
    result = verify_file(Path(args.file), keys, allow_unsigned=args.allow_unsigned, against=against)
    for line in result.lines:
        print(line)
    for line in result.errors:
        print(f"{PROG}: error: {line}", file=sys.stderr)
    return result.code


def _run_attest_state(args: argparse.Namespace) -> int:
    from preflight.attest_state import run_attest_state

    code: int = run_attest_state(args)
    return code


def _run_attest_diff(args: argparse.Namespace) -> int:
    from preflight.attest_state import run_attest_diff

    code: int = run_attest_diff(args)
    return code


def _stack_name(args: argparse.Namespace, project_dir: Path) -> str:
    name = _stack_name_given(args, project_dir)
    if not _STACK_NAME.fullmatch(name):  # also a name taken from a file name
        raise BadInput(f"--stack: {name!r} is not a stack name (1-100 letters, digits, '-', '_' or '.')")
    return name


def _stack_name_given(args: argparse.Namespace, project_dir: Path) -> str:
    if args.stack:
        return str(args.stack)
    if args.config_file:
        name = Path(args.config_file).name
        if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")) and name.count(".") == 2:
            return name.split(".")[1]
    stacks = sorted(p.name.split(".")[1] for p in project_dir.glob("Pulumi.*.y*ml") if p.name.count(".") == 2)
    if len(stacks) == 1:
        return stacks[0]
    found = f" (stack files: {', '.join(stacks)})" if stacks else ""
    raise BadInput(f"--stack: required{found}")


def _write(path: str, text: str, what: str) -> None:
    """Every output file: atomically (temp file in the same directory + rename), never read back."""
    from preflight.outputs import write_text_atomic

    write_text_atomic(path, text, what)


HEARTBEAT = 30.0  # seconds between "still synthesizing" lines in a log


class _Progress:
    """Progress on stderr. On a terminal, a live line (`enabled`); without one (a CI log,
    `lines`), a line per stage with its elapsed time, and one every HEARTBEAT seconds while the
    program is still registering resources, so a long run is never silent."""

    def __init__(self, enabled: bool, lines: bool = False, out: Any = None) -> None:
        self.enabled = enabled
        self.lines = lines and not enabled
        self._out = out if out is not None else sys.stderr
        self._last_line = time.perf_counter()
        self.registered = 0
        self.analyzed: Callable[[], int] = lambda: 0
        self._progress: Any = None
        self._task: Any = None
        self._lock = threading.Lock()
        self._started = time.perf_counter()

    @contextlib.contextmanager
    def running(self) -> Iterator[_Progress]:
        if not self.enabled:
            yield self
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        with self._progress:
            self._task = self._progress.add_task("starting")
            yield self

    def line(self, text: str) -> None:
        """One stage done, in a log: `preflight: <text> · <elapsed>s`."""
        if not self.lines:
            return
        now = time.perf_counter()
        with self._lock:
            self._last_line = now
            print(f"{PROG}: {text} · {now - self._started:.1f}s", file=self._out, flush=True)

    def heartbeat(self) -> None:
        if self.lines and time.perf_counter() - self._last_line >= HEARTBEAT:
            self.line(f"synthesizing: {self.registered} resources registered, {self.analyzed()} analyzed")

    def tick(self, stage: str | None = None) -> None:
        if self._progress is None:
            return
        with self._lock:
            text = (
                stage or f"synthesizing: {self.registered} resources registered, {self.analyzed()} analyzed"
            )
            self._progress.update(self._task, description=text)


def _run_plan(args: argparse.Namespace) -> int:
    """plan and gate; SIGTERM and SIGINT end every child and unwind (preflight/processes.py)."""
    from preflight import processes

    with processes.cancellable():
        try:
            return _plan(args)
        finally:
            processes.end_all()  # whatever path left, no child of this run outlives it


def _plan(args: argparse.Namespace) -> int:
    from preflight import attest
    from preflight.analyze import AnalysisResult, AnalysisSession, load_policy_config
    from preflight.inventory import build_inventory
    from preflight.masking import known_secrets, mask_finding, masked, register_secret_values
    from preflight.model import Finding, ResourceRecord
    from preflight.project import load_project, load_stack_config
    from preflight.report import Report, render, summary, verdict_line
    from preflight.residency_map import residency_map
    from preflight.synth import synthesize_isolated

    command = args.command
    fmt = args.format or "text"
    if fmt not in FORMATS:
        raise BadInput(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    for option, value in (
        ("--timeout", timeout),
        ("--synth-timeout", args.synth_timeout),
        ("--checkov-timeout", args.checkov_timeout),
    ):  # the parser checks what a user types; this holds for any caller of _run_plan
        if not math.isfinite(value) or value <= 0:
            raise BadInput(f"{option}: must be a finite number of seconds above 0")
    started = time.perf_counter()
    project = load_project(Path(args.project_dir))
    stack = _stack_name(args, project.dir)
    config_file = Path(args.config_file) if args.config_file else None
    config = load_stack_config(project, stack, config_file)  # bad input before anything starts
    register_secret_values(config.secret_values)  # decrypted secure: values never shown
    policy_config = load_policy_config(Path(args.policy_config)) if args.policy_config else None

    signer = None
    if args.sign_key:
        if not args.attestation:
            raise BadInput("--sign-key: signs the --attestation; give --attestation FILE too")
        from preflight.attest_sign import load_signer

        signer = load_signer(args.sign_key)  # a bad key fails before anything runs
    if not args.no_checkov:
        _find_checkov()  # missing checkov fails before anything runs, not after
    pack_dir: Path | None = Path(args.policy_pack) if args.policy_pack else None
    if pack_dir is None and (project.dir / "policies" / "PulumiPolicy.yaml").is_file():
        pack_dir = project.dir / "policies"
    if pack_dir is None and command == "gate":
        raise BadInput(
            f"gate needs a policy pack: {project.dir / 'policies'} has none; pass --policy-pack DIR"
        )

    timings: dict[str, float] = {}
    on_terminal = sys.stderr.isatty()
    progress = _Progress(enabled=not args.no_progress and on_terminal, lines=not args.no_progress)
    session = (
        AnalysisSession(
            pack_dir,
            config=policy_config,
            timeout=timeout,
            stack=stack,
            project=project.name,
            stack_config=config.wire(),
            secret_keys=config.secret_keys,
        )
        if pack_dir is not None
        else None
    )
    with contextlib.ExitStack() as stack_ctx:
        if session is not None:
            stack_ctx.enter_context(session)
            progress.analyzed = lambda: session.analyzed
        stack_ctx.enter_context(progress.running())

        def on_resource(record: ResourceRecord) -> None:
            if session is not None:
                session.submit(record)
            progress.registered += 1
            if progress.registered % 25 == 0:
                progress.tick()
                progress.heartbeat()

        t = time.perf_counter()
        synth = synthesize_isolated(
            project.dir,
            stack,
            config_file,
            timeout=args.synth_timeout,
            on_resource=on_resource,
            program_output=sys.stderr,
            stack_outputs=args.stack_outputs,
            lookup_files=args.lookups,
        )
        timings["synth"] = time.perf_counter() - t
        progress.line(f"synthesized {len(synth.resources)} resources in {timings['synth']:.1f}s")
        progress.tick("analyzing the stack" + ("" if args.no_checkov else " and running checkov"))

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflight-checkov") as pool:
            checkov_job: Future[tuple[list[Finding], float]] | None = None
            if not args.no_checkov:
                checkov_job = pool.submit(_checkov, synth.resources, args.tfplan_out, args.checkov_timeout)
            elif args.tfplan_out:
                _write_tfplan(synth.resources, args.tfplan_out)
            t = time.perf_counter()
            analysis: AnalysisResult | None = (
                session.finish(synth.resources, synth.stack_urn) if session else None
            )
            timings["analysis_tail"] = time.perf_counter() - t
            if analysis is not None:
                progress.line(f"policy pack: {len(analysis.findings)} findings")
            checkov_findings: list[Finding] = []
            if checkov_job is not None:
                checkov_findings, timings["checkov"] = checkov_job.result()
                progress.line(f"checkov: {len(checkov_findings)} findings in {timings['checkov']:.1f}s")

    from preflight import offline

    findings = list(analysis.findings if analysis else []) + checkov_findings
    # What needs a provider that cannot run offline (remote components, dynamic providers).
    findings += offline.findings(synth.resources, policy_config)
    findings.sort(key=lambda f: (not f.blocking, f.enforcement != "mandatory", f.source == "checkov"))
    # Judged on the records as synthesized; everything shown from here on goes through the
    # masking room (preflight/masking.py): reports, map, attestation, stderr.
    known = known_secrets(synth.resources)
    synth = masked(synth)
    if analysis is not None and analysis.notes:
        synth = dataclasses.replace(synth, warnings=[*synth.warnings, *analysis.notes])
    findings = [mask_finding(f, known) for f in findings]
    inventory = build_inventory(synth.resources, synth.outputs, findings)
    pack = (
        {"name": analysis.pack_name, "version": analysis.pack_version, "sha256": analysis.pack_hash}
        if analysis
        else None
    )
    checkov_state = "skipped (--no-checkov)" if args.no_checkov else f"{len(checkov_findings)} findings"
    timings["total"] = time.perf_counter() - started
    report = Report(
        command=command,
        synth=synth,
        findings=findings,
        inventory=inventory,
        pack=pack,
        policies=analysis.policies if analysis else [],
        checkov=checkov_state,
        timings=timings,
        repo_prefix=_repo_prefix(project.dir),
        tool_version=__version__,
    )
    color = fmt == "text" and not args.out and _colour(sys.stdout.isatty())
    width = _report_width(to_terminal=not args.out and sys.stdout.isatty())
    text = render(report, fmt, color=color, width=width)
    if args.out:
        _write(args.out, text, "--out")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.residency_map:
        _write(args.residency_map, residency_map(inventory, synth) + "\n", "--residency-map")
    if args.attestation:
        predicate = attest.build_predicate(
            project=synth.project,
            stack=synth.stack,
            project_dir=project.dir,
            inventory=inventory,
            verdict=attest.verdict_of(findings),
            pack=pack,
            checkov=checkov_state,
            tool_version=__version__,
            policies=analysis.policies if analysis else (),
            program_ended=synth.ended,
        )
        subjects = attest.plan_subjects(
            project_dir=project.dir,
            commit=str(predicate["git"]["commit"]),
            stack_file=config.source,
            pack_dir=pack_dir if analysis else None,
            pack_hash=analysis.pack_hash if analysis else None,
            policy_config=Path(args.policy_config) if args.policy_config else None,
        )
        _write_attestation(args.attestation, attest.statement(predicate, subjects), signer)
    if args.out or fmt != "text":
        s = summary(report)
        print(
            f"{PROG} {command}: {verdict_line(report)} · {s['resources']} resources"
            + (
                f" ({s['policies_disabled_count']} policies disabled by the config)"
                if s["policies_disabled"]
                else ""
            ),
            file=sys.stderr,
        )
    return report.exit_code


def _write_attestation(path: str, statement: bytes, signer: Any) -> None:
    """The statement's canonical bytes, or with a signer its DSSE envelope, written atomically."""
    from preflight.outputs import atomic_target

    if signer is None:
        data = statement
    else:
        from preflight.attest_sign import envelope_text, sign

        data = envelope_text(sign(statement, signer)).encode("utf-8")
    with atomic_target(path, "--attestation") as tmp:
        tmp.write_bytes(data)


def _checkov(resources: list[Any], tfplan_out: str | None, timeout: float) -> tuple[list[Any], float]:
    """checkov's findings and its wall time (preflight/checkov.py, the bridge; imported lazily)."""
    started = time.perf_counter()
    try:
        from preflight.checkov import run_checkov
    except ImportError as exc:
        raise PreflightError(f"checkov bridge unavailable ({exc}); use --no-checkov") from None
    plan = Path(tfplan_out) if tfplan_out else None
    findings = list(run_checkov(resources, tfplan_out=plan, timeout=timeout))
    return findings, time.perf_counter() - started


def _find_checkov() -> None:
    try:
        from preflight.checkov import find_checkov
    except ImportError as exc:
        raise PreflightError(f"checkov bridge unavailable ({exc}); use --no-checkov") from None
    find_checkov()


def _write_tfplan(resources: list[Any], path: str) -> None:
    import json

    from preflight.masking import mask_records
    from preflight.tfplan import to_tfplan

    _write(path, json.dumps(to_tfplan(mask_records(resources)), indent=1) + "\n", "--tfplan-out")


def _repo_prefix(project_dir: Path) -> str:
    """The project dir relative to its git root, for SARIF paths ("" at the root or outside git)."""
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-C", str(project_dir), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if proc.returncode != 0 or not proc.stdout.strip():
        return ""
    try:
        rel = project_dir.resolve().relative_to(Path(proc.stdout.strip()).resolve()).as_posix()
    except ValueError:
        return ""
    return "" if rel == "." else rel


MIN_WIDTH = 60  # narrower than this and a findings table is only borders


def _report_width(*, to_terminal: bool, environ: Mapping[str, str] | None = None) -> int:
    """The text report's width: `COLUMNS` when it is set (also when piped, as `ls` and rich
    read it), else the terminal's, else 200 (a file, a CI log). Never below MIN_WIDTH."""
    import shutil

    env = os.environ if environ is None else environ
    columns = env.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(MIN_WIDTH, int(columns))
    if not to_terminal:
        return 200
    return max(MIN_WIDTH, shutil.get_terminal_size((140, 24)).columns)


def _colour(is_terminal: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to anything but the empty
    string (no-color.org: "when present and not an empty string")."""
    env = os.environ if environ is None else environ
    return is_terminal and not env.get("NO_COLOR")


# --------------------------------------------------------------------------- entry point


def _shown(text: str) -> str:
    """An error line as it may be printed: credential-looking values masked."""
    from preflight.masking import mask_text

    return mask_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except PreflightError as exc:
        print(f"{PROG}: error: {_shown(exc.message)}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM through preflight.processes.Cancelled
        what = getattr(exc, "name", "SIGINT")
        print(f"{PROG}: error: interrupted by {what}; nothing was checked", file=sys.stderr)
        return EXIT_INTERNAL
    except BaseException as exc:  # the contract: one line, exit 3, never a traceback
        if os.environ.get("PREFLIGHT_DEBUG"):
            traceback.print_exc()
        detail = _shown(" ".join(str(exc).split())[:300])
        hint = "rerun with PREFLIGHT_DEBUG=1 for the traceback"
        print(f"{PROG}: internal error: {type(exc).__name__}: {detail} ({hint})", file=sys.stderr)
        return EXIT_INTERNAL
