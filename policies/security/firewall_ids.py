"""USDR-SEC-07: every firewall policy inspects the data subnets for intrusions.

Each `NetworkFirewallPolicy` needs a security rule (linked by networkFirewallPolicyId) with
action INSPECT and inspection INTRUSION_DETECTION or INTRUSION_PREVENTION that covers every
data subnet of its region: traffic to the subnet from anywhere (destination address lists
contain it, source unrestricted) or from it to anywhere. Address lists are resolved by name
within the policy; an empty condition side means "any". Data subnets come from the pack
config's `dataSubnets` (per region); without it, every subnet of the region except the one
the firewall itself sits in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import Any

from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown, items, text
from stack_graph import of_type, refers_to, region_of

FIREWALL = "oci:NetworkFirewall/networkFirewall:NetworkFirewall"
FW_POLICY = "oci:NetworkFirewall/networkFirewallPolicy:NetworkFirewallPolicy"
FW_RULE = "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule"
FW_ADDRESSES = "oci:NetworkFirewall/networkFirewallPolicyAddressList:NetworkFirewallPolicyAddressList"
SUBNET = "oci:Core/subnet:Subnet"
IDS_MODES = ("INTRUSION_DETECTION", "INTRUSION_PREVENTION")

Net = ipaddress.IPv4Network | ipaddress.IPv6Network

META = Meta(
    name="security-firewall-ids",
    control="USDR-SEC-07",
    title="Firewall policies inspect data subnets (IDS/IPS)",
    description="Every network firewall policy has an INSPECT rule with INTRUSION_DETECTION or "
    "INTRUSION_PREVENTION covering the region's data subnets.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation='Add a NetworkFirewallPolicySecurityRule with action="INSPECT", '
    'inspection="INTRUSION_PREVENTION" (or _DETECTION) whose destination address list holds the data '
    "subnets' CIDRs (source unrestricted), and route the data subnets through the firewall. A policy "
    "attached to a firewall cannot be edited in place: create a new policy, switch the firewall, delete the "
    "old one.",
)


def ids_rules(policy: Resource, resources: Sequence[Resource]) -> list[Resource]:
    """Security rules of `policy` that INSPECT with intrusion detection or prevention."""
    return [
        r
        for r in of_type(resources, FW_RULE)
        if refers_to(r, "networkFirewallPolicyId", policy)
        and r.props.get("action") == "INSPECT"
        and r.props.get("inspection") in IDS_MODES
    ]


def _lists(policy: Resource, resources: Sequence[Resource]) -> dict[str, list[Net] | None]:
    """Address lists of the policy by name; None when its addresses cannot be read."""
    out: dict[str, list[Net] | None] = {}
    for a in of_type(resources, FW_ADDRESSES):
        if not refers_to(a, "networkFirewallPolicyId", policy):
            continue
        name = a.props.get("name")
        if not text(name):
            continue
        addresses = a.props.get("addresses")
        if is_unknown(addresses):
            out[str(name)] = None
            continue
        nets: list[Net] = []
        for x in items(addresses):
            try:
                nets.append(ipaddress.ip_network(str(x), strict=False))
            except ValueError:
                continue  # FQDN lists do not cover subnets
        out[str(name)] = nets
    return out


def _side(cond: Any, key: str, lists: dict[str, list[Net] | None]) -> list[Net] | None:
    """Networks one condition side matches; [] = any; None = cannot tell."""
    names = get(cond, key)
    if is_unknown(names):
        return None
    if not items(names):
        return []
    nets: list[Net] = []
    for n in items(names):
        found = lists.get(str(n)) if isinstance(n, str) else None
        if found is None:
            return None
        nets.extend(found)
    return nets


def _inside(subnet: Net, net: Net) -> bool:
    if isinstance(subnet, ipaddress.IPv4Network) and isinstance(net, ipaddress.IPv4Network):
        return subnet.subnet_of(net)
    if isinstance(subnet, ipaddress.IPv6Network) and isinstance(net, ipaddress.IPv6Network):
        return subnet.subnet_of(net)
    return False


def _covers(nets: list[Net] | None, subnet: Net) -> bool:
    return nets is not None and any(_inside(subnet, n) for n in nets)


def covered(rule: Resource, lists: dict[str, list[Net] | None], subnet: Net) -> bool:
    cond = rule.props.get("condition")
    src = _side(cond, "sourceAddresses", lists)
    dst = _side(cond, "destinationAddresses", lists)
    inbound = src == [] and (dst == [] or _covers(dst, subnet))
    outbound = dst == [] and (src == [] or _covers(src, subnet))
    return inbound or outbound


def data_subnets(region: str, resources: Sequence[Resource], cfg: PackConfig) -> list[Net]:
    if cfg.data_subnets is not None:
        return list(cfg.data_subnets.get(region, ()))
    firewalls = of_type(resources, FIREWALL)
    out: list[Net] = []
    for s in of_type(resources, SUBNET):
        if region_of(s, cfg) != region or any(refers_to(f, "subnetId", s) for f in firewalls):
            continue
        cidr = s.props.get("cidrBlock")
        if isinstance(cidr, str):
            try:
                out.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError:
                continue
    return out


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    for policy in of_type(resources, FW_POLICY):
        rules = ids_rules(policy, resources)
        if not rules:
            yield policy.urn, "no security rule with action INSPECT and intrusion detection/prevention"
            continue
        region = region_of(policy, cfg)
        if region is None:
            yield policy.urn, "the policy's region cannot be determined, so its data subnets cannot be known"
            continue
        lists = _lists(policy, resources)
        for subnet in data_subnets(region, resources, cfg):
            if not any(covered(r, lists, subnet) for r in rules):
                yield policy.urn, f"no intrusion-inspection rule covers data subnet {subnet} in {region}"


POLICY = stack_policy(META, check)
