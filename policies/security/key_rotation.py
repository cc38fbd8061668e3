"""USDR-SEC-06 / CIS OCI 4.16: customer-managed keys rotate automatically, at least yearly.

`isAutoRotationEnabled` true and `autoKeyRotationDetails.rotationIntervalInDays` at most
`maxRotationDays` (365 by default, the CIS ceiling).
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown

META = Meta(
    name="security-key-rotation",
    control="USDR-SEC-06",
    title="Keys rotate automatically",
    description="Every oci:Kms key has automatic rotation on, with an interval of at most maxRotationDays.",
    enforcement=MANDATORY,
    severity=Severity.MEDIUM,
    types=("oci:Kms/key:Key",),
    cis="4.16",
    remediation="Set `is_auto_rotation_enabled=True` and "
    "`auto_key_rotation_details={'rotation_interval_in_days': <kms.rotationDays>}` (at most 365) on the key.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    enabled = res.props.get("isAutoRotationEnabled")
    if is_unknown(enabled):
        yield Finding("isAutoRotationEnabled is unknown during preview")
        return
    if enabled is not True:
        yield Finding(f"isAutoRotationEnabled is {enabled!r}: the key is never rotated automatically")
        return
    days = get(res.props, "autoKeyRotationDetails", "rotationIntervalInDays")
    if is_unknown(days):
        yield Finding("autoKeyRotationDetails.rotationIntervalInDays is unknown during preview")
    elif not isinstance(days, int | float) or isinstance(days, bool):
        yield Finding(
            "autoKeyRotationDetails.rotationIntervalInDays is not set: the interval is not on record"
        )
    elif days > cfg.max_rotation_days:
        yield Finding(f"rotation interval {days:g} days exceeds {cfg.max_rotation_days}")


POLICY = resource_policy(META, check)
