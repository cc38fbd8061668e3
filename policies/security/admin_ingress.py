"""USDR-SEC-08 / CIS OCI 2.1-2.4: no ingress from the whole internet to administrative ports.

OCI security lists (and the VCN's default list) and NSG rules; for any program, also AWS
security groups and their rules. The internet is counted as an attacker counts it: for each
admin port, the union of the sources of every rule of the resource that admits it (protocol all,
TCP or UDP, destination port range containing the port; missing = all ports). When that union
covers the whole public address space (IPv4 without the special-purpose ranges of RFC 6890:
private, CGNAT, loopback, link-local, documentation, benchmarking, multicast, reserved; IPv6
global unicast 2000::/3), the port is open to the internet: `0.0.0.0/0` and `::/0`, their
halves `0.0.0.0/1` + `128.0.0.0/1`, 256 /8s, or every block but 10/8 alike. An operators'
network (a few public /24s) is not. Unknown = cannot prove = violation.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterator
from typing import Any

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import SECRET_PLACEHOLDER, Resource, get, is_unknown, items

SECURITY_LISTS = ("oci:Core/securityList:SecurityList", "oci:Core/defaultSecurityList:DefaultSecurityList")
NSG_RULE = "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"
AWS_SG = "aws:ec2/securityGroup:SecurityGroup"
AWS_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
AWS_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
# OCI protocol numbers as text; AWS names and numbers.
_ALL = {"all", "-1"}
_PORTED = {"6": "TCP", "17": "UDP", "tcp": "TCP", "udp": "UDP"}

META = Meta(
    name="security-no-admin-ingress",
    control="USDR-SEC-08",
    title="No internet ingress to administrative ports",
    description="No security list, NSG or security group rule admits 0.0.0.0/0 or ::/0 to an administrative "
    "port (adminPorts: SSH, RDP, ...).",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=(*SECURITY_LISTS, NSG_RULE, AWS_SG, AWS_SG_RULE, AWS_INGRESS_RULE),
    cis="2.1",
    remediation="Restrict the rule's source to the operators' network or the VCN's CIDR, or remove it and "
    "use OCI Bastion sessions for SSH/RDP; CIS OCI 2.1-2.4 (security lists and NSGs, ports 22 and 3389).",
)


class _Unknown(Exception):
    pass


class _Secret(Exception):
    pass


Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6890 special-purpose IPv4 blocks (and 0/8, multicast, reserved): not reachable from the
# internet as sources. What is left is the public address space a rule must not cover.
_SPECIAL_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)  # fmt: skip


def _public_v4() -> tuple[ipaddress.IPv4Network, ...]:
    blocks = [ipaddress.IPv4Network("0.0.0.0/0")]
    for special in _SPECIAL_V4:
        next_blocks: list[ipaddress.IPv4Network] = []
        for block in blocks:
            if special.subnet_of(block):
                next_blocks.extend(block.address_exclude(special))
            elif not block.subnet_of(special):
                next_blocks.append(block)
        blocks = next_blocks
    return tuple(ipaddress.collapse_addresses(blocks))


_PUBLIC: dict[int, tuple[Network, ...]] = {4: _public_v4(), 6: (ipaddress.IPv6Network("2000::/3"),)}
# The same blocks as integer address ranges [first, last], the form `_covers_internet` compares.
_PUBLIC_RANGES: dict[int, tuple[tuple[int, int], ...]] = {
    version: tuple((int(n.network_address), int(n.broadcast_address)) for n in blocks)
    for version, blocks in _PUBLIC.items()
}


def _network(source: Any) -> Network | None:
    if is_unknown(source):
        raise _Unknown("source")
    if source == SECRET_PLACEHOLDER:
        raise _Secret("source")
    if not isinstance(source, str):
        return None
    try:
        return ipaddress.ip_network(source.strip(), strict=False)
    except ValueError:
        return None


def _covers_internet(sources: list[Network]) -> bool:
    """Does the union of `sources` cover the whole public space of IPv4 or of IPv6?

    The sources of one version become address ranges, merged where they touch or overlap;
    the union covers a public block exactly when one merged range holds the whole block (the
    merged ranges are maximal: a block spread over two of them would contain the gap between
    them). Integer comparisons, not `ipaddress` set operations: exposure-union asks this for
    every port of every group of rules in the stack.
    """
    for version, public in _PUBLIC_RANGES.items():
        mine = [n for n in sources if n.version == version]
        ranges = sorted((int(n.network_address), int(n.broadcast_address)) for n in mine)
        if not ranges:
            continue
        starts: list[int] = []
        ends: list[int] = []
        for first, last in ranges:
            if ends and first <= ends[-1] + 1:
                ends[-1] = max(ends[-1], last)
            else:
                starts.append(first)
                ends.append(last)
        if all(_held(starts, ends, first, last) for first, last in public):
            return True
    return False


def _held(starts: list[int], ends: list[int], first: int, last: int) -> bool:
    """Is [first, last] inside one of the disjoint, sorted ranges (starts[i], ends[i])?"""
    i = bisect.bisect_right(starts, first) - 1
    return i >= 0 and last <= ends[i]


def _port(value: Any, what: str) -> int | None:
    if is_unknown(value):
        raise _Unknown(what)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None


def _admin_ports_hit(lo: int | None, hi: int | None, ports: tuple[int, ...]) -> list[int]:
    lo = 0 if lo is None or lo < 0 else lo
    hi = 65535 if hi is None or hi < 0 else hi
    return [p for p in ports if lo <= p <= hi]


# One rule as the union sees it: the source networks it admits and the admin ports it reaches.
_Reach = tuple[list[Network], list[int], str]


def _oci_rule(rule: dict[str, Any], ports: tuple[int, ...], nsg: bool) -> Iterator[_Reach]:
    if nsg:
        direction = rule.get("direction")
        if is_unknown(direction):
            raise _Unknown("direction")
        if direction != "INGRESS":
            return
    source_type = rule.get("sourceType")
    if source_type not in (None, "CIDR_BLOCK") and not is_unknown(source_type):
        return
    source = _network(rule.get("source"))
    if source is None:
        return
    protocol = rule.get("protocol")
    if is_unknown(protocol):
        raise _Unknown("protocol")
    proto = str(protocol).lower()
    if proto in _ALL:
        hits = list(ports)
    elif proto in _PORTED:
        opts = rule.get("tcpOptions" if _PORTED[proto] == "TCP" else "udpOptions")
        rng = get(opts, "destinationPortRange") if nsg else opts
        if is_unknown(rng):
            raise _Unknown("port range")
        hits = _admin_ports_hit(_port(get(rng, "min"), "min"), _port(get(rng, "max"), "max"), ports)
    else:
        return
    if hits:
        yield [source], hits, proto


def _aws_rule(rule: dict[str, Any], ports: tuple[int, ...]) -> Iterator[_Reach]:
    raw = [*items(rule.get("cidrBlocks")), *items(rule.get("ipv6CidrBlocks"))]
    raw += [rule[k] for k in ("cidrIpv4", "cidrIpv6") if k in rule]
    sources = [n for n in (_network(s) for s in raw) if n is not None]
    if not sources:
        return
    protocol = rule.get("protocol", rule.get("ipProtocol"))
    if is_unknown(protocol):
        raise _Unknown("protocol")
    proto = str(protocol).lower()
    if proto in _ALL:
        hits = list(ports)
    elif proto in _PORTED:
        hits = _admin_ports_hit(
            _port(rule.get("fromPort"), "fromPort"), _port(rule.get("toPort"), "toPort"), ports
        )
    else:
        return
    if hits:
        yield sources, hits, proto


def _reaches(res: Resource, ports: tuple[int, ...]) -> tuple[str, list[_Reach]]:
    """(what the rules are called, every rule's reach) of one resource."""
    out: list[_Reach] = []
    if res.type in SECURITY_LISTS:
        rules = res.props.get("ingressSecurityRules")
        if is_unknown(rules):
            raise _Unknown("ingressSecurityRules")
        for rule in items(rules):
            if isinstance(rule, dict):
                out += _oci_rule(rule, ports, nsg=False)
        return "ingressSecurityRules", out
    if res.type == NSG_RULE:
        return "the NSG rule", list(_oci_rule(res.props, ports, nsg=True))
    if res.type == AWS_SG:
        rules = res.props.get("ingress")
        if is_unknown(rules):
            raise _Unknown("ingress")
        for rule in items(rules):
            if isinstance(rule, dict):
                out += _aws_rule(rule, ports)
        return "ingress", out
    if res.type == AWS_SG_RULE:
        kind = res.props.get("type")
        if is_unknown(kind):
            raise _Unknown("type")
        return "the rule", list(_aws_rule(res.props, ports)) if kind == "ingress" else []
    return "the ingress rule", list(_aws_rule(res.props, ports))


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    yield from open_to_internet(res, cfg.admin_ports)


def open_to_internet(res: Resource, ports: tuple[int, ...]) -> Iterator[Finding]:
    """Findings for each of `ports` the resource's rules open to the whole internet."""
    try:
        where, reaches = _reaches(res, ports)
    except _Unknown as exc:
        yield Finding(f"{exc} is unknown during preview: the rule cannot be proven closed to the internet")
        return
    except _Secret as exc:
        yield Finding(f"{exc} is secret: the rule cannot be proven closed to the internet")
        return
    by_port: dict[int, list[Network]] = {}
    protocols: dict[int, set[str]] = {}
    for sources, hits, proto in reaches:
        for port in hits:
            by_port.setdefault(port, []).extend(sources)
            protocols.setdefault(port, set()).add(proto)
    open_ports = [p for p in sorted(by_port) if _covers_internet(by_port[p])]
    if not open_ports:
        return
    # Group the ports the same sources open, so one finding says it once.
    groups: dict[tuple[str, ...], list[int]] = {}
    for port in open_ports:
        shown = tuple(sorted({str(n) for n in by_port[port]}, key=lambda t: (":" in t, t)))
        groups.setdefault(shown, []).append(port)
    for shown, opened in groups.items():
        listed = ", ".join(shown[:4]) + (f" and {len(shown) - 4} more" if len(shown) > 4 else "")
        whole = any(t.endswith("/0") for t in shown)
        protos = ", ".join(sorted(set().union(*(protocols[p] for p in opened))))
        message = f"{where} admits {listed} to port(s) {', '.join(map(str, opened))} ({protos})"
        yield Finding(message if whole else message + "; together these are the whole public internet")


POLICY = resource_policy(META, check)
