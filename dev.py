#!/usr/bin/env python3
"""Bootstrap and task runner: the README's two commands go through here.

    python3 dev.py plan   # set up .venv (idempotent), then `preflight plan --stack prod`
    python3 dev.py test   # set up .venv, then ruff (lint + format check), mypy, pytest
    python3 dev.py gate --stack prod       # the offline gate CI runs (`preflight gate`)
    python3 dev.py preview --stack prod    # `pulumi preview` with the policy pack, always
    python3 dev.py up --stack staging      # `pulumi up` with the policy pack, always
    python3 dev.py refresh --stack prod    # `pulumi refresh` with the policy pack, always
    python3 dev.py state-backend [URL]     # is the state backend an approved US bucket? (0/2)
    python3 dev.py mutate --group residency --sample 20   # mutation testing (docs/mutation-testing.md)

Needs nothing but Python 3.11, 3.12 or 3.13 and the package registry (and the Pulumi CLI on
PATH for preview/up/refresh). `.venv/` (the project, editable, and its dev tools) is uv's:
`uv sync --locked` from uv.lock, the same environment the CLI's `pulumi install` makes
(Pulumi.yaml: toolchain uv). With no uv of the required version on PATH, dev.py first installs
the hash-pinned uv of uv-bootstrap.lock with pip into `.venv-uv/`. `.venv-checkov/` (checkov,
which needs a `packaging` that pulumi cannot live with, so it gets its own environment and
runs as a subprocess) is built with pip from the hash-pinned checkov.lock and a stamp of it. A
second run returns in well under a second when nothing changed.

Extra arguments after the task are passed through: `python3 dev.py plan --format json`,
`python3 dev.py test -k settings`, `python3 dev.py up -s staging --yes`.

The stack is named as Pulumi users type it: `--stack staging`, `--stack=staging`, `-s staging`
or `-s=staging`. Every task that runs the policy pack generates its config from that stack's
own settings (`python -m stacks.policy_config`) and passes it to the engine: with a
self-managed backend there is no server-side policy enforcement, so a plain `pulumi up` would
skip the pack. A config of one's own (`--policy-pack-config`, `--policy-config`) or another
pack (`--policy-pack`) is refused (exit 2): the gate is the stack's generated config or nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PROJECT_VENV = ROOT / ".venv"
# Set by the test suite when it runs dev.py: the environments it runs in are not rebuilt under it
# (a stale stamp after a pull would otherwise reinstall .venv while the other tests import from it).
ENV_READY = "USDR_DEV_ENV_READY"
CHECKOV_VENV = ROOT / ".venv-checkov"
UV_VENV = ROOT / ".venv-uv"  # uv itself, when none of the required version is on PATH
# The uv bootstrap used; the Pulumi CLI's uv toolchain (Pulumi.yaml) needs `uv` on its PATH.
UV_USED: str | None = None
STAMP = ".lock-stamp"
SUPPORTED_PYTHON = ((3, 11), (3, 13))  # inclusive; pyproject.toml: requires-python >=3.11,<3.14
EXIT_BAD_INPUT = 2
# Pulumi's stack names: letters, digits, `-`, `_`, `.` (a path component of the config file too).
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# Flags whose value the task sets itself from the stack; a user's own would bypass the gate.
GENERATED_FLAGS = ("--policy-pack-config", "--policy-pack", "--policy-config")
PULUMI_ACTIONS = ("preview", "up", "refresh")


class UsageError(Exception):
    """Bad command line: one line on stderr, exit 2."""


def _bin(env: Path, name: str) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / name


def _digest(lock: Path) -> str:
    """What a pip-built environment is built from: its lock file."""
    return hashlib.sha256(lock.name.encode() + lock.read_bytes()).hexdigest()


def _run(cmd: list[str | Path], **kw: object) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, **kw)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.exit(f"dev.py: command failed ({result.returncode}): {' '.join(map(str, cmd))}")


def _ensure_env(env: Path, lock: Path) -> None:
    """Create `env` from the hash-pinned `lock` with pip unless its stamp says it is already
    exactly that (.venv-checkov/ from checkov.lock, .venv-uv/ from uv-bootstrap.lock)."""
    if os.environ.get(ENV_READY) == "1" and _bin(env, "python").exists():
        return  # the caller runs inside these environments (the test suite): never rebuild them
    want = _digest(lock)
    stamp = env / STAMP
    if stamp.is_file() and stamp.read_text().strip() == want and _bin(env, "python").exists():
        return
    print(f"dev.py: installing {env.name}/ from {lock.name} ...", flush=True)
    if env.exists():
        # A half-built or stale environment is rebuilt from scratch: pip does not remove
        # packages that left the lock, and an exact environment is the point of the lock.
        shutil.rmtree(env)
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
    py = _bin(env, "python")
    pip: list[str | Path] = [py, "-m", "pip", "--disable-pip-version-check", "-q"]
    _run([*pip, "install", "--require-hashes", "--no-deps", "-r", lock])
    stamp.write_text(want + "\n")


def _version(text: str) -> tuple[int, ...] | None:
    """(0, 13, 9) of `uv 0.13.9 (...)`; None when it is not a version line."""
    match = re.match(r"uv (\d+)\.(\d+)\.(\d+)", text.strip())
    return tuple(int(part) for part in match.groups()) if match else None


def required_uv() -> tuple[int, ...]:
    """The oldest uv the project accepts: pyproject.toml's [tool.uv] required-version (>=X.Y.Z)."""
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["uv"]
    found = _version("uv " + spec["required-version"].removeprefix(">="))
    assert found is not None, "pyproject.toml [tool.uv] required-version must be >=X.Y.Z"
    return found


