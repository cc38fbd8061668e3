"""A region's private network: VCN, subnets, gateways, DRG with the legacy-site IPSec links.

Nothing in this network is reachable from the internet: there is no internet gateway at all,
every subnet prohibits public IPs and internet ingress, and no security list admits
0.0.0.0/0. Oracle services (Object Storage, Vault) are reached through the service gateway;
the app subnet alone may leave through the NAT gateway, egress-only.

Routing through the firewall lives in `components/routing.py`: a route rule must name the
firewall's private IP, which exists only after the firewall (built in this network's firewall
subnet) does. This component therefore builds everything the firewall needs first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any, Literal

import pulumi
import pulumi_oci as oci

from components.legacy_links import LegacyLink
from components.logging import MAX_LOG_RETENTION_DAYS, service_log
from components.lookups import not_answered

SUBNET_ROLES = ("data", "app", "firewall")
# OCI's service gateway offers two service objects per region; "All <KEY> Services In Oracle
# Services Network" covers Object Storage and Vault, which the data subnet needs.
ALL_SERVICES_PATTERN = "All .* Services In Oracle Services Network"
ANYWHERE = "0.0.0.0/0"
TCP = "6"
ICMP = "1"  # IANA protocol numbers, as OCI security rules take them
ALL_PROTOCOLS = "all"

PeerType = Literal["CIDR_BLOCK", "SERVICE_CIDR_BLOCK"]


@dataclass(frozen=True)
class NetworkArgs:
    compartment_id: pulumi.Input[str]
    display_prefix: str  # e.g. "usdr-prod-iad"
    dns_label: str  # VCN DNS label: letters and digits, at most 15, e.g. "usdriad"
    vcn_cidr: IPv4Network
    data_cidr: IPv4Network
    app_cidr: IPv4Network
    firewall_cidr: IPv4Network
    log_group_id: pulumi.Input[str]
    tags: Mapping[str, str]
    legacy_links: tuple[LegacyLink, ...] = ()
    # The one port the estate's data paths use (HTTPS to Object Storage, Vault and the apps).
    app_port: int = 443
    flow_log_retention_days: int = MAX_LOG_RETENTION_DAYS

    def cidr(self, role: str) -> IPv4Network:
        return {"data": self.data_cidr, "app": self.app_cidr, "firewall": self.firewall_cidr}[role]


@dataclass(frozen=True)
class Rule:
    """One stateful allow rule; `peer` is the source (ingress) or destination (egress)."""

    direction: Literal["INGRESS", "EGRESS"]
    peer: pulumi.Input[str]
    description: str
    peer_type: PeerType = "CIDR_BLOCK"
    protocol: str = TCP
    port: int | None = None  # TCP destination port; None = all ports


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def direction(self, d: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.direction == d)


def security_list_rules(args: NetworkArgs, services: pulumi.Input[str]) -> dict[str, RuleSet]:
    """Subnet-level rules per role. None admits 0.0.0.0/0; only the app subnet may egress to it.

    A legacy site appears only as its store's addresses, as an egress destination on the store's
    port (components/legacy_links.py): no ingress rule names a site.
    """
    port = args.app_port
    stores = [(c, link) for link in args.legacy_links for c in link.store_cidrs]
    vcn = str(args.vcn_cidr)
    return {
        "data": RuleSet(
            (
                Rule("INGRESS", str(args.app_cidr), "apps reach data services", port=port),
                Rule("EGRESS", services, "Object Storage and Vault", "SERVICE_CIDR_BLOCK", port=port),
                *(Rule("EGRESS", c, link.purpose, port=link.store_port) for c, link in stores),
            )
        ),
        "app": RuleSet(
            (
                Rule("INGRESS", vcn, "callers inside the VCN", port=port),
                Rule("EGRESS", str(args.data_cidr), "data services", port=port),
                Rule("EGRESS", services, "Oracle services", "SERVICE_CIDR_BLOCK", port=port),
                Rule("EGRESS", ANYWHERE, "HTTPS egress, through the firewall to the NAT gateway", port=port),
            )
        ),
        # The firewall forwards what the route tables steer to it; what may pass is its
        # policy's decision (components/firewall.py), so its subnet admits internal peers only.
        "firewall": RuleSet(
            (
                Rule("INGRESS", vcn, "traffic steered to the firewall", protocol=ALL_PROTOCOLS),
                Rule("EGRESS", vcn, "inspected traffic to the VCN", protocol=ALL_PROTOCOLS),
                *(Rule("EGRESS", c, f"inspected {link.purpose}", port=link.store_port) for c, link in stores),
                Rule("EGRESS", ANYWHERE, "inspected app HTTPS egress to the NAT gateway", port=port),
            )
        ),
    }


def nsg_rules(args: NetworkArgs, services: pulumi.Input[str]) -> dict[str, dict[str, Rule]]:
    """Network security groups for workloads, deny-by-default: every allowed flow is listed."""
    port = args.app_port
    data: dict[str, Rule] = {
        "in-app": Rule("INGRESS", str(args.app_cidr), "apps reach data services", port=port),
        "out-services": Rule("EGRESS", services, "Object Storage and Vault", "SERVICE_CIDR_BLOCK", port=port),
    }
    for link in args.legacy_links:
        for i, c in enumerate(link.store_cidrs):
            data[f"out-{link.site}-store-{i}"] = Rule("EGRESS", c, link.purpose, port=link.store_port)
    app = {
        "out-data": Rule("EGRESS", str(args.data_cidr), "data services", port=port),
        "out-services": Rule("EGRESS", services, "Oracle services", "SERVICE_CIDR_BLOCK", port=port),
        "out-internet": Rule(
            "EGRESS", ANYWHERE, "HTTPS egress, through the firewall to the NAT gateway", port=port
        ),
    }
    return {"data": data, "app": app}


def _oracle_services(result: oci.core.GetServicesResult) -> pulumi.Input[dict[str, str]]:
    """The region's "All ... Services" object; failing loudly beats a gateway to nothing."""
    if result.services is None:
        return not_answered()  # offline: see components/lookups.py
    for svc in result.services:
        if svc.name.startswith("All ") and svc.name.endswith("Services In Oracle Services Network"):
            return {"id": svc.id, "cidr_block": svc.cidr_block}
    raise LookupError("the region offers no 'All <region> Services In Oracle Services Network' service")


