"""The lifecycle policies, four ways each (tests/policies/cases.py), through the SDK's analyzer servicer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.cases import ALL, Case
from tests.policies.harness import InProcessPack
from tests.policies.run_cases import judge, run_case

CASES = [c for c in ALL if c.group == "lifecycle"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_policy(case: Case, pack: InProcessPack, prod_properties: dict[str, Any]) -> None:
    found = run_case(case, pack.configure, pack.analyze, pack.analyze_stack, prod_properties, pack.names)
    judge(case, found)
