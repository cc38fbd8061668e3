"""USDR-LEG-03: every object in a legacy replica is gone by the site's sunset date.

For each bucket at a legacy site (and each lifecycle configuration there):
- an enabled whole-bucket rule (no prefix, tag or size filter) expires current versions on a
  `date` D on or before the sunset. Days-based expiry cannot promise a date: an object written
  the day before the sunset would outlive it;
- if the bucket is versioned (a BucketVersioning with status Enabled, Suspended or unknown),
  expiring a current version only leaves a noncurrent one, so an enabled whole-bucket rule
  must also expire noncurrent versions after N days with D + N <= sunset, and, for a site
  still written to (mode `replica`), the bucket policy must deny s3:PutObject to everyone
  from a date T <= sunset - N (`DateGreaterThan(Equals)` on `aws:CurrentTime`): anything
  written later would become noncurrent too late. A frozen site has no writer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from legacy_sites import attached, legacy_buckets, site_of
from pack_config import LegacySite, PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown, items, text
from s3_inline import with_inline
from s3_policy_document import DocumentError, parse_policy

LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
_DATE_OPS = ("DateGreaterThan", "DateGreaterThanEquals")

META = Meta(
    name="legacy-replica-expiry",
    control="USDR-LEG-03",
    title="Legacy replicas expire by their sunset",
    description="Every bucket at a legacy site has enabled whole-bucket lifecycle rules that remove every "
    "object (and every noncurrent version) on or before the site's sunset date.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation="Attach a BucketLifecycleConfiguration with an enabled rule, filter {prefix: ''}, "
    "expiration {date: D} where D <= sunset; on a versioned bucket add noncurrent_version_expiration "
    "{noncurrent_days: N} with D + N <= sunset, and deny s3:PutObject to '*' from D (Condition "
    "DateGreaterThanEquals aws:CurrentTime) so nothing is written after the drain starts.",
)


def _whole_bucket(rule: dict[str, Any]) -> bool:
    flt = rule.get("filter")
    if is_unknown(flt):
        return False
    return not (isinstance(flt, dict) and any(v not in (None, "", {}, []) for v in flt.values()))


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if text(value) else None
    except ValueError:
        return None


def expiry(configs: Sequence[Resource]) -> tuple[date | None, int | None, list[str]]:
    """(earliest current-version expiry date, shortest noncurrent days, why a rule does not count)."""
    dates: list[date] = []
    days: list[int] = []
    notes: list[str] = []
    for config in configs:
        rules = config.props.get("rules")
        if is_unknown(rules):
            notes.append("the lifecycle rules are unknown during preview")
            continue
        for rule in items(rules):
            if not isinstance(rule, dict):
                continue
            rid = rule.get("id")
            if rule.get("status") != "Enabled":
                notes.append(f"rule {rid!r} is not Enabled")
                continue
            if not _whole_bucket(rule):
                notes.append(f"rule {rid!r} is filtered (prefix, tag or size): not every object expires")
                continue
            when = get(rule, "expiration", "date")
            day = _day(when)
            if day is not None:
                dates.append(day)
            elif is_unknown(when):
                notes.append(f"rule {rid!r} expiration date is unknown during preview")
            elif get(rule, "expiration", "days") is not None:
                notes.append(f"rule {rid!r} expires after a number of days, which cannot promise a date")
            n = get(rule, "noncurrentVersionExpiration", "noncurrentDays")
            if isinstance(n, int | float) and not isinstance(n, bool):
                days.append(int(n))
    return (min(dates) if dates else None), (min(days) if days else None), notes


def _writes_stop(policies: Sequence[Resource]) -> date | None:
    """The earliest date from which the bucket policy denies s3:PutObject to everyone."""
    stops: list[date] = []
    for p in policies:
        try:
            statements = parse_policy(p.props.get("policy"))
        except DocumentError:
            continue
        for st in statements:
            if st.effect != "Deny" or not st.everyone or not st.grants(("s3:PutObject",)):
                continue
            cond = st.condition if isinstance(st.condition, dict) else {}
            if len(cond) != 1 or next(iter(cond)) not in _DATE_OPS:
                continue
            body = next(iter(cond.values()))
            if isinstance(body, dict) and set(body) == {"aws:CurrentTime"}:
                when = _day(next(iter(items(body["aws:CurrentTime"])), None))
                if when is not None:
                    stops.append(when)
    return min(stops) if stops else None


def _versioned(versioning: Sequence[Resource]) -> bool:
    for v in versioning:
        status = get(v.props, "versioningConfiguration", "status")
        if is_unknown(status) or status in ("Enabled", "Suspended"):
            return True
    return False


def judge_bucket(bucket: Resource, site: LegacySite, resources: Sequence[Resource]) -> list[str]:
    configs = attached(bucket, resources, *LIFECYCLE)
    when, noncurrent, notes = expiry(configs)
    why = f" ({'; '.join(notes)})" if notes else ""
    if when is None:
        return [f"no enabled whole-bucket rule expires objects on a date{why}"]
    if when > site.sunset:
        return [f"objects expire on {when}, after the sunset {site.sunset}"]
    if not _versioned(attached(bucket, resources, *VERSIONING)):
        return []
    if noncurrent is None:
        return ["the bucket is versioned but noncurrent versions never expire"]
    last = when + timedelta(days=noncurrent)
    if last > site.sunset:
        return [f"noncurrent versions live until {last} ({when} + {noncurrent} days), after {site.sunset}"]
    if site.mode == "replica":
        stop = _writes_stop(attached(bucket, resources, POLICY_TYPE))
        latest = site.sunset - timedelta(days=noncurrent)
        if stop is None or stop > latest:
            shown = f"only from {stop}" if stop else "never"
            return [
                f"writes are stopped {shown}; anything written after {latest} keeps a noncurrent version "
                f"past the sunset {site.sunset}"
            ]
    return []


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    buckets = legacy_buckets(resources, cfg)
    # The deprecated inline `lifecycleRules`, `versioning` and `policy` count like their resources.
    resources = with_inline(resources)
    for r in resources:
        if r.type in LIFECYCLE:
            site = site_of(r, cfg)
            if site is None:
                continue
            when, _, notes = expiry([r])
            if when is None or when > site.sunset:
                why = "; ".join(notes) or (f"it expires on {when}" if when else "no rules")
                yield (
                    r.urn,
                    f"site {site.name}: no rule expires every object by the sunset {site.sunset}: {why}",
                )
    for bucket, site in buckets:
        for problem in judge_bucket(bucket, site, resources):
            yield bucket.urn, f"site {site.name}: {problem}"


POLICY = stack_policy(META, check)
