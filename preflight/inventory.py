"""The residency inventory of a synthesized stack: where data lives, under which key, and where it goes.

Read from the resource records (what the program declared), so it describes the program, not
its claims about itself. The stack outputs are used only where the resources cannot say it
(a replication edge a program models without a replication resource).

* Data-bearing resources: object storage buckets, vaults, keys, log groups, volumes, file
  systems, databases, and S3 buckets (the legacy sites' replicas). Each with its region,
  realm and jurisdiction (from the region catalogue), and the key that encrypts it with the
  key's region (from the key's OCID region segment, or the key resource it references).
* Replication edges: bucket replication policies (source bucket -> destination region and
  bucket) and vault replicas (`oci:Kms/vaultVerification`).
* Legacy replicas: S3 buckets that carry a legacy site's tags (`legacy-site`, `mode`,
  `sunset`), with the site's endpoint and country.
* Waivers in use: findings a waiver downgraded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from preflight.catalogue import ocid_region, region_facts
from preflight.legacy_paths import LegacyPath, legacy_paths
from preflight.model import Finding, ResourceRecord

DATA_BEARING: dict[str, str] = {
    "oci:ObjectStorage/bucket:Bucket": "bucket",
    "oci:Kms/vault:Vault": "vault",
    "oci:Kms/key:Key": "key",
    "oci:Logging/logGroup:LogGroup": "log-group",
    "oci:Core/volume:Volume": "volume",
    "oci:Core/bootVolume:BootVolume": "volume",
    "oci:FileStorage/fileSystem:FileSystem": "file-system",
    "oci:Database/autonomousDatabase:AutonomousDatabase": "database",
    "oci:Database/dbSystem:DbSystem": "database",
    "oci:Mysql/mysqlDbSystem:MysqlDbSystem": "database",
    "oci:Psql/dbSystem:DbSystem": "database",
    "oci:Nosql/table:Table": "database",
    "aws:s3/bucket:Bucket": "s3-bucket",
    "aws:s3/bucketV2:BucketV2": "s3-bucket",
}
_KEY_FIELDS = ("kmsKeyId", "kmsKeyIds", "keyId", "masterEncryptionKeyId")
_SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)


@dataclass
class DataResource:
    urn: str
    type: str
    kind: str
    name: str  # the cloud-side name (bucket name, display name) or the logical name
    region: str | None
    realm: str | None
    jurisdiction: str | None
    key: str | None  # the key that encrypts it (OCID, ARN, or "S3-managed (AES256)")
    key_region: str | None
    protect: bool
    location: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReplicationEdge:
    kind: str  # "bucket-replication" | "vault-replica" | "declared" (from stack outputs)
    source_urn: str | None
    source: str
    source_region: str | None
    destination: str | None
    destination_region: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LegacyReplica:
    urn: str
    site: str
    bucket: str
    country: str | None
    region: str | None  # the S3 region string the site's endpoint expects
    endpoint: str | None
    mode: str | None
    sunset: str | None
    role: str | None
    waiver_expires: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WaiverUse:
    target: str
    policy: str
    urn: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Inventory:
    data: list[DataResource] = field(default_factory=list)
    edges: list[ReplicationEdge] = field(default_factory=list)
    legacy: list[LegacyReplica] = field(default_factory=list)
    waivers: list[WaiverUse] = field(default_factory=list)
    # The IPSec links to legacy sites and what may cross each (preflight/legacy_paths.py).
    paths: list[LegacyPath] = field(default_factory=list)

    def regions(self) -> list[str | None]:
        seen: list[str | None] = []
        for d in self.data:
            if d.kind != "s3-bucket" and d.region not in seen:
                seen.append(d.region)
        return seen


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _tags(record: ResourceRecord) -> dict[str, str]:
    for key in ("freeformTags", "tags"):
        value = record.inputs.get(key)
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
    return {}


def _display(record: ResourceRecord) -> str:
    for key in ("name", "bucket", "displayName"):
        value = _text(record.inputs.get(key))
        if value:
            return value
    return record.name


def _key_of(record: ResourceRecord, by_id: Mapping[str, ResourceRecord]) -> tuple[str | None, str | None]:
    if record.type == "oci:Kms/key:Key":
        return record.id, record.region
    for field_name in _KEY_FIELDS:
        value = record.inputs.get(field_name)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        key = _text(value)
        if key:
            target = by_id.get(key)
            region = target.region if target is not None else ocid_region(key)
            return key, region
    return None, None


def _s3_key(record: ResourceRecord, sse: Mapping[str, ResourceRecord]) -> tuple[str | None, str | None]:
    config = sse.get(_display(record)) or sse.get(record.id or "")
    if config is None:
        return None, None
    for rule in config.inputs.get("rules") or config.inputs.get("rule") or []:
        default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
        if isinstance(default, Mapping):
            key = _text(default.get("kmsMasterKeyId"))
            if key:
                return key, record.region
            algorithm = _text(default.get("sseAlgorithm"))
            if algorithm:
                return f"S3-managed ({algorithm})", record.region
    return None, None


def build_inventory(
    resources: Iterable[ResourceRecord],
    outputs: Mapping[str, Any] | None = None,
    findings: Iterable[Finding] = (),
) -> Inventory:
    records = list(resources)
    by_id = {r.id: r for r in records if r.id}
    providers = {f"{r.urn}::{r.id}": r for r in records if r.type.startswith("pulumi:providers:") and r.id}
    sse = {}
    for r in records:
        if r.type in _SSE_TYPES:
            bucket = _text(r.inputs.get("bucket"))
            if bucket:
                sse[bucket] = r
    inv = Inventory()
    for r in records:
        kind = DATA_BEARING.get(r.type)
        if kind is None:
            continue
        facts = region_facts(r.region)
        key, key_region = _s3_key(r, sse) if kind == "s3-bucket" else _key_of(r, by_id)
        tags = _tags(r)
        # An S3-compatible legacy site is not in the OCI catalogue: its country tag says where it is.
        jurisdiction = facts["jurisdiction"] if facts else tags.get("country")
        inv.data.append(
            DataResource(
                urn=r.urn,
                type=r.type,
                kind=kind,
                name=_display(r),
                region=r.region,
                realm=facts["realm"] if facts else None,
                jurisdiction=jurisdiction,
                key=key,
                key_region=key_region,
                protect=r.protect,
                location=r.location,
            )
        )
        if kind == "s3-bucket" and (tags.get("legacy-site") or tags.get("sunset") or tags.get("mode")):
            provider = providers.get(r.provider or "")
            inv.legacy.append(
                LegacyReplica(
                    urn=r.urn,
                    site=tags.get("legacy-site") or (provider.name if provider else "unknown"),
                    bucket=_display(r),
                    country=tags.get("country"),
                    region=r.region,
                    endpoint=_endpoint(provider),
                    mode=tags.get("mode"),
                    sunset=tags.get("sunset"),
                    role=tags.get("role"),
                    waiver_expires=tags.get("residency-waiver-expires"),
                )
            )
    for r in records:
        if r.type == "oci:ObjectStorage/replicationPolicy:ReplicationPolicy":
            inv.edges.append(
                ReplicationEdge(
                    kind="bucket-replication",
                    source_urn=r.urn,
                    source=_text(r.inputs.get("bucket")) or r.name,
                    source_region=r.region,
                    destination=_text(r.inputs.get("destinationBucketName")),
                    destination_region=_text(r.inputs.get("destinationRegionName")),
                )
            )
        elif r.type == "oci:Kms/vaultVerification:VaultVerification":
            vault = by_id.get(_text(r.inputs.get("vaultId")) or "")
            inv.edges.append(
                ReplicationEdge(
                    kind="vault-replica",
                    source_urn=vault.urn if vault else r.urn,
                    source=_display(vault) if vault else (_text(r.inputs.get("vaultId")) or r.name),
                    source_region=vault.region if vault else r.region,
                    destination=None,
                    destination_region=_text(r.inputs.get("replicaRegion")),
                )
            )
    if not any(e.kind == "bucket-replication" for e in inv.edges):
        for e in (outputs or {}).get("replication_edges") or []:
            if isinstance(e, Mapping):
                inv.edges.append(
                    ReplicationEdge(
                        kind="declared",
                        source_urn=None,
                        source=str(e.get("source_bucket") or e.get("source") or ""),
                        source_region=_text(e.get("source_region")),
                        destination=_text(e.get("destination_bucket") or e.get("destination")),
                        destination_region=_text(e.get("destination_region")),
                    )
                )
    inv.paths = legacy_paths(records)
    seen: set[tuple[str, str, str]] = set()
    for f in findings:
        if f.waiver and (f.waiver, f.policy, f.urn) not in seen:
            seen.add((f.waiver, f.policy, f.urn))
            inv.waivers.append(WaiverUse(target=f.waiver, policy=f.policy, urn=f.urn, message=f.message))
    return inv


def _endpoint(provider: ResourceRecord | None) -> str | None:
    if provider is None:
        return None
    endpoints = provider.inputs.get("endpoints")
    if isinstance(endpoints, str):  # provider inputs travel as JSON text
        try:
            endpoints = json.loads(endpoints)
        except ValueError:
            endpoints = None
    if isinstance(endpoints, list):
        for e in endpoints:
            if isinstance(e, Mapping) and _text(e.get("s3")):
                return str(e["s3"])
    return _text(provider.inputs.get("endpoint"))
