"""USDR-LEG-04: nothing at a legacy site is locked past its sunset.

S3 Object Lock at a legacy site: compliance-mode default retention is a violation (nobody,
not even the root user, can delete before it ends); governance-mode retention that runs past
the sunset is a violation (lifecycle expiry cannot remove locked versions); and enabling
Object Lock on a legacy bucket is a violation (it cannot be turned off, and any writer can
lock single objects past the sunset).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from legacy_sites import site_of
from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown

LOCK_CONFIGS = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")

META = Meta(
    name="legacy-replica-retention",
    control="USDR-LEG-04",
    title="No locked retention on legacy replicas",
    description="At a legacy site: no compliance-mode Object Lock, no governance retention past the sunset, "
    "no Object Lock enabled on a bucket.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    types=(*LOCK_CONFIGS, *BUCKETS),
    remediation="Remove the BucketObjectLockConfiguration and create legacy buckets with "
    "object_lock_enabled=False; read-only-ness comes from the bucket policy (legacy-replica-lockdown), "
    "deletion from the lifecycle rule (legacy-replica-expiry). A bucket that already has Object Lock must "
    "be replaced by a new bucket.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    site = site_of(res, cfg)
    if site is None:
        return
    enabled = res.props.get("objectLockEnabled")
    if is_unknown(enabled):
        yield Finding(f"site {site.name}: objectLockEnabled is unknown during preview", site.name)
    elif enabled is True or enabled == "Enabled":
        yield Finding(
            f"site {site.name}: Object Lock is enabled: objects can be locked past the sunset", site.name
        )
    if res.type not in LOCK_CONFIGS:
        return
    retention = get(res.props, "rule", "defaultRetention")
    if is_unknown(retention):
        yield Finding(f"site {site.name}: the default retention is unknown during preview", site.name)
        return
    mode = get(retention, "mode")
    if mode == "COMPLIANCE":
        yield Finding(
            f"site {site.name}: compliance-mode retention cannot be shortened or removed", site.name
        )
        return
    days = get(retention, "days") or 0
    years = get(retention, "years") or 0
    if isinstance(days, int | float) and isinstance(years, int | float) and (days or years):
        until = cfg.today + timedelta(days=float(days) + 365.25 * float(years))
        if until > site.sunset:
            yield Finding(
                f"site {site.name}: {mode or 'default'} retention locks new objects until about {until}, "
                f"after the sunset {site.sunset}",
                site.name,
            )


POLICY = resource_policy(META, check)
