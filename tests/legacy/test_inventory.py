"""The pinned inventory of a legacy site: what exists, under which parent, and what is protected.

A change here is a change to what `pulumi up` creates or deletes at a legacy datacenter: update
the pinned list on purpose, in the same commit as the component.
"""

from __future__ import annotations

import pytest

from stacks.settings import Settings
from tests.legacy.conftest import Synth, site_of

S3 = "aws:s3/"
# Per replica bucket, in addition to the bucket itself (suffix of the logical name -> type).
PER_REPLICA = {
    "": "aws:s3/bucket:Bucket",
    "-encryption": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "-public-access": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "-ownership": "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "-versioning": "aws:s3/bucketVersioning:BucketVersioning",
    "-logging": "aws:s3/bucketLogging:BucketLogging",
    "-policy": "aws:s3/bucketPolicy:BucketPolicy",
    "-lifecycle": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
}
# The site's access-log bucket: no versioning (see components/legacy_backup.py) and no logging
# of its own (it would log into itself).
PER_LOG_BUCKET = {k: v for k, v in PER_REPLICA.items() if k not in ("-versioning", "-logging")}


def _expected(settings: Settings) -> set[tuple[str, str, str]]:
    """(site, logical name, type) of every child the legacy sites must register."""
    out = set()
    for site in settings.legacy_sites:
        for bucket in site.buckets:
            out |= {(site.name, f"{site.name}-{bucket}{sfx}", t) for sfx, t in PER_REPLICA.items()}
        out |= {(site.name, f"{site.name}-access-logs{sfx}", t) for sfx, t in PER_LOG_BUCKET.items()}
    return out


@pytest.mark.parametrize("which", ["prod", "staging"])
def test_pinned_inventory(
    which: str, request: pytest.FixtureRequest, prod_settings: Settings, staging_settings: Settings
) -> None:
    s: Synth = request.getfixturevalue(f"{which}_synth")
    settings = prod_settings if which == "prod" else staging_settings
    children = {(site_of(r), r.name, r.type) for r in s.resources if r.type.startswith(S3)}
    assert children == _expected(settings)
    assert {r.name for r in s.of_type("usdr:legacy:LegacyBackup")} == {x.name for x in settings.legacy_sites}
    assert {r.name for r in s.of_type("pulumi:providers:aws")} == {
        f"{x.name}-s3" for x in settings.legacy_sites
    }
    # Nothing else: no stray resource types, nothing outside a site component.
    assert len(s.resources) == len(children) + 2 * len(settings.legacy_sites)


def test_prod_counts(prod_synth: Synth) -> None:
    # 2 sites x (1 replica bucket x 8 + log bucket x 6) + 2 components + 2 providers.
    assert len(prod_synth.resources) == 2 * (8 + 6) + 2 + 2


def test_physical_bucket_names_are_the_sites_own(prod_settings: Settings, prod_synth: Synth) -> None:
    names = {(site_of(r), r.inputs["bucket"]) for r in prod_synth.of_type("aws:s3/bucket:Bucket")}
    assert names == {
        (s.name, b) for s in prod_settings.legacy_sites for b in (*s.buckets, f"{s.name}-access-logs")
    }
    for r in prod_synth.of_type("aws:s3/bucket:Bucket"):
        assert "bucketPrefix" not in r.inputs, f"{r.urn}: random suffix"


def test_data_bearing_buckets_are_protected_in_prod(prod_synth: Synth) -> None:
    for r in prod_synth.resources:
        if r.type == "aws:s3/bucket:Bucket":
            assert r.protect, f"{r.urn} holds backups or their access logs and must be protected"
        elif r.type.startswith(S3):
            # Configuration resources are not data; protecting them would only block the runbook.
            assert not r.protect, f"{r.urn} is protected but holds no data"


def test_protect_follows_protect_data(staging_settings: Settings, staging_synth: Synth) -> None:
    assert staging_settings.protect_data is False
    buckets = staging_synth.of_type("aws:s3/bucket:Bucket")
    assert buckets and not any(r.protect for r in buckets)


def test_every_s3_resource_is_a_child_of_its_site_component(prod_synth: Synth) -> None:
    components = {r.urn: r.name for r in prod_synth.of_type("usdr:legacy:LegacyBackup")}
    for r in prod_synth.resources:
        if r.type.startswith(S3):
            assert r.parent in components, f"{r.urn}: parent {r.parent}"
            # Names are derived from the site, never random.
            assert r.name.startswith(components[r.parent] + "-"), r.urn


def test_buckets_carry_the_required_tags(prod_settings: Settings, prod_synth: Synth) -> None:
    required = prod_settings.tags()
    for r in prod_synth.of_type("aws:s3/bucket:Bucket"):
        tags = r.inputs["tags"]
        assert required.items() <= tags.items(), f"{r.urn}: {tags}"
        site = next(s for s in prod_settings.legacy_sites if s.name == site_of(r))
        assert tags["legacy-site"] == site.name and tags["sunset"] == site.sunset.isoformat(), r.urn
        assert tags["mode"] == site.mode, r.urn


def test_replica_buckets_log_to_their_own_sites_log_bucket(
    prod_settings: Settings, prod_synth: Synth
) -> None:
    for r in prod_synth.of_type("aws:s3/bucketLogging:BucketLogging"):
        assert r.inputs["targetBucket"] == f"{site_of(r)}-access-logs", r.urn
        assert r.inputs["targetPrefix"] == f"{r.inputs['bucket']}/", r.urn


def test_encryption_public_access_and_ownership(prod_synth: Synth) -> None:
    for r in prod_synth.of_type(PER_REPLICA["-encryption"]):
        rules = r.inputs["rules"]
        assert [x["applyServerSideEncryptionByDefault"]["sseAlgorithm"] for x in rules] == ["AES256"], r.urn
    for r in prod_synth.of_type(PER_REPLICA["-public-access"]):
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert r.inputs[flag] is True, f"{r.urn}: {flag}"
    for r in prod_synth.of_type(PER_REPLICA["-ownership"]):
        assert r.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced", r.urn


def test_each_policy_lands_after_everything_it_would_block(prod_synth: Synth) -> None:
    """The policy denies e.g. PutBucketOwnershipControls to everyone: created before the
    ownership controls, it would make their creation fail. So it must depend on all of them."""
    policy_type = PER_REPLICA["-policy"]
    for pol in prod_synth.of_type(policy_type):
        site, bucket = site_of(pol), pol.inputs["bucket"]
        siblings = {
            r.urn
            for r in prod_synth.resources
            if r.type.startswith(S3)
            and r.type not in (policy_type, PER_REPLICA[""])
            and site_of(r) == site
            and r.inputs.get("bucket") == bucket
        }
        assert siblings, pol.urn
        missing = siblings - set(pol.dependencies)
        assert not missing, f"{pol.urn} may land before {sorted(missing)}"


def test_logging_is_switched_on_after_the_log_bucket_admits_log_delivery(prod_synth: Synth) -> None:
    policies = {(site_of(p), p.inputs["bucket"]): p.urn for p in prod_synth.of_type(PER_REPLICA["-policy"])}
    for r in prod_synth.of_type(PER_REPLICA["-logging"]):
        assert policies[(site_of(r), r.inputs["targetBucket"])] in r.dependencies, r.urn
