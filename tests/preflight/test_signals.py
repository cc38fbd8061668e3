"""A CI cancel (SIGTERM) or Ctrl-C (SIGINT) ends the whole run (issue 15, item 3).

Each case starts `preflight gate` with a marker in its environment (inherited by every child:
the synthesis child, the policy pack, checkov) and its own TMPDIR, waits for a stage, sends the
signal, and checks: one line, exit 3 ("nothing was checked", README "Signals"), promptly; no
process carrying the marker is left (read from /proc/*/environ); the TMPDIR is empty.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="/proc")]


def _marked(marker: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment carries the marker."""
    found = []
    needle = f"PREFLIGHT_TEST_MARKER={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                stat_fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if stat_fields[0] != "Z":  # a zombie is already ended, only not yet reaped
                    found.append(
                        (int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
                    )
        except OSError:
            continue
    return found


def _slow_checkov(directory: Path) -> Path:
    script = directory / "checkov"
    script.write_text(
        f"#!{sys.executable}\nimport subprocess, time\nsubprocess.Popen(['sleep', '300'])\ntime.sleep(300)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _wait_for(predicate, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("the stage was never reached")


@pytest.mark.parametrize(
    ("stage", "sig", "pack"),
    [
        ("pack-start", signal.SIGTERM, "good"),
        ("hung-pack", signal.SIGTERM, "hang"),
        ("checkov", signal.SIGTERM, "good"),
        ("checkov", signal.SIGINT, "good"),
    ],
)
def test_a_signal_ends_every_child_and_leaves_no_temp_dir(
    tmp_path: Path, stage: str, sig: signal.Signals, pack: str
) -> None:
    marker = uuid.uuid4().hex
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    env.update({"PREFLIGHT_TEST_MARKER": marker, "TMPDIR": str(tmpdir)})
    env["PREFLIGHT_CHECKOV"] = str(_slow_checkov(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "preflight", "gate", "--project-dir", str(FIXTURES / "basic"),
         "--stack", "dev",
         "--policy-pack", str(FIXTURES / "packs" / pack), "--no-progress", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        if stage == "pack-start":
            _wait_for(lambda: any("pulumi.policy" in c for _, c in _marked(marker)), 60)
        elif stage == "hung-pack":
            _wait_for(lambda: any("_synth" in c for _, c in _marked(marker)), 60)
            time.sleep(3)  # the program has registered its resources; their Analyze calls hang
        else:
            _wait_for(lambda: any("sleep 300" in c for _, c in _marked(marker)), 90)
        sent = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert proc.returncode == 3, err
    assert lines[-1] == f"preflight: error: interrupted by {sig.name}; nothing was checked", err
    assert "Traceback" not in err
    assert took < 5, f"took {took:.1f}s to stop after {sig.name}"
    time.sleep(0.3)
    assert _marked(marker) == [], "processes of the run survived"
    assert list(tmpdir.iterdir()) == [], "temporary files were left"


def _diff_repo(tmp_path: Path, program: str) -> Path:
    """A git repo holding a copy of the basic fixture whose program (both sides) runs `program`."""
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "basic", repo, ignore=shutil.ignore_patterns("__pycache__"))
    main = repo / "__main__.py"
    main.write_text(main.read_text() + program)
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    return repo


@pytest.mark.parametrize(
    ("stage", "sig"),
    [("program", signal.SIGTERM), ("checkov", signal.SIGTERM), ("program", signal.SIGINT)],
)
def test_a_signal_ends_a_diff_and_removes_its_worktree(
    tmp_path: Path, stage: str, sig: signal.Signals
) -> None:
    """diff runs both sides in worker threads: the signal must still end every child (the two
    synthesis children, packs, checkov), remove the base worktree and its temp dir, and exit 3."""
    hang = "import time\ntime.sleep(300)\n" if stage == "program" else ""
    repo = _diff_repo(tmp_path, hang)
    marker = uuid.uuid4().hex
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    env.update({"PREFLIGHT_TEST_MARKER": marker, "TMPDIR": str(tmpdir)})
    env["PREFLIGHT_CHECKOV"] = str(_slow_checkov(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "preflight", "diff", "--base", "HEAD", "--project-dir", str(repo),
         "--stack", "dev", "--policy-pack", str(FIXTURES / "packs" / "good"), "--timeout", "120"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        if stage == "program":
            _wait_for(lambda: sum("_synth" in c for _, c in _marked(marker)) >= 2, 60)
            time.sleep(2)  # both programs are in their sleep
        else:
            _wait_for(lambda: any("sleep 300" in c for _, c in _marked(marker)), 120)
        sent = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert proc.returncode == 3, err
    assert lines[-1] == f"preflight: error: interrupted by {sig.name}; nothing was checked", err
    assert "Traceback" not in err
    assert took < 5, f"took {took:.1f}s to stop after {sig.name}"
    time.sleep(0.3)
    assert _marked(marker) == [], "processes of the run survived"
    assert list(tmpdir.iterdir()) == [], "temporary files were left"
    listing = subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert listing.count("worktree ") == 1, listing
