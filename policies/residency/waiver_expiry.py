"""USDR-WVR-02 (advisory): waivers that expired, expire soon, or cover nothing.

Reported once per stack: an expired waiver (its findings are mandatory again), one with
fewer than `waiverWarningDays` days left, and one whose target matches no resource (URN or
logical name) and no legacy site any resource uses: a stale exception nobody reviews.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from legacy_sites import site_of
from pack_config import PackConfig
from pack_policy import ADVISORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource

META = Meta(
    name="residency-waiver-expiry",
    control="USDR-WVR-02",
    title="Waivers expired, expiring or unused",
    description="Waivers that have expired (their findings block again), expire within the warning window, "
    "or match nothing in the stack are reported.",
    enforcement=ADVISORY,
    severity=Severity.MEDIUM,
    remediation="Renew a waiver that is still needed (new expiry, owner and reason, at most 365 days), or "
    "remove it from the stack's waivers list once the exception is gone.",
)


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    targets: set[str] = set()
    for r in resources:
        targets.update((r.urn, r.name))
        site = site_of(r, cfg)
        if site is not None:
            targets.add(site.name)
    for w in cfg.waivers:
        left = w.days_left(cfg.today)
        if left < 0:
            yield "", f"{w.describe(cfg.today)} has expired: the findings it covered are mandatory again"
        elif left < cfg.waiver_warning_days:
            yield "", f"{w.describe(cfg.today)} expires in {left} days: renew it or remediate"
        if w.target not in targets:
            yield "", f"waiver {w.target!r} matches no resource and no legacy site in this stack"


POLICY = stack_policy(META, check)
