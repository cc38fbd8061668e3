"""components/routing.py: data and legacy flows steered through the firewall, both directions."""

from __future__ import annotations

from ipaddress import IPv4Network

from components.legacy_links import LegacyLink
from components.routing import FirewallRouting, RoutingArgs, route_plan
from tests.components.conftest import COMPARTMENT, LINKS, TAGS
from tests.components.harness import Synth, check_anatomy, synth_component

TYPE = "usdr:network:FirewallRouting"
FW_IP = "ocid1.privateip.oc1.iad.firewall"
SGW, DRG = "ocid1.servicegateway.oc1.iad.s", "ocid1.drg.oc1.iad.d"
LABEL = "all-iad-services-in-oracle-services-network"


US_EAST = LINKS[0]


def args(legacy: tuple[LegacyLink, ...] | None = None) -> RoutingArgs:
    return RoutingArgs(
        compartment_id=COMPARTMENT,
        display_prefix="usdr-test-iad",
        vcn_id="ocid1.vcn.oc1.iad.v",
        subnet_ids={role: f"ocid1.subnet.oc1.iad.{role}" for role in ("data", "app", "firewall")},
        data_cidr=IPv4Network("10.10.0.0/24"),
        app_cidr=IPv4Network("10.10.1.0/24"),
        legacy_links=(US_EAST,) if legacy is None else legacy,
        firewall_private_ip_id=FW_IP,
        service_gateway_id=SGW,
        service_cidr_label=LABEL,
        drg_id=DRG,
        tags=TAGS,
    )


def build() -> Synth[FirewallRouting]:
    a = args()
    return synth_component(lambda opts: FirewallRouting("iad-routing", a, opts))


def test_plan_steers_data_and_legacy_flows_through_the_firewall() -> None:
    plan = {t: {(r.destination, r.target) for r in routes} for t, routes in route_plan(args()).items()}
    assert plan == {
        "data": {
            ("10.10.1.0/24", "firewall"),
            ("172.16.10.10/32", "firewall"),
            ("172.16.10.11/32", "firewall"),
            ("services", "service_gateway"),
        },
        "app": {
            ("10.10.0.0/24", "firewall"),
            ("services", "service_gateway"),
            ("0.0.0.0/0", "firewall"),
        },
        "firewall": {
            ("172.16.10.10/32", "drg"),
            ("172.16.10.11/32", "drg"),
            ("services", "service_gateway"),
            ("0.0.0.0/0", "nat_gateway"),
        },
        "drg-ingress": {("10.10.0.0/24", "firewall"), ("10.10.1.0/24", "firewall")},
        "nat-return": {("10.10.1.0/24", "firewall")},
    }


def test_only_a_sites_store_is_routed_and_only_from_the_data_subnet() -> None:
    """Issue 13 item 6: no table routes a legacy site's whole CIDR, so its other hosts have no
    route from the VCN (the IPSec tunnel still carries the CIDR: components/network.py), and
    the apps have no route of their own to a site: their default route ends at the firewall,
    which rejects it (components/firewall.py)."""
    site = US_EAST.cidr
    for table, routes in route_plan(args()).items():
        for r in routes:
            if r.destination in ("services", "0.0.0.0/0"):
                continue
            net = IPv4Network(r.destination)
            if net.overlaps(site):
                assert net.prefixlen == 32 and net.network_address in US_EAST.store_addresses, (table, r)
                assert table in ("data", "firewall"), (table, r)


def test_internet_egress_goes_through_the_firewall_both_ways() -> None:
    """Issue 13 item 7: the apps' default route is the firewall; only the firewall's subnet sends
    to the NAT gateway (after inspection); the NAT gateway's own table sends replies for the
    apps back through the firewall, so it sees both directions of each connection."""
    plan = route_plan(args())
    for table, routes in plan.items():
        defaults = [r.target for r in routes if r.destination == "0.0.0.0/0"]
        expected = {"app": ["firewall"], "firewall": ["nat_gateway"]}.get(table, [])
        assert defaults == expected, table
    assert [r.target for r in plan["nat-return"]] == ["firewall"]
    # Only the firewall subnet's table targets the NAT gateway at all.
    assert {t for t, routes in plan.items() if any(r.target == "nat_gateway" for r in routes)} == {"firewall"}


