"""One home for what the program, the pack and preflight share (policies/usdr_common), and no
dependency between them: the program runs without preflight, the shared modules without either."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

COMMON = ROOT / "policies" / "usdr_common"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted(COMMON.glob("*.py")), ids=lambda p: p.name)
def test_the_shared_modules_need_only_the_standard_library_and_pyyaml(path: Path) -> None:
    """Relative imports among themselves (so each user may load them under its own name), and
    nothing of the program, the pack or preflight."""
    outside = {n for n in _imports(path) if n not in sys.stdlib_module_names}
    assert outside <= {"yaml"}, f"{path.name} imports {sorted(outside)}"


def test_there_is_one_region_list_and_one_strict_reader() -> None:
    assert not (ROOT / "stacks" / "regions.yaml").exists()
    assert sorted(
        p.relative_to(ROOT).as_posix() for p in ROOT.glob("*/**/regions.yaml") if ".venv" not in p.parts
    ) == ["policies/usdr_common/regions.yaml"]
    readers = [
        p.relative_to(ROOT).as_posix()
        for folder in ("stacks", "components", "preflight", "policies")
        for p in (ROOT / folder).rglob("*.py")
        if ".venv" not in p.parts and "yaml.SafeLoader" in p.read_text(encoding="utf-8")
    ]
    assert readers == ["policies/usdr_common/strict_yaml.py"]


PROGRAM_WITHOUT_PREFLIGHT = """
import importlib, pkgutil, sys
from pathlib import Path
sys.modules["preflight"] = None  # any `import preflight...` now raises ImportError
import stacks, components
for package in (stacks, components):
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
from stacks.settings import SettingsError, load_settings_file
settings = load_settings_file(Path("Pulumi.prod.yaml"))
assert settings.catalogue.lookup("IAD").identifier == "us-ashburn-1"
bad = Path(sys.argv[1])
bad.write_text("config:\\n  us-data-residency:kms: {}\\n  us-data-residency:kms: {}\\n")
try:
    load_settings_file(bad)
except SettingsError as exc:
    print(exc.problems[0])
print(sorted(n for n in sys.modules if n.split(".")[0] == "preflight" and sys.modules[n] is not None))
print(sys.modules["usdr_common"].__file__)
"""


def test_the_program_runs_without_preflight(tmp_path: Path) -> None:
    """Every module of stacks/ and components/ imports, and a stack file is read and validated
    (the strict reader refusing a duplicate key), with preflight unimportable."""
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM_WITHOUT_PREFLIGHT, str(tmp_path / "Pulumi.bad.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    duplicate, loaded, common = proc.stdout.splitlines()
    assert duplicate.startswith("Pulumi.bad.yaml:3:3: YAML error: ") and "duplicate key" in duplicate
    assert loaded == "[]"
    assert Path(common) == COMMON / "__init__.py"


def test_a_duplicate_key_in_the_catalogue_is_refused(tmp_path: Path) -> None:
    from stacks.regions import CatalogueError, load_catalogue

    path = tmp_path / "regions.yaml"
    text = (COMMON / "regions.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("schema: 1\n", "schema: 1\nschema: 1\n", 1), encoding="utf-8")
    with pytest.raises(
        CatalogueError, match=r"^region catalogue regions\.yaml:\d+:1: YAML error: .*duplicate key"
    ):
        load_catalogue(path)


def test_preflight_reads_the_same_catalogue_under_its_own_name() -> None:
    """preflight's reports and the program answer from the same file, without preflight putting
    a `usdr_common` of its own where a program it runs would find it."""
    code = (
        "import sys\n"
        "from preflight import catalogue\n"
        "print(catalogue.region_facts('FRA'))\n"
        "print('usdr_common' in sys.modules, sys.modules['preflight._usdr_common.regions'].__file__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    facts, where = proc.stdout.splitlines()
    assert "'identifier': 'eu-frankfurt-1'" in facts and "'jurisdiction': 'DE'" in facts
    assert where == f"False {COMMON / 'regions.py'}"


def test_a_program_preflight_runs_in_process_reads_its_own_catalogue(tmp_path: Path) -> None:
    """In one process (the test suite, `diff`) another checkout's `usdr_common` may already be
    imported: the program preflight runs still reads its own copy's catalogue, and the process
    gets its own back after (preflight/engine/run.py sets the other one aside)."""
    import stacks.regions  # this checkout's usdr_common, imported in this process
    from preflight.engine.run import synthesize
    from preflight.errors import BadInput
    from tests.project_copy import copy_project

    before = sys.modules["usdr_common"]
    copy = copy_project(tmp_path / "other-checkout")
    catalogue = copy / "policies" / "usdr_common" / "regions.yaml"
    text = catalogue.read_text(encoding="utf-8")
    ashburn = "{identifier: us-ashburn-1,     key: IAD, realm: oc1,  jurisdiction: US, status: approved,"
    assert ashburn in text
    catalogue.write_text(text.replace(ashburn, ashburn.replace("approved", "forbidden")), encoding="utf-8")
    with pytest.raises(BadInput, match=r"region us-ashburn-1 is forbidden"):
        synthesize(copy, "prod")
    assert sys.modules["usdr_common"] is before
    assert stacks.regions.load_catalogue().lookup("us-ashburn-1").status.value == "approved"
