"""One legacy datacenter's backups, kept as read-only replicas with a dated end of life.

The US and Singapore datacenters speak the S3 API, so pulumi-aws manages them through an explicit
`aws.Provider` per site (built by `stacks/legacy.py`, handed in through `opts`; this component
never builds one and refuses to run without one, so nothing can fall back to a default AWS
provider).

Per site it declares:

- per replica bucket: the bucket (no object lock, no force-destroy), versioning, default
  encryption, a public access block, ownership controls (ACLs off), server access logs to the
  site's log bucket, a read-only bucket policy and a lifecycle that empties it by the sunset;
- one access-log bucket at the same site: encryption, public access block, ownership controls,
  a policy that lets only the log-delivery service write, and a lifecycle ending on the sunset.

The end of life is a date, not a retention period, and nothing may outlive it:

- A replica bucket is versioned, and S3 can only expire *noncurrent* versions a number of days
  after they became noncurrent. So the current versions expire on `drain_start` =
  sunset − `noncurrent_days`, and every noncurrent version `noncurrent_days` after that: the last
  version of anything is gone on the sunset date itself. From `drain_start` on the policy
  refuses all writes, so nothing new can land that would outlive the sunset.
- The log bucket is not versioned: its policy denies every overwrite and delete, so versions
  would protect nothing, and without them the date expiration removes each log object outright.
  It keeps the access trail of the drain window (restores by version id) until the sunset.
- No object lock, no retention, no legal hold: a locked object cannot be deleted by its date.
  The policy also denies `PutObjectRetention`/`PutObjectLegalHold`/`PutBucketObjectLockConfiguration`
  to everyone, so nobody can add one later.

The bucket policy is built here from known names (no `apply`), so preview, the policy pack and
preflight all see the final JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pulumi
import pulumi_aws as aws

# --------------------------------------------------------------------------- policy vocabulary
# Object writes the replication job performs. In mode `replica` only the writer may do them
# (and only before the drain starts); in mode `frozen`, nobody. `DeleteObject` on a versioned
# bucket only adds a delete marker: the version stays until the lifecycle removes it.
WRITER_ACTIONS: tuple[str, ...] = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
)
# Actions nobody may perform, in either mode: permanent version deletes (only the lifecycle
# removes versions, so a compromised writer cannot destroy the backups), locks and retention
# (they would block deletion by the date), ACL and ownership changes, replication *out* of the
# replica (a way to copy the data somewhere else), and deleting the bucket (the decommission
# runbook has the deployer delete this policy first). The writer never needs any of them: the
# issue allows it policy/ACL changes in `replica` mode, we deliberately give it less. Policy
# changes are the deployer's alone (DEPLOYER_ACTIONS, `DenyPolicyChangesExceptDeployer`).
# Left to the deployer on purpose: lifecycle, versioning, encryption, logging and public-access
# configuration. A sunset moved earlier must be able to update the lifecycle in one `pulumi up`;
# their values are guarded by review (preflight diff) and the policy pack, not by this document.
NOBODY_ACTIONS: tuple[str, ...] = (
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectVersionTagging",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutReplicationConfiguration",
    "s3:RestoreObject",
    "s3:DeleteBucket",
)
# Reads of backup data and of its version/upload listings: only the US restore principal
# (restores, decommission evidence). s3:ListBucket is the one read it shares (DEPLOYER_ACTIONS).
RESTORE_ONLY_READS: tuple[str, ...] = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:GetObjectVersionAttributes",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectAcl",
    "s3:GetObjectVersionAcl",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
)
# What the deploying principal (the site's `pulumi up`/`refresh` credentials) needs, and no more.
# - s3:ListBucket: HeadBucket, which the AWS provider calls to read every bucket (refresh, and
#   after every create/update), is authorized as s3:ListBucket: "To use this operation, you must
#   have permissions to perform the s3:ListBucket action" (AWS S3 API Reference, HeadBucket,
#   https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html). A bucket policy that
#   denies it to the deployer breaks `pulumi refresh` (pulumi/examples#209 removed such a policy
#   for exactly that reason). The price, stated in docs/legacy-decommission.md: the same action
#   also lists object keys (ListObjects); it never returns object data.
# - s3:PutBucketPolicy / s3:DeleteBucketPolicy: a mode change (replica -> frozen) or a sunset
#   move rewrites this policy, and decommission deletes it; denied to everyone else.
# Bucket tags, lifecycle, versioning, encryption, logging and the public access block are not
# denied by this policy at all (see NOBODY_ACTIONS), so the deployer needs no exemption for them.
DEPLOYER_ACTIONS: tuple[str, ...] = ("s3:ListBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
READ_ACTIONS: tuple[str, ...] = (*RESTORE_ONLY_READS, "s3:ListBucket")
LOG_DELIVERY = "logging.s3.amazonaws.com"
# The site modes this component builds. The stack's settings validate the same words
# (stacks/settings.py SITE_MODES; tests/components/test_shape.py keeps the two equal), but the
# component owns its vocabulary: it knows nothing of the stack's settings.
SITE_MODES: tuple[str, ...] = ("replica", "frozen")
SSE_ALGORITHMS = ("AES256", "aws:kms")


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _resources(bucket: str) -> list[str]:
    return [bucket_arn(bucket), f"{bucket_arn(bucket)}/*"]


def _deny_insecure_transport(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": _resources(bucket),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _deny_nobody_actions(bucket: str, extra: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "Sid": "DenyToEveryone",
        "Effect": "Deny",
        "Principal": "*",
        "Action": [*extra, *NOBODY_ACTIONS],
        "Resource": _resources(bucket),
    }


def _reads_for(bucket: str, restore_principal: str, deployer: str) -> list[dict[str, Any]]:
    # aws:PrincipalArn, not the Principal element: for an assumed role it is the role's ARN,
    # while the request's principal is the per-session assumed-role ARN.
    if not deployer or deployer == restore_principal:
        raise ValueError(f"{bucket}: the deployer must be named and differ from the restore principal")
    return [
        {
            "Sid": "DenyReadsExceptRestore",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(RESTORE_ONLY_READS),
            "Resource": _resources(bucket),
            "Condition": {"StringNotEquals": {"aws:PrincipalArn": restore_principal}},
        },
        {
            # HeadBucket (the provider's read) is s3:ListBucket: the deployer keeps it.
            "Sid": "DenyListingExceptRestoreAndDeployer",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:ListBucket",
            "Resource": _resources(bucket),
            "Condition": {"StringNotEquals": {"aws:PrincipalArn": [restore_principal, deployer]}},
        },
        {
            "Sid": "DenyPolicyChangesExceptDeployer",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
            "Resource": _resources(bucket),
            "Condition": {"StringNotEquals": {"aws:PrincipalArn": deployer}},
        },
        {
            "Sid": "AllowRestoreReads",
            "Effect": "Allow",
            "Principal": {"AWS": restore_principal},
            "Action": list(READ_ACTIONS),
            "Resource": _resources(bucket),
        },
        {
            # Bucket ARN only: nothing here is an object action.
            "Sid": "AllowDeployerBucketMetadata",
            "Effect": "Allow",
            "Principal": {"AWS": deployer},
            "Action": list(DEPLOYER_ACTIONS),
            "Resource": bucket_arn(bucket),
        },
    ]


def replica_bucket_policy(
    bucket: str,
    *,
    mode: str,
    writer: str | None,
    restore_principal: str,
    deployer: str,
    drain_start: date,
) -> dict[str, Any]:
    """The read-only policy of a replica bucket, as a document (json.dumps it)."""
    statements: list[dict[str, Any]] = [_deny_insecure_transport(bucket)]
    if mode == "replica":
        if not writer:
            raise ValueError(f"{bucket}: mode replica needs the replication writer principal")
        statements += [
            {
                "Sid": "DenyWritesExceptWriter",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(WRITER_ACTIONS),
                "Resource": _resources(bucket),
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": writer}},
            },
            {
                # The writer's allowance ends when the drain starts: anything written later
                # would outlive the sunset (its noncurrent version would expire after it).
                "Sid": "DenyWritesFromDrainStart",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(WRITER_ACTIONS),
                "Resource": _resources(bucket),
                "Condition": {
                    "DateGreaterThanEquals": {"aws:CurrentTime": f"{drain_start.isoformat()}T00:00:00Z"}
                },
            },
            {
                "Sid": "AllowWriterReplication",
                "Effect": "Allow",
                "Principal": {"AWS": writer},
                "Action": list(WRITER_ACTIONS),
                "Resource": _resources(bucket),
            },
            _deny_nobody_actions(bucket),
        ]
    elif mode == "frozen":
        if writer:
            raise ValueError(f"{bucket}: mode frozen has no writer")
        statements.append(_deny_nobody_actions(bucket, extra=WRITER_ACTIONS))
    else:
        raise ValueError(f"{bucket}: mode {mode!r} is not one of {', '.join(SITE_MODES)}")
    statements += _reads_for(bucket, restore_principal, deployer)
    return {"Version": "2012-10-17", "Statement": statements}


def log_bucket_policy(
    log_bucket: str, *, sources: Sequence[str], restore_principal: str, deployer: str
) -> dict[str, Any]:
    """The access-log bucket: only log delivery for `sources` writes, nobody deletes."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            _deny_insecure_transport(log_bucket),
            {
                # aws:PrincipalServiceName is absent for users and roles, and StringNotEquals
                # on an absent key matches: every caller but the log-delivery service is denied.
                "Sid": "DenyPutExceptLogDelivery",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": _resources(log_bucket),
                "Condition": {"StringNotEquals": {"aws:PrincipalServiceName": LOG_DELIVERY}},
            },
            {
                "Sid": "AllowLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": LOG_DELIVERY},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn(log_bucket)}/*",
                "Condition": {"ArnLike": {"aws:SourceArn": [bucket_arn(s) for s in sources]}},
            },
            _deny_nobody_actions(log_bucket, extra=[a for a in WRITER_ACTIONS if a != "s3:PutObject"]),
            *_reads_for(log_bucket, restore_principal, deployer),
        ],
    }


# --------------------------------------------------------------------------- args


@dataclass(frozen=True)
class LegacyBackupArgs:
    """One legacy site's backups, as plain values (stacks/legacy.py builds it from the stack's
    settings); defaults are the secure ones."""

    site: str
    country: str
    mode: str  # "replica" | "frozen"
    writer: str | None
    restore_principal: str
    # The site's deploying principal: bucket metadata and the bucket policy, never objects.
    deployer: str
    sunset: date
    buckets: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=dict)
    # Expiry of the residency waiver of a site outside the US; such a site without one is refused.
    waiver_expires: date | None = None
    # How long an overwritten/deleted version stays restorable; also how long before the sunset
    # the drain starts (see the module docstring). 30 days: a bad replication run is noticed
    # and undone well inside it.
    noncurrent_days: int = 30
    sse_algorithm: str = "AES256"  # the legacy stores have no KMS; `aws:kms` + key if one does
    kms_key_id: str | None = None
    # protect the buckets: deleting one must be a deliberate step of docs/legacy-decommission.md.
    protect: bool = True
    # Whether the site's store supports BucketOwnershipControls (issue 13 item 5). Without it,
    # no ownership-controls resource is declared; the compensating control is the bucket policy,
    # which denies PutBucketAcl/PutObjectAcl/PutObjectVersionAcl to everyone (NOBODY_ACTIONS),
    # so no ACL can open what the policy closes. Every other capability the component manages is
    # one a residency control relies on: the stack's settings refuse a site that lacks it.
    ownership_controls: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in SITE_MODES:
            problems.append(f"mode {self.mode!r} is not one of {', '.join(SITE_MODES)}")
        if self.mode == "replica" and not self.writer:
            problems.append("mode replica needs the replication writer principal")
        if self.mode == "frozen" and self.writer:
            problems.append("mode frozen has no writer")
        if not self.deployer:
            problems.append("the deployer principal is required (it reads bucket metadata on refresh)")
        elif self.deployer in (self.restore_principal, self.writer):
            problems.append("the deployer must differ from the restore principal and the writer")
        if self.country != "US" and self.waiver_expires is None:
            problems.append(f"site in {self.country} holds US data outside the US and needs a waiver")
        if not self.buckets:
            problems.append("at least one bucket is required")
        if self.log_bucket in self.buckets:
            problems.append(f"bucket name {self.log_bucket!r} is reserved for the access logs")
        if len(set(self.buckets)) != len(self.buckets):
            problems.append("duplicate bucket names")
        if self.noncurrent_days < 1:
            problems.append("noncurrent_days must be at least 1")
        if self.sse_algorithm not in SSE_ALGORITHMS:
            problems.append(f"sse_algorithm {self.sse_algorithm!r} is not one of {', '.join(SSE_ALGORITHMS)}")
        if self.kms_key_id and self.sse_algorithm != "aws:kms":
            problems.append("kms_key_id needs sse_algorithm aws:kms")
        if problems:
            raise ValueError(f"legacy site {self.site}: " + "; ".join(problems))

    @property
    def drain_start(self) -> date:
        """Current versions expire and writes stop here; the last noncurrent version at the sunset."""
        return self.sunset - timedelta(days=self.noncurrent_days)

    @property
    def log_bucket(self) -> str:
        return f"{self.site}-access-logs"

    def bucket_tags(self, role: str) -> dict[str, str]:
        tags = {
            **self.tags,
            "legacy-site": self.site,
            "country": self.country,
            "mode": self.mode,
            "sunset": self.sunset.isoformat(),
            "role": role,
        }
        if self.waiver_expires is not None:
            tags["residency-waiver-expires"] = self.waiver_expires.isoformat()
        return tags


def _aws_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource:
    """The explicit aws provider from `opts` (provider= or providers=); refuse to run without one."""
    if opts is not None:
        if opts.provider is not None and opts.provider.package == "aws":
            return opts.provider
        providers = opts.providers
        if isinstance(providers, Mapping) and isinstance(providers.get("aws"), pulumi.ProviderResource):
            return providers["aws"]
        if isinstance(providers, Sequence):
            for p in providers:
                if p.package == "aws":
                    return p
    raise ValueError(
        "LegacyBackup needs its site's explicit aws.Provider in opts (provider=...): "
        "it never falls back to a default AWS provider"
    )


# --------------------------------------------------------------------------- component

S3 = aws.s3


def _whole_bucket() -> aws.s3.BucketLifecycleConfigurationRuleFilterArgs:
    return S3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")


def replica_lifecycle_rules(args: LegacyBackupArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """Current versions expire at the drain start, noncurrent ones `noncurrent_days` later: the sunset."""
    return [
        S3.BucketLifecycleConfigurationRuleArgs(
            id="expire-by-sunset",
            status="Enabled",
            filter=_whole_bucket(),
            expiration=S3.BucketLifecycleConfigurationRuleExpirationArgs(date=args.drain_start.isoformat()),
            noncurrent_version_expiration=S3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=args.noncurrent_days
            ),
        ),
        # S3 refuses ExpiredObjectDeleteMarker together with a date in one rule.
        S3.BucketLifecycleConfigurationRuleArgs(
            id="remove-expired-delete-markers",
            status="Enabled",
            filter=_whole_bucket(),
            expiration=S3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
        ),
        # Writes stop at the drain start, so the last unfinished parts are gone a day later.
        _abort_incomplete_uploads(),
    ]


def _abort_incomplete_uploads() -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """Parts of an unfinished upload are data too, invisible to listings and to expiry rules:
    abort them after a day so nothing lingers past the sunset."""
    return S3.BucketLifecycleConfigurationRuleArgs(
        id="abort-incomplete-uploads",
        status="Enabled",
        filter=_whole_bucket(),
        abort_incomplete_multipart_upload=S3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=1
        ),
    )


def log_lifecycle_rules(args: LegacyBackupArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """The log bucket is not versioned: expiring on the sunset removes each object outright."""
    return [
        S3.BucketLifecycleConfigurationRuleArgs(
            id="expire-by-sunset",
            status="Enabled",
            filter=_whole_bucket(),
            expiration=S3.BucketLifecycleConfigurationRuleExpirationArgs(date=args.sunset.isoformat()),
        ),
        _abort_incomplete_uploads(),
    ]


class LegacyBackup(pulumi.ComponentResource):
    """A legacy site's read-only replica buckets and their access-log bucket."""

    buckets: dict[str, aws.s3.Bucket]
    log_bucket: aws.s3.Bucket
    policies: dict[str, aws.s3.BucketPolicy]
    lifecycles: dict[str, aws.s3.BucketLifecycleConfiguration]

    def __init__(self, name: str, args: LegacyBackupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        provider = _aws_provider(opts)
        super().__init__("usdr:legacy:LegacyBackup", name, None, opts)
        # The provider is passed to every child explicitly as well as inherited: a child can
        # never end up on a default provider, whatever the caller's opts look like.
        self._child = pulumi.ResourceOptions(parent=self, provider=provider)
        # Data-bearing: `protect` so that deleting a bucket is a deliberate runbook step
        # (docs/legacy-decommission.md: unprotect, then remove the site), never a side effect.
        data = pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(protect=args.protect))
        self.buckets, self.policies, self.lifecycles = {}, {}, {}

        # The log bucket first: the replica buckets log into it.
        log_name = f"{name}-access-logs"
        self.log_bucket = S3.Bucket(
            log_name,
            bucket=args.log_bucket,
            force_destroy=False,  # deletion needs an empty bucket: the lifecycle drains it
            object_lock_enabled=False,
            tags=args.bucket_tags("access-logs"),
            opts=data,
        )
        log_config = self._hardening(log_name, self.log_bucket, args)
        self.lifecycles[args.log_bucket] = S3.BucketLifecycleConfiguration(
            f"{log_name}-lifecycle",
            bucket=self.log_bucket.id,
            rules=log_lifecycle_rules(args),
            opts=self._child,
        )
        log_config.append(self.lifecycles[args.log_bucket])
        self.policies[args.log_bucket] = self._policy(
            log_name,
            self.log_bucket,
            log_bucket_policy(
                args.log_bucket,
                sources=args.buckets,
                restore_principal=args.restore_principal,
                deployer=args.deployer,
            ),
            after=log_config,
        )

        for bucket_name in args.buckets:
            rname = f"{name}-{bucket_name}"
            bucket = S3.Bucket(
                rname,
                bucket=bucket_name,
                force_destroy=False,
                object_lock_enabled=False,
                tags=args.bucket_tags("replica"),
                opts=data,
            )
            self.buckets[bucket_name] = bucket
            config = self._hardening(rname, bucket, args)
            versioning = S3.BucketVersioning(
                f"{rname}-versioning",
                bucket=bucket.id,
                versioning_configuration=S3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=self._child,
            )
            logging = S3.BucketLogging(
                f"{rname}-logging",
                bucket=bucket.id,
                target_bucket=self.log_bucket.id,
                target_prefix=f"{bucket_name}/",
                # The log bucket's policy must let log delivery write before logging is switched on.
                opts=self._after([self.policies[args.log_bucket]]),
            )
            self.lifecycles[bucket_name] = S3.BucketLifecycleConfiguration(
                f"{rname}-lifecycle",
                bucket=bucket.id,
                rules=replica_lifecycle_rules(args),
                # Noncurrent-version rules only make sense once versioning is on.
                opts=self._after([versioning]),
            )
            config += [versioning, logging, self.lifecycles[bucket_name]]
            self.policies[bucket_name] = self._policy(
                rname,
                bucket,
                replica_bucket_policy(
                    bucket_name,
                    mode=args.mode,
                    writer=args.writer,
                    restore_principal=args.restore_principal,
                    deployer=args.deployer,
                    drain_start=args.drain_start,
                ),
                after=config,
            )

        self.site = args.site
        self.sunset = args.sunset
        self.drain_start = args.drain_start
        self.register_outputs(
            {
                "site": args.site,
                "mode": args.mode,
                "sunset": args.sunset.isoformat(),
                "drainStart": args.drain_start.isoformat(),
                "bucketNames": [b.bucket for b in self.buckets.values()],
                "logBucketName": self.log_bucket.bucket,
            }
        )

    def _after(self, resources: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=list(resources)))

    def _policy(
        self, rname: str, bucket: aws.s3.Bucket, document: dict[str, Any], after: Sequence[pulumi.Resource]
    ) -> aws.s3.BucketPolicy:
        # Last of its bucket: the policy denies changes (ownership controls, locks) to everyone,
        # so everything it would block must already exist when it lands.
        return S3.BucketPolicy(
            f"{rname}-policy",
            bucket=bucket.id,
            policy=json.dumps(document, sort_keys=True),
            opts=self._after(after),
        )

    def _hardening(self, rname: str, bucket: aws.s3.Bucket, args: LegacyBackupArgs) -> list[pulumi.Resource]:
        """Encryption, public access block and (if the store has them) ownership controls."""
        hardening: list[pulumi.Resource] = [
            S3.BucketServerSideEncryptionConfiguration(
                f"{rname}-encryption",
                bucket=bucket.id,
                rules=[
                    S3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=S3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm=args.sse_algorithm,
                            kms_master_key_id=args.kms_key_id,
                        ),
                    )
                ],
                opts=self._child,
            ),
            S3.BucketPublicAccessBlock(
                f"{rname}-public-access",
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
                opts=self._child,
            ),
        ]
        if args.ownership_controls:
            hardening.append(
                S3.BucketOwnershipControls(
                    f"{rname}-ownership",
                    bucket=bucket.id,
                    # ACLs off: access is decided by the bucket policy alone.
                    rule=S3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
                    opts=self._child,
                )
            )
        return hardening
