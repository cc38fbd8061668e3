"""USDR-SEC-08 / CIS OCI 2.1-2.4: no ingress from the whole internet to administrative ports.

OCI security lists (and the VCN's default list) and NSG rules; for any program, also AWS
security groups and their rules. A rule is open to the world when its source is a /0
(`0.0.0.0/0`, `::/0`); it reaches an admin port when its protocol is all, TCP or UDP and its
destination port range (missing = all ports) contains one of `adminPorts`. Unknown = cannot
prove = violation.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown, items

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


def _world(source: Any) -> bool:
    if is_unknown(source):
        raise _Unknown("source")
    if not isinstance(source, str):
        return False
    try:
        return ipaddress.ip_network(source.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _port(value: Any, what: str) -> int | None:
    if is_unknown(value):
        raise _Unknown(what)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None


def _admin_ports_hit(lo: int | None, hi: int | None, cfg: PackConfig) -> list[int]:
    lo = 0 if lo is None or lo < 0 else lo
    hi = 65535 if hi is None or hi < 0 else hi
    return [p for p in cfg.admin_ports if lo <= p <= hi]


def _oci_rule(rule: dict[str, Any], cfg: PackConfig, where: str, nsg: bool) -> Iterator[str]:
    if nsg:
        direction = rule.get("direction")
        if is_unknown(direction):
            raise _Unknown("direction")
        if direction != "INGRESS":
            return
    source_type = rule.get("sourceType")
    if source_type not in (None, "CIDR_BLOCK") and not is_unknown(source_type):
        return
    if not _world(rule.get("source")):
        return
    protocol = rule.get("protocol")
    if is_unknown(protocol):
        raise _Unknown("protocol")
    proto = str(protocol).lower()
    if proto in _ALL:
        hits = list(cfg.admin_ports)
    elif proto in _PORTED:
        opts = rule.get("tcpOptions" if _PORTED[proto] == "TCP" else "udpOptions")
        rng = get(opts, "destinationPortRange") if nsg else opts
        if is_unknown(rng):
            raise _Unknown("port range")
        hits = _admin_ports_hit(_port(get(rng, "min"), "min"), _port(get(rng, "max"), "max"), cfg)
    else:
        return
    if hits:
        yield f"{where} admits {rule.get('source')} to port(s) {', '.join(map(str, hits))} ({proto})"


def _aws_rule(rule: dict[str, Any], cfg: PackConfig, where: str) -> Iterator[str]:
    sources = [*items(rule.get("cidrBlocks")), *items(rule.get("ipv6CidrBlocks"))]
    sources += [rule[k] for k in ("cidrIpv4", "cidrIpv6") if k in rule]
    world = [s for s in sources if _world(s)]
    if not world:
        return
    protocol = rule.get("protocol", rule.get("ipProtocol"))
    if is_unknown(protocol):
        raise _Unknown("protocol")
    proto = str(protocol).lower()
    if proto in _ALL:
        hits = list(cfg.admin_ports)
    elif proto in _PORTED:
        hits = _admin_ports_hit(
            _port(rule.get("fromPort"), "fromPort"), _port(rule.get("toPort"), "toPort"), cfg
        )
    else:
        return
    if hits:
        yield f"{where} admits {world[0]} to port(s) {', '.join(map(str, hits))} ({proto})"


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    try:
        if res.type in SECURITY_LISTS:
            rules = res.props.get("ingressSecurityRules")
            if is_unknown(rules):
                raise _Unknown("ingressSecurityRules")
            for i, rule in enumerate(items(rules)):
                if isinstance(rule, dict):
                    for m in _oci_rule(rule, cfg, f"ingressSecurityRules[{i}]", nsg=False):
                        yield Finding(m)
        elif res.type == NSG_RULE:
            for m in _oci_rule(res.props, cfg, "the NSG rule", nsg=True):
                yield Finding(m)
        elif res.type == AWS_SG:
            rules = res.props.get("ingress")
            if is_unknown(rules):
                raise _Unknown("ingress")
            for i, rule in enumerate(items(rules)):
                if isinstance(rule, dict):
                    for m in _aws_rule(rule, cfg, f"ingress[{i}]"):
                        yield Finding(m)
        elif res.type == AWS_SG_RULE:
            kind = res.props.get("type")
            if is_unknown(kind):
                raise _Unknown("type")
            if kind == "ingress":
                for m in _aws_rule(res.props, cfg, "the rule"):
                    yield Finding(m)
        else:
            for m in _aws_rule(res.props, cfg, "the ingress rule"):
                yield Finding(m)
    except _Unknown as exc:
        yield Finding(f"{exc} is unknown during preview: the rule cannot be proven closed to the internet")


POLICY = resource_policy(META, check)
