"""The whole estate under mocks: prod (pinned inventory, residency, protection, tags, exports),
staging, the composition root, and offline synthesis.

Every check reads what the engine would have been asked to register (tests/components/
harness.py records the raw requests): a resource's region is its explicit provider's region.
"""

from __future__ import annotations

import json
import runpy
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from stacks.estate import Estate, build_estate, estate_exports
from stacks.settings import Settings, stack_config_from_file
from tests.components.harness import Registered, Synth, synth

ROOT = Path(__file__).resolve().parents[1]
DATA_BEARING = (
    "oci:ObjectStorage/bucket:Bucket",
    "oci:Kms/vault:Vault",
    "oci:Kms/key:Key",
    "oci:Logging/logGroup:LogGroup",
)
# IAM, quotas and Cloud Guard (IAM's events are emitted in the home region; Events rules and
# topics are in every region: network and key changes are regional, issue 13).
HOME_ONLY_PREFIXES = ("oci:Identity/", "oci:Limits/", "oci:CloudGuard/")

# --------------------------------------------------------------------------- pinned inventory
# Custom resources per provider (= per region; IAM on the home-region provider). A change here
# is a change of what `pulumi up` creates: update the pin in the same commit, on purpose.

REGION_WITHOUT_SITES = {
    "oci:Core/defaultSecurityList:DefaultSecurityList": 1,  # CIS 2.5: taken over, ICMP in the VCN only
    "oci:Core/drg:Drg": 1,
    "oci:Core/drgAttachment:DrgAttachment": 1,
    "oci:Core/natGateway:NatGateway": 1,
    "oci:Core/networkSecurityGroup:NetworkSecurityGroup": 2,
    "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule": 5,
    "oci:Core/routeTable:RouteTable": 5,  # data, app, firewall, DRG ingress, the NAT gateway's
    "oci:Core/routeTableAttachment:RouteTableAttachment": 3,
    "oci:Core/securityList:SecurityList": 3,
    "oci:Core/serviceGateway:ServiceGateway": 1,
    "oci:Core/subnet:Subnet": 3,
    "oci:Core/vcn:Vcn": 1,
    "oci:Kms/key:Key": 3,  # one per data class
    "oci:Kms/vault:Vault": 1,
    "oci:Kms/vaultVerification:VaultVerification": 1,  # replica in the DR partner
    "oci:Logging/log:Log": 21,  # 3 flow logs + 2 firewall logs + 8 buckets x read/write
    "oci:Logging/logGroup:LogGroup": 1,
    "oci:NetworkFirewall/networkFirewall:NetworkFirewall": 1,
    "oci:NetworkFirewall/networkFirewallPolicy:NetworkFirewallPolicy": 1,
    # vcn, data subnets, app subnets and private ranges (app egress is inspected: issue 13 item 7)
    "oci:NetworkFirewall/networkFirewallPolicyAddressList:NetworkFirewallPolicyAddressList": 4,
    "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule": 5,
    "oci:ObjectStorage/bucket:Bucket": 8,  # 4 primary + 4 replicas of the partner's
    "oci:ObjectStorage/replicationPolicy:ReplicationPolicy": 4,  # one per primary bucket
}
# us-ashburn-1 holds the IPSec links to both legacy sites.
ASHBURN = {
    **REGION_WITHOUT_SITES,
    "oci:Core/cpe:Cpe": 2,
    "oci:Core/ipsec:Ipsec": 2,
    # 5 + one data-NSG egress per store address (2 sites x 2); no rule admits a site in, and
    # none names a site's other hosts (issue 13 item 6, components/legacy_links.py).
    "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule": 9,
    # + the sites' CIDRs (rejected both ways) and each site's store
    "oci:NetworkFirewall/networkFirewallPolicyAddressList:NetworkFirewallPolicyAddressList": 7,
    # + reject-from-legacy, one rule per site's store, reject-to-legacy
    "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule": 9,
    # the stores' port (443), and the list a rule names it by
    "oci:NetworkFirewall/networkFirewallPolicyService:NetworkFirewallPolicyService": 1,
    "oci:NetworkFirewall/networkFirewallPolicyServiceList:NetworkFirewallPolicyServiceList": 1,
}
HOME = {
    "oci:CloudGuard/cloudGuardConfiguration:CloudGuardConfiguration": 1,  # enabled, reporting here
    "oci:CloudGuard/securityRecipe:SecurityRecipe": 1,
    "oci:CloudGuard/securityZone:SecurityZone": 1,
    # security and network; the zoned US data compartment gets the zone's own target (item 4)
    "oci:CloudGuard/target:Target": 2,
    # break glass: IAM changes, sign-ins; the home region's network changes, key changes and
    # Cloud Guard problems (components/change_alerts.py), all to the break-glass topic
    "oci:Events/rule:Rule": 5,
    "oci:Identity/compartment:Compartment": 3,
    "oci:Identity/group:Group": 3,
    "oci:Identity/networkSource:NetworkSource": 1,  # the US networks every team grant requires
    "oci:Identity/policy:Policy": 5,  # admins, operators, auditors, Object Storage, Cloud Guard
    # CIS 4.1: CreatedBy = ${iam.principal.name} on each of the three compartments
    "oci:Identity/tagNamespace:TagNamespace": 1,
    "oci:Identity/tag:Tag": 1,
    "oci:Identity/tagDefault:TagDefault": 3,
    "oci:Limits/quota:Quota": 1,
    "oci:Ons/notificationTopic:NotificationTopic": 1,  # break glass
    "oci:Ons/subscription:Subscription": 1,  # accessTeam.breakGlass.notify
}
# A region other than the home region announces its own network and key changes to its own
# topic (an Events rule publishes only to a topic in its region).
AWAY_FROM_HOME = {
    **REGION_WITHOUT_SITES,
    "oci:Events/rule:Rule": 2,
    "oci:Ons/notificationTopic:NotificationTopic": 1,
    "oci:Ons/subscription:Subscription": 1,
}
PROD_INVENTORY = {
    "oci-home": HOME,
    "oci-us-ashburn-1": ASHBURN,
    "oci-us-phoenix-1": AWAY_FROM_HOME,
    "oci-us-chicago-1": AWAY_FROM_HOME,
    "oci-us-sanjose-1": AWAY_FROM_HOME,
}
# The other packages' resources: the one propagation wait (issue 13 item 3).
PROD_OTHER_PACKAGES = {"time:index/sleep:Sleep": 1}


