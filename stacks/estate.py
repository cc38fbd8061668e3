"""The estate: what `pulumi up` builds for a stack, composed from the validated settings.

    providers -> access team (home region: compartments, groups, policies, quotas)
              + service grants (home region: Cloud Guard's IAM policy)
              -> the propagation wait (compartments and policies reach every region)
              -> threat detection (home region: Cloud Guard enabled, targets, security zone)
              -> per region: logging -> network -> firewall/IDS -> routing -> KMS -> storage
                 + change alerts (network and key changes; Cloud Guard problems at home)
              -> replication between DR partners (after both regions' buckets exist)
              -> legacy sites (stacks/legacy.py)
    exports: what a residency attestation needs, per region

The log group comes first in a region, not last: flow logs, firewall logs and bucket logs are
written into it, so it must exist before the things that log. Every count here comes from the
settings (no resource is created inside an `apply`), so the whole graph is known before anything
runs, which is also what lets preflight synthesize it offline.

Nothing uses a new compartment or a new grant before the propagation wait
(components/propagation.py, issue 13 item 3): every component built after it is built with
`ready.opts(...)`, which makes it and every resource below it depend on the wait (buckets with
the keys' `use keys` grant, replication, enabling Cloud Guard, everything in the new
compartments). A first `pulumi up` on a fresh tenancy therefore needs no second run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

import pulumi
import pulumi_oci as oci

from components.access import AccessArgs, AccessTeam, ApprovedRegion
from components.access_networks import AccessNetworks, AccessNetworksArgs, VcnSource
from components.break_glass import BreakGlassAlerts, BreakGlassArgs
from components.change_alerts import ChangeAlerts, ChangeAlertsArgs
from components.firewall import FirewallArgs, RegionFirewall
from components.kms import KmsArgs, RegionKms
from components.legacy_backup import LegacyBackup
from components.legacy_links import LegacyLink
from components.logging import RegionLogging, RegionLoggingArgs
from components.lookups import not_answered
from components.network import NetworkArgs, RegionNetwork
from components.object_storage import BucketSpec, RegionStorage, StorageArgs
from components.propagation import PropagationArgs, PropagationWait
from components.replication import BucketReplication, ReplicationArgs, ReplicationEdge
from components.routing import FirewallRouting, RoutingArgs
from components.service_grants import ServiceGrants, ServiceGrantsArgs, ServicePolicy
from components.tag_defaults import TagDefaults, TagDefaultsArgs
from components.threat_detection import SERVICE_STATEMENTS, ThreatDetection, ThreatDetectionArgs
from stacks.legacy import build_legacy_sites
from stacks.providers import Providers, approved_or_raise, build_providers
from stacks.settings import RegionPlan, Settings

# --------------------------------------------------------------------------- names
# Derived from the one validated prefix (tenancy.namePrefix) and the region key; never random,
# so a second `pulumi up` finds the same resources, and a rename is visible as a replace.


def region_prefix(settings: Settings, plan: RegionPlan) -> str:
    """Display-name prefix of a region's resources: `usdr-prod-iad`."""
    return f"{settings.tenancy.name_prefix}-{plan.key.lower()}"


def bucket_name(settings: Settings, plan: RegionPlan, bucket: str) -> str:
    """A primary bucket: `usdr-prod-iad-media` (bucket names are unique per namespace)."""
    return f"{region_prefix(settings, plan)}-{bucket}"


def replica_role(bucket: str, source: RegionPlan) -> str:
    return f"{bucket}-from-{source.key.lower()}"


def replica_bucket_name(settings: Settings, host: RegionPlan, source: RegionPlan, bucket: str) -> str:
    """The partner's replica of a primary bucket: `usdr-prod-phx-media-from-iad`."""
    return f"{region_prefix(settings, host)}-{replica_role(bucket, source)}"


def primary_buckets(settings: Settings, plan: RegionPlan) -> tuple[BucketSpec, ...]:
    return tuple(
        BucketSpec(role=b, name=bucket_name(settings, plan, b), data_class=dc.name)
        for dc in settings.data_classes
        for b in dc.buckets
    )


def replica_buckets(settings: Settings, host: RegionPlan) -> tuple[BucketSpec, ...]:
    """The buckets `host` keeps for its DR partner (DR pairs are mutual: settings checks it)."""
    if host.dr_partner is None:
        return ()
    source = settings.region(host.dr_partner)
    return tuple(
        BucketSpec(
            role=replica_role(b, source),
            name=replica_bucket_name(settings, host, source, b),
            data_class=dc.name,
            replica_of=source.identifier,
        )
        for dc in settings.data_classes
        for b in dc.buckets
    )


