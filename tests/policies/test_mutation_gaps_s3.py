"""S3's evaluation of a principal (policies/s3_policy_eval.py), the cases the mutation run showed
missing (issue 20, docs/mutation-testing.md): a canonical user, a service and a federated
principal are each only themselves, so a deny naming one of them denies nobody else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from s3_policy_eval import Caller, Target, decide, parse

OBJ = Target("b", objects=True)


def _policy(*statements: dict[str, Any]) -> list[Any]:
    return parse(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


@pytest.mark.parametrize(
    ("kind", "named", "same", "other"),
    [
        (
            "CanonicalUser",
            "a" * 64,
            Caller("cu", canonical_user="a" * 64),
            Caller("cu2", canonical_user="b" * 64),
        ),
        (
            "Service",
            "logging.s3.amazonaws.com",
            Caller("svc", service="logging.s3.amazonaws.com"),
            Caller("svc2", service="cloudtrail.amazonaws.com"),
        ),
    ],
)
def test_a_principal_of_a_kind_is_only_itself(kind: str, named: str, same: Caller, other: Caller) -> None:
    allow_all = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    deny_one = {**allow_all, "Effect": "Deny", "Principal": {kind: named}}
    p = _policy(allow_all, deny_one)
    assert decide(p, same, "s3:PutObject", OBJ) == "deny"
    assert decide(p, other, "s3:PutObject", OBJ) == "allow", f"a deny of one {kind} is no deny of another"
    assert decide(p, Caller("user", arn="arn:aws:iam::000000000000:user/u"), "s3:PutObject", OBJ) == "allow"
