"""A copy of this project's program (not its environments) in another folder, for tests that run a
changed program or catalogue exactly as preflight runs the real one: Pulumi.yaml, the stack
files, __main__.py, preflight-lookups.yaml, stacks/, components/ and policies/ (the program
imports `usdr_common` from there), with virtualenvs and caches left out."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml", "__main__.py", "preflight-lookups.yaml")
FOLDERS = ("stacks", "components", "policies")


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(ROOT / name, dest / name)
    for name in FOLDERS:
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    return dest
