"""The bucket policies, parsed and evaluated: who may write, delete, change policy/ACL, read.

The action lists and callers here are the tests' own (not imported from the component), and
every verdict comes from `tests/legacy/iam.py`, which evaluates the JSON the way S3 does.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Any

import pytest

from components.legacy_backup import log_bucket_policy, replica_bucket_policy
from stacks.settings import LegacySite, Settings
from tests.legacy.conftest import Synth, site_of
from tests.legacy.iam import Caller, decide

POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ACCOUNT = "000000000000"

OBJECT_WRITES = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:ReplicateObject",
    "s3:ReplicateTags",
    "s3:ReplicateDelete",
    "s3:AbortMultipartUpload",
    "s3:RestoreObject",
)
DELETES = (
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:BypassGovernanceRetention",
    "s3:DeleteBucket",
)
POLICY_CHANGES = ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
POLICY_ACL_CHANGES = (
    *POLICY_CHANGES,
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutBucketOwnershipControls",
)
MUTATIONS = OBJECT_WRITES + DELETES + POLICY_ACL_CHANGES
# Even the writer may never do these: they destroy versions, lock data past its date, or
# change who may access it.
NEVER = (
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:DeleteBucket",
    *POLICY_ACL_CHANGES,
)
OBJECT_READS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:GetObjectTagging",
    "s3:ListBucketVersions",
)
# HeadBucket, the AWS provider's read of a bucket (refresh; after every create and update), is
# authorized as s3:ListBucket: "To use this operation, you must have permissions to perform the
# s3:ListBucket action" (AWS S3 API Reference, HeadBucket,
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html; pulumi/examples#209 had to
# drop a bucket policy that denied it because `pulumi refresh` failed). So the deployer keeps it.
HEAD_BUCKET = "s3:ListBucket"
READS = (*OBJECT_READS, HEAD_BUCKET)
LOG_DELIVERY = "logging.s3.amazonaws.com"

TLS = {"aws:SecureTransport": "true"}


def _at(day: date) -> dict[str, str]:
    return {"aws:CurrentTime": f"{day.isoformat()}T12:00:00Z"}


def _callers(site: LegacySite, replica_buckets: list[str]) -> list[Caller]:
    """Everyone who might knock: the two named principals, their look-alikes, the bucket
    owner's admins, an anonymous caller and the log-delivery service."""
    callers = [
        Caller("restore", aws=site.restore_principal),
        Caller("deployer", aws=site.deployer),
        Caller("deployer-lookalike", aws=site.deployer + "-old"),
        Caller("restore-lookalike", aws=site.restore_principal + "-old"),
        Caller("owner-admin", aws=f"arn:aws:iam::{ACCOUNT}:role/site-admin"),
        Caller("other-user", aws=f"arn:aws:iam::{ACCOUNT}:user/someone"),
        Caller("other-account", aws="arn:aws:iam::111111111111:root"),
        Caller("anonymous"),
        Caller(
            "log-delivery",
            service=LOG_DELIVERY,
            context={"aws:SourceArn": f"arn:aws:s3:::{replica_buckets[0]}"},
        ),
    ]
    if site.writer:
        callers += [Caller("writer", aws=site.writer), Caller("writer-lookalike", aws=site.writer + "-2")]
    else:
        # A frozen site has no writer; the ex-writer (what a replica site used) must be refused too.
        callers.append(Caller("ex-writer", aws=f"arn:aws:iam::{ACCOUNT}:user/legacy-replicator"))
    return callers


