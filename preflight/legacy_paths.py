"""The network paths between the estate and each legacy site, read from what the program declares.

The residency map draws a legacy site's path as one-way (US hosts read from the site's store;
nothing at the site can open a connection in) only when the records show it, not because the
components mean it (issue 13, "the residency map shows the one-way restore path"). A path is an
IPSec connection: the region it is declared in and the CIDRs its static routes carry. In that
region, two layers decide what may cross it:

- security lists (and the VCN's default list) and NSG rules: an ingress rule whose source
  overlaps a site's CIDR lets the site open connections in; an egress rule whose destination
  overlaps it is what US hosts may reach there (with its TCP port range);
- the network firewall's policy: its security rules in order (first match wins, each placed
  after the rule its `positions` names), with their address lists. A rule that admits
  (INSPECT, ALLOW) sessions from any source or from a list overlapping the site, reached before
  a rejecting rule (REJECT, DROP) that covers the whole site, lets the site open sessions.

Either layer admitting is reported: one-way means neither does. What cannot be read (a source
that is unknown, not a CIDR, a rule order that is not a chain, an address list not found) is
reported as admitting, with the reason: the map never claims a one-way path it could not check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from ipaddress import IPv4Network, ip_network
from typing import Any

from preflight.model import ResourceRecord

IPSEC = "oci:Core/ipsec:Ipsec"
SECURITY_LISTS = ("oci:Core/securityList:SecurityList", "oci:Core/defaultSecurityList:DefaultSecurityList")
NSG_RULE = "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"
FW_LIST = "oci:NetworkFirewall/networkFirewallPolicyAddressList:NetworkFirewallPolicyAddressList"
FW_RULE = "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule"
ADMIT = ("INSPECT", "ALLOW")
BLOCK = ("REJECT", "DROP")


@dataclass
class LegacyPath:
    site: str  # the tunnel's `legacy-site` tag, else "IPSec <name>"
    region: str | None
    urn: str  # the IPSec connection
    cidrs: list[str]  # what the tunnel carries (its static routes)
    reaches: list[str] = field(default_factory=list)  # "<cidr> TCP <ports>" US hosts may open to
    opens_in: list[str] = field(default_factory=list)  # why the site can open a connection in

    @property
    def one_way(self) -> bool:
        return not self.opens_in

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "one_way": self.one_way}


def _net(value: Any) -> IPv4Network | None:
    if not isinstance(value, str):
        return None
    try:
        net = ip_network(value, strict=False)
    except ValueError:
        return None
    return net if isinstance(net, IPv4Network) else None


def _overlaps(value: Any, sites: Sequence[IPv4Network]) -> bool | None:
    """Whether a rule's CIDR overlaps the site; None when it is not a readable IPv4 CIDR."""
    net = _net(value)
    if net is None:
        return None
    return any(net.overlaps(s) for s in sites)


def _ports(rule: Mapping[str, Any]) -> str:
    protocol = rule.get("protocol")
    if protocol not in ("6", 6):
        return "all protocols" if protocol == "all" else f"protocol {protocol}"
    tcp = rule.get("tcpOptions") or {}
    rng = tcp.get("destinationPortRange", tcp) if isinstance(tcp, Mapping) else {}
    lo, hi = (rng.get("min"), rng.get("max")) if isinstance(rng, Mapping) else (None, None)
    if lo is None:
        return "TCP all ports"
    lo, hi = (int(x) if isinstance(x, float) and x.is_integer() else x for x in (lo, hi))  # wire numbers
    return f"TCP {lo}" if lo == hi else f"TCP {lo}-{hi}"


def _rule_list(r: ResourceRecord, key: str, path: LegacyPath) -> list[Mapping[str, Any]]:
    """A security list's rules; anything but a list of objects (unknown in preview) is reported."""
    value = r.inputs.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, Mapping) for x in value):
        path.opens_in.append(f"{r.name}: {key} is {value!r}, which it cannot check")
        return []
    return value


def _security_layer(
    records: Iterable[ResourceRecord], sites: Sequence[IPv4Network], path: LegacyPath
) -> None:
    for r in records:
        rules: list[tuple[str, Mapping[str, Any]]] = []
        if r.type in SECURITY_LISTS:
            rules += [("INGRESS", x) for x in _rule_list(r, "ingressSecurityRules", path)]
            rules += [("EGRESS", x) for x in _rule_list(r, "egressSecurityRules", path)]
        elif r.type == NSG_RULE:
            rules.append((str(r.inputs.get("direction")), r.inputs))
        for direction, rule in rules:
            if direction == "INGRESS":
                if rule.get("sourceType") in ("NETWORK_SECURITY_GROUP", "SERVICE_CIDR_BLOCK"):
                    continue  # peers inside OCI, never a site
                hit = _overlaps(rule.get("source"), sites)
                if hit is None:
                    path.opens_in.append(
                        f"{r.name}: ingress from {rule.get('source')!r}, not a CIDR it can check"
                    )
                elif hit:
                    path.opens_in.append(f"{r.name}: ingress from {rule['source']} ({_ports(rule)})")
            elif direction == "EGRESS":
                if rule.get("destinationType") in ("NETWORK_SECURITY_GROUP", "SERVICE_CIDR_BLOCK"):
                    continue
                dest = _net(rule.get("destination"))
                if dest is not None and dest.prefixlen > 0 and any(dest.overlaps(s) for s in sites):
                    host = str(dest.network_address) if dest.prefixlen == 32 else str(dest)
                    reach = f"{host} on {_ports(rule)}"
                    if reach not in path.reaches:
                        path.reaches.append(reach)
            elif r.type == NSG_RULE:
                path.opens_in.append(f"{r.name}: direction {direction!r}, which it cannot check")


