"""Project and stack files read the way the Pulumi CLI reads them; every error one line with its file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight.errors import BadInput
from preflight.project import load_project, load_stack_config


def _project(tmp_path: Path, stack: str, pulumi_yaml: str = "name: demo\nruntime: python\n") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(pulumi_yaml)
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.dev.yaml").write_text(stack)
    return tmp_path


def test_values_reach_the_program_as_the_engine_passes_them(tmp_path: Path) -> None:
    d = _project(
        tmp_path,
        "config:\n"
        "  size: 3\n"
        "  flag: true\n"
        "  answer: yes\n"
        "  day: 2027-09-30\n"
        "  regions: {b: 1, a: [x, y]}\n"
        "  oci:region: us-ashburn-1\n"
        "  token:\n    secure: v1:abcdef\n"
        "  nested: {inner: {secure: v1:xyz}}\n",
    )
    cfg = load_stack_config(load_project(d), "dev")
    wire = cfg.wire()
    assert wire["demo:size"] == "3" and wire["demo:flag"] == "true"
    assert wire["demo:answer"] == "yes", "YAML 1.1 booleans are text in Pulumi's YAML 1.2"
    assert wire["demo:day"] == "2027-09-30", "dates stay text"
    assert wire["demo:regions"] == '{"a":["x","y"],"b":1}', "compact JSON, sorted keys"
    assert wire["oci:region"] == "us-ashburn-1"
    assert wire["demo:token"] == "[secret]" and "v1:" not in json.dumps(wire)
    assert set(cfg.secret_keys) == {"demo:token", "demo:nested"}
    assert cfg.for_package("oci") == {"region": "us-ashburn-1"}


def test_project_defaults_apply_when_the_stack_is_silent(tmp_path: Path) -> None:
    d = _project(
        tmp_path,
        "config:\n  size: 4\n",
        "name: demo\nruntime:\n  name: python\nconfig:\n  size: {default: 1}\n  owner: {default: me}\n",
    )
    wire = load_stack_config(load_project(d), "dev").wire()
    assert wire["demo:size"] == "4" and wire["demo:owner"] == "me"


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("config:\n  a: 1\n  a: 2\n", "Pulumi.dev.yaml:3:3: YAML error: duplicate key 'a' (first on line 2)"),
        ("config: [\n", "Pulumi.dev.yaml:2:1: YAML error"),
        ("config: {}\nextra: 1\n", "Pulumi.dev.yaml: extra: unknown top-level key"),
        ("config: {}\nenvironment: [prod-env]\n", "ESC environments cannot be resolved offline"),
        ("config: 3\n", "config: must be a mapping"),
    ],
)
def test_stack_file_errors_name_the_file_and_line(tmp_path: Path, stack: str, expected: str) -> None:
    d = _project(tmp_path, stack)
    with pytest.raises(BadInput) as err:
        load_stack_config(load_project(d), "dev")
    assert expected in err.value.message and "\n" not in err.value.message


@pytest.mark.parametrize(
    ("pulumi_yaml", "expected"),
    [
        ("name: demo\nruntime: nodejs\n", "is not python"),
        ("runtime: python\n", "name: required"),
        ("name: demo\nruntime: python\nmain: src/\n", "does not exist"),
    ],
)
def test_project_file_errors(tmp_path: Path, pulumi_yaml: str, expected: str) -> None:
    d = _project(tmp_path, "config: {}\n", pulumi_yaml)
    with pytest.raises(BadInput) as err:
        load_project(d)
    assert expected in err.value.message


def test_config_file_replaces_the_stack_file(tmp_path: Path) -> None:
    d = _project(tmp_path, "config:\n  size: 1\n")
    other = tmp_path / "other.yaml"
    other.write_text("config:\n  size: 9\n")
    assert load_stack_config(load_project(d), "dev", other).wire()["demo:size"] == "9"
    with pytest.raises(BadInput, match="no such stack file"):
        load_stack_config(load_project(d), "dev", tmp_path / "missing.yaml")