# --------------------------------------------------------------------------- composition


def _namespace(result: oci.objectstorage.GetNamespaceResult) -> pulumi.Input[str]:
    return result.namespace if result.namespace is not None else not_answered()  # components/lookups.py


@dataclass(frozen=True)
class RegionEstate:
    plan: RegionPlan
    logging: RegionLogging
    network: RegionNetwork
    firewall: RegionFirewall
    routing: FirewallRouting
    kms: RegionKms
    storage: RegionStorage
    namespace: pulumi.Output[str]


@dataclass(frozen=True)
class Estate:
    settings: Settings
    providers: Providers
    access: AccessTeam
    threat_detection: ThreatDetection | None
    regions: Mapping[str, RegionEstate]  # region identifier -> its components
    replication: Mapping[tuple[str, str], BucketReplication]  # (source, destination) -> policies
    legacy: Mapping[str, LegacyBackup]  # site name -> component (stacks/legacy.py)
    access_networks: AccessNetworks  # where the team may work from (home region)
    break_glass: BreakGlassAlerts  # sign-ins and IAM changes, announced
    service_grants: ServiceGrants | None  # IAM policies of the services the estate enables
    ready: PropagationWait  # compartments and policies have reached every region
    change_alerts: Mapping[str, ChangeAlerts]  # region identifier -> network and key change alerts
    tag_defaults: TagDefaults  # CreatedBy on everything created in the compartments (CIS 4.1)


def network_source_name(settings: Settings) -> str:
    """The one network source every grant to the access team requires (unique in the tenancy)."""
    return f"{settings.tenancy.name_prefix}-us-networks"


def build_access(settings: Settings, providers: Providers) -> AccessTeam:
    team = settings.access_team
    return AccessTeam(
        "access-team",
        AccessArgs(
            tenancy_ocid=settings.tenancy.ocid,
            parent_compartment_ocid=settings.compartments.parent_ocid,
            display_prefix=settings.tenancy.name_prefix,
            compartments={
                "us-data": settings.compartments.us_data,
                "network": settings.compartments.network,
                "security": settings.compartments.security,
            },
            groups={"admins": team.admins, "operators": team.operators, "auditors": team.auditors},
            approved_regions=tuple(ApprovedRegion(r.identifier, r.key) for r in settings.approved_regions),
            quota_families=team.quota_families,
            storage_regions=tuple(r.identifier for r in settings.regions),
            replication_sources=tuple(r.identifier for r in settings.regions if r.dr_partner),
            tags=settings.tags(),
            network_source=network_source_name(settings),
        ),
        pulumi.ResourceOptions(provider=providers.home),
    )


def build_access_networks(
    settings: Settings, providers: Providers, regions: Mapping[str, RegionEstate]
) -> AccessNetworks:
    """The offices' egress and (stackVcns) every VCN of the stack, as one network source."""
    ns = settings.access_team.network_sources
    vcns = (
        [VcnSource(r.network.vcn.id, (str(r.plan.vcn_cidr),)) for r in regions.values()]
        if ns.stack_vcns
        else []
    )
    return AccessNetworks(
        "access-networks",
        AccessNetworksArgs(
            tenancy_ocid=settings.tenancy.ocid,
            name=network_source_name(settings),
            public_cidrs=tuple(str(n) for n in ns.corporate_egress),
            vcns=vcns,
            tags=settings.tags(),
        ),
        pulumi.ResourceOptions(provider=providers.home),
    )


def build_break_glass(
    settings: Settings, providers: Providers, access: AccessTeam, ready: PropagationWait
) -> BreakGlassAlerts:
    return BreakGlassAlerts(
        "break-glass",
        BreakGlassArgs(
            tenancy_ocid=settings.tenancy.ocid,
            topic_compartment_id=access.compartments["security"].id,
            display_prefix=settings.tenancy.name_prefix,
            notify=settings.access_team.break_glass.notify,
            accounts=settings.access_team.break_glass.accounts,
            tags=settings.tags(),
        ),
        ready.opts(pulumi.ResourceOptions(provider=providers.home)),
    )


