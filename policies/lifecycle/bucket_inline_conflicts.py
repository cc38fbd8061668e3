"""USDR-LEG-07: a legacy bucket's configuration is set once, inline or as a resource, never both.

An `aws.s3.Bucket` argument such as `policy`, `acl`/`grants`, `lifecycleRules`,
`objectLockConfiguration`, `replicationConfiguration`, `versioning`,
`serverSideEncryptionConfiguration`, `logging`, `website` or `corsRules`, together with the
separate resource for the same configuration of the same bucket (BucketPolicy, BucketAclV2,
BucketLifecycleConfiguration, ...), makes the provider fight itself: each `pulumi up` applies
one and then the other, and S3 keeps whichever came last (pulumi-aws `Bucket` docstrings:
"Use the resource `s3.BucketPolicy` instead"; the provider documents each pair as conflicting).
What S3 ends up honouring then does not follow from the program, so it is a violation at a
legacy site whatever the two say. Each inline argument is also judged on its own by the
legacy rule for its separate resource (`s3_inline.virtual`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from legacy_sites import attached, legacy_buckets
from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource
from s3_inline import SEPARATE, conflicts

META = Meta(
    name="legacy-bucket-inline-conflicts",
    control="USDR-LEG-07",
    title="Legacy bucket configuration set once",
    description="At a legacy site, no bucket sets a deprecated inline argument (policy, acl, grants, "
    "lifecycle rules, object lock, replication, versioning, encryption, logging, website, CORS) and also "
    "has the separate resource for the same configuration.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation="Drop the inline argument from aws.s3.Bucket and keep the separate resource (BucketPolicy, "
    "BucketAclV2, BucketLifecycleConfiguration, BucketObjectLockConfiguration, BucketReplicationConfig, "
    "BucketVersioning, BucketServerSideEncryptionConfiguration, BucketLogging, BucketWebsiteConfiguration, "
    "BucketCorsConfiguration).",
)

_TYPES = tuple(sorted({t for types in SEPARATE.values() for t in types}))


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    for bucket, site in legacy_buckets(resources, cfg):
        for problem in conflicts(bucket, attached(bucket, resources, *_TYPES)):
            yield bucket.urn, f"site {site.name}: bucket {bucket.name!r}: {problem}"


POLICY = stack_policy(META, check)
