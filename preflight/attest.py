"""The residency attestation: what data lives where, under which key, checked by which pack.

    preflight gate --stack prod --attestation out/residency.intoto.json                 # statement
    preflight gate --stack prod --attestation out/residency.dsse.json --sign-key k.pem  # signed
    preflight verify out/residency.dsse.json --public-key k.pub [--against .]

The attestation is an in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/
spec/v1/statement.md): `_type`, `subject` (what it speaks for, by digest), `predicateType` and
`predicate`. Its subjects: the git commit of the project (digest `gitCommit`, as the in-toto
digest set names it), the stack file, the policy pack (its content hash, analyze.
pack_content_hash) and the policy config the pack ran with, each by SHA-256. Its predicate,
type PREDICATE_TYPE, schema docs/attestation/residency-predicate-v1.schema.json: project,
stack, the date it speaks for, git commit and whether the tree had local changes, the policy
pack (name, version, content hash), the policies the config disabled, how the program ended,
the verdict, every data-bearing resource with region, realm, jurisdiction, key and key region,
replication edges, legacy replicas with mode and sunset, and the waivers findings were
downgraded by. `source` says whether it speaks for a plan (preflight's synthesis) or for a
deployed state (a `pulumi stack export`, preflight/attest_state.py).

Same inputs, same statement, byte for byte: canonical JSON (keys sorted, no whitespace,
UTF-8), subjects sorted, no clock time. `as_of` is the date the verdict holds for (waivers
expire): SOURCE_DATE_EPOCH when set, so a build can be reproduced, else today (UTC).

Signed, it is a DSSE envelope around those bytes (preflight/attest_sign.py). The old format
(`preflight.residency-attestation/v1`, sealed by a SHA-256 over its own content, which anyone
can recompute) is still read by `verify --allow-unsigned` and reported as unsigned.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from preflight.inventory import Inventory
from preflight.model import Finding

# The old self-sealed format's schema name (read by `verify --allow-unsigned` only).
SCHEMA = "preflight.residency-attestation/v1"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
# The residency predicate's type: a versioned URI this project owns (docs/attestation.md). A
# change that an old reader would misread gets a new version, never the same URI.
PREDICATE_TYPE = "https://github.com/us-data-residency/us-data-residency/attestation/residency/v1"
# The predicate's JSON Schema, shipped with preflight (verify checks every statement against it);
# docs/attestation/residency-predicate-v1.schema.json is the same file, for auditors
# (tests/preflight/test_attest_statement.py keeps the two identical).
PREDICATE_SCHEMA = Path(__file__).resolve().parent / "data" / "residency-predicate-v1.schema.json"

# Subject names: a prefix says what the digest is of, so `verify --against` knows how to check it.
COMMIT_SUBJECT = "git-commit"
STACK_FILE = "stack-file:"
POLICY_PACK = "policy-pack:"
POLICY_CONFIG = "policy-config:"
STATE_EXPORT = "state-export:"


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


def verdict_of(findings: Iterable[Finding]) -> dict[str, Any]:
    found = list(findings)
    return {
        "passed": not any(f.blocking for f in found),
        "blocking": sum(1 for f in found if f.blocking),
        "mandatory": sum(1 for f in found if f.enforcement == "mandatory"),
        "advisory": sum(1 for f in found if f.enforcement == "advisory"),
        "suppressed": sum(1 for f in found if f.suppressed is not None),
    }


def build_predicate(
    *,
    project: str,
    stack: str,
    project_dir: Path,
    inventory: Inventory,
    verdict: dict[str, Any] | None,
    pack: dict[str, Any] | None,
    checkov: str,
    tool_version: str,
    policies: Iterable[dict[str, Any]] = (),
    program_ended: str = "",
    source: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The residency predicate (its schema: PREDICATE_SCHEMA). `verdict` None: not judged (a
    deployed state's predicate: the pack judged the plan, attest_state compares the two)."""
    return {
        "generator": f"preflight {tool_version}",
        "source": dict(source) if source is not None else {"kind": "plan"},
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
        "verdict": verdict,
        "data_resources": [d.to_dict() for d in inventory.data],
        "replication_edges": [e.to_dict() for e in inventory.edges],
        "legacy_replicas": [r.to_dict() for r in inventory.legacy],
        "legacy_paths": [p.to_dict() for p in inventory.paths],
        "waivers_used": [w.to_dict() for w in inventory.waivers],
    }


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
    """The old self-sealed format (SCHEMA): the predicate's content and a SHA-256 over it. Not
    written by the CLI any more; kept so the reading of old files stays tested."""
    predicate = build_predicate(
        project=project,
        stack=stack,
        project_dir=project_dir,
        inventory=inventory,
        verdict=verdict_of(findings),
        pack=pack,
        checkov=checkov,
        tool_version=tool_version,
        policies=policies,
        program_ended=program_ended,
    )
    predicate.pop("source")
    return seal({"schema": SCHEMA, **predicate})


