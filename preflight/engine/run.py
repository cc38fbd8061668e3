"""One program run in this process, as the Python language host runs it.

The program is the real one (`Pulumi.yaml` `main:`), run the way the language host runs it
(`run_in_stack`, cwd = project dir, program dir first on sys.path, config in `PULUMI_CONFIG`
and the runtime's config map). Only the engine is replaced, by `monitor.RecordingMonitor`.

The program runs as an update, not a preview (`is_dry_run()` is False): with mock outputs
every value is known, so `apply` callbacks run and the records hold the values a deployment
would send. Lookups only the cloud could answer stay unknown (`[unknown]`). A known gap: an
output only the provider computes (a VCN's `defaultSecurityListId`, a vault's
`managementEndpoint`, an S3 bucket's `arn`) is not among the mock's outputs (inputs + id), so
the SDK resolves it as None; an input built from it directly is missing from the record with its
property dependency, and one built in an `apply` sees None. Resolving such outputs as unknown
(`RegisterResourceResponse.unknown`, as the engine's preview of a create does) keeps the
dependency but makes every `apply` over them unknown too (a bucket policy built from
`bucket.arn` would no longer be judged): tried, measured and not taken (README, "What
preflight emulates of the engine").

Secrets: `secure:` config values are placeholders (`[secret]`, see project.py) and any secret
value in inputs or outputs is recorded as `[secret]`. Nothing secret is ever stored.

Pulumi's runtime is process-global (settings, root stack, config). One synthesis runs at a
time per process (a lock), and each run installs fresh runtime settings, event loop and
config; while the program runs, modules imported earlier that its own top-level packages
would shadow in a fresh interpreter are set aside; afterwards cwd, sys.path, environment and
those modules are restored and the modules the program imported from its own directory are
dropped. So tests can synthesize several projects in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import json
import os
import runpy
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from preflight.engine import lookups, stack_refs
from preflight.engine.monitor import RecordingMonitor, _Engine
from preflight.engine.result import SynthResult
from preflight.engine.urns import PROVIDER_PREFIX
from preflight.errors import BadInput, InternalFailure, PreflightError
from preflight.model import ResourceRecord
from preflight.project import Project, StackConfig, load_project, load_stack_config

_LOCK = threading.Lock()


def _default_provider(record: ResourceRecord) -> bool:
    """A default provider is made for the program's resources, not declared by the program."""
    return record.type.startswith(PROVIDER_PREFIX) and record.name.startswith("default")


ENV_STRING_LIMIT = 128 * 1024  # MAX_ARG_STRLEN: one environment string's limit at exec


