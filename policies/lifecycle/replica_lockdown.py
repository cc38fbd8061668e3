"""USDR-LEG-02: every legacy replica bucket denies writes and deletes to all but the writer.

Grants in this program are not the only way to write: the site's own IAM may allow more. So
each bucket at a legacy site needs a bucket policy with explicit Deny statements for
Principal `*` that together cover s3:PutObject, s3:DeleteObject and s3:DeleteObjectVersion,
each exempting at most the site's writer (mode `replica`) and the `legacyServiceWriters`
(S3 access-log delivery), nobody else. An exemption is `NotPrincipal`, or one Condition
`ArnNotEquals`/`ArnNotLike`/`StringNotEquals`/`StringNotLike` on `aws:PrincipalArn` (the
writer) or `aws:PrincipalServiceName` (a service writer). Lifecycle expiration is not subject
to bucket policies, so the replica still empties itself by the sunset.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from legacy_sites import attached, legacy_buckets
from pack_config import LegacySite, PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, items
from s3_policy_document import OBJECT_WRITE_DELETE, DocumentError, Statement, parse_policy

POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
_EXEMPT_OPS = ("ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike")

META = Meta(
    name="legacy-replica-lockdown",
    control="USDR-LEG-02",
    title="Legacy replicas deny writes to all but the writer",
    description="Every bucket at a legacy site has a bucket policy that denies object writes and deletes to "
    "every principal except the declared writer (everyone, for a frozen site).",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Attach a BucketPolicy with {Effect: Deny, Principal: '*', Action: [s3:PutObject, "
    "s3:DeleteObject, s3:DeleteObjectVersion], Resource: [<bucket>, <bucket>/*], Condition: "
    "{StringNotEquals: {aws:PrincipalArn: <writer>}}}; for a frozen site, the same Deny without the "
    "Condition.",
)


def exemption_ok(st: Statement, site: LegacySite, cfg: PackConfig) -> bool:
    """Does the Deny exempt nobody, or only the site's writer / the allowed service writers?"""
    writer = site.writer if site.mode == "replica" else None
    services = set(cfg.legacy_service_writers)
    if st.not_principal:
        return set(st.principals) <= ({writer} if writer else set()) | services
    if not st.has_condition:
        return True
    if not isinstance(st.condition, dict) or len(st.condition) != 1:
        return False
    op, body = next(iter(st.condition.items()))
    if op not in _EXEMPT_OPS or not isinstance(body, dict) or len(body) != 1:
        return False
    key, values = next(iter(body.items()))
    exempted = set(items(values))
    if key == "aws:PrincipalArn":
        return writer is not None and exempted <= {writer}
    if key == "aws:PrincipalServiceName":
        return exempted <= services
    return False


def uncovered(policies: Sequence[Resource], site: LegacySite, cfg: PackConfig) -> tuple[list[str], list[str]]:
    """(actions no acceptable Deny covers, document problems)."""
    covered: set[str] = set()
    problems: list[str] = []
    for p in policies:
        try:
            statements = parse_policy(p.props.get("policy"))
        except DocumentError as exc:
            problems.append(str(exc))
            continue
        for st in statements:
            if st.effect == "Deny" and st.everyone and exemption_ok(st, site, cfg):
                covered.update(st.grants(OBJECT_WRITE_DELETE))
    return [a for a in OBJECT_WRITE_DELETE if a not in covered], problems


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    for bucket, site in legacy_buckets(resources, cfg):
        exempt = f"all but {site.writer}" if site.mode == "replica" else "everyone (frozen site)"
        policies = attached(bucket, resources, POLICY_TYPE)
        if not policies:
            yield (
                bucket.urn,
                f"site {site.name}: no bucket policy denies object writes and deletes to {exempt}",
            )
            continue
        missing, problems = uncovered(policies, site, cfg)
        if missing:
            why = f" ({'; '.join(problems)})" if problems else ""
            yield bucket.urn, f"site {site.name}: no Deny of {', '.join(missing)} to {exempt}{why}"


POLICY = stack_policy(META, check)
