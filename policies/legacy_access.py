"""Who may do what to a legacy site's bucket, asked of its bucket policy through `s3_policy_eval`.

The questions (issue 16, item 1), for every principal that matters: the site's writer, its
restore principal, every principal a statement or a principal condition names, and the ones
nobody names (another principal of each account seen, another account, an unlisted service,
an anonymous caller):

- who can write, overwrite, tag or delete objects and object versions, change retention or
  legal holds, change the policy, the ACLs, the replication or the object lock configuration,
  or delete the bucket (`MUTATIONS`);
- who can read or list (`READS`): only the restore principal, in both modes;
- mode `replica`: the writer may replicate in (`WRITER_MAY`) and nothing more; mode `frozen`:
  nobody writes. The services in `legacyServiceWriters` may put objects (access-log delivery).
- the site's `deployer` (issue 13, item 1) may do `DEPLOYER_MAY` and nothing more: s3:ListBucket,
  because HeadBucket, the AWS provider's read of a bucket on every refresh and after every
  update, "requires s3:ListBucket" (AWS S3 API Reference, HeadBucket), and the bucket policy's
  own replacement. Never an object read: a deployer exempted from GetObject is an excess.

Each action is asked of the ARN S3 authorizes it against: object actions of the object ARN
`arn:aws:s3:::<bucket>/<key>` (any key), bucket actions of `arn:aws:s3:::<bucket>` ("Amazon
S3 actions" / "Resource types defined by Amazon S3" in the Service Authorization Reference,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).

Lifecycle, versioning, encryption, logging and public-access configuration are left to the
deployer on purpose (a sunset moved earlier is one `pulumi up`); their values are judged by
the other legacy rules, not by who may set them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from pack_config import LegacySite, PackConfig
from s3_policy_eval import Caller, Statement, Target, Verdict, callers_for, evaluate

# Object-level actions (authorized against the object ARN).
OBJECT_MUTATIONS: Final = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
    "s3:AbortMultipartUpload",
    "s3:RestoreObject",
)
# Bucket-level actions (authorized against the bucket ARN).
BUCKET_MUTATIONS: Final = (
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketObjectLockConfiguration",
    "s3:DeleteBucket",
)
MUTATIONS: Final = OBJECT_MUTATIONS + BUCKET_MUTATIONS
OBJECT_READS: Final = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:GetObjectVersionAttributes",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectAcl",
    "s3:GetObjectVersionAcl",
    "s3:ListMultipartUploadParts",
)
BUCKET_READS: Final = ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads")
READS: Final = OBJECT_READS + BUCKET_READS
# What replicating in takes; DeleteObject on a versioned bucket only adds a delete marker.
WRITER_MAY: Final = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
)
SERVICE_WRITER_MAY: Final = ("s3:PutObject",)
# The deploying principal: the provider's bucket read (HeadBucket = s3:ListBucket) and the policy.
DEPLOYER_MAY: Final = ("s3:ListBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
_BUCKET_LEVEL: Final = frozenset(BUCKET_MUTATIONS + BUCKET_READS)


def target(bucket: str | None, action: str) -> Target:
    return Target(bucket, objects=action not in _BUCKET_LEVEL)


def may_do(caller: Caller, site: LegacySite, cfg: PackConfig) -> frozenset[str]:
    """The actions `caller` may be granted at `site`: everything else must be refused."""
    allowed: set[str] = set()
    if site.mode == "replica" and site.writer and caller.arn == site.writer:
        allowed.update(WRITER_MAY)
    if caller.service and caller.service in cfg.legacy_service_writers:
        allowed.update(SERVICE_WRITER_MAY)
    if site.restore_principal and caller.arn == site.restore_principal:
        allowed.update(READS)
    if site.deployer and caller.arn == site.deployer:
        allowed.update(DEPLOYER_MAY)
    return frozenset(allowed)


def who_may(site: LegacySite) -> str:
    writes = f"only {site.writer} may write" if site.mode == "replica" else "nobody may write (frozen)"
    return f"{writes}, only {site.restore_principal or 'the restore principal'} may read"


@dataclass(frozen=True)
class Excess:
    """One caller, the actions it should not get, and what the policy does about them."""

    caller: Caller
    actions: tuple[str, ...]
    verdicts: tuple[Verdict, ...]

    def shown_actions(self) -> str:
        return ", ".join(self.actions[:3]) + (
            f" (+{len(self.actions) - 3} more)" if len(self.actions) > 3 else ""
        )


def excess(
    statements: Sequence[Statement],
    bucket: str | None,
    site: LegacySite,
    cfg: PackConfig,
    *,
    wanted: str,
) -> Iterator[Excess]:
    """Per caller, the forbidden actions the policy `may_allow` (wanted="allowed") or does
    not surely deny (wanted="not-denied")."""
    for caller in callers_for(statements, (site.writer, site.restore_principal, site.deployer)):
        permitted = may_do(caller, site, cfg)
        hits: list[tuple[str, Verdict]] = []
        for action in MUTATIONS + READS:
            if action in permitted:
                continue
            v = evaluate(statements, caller, action, target(bucket, action))
            if v.may_allow if wanted == "allowed" else not v.denied:
                hits.append((action, v))
        if hits:
            yield Excess(caller, tuple(a for a, _ in hits), tuple(v for _, v in hits))
