#!/usr/bin/env python3
"""Bootstrap and task runner: the README's two commands go through here.

    python3 dev.py plan   # set up .venv (idempotent), then `preflight plan --stack prod`
    python3 dev.py test   # set up .venv, then ruff (lint + format check), mypy, pytest
    python3 dev.py gate --stack prod       # the offline gate CI runs (`preflight gate`)
    python3 dev.py preview --stack prod    # `pulumi preview` with the policy pack, always
    python3 dev.py up --stack staging      # `pulumi up` with the policy pack, always
    python3 dev.py refresh --stack prod    # `pulumi refresh` with the policy pack, always

Needs nothing but Python 3.11, 3.12 or 3.13 and the package registry (and the Pulumi CLI on
PATH for preview/up/refresh). It installs the project from the
hash-pinned lock files into `.venv/` (the project and its dev tools) and `.venv-checkov/`
(checkov, which needs a `packaging` that pulumi cannot live with, so it gets its own
environment and runs as a subprocess). A second run checks a stamp of the lock files and
returns in well under a second when nothing changed.

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
import json
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


def _digest(*files: Path) -> str:
    """What the environment is built from: lock files whole, and only pyproject's [project]
    table (dependencies, console scripts), so tool settings (ruff, mypy) never force a rebuild."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        if f.suffix == ".toml":
            project = tomllib.loads(f.read_text(encoding="utf-8")).get("project", {})
            h.update(json.dumps(project, sort_keys=True).encode())
        else:
            h.update(f.read_bytes())
    return h.hexdigest()


def _run(cmd: list[str | Path], **kw: object) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, **kw)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.exit(f"dev.py: command failed ({result.returncode}): {' '.join(map(str, cmd))}")


def _ensure_env(env: Path, lock: Path, inputs: list[Path], editable: bool) -> None:
    """Create `env` from `lock` unless its stamp says it is already exactly that."""
    if os.environ.get(ENV_READY) == "1" and _bin(env, "python").exists():
        return  # the caller runs inside these environments (the test suite): never rebuild them
    want = _digest(lock, *inputs)
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
    if editable:
        _run([*pip, "install", "--no-deps", "--no-build-isolation", "-e", "."])
    stamp.write_text(want + "\n")


def check_python(version: tuple[int, int]) -> str | None:
    """Why this Python cannot run the project (None when it can)."""
    low, high = SUPPORTED_PYTHON
    if low <= version <= high:
        return None
    return (
        f"dev.py: Python {low[0]}.{low[1]} to {high[0]}.{high[1]} is required"
        f" (this is {version[0]}.{version[1]})"
    )


PACK_VENV = ROOT / "policies" / ".venv"


def link_pack_venv() -> None:
    """`policies/.venv` -> `../.venv`: the pack's virtualenv (PulumiPolicy.yaml) is the project's
    in this repository (same pins); a published pack builds its own from policies/requirements.txt."""
    target = Path("..") / PROJECT_VENV.name
    if PACK_VENV.is_symlink() and Path(os.readlink(PACK_VENV)) == target:
        return
    if PACK_VENV.is_symlink() or PACK_VENV.is_file():
        PACK_VENV.unlink()
    elif PACK_VENV.exists():
        sys.exit(f"dev.py: {PACK_VENV} is a directory; remove it so it can link {target}")
    PACK_VENV.symlink_to(target, target_is_directory=True)


def bootstrap(*, checkov: bool = True) -> None:
    """Build `.venv/` and, unless `checkov` is False, `.venv-checkov/` (preview, up and refresh
    never run checkov, so a CI job that only runs them does not build its environment)."""
    problem = check_python((sys.version_info[0], sys.version_info[1]))
    if problem:
        sys.exit(problem)
    _ensure_env(PROJECT_VENV, ROOT / "requirements.lock", [ROOT / "pyproject.toml"], True)
    link_pack_venv()
    if checkov:
        _ensure_env(CHECKOV_VENV, ROOT / "checkov.lock", [], False)


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
        config = policy_config(stack)
        if config is None:
            return EXIT_BAD_INPUT
        cmd = pulumi_command(pulumi, action, stack, config, rest)
        # on stderr, like `set -x`: stdout is pulumi's own (`--json` stays parseable)
        print("+ pulumi " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
        return subprocess.call(cmd, cwd=ROOT)

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


def task_bootstrap(_args: list[str]) -> int:
    return 0


TASKS: dict[str, Callable[[list[str]], int]] = {
    "plan": task_plan,
    "gate": task_gate,
    "test": task_test,
    "bootstrap": task_bootstrap,
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
        bootstrap(checkov=task not in PULUMI_ACTIONS)
        return TASKS[task](args)
    except UsageError as e:
        print(e, file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