def build_service_grants(
    settings: Settings, providers: Providers, access: AccessTeam
) -> ServiceGrants | None:
    """The services' IAM policies, in the root compartment (their statements say `in tenancy`)."""
    policies = {}
    if settings.threat_detection.cloud_guard:
        policies["cloudguard"] = ServicePolicy(
            compartment_id=settings.tenancy.ocid,
            description="Cloud Guard reads the estate it watches (Oracle's statements)",
            statements=list(SERVICE_STATEMENTS),
        )
    if not policies:
        return None
    return ServiceGrants(
        "service-grants",
        ServiceGrantsArgs(
            display_prefix=settings.tenancy.name_prefix,
            policies=policies,
            tags=settings.tags(),
            after=tuple(access.compartments.values()),
        ),
        pulumi.ResourceOptions(provider=providers.home),
    )


def build_tag_defaults(settings: Settings, providers: Providers, access: AccessTeam) -> TagDefaults:
    """CreatedBy defaults on the estate's compartments, in the home region (IAM is global)."""
    return TagDefaults(
        "tag-defaults",
        TagDefaultsArgs(
            tenancy_ocid=settings.tenancy.ocid,
            namespace=settings.tenancy.name_prefix,
            compartment_ids={role: c.id for role, c in access.compartments.items()},
            tags=settings.tags(),
        ),
        pulumi.ResourceOptions(provider=providers.home),
    )


def build_propagation(
    settings: Settings,
    providers: Providers,
    access: AccessTeam,
    grants: ServiceGrants | None,
    tagging: TagDefaults,
) -> PropagationWait:
    """The one wait every first use of a compartment, a grant or a tag default goes through."""
    policies: list[pulumi.Resource] = [*access.policies.values(), access.service_grants]
    if grants is not None:
        policies += grants.policies.values()
    # A tag default applies to what is created after it has propagated, like a grant.
    policies += tagging.defaults.values()
    return PropagationWait(
        "iam-propagation",
        PropagationArgs(
            seconds=settings.tenancy.propagation_wait_seconds,
            after=(*access.compartments.values(), *policies),
        ),
        pulumi.ResourceOptions(provider=providers.time),
    )


def build_threat_detection(
    settings: Settings, providers: Providers, access: AccessTeam, ready: PropagationWait
) -> ThreatDetection | None:
    td = settings.threat_detection
    if not td.cloud_guard:
        return None  # a security zone is enforced by Cloud Guard: none without it
    # Cloud Guard reports in the home region; approved_or_raise checks it against the catalogue
    # once more (the one region list: policies/usdr_common/regions.yaml).
    reporting = settings.tenancy.home_region
    approved_or_raise(settings, reporting)
    return ThreatDetection(
        "threat-detection",
        ThreatDetectionArgs(
            tenancy_ocid=settings.tenancy.ocid,
            data_compartment_id=access.compartments["us-data"].id,
            security_compartment_id=access.compartments["security"].id,
            display_prefix=settings.tenancy.name_prefix,
            tags=settings.tags(),
            security_zone=td.security_zone,
            # Vaults and keys live in `security`, firewalls and VCNs in `network`: watch them too.
            also_watched={
                "security": access.compartments["security"].id,
                "network": access.compartments["network"].id,
            },
            reporting_region=reporting,
            after=(ready.sleep,),  # Cloud Guard's policy has reached every region
        ),
        ready.opts(pulumi.ResourceOptions(provider=providers.home)),
    )


def build_change_alerts(
    settings: Settings,
    providers: Providers,
    access: AccessTeam,
    ready: PropagationWait,
    break_glass: BreakGlassAlerts,
) -> dict[str, ChangeAlerts]:
    """Per stack region: network and key change rules; the home region's publish to the
    break-glass topic (and announce Cloud Guard's problems, which are reported there)."""
    home = settings.tenancy.home_region
    out = {}
    for plan in settings.regions:
        at_home = plan.identifier == home
        out[plan.identifier] = ChangeAlerts(
            f"{plan.key.lower()}-change-alerts",
            ChangeAlertsArgs(
                tenancy_ocid=settings.tenancy.ocid,
                topic_compartment_id=access.compartments["security"].id,
                display_prefix=region_prefix(settings, plan),
                notify=settings.access_team.break_glass.notify,
                tags=settings.tags(),
                topic_id=break_glass.topic.id if at_home else None,
                cloud_guard_problems=at_home and settings.threat_detection.cloud_guard,
            ),
            ready.opts(
                pulumi.ResourceOptions(
                    provider=providers.home if at_home else providers.region(plan.identifier)
                )
            ),
        )
    return out


