"""USDR-SEC-09: no bucket policy lets everyone write, delete or change policy.

S3 (legacy sites, or any program): an Allow statement to `*` (or with NotPrincipal) that
covers a write, delete or policy-change action; an ACL granting WRITE, WRITE_ACP or
FULL_CONTROL to AllUsers or AuthenticatedUsers (or a canned `public-read-write`).
OCI: the bucket-level equivalent of an unauthenticated grant is a pre-authenticated request,
so a PAR allowing writes (ObjectWrite, ObjectReadWrite, AnyObjectWrite, AnyObjectReadWrite)
is a violation too. OCI IAM `any-user` grants are residency-iam-statements' job.
A document that cannot be read (or is unknown during preview) cannot be proven safe.
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
    SENSITIVE_ACTIONS,
    WRITE_PERMISSIONS,
    DocumentError,
    acl_grants,
    parse_policy,
)

POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
PAR = "oci:ObjectStorage/preauthrequest:Preauthrequest"
PAR_WRITES = ("ObjectWrite", "ObjectReadWrite", "AnyObjectWrite", "AnyObjectReadWrite")

META = Meta(
    name="security-bucket-public-writes",
    control="USDR-SEC-09",
    title="No public writes, deletes or policy changes on buckets",
    description="No S3 bucket policy or ACL, and no OCI pre-authenticated request, lets everyone (`*`, "
    "unauthenticated or any authenticated user) write, delete or change a bucket's policy.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=(POLICY_TYPE, *ACL_TYPES, PAR, *S3_BUCKETS),
    remediation="Name explicit principals in Allow statements (the replication writer, the restore role); "
    "add a Deny for everyone else; keep ACLs private; for OCI use read-only, short-lived PARs on single "
    "objects.",
)


def _check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    if res.type == PAR:
        access = res.props.get("accessType")
        if is_unknown(access):
            yield Finding("accessType is unknown during preview: the PAR cannot be proven read-only")
        elif access in PAR_WRITES:
            yield Finding(f"the pre-authenticated request allows {access}: unauthenticated writes")
        return
    try:
        if res.type in ACL_TYPES:
            for g in acl_grants(res.props):
                if g.grantee in (ALL_USERS, AUTHENTICATED_USERS, "*") and g.permission in WRITE_PERMISSIONS:
                    yield Finding(f"the ACL grants {g.permission} to {g.grantee}")
            return
        for st in parse_policy(res.props.get("policy")):
            granted = st.grants(SENSITIVE_ACTIONS)
            if st.effect == "Allow" and st.everyone and granted:
                shown = ", ".join(granted[:4]) + (" ..." if len(granted) > 4 else "")
                yield Finding(f"{st.label} lets everyone {shown}")
    except DocumentError as exc:
        yield Finding(f"cannot be proven safe: {exc}")


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
