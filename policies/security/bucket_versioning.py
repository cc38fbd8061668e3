"""USDR-SEC-03 / CIS OCI 5.1.3: buckets are versioned.

`versioning` must be `Enabled`. Documented exception: a bucket with retention rules (a
retention-locked archive). OCI does not allow versioning and retention rules together, and
the retention rule is the stronger protection against overwrite and deletion. S3 legacy
replicas are not covered here: they must expire by their sunset (legacy-replica-expiry).
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown

META = Meta(
    name="security-bucket-versioning",
    control="USDR-SEC-03",
    title="Buckets are versioned",
    description="Every oci:ObjectStorage bucket has versioning Enabled, unless it is a retention-locked "
    "archive (retention rules and versioning are mutually exclusive in OCI).",
    enforcement=MANDATORY,
    severity=Severity.MEDIUM,
    types=("oci:ObjectStorage/bucket:Bucket",),
    cis="5.1.3",
    remediation='Set `versioning="Enabled"` on the bucket; for an archive that must not change, use '
    "retention rules instead (the documented exception) and keep versioning off.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    rules = res.props.get("retentionRules")
    if isinstance(rules, list) and rules:
        return  # retention-locked archive: the documented exception
    versioning = res.props.get("versioning")
    if is_unknown(versioning):
        yield Finding("versioning is unknown during preview: the bucket cannot be proven versioned")
    elif versioning != "Enabled":
        shown = "not set (Disabled)" if versioning is None else repr(versioning)
        yield Finding(f"versioning is {shown}: overwritten or deleted objects cannot be recovered")


POLICY = resource_policy(META, check)
