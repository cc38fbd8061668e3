"""Estates for the residency-map tests: the real prod and staging inventories, and adversarial
ones a reviewer must still read correctly (a border crossing among fifty buckets, an unknown
destination, data keyed from abroad, names that need escaping)."""

from __future__ import annotations

from functools import cache

from preflight.inventory import DataResource, Inventory, LegacyReplica, ReplicationEdge, build_inventory
from preflight.model import ResourceRecord
from preflight.synth import synthesize
from stacks.policy_config import ROOT


def bucket(name: str, region: str | None, *, key_region: str | None = None) -> DataResource:
    key = f"ocid1.key.oc1.{key_region or region}.k-{name}" if region else None
    return DataResource(
        urn=f"urn:pulumi:adv::p::oci:ObjectStorage/bucket:Bucket::{name}",
        type="oci:ObjectStorage/bucket:Bucket",
        kind="bucket",
        name=name,
        region=region,
        realm="oc1",
        jurisdiction=None,
        key=key,
        key_region=key_region or region,
        protect=True,
        location=None,
    )


def replication(src: DataResource, dst_region: str | None, dst_name: str) -> ReplicationEdge:
    return ReplicationEdge(
        kind="bucket-replication",
        source_urn=src.urn,
        source=src.name,
        source_region=src.region,
        destination=dst_name,
        destination_region=dst_region,
    )


@cache
def records_of(stack: str) -> tuple[ResourceRecord, ...]:
    """The records preflight synthesizes for one of this repository's stacks (offline)."""
    return tuple(synthesize(ROOT, stack).resources)


@cache
def inventory_of(stack: str) -> Inventory:
    """The inventory preflight builds for one of this repository's stacks (synthesized offline)."""
    return build_inventory(records_of(stack))


def fifty_buckets_one_to_frankfurt() -> Inventory:
    """Fifty Ashburn buckets replicating to Phoenix, and one of them also to Frankfurt: the one
    cross-border edge must be drawn whatever is cut for size."""
    inv = Inventory()
    for i in range(50):
        b = bucket(f"usdr-adv-iad-bucket-{i:02d}", "us-ashburn-1")
        inv.data.append(b)
        inv.edges.append(replication(b, "us-phoenix-1", f"{b.name}-replica"))
    inv.edges.append(replication(inv.data[37], "eu-frankfurt-1", "exfil"))
    return inv


def unknown_and_foreign_keys() -> Inventory:
    """A bucket replicating to a region nobody can tell, one keyed from Frankfurt, one whose own
    region is unknown, and names with Mermaid's special characters."""
    inv = Inventory()
    a = bucket('user "posts" #1; <b>', "us-ashburn-1")
    k = bucket("keyed-abroad", "us-phoenix-1", key_region="eu-frankfurt-1")
    u = bucket("nowhere", None)
    inv.data += [a, k, u]
    inv.edges.append(replication(a, None, "lost"))
    inv.legacy.append(
        LegacyReplica(
            urn="urn:pulumi:adv::p::aws:s3/bucketV2:BucketV2::legacy-xx-backups",
            site="legacy-xx",
            bucket="backups",
            country=None,
            region="us-east-1",
            endpoint="https://objects.example.net",
            mode="frozen",
            sunset="2027-01-31",
            role="replica",
            waiver_expires=None,
        )
    )
    return inv
