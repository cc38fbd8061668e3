"""USDR-LEG-03: every object in a legacy replica expires by the site's sunset date.

Each bucket at a legacy site needs a lifecycle configuration with an enabled rule for the
whole bucket (no prefix, tag or size filter) whose `expiration.date` is on or before the
sunset. A days-based expiry cannot promise that: an object written the day before the
sunset outlives it. Versioning on the bucket is a violation too: expiring a current version
only adds a delete marker, and the noncurrent versions outlive the sunset. Every lifecycle
configuration at a site is also checked on its own (expiry after the sunset = violation).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from legacy_sites import attached, legacy_buckets, site_of
from pack_config import LegacySite, PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown, items, text

LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")

META = Meta(
    name="legacy-replica-expiry",
    control="USDR-LEG-03",
    title="Legacy replicas expire by their sunset",
    description="Every bucket at a legacy site has an enabled whole-bucket lifecycle rule that expires all "
    "objects on or before the site's sunset date, and is not versioned.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation="Attach a BucketLifecycleConfiguration with rules=[{id: 'sunset', status: 'Enabled', "
    "filter: {}, expiration: {date: '<sunset>T00:00:00Z'}}] to each legacy bucket, and keep versioning off "
    "(or suspended) on replicas.",
)


def _expires_by(rule: Any, sunset: date) -> str | None:
    """None if the rule expires the whole bucket by `sunset`, else why not."""
    if not isinstance(rule, dict):
        return "a rule is not readable"
    if rule.get("status") != "Enabled":
        return f"rule {rule.get('id')!r} is not Enabled"
    flt = rule.get("filter")
    if is_unknown(flt) or (isinstance(flt, dict) and any(v not in (None, "", {}, []) for v in flt.values())):
        return f"rule {rule.get('id')!r} is filtered (prefix, tag or size): not every object expires"
    when = get(rule, "expiration", "date")
    if is_unknown(when):
        return f"rule {rule.get('id')!r} expiration date is unknown during preview"
    if not text(when):
        days = get(rule, "expiration", "days")
        if days is not None:
            return (
                f"rule {rule.get('id')!r} expires objects after {days} days: that cannot promise the sunset"
            )
        return f"rule {rule.get('id')!r} has no expiration date"
    try:
        day = date.fromisoformat(str(when)[:10])
    except ValueError:
        return f"rule {rule.get('id')!r} expiration date {when!r} is not a date"
    if day > sunset:
        return f"rule {rule.get('id')!r} expires objects on {day}, after the sunset {sunset}"
    return None


def _judge(config: Resource, site: LegacySite) -> tuple[bool, list[str]]:
    rules = config.props.get("rules")
    if is_unknown(rules):
        return False, ["the lifecycle rules are unknown during preview"]
    reasons = [_expires_by(r, site.sunset) for r in items(rules)]
    ok = any(r is None for r in reasons)
    return ok, [r for r in reasons if r is not None]


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    for r in resources:
        if r.type in LIFECYCLE:
            site = site_of(r, cfg)
            if site is not None:
                ok, reasons = _judge(r, site)
                if not ok:
                    yield (
                        r.urn,
                        f"site {site.name}: no rule expires every object by {site.sunset}: "
                        f"{'; '.join(reasons) or 'no rules'}",
                    )
    for bucket, site in legacy_buckets(resources, cfg):
        configs = attached(bucket, resources, *LIFECYCLE)
        if not any(_judge(c, site)[0] for c in configs):
            yield (
                bucket.urn,
                f"site {site.name}: no lifecycle rule expires every object by the sunset {site.sunset}",
            )
        for v in attached(bucket, resources, *VERSIONING):
            status = get(v.props, "versioningConfiguration", "status")
            if status not in ("Suspended", "Disabled"):
                yield (
                    v.urn,
                    f"site {site.name}: versioning is {status!r}: noncurrent versions outlive the sunset",
                )


POLICY = stack_policy(META, check)
