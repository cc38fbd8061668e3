"""Issue 12 item 5: a rule's test proves that rule, not another one.

Every baseline of tests/policies/cases.py (the compliant starting point a case changes one
thing of) passes *every* policy of the pack, not only the one it is listed under: so a
violation case, which changes one thing, is caught by its own rule (run_cases keeps only that
policy's findings) and not merely because the baseline already failed some other rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.cases import ALL, Case
from tests.policies.harness import InProcessPack
from tests.policies.run_cases import case_config

BASELINES = [
    # A baseline with a config of its own is judged under that config, as its own case is.
    c
    for c in ALL
    if c.kind.endswith("baseline") and c.expect is None and not c.level
]


def test_there_are_baselines_for_every_group() -> None:
    assert {c.group for c in BASELINES} == {"residency", "security", "lifecycle"}


@pytest.mark.parametrize("case", BASELINES, ids=[c.id for c in BASELINES])
def test_baseline_passes_every_policy(
    case: Case, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    pack.configure(case_config(case, prod_properties, pack.names))
    found = [d for r in case.resources for d in pack.analyze(r)]
    if case.stack:
        found += pack.analyze_stack(case.resources)
    blocking = [
        f"  {d.policy}: {d.urn or '(stack)'}: {d.message}" for d in found if d.enforcement == "mandatory"
    ]
    assert not blocking, f"{case.id}: the baseline is already caught by other rules:\n" + "\n".join(blocking)
