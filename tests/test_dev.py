"""dev.py: the Python versions it accepts, the stack flags as Pulumi users type them, and the
pulumi commands it builds (always with the pack and the stack's own generated config)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "dev.py"


def _load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_under_test", DEV)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load_dev()


def _generated(stack: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "stacks.policy_config", "--stack", stack],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


# ---- Python versions ------------------------------------------------------------------------


@pytest.mark.parametrize("version", [(3, 11), (3, 12), (3, 13)])
def test_python_3_11_to_3_13_are_accepted(version: tuple[int, int]) -> None:
    assert dev.check_python(version) is None


@pytest.mark.parametrize("version", [(3, 10), (3, 14), (2, 7)])
def test_other_pythons_are_refused_with_the_supported_range(version: tuple[int, int]) -> None:
    assert dev.check_python(version) == (
        f"dev.py: Python 3.11 to 3.13 is required (this is {version[0]}.{version[1]})"
    )


def test_requires_python_says_the_same_range_as_dev_py() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    (lo_major, lo_minor), (hi_major, hi_minor) = dev.SUPPORTED_PYTHON
    assert project["requires-python"] == f">={lo_major}.{lo_minor},<{hi_major}.{hi_minor + 1}"


# ---- stack flags ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--stack=staging"],
        ["--stack", "staging"],
        ["-s", "staging"],
        ["-s=staging"],
        ["--yes", "-s", "staging", "--diff"],
        ["--stack", "staging", "-s", "staging"],  # the same stack twice is still one stack
    ],
)
def test_stack_flag_spellings_all_name_the_stack(args: list[str]) -> None:
    stack, rest = dev.split_stack(args, "prod")
    assert stack == "staging"
    assert all("stack" not in a and a != "-s" for a in rest)
    assert rest == [a for a in args if a in ("--yes", "--diff")]


def test_no_stack_named_is_the_default_or_a_usage_error() -> None:
    assert dev.split_stack(["--format", "json"], "prod") == ("prod", ["--format", "json"])
    with pytest.raises(dev.UsageError, match="name the stack"):
        dev.split_stack(["--yes"], None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack"], "--stack needs a stack name"),
        (["-s", "--yes"], "-s needs a stack name"),
        (["--stack=prod", "-s", "staging"], "two stacks named (prod, staging)"),
        (["--stack", "../prod"], "'../prod' is not a stack name"),
        (["--policy-pack-config", "mine.json"], "--policy-pack-config is not accepted"),
        (["--policy-pack-config=mine.json"], "--policy-pack-config is not accepted"),
        (["--policy-pack", "other"], "--policy-pack is not accepted"),
        (["--policy-config", "mine.json"], "--policy-config is not accepted"),
    ],
)
def test_bad_flags_are_one_clear_usage_error(args: list[str], message: str) -> None:
    with pytest.raises(dev.UsageError) as e:
        dev.split_stack(args, "prod")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_arguments_after_a_double_dash_are_left_alone() -> None:
    assert dev.split_stack(["-s", "prod", "--", "-s", "x"], None) == ("prod", ["--", "-s", "x"])


# ---- plan: the named stack's own config (it used to be prod's for --stack=staging) ---------------


@pytest.mark.parametrize("spelling", [["--stack=staging"], ["-s", "staging"], ["--stack", "staging"]])
def test_plan_of_staging_uses_staging_policy_config(
    spelling: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    real_call = subprocess.call

    def fake_call(cmd: list[str], **kw: Any) -> int:
        if cmd[1:3] == ["-m", "stacks.policy_config"]:
            return real_call([sys.executable, *cmd[1:]], **kw)  # really generate it
        calls.append(cmd)
        return 0

    monkeypatch.setattr(dev.subprocess, "call", fake_call)
    monkeypatch.setattr(dev, "bootstrap", lambda **_: None)
    assert dev.main(["plan", *spelling, "--format", "json"]) == 0
    [cmd] = calls
    assert cmd[1:4] == ["plan", "--stack", "staging"]
    config = Path(cmd[cmd.index("--policy-config") + 1])
    assert config.name == "policy-config.staging.json"
    assert json.loads(config.read_text()) == _generated("staging")
    assert json.loads(config.read_text()) != _generated("prod")
    assert cmd[-2:] == ["--format", "json"]
    assert cmd.count("--stack") == 1 and "--stack=staging" not in cmd


def test_plan_refuses_a_policy_config_of_ones_own(capsys: pytest.CaptureFixture[str]) -> None:
    assert dev.main(["plan", "--policy-config", "mine.json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--policy-config is not accepted" in err


# ---- preview / up / refresh through a fake `pulumi` on PATH ------------------------------------


def _fake_pulumi(bin_dir: Path, record: Path) -> None:
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv))\n"
        "sys.exit(7)\n"
    )
    script.chmod(0o755)


def _run_dev(args: list[str], path: str) -> subprocess.CompletedProcess[str]:
    # dev.py must not rebuild the environment this suite runs in (dev.py ENV_READY).
    env = {**os.environ, "PATH": path, "USDR_DEV_ENV_READY": "1"}
    return subprocess.run(
        [sys.executable, str(DEV), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("action", "args", "stack", "rest"),
    [
        ("preview", ["--stack=staging", "--diff"], "staging", ["--diff"]),
        ("up", ["-s", "staging", "--yes"], "staging", ["--yes"]),
        ("refresh", ["--stack", "prod", "--preview-only"], "prod", ["--preview-only"]),
    ],
)
def test_pulumi_actions_always_pass_the_pack_and_the_stacks_generated_config(
    action: str, args: list[str], stack: str, rest: list[str], tmp_path: Path
) -> None:
    record = tmp_path / "argv.json"
    _fake_pulumi(tmp_path / "bin", record)
    proc = _run_dev([action, *args], f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 7, proc.stderr  # pulumi's own exit code is passed on
    argv = json.loads(record.read_text())
    assert argv[1:4] == [action, "--stack", stack]
    assert argv[argv.index("--policy-pack") + 1] == str(ROOT / "policies")
    config = Path(argv[argv.index("--policy-pack-config") + 1])
    assert config.name == f"policy-config.{stack}.json"
    assert json.loads(config.read_text()) == _generated(stack)
    assert argv[-len(rest) :] == rest
    assert argv.count("--stack") == 1


def test_pulumi_action_without_a_stack_is_refused(tmp_path: Path) -> None:
    record = tmp_path / "argv.json"
    _fake_pulumi(tmp_path / "bin", record)
    proc = _run_dev(["up", "--yes"], f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 2
    assert proc.stderr == "dev.py: name the stack: --stack NAME (or -s NAME)\n"
    assert not record.exists()


def test_pulumi_action_refuses_a_users_policy_pack_config(tmp_path: Path) -> None:
    record = tmp_path / "argv.json"
    _fake_pulumi(tmp_path / "bin", record)
    proc = _run_dev(
        ["preview", "-s", "prod", "--policy-pack-config", "mine.json"],
        f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--policy-pack-config is not accepted" in proc.stderr
    assert not record.exists()


def test_without_the_pulumi_cli_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _run_dev(["up", "--stack", "staging", "--yes"], str(empty))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("dev.py: the Pulumi CLI (`pulumi`) is not on PATH")
    assert "Traceback" not in proc.stderr


def test_an_unknown_stack_is_bad_input_before_pulumi_runs(tmp_path: Path) -> None:
    record = tmp_path / "argv.json"
    _fake_pulumi(tmp_path / "bin", record)
    proc = _run_dev(["up", "-s", "nosuch"], f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert not record.exists()


@pytest.mark.parametrize("action", ["preview", "up", "refresh"])
def test_a_state_backend_outside_the_us_is_refused_before_pulumi_runs(action: str, tmp_path: Path) -> None:
    """PULUMI_BACKEND_URL beats Pulumi.yaml's pinned backend.url for the CLI: dev.py checks the
    one the CLI would use (stacks/state_backend.py) and never starts the CLI on a foreign one."""
    record = tmp_path / "argv.json"
    _fake_pulumi(tmp_path / "bin", record)
    frankfurt = (
        "s3://usdr-pulumi-state?endpoint=ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com"
        "&region=eu-frankfurt-1&s3ForcePathStyle=true&profile=usdr-state"
    )
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env |= {"USDR_DEV_ENV_READY": "1", "PULUMI_BACKEND_URL": frankfurt}
    proc = subprocess.run(
        [sys.executable, str(DEV), action, "-s", "staging"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "state backend (PULUMI_BACKEND_URL): usdr-pulumi-state: the state would live"
    )
    assert proc.stderr.count("\n") == 1 and not record.exists()


def _fake_pulumi_json(bin_dir: Path) -> None:
    """A `pulumi` that answers like `pulumi refresh --preview-only --json`."""
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(
        f"#!{sys.executable}\nimport json\nprint(json.dumps({{'changeSummary': {{'same': 3}}}}))\n"
    )
    script.chmod(0o755)


def test_pulumi_actions_keep_stdout_for_pulumi(tmp_path: Path) -> None:
    """The `+ pulumi ...` trace goes to stderr, so `dev.py refresh --json > file` is JSON."""
    _fake_pulumi_json(tmp_path / "bin")
    proc = _run_dev(
        ["refresh", "--stack", "prod", "--preview-only", "--json"],
        f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"changeSummary": {"same": 3}}
    assert proc.stderr.startswith("+ pulumi refresh --stack prod ")


@pytest.mark.parametrize(
    ("task", "checkov"),
    [("preview", False), ("up", False), ("refresh", False), ("gate", True), ("plan", True)],
)
def test_only_tasks_that_run_checkov_build_its_environment(
    task: str, checkov: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    monkeypatch.setattr(dev, "_ensure_env", lambda env, *_a, **_k: built.append(env.name))
    monkeypatch.setattr(dev, "sync_project_env", lambda: built.append(".venv"))
    monkeypatch.setattr(dev, "sync_pack_env", lambda _uv: built.append("policies/.venv"))
    monkeypatch.setattr(dev.subprocess, "call", lambda *_a, **_k: 0)
    monkeypatch.setattr(dev.shutil, "which", lambda _name: "/usr/bin/pulumi")
    monkeypatch.setattr(dev, "policy_config", lambda stack: tmp_path / f"{stack}.json")
    assert dev.main([task, "--stack", "staging"]) == 0
    assert built == ([".venv", "policies/.venv", ".venv-checkov"] if checkov else [".venv", "policies/.venv"])


def test_bootstrap_syncs_the_packs_own_virtualenv_and_never_through_an_old_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PulumiPolicy.yaml's `virtualenv: .venv` is the pack's own, `uv sync --locked` in policies/
    with UV_PROJECT_ENVIRONMENT set to it (what the CLI's uv toolchain runs). A link left by an
    older bootstrap (to ../.venv) is removed first: an exact sync through it would strip the
    project's environment to the pack's dependencies."""
    project_env = tmp_path / "project-venv"
    (project_env / "keep").mkdir(parents=True)
    link = tmp_path / "policies" / ".venv"
    link.parent.mkdir()
    link.symlink_to(project_env, target_is_directory=True)
    monkeypatch.setattr(dev, "PACK_VENV", link)
    monkeypatch.setattr(dev, "PACK_DIR", link.parent)
    monkeypatch.delenv(dev.ENV_READY, raising=False)
    calls: list[tuple[list[str], str, str]] = []

    def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        calls.append((cmd, str(cwd), env["UV_PROJECT_ENVIRONMENT"]))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(dev.subprocess, "run", run)
    dev.sync_pack_env("/opt/uv")
    assert not link.is_symlink() and (project_env / "keep").is_dir()
    assert calls == [
        (
            ["/opt/uv", "sync", "--locked", "--quiet", "--compile-bytecode", "--python", sys.executable],
            str(link.parent),
            str(link),
        )
    ]
    monkeypatch.setattr(dev.subprocess, "run", lambda cmd, **_k: subprocess.CompletedProcess(cmd, 1))
    with pytest.raises(SystemExit, match=r"command failed \(1\): /opt/uv sync --locked .*\(in policies/\)"):
        dev.sync_pack_env("/opt/uv")
    # In this checkout the pack's environment is a real one, not the project's.
    pack_env = ROOT / "policies" / ".venv"
    assert pack_env.is_dir() and not pack_env.is_symlink()
    assert pack_env.resolve() != (ROOT / ".venv").resolve()


