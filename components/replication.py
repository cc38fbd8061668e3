"""Object Storage replication from one region's primary buckets to its DR partner's replicas.

Declared on the *source* region's provider (a replication policy belongs to its source bucket)
and only after both ends exist: the destination bucket is created by the partner region's
storage component, and this component depends on it explicitly, plus on the IAM grant that
lets the source region's Object Storage service principal write into the destination.

Replication is kept out of `components/object_storage.py` because each region of a DR pair is
both a source and a destination: with the policies inside the storage component, the two
regions' components would wait on each other.

What replication does not do (docs/landing-zone.md): objects older than the policy are not
copied, deletes propagate, and the destination stays read-only while the policy exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_oci as oci


@dataclass(frozen=True)
class ReplicationEdge:
    role: str  # the bucket's stable role, e.g. "media"
    source_bucket: pulumi.Input[str]  # bucket name in the source region
    destination_bucket: pulumi.Input[str]  # replica bucket name in the destination region
    destination: pulumi.Resource  # the replica bucket itself: must exist first


@dataclass(frozen=True)
class ReplicationArgs:
    namespace: pulumi.Input[str]
    source_region: str
    destination_region: str
    edges: tuple[ReplicationEdge, ...]
    # The IAM policy that grants the source region's Object Storage service what replication
    # needs; without it the policy is created but every copy fails (status CLIENT_ERROR).
    after: tuple[pulumi.Resource, ...] = ()


class BucketReplication(pulumi.ComponentResource):
    """One `oci.objectstorage.ReplicationPolicy` per primary bucket: `<name>-<role>`."""

    policies: dict[str, oci.objectstorage.ReplicationPolicy]

    def __init__(self, name: str, args: ReplicationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:storage:BucketReplication", name, None, opts)
        if args.source_region == args.destination_region:
            raise ValueError(f"{name}: a bucket cannot replicate into its own region")
        self.policies = {
            edge.role: oci.objectstorage.ReplicationPolicy(
                f"{name}-{edge.role}",
                namespace=args.namespace,
                bucket=edge.source_bucket,
                name=f"{edge.role}-to-{args.destination_region}",
                destination_region_name=args.destination_region,
                destination_bucket_name=edge.destination_bucket,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[edge.destination, *args.after]),
            )
            for edge in args.edges
        }
        self.register_outputs(
            {
                "source_region": args.source_region,
                "destination_region": args.destination_region,
                "policy_ids": {role: p.id for role, p in self.policies.items()},
            }
        )
