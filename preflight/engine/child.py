"""Synthesis in a child interpreter that streams its records back.

For callers that must not share modules at all (two checkouts of the same project, e.g. a
PR's base and head), and for `preflight plan|gate`, which gain a core for the policy pack's
requests and the program's memory back before checkov runs (docs/performance.md).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from preflight.engine.result import SynthResult
from preflight.engine.run import synthesize
from preflight.errors import EXIT_BAD_INPUT, BadInput, InternalFailure, PreflightError
from preflight.model import ResourceRecord

_KILL_GRACE = 5.0
STREAM_SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005


def _read_lines(stream: Any, into: list[str], echo: TextIO | None) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        into.append(line)
        if echo is not None and not line.startswith("preflight: "):  # its error is ours to report
            echo.write(line)
            echo.flush()


def synthesize_isolated(
    project_dir: Path,
    stack: str,
    config_file: Path | None = None,
    *,
    timeout: float | None = None,
    on_resource: Callable[[ResourceRecord], None] | None = None,
    program_output: TextIO | None = None,
) -> SynthResult:
    """`synthesize` in a fresh interpreter (same Python): no module or runtime state is shared.

    Runs `python -m preflight _synth ...` (`stream_synthesis`), which sends each record over
    a pipe as it registers; `on_resource` sees every record here, on the calling thread, as
    soon as it arrives (outputs a component registers later arrive with the result). Two
    things follow from the separate process: the program's objects, most of a run's memory,
    are given back when the child exits, before the caller goes on (checkov); and the
    caller's own work on the records (the policy pack's requests) runs on another core
    instead of taking turns with the program for one interpreter lock.

    The child's one-line error becomes the same BadInput/InternalFailure here; an error
    raised by `on_resource` stops the child and is raised as it is. What the program prints
    goes to `program_output` as it comes (by default it is not shown).
    """
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    read_fd, write_fd = os.pipe()
    cmd = [sys.executable, "-m", "preflight", "_synth", "--project-dir", str(Path(project_dir).resolve())]
    cmd += ["--stack", stack, "--stream-fd", str(write_fd)]
    if config_file is not None:
        cmd += ["--config-file", str(Path(config_file).resolve())]
    try:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
        )
    except OSError as exc:
        os.close(read_fd)
        raise InternalFailure(f"synthesis could not start: {exc}") from None
    finally:
        os.close(write_fd)  # the child holds the only write end: its exit is our end of stream
    assert proc.stderr is not None
    stderr: list[str] = []
    drain = threading.Thread(target=_read_lines, args=(proc.stderr, stderr, program_output), daemon=True)
    drain.start()
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, expire) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    records: list[ResourceRecord] = []
    summary: dict[str, Any] | None = None
    failure: PreflightError | None = None
    ended = False  # the child closed the stream: it has finished or died on its own
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
            ended = failure is None
    finally:
        sys.setswitchinterval(switch_interval)
        if not ended and proc.poll() is None:  # we stopped reading (a failure, an interrupt)
            proc.kill()
        try:
            proc.wait(timeout=None if ended else _KILL_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if timer is not None:
            timer.cancel()
        drain.join(timeout=_KILL_GRACE)
    if timed_out.is_set():  # before `failure`: a killed child's last record is cut short
        raise InternalFailure(f"synthesis of {project_dir} ({stack}) took longer than {timeout:g}s")
    if failure is not None:
        raise failure
    if proc.returncode != 0:
        lines = [ln.rstrip() for ln in stderr if ln.strip() and not ln.startswith("warning:")]
        message = lines[-1] if lines else f"synthesis failed with exit code {proc.returncode}"
        message = message.removeprefix("preflight: error: ").removeprefix("preflight: ")
        if proc.returncode == EXIT_BAD_INPUT:
            raise BadInput(message)
        raise InternalFailure(message)
    if summary is None:
        raise InternalFailure("synthesis ended without sending its result")
    by_urn = {r.urn: r for r in records}
    for urn, outputs in summary.pop("changed_outputs").items():
        by_urn[urn].outputs = outputs
    return SynthResult(resources=records, **summary)


def stream_synthesis(fd: int, project_dir: Path, stack: str, config_file: Path | None = None) -> int:
    """The child's side of `synthesize_isolated`: synthesize, sending each record to `fd`.

    Messages are pickled `(kind, payload)` pairs: ("resource", ResourceRecord) as each
    registers, then ("result", the SynthResult's other fields, with the outputs that
    changed after a record was sent). Errors are raised as in `synthesize` (the CLI turns
    them into its one line and exit code).
    """
    sent: dict[str, Any] = {}
    with os.fdopen(fd, "wb") as out:

        def send(kind: str, payload: Any) -> None:
            pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

        def on_resource(record: ResourceRecord) -> None:
            sent[record.urn] = record.outputs
            send("resource", record)

        result = synthesize(project_dir, stack, config_file, on_resource=on_resource)
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
                "changed_outputs": changed,
            },
        )
    return 0
