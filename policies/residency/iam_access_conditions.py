"""USDR-IAM-03: who can reach US data, and from where: a US network source and, for people, MFA.

For every `Allow` statement of an `oci:Identity/policy:Policy` (parsed with iam_statements'
statement and subject parsers, then the location and the `where` condition here):

- a grant that reaches a US data compartment (by name, as any segment of a compartment path,
  by OCID, or `in tenancy`, which reaches every compartment) must require
  `request.networkSource.name = '<name>'`; a grant to a group (groups hold users: people),
  `any-user` or `any-group` must also require `request.user.mfaTotpVerified = 'true'`. A
  condition *requires* a term when every request it admits satisfies the term: an atom requires
  itself, `all {...}` requires what any of its members requires, `any {...}` what every member
  requires (OCI: `any` is OR, `all` is AND). A term inside an `any` that has other branches is
  not required, and neither is a pattern (`/.../`) network-source name. Service principals
  (`Allow service ...`) are exempt: their requests come from inside OCI and carry no user;
  dynamic groups (instances) need the network source but cannot answer an MFA challenge;
- a grant of `manage all-resources in tenancy` is a finding whatever its subject and condition:
  the tenancy's built-in Administrators already hold it (break glass, docs/break-glass.md), a
  program never needs another;
- a statement or a condition that does not parse cannot be proven to carry either: finding.

And for every `oci:Identity/networkSource:NetworkSource`: an entry of `publicSourceLists` or of a
`virtualSourceLists[].ipRanges` that is the whole internet (a /0, e.g. `0.0.0.0/0`) or overlaps a
range the settings mark as outside the US (`nonUsSourceCidrs`) is a finding; so is one that is
not an IP range, or a list unknown during preview (fail closed).

Config: `usDataCompartments` (names; not configured: every compartment counts, fail closed),
`outsideDataCompartments` (OCIDs known to hold no US data and to be no ancestor of one: any other
compartment named by OCID counts, fail closed), `nonUsSourceCidrs`. OCI's grammar and
variables are cited in components/access.py and tests/policies/test_iam_access_conditions.py.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown

from residency.iam_statements import _STATEMENT, _split_to, judge_statements, parse_subjects

POLICY_TYPE = "oci:Identity/policy:Policy"
NETWORK_SOURCE_TYPE = "oci:Identity/networkSource:NetworkSource"
NETWORK_SOURCE_VAR = "request.networksource.name"
MFA_VAR = "request.user.mfatotpverified"

META = Meta(
    name="residency-iam-access-conditions",
    control="USDR-IAM-03",
    title="US data only from US networks, with MFA",
    description="Every grant reaching a US data compartment (by name, OCID or in tenancy) requires a "
    "network source, and MFA for groups of people; no network source allows 0.0.0.0/0 or a non-US range; "
    "no program grants manage all-resources in tenancy.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=(POLICY_TYPE, NETWORK_SOURCE_TYPE),
    remediation="Add `where all {request.networkSource.name = '<US network source>', "
    "request.user.mfaTotpVerified = 'true', <region condition>}` to each grant on the US data, network "
    "and security compartments (dynamic groups: the network source only); list only US ranges in network "
    "sources (accessTeam.networkSources in the stack settings), never 0.0.0.0/0; grant compartments, never "
    "manage all-resources in tenancy (the tenancy's Administrators are the break glass).",
)


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Atom:
    variable: str  # lower case
    op: str  # "=" | "!="
    value: str  # as written: 'quoted' or /pattern/


@dataclass(frozen=True)
class Combo:
    kind: str  # "any" | "all"
    members: tuple[Atom | Combo, ...]


Condition = Atom | Combo

_TOKEN = re.compile(r"\s*(?:(\{|\}|,|!=|=)|('(?:[^'])*')|(/[^/]*/)|([^\s{},=!']+))")


class ConditionError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ConditionError(f"unexpected {text[pos : pos + 20]!r}")
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return out


def parse_condition(text: str) -> Condition:
    """`variable =|!= value` or `any|all {<condition>, ...}`, nested; raises ConditionError."""
    tokens = _tokens(text)
    cond, pos = _parse(tokens, 0)
    if pos != len(tokens):
        raise ConditionError(f"trailing {' '.join(tokens[pos:])!r}")
    return cond


def _parse(t: list[str], i: int) -> tuple[Condition, int]:
    if i >= len(t):
        raise ConditionError("condition ends early")
    if t[i].lower() in ("any", "all") and i + 1 < len(t) and t[i + 1] == "{":
        kind, i = t[i].lower(), i + 2
        members: list[Condition] = []
        while True:
            member, i = _parse(t, i)
            members.append(member)
            if i < len(t) and t[i] == ",":
                i += 1
                continue
            if i < len(t) and t[i] == "}":
                return Combo(kind, tuple(members)), i + 1
            raise ConditionError(f"expected ',' or '}}' in {kind} {{...}}")
    var, op, value = t[i], t[i + 1] if i + 1 < len(t) else "", t[i + 2] if i + 2 < len(t) else ""
    if op not in ("=", "!=") or not value or value in "{},=" or var in "{},":
        raise ConditionError(f"{' '.join(t[i : i + 3])!r} is not `variable = value`")
    return Atom(var.lower(), op, value), i + 3


def requires(cond: Condition, variable: str, value: str | None = None) -> bool:
    """Does every request `cond` admits satisfy `variable = '<value or anything quoted>'`?"""
    if isinstance(cond, Atom):
        if cond.variable != variable or cond.op != "=" or not cond.value.startswith("'"):
            return False
        return value is None or cond.value.strip("'").strip().lower() == value
    if cond.kind == "all":
        return any(requires(m, variable, value) for m in cond.members)
    return bool(cond.members) and all(requires(m, variable, value) for m in cond.members)


# --------------------------------------------------------------------------- statements

_GRANT = re.compile(
    r"^\s*(?P<what>\{[^}]*\}|\S+\s+\S+)\s+in\s+(?P<where>.+?)(?:\s+where\s+(?P<cond>.+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Grant:
    statement: str
    subjects: tuple[tuple[str, str], ...]  # (kind, name)
    verb: str  # lower case; "" for a permission list
    resource: str  # lower case
    location: str  # "tenancy" | "compartment id <ocid>" | "compartment <path>"
    condition: Condition | None


def parse_grant(statement: str) -> Grant | str | None:
    """An `Allow` statement as a Grant; None for statements this policy does not judge (Define,
    Endorse, Admit: iam_statements judges those); a message when it does not parse."""
    m = _STATEMENT.match(statement)
    if m is None:
        return "does not parse"
    if m.group(1).lower() != "allow":
        return None
    head, sep, tail = _split_to(m.group(2))
    subjects = parse_subjects(head) if sep else None
    g = _GRANT.match(tail) if sep else None
    if subjects is None or g is None:
        return "does not parse"
    what = g.group("what").split()
    verb, resource = (what[0].lower(), what[1].lower()) if len(what) == 2 else ("", g.group("what"))
    condition: Condition | None = None
    if g.group("cond"):
        try:
            condition = parse_condition(g.group("cond"))
        except ConditionError as exc:
            return f"condition does not parse ({exc})"
    return Grant(
        statement,
        tuple((s.kind, s.name) for s in subjects),
        verb,
        resource,
        " ".join(g.group("where").split()),
        condition,
    )


def reaches_us_data(
    location: str, cfg_compartments: tuple[str, ...] | None, outside: tuple[str, ...] = ()
) -> bool:
    """Could a grant at `location` reach a US data compartment? A policy in a compartment also
    applies to every compartment below it (OCI IAM, "Policy Inheritance"), and an OCID says
    nothing of where it sits: a grant by OCID reaches US data unless the config lists the OCID
    in `outsideDataCompartments` (the stack's own compartments get their OCIDs only when created,
    and the parent compartment that holds them is an OCID too)."""
    low = location.lower()
    if low == "tenancy":
        return True
    if low.startswith("compartment id "):
        ocid = location.split()[2].casefold()
        return ocid not in {c.casefold() for c in outside}
    if cfg_compartments is None:
        return True  # no list of US data compartments: any compartment may hold US data
    wanted = {c.casefold() for c in cfg_compartments}
    if low.startswith("compartment "):
        path = location.split(None, 1)[1]
        return any(seg.strip().strip("'\"").casefold() in wanted for seg in path.split(":"))
    return True  # a location we do not know: cannot prove it misses US data


def judge_statement(statement: str, cfg: PackConfig) -> Iterator[str]:
    grant = parse_grant(statement)
    if grant is None:
        return
    if isinstance(grant, str):
        yield f"statement {statement!r} {grant}: it cannot be proven to require a US network and MFA"
        return
    if grant.verb == "manage" and grant.resource == "all-resources" and grant.location.lower() == "tenancy":
        yield (
            f"statement {statement!r} grants manage all-resources in tenancy: only the tenancy's "
            "Administrators hold that (break glass)"
        )
    if not reaches_us_data(grant.location, cfg.us_data_compartments, cfg.outside_data_compartments):
        return
    kinds = {k for k, _ in grant.subjects}
    if kinds == {"service"}:
        return  # service principals: requests from inside OCI, no user, no network source
    cond = grant.condition
    if cond is None or not requires(cond, NETWORK_SOURCE_VAR):
        yield (
            f"statement {statement!r} reaches US data ({grant.location}) without a network-source condition "
            "(request.networkSource.name = '<US network source>')"
        )
    people = sorted(k for k in kinds if k in ("group", "any-user", "any-group"))
    if people and (cond is None or not requires(cond, MFA_VAR, "true")):
        yield (
            f"statement {statement!r} grants {people[0]} (people) access to US data ({grant.location}) "
            "without MFA (request.user.mfaTotpVerified = 'true')"
        )


# --------------------------------------------------------------------------- network sources


def _ranges(res: Resource) -> Iterator[tuple[str, object]]:
    public = res.props.get("publicSourceLists")
    if is_unknown(public):
        yield "publicSourceLists", public
    elif isinstance(public, list):
        for i, v in enumerate(public):
            yield f"publicSourceLists[{i}]", v
    virtual = res.props.get("virtualSourceLists")
    if is_unknown(virtual):
        yield "virtualSourceLists", virtual
    elif isinstance(virtual, list):
        for i, entry in enumerate(virtual):
            ranges = entry.get("ipRanges") if isinstance(entry, dict) else entry
            if is_unknown(ranges) or not isinstance(ranges, list):
                yield f"virtualSourceLists[{i}].ipRanges", ranges
                continue
            for j, v in enumerate(ranges):
                yield f"virtualSourceLists[{i}].ipRanges[{j}]", v


def judge_network_source(res: Resource, cfg: PackConfig) -> Iterator[str]:
    for where, value in _ranges(res):
        if is_unknown(value) or not isinstance(value, str):
            yield f"{where} is not known: the network source cannot be proven to hold only US ranges"
            continue
        try:
            net = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            yield f"{where} {value!r} is not an IP range: the network source cannot be proven US-only"
            continue
        if net.prefixlen == 0:
            yield f"{where} {value} allows the whole internet: the team could work from anywhere"
            continue
        for other in cfg.non_us_source_cidrs:
            if net.version == other.version and net.overlaps(other):
                yield f"{where} {value} overlaps {other}, marked outside the US (nonUsSourceCidrs)"
                break


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    if res.type == NETWORK_SOURCE_TYPE:
        for message in judge_network_source(res, cfg):
            yield Finding(message)
        return
    yield from judge_statements(
        res,
        lambda st: judge_statement(st, cfg),
        proves="to require a US network and MFA",
        each_proves="to require a US network",
    )


POLICY = resource_policy(META, check)