@pytest.fixture(scope="module")
def prod(prod_settings: Settings) -> Synth[Estate]:
    return synth(lambda: build_estate(prod_settings), stack="prod")


@pytest.fixture(scope="module")
def staging(staging_settings: Settings) -> Synth[Estate]:
    return synth(lambda: build_estate(staging_settings), stack="staging")


def providers_by_ref(s: Synth[Any]) -> dict[str, Registered]:
    return {f"{p.urn}::{p.id}": p for p in s.resources if p.type.startswith("pulumi:providers:")}


def custom(s: Synth[Any], package: str = "oci") -> Iterator[Registered]:
    for r in s.resources:
        if r.custom and r.type.startswith(f"{package}:"):
            yield r


def inventory(s: Synth[Any]) -> dict[str, dict[str, int]]:
    by_ref = providers_by_ref(s)
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in custom(s):
        out[by_ref[r.provider].name if r.provider in by_ref else "<no provider>"][r.type] += 1
    return {p: dict(sorted(counts.items())) for p, counts in out.items()}


# --------------------------------------------------------------------------- inventory


def test_prod_inventory_is_pinned_per_region(prod: Synth[Estate]) -> None:
    assert inventory(prod) == {p: dict(sorted(c.items())) for p, c in PROD_INVENTORY.items()}
    others = [r.type for r in prod.resources if r.custom and r.type.startswith("time:")]
    assert {t: others.count(t) for t in others} == PROD_OTHER_PACKAGES


