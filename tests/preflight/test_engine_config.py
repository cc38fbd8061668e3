"""Config as the CLI reads it (issue 11, item 2).

Each program declares one bucket on the default OCI provider; where the engine puts it depends
only on how the CLI reads configuration:
* `stackConfigDir` in Pulumi.yaml (and its older spelling, `config: <dir>`) moves the stack files
  (sdk/go/common/workspace/paths.go DetectProjectStackPath); a stale file at the old place is
  not read;
* project-level `config:` in Pulumi.yaml gives defaults, plain or `default:`/`value:`, bare keys
  in the project's namespace, provider keys (`oci:region`) as they are; the stack file wins;
* `<ns>:config:<name>` is the older spelling of `<ns>:<name>`; any other key with two colons,
  or more, is an error (sdk/go/common/resource/config/key.go ParseKey).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.errors import BadInput
from preflight.project import load_project, load_stack_config
from preflight.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
GOOD = Path(__file__).parent / "fixtures" / "packs" / "good"
PROGRAM = """import pulumi
import pulumi_oci as oci

oci.objectstorage.Bucket(
    "data", compartment_id="ocid1.compartment.oc1..aaaaaaaafixture", name="data", namespace="fixture"
)
"""


def _project(tmp_path: Path, pulumi_yaml: str, files: dict[str, str]) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: cfg\nruntime: python\n" + pulumi_yaml)
    (tmp_path / "__main__.py").write_text(PROGRAM)
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _region(project_dir: Path) -> str | None:
    result = synthesize(project_dir, "dev")
    return next(r.region for r in result.resources if r.name == "data")


STALE = {"Pulumi.dev.yaml": "config:\n  oci:region: us-ashburn-1\n"}
FRANKFURT = "config:\n  oci:region: eu-frankfurt-1\n"


@pytest.mark.parametrize("spelling", ["stackConfigDir: config\n", "config: config\n"])
def test_stack_files_are_read_from_the_stack_config_dir(tmp_path: Path, spelling: str) -> None:
    project = _project(tmp_path, spelling, {**STALE, "config/Pulumi.dev.yaml": FRANKFURT})
    assert _region(project) == "eu-frankfurt-1"
    assert load_stack_config(load_project(project), "dev").source == (project / "config/Pulumi.dev.yaml")


def test_stack_config_dir_and_a_config_path_together_are_refused(tmp_path: Path) -> None:
    project = _project(tmp_path, "stackConfigDir: a\nconfig: b\n", {})
    with pytest.raises(BadInput) as err:
        load_project(project)
    assert "Pulumi.yaml: config: a path and stackConfigDir together" in err.value.message


@pytest.mark.parametrize(
    "pulumi_yaml",
    [
        "config:\n  oci:region: eu-frankfurt-1\n",
        "config:\n  oci:region:\n    value: eu-frankfurt-1\n",
        "config:\n  oci:region:\n    default: eu-frankfurt-1\n",
    ],
)
def test_a_project_level_provider_default_places_the_default_provider(
    tmp_path: Path, pulumi_yaml: str
) -> None:
    project = _project(tmp_path, pulumi_yaml, {"Pulumi.dev.yaml": "config: {}\n"})
    assert _region(project) == "eu-frankfurt-1"


def test_the_stack_file_wins_over_the_project_default(tmp_path: Path) -> None:
    project = _project(tmp_path, "config:\n  oci:region: eu-frankfurt-1\n", STALE)
    assert _region(project) == "us-ashburn-1"


@pytest.mark.parametrize("where", ["stack", "project"])
def test_the_older_ns_config_name_spelling_is_the_same_key(tmp_path: Path, where: str) -> None:
    legacy = "config:\n  oci:config:region: eu-frankfurt-1\n"
    if where == "stack":
        project = _project(tmp_path, "", {"Pulumi.dev.yaml": legacy})
    else:
        project = _project(tmp_path, legacy, {"Pulumi.dev.yaml": "config: {}\n"})
    assert _region(project) == "eu-frankfurt-1"
    values = load_stack_config(load_project(project), "dev").values
    assert values["oci:region"] == "eu-frankfurt-1" and "oci:config:region" not in values


def test_a_bare_project_key_is_in_the_projects_namespace(tmp_path: Path) -> None:
    project = _project(
        tmp_path, "config:\n  team: us\n  cfg:config:other: x\n", {"Pulumi.dev.yaml": "config: {}\n"}
    )
    values = load_stack_config(load_project(project), "dev").values
    assert values["cfg:team"] == "us" and values["cfg:other"] == "x"


@pytest.mark.parametrize("key", ["oci:foo:region", "a:b:c:d"])
def test_a_key_the_cli_cannot_parse_is_bad_input_naming_file_and_key(tmp_path: Path, key: str) -> None:
    project = _project(tmp_path, "", {"Pulumi.dev.yaml": f"config:\n  {key}: x\n"})
    with pytest.raises(BadInput) as err:
        load_stack_config(load_project(project), "dev")
    assert f"Pulumi.dev.yaml: config: {key}: not a configuration key" in err.value.message


@pytest.mark.slow
def test_the_gate_blocks_a_bucket_placed_by_the_stack_config_dir(tmp_path: Path) -> None:
    project = _project(tmp_path, "stackConfigDir: config\n", {**STALE, "config/Pulumi.dev.yaml": FRANKFURT})
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "gate", "--project-dir", str(project), "--stack", "dev",
         "--policy-pack", str(GOOD), "--no-checkov", "--no-progress", "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    blocking = [f for f in json.loads(proc.stdout)["findings"] if f["enforcement"] == "mandatory"]
    assert [(f["policy"], f["name"]) for f in blocking] == [("bucket-us-only", "data")]
