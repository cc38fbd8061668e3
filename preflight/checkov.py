"""The checkov bridge, part 2: run checkov on the Terraform plan, findings back on URNs.

checkov runs from its own environment (`.venv-checkov/`, built by `dev.py bootstrap`: checkov
and pulumi need incompatible versions of `packaging`), always as a subprocess:

    checkov -f plan.json --framework terraform_plan -o json --skip-download --soft-fail --quiet

Where checkov comes from, in order: `$PREFLIGHT_CHECKOV` (an explicit choice; if it does not
exist that is an error, not a fallback), `.venv-checkov/bin/checkov` of this repository, then
`checkov` on PATH.

Fail closed. checkov missing, timing out, exiting non-zero (it exits 0 with `--soft-fail` for
failed checks, non-zero when it crashes), printing no JSON, reporting a parsing error, or
reporting fewer resources than the plan holds: each is an `InternalFailure` (exit 3), never an
empty result. The run is shielded from the caller's environment: `CKV_*`/`BC_*`/`CHECKOV_*`
variables (which checkov reads as options, e.g. `CKV_SKIP_CHECK`) are removed, and it runs in
an empty directory with that directory as HOME, so no `.checkov.yaml` can change the verdict.

Every failed check becomes a `Finding` on the resource's URN, Pulumi type, name, region and the
Python line that declared it: source `checkov`, policy = the check id, enforcement
`mandatory`, severity from checkov when it has one (only with a platform key) else `medium`.
A failure matched by the suppressions file stays in the output with `suppressed=<reason>`
and does not block. A resource the plan could not include (no Terraform type) gets an
advisory `not-scanned` finding, so it is visible in every report.

Suppressions: ONE file, `preflight/checkov-suppressions.yaml` by default. Each entry names a
check id, a resource selector (`type`: a Pulumi type token or a Terraform type; `urn`: a glob
over URNs; both must match when both are given) and a written `reason`. An entry without a
reason, with unknown keys or without a selector is refused (`BadInput`, naming the file and
the entry).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from preflight import processes
from preflight.errors import BadInput, InternalFailure
from preflight.masking import mask_records
from preflight.model import Finding, ResourceRecord, Severity
from preflight.outputs import write_text_atomic
from preflight.tfplan import TfPlan, build_tfplan, connected_groups, subplan

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
CHECKOV_ENV: Final = "PREFLIGHT_CHECKOV"
DEFAULT_SUPPRESSIONS: Final = Path(__file__).resolve().parent / "checkov-suppressions.yaml"
NOT_SCANNED: Final = "not-scanned"
# Resources per checkov run (see `scan`): 2,000 keeps one run near 0.5 GB and 30 s.
CHUNK_SIZE: Final = 2000

_CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
_SUPPRESSION_KEYS: Final = frozenset({"check", "type", "urn", "reason"})
_PLACEHOLDER_REASONS: Final = frozenset({"todo", "tbd", "fixme", "n/a", "na", "none", "-", "later", "?"})
# Environment prefixes checkov (configargparse) reads options from; a gate must not inherit them.
_CHECKOV_ENV_PREFIXES: Final = ("CKV_", "BC_", "CHECKOV_", "PRISMA_")
_SEVERITIES: Final[dict[str, Severity]] = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "info": "low",
}


# --- suppressions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Suppression:
    """One entry of the suppressions file."""

    check: str
    reason: str
    type: str | None = None  # Pulumi type token or Terraform type
    urn: str | None = None  # fnmatch glob over URNs
    entry: str = ""  # "file: suppressions[i]", for messages

    def matches(self, check: str, pulumi_type: str, tf_type: str, urn: str) -> bool:
        if check != self.check:
            return False
        if self.type is not None and self.type not in (pulumi_type, tf_type):
            return False
        return self.urn is None or fnmatch.fnmatchcase(urn, self.urn)


def load_suppressions(path: Path, *, required: bool = True) -> list[Suppression]:
    """Read and validate a suppressions file. A missing file is an error when it was named
    explicitly (`required`), and means "no suppressions" for the default one."""
    if not path.exists():
        if required:
            raise BadInput(f"{path}: suppressions file not found")
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BadInput(f"{path}: not readable YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"suppressions"}:
        raise BadInput(f"{path}: expected a mapping with one key, `suppressions` (a list)")
    entries = data.get("suppressions") or []
    if not isinstance(entries, list):
        raise BadInput(f"{path}: `suppressions` must be a list")
    out: list[Suppression] = []
    for index, entry in enumerate(entries):
        where = f"{path}: suppressions[{index}]"
        if not isinstance(entry, dict):
            raise BadInput(f"{where}: expected a mapping with check, type and/or urn, reason")
        check = entry.get("check")
        label = f"{where} ({check})" if isinstance(check, str) else where
        unknown = sorted(str(k) for k in set(entry) - _SUPPRESSION_KEYS)
        if unknown:
            raise BadInput(f"{label}: unknown key(s) {', '.join(unknown)}; allowed: check, type, urn, reason")
        if not isinstance(check, str) or not _CHECK_ID.match(check):
            raise BadInput(f"{label}: `check` must be one checkov check id such as CKV_OCI_7")
        reason = entry.get("reason")
        if not isinstance(reason, str) or reason.strip().lower() in _PLACEHOLDER_REASONS | {""}:
            raise BadInput(f"{label}: no reason given; every suppression needs a written reason")
        selector_type = entry.get("type")
        selector_urn = entry.get("urn")
        if selector_type is None and selector_urn is None:
            raise BadInput(f"{label}: needs a resource selector, `type` and/or `urn`")
        for key, value in (("type", selector_type), ("urn", selector_urn)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise BadInput(f"{label}: `{key}` must be a non-empty string")
        out.append(Suppression(check, " ".join(reason.split()), selector_type, selector_urn, label))
    return out


# --- locating and running checkov -------------------------------------------------------


def find_checkov(environ: Mapping[str, str] | None = None, repo_root: Path = REPO_ROOT) -> Path:
    """The checkov executable, or InternalFailure saying how to get one."""
    env = os.environ if environ is None else environ
    explicit = env.get(CHECKOV_ENV)
    if explicit:
        path = Path(explicit)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise InternalFailure(f"checkov not found: ${CHECKOV_ENV}={explicit} is not an executable file")
    bundled = repo_root / ".venv-checkov" / ("Scripts" if os.name == "nt" else "bin") / "checkov"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return bundled
    on_path = shutil.which("checkov", path=env.get("PATH"))
    if on_path:
        return Path(on_path)
    raise InternalFailure(
        "checkov not found: run `python3 dev.py bootstrap` (builds .venv-checkov/), "
        f"set ${CHECKOV_ENV}, or pass --no-checkov"
    )


def _checkov_environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CHECKOV_ENV_PREFIXES)}
    env.pop(CHECKOV_ENV, None)
    env.update(
        {
            "HOME": str(home),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # no network: guidelines/mappings are not fetched (also --skip-download)
            "BC_SKIP_MAPPING": "TRUE",
        }
    )
    return env


def _execute(checkov: Path, plan_path: Path, timeout: float, limit: float | None = None) -> str:
    """Run checkov on the plan; its stdout. InternalFailure on timeout (`limit`: the overall
    limit to name in the message) or a crash."""
    cmd = [
        str(checkov),
        "-f",
        str(plan_path),
        "--framework",
        "terraform_plan",
        "-o",
        "json",
        "--skip-download",
        "--soft-fail",  # failed checks exit 0; any non-zero exit is then a crash
        "--quiet",  # failed checks only: the passed ones are counted in the summary
        "--compact",
    ]
    with tempfile.TemporaryDirectory(prefix="preflight-checkov-run-") as workdir:
        try:
            proc = processes.popen(
                cmd,
                cwd=workdir,
                env=_checkov_environment(Path(workdir)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                # its own process group (preflight.processes): a timeout or cancel ends its workers too
            )
        except OSError as exc:
            raise InternalFailure(f"checkov could not be started ({checkov}): {exc.strerror}") from None
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            shown = timeout if limit is None else limit
            raise InternalFailure(f"checkov took longer than {shown:g}s and was stopped") from None
        except BaseException:
            _kill_group(proc)
            raise
    processes.end(proc, grace=0.0)  # exited: nothing it started outlives it
    if proc.returncode != 0:
        raise InternalFailure(
            f"checkov failed (exit {proc.returncode}): {_last_line(stderr) or 'no error output'}"
        )
    return str(stdout)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    processes.end(proc, grace=0.0)
    proc.communicate()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


# --- reading checkov's report -------------------------------------------------------------


@dataclass
class CheckovReport:
    """What checkov said about the plan: failed checks and its counts."""

    failed: list[dict[str, Any]]
    resource_count: int
    passed: int
    version: str | None


def parse_report(stdout: str, expected_resources: int) -> CheckovReport:
    """checkov's JSON: a report dict, a list of reports (several frameworks), or the bare
    summary it prints when it found no resources. Anything else fails closed."""
    try:
        data = json.loads(stdout)
    except ValueError:
        first = _last_line(stdout[:300]) if stdout.strip() else "nothing"
        raise InternalFailure(f"checkov output is not JSON (got: {first})") from None
    reports = data if isinstance(data, list) else [data]
    if not reports or not all(isinstance(r, dict) for r in reports):
        raise InternalFailure("checkov output is not a report (expected an object or a list of objects)")
    plan_reports = [r for r in reports if r.get("check_type") == "terraform_plan"]
    if not plan_reports:
        summary = reports[0] if len(reports) == 1 else {}
        if {"passed", "failed", "resource_count"} <= set(summary) and summary.get("resource_count") == 0:
            if expected_resources:
                raise InternalFailure(
                    f"checkov found no resources in a plan with {expected_resources}; the plan was not read"
                )
            return CheckovReport([], 0, 0, summary.get("checkov_version"))
        raise InternalFailure("checkov output has no terraform_plan report")
    failed: list[dict[str, Any]] = []
    count = passed = 0
    version: str | None = None
    for report in plan_reports:
        results = report.get("results")
        summary = report.get("summary")
        if not isinstance(results, dict) or not isinstance(summary, dict):
            raise InternalFailure("checkov report lacks `results` or `summary`")
        if results.get("parsing_errors") or summary.get("parsing_errors"):
            raise InternalFailure(f"checkov could not parse the plan: {results.get('parsing_errors')}")
        checks = results.get("failed_checks", [])
        if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
            raise InternalFailure("checkov report has malformed failed_checks")
        failed.extend(checks)
        count += int(summary.get("resource_count", 0))
        passed += int(summary.get("passed", 0))
        version = summary.get("checkov_version", version)
    if count < expected_resources:
        raise InternalFailure(
            f"checkov read {count} of the plan's {expected_resources} resources; the rest were not checked"
        )
    return CheckovReport(failed, count, passed, version)


# --- findings -----------------------------------------------------------------------------


def _severity(raw: Any) -> Severity:
    if isinstance(raw, str):
        return _SEVERITIES.get(raw.lower(), "medium")
    return "medium"


@dataclass
class CheckovRun:
    """A whole checkov pass: findings, and what a report needs to say about coverage."""

    findings: list[Finding]
    plan: TfPlan
    passed: int = 0
    resource_count: int = 0
    checkov_version: str | None = None
    unused_suppressions: list[Suppression] = field(default_factory=list)
    seconds: float = 0.0


def chunks(plan: dict[str, Any], limit: int) -> list[list[str]]:
    """The plan's addresses in scan batches of at most `limit` (a connected group larger than
    that is one batch of its own): whole groups only, so graph checks see every edge."""
    batches: list[list[str]] = []
    current: list[str] = []
    for group in connected_groups(plan):
        if current and len(current) + len(group) > limit:
            batches.append(current)
            current = []
        current = current + group
    if current or not batches:
        batches.append(current)
    return batches


def scan(
    resources: list[ResourceRecord],
    *,
    tfplan_out: Path | None = None,
    timeout: float = 600.0,
    suppressions: Path | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> CheckovRun:
    """Build the plan, run checkov on it, map the failures back (see the module docstring).

    checkov matches each planned resource to its configuration with a linear search, so one run
    costs time quadratic and memory super-linear in the plan's size (8,000 resources: ~160 s and
    1.4 GB on the reference machine). Plans larger than `chunk_size` are therefore scanned in
    batches of whole connected groups (`tfplan.connected_groups`), one checkov process at a time;
    the results are the same as one run's, and a failure reported twice (a provider-level
    check in every batch) is kept once. `tfplan_out` always receives the whole plan.
    """
    if suppressions is None:
        rules = load_suppressions(DEFAULT_SUPPRESSIONS, required=False)
    else:
        rules = load_suppressions(suppressions)
    checkov = find_checkov()
    tfplan = build_tfplan(resources)
    if tfplan_out is not None:
        # For the user only: written atomically and never read back; checkov scans a private copy.
        # ... and built from masked records (preflight/masking.py): checkov judges the real values.
        shown = build_tfplan(mask_records(resources)).plan
        write_text_atomic(tfplan_out, json.dumps(shown, indent=1) + "\n", "--tfplan-out")
    started = time.perf_counter()
    deadline = started + timeout
    batches = chunks(tfplan.plan, max(1, chunk_size))
    failed: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    count = passed = 0
    version: str | None = None
    with tempfile.TemporaryDirectory(prefix="preflight-tfplan-") as tmp:
        for number, batch in enumerate(batches):
            # What the gate judges is private to the run: always a copy in this run's own
            # temporary directory, never the user-visible --tfplan-out file another writer may change.
            plan_path = Path(tmp) / f"plan-{number:03d}.json"
            part = tfplan.plan if len(batches) == 1 else subplan(tfplan.plan, batch)
            plan_path.write_text(json.dumps(part, indent=1) + "\n", encoding="utf-8")
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise InternalFailure(f"checkov took longer than {timeout:g}s and was stopped")
            report = parse_report(_execute(checkov, plan_path, remaining, timeout), len(batch))
            plan_path.unlink()  # one batch on disk at a time
            for check in report.failed:
                key = (
                    str(check.get("check_id")),
                    str(check.get("resource_address") or check.get("resource")),
                )
                if key not in seen:
                    seen.add(key)
                    failed.append(check)
            count += report.resource_count
            passed += report.passed
            version = report.version or version
    report = CheckovReport(failed, count, passed, version)
    seconds = time.perf_counter() - started

    by_urn = {r.urn: r for r in resources}
    stack = next((r for r in resources if r.type == "pulumi:pulumi:Stack"), None)
    tf_type_of = {a: a.split(".", 1)[0] for a in tfplan.addresses}
    used: set[int] = set()
    findings: list[Finding] = []
    for check in report.failed:
        check_id = str(check.get("check_id", ""))
        title = str(check.get("check_name") or check_id)
        address = str(check.get("resource_address") or check.get("resource") or "")
        urn = tfplan.addresses.get(address)
        record = by_urn.get(urn) if urn is not None else None
        guideline = check.get("guideline")
        if record is None:
            # Not a resource of the plan (e.g. a provider block check): still a failure, on the stack.
            findings.append(
                Finding(
                    source="checkov",
                    policy=check_id,
                    enforcement="mandatory",
                    severity=_severity(check.get("severity")),
                    urn=stack.urn if stack else address,
                    type=stack.type if stack else "",
                    name=address,
                    region=None,
                    message=f"{title} [{check_id} on {address}, not a resource of the plan]",
                    location=stack.location if stack else None,
                )
            )
            continue
        suppressed = None
        for index, rule in enumerate(rules):
            if rule.matches(check_id, record.type, tf_type_of[address], record.urn):
                suppressed = rule.reason
                used.add(index)
                break
        message = f"{title} [{check_id} on {address}]"
        if isinstance(guideline, str) and guideline:
            message += f" {guideline}"
        findings.append(
            Finding(
                source="checkov",
                policy=check_id,
                enforcement="mandatory",
                severity=_severity(check.get("severity")),
                urn=record.urn,
                type=record.type,
                name=record.name,
                region=record.region,
                message=message,
                location=record.location,
                suppressed=suppressed,
            )
        )
    for skipped in tfplan.skipped:
        record = by_urn[skipped.urn]
        findings.append(
            Finding(
                source="checkov",
                policy=NOT_SCANNED,
                enforcement="advisory",
                severity="low",
                urn=record.urn,
                type=record.type,
                name=record.name,
                region=record.region,
                message=f"checkov did not scan this resource: {skipped.reason}",
                location=record.location,
            )
        )
    findings.sort(key=lambda f: (f.location or "", f.urn, f.policy))
    return CheckovRun(
        findings=findings,
        plan=tfplan,
        passed=report.passed,
        resource_count=report.resource_count,
        checkov_version=report.version,
        unused_suppressions=[r for i, r in enumerate(rules) if i not in used],
        seconds=round(seconds, 3),
    )


def run_checkov(
    resources: list[ResourceRecord],
    *,
    tfplan_out: Path | None = None,
    timeout: float = 600.0,
    suppressions: Path | None = None,
) -> list[Finding]:
    """checkov's findings on `resources` (see `scan` for the coverage figures). `suppressions`
    None means `preflight/checkov-suppressions.yaml`."""
    return scan(resources, tfplan_out=tfplan_out, timeout=timeout, suppressions=suppressions).findings