def test_prod_has_one_provider_per_region_plus_home_and_one_per_legacy_site(
    prod: Synth[Estate], prod_settings: Settings
) -> None:
    oci = {p.name: p.inputs for p in prod.of_type("pulumi:providers:oci")}
    assert oci == {
        **{f"oci-{r.identifier}": {"region": r.identifier} for r in prod_settings.regions},
        "oci-home": {"region": prod_settings.tenancy.home_region},
    }
    aws = {p.name for p in prod.of_type("pulumi:providers:aws")}
    assert aws == {f"{site.name}-s3" for site in prod_settings.legacy_sites}
    assert set(prod.value.legacy) == {site.name for site in prod_settings.legacy_sites}


def test_every_region_gets_every_component(prod: Synth[Estate], prod_settings: Settings) -> None:
    suffixes = {
        "usdr:logging:RegionLogging": "logging",
        "usdr:network:RegionNetwork": "network",
        "usdr:firewall:RegionFirewall": "firewall",
        "usdr:network:FirewallRouting": "routing",
        "usdr:kms:RegionKms": "kms",
        "usdr:storage:RegionStorage": "storage",
    }
    for kind, suffix in suffixes.items():
        names = sorted(r.name for r in prod.of_type(kind))
        assert names == sorted(f"{r.key.lower()}-{suffix}" for r in prod_settings.regions), kind
    replication = sorted(r.name for r in prod.of_type("usdr:storage:BucketReplication"))
    assert replication == [
        "iad-to-phx-replication",
        "ord-to-sjc-replication",
        "phx-to-iad-replication",
        "sjc-to-ord-replication",
    ]


# --------------------------------------------------------------------------- residency


def test_every_oci_resource_has_an_explicit_provider_in_an_approved_region(
    prod: Synth[Estate], prod_settings: Settings
) -> None:
    cat, opt_ins = prod_settings.catalogue, prod_settings.tenancy.opt_in_regions
    stack_regions = {r.identifier for r in prod_settings.regions}
    for r in custom(prod):
        assert r.provider, f"{r.urn}: no explicit provider (default providers are disabled)"
        decision = cat.decide(r.region, opt_ins, realm=prod_settings.home.realm)
        assert decision.allowed, f"{r.urn}: {decision.reason}"
        assert r.region in stack_regions, f"{r.urn}: region {r.region} is not one of the stack's"


def test_every_legacy_resource_uses_its_sites_explicit_provider(prod: Synth[Estate]) -> None:
    by_ref = providers_by_ref(prod)
    for r in custom(prod, "aws"):
        assert r.provider in by_ref, f"{r.urn}: no explicit provider"
        assert by_ref[r.provider].type == "pulumi:providers:aws", r.urn


def test_every_lookup_goes_to_an_approved_region(prod: Synth[Estate], prod_settings: Settings) -> None:
    by_ref = providers_by_ref(prod)
    assert prod.invokes, "the estate makes lookups; none were recorded"
    for inv in prod.invokes:
        assert inv.provider in by_ref, f"invoke {inv.token} has no explicit provider"
        region = by_ref[inv.provider].inputs["region"]
        assert prod_settings.catalogue.decide(region).allowed, f"invoke {inv.token} goes to {region}"


def test_iam_quotas_and_cloud_guard_live_in_the_home_region(
    prod: Synth[Estate], prod_settings: Settings
) -> None:
    home = next(p for p in prod.of_type("pulumi:providers:oci") if p.name == "oci-home")
    for r in custom(prod):
        on_home = r.provider == f"{home.urn}::{home.id}"
        if r.type.startswith(HOME_ONLY_PREFIXES):
            assert on_home, f"{r.urn}: not on the home provider"
        else:
            # Events rules and topics: the break-glass and home change alerts are on it, the
            # other regions' change alerts on their own provider; nothing else is.
            assert not on_home or r.type.startswith(("oci:Events/", "oci:Ons/")), (
                f"{r.urn}: on the home provider"
            )
        if on_home:
            assert r.region == prod_settings.tenancy.home_region, r.urn