def find_uv() -> str:
    """A uv of the required version: the one on PATH, else the hash-pinned one dev.py installs
    with pip into .venv-uv/ (uv-bootstrap.lock), so a machine with only Python works."""
    on_path = shutil.which("uv")
    if on_path is not None:
        out = subprocess.run([on_path, "--version"], capture_output=True, text=True, check=False).stdout
        found = _version(out)
        if found is not None and found >= required_uv():
            return on_path
    _ensure_env(UV_VENV, ROOT / "uv-bootstrap.lock")
    return str(_bin(UV_VENV, "uv"))


def sync_project_env() -> str | None:
    """`uv sync --locked`: .venv/ exactly as uv.lock says (the project editable, the dev group),
    built with the Python running dev.py. uv keeps it exact and is quick when nothing changed;
    `--locked` fails when pyproject.toml and uv.lock disagree (run `uv lock`)."""
    if os.environ.get(ENV_READY) == "1" and _bin(PROJECT_VENV, "python").exists():
        return shutil.which("uv")  # the test suite runs inside this environment: never rebuild it
    uv = find_uv()
    # The CLI's uv toolchain sets UV_PROJECT_ENVIRONMENT to Pulumi.yaml's `virtualenv` the same way
    # (pulumi/pulumi sdk/python/toolchain/uv.go uvCommand).
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(PROJECT_VENV)}
    # --compile-bytecode: as for the pack's environment (sync_pack_env): preflight, synth's
    # child and the SDK floor all start an interpreter that imports pulumi and grpc.
    _run([uv, "sync", "--locked", "--quiet", "--compile-bytecode", "--python", sys.executable], env=env)
    return uv


def check_python(version: tuple[int, int]) -> str | None:
    """Why this Python cannot run the project (None when it can)."""
    low, high = SUPPORTED_PYTHON
    if low <= version <= high:
        return None
    return (
        f"dev.py: Python {low[0]}.{low[1]} to {high[0]}.{high[1]} is required"
        f" (this is {version[0]}.{version[1]})"
    )


PACK_DIR = ROOT / "policies"
PACK_VENV = PACK_DIR / ".venv"


def sync_pack_env(uv: str | None) -> None:
    """`uv sync --locked` in `policies/`: the pack's own virtualenv (PulumiPolicy.yaml:
    `toolchain: uv`, `virtualenv: .venv`) exactly as policies/uv.lock says, as the CLI builds it
    for an installed pack or on `pulumi install` there. A link left by an older bootstrap (it
    pointed at ../.venv) is removed, never followed: an exact sync through it would strip the
    project's environment down to the pack's three dependencies."""
    if PACK_VENV.is_symlink() or PACK_VENV.is_file():
        PACK_VENV.unlink()
    if os.environ.get(ENV_READY) == "1" and _bin(PACK_VENV, "python").exists():
        return  # the test suite runs the pack from this environment: never rebuild it under it
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(PACK_VENV)}
    # --compile-bytecode: uv leaves .pyc to the first import by default ("compilation is
    # performed lazily the first time a module is imported", uv's `sync` reference), and with
    # PYTHONDONTWRITEBYTECODE set (CI images, this build machine) every pack start compiled
    # pulumi, grpc and protobuf from source again: about a second of each analysis
    # (docs/performance.md, 2026-12-04). pip, which builds .venv-checkov, compiles at install.
    cmd: list[str | Path] = [
        uv or find_uv(), "sync", "--locked", "--quiet", "--compile-bytecode", "--python", sys.executable,
    ]  # fmt: skip
    result = subprocess.run([str(c) for c in cmd], cwd=PACK_DIR, env=env)
    if result.returncode != 0:
        sys.exit(f"dev.py: command failed ({result.returncode}): {' '.join(map(str, cmd))} (in policies/)")


