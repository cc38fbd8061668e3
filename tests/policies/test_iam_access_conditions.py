"""USDR-IAM-03 (policies/residency/iam_access_conditions.py): baseline minus one, in process and over gRPC.

The OCI facts the policy relies on, from Oracle's IAM documentation:
- Policy Syntax > Conditions (https://docs.oracle.com/iaas/Content/Identity/policysyntax/conditions.htm):
  "Syntax for a single condition: variable =|!= value"; "Syntax for multiple conditions:
  any|all {<condition>,<condition>,...}"; "Use any or all with multiple conditions for a logical OR
  or AND, respectively"; values are single-quoted; "Condition matching is case insensitive".
  A multiple condition nests as a condition of another: `where all {target.bucket.name='b', any
  {request.permission='OBJECT_CREATE', request.permission='OBJECT_INSPECT'}}` (Oracle Data Flow's
  policy for its logs bucket).
- General Variables for All Requests: `request.networkSource.name`, "The name of the network source
  group that specifies allowed IP addresses the request may come from"; `request.user.mfaTotpVerified`,
  "To restrict access to only MFA-verified users, add the condition where
  request.user.mfaTotpVerified='true'" (IAM without identity domains only).
So the cases check the *implication*: a term inside `any` with other branches is not required.
"""

from __future__ import annotations

from typing import Any

import pytest
from residency.iam_access_conditions import ConditionError, parse_condition

from tests.policies.cases import ALL

P = "residency-iam-access-conditions"


def test_the_cases_are_registered_and_cover_each_rule() -> None:
    kinds = {c.kind for c in ALL if c.policy == P}
    assert {"baseline", "violation", "missing", "config", "in-tenancy", "by-ocid", "no-mfa"} <= kinds
    assert {"network-source-internet", "network-source-non-us", "manage-all-in-tenancy"} <= kinds


def test_the_generated_config_names_the_us_compartments_and_non_us_ranges(
    prod_properties: dict[str, Any],
) -> None:
    assert prod_properties["usDataCompartments"] == ["us-data", "us-network", "us-security"]
    assert prod_properties["nonUsSourceCidrs"] == ["203.0.113.0/24"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("request.user.mfaTotpVerified", "'request.user.mfaTotpVerified' is not `variable = value`"),
        ("request.region = }", "'request.region = }' is not `variable = value`"),
        ("request.region = ,", "'request.region = ,' is not `variable = value`"),
        ("all {request.region = 'iad', request.user}", "'request.user }' is not `variable = value`"),
        ("all {request.region = 'iad' request.user = 'x'}", "expected ',' or '}' in all {...}"),
        ("all {request.region = 'iad'", "expected ',' or '}' in all {...}"),
        ("request.region = 'iad' extra", "trailing 'extra'"),
    ],
)
def test_a_malformed_condition_is_refused_naming_what_is_wrong(text: str, message: str) -> None:
    """A condition the parser cannot read is never taken for one that requires something: the
    policy fails the statement (tests/policies/cases_access.py `unparseable-condition`)."""
    with pytest.raises(ConditionError) as err:
        parse_condition(text)
    assert str(err.value) == message
