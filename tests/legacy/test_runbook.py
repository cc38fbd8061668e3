"""docs/legacy-decommission.md, held to what its steps change and to who can make the change.

Issue 13 item 1: the bucket policy used to deny s3:ListBucket to everyone but the restore
principal. HeadBucket is authorized as s3:ListBucket ("To use this operation, you must have
permissions to perform the s3:ListBucket action", AWS S3 API Reference, HeadBucket,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html), and the AWS provider calls
it to read every bucket (terraform-provider-aws `resourceBucketRead` -> `findBucket` ->
`HeadBucket`; on every `pulumi refresh` and after every create/update), then reads each
sub-resource with its Get* call. pulumi/examples#209 removed a bucket policy that denied listing
because `pulumi refresh` failed against it. So: every step of the runbook, diffed here, must be
something the site's deployer may do under the policy in force when it runs, and its refresh
must work under the policy it leaves behind.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from stacks.legacy import build_legacy_sites
from stacks.settings import Settings
from tests.legacy.conftest import Registered, Synth, synth
from tests.legacy.iam import Caller, decide

BUCKET = "aws:s3/bucket:Bucket"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
TLS = {"aws:SecureTransport": "true", "aws:CurrentTime": "2027-01-15T12:00:00Z"}
# What the provider calls to read a bucket (refresh), as IAM actions (Service Authorization
# Reference, Amazon S3): HeadBucket, then the bucket's sub-resources.
PROVIDER_READS = (
    "s3:ListBucket",  # HeadBucket
    "s3:GetBucketPolicy",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetBucketLogging",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketAcl",
)
# The write each changed resource type makes on update.
UPDATE_ACTION = {
    BUCKET: "s3:PutBucketTagging",
    POLICY: "s3:PutBucketPolicy",
    LIFECYCLE: "s3:PutLifecycleConfiguration",
}


def _by_urn(s: Synth) -> dict[str, Registered]:
    return {r.urn: r for r in s.resources}


def _changed(before: Synth, after: Synth) -> dict[str, Registered]:
    a, b = _by_urn(before), _by_urn(after)
    assert set(a) == set(b), f"resources added/removed: {sorted(set(a) ^ set(b))}"
    return {urn: b[urn] for urn in a if a[urn].inputs != b[urn].inputs}


def _policy_of(s: Synth, bucket: str) -> dict[str, Any]:
    return next(json.loads(r.inputs["policy"]) for r in s.of_type(POLICY) if r.inputs["bucket"] == bucket)


def _build(settings: Settings) -> Synth:
    result = synth(lambda: build_legacy_sites(settings), stack="prod")
    assert result.error is None, result.error
    return result


def _assert_the_deployer_can(
    site_deployer: str, before: Synth, after: Synth, changed: dict[str, Registered]
) -> None:
    deployer = Caller("deployer", aws=site_deployer)
    for r in changed.values():
        bucket = r.inputs["bucket"]
        arn = f"arn:aws:s3:::{bucket}"
        action = UPDATE_ACTION[r.type]
        # The update runs under the policy in force; the refresh after it under the new one.
        assert decide(_policy_of(before, bucket), deployer, action, arn, **TLS) != "deny", (
            f"{r.urn}: the deployer is denied {action} by the policy in force"
        )
        for read in PROVIDER_READS:
            for policy in (_policy_of(before, bucket), _policy_of(after, bucket)):
                assert decide(policy, deployer, read, arn, **TLS) != "deny", f"{r.urn}: {read} denied"


def test_step_1_freezing_a_site_changes_its_policies_and_mode_tags_only(prod_settings: Settings) -> None:
    """Runbook Step 1: the replica buckets' policies (writer statements gone) and the `mode` tag
    of every bucket of the site (the log bucket's too), updated in place; nothing created,
    deleted or replaced. The log bucket's policy does not depend on the mode."""
    site = next(s for s in prod_settings.legacy_sites if s.mode == "replica")
    frozen = dataclasses.replace(site, mode="frozen", writer=None)
    after_settings = dataclasses.replace(
        prod_settings, legacy_sites=tuple(frozen if s is site else s for s in prod_settings.legacy_sites)
    )
    before, after = _build(prod_settings), _build(after_settings)
    changed = _changed(before, after)
    buckets = {*site.buckets, f"{site.name}-access-logs"}
    assert {(r.type, r.inputs["bucket"]) for r in changed.values()} == {
        *((BUCKET, b) for b in buckets),
        *((POLICY, b) for b in site.buckets),
    }
    for r in changed.values():
        if r.type == BUCKET:
            old = _by_urn(before)[r.urn].inputs["tags"]
            assert {k for k in r.inputs["tags"] if r.inputs["tags"][k] != old.get(k)} == {"mode"}, r.urn
    _assert_the_deployer_can(site.deployer, before, after, changed)


def test_moving_a_sunset_earlier_is_one_update_the_deployer_may_make(prod_settings: Settings) -> None:
    """docs/legacy-decommission.md, *Moving the sunset*: tags, lifecycles and (replica) policies."""
    for site in prod_settings.legacy_sites:
        moved = dataclasses.replace(site, sunset=site.sunset - timedelta(days=14))
        after_settings = dataclasses.replace(
            prod_settings, legacy_sites=tuple(moved if s is site else s for s in prod_settings.legacy_sites)
        )
        before, after = _build(prod_settings), _build(after_settings)
        changed = _changed(before, after)
        kinds = {r.type for r in changed.values()}
        expected = {BUCKET, LIFECYCLE} | ({POLICY} if site.mode == "replica" else set())
        assert kinds == expected, f"{site.name}: {sorted(kinds)}"
        _assert_the_deployer_can(site.deployer, before, after, changed)


def test_the_refresh_works_for_the_deployer_on_every_bucket_today(prod_settings: Settings) -> None:
    s = _build(prod_settings)
    for site in prod_settings.legacy_sites:
        deployer = Caller("deployer", aws=site.deployer)
        for bucket in (*site.buckets, f"{site.name}-access-logs"):
            for read in PROVIDER_READS:
                assert (
                    decide(_policy_of(s, bucket), deployer, read, f"arn:aws:s3:::{bucket}", **TLS) != "deny"
                ), f"{site.name}/{bucket}: {read}"


def test_these_checks_fail_on_the_old_policy(prod_settings: Settings) -> None:
    """The policy before issue 13 (ListBucket and policy changes denied to all but restore/nobody)."""
    site = prod_settings.legacy_sites[0]
    policy = _policy_of(_build(prod_settings), site.buckets[0])
    old = json.loads(json.dumps(policy))
    old["Statement"] = [
        st
        for st in old["Statement"]
        if st["Sid"] not in ("DenyListingExceptRestoreAndDeployer", "AllowDeployerBucketMetadata")
    ]
    for st in old["Statement"]:
        if st["Sid"] == "DenyReadsExceptRestore":
            st["Action"].append("s3:ListBucket")
    deployer = Caller("deployer", aws=site.deployer)
    assert decide(old, deployer, "s3:ListBucket", f"arn:aws:s3:::{site.buckets[0]}", **TLS) == "deny"
