"""Hostile input is bad input: exit 2, one line naming the option, file or key, nothing started.

Issue 15 items 9 (time limits), 10 (pack files and properties) and 11 (stack names). These run
`preflight.cli.main` in process: a usage error is decided before any child starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
BASIC = FIXTURES / "basic"
GOOD = FIXTURES / "packs" / "good"


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith("preflight: error: "), lines[0]
    return lines[0]


def _plan(*extra: str) -> list[str]:
    return ["plan", "--project-dir", str(BASIC), "--policy-pack", str(GOOD), "--no-checkov", *extra]


@pytest.mark.parametrize("option", ["--timeout", "--synth-timeout", "--checkov-timeout"])
@pytest.mark.parametrize(
    "value", ["nan", "NaN", "inf", "-inf", "Infinity", "0", "0.0", "-1", "-0.5", "ten", ""]
)
def test_a_time_limit_that_is_not_a_finite_positive_number_is_a_usage_error(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """float() accepts "nan" and "inf": `timeout <= 0` is False for NaN, so NaN used to pass the
    old check and mean "no limit" (queue.get(timeout=nan) / communicate(timeout=inf))."""
    code = main([*_plan("--stack", "dev"), f"{option}={value}"])
    assert code == 2
    assert option in _one_line(capsys)


@pytest.mark.parametrize("value", ["0.5", "1e3", "30"])
def test_a_finite_positive_time_limit_is_accepted(value: str) -> None:
    from preflight.cli import _seconds

    assert _seconds(value) == float(value)


@pytest.mark.parametrize(
    "name",
    [
        "../etc",
        "..\\etc",
        "a/b",
        "/etc/passwd",
        "dev/../../x",
        "",
        "dev x",
        "dév",
        "a" * 101,
        "dev\n",
        "dev;rm",
    ],
)
def test_a_stack_name_is_a_name_not_a_path(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Pulumi's rule (pulumi/pulumi pkg/backend/diy/backend.go validateStackName:
    `^[A-Za-z0-9_.-]{1,100}$`, slashes refused): preflight reads Pulumi.<NAME>.yaml, so a name
    with a separator could point it at any file."""
    code = main([*_plan("--stack", name)])
    assert code == 2
    assert "--stack" in _one_line(capsys)


@pytest.mark.parametrize("name", ["dev", "prod-eu_1.blue", "A" * 100])
def test_pulumis_valid_stack_names_pass_the_check(name: str) -> None:
    from preflight.cli import _stack_arg

    assert _stack_arg(name) == name


def test_a_stack_name_taken_from_a_config_file_name_is_checked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "Pulumi.d ev.yaml"
    bad.write_text("config: {}\n")
    code = main(["plan", "--project-dir", str(BASIC), "--config-file", str(bad), "--no-checkov"])
    assert code == 2
    assert "not a stack name" in _one_line(capsys)


def test_a_pack_dir_that_is_a_symlink_loop_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python 3.11's Path.resolve raises RuntimeError on a loop: it used to be an internal error (3)."""
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    code = main(
        [*_plan("--stack", "dev")[:3], "--stack", "dev", "--policy-pack", str(tmp_path / "a"), "--no-checkov"]
    )
    assert code == 2
    assert str(tmp_path / "a") in _one_line(capsys)


@pytest.mark.slow
def test_a_wrongly_typed_pack_property_is_bad_input_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fixture's `allowed` is `{"type": "array"}`; a number crashed the policy in Analyze (exit 3)."""
    config = tmp_path / "config.json"
    config.write_text('{"bucket-us-only": {"allowed": 5}}')
    code = main([*_plan("--stack", "dev", "--no-progress"), "--policy-config", str(config)])
    assert code == 2
    assert "bucket-us-only.allowed: 5 is not of type array" in _one_line(capsys)
