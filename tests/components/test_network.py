"""components/network.py: private VCN, gateways, DRG + IPSec per linked site, NSGs, flow logs."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

import pytest

from components.legacy_links import LegacyLink
from components.network import NetworkArgs, RegionNetwork
from tests.components.conftest import COMPARTMENT, LOG_GROUP, TAGS
from tests.components.harness import Synth, check_anatomy, synth_component

TYPE = "usdr:network:RegionNetwork"
SERVICES_LABEL = "all-iad-services-in-oracle-services-network"


def args(links: tuple[LegacyLink, ...] = ()) -> NetworkArgs:
    return NetworkArgs(
        compartment_id=COMPARTMENT,
        display_prefix="usdr-test-iad",
        dns_label="usdriad",
        vcn_cidr=IPv4Network("10.10.0.0/16"),
        data_cidr=IPv4Network("10.10.0.0/24"),
        app_cidr=IPv4Network("10.10.1.0/24"),
        firewall_cidr=IPv4Network("10.10.2.0/24"),
        log_group_id=LOG_GROUP,
        tags=TAGS,
        legacy_links=links,
    )


def build(links: tuple[LegacyLink, ...] = ()) -> Synth[RegionNetwork]:
    a = args(links)
    return synth_component(lambda opts: RegionNetwork("iad-network", a, opts))


def test_anatomy_and_inventory_with_two_linked_sites(links: tuple[LegacyLink, ...]) -> None:
    s = build(links)
    _, children = check_anatomy(s, TYPE, "iad-network")
    assert s.counts(children) == {
        "oci:Core/cpe:Cpe": 2,
        "oci:Core/defaultSecurityList:DefaultSecurityList": 1,
        "oci:Core/drg:Drg": 1,
        "oci:Core/ipsec:Ipsec": 2,
        "oci:Core/networkSecurityGroup:NetworkSecurityGroup": 2,
        # data: in-app, out-services and one egress per store address (3); app: 3. No rule names
        # a site but its store, and none is an ingress from a site (issue 13 item 6).
        "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule": 8,
        "oci:Core/securityList:SecurityList": 3,
        "oci:Core/serviceGateway:ServiceGateway": 1,
        "oci:Core/subnet:Subnet": 3,
        "oci:Core/vcn:Vcn": 1,
        "oci:Logging/log:Log": 3,
    }


def test_inventory_without_sites_has_a_drg_but_no_tunnels() -> None:
    s = build()
    counts = s.counts()
    assert counts["oci:Core/drg:Drg"] == 1
    assert "oci:Core/ipsec:Ipsec" not in counts and "oci:Core/cpe:Cpe" not in counts
    assert counts["oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"] == 5


def test_nothing_is_reachable_from_the_internet(links: tuple[LegacyLink, ...]) -> None:
    s = build(links)
    assert not [r for r in s.resources if r.type == "oci:Core/internetGateway:InternetGateway"]
    for subnet in s.of_type("oci:Core/subnet:Subnet"):
        assert subnet.inputs["prohibitPublicIpOnVnic"] is True, subnet.urn
        assert subnet.inputs["prohibitInternetIngress"] is True, subnet.urn
    for sl in s.of_type("oci:Core/securityList:SecurityList"):
        for rule in sl.inputs.get("ingressSecurityRules", []):
            assert rule["source"] != "0.0.0.0/0", f"{sl.urn}: ingress from anywhere"
            assert rule["stateless"] is False, sl.urn
    for rule in s.of_type("oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"):
        assert rule.inputs.get("source") != "0.0.0.0/0", f"{rule.urn}: ingress from anywhere"


def test_only_apps_and_the_firewall_may_egress_to_the_internet_and_only_https(
    links: tuple[LegacyLink, ...],
) -> None:
    """The data subnet never reaches the internet; the app subnet's HTTPS egress goes to the
    firewall (route tables, components/routing.py), which forwards it, inspected, to the NAT
    gateway: so the firewall subnet may egress to 0.0.0.0/0 on the same port, nothing else."""
    s = build(links)
    data = s.named("iad-network-sl-data")
    assert all(r["destination"] != "0.0.0.0/0" for r in data.inputs["egressSecurityRules"]), data.urn
    for role, description in (
        ("app", "HTTPS egress, through the firewall to the NAT gateway"),
        ("firewall", "inspected app HTTPS egress to the NAT gateway"),
    ):
        sl = s.named(f"iad-network-sl-{role}")
        internet = [r for r in sl.inputs["egressSecurityRules"] if r["destination"] == "0.0.0.0/0"]
        assert internet == [
            {
                "protocol": "6",
                "destination": "0.0.0.0/0",
                "destinationType": "CIDR_BLOCK",
                "description": description,
                "stateless": False,
                "tcpOptions": {"min": 443, "max": 443},
            }
        ], sl.urn
    # The NAT gateway is the routing component's (it needs its own route table).
    assert not s.of_type("oci:Core/natGateway:NatGateway")


def test_data_subnet_rules(links: tuple[LegacyLink, ...]) -> None:
    s = build(links)
    data = s.named("iad-network-sl-data")
    sources = {r["source"] for r in data.inputs["ingressSecurityRules"]}
    # No legacy site, whatever its mode, opens anything into the data subnet.
    assert sources == {"10.10.1.0/24"}, data.urn
    assert all(r["tcpOptions"] == {"min": 443, "max": 443} for r in data.inputs["ingressSecurityRules"]), (
        data.urn
    )
    services = [r for r in data.inputs["egressSecurityRules"] if r["destinationType"] == "SERVICE_CIDR_BLOCK"]
    assert [r["destination"] for r in services] == [SERVICES_LABEL], data.urn


def test_nsgs_are_deny_by_default_with_listed_rules(links: tuple[LegacyLink, ...]) -> None:
    s = build(links)
    names = {
        r.name
        for r in s.of_type("oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule")
    }
    assert names == {
        "iad-network-nsg-data-in-app",
        "iad-network-nsg-data-out-services",
        "iad-network-nsg-data-out-legacy-us-east-store-0",
        "iad-network-nsg-data-out-legacy-us-east-store-1",
        "iad-network-nsg-data-out-legacy-sg-store-0",
        "iad-network-nsg-app-out-data",
        "iad-network-nsg-app-out-services",
        "iad-network-nsg-app-out-internet",
    }
    rule = s.named("iad-network-nsg-data-out-legacy-us-east-store-1")
    assert rule.inputs["direction"] == "EGRESS", rule.urn
    assert rule.inputs["destination"] == "172.16.10.11/32", rule.urn
    assert rule.inputs["tcpOptions"] == {"destinationPortRange": {"min": 443, "max": 443}}, rule.urn
    assert rule.inputs["networkSecurityGroupId"] == s.named("iad-network-nsg-data").id, rule.urn


def test_service_gateway_uses_the_regions_all_services_object(links: tuple[LegacyLink, ...]) -> None:
    s = build(links)
    sgw = s.named("iad-network-sgw")
    assert sgw.inputs["services"] == [{"serviceId": "ocid1.service.oc1.iad.all"}], sgw.urn
    (lookup,) = s.invokes
    assert lookup.token == "oci:Core/getServices:getServices"


def test_one_ipsec_tunnel_per_linked_site_carrying_only_its_cidr(links: tuple[LegacyLink, ...]) -> None:
    s = build(links)
    for link in links:
        cpe = s.named(f"iad-network-cpe-{link.site}")
        assert cpe.inputs["ipAddress"] == link.cpe_ip, cpe.urn
        ipsec = s.named(f"iad-network-ipsec-{link.site}")
        assert ipsec.inputs["staticRoutes"] == [str(link.cidr)], ipsec.urn
        assert ipsec.inputs["cpeId"] == cpe.id, ipsec.urn
        assert ipsec.inputs["drgId"] == s.named("iad-network-drg").id, ipsec.urn


def test_flow_logs_on_every_subnet_into_the_log_group(links: tuple[LegacyLink, ...]) -> None:
    s = build(links)
    for role in ("data", "app", "firewall"):
        log = s.named(f"iad-network-flow-log-{role}")
        source = log.inputs["configuration"]["source"]
        assert source["service"] == "flowlogs" and source["category"] == "all", log.urn
        assert source["resource"] == s.named(f"iad-network-subnet-{role}").id, log.urn
        assert log.inputs["logGroupId"] == LOG_GROUP, log.urn


def test_names_and_tags(links: tuple[LegacyLink, ...]) -> None:
    s = build(links)
    for r in s.resources:
        if r.custom and "displayName" in r.inputs:
            assert r.inputs["displayName"].startswith("usdr-test-iad-"), r.urn
        if r.custom and r.type != "pulumi:providers:oci" and "Rule" not in r.type:
            # A tunnel also says which site it reaches (the residency map reads it).
            site = (
                {"legacy-site": r.name.removeprefix("iad-network-ipsec-")}
                if r.type == "oci:Core/ipsec:Ipsec"
                else {}
            )
            assert r.tags() == {**TAGS, **site}, f"{r.urn}: tags {r.tags()}"


def test_a_region_without_the_all_services_object_fails_loudly() -> None:
    import pulumi_oci as oci

    from components.network import _oracle_services

    answer = oci.core.GetServicesResult(filters=None, id="x", services=[])
    with pytest.raises(LookupError, match="All <region> Services"):
        _oracle_services(answer)


def test_offline_lookups_leave_the_service_unknown_instead_of_failing() -> None:
    s = synth_component(lambda opts: RegionNetwork("iad-network", args(), opts), answer_lookups=False)
    assert s.named("iad-network-sgw").inputs["services"] == [{}]  # unknown: dropped on the wire


@pytest.mark.parametrize("mode", ["frozen", "replica"])
def test_a_legacy_site_can_be_called_at_its_store_and_can_call_nothing_in(
    links: tuple[LegacyLink, ...], mode: str
) -> None:
    """Issue 13 item 6: a site is restore-only. US hosts may reach its store's addresses on the
    store's port; no rule names any other host of the site, and no ingress rule anywhere admits a
    connection opened at the site (OCI security lists and NSGs are stateful, so replies need
    none: "Stateful rules ... response traffic is automatically allowed", OCI docs, Security
    Rules). A replica site's replication writes are the same flow (US host -> store), so it
    gets nothing more (components/legacy_links.py)."""
    link = next(lk for lk in links if lk.replica == (mode == "replica"))
    s = build(links)
    rules: list[tuple[str, str, str, dict[str, Any]]] = []
    for sl in s.of_type("oci:Core/securityList:SecurityList"):
        rules += [(sl.urn, "INGRESS", r["source"], r) for r in sl.inputs.get("ingressSecurityRules", [])]
        rules += [(sl.urn, "EGRESS", r["destination"], r) for r in sl.inputs.get("egressSecurityRules", [])]
    for rule in s.of_type("oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"):
        peer = rule.inputs.get("source") or rule.inputs.get("destination")
        rules.append((rule.urn, rule.inputs["direction"], peer, rule.inputs))
    reached = set()
    for urn, direction, peer, rule in rules:
        if peer == "0.0.0.0/0" or not peer[0].isdigit():
            continue  # the internet (app egress, through the firewall) or a service label
        net = IPv4Network(peer)
        if not net.overlaps(link.cidr):
            continue
        assert direction == "EGRESS", f"{urn} admits connections opened at {link.site}"
        assert net.prefixlen == 32 and net.network_address in link.store_addresses, (
            f"{urn} reaches {peer}, not only {link.site}'s store"
        )
        tcp = rule["tcpOptions"]
        assert rule["protocol"] == "6", (urn, rule)
        assert tcp.get("destinationPortRange", tcp) == {"min": link.store_port, "max": link.store_port}, (
            urn,
            rule,
        )
        reached.add(net.network_address)
    assert reached == set(link.store_addresses), (
        f"US hosts must still reach every address of {link.site}'s store"
    )


def test_the_default_security_list_admits_only_icmp_from_the_vcn_and_no_egress() -> None:
    """CIS OCI 2.5: "Ensure the default security list of every VCN restricts all traffic except
    ICMP within VCN". OCI creates it allowing TCP 22 from 0.0.0.0/0 and all egress (OCI
    Networking, "Default Security List"); a subnet created without lists would get it. The
    component takes it over (DefaultSecurityList managing the VCN's defaultSecurityListId)."""
    s = build()
    (default,) = s.of_type("oci:Core/defaultSecurityList:DefaultSecurityList")
    (vcn,) = s.of_type("oci:Core/vcn:Vcn")
    assert vcn.urn in default.dependencies
    assert default.inputs["manageDefaultResourceId"] == "ocid1.securitylist.oc1.iad.iadnetworkvcndefault"
    assert default.inputs["egressSecurityRules"] == []
    (rule,) = default.inputs["ingressSecurityRules"]
    assert rule["protocol"] == "1" and rule["source"] == "10.10.0.0/16"
    assert rule["icmpOptions"] == {"type": 3, "code": 4}
    assert "tcpOptions" not in rule and "udpOptions" not in rule