def build_region(
    settings: Settings, plan: RegionPlan, provider: oci.Provider, access: AccessTeam, ready: PropagationWait
) -> RegionEstate:
    """One region's landing zone, every component on that region's provider."""
    key = plan.key.lower()
    prefix = region_prefix(settings, plan)
    # After the wait: a compartment or grant is used here only once it reached this region.
    opts = ready.opts(pulumi.ResourceOptions(provider=provider))
    tags = settings.tags()
    network_compartment = access.compartments["network"].id
    security_compartment = access.compartments["security"].id
    data_compartment = access.compartments["us-data"].id
    legacy_links = tuple(
        LegacyLink(
            s.name,
            s.cidr,
            s.cpe_ip,
            tuple(IPv4Address(a) for a in s.store_addresses),
            s.store_port,
            replica=s.mode == "replica",
        )
        for s in settings.sites_linked_to(plan.identifier)
    )

    logging = RegionLogging(
        f"{key}-logging",
        RegionLoggingArgs(
            compartment_id=security_compartment,
            display_prefix=prefix,
            tags=tags,
            protect=settings.protect_data,
        ),
        opts,
    )
    network = RegionNetwork(
        f"{key}-network",
        NetworkArgs(
            compartment_id=network_compartment,
            display_prefix=prefix,
            dns_label=f"usdr{key}",
            vcn_cidr=plan.vcn_cidr,
            data_cidr=plan.subnets.data,
            app_cidr=plan.subnets.app,
            firewall_cidr=plan.subnets.firewall,
            log_group_id=logging.log_group_id,
            tags=tags,
            legacy_links=legacy_links,
        ),
        opts,
    )
    firewall = RegionFirewall(
        f"{key}-firewall",
        FirewallArgs(
            compartment_id=network_compartment,
            subnet_id=network.subnets["firewall"].id,
            display_prefix=prefix,
            log_group_id=logging.log_group_id,
            tags=tags,
            vcn_cidr=plan.vcn_cidr,
            data_cidrs=(plan.subnets.data,),
            legacy_links=legacy_links,
            app_cidrs=(plan.subnets.app,),
            ids_mode="INTRUSION_DETECTION"
            if settings.firewall.ids_mode == "INTRUSION_DETECTION"
            else "INTRUSION_PREVENTION",
        ),
        opts,
    )
    routing = FirewallRouting(
        f"{key}-routing",
        RoutingArgs(
            compartment_id=network_compartment,
            display_prefix=prefix,
            vcn_id=network.vcn.id,
            subnet_ids={role: s.id for role, s in network.subnets.items()},
            data_cidr=plan.subnets.data,
            app_cidr=plan.subnets.app,
            legacy_links=legacy_links,
            firewall_private_ip_id=firewall.private_ip_id,
            service_gateway_id=network.service_gateway.id,
            service_cidr_label=network.service_cidr_label,
            drg_id=network.drg.id,
            tags=tags,
        ),
        opts,
    )
    kms = RegionKms(
        f"{key}-kms",
        KmsArgs(
            compartment_id=security_compartment,
            display_prefix=prefix,
            data_classes=tuple(dc.name for dc in settings.data_classes),
            tags=tags,
            vault_type="DEFAULT" if settings.kms.vault_type == "DEFAULT" else "VIRTUAL_PRIVATE",
            protection_mode="SOFTWARE" if settings.kms.protection_mode == "SOFTWARE" else "HSM",
            rotation_days=settings.kms.rotation_days,
            replica_region=plan.dr_partner if settings.kms.replicate_vaults else None,
            protect=settings.protect_data,
        ),
        opts,
    )
    # Tenancy-wide, but asked of this region's endpoint: no call leaves the region either.
    namespace = oci.objectstorage.get_namespace_output(
        compartment_id=settings.tenancy.ocid, opts=pulumi.InvokeOutputOptions(provider=provider)
    ).apply(_namespace)
    storage = RegionStorage(
        f"{key}-storage",
        StorageArgs(
            compartment_id=data_compartment,
            namespace=namespace,
            display_prefix=prefix,
            log_group_id=logging.log_group_id,
            tags=tags,
            buckets=primary_buckets(settings, plan) + replica_buckets(settings, plan),
            key_ids=kms.key_ids,
            # The `use keys` grant to this region's Object Storage service, propagated.
            after=(ready.sleep,),
            protect=settings.protect_data,
        ),
        opts,
    )
    return RegionEstate(plan, logging, network, firewall, routing, kms, storage, namespace)