def test_the_nat_gateway_has_its_own_table_that_targets_a_private_ip_only() -> None:
    """OCI: a route table associated with a NAT gateway may only have rules that target a
    private IP (OCI Networking, "Route Table for a NAT Gateway"); without one the NAT gateway
    has none (pulumi-oci NatGateway `route_table_id`: "the NAT gateway is created without an
    associated route table"), and replies would skip the firewall."""
    s = build()
    nat = s.named("iad-routing-nat")
    table = s.named("iad-routing-rt-nat-return")
    assert nat.inputs["routeTableId"] == table.id
    assert nat.inputs["blockTraffic"] is False
    assert [r["networkEntityId"] for r in table.inputs["routeRules"]] == [FW_IP]
    assert {r["destinationType"] for r in table.inputs["routeRules"]} == {"CIDR_BLOCK"}
    # No subnet uses the NAT gateway's table.
    attached = {
        a.inputs["routeTableId"] for a in s.of_type("oci:Core/routeTableAttachment:RouteTableAttachment")
    }
    assert table.id not in attached
    firewall = s.named("iad-routing-rt-firewall")
    default = next(r for r in firewall.inputs["routeRules"] if r["destination"] == "0.0.0.0/0")
    assert default["networkEntityId"] == nat.id


def test_anatomy_and_inventory() -> None:
    s = build()
    _, children = check_anatomy(s, TYPE, "iad-routing")
    assert s.counts(children) == {
        "oci:Core/drgAttachment:DrgAttachment": 1,
        "oci:Core/natGateway:NatGateway": 1,
        "oci:Core/routeTable:RouteTable": 5,
        "oci:Core/routeTableAttachment:RouteTableAttachment": 3,
    }


def test_route_rules_target_the_firewall_private_ip() -> None:
    s = build()
    data = s.named("iad-routing-rt-data")
    rules = {r["destination"]: r for r in data.inputs["routeRules"]}
    assert rules["10.10.1.0/24"]["networkEntityId"] == FW_IP, data.urn
    assert rules["172.16.10.10/32"]["networkEntityId"] == FW_IP, data.urn
    assert rules["172.16.10.11/32"]["networkEntityId"] == FW_IP, data.urn
    assert rules[LABEL] == {
        "destination": LABEL,
        "destinationType": "SERVICE_CIDR_BLOCK",
        "networkEntityId": SGW,
        "description": "Oracle services, privately",
    }, data.urn
    fw = s.named("iad-routing-rt-firewall")
    to_store = [r for r in fw.inputs["routeRules"] if r["destination"].startswith("172.16.")]
    assert [(r["destination"], r["networkEntityId"]) for r in to_store] == [
        ("172.16.10.10/32", DRG),
        ("172.16.10.11/32", DRG),
    ]


def test_each_subnet_gets_its_table_and_the_drg_attachment_routes_ingress_to_the_firewall() -> None:
    s = build()
    for role in ("data", "app", "firewall"):
        rta = s.named(f"iad-routing-rta-{role}")
        assert rta.inputs == {
            "subnetId": f"ocid1.subnet.oc1.iad.{role}",
            "routeTableId": s.named(f"iad-routing-rt-{role}").id,
        }, rta.urn
    att = s.named("iad-routing-drg-attachment")
    assert att.inputs["drgId"] == DRG, att.urn
    assert att.inputs["networkDetails"] == {
        "type": "VCN",
        "id": "ocid1.vcn.oc1.iad.v",
        "routeTableId": s.named("iad-routing-rt-drg-ingress").id,
    }, att.urn
