"""The children preflight starts, each in a process group it owns, and how a run is cancelled.

Every child preflight starts itself (the policy pack, checkov) goes through `popen`: it gets its
own session and process group (`start_new_session`), so ending it ends whatever it started too
(checkov's workers, a pack's helper processes), and it is registered here until it is ended.

`cancellable()` is the CLI's shutdown path for SIGTERM (a CI cancel) and SIGINT (Ctrl-C), handled
alike: the handler first ends every registered group (SIGTERM, then SIGKILL after a short grace),
so no thread stays blocked on a child, then raises `Cancelled` in the main thread; the `with`
blocks and `finally` clauses on the way out close the analysis session, remove temporary
directories and stop the synthesis child (preflight/synth.py ends its own child when reading
stops early). The CLI prints one line and exits 3: nothing was checked (README, "Signals").
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any

_live: dict[int, subprocess.Popen[Any]] = {}
_lock = threading.Lock()
GRACE = 0.5  # seconds between SIGTERM and SIGKILL when a run is cancelled


class Cancelled(KeyboardInterrupt):
    """The run was cancelled by a signal (SIGTERM or SIGINT). A KeyboardInterrupt, so code that
    already unwinds on Ctrl-C unwinds on a CI cancel the same way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.name = signal.Signals(signum).name


# Set once the run is cancelled: a worker thread that is about to start a child (diff runs both
# sides in threads) gets Cancelled instead of a process nobody will end.
_cancelled = threading.Event()


# Main-thread starts in progress: a signal that lands while Popen runs (the child forked, the
# Popen object not yet returned) must not raise there, or nobody would own the child. The
# handler ends what is registered and leaves the raise to the start, which registers its child
# first: `register` ends it and raises Cancelled.
_starting = 0


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Around starting and registering a child: a cancel during it takes effect right after."""
    global _starting
    main = threading.current_thread() is threading.main_thread()
    if main:
        _starting += 1
    try:
        yield
    finally:
        if main:
            _starting -= 1
    _refuse_if_cancelled()


def popen(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """subprocess.Popen in a new process group owned (and registered) here."""
    kwargs["start_new_session"] = True
    _refuse_if_cancelled()
    with deferred_signals():
        proc: subprocess.Popen[Any] = subprocess.Popen(cmd, **kwargs)
        register(proc)
    return proc


def register(proc: subprocess.Popen[Any]) -> None:
    """Own a child started elsewhere as the leader of its own process group (the synthesis
    child): a cancel ends its group with the rest. Ended at once if the run is already cancelled."""
    with _lock:
        _live[proc.pid] = proc
    if _cancelled.is_set():
        end(proc, grace=0.0)
        _refuse_if_cancelled()


def _refuse_if_cancelled() -> None:
    if _cancelled.is_set():
        raise Cancelled(_cancelled_by)


_cancelled_by = signal.SIGTERM


def _signal_group(proc: subprocess.Popen[Any], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group id is the leader's pid (start_new_session)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(OSError):
            proc.send_signal(sig)


def end(proc: subprocess.Popen[Any], grace: float = 3.0) -> None:
    """End the child's whole process group: SIGTERM, then SIGKILL after `grace` seconds."""
    try:
        _signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        _signal_group(proc, signal.SIGKILL)  # the leader may be gone and its group still alive
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    finally:
        with _lock:
            _live.pop(proc.pid, None)


def forget(proc: subprocess.Popen[Any]) -> None:
    """The child ended by itself and was reaped; its group is no longer ours to end."""
    with _lock:
        _live.pop(proc.pid, None)


def end_all(grace: float = GRACE) -> None:
    """End every registered group at once (SIGTERM to all, one grace period, SIGKILL to all).
    Safe in a signal handler: it takes no lock the interrupted thread may hold."""
    procs = list(_live.values())
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)
        _live.pop(proc.pid, None)


@contextlib.contextmanager
def cancellable() -> Iterator[None]:
    """SIGTERM and SIGINT end every child and raise `Cancelled` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        global _cancelled_by
        # A second signal while unwinding only ends children again; it does not cut the cleanup.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda s, f: end_all(0.0))
        _cancelled_by = signal.Signals(signum)
        _cancelled.set()
        end_all()
        if _starting:
            return  # deferred_signals: the start in progress registers its child, then raises
        raise Cancelled(signum)

    _cancelled.clear()
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _cancelled.clear()