def build_replication(
    settings: Settings, providers: Providers, regions: Mapping[str, RegionEstate], ready: PropagationWait
) -> dict[tuple[str, str], BucketReplication]:
    """Each region's primary buckets -> its DR partner's replicas, on the source's provider."""
    out = {}
    for plan in settings.regions:
        if plan.dr_partner is None:
            continue
        source, destination = regions[plan.identifier], regions[plan.dr_partner]
        edges = tuple(
            ReplicationEdge(
                role=spec.role,
                source_bucket=source.storage.buckets[spec.role].name,
                destination_bucket=destination.storage.buckets[replica_role(spec.role, plan)].name,
                destination=destination.storage.buckets[replica_role(spec.role, plan)],
            )
            for spec in primary_buckets(settings, plan)
        )
        name = f"{plan.key.lower()}-to-{destination.plan.key.lower()}-replication"
        out[(plan.identifier, plan.dr_partner)] = BucketReplication(
            name,
            ReplicationArgs(
                namespace=source.namespace,
                source_region=plan.identifier,
                destination_region=plan.dr_partner,
                edges=edges,
                after=(ready.sleep,),  # the replication grant, propagated
            ),
            pulumi.ResourceOptions(provider=providers.region(plan.identifier)),
        )
    return out


def build_estate(settings: Settings) -> Estate:
    providers = build_providers(settings)
    access = build_access(settings, providers)
    grants = build_service_grants(settings, providers, access)
    tag_defaults = build_tag_defaults(settings, providers, access)
    ready = build_propagation(settings, providers, access, grants, tag_defaults)
    threat_detection = build_threat_detection(settings, providers, access, ready)
    regions = {
        plan.identifier: build_region(settings, plan, providers.region(plan.identifier), access, ready)
        for plan in settings.regions
    }
    replication = build_replication(settings, providers, regions, ready)
    legacy = build_legacy_sites(settings)
    networks = build_access_networks(settings, providers, regions)
    break_glass = build_break_glass(settings, providers, access, ready)
    change_alerts = build_change_alerts(settings, providers, access, ready, break_glass)
    return Estate(
        settings,
        providers,
        access,
        threat_detection,
        regions,
        replication,
        legacy,
        networks,
        break_glass,
        grants,
        ready,
        change_alerts,
        tag_defaults,
    )


# --------------------------------------------------------------------------- exports


def estate_exports(estate: Estate) -> dict[str, Any]:
    """Per region, what an attestation needs: buckets, keys, vault replica, replication edges."""
    settings = estate.settings
    regions: dict[str, Any] = {}
    for identifier, r in estate.regions.items():
        regions[identifier] = {
            "key": r.plan.key,
            "dr_partner": r.plan.dr_partner,
            "buckets": {s.role: s.name for s in primary_buckets(settings, r.plan)},
            "replica_buckets": {s.role: s.name for s in replica_buckets(settings, r.plan)},
            "vault_id": r.kms.vault.id,
            "vault_replica_region": r.kms.replica.replica_region if r.kms.replica is not None else None,
            "key_ids": r.kms.key_ids,
            "firewall_policy": r.firewall.policy_name,
            "ids_mode": settings.firewall.ids_mode,
            "legacy_links": sorted(s.name for s in settings.sites_linked_to(identifier)),
            # The estate has no VNIC of its own: a workload stack attaches these NSGs to what they
            # protect (its instances' `nsg_ids`), reading them from this stack (StackReference).
            "nsg_ids": {role: nsg.id for role, nsg in r.network.nsgs.items()},
            "subnet_ids": {role: subnet.id for role, subnet in r.network.subnets.items()},
        }
    edges = [
        {
            "source_region": source,
            "source_bucket": bucket_name(settings, settings.region(source), spec.role),
            "destination_region": destination,
            "destination_bucket": replica_bucket_name(
                settings, settings.region(destination), settings.region(source), spec.role
            ),
        }
        for (source, destination) in estate.replication
        for spec in primary_buckets(settings, settings.region(source))
    ]
    return {
        "stack": settings.stack,
        "home_region": settings.tenancy.home_region,
        "approved_regions": [r.identifier for r in settings.approved_regions],
        "regions": regions,
        "replication_edges": edges,
        "compartment_ids": {role: c.id for role, c in estate.access.compartments.items()},
        "legacy_sites": sorted(estate.legacy),
    }
