"""The control map cannot rot: every test it names exists, every policy of the pack is mapped
with the control id the policy itself declares."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONTROL_MAP = ROOT / "docs" / "residency-controls.md"
TEXT = CONTROL_MAP.read_text(encoding="utf-8")


def _policy_metas() -> list[tuple[str, str, Path]]:
    """(name, control, file) of every policy module, read from its META without importing it."""
    found = []
    for path in sorted((ROOT / "policies").glob("*/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Meta":
                kw = {k.arg: k.value for k in node.keywords}
                name, control = kw.get("name"), kw.get("control")
                if isinstance(name, ast.Constant) and isinstance(control, ast.Constant):
                    found.append((str(name.value), str(control.value), path))
    return found


METAS = _policy_metas()


def test_the_pack_has_policies_to_map() -> None:
    assert len(METAS) >= 25, METAS


@pytest.mark.parametrize(("name", "control", "path"), METAS, ids=[m[0] for m in METAS])
def test_every_policy_is_mapped_with_its_own_control_id(name: str, control: str, path: Path) -> None:
    rows = [line for line in TEXT.splitlines() if f"`{name}`" in line]
    assert rows, f"{path.relative_to(ROOT)}: policy {name} is not in docs/residency-controls.md"
    assert any(line.startswith(f"| {control}") for line in rows), (
        f"policy {name} declares {control}, but its row in the control map has another control id"
    )


REFS = sorted(set(re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", TEXT)))


@pytest.mark.parametrize(("file", "test"), REFS, ids=[f"{f}::{t}" if t else f for f, t in REFS])
def test_every_test_the_map_names_exists(file: str, test: str) -> None:
    path = ROOT / file
    assert path.is_file(), f"docs/residency-controls.md names {file}, which does not exist"
    if test:
        defined = {
            n.name
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.FunctionDef)
        }
        assert test in defined, f"docs/residency-controls.md names {file}::{test}, which does not exist"
