"""The pack's S3 bucket-policy evaluator against the documented AWS evaluation logic.

Each test names the rule of "Policy evaluation logic" / "IAM JSON policy elements" it pins
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
The last test replays the component's real policies against the tests' own strict evaluator
(`tests/legacy/iam.py`) with every request key fixed: both must agree on every request.
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from typing import Any

import pytest
from s3_policy_eval import (
    Caller,
    PolicyError,
    Target,
    Tri,
    callers_for,
    condition_test,
    decide,
    evaluate,
    parse,
    prefix_match,
)

from components.legacy_backup import log_bucket_policy, replica_bucket_policy
from tests.legacy import iam

WRITER = "arn:aws:iam::000000000000:user/legacy-replicator"
RESTORE = "arn:aws:iam::000000000000:role/us-restore"
OUTSIDER = "arn:aws:iam::000000000000:user/someone-else"
W, R, OUT = Caller("writer", arn=WRITER), Caller("restore", arn=RESTORE), Caller("outsider", arn=OUTSIDER)
ANON = Caller("anonymous")
OBJ, BKT = Target("b", objects=True), Target("b", objects=False)


def st(effect: str = "Allow", **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Effect": effect,
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    out.update(kw)
    return {k: v for k, v in out.items() if v is not None}


def policy(*statements: dict[str, Any]) -> list[Any]:
    return parse(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


# --------------------------------------------------------------------------- precedence


def test_explicit_deny_beats_any_allow_and_no_statement_is_an_implicit_deny() -> None:
    p = policy(st(Principal={"AWS": WRITER}), st("Deny", Principal="*"))
    assert decide(p, W, "s3:PutObject", OBJ) == "deny"
    assert decide(policy(st(Principal={"AWS": WRITER})), W, "s3:PutObject", OBJ) == "allow"
    assert decide(policy(st(Principal={"AWS": WRITER})), OUT, "s3:PutObject", OBJ) == "implicit"
    # The order of statements does not matter.
    assert decide(policy(st("Deny"), st(Principal={"AWS": WRITER})), W, "s3:PutObject", OBJ) == "deny"


def test_a_conditional_deny_is_no_deny_and_a_conditional_allow_still_allows() -> None:
    p = policy(
        st(Principal={"AWS": OUTSIDER}), st("Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})
    )
    v = evaluate(p, OUT, "s3:PutObject", OBJ)
    assert not v.denied and v.may_allow and decide(p, OUT, "s3:PutObject", OBJ) == "depends"
    # With the key fixed by the request, the answer is exact.
    assert decide(p, OUT, "s3:PutObject", OBJ, {"aws:SecureTransport": "false"}) == "deny"
    assert decide(p, OUT, "s3:PutObject", OBJ, {"aws:SecureTransport": "true"}) == "allow"


# --------------------------------------------------------------------------- principals


def test_star_and_aws_star_are_everyone_including_anonymous() -> None:
    for principal in ("*", {"AWS": "*"}):
        p = policy(st("Deny", Principal=principal))
        for c in (W, R, ANON, Caller("svc", service="logging.s3.amazonaws.com")):
            assert decide(p, c, "s3:PutObject", OBJ) == "deny", (principal, c)


def test_an_account_is_every_principal_of_it_and_a_user_only_itself() -> None:
    for principal in ("111111111111", "arn:aws:iam::111111111111:root"):
        p = policy(st(Principal={"AWS": principal}))
        assert (
            decide(p, Caller("x", arn="arn:aws:iam::111111111111:user/any"), "s3:PutObject", OBJ) == "allow"
        )
        assert decide(p, OUT, "s3:PutObject", OBJ) == "implicit"
    p = policy(st(Principal={"AWS": WRITER}))
    assert decide(p, Caller("look-alike", arn=WRITER + "-2"), "s3:PutObject", OBJ) == "implicit"
    assert decide(p, ANON, "s3:PutObject", OBJ) == "implicit"


def test_not_principal_applies_to_everyone_it_does_not_list() -> None:
    p = policy(
        st("Deny", Principal=None, NotPrincipal={"AWS": WRITER}), st(Principal={"AWS": [WRITER, OUTSIDER]})
    )
    assert decide(p, W, "s3:PutObject", OBJ) == "allow"
    assert decide(p, OUT, "s3:PutObject", OBJ) == "deny"
    assert decide(p, ANON, "s3:PutObject", OBJ) == "deny"
    allow_all_but = policy(st(Principal=None, NotPrincipal={"AWS": WRITER}))
    assert evaluate(allow_all_but, OUT, "s3:PutObject", OBJ).may_allow
    assert not evaluate(allow_all_but, W, "s3:PutObject", OBJ).may_allow


def test_partial_wildcards_in_a_principal_are_refused() -> None:
    with pytest.raises(PolicyError, match="wildcard inside a principal"):
        policy(st(Principal={"AWS": "arn:aws:iam::000000000000:user/*"}))


# --------------------------------------------------------------------------- actions


def test_actions_match_case_insensitively_with_wildcards() -> None:
    for pattern in ("s3:PutObject", "S3:PUTOBJECT", "s3:Put*", "s3:*", "*", "s3:PutObj?ct"):
        assert decide(policy(st(Action=pattern)), OUT, "s3:PutObject", OBJ) == "allow", pattern
    for pattern in ("s3:Get*", "s3:PutObjectAcl", "s3:Put?Object", "ec2:*"):
        assert decide(policy(st(Action=pattern)), OUT, "s3:PutObject", OBJ) == "implicit", pattern


def test_not_action_covers_everything_it_does_not_list() -> None:
    p = policy(
        st(
            "Deny",
            Action=None,
            NotAction=["s3:Get*", "s3:List*"],
            Resource=["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        )
    )
    assert decide(p, OUT, "s3:PutObject", OBJ) == "deny"
    assert decide(p, OUT, "s3:DeleteBucket", BKT) == "deny"
    assert decide(p, OUT, "s3:GetObject", OBJ) == "implicit"


# --------------------------------------------------------------------------- resources


def test_a_deny_on_the_bucket_arn_does_not_cover_its_objects_and_the_reverse() -> None:
    on_bucket = policy(st("Deny", Action="s3:*", Resource="arn:aws:s3:::b"))
    assert decide(on_bucket, OUT, "s3:PutObject", OBJ) == "implicit"
    assert decide(on_bucket, OUT, "s3:PutBucketPolicy", BKT) == "deny"
    on_objects = policy(st("Deny", Action="s3:*", Resource="arn:aws:s3:::b/*"))
    assert decide(on_objects, OUT, "s3:PutObject", OBJ) == "deny"
    assert decide(on_objects, OUT, "s3:PutBucketPolicy", BKT) == "implicit"
    # `b*` covers the bucket and its objects, and also other buckets; `b2/*` is not `b`.
    assert decide(policy(st("Deny", Resource="arn:aws:s3:::b*")), OUT, "s3:PutObject", OBJ) == "deny"
    assert decide(policy(st("Deny", Resource="arn:aws:s3:::b2/*")), OUT, "s3:PutObject", OBJ) == "implicit"


def test_a_prefix_covers_some_objects_only() -> None:
    assert prefix_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/") is Tri.TRUE
    assert prefix_match("arn:aws:s3:::b/daily/*", "arn:aws:s3:::b/") is Tri.MAYBE
    assert prefix_match("arn:aws:s3:::c/*", "arn:aws:s3:::b/") is Tri.FALSE
    assert prefix_match("arn:aws:s3:::b/", "arn:aws:s3:::b/") is Tri.FALSE  # the empty key is no object
    p = policy(st("Deny", Resource="arn:aws:s3:::b/daily/*"))
    assert not evaluate(p, OUT, "s3:PutObject", OBJ).denied
    assert decide(p, OUT, "s3:PutObject", Target("b", objects=True, key="daily/x")) == "deny"
    assert decide(p, OUT, "s3:PutObject", Target("b", objects=True, key="weekly/x")) == "implicit"


def test_not_resource_applies_to_every_other_resource() -> None:
    p = policy(st("Deny", NotResource="arn:aws:s3:::b/public/*", Resource=None))
    assert decide(p, OUT, "s3:PutObject", Target("b", objects=True, key="private/x")) == "deny"
    assert decide(p, OUT, "s3:PutObject", Target("b", objects=True, key="public/x")) == "implicit"
    assert not evaluate(p, OUT, "s3:PutObject", OBJ).denied  # not every object


def test_an_unknown_bucket_name_proves_no_deny() -> None:
    p = policy(st("Deny"), st(Principal={"AWS": OUTSIDER}))
    unknown = Target(None, objects=True)
    assert not evaluate(p, OUT, "s3:PutObject", unknown).denied
    assert evaluate(p, OUT, "s3:PutObject", unknown).may_allow


# --------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("op", "actual", "expected", "result"),
    [
        ("StringEquals", ("a",), ("a", "b"), True),
        ("StringEquals", ("A",), ("a",), False),
        ("StringEqualsIgnoreCase", ("A",), ("a",), True),
        ("StringNotEquals", ("c",), ("a", "b"), True),
        ("StringNotEquals", ("a",), ("a", "b"), False),
        ("StringLike", ("logs/2026",), ("logs/*",), True),
        ("StringNotLike", ("logs/2026",), ("logs/*",), False),
        ("ArnLike", ("arn:aws:iam::1:user/x",), ("arn:aws:iam::*:user/*",), True),
        ("ArnNotLike", ("arn:aws:iam::1:role/x",), ("arn:aws:iam::*:user/*",), True),
        ("Bool", ("TRUE",), ("true",), True),
        ("IpAddress", ("10.1.2.3",), ("10.0.0.0/8",), True),
        ("NotIpAddress", ("10.1.2.3",), ("10.0.0.0/8",), False),
        ("IpAddress", ("2001:db8::1",), ("2001:db8::/32",), True),
        ("NumericLessThan", ("5",), ("10",), True),
        ("DateGreaterThanEquals", ("2027-08-31T00:00:00Z",), ("2027-08-31T00:00:00Z",), True),
        ("DateLessThan", ("2027-08-31T00:00:00Z",), ("2027-08-30",), False),
        # An absent key: false, but true for a negated operator, IfExists, and Null "true".
        ("StringEquals", None, ("a",), False),
        ("StringNotEquals", None, ("a",), True),
        ("StringEqualsIfExists", None, ("a",), True),
        ("StringEqualsIfExists", ("b",), ("a",), False),
        ("Null", None, ("true",), True),
        ("Null", ("x",), ("true",), False),
        ("Null", ("x",), ("false",), True),
        # Set operators on multivalued keys.
        ("ForAnyValue:StringEquals", ("a", "z"), ("a",), True),
        ("ForAnyValue:StringEquals", None, ("a",), False),
        ("ForAllValues:StringEquals", ("a", "z"), ("a",), False),
        ("ForAllValues:StringEquals", ("a",), ("a", "b"), True),
        ("ForAllValues:StringEquals", None, ("a",), True),
        ("ForAnyValue:StringNotEquals", ("a", "z"), ("a",), True),
    ],
)
def test_condition_operators(
    op: str, actual: tuple[str, ...] | None, expected: tuple[str, ...], result: bool
) -> None:
    assert condition_test(op, actual, expected) is result


def test_operators_and_keys_are_anded_values_ored() -> None:
    cond = {
        "StringEquals": {"aws:PrincipalArn": [WRITER, RESTORE], "aws:PrincipalAccount": "000000000000"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    p = policy(st(Condition=cond))
    assert decide(p, W, "s3:PutObject", OBJ, {"aws:SecureTransport": "true"}) == "allow"
    assert decide(p, R, "s3:PutObject", OBJ, {"aws:SecureTransport": "true"}) == "allow"
    assert decide(p, W, "s3:PutObject", OBJ, {"aws:SecureTransport": "false"}) == "implicit"
    assert decide(p, OUT, "s3:PutObject", OBJ, {"aws:SecureTransport": "true"}) == "implicit"


def test_identity_keys_are_known_per_caller_and_key_names_ignore_case() -> None:
    p = policy(st("Deny", Condition={"StringNotEquals": {"AWS:principalarn": WRITER}}))
    assert decide(p, W, "s3:PutObject", OBJ) == "implicit"
    assert decide(p, OUT, "s3:PutObject", OBJ) == "deny"
    assert decide(p, ANON, "s3:PutObject", OBJ) == "deny"  # the key is absent: a negated operator holds
    svc = policy(
        st("Deny", Condition={"StringNotEquals": {"aws:PrincipalServiceName": "logging.s3.amazonaws.com"}})
    )
    assert decide(svc, Caller("log", service="logging.s3.amazonaws.com"), "s3:PutObject", OBJ) == "implicit"
    assert decide(svc, W, "s3:PutObject", OBJ) == "deny"


def test_unknown_operators_and_malformed_statements_are_refused() -> None:
    with pytest.raises(PolicyError, match="cannot be evaluated"):
        policy(st(Condition={"StringFancy": {"aws:PrincipalArn": WRITER}}))
    with pytest.raises(PolicyError, match="cannot be evaluated"):
        policy(st(Condition={"ForSomeValues:StringEquals": {"k": "v"}}))
    with pytest.raises(PolicyError, match="exactly one of Action and NotAction"):
        policy(st(NotAction="s3:Get*"))
    with pytest.raises(PolicyError, match="not Allow or Deny"):
        policy(st("Maybe"))
    with pytest.raises(PolicyError, match="not valid JSON"):
        parse("{not json")


def test_callers_include_every_named_principal_and_the_unnamed() -> None:
    p = policy(
        st(Principal={"AWS": ["111111111111", OUTSIDER], "Service": "s.amazonaws.com"}),
        st("Deny", Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/legacy-*"}}),
    )
    labels = {c.label for c in callers_for(p, (WRITER, RESTORE))}
    assert {WRITER, RESTORE, OUTSIDER, "111111111111", "s.amazonaws.com"} <= labels
    assert "arn:aws:iam::000000000000:user/legacy-zz" in labels  # a name the pattern lets through
    assert {"another account", "another service", "an anonymous caller"} <= labels


# --------------------------------------------------------------------------- against the tests' evaluator

DEPLOYER = "arn:aws:iam::000000000000:role/legacy-deployer"
ACTIONS = ("s3:PutObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:ListBucket", "s3:PutBucketPolicy")


@pytest.mark.parametrize("mode", ["replica", "frozen"])
def test_agrees_with_the_strict_test_evaluator_on_the_components_policies(mode: str) -> None:
    drain = date(2027, 8, 31)
    docs = [
        replica_bucket_policy(
            "b",
            mode=mode,
            writer=WRITER if mode == "replica" else None,
            restore_principal=RESTORE,
            deployer=DEPLOYER,
            drain_start=drain,
        ),
        log_bucket_policy("b", sources=["src"], restore_principal=RESTORE, deployer=DEPLOYER),
    ]
    callers = [
        (iam.Caller("w", aws=WRITER), Caller("w", arn=WRITER)),
        (iam.Caller("r", aws=RESTORE), Caller("r", arn=RESTORE)),
        (iam.Caller("o", aws=OUTSIDER), Caller("o", arn=OUTSIDER)),
        (iam.Caller("d", aws=DEPLOYER), Caller("d", arn=DEPLOYER)),
        (iam.Caller("a"), Caller("a")),
        (
            iam.Caller(
                "log", service="logging.s3.amazonaws.com", context={"aws:SourceArn": "arn:aws:s3:::src"}
            ),
            Caller("log", service="logging.s3.amazonaws.com"),
        ),
    ]
    contexts = [
        {"aws:SecureTransport": tls, "aws:CurrentTime": when, "aws:SourceArn": "arn:aws:s3:::src"}
        for tls, when in itertools.product(
            ("true", "false"), ("2027-01-01T00:00:00Z", "2027-09-01T00:00:00Z")
        )
    ]
    for d, (theirs, ours), action, ctx in itertools.product(docs, callers, ACTIONS, contexts):
        bucket_level = action == "s3:ListBucket" or action.startswith("s3:PutBucket")
        resource = "arn:aws:s3:::b" if bucket_level else "arn:aws:s3:::b/k"
        target = Target("b", objects=not bucket_level, key=None if bucket_level else "k")
        expected = iam.decide(
            d, theirs, action, resource, **{k: v for k, v in ctx.items() if k != "aws:SourceArn"}
        )
        got = decide(parse(json.dumps(d)), ours, action, target, ctx)
        assert got == expected, (d["Statement"][0].get("Sid"), theirs.label, action, ctx)
