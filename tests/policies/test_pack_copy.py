"""The pack is self-contained: its folder alone, copied elsewhere, gives the right verdicts (issue 18).

`pulumi policy publish` uploads only the pack's folder and a published pack is installed without
the repository: the CLI unpacks it, builds its virtualenv with `uv sync` from its own
pyproject.toml and uv.lock (PulumiPolicy.yaml `toolchain: uv`; pkg/backend/httpstate/policypack.go
installRequiredPolicy, sdk/python/toolchain/uv.go) and starts it as
`<virtualenv>/bin/python -u -m pulumi.policy <engine> .` in that folder. Here the copy has no
`stacks/`, `preflight/` or anything else beside it, and a virtualenv synced from its own lock
(tests/policies/pack_process.py): the pack must still find its region
catalogue and judge with the project's generated config (`python -m stacks.policy_config`).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import empty_pb2

from stacks.policy_config import PACK_DIR, ROOT, configure_request
from tests.policies.cases import BUCKET_IAD, ESTATE, Prov
from tests.policies.harness import Diag, Res, analyze_request, diags, stack_request
from tests.policies.pack_process import PackProcess, copy_pack, start_pack

pytestmark = pytest.mark.slow
TIMEOUT = 30
OCI_FRA = Prov("pulumi:providers:oci", "oci-eu-frankfurt-1", {"region": "eu-frankfurt-1"})
# Nothing of the repository may reach the copy: not through the environment either.
ISOLATED = {"PYTHONPATH": ""}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pack's folder alone under a fresh directory, its virtualenv synced from its own lock."""
    base = tmp_path_factory.mktemp("published")
    pack = copy_pack(base / "package", synced=True)
    assert sorted(p.name for p in base.iterdir()) == ["package"]
    assert (pack / ".venv").is_dir() and not (pack / ".venv").is_symlink()
    return pack


@pytest.fixture(scope="module")
def prod_config(tmp_path_factory: pytest.TempPathFactory, copy: Path) -> dict[str, Any]:
    """The project's generated pack config for prod, made by its command line, for the copy's policies."""
    out = tmp_path_factory.mktemp("config") / "prod.json"
    cmd = [sys.executable, "-m", "stacks.policy_config", "--stack", "prod", "--policy-pack", str(copy)]
    subprocess.run([*cmd, "--out", str(out)], cwd=ROOT, check=True, timeout=120)
    config: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return config


@pytest.fixture(scope="module")
def copied_pack(copy: Path) -> Iterator[PackProcess]:
    with start_pack(ISOLATED, pack_dir=copy) as proc:
        yield proc


def _run(copy: Path, code: str) -> subprocess.CompletedProcess[str]:
    python = copy / ".venv" / "bin" / "python"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}, **ISOLATED}
    return subprocess.run(
        [str(python), "-c", code], cwd=copy, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_copy_has_nothing_of_the_repository(copy: Path) -> None:
    """The copied pack's interpreter finds the pack's modules and none of the repository's."""
    code = (
        "import importlib.util as u\n"
        "for n in ('stacks', 'preflight', 'components', 'pulumi_oci', 'rich', 'usdr_common.regions'):\n"
        "    print(n, u.find_spec(n) is not None)\n"
    )
    proc = _run(copy, code)
    assert proc.returncode == 0, proc.stderr
    found = dict(line.split() for line in proc.stdout.splitlines())
    assert found == {
        "stacks": "False",
        "preflight": "False",
        "components": "False",
        "pulumi_oci": "False",
        "rich": "False",
        "usdr_common.regions": "True",
    }
    assert not (copy.parent / "stacks").exists() and not (copy.parent / "preflight").exists()


def test_every_import_of_the_pack_is_its_own_the_standard_library_or_a_dependency(copy: Path) -> None:
    """The pack's pyproject.toml is complete: each module the pack imports anywhere (also inside
    functions) resolves in the virtualenv synced from its lock."""
    own = {p.stem if p.suffix == ".py" else p.name for p in copy.iterdir() if p.suffix == ".py" or p.is_dir()}
    imported: set[str] = set()
    for path in copy.rglob("*.py"):
        if ".venv" in path.relative_to(copy).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module)
    third_party = sorted(
        n for n in imported if n.split(".")[0] not in sys.stdlib_module_names and n.split(".")[0] not in own
    )
    assert {n.split(".")[0] for n in third_party} >= {"pulumi", "pulumi_policy", "yaml"}
    code = f"import importlib\nfor n in {third_party!r}:\n    importlib.import_module(n)\nprint('ok')"
    proc = _run(copy, code)
    assert proc.returncode == 0, proc.stderr  # an import that fails raises here, naming the module
    assert proc.stdout.split() == ["ok"]


def _configure(proc: PackProcess, config: dict[str, Any]) -> Any:
    info = proc.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=TIMEOUT)
    proc.stub.Configure(configure_request(info, config), timeout=TIMEOUT)
    return info


def _analyze(proc: PackProcess, res: Res) -> list[Diag]:
    return diags(proc.stub.Analyze(analyze_request(res), timeout=TIMEOUT))


def test_the_copied_pack_judges_with_the_generated_config(
    copied_pack: PackProcess, prod_config: dict[str, Any]
) -> None:
    info = _configure(copied_pack, prod_config)
    assert sorted(p.name for p in info.policies) == sorted(prod_config)
    # An approved US bucket (Ashburn) passes every policy.
    assert _analyze(copied_pack, BUCKET_IAD) == []
    # The same bucket in Frankfurt is a mandatory residency violation, named as such.
    fra = BUCKET_IAD.on(OCI_FRA)
    found = [d for d in _analyze(copied_pack, fra) if d.policy == "residency-oci-region"]
    assert [d.enforcement for d in found] == ["mandatory"]
    assert "region eu-frankfurt-1 is forbidden" in found[0].message
    # The compliant estate blocks nothing, and nothing anywhere says the catalogue is missing.
    stack = diags(copied_pack.stub.AnalyzeStack(stack_request(ESTATE), timeout=TIMEOUT))
    assert [d for d in stack if d.enforcement == "mandatory"] == []
    every = [*stack, *_analyze(copied_pack, BUCKET_IAD), *_analyze(copied_pack, fra)]
    assert not [d for d in every if "not available" in d.message]
    assert "Traceback" not in "".join(copied_pack.stderr)


def test_the_packs_lock_pins_what_the_projects_lock_pins() -> None:
    """The pack judges in process in the tests (the project's environment, uv.lock) and over
    gRPC from its own (policies/uv.lock): every distribution both hold is at the same version,
    so a verdict in process is the verdict of the pack as the CLI installs it."""
    import tomllib

    def pins(lock: Path) -> dict[str, str]:
        packages = tomllib.loads(lock.read_text(encoding="utf-8"))["package"]
        return {p["name"]: p["version"] for p in packages if "version" in p}

    project, pack = pins(ROOT / "uv.lock"), pins(PACK_DIR / "uv.lock")
    shared = set(project) & set(pack)
    assert {"pulumi", "pulumi-policy", "pyyaml", "grpcio", "protobuf"} <= shared
    assert {n: (project[n], pack[n]) for n in shared if project[n] != pack[n]} == {}
    # Nothing but the pack itself is in its lock that the project does not also hold.
    assert set(pack) - shared == {"us-data-residency-policy-pack"}
