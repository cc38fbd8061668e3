"""USDR-LEG-03: every object and every version in a legacy replica is gone by the site's sunset.

Lifecycle rules are read whole (Amazon S3 User Guide, "Lifecycle configuration elements").
For each bucket at a legacy site:

- S3 keeps one lifecycle configuration per bucket (PutBucketLifecycleConfiguration replaces
  it), so two configurations for one bucket (two resources, or the deprecated inline
  `lifecycleRules` and a resource) fight: a violation.
- A rule counts only if it is `Enabled` and covers the whole bucket: no `filter` prefix, tag,
  `and` or object-size bound, and no rule-level `prefix` (the deprecated form of the filter).
  Transitions keep the data (in another storage class): only expirations count.
- An enabled whole-bucket rule expires current versions on a `date` D on or before the sunset.
  Days-based expiry cannot promise a date: an object written the day before the sunset would
  outlive it.
- If the bucket is versioned (a BucketVersioning, or the inline `versioning`, with status
  Enabled, Suspended or unknown), expiring a current version only leaves a noncurrent one and a
  delete marker. So an enabled whole-bucket rule must expire noncurrent versions after N days
  with D + N <= sunset, and without `newerNoncurrentVersions` (which keeps that many versions
  for ever); one must remove expired delete markers (`expiredObjectDeleteMarker`); and, at a
  site still written to (mode `replica`), the bucket policy must deny every caller object puts
  and replication from a date T <= sunset - N: anything written later would become noncurrent
  too late. The write stop is asked of the bucket policy through `s3_policy_eval` at every date
  its conditions on `aws:CurrentTime` mention, so a deny that lapses again does not count.
- Parts of an incomplete multipart upload are stored data that no expiration removes: an enabled
  whole-bucket rule must abort them N days after they start, with the last possible start + N <=
  sunset (the write stop for a replica, today for a frozen site). Where writes may go on until
  the sunset itself, N = 1 is accepted: the same day of slack S3's asynchronous lifecycle has.
A frozen site has no writer (`legacy-replica-lockdown` proves it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from legacy_access import WRITER_MAY
from legacy_sites import attached, legacy_buckets, site_of
from pack_config import LegacySite, PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown, items, text
from s3_inline import with_inline
from s3_policy_eval import PolicyError, Statement, Target, callers_for, evaluate, parse

LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
# Requests that put data into the bucket: what must stop before the drain.
DATA_WRITES = tuple(a for a in WRITER_MAY if a in ("s3:PutObject", "s3:ReplicateObject"))

META = Meta(
    name="legacy-replica-expiry",
    control="USDR-LEG-03",
    title="Legacy replicas expire by their sunset",
    description="Every bucket at a legacy site has one lifecycle configuration whose enabled whole-bucket "
    "rules remove every object, every noncurrent version, every delete marker and every incomplete upload on "
    "or before the site's sunset date.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation="Attach one BucketLifecycleConfiguration with enabled rules, filter {prefix: ''}: expiration "
    "{date: D} where D <= sunset; abort_incomplete_multipart_upload {days_after_initiation: 1}; on a "
    "versioned "
    "bucket also noncurrent_version_expiration {noncurrent_days: N} (no newer_noncurrent_versions) with "
    "D + N <= sunset, a rule with expiration {expired_object_delete_marker: true}, and deny s3:PutObject and "
    "s3:ReplicateObject to '*' from D (Condition DateGreaterThanEquals aws:CurrentTime).",
)


def _filtered(rule: dict[str, Any]) -> str | None:
    """Why the rule leaves objects out, or None if it covers the whole bucket."""
    prefix = rule.get("prefix")
    if is_unknown(prefix) or (isinstance(prefix, str) and prefix):
        return "has a rule-level prefix"
    flt = rule.get("filter")
    if is_unknown(flt):
        return "has a filter unknown during preview"
    if isinstance(flt, dict) and any(v not in (None, "", {}, []) for v in flt.values()):
        return "is filtered (prefix, tag or size)"
    return None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if text(value) else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass
class Rules:
    """What one lifecycle configuration's enabled whole-bucket rules do."""

    expires_on: date | None = None  # earliest current-version expiry date
    noncurrent_days: int | None = None  # shortest noncurrent expiry that keeps no versions
    delete_markers: bool = False
    abort_days: int | None = None  # shortest incomplete-upload abort
    notes: list[str] = field(default_factory=list)


