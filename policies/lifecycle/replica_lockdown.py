"""USDR-LEG-02: every legacy bucket's policy denies, as S3 evaluates it, all that the site forbids.

Grants in this program are not the only way in: the site's own IAM may allow more. So each
bucket at a legacy site needs a bucket policy that S3 would use to *explicitly deny* (an
explicit deny beats any IAM allow) every principal that matters (`legacy_access`: the writer,
the restore principal, every principal the policy names, another principal of each account,
another account, an unlisted service, an anonymous caller) every write, delete, tag, retention,
policy, ACL, replication and bucket-deletion action, and every read and list, except what the
site grants: the replication actions to the writer (mode `replica`; nobody in mode `frozen`),
object puts to the `legacyServiceWriters` (access-log delivery), reads to the restore
principal. A Deny counts only where it surely applies: on the right ARN (a deny on the bucket
ARN does not cover its objects), for that principal, under conditions the caller cannot
escape. S3 keeps one policy per bucket, so with several BucketPolicy resources on one bucket
each one must suffice on its own. Lifecycle expiration is not subject to bucket policies, so
the replica still empties itself by the sunset.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from legacy_access import excess, who_may
from legacy_sites import attached, legacy_buckets
from pack_config import LegacySite, PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown
from s3_inline import with_inline
from s3_policy_eval import PolicyError, parse

POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"

META = Meta(
    name="legacy-replica-lockdown",
    control="USDR-LEG-02",
    title="Legacy replicas deny all but what the site grants",
    description="Every bucket at a legacy site has a bucket policy that, evaluated as S3 does, explicitly "
    "denies writes, deletes and policy/ACL/replication changes to every principal but the declared writer "
    "(everyone, for a frozen site), and reads to every principal but the restore principal.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Attach a BucketPolicy with {Effect: Deny, Principal: '*', Action: [<writer actions>], "
    "Resource: [<bucket>, <bucket>/*], Condition: {StringNotEquals: {aws:PrincipalArn: <writer>}}}, an "
    "unconditional Deny to '*' of version deletes, retention, legal holds, object lock, policy, ACL, "
    "ownership and replication changes and DeleteBucket, and a Deny of reads with StringNotEquals "
    "aws:PrincipalArn <restore principal>; for a frozen site, deny the writer actions without the Condition.",
)


def bucket_name(bucket: Resource) -> str | None:
    name = bucket.props.get("bucket")
    return name if isinstance(name, str) and not is_unknown(name) and name else None


def judge(policy: Resource, bucket: Resource, site: LegacySite, cfg: PackConfig) -> list[str]:
    try:
        statements = parse(policy.props.get("policy"))
    except PolicyError as exc:
        return [f"policy {policy.name!r} cannot be evaluated: {exc}"]
    name = bucket_name(bucket)
    if name is None:
        return ["the bucket's name is unknown during preview: no Deny can be shown to cover it"]
    out = []
    for x in excess(statements, name, site, cfg, wanted="not-denied"):
        out.append(
            f"policy {policy.name!r} does not deny {x.caller.label} {x.shown_actions()}; {who_may(site)}"
        )
    return out


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    every = with_inline(resources)  # the deprecated inline `policy` counts like a BucketPolicy
    for bucket, site in legacy_buckets(resources, cfg):
        policies = attached(bucket, every, POLICY_TYPE)
        if not policies:
            yield (
                bucket.urn,
                f"site {site.name}: no bucket policy denies what the site forbids ({who_may(site)})",
            )
            continue
        for p in policies:
            for problem in judge(p, bucket, site, cfg):
                yield bucket.urn, f"site {site.name}: {problem}"


POLICY = stack_policy(META, check)
