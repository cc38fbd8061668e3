"""components/replication.py: one policy per primary bucket, after its destination and the grant."""

from __future__ import annotations

import pulumi
import pulumi_oci as oci
import pytest

from components.replication import BucketReplication, ReplicationArgs, ReplicationEdge
from tests.components.conftest import COMPARTMENT
from tests.components.harness import NAMESPACE, Synth, synth

TYPE = "usdr:storage:BucketReplication"


def build(source: str = "us-ashburn-1", destination: str = "us-phoenix-1") -> Synth[BucketReplication]:
    def program() -> BucketReplication:
        src = oci.Provider("oci-src", region=source)
        dst = oci.Provider("oci-dst", region=destination)
        replica = oci.objectstorage.Bucket(
            "replica",
            compartment_id=COMPARTMENT,
            namespace=NAMESPACE,
            name="usdr-test-phx-media-from-iad",
            opts=pulumi.ResourceOptions(provider=dst),
        )
        grant = oci.identity.Policy(
            "grant",
            compartment_id=COMPARTMENT,
            description="d",
            statements=["x"],
            opts=pulumi.ResourceOptions(provider=src),
        )
        edge = ReplicationEdge("media", "usdr-test-iad-media", replica.name, replica)
        args = ReplicationArgs(NAMESPACE, source, destination, (edge,), after=(grant,))
        return BucketReplication("iad-to-phx-replication", args, pulumi.ResourceOptions(provider=src))

    return synth(program)


def test_anatomy_inventory_and_edge() -> None:
    s = build()
    (comp,) = s.of_type(TYPE)
    src = s.named("oci-src")
    children = s.children_of(comp)
    assert s.counts(children) == {"oci:ObjectStorage/replicationPolicy:ReplicationPolicy": 1}
    (policy,) = children
    assert policy.name == "iad-to-phx-replication-media", policy.urn
    assert policy.provider == f"{src.urn}::{src.id}", f"{policy.urn}: not on the source region's provider"
    assert policy.region == "us-ashburn-1", policy.urn
    assert policy.inputs == {
        "namespace": NAMESPACE,
        "bucket": "usdr-test-iad-media",
        "name": "media-to-us-phoenix-1",
        "destinationRegionName": "us-phoenix-1",
        "destinationBucketName": "usdr-test-phx-media-from-iad",
    }, policy.urn
    assert comp.urn in s.outputs


def test_destination_bucket_and_grant_come_first() -> None:
    s = build()
    (policy,) = s.of_type("oci:ObjectStorage/replicationPolicy:ReplicationPolicy")
    for first in ("replica", "grant"):
        assert s.named(first).urn in policy.dependencies, f"{policy.urn} does not wait for {first}"


def test_replicating_into_the_same_region_is_refused() -> None:
    with pytest.raises(ValueError, match="own region"):
        build(destination="us-ashburn-1")
