"""Explicit OCI providers: one per stack region, and one for IAM in the home region.

The stacks set `pulumi:disable-default-providers: ["*"]`, so a resource without one of these
providers fails to register instead of landing in whatever region `oci:region` says. A
resource's region is its provider's region: building providers only from the validated settings,
and checking each region against the catalogue once more here, means no provider for a
region outside the approved set can exist in this program.

Credentials are not configured here: the provider reads the usual OCI configuration (config
file profile, instance or resource principal) from the environment of whoever runs `pulumi`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi_oci as oci
import pulumiverse_time as time

from stacks.settings import Settings


@dataclass(frozen=True)
class Providers:
    regions: Mapping[str, oci.Provider]  # region identifier -> provider
    home: oci.Provider  # IAM, quotas, Cloud Guard: the home region
    # The time provider (pulumiverse-time) for the propagation wait: it calls no cloud API and
    # holds no data, but default providers are disabled for every package, so it is explicit too.
    time: time.Provider

    def region(self, identifier: str) -> oci.Provider:
        return self.regions[identifier]


def approved_or_raise(settings: Settings, identifier: str) -> None:
    """Defence in depth: settings validation already did this; a provider must never exist
    for a region the catalogue does not approve, even if validation is bypassed."""
    decision = settings.catalogue.decide(
        identifier, settings.tenancy.opt_in_regions, realm=settings.home.realm
    )
    if not decision.allowed:
        raise ValueError(f"{settings.source}: no provider for {identifier}: {decision.reason}")


def build_providers(settings: Settings) -> Providers:
    """`oci-<region>` for each stack region and `oci-home` for the home region's IAM."""
    regions = {}
    for plan in settings.regions:
        approved_or_raise(settings, plan.identifier)
        regions[plan.identifier] = oci.Provider(f"oci-{plan.identifier}", region=plan.identifier)
    approved_or_raise(settings, settings.tenancy.home_region)
    # A separate provider, not the home region's regional one: the diff shows at a glance
    # which resources are IAM (global, written through the home region).
    home = oci.Provider("oci-home", region=settings.tenancy.home_region)
    return Providers(regions=regions, home=home, time=time.Provider("time"))
