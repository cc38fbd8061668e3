"""USDR-LEG-01: nobody but the declared writer may write to or delete from a legacy replica.

Bucket policies and ACLs at a legacy site (matched by the provider's S3 endpoint): an Allow
of a write, delete or policy-change action to any principal other than the site's writer
(mode `replica`), or to anyone at all (mode `frozen`), is a violation, and so is an ACL
granting WRITE, WRITE_ACP or FULL_CONTROL to anyone but the bucket owner. The services in
`legacyServiceWriters` (S3 access-log delivery) may write a site's log bucket. The restore
principal may read, never write. A document that cannot be read cannot be proven safe.
"""

from __future__ import annotations

from collections.abc import Iterator

from legacy_sites import site_of
from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource
from s3_policy_document import SENSITIVE_ACTIONS, WRITE_PERMISSIONS, DocumentError, acl_grants, parse_policy

POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")

META = Meta(
    name="legacy-replica-writers",
    control="USDR-LEG-01",
    title="Legacy replicas writable only by the declared writer",
    description="At a legacy site, no bucket policy or ACL lets anyone but the declared replication writer "
    "write, delete or change policy (nobody at all for a frozen site).",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=(POLICY_TYPE, *ACL_TYPES),
    remediation="Grant write/delete actions only to the site's writer (legacySites.<site>.writer, mode "
    "replica); give the restore principal read actions (s3:GetObject, s3:ListBucket) only; for a frozen "
    "site remove every write grant. Keep ACLs private.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    site = site_of(res, cfg)
    if site is None:
        return
    writers = {site.writer} if site.mode == "replica" and site.writer else set()
    allowed = writers | set(cfg.legacy_service_writers)
    who_may = f"only {site.writer} may write" if writers else "nobody may write (frozen)"
    try:
        if res.type in ACL_TYPES:
            for g in acl_grants(res.props):
                if g.permission in WRITE_PERMISSIONS and g.grantee not in allowed:
                    yield Finding(
                        f"site {site.name}: the ACL grants {g.permission} to {g.grantee}; {who_may}",
                        site.name,
                    )
            return
        for st in parse_policy(res.props.get("policy")):
            granted = st.grants(SENSITIVE_ACTIONS)
            if st.effect != "Allow" or not granted:
                continue
            others = ["everyone"] if st.everyone else [p for p in st.principals if p not in allowed]
            if others:
                yield Finding(
                    f"site {site.name}: {st.label} lets {', '.join(others)} {', '.join(granted[:3])}"
                    f"{' ...' if len(granted) > 3 else ''}; {who_may}",
                    site.name,
                )
    except DocumentError as exc:
        yield Finding(f"site {site.name}: cannot be proven read-only: {exc}", site.name)


POLICY = resource_policy(META, check)
