"""USDR-IAM-02: IAM policy statements grant only to the access team.

Parses OCI policy statements (`Allow <subjects> to <verb> <resource> in <location> [where ...]`):
- a subject that is not one of the access team's groups (admins, operators, auditors), an
  allowed service principal or an allowed dynamic group is a violation; `any-user` and
  `any-group` always are;
- `manage all-resources in tenancy` to a group that is not an admin group is a violation
  (CIS OCI 1.2);
- `Admit` (principals of another tenancy) is a violation; `Endorse` is judged like `Allow`;
  `Define` only names things and is skipped;
- a statement that does not parse cannot be proven harmless: violation.
Statements missing or unknown during preview: violation (cannot prove the grant is limited).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown

META = Meta(
    name="residency-iam-statements",
    control="USDR-IAM-02",
    title="IAM grants only to the access team",
    description="oci:Identity/policy statements grant access only to the access team's groups (and allowed "
    "service principals); never to any-user or another tenancy; manage all-resources in tenancy only to "
    "admins.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=("oci:Identity/policy:Policy",),
    cis="1.2",
    remediation="Grant to the access team's groups only (accessTeam.groups in the stack settings), scope "
    "grants to the US data compartments and add `where request.region = '<key>'` conditions; keep `manage "
    "all-resources in tenancy` for the admins group; replace any-user/any-group grants with a group; remove "
    "Admit statements.",
)

_STATEMENT = re.compile(r"^\s*(allow|endorse|admit|define)\s+(.*)$", re.IGNORECASE | re.DOTALL)
_SUBJECT_KINDS = ("dynamic-group", "group", "service", "any-user", "any-group")


@dataclass(frozen=True)
class Subject:
    kind: str  # group | dynamic-group | service | any-user | any-group
    name: str  # group name (domain stripped) or OCID; "" for any-*


def _unquote(s: str) -> str:
    return s.strip().strip("'\"").strip()


def parse_subjects(text: str) -> list[Subject] | None:
    """`group A, group 'Default'/'B', dynamic-group id ocid1...` -> subjects; None if unparseable."""
    out: list[Subject] = []
    kind: str | None = None
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            return None
        low = part.lower()
        for k in _SUBJECT_KINDS:
            if low == k or low.startswith(k + " "):
                kind, part = k, part[len(k) :].strip()
                break
        if kind is None:
            return None
        if kind in ("any-user", "any-group"):
            out.append(Subject(kind, ""))
            continue
        if part.lower().startswith("id "):
            out.append(Subject(kind, part[3:].strip()))
            continue
        name = _unquote(part.split("/", 1)[1]) if "/" in part else _unquote(part)
        if not name:
            return None
        out.append(Subject(kind, name))
    return out or None


def judge(statement: str, cfg: PackConfig) -> Iterator[str]:
    m = _STATEMENT.match(statement)
    if m is None:
        yield f"statement {statement!r} does not parse: it cannot be proven to grant only to the access team"
        return
    verb, rest = m.group(1).lower(), m.group(2)
    if verb == "define":
        return
    if verb == "admit":
        yield f"statement {statement!r} admits principals of another tenancy"
        return
    head, sep, tail = _split_to(rest)
    if not sep:
        yield f"statement {statement!r} does not parse (no 'to'): it cannot be proven harmless"
        return
    subjects = parse_subjects(head)
    if subjects is None:
        yield f"statement {statement!r}: subjects {head.strip()!r} do not parse"
        return
    admins = {g.casefold() for g in cfg.admins or ()}
    team = {g.casefold() for g in cfg.access_groups}
    services = {s.casefold() for s in cfg.services()}
    dyn = {g.casefold() for g in cfg.allowed_dynamic_groups}
    everything = re.match(r"^\s*manage\s+all-resources\s+in\s+tenancy\b", tail, re.IGNORECASE) is not None
    for s in subjects:
        who = f"{s.kind} {s.name}".strip()
        if s.kind in ("any-user", "any-group"):
            yield f"statement {statement!r} grants to {s.kind}"
        elif s.kind == "group" and s.name.casefold() not in team:
            configured = ", ".join(cfg.access_groups) if cfg.admins is not None else "none configured"
            yield f"statement {statement!r} grants to {who}, not an access-team group ({configured})"
        elif s.kind == "service" and s.name.casefold() not in services:
            yield f"statement {statement!r} grants to {who}, not an allowed service principal"
        elif s.kind == "dynamic-group" and s.name.casefold() not in dyn:
            yield f"statement {statement!r} grants to {who}, not an allowed dynamic group"
        elif everything and not (s.kind == "group" and s.name.casefold() in admins):
            yield (
                f"statement {statement!r} grants manage all-resources in tenancy to {who}, not an admin group"
            )


def _split_to(rest: str) -> tuple[str, str, str]:
    parts = re.split(r"\s+to\s+", rest, maxsplit=1, flags=re.IGNORECASE)
    if len(parts) != 2:
        return rest, "", ""
    return parts[0], "to", parts[1]


def judge_statements(
    res: Resource, judge_one: Callable[[str], Iterator[str]], *, proves: str, each_proves: str
) -> Iterator[Finding]:
    """Every statement of an IAM policy through `judge_one`; fail closed where a statement cannot
    be read: `statements` unknown or missing ("the grants cannot be proven {proves}"), or one that
    is not known text ("it cannot be proven {each_proves}")."""
    statements = res.props.get("statements")
    if is_unknown(statements) or statements is None:
        state = "unknown during preview" if is_unknown(statements) else "missing"
        yield Finding(f"statements are {state}: the grants cannot be proven {proves}")
        return
    if not isinstance(statements, list):
        statements = [statements]
    for i, st in enumerate(statements):
        if is_unknown(st) or not isinstance(st, str):
            yield Finding(f"statements[{i}] is not known text: it cannot be proven {each_proves}")
            continue
        for message in judge_one(st):
            yield Finding(message)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    yield from judge_statements(
        res, lambda st: judge(st, cfg), proves="limited to the access team", each_proves="harmless"
    )


POLICY = resource_policy(META, check)
