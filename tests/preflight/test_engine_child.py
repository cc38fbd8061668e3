"""The synthesis child as an attacker or a careless program would stress it (issue 15 items 3, 4,
8, 12, 14): the process group preflight owns, the timeout over that group, config too large
for the environment, an early exit, and program output that tries to pass for preflight's.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from preflight.engine.child import PROGRAM_PREFIX
from preflight.errors import InternalFailure
from preflight.synth import synthesize, synthesize_isolated

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "packs" / "good"

pytestmark = pytest.mark.slow

HEAD = """import pulumi
import pulumi_oci as oci


def bucket(name):
    return oci.objectstorage.Bucket(
        name, compartment_id="ocid1.compartment.oc1..aaaaaaaafixture", name=name, namespace="fixture"
    )

"""


def project(tmp_path: Path, body: str, region: str = "us-ashburn-1") -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: fixture-child\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.dev.yaml").write_text(f"config:\n  oci:region: {region}\n", encoding="utf-8")
    (tmp_path / "__main__.py").write_text(HEAD + body, encoding="utf-8")
    return tmp_path


def gate(project_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    cmd = [sys.executable, "-m", "preflight", "gate", "--project-dir", str(project_dir), "--stack", "dev"]
    cmd += ["--policy-pack", str(GOOD), "--no-checkov", "--no-progress", "--format", "json", *extra]
    return subprocess.run(
        cmd,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def alive(pid: int, settle: float = 2.0) -> bool:
    """Is `pid` still running `settle` seconds from now? (A SIGKILLed process needs a moment to be
    scheduled out on a loaded machine; one that was never signalled is still there after it.)"""
    deadline = time.monotonic() + settle
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _running(pid)


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_config_over_128_kib_does_not_travel_in_the_environment() -> None:
    """Linux refuses to exec with one environment string over 128 KiB (MAX_ARG_STRLEN): with
    the config in PULUMI_CONFIG the program's own subprocess failed with E2BIG and synthesis
    stopped there. The bucket it then declares is in Singapore: synthesis must get that far
    and record where it is. (The policy pack's start is analyze.py's side of the same limit.)"""
    for run in (synthesize, synthesize_isolated):
        result = run(FIXTURES / "bigconfig", "dev")
        far = next(r for r in result.resources if r.name == "far")
        assert far.inputs["metadata"] == {"size": "200000"}
        assert far.region == "ap-singapore-1"


def test_a_daemon_holding_the_pipes_is_ended_and_reported(tmp_path: Path) -> None:
    """A process the program starts inherits stderr (and, started with close_fds=False, the
    record stream): the run ends when the program does, the daemon with it, and it is named."""
    pid_file = tmp_path / "daemon.pid"
    body = (
        "import subprocess, sys\n"
        "d = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], close_fds=False)\n"
        f"open({str(pid_file)!r}, 'w').write(str(d.pid))\n"
        "bucket('data')\n"
    )
    started = time.monotonic()
    result = synthesize_isolated(project(tmp_path, body), "dev", timeout=60)
    assert time.monotonic() - started < 30
    daemon = int(pid_file.read_text())
    assert not alive(daemon), "the daemon outlived the run"
    assert any("left 1 process(es) running" in w and str(daemon) in w for w in result.warnings), (
        result.warnings
    )


def test_the_timeout_holds_for_the_whole_process_group(tmp_path: Path) -> None:
    """`--synth-timeout` while a daemon holds the output pipe: the limit is the group's, and
    nothing the program started survives it."""
    pid_file = tmp_path / "daemon.pid"
    body = (
        "import subprocess, sys, time\n"
        "d = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], close_fds=False)\n"
        f"open({str(pid_file)!r}, 'w').write(str(d.pid))\n"
        "bucket('data')\n"
        "time.sleep(120)\n"
    )
    started = time.monotonic()
    # 15 s: importing pulumi_oci alone takes several seconds on a loaded 2-core CI machine, and
    # the daemon must have started before the limit for the test to mean anything.
    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(project(tmp_path, body), "dev", timeout=15)
    assert time.monotonic() - started < 15 + 5
    assert "took longer than 15s" in err.value.message
    time.sleep(0.2)
    assert not alive(int(pid_file.read_text()))


def test_interrupting_the_reader_ends_the_group(tmp_path: Path) -> None:
    """An interrupt while records stream in (a CI cancel reaching preflight) ends the child and
    what the program started, not only the child."""
    pid_file = tmp_path / "daemon.pid"
    body = (
        "import subprocess, sys, time\n"
        "d = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(d.pid))\n"
        "bucket('data')\n"
        "time.sleep(120)\n"
    )

    def interrupt_when_started() -> None:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)  # a real signal: the blocked read returns to Python

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        synthesize_isolated(project(tmp_path, body), "dev", timeout=60)
    time.sleep(0.2)
    assert not alive(int(pid_file.read_text()))


def test_an_early_exit_0_is_said_and_no_resources_is_not_a_pass(tmp_path: Path) -> None:
    """sys.exit(0) part way is success to the engine: the result says how the run ended, and a
    run that declared nothing at all fails instead of gating green."""
    early = project(tmp_path, "")
    (early / "__main__.py").write_text(HEAD + "bucket('one')\nimport sys\nsys.exit(0)\nbucket('two')\n")
    result = synthesize(early, "dev")
    assert result.ended == "exited(0) after 1 resource"
    assert synthesize_isolated(early, "dev").ended == "exited(0) after 1 resource"
    (early / "__main__.py").write_text(HEAD + "bucket('one')\nbucket('two')\n")
    assert synthesize(early, "dev").ended == "completed after 2 resources"
    (early / "__main__.py").write_text(HEAD + "import sys\nsys.exit(0)\nbucket('one')\n")
    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(early, "dev")
    assert err.value.message == "the program registered no resources (ended: exited(0)): nothing to check"
    proc = gate(early)
    assert proc.returncode == 3
    assert proc.stdout == ""


def test_an_early_exit_is_said_in_the_report_and_the_attestation(tmp_path: Path) -> None:
    early = project(tmp_path, "bucket('one')\nimport sys\nsys.exit(0)\nbucket('two')\n")
    attestation = tmp_path / "attestation.json"
    proc = gate(early, "--attestation", str(attestation))
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["summary"]["program_ended"] == "exited(0) after 1 resource"
    assert json.loads(attestation.read_text())["predicate"]["program_ended"] == "exited(0) after 1 resource"
    text = gate(early, "--format", "text")  # the last --format wins, as argparse does
    assert "the program exited(0) after 1 resource: it ended itself" in " ".join(text.stdout.split())
    (early / "__main__.py").write_text(HEAD + "bucket('one')\n")
    assert json.loads(gate(early).stdout)["summary"]["program_ended"] == "completed after 1 resource"
    assert "ended itself" not in gate(early, "--format", "text").stdout


def test_the_programs_output_cannot_forge_preflights_verdict(tmp_path: Path) -> None:
    """What the program prints is shown, each line prefixed; a line it prints that looks like
    preflight's own is neither taken as the error nor shown bare."""
    body = (
        "import sys\n"
        "print('preflight: error: forged verdict')\n"
        "print('preflight: gate passed, 0 blocking', file=sys.stderr)\n"
        "bucket('far')\n"
    )
    out = io.StringIO()
    result = synthesize_isolated(project(tmp_path, body, "ap-singapore-1"), "dev", program_output=out)
    assert [r.name for r in result.resources if r.name == "far"] == ["far"]
    shown = out.getvalue().splitlines()
    assert PROGRAM_PREFIX + "preflight: error: forged verdict" in shown
    assert PROGRAM_PREFIX + "preflight: gate passed, 0 blocking" in shown
    proc = gate(tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert "preflight: error: forged verdict" not in lines
    assert "preflight: gate passed, 0 blocking" not in lines
    (tmp_path / "__main__.py").write_text(
        HEAD + "print('preflight: error: forged')\nraise ValueError('real')\n"
    )
    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(tmp_path, "dev")
    assert err.value.message == "program error: __main__.py:11: ValueError: real"


def test_a_killed_preflight_leaves_no_program_processes_behind(tmp_path: Path) -> None:
    """SIGTERM (a CI cancel) or SIGKILL of preflight itself: no `finally` runs in it, so the
    child watches its parent and ends the group it leads, the program's daemon included."""
    pid_file = tmp_path / "daemon.pid"
    body = (
        "import subprocess, sys, time\n"
        "d = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(d.pid))\n"
        "time.sleep(120)\n"
    )
    project(tmp_path, body)
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from preflight.synth import synthesize_isolated; synthesize_isolated({str(tmp_path)!r}, 'dev')",
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    parent.send_signal(signal.SIGTERM)
    parent.wait(timeout=10)
    daemon = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(daemon) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(daemon), "the program's daemon outlived preflight"


CONFIG_READING_PACK = """
import pulumi.runtime
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def sees_config(args, report):
    if args.resource_type == "oci:ObjectStorage/bucket:Bucket":
        blob = pulumi.runtime.get_config("fixture-bigconfig:blob") or ""
        region = pulumi.runtime.get_config("oci:region")
        report(f"pack saw {len(blob)} characters of blob and oci:region {region}")


PolicyPack(
    name="config-reader",
    policies=[
        ResourceValidationPolicy(
            name="sees-config",
            description="Reports the stack config the pack was given.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=sees_config,
        )
    ],
)
"""


def test_config_over_128_kib_reaches_the_policy_pack_whole(tmp_path: Path) -> None:
    """The engine hands a pack its stack config in PULUMI_CONFIG (analyzer_plugin.go,
    constructEnv): over 128 KiB, exec fails with E2BIG. preflight hands it over another way,
    the pack still sees every key through pulumi.runtime.get_config, and the report says that
    the CLI itself could not have started the pack."""
    from preflight.analyze import analyze
    from preflight.project import load_project, load_stack_config

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (pack / "__main__.py").write_text(CONFIG_READING_PACK)
    project = load_project(FIXTURES / "bigconfig")
    config = load_stack_config(project, "dev")
    synth = synthesize(FIXTURES / "bigconfig", "dev")
    result = analyze(
        synth.resources,
        pack_dir=pack,
        config=None,
        timeout=60,
        stack="dev",
        project=project.name,
        stack_config=config.wire(),
    )
    messages = [f.message for f in result.findings]
    assert any("pack saw 200000 characters of blob and oci:region ap-singapore-1" in m for m in messages), (
        messages
    )
    assert any("MAX_ARG_STRLEN" in n and "would fail to start this pack" in n for n in result.notes)
    assert not list(tmp_path.glob("preflight-pack-config-*"))
