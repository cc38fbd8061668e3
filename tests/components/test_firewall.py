"""components/firewall.py: IDS/IPS policy by content hash, create-before-switch, logs."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Network

import pytest

from components.firewall import FirewallArgs, RegionFirewall, policy_spec
from tests.components.conftest import COMPARTMENT, LOG_GROUP, TAGS
from tests.components.harness import Synth, check_anatomy, synth_component

TYPE = "usdr:firewall:RegionFirewall"
SUBNET = "ocid1.subnet.oc1.iad.firewallsubnet"
LEGACY = {"legacy-us-east": IPv4Network("172.16.0.0/16"), "legacy-sg": IPv4Network("172.17.0.0/16")}


def args(**overrides: object) -> FirewallArgs:
    base = FirewallArgs(
        compartment_id=COMPARTMENT,
        subnet_id=SUBNET,
        display_prefix="usdr-test-iad",
        log_group_id=LOG_GROUP,
        tags=TAGS,
        vcn_cidr=IPv4Network("10.10.0.0/16"),
        data_cidrs=(IPv4Network("10.10.0.0/24"),),
        legacy_cidrs=LEGACY,
    )
    return dataclasses.replace(base, **overrides)


def build(**overrides: object) -> Synth[RegionFirewall]:
    a = args(**overrides)
    return synth_component(lambda opts: RegionFirewall("iad-firewall", a, opts))


# --------------------------------------------------------------------------- policy content


def test_policy_inspects_data_and_legacy_flows_and_rejects_the_rest() -> None:
    spec = policy_spec(args(ids_mode="INTRUSION_DETECTION"))
    assert {al.name: al.addresses for al in spec.address_lists} == {
        "vcn": ("10.10.0.0/16",),
        "data-subnets": ("10.10.0.0/24",),
        "legacy-sites": ("172.16.0.0/16", "172.17.0.0/16"),
    }
    assert [(r.name, r.action, r.inspection, r.sources, r.destinations) for r in spec.rules] == [
        ("inspect-to-data", "INSPECT", "INTRUSION_DETECTION", (), ("data-subnets",)),
        ("inspect-from-data", "INSPECT", "INTRUSION_DETECTION", ("data-subnets",), ()),
        ("inspect-from-legacy", "INSPECT", "INTRUSION_DETECTION", ("legacy-sites",), ("vcn",)),
        ("inspect-to-legacy", "INSPECT", "INTRUSION_DETECTION", ("vcn",), ("legacy-sites",)),
        ("reject-all", "REJECT", None, (), ()),
    ]


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
    assert names.index("inspect-to-legacy") < names.index("reject-app-to-private")
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
    spec = policy_spec(args(legacy_cidrs={}))
    assert [al.name for al in spec.address_lists] == ["vcn", "data-subnets"]
    assert [r.name for r in spec.rules] == ["inspect-to-data", "inspect-from-data", "reject-all"]


def test_ids_prevention_is_the_default() -> None:
    assert {r.inspection for r in policy_spec(args()).rules if r.action == "INSPECT"} == {
        "INTRUSION_PREVENTION"
    }


@pytest.mark.parametrize(
    "change",
    [
        {"ids_mode": "INTRUSION_DETECTION"},
        {"legacy_cidrs": {"legacy-us-east": IPv4Network("172.16.0.0/16")}},
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
        "oci:NetworkFirewall/networkFirewallPolicyAddressList:NetworkFirewallPolicyAddressList": 3,
        "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule": 5,
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
            )
        )
    ]
    assert len(parts) == 8
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
        previous = rule.name


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