def test_cross_region_fields_name_only_the_dr_partner(prod: Synth[Estate], prod_settings: Settings) -> None:
    partner = {r.identifier: r.dr_partner for r in prod_settings.regions}
    policies = prod.of_type("oci:ObjectStorage/replicationPolicy:ReplicationPolicy")
    assert len(policies) == 16
    for p in policies:
        assert p.inputs["destinationRegionName"] == partner[p.region], f"{p.urn}: not the DR partner"
    replicas = prod.of_type("oci:Kms/vaultVerification:VaultVerification")
    assert len(replicas) == 4
    for v in replicas:
        assert v.inputs["replicaRegion"] == partner[v.region], f"{v.urn}: vault replica outside the DR pair"


def _ocids(value: Any) -> Iterator[str]:
    if isinstance(value, str) and value.startswith("ocid1."):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _ocids(v)
    elif isinstance(value, list):
        for v in value:
            yield from _ocids(v)


def test_referenced_ocids_are_in_the_resources_own_region(
    prod: Synth[Estate], prod_settings: Settings
) -> None:
    """A bucket's key, a rule's private IP, a log's subnet: never another region's object."""
    cat = prod_settings.catalogue
    checked = 0
    for r in custom(prod):
        for ocid in _ocids(r.inputs):
            segment, region = cat.region_of_ocid(ocid)
            if segment is None:
                continue  # global OCIDs (tenancy, compartments, groups) carry no region
            if r.type == "oci:Identity/networkSource:NetworkSource":
                # A network source is a tenancy-wide IAM object: it names the VCN of every US region.
                assert region is not None and cat.decide(region.identifier).allowed, f"{r.urn}: {ocid}"
                continue
            assert region is not None and region.identifier == r.region, f"{r.urn}: references {ocid}"
            checked += 1
    assert checked > 300, f"only {checked} regional references checked"


# --------------------------------------------------------------------------- propagation (issue 13 item 3)
# OCI propagates new compartments and policies asynchronously: a resource created in a new
# compartment in another region at once fails with "not found in Compartment Tree", a service
# whose grant has not arrived with 404 NotAuthorizedOrNotFound. Oracle's Core Landing Zone waits
# 70 s between creation and first use (time_sleep wait_on_compartments / wait_on_services_policy,
# sec_vault.tf; README troubleshooting item 11). components/propagation.py.

# What depends on a new grant rather than (only) on a new compartment.
NEEDS_A_GRANT = (
    "oci:ObjectStorage/bucket:Bucket",  # `use keys` to the region's Object Storage service
    "oci:ObjectStorage/replicationPolicy:ReplicationPolicy",  # the replication grant
    "oci:CloudGuard/cloudGuardConfiguration:CloudGuardConfiguration",  # Cloud Guard's policy
)


def _closure(s: Synth[Any], urn: str) -> set[str]:
    by_urn = {r.urn: r for r in s.resources}
    seen: set[str] = set()
    todo = [urn]
    while todo:
        for dep in by_urn[todo.pop()].dependencies:
            if dep not in seen and dep in by_urn:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_the_wait_follows_every_new_compartment_and_policy(
    prod: Synth[Estate], prod_settings: Settings
) -> None:
    (wait,) = [r for r in prod.resources if r.type == "time:index/sleep:Sleep"]
    assert wait.inputs["createDuration"] == f"{prod_settings.tenancy.propagation_wait_seconds}s"
    assert wait.inputs["createDuration"] == "70s"  # the default: Core Landing Zone's
    news = prod.of_type("oci:Identity/compartment:Compartment") + prod.of_type("oci:Identity/policy:Policy")
    assert len(news) == 8
    for r in news:
        assert r.urn in wait.dependencies, f"{wait.urn} does not wait for {r.urn}"
    assert wait.provider and "pulumi:providers:time" in wait.provider, wait.urn


def test_every_first_use_of_a_new_compartment_or_grant_waits(prod: Synth[Estate]) -> None:
    wait = prod.named("iam-propagation-sleep")
    compartments = {c.id for c in prod.of_type("oci:Identity/compartment:Compartment")}
    checked = 0
    for r in custom(prod):
        if r.type.startswith(("oci:Identity/", "oci:Limits/")):
            continue  # IAM itself, written in the home region: what the wait waits for
        if compartments & set(_ocids(r.inputs)):
            assert wait.urn in r.dependencies, f"{r.urn} uses a new compartment before it propagated"
            checked += 1
        if r.type in NEEDS_A_GRANT:
            assert wait.urn in r.dependencies, f"{r.urn} uses a new grant before it propagated"
    assert checked > 140, f"only {checked} resources name a new compartment"
    for kind in NEEDS_A_GRANT:
        assert prod.of_type(kind), kind


