"""Programs written outside this project, at the prod legacy sites, through the real pulumi_aws SDK.

Each program builds its own `aws.Provider` for a site's endpoint (as any program could) and
declares S3 resources the way their authors would, deprecated inline arguments included. It
runs under mocks (tests/legacy/conftest.py); every registered resource goes to the in-process
pack with the prod config. The wire shapes (camelCase props, JSON policies) are therefore the
SDK's own, not the test's guess. Each program must be refused by the rule named, with the
reason named; a compliant program built the same way passes every legacy rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from stacks.settings import Settings
from tests.legacy.conftest import synth
from tests.policies.harness import InProcessPack
from tests.policies.test_legacy_stacks import LEGACY_POLICIES, _legacy_findings, _resources

S3 = aws.s3
WRITER = "arn:aws:iam::000000000000:user/legacy-replicator"
RESTORE = "arn:aws:iam::000000000000:role/us-restore"
OUTSIDER = "arn:aws:iam::000000000000:user/someone-else"


def _provider(settings: Settings, name: str = "legacy-us-east") -> aws.Provider:
    site = next(s for s in settings.legacy_sites if s.name == name)
    return aws.Provider(
        f"their-{name}",
        region=site.aws_region,
        endpoints=[aws.ProviderEndpointArgs(s3=site.endpoint)],
        s3_use_path_style=True,
        skip_credentials_validation=True,
        skip_region_validation=True,
        skip_requesting_account_id=True,
    )


def _complete_policy(bucket: str) -> str:
    arns = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "NotAction": [
                        "s3:Get*",
                        "s3:List*",
                        "s3:PutObject",
                        "s3:ReplicateObject",
                        "s3:ReplicateDelete",
                    ],
                    "Resource": arns,
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["s3:PutObject", "s3:ReplicateObject", "s3:ReplicateDelete"],
                    "Resource": arns,
                    "Condition": {"StringNotEquals": {"aws:PrincipalArn": WRITER}},
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["s3:Get*", "s3:List*"],
                    "Resource": arns,
                    "Condition": {"StringNotEquals": {"aws:PrincipalArn": RESTORE}},
                },
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": WRITER},
                    "Action": "s3:PutObject",
                    "Resource": arns[1],
                },
            ],
        }
    )


def _lifecycle_rules(date: str) -> list[Any]:
    return [
        S3.BucketLifecycleConfigurationRuleArgs(
            id="expire",
            status="Enabled",
            filter=S3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            expiration=S3.BucketLifecycleConfigurationRuleExpirationArgs(date=date),
            abort_incomplete_multipart_upload=S3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=1
            ),
        )
    ]


def compliant(settings: Settings) -> None:
    opts = pulumi.ResourceOptions(provider=_provider(settings))
    b = S3.Bucket("their-bucket", bucket="their-bucket", object_lock_enabled=False, opts=opts)
    S3.BucketPolicy("their-policy", bucket=b.id, policy=_complete_policy("their-bucket"), opts=opts)
    S3.BucketLifecycleConfiguration(
        "their-lifecycle", bucket=b.id, rules=_lifecycle_rules("2027-09-01"), opts=opts
    )


def inline_everything(settings: Settings) -> None:
    """The deprecated inline arguments only: a loose policy, a filtered lifecycle, object lock."""
    opts = pulumi.ResourceOptions(provider=_provider(settings))
    S3.Bucket(
        "their-bucket",
        bucket="their-bucket",
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": OUTSIDER},
                        "Action": "s3:*",
                        "Resource": "arn:aws:s3:::their-bucket/*",
                    }
                ],
            }
        ),
        lifecycle_rules=[
            S3.BucketLifecycleRuleArgs(
                enabled=True,
                prefix="daily/",
                expiration=S3.BucketLifecycleRuleExpirationArgs(date="2027-09-01"),
            )
        ],
        object_lock_configuration=S3.BucketObjectLockConfigurationArgs(
            object_lock_enabled="Enabled",
            rule=S3.BucketObjectLockConfigurationRuleArgs(
                default_retention=S3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode="GOVERNANCE", days=1
                )
            ),
        ),
        grants=[S3.BucketGrantArgs(type="CanonicalUser", id="someone", permissions=["READ"])],
        opts=opts,
    )


def inline_and_separate(settings: Settings) -> None:
    opts = pulumi.ResourceOptions(provider=_provider(settings))
    b = S3.Bucket("their-bucket", bucket="their-bucket", policy=_complete_policy("their-bucket"), opts=opts)
    S3.BucketPolicy("their-policy", bucket=b.id, policy=_complete_policy("their-bucket"), opts=opts)
    S3.BucketLifecycleConfiguration(
        "their-lifecycle", bucket=b.id, rules=_lifecycle_rules("2027-09-01"), opts=opts
    )


def data_out(settings: Settings) -> None:
    """Replication and an inventory to a bucket at the Singapore site, events to a queue."""
    opts = pulumi.ResourceOptions(provider=_provider(settings))
    sg = pulumi.ResourceOptions(provider=_provider(settings, "legacy-sg"))
    b = S3.Bucket("their-bucket", bucket="their-bucket", opts=opts)
    S3.BucketPolicy("their-policy", bucket=b.id, policy=_complete_policy("their-bucket"), opts=opts)
    S3.BucketLifecycleConfiguration(
        "their-lifecycle", bucket=b.id, rules=_lifecycle_rules("2027-09-01"), opts=opts
    )
    far = S3.Bucket("their-copy", bucket="their-copy", opts=sg)
    S3.BucketReplicationConfig(
        "their-replication",
        bucket=b.id,
        role="arn:aws:iam::000000000000:role/replication",
        rules=[
            S3.BucketReplicationConfigRuleArgs(
                id="all",
                status="Enabled",
                destination=S3.BucketReplicationConfigRuleDestinationArgs(bucket=far.arn),
            )
        ],
        opts=opts,
    )
    S3.BucketNotification(
        "their-events",
        bucket=b.id,
        queues=[
            S3.BucketNotificationQueueArgs(
                queue_arn="arn:aws:sqs:us-east-1:1:q", events=["s3:ObjectCreated:*"]
            )
        ],
        opts=opts,
    )


def locked_objects(settings: Settings) -> None:
    opts = pulumi.ResourceOptions(provider=_provider(settings))
    b = S3.Bucket("their-bucket", bucket="their-bucket", opts=opts)
    S3.BucketObjectLockConfiguration(
        "their-lock",
        bucket=b.id,
        rule=S3.BucketObjectLockConfigurationRuleArgs(
            default_retention=S3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                mode="GOVERNANCE", days=1
            )
        ),
        opts=opts,
    )
    S3.BucketObjectv2(
        "their-object",
        bucket=b.id,
        key="k",
        content="x",
        object_lock_legal_hold_status="ON",
        opts=opts,
    )


CASES: list[tuple[str, Callable[[Settings], None], list[tuple[str, str]]]] = [
    ("compliant", compliant, []),
    (
        "inline-everything",
        inline_everything,
        [
            ("legacy-replica-writers", f"the inline policy: Statement[0] lets {OUTSIDER} s3:PutObject"),
            ("legacy-replica-writers", "the inline ACL grants READ to someone"),
            ("legacy-replica-lockdown", "policy 'their-bucket (inline policy)' does not deny"),
            ("legacy-replica-expiry", "is filtered (prefix, tag or size): not every object expires"),
            ("legacy-replica-retention", "the inline objectLockConfiguration enables Object Lock"),
        ],
    ),
    (
        "inline-and-separate",
        inline_and_separate,
        [("legacy-bucket-inline-conflicts", "the inline `policy` and 'their-policy' both manage")],
    ),
    (
        "data-out",
        data_out,
        [
            (
                "legacy-data-destinations",
                "the destination bucket 'their-copy' is at site legacy-sg in SG, outside the US",
            ),
            ("legacy-data-destinations", "event notifications send object keys to arn:aws:sqs:us-east-1:1:q"),
        ],
    ),
    (
        "locked-objects",
        locked_objects,
        [
            ("legacy-replica-retention", "this lock configuration enables Object Lock on the bucket"),
            ("legacy-replica-retention", "the object has a legal hold"),
        ],
    ),
]


@pytest.mark.parametrize(("name", "program", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_foreign_program_at_a_legacy_site(
    name: str,
    program: Callable[[Settings], None],
    expected: list[tuple[str, str]],
    pack: InProcessPack,
    prod_settings: Settings,
) -> None:
    s = synth(lambda: program(prod_settings), stack="prod")
    assert s.error is None, s.error
    found = _legacy_findings(pack, prod_settings, _resources(s))  # every resource is theirs
    shown = "\n".join(f"  {d.policy}: {d.message}" for d in found) or "  (none)"
    if not expected:
        assert not found, f"{name}: expected no legacy finding, got:\n{shown}"
    for policy, text in expected:
        assert policy in LEGACY_POLICIES
        assert any(d.policy == policy and text in d.message for d in found), (
            f"{name}: no {policy} finding containing {text!r}:\n{shown}"
        )