def bootstrap(*, checkov: bool = True) -> None:
    """Build `.venv/` and, unless `checkov` is False, `.venv-checkov/` (preview, up and refresh
    never run checkov, so a CI job that only runs them does not build its environment)."""
    problem = check_python((sys.version_info[0], sys.version_info[1]))
    if problem:
        sys.exit(problem)
    global UV_USED
    UV_USED = sync_project_env()
    sync_pack_env(UV_USED)
    if checkov:
        _ensure_env(CHECKOV_VENV, ROOT / "checkov.lock")


def split_stack(args: list[str], default: str | None) -> tuple[str, list[str]]:
    """The stack named in `args` (`--stack X`, `--stack=X`, `-s X`, `-s=X`) and the other args.

    A stack named twice with different values, a flag without a value, a stack name Pulumi
    would not accept, or a policy config of the user's own is a UsageError."""
    stacks: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name, eq, value = arg.partition("=")
        if name in GENERATED_FLAGS:
            raise UsageError(
                f"dev.py: {name} is not accepted: the policy pack and its config are generated from"
                " the stack's settings (stacks/policy_config.py); edit the stack's settings instead"
            )
        if name in ("--stack", "-s"):
            if not eq:
                if i + 1 >= len(args) or args[i + 1].startswith("-"):
                    raise UsageError(f"dev.py: {name} needs a stack name")
                value = args[i + 1]
                i += 1
            stacks.append(value)
        else:
            rest.append(arg)
        i += 1
    if len(set(stacks)) > 1:
        raise UsageError(f"dev.py: two stacks named ({', '.join(dict.fromkeys(stacks))}); name one")
    stack = stacks[0] if stacks else default
    if stack is None:
        raise UsageError("dev.py: name the stack: --stack NAME (or -s NAME)")
    if not STACK_NAME.fullmatch(stack):
        raise UsageError(f"dev.py: {stack!r} is not a stack name (letters, digits, '-', '_', '.')")
    return stack, rest


def policy_config(stack: str) -> Path | None:
    """Generate `.preflight/policy-config.<stack>.json` from the stack's settings; None when
    the generator refused (it printed one line naming the file and key)."""
    config = ROOT / ".preflight" / f"policy-config.{stack}.json"
    config.parent.mkdir(exist_ok=True)
    py = str(_bin(PROJECT_VENV, "python"))
    rc = subprocess.call([py, "-m", "stacks.policy_config", "--stack", stack, "--out", str(config)], cwd=ROOT)
    return config if rc == 0 else None


def task_plan(args: list[str]) -> int:
    """`preflight plan` of a stack (prod unless one is named), with the policy pack configured
    from that stack's own settings (waivers, legacy sites, groups)."""
    stack, rest = split_stack(args, "prod")
    config = policy_config(stack)
    if config is None:
        return EXIT_BAD_INPUT
    preflight = str(_bin(PROJECT_VENV, "preflight"))
    return subprocess.call(
        [preflight, "plan", "--stack", stack, "--policy-config", str(config), *rest], cwd=ROOT
    )


def task_gate(args: list[str]) -> int:
    """`preflight gate` of a stack (prod unless one is named): the offline gate CI runs."""
    stack, rest = split_stack(args, "prod")
    config = policy_config(stack)
    if config is None:
        return EXIT_BAD_INPUT
    preflight = str(_bin(PROJECT_VENV, "preflight"))
    return subprocess.call(
        [preflight, "gate", "--stack", stack, "--policy-config", str(config), *rest], cwd=ROOT
    )


