"""Reports of one plan/gate run: terminal table, JSON, Markdown, SARIF 2.1.0, Mermaid residency map.

All of them render the same `Report`; none of them ever sees a secret (synthesis masked them).

* text: rich tables (findings, resources by region), for people at a terminal.
* json: the contract's object (`resources`, `findings`, `summary`; shared/DESIGN.md).
* markdown: the same content for a PR comment or a job summary, with the residency map.
* sarif: SARIF 2.1.0 for code scanning; each result sits on the Python line that declared the
  resource (paths relative to the git root, so GitHub annotates the right file). A finding
  without a declaring line (stack-level, default providers) sits on line 1 of the stack file.
* residency map: a Mermaid flowchart: a box per region (realm, jurisdiction, catalogue
  status), the data-bearing resources in it, replication edges, legacy replicas with their
  sunset and mode, and the waivers in use.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from preflight.catalogue import region_facts
from preflight.inventory import Inventory
from preflight.model import Finding
from preflight.residency_map import residency_map
from preflight.synth import SynthResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/pulumi/pulumi-policy"  # the protocol preflight speaks; see docs
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_LEVEL = {"mandatory": "error", "advisory": "warning", "disabled": "note"}


@dataclass
class Report:
    command: str  # plan | gate
    synth: SynthResult
    findings: list[Finding]
    inventory: Inventory
    pack: dict[str, Any] | None  # {"name", "version", "sha256"}; None when no pack ran
    policies: list[dict[str, Any]] = field(default_factory=list)  # pack metadata (GetAnalyzerInfo)
    checkov: str = "skipped"
    timings: dict[str, float] = field(default_factory=dict)
    repo_prefix: str = ""  # the project dir relative to the git root ("" = the root), for SARIF
    tool_version: str = "0"

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def exit_code(self) -> int:
        return 1 if self.command == "gate" and self.blocking else 0


def summary(report: Report) -> dict[str, Any]:
    f = report.findings
    by_region = Counter(r.region or "-" for r in report.synth.resources if r.custom)
    return {
        "project": report.synth.project,
        "stack": report.synth.stack,
        "command": report.command,
        "verdict": "blocked" if report.blocking else "passed",
        "exit_code": report.exit_code,
        "resources": len(report.synth.resources),
        "custom_resources": sum(1 for r in report.synth.resources if r.custom),
        "data_bearing": len(report.inventory.data),
        "resources_by_region": dict(sorted(by_region.items())),
        "findings": len(f),
        "blocking": len(report.blocking),
        "mandatory": sum(1 for x in f if x.enforcement == "mandatory"),
        "advisory": sum(1 for x in f if x.enforcement == "advisory"),
        "suppressed": sum(1 for x in f if x.suppressed is not None),
        "waived": sum(1 for x in f if x.waiver),
        "by_source": dict(sorted(Counter(x.source for x in f).items())),
        "policy_pack": report.pack,
        # A config that switches policies off is said out loud in every format (issue 15 item 13).
        "policies_disabled": sorted(p["name"] for p in report.policies if p.get("enforcement") == "disabled"),
        "policies_disabled_count": sum(1 for p in report.policies if p.get("enforcement") == "disabled"),
        "checkov": report.checkov,
        # How the program ended ("completed after N resources", "exited(0) after N resources"):
        # a sys.exit(0) part way is success to the engine, so it is said, not hidden (item 12).
        "program_ended": report.synth.ended,
        "config_source": report.synth.config_source,
        "warnings": list(report.synth.warnings),
        "seconds": {k: round(v, 3) for k, v in report.timings.items()},
        "preflight": report.tool_version,
    }


# --------------------------------------------------------------------------- JSON


def render_json(report: Report) -> str:
    resources = []
    for r in report.synth.resources:
        d = r.to_dict()
        d.pop("outputs", None)  # outputs = inputs under mocks; the stack's are in `outputs`
        resources.append(d)
    doc = {
        "project": report.synth.project,
        "stack": report.synth.stack,
        "stack_urn": report.synth.stack_urn,
        "resources": resources,
        "outputs": report.synth.outputs,
        "findings": [f.to_dict() for f in report.findings],
        "summary": summary(report),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- text


def _blocked(report: Report) -> str:
    """`gate` is blocked; `plan` only says the gate would be."""
    return "BLOCKED" if report.command == "gate" else "WOULD BLOCK"


def _level(f: Finding) -> str:
    if f.suppressed is not None:
        return "suppressed"
    if f.waiver:
        return "waived"
    return f.enforcement


def _one_line(text: str) -> str:
    """A message on one line, whole: a reviewer needs every fact (a waiver's owner, expiry and
    reason); a table folds it, nothing cuts it."""
    return " ".join(text.split())


def counts(report: Report) -> str:
    """What blocks and what does not, each finding counted once:
    "0 blocking · 1 advisory · 36 suppressed (checkov) · 14 waived". A suppressed checkov
    failure is suppressed, not mandatory; a waived finding is waived, not advisory; a count of
    zero is left out, except the blocking one."""
    parts = [f"{len(report.blocking)} blocking"]
    advisory = sum(
        1 for f in report.findings if f.enforcement == "advisory" and not f.waiver and f.suppressed is None
    )
    if advisory:
        parts.append(f"{advisory} advisory")
    suppressed = Counter(f.source for f in report.findings if f.suppressed is not None)
    if suppressed:
        parts.append(f"{sum(suppressed.values())} suppressed ({', '.join(sorted(suppressed))})")
    waived = sum(1 for f in report.findings if f.waiver and f.suppressed is None)
    if waived:
        parts.append(f"{waived} waived")
    return " · ".join(parts)


def verdict_line(report: Report) -> str:
    """The run in one line, the same in every format: "passed · 0 blocking · 14 waived"."""
    verdict = _blocked(report) if report.blocking else "passed"
    return f"{verdict} · {counts(report)}"


# A note that names one type token (`oci:Core/getServices:getServices`): notes that differ only
# in it are one line ("6 × invoke … <the rest of the note>: a, b, c").
_NOTE_TOKEN = re.compile(r"(?<!\S)[A-Za-z0-9_.-]+(?::[A-Za-z0-9_./-]+)+(?!\S)")


def collapse_notes(notes: Iterable[str]) -> list[str]:
    """The run's notes, each once; notes alike but for one type token collapsed into one line
    that lists the tokens (in order of first appearance)."""
    groups: dict[str, list[str]] = {}
    for note in notes:
        note = " ".join(note.split())
        found = list(_NOTE_TOKEN.finditer(note))
        if len(found) == 1:
            m = found[0]
            key = note[: m.start()] + "\0" + note[m.end() :]
            tokens = groups.setdefault(key, [])
            if m.group() not in tokens:
                tokens.append(m.group())
        else:
            groups.setdefault(note, [])
    out = []
    for key, tokens in groups.items():
        if "\0" not in key:
            out.append(key)
        elif len(tokens) == 1:
            out.append(key.replace("\0", tokens[0]))
        else:
            out.append(f"{len(tokens)} × {key.replace(chr(0), '…')}: {', '.join(tokens)}")
    return out


def render_text(report: Report, *, color: bool = False, width: int = 140) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        soft_wrap=False,
    )
    s = summary(report)
    pack = report.pack
    head = (
        f"preflight {report.command} · {s['project']}/{s['stack']} · {s['resources']} resources "
        f"({s['data_bearing']} data-bearing) · "
        + (f"policy pack {pack['name']} {pack['version']}" if pack else "no policy pack")
        + f" · checkov {report.checkov}"
    )
    console.print(Text(head, style="bold"))
    if s["policies_disabled"]:
        console.print(Text(disabled_line(s["policies_disabled"], len(report.policies)), style="bold yellow"))
    if early_exit_line(s["program_ended"]):
        console.print(Text(early_exit_line(s["program_ended"]), style="bold yellow"))

    regions = Table(title="Resources by region", title_justify="left", show_lines=False)
    for col in (
        "Region",
        "Key",
        "Realm",
        "Jurisdiction",
        "Catalogue",
        "Resources",
        "Data-bearing",
        "Protected",
    ):
        regions.add_column(
            col,
            justify="right" if col in ("Resources", "Data-bearing", "Protected") else "left",
            overflow="fold",  # a narrow terminal wraps a cell, never cuts it
        )
    data_by_region = Counter(d.region or "-" for d in report.inventory.data)
    protected = Counter(d.region or "-" for d in report.inventory.data if d.protect)
    for region, count in s["resources_by_region"].items():
        facts = region_facts(region if region != "-" else None) or {}
        regions.add_row(
            region if region != "-" else "(none: components, global)",
            facts.get("key", ""),
            facts.get("realm", ""),
            facts.get("jurisdiction", ""),
            facts.get("status", "not in catalogue" if region != "-" else ""),
            str(count),
            str(data_by_region.get(region, 0)),
            str(protected.get(region, 0)),
        )
    console.print(regions)

    if report.findings:
        styles = {"mandatory": "bold red", "advisory": "yellow", "waived": "cyan", "suppressed": "dim"}
        heads = ("Level", "Sev", "Policy", "Resource", "Region", "Declared at")
        rows = [
            (
                _level(f),
                f.severity,
                f"{f.source}/{f.policy}" if f.source == "checkov" else f.policy,
                f.name,
                f.region or "-",
                f.location or "-",
                _one_line(f.message),
            )
            for f in report.findings
        ]
        # The table while its fixed columns leave the message 40 columns (each column costs
        # its text, two of padding and a border); below that, a finding per block, the message
        # wrapped under it: either way every fact is there.
        fixed = sum(max(len(h), *(len(r[i]) for r in rows)) + 3 for i, h in enumerate(heads)) + 1
        if fixed + 40 + 3 <= width:
            table = Table(title=f"Findings ({len(report.findings)})", title_justify="left", show_lines=False)
            for col in heads:
                table.add_column(
                    col, no_wrap=col in ("Level", "Sev", "Region", "Declared at"), overflow="fold"
                )
            table.add_column("Message", overflow="fold", ratio=1, min_width=40)
            for row in rows:
                # Text, not str: rich would read "[residency-aws-location]" or "[CKV_OCI_8 on ...]"
                # in a message as markup and drop it
                table.add_row(Text(row[0], style=styles.get(row[0], "")), *(Text(c) for c in row[1:]))
            console.print(table)
        else:
            from rich.padding import Padding

            console.print(Text(f"Findings ({len(report.findings)})", style="italic"))
            for row in rows:
                where = " · ".join(row[1:6])
                console.print(Text(row[0], style=styles.get(row[0], "")) + Text(f" · {where}"))
                console.print(Padding(Text(row[6], overflow="fold"), (0, 0, 0, 2)))
    else:
        console.print("No findings.")
    for w in collapse_notes(report.synth.warnings):
        console.print(Text(f"note: {w}", style="dim"))
    verdict = (
        Text(_blocked(report), style="bold red") if report.blocking else Text("passed", style="bold green")
    )
    timing = " · " + ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items()) if report.timings else ""
    console.print(verdict + Text(f" · {counts(report)}{timing}"))
    # rich pads table rows to the width; the report has no trailing whitespace
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())


# --------------------------------------------------------------------------- Markdown


def disabled_line(names: list[str], total: int) -> str:
    """The one sentence every format prints when the policy config switched policies off."""
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"{len(names)} of {total} policies disabled by the policy config: {shown}"


def early_exit_line(ended: str) -> str:
    """The sentence every format prints when the program ended itself part way (sys.exit(0)): the
    engine would deploy what was registered, so the verdict covers only that."""
    if not ended.startswith("exited"):
        return ""
    return f"the program {ended}: it ended itself, so only what it registered before is judged"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    s = summary(report)
    pack = report.pack
    lines = [
        f"## preflight {report.command}: `{s['project']}` / `{s['stack']}` — "
        + (f"**{_blocked(report)}**" if report.blocking else "**passed**"),
        "",
        f"{s['resources']} resources ({s['data_bearing']} data-bearing) · "
        + (f"policy pack `{pack['name']}` {pack['version']}" if pack else "no policy pack")
        + f" · checkov: {report.checkov} · {counts(report)}",
        "",
    ]
    if s["policies_disabled"]:
        lines += [f"**{_cell(disabled_line(s['policies_disabled'], len(report.policies)))}**", ""]
    if early_exit_line(s["program_ended"]):
        lines += [f"**{_cell(early_exit_line(s['program_ended']))}**", ""]
    if report.findings:
        lines += [
            "| Level | Severity | Policy | Resource | Region | Declared at | Message |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in report.findings:
            where = f"`{_cell(f.location)}`" if f.location else "-"
            lines.append(
                f"| {_level(f)} | {f.severity} | `{_cell(f.policy)}` | `{_cell(f.name)}` | {f.region or '-'} "
                f"| {where} | {_cell(_one_line(f.message))} |"
            )
    else:
        lines.append("No findings.")
    lines += ["", "### Resources by region", "", "| Region | Realm | Jurisdiction | Catalogue | Resources |"]
    lines.append("|---|---|---|---|---|")
    for region, count in s["resources_by_region"].items():
        facts = region_facts(region if region != "-" else None) or {}
        name = region if region != "-" else "(none)"
        cells = [
            name,
            facts.get("realm", ""),
            facts.get("jurisdiction", ""),
            facts.get("status", ""),
            str(count),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Residency map",
        "",
        "```mermaid",
        residency_map(report.inventory, report.synth),
        "```",
        "",
    ]
    if report.synth.warnings:
        lines += ["<details><summary>Notes</summary>", ""]
        lines += [f"- {_cell(w)}" for w in collapse_notes(report.synth.warnings)]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- SARIF

# Fingerprints name what is wrong with which resource, never when it was seen: a date, a count of
# days ("209 days left", "expires in 12 days") and the waiver clause of a waived finding (its
# expiry, days left, the warning that appears 30 days out) are left out, so the same finding on a
# later day, or after unrelated resources were added, keeps its alert.
_FP_WAIVED_BY = re.compile(r":?\s*\bwaived by\b.*\Z", re.IGNORECASE | re.DOTALL)
_FP_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+Z?)?\b")
_FP_DAYS = re.compile(r"\b-?\d+(?:\.\d+)?\s+days?\b(?:\s+(?:left|ago))?", re.IGNORECASE)
_FP_MORE = re.compile(r"\s*\((?:and\s+)?\d+\s+more\)", re.IGNORECASE)
# A finding about a region ("region us-ashburn-1 holds data but has no KMS vault") is reported on
# the first data-bearing resource there; that resource changes when another one is added, so the
# region, not the resource, is its identity (and only the clause before the first colon, which
# names no resource).
_FP_REGION = re.compile(r"^region (?P<region>[a-z0-9-]+) ")
# How the pack's `residency-waived` policy names the waiver (policies/pack_config.py Waiver.describe).
_WAIVER_FACTS = re.compile(
    r"waiver\s+['\"](?P<target>[^'\"]+)['\"]\s+\(owner\s+(?P<owner>[^,;()]+?),\s+"
    r"(?:expires\s+(?P<expires>\d{4}-\d{2}-\d{2})|expired\s+on\s+(?P<expired>\d{4}-\d{2}-\d{2}))"
    r"(?:,\s*\d+\s+days?\s+left)?(?:;\s*reason:\s*(?P<reason>.*?))?\)"
    # the describe() closes the message, or a "; WARNING: ..." follows it (residency-waived)
    r"(?=(?:;\s*WARNING\b.*)?\s*\Z)",
    re.DOTALL,
)
# checkov findings: "<check title> [<check id> on <address>...]" then the guideline URL, if any
# (preflight/checkov.py writes them so).
_CHECKOV_URL = re.compile(r"\]\s+(?P<url>https?://\S+)\s*\Z")


def _uri(report: Report, location: str | None) -> tuple[str, int]:
    if location and ":" in location:
        path, _, line = location.rpartition(":")
        if line.isdigit() and not path.startswith("/"):
            prefix = f"{report.repo_prefix}/" if report.repo_prefix else ""
            return prefix + path, max(int(line), 1)
        if line.isdigit():
            return path, max(int(line), 1)
    source = report.synth.config_source or "Pulumi.yaml"
    prefix = f"{report.repo_prefix}/" if report.repo_prefix and not source.startswith("/") else ""
    return prefix + source, 1


def _rule_id(f: Finding) -> str:
    return f"{f.source}/{f.policy}"


def fingerprint(f: Finding) -> str:
    """The identity of a finding across runs: rule, resource, and what is wrong, without dates.

    checkov reports one failure per check and resource, so the rule and the resource (URN, and
    the plan address for a failure outside the plan's resources) are the whole identity; its
    message carries the Terraform address, which changes when another resource takes the same
    name."""
    rule = _rule_id(f)
    if f.source == "checkov":
        return hashlib.sha256(f"{rule}|{f.urn}|{f.name}".encode()).hexdigest()
    text = _FP_WAIVED_BY.sub("", f.message) if f.waiver else f.message
    text = _FP_MORE.sub("", _FP_DAYS.sub("<n> days", _FP_DATE.sub("<date>", text)))
    text = " ".join(text.split())
    subject = f.urn
    m = _FP_REGION.match(text)
    if m:
        subject, text = f"region:{m.group('region')}", text.split(":", 1)[0]
    return hashlib.sha256(f"{rule}|{subject}|{text}".encode()).hexdigest()


def waiver_justification(f: Finding) -> str:
    """The waiver that covers `f`, as the suppression's justification: its target, owner,
    expiry and reason as the pack stated them (never the days left, which change daily)."""
    m = _WAIVER_FACTS.search(f.message)
    if m is None or (f.waiver and m.group("target") != f.waiver):
        return f"waiver {f.waiver!r}"
    expiry = f"expires {m.group('expires')}" if m.group("expires") else f"expired on {m.group('expired')}"
    reason = f"; reason: {m.group('reason').strip()}" if m.group("reason") else ""
    return f"waiver {m.group('target')!r} (owner {m.group('owner').strip()}, {expiry}{reason})"


def _checkov_title(f: Finding) -> tuple[str, str | None]:
    """A checkov finding's check title and guideline URL (None offline: checkov runs with
    --skip-download, so only checks that carry their own guideline have one)."""
    cut = f.message.find(f" [{f.policy} on ")
    title = f.message[:cut] if cut > 0 else f.policy
    m = _CHECKOV_URL.search(f.message)
    return title, (m.group("url") if m else None)


def _rule(rule_id: str, sample: Finding, meta: dict[str, Any]) -> dict[str, Any]:
    """One rule of the run, described by the policy (or the checkov check), not by a finding."""
    source, _, policy = rule_id.partition("/")
    if source == "checkov":
        title, url = _checkov_title(sample)
        description = f"checkov {policy}: {title}"
        help_text = (
            f"{title} (checkov check {policy} on the Terraform plan preflight derives from the Pulumi "
            "program). Fix the resource's arguments, or accept the finding with a written reason in "
            "preflight/checkov-suppressions.yaml." + (f" Guideline: {url}" if url else "")
        )
        rule: dict[str, Any] = {
            "id": rule_id,
            "name": policy,
            "shortDescription": {"text": title},
            "fullDescription": {"text": description},
            "help": {"text": help_text, "markdown": help_text.replace(url, f"<{url}>") if url else help_text},
        }
        if url:
            rule["helpUri"] = url
        level = _LEVEL.get(sample.enforcement, "warning")
        severity = sample.severity
    else:
        p = meta.get(policy, {})
        title = p.get("displayName") or policy
        description = p.get("description") or title
        remediation = p.get("remediation") or (
            f"See the policy {policy} of the pack {source}: it published no remediation."
        )
        rule = {
            "id": rule_id,
            "name": re.sub(r"[^A-Za-z0-9]+", " ", title).title().replace(" ", ""),
            "shortDescription": {"text": title},
            "fullDescription": {"text": description},
            "help": {"text": remediation, "markdown": remediation},
        }
        if p.get("url"):
            rule["helpUri"] = p["url"]
        level = _LEVEL.get(p.get("enforcement") or sample.enforcement, "warning")
        severity = p.get("severity") or sample.severity
    rule["defaultConfiguration"] = {"level": level}
    rule["properties"] = {
        "tags": ["security", "data-residency", source],
        "security-severity": _SECURITY_SEVERITY.get(severity, "5.5"),
    }
    return rule


def render_sarif(report: Report) -> str:
    """SARIF 2.1.0 (the OASIS schema, tests/preflight/fixtures/sarif/sarif-schema-2.1.0.json).

    * A suppressed checkov finding and a waived pack finding carry `suppressions` (kind
      `external`: the reason lives in preflight/checkov-suppressions.yaml or the stack's waivers,
      not in the analysed Python; SARIF 2.1.0 §3.35) with the reason or the waiver as the
      justification, and level `note`, so neither opens as an alert.
    * `partialFingerprints` holds both preflight's own key and `primaryLocationLineHash` (the
      same stable value): github/codeql-action's upload computes `primaryLocationLineHash` from
      the file's lines only when the result has none (src/fingerprints.ts), and that hash moves
      when lines around the declaring line change.
    * No `automationDetails`: upload-sarif fills `automationDetails.id` from its `category`
      input only where a run has none (src/upload-lib.ts populateRunAutomationDetails), so an id
      set here would silently override the workflow's category.
    """
    meta = {p["name"]: p for p in report.policies}
    rule_ids: list[str] = []
    samples: dict[str, Finding] = {}
    for f in report.findings:
        rule_id = _rule_id(f)
        if rule_id not in samples:
            rule_ids.append(rule_id)
            samples[rule_id] = f
    rules = [_rule(rule_id, samples[rule_id], meta) for rule_id in rule_ids]
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    for f in report.findings:
        uri, line = _uri(report, f.location)
        rule_id = _rule_id(f)
        quiet = f.suppressed is not None or bool(f.waiver)
        key = fingerprint(f)
        result: dict[str, Any] = {
            "ruleId": rule_id,
            "ruleIndex": index[rule_id],
            "level": "note" if quiet else _LEVEL.get(f.enforcement, "warning"),
            "message": {"text": f"{f.name} ({f.type}{', ' + f.region if f.region else ''}): {f.message}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": line},
                    },
                    "logicalLocations": [{"fullyQualifiedName": f.urn, "kind": "resource", "name": f.name}],
                }
            ],
            "partialFingerprints": {"preflightFinding/v2": key, "primaryLocationLineHash": key},
            "properties": {"enforcement": f.enforcement, "severity": f.severity, "urn": f.urn},
        }
        if f.suppressed is not None:
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": f.suppressed}
            ]
        elif f.waiver:
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": waiver_justification(f)}
            ]
        if f.waiver:
            result["properties"]["waiver"] = f.waiver
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "preflight",
                        "version": report.tool_version,
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {"summary": summary(report)},
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def render(report: Report, fmt: str, *, color: bool = False, width: int = 140) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "sarif":
        return render_sarif(report)
    return render_text(report, color=color, width=width)


def findings_of(*groups: Iterable[Finding]) -> list[Finding]:
    out: list[Finding] = []
    for g in groups:
        out.extend(g)
    return out
