"""Hostile files are bad input, refused quickly (issue 15 item 7).

Every file preflight reads goes through preflight.project.read_bounded (size, regular file only)
and read_yaml / read_json (depth, alias expansion). A stack file, Pulumi.yaml, `--policy-config`
and `--stack-outputs` are each tried here through the CLI, in process: the run must end with
exit 2 and one line naming the file, before any child starts. Nothing here uses a timer: a
regression (reading a FIFO, expanding an alias bomb) hangs or exhausts memory, which pytest's
own timeout in CI reports.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from preflight import project
from preflight.cli import main
from preflight.errors import BadInput

FIXTURES = Path(__file__).parent / "fixtures"
BASIC = FIXTURES / "basic"
GOOD = FIXTURES / "packs" / "good"

# The classic "billion laughs": nine levels of nine aliases, 9**9 (387 million) leaves.
ALIAS_BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    + ["config:", "  basic:bomb: *a9", ""]
)


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith("preflight: error: "), lines[0]
    return lines[0]


def _project_with_stack_file(tmp_path: Path, text: str) -> Path:
    dest = tmp_path / "proj"
    shutil.copytree(BASIC, dest)
    (dest / "Pulumi.dev.yaml").write_text(text)
    return dest


def _plan(project_dir: Path, *extra: str) -> list[str]:
    return [
        "plan",
        "--project-dir",
        str(project_dir),
        "--stack",
        "dev",
        "--policy-pack",
        str(GOOD),
        "--no-checkov",
        "--no-progress",
        *extra,
    ]


# ------------------------------------------------------------------ YAML: aliases, depth, size


def test_an_alias_bomb_in_a_stack_file_is_bad_input_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = _project_with_stack_file(tmp_path, ALIAS_BOMB)
    assert main(_plan(proj)) == 2
    line = _one_line(capsys)
    assert "Pulumi.dev.yaml" in line
    assert "aliases expand to more than 1,000,000 values" in line


def test_aliases_that_expand_modestly_are_still_read() -> None:
    # Real stack files use anchors for shared tag sets: a few hundred expanded nodes is fine.
    text = "base: &t {a: 1, b: 2}\n" + "".join(f"k{i}: *t\n" for i in range(300))
    doc = project.parse_yaml(text, "x.yaml")
    assert doc["k299"] == {"a": 1, "b": 2}


def test_deep_nesting_in_a_stack_file_is_bad_input_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = _project_with_stack_file(tmp_path, "config:\n  basic:deep: " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(_plan(proj)) == 2
    line = _one_line(capsys)
    assert "Pulumi.dev.yaml" in line
    assert "nested more than 100 levels deep" in line


def test_nesting_at_the_limit_is_read_and_one_more_level_is_not() -> None:
    # The document is level 1: a list nested n deep inside it is n + 1 levels.
    assert project.parse_yaml("[" * 99 + "]" * 99, "x.yaml") is not None
    with pytest.raises(BadInput, match="nested more than 100 levels"):
        project.parse_yaml("[" * 101 + "]" * 101, "x.yaml")


def test_a_recursive_alias_is_a_yaml_error_naming_the_file() -> None:
    with pytest.raises(BadInput, match=r"^x\.yaml"):
        project.parse_yaml("a: &a [*a]\n", "x.yaml")


def test_a_stack_file_larger_than_the_limit_is_refused_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = _project_with_stack_file(tmp_path, "config: {}\n")
    with (proj / "Pulumi.dev.yaml").open("r+b") as fh:
        fh.truncate(4 * 1024**3)  # sparse: 4 GB on paper, nothing on disk
    assert main(_plan(proj)) == 2
    line = _one_line(capsys)
    assert "Pulumi.dev.yaml" in line
    assert "4,294,967,296 bytes, more than the 16,777,216 a file may have" in line


def test_a_pulumi_yaml_alias_bomb_is_bad_input_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = _project_with_stack_file(tmp_path, "config: {}\n")
    original = (proj / "Pulumi.yaml").read_text()
    (proj / "Pulumi.yaml").write_text(original + ALIAS_BOMB.replace("config:\n  basic:bomb: *a9\n", ""))
    assert main(_plan(proj)) == 2
    line = _one_line(capsys)
    assert "Pulumi.yaml" in line
    assert "aliases expand" in line


# ------------------------------------------------------------------ --policy-config


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    os.mkfifo(path)
    return path


def test_a_fifo_as_policy_config_is_refused_at_once_not_waited_on(
    fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Opened without O_NONBLOCK, this would wait for a writer forever.
    assert main(_plan(BASIC, "--policy-config", str(fifo))) == 2
    line = _one_line(capsys)
    assert f"--policy-config {fifo}: cannot read: not a regular file" in line


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_as_policy_config_is_refused(device: str, capsys: pytest.CaptureFixture[str]) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    assert main(_plan(BASIC, "--policy-config", device)) == 2
    assert f"--policy-config {device}: cannot read: not a regular file" in _one_line(capsys)


def test_a_directory_as_policy_config_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_plan(BASIC, "--policy-config", str(tmp_path))) == 2
    assert "cannot read: a directory" in _one_line(capsys)


def test_a_huge_policy_config_is_refused_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.json"
    with path.open("wb") as fh:
        fh.truncate(4 * 1024**3)
    assert main(_plan(BASIC, "--policy-config", str(path))) == 2
    assert "more than the 16,777,216 a file may have" in _one_line(capsys)


def test_deeply_nested_policy_config_json_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"all": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(_plan(BASIC, "--policy-config", str(path))) == 2
    line = _one_line(capsys)
    assert f"--policy-config {path}" in line
    assert "nested more than 100 levels deep" in line


def test_policy_config_that_is_not_utf8_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{"all": "\xff"}')
    assert main(_plan(BASIC, "--policy-config", str(path))) == 2
    assert "not UTF-8" in _one_line(capsys)


def test_an_unreadable_policy_config_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(0)
    assert main(_plan(BASIC, "--policy-config", str(path))) == 2
    assert "Permission denied" in _one_line(capsys)


# ------------------------------------------------------------------ --stack-outputs


def test_a_fifo_as_stack_outputs_is_refused(fifo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_plan(BASIC, "--stack-outputs", f"org/net/prod={fifo}")) == 2
    line = _one_line(capsys)
    assert "--stack-outputs org/net/prod" in line
    assert "not a regular file" in line


# ------------------------------------------------------------------ the pack's own files


def test_an_unreadable_pack_manifest_is_bad_input_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Running as root, chmod 0 does not stop a read: a FIFO in the manifest's place is an
    # unreadable file for everyone (and used to block the run before any timeout started).
    pack = tmp_path / "pack"
    shutil.copytree(GOOD, pack, symlinks=True)
    (pack / "PulumiPolicy.yaml").unlink()
    os.mkfifo(pack / "PulumiPolicy.yaml")
    args = _plan(BASIC)
    args[args.index(str(GOOD))] = str(pack)
    assert main(args) == 2
    line = _one_line(capsys)
    assert "PulumiPolicy.yaml" in line
    assert "not a regular file" in line


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"bucket-us-only": "sometimes"}, "bucket-us-only"),
        ({"bucket-us-only": 7}, "bucket-us-only"),
        ({"no-such-policy": "disabled"}, "no-such-policy"),
    ],
)
def test_a_policy_config_error_names_the_file_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: dict[str, object], key: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert main(_plan(BASIC, "--policy-config", str(path))) == 2
    line = _one_line(capsys)
    assert line.startswith(f"preflight: error: --policy-config {path}: {key}")
