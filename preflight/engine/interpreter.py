"""Which Python runs the program: the one the Pulumi CLI would use, as Pulumi.yaml declares it.

The language host (pulumi/pulumi sdk/python/cmd/pulumi-language-python, its exec shim
`pulumi-language-python-exec`) picks the interpreter from `runtime.options`:

* `virtualenv: DIR` (any toolchain): `DIR/bin/python` (`DIR\\Scripts\\python.exe` on
  Windows), DIR relative to the project directory; PATH gets `DIR/bin` first and
  PYTHONHOME is unset;
* `toolchain: uv` without `virtualenv`: the project's `.venv`, as `uv sync` makes it;
* `toolchain: poetry` without `virtualenv`: `poetry env info --path`;
* `toolchain: pip` without `virtualenv`: whatever `python3` is on PATH.

preflight runs the program the same way where it can, in a child interpreter. The child also
runs preflight's own synthesis code, which needs Python 3.11 or newer and the `pulumi` and
`yaml` modules (and `cryptography` when a passphrase is given to decrypt `secure:` values).
When the declared environment is missing or lacks one of these, the program runs with
preflight's own interpreter instead, and one line says so (`Choice.note`): the verdict is then
about the program with preflight's packages, which the line makes visible. A project that
declares no environment (pip, no virtualenv) runs with preflight's own interpreter too: the
CLI's `python3` on PATH is rarely the one with the project's packages, and preflight's is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from preflight.project import Project

_PROBE = (
    "import importlib.util as u, sys\n"
    "missing = [m for m in sys.argv[1:] if u.find_spec(m) is None]\n"
    "print(('%d.%d' % sys.version_info[:2]) + ' ' + ','.join(missing))\n"
)
_PROBE_TIMEOUT = 30.0
MINIMUM = (3, 11)


@dataclass(frozen=True)
class Choice:
    python: str  # the interpreter to run
    env: dict[str, str] = field(default_factory=dict)  # changes to the child's environment
    removed: tuple[str, ...] = ()  # variables to drop (PYTHONHOME in a virtualenv)
    note: str | None = None  # one line when the declared environment could not be used
    declared: str | None = None  # the environment Pulumi.yaml declares, for messages


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _declared_venv(project: Project) -> tuple[Path | None, str | None]:
    """(virtualenv directory, how it was found) as the language host resolves it, or (None, why not)."""
    options = project.runtime_options
    toolchain = str(options.get("toolchain", "pip"))
    venv = options.get("virtualenv")
    if isinstance(venv, str) and venv.strip():
        return (project.dir / venv.strip()).resolve(), f"runtime.options.virtualenv {venv.strip()}"
    if toolchain == "uv":
        return (project.dir / ".venv").resolve(), "toolchain uv (.venv)"
    if toolchain == "poetry":
        poetry = shutil.which("poetry")
        if poetry is None:
            return None, "toolchain poetry, but poetry is not on PATH"
        try:
            out = subprocess.run(
                [poetry, "env", "info", "--path"],
                cwd=project.dir,
                capture_output=True,
                text=True,
                timeout=_PROBE_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"toolchain poetry: `poetry env info --path` failed ({exc})"
        path = out.stdout.strip()
        if out.returncode != 0 or not path:
            return None, "toolchain poetry: `poetry env info --path` names no environment (poetry install?)"
        return Path(path).resolve(), "toolchain poetry"
    return None, None


def choose(project: Project, needs: tuple[str, ...] = ("pulumi", "yaml")) -> Choice:
    """The interpreter for the program of `project`, falling back to preflight's own."""
    own = Choice(python=sys.executable)
    venv, how = _declared_venv(project)
    if venv is None:
        if how is None:
            return own
        return Choice(python=sys.executable, note=f"{how}; running the program with {sys.executable}")
    declared = f"{how} ({venv})"
    python = _venv_python(venv)
    if not python.exists():
        return Choice(
            python=sys.executable,
            note=f"{declared} has no {python.name}: running the program with {sys.executable} "
            "(create the environment: pulumi install)",
            declared=declared,
        )
    if Path(sys.prefix).resolve() == venv:
        return Choice(python=sys.executable, declared=declared)  # already the project's environment
    try:
        out = subprocess.run(
            [str(python), "-c", _PROBE, *needs],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        version, _, missing = out.stdout.strip().partition(" ")
        major, minor = (int(p) for p in version.split("."))
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        return Choice(
            python=sys.executable,
            note=f"{declared}: {python} does not run ({type(exc).__name__}): "
            f"running the program with {sys.executable}",
            declared=declared,
        )
    problem = None
    if (major, minor) < MINIMUM:
        problem = f"is Python {major}.{minor} (preflight needs 3.11 or newer)"
    elif missing:
        problem = f"lacks {', '.join(missing.split(','))}"
    if problem:
        return Choice(
            python=sys.executable,
            note=f"{declared} {problem}: running the program with {sys.executable}",
            declared=declared,
        )
    path = os.pathsep.join(p for p in (str(python.parent), os.environ.get("PATH", "")) if p)
    return Choice(python=str(python), env={"PATH": path}, removed=("PYTHONHOME",), declared=declared)
