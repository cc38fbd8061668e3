"""What one synthesis produced, as it is saved, streamed and compared."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preflight.errors import InternalFailure
from preflight.model import ResourceRecord

SCHEMA = 1


@dataclass
class SynthResult:
    project: str
    stack: str
    stack_urn: str
    resources: list[ResourceRecord]  # registration order, the stack first
    outputs: dict[str, Any]  # stack outputs, secrets masked
    config_source: str = ""  # the stack file that was read, relative to the project when inside it
    warnings: list[str] = field(default_factory=list)  # program warnings, invokes answered offline
    seconds: float = 0.0
    # How the program ended: "completed after N resources" or "exited(0) after N resources"
    # (sys.exit(0) part way is success to the engine too; reports say it out loud).
    ended: str = ""

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