# ---- uv: the toolchain Pulumi.yaml names, and the bootstrap's `uv sync --locked` ----------------


def _fake_uv(bin_dir: Path, version: str, record: Path) -> Path:
    bin_dir.mkdir(parents=True)
    script = bin_dir / "uv"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"if sys.argv[1:] == ['--version']: print('uv {version} (x86_64-unknown-linux-gnu)')\n"
        "else:\n"
        f"    out = open({str(record)!r}, 'w')\n"
        "    out.write(json.dumps([sys.argv, os.environ.get('UV_PROJECT_ENVIRONMENT')]))\n"
    )
    script.chmod(0o755)
    return script


def test_pulumi_yaml_names_uv_with_the_venv_the_bootstrap_builds() -> None:
    """The CLI's uv toolchain runs `uv sync` in the project folder with UV_PROJECT_ENVIRONMENT set
    to `virtualenv` (pulumi/pulumi sdk/python/toolchain/uv.go): the same .venv as dev.py's."""
    import yaml

    spec = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert spec["runtime"] == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    assert ROOT / spec["runtime"]["options"]["virtualenv"] == dev.PROJECT_VENV
    assert (ROOT / "uv.lock").is_file() and not (ROOT / "requirements.lock").exists()


def test_the_dev_tools_are_the_default_dependency_group_and_locked_as_pinned() -> None:
    """`uv sync` (the CLI's) and `uv sync --locked` (dev.py's) both install the `dev` group, so they
    make the same environment; every exact pin in pyproject.toml is the version uv.lock holds."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "optional-dependencies" not in pyproject["project"]
    dev_group = pyproject["dependency-groups"]["dev"]
    assert {canonicalize_name(Requirement(r).name) for r in dev_group} >= {"pytest", "ruff", "mypy"}
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked = {canonicalize_name(p["name"]): p["version"] for p in lock["package"]}
    for text in [*pyproject["project"]["dependencies"], *dev_group]:
        req = Requirement(text)
        [spec] = req.specifier
        assert spec.operator == "==", f"{text}: pinned exactly"
        assert locked[canonicalize_name(req.name)] == spec.version, f"{text}: uv.lock has another version"
    [project] = [p for p in lock["package"] if p["name"] == pyproject["project"]["name"]]
    assert project["source"] == {"editable": "."}  # the project itself, editable (.venv/bin/preflight)


def test_the_bootstrapped_uv_is_the_required_version() -> None:
    """uv-bootstrap.lock pins the uv dev.py installs; pyproject's required-version admits it."""
    pins = [line for line in (ROOT / "uv-bootstrap.lock").read_text().splitlines() if line.startswith("uv==")]
    [pin] = pins
    pinned = dev._version("uv " + pin.removeprefix("uv==").split()[0])
    assert pinned is not None and pinned >= dev.required_uv()
    assert "--hash=sha256:" in (ROOT / "uv-bootstrap.lock").read_text()


