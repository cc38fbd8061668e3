"""USDR-WVR-01/02: the waiver warning window and expiry, at their boundaries, message by message.

Today is pinned to 2026-11-29 (tests/conftest.py) and `waiverWarningDays` is 30: a waiver with
30 days left is not yet warned about, one with 29 is; a waiver expiring today still holds (it
is honoured until its expiry date, inclusive), one that expired yesterday no longer does. The
four-ways cases (tests/policies/cases.py) check that a message contains a text; these check
that the warning is absent where it must be, which a containment check cannot.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.cases import ESTATE, SG_BUCKET, Case, sg_waiver
from tests.policies.harness import InProcessPack
from tests.policies.run_cases import run_case

WAIVED = "residency-waived"
EXPIRY = "residency-waiver-expiry"


def _messages(
    policy: str, expires: str, pack: InProcessPack, prod_properties: dict[str, Any], *, stack: bool
) -> list[str]:
    resources = ESTATE if stack else (SG_BUCKET,)
    case = Case(policy, "boundary", resources, None, config=sg_waiver(expires), stack=stack)
    found = run_case(case, pack.configure, pack.analyze, pack.analyze_stack, prod_properties, pack.names)
    return [_own(d.message) for d in found]


def _own(message: str) -> str:
    """A stack policy's message is its description, a newline, then what it found."""
    return message.splitlines()[-1]


@pytest.mark.parametrize(
    ("expires", "warned"),
    [("2027-06-30", None), ("2026-12-29", None), ("2026-12-28", 29), ("2026-11-29", 0)],
    ids=["213-days-left", "30-days-left", "29-days-left", "expires-today"],
)
def test_the_waived_finding_warns_only_inside_the_window(
    expires: str, warned: int | None, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    [message] = _messages(WAIVED, expires, pack, prod_properties, stack=False)
    assert "waived by waiver 'legacy-sg'" in message
    if warned is None:
        assert "WARNING" not in message, message
    else:
        assert message.endswith(f"; WARNING: the waiver expires in {warned} days: renew it or remediate")


@pytest.mark.parametrize(
    ("expires", "expected"),
    [
        ("2026-12-29", []),
        ("2026-12-28", ["expires in 29 days: renew it or remediate"]),
        ("2026-11-29", ["expires in 0 days: renew it or remediate"]),
        ("2026-11-28", ["has expired: the findings it covered are mandatory again"]),
    ],
    ids=["30-days-left", "29-days-left", "expires-today", "expired-yesterday"],
)
def test_waiver_expiry_at_the_boundaries(
    expires: str, expected: list[str], pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    messages = _messages(EXPIRY, expires, pack, prod_properties, stack=True)
    assert len(messages) == len(expected), messages
    for message, tail in zip(messages, expected, strict=True):
        assert message.startswith("waiver 'legacy-sg'") and message.endswith(tail), message


def test_a_waiver_that_matches_nothing_is_reported(
    pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    config = {"waivers": [{"target": "legacy-nowhere", "owner": "o", "reason": "r", "expires": "2027-06-30"}]}
    case = Case(EXPIRY, "orphan", ESTATE, None, config=config, stack=True)
    found = run_case(case, pack.configure, pack.analyze, pack.analyze_stack, prod_properties, pack.names)
    assert [_own(d.message) for d in found] == [
        "waiver 'legacy-nowhere' matches no resource and no legacy site in this stack"
    ]
