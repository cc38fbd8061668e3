#!/usr/bin/env python3
"""Bootstrap and task runner: the README's two commands go through here.

    python3 dev.py plan   # set up .venv (idempotent), then `preflight plan --stack prod`
    python3 dev.py test   # set up .venv, then ruff (lint + format check), mypy, pytest

Needs nothing but Python 3.11 and the package registry. It installs the project from the
hash-pinned lock files into `.venv/` (the project and its dev tools) and `.venv-checkov/`
(checkov, which needs a `packaging` that pulumi cannot live with, so it gets its own
environment and runs as a subprocess). A second run checks a stamp of the lock files and
returns in well under a second when nothing changed.

Extra arguments after the task are passed through: `python3 dev.py plan --format json`,
`python3 dev.py test -k settings`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PROJECT_VENV = ROOT / ".venv"
CHECKOV_VENV = ROOT / ".venv-checkov"
STAMP = ".lock-stamp"


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


def bootstrap() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"dev.py: Python 3.11 is required (this is {sys.version.split()[0]})")
    _ensure_env(PROJECT_VENV, ROOT / "requirements.lock", [ROOT / "pyproject.toml"], True)
    _ensure_env(CHECKOV_VENV, ROOT / "checkov.lock", [], False)


def task_plan(args: list[str]) -> int:
    """`preflight plan` of a stack (prod unless `--stack NAME` is among the args), with the
    policy pack configured from that stack's own settings (waivers, legacy sites, groups)."""
    stack = "prod"
    if "--stack" in args:
        i = args.index("--stack")
        if i + 1 < len(args):
            stack = args[i + 1]
            args = args[:i] + args[i + 2 :]
    config = ROOT / ".preflight" / f"policy-config.{stack}.json"
    config.parent.mkdir(exist_ok=True)
    py = str(_bin(PROJECT_VENV, "python"))
    rc = subprocess.call([py, "-m", "stacks.policy_config", "--stack", stack, "--out", str(config)], cwd=ROOT)
    if rc != 0:
        return rc  # the generator printed one line naming the file and key
    preflight = str(_bin(PROJECT_VENV, "preflight"))
    return subprocess.call(
        [preflight, "plan", "--stack", stack, "--policy-config", str(config), *args], cwd=ROOT
    )


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
    "test": task_test,
    "bootstrap": task_bootstrap,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TASKS:
        print(f"usage: python3 dev.py {{{'|'.join(TASKS)}}} [args...]", file=sys.stderr)
        return 2
    bootstrap()
    return TASKS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
