"""USDR-SEC-02 / CIS OCI 5.1.1: buckets are not public.

OCI buckets: `accessType` must be `NoPublicAccess` (missing = the API default, private).
S3 buckets (legacy sites): no canned public ACL, no ACL grant to AllUsers or
AuthenticatedUsers, no bucket policy that lets everyone read. Unknown = cannot prove =
violation.
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown
from s3_inline import BUCKETS as S3_BUCKETS
from s3_inline import virtual
from s3_policy_document import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    READ_ACTIONS,
    READ_PERMISSIONS,
    DocumentError,
    acl_grants,
    parse_policy,
)

OCI_BUCKET = "oci:ObjectStorage/bucket:Bucket"
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"

META = Meta(
    name="security-bucket-not-public",
    control="USDR-SEC-02",
    title="Buckets are not public",
    description="OCI buckets have accessType NoPublicAccess; S3 buckets have no public ACL or public-read "
    "bucket policy.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=(OCI_BUCKET, *ACL_TYPES, POLICY_TYPE, *S3_BUCKETS),
    cis="5.1.1",
    remediation='OCI: `access_type="NoPublicAccess"` (share single objects with short-lived '
    'pre-authenticated requests instead). S3: `acl="private"`, no grants to AllUsers/AuthenticatedUsers, '
    "bucket policy statements name explicit principals.",
)


def _check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    if res.type == OCI_BUCKET:
        access = res.props.get("accessType")
        if is_unknown(access):
            yield Finding("accessType is unknown during preview: the bucket cannot be proven private")
        elif access not in (None, "NoPublicAccess"):
            yield Finding(f"accessType is {access!r}: the bucket is readable without authentication")
        return
    try:
        if res.type in ACL_TYPES:
            for g in acl_grants(res.props):
                if g.grantee in (ALL_USERS, AUTHENTICATED_USERS, "*") and g.permission in READ_PERMISSIONS:
                    yield Finding(f"the ACL grants {g.permission} to {g.grantee}")
        else:
            for st in parse_policy(res.props.get("policy")):
                reads = st.grants(READ_ACTIONS)
                if st.effect == "Allow" and st.everyone and reads:
                    yield Finding(f"{st.label} lets everyone {', '.join(reads)}")
    except DocumentError as exc:
        yield Finding(f"cannot be proven private: {exc}")


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    """The deprecated inline `policy`, `acl` and `grants` of aws.s3.Bucket count like their resources."""
    if res.type not in S3_BUCKETS:
        yield from _check(res, cfg)
        return
    for v in virtual(res):
        if v.type in (POLICY_TYPE, *ACL_TYPES):
            what = v.name.split(" (", 1)[-1].rstrip(")")
            for f in _check(v, cfg):
                yield Finding(f"the {what}: {f.message}", f.site)


POLICY = resource_policy(META, check)
