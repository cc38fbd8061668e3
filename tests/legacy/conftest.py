"""A mocks harness that records what the engine would see for the legacy sites.

`MockResourceArgs` carries no parent, provider reference or protect flag, so a MockMonitor
subclass records the raw RegisterResourceRequest instead. `synth(fn)` runs `fn` as a Pulumi
program under mocks and returns every registered resource (or the exception `fn` raised, with
whatever was registered before it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks, rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from stacks.settings import PROJECT, Settings


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    parent: str
    provider: str  # "urn::id" of the explicit provider, "" if none
    protect: bool
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)

    def json_input(self, key: str) -> Any:
        """Providers JSON-encode their non-string inputs; resources pass policies as JSON text."""
        value = self.inputs[key]
        return json.loads(value) if isinstance(value, str) else value


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, m: mocks.Mocks) -> None:
        super().__init__(m)
        self.records: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            mocks._ensure_event_loop()
            self.records.append(
                Registered(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    provider=request.provider,
                    protect=request.protect,
                    custom=request.custom,
                    inputs=rpc.deserialize_properties(request.object),
                    dependencies=list(request.dependencies),
                )
            )
        return response


class EchoMocks(mocks.Mocks):
    """Outputs = inputs, plus the attributes S3 computes."""

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "aws:s3/bucket:Bucket":
            state["arn"] = f"arn:aws:s3:::{state['bucket']}"
            return state["bucket"], state
        return f"{args.name}-id", state

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise AssertionError(f"the legacy sites must not invoke provider functions, got {args.token}")


@dataclass
class Synth:
    resources: list[Registered]
    error: BaseException | None

    def of_type(self, t: str) -> list[Registered]:
        return [r for r in self.resources if r.type == t]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)

    def one(self, t: str, name: str) -> Registered:
        found = [r for r in self.resources if r.type == t and r.name == name]
        assert len(found) == 1, f"expected one {t} named {name}, found {[r.urn for r in found]}"
        return found[0]


def synth(fn: Callable[[], object], stack: str = "prod") -> Synth:
    monitor = RecordingMonitor(EchoMocks())
    pulumi.runtime.set_mocks(EchoMocks(), project=PROJECT, stack=stack, preview=False, monitor=monitor)
    error: BaseException | None = None

    def program() -> None:
        fn()

    try:
        _sync_await(run_pulumi_func(program))
    except Exception as exc:
        error = exc
    return Synth(monitor.records, error)


@pytest.fixture
def run() -> Callable[..., Synth]:
    return synth


def site_of(r: Registered) -> str:
    """The legacy site a child belongs to: the name of its parent LegacyBackup."""
    assert r.parent.split("::")[-2].endswith("usdr:legacy:LegacyBackup"), f"{r.urn}: parent {r.parent}"
    return r.parent.split("::")[-1]


@pytest.fixture(scope="session")
def prod_synth(prod_settings: Settings) -> Synth:
    from stacks.legacy import build_legacy_sites

    result = synth(lambda: build_legacy_sites(prod_settings), stack="prod")
    assert result.error is None, result.error
    return result


@pytest.fixture(scope="session")
def staging_synth(staging_settings: Settings) -> Synth:
    from stacks.legacy import build_legacy_sites

    result = synth(lambda: build_legacy_sites(staging_settings), stack="staging")
    assert result.error is None, result.error
    return result
