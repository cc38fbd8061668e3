"""A small, deliberately strict evaluator of S3 bucket policies, for the tests only.

It answers one question the way S3 does: for this caller, action, resource and request
context, is the request explicitly denied, explicitly allowed, or neither? An explicit deny
always wins. Anything it does not understand (NotPrincipal, NotAction, NotResource, a
condition operator not listed below) raises, so a policy that drifts past what the tests can
reason about fails the tests instead of passing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, Literal

Decision = Literal["deny", "allow", "implicit"]


@dataclass(frozen=True)
class Caller:
    label: str
    aws: str | None = None  # IAM user/role ARN (for a role: the role, as bucket policies name it)
    service: str | None = None  # a service principal such as logging.s3.amazonaws.com
    context: Mapping[str, str] = field(default_factory=dict)

    def request_context(self, **extra: str) -> dict[str, str]:
        ctx = dict(self.context)
        if self.aws:
            ctx["aws:PrincipalArn"] = self.aws
        if self.service:
            ctx["aws:PrincipalServiceName"] = self.service
        ctx.update(extra)
        return ctx


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise ValueError(f"unsupported Principal {principal!r}")
    for kind, values in principal.items():
        for v in _as_list(values):
            if kind == "AWS" and (v == "*" or v == caller.aws) and caller.aws:
                return True
            if kind == "Service" and v == caller.service and caller.service:
                return True
            if kind not in ("AWS", "Service"):
                raise ValueError(f"unsupported principal type {kind!r}")
    return False


def _action_matches(actions: Any, action: str) -> bool:
    return any(fnmatchcase(action.lower(), a.lower()) for a in _as_list(actions))


def _resource_matches(resources: Any, resource: str) -> bool:
    return any(fnmatchcase(resource, r) for r in _as_list(resources))


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _test(op: str, actual: str | None, expected: list[str]) -> bool:
    negated = "Not" in op
    if actual is None:
        # AWS: a negated operator on an absent key matches, any other operator does not.
        return negated
    if op == "Bool":
        return actual.lower() in [e.lower() for e in expected]
    if op == "StringEquals":
        return actual in expected
    if op == "StringNotEquals":
        return actual not in expected
    if op in ("ArnLike", "ArnEquals"):
        return any(fnmatchcase(actual, e) for e in expected)
    if op == "ArnNotLike":
        return not any(fnmatchcase(actual, e) for e in expected)
    if op == "DateGreaterThanEquals":
        return any(_date(actual) >= _date(e) for e in expected)
    if op == "DateLessThan":
        return any(_date(actual) < _date(e) for e in expected)
    raise ValueError(f"unsupported condition operator {op!r}")


def _conditions_hold(condition: Mapping[str, Any] | None, ctx: Mapping[str, str]) -> bool:
    for op, checks in (condition or {}).items():
        for key, expected in checks.items():
            if not _test(op, ctx.get(key), [str(e) for e in _as_list(expected)]):
                return False
    return True


def decide(policy: Mapping[str, Any], caller: Caller, action: str, resource: str, **context: str) -> Decision:
    """S3's verdict from the bucket policy alone. `context`: request keys such as aws:SecureTransport."""
    ctx = caller.request_context(**context)
    allowed = False
    for st in policy["Statement"]:
        for unsupported in ("NotPrincipal", "NotAction", "NotResource"):
            if unsupported in st:
                raise ValueError(
                    f"statement {st.get('Sid')}: {unsupported} is not understood by this evaluator"
                )
        if st["Effect"] not in ("Allow", "Deny"):
            raise ValueError(f"statement {st.get('Sid')}: effect {st['Effect']!r}")
        if not (
            _principal_matches(st["Principal"], caller)
            and _action_matches(st["Action"], action)
            and _resource_matches(st["Resource"], resource)
            and _conditions_hold(st.get("Condition"), ctx)
        ):
            continue
        if st["Effect"] == "Deny":
            return "deny"
        allowed = True
    return "allow" if allowed else "implicit"
