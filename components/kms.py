"""A region's KMS vault and its master keys: one AES-256 key per data class.

One key per data class (not one per region) so that a class can be crypto-shredded, rotated or
audited on its own, and so that a bucket's key says which class of US data it protects.

Vault replication (`oci.kms.VaultVerification`) goes only to the region's DR partner, the only
other place the key material may exist: after a loss of this region, what was encrypted with its
keys outside its own buckets (backups or exports copied to the partner) can still be decrypted
there. The partner's replica buckets do not use the replica: they are encrypted with the
partner's own keys (components/object_storage.py), because deleting a vault also deletes its
replica and the replica's keys (OCI Vault, "Deleting a Vault"), and a DR copy must outlive the
vault it protects against (tests/test_estate.py, test_replica_buckets_use_their_own_regions_key_...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_oci as oci

AES_256_BYTES = 32  # OCI states key length in bytes


@dataclass(frozen=True)
class KmsArgs:
    compartment_id: pulumi.Input[str]
    display_prefix: str
    data_classes: tuple[str, ...]
    tags: Mapping[str, str]
    # A virtual private vault has its own HSM partition (not shared with other tenants) and is
    # the vault type that supports replication to the DR partner.
    vault_type: Literal["DEFAULT", "VIRTUAL_PRIVATE"] = "VIRTUAL_PRIVATE"
    # HSM: the key never leaves the hardware module; fixed at creation.
    protection_mode: Literal["HSM", "SOFTWARE"] = "HSM"
    rotation_days: int = 90
    replica_region: str | None = None  # the DR partner's region identifier, or no replica
    # Vaults and keys: deleting one makes every object encrypted with it unreadable, so they
    # are protected unless the stack opts out (staging).
    protect: bool = True


MIN_ROTATION_DAYS, MAX_ROTATION_DAYS = 60, 365


class RegionKms(pulumi.ComponentResource):
    """Vault `<name>-vault`, keys `<name>-key-<class>`, optional `<name>-vault-replica`."""

    vault: oci.kms.Vault
    keys: dict[str, oci.kms.Key]
    replica: oci.kms.VaultVerification | None
    key_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: KmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:kms:RegionKms", name, None, opts)
        # OCI rotates keys automatically only in a virtual private vault, every 60 to 365 days
        # (OCI docs, "Enabling and Updating Automatic Key Rotation": "This feature is only
        # available for virtual private vaults"; pulumi_oci.kms.KeyAutoKeyRotationDetailsArgs
        # `rotation_interval_in_days`: "should between 60 day and 365 days"). A DEFAULT vault
        # would fail at `pulumi up`, not in preview: refuse it here.
        if args.vault_type != "VIRTUAL_PRIVATE":
            raise ValueError(
                f"{name}: automatic key rotation needs a VIRTUAL_PRIVATE vault, not {args.vault_type}"
            )
        if not MIN_ROTATION_DAYS <= args.rotation_days <= MAX_ROTATION_DAYS:
            raise ValueError(
                f"{name}: rotation_days {args.rotation_days} is outside"
                f" {MIN_ROTATION_DAYS}-{MAX_ROTATION_DAYS}"
            )
        protected = pulumi.ResourceOptions(parent=self, protect=args.protect)
        self.vault = oci.kms.Vault(
            f"{name}-vault",
            compartment_id=args.compartment_id,
            display_name=f"{args.display_prefix}-vault",
            vault_type=args.vault_type,
            freeform_tags=dict(args.tags),
            opts=protected,
        )
        self.keys = {
            data_class: oci.kms.Key(
                f"{name}-key-{data_class}",
                compartment_id=args.compartment_id,
                display_name=f"{args.display_prefix}-key-{data_class}",
                management_endpoint=self.vault.management_endpoint,
                key_shape=oci.kms.KeyKeyShapeArgs(algorithm="AES", length=AES_256_BYTES),
                protection_mode=args.protection_mode,
                # Automatic rotation: a new key version every `rotation_days`; old versions stay
                # to decrypt existing objects, new writes use the new one.
                is_auto_rotation_enabled=True,
                auto_key_rotation_details=oci.kms.KeyAutoKeyRotationDetailsArgs(
                    rotation_interval_in_days=args.rotation_days,
                ),
                freeform_tags={**args.tags, "data-class": data_class},
                opts=protected,
            )
            for data_class in args.data_classes
        }
        self.key_ids = {c: k.id for c, k in self.keys.items()}
        self.replica = None
        if args.replica_region is not None:
            # Not protected: removing the replica leaves the primary vault and keys intact; it
            # is the replication link, not the key material of record.
            self.replica = oci.kms.VaultVerification(
                f"{name}-vault-replica",
                vault_id=self.vault.id,
                replica_region=args.replica_region,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "vault_id": self.vault.id,
                "key_ids": self.key_ids,
                "replica_region": args.replica_region,
            }
        )
