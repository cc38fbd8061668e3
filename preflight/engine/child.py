"""Synthesis in a child interpreter that streams its records back.

For callers that must not share modules at all (two checkouts of the same project, e.g. a
PR's base and head), and for `preflight plan|gate`, which gain a core for the policy pack's
requests and the program's memory back before checkov runs (docs/performance.md).

The child and everything the program starts run in a process group of their own, which
preflight owns: a timeout, an interrupt or a consumer's failure ends the whole group, and so
does the end of the run (a daemon the program left behind is ended and named in the result's
warnings). The `--synth-timeout` clock runs over the whole group, so a process that keeps the
pipes open cannot stretch it. The child's own verdict travels on the record stream, never on
stderr: everything on stderr is the program's and is shown prefixed `program| `, so nothing
the program prints can pass for preflight's own line. If preflight dies without ending the
group, the child notices its parent is gone and ends the group itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from preflight import processes
from preflight.engine import interpreter, stack_refs
from preflight.engine.result import SynthResult
from preflight.engine.run import synthesize
from preflight.errors import BadInput, InternalFailure, PreflightError
from preflight.masking import mask_text
from preflight.model import ResourceRecord
from preflight.project import load_project

_KILL_GRACE = 5.0
STREAM_SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005
PROGRAM_PREFIX = "program| "
_ORPHAN_POLL = 0.25  # seconds between the child's checks that its parent is alive


def _read_lines(stream: Any, into: list[str], echo: TextIO | None) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        into.append(line)
        if echo is not None:
            line = mask_text(line)  # a config secret the program prints is shown as [secret]
            echo.write(PROGRAM_PREFIX + line if line.endswith("\n") else PROGRAM_PREFIX + line + "\n")
            echo.flush()


def _decrypts() -> bool:
    """A passphrase is given: `secure:` values are decrypted, which needs `cryptography`."""
    return bool(os.environ.get("PULUMI_CONFIG_PASSPHRASE") or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"))


def _group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (Linux /proc; empty where it cannot be read)."""
    members = []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    return members