def test_every_regional_resource_comes_after_the_wait(prod: Synth[Estate]) -> None:
    """Also the ones that name no compartment (logs, rules, attachments): through what they use."""
    wait = prod.named("iam-propagation-sleep")
    home = next(p for p in prod.of_type("pulumi:providers:oci") if p.name == "oci-home")
    regional = [r for r in custom(prod) if r.provider != f"{home.urn}::{home.id}"]
    assert len(regional) > 300
    for r in regional:
        assert wait.urn in _closure(prod, r.urn), f"{r.urn} can be created before the wait"


# --------------------------------------------------------------------------- protection and tags


def test_data_bearing_resources_are_protected_in_prod(prod: Synth[Estate]) -> None:
    for kind in DATA_BEARING:
        found = prod.of_type(kind)
        assert found, kind
        for r in found:
            assert r.protect, f"{r.urn} holds or guards US data and must be protected in prod"


def test_staging_opts_out_of_protection(staging: Synth[Estate]) -> None:
    for kind in DATA_BEARING:
        for r in staging.of_type(kind):
            assert not r.protect, f"{r.urn}: staging sets protectData: false"


def test_required_tags_everywhere_and_data_class_where_it_applies(
    prod: Synth[Estate], prod_settings: Settings
) -> None:
    required = prod_settings.tags()
    classes = {dc.name for dc in prod_settings.data_classes}
    for r in custom(prod):
        if "freeformTags" not in r.inputs:
            assert r.type not in DATA_BEARING, f"{r.urn}: untagged"
            continue
        tags = r.tags()
        assert required.items() <= tags.items(), f"{r.urn}: tags {tags} lack {required}"
        if r.type in ("oci:ObjectStorage/bucket:Bucket", "oci:Kms/key:Key"):
            assert tags.get("data-class") in classes, f"{r.urn}: data-class tag {tags.get('data-class')!r}"
    tagged = {r.type for r in custom(prod) if "freeformTags" in r.inputs}
    assert set(DATA_BEARING) <= tagged


# --------------------------------------------------------------------------- storage, replication, firewall


def test_each_bucket_uses_its_regions_key_for_its_class(prod: Synth[Estate]) -> None:
    keys = {(k.region, k.tags()["data-class"]): k.id for k in prod.of_type("oci:Kms/key:Key")}
    for b in prod.of_type("oci:ObjectStorage/bucket:Bucket"):
        assert b.inputs["kmsKeyId"] == keys[(b.region, b.tags()["data-class"])], b.urn
        assert b.inputs["accessType"] == "NoPublicAccess", b.urn
        assert b.inputs["versioning"] == "Enabled", b.urn
        assert "retentionRules" not in b.inputs, b.urn


def test_replication_waits_for_the_partners_bucket_and_the_service_grant(prod: Synth[Estate]) -> None:
    buckets = {(b.region, b.inputs["name"]): b for b in prod.of_type("oci:ObjectStorage/bucket:Bucket")}
    grant = prod.named("access-team-policy-objectstorage")
    wait = prod.named("iam-propagation-sleep")  # the grant, propagated (issue 13 item 3)
    assert grant.urn in wait.dependencies
    for p in prod.of_type("oci:ObjectStorage/replicationPolicy:ReplicationPolicy"):
        source = buckets[(p.region, p.inputs["bucket"])]
        destination = buckets[(p.inputs["destinationRegionName"], p.inputs["destinationBucketName"])]
        assert destination.tags().get("replica-of") == p.region, destination.urn
        assert destination.tags()["data-class"] == source.tags()["data-class"], destination.urn
        assert destination.urn in p.dependencies, f"{p.urn}: destination bucket not created first"
        assert wait.urn in p.dependencies, f"{p.urn}: does not wait for the service grant to propagate"
    for region in ("us-ashburn-1", "us-phoenix-1", "us-chicago-1", "us-sanjose-1"):
        assert (
            f"Allow service objectstorage-{region} to manage object-family in compartment us-data"
            in (grant.inputs["statements"])
        )


