"""The deprecated inline arguments of `aws.s3.Bucket`, judged like their separate resources.

pulumi-aws still accepts `acl`, `grants`, `policy`, `lifecycleRules`, `objectLockConfiguration`,
`replicationConfiguration`, `versioning`, `serverSideEncryptionConfiguration`, `logging`,
`website` and `corsRules` on the bucket itself ("Use the resource `s3.BucketAcl` instead",
and so on, in the `Bucket` docstrings of pulumi_aws). S3 honours them exactly as it honours
the separate resources, so a rule that reads only the separate resource would miss them.
`virtual(bucket)` turns each inline argument the legacy rules read into the separate
resource it stands for (same provider, `bucket` = the bucket, a dependency on it, and the
bucket's URN, so that findings land on the bucket); `with_inline(resources)` is the stack
with those added.

An inline argument and a separate resource for the same configuration of one bucket fight:
each `pulumi up` writes one and then the other, and S3 keeps whichever came last
(`conflicts`). `acl = "private"` is the provider's default and is not counted as set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from resource_props import UNKNOWN, Resource, is_unknown, items

POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
ACL: Final = "aws:s3/bucketAclV2:BucketAclV2"
LIFECYCLE: Final = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VERSIONING: Final = "aws:s3/bucketVersioning:BucketVersioning"
BUCKETS: Final = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")

# inline prop -> the separate resource types that manage the same configuration
SEPARATE: Final[dict[str, tuple[str, ...]]] = {
    "acl": ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"),
    "grants": ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"),
    "policy": (POLICY,),
    "lifecycleRules": (
        LIFECYCLE,
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    ),
    "objectLockConfiguration": (
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
    ),
    "replicationConfiguration": ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",),
    "versioning": (VERSIONING, "aws:s3/bucketVersioningV2:BucketVersioningV2"),
    "serverSideEncryptionConfiguration": (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    ),
    "logging": ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"),
    "website": (
        "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
        "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2",
    ),
    "corsRules": (
        "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
        "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2",
    ),
}


def inline_set(bucket: Resource, prop: str) -> bool:
    """Is the inline argument given (unknown counts: it may be)?"""
    value = bucket.props.get(prop)
    if is_unknown(value):
        return True
    if prop == "acl" and value == "private":
        return False
    return value not in (None, "", [], {})


def _virtual(bucket: Resource, type_: str, what: str, props: dict[str, Any]) -> Resource:
    return Resource(
        type=type_,
        name=f"{bucket.name} (inline {what})",
        urn=bucket.urn,
        props={"bucket": bucket.props.get("bucket"), **props},
        provider=bucket.provider,
        protect=False,
        parent=bucket.parent,
        dependencies=(bucket.urn,),
        property_dependencies={"bucket": (bucket.urn,)},
    )


def _grants(value: Any) -> Any:
    """Inline `grants` ({id|uri, type, permissions[]}) as a BucketAcl accessControlPolicy. The
    owner's canonical id is not known here, so a grant to the owner is judged like any other."""
    if is_unknown(value):
        return UNKNOWN
    out = []
    for g in items(value):
        if not isinstance(g, dict):
            continue
        grantee = {k: g[k] for k in ("id", "uri", "type") if k in g}
        perms = g.get("permissions")
        if is_unknown(perms):
            out.append({"grantee": grantee, "permission": "FULL_CONTROL"})
            continue
        for p in items(perms):
            out.append({"grantee": grantee, "permission": p})
    return {"grants": out}


def _lifecycle_rule(rule: Any) -> Any:
    """An inline lifecycle rule in the shape of BucketLifecycleConfiguration's `rules`."""
    if not isinstance(rule, dict):
        return rule
    enabled = rule.get("enabled")
    status = UNKNOWN if is_unknown(enabled) else ("Enabled" if enabled is True else "Disabled")
    flt: dict[str, Any] = {}
    for key in ("prefix", "tags"):
        if rule.get(key) not in (None, "", {}, []):
            flt[key] = rule[key]
    out: dict[str, Any] = {"id": rule.get("id"), "status": status, "filter": flt}
    exp = rule.get("expiration")
    if exp is not None:
        out["expiration"] = exp
    nce = rule.get("noncurrentVersionExpiration")
    if isinstance(nce, dict):
        out["noncurrentVersionExpiration"] = {"noncurrentDays": nce.get("days")}
    elif is_unknown(nce):
        out["noncurrentVersionExpiration"] = UNKNOWN
    if rule.get("abortIncompleteMultipartUploadDays") is not None:
        out["abortIncompleteMultipartUpload"] = {
            "daysAfterInitiation": rule["abortIncompleteMultipartUploadDays"]
        }
    for key in ("transitions", "noncurrentVersionTransitions"):
        if rule.get(key):
            out[key] = rule[key]
    return out


def _versioning(value: Any) -> Any:
    if is_unknown(value):
        return {"status": UNKNOWN}
    enabled = value.get("enabled") if isinstance(value, dict) else None
    if is_unknown(enabled):
        return {"status": UNKNOWN}
    return {"status": "Enabled" if enabled is True else "Suspended" if enabled is False else None}


def virtual(bucket: Resource) -> list[Resource]:
    """The separate resources that the bucket's inline policy, ACL/grants, lifecycle rules and
    versioning stand for."""
    if bucket.type not in BUCKETS:
        return []
    p = bucket.props
    out = []
    if inline_set(bucket, "policy"):
        out.append(_virtual(bucket, POLICY, "policy", {"policy": p.get("policy")}))
    if inline_set(bucket, "acl") or inline_set(bucket, "grants"):
        acl: dict[str, Any] = {}
        if inline_set(bucket, "acl"):
            acl["acl"] = p.get("acl")
        if inline_set(bucket, "grants"):
            acl["accessControlPolicy"] = _grants(p.get("grants"))
        out.append(_virtual(bucket, ACL, "ACL", acl))
    if inline_set(bucket, "lifecycleRules"):
        rules = p.get("lifecycleRules")
        converted = UNKNOWN if is_unknown(rules) else [_lifecycle_rule(r) for r in items(rules)]
        out.append(_virtual(bucket, LIFECYCLE, "lifecycle rules", {"rules": converted}))
    if inline_set(bucket, "versioning"):
        out.append(
            _virtual(
                bucket,
                VERSIONING,
                "versioning",
                {"versioningConfiguration": _versioning(p.get("versioning"))},
            )
        )
    return out


def with_inline(resources: Sequence[Resource]) -> list[Resource]:
    """The stack's resources plus the separate resources the buckets' inline arguments stand for."""
    return [*resources, *(v for r in resources for v in virtual(r))]


def conflicts(bucket: Resource, attached: Sequence[Resource]) -> list[str]:
    """For each inline argument that is set: the separate resources managing the same thing."""
    out = []
    for prop, types in SEPARATE.items():
        if not inline_set(bucket, prop):
            continue
        rivals = [r.name for r in attached if r.type in types]
        if rivals:
            out.append(
                f"the inline `{prop}` and {', '.join(repr(n) for n in rivals)} both manage the same "
                "configuration: the provider applies one, then the other, and S3 keeps whichever came last"
            )
    return out