def _end_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def synthesize_isolated(
    project_dir: Path,
    stack: str,
    config_file: Path | None = None,
    *,
    timeout: float | None = None,
    on_resource: Callable[[ResourceRecord], None] | None = None,
    program_output: TextIO | None = None,
    stack_outputs: list[str] | None = None,
    lookup_files: list[str] | None = None,
) -> SynthResult:
    """`synthesize` in a fresh interpreter (same Python): no module or runtime state is shared.

    Runs `python -m preflight _synth ...` (`stream_synthesis`), which sends each record over
    a pipe as it registers; `on_resource` sees every record here, on the calling thread, as
    soon as it arrives (outputs a component registers later arrive with the result). Two
    things follow from the separate process: the program's objects, most of a run's memory,
    are given back when the child exits, before the caller goes on (checkov); and the
    caller's own work on the records (the policy pack's requests) runs on another core
    instead of taking turns with the program for one interpreter lock.

    The child's error (sent on the stream) becomes the same BadInput/InternalFailure here; an
    error raised by `on_resource` stops the child and is raised as it is. What the program
    prints goes to `program_output` as it comes, each line prefixed `program| ` (by default
    it is not shown).
    """
    package_root = str(Path(__file__).resolve().parents[2])
    # The interpreter the CLI would run the program with (Pulumi.yaml runtime.options).
    needs = ("pulumi", "yaml") + (("cryptography",) if _decrypts() else ())
    choice = interpreter.choose(load_project(Path(project_dir)), needs)
    env = dict(os.environ)
    for name in choice.removed:
        env.pop(name, None)
    env.update(choice.env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    if choice.note and program_output is not None:
        program_output.write(f"preflight: note: {choice.note}\n")
        program_output.flush()
    read_fd, write_fd = os.pipe()
    cmd = [choice.python, "-m", "preflight", "_synth", "--project-dir", str(Path(project_dir).resolve())]
    cmd += ["--stack", stack, "--stream-fd", str(write_fd)]
    if config_file is not None:
        cmd += ["--config-file", str(Path(config_file).resolve())]
    for spec in stack_outputs or []:
        ref, path = stack_refs.parse_spec(spec)
        cmd += ["--stack-outputs", f"{ref}={path.resolve()}"]
    for file in lookup_files or []:
        cmd += ["--lookups", str(Path(file).resolve())]
    started = time.monotonic()
    proc = None
    try:
        # A SIGTERM while Popen runs must not orphan the child: the cancel waits until it is
        # registered (preflight/processes.py deferred_signals), which ends it at once.
        with processes.deferred_signals():
            try:
                proc = subprocess.Popen(
                    cmd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    pass_fds=(write_fd,),
                    process_group=0,  # the child leads a group of its own: what the program starts joins it
                )
            except OSError as exc:
                raise InternalFailure(f"synthesis could not start: {exc}") from None
            finally:
                os.close(write_fd)  # the child holds the only write end: its exit is our end of stream
            # Owned by the run too: a cancel ends this group even when the reader is a worker
            # thread (diff's two sides), which a KeyboardInterrupt never reaches.
            processes.register(proc)
    except BaseException:
        os.close(read_fd)
        if proc is not None:
            processes.end(proc, grace=0.0)
            proc.wait()
        raise
    pgid = proc.pid
    assert proc.stderr is not None
    stderr: list[str] = []
    drain = threading.Thread(target=_read_lines, args=(proc.stderr, stderr, program_output), daemon=True)
    drain.start()
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        _end_group(pgid)  # the whole group: a process holding the pipes cannot outlive the limit

    timer = threading.Timer(timeout, expire) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    records: list[ResourceRecord] = []
    summary: dict[str, Any] | None = None
    child_error: dict[str, Any] | None = None
    failure: PreflightError | None = None
    finished = False  # the child sent its result or its error: nothing more is read
    left_behind: list[int] = []
    # The records feed other threads here (the pack's requests): when one of them holds the
    # interpreter lock, the reader waits out the switch interval for each batch it reads,
    # and the child waits on a full pipe. 1 ms instead of 5 keeps the stream moving.
    switch_interval = sys.getswitchinterval()
    if on_resource is not None:
        sys.setswitchinterval(min(switch_interval, STREAM_SWITCH_INTERVAL))
    try:
        with os.fdopen(read_fd, "rb") as stream:
            while True:
                try:
                    kind, payload = pickle.load(stream)  # noqa: S301 - our own child, our own records
                except EOFError:
                    break
                except (pickle.UnpicklingError, ValueError, TypeError) as exc:
                    failure = InternalFailure(f"synthesis sent an unreadable record: {exc}")
                    break
                if kind == "resource":
                    records.append(payload)
                    if on_resource is not None:
                        try:
                            on_resource(payload)
                        except PreflightError as exc:
                            failure = exc
                            break
                        except Exception as exc:  # a failure of the consumer, not of the program
                            failure = InternalFailure(
                                f"while streaming {payload.urn}: {type(exc).__name__}: {exc}"
                            )
                            break
                elif kind == "result":
                    summary = payload
                    finished = True
                    break  # a process the program started may hold the stream open: stop here
                elif kind == "error":
                    child_error = payload
                    finished = True
                    break
        if finished and not timed_out.is_set():
            remaining = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                expire()
    finally:
        sys.setswitchinterval(switch_interval)
        if proc.poll() is None and not (finished and not timed_out.is_set()):
            _end_group(pgid)  # we stopped reading (a failure, an interrupt, the timeout)
        try:
            proc.wait(timeout=_KILL_GRACE)
        except subprocess.TimeoutExpired:
            _end_group(pgid)
            proc.wait()
        left_behind = _group_members(pgid)
        _end_group(pgid)  # whatever the program left running ends with the run
        processes.forget(proc)
        if timer is not None:
            timer.cancel()
        drain.join(timeout=_KILL_GRACE)
    if timed_out.is_set():  # before `failure`: a killed child's last record is cut short
        raise InternalFailure(f"synthesis of {project_dir} ({stack}) took longer than {timeout:g}s")
    if failure is not None:
        raise failure
    if child_error is not None:
        if child_error.get("bad_input"):
            raise BadInput(str(child_error["message"]))
        raise InternalFailure(str(child_error["message"]))
    if proc.returncode != 0 or summary is None:
        # The child died without a verdict (killed, out of memory, a crash of preflight itself).
        # What it printed is the program's, so it is not taken as the message.
        code = proc.returncode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with {code}"
        raise InternalFailure(f"synthesis {how} without sending its result")
    by_urn = {r.urn: r for r in records}
    for urn, outputs in summary.pop("changed_outputs").items():
        by_urn[urn].outputs = outputs
    warnings = list(summary.pop("warnings"))
    if choice.note:
        warnings.insert(0, choice.note)
    if left_behind:
        pids = ", ".join(map(str, left_behind[:5]))
        warnings.append(
            f"the program left {len(left_behind)} process(es) running after it ended (pid {pids}); "
            "preflight ended them"
        )
    return SynthResult(resources=records, warnings=warnings, **summary)


def _watch_parent(parent: int) -> None:
    """End this process group when the parent is gone (it was killed before it could)."""
    while os.getppid() == parent:
        time.sleep(_ORPHAN_POLL)
    _end_group(os.getpgrp())


def stream_synthesis(
    fd: int,
    project_dir: Path,
    stack: str,
    config_file: Path | None = None,
    stack_outputs: list[str] | None = None,
    lookup_files: list[str] | None = None,
) -> int:
    """The child's side of `synthesize_isolated`: synthesize, sending each record to `fd`.

    Messages are pickled `(kind, payload)` pairs: ("resource", ResourceRecord) as each
    registers, then ("result", the SynthResult's other fields, with the outputs that
    changed after a record was sent), or ("error", {"bad_input", "message"}) when the run
    failed: the verdict travels here, not on stderr, which is the program's.
    """
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    sent: dict[str, Any] = {}
    with os.fdopen(fd, "wb") as out:

        def send(kind: str, payload: Any) -> None:
            pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

        def on_resource(record: ResourceRecord) -> None:
            sent[record.urn] = record.outputs
            send("resource", record)

        try:
            result = synthesize(
                project_dir,
                stack,
                config_file,
                on_resource=on_resource,
                stack_outputs=stack_outputs,
                lookup_files=lookup_files,
            )
        except PreflightError as exc:
            send("error", {"bad_input": isinstance(exc, BadInput), "message": exc.message})
            return exc.exit_code
        changed = {r.urn: r.outputs for r in result.resources if r.outputs is not sent.get(r.urn)}
        send(
            "result",
            {
                "project": result.project,
                "stack": result.stack,
                "stack_urn": result.stack_urn,
                "outputs": result.outputs,
                "config_source": result.config_source,
                "warnings": result.warnings,
                "seconds": result.seconds,
                "ended": result.ended,
                "changed_outputs": changed,
            },
        )
    return 0
