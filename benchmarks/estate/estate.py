"""A synthetic estate of exactly `usdr-bench:resources` resources, for benchmarks/run.py.

Layout (the stack resource counts as one):

    stack                                                           1
    per US region: an explicit oci.Provider, a vault, a key, a log group   4 x 4 = 16
    shards (usdr-bench:storage:Shard), each: the component, one key,
        eight buckets (CMK, versioning, events, private, protected, tagged)
        and each bucket's write log                                  18 each
    the remainder (< 18): extra buckets on the regional keys

Every resource is compliant with the policy pack's bucket/key rules, so the gate's verdict does
not change with N. Nothing depends on time or randomness.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

REGIONS = ("us-ashburn-1", "us-phoenix-1", "us-chicago-1", "us-sanjose-1")
SHORT = {"us-ashburn-1": "iad", "us-phoenix-1": "phx", "us-chicago-1": "ord", "us-sanjose-1": "sjc"}
NAMESPACE = "usdrbench"
BASE = 1 + 4 * len(REGIONS)
SHARD = 18
BUCKETS_PER_SHARD = 8

config = pulumi.Config()
total = config.require_int("resources")
compartment = config.require("compartmentId")
if total < BASE:
    raise ValueError(f"usdr-bench:resources must be at least {BASE}")

TAGS = {"data-residency": "us", "stack": pulumi.get_stack(), "managed-by": "pulumi"}


def bucket(name: str, key: oci.kms.Key, opts: pulumi.ResourceOptions) -> oci.objectstorage.Bucket:
    return oci.objectstorage.Bucket(
        name,
        compartment_id=compartment,
        namespace=NAMESPACE,
        name=name,
        access_type="NoPublicAccess",
        versioning="Enabled",
        object_events_enabled=True,
        kms_key_id=key.id,
        storage_tier="Standard",
        freeform_tags=TAGS,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)),
    )


def key(name: str, vault: oci.kms.Vault, opts: pulumi.ResourceOptions) -> oci.kms.Key:
    return oci.kms.Key(
        name,
        compartment_id=compartment,
        display_name=name,
        management_endpoint=vault.management_endpoint,
        protection_mode="HSM",
        key_shape=oci.kms.KeyKeyShapeArgs(algorithm="AES", length=32),
        is_auto_rotation_enabled=True,
        auto_key_rotation_details=oci.kms.KeyAutoKeyRotationDetailsArgs(rotation_interval_in_days=90),
        freeform_tags=TAGS,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)),
    )


class Shard(pulumi.ComponentResource):
    """One key and eight buckets with their write logs."""

    def __init__(
        self,
        name: str,
        vault: oci.kms.Vault,
        log_group: oci.logging.LogGroup,
        provider: oci.Provider,
    ) -> None:
        super().__init__("usdr-bench:storage:Shard", name, None, pulumi.ResourceOptions(provider=provider))
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.key = key(f"{name}-key", vault, child)
        for i in range(BUCKETS_PER_SHARD):
            b = bucket(f"{name}-b{i}", self.key, child)
            oci.logging.Log(
                f"{name}-b{i}-writes",
                display_name=f"{name}-b{i}-writes",
                log_group_id=log_group.id,
                log_type="SERVICE",
                is_enabled=True,
                retention_duration=90,
                configuration=oci.logging.LogConfigurationArgs(
                    compartment_id=compartment,
                    source=oci.logging.LogConfigurationSourceArgs(
                        category="write", resource=b.name, service="objectstorage", source_type="OCISERVICE"
                    ),
                ),
                freeform_tags=TAGS,
                opts=child,
            )
        self.register_outputs({"key": self.key.id})


@dataclass(frozen=True)
class Region:
    short: str
    provider: oci.Provider
    vault: oci.kms.Vault
    key: oci.kms.Key
    log_group: oci.logging.LogGroup


regional: list[Region] = []
for region in REGIONS:
    short = SHORT[region]
    provider = oci.Provider(f"bench-{short}", region=region)
    opts = pulumi.ResourceOptions(provider=provider)
    vault = oci.kms.Vault(
        f"{short}-vault",
        compartment_id=compartment,
        display_name=f"{short}-vault",
        vault_type="VIRTUAL_PRIVATE",
        freeform_tags=TAGS,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)),
    )
    log_group = oci.logging.LogGroup(
        f"{short}-logs",
        compartment_id=compartment,
        display_name=f"{short}-logs",
        freeform_tags=TAGS,
        opts=opts,
    )
    regional.append(Region(short, provider, vault, key(f"{short}-key", vault, opts), log_group))

shards, extra = divmod(total - BASE, SHARD)
for n in range(shards):
    r = regional[n % len(regional)]
    Shard(f"{r.short}-shard{n:04d}", r.vault, r.log_group, r.provider)
for n in range(extra):
    r = regional[n % len(regional)]
    bucket(f"{r.short}-extra{n:02d}", r.key, pulumi.ResourceOptions(provider=r.provider))

pulumi.export("resources", total)
