"""USDR-LEG-01: at a legacy site, no bucket policy or ACL grants more than the site allows.

Bucket policies at a legacy site (matched by the provider's S3 endpoint) are evaluated the way
S3 evaluates them (`s3_policy_eval`, questions in `legacy_access`): for the writer, the restore
principal, every principal the policy names and everyone else, no request for a write, delete,
tag, retention, policy, ACL, replication or bucket-deletion action may be allowed, except the
replication actions for the site's writer (mode `replica`; nobody in mode `frozen`) and object
puts for the `legacyServiceWriters` (S3 access-log delivery); no read or list may be allowed
to anyone but the restore principal. An Allow that an unconditional Deny overrides grants
nothing; an Allow under a condition still grants (the caller may meet it). An ACL granting
WRITE, WRITE_ACP or FULL_CONTROL to anyone but the bucket owner is a violation too. A document
that cannot be read or evaluated cannot be proven safe.

ACLs expose data too: a bucket ACL (BucketAcl(V2), the inline `acl`/`grants`) granting READ or
FULL_CONTROL to anyone but the owner is a violation (ACL grantees are canonical users, groups
or e-mail addresses, never the restore principal), and so is an object declared at a site
(`BucketObject(v2)`, `ObjectCopy`) with a canned ACL that hands anything beyond the owner
(`public-read`, `public-read-write`, `authenticated-read`, `aws-exec-read`) or any `grants`.
"""

from __future__ import annotations

from collections.abc import Iterator

from legacy_access import excess, who_may
from legacy_sites import site_of
from pack_config import LegacySite, PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown, items
from s3_inline import BUCKETS, virtual
from s3_policy_document import WRITE_PERMISSIONS, DocumentError, acl_grants
from s3_policy_eval import PolicyError, parse

POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
OBJECTS = (
    "aws:s3/bucketObject:BucketObject",
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:s3/objectCopy:ObjectCopy",
)
# Canned object ACLs that hand something to someone but the owner (Amazon S3 "Canned ACL").
OBJECT_CANNED_EXPOSING = ("public-read", "public-read-write", "authenticated-read", "aws-exec-read")
DATA_READ_PERMISSIONS = ("READ", "FULL_CONTROL")
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")

META = Meta(
    name="legacy-replica-writers",
    control="USDR-LEG-01",
    title="Legacy replicas writable only by the declared writer",
    description="At a legacy site, evaluated as S3 does: no bucket policy or ACL lets anyone but the "
    "declared replication writer write, delete or change policy (nobody at all for a frozen site), or "
    "anyone but the restore principal read.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=(POLICY_TYPE, *ACL_TYPES, *BUCKETS, *OBJECTS),
    remediation="Grant write/delete actions only to the site's writer (legacySites.<site>.writer, mode "
    "replica); give the restore principal read actions (s3:GetObject, s3:ListBucket) only; for a frozen "
    "site remove every write grant. Keep ACLs private.",
)


def _judge(res: Resource, site: LegacySite, cfg: PackConfig, what: str) -> Iterator[str]:
    allowed = ({site.writer} if site.mode == "replica" and site.writer else set()) | set(
        cfg.legacy_service_writers
    )
    rule = who_may(site)
    try:
        if res.type in ACL_TYPES:
            for g in acl_grants(res.props):
                if g.permission in WRITE_PERMISSIONS and g.grantee not in allowed:
                    yield f"{what or 'the ACL'} grants {g.permission} to {g.grantee}; {rule}"
                elif g.permission in DATA_READ_PERMISSIONS:
                    # ACL grantees are canonical users, groups or e-mails, never the restore principal.
                    yield f"{what or 'the ACL'} grants {g.permission} to {g.grantee}; {rule}"
            return
        if res.type in OBJECTS:
            yield from _object_acl(res, rule)
            return
        statements = parse(res.props.get("policy"))
        raw_bucket = res.props.get("bucket")
        bucket = raw_bucket if isinstance(raw_bucket, str) and not is_unknown(raw_bucket) else None
        for x in excess(statements, bucket, site, cfg, wanted="allowed"):
            by = sorted({st.label for v in x.verdicts for st in v.allowed_by})
            lead = f"{what}: " if what else ""
            yield f"{lead}{', '.join(by)} lets {x.caller.label} {x.shown_actions()}; {rule}"
    except (DocumentError, PolicyError) as exc:
        yield f"{what + ' ' if what else ''}cannot be proven read-only: {exc}"


def _object_acl(res: Resource, rule: str) -> Iterator[str]:
    """An object's own ACL (canned `acl`, ObjectCopy `grants`): nobody but the owner gets anything."""
    canned = res.props.get("acl")
    if is_unknown(canned):
        yield f"the object's canned ACL is unknown during preview; {rule}"
    elif isinstance(canned, str) and canned in OBJECT_CANNED_EXPOSING:
        yield f"the object's canned ACL {canned!r} grants access beyond the bucket owner; {rule}"
    grants = res.props.get("grants")
    if is_unknown(grants):
        yield f"the object's grants are unknown during preview; {rule}"
        return
    for g in items(grants):
        if not isinstance(g, dict):
            continue
        who = next((str(g[k]) for k in ("uri", "id", "email") if isinstance(g.get(k), str)), "*")
        perms = g.get("permissions")
        shown = ", ".join(str(p) for p in items(perms)) if not is_unknown(perms) else "unknown permissions"
        yield f"the object grants {shown} to {who}; {rule}"


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    site = site_of(res, cfg)
    if site is None:
        return
    if res.type in BUCKETS:
        # The deprecated inline `policy`, `acl` and `grants` are judged like their resources.
        judged = [
            (v, v.name.split(" (", 1)[-1].rstrip(")"))
            for v in virtual(res)
            if v.type in (POLICY_TYPE, *ACL_TYPES)
        ]
    else:
        judged = [(res, "")]
    for r, what in judged:
        for problem in _judge(r, site, cfg, f"the {what}" if what else ""):
            yield Finding(f"site {site.name}: {problem}", site.name)


POLICY = resource_policy(META, check)
