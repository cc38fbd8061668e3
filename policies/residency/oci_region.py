"""USDR-RES-01: every OCI resource's effective region is approved.

The effective region is the provider's `region`; a resource on the default provider takes
`oci:region` from stack config. Unknown (preview), missing, not in the catalogue, opt-in
without opt-in, forbidden or in another realm: all violations. Waivable.
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, oci_placement

META = Meta(
    name="residency-oci-region",
    control="USDR-RES-01",
    title="OCI resources only in approved regions",
    description="Every oci:* resource is created in an approved US region (its provider's region, or "
    "oci:region for the default provider); an undeterminable region is a violation.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=("oci:",),
    waivable=True,
    remediation="Create the resource with an explicit oci.Provider whose `region` is one of the approved "
    "regions (the stack's regional providers), e.g. "
    "`opts=pulumi.ResourceOptions(provider=providers['us-ashburn-1'])`; for the default provider set "
    "`oci:region` in Pulumi.<stack>.yaml. Never rely on ~/.oci/config or OCI_REGION. A time-boxed exception "
    "needs a waiver naming the resource (URN or logical name).",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    place = oci_placement(res)
    if place.region is None:
        yield Finding(
            f"effective region cannot be determined: {place.problem}; approved: {cfg.approved_text}"
        )
        return
    decision = cfg.decide(place.region)
    if not decision.allowed:
        yield Finding(f"{decision.reason} (region from {place.source}); approved: {cfg.approved_text}")


POLICY = resource_policy(META, check)