def _policies(s: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    """(site, bucket) -> parsed policy document."""
    return {(site_of(r), r.inputs["bucket"]): json.loads(r.inputs["policy"]) for r in s.of_type(POLICY)}


def _resources(bucket: str) -> tuple[str, str]:
    return (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/backup/2026/11/users.tar.zst")


def _not_denied(
    policy: dict[str, Any], callers: list[Caller], action: str, bucket: str, **ctx: str
) -> set[str]:
    return {
        c.label
        for c in callers
        for res in _resources(bucket)
        if decide(policy, c, action, res, **ctx) != "deny"
    }


def _may_mutate(action: str, *, writer: bool) -> set[str]:
    """Who may do a mutation: the writer (replica mode, before the drain) and, for the bucket
    policy only, the deployer (a mode change or a sunset move rewrites it)."""
    allowed = {"writer"} if writer and action not in NEVER else set()
    if action in POLICY_CHANGES:
        allowed.add("deployer")
    return allowed


def _replica_cases(settings: Settings, s: Synth) -> list[tuple[LegacySite, str, dict[str, Any]]]:
    pols = _policies(s)
    cases = []
    for site in settings.legacy_sites:
        for b in site.buckets:
            assert (site.name, b) in pols, f"{site.name}/{b} has no bucket policy"
            cases.append((site, b, pols[(site.name, b)]))
    return cases


def _drain_start(s: Synth, site: LegacySite, bucket: str) -> date:
    """When the replica's current versions expire, read from its lifecycle (not from the code)."""
    for r in s.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        if site_of(r) == site.name and r.inputs["bucket"] == bucket:
            dates = [
                rule["expiration"]["date"]
                for rule in r.inputs["rules"]
                if "date" in rule.get("expiration", {})
            ]
            assert len(dates) == 1, f"{r.urn}: {dates}"
            return date.fromisoformat(dates[0])
    raise AssertionError(f"{site.name}/{bucket}: no lifecycle")


# ----------------------------------------------------------------------------- replica buckets


def test_every_replica_and_log_bucket_has_a_policy(prod_settings: Settings, prod_synth: Synth) -> None:
    expected = {
        (s.name, b) for s in prod_settings.legacy_sites for b in (*s.buckets, f"{s.name}-access-logs")
    }
    assert set(_policies(prod_synth)) == expected


def test_only_the_writer_may_write_or_delete_in_replica_mode(
    prod_settings: Settings, prod_synth: Synth
) -> None:
    cases = [c for c in _replica_cases(prod_settings, prod_synth) if c[0].mode == "replica"]
    assert cases, "prod must have a replica-mode site"
    for site, bucket, policy in cases:
        callers = _callers(site, [bucket])
        before = _at(site.sunset - timedelta(days=200))
        for action in MUTATIONS:
            allowed = _not_denied(policy, callers, action, bucket, **TLS, **before)
            assert allowed <= _may_mutate(action, writer=True), (
                f"{site.name}/{bucket}: {action} open to {sorted(allowed)}"
            )
        # ...and the writer can actually replicate (a policy that blocks it would break the site).
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"):
            writer = next(c for c in callers if c.label == "writer")
            for res in _resources(bucket):
                assert decide(policy, writer, action, res, **TLS, **before) == "allow", f"{bucket}: {action}"


def test_nobody_may_destroy_versions_lock_or_change_policy_even_the_writer(
    prod_settings: Settings, prod_synth: Synth
) -> None:
    for site, bucket, policy in _replica_cases(prod_settings, prod_synth):
        callers = _callers(site, [bucket])
        for action in NEVER:
            allowed = _not_denied(
                policy, callers, action, bucket, **TLS, **_at(site.sunset - timedelta(days=200))
            )
            assert allowed == _may_mutate(action, writer=False), (
                f"{site.name}/{bucket}: {action} open to {sorted(allowed)}"
            )


def test_nobody_may_write_or_delete_in_frozen_mode(prod_settings: Settings, prod_synth: Synth) -> None:
    cases = [c for c in _replica_cases(prod_settings, prod_synth) if c[0].mode == "frozen"]
    assert cases, "prod must have a frozen site"
    for site, bucket, policy in cases:
        callers = _callers(site, [bucket])
        for action in MUTATIONS:
            allowed = _not_denied(policy, callers, action, bucket, **TLS, **_at(date(2026, 1, 1)))
            assert allowed == _may_mutate(action, writer=False), (
                f"{site.name}/{bucket}: {action} open to {sorted(allowed)}"
            )


def test_writes_stop_when_the_drain_starts(prod_settings: Settings, prod_synth: Synth) -> None:
    for site, bucket, policy in _replica_cases(prod_settings, prod_synth):
        drain = _drain_start(prod_synth, site, bucket)
        callers = _callers(site, [bucket])
        for day in (drain, drain + timedelta(days=1), site.sunset):
            for action in MUTATIONS:
                allowed = _not_denied(policy, callers, action, bucket, **TLS, **_at(day))
                assert allowed == _may_mutate(action, writer=False), (
                    f"{site.name}/{bucket} on {day}: {action} open to {sorted(allowed)}"
                )


def test_reads_only_for_the_restore_principal(prod_settings: Settings, prod_synth: Synth) -> None:
    for site, bucket, policy in _replica_cases(prod_settings, prod_synth):
        callers = _callers(site, [bucket])
        restore = next(c for c in callers if c.label == "restore")
        for action in OBJECT_READS:
            allowed = _not_denied(policy, callers, action, bucket, **TLS)
            assert allowed == {"restore"}, f"{site.name}/{bucket}: {action} open to {sorted(allowed)}"
            assert decide(policy, restore, action, _resources(bucket)[1], **TLS) == "allow"


def test_the_deployer_can_head_the_bucket_and_replace_its_policy_but_reads_no_object(
    prod_settings: Settings, prod_synth: Synth
) -> None:
    """Issue 13 item 1: `pulumi refresh` (HeadBucket = s3:ListBucket on the bucket ARN) and a mode
    or sunset change (PutBucketPolicy) must work for the deployer; an object read must not."""
    pols = _policies(prod_synth)
    for site in prod_settings.legacy_sites:
        for bucket in (*site.buckets, f"{site.name}-access-logs"):
            policy = pols[(site.name, bucket)]
            callers = _callers(site, list(site.buckets))
            deployer = next(c for c in callers if c.label == "deployer")
            bucket_arn, object_arn = _resources(bucket)
            for action in (HEAD_BUCKET, *POLICY_CHANGES):
                assert decide(policy, deployer, action, bucket_arn, **TLS) == "allow", f"{bucket}: {action}"
            assert _not_denied(policy, callers, HEAD_BUCKET, bucket, **TLS) == {"restore", "deployer"}
            for action in OBJECT_READS:
                for res in (bucket_arn, object_arn):
                    assert decide(policy, deployer, action, res, **TLS) == "deny", f"{bucket}: {action} {res}"


@pytest.mark.parametrize("kind", ["replica", "log"])
def test_requests_without_tls_are_denied_to_everyone(
    prod_settings: Settings, prod_synth: Synth, kind: str
) -> None:
    pols = _policies(prod_synth)
    for site in prod_settings.legacy_sites:
        bucket = site.buckets[0] if kind == "replica" else f"{site.name}-access-logs"
        policy = pols[(site.name, bucket)]
        callers = _callers(site, list(site.buckets))
        for action in (
            *MUTATIONS,
            *READS,
            "s3:GetBucketPolicy",
            "s3:PutLifecycleConfiguration",
        ):
            allowed = _not_denied(
                policy, callers, action, bucket, **{"aws:SecureTransport": "false"}, **_at(date(2026, 1, 1))
            )
            assert allowed == set(), f"{site.name}/{bucket}: {action} without TLS open to {sorted(allowed)}"


# ----------------------------------------------------------------------------- log bucket


def test_only_log_delivery_writes_the_log_bucket_and_nobody_deletes(
    prod_settings: Settings, prod_synth: Synth
) -> None:
    pols = _policies(prod_synth)
    for site in prod_settings.legacy_sites:
        log = f"{site.name}-access-logs"
        policy = pols[(site.name, log)]
        callers = _callers(site, list(site.buckets))
        for action in MUTATIONS:
            allowed = _not_denied(policy, callers, action, log, **TLS)
            expected = {"log-delivery"} if action == "s3:PutObject" else set()
            expected |= _may_mutate(action, writer=False)
            assert allowed <= expected, f"{site.name}/{log}: {action} open to {sorted(allowed)}"
        delivery = next(c for c in callers if c.label == "log-delivery")
        assert decide(policy, delivery, "s3:PutObject", f"arn:aws:s3:::{log}/backups/x", **TLS) == "allow"
        # Log delivery on behalf of some other bucket gets no allowance from this policy.
        stranger = dataclasses.replace(delivery, context={"aws:SourceArn": "arn:aws:s3:::elsewhere"})
        assert decide(policy, stranger, "s3:PutObject", f"arn:aws:s3:::{log}/x", **TLS) != "allow"
        for action in OBJECT_READS:
            assert _not_denied(policy, callers, action, log, **TLS) == {"restore"}, f"{log}: {action}"


# ----------------------------------------------------------------------------- the builders


def test_policy_builders_refuse_inconsistent_modes() -> None:
    with pytest.raises(ValueError, match="writer"):
        replica_bucket_policy(
            "b",
            mode="replica",
            writer=None,
            restore_principal="r",
            deployer="d",
            drain_start=date(2027, 1, 1),
        )
    with pytest.raises(ValueError, match="no writer"):
        replica_bucket_policy(
            "b", mode="frozen", writer="w", restore_principal="r", deployer="d", drain_start=date(2027, 1, 1)
        )
    with pytest.raises(ValueError, match="mode"):
        replica_bucket_policy(
            "b", mode="open", writer=None, restore_principal="r", deployer="d", drain_start=date(2027, 1, 1)
        )


def test_the_evaluator_catches_a_broken_policy(prod_settings: Settings) -> None:
    """The checks above must fail if the policy breaks: drop the writer condition and see."""
    site = next(s for s in prod_settings.legacy_sites if s.mode == "replica")
    policy = replica_bucket_policy(
        "backups",
        mode="replica",
        writer=site.writer,
        restore_principal=site.restore_principal,
        deployer=site.deployer,
        drain_start=site.sunset - timedelta(days=30),
    )
    callers = _callers(site, ["backups"])
    assert _not_denied(policy, callers, "s3:PutObject", "backups", **TLS, **_at(date(2027, 1, 1))) == {
        "writer"
    }
    broken = json.loads(json.dumps(policy))
    for st in broken["Statement"]:
        if st["Sid"] == "DenyWritesExceptWriter":
            del st["Condition"]["StringNotEquals"]
            st["Condition"]["StringEquals"] = {"aws:PrincipalArn": site.restore_principal}
    opened = _not_denied(broken, callers, "s3:PutObject", "backups", **TLS, **_at(date(2027, 1, 1)))
    assert opened > {"writer"}
    log = log_bucket_policy(
        "logs", sources=["backups"], restore_principal=site.restore_principal, deployer=site.deployer
    )
    log["Statement"] = [st for st in log["Statement"] if st["Sid"] != "DenyInsecureTransport"]
    assert _not_denied(log, callers, "s3:GetObject", "logs", **{"aws:SecureTransport": "false"}) == {
        "restore"
    }
    # The deployer exemption widened to object reads is caught the same way.
    widened = json.loads(json.dumps(policy))
    for st in widened["Statement"]:
        if st["Sid"] == "DenyReadsExceptRestore":
            st["Condition"]["StringNotEquals"]["aws:PrincipalArn"] = [site.restore_principal, site.deployer]
        if st["Sid"] == "AllowDeployerBucketMetadata":
            st["Action"].append("s3:GetObject")
            st["Resource"] = [st["Resource"], f"{st['Resource']}/*"]
    assert _not_denied(widened, callers, "s3:GetObject", "backups", **TLS) == {"restore", "deployer"}


def test_the_builders_refuse_a_deployer_who_is_the_restore_principal() -> None:
    with pytest.raises(ValueError, match="deployer"):
        replica_bucket_policy(
            "b", mode="frozen", writer=None, restore_principal="r", deployer="r", drain_start=date(2027, 1, 1)
        )
    with pytest.raises(ValueError, match="deployer"):
        log_bucket_policy("l", sources=["b"], restore_principal="r", deployer="")
