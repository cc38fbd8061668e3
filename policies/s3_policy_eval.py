"""S3 bucket policies evaluated the way S3 evaluates them, for the callers that matter.

Why a small evaluator of our own: the registry's IAM tools do not answer "is this request
allowed by this resource policy". `policyuniverse` (last release 2023-11) parses statements,
expands action wildcards and says whether a statement is internet-accessible, but has no
decision procedure (no deny-over-allow across statements, no condition evaluation, no
NotResource). `iam-ape` evaluates *identity* policies from an account's
GetAccountAuthorizationDetails dump, not a bucket policy's Principal, and brings boto3,
requests, bs4 and tqdm into the pack's runtime. `parliament` is a linter. None fits; this
module implements the documented logic for one resource policy, pure Python.

Evaluation, after AWS "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
a request is denied if any statement that applies to it has Effect Deny (an explicit deny
always wins); otherwise it is allowed if any applicable statement has Effect Allow; otherwise
it is implicitly denied. A statement applies when its Principal (or NotPrincipal), Action (or
NotAction), Resource (or NotResource) and every Condition match the request.

- Principal: `"*"` and `{"AWS": "*"}` are everyone, anonymous callers included (IAM JSON
  policy elements: Principal, "Anonymous (public) principals"); an account id or
  `arn:aws:iam::<account>:root` is every principal of that account; a role ARN matches the
  role's sessions; `Service`, `CanonicalUser` and `Federated` match those principals.
  NotPrincipal applies to every principal it does not list.
- Action / NotAction: case-insensitive, with `*` and `?` wildcards ("IAM JSON policy
  elements: Action": action names are not case sensitive).
- Resource / NotResource: case-sensitive, `*` and `?` wildcards. A bucket's ARN
  `arn:aws:s3:::b` and its objects `arn:aws:s3:::b/<key>` are different resources: a deny on
  the one does not cover the other ("Amazon S3 resources: bucket and object ARNs").
- Condition: operators are ANDed, so are keys within an operator; the values listed for one
  key are ORed (for a negated operator: the request value matches none of them). A key the
  request does not carry makes a condition false, except for a negated operator (true),
  `...IfExists` (true) and `Null` ("IAM JSON policy elements: Condition operators", and
  "...IfExists condition operators"). `ForAnyValue:` is true if any request value matches (false
  when the key is absent), `ForAllValues:` if every one does (true when absent) ("Set operators
  for multivalued context keys"). Condition key names are case-insensitive, values are not
  (except `...IgnoreCase` and `Bool`).

What the pack cannot know it does not guess. The questions here are asked of a caller whose
identity keys are known (`aws:PrincipalArn`, `aws:PrincipalAccount`,
`aws:PrincipalServiceName`, `aws:PrincipalType`) but of a request whose other keys
(`aws:SourceIp`, `aws:SecureTransport`, `aws:CurrentTime`, `s3:prefix`, ...) the caller may
choose or time may change. Matching is three-valued: a condition on such a free key is
`MAYBE`, and so is a resource pattern that covers some objects of a bucket but not all, or one
with a policy variable. A request is `denied` only if some Deny surely applies, and `may_allow`
if no Deny surely applies and some Allow surely or maybe does. Both answers are therefore on
the safe side for a gate: a deny that holds only under conditions does not count as a deny, a
conditional allow still counts as an allow. An operator the evaluator does not know, or a
malformed statement, raises `PolicyError`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any, Final

from resource_props import UNKNOWN, json_value


class PolicyError(ValueError):
    """A policy (or statement) the evaluator cannot decide on: nothing about it can be proven."""


class Tri(Enum):
    FALSE = 0
    MAYBE = 1
    TRUE = 2

    def __and__(self, other: Tri) -> Tri:
        return Tri(min(self.value, other.value))

    def __or__(self, other: Tri) -> Tri:
        return Tri(max(self.value, other.value))

    def __invert__(self) -> Tri:
        return Tri(2 - self.value)


def tri(b: bool) -> Tri:
    return Tri.TRUE if b else Tri.FALSE


def any_of(values: Iterable[Tri]) -> Tri:
    out = Tri.FALSE
    for v in values:
        out |= v
    return out


def all_of(values: Iterable[Tri]) -> Tri:
    out = Tri.TRUE
    for v in values:
        out &= v
    return out


# Keys that the caller's identity fixes: known present or known absent for a given caller.
IDENTITY_KEYS: Final = frozenset(
    {"aws:principalarn", "aws:principalaccount", "aws:principalservicename", "aws:principaltype"}
)
ANONYMOUS_PRINCIPAL: Final = "*"
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")


@dataclass(frozen=True)
class Caller:
    """Who sends the request. `arn` for an IAM user, role (the role's ARN) or account root;
    `service` for a service principal; neither for an anonymous caller."""

    label: str
    arn: str | None = None
    service: str | None = None
    canonical_user: str | None = None
    federated: str | None = None

    @property
    def account(self) -> str | None:
        m = _ARN_ACCOUNT.match(self.arn or "")
        return m.group(1) if m else None

    @property
    def anonymous(self) -> bool:
        return not (self.arn or self.service or self.canonical_user or self.federated)

    def identity_context(self) -> dict[str, tuple[str, ...]]:
        ctx: dict[str, tuple[str, ...]] = {}
        if self.arn:
            ctx["aws:principalarn"] = (self.arn,)
            if self.account:
                ctx["aws:principalaccount"] = (self.account,)
            ctx["aws:principaltype"] = ("Account",) if self.arn.endswith(":root") else ("User",)
        elif self.service:
            ctx["aws:principalservicename"] = (self.service,)
            ctx["aws:principaltype"] = ("Service",)
        elif self.anonymous:
            ctx["aws:principaltype"] = ("Anonymous",)
        return ctx


# --------------------------------------------------------------------------- wildcards


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _prefix_states(pattern: str, prefix: str) -> set[int]:
    """Positions in `pattern` reachable after matching all of `prefix` (an NFA run)."""

    def close(states: set[int]) -> set[int]:
        # A `*` may match nothing: also be past it.
        out = set(states)
        todo = list(states)
        while todo:
            i = todo.pop()
            if i < len(pattern) and pattern[i] == "*" and i + 1 not in out:
                out.add(i + 1)
                todo.append(i + 1)
        return out

    states = close({0})
    for ch in prefix:
        nxt: set[int] = set()
        for i in states:
            if i >= len(pattern):
                continue
            p = pattern[i]
            if p == "*":
                nxt.add(i)
            elif p == "?" or p == ch:
                nxt.add(i + 1)
        states = close(nxt)
        if not states:
            break
    return states


@lru_cache(maxsize=8192)  # pure; a bucket's policies ask it for every principal and action
def prefix_match(pattern: str, prefix: str) -> Tri:
    """Does `pattern` match every string that starts with `prefix` (TRUE), some (MAYBE), none?"""
    states = _prefix_states(pattern, prefix)
    if not states:
        return Tri.FALSE
    if any(set(pattern[i:]) <= {"*"} and "*" in pattern[i:] for i in states if i < len(pattern)):
        return Tri.TRUE
    # Some continuation matches (the pattern's remaining literals), unless the pattern is used up
    # exactly at the prefix: then only the prefix itself, which is not an object key.
    if all(i >= len(pattern) for i in states):
        return Tri.FALSE
    return Tri.MAYBE


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str
    effect: str  # Allow | Deny
    principal: Mapping[str, tuple[str, ...]] | None  # None: "*"; {type: values}
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    condition: Mapping[str, Mapping[str, tuple[str, ...]]]

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"Statement[{self.index}]"

    def principals_named(self) -> tuple[tuple[str, str], ...]:
        """(type, value) of every principal the statement names."""
        if self.principal is None:
            return ()
        return tuple((k, v) for k, vs in self.principal.items() for v in vs)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is UNKNOWN:
        raise PolicyError(f"{where} is unknown during preview")
    vals = value if isinstance(value, list) else [value]
    out = []
    for v in vals:
        if v is UNKNOWN:
            raise PolicyError(f"{where} is unknown during preview")
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, str | int | float):
            out.append(str(v).strip() if isinstance(v, str) else _number_text(v))
        else:
            raise PolicyError(f"{where} holds a {type(v).__name__}, not text")
    return tuple(out)


def _number_text(v: int | float) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _principal(value: Any, where: str) -> Mapping[str, tuple[str, ...]] | None:
    if value is UNKNOWN:
        raise PolicyError(f"{where} is unknown during preview")
    if value == "*":
        return None
    if not isinstance(value, dict) or not value:
        raise PolicyError(f'{where} must be "*" or an object of principal types')
    out: dict[str, tuple[str, ...]] = {}
    for kind, vals in value.items():
        if kind not in ("AWS", "Service", "CanonicalUser", "Federated"):
            raise PolicyError(f"{where}: principal type {kind!r} is not one S3 knows")
        names = _strings(vals, f"{where}.{kind}")
        for n in names:
            if "*" in n and n != "*":
                # "You cannot use a wildcard to match part of a principal name or ARN."
                raise PolicyError(f"{where}.{kind}: {n!r} uses a wildcard inside a principal")
        if kind == "AWS" and "*" in names:
            return None
        out[kind] = names
    return out


def _condition(value: Any, where: str) -> dict[str, dict[str, tuple[str, ...]]]:
    if value is None:
        return {}
    if value is UNKNOWN:
        raise PolicyError(f"{where} is unknown during preview")
    if not isinstance(value, dict):
        raise PolicyError(f"{where} is not an object")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for op, body in value.items():
        _operator(op, where)  # refuse unknown operators up front
        if not isinstance(body, dict):
            raise PolicyError(f"{where}.{op} is not an object of keys")
        out[op] = {str(k): _strings(v, f"{where}.{op}.{k}") for k, v in body.items()}
    return out


def parse(value: Any) -> list[Statement]:
    """The statements of a policy document (JSON text or structure); PolicyError if unreadable."""
    if value is UNKNOWN:
        raise PolicyError("the policy document is unknown during preview")
    if value is None:
        raise PolicyError("there is no policy document")
    doc = json_value(value)
    if isinstance(doc, str):
        raise PolicyError("the policy document is not valid JSON")
    if not isinstance(doc, dict):
        raise PolicyError("the policy document is not a JSON object")
    raw = doc.get("Statement")
    if raw is UNKNOWN:
        raise PolicyError("Statement is unknown during preview")
    statements = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if statements is None:
        raise PolicyError("the policy document has no Statement list")
    out: list[Statement] = []
    for i, st in enumerate(statements):
        where = f"Statement[{i}]"
        if not isinstance(st, dict):
            raise PolicyError(f"{where} is not an object")
        effect = st.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f"{where}.Effect is {effect!r}, not Allow or Deny")
        for a, b in (("Principal", "NotPrincipal"), ("Action", "NotAction"), ("Resource", "NotResource")):
            if (a in st) == (b in st):
                raise PolicyError(f"{where} needs exactly one of {a} and {b}")
        not_principal = "NotPrincipal" in st
        not_action = "NotAction" in st
        not_resource = "NotResource" in st
        pkey = "NotPrincipal" if not_principal else "Principal"
        akey = "NotAction" if not_action else "Action"
        rkey = "NotResource" if not_resource else "Resource"
        out.append(
            Statement(
                index=i,
                sid=str(st.get("Sid") or ""),
                effect=effect,
                principal=_principal(st[pkey], f"{where}.{pkey}"),
                not_principal=not_principal,
                actions=_strings(st[akey], f"{where}.{akey}"),
                not_action=not_action,
                resources=_strings(st[rkey], f"{where}.{rkey}"),
                not_resource=not_resource,
                condition=_condition(st.get("Condition"), f"{where}.Condition"),
            )
        )
    return out


# --------------------------------------------------------------------------- matching


def _one_principal(kind: str, name: str, caller: Caller) -> bool:
    if kind == "AWS":
        if caller.arn is None:
            return False
        if name == caller.arn:
            return True
        # An account (id or root ARN) is every principal of that account.
        account = name if re.fullmatch(r"\d{12}", name) else None
        m = re.fullmatch(r"arn:aws[a-z-]*:iam::(\d{12}):root", name)
        account = account or (m.group(1) if m else None)
        return account is not None and account == caller.account
    if kind == "Service":
        return caller.service is not None and name == caller.service
    if kind == "CanonicalUser":
        return caller.canonical_user is not None and name == caller.canonical_user
    if kind == "Federated":
        return caller.federated is not None and name == caller.federated
    return False


def principal_match(st: Statement, caller: Caller) -> bool:
    hit = st.principal is None or any(_one_principal(k, v, caller) for k, v in st.principals_named())
    return hit != st.not_principal


def action_match(st: Statement, action: str) -> bool:
    hit = any(glob_match(p, action, ignore_case=True) for p in st.actions)
    return hit != st.not_action


@dataclass(frozen=True)
class Target:
    """A resource asked about: the bucket itself, or any object of it (`key` None) or one key."""

    bucket: str | None  # None: the bucket's name is unknown during preview
    objects: bool
    key: str | None = None

    @property
    def arn(self) -> str:
        base = f"arn:aws:s3:::{self.bucket or '<unknown>'}"
        if not self.objects:
            return base
        return f"{base}/{self.key}" if self.key is not None else f"{base}/*"

    def match(self, pattern: str) -> Tri:
        if "${" in pattern:
            return Tri.MAYBE  # a policy variable: depends on the request
        if self.bucket is None:
            # Some bucket's ARN, but which one is not known yet: it may or may not be this one.
            return Tri.MAYBE if prefix_match(pattern, "arn:aws:s3:::") is not Tri.FALSE else Tri.FALSE
        base = f"arn:aws:s3:::{self.bucket}"
        if not self.objects:
            return tri(glob_match(pattern, base))
        if self.key is not None:
            return tri(glob_match(pattern, f"{base}/{self.key}"))
        return prefix_match(pattern, f"{base}/")


def resource_match(st: Statement, target: Target) -> Tri:
    hit = any_of(target.match(p) for p in st.resources)
    return ~hit if st.not_resource else hit


def _operator(op: str, where: str = "Condition") -> tuple[str, str, bool, bool]:
    """(set qualifier, base operator, if-exists, negated) of a condition operator; PolicyError if unknown."""
    qualifier = ""
    if ":" in op:
        qualifier, op_base = op.split(":", 1)
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            raise PolicyError(f"{where}: operator {op!r} cannot be evaluated")
    else:
        op_base = op
    if_exists = op_base.endswith("IfExists")
    base = op_base[: -len("IfExists")] if if_exists else op_base
    if base not in _TESTS and base != "Null":
        raise PolicyError(f"{where}: operator {op!r} cannot be evaluated")
    if base == "Null" and (if_exists or qualifier):
        raise PolicyError(f"{where}: operator {op!r} cannot be evaluated")
    return qualifier, base, if_exists, base in _NEGATED


def _date(text: str) -> datetime:
    t = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", t):
        return datetime.fromtimestamp(float(t), tz=UTC)
    d = datetime.fromisoformat(t.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _num(text: str) -> float:
    return float(text)


def _ip_in(actual: str, net: str) -> bool:
    try:
        return ipaddress.ip_address(actual.strip()) in ipaddress.ip_network(net.strip(), strict=False)
    except ValueError:
        return False


def _cmp(conv: Any, pred: Any) -> Any:
    def test(actual: str, expected: str) -> bool:
        try:
            return bool(pred(conv(actual), conv(expected)))
        except (ValueError, OverflowError):
            return False

    return test


_POSITIVE: Final[dict[str, Any]] = {
    "StringEquals": lambda a, e: a == e,
    "StringEqualsIgnoreCase": lambda a, e: a.lower() == e.lower(),
    "StringLike": lambda a, e: glob_match(e, a),
    "ArnEquals": lambda a, e: glob_match(e, a),
    "ArnLike": lambda a, e: glob_match(e, a),
    "Bool": lambda a, e: a.lower() == e.lower(),
    "BinaryEquals": lambda a, e: a == e,
    "IpAddress": _ip_in,
    "NumericEquals": _cmp(_num, lambda a, e: a == e),
    "NumericLessThan": _cmp(_num, lambda a, e: a < e),
    "NumericLessThanEquals": _cmp(_num, lambda a, e: a <= e),
    "NumericGreaterThan": _cmp(_num, lambda a, e: a > e),
    "NumericGreaterThanEquals": _cmp(_num, lambda a, e: a >= e),
    "DateEquals": _cmp(_date, lambda a, e: a == e),
    "DateLessThan": _cmp(_date, lambda a, e: a < e),
    "DateLessThanEquals": _cmp(_date, lambda a, e: a <= e),
    "DateGreaterThan": _cmp(_date, lambda a, e: a > e),
    "DateGreaterThanEquals": _cmp(_date, lambda a, e: a >= e),
}
# A negated operator: true when the request value matches none of the listed values.
_NEGATED: Final[dict[str, str]] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
}
_TESTS: Final = {**_POSITIVE, **dict.fromkeys(_NEGATED)}


def _value_test(base: str, actual: str, expected: tuple[str, ...]) -> bool:
    if base in _NEGATED:
        positive = _POSITIVE[_NEGATED[base]]
        return not any(positive(actual, e) for e in expected)
    test = _POSITIVE[base]
    return any(test(actual, e) for e in expected)


def condition_test(op: str, actual: tuple[str, ...] | None, expected: tuple[str, ...]) -> bool:
    """One operator on one key, with the request's values for the key (None: absent)."""
    qualifier, base, if_exists, negated = _operator(op)
    if base == "Null":
        want_absent = [e.lower() == "true" for e in expected]
        return (actual is None or not actual) in want_absent
    if actual is None or (qualifier and not actual):
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated
    if qualifier == "ForAllValues":
        return all(_value_test(base, a, expected) for a in actual)
    # ForAnyValue, and a single-valued key (a one-element tuple)
    return any(_value_test(base, a, expected) for a in actual)


def condition_match(st: Statement, caller: Caller, context: Mapping[str, Sequence[str] | str]) -> Tri:
    """TRUE/FALSE where the caller and `context` fix every key used, MAYBE where a key is free."""
    known: dict[str, tuple[str, ...]] = caller.identity_context()
    for k, v in context.items():
        known[k.lower()] = (v,) if isinstance(v, str) else tuple(v)
    fixed = IDENTITY_KEYS | {k.lower() for k in context}
    result = Tri.TRUE
    for op, body in st.condition.items():
        for key, expected in body.items():
            k = key.lower()
            if k not in fixed:
                result &= Tri.MAYBE
                continue
            result &= tri(condition_test(op, known.get(k), expected))
            if result is Tri.FALSE:
                return result
    return result


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Verdict:
    """What the policy does with one request: the statements that surely/maybe apply."""

    deny_sure: tuple[Statement, ...] = ()
    deny_maybe: tuple[Statement, ...] = ()
    allow_sure: tuple[Statement, ...] = ()
    allow_maybe: tuple[Statement, ...] = ()

    @property
    def denied(self) -> bool:
        """Explicitly denied whatever the request's free keys are."""
        return bool(self.deny_sure)

    @property
    def may_allow(self) -> bool:
        """Some request of this caller for this action is allowed by the policy."""
        return not self.deny_sure and bool(self.allow_sure or self.allow_maybe)

    @property
    def allowed_by(self) -> tuple[Statement, ...]:
        return self.allow_sure + self.allow_maybe


def applies(st: Statement, caller: Caller, action: str, target: Target, context: Mapping[str, Any]) -> Tri:
    if not principal_match(st, caller) or not action_match(st, action):
        return Tri.FALSE
    res = resource_match(st, target)
    if res is Tri.FALSE:
        return res
    return res & condition_match(st, caller, context)


def evaluate(
    statements: Sequence[Statement],
    caller: Caller,
    action: str,
    target: Target,
    context: Mapping[str, Any] | None = None,
) -> Verdict:
    """The bucket policy's verdict on `caller` doing `action` on `target` (explicit deny wins)."""
    ctx = context or {}
    buckets: dict[tuple[str, Tri], list[Statement]] = {}
    for st in statements:
        hit = applies(st, caller, action, target, ctx)
        if hit is not Tri.FALSE:
            buckets.setdefault((st.effect, hit), []).append(st)
    return Verdict(
        deny_sure=tuple(buckets.get(("Deny", Tri.TRUE), ())),
        deny_maybe=tuple(buckets.get(("Deny", Tri.MAYBE), ())),
        allow_sure=tuple(buckets.get(("Allow", Tri.TRUE), ())),
        allow_maybe=tuple(buckets.get(("Allow", Tri.MAYBE), ())),
    )


def decide(
    statements: Sequence[Statement],
    caller: Caller,
    action: str,
    target: Target,
    context: Mapping[str, Any] | None = None,
) -> str:
    """`deny` (explicit), `allow`, `implicit` (no statement allows) or `depends` (free keys decide)."""
    v = evaluate(statements, caller, action, target, context)
    if v.deny_sure:
        return "deny"
    if v.deny_maybe and (v.allow_sure or v.allow_maybe):
        return "depends"
    if v.allow_sure:
        return "allow"
    if v.allow_maybe:
        return "depends"
    return "implicit"


# --------------------------------------------------------------------------- who knocks


def _instance(pattern: str) -> str:
    """A concrete name that a wildcard pattern matches (`*` -> `zz`, `?` -> `z`)."""
    return pattern.replace("*", "zz").replace("?", "z")


def callers_for(
    statements: Sequence[Statement], named: Iterable[str | None], accounts: Iterable[str] = ()
) -> list[Caller]:
    """The `named` ARNs plus every principal a statement names or a condition on
    aws:PrincipalArn/aws:PrincipalServiceName/aws:PrincipalAccount describes (a wildcard
    pattern becomes a name it matches), plus the ones nobody names: another user of each
    account seen, another account, an unlisted service, an anonymous caller."""
    out: dict[tuple[str | None, str | None, str | None, str | None], Caller] = {}

    def add(c: Caller) -> None:
        out.setdefault((c.arn, c.service, c.canonical_user, c.federated), c)

    for arn in named:
        if arn:
            add(Caller(arn, arn=arn))
    seen_accounts = set(accounts)
    for st in statements:
        for kind, name in st.principals_named():
            if kind == "AWS":
                if re.fullmatch(r"\d{12}", name):
                    seen_accounts.add(name)
                    add(Caller(name, arn=f"arn:aws:iam::{name}:user/zz-unnamed"))
                else:
                    add(Caller(name, arn=name))
            elif kind == "Service":
                add(Caller(name, service=name))
            elif kind == "CanonicalUser":
                add(Caller(name, canonical_user=name))
            else:
                add(Caller(name, federated=name))
        for body in st.condition.values():
            for key, values in body.items():
                k = key.lower()
                for v in values:
                    if k == "aws:principalarn":
                        add(Caller(_instance(v), arn=_instance(v)))
                    elif k == "aws:principalservicename":
                        add(Caller(_instance(v), service=_instance(v)))
                    elif k == "aws:principalaccount":
                        seen_accounts.add(_instance(v))
    for c in list(out.values()):
        if c.account:
            seen_accounts.add(c.account)
    for account in sorted(seen_accounts):
        add(Caller(f"another principal of account {account}", arn=f"arn:aws:iam::{account}:user/zz-unnamed"))
        add(Caller(f"account {account}", arn=f"arn:aws:iam::{account}:root"))
    add(Caller("another account", arn="arn:aws:iam::999999999999:user/zz-unnamed"))
    add(Caller("another service", service="zz-unnamed.amazonaws.com"))
    add(Caller("an anonymous caller"))
    return list(out.values())