def read_rules(config: Resource) -> Rules:
    out = Rules()
    rules = config.props.get("rules")
    if is_unknown(rules):
        out.notes.append("the lifecycle rules are unknown during preview")
        return out
    dates: list[date] = []
    days: list[int] = []
    aborts: list[int] = []
    for rule in items(rules):
        if not isinstance(rule, dict):
            continue
        rid = rule.get("id")
        if rule.get("status") != "Enabled":
            out.notes.append(f"rule {rid!r} is not Enabled")
            continue
        why = _filtered(rule)
        if why:
            out.notes.append(f"rule {rid!r} {why}: not every object expires")
            continue
        exp = rule.get("expiration")
        when = get(rule, "expiration", "date")
        day = _day(when)
        if day is not None:
            dates.append(day)
        elif is_unknown(exp) or is_unknown(when):
            out.notes.append(f"rule {rid!r} expiration date is unknown during preview")
        elif get(rule, "expiration", "days") is not None:
            out.notes.append(f"rule {rid!r} expires after a number of days, which cannot promise a date")
        elif exp is None and (rule.get("transitions") or rule.get("noncurrentVersionTransitions")):
            out.notes.append(f"rule {rid!r} only transitions objects: a transition keeps the data")
        if get(rule, "expiration", "expiredObjectDeleteMarker") is True:
            out.delete_markers = True
        nce = rule.get("noncurrentVersionExpiration")
        n = _int(get(rule, "noncurrentVersionExpiration", "noncurrentDays"))
        keep = get(rule, "noncurrentVersionExpiration", "newerNoncurrentVersions")
        if is_unknown(nce) or is_unknown(keep):
            out.notes.append(f"rule {rid!r} noncurrent version expiration is unknown during preview")
        elif keep not in (None, 0, "", "0"):
            shown = _int(keep) if _int(keep) is not None else keep
            out.notes.append(f"rule {rid!r} keeps the {shown} newest noncurrent versions past any date")
        elif n is not None:
            days.append(n)
        a = _int(get(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation"))
        if a is not None:
            aborts.append(a)
    out.expires_on = min(dates) if dates else None
    out.noncurrent_days = min(days) if days else None
    out.abort_days = min(aborts) if aborts else None
    return out


def _breakpoints(statements: Sequence[Statement]) -> list[datetime]:
    """Every instant a condition on aws:CurrentTime mentions (where a date test can change)."""
    out: set[datetime] = set()
    for st in statements:
        for op, body in st.condition.items():
            if not op.split(":")[-1].startswith(("Date", "Numeric")):
                continue
            for key, values in body.items():
                if key.lower() != "aws:currenttime":
                    continue
                for v in values:
                    try:
                        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
                    except ValueError:
                        continue
                    out.add(t if t.tzinfo else t.replace(tzinfo=UTC))
    return sorted(out)


def writes_stop(statements: Sequence[Statement], bucket: str | None, site: LegacySite) -> date | None:
    """The earliest date from which the policy denies every caller every data write, for good."""
    if bucket is None:
        return None
    points = _breakpoints(statements)
    probes = sorted(
        {t for p in points for t in (p, p + timedelta(seconds=1))} | {datetime(2200, 1, 1, tzinfo=UTC)}
    )
    callers = callers_for(statements, (site.writer, site.restore_principal))

    def denied_at(t: datetime) -> bool:
        ctx = {"aws:CurrentTime": t.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return all(
            evaluate(statements, c, a, Target(bucket, objects=True), ctx).denied
            for c in callers
            for a in DATA_WRITES
        )

    for start in points:
        if all(denied_at(t) for t in probes if t >= start):
            return start.date() if start.time() == datetime.min.time() else start.date() + timedelta(days=1)
    return None


def _versioned(versioning: Sequence[Resource]) -> bool:
    for v in versioning:
        status = get(v.props, "versioningConfiguration", "status")
        if is_unknown(status) or status in ("Enabled", "Suspended"):
            return True
    return False


def _stop(bucket: Resource, site: LegacySite, resources: Sequence[Resource]) -> date | None:
    policies = attached(bucket, resources, POLICY_TYPE)
    if len(policies) != 1:
        return None  # none, or several fighting: no stop can be shown
    name = bucket.props.get("bucket")
    try:
        statements = parse(policies[0].props.get("policy"))
    except PolicyError:
        return None
    return writes_stop(statements, name if isinstance(name, str) and not is_unknown(name) else None, site)


def judge_bucket(
    bucket: Resource, site: LegacySite, resources: Sequence[Resource], cfg: PackConfig
) -> list[str]:
    configs = attached(bucket, resources, *LIFECYCLE)
    if len(configs) > 1:
        names = ", ".join(repr(c.name) for c in configs)
        return [
            f"{len(configs)} lifecycle configurations ({names}): S3 keeps one per bucket, they overwrite "
            "each other"
        ]
    rules = read_rules(configs[0]) if configs else Rules()
    why = f" ({'; '.join(rules.notes)})" if rules.notes else ""
    when = rules.expires_on
    if when is None:
        return [f"no enabled whole-bucket rule expires objects on a date{why}"]
    if when > site.sunset:
        return [f"objects expire on {when}, after the sunset {site.sunset}"]
    out: list[str] = []
    stop = _stop(bucket, site, resources) if site.mode == "replica" else None
    if _versioned(attached(bucket, resources, *VERSIONING)):
        noncurrent = rules.noncurrent_days
        if noncurrent is None:
            return [f"the bucket is versioned but noncurrent versions never expire{why}"]
        last = when + timedelta(days=noncurrent)
        if last > site.sunset:
            return [
                f"noncurrent versions live until {last} ({when} + {noncurrent} days), after {site.sunset}"
            ]
        if not rules.delete_markers:
            out.append(
                "the bucket is versioned but no enabled whole-bucket rule removes expired delete markers"
            )
        if site.mode == "replica":
            latest = site.sunset - timedelta(days=noncurrent)
            if stop is None or stop > latest:
                shown = f"only from {stop}" if stop else "never"
                out.append(
                    f"writes are stopped {shown}; anything written after {latest} keeps a noncurrent version "
                    f"past the sunset {site.sunset}"
                )
    abort = rules.abort_days
    if abort is None:
        out.append(
            "no enabled whole-bucket rule aborts incomplete multipart uploads: their parts never expire"
        )
    else:
        last_start = cfg.today if site.mode == "frozen" else stop
        if last_start is None:
            if abort > 1:
                out.append(
                    f"incomplete uploads are aborted after {abort} days, and writes may go on until the "
                    "sunset: an upload started then outlives it"
                )
        elif last_start + timedelta(days=abort) > site.sunset:
            out.append(
                f"incomplete uploads started up to {last_start} are aborted only {abort} days later, "
                f"after the sunset {site.sunset}"
            )
    return out


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    buckets = legacy_buckets(resources, cfg)
    # The deprecated inline `lifecycleRules`, `versioning` and `policy` count like their resources.
    resources = with_inline(resources)
    for r in resources:
        if r.type in LIFECYCLE:
            site = site_of(r, cfg)
            if site is None:
                continue
            rules = read_rules(r)
            when = rules.expires_on
            if when is None or when > site.sunset:
                why = "; ".join(rules.notes) or (f"it expires on {when}" if when else "no rules")
                yield (
                    r.urn,
                    f"site {site.name}: no rule expires every object by the sunset {site.sunset}: {why}",
                )
    for bucket, site in buckets:
        for problem in judge_bucket(bucket, site, resources, cfg):
            yield bucket.urn, f"site {site.name}: {problem}"


POLICY = stack_policy(META, check)