def _ordered(rules: list[ResourceRecord]) -> list[ResourceRecord] | None:
    """A policy's rules in evaluation order, from each rule's `positions[0].afterRule`."""
    by_after: dict[str | None, ResourceRecord] = {}
    for rule in rules:
        positions = rule.inputs.get("positions") or []
        if not isinstance(positions, list):
            return None  # unknown in preview: no order it can check
        after = positions[0].get("afterRule") if positions and isinstance(positions[0], Mapping) else None
        if after in by_after:
            return None  # two rules claim the same place: not a chain
        by_after[after] = rule
    out: list[ResourceRecord] = []
    current = by_after.get(None)
    while current is not None:
        out.append(current)
        current = by_after.get(current.inputs.get("name"))
    return out if len(out) == len(rules) else None


def _firewall_layer(
    records: Sequence[ResourceRecord], sites: Sequence[IPv4Network], path: LegacyPath
) -> None:
    lists: dict[tuple[str, str], list[Any]] = {}
    by_policy: dict[str, list[ResourceRecord]] = {}
    for r in records:
        policy = str(r.inputs.get("networkFirewallPolicyId"))
        if r.type == FW_LIST:
            lists[(policy, str(r.inputs.get("name")))] = list(r.inputs.get("addresses") or [])
        elif r.type == FW_RULE:
            by_policy.setdefault(policy, []).append(r)
    for policy, rules in sorted(by_policy.items()):
        ordered = _ordered(rules)
        if ordered is None:
            path.opens_in.append(
                f"firewall policy {policy}: rule order is not a chain, which it cannot check"
            )
            continue
        for rule in ordered:
            condition = rule.inputs.get("condition") or {}
            action = rule.inputs.get("action")
            if not isinstance(condition, Mapping):
                name = rule.inputs.get("name")
                path.opens_in.append(f"firewall rule {name}: condition {condition!r} it cannot check")
                break
            names = list(condition.get("sourceAddresses") or [])
            covered = partial = unreadable = False
            if not names:
                covered = True  # any source
            for name in names:
                addresses = lists.get((policy, str(name)))
                if addresses is None:
                    unreadable = True
                    continue
                nets = [_net(a) for a in addresses]
                if any(n is None for n in nets):
                    unreadable = True
                readable = [n for n in nets if n is not None]
                partial = partial or any(n.overlaps(s) for n in readable for s in sites)
                covered = covered or all(any(s.subnet_of(n) for n in readable) for s in sites)
            if not (covered or partial or unreadable):
                continue  # the rule is about other sources
            if action in ADMIT:
                why = "any source" if not names else ", ".join(map(str, names))
                path.opens_in.append(f"firewall rule {rule.inputs.get('name')}: {action} from {why}")
                break
            narrowed = any(condition.get(k) for k in ("destinationAddresses", "services", "applications"))
            if action in BLOCK and covered and not unreadable and not narrowed:
                break  # every session the site opens ends here
            if action not in ADMIT + BLOCK:
                path.opens_in.append(
                    f"firewall rule {rule.inputs.get('name')}: action {action!r} it cannot check"
                )
                break


def legacy_paths(resources: Iterable[ResourceRecord]) -> list[LegacyPath]:
    """One path per IPSec connection, in stack order, with what each layer lets cross it."""
    records = list(resources)
    paths: list[LegacyPath] = []
    for r in records:
        if r.type != IPSEC:
            continue
        tags = r.inputs.get("freeformTags")
        site = tags.get("legacy-site") if isinstance(tags, Mapping) else None
        routes = list(r.inputs.get("staticRoutes") or [])
        path = LegacyPath(
            site=str(site) if site else f"IPSec {r.name}",
            region=r.region,
            urn=r.urn,
            cidrs=[str(x) for x in routes],
        )
        nets = [n for n in (_net(x) for x in routes) if n is not None]
        if len(nets) != len(routes) or not nets:
            path.opens_in.append(f"{r.name}: static routes {routes!r} are not CIDRs it can check")
            paths.append(path)
            continue
        in_region = [x for x in records if x.region == r.region]
        _security_layer(in_region, nets, path)
        _firewall_layer(in_region, nets, path)
        paths.append(path)
    return paths
