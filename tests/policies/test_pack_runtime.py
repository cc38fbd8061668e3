"""policies/pack_runtime.py: each request parsed once, and not one finding different."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pack_runtime
import pytest
from google.protobuf import json_format

from tests.policies.cases import ALL
from tests.policies.harness import InProcessPack
from tests.policies.run_cases import run_case


@pytest.fixture
def plain() -> Iterator[None]:
    pack_runtime.uninstall()
    yield
    pack_runtime.uninstall()


def _all_findings(pack: InProcessPack, props: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    return [
        (
            c.id,
            sorted(
                map(repr, run_case(c, pack.configure, pack.analyze, pack.analyze_stack, props, pack.names))
            ),
        )
        for c in ALL
    ]


def test_memoised_server_finds_exactly_what_the_sdk_finds(
    plain: None, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    before = _all_findings(pack, prod_properties)
    assert pack_runtime.install()
    after = _all_findings(pack, prod_properties)
    assert after == before
    assert sum(len(f) for _, f in after) > 50, (
        "the cases must produce findings for the comparison to mean anything"
    )


def test_one_analyze_parses_the_request_once_not_once_per_policy(
    plain: None, pack: InProcessPack, prod_properties: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = json_format.MessageToDict

    def counting(message: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(id(message))
        return real(message, *args, **kwargs)

    monkeypatch.setattr(json_format, "MessageToDict", counting)
    case = next(c for c in ALL if not c.stack and c.resources[0].provider is not None)
    pack.configure({})

    pack.analyze(case.resources[0])
    unmemoised = len(calls)
    calls.clear()
    assert pack_runtime.install()  # wraps the (counting) MessageToDict that is now in place
    pack.analyze(case.resources[0])
    assert len(calls) == len(set(calls)), "a message was converted more than once in one call"
    assert len(calls) * 10 <= unmemoised, (len(calls), unmemoised)


def test_install_is_idempotent_and_reversible(plain: None) -> None:
    from pulumi_policy import policy as sdk

    original = sdk._PolicyAnalyzerServicer.Analyze
    assert pack_runtime.install() and pack_runtime.install()
    assert sdk._PolicyAnalyzerServicer.Analyze.__wrapped__ is original
    pack_runtime.uninstall()
    assert sdk._PolicyAnalyzerServicer.Analyze is original