def pulumi_command(pulumi: str, action: str, stack: str, config: Path, rest: list[str]) -> list[str]:
    """`pulumi <action>` of `stack` with the pack and the stack's generated config."""
    return [
        pulumi, action, "--stack", stack,
        "--policy-pack", str(ROOT / "policies"), "--policy-pack-config", str(config),
        *rest,
    ]  # fmt: skip


def _pulumi_task(action: str) -> Callable[[list[str]], int]:
    def task(args: list[str]) -> int:
        stack, rest = split_stack(args, None)  # no default: `up` of a stack nobody named is a mistake
        pulumi = shutil.which("pulumi")
        if pulumi is None:
            print(
                f"dev.py: the Pulumi CLI (`pulumi`) is not on PATH; install it to {action}"
                " (https://www.pulumi.com/docs/iac/download-install/)",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        if state_backend([]) != 0:  # the state stays in the US: checked before the CLI touches it
            return EXIT_BAD_INPUT
        config = policy_config(stack)
        if config is None:
            return EXIT_BAD_INPUT
        cmd = pulumi_command(pulumi, action, stack, config, rest)
        # on stderr, like `set -x`: stdout is pulumi's own (`--json` stays parseable)
        print("+ pulumi " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
        env = dict(os.environ)
        if UV_USED is not None:  # the CLI runs `uv` (toolchain: uv): the one dev.py used
            env["PATH"] = os.pathsep.join([str(Path(UV_USED).parent), env.get("PATH", "")])
        return subprocess.call(cmd, cwd=ROOT, env=env)

    task.__doc__ = f"`pulumi {action}` of a named stack, always with the policy pack and its config."
    return task


def task_test(args: list[str]) -> int:
    py = str(_bin(PROJECT_VENV, "python"))
    steps: list[list[str]] = [
        [py, "-m", "ruff", "check", "."],
        [py, "-m", "ruff", "format", "--check", "."],
        [py, "-m", "mypy"],
        [py, "-m", "mypy", "policies/__main__.py"],  # see [tool.mypy] exclude in pyproject.toml
        [py, "-m", "pytest", *args],
    ]
    for step in steps:
        print("+ " + " ".join(step[1:]), flush=True)
        rc = subprocess.call(step, cwd=ROOT)
        if rc != 0:
            return rc
    return 0


def task_mutate(args: list[str]) -> int:
    """Mutation testing of the pack and the verdict path (benchmarks/mutation.py, cosmic-ray);
    not part of `test`: a scheduled workflow runs it (docs/mutation-testing.md)."""
    return subprocess.call([str(_bin(PROJECT_VENV, "python")), "-m", "benchmarks.mutation", *args], cwd=ROOT)


def task_bootstrap(_args: list[str]) -> int:
    return 0


def state_backend(args: list[str]) -> int:
    """`python -m stacks.state_backend [URL]`: the state backend the CLI would use
    (PULUMI_BACKEND_URL, else Pulumi.yaml's backend.url), or URL, is an OCI bucket in an approved
    US region (docs/state-backend.md); one line and exit 2 when it is not."""
    py = str(_bin(PROJECT_VENV, "python"))
    return subprocess.call([py, "-m", "stacks.state_backend", *args], cwd=ROOT)


TASKS: dict[str, Callable[[list[str]], int]] = {
    "plan": task_plan,
    "gate": task_gate,
    "test": task_test,
    "mutate": task_mutate,
    "bootstrap": task_bootstrap,
    "state-backend": state_backend,
    **{action: _pulumi_task(action) for action in PULUMI_ACTIONS},
}
# Tasks whose command line is checked before the (possibly slow) bootstrap.
STACK_TASKS = ("plan", "gate", *PULUMI_ACTIONS)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TASKS:
        print(f"usage: python3 dev.py {{{'|'.join(TASKS)}}} [args...]", file=sys.stderr)
        return EXIT_BAD_INPUT
    task, args = argv[0], argv[1:]
    try:
        if task in STACK_TASKS:
            split_stack(args, "prod" if task in ("plan", "gate") else None)
        if task in PULUMI_ACTIONS and shutil.which("pulumi") is None:
            return TASKS[task](args)  # one line naming the missing CLI, before any install
        bootstrap(checkov=task not in (*PULUMI_ACTIONS, "state-backend"))
        return TASKS[task](args)
    except UsageError as e:
        print(e, file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
