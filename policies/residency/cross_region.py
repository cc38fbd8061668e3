"""USDR-RES-03: cross-region fields point at approved regions in the same realm.

Bucket replication (`destinationRegionName`), vault replication (`replicaRegion`), and, so
the pack judges any program, every other string field named like a region (`region`,
`*Region`, `*RegionName`, `*RegionKey`: volume backup copies, remote peering, region
subscriptions ...). The destination must be approved and in the realm of the resource's
own region and of the tenancy. Unknown during preview = violation; a required destination
that is missing = violation. Waivable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, dotted, is_unknown, leaves, oci_placement, text

# Types whose whole point is a destination region: a missing one cannot be judged.
REQUIRED: dict[str, str] = {
    "oci:ObjectStorage/replicationPolicy:ReplicationPolicy": "destinationRegionName",
    "oci:Kms/vaultVerification:VaultVerification": "replicaRegion",
}
REGION_FIELD = re.compile(r"^(region|regionName|regionKey|[a-z][A-Za-z0-9]*(Region|RegionName|RegionKey))$")

META = Meta(
    name="residency-cross-region",
    control="USDR-RES-03",
    title="Cross-region targets approved and in the same realm",
    description="Replication destinations, vault replica regions and every other region-valued field name "
    "an approved region in the same realm as the resource.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=("oci:",),
    waivable=True,
    remediation="Point the replica at an approved US region of the same realm, e.g. the source region's DR "
    "partner from the stack settings (regions.<region>.drPartner): "
    "ReplicationPolicy(destination_region_name=...), VaultVerification(replica_region=...). Use literal "
    "region names, not computed values.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    own = oci_placement(res)
    own_ref = cfg.resolve(own.region)
    realm = cfg.required_realm or (own_ref.realm if own_ref else None)
    required = REQUIRED.get(res.type)
    if required is not None and res.props.get(required) is None:
        yield Finding(f"{required} is missing: the replication destination cannot be judged")
    for path, value in leaves(res.props):
        if not path or not REGION_FIELD.match(path[-1]) or not (is_unknown(value) or isinstance(value, str)):
            continue
        where = dotted(path)
        if is_unknown(value):
            yield Finding(
                f"{where} is unknown during preview: the destination region cannot be proven approved"
            )
            continue
        if not text(value):
            yield Finding(f"{where} is empty: the destination region cannot be judged")
            continue
        d = cfg.decide(str(value), realm)
        if not d.allowed:
            yield Finding(f"{where}: {d.reason}; approved: {cfg.approved_text}")
        elif (
            own_ref is not None and d.region is not None and own_ref.realm and d.region.realm != own_ref.realm
        ):
            yield Finding(
                f"{where}: {d.region.identifier} is in {d.region.realm}, the resource in {own_ref.realm}"
            )


POLICY = resource_policy(META, check)
