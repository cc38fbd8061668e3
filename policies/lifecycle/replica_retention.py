"""USDR-LEG-04: nothing at a legacy site is locked past its sunset, in any form of Object Lock.

A bucket that must be empty by a date cannot hold a version that S3 refuses to delete: S3
Lifecycle does not remove a locked version, and Object Lock, once enabled on a bucket, cannot
be disabled (Amazon S3 User Guide, "Locking objects with Object Lock"). At a legacy site:

- Object Lock enabled on a bucket is a violation in every form: `objectLockEnabled` on
  `aws.s3.Bucket`/`BucketV2`, the deprecated inline `objectLockConfiguration` of
  `aws.s3.Bucket`, or a `BucketObjectLockConfiguration(V2)` (its `objectLockEnabled` defaults
  to `Enabled`, its only valid value: the resource enables Object Lock on the bucket; pulumi-aws
  `BucketObjectLockConfigurationV2` docstring). Once enabled, any writer can lock single
  objects past the sunset.
- A default retention is judged by what it does to the last version written under it: in
  COMPLIANCE mode nobody, not even the root user, can shorten or remove it; in GOVERNANCE mode
  lifecycle expiry still cannot remove the version. Each new version is locked for the period
  from when it is written. At a `replica` site versions may be written up to the sunset (the
  write stop is judged by `legacy-replica-expiry`), so any period outlives it; at a `frozen`
  site nobody writes (`legacy-replica-lockdown`), so the last lock ends at most the period from
  today.
- Objects declared by the program (`BucketObject`, `BucketObjectv2`, `ObjectCopy`) with a
  legal hold (no end date at all) or an `objectLockRetainUntilDate` after the sunset.
Anything unknown during preview cannot be proven to end in time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from legacy_sites import site_of
from pack_config import LegacySite, PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown, text

LOCK_CONFIGS = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
OBJECTS = (
    "aws:s3/bucketObject:BucketObject",
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:s3/objectCopy:ObjectCopy",
)

META = Meta(
    name="legacy-replica-retention",
    control="USDR-LEG-04",
    title="No Object Lock on legacy replicas",
    description="At a legacy site: no Object Lock enabled in any form (bucket flag, inline configuration, "
    "lock configuration resource), no default retention, object retention or legal hold outliving the "
    "sunset.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    types=(*LOCK_CONFIGS, *BUCKETS, *OBJECTS),
    remediation="Remove the BucketObjectLockConfiguration and the inline object_lock_configuration, "
    "create legacy buckets with object_lock_enabled=False, and declare no object with a legal hold or a "
    "retain-until date after the sunset; read-only-ness comes from the bucket policy "
    "(legacy-replica-lockdown), deletion from the lifecycle rule (legacy-replica-expiry). A bucket that "
    "already has Object Lock must be replaced by a new bucket.",
)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if text(value) else None
    except ValueError:
        return None


def judge_retention(retention: Any, where: str, site: LegacySite, cfg: PackConfig) -> Iterator[str]:
    """What a default retention (`{mode, days, years}`) does to the last version written under it."""
    if retention is None:
        return
    if is_unknown(retention) or not isinstance(retention, dict):
        yield f"{where}: the default retention is unknown during preview"
        return
    mode = retention.get("mode")
    if is_unknown(mode):
        yield f"{where}: the retention mode is unknown during preview"
    elif mode == "COMPLIANCE":
        yield f"{where}: compliance-mode retention cannot be shortened or removed, not even by the root user"
        return
    days, years = retention.get("days"), retention.get("years")
    if is_unknown(days) or is_unknown(years):
        yield f"{where}: the retention period is unknown during preview"
        return
    if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in (days, years)):
        yield f"{where}: the retention period is not a number"
        return
    period = timedelta(days=float(days or 0) + 366 * float(years or 0))
    if period <= timedelta(0):
        return
    last_write = site.sunset if site.mode == "replica" else cfg.today
    until = last_write + period
    if until > site.sunset:
        written = (
            "up to the sunset (mode replica)" if site.mode == "replica" else f"until today ({cfg.today})"
        )
        yield (
            f"{where}: {mode or 'default'} retention locks each new version for {period.days} days; versions "
            f"written {written} stay locked until about {until}, after the sunset {site.sunset}"
        )


def _enabled(value: Any) -> bool:
    return value is True or value == "Enabled"


def _bucket(res: Resource, site: LegacySite, cfg: PackConfig) -> Iterator[str]:
    enabled = res.props.get("objectLockEnabled")
    if is_unknown(enabled):
        yield "objectLockEnabled is unknown during preview"
    elif _enabled(enabled):
        yield "Object Lock is enabled: it cannot be turned off, and objects can be locked past the sunset"
    inline = res.props.get("objectLockConfiguration")
    if is_unknown(inline):
        yield "the inline objectLockConfiguration is unknown during preview"
    elif isinstance(inline, dict):
        flag = inline.get("objectLockEnabled")
        if is_unknown(flag) or _enabled(flag):
            yield "the inline objectLockConfiguration enables Object Lock: it cannot be turned off"
        yield from judge_retention(
            get(inline, "rule", "defaultRetention"), "the inline objectLockConfiguration", site, cfg
        )


def _lock_config(res: Resource, site: LegacySite, cfg: PackConfig) -> Iterator[str]:
    flag = res.props.get("objectLockEnabled")
    if flag is None or is_unknown(flag) or _enabled(flag):
        yield (
            "this lock configuration enables Object Lock on the bucket (objectLockEnabled defaults to "
            "Enabled): it cannot be turned off"
        )
    yield from judge_retention(get(res.props, "rule", "defaultRetention"), "the default retention", site, cfg)


def _object(res: Resource, site: LegacySite) -> Iterator[str]:
    hold = res.props.get("objectLockLegalHoldStatus")
    if is_unknown(hold):
        yield "the object's legal hold status is unknown during preview"
    elif hold == "ON":
        yield "the object has a legal hold: it has no end date and lifecycle cannot remove the object"
    until = res.props.get("objectLockRetainUntilDate")
    if is_unknown(until):
        yield "the object's retain-until date is unknown during preview"
    elif until is not None:
        day = _day(until)
        if day is None:
            yield f"the object's retain-until date {until!r} cannot be read"
        elif day >= site.sunset:
            yield f"the object is retained until {until}, not before the sunset {site.sunset}"


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    site = site_of(res, cfg)
    if site is None:
        return
    if res.type in BUCKETS:
        problems = _bucket(res, site, cfg)
    elif res.type in LOCK_CONFIGS:
        problems = _lock_config(res, site, cfg)
    else:
        problems = _object(res, site)
    for p in problems:
        yield Finding(f"site {site.name}: {p}", site.name)


POLICY = resource_policy(META, check)