def test_uv_on_path_of_the_required_version_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uv = _fake_uv(tmp_path / "bin", ".".join(map(str, dev.required_uv())), tmp_path / "argv.json")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(dev, "_ensure_env", lambda *_a: pytest.fail("no uv bootstrap when PATH has one"))
    assert dev.find_uv() == str(uv)


@pytest.mark.parametrize("on_path", [None, "0.4.30"])
def test_without_a_usable_uv_the_pinned_one_is_installed(
    on_path: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if on_path is not None:
        _fake_uv(tmp_path / "bin", on_path, tmp_path / "argv.json")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    built: list[tuple[Path, Path]] = []
    monkeypatch.setattr(dev, "_ensure_env", lambda env, lock: built.append((env, lock)))
    assert dev.find_uv() == str(dev.UV_VENV / "bin" / "uv")
    assert built == [(dev.UV_VENV, ROOT / "uv-bootstrap.lock")]


def test_sync_is_locked_into_the_project_venv_with_this_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "argv.json"
    uv = _fake_uv(tmp_path / "bin", "99.0.0", record)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("UV_PROJECT_ENVIRONMENT", str(tmp_path / "elsewhere"))
    monkeypatch.delenv(dev.ENV_READY, raising=False)
    assert dev.sync_project_env() == str(uv)
    argv, project_env = json.loads(record.read_text())
    assert argv[1:] == ["sync", "--locked", "--quiet", "--compile-bytecode", "--python", sys.executable]
    assert project_env == str(dev.PROJECT_VENV)


def test_the_suites_environment_is_never_synced_under_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "argv.json"
    _fake_uv(tmp_path / "bin", "99.0.0", record)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv(dev.ENV_READY, "1")
    dev.sync_project_env()
    assert not record.exists()


def test_pulumi_actions_give_the_cli_the_uv_dev_py_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """toolchain: uv makes the CLI's language host run `uv`; the one bootstrapped into
    .venv-uv/ is not on the user's PATH unless dev.py puts it there."""
    seen: list[str] = []
    monkeypatch.setattr(dev, "UV_USED", str(tmp_path / "uvbin" / "uv"))
    monkeypatch.setattr(dev.shutil, "which", lambda _name: "/usr/bin/pulumi")
    monkeypatch.setattr(dev, "policy_config", lambda stack: tmp_path / f"{stack}.json")
    monkeypatch.setattr(dev, "state_backend", lambda _args: 0)
    monkeypatch.setattr(dev.subprocess, "call", lambda _cmd, **kw: seen.append(kw["env"]["PATH"]) or 0)
    assert dev.TASKS["preview"](["--stack", "staging"]) == 0
    assert seen[0].split(os.pathsep)[0] == str(tmp_path / "uvbin")
