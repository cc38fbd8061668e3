"""What preflight cannot evaluate offline is a finding, never a silent pass (issue 11, item 5).

The monitor marks a record `unevaluable` when the engine's view of it needs a provider that
cannot run here: a multi-language (remote) component, whose children its provider plugin
constructs, or a dynamic provider resource, whose create is the program's own code run at
deploy time. Each becomes a mandatory finding of preflight's own (source `preflight`, policy
`preflight-offline-unevaluable`) naming the resource and why.

A time-boxed waiver accepts one: preflight honours the waivers the run's policy config already
gives the pack, in the pack's shape (`{target, owner, reason, expires}` under any policy's
`waivers`; target = the resource's logical name or URN). An active waiver makes the finding
advisory and names the waiver; an expired one leaves it mandatory and says so. The date is
today (UTC), or `USDR_TODAY` when pinned, as the pack and the stacks read it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from preflight.model import Finding, ResourceRecord

SOURCE = "preflight"
POLICY = "preflight-offline-unevaluable"
TODAY_ENV = "USDR_TODAY"


@dataclass(frozen=True)
class _Waiver:
    target: str
    owner: str
    reason: str
    expires: date


def today() -> date:
    pinned = os.environ.get(TODAY_ENV)
    if pinned:
        with contextlib.suppress(ValueError):
            return date.fromisoformat(pinned)
    return datetime.now(UTC).date()


def waivers(policy_config: Mapping[str, Any] | None) -> list[_Waiver]:
    """The waivers of the policy config (any policy's `waivers`), each once. An entry that is not
    a complete waiver is skipped here: the pack validates its own config and reports it."""
    found: dict[tuple[str, str], _Waiver] = {}
    for entry in (policy_config or {}).values():
        listed = entry.get("waivers") if isinstance(entry, Mapping) else None
        for raw in listed if isinstance(listed, list) else []:
            if not isinstance(raw, Mapping):
                continue
            target, expires = raw.get("target"), raw.get("expires")
            try:
                when = date.fromisoformat(str(expires))
            except ValueError:
                continue
            if isinstance(target, str) and target:
                found[(target, when.isoformat())] = _Waiver(
                    target, str(raw.get("owner") or "?"), str(raw.get("reason") or ""), when
                )
    return list(found.values())


def findings(
    records: Iterable[ResourceRecord], policy_config: Mapping[str, Any] | None, on: date | None = None
) -> list[Finding]:
    day = on or today()
    known = waivers(policy_config)
    out: list[Finding] = []
    for record in records:
        if record.unevaluable is None:
            continue
        message = f"{record.type} {record.name!r} cannot be evaluated offline: {record.unevaluable}"
        matching = sorted(
            (w for w in known if w.target in (record.name, record.urn)), key=lambda w: w.expires, reverse=True
        )
        waiver = matching[0] if matching else None
        enforcement = "mandatory"
        waived: str | None = None
        if waiver is not None and day <= waiver.expires:
            enforcement, waived = "advisory", waiver.target
            message += (
                f"; accepted by waiver {waiver.target!r} (owner {waiver.owner}, expires {waiver.expires}; "
                f"reason: {waiver.reason})"
            )
        elif waiver is not None:
            message += f"; waiver {waiver.target!r} expired on {waiver.expires}"
        else:
            message += "; run the gate with the Pulumi CLI, or accept it with a time-boxed waiver"
        out.append(
            Finding(
                source=SOURCE,
                policy=POLICY,
                enforcement=enforcement,  # type: ignore[arg-type]
                severity="high",
                urn=record.urn,
                type=record.type,
                name=record.name,
                region=record.region,
                message=message,
                location=record.location,
                waiver=waived,
            )
        )
    return out
