"""USDR-SEC-01 / CIS OCI 5.1.2: Object Storage buckets are encrypted with a customer-managed key.

`kmsKeyId` must be set. A value unknown during preview is the id of a key created in the
same program (itself judged by the key and residency policies): set, so compliant.
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown, text

META = Meta(
    name="security-bucket-cmk",
    control="USDR-SEC-01",
    title="Buckets encrypted with a customer-managed key",
    description="Every oci:ObjectStorage bucket sets kmsKeyId to a customer-managed key (a Vault key).",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    types=("oci:ObjectStorage/bucket:Bucket",),
    cis="5.1.2",
    remediation="Pass the region's Vault key: `oci.objectstorage.Bucket(..., kms_key_id=key.id)` and grant "
    "the Object Storage service principal `use keys` on it. Oracle-managed encryption is not enough.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    key = res.props.get("kmsKeyId")
    if not is_unknown(key) and not text(key):
        yield Finding(
            "kmsKeyId is not set: the bucket uses an Oracle-managed key, not a customer-managed one"
        )


POLICY = resource_policy(META, check)
