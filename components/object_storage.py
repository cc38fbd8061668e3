"""A region's Object Storage buckets for US data, with their read and write service logs.

Each data class's buckets are encrypted with that class's key in the *same* region (a key in
another region would make every read a cross-region call and put key material where the data
is not). Two kinds of bucket:

- primary: where the application writes;
- replica: the destination of the DR partner's replication (components/replication.py). It is
  created here, in its own region and with its own region's key, before any replication policy
  names it; Object Storage makes it read-only once the policy exists.

No retention rule is set, on purpose: versioning and retention rules cannot be active together,
and a locked rule becomes irreversible after 14 days and blocks deletion, while every bucket
here must remain deletable when a user's data has to go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

from components.logging import MAX_LOG_RETENTION_DAYS, service_log

BUCKET_LOG_CATEGORIES = ("read", "write")


@dataclass(frozen=True)
class BucketSpec:
    role: str  # short and stable: "media", or "media-from-phx" for a replica
    name: str  # the OCI bucket name, unique in the namespace: "usdr-prod-iad-media"
    data_class: str
    replica_of: str | None = None  # source region identifier, for a replication destination


@dataclass(frozen=True)
class StorageArgs:
    compartment_id: pulumi.Input[str]
    namespace: pulumi.Input[str]
    display_prefix: str
    log_group_id: pulumi.Input[str]
    tags: Mapping[str, str]
    buckets: tuple[BucketSpec, ...]
    key_ids: Mapping[str, pulumi.Input[str]]  # data class -> this region's key
    # Resources the buckets must wait for: the IAM grant that lets this region's Object
    # Storage service use the keys (a bucket with an unusable key fails to create).
    after: tuple[pulumi.Resource, ...] = ()
    versioning: str = "Enabled"  # overwrites and deletes keep the previous version
    access_type: str = "NoPublicAccess"
    object_events: bool = True  # object changes reach Events, for monitoring and attestation
    service_logs: bool = True
    log_retention_days: int = MAX_LOG_RETENTION_DAYS
    # Buckets hold the data itself: protected unless the stack opts out (staging).
    protect: bool = True


class RegionStorage(pulumi.ComponentResource):
    """Buckets `<name>-<role>` with logs `<name>-<role>-log-read|write`."""

    buckets: dict[str, oci.objectstorage.Bucket]
    logs: dict[str, oci.logging.Log]
    bucket_names: dict[str, str]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:storage:RegionStorage", name, None, opts)
        missing = sorted({b.data_class for b in args.buckets} - set(args.key_ids))
        if missing:
            raise ValueError(f"{name}: no key for data class(es) {', '.join(missing)}")
        self.buckets, self.logs, self.bucket_names = {}, {}, {}
        for spec in args.buckets:
            tags = {**args.tags, "data-class": spec.data_class}
            if spec.replica_of:
                tags["replica-of"] = spec.replica_of
            bucket = oci.objectstorage.Bucket(
                f"{name}-{spec.role}",
                compartment_id=args.compartment_id,
                namespace=args.namespace,
                name=spec.name,
                kms_key_id=args.key_ids[spec.data_class],
                access_type=args.access_type,
                versioning=args.versioning,
                object_events_enabled=args.object_events,
                storage_tier="Standard",
                freeform_tags=tags,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=list(args.after)),
            )
            self.buckets[spec.role] = bucket
            self.bucket_names[spec.role] = spec.name
            if not args.service_logs:
                continue
            for category in BUCKET_LOG_CATEGORIES:
                self.logs[f"{spec.role}-{category}"] = service_log(
                    f"{name}-{spec.role}-log-{category}",
                    display_name=f"{spec.name}-{category}",
                    log_group_id=args.log_group_id,
                    service="objectstorage",
                    resource=bucket.name,  # Object Storage logs name the bucket, not its OCID
                    category=category,
                    tags=tags,
                    retention_days=args.log_retention_days,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.register_outputs({"bucket_names": self.bucket_names})
