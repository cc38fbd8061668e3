"""What one synthesis produced, as it is saved, streamed and compared."""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preflight.errors import InternalFailure
from preflight.model import ResourceRecord

SCHEMA = 1


def _needs(record: ResourceRecord) -> Iterable[str]:
    """The URNs a record cannot come before: its parent, its provider, what it depends on."""
    if record.parent:
        yield record.parent
    if record.provider:
        yield record.provider.rsplit("::", 1)[0]  # a provider reference is "<urn>::<id>"
    yield from record.dependencies
    for urns in record.property_dependencies.values():
        yield from urns


def canonical_order(records: Iterable[ResourceRecord]) -> list[ResourceRecord]:
    """The records in one order whatever order they registered in: each after its parent,
    provider and dependencies, and among those free to come next, the smallest URN first.

    The SDK registers resources as their inputs resolve, which differs from one process to the
    next (its dependency sets are `set`s of resources, hashed by identity, and the order asyncio
    resolves them in follows), so registration order is not a property of the program. Every
    output built from the records (the stack the pack analyzes, findings' order, reports,
    tfplan, attestation, diff) takes this order and is the same across processes
    (tests/preflight/test_synth_determinism.py). A cycle cannot happen (a resource needs its
    dependencies' URNs to register); if one did, the rest follow in URN order.
    """
    by_urn = {r.urn: r for r in records}
    waiting: dict[str, set[str]] = {}
    blocks: dict[str, list[str]] = {}
    for urn, record in by_urn.items():
        needs = {n for n in _needs(record) if n in by_urn and n != urn}
        waiting[urn] = needs
        for n in needs:
            blocks.setdefault(n, []).append(urn)
    ready = [urn for urn, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    out: list[ResourceRecord] = []
    while ready:
        urn = heapq.heappop(ready)
        out.append(by_urn[urn])
        for later in blocks.get(urn, ()):
            waiting[later].discard(urn)
            if not waiting[later]:
                heapq.heappush(ready, later)
    if len(out) < len(by_urn):
        placed = {r.urn for r in out}
        out.extend(by_urn[u] for u in sorted(by_urn) if u not in placed)
    return out


@dataclass
class SynthResult:
    project: str
    stack: str
    stack_urn: str
    resources: list[ResourceRecord]  # canonical_order: the stack first, each after what it needs
    outputs: dict[str, Any]  # stack outputs, secrets masked
    config_source: str = ""  # the stack file that was read, relative to the project when inside it
    warnings: list[str] = field(default_factory=list)  # program warnings, invokes answered offline
    seconds: float = 0.0
    # How the program ended: "completed after N resources" or "exited(0) after N resources"
    # (sys.exit(0) part way is success to the engine too; reports say it out loud).
    ended: str = ""

    def __post_init__(self) -> None:
        self.resources = canonical_order(self.resources)

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {r.urn: r for r in self.resources}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "project": self.project,
            "stack": self.stack,
            "stack_urn": self.stack_urn,
            "config_source": self.config_source,
            "resources": [r.to_dict() for r in self.resources],
            "outputs": self.outputs,
            "warnings": list(self.warnings),
            "seconds": self.seconds,
            "ended": self.ended,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthResult:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InternalFailure(f"synth result: expected a mapping with schema {SCHEMA}")
        try:
            return cls(
                project=data["project"],
                stack=data["stack"],
                stack_urn=data["stack_urn"],
                config_source=data.get("config_source", ""),
                resources=[ResourceRecord(**r) for r in data["resources"]],
                outputs=dict(data.get("outputs") or {}),
                warnings=list(data.get("warnings") or []),
                seconds=float(data.get("seconds") or 0.0),
                ended=str(data.get("ended") or ""),
            )
        except (KeyError, TypeError) as exc:
            raise InternalFailure(f"synth result: malformed ({exc})") from None


def write_result(result: SynthResult, path: Path) -> None:
    path.write_text(json.dumps(result.to_dict(), indent=None, sort_keys=False) + "\n", encoding="utf-8")
