"""What the attestation tests share: the CLI run as a user runs it, and a waived finding."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from preflight.model import Finding, ResourceRecord

ROOT = Path(__file__).resolve().parents[2]


def preflight_cli(*args: object) -> subprocess.CompletedProcess[str]:
    """`python -m preflight ARGS` from the repository root, output captured, never raising."""
    return subprocess.run(
        [sys.executable, "-m", "preflight", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def waived_finding(record: ResourceRecord, waiver: str = "legacy") -> Finding:
    """The advisory finding residency-waived reports for `record` under `waiver`."""
    return Finding(
        source="fixture-pack",
        policy="residency-waived",
        enforcement="advisory",
        severity="high",
        urn=record.urn,
        type=record.type,
        name=record.name,
        region=record.region,
        message=f"waived by waiver {waiver!r}",
        location=record.location,
        waiver=waiver,
    )