class RegionNetwork(pulumi.ComponentResource):
    """VCN, three private subnets, service + NAT gateways, DRG, IPSec to legacy sites, flow logs."""

    vcn: oci.core.Vcn
    subnets: dict[str, oci.core.Subnet]
    security_lists: dict[str, oci.core.SecurityList]
    default_security_list: oci.core.DefaultSecurityList
    nsgs: dict[str, oci.core.NetworkSecurityGroup]
    service_gateway: oci.core.ServiceGateway
    drg: oci.core.Drg
    cpes: dict[str, oci.core.Cpe]
    ipsec_connections: dict[str, oci.core.Ipsec]
    flow_logs: dict[str, oci.logging.Log]
    service_id: pulumi.Output[str]
    service_cidr_label: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:network:RegionNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        common: dict[str, Any] = {"compartment_id": args.compartment_id, "freeform_tags": tags}

        self.vcn = oci.core.Vcn(
            f"{name}-vcn",
            cidr_blocks=[str(args.vcn_cidr)],
            display_name=f"{args.display_prefix}-vcn",
            dns_label=args.dns_label,
            opts=child,
            **common,
        )
        common["vcn_id"] = self.vcn.id
        # CIS OCI 2.5: the default security list restricts all traffic except ICMP within the
        # VCN. OCI creates it with ingress from 0.0.0.0/0 on TCP 22 and egress to anywhere
        # (OCI Networking, "Default Security List"), and any subnet created without lists gets
        # it: taken over here (`manage_default_resource_id`), it keeps only path-MTU discovery
        # (ICMP type 3 code 4) from the VCN itself and no egress at all.
        self.default_security_list = oci.core.DefaultSecurityList(
            f"{name}-sl-default",
            manage_default_resource_id=self.vcn.default_security_list_id,
            display_name=f"{args.display_prefix}-sl-default",
            ingress_security_rules=[
                oci.core.DefaultSecurityListIngressSecurityRuleArgs(
                    protocol=ICMP,
                    source=str(args.vcn_cidr),
                    source_type="CIDR_BLOCK",
                    description="path MTU discovery within the VCN (CIS 2.5)",
                    stateless=False,
                    icmp_options=oci.core.DefaultSecurityListIngressSecurityRuleIcmpOptionsArgs(
                        type=3, code=4
                    ),
                )
            ],
            egress_security_rules=[],
            compartment_id=args.compartment_id,
            freeform_tags=tags,
            opts=child,
        )

        # Looked up on this region's provider (the invoke inherits it through parent=self).
        services = oci.core.get_services_output(
            filters=[oci.core.GetServicesFilterArgs(name="name", values=[ALL_SERVICES_PATTERN], regex=True)],
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).apply(_oracle_services)
        self.service_id = services.apply(lambda s: s["id"])
        self.service_cidr_label = services.apply(lambda s: s["cidr_block"])

        self.service_gateway = oci.core.ServiceGateway(
            f"{name}-sgw",
            display_name=f"{args.display_prefix}-sgw",
            services=[oci.core.ServiceGatewayServiceArgs(service_id=self.service_id)],
            opts=child,
            **common,
        )
        # The NAT gateway is components/routing.py's: it needs its own route table, which sends
        # replies through the firewall, and so comes after the firewall.

        self.security_lists = {}
        for role, ruleset in security_list_rules(args, self.service_cidr_label).items():
            self.security_lists[role] = oci.core.SecurityList(
                f"{name}-sl-{role}",
                display_name=f"{args.display_prefix}-sl-{role}",
                ingress_security_rules=[_sl_ingress(r) for r in ruleset.direction("INGRESS")],
                egress_security_rules=[_sl_egress(r) for r in ruleset.direction("EGRESS")],
                opts=child,
                **common,
            )

        self.subnets = {}
        for role in SUBNET_ROLES:
            self.subnets[role] = oci.core.Subnet(
                f"{name}-subnet-{role}",
                cidr_block=str(args.cidr(role)),
                display_name=f"{args.display_prefix}-subnet-{role}",
                dns_label=role[:4],
                # Private by construction: even a misattached route or security list cannot
                # give a VNIC here a public address or admit internet-initiated traffic.
                prohibit_public_ip_on_vnic=True,
                prohibit_internet_ingress=True,
                security_list_ids=[self.security_lists[role].id],
                opts=child,
                **common,
            )

        self.nsgs = {}
        for role, rules in nsg_rules(args, self.service_cidr_label).items():
            nsg = oci.core.NetworkSecurityGroup(
                f"{name}-nsg-{role}",
                display_name=f"{args.display_prefix}-nsg-{role}",
                opts=child,
                **common,
            )
            self.nsgs[role] = nsg
            for rule_name, rule in rules.items():
                _nsg_rule(f"{name}-nsg-{role}-{rule_name}", nsg, rule, pulumi.ResourceOptions(parent=self))

        self.drg = oci.core.Drg(
            f"{name}-drg",
            compartment_id=args.compartment_id,
            display_name=f"{args.display_prefix}-drg",
            freeform_tags=tags,
            opts=child,
        )
        self.cpes, self.ipsec_connections = {}, {}
        for link in args.legacy_links:
            self.cpes[link.site] = oci.core.Cpe(
                f"{name}-cpe-{link.site}",
                compartment_id=args.compartment_id,
                ip_address=link.cpe_ip,
                display_name=f"{args.display_prefix}-cpe-{link.site}",
                freeform_tags=tags,
                opts=child,
            )
            # Static routes name only the site's own CIDR: the tunnel carries nothing else.
            self.ipsec_connections[link.site] = oci.core.Ipsec(
                f"{name}-ipsec-{link.site}",
                compartment_id=args.compartment_id,
                cpe_id=self.cpes[link.site].id,
                drg_id=self.drg.id,
                static_routes=[str(link.cidr)],
                cpe_local_identifier=link.cpe_ip,
                cpe_local_identifier_type="IP_ADDRESS",
                display_name=f"{args.display_prefix}-ipsec-{link.site}",
                # Which site the tunnel reaches, for the residency map (preflight/inventory.py).
                freeform_tags={**tags, "legacy-site": link.site},
                opts=child,
            )

        self.flow_logs = {
            role: service_log(
                f"{name}-flow-log-{role}",
                display_name=f"{args.display_prefix}-flow-log-{role}",
                log_group_id=args.log_group_id,
                service="flowlogs",
                resource=subnet.id,
                category="all",
                tags=tags,
                retention_days=args.flow_log_retention_days,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role, subnet in self.subnets.items()
        }

        self.register_outputs(
            {
                "vcn_id": self.vcn.id,
                "subnet_ids": {role: s.id for role, s in self.subnets.items()},
                "drg_id": self.drg.id,
                "service_gateway_id": self.service_gateway.id,
                "ipsec_connection_ids": {site: c.id for site, c in self.ipsec_connections.items()},
            }
        )


def _tcp_ports(rule: Rule) -> tuple[int, int] | None:
    return (rule.port, rule.port) if rule.protocol == TCP and rule.port is not None else None


def _sl_ingress(rule: Rule) -> oci.core.SecurityListIngressSecurityRuleArgs:
    ports = _tcp_ports(rule)
    return oci.core.SecurityListIngressSecurityRuleArgs(
        protocol=rule.protocol,
        source=rule.peer,
        source_type=rule.peer_type,
        description=rule.description,
        stateless=False,
        tcp_options=oci.core.SecurityListIngressSecurityRuleTcpOptionsArgs(min=ports[0], max=ports[1])
        if ports
        else None,
    )


def _sl_egress(rule: Rule) -> oci.core.SecurityListEgressSecurityRuleArgs:
    ports = _tcp_ports(rule)
    return oci.core.SecurityListEgressSecurityRuleArgs(
        protocol=rule.protocol,
        destination=rule.peer,
        destination_type=rule.peer_type,
        description=rule.description,
        stateless=False,
        tcp_options=oci.core.SecurityListEgressSecurityRuleTcpOptionsArgs(min=ports[0], max=ports[1])
        if ports
        else None,
    )


def _nsg_rule(
    resource_name: str, nsg: oci.core.NetworkSecurityGroup, rule: Rule, opts: pulumi.ResourceOptions
) -> oci.core.NetworkSecurityGroupSecurityRule:
    ports = _tcp_ports(rule)
    tcp = (
        oci.core.NetworkSecurityGroupSecurityRuleTcpOptionsArgs(
            destination_port_range=oci.core.NetworkSecurityGroupSecurityRuleTcpOptionsDestinationPortRangeArgs(
                min=ports[0], max=ports[1]
            )
        )
        if ports
        else None
    )
    ingress = rule.direction == "INGRESS"
    peer: dict[str, Any] = (
        {"source": rule.peer, "source_type": rule.peer_type}
        if ingress
        else {"destination": rule.peer, "destination_type": rule.peer_type}
    )
    return oci.core.NetworkSecurityGroupSecurityRule(
        resource_name,
        network_security_group_id=nsg.id,
        direction=rule.direction,
        protocol=rule.protocol,
        description=rule.description,
        stateless=False,
        tcp_options=tcp,
        opts=opts,
        **peer,
    )
