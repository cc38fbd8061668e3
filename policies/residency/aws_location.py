"""USDR-RES-02: every AWS-API resource targets an approved US location or a declared legacy site.

The pack judges the endpoint the resource's service talks to: a provider endpoint override
(`endpoints[].s3` for `aws:s3/...`) must be a declared legacy site; a legacy site outside the
allowed countries needs an unexpired waiver naming the site. Without an override the resource
goes to real AWS, whose region must be in `awsAllowedRegions` (none by default: this estate
uses AWS APIs only to reach its legacy datacenters). Unknown during preview = violation.
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, aws_placement

META = Meta(
    name="residency-aws-location",
    control="USDR-RES-02",
    title="AWS-API resources only at approved US locations or declared legacy sites",
    description="Every aws:* resource targets a declared legacy site (matched by its provider's service "
    "endpoint) or an approved AWS region; a site outside the US needs an unexpired waiver.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=("aws:",),
    waivable=True,
    remediation="Use the legacy site's aws.Provider (endpoints=[{'s3': <site endpoint>}], the site's "
    "awsRegion) and declare the site under legacySites in the stack settings; for real AWS add the region "
    "to the pack config's awsAllowedRegions only after a residency review. A non-US site needs a waiver "
    "naming the site (waivers[].target) with an owner, a reason and an expiry date.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    place = aws_placement(res)
    if place.problem and place.endpoint is None and place.region is None:
        yield Finding(f"target cannot be determined: {place.problem}")
        return
    if place.endpoint is not None:
        site = cfg.site_for_endpoint(place.endpoint)
        if site is None:
            declared = ", ".join(s.endpoint for s in cfg.legacy_sites) or "none"
            yield Finding(f"endpoint {place.endpoint} is not a declared legacy site (declared: {declared})")
            return
        if site.country not in cfg.allowed_countries:
            yield Finding(
                f"legacy site {site.name!r} is in {site.country}, outside "
                f"{', '.join(cfg.allowed_countries)}: it needs an unexpired waiver naming the site",
                site=site.name,
            )
        return
    if place.region is None:
        yield Finding(f"AWS region cannot be determined: {place.problem}")
        return
    if place.region not in cfg.aws_allowed_regions:
        allowed = ", ".join(cfg.aws_allowed_regions) or "none"
        yield Finding(
            f"targets real AWS region {place.region} (from {place.source}), not a declared legacy site; "
            f"approved AWS regions: {allowed}"
        )


POLICY = resource_policy(META, check)
