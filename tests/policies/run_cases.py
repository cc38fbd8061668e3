"""Running a Case against a pack (in process or over gRPC) and judging the result."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tests.policies.cases import Case
from tests.policies.harness import Diag, Res, full_config


def case_config(case: Case, base: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    properties = {**base, **case.config}
    extra = {case.policy: {"enforcementLevel": case.level}} if case.level else {}
    return full_config(properties, names, **extra)


def run_case(
    case: Case,
    configure: Callable[[Mapping[str, Any]], None],
    analyze: Callable[[Res], list[Diag]],
    analyze_stack: Callable[[Iterable[Res]], list[Diag]],
    base: Mapping[str, Any],
    names: Iterable[str],
) -> list[Diag]:
    configure(case_config(case, base, names))
    found = analyze_stack(case.resources) if case.stack else [d for r in case.resources for d in analyze(r)]
    return [d for d in found if d.policy == case.policy]


def judge(case: Case, found: list[Diag]) -> None:
    shown = "\n".join(f"  [{d.enforcement}] {d.urn or '(stack)'}: {d.message}" for d in found) or "  (none)"
    if case.expect is None:
        assert not found, f"{case.id}: expected no finding, got:\n{shown}"
        return
    level, text = case.expect
    assert found, f"{case.id}: expected a {level} finding containing {text!r}, got none"
    assert any(text in d.message for d in found), f"{case.id}: no finding contains {text!r}:\n{shown}"
    assert all(d.enforcement == level for d in found), f"{case.id}: expected every finding {level}:\n{shown}"
