"""USDR-SEC-10 / CIS OCI 4.1 (advisory): taggable resources carry the required tags.

`requiredTags` (data-residency, stack, managed-by) must be keys of the resource's freeform
tags or defined tags (`Namespace.key`, matched by key) for OCI, or of `tags` (plus the
provider's `defaultTags`) for AWS. A resource with a tags map is taggable; so are the common
types listed below when they carry none. Tags unknown during preview cannot be checked: advisory note.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pack_config import PackConfig
from pack_policy import ADVISORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import AWS_PROVIDER, Resource, get, is_unknown, json_value

TAG_KEYS = ("freeformTags", "definedTags", "tags")
TAGGABLE = (
    "oci:ObjectStorage/bucket:Bucket",
    "oci:Core/vcn:Vcn",
    "oci:Core/subnet:Subnet",
    "oci:Core/securityList:SecurityList",
    "oci:Core/networkSecurityGroup:NetworkSecurityGroup",
    "oci:Core/routeTable:RouteTable",
    "oci:Core/drg:Drg",
    "oci:Core/internetGateway:InternetGateway",
    "oci:Core/natGateway:NatGateway",
    "oci:Core/serviceGateway:ServiceGateway",
    "oci:Core/instance:Instance",
    "oci:Core/volume:Volume",
    "oci:Kms/vault:Vault",
    "oci:Kms/key:Key",
    "oci:Logging/logGroup:LogGroup",
    "oci:Logging/log:Log",
    "oci:NetworkFirewall/networkFirewall:NetworkFirewall",
    "oci:NetworkFirewall/networkFirewallPolicy:NetworkFirewallPolicy",
    "oci:CloudGuard/target:Target",
    "oci:Identity/compartment:Compartment",
    "oci:Identity/group:Group",
    "oci:Identity/policy:Policy",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
)

META = Meta(
    name="security-required-tags",
    control="USDR-SEC-10",
    title="Required tags present",
    description="Taggable resources carry the required tags (data-residency, stack, managed-by).",
    enforcement=ADVISORY,
    severity=Severity.LOW,
    types=("oci:", "aws:"),
    cis="4.1",
    remediation="Add the stack's tags: `freeform_tags=settings.tags()` on OCI resources (or `tags=` on S3), "
    "or register one stack transform that adds them to every taggable resource; for AWS, the provider's "
    "`default_tags={'tags': settings.tags()}` covers all of a site's resources.",
)


def _keys(value: Any) -> set[str]:
    value = json_value(value)
    if not isinstance(value, dict):
        return set()
    out = set()
    for k in value:
        out.add(k)
        out.add(k.rsplit(".", 1)[-1])  # defined tags: Namespace.key
    return out


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    present = [k for k in TAG_KEYS if k in res.props]
    if not present and res.type not in TAGGABLE:
        return
    if any(is_unknown(res.props.get(k)) for k in present):
        yield Finding("tags are unknown during preview: required tags cannot be checked")
        return
    keys: set[str] = set()
    for k in present:
        keys |= _keys(res.props.get(k))
    prov = res.provider
    if prov is not None and prov.type == AWS_PROVIDER:
        keys |= _keys(get(json_value(prov.props.get("defaultTags")), "tags"))
    missing = [t for t in cfg.required_tags if t not in keys]
    if missing:
        yield Finding(f"missing required tag(s): {', '.join(missing)}")


POLICY = resource_policy(META, check)
