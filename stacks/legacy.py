"""The legacy datacenters: one explicit aws.Provider and one LegacyBackup per site.

Each site's object store speaks the S3 API at its own endpoint, so each gets its own provider:
the endpoint override for s3, path-style addressing (the stores do not serve virtual-hosted
bucket names), and the AWS-only checks skipped (no STS, no account id, no metadata service, a
region string AWS may not know). Credentials never come from the stack file: each provider
reads the shared-credentials profile named after its site (`[legacy-us-east]` in
~/.aws/credentials), because two sites need two different key pairs and one set of AWS_*
environment variables could only serve one of them.

`build_legacy_sites` checks every site before registering anything: the settings loader
already refuses these cases, this is the same rule again for a Settings built some other way
(a test, a script), so a bad site can never get half-built.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.legacy_backup import LegacyBackup, LegacyBackupArgs
from stacks.settings import NS, LegacySite, Settings, SettingsError


def site_provider(site: LegacySite) -> aws.Provider:
    """The explicit provider for one site's S3-compatible endpoint."""
    return aws.Provider(
        f"{site.name}-s3",
        region=site.aws_region,
        profile=site.name,
        endpoints=[aws.ProviderEndpointArgs(s3=site.endpoint)],
        s3_use_path_style=True,
        skip_credentials_validation=True,  # no STS at the site
        skip_region_validation=True,  # the site's region string need not be an AWS region
        skip_requesting_account_id=True,  # no IAM/STS to ask; ARNs here carry no account
        skip_metadata_api_check=True,  # never reach for EC2 instance credentials
    )


def backup_args(settings: Settings, site: LegacySite) -> LegacyBackupArgs:
    """The component's own args for one site: settings translated into plain values."""
    waiver = None if site.is_us else settings.waiver_for(site.name)
    return LegacyBackupArgs(
        site=site.name,
        country=site.country,
        mode=site.mode,
        writer=site.writer,
        restore_principal=site.restore_principal,
        deployer=site.deployer,
        sunset=site.sunset,
        buckets=site.buckets,
        tags=settings.tags(),
        waiver_expires=waiver.expires if waiver else None,
        protect=settings.protect_data,
        ownership_controls=site.capabilities.ownership_controls,
    )


def refusals(settings: Settings) -> list[str]:
    """Why sites of these settings must not be built, one settings-style line each."""
    problems = []
    for site in settings.legacy_sites:
        path = f"{settings.source}: {NS}legacySites.{site.name}"
        if site.mode == "replica" and not site.writer:
            problems.append(f"{path}.writer: mode replica needs the replication writer principal")
        if site.mode == "replica" and site.sunset < settings.today:
            problems.append(
                f"{path}.sunset: sunset {site.sunset} has passed: "
                "stop replication (mode frozen) and decommission"
            )
        if not site.is_us:
            waiver = settings.waiver_for(site.name)
            if waiver is None:
                problems.append(
                    f"{path}: site in {site.country} holds US data outside the US and needs a waiver "
                    f"(waivers[].target: {site.name})"
                )
            elif not waiver.active(settings.today):
                problems.append(
                    f"{path}: the waiver for this {site.country} site expired on {waiver.expires}"
                )
    return problems


def build_legacy_sites(settings: Settings) -> dict[str, LegacyBackup]:
    """One provider and one LegacyBackup per legacy site, keyed by site name."""
    problems = refusals(settings)
    if problems:
        raise SettingsError(problems)
    # Every site's args are built (and validated) before the first resource registers.
    planned = [(site, backup_args(settings, site)) for site in settings.legacy_sites]
    sites: dict[str, LegacyBackup] = {}
    for site, args in planned:
        provider = site_provider(site)
        sites[site.name] = LegacyBackup(site.name, args, pulumi.ResourceOptions(provider=provider))
    return sites
