"""components/object_storage.py: encrypted, versioned, private, logged buckets; no locked retention."""

from __future__ import annotations

import dataclasses

import pytest

from components.object_storage import BucketSpec, RegionStorage, StorageArgs
from tests.components.conftest import COMPARTMENT, LOG_GROUP, TAGS
from tests.components.harness import NAMESPACE, Synth, check_anatomy, synth, synth_component

TYPE = "usdr:storage:RegionStorage"
KEYS = {"user-content": "ocid1.key.oc1.iad.uc", "messages": "ocid1.key.oc1.iad.msg"}
BUCKETS = (
    BucketSpec("media", "usdr-test-iad-media", "user-content"),
    BucketSpec("direct-messages", "usdr-test-iad-direct-messages", "messages"),
    BucketSpec("media-from-phx", "usdr-test-iad-media-from-phx", "user-content", replica_of="us-phoenix-1"),
)


def args(**overrides: object) -> StorageArgs:
    base = StorageArgs(
        compartment_id=COMPARTMENT,
        namespace=NAMESPACE,
        display_prefix="usdr-test-iad",
        log_group_id=LOG_GROUP,
        tags=TAGS,
        buckets=BUCKETS,
        key_ids=KEYS,
    )
    return dataclasses.replace(base, **overrides)


def build(**overrides: object) -> Synth[RegionStorage]:
    a = args(**overrides)
    return synth_component(lambda opts: RegionStorage("iad-storage", a, opts))


def test_anatomy_and_inventory() -> None:
    s = build()
    _, children = check_anatomy(s, TYPE, "iad-storage")
    assert s.counts(children) == {"oci:Logging/log:Log": 6, "oci:ObjectStorage/bucket:Bucket": 3}
    assert {r.name for r in children if r.type == "oci:ObjectStorage/bucket:Bucket"} == {
        "iad-storage-media",
        "iad-storage-direct-messages",
        "iad-storage-media-from-phx",
    }


def test_secure_defaults_on_every_bucket() -> None:
    s = build()
    for spec in BUCKETS:
        b = s.named(f"iad-storage-{spec.role}")
        assert b.inputs["name"] == spec.name, b.urn
        assert b.inputs["namespace"] == NAMESPACE, b.urn
        assert b.inputs["kmsKeyId"] == KEYS[spec.data_class], f"{b.urn}: not encrypted with its class's key"
        assert b.inputs["versioning"] == "Enabled", b.urn
        assert b.inputs["accessType"] == "NoPublicAccess", b.urn
        assert b.inputs["objectEventsEnabled"] is True, b.urn
        assert "retentionRules" not in b.inputs, f"{b.urn}: must stay deletable (no retention rule)"
        assert b.protect, f"{b.urn} must be protected by default"


def test_tags_carry_the_data_class_and_the_replica_source() -> None:
    s = build()
    assert s.named("iad-storage-media").tags() == {**TAGS, "data-class": "user-content"}
    assert s.named("iad-storage-media-from-phx").tags() == {
        **TAGS,
        "data-class": "user-content",
        "replica-of": "us-phoenix-1",
    }


def test_read_and_write_logs_for_every_bucket() -> None:
    s = build()
    for spec in BUCKETS:
        for category in ("read", "write"):
            log = s.named(f"iad-storage-{spec.role}-log-{category}")
            assert log.inputs["configuration"]["source"] == {
                "sourceType": "OCISERVICE",
                "service": "objectstorage",
                "resource": spec.name,
                "category": category,
            }, log.urn
            assert log.inputs["logGroupId"] == LOG_GROUP, log.urn


def test_buckets_wait_for_the_key_grant() -> None:
    def program() -> RegionStorage:
        import pulumi
        import pulumi_oci as oci

        p = oci.Provider("oci-us-ashburn-1", region="us-ashburn-1")
        grant = oci.identity.Policy("grant", compartment_id=COMPARTMENT, description="d", statements=["x"])
        return RegionStorage("iad-storage", args(after=(grant,)), pulumi.ResourceOptions(provider=p))

    s = synth(program)
    grant = s.named("grant")
    for b in s.of_type("oci:ObjectStorage/bucket:Bucket"):
        assert grant.urn in b.dependencies, f"{b.urn} does not wait for the Object Storage key grant"


def test_opt_outs_flow_through() -> None:
    s = build(protect=False, service_logs=False)
    assert not s.of_type("oci:Logging/log:Log")
    assert not any(b.protect for b in s.of_type("oci:ObjectStorage/bucket:Bucket"))


def test_a_bucket_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="no key for data class"):
        build(key_ids={"messages": "k"})