@contextlib.contextmanager
def _process_state(project: Project, config: StackConfig) -> Iterator[None]:
    """cwd, sys.path, environment and modules as the language host sets them; all restored after."""
    saved_cwd = os.getcwd()
    saved_path = list(sys.path)
    saved_env = {k: os.environ.get(k) for k in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    stashed = _shadowed_modules(project)
    before = set(sys.modules)
    # The SDK reads its config from the runtime's config map (`_run_program` sets it); the
    # environment copy is for what the program starts. Linux refuses to exec a process with
    # one environment string over 128 KiB (MAX_ARG_STRLEN, E2BIG), so a larger config is not
    # put there at all: it would break every subprocess the program runs.
    for key, text in (
        ("PULUMI_CONFIG", json.dumps(config.wire())),
        ("PULUMI_CONFIG_SECRET_KEYS", json.dumps(list(config.secret_keys))),
    ):
        if len(key) + 1 + len(text.encode()) < ENV_STRING_LIMIT:
            os.environ[key] = text
        else:
            os.environ.pop(key, None)
    sys.path.insert(0, str(project.main.parent))
    os.chdir(project.dir)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        # The program's own modules go (the next project may have a package of the same name);
        # installed packages stay. Module paths come from sys.path entries, so a prefix test will do.
        root = str(project.dir) + os.sep
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            parts = Path(module_file).parts
            if module_file.startswith(root) and ".venv" not in parts and "site-packages" not in parts:
                del sys.modules[name]
        sys.modules.update(stashed)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a program runs; the collector's state restored after.

    The SDK allocates a great many objects per resource (Outputs, futures, tasks) that live
    until the run ends, the worst case for CPython's generational collector: with its defaults
    half of an 8,000-resource synthesis went to collections that found almost nothing, and
    raised thresholds only made the rare collections huge (docs/performance.md). Reference
    counting still frees everything acyclic at once; the few cycles the SDK leaves (measured:
    about 5% more peak memory at 8,000 resources) wait until the run ends. A program that
    makes reference cycles in bulk would hold them for the run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _shadowed_modules(project: Project) -> dict[str, Any]:
    """Take out of sys.modules what would shadow the program's own top-level modules.

    In a fresh interpreter the program's directory comes first on sys.path, so its `stacks`
    package is the one `import stacks` finds. In this process another `stacks` (say, the one
    of the repository preflight runs from) may already be imported and would win. Such modules
    are set aside while the program runs and put back after. Installed and standard-library
    modules are never touched (a program directory named like one of them would break the
    runtime), and neither is preflight itself.
    """
    root = project.main.parent
    names = set()
    for entry in root.iterdir():
        if entry.is_dir() and not entry.name.startswith(".") and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.suffix == ".py" and entry.stem.isidentifier():
            names.add(entry.stem)
    names -= {"preflight", "__main__"}
    # The shared package a program of this repository registers from its own pack folder
    # (stacks/__init__.py): another checkout's, imported here, must not stand in for it.
    names.add("usdr_common")
    system = tuple(str(Path(p).resolve()) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    own = str(project.dir) + os.sep
    stashed: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if name.split(".", 1)[0] not in names:
            continue
        module_file = getattr(module, "__file__", None) or ""
        parts = Path(module_file).parts
        if not module_file or module_file.startswith(own) or module_file.startswith(system):
            continue
        if "site-packages" in parts or "dist-packages" in parts:
            continue
        stashed[name] = sys.modules.pop(name)
    return stashed


def _program_error(exc: BaseException, project: Project, monitor: RecordingMonitor) -> PreflightError:
    """One line for an exception raised by the program: its own message and the file:line in it."""
    import pulumi

    if monitor.failure is not None:
        return monitor.failure
    where = _program_frame(exc, monitor)
    if monitor.mocks_.failure is not None:  # a lookup or stack reference offline cannot answer
        failure = monitor.mocks_.failure
        if where and not isinstance(failure, BadInput):  # a lookup: say where the program asked
            return InternalFailure(f"program error: {where}: {failure.message}")
        return failure
    if isinstance(exc, pulumi.RunError):
        # The program refused to run (e.g. its settings validation): that is the user's input,
        # not a crash, so it is exit 2. Several problems stay on one line.
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
        return BadInput("; ".join(lines))
    message = " ".join(str(exc).split()) or "(no message)"
    if len(message) > 400:
        message = message[:400] + "…"
    prefix = f"{where}: " if where else ""
    return InternalFailure(f"program error: {prefix}{type(exc).__name__}: {message}")


def _program_frame(exc: BaseException, monitor: RecordingMonitor) -> str | None:
    """file:line of the innermost frame of the program's own code in the exception's traceback."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if monitor._is_project_code(frame.filename):
            return monitor.relative(frame.filename, frame.lineno or 0)
    return None


def _unretrieved(engine: _Engine, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    what = f"{type(exc).__name__}: {exc}" if exc is not None else str(context.get("message", ""))
    note = "unretrieved error in the program's async work: " + " ".join(what.split())[:200]
    if note not in engine.warnings:
        engine.warnings.append(note)


async def _in_stack(program: Callable[[], None]) -> None:
    """`pulumi.runtime.run_in_stack`, the language host's driver, plus one wait.

    The stack resource is registered, and its URN known, before the program's module code
    runs. The SDK does not wait there; every resource the program declares then queues behind
    the unresolved root, and the SDK's wait for outstanding work gets markedly slower (about
    40% of the whole synthesis here). Nothing recorded changes. The private helper is the one
    run_in_stack calls (pulumi 3.272, pinned).
    """
    from pulumi.runtime.settings import _load_monitor_feature_support
    from pulumi.runtime.stack import Stack, run_pulumi_func

    async def run() -> None:
        stack = Stack()
        await stack.urn.future()
        try:
            program()
            entry = stack._take_async_program()  # pulumi.run(async_main)
            if entry is not None:
                outputs = entry()
                if not inspect.isawaitable(outputs):
                    raise TypeError("The function passed to pulumi.run must return an awaitable")
                stack._add_program_outputs(await outputs)
        finally:
            stack._finish()

    await _load_monitor_feature_support()  # type: ignore[no-untyped-call]
    await run_pulumi_func(run)


def _run_program(
    project: Project, stack: str, config: StackConfig, monitor: RecordingMonitor, engine: _Engine
) -> None:
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import settings as runtime_settings

    loop = asyncio.new_event_loop()
    # One worker: monitor calls arrive in the order the program issues them, so the record
    # order (and every report built from it) is the same on every run.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflight-synth")
    loop.set_default_executor(executor)
    # Leftover futures of a failed run would be logged with formatted tracebacks (and 3.11's
    # caret formatting can upset the interpreter's AST state): the run's error is reported once,
    # by synthesize, and anything else unretrieved is only a note.
    loop.set_exception_handler(lambda _loop, context: _unretrieved(engine, context))
    previous_loop = None
    with contextlib.suppress(RuntimeError):
        previous_loop = asyncio.get_event_loop_policy().get_event_loop()
    asyncio.set_event_loop(loop)
    runtime_settings.ROOT.set(None)
    runtime_settings.configure(
        runtime_settings.Settings(
            project=project.name,
            stack=stack,
            monitor=monitor,
            engine=engine,
            dry_run=False,
            organization="organization",
            root_directory=str(project.dir),
        )
    )
    runtime_config.set_all_config(config.wire(), list(config.secret_keys))

    def program() -> None:
        with contextlib.redirect_stdout(sys.stderr):  # program prints must not corrupt --format json
            runpy.run_path(str(project.main), run_name="__main__")

    try:
        loop.run_until_complete(_in_stack(program))
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        executor.shutdown(wait=True)
        asyncio.set_event_loop(previous_loop)
        runtime_settings.ROOT.set(None)
        runtime_config.set_all_config({}, [])
        runtime_settings.configure(runtime_settings.Settings(project="project", stack="stack"))


def synthesize(
    project_dir: Path,
    stack: str,
    config_file: Path | None = None,
    *,
    on_resource: Callable[[ResourceRecord], None] | None = None,
    stack_outputs: list[str] | None = None,
    lookup_files: list[str] | None = None,
) -> SynthResult:
    """Run the program of `project_dir` for `stack` under mocks; every resource, in registration order.

    `on_resource` is called for each record as it registers (from the runtime's worker thread),
    so a consumer (the policy pack) can work while the program still runs; it must be quick
    and thread-safe. Raises BadInput (project, stack file, config the program refused) or
    InternalFailure (the program raised; the message names its file:line).
    """
    project = load_project(Path(project_dir))
    config = load_stack_config(project, stack, config_file)
    references = stack_refs.load(stack_outputs or [])
    answers = lookups.load(project.dir, lookup_files)
    warnings: list[str] = []
    errors: list[str] = []
    started = time.perf_counter()
    how = "completed"
    with _LOCK:
        monitor = RecordingMonitor(project, stack, config, on_resource, warnings, references, answers)
        engine = _Engine(warnings, errors)
        with _process_state(project, config), collector_paused():
            try:
                _run_program(project, stack, config, monitor, engine)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt | SystemExit) and not isinstance(exc, SystemExit):
                    raise
                if isinstance(exc, SystemExit) and not exc.code:
                    how = "exited(0)"  # sys.exit(0): the engine takes it as success; said out loud
                else:
                    raise _program_error(exc, project, monitor) from None
    if monitor.failure is not None:
        raise monitor.failure
    if monitor.mocks_.failure is not None:
        raise monitor.mocks_.failure
    if errors:
        raise InternalFailure(f"program error: the program logged an error: {errors[0]}")
    declared = sum(1 for r in monitor.records if r.urn != monitor.stack_urn and not _default_provider(r))
    ended = f"{how} after {declared} resource{'' if declared == 1 else 's'}"
    if declared == 0:
        # Nothing to judge is not a pass: a program that ends before declaring anything (an
        # early exit, a guard that skipped everything) would otherwise gate green.
        raise InternalFailure(f"the program registered no resources (ended: {how}): nothing to check")
    try:
        source = config.source.relative_to(project.dir).as_posix()
    except ValueError:
        source = str(config.source)
    return SynthResult(
        project=project.name,
        stack=stack,
        stack_urn=monitor.stack_urn,
        resources=monitor.records,
        outputs=monitor.outputs,
        config_source=source,
        warnings=warnings,
        ended=ended,
        seconds=round(time.perf_counter() - started, 3),
    )
