"""The program runs with the interpreter the Pulumi CLI would use (preflight/engine/interpreter.py):
Pulumi.yaml's `runtime.options.virtualenv`, uv's `.venv`, poetry's environment; when that
environment is missing or unusable, preflight's own interpreter with one line saying so."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from preflight.engine import interpreter
from preflight.errors import BadInput
from preflight.project import load_project
from preflight.synth import synthesize_isolated

PROGRAM = """
import os, sys
import pulumi
import pulumi_oci as oci

oci.objectstorage.Bucket("data", compartment_id="ocid1.compartment.oc1..x", name="data", namespace="ns")
pulumi.export("python", sys.executable)
pulumi.export("prefix", sys.prefix)
pulumi.export("path0", os.environ["PATH"].split(os.pathsep)[0])
pulumi.export("pythonhome", os.environ.get("PYTHONHOME", ""))
"""


def project(tmp_path: Path, options: str = "") -> Path:
    runtime = "runtime: python\n" if not options else f"runtime:\n  name: python\n  options:\n{options}"
    (tmp_path / "Pulumi.yaml").write_text(f"name: interp\n{runtime}")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  oci:region: us-ashburn-1\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    return tmp_path


def make_venv(where: Path, *, with_packages: bool) -> Path:
    """A real virtualenv (no pip: fast); with_packages: it sees this environment's packages
    through a .pth file, as an environment built by `pulumi install` would have them."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    if with_packages:
        site = next(where.glob("lib/python3*/site-packages"))
        (site / "shared.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return where


def test_the_declared_virtualenv_runs_the_program(tmp_path: Path) -> None:
    proj = project(tmp_path, "    toolchain: pip\n    virtualenv: venv\n")
    venv = make_venv(tmp_path / "venv", with_packages=True)
    result = synthesize_isolated(proj, "dev", timeout=300)
    assert Path(result.outputs["prefix"]).resolve() == venv.resolve()
    assert result.outputs["path0"] == str(venv / "bin")  # as the language host's exec shim sets it
    assert not [w for w in result.warnings if "running the program with" in w]


def test_uv_uses_the_projects_dot_venv(tmp_path: Path) -> None:
    proj = project(tmp_path, "    toolchain: uv\n")
    venv = make_venv(tmp_path / ".venv", with_packages=True)
    assert interpreter.choose(load_project(proj)).python == str(venv.resolve() / "bin" / "python")


def test_a_missing_environment_falls_back_with_one_line(tmp_path: Path) -> None:
    proj = project(tmp_path, "    virtualenv: venv\n")
    result = synthesize_isolated(proj, "dev", timeout=300)
    assert Path(result.outputs["python"]) == Path(sys.executable)
    note = result.warnings[0]
    assert note.startswith("runtime.options.virtualenv venv (") and "pulumi install" in note
    assert sys.executable in note


def test_an_environment_without_the_sdk_falls_back_naming_what_it_lacks(tmp_path: Path) -> None:
    proj = project(tmp_path, "    virtualenv: venv\n")
    make_venv(tmp_path / "venv", with_packages=False)
    choice = interpreter.choose(load_project(proj))
    assert choice.python == sys.executable
    assert choice.note is not None and "lacks pulumi, yaml" in choice.note


def test_no_declared_environment_is_preflights_interpreter_without_a_note(tmp_path: Path) -> None:
    choice = interpreter.choose(load_project(project(tmp_path)))
    assert (choice.python, choice.note) == (sys.executable, None)


def test_poetry_without_poetry_falls_back_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    choice = interpreter.choose(load_project(project(tmp_path, "    toolchain: poetry\n")))
    assert choice.python == sys.executable and "poetry is not on PATH" in str(choice.note)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("    toolchain: conda\n", "runtime.options.toolchain: 'conda' is not pip, poetry or uv"),
        ("    virtualenv: [a]\n", "runtime.options.virtualenv: must be text"),
    ],
)
def test_a_bad_runtime_option_is_one_line(tmp_path: Path, options: str, expected: str) -> None:
    with pytest.raises(BadInput) as err:
        load_project(project(tmp_path, options))
    assert err.value.message.endswith(expected)


@pytest.mark.slow
def test_the_gate_judges_the_program_its_own_environment_makes(tmp_path: Path) -> None:
    """The platform library that decides where DR goes exists only in the project's virtualenv
    (as `pulumi install` built it): run anywhere else the program would be a different one."""
    proj = project(tmp_path, "    virtualenv: venv\n")
    venv = make_venv(tmp_path / "venv", with_packages=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "acme_platform.py").write_text('DR_REGION = "eu-frankfurt-1"\n')
    (proj / "__main__.py").write_text(
        "import acme_platform\nimport pulumi\nimport pulumi_oci as oci\n\n"
        'dr = oci.Provider("dr", region=acme_platform.DR_REGION)\n'
        'oci.objectstorage.Bucket("replica", compartment_id="ocid1.compartment.oc1..x", name="replica",\n'
        '    namespace="ns", opts=pulumi.ResourceOptions(provider=dr))\n'
    )
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "preflight", "gate", "--project-dir", str(proj), "--stack", "dev"]
    cmd += ["--policy-pack", str(root / "policies"), "--no-checkov", "--no-progress", "--format", "json"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert any(
        f["name"] == "replica" and f["policy"] == "residency-oci-region" and f["enforcement"] == "mandatory"
        for f in findings
    ), findings
