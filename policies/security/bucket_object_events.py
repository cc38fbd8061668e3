"""USDR-SEC-04: buckets emit object events.

`objectEventsEnabled` must be true so object creation, update and deletion reach the Events
service (and from there detection and the audit trail). Missing = false.
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown

META = Meta(
    name="security-bucket-object-events",
    control="USDR-SEC-04",
    title="Buckets emit object events",
    description="Every oci:ObjectStorage bucket has objectEventsEnabled true.",
    enforcement=MANDATORY,
    severity=Severity.MEDIUM,
    types=("oci:ObjectStorage/bucket:Bucket",),
    remediation="Set `object_events_enabled=True` on the bucket and route the events (Events rule or "
    "Service Connector) to the security compartment's logging.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    events = res.props.get("objectEventsEnabled")
    if is_unknown(events):
        yield Finding("objectEventsEnabled is unknown during preview: events cannot be proven on")
    elif events is not True:
        yield Finding(f"objectEventsEnabled is {events!r}: object changes are not emitted as events")


POLICY = resource_policy(META, check)
