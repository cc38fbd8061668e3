"""The residency attestation: what data lives where, under which key, checked by which pack, sealed.

    preflight gate --stack prod --attestation out/attestation.json
    preflight verify out/attestation.json        # 0 intact, 1 modified, 2 unreadable

Content (schema `preflight.residency-attestation/v1`): project, stack, the date it speaks
for, git commit of the project (or "unknown") and whether the tree had local changes, the
policy pack (name, version, content hash), the verdict, every data-bearing resource with
region, realm, jurisdiction, key and key region, replication edges, legacy replicas with mode
and sunset, and the waivers that findings were downgraded by.

`sha256` is the SHA-256 of the canonical JSON of everything else (keys sorted, no
whitespace, UTF-8): `verify` recomputes it, so any edit to the content, or to the recorded
hash, is detected. It is a seal against accidental or careless edits, not a signature: anyone
can recompute it. Sign the file (e.g. with the CI's artifact attestation) for provenance.

No clock time goes in: the same commit, stack and pack give the same attestation and hash.
`as_of` is the date the verdict holds for (waivers expire): SOURCE_DATE_EPOCH when set, so a
build can be reproduced, else today (UTC).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from preflight.errors import EXIT_BAD_INPUT, EXIT_BLOCKED, EXIT_OK
from preflight.inventory import Inventory
from preflight.model import Finding

SCHEMA = "preflight.residency-attestation/v1"


def canonical(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def seal(content: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in content.items() if k != "sha256"}
    return {**body, "sha256": hashlib.sha256(canonical(body)).hexdigest()}


def as_of() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).date().isoformat()
    return datetime.now(UTC).date().isoformat()


def git_state(directory: Path) -> dict[str, Any]:
    """{"commit": sha or "unknown", "dirty": bool | None} of the git work tree holding `directory`."""

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {"commit": "unknown", "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def build_attestation(
    *,
    project: str,
    stack: str,
    project_dir: Path,
    inventory: Inventory,
    findings: Iterable[Finding],
    pack: dict[str, Any] | None,
    checkov: str,
    tool_version: str,
    policies: Iterable[dict[str, Any]] = (),
    program_ended: str = "",
) -> dict[str, Any]:
    found = list(findings)
    blocking = [f for f in found if f.blocking]
    content: dict[str, Any] = {
        "schema": SCHEMA,
        "generator": f"preflight {tool_version}",
        "project": project,
        "stack": stack,
        "as_of": as_of(),
        "git": git_state(project_dir),
        "policy_pack": pack,
        "checkov": checkov,
        # The enforcement the pack ran with, as the policy config set it: an auditor sees a gate
        # that passed because its policies were switched off.
        "policies": _policy_state(policies),
        # How the program ended: "exited(0) after N resources" means it stopped itself part way.
        "program_ended": program_ended,
        "verdict": {
            "passed": not blocking,
            "blocking": len(blocking),
            "mandatory": sum(1 for f in found if f.enforcement == "mandatory"),
            "advisory": sum(1 for f in found if f.enforcement == "advisory"),
            "suppressed": sum(1 for f in found if f.suppressed is not None),
        },
        "data_resources": [d.to_dict() for d in inventory.data],
        "replication_edges": [e.to_dict() for e in inventory.edges],
        "legacy_replicas": [r.to_dict() for r in inventory.legacy],
        "waivers_used": [w.to_dict() for w in inventory.waivers],
    }
    return seal(content)


def _policy_state(policies: Iterable[dict[str, Any]]) -> dict[str, Any]:
    listed = list(policies)
    disabled = sorted(str(p.get("name")) for p in listed if p.get("enforcement") == "disabled")
    return {"total": len(listed), "disabled_count": len(disabled), "disabled": disabled}


def write(attestation: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(attestation, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def verify(path: Path) -> tuple[int, str]:
    """(exit code, one line): 0 the content matches its sha256, 1 it does not, 2 unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return EXIT_BAD_INPUT, f"{path}: no such file"
    except (OSError, UnicodeDecodeError) as exc:
        return EXIT_BAD_INPUT, f"{path}: cannot read: {exc}"
    except ValueError as exc:
        return EXIT_BAD_INPUT, f"{path}: not JSON: {exc}"
    if not isinstance(data, dict) or not isinstance(data.get("sha256"), str):
        return EXIT_BAD_INPUT, f"{path}: not a residency attestation (no sha256)"
    if data.get("schema") != SCHEMA:
        return EXIT_BAD_INPUT, f"{path}: schema {data.get('schema')!r} is not {SCHEMA}"
    recorded = data["sha256"]
    actual = seal(data)["sha256"]
    if recorded != actual:
        return (
            EXIT_BLOCKED,
            f"{path}: MODIFIED: content sha256 {actual} does not match the recorded {recorded}",
        )
    verdict = data.get("verdict") or {}
    passed = "passed" if verdict.get("passed") else "blocked"
    commit = str((data.get("git") or {}).get("commit", "unknown"))[:12]
    return (
        EXIT_OK,
        f"{path}: intact (sha256 {actual}); {data.get('project')}/{data.get('stack')} {passed} at {commit}",
    )
