"""USDR-SEC-18: no internet exposure assembled from several resources.

USDR-SEC-08 and USDR-SEC-17 count the internet as an attacker does, but within one resource:
the union of the sources of one security list, one NSG rule, one security group. An attacker
counts across resources too (issue 12 item 4), so this stack policy unions, per admin port
(`adminPorts`) and per data port (`security.data_ingress.DATA_PORTS`), the sources that reach
the same thing:

- **an NSG's rules**: `NetworkSecurityGroupSecurityRule` resources are separate resources,
  each with one source; rules linked to the same NSG (`networkSecurityGroupId`: the NSG's id,
  or the dependency the engine records) are one NSG (OCI: "Network Security Groups", rules
  of an NSG are a union; a packet is allowed when any rule allows it);
- **a subnet's security lists**: a subnet's `securityListIds` (up to five lists) apply
  together: "the union of all the rules in all the lists" (OCI: "Security Lists");
- **an AWS security group**: its inline `ingress` with every `aws_security_group_rule`
  (type `ingress`) and `aws_vpc_security_group_ingress_rule` on it (`securityGroupId`);
- **a network firewall policy**: the ALLOW and INSPECT security rules of one policy
  (`networkFirewallPolicyId`), their `condition.sourceAddresses` resolved by name to the
  policy's IP address lists, their `condition.services` to its service lists and services
  (TCP_SERVICE/UDP_SERVICE port ranges; no services = every port). A rule that names
  `applications` (ICMP/ICMP_V6 only, in OCI's firewall) matches no TCP or UDP port. An ALLOW
  rule with no source condition admits any source, the internet included; an INSPECT rule
  with none is how inspection coverage is written (USDR-SEC-07 requires it) and reachability
  from the internet is then decided by the route tables, security lists and NSGs (judged
  above), so it counts only when its sources are explicit. Rule order is not credited: an
  earlier DROP does not excuse an ALLOW (a reorder would expose the port silently).

A group is reported only when no single member opens the port on its own (that member is
already SEC-08's or SEC-17's finding). An address list whose addresses are unknown during
preview, or a service list or address list a rule names that the policy does not have, cannot
be proven closed: a finding. Mandatory, not waivable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from ipaddress import ip_network
from typing import Any

from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown, items, text
from stack_graph import of_type, refers_to

from security.admin_ingress import (
    AWS_INGRESS_RULE,
    AWS_SG,
    AWS_SG_RULE,
    NSG_RULE,
    SECURITY_LISTS,
    Network,
    _covers_internet,
    _network,
    _reaches,
    _Secret,
    _Unknown,
)
from security.data_ingress import DATA_PORTS
from security.firewall_ids import FW_ADDRESSES, FW_POLICY, FW_RULE, SUBNET

NSG = "oci:Core/networkSecurityGroup:NetworkSecurityGroup"
FW_SERVICE = "oci:NetworkFirewall/networkFirewallPolicyService:NetworkFirewallPolicyService"
FW_SERVICE_LIST = "oci:NetworkFirewall/networkFirewallPolicyServiceList:NetworkFirewallPolicyServiceList"
_PROTOCOLS = {"TCP_SERVICE": "tcp", "UDP_SERVICE": "udp"}

META = Meta(
    name="security-exposure-across-rules",
    control="USDR-SEC-18",
    title="No internet exposure assembled from several rules",
    description="The rules of one NSG, the security lists of one subnet, the rules of one security group and "
    "the permitting rules of one network firewall policy do not, together, admit the whole internet to an "
    "administrative or data port.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Restrict the sources of the rules named to the operators' or application networks; a "
    "range split into pieces (0.0.0.0/1 + 128.0.0.0/1, many /8s) across rules or lists is still the "
    "internet. Use OCI Bastion for SSH/RDP and private endpoints for data stores.",
)


@dataclass
class _Group:
    """Resources whose rules apply together, and what each reaches per port."""

    anchor: Resource
    what: str
    members: list[str] = field(default_factory=list)
    by_port: dict[int, list[Network]] = field(default_factory=dict)
    alone: set[int] = field(default_factory=set)  # ports one member opens by itself
    doubts: list[str] = field(default_factory=list)
    judge_alone: bool = False  # no other policy judges a member alone: report one member too

    def add(self, member: str, reach: dict[int, list[Network]]) -> None:
        if not reach:
            return
        self.members.append(member)
        for port, nets in reach.items():
            self.by_port.setdefault(port, []).extend(nets)
            if _covers_internet(nets):
                self.alone.add(port)

    def findings(self) -> Iterator[tuple[str, str]]:
        for doubt in self.doubts:
            yield self.anchor.urn, f"{self.what}: {doubt}: it cannot be proven closed to the internet"
        opened = [
            p
            for p in sorted(self.by_port)
            if (self.judge_alone or p not in self.alone) and _covers_internet(self.by_port[p])
        ]
        members = sorted(set(self.members))
        if not opened or (len(members) < 2 and not self.judge_alone):
            return
        names = ", ".join(members[:6]) + (f" and {len(members) - 6} more" if len(members) > 6 else "")
        verb = "together admit" if len(members) > 1 else "admits"
        yield (
            self.anchor.urn,
            f"{self.what}: {names} {verb} the whole public internet to port(s) {', '.join(map(str, opened))}",
        )


def _reach_of(res: Resource, ports: tuple[int, ...]) -> dict[int, list[Network]]:
    """Sources per port of one rule-bearing resource (SEC-08's reading); unknown: nothing here,
    since SEC-08/SEC-17 already fail that resource closed."""
    try:
        _, reaches = _reaches(res, ports)
    except (_Unknown, _Secret):
        return {}
    out: dict[int, list[Network]] = {}
    for sources, hits, _proto in reaches:
        for port in hits:
            out.setdefault(port, []).extend(sources)
    return out


def _linked(src: Resource, prop: str, target: Resource) -> bool:
    """`src.props[prop]` (a scalar or a list of ids) names `target`, or the engine says so."""
    value = src.props.get(prop)
    own = target.props.get("id")
    if text(own) and (value == own or (isinstance(value, list) and own in value)):
        return True
    return src.depends_on(target.urn, prop)


def _label(res: Resource) -> str:
    return f"{res.name}"


def _rule_groups(resources: Sequence[Resource], ports: tuple[int, ...]) -> Iterator[_Group]:
    nsgs = of_type(resources, NSG)
    by_key: dict[str, _Group] = {}
    for rule in of_type(resources, NSG_RULE):
        nsg = next((n for n in nsgs if refers_to(rule, "networkSecurityGroupId", n)), None)
        if nsg is not None:
            key, anchor, what = nsg.urn, nsg, f"NSG {nsg.name}"
        else:
            value = rule.props.get("networkSecurityGroupId")
            if is_unknown(value) or not text(value):
                continue  # not linkable: SEC-08/SEC-17 judge the rule alone
            key, anchor, what = f"id:{value}", rule, f"NSG {value}"
        group = by_key.setdefault(key, _Group(anchor, what))
        group.add(_label(rule), _reach_of(rule, ports))

    for subnet in of_type(resources, SUBNET):
        lists = [sl for sl in of_type(resources, *SECURITY_LISTS) if _linked(subnet, "securityListIds", sl)]
        if len(lists) > 1:
            group = _Group(subnet, f"subnet {subnet.name}'s security lists")
            for sl in lists:
                group.add(_label(sl), _reach_of(sl, ports))
            by_key[subnet.urn] = group

    for sg in of_type(resources, AWS_SG):
        group = _Group(sg, f"security group {sg.name}")
        group.add(f"{_label(sg)} (inline ingress)", _reach_of(sg, ports))
        for rule in of_type(resources, AWS_SG_RULE, AWS_INGRESS_RULE):
            if refers_to(rule, "securityGroupId", sg):
                group.add(_label(rule), _reach_of(rule, ports))
        by_key[sg.urn] = group
    yield from by_key.values()


# --------------------------------------------------------------------------- firewall policies


def _by_name(resources: Sequence[Resource], type_: str, policy: Resource) -> dict[str, Resource]:
    out: dict[str, Resource] = {}
    for r in of_type(resources, type_):
        name = r.props.get("name")
        if text(name) and refers_to(r, "networkFirewallPolicyId", policy):
            out[str(name)] = r
    return out


def _ports_of_services(
    names: list[Any], lists: dict[str, Resource], services: dict[str, Resource], ports: tuple[int, ...]
) -> tuple[set[int], list[str]]:
    """The ports among `ports` that the named service lists reach, and what could not be read."""
    if not names:
        return set(ports), []
    reached: set[int] = set()
    doubts: list[str] = []
    for name in names:
        sl = lists.get(str(name)) if text(name) else None
        if sl is None:
            doubts.append(f"service list {name!r} is not in the policy")
            reached |= set(ports)
            continue
        members = sl.props.get("services")
        if is_unknown(members):
            doubts.append(f"service list {name!r} has services unknown during preview")
            reached |= set(ports)
            continue
        for member in items(members):
            svc = services.get(str(member))
            if svc is None or is_unknown(svc.props.get("portRanges")) or is_unknown(svc.props.get("type")):
                doubts.append(f"service {member!r} of service list {name!r} cannot be read")
                reached |= set(ports)
                continue
            if svc.props.get("type") not in _PROTOCOLS:
                continue
            for rng in items(svc.props.get("portRanges")):
                lo, hi = get(rng, "minimumPort"), get(rng, "maximumPort")
                if not isinstance(lo, int | float) or isinstance(lo, bool):
                    doubts.append(f"service {member!r} has a port range that cannot be read")
                    reached |= set(ports)
                    continue
                top = hi if isinstance(hi, int | float) and not isinstance(hi, bool) else lo
                reached |= {p for p in ports if int(lo) <= p <= int(top)}
    return reached, doubts


def _firewall_groups(resources: Sequence[Resource], ports: tuple[int, ...]) -> Iterator[_Group]:
    everything: list[Network] = [ip_network("0.0.0.0/0"), ip_network("::/0")]
    for policy in of_type(resources, FW_POLICY):
        rules = [r for r in of_type(resources, FW_RULE) if refers_to(r, "networkFirewallPolicyId", policy)]
        if not rules:
            continue
        addresses = _by_name(resources, FW_ADDRESSES, policy)
        lists = _by_name(resources, FW_SERVICE_LIST, policy)
        services = _by_name(resources, FW_SERVICE, policy)
        # No other policy judges firewall rules' sources: one permitting rule counts alone.
        group = _Group(policy, f"firewall policy {policy.name}", judge_alone=True)
        for rule in rules:
            rule_name = str(rule.props["name"]) if text(rule.props.get("name")) else rule.name
            action = rule.props.get("action")
            if not is_unknown(action) and action not in ("ALLOW", "INSPECT"):
                continue
            condition = rule.props.get("condition")
            if is_unknown(condition):
                group.doubts.append(f"rule {rule_name}'s condition is unknown during preview")
                continue
            if items(get(condition, "applications")):
                continue  # ICMP applications: no TCP or UDP port
            source_names = items(get(condition, "sourceAddresses"))
            sources: list[Network] = []
            if not source_names:
                if action == "INSPECT":
                    continue  # inspection coverage; reachability is the network's (see docstring)
                sources = list(everything)
            for name in source_names:
                al = addresses.get(str(name)) if text(name) else None
                if al is None:
                    group.doubts.append(f"rule {rule_name} names address list {name!r}, not in the policy")
                    continue
                listed = al.props.get("addresses")
                if is_unknown(listed):
                    group.doubts.append(f"address list {name!r} is unknown during preview")
                    continue
                for a in items(listed):
                    try:
                        net = _network(a)
                    except (_Unknown, _Secret) as exc:
                        group.doubts.append(f"an address of list {name!r} is {_doubt(exc)}")
                        continue
                    if net is not None:
                        sources.append(net)
            reached, doubts = _ports_of_services(items(get(condition, "services")), lists, services, ports)
            group.doubts += [f"rule {rule_name}: {d}" for d in doubts]
            group.add(f"rule {rule_name}", {p: list(sources) for p in reached if sources})
        yield group


def _doubt(exc: Exception) -> str:
    return "secret" if isinstance(exc, _Secret) else "unknown during preview"


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    ports = tuple(sorted({*cfg.admin_ports, *DATA_PORTS}))
    for group in [*_rule_groups(resources, ports), *_firewall_groups(resources, ports)]:
        yield from group.findings()


POLICY = stack_policy(META, check)