def test_firewall_inspects_with_the_settings_ids_mode(
    prod: Synth[Estate], staging: Synth[Estate], prod_settings: Settings, staging_settings: Settings
) -> None:
    for s, settings in ((prod, prod_settings), (staging, staging_settings)):
        rules = s.of_type(
            "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule"
        )
        inspect = [r for r in rules if r.inputs["action"] == "INSPECT"]
        assert inspect
        for r in inspect:
            assert r.inputs["inspection"] == settings.firewall.ids_mode, r.urn


def test_ipsec_links_follow_the_settings(prod: Synth[Estate], prod_settings: Settings) -> None:
    for region in prod_settings.regions:
        sites = prod_settings.sites_linked_to(region.identifier)
        tunnels = [r for r in prod.of_type("oci:Core/ipsec:Ipsec") if r.region == region.identifier]
        assert sorted(t.inputs["staticRoutes"][0] for t in tunnels) == sorted(str(s.cidr) for s in sites)


# --------------------------------------------------------------------------- exports


def test_exports_give_the_attestation_what_it_needs(prod: Synth[Estate], prod_settings: Settings) -> None:
    ex = prod.resolve(estate_exports(prod.value))
    assert ex["approved_regions"] == [r.identifier for r in prod_settings.approved_regions]
    buckets = {(b.region, b.inputs["name"]) for b in prod.of_type("oci:ObjectStorage/bucket:Bucket")}
    keys = {k.id: k for k in prod.of_type("oci:Kms/key:Key")}
    assert set(ex["regions"]) == {r.identifier for r in prod_settings.regions}
    for region, info in ex["regions"].items():
        for name in (*info["buckets"].values(), *info["replica_buckets"].values()):
            assert (region, name) in buckets, f"export names bucket {name} that {region} does not have"
        assert len(info["buckets"]) == 4 and len(info["replica_buckets"]) == 4, region
        for data_class, key_id in info["key_ids"].items():
            assert keys[key_id].region == region and keys[key_id].tags()["data-class"] == data_class
        assert info["vault_replica_region"] == info["dr_partner"], region
        # What a workload stack needs to attach the NSGs to what they protect.
        nsgs = {n.id: n for n in prod.of_type("oci:Core/networkSecurityGroup:NetworkSecurityGroup")}
        assert set(info["nsg_ids"]) == {"data", "app"}, region
        for role, nsg_id in info["nsg_ids"].items():
            assert nsgs[nsg_id].region == region and nsgs[nsg_id].inputs["displayName"].endswith(
                f"-nsg-{role}"
            )
        subnets = {n.id: n for n in prod.of_type("oci:Core/subnet:Subnet")}
        assert {subnets[i].region for i in info["subnet_ids"].values()} == {region}
    edges = ex["replication_edges"]
    assert len(edges) == 16
    for e in edges:
        assert (e["source_region"], e["source_bucket"]) in buckets, e
        assert (e["destination_region"], e["destination_bucket"]) in buckets, e
        assert prod_settings.region(e["source_region"]).dr_partner == e["destination_region"], e
    assert ex["legacy_sites"] == sorted(s.name for s in prod_settings.legacy_sites)


# --------------------------------------------------------------------------- staging, root, offline


def test_staging_is_the_smaller_estate(staging: Synth[Estate]) -> None:
    inv = inventory(staging)
    assert set(inv) == {"oci-home", "oci-us-chicago-1", "oci-us-sanjose-1"}
    assert "oci:CloudGuard/securityZone:SecurityZone" not in inv["oci-home"]  # securityZone: false
    for region in ("oci-us-chicago-1", "oci-us-sanjose-1"):
        assert "oci:Kms/vaultVerification:VaultVerification" not in inv[region]  # replicateVaults: false
        assert inv[region]["oci:ObjectStorage/bucket:Bucket"] == 2
    # VIRTUAL_PRIVATE on purpose (issue 13 item 2): OCI rotates keys automatically only there.
    assert {v.inputs["vaultType"] for v in staging.of_type("oci:Kms/vault:Vault")} == {"VIRTUAL_PRIVATE"}


