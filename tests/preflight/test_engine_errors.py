"""The program's own error is the error (issue 11 item 7): the one line names the exception and
the program's file:line, even when it is raised inside an `apply` and when warnings such as
`RuntimeWarning: Enable tracemalloc ...` reached stderr after it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD = Path(__file__).parent / "fixtures" / "packs" / "good"
PROGRAM = """\
import gc
import pulumi_oci as oci


async def never() -> None:
    pass


never()  # RuntimeWarning: coroutine 'never' was never awaited; Enable tracemalloc ...
gc.collect()
bucket = oci.objectstorage.Bucket("b", compartment_id="ocid1.compartment.oc1..x", name="b", namespace="n")


def check(name: str) -> str:
    raise KeyError("replication-target")


bucket.name.apply(check)
"""


def test_an_exception_in_an_apply_is_named_with_its_line_not_the_last_stderr_line(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: warnraise\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  oci:region: us-ashburn-1\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    line = PROGRAM.splitlines().index('    raise KeyError("replication-target")') + 1
    cmd = [sys.executable, "-m", "preflight", "gate", "--project-dir", str(tmp_path), "--stack", "dev"]
    cmd += ["--policy-pack", str(GOOD), "--no-checkov", "--no-progress"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 3
    assert "program| RuntimeWarning: Enable tracemalloc" in proc.stderr  # it did reach stderr
    own = [ln for ln in proc.stderr.splitlines() if not ln.startswith("program| ")]
    assert own == [f"preflight: error: program error: __main__.py:{line}: KeyError: 'replication-target'"]
