"""diff's base worktree outlives a SIGKILLed diff only until the next diff (issue 15 item 6).

A diff killed with SIGKILL cannot clean up: its worktree stays registered in `.git/worktrees`
and its temp dir stays on disk, and `git worktree prune` alone keeps it (the directory still
exists). The next diff removes worktrees it locked for a process that is gone, and leaves a live
diff's worktree and anyone else's alone.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from preflight.diff import base_worktree, prune_stale_worktrees


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _repo(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "file.txt").write_text("base\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo, _git(repo, "rev-parse", "HEAD").strip()


def _worktrees(repo: Path) -> list[str]:
    listing = _git(repo, "worktree", "list", "--porcelain")
    return [ln.split(" ", 1)[1] for ln in listing.splitlines() if ln.startswith("worktree ")][1:]


KILLED_DIFF = """
import os, signal, sys
from pathlib import Path
from preflight.diff import base_worktree
with base_worktree(Path(sys.argv[1]), sys.argv[2]) as tree:
    print(tree, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_next_diff_removes_the_worktree_of_a_diff_killed_with_sigkill(tmp_path: Path) -> None:
    repo, sha = _repo(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_DIFF, str(repo), sha], capture_output=True, text=True, check=False
    )
    assert proc.returncode == -signal.SIGKILL
    stale = Path(proc.stdout.strip())
    assert [str(stale)] == _worktrees(repo), "the killed diff's worktree should still be registered"
    assert stale.is_dir()
    _git(repo, "worktree", "prune")
    assert _worktrees(repo) == [str(stale)], "plain prune keeps it: the directory still exists"

    with base_worktree(repo, sha) as tree:
        assert _worktrees(repo) == [str(tree)]
        assert (tree / "file.txt").read_text() == "base\n"
    assert _worktrees(repo) == []
    assert not stale.exists()
    assert not stale.parent.exists(), "the killed diff's temp dir is removed too"


def test_a_live_diffs_worktree_and_other_worktrees_are_left_alone(tmp_path: Path) -> None:
    repo, sha = _repo(tmp_path)
    mine = tmp_path / "users-own-worktree"
    _git(repo, "worktree", "add", "--detach", "-q", str(mine), sha)
    locked = tmp_path / "locked-by-user"
    _git(repo, "worktree", "add", "--detach", "-q", "--lock", "--reason", "do not touch", str(locked), sha)
    with base_worktree(repo, sha) as live:
        # Another diff starting now (this process is alive) must not take the live one away.
        assert prune_stale_worktrees(repo) == []
        assert sorted(_worktrees(repo)) == sorted([str(mine), str(locked), str(live)])
        assert live.is_dir()
    assert sorted(_worktrees(repo)) == sorted([str(mine), str(locked)])