def _policy_state(policies: Iterable[dict[str, Any]]) -> dict[str, Any]:
    listed = list(policies)
    disabled = sorted(str(p.get("name")) for p in listed if p.get("enforcement") == "disabled")
    return {"total": len(listed), "disabled_count": len(disabled), "disabled": disabled}


# --------------------------------------------------------------------------- subjects


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (OSError if it cannot be read)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def relative_name(path: Path, project_dir: Path) -> str:
    """`path` relative to the project (POSIX), or its bare file name when it lies outside it."""
    try:
        return Path(path).resolve().relative_to(Path(project_dir).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def plan_subjects(
    *,
    project_dir: Path,
    commit: str,
    stack_file: Path,
    pack_dir: Path | None,
    pack_hash: str | None,
    policy_config: Path | None,
) -> list[dict[str, Any]]:
    """What a plan's statement speaks for: the commit (when in git), the stack file, the pack
    (its content hash, "sha256:<hex>") and the policy config file, each named and by digest."""
    subjects: list[dict[str, Any]] = []
    if commit and commit != "unknown":
        subjects.append({"name": COMMIT_SUBJECT, "digest": {"gitCommit": commit}})
    subjects.append(
        {
            "name": STACK_FILE + relative_name(stack_file, project_dir),
            "digest": {"sha256": sha256_file(stack_file)},
        }
    )
    if pack_dir is not None and pack_hash:
        algorithm, _, hexdigest = pack_hash.partition(":")
        subjects.append(
            {"name": POLICY_PACK + relative_name(pack_dir, project_dir), "digest": {algorithm: hexdigest}}
        )
    if policy_config is not None:
        subjects.append(
            {
                "name": POLICY_CONFIG + relative_name(policy_config, project_dir),
                "digest": {"sha256": sha256_file(policy_config)},
            }
        )
    return subjects


def statement(predicate: Mapping[str, Any], subjects: Iterable[Mapping[str, Any]]) -> bytes:
    """The in-toto Statement v1 of `predicate`, as canonical JSON bytes (same input, same bytes)."""
    subject = sorted((dict(s) for s in subjects), key=lambda s: (str(s["name"]), canonical(s["digest"])))
    if not subject:
        raise ValueError("an in-toto statement needs at least one subject")
    return canonical(
        {"_type": STATEMENT_TYPE, "subject": subject, "predicateType": PREDICATE_TYPE, "predicate": predicate}
    )


# --------------------------------------------------------------------------- the old format


def write(attestation: dict[str, Any], path: Path) -> None:
    """The old format's serialisation (tests make old files with it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(attestation, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def is_legacy(data: Any) -> bool:
    return isinstance(data, dict) and "sha256" in data and "schema" in data and "_type" not in data


def check_legacy(data: dict[str, Any]) -> tuple[bool, str]:
    """(intact, one line) for an old self-sealed attestation: its SHA-256 recomputed."""
    if data.get("schema") != SCHEMA or not isinstance(data.get("sha256"), str):
        return False, f"schema {data.get('schema')!r} is not {SCHEMA}"
    recorded = data["sha256"]
    actual = seal(data)["sha256"]
    if recorded != actual:
        return False, f"MODIFIED: content sha256 {actual} does not match the recorded {recorded}"
    verdict = data.get("verdict") or {}
    passed = "passed" if verdict.get("passed") else "blocked"
    commit = str((data.get("git") or {}).get("commit", "unknown"))[:12]
    return (
        True,
        f"seal intact (sha256 {actual}); {data.get('project')}/{data.get('stack')} {passed} at {commit}",
    )
