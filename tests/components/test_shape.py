"""Issue 13, "Shape": a component receives plain arguments and knows nothing of the stack's settings.

stacks/ translates settings (stacks/settings.py) and the region catalogue (stacks/regions.py)
into each component's own frozen args dataclass; a component that imported them would tie its
args to one stack file's layout again. The check reads every module of components/ with `ast`,
so an import inside a function or under TYPE_CHECKING is caught as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components import legacy_backup
from stacks import settings

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
FORBIDDEN = ("stacks", "policies", "preflight", "usdr_common")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(COMPONENTS.glob("*.py")), ids=lambda p: p.name)
def test_a_component_imports_nothing_of_the_stack(path: Path) -> None:
    bad = [n for n in _imports(path) if n.split(".")[0] in FORBIDDEN]
    assert not bad, f"components/{path.name} imports {bad}: take plain args, let stacks/ translate"


def test_the_component_and_the_settings_know_the_same_site_modes() -> None:
    # Two homes for one vocabulary, on purpose (the component owns its own); they must agree, or
    # the settings would accept a mode the component refuses (or the reverse).
    assert legacy_backup.SITE_MODES == settings.SITE_MODES
