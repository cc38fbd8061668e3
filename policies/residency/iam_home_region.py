"""USDR-IAM-01: IAM lives in the home region, and the home region is approved.

OCI accepts IAM writes only in the tenancy's home region. An `oci:Identity/*` resource
whose provider points elsewhere fails at apply time at best; a home region that is not
approved means identities (and their audit trail) are kept outside the approved regions.
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, oci_placement

META = Meta(
    name="residency-iam-home-region",
    control="USDR-IAM-01",
    title="IAM in the approved home region",
    description="Every oci:Identity/* resource is created through the home-region provider, and the home "
    "region is itself approved.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    types=("oci:Identity/",),
    remediation="Create IAM resources (compartments, groups, policies, dynamic groups) with the home-region "
    "provider (tenancy.homeRegion in the stack settings); the tenancy's home region must be one of the "
    "approved regions, otherwise the tenancy cannot hold US data.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    place = oci_placement(res)
    if place.region is None:
        yield Finding(f"IAM region cannot be determined: {place.problem}")
        return
    here = cfg.resolve(place.region)
    if cfg.home_region is None:
        d = cfg.decide(place.region)
        if not d.allowed:
            yield Finding(f"IAM region {place.region}: {d.reason} (no homeRegion configured)")
        return
    home = cfg.decide(cfg.home_region)
    if not home.allowed:
        yield Finding(f"the home region {cfg.home_region} is not approved: {home.reason}")
    home_id = home.region.identifier if home.region else cfg.home_region
    if here is None or here.identifier != home_id:
        yield Finding(f"IAM resource targets {place.shown}, not the home region {home_id}")


POLICY = resource_policy(META, check)
