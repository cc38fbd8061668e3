"""USDR-WVR-01 (advisory): residency findings an active waiver covers, naming the waiver.

CrossGuard fixes enforcement per policy, so this is how a waived finding "becomes advisory":
the waivable mandatory policies skip what an active waiver covers, and this policy reports
exactly those findings at advisory level, with the waiver's target, owner, reason and
expiry; fewer than `waiverWarningDays` (30) days left adds a warning. After expiry the
mandatory policy reports the finding again and this one stays silent.
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import ADVISORY, Finding, Meta, resource_policy, waived_findings
from pulumi_policy import Severity
from resource_props import Resource
from security import par_public_read

from residency import aws_location, cross_region, location_values, oci_region, referenced_ocids

# Where data is, and a deliberate, time-boxed public share of it (a PAR): never who may write
# it or how long it lives.
WAIVABLE = (oci_region, aws_location, cross_region, referenced_ocids, location_values, par_public_read)

META = Meta(
    name="residency-waived",
    control="USDR-WVR-01",
    title="Waived residency findings",
    description="A residency finding covered by an active waiver is reported here, as advisory, with the "
    "waiver that covers it; it blocks again once the waiver expires.",
    enforcement=ADVISORY,
    severity=Severity.HIGH,
    types=tuple(sorted({t for m in WAIVABLE for t in m.META.types})),
    remediation="Nothing blocks while the waiver is active. Before it expires, remove the exception (move "
    "the data to an approved region, decommission the site) or renew the waiver with a new expiry, owner "
    "and reason in the stack's waivers list.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    for module in WAIVABLE:
        if not module.META.applies_to(res.type):
            continue
        for finding, waiver in waived_findings(module.META, module.check, res, cfg):
            left = waiver.days_left(cfg.today)
            warn = (
                f"; WARNING: the waiver expires in {left} days: renew it or remediate"
                if left < cfg.waiver_warning_days
                else ""
            )
            yield Finding(
                f"[{module.META.name}] {finding.message}: waived by {waiver.describe(cfg.today)}{warn}"
            )


POLICY = resource_policy(META, check)
