"""USDR-LEG-08: nothing at a legacy site moves or exposes its data anywhere but a declared US site.

Every `aws:s3` resource at a legacy site (matched by the provider's S3 endpoint) that copies
data or facts about it to another bucket, or opens another way to it:

- replication (`BucketReplicationConfig`, the inline `replicationConfiguration` of
  `aws.s3.Bucket`): every rule's `destination.bucket`;
- inventory (`Inventory`: `destination.bucket.bucketArn`) and analytics exports
  (`AnalyticsConfiguration`: `storageClassAnalysis.dataExport.destination.s3BucketDestination.bucketArn`):
  they write object keys and metadata into another bucket;
- server access logs (`BucketLogging(V2)`, the inline `logging`: `targetBucket`): request
  records, keys included;
- event notifications (`BucketNotification`: SNS topics, SQS queues, Lambda functions,
  EventBridge): object keys leave the store for an AWS service, which no site is;
- access points (`aws:s3/accessPoint:AccessPoint`): another door to the bucket, with its own
  policy and network origin, that the bucket-policy rules do not see; and any `aws:s3control/*`
  resource (access point policies, multi-region and Object Lambda access points, batch jobs)
  that names a legacy bucket or depends on one, whatever provider it uses;
- website configurations (`BucketWebsiteConfiguration(V2)`, the inline `website`): S3 website
  endpoints speak plain HTTP only (Amazon S3 User Guide, "Website endpoints": they do not
  support HTTPS), another way to the objects outside the TLS-only, authenticated S3 API.

A destination bucket is found among the stack's buckets by name: the bucket at the source's
own endpoint first (the data stays at the site), else a bucket at another declared site, which
must be in `allowedCountries` (a residency violation otherwise). A destination that is not a
bucket of the stack at a declared site cannot be placed anywhere: outside every declared site,
a violation too. Unknown during preview = cannot be proven.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from legacy_sites import BUCKETS, legacy_buckets, site_of
from pack_config import LegacySite, PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, aws_placement, get, is_unknown, items, text, walk

REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
INVENTORY = "aws:s3/inventory:Inventory"
ANALYTICS = "aws:s3/analyticsConfiguration:AnalyticsConfiguration"
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
ACCESS_POINT = "aws:s3/accessPoint:AccessPoint"
WEBSITE = (
    "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
    "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2",
)
S3CONTROL = "aws:s3control/"

META = Meta(
    name="legacy-data-destinations",
    control="USDR-LEG-08",
    title="Legacy data goes nowhere but a declared US site",
    description="At a legacy site, replication, inventory and analytics exports and access logs go only to "
    "a bucket of the stack at the same site or another declared site in an allowed country; no event "
    "notifications and no access points.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Point replication, inventory, analytics and logging at a bucket declared in this stack at a "
    "US legacy site (the site's own log bucket for access logs); remove BucketNotification and AccessPoint "
    "resources at legacy sites.",
)


def _name_of(arn_or_name: Any) -> str | None:
    """`arn:aws:s3:::name` or `name` -> `name`; None if it is not text."""
    if not text(arn_or_name):
        return None
    value = str(arn_or_name).strip()
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) != 6 or parts[2] != "s3" or parts[3] or parts[4]:
            return None
        return parts[5].split("/", 1)[0] or None
    return value


def _destination(
    raw: Any,
    what: str,
    source: Resource,
    site: LegacySite,
    resources: Sequence[Resource],
    cfg: PackConfig,
    prop: str,
) -> str | None:
    """Why `raw` (a destination bucket ARN or name, from top-level `prop`) is not acceptable, or None.

    Unknown during preview (a bucket's computed id or ARN), the destination is the bucket the
    property depends on, if there is exactly one."""
    here = aws_placement(source).endpoint
    wired = [b for b in resources if b.type in BUCKETS and source.depends_on(b.urn, prop)]
    if is_unknown(raw):
        if len(wired) != 1:
            return f"{what}: the destination is unknown during preview"
        found = wired
        name = wired[0].name
    else:
        name = _name_of(raw) or ""
        if not name:
            return f"{what}: the destination {raw!r} is not an S3 bucket ARN"
        # By physical name or provider id (a bucket's id is its name; engines may report another).
        found = [
            b for b in resources if b.type in BUCKETS and name in (b.props.get("bucket"), b.props.get("id"))
        ]
    candidates = [(b, site_of(b, cfg)) for b in found]
    if any(aws_placement(b).endpoint == here for b, _ in candidates):
        return None
    sites = {s.name: s for _, s in candidates if s is not None}
    if not sites:
        return f"{what}: the destination bucket {name!r} is not a bucket of this stack at a declared site"
    if len(sites) > 1:
        return f"{what}: the destination bucket {name!r} exists at several sites ({', '.join(sorted(sites))})"
    dest = next(iter(sites.values()))
    if dest.country not in cfg.allowed_countries:
        return (
            f"{what}: the destination bucket {name!r} is at site {dest.name} in {dest.country}, "
            "outside the US"
        )
    return None


def judge(res: Resource, site: LegacySite, resources: Sequence[Resource], cfg: PackConfig) -> Iterator[str]:
    t = res.type
    if t in BUCKETS:
        repl = res.props.get("replicationConfiguration")
        if is_unknown(repl):
            yield "the inline replicationConfiguration is unknown during preview"
        elif isinstance(repl, dict):
            for i, rule in enumerate(items(repl.get("rules"))):
                raw = get(rule, "destination", "bucket") if isinstance(rule, dict) else None
                yield from _opt(
                    _destination(
                        raw,
                        f"inline replication rule {i}",
                        res,
                        site,
                        resources,
                        cfg,
                        "replicationConfiguration",
                    )
                )
        if res.props.get("website") not in (None, {}, []):
            yield "the inline website configuration serves the bucket on a plain-HTTP website endpoint"
        log = res.props.get("logging")
        if is_unknown(log):
            yield "the inline logging is unknown during preview"
        elif isinstance(log, dict) and log.get("targetBucket") is not None:
            yield from _opt(
                _destination(
                    log.get("targetBucket"), "inline access logs", res, site, resources, cfg, "logging"
                )
            )
    elif t == REPLICATION:
        rules = res.props.get("rules")
        if is_unknown(rules):
            yield "the replication rules are unknown during preview"
        for i, rule in enumerate(items(rules) if not is_unknown(rules) else []):
            raw = get(rule, "destination", "bucket") if isinstance(rule, dict) else None
            rid = rule.get("id") if isinstance(rule, dict) else None
            yield from _opt(
                _destination(raw, f"replication rule {rid or i!r}", res, site, resources, cfg, "rules")
            )
    elif t == INVENTORY:
        raw = get(res.props, "destination", "bucket", "bucketArn")
        yield from _opt(_destination(raw, "the inventory export", res, site, resources, cfg, "destination"))
    elif t == ANALYTICS:
        raw = get(
            res.props, "storageClassAnalysis", "dataExport", "destination", "s3BucketDestination", "bucketArn"
        )
        if raw is not None:
            yield from _opt(
                _destination(raw, "the analytics export", res, site, resources, cfg, "storageClassAnalysis")
            )
    elif t in LOGGING:
        yield from _opt(
            _destination(
                res.props.get("targetBucket"), "the access logs", res, site, resources, cfg, "targetBucket"
            )
        )
    elif t == NOTIFICATION:
        targets = [
            str(get(x, key))
            for prop, key in (
                ("topics", "topicArn"),
                ("queues", "queueArn"),
                ("lambdaFunctions", "lambdaFunctionArn"),
            )
            for x in items(res.props.get(prop))
            if isinstance(x, dict)
        ]
        if res.props.get("eventbridge") is True or is_unknown(res.props.get("eventbridge")):
            targets.append("EventBridge")
        if targets:
            yield f"event notifications send object keys to {', '.join(targets)}, outside every declared site"
    elif t in WEBSITE:
        yield (
            "a website configuration serves the bucket on a plain-HTTP website endpoint, "
            "past the TLS-only rules"
        )
    elif t == ACCESS_POINT:
        yield f"access point {res.name!r} opens another way to the bucket, past the bucket-policy rules"


def _opt(problem: str | None) -> Iterator[str]:
    if problem:
        yield problem


TYPES = (*BUCKETS, REPLICATION, INVENTORY, ANALYTICS, *LOGGING, NOTIFICATION, ACCESS_POINT, *WEBSITE)


def _reaches(res: Resource, bucket: Resource) -> bool:
    """Does `res` name `bucket` (name, id or ARN, anywhere in its props) or depend on it?"""
    if res.depends_on(bucket.urn):
        return True
    names = {str(v) for v in (bucket.props.get("bucket"), bucket.props.get("id")) if text(v)}
    wanted = names | {f"arn:aws:s3:::{n}" for n in names}
    return any(
        isinstance(v, str) and (v in wanted or v.split("/", 1)[0] in wanted) for _, v in walk(res.props)
    )


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    legacy = legacy_buckets(resources, cfg)
    for r in resources:
        if r.type.startswith(S3CONTROL):
            # Access points, multi-region access points, batch jobs...: S3 Control is an AWS
            # service no site runs, so anything of it that reaches a legacy bucket is a way out.
            for bucket, bucket_site in legacy:
                if _reaches(r, bucket):
                    yield (
                        r.urn,
                        f"site {bucket_site.name}: {r.type.rsplit(':', 1)[-1]} {r.name!r} reaches bucket "
                        f"{bucket.name!r}: a way to its data past the bucket-policy rules",
                    )
            continue
        if r.type not in TYPES:
            continue
        at = site_of(r, cfg)
        if at is None:
            continue
        for problem in judge(r, at, resources, cfg):
            yield r.urn, f"site {at.name}: {problem}"


POLICY = stack_policy(META, check)
