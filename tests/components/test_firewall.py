"""components/firewall.py: IDS/IPS policy by content hash, create-before-switch, logs."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address, IPv4Network

import pytest

from components.firewall import FirewallArgs, RegionFirewall, policy_spec
from tests.components.conftest import COMPARTMENT, LINKS, LOG_GROUP, TAGS
from tests.components.harness import Synth, check_anatomy, synth_component

TYPE = "usdr:firewall:RegionFirewall"
SUBNET = "ocid1.subnet.oc1.iad.firewallsubnet"
# The conftest's sites, the frozen one's store on another port: rules name each store's port.
LEGACY = (LINKS[0], dataclasses.replace(LINKS[1], store_port=8443))


OTHER_STORE = IPv4Address("172.17.10.12")


def args(**overrides: object) -> FirewallArgs:
    base = FirewallArgs(
        compartment_id=COMPARTMENT,
        subnet_id=SUBNET,
        display_prefix="usdr-test-iad",
        log_group_id=LOG_GROUP,
        tags=TAGS,
        vcn_cidr=IPv4Network("10.10.0.0/16"),
        data_cidrs=(IPv4Network("10.10.0.0/24"),),
        legacy_links=LEGACY,
    )
    return dataclasses.replace(base, **overrides)


def build(**overrides: object) -> Synth[RegionFirewall]:
    a = args(**overrides)
    return synth_component(lambda opts: RegionFirewall("iad-firewall", a, opts))


# --------------------------------------------------------------------------- policy content


def test_policy_inspects_data_and_legacy_flows_and_rejects_the_rest() -> None:
    """Issue 13 item 6: a legacy site opens nothing (its sessions are rejected before any rule
    that could admit them) and the data subnet reaches each site's store, on the store's port,
    and no other host of the site; whatever else is meant for a site is rejected before the
    data rules could admit it. OCI evaluates a policy's security rules in order, first match
    wins; the firewall is stateful, so a store's replies belong to the session the data subnet
    opened and meet no rule."""
    spec = policy_spec(args(ids_mode="INTRUSION_DETECTION"))
    assert {al.name: al.addresses for al in spec.address_lists} == {
        "vcn": ("10.10.0.0/16",),
        "data-subnets": ("10.10.0.0/24",),
        "legacy-sites": ("172.16.0.0/16", "172.17.0.0/16"),
        "store-legacy-us-east": ("172.16.10.10/32", "172.16.10.11/32"),
        "store-legacy-sg": ("172.17.10.10/32",),
    }
    assert [(s.name, s.port) for s in spec.services] == [("tcp-443", 443), ("tcp-8443", 8443)]
    assert [(sl.name, sl.services) for sl in spec.service_lists] == [
        ("tcp-443-list", ("tcp-443",)),
        ("tcp-8443-list", ("tcp-8443",)),
    ]
    assert [(r.name, r.action, r.inspection, r.sources, r.destinations, r.services) for r in spec.rules] == [
        ("reject-from-legacy", "REJECT", None, ("legacy-sites",), (), ()),
        (
            "replica-legacy-us-east",
            "INSPECT",
            "INTRUSION_DETECTION",
            ("data-subnets",),
            ("store-legacy-us-east",),
            ("tcp-443-list",),
        ),
        (
            "restore-legacy-sg",
            "INSPECT",
            "INTRUSION_DETECTION",
            ("data-subnets",),
            ("store-legacy-sg",),
            ("tcp-8443-list",),
        ),
        ("reject-to-legacy", "REJECT", None, (), ("legacy-sites",), ()),
        ("inspect-to-data", "INSPECT", "INTRUSION_DETECTION", (), ("data-subnets",), ()),
        ("inspect-from-data", "INSPECT", "INTRUSION_DETECTION", ("data-subnets",), (), ()),
        ("reject-all", "REJECT", None, (), (), ()),
    ]


def test_every_rule_that_admits_a_flow_to_a_site_names_a_store_and_a_port() -> None:
    """The adversarial reading of the policy: evaluate it first-match for flows a careless rule
    would let through (a site's host opening into the data subnet, the data subnet reaching a
    site's non-store host, a store on another port, an app reaching a store)."""
    spec = policy_spec(args(app_cidrs=(IPv4Network("10.10.1.0/24"),)))
    lists = {al.name: [IPv4Network(a) for a in al.addresses] for al in spec.address_lists}
    ports = {f"{s.name}-list": s.port for s in spec.services}

    def verdict(src: str, dst: str, port: int) -> str:
        for rule in spec.rules:
            if rule.sources and not any(IPv4Address(src) in n for name in rule.sources for n in lists[name]):
                continue
            if rule.destinations and not any(
                IPv4Address(dst) in n for name in rule.destinations for n in lists[name]
            ):
                continue
            if rule.services and port not in {ports[name] for name in rule.services}:
                continue
            return f"{rule.action} {rule.name}"
        return "no rule"

    data, app = "10.10.0.5", "10.10.1.5"
    assert verdict(data, "172.16.10.10", 443) == "INSPECT replica-legacy-us-east"
    assert verdict(data, "172.17.10.10", 8443) == "INSPECT restore-legacy-sg"
    assert verdict(data, "172.17.10.10", 443) == "REJECT reject-to-legacy"
    assert verdict(data, "172.17.99.1", 8443) == "REJECT reject-to-legacy"
    assert verdict(data, "172.16.0.9", 22) == "REJECT reject-to-legacy"
    assert verdict(app, "172.16.10.10", 443) == "REJECT reject-to-legacy"
    for site_host in ("172.16.10.10", "172.17.10.10", "172.17.0.9"):
        assert verdict(site_host, data, 443) == "REJECT reject-from-legacy"
        assert verdict(site_host, app, 443) == "REJECT reject-from-legacy"


def test_app_egress_is_inspected_after_every_private_destination_is_decided() -> None:
    """Issue 13 item 7: the route tables send the apps' internet egress through the firewall
    (components/routing.py), so the policy INSPECTs it; app traffic to any private address the
    rules above did not take (data, legacy) is REJECTed first, so "egress" never means another
    private network. OCI evaluates a firewall policy's security rules in order, first match wins
    (the rules' `position`, tests below)."""
    spec = policy_spec(args(app_cidrs=(IPv4Network("10.10.1.0/24"),)))
    lists = {al.name: al.addresses for al in spec.address_lists}
    assert lists["app-subnets"] == ("10.10.1.0/24",)
    assert lists["private-ranges"] == ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
    names = [r.name for r in spec.rules]
    assert names[-3:] == ["reject-app-to-private", "inspect-app-egress", "reject-all"]
    assert names.index("inspect-to-data") < names.index("reject-app-to-private")
    assert names.index("reject-to-legacy") < names.index("reject-app-to-private")
    egress = spec.rules[names.index("inspect-app-egress")]
    assert (egress.action, egress.inspection, egress.sources, egress.destinations) == (
        "INSPECT",
        "INTRUSION_PREVENTION",
        ("app-subnets",),
        (),
    )
    private = spec.rules[names.index("reject-app-to-private")]
    assert (private.action, private.sources, private.destinations) == (
        "REJECT",
        ("app-subnets",),
        ("private-ranges",),
    )
    # Without app subnets (no route sends egress here) there is no egress rule.
    assert "inspect-app-egress" not in [r.name for r in policy_spec(args()).rules]


def test_without_linked_sites_there_are_no_legacy_rules() -> None:
    spec = policy_spec(args(legacy_links=()))
    assert [al.name for al in spec.address_lists] == ["vcn", "data-subnets"]
    assert [r.name for r in spec.rules] == ["inspect-to-data", "inspect-from-data", "reject-all"]
    assert spec.services == () and spec.service_lists == ()


def test_ids_prevention_is_the_default() -> None:
    assert {r.inspection for r in policy_spec(args()).rules if r.action == "INSPECT"} == {
        "INTRUSION_PREVENTION"
    }


@pytest.mark.parametrize(
    "change",
    [
        {"ids_mode": "INTRUSION_DETECTION"},
        {"legacy_links": LEGACY[:1]},
        {"legacy_links": (LEGACY[0], dataclasses.replace(LEGACY[1], store_port=443))},
        {"legacy_links": (LEGACY[0], dataclasses.replace(LEGACY[1], store_addresses=(OTHER_STORE,)))},
        {"data_cidrs": (IPv4Network("10.10.8.0/24"),)},
        {"vcn_cidr": IPv4Network("10.11.0.0/16")},
    ],
)
def test_any_content_change_changes_the_hash(change: dict[str, object]) -> None:
    assert policy_spec(args()).content_hash() != policy_spec(args(**change)).content_hash()


def test_the_hash_depends_on_content_only() -> None:
    same = args(display_prefix="other", compartment_id="ocid1.compartment.oc1..other", tags={})
    assert policy_spec(args()).content_hash() == policy_spec(same).content_hash()
    assert len(policy_spec(args()).content_hash()) == 12


# --------------------------------------------------------------------------- component


def test_anatomy_and_inventory() -> None:
    s = build()
    _, children = check_anatomy(s, TYPE, "iad-firewall")
    assert s.counts(children) == {
        "oci:Logging/log:Log": 2,
        "oci:NetworkFirewall/networkFirewall:NetworkFirewall": 1,
        "oci:NetworkFirewall/networkFirewallPolicy:NetworkFirewallPolicy": 1,
        "oci:NetworkFirewall/networkFirewallPolicyAddressList:NetworkFirewallPolicyAddressList": 5,
        "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule": 7,
        "oci:NetworkFirewall/networkFirewallPolicyService:NetworkFirewallPolicyService": 2,
        "oci:NetworkFirewall/networkFirewallPolicyServiceList:NetworkFirewallPolicyServiceList": 2,
    }


def test_policy_is_named_by_its_hash_and_replaced_create_before_delete() -> None:
    s = build()
    policy = s.named("iad-firewall-policy")
    digest = policy_spec(args()).content_hash()
    assert policy.inputs["displayName"] == f"usdr-test-iad-fw-policy-{digest}", policy.urn
    assert policy.replace_on_changes == ["*"], f"{policy.urn}: an attached policy cannot be edited in place"
    assert policy.delete_before_replace is False, f"{policy.urn}: the new policy must exist before the switch"
    assert s.resolve(s.value.policy.display_name) == f"usdr-test-iad-fw-policy-{digest}"


def test_firewall_switches_only_to_a_complete_policy() -> None:
    s = build()
    fw = s.named("iad-firewall-fw")
    assert fw.inputs["networkFirewallPolicyId"] == s.named("iad-firewall-policy").id, fw.urn
    assert fw.inputs["subnetId"] == SUBNET, fw.urn
    parts = [
        r.urn
        for r in s.resources
        if r.type.startswith(
            (
                "oci:NetworkFirewall/networkFirewallPolicyAddressList:",
                "oci:NetworkFirewall/networkFirewallPolicySecurityRule:",
                "oci:NetworkFirewall/networkFirewallPolicyService:",
                "oci:NetworkFirewall/networkFirewallPolicyServiceList:",
            )
        )
    ]
    assert len(parts) == 16
    missing = set(parts) - set(fw.dependencies)
    assert not missing, f"{fw.urn} does not wait for {sorted(missing)}"


def test_rules_are_ordered_and_wait_for_their_address_lists() -> None:
    s = build()
    previous = None
    for rule in policy_spec(args()).rules:
        r = s.named(f"iad-firewall-policy-rule-{rule.name}")
        assert r.inputs["action"] == rule.action, r.urn
        assert r.inputs.get("inspection") == rule.inspection, r.urn
        if previous is None:
            assert "positions" not in r.inputs, r.urn
        else:
            assert r.inputs["positions"] == [{"afterRule": previous}], r.urn
        for list_name in (*rule.sources, *rule.destinations):
            assert s.named(f"iad-firewall-policy-list-{list_name}").urn in r.dependencies, r.urn
        assert r.inputs["condition"].get("services", []) == list(rule.services), r.urn
        for list_name in rule.services:
            assert s.named(f"iad-firewall-policy-service-list-{list_name}").urn in r.dependencies, r.urn
        previous = rule.name


def test_store_ports_are_tcp_services_that_exist_before_their_lists() -> None:
    """pulumi-oci NetworkFirewallPolicyServiceList: "The services referenced in the service list
    must already be present in the policy before being used in the service list"; a service's
    type is TCP_SERVICE or UDP_SERVICE (OCI Network Firewall API, CreateTcpServiceDetails), and
    a single-port range gives only its minimum port."""
    s = build()
    for port in (443, 8443):
        service = s.named(f"iad-firewall-policy-service-tcp-{port}")
        assert service.inputs["type"] == "TCP_SERVICE", service.urn
        assert service.inputs["portRanges"] == [{"minimumPort": port}], service.urn
        listed = s.named(f"iad-firewall-policy-service-list-tcp-{port}-list")
        assert listed.inputs["services"] == [f"tcp-{port}"], listed.urn
        assert service.urn in listed.dependencies, f"{listed.urn} must wait for {service.urn}"


def test_threat_and_traffic_logs_go_to_the_log_group() -> None:
    s = build()
    fw = s.named("iad-firewall-fw")
    for category in ("threatlog", "trafficlog"):
        log = s.named(f"iad-firewall-{category}")
        assert log.inputs["logGroupId"] == LOG_GROUP, log.urn
        assert log.inputs["configuration"]["source"] == {
            "sourceType": "OCISERVICE",
            "service": "ocinetworkfirewall",
            "resource": fw.id,
            "category": category,
        }, log.urn


def test_private_ip_is_looked_up_for_routing() -> None:
    s = build()
    (lookup,) = s.invokes
    assert lookup.token == "oci:Core/getPrivateIps:getPrivateIps"
    assert lookup.args == {"ipAddress": "10.255.255.10", "subnetId": SUBNET}
    assert s.resolve(s.value.private_ip_id) == "ocid1.privateip.oc1.iad.firewall"