def _pulumi_config(stack_file: Path, **override: Any) -> str:
    """PULUMI_CONFIG as the language host sets it: structured values as JSON text."""
    config = {**stack_config_from_file(stack_file), **override}
    return json.dumps({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})


def test_the_composition_root_builds_and_exports_the_estate(monkeypatch: pytest.MonkeyPatch) -> None:
    exported: dict[str, Any] = {}
    monkeypatch.setenv("PULUMI_CONFIG", _pulumi_config(ROOT / "Pulumi.prod.yaml"))
    monkeypatch.setattr(pulumi, "export", lambda k, v: exported.__setitem__(k, v))
    s = synth(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"), stack="prod")
    assert inventory(s) == {p: dict(sorted(c.items())) for p, c in PROD_INVENTORY.items()}
    assert set(exported) == {
        "stack",
        "home_region",
        "approved_regions",
        "regions",
        "replication_edges",
        "compartment_ids",
        "legacy_sites",
    }


def test_the_composition_root_reports_bad_settings_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    regions = stack_config_from_file(ROOT / "Pulumi.prod.yaml")["us-data-residency:regions"]
    bad = {**regions, "us-ashburn-2": regions["us-chicago-1"]}
    monkeypatch.setenv(
        "PULUMI_CONFIG", _pulumi_config(ROOT / "Pulumi.prod.yaml", **{"us-data-residency:regions": bad})
    )
    with pytest.raises(pulumi.RunError) as err:
        synth(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"), stack="prod")
    assert (
        "Pulumi.prod.yaml: us-data-residency:regions.us-ashburn-2: region us-ashburn-2 is forbidden"
        in str(err.value)
    )


def test_offline_synthesis_without_lookup_answers_builds_the_same_estate(
    prod: Synth[Estate], prod_settings: Settings
) -> None:
    """What preflight sees: data sources unanswered, values unknown, the same resources."""
    offline = synth(lambda: build_estate(prod_settings), stack="prod", answer_lookups=False)
    assert inventory(offline) == inventory(prod)


def test_tag_defaults_propagate_before_the_first_resource_is_created(prod: Any) -> None:
    """A tag default applies to what is created after it (OCI Tagging, "Tag Defaults"): the
    estate's one propagation wait comes after every CreatedBy default (CIS OCI 4.1)."""
    (wait,) = [r for r in prod.resources if r.type == "time:index/sleep:Sleep"]
    defaults = [r.urn for r in prod.resources if r.type == "oci:Identity/tagDefault:TagDefault"]
    assert len(defaults) == 3
    assert set(defaults) <= set(wait.dependencies), "the wait must follow every tag default"


def test_replica_buckets_use_their_own_regions_key_not_the_vault_replica(prod: Synth[Estate]) -> None:
    """Issue 13 item 8: a replica bucket is encrypted with a key of the vault in its own region,
    never with a key of the partner's vault (whose replica also lives there). Why not the vault
    replica: deleting a vault deletes its replica and the replica's keys too (OCI Vault,
    "Deleting a Vault": "If replication is configured, deleting a vault in the source region also
    deletes the vault and any keys in the vault in the destination region"), so a DR copy keyed
    from it would be lost with the vault it is meant to outlive."""
    key_region = {k.id: k.region for k in prod.of_type("oci:Kms/key:Key")}
    replicas = [b for b in prod.of_type("oci:ObjectStorage/bucket:Bucket") if b.tags().get("replica-of")]
    assert len(replicas) == 16
    for bucket in replicas:
        key = bucket.inputs["kmsKeyId"]
        assert key in key_region, f"{bucket.urn}: its key is not one of the estate's keys"
        assert key_region[key] == bucket.region, f"{bucket.urn}: keyed from {key_region[key]}"
        assert key_region[key] != bucket.tags()["replica-of"], bucket.urn
