"""USDR-LEG-02: every legacy replica bucket denies writes and deletes to all but the writer.

Grants in this program are not the only way to write: the site's own IAM may allow more. So
each bucket at a legacy site needs a bucket policy with an explicit Deny of s3:PutObject,
s3:DeleteObject and s3:DeleteObjectVersion for Principal `*`, exempting only the site's
writer (mode `replica`: `NotPrincipal` = the writer, or a Condition `ArnNotEquals`/
`ArnNotLike`/`StringNotEquals`/`StringNotLike` on `aws:PrincipalArn` = the writer) and
nobody for a frozen site. Lifecycle expiration is not subject to bucket policies, so the
replica still empties itself by the sunset.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

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
    "s3:DeleteObject, s3:DeleteObjectVersion], Resource: <bucket>/*, Condition: {ArnNotEquals: "
    "{aws:PrincipalArn: <writer>}}}; for a frozen site, the same Deny without the Condition.",
)


def _exempts_only(st: Statement, writer: str | None) -> bool:
    """Is the statement's exception exactly the writer (or nobody when writer is None)?"""
    if st.not_principal:
        return writer is not None and set(st.principals) == {writer}
    if not st.has_condition:
        return True  # no exception at all
    if writer is None or not isinstance(st.condition, dict) or len(st.condition) != 1:
        return False
    op, body = next(iter(st.condition.items()))
    if op not in _EXEMPT_OPS or not isinstance(body, dict) or set(body) != {"aws:PrincipalArn"}:
        return False
    values: Any = body["aws:PrincipalArn"]
    return set(items(values)) == {writer}


def _locks(st: Statement, site: LegacySite) -> bool:
    if st.effect != "Deny" or not ("*" in st.principals or st.not_principal):
        return False
    if set(st.grants(OBJECT_WRITE_DELETE)) != set(OBJECT_WRITE_DELETE):
        return False
    return _exempts_only(st, site.writer if site.mode == "replica" else None)


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    for bucket, site in legacy_buckets(resources, cfg):
        policies = attached(bucket, resources, POLICY_TYPE)
        exempt = f"all but {site.writer}" if site.mode == "replica" else "everyone (frozen site)"
        if not policies:
            yield (
                bucket.urn,
                f"site {site.name}: no bucket policy denies object writes and deletes to {exempt}",
            )
            continue
        problems: list[str] = []
        locked = False
        for p in policies:
            try:
                locked = locked or any(_locks(st, site) for st in parse_policy(p.props.get("policy")))
            except DocumentError as exc:
                problems.append(str(exc))
        if not locked:
            why = f" ({'; '.join(problems)})" if problems else ""
            yield (
                bucket.urn,
                f"site {site.name}: no bucket policy denies object writes and deletes to {exempt}{why}",
            )


POLICY = stack_policy(META, check)
