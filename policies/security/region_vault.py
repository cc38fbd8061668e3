"""USDR-SEC-12: every region that holds data has its own KMS vault.

Keys must live in the region of the data they protect; a region holding data without a
vault is encrypting with keys from elsewhere (or with Oracle-managed keys).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource
from stack_graph import data_regions, of_type, region_of

VAULT = "oci:Kms/vault:Vault"

META = Meta(
    name="stack-region-vault",
    control="USDR-SEC-12",
    title="Every data region has a vault",
    description="Each region that holds data has an OCI KMS vault in that region.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation="Deploy the region's KMS component (a VIRTUAL_PRIVATE vault and HSM keys) with the region's "
    "provider and encrypt the region's buckets with its keys.",
)


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    vault_regions = {region_of(v, cfg) for v in of_type(resources, VAULT)}
    for region, data in sorted(data_regions(resources, cfg).items()):
        if region not in vault_regions:
            yield data[0].urn, f"region {region} holds data but has no KMS vault"


POLICY = stack_policy(META, check)
