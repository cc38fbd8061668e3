"""Route tables that steer a region's data flows through its network firewall.

Built after the firewall because every steering rule targets the firewall's private IP; the NAT
gateway is created here too, after its route table (which targets the firewall).

- data subnet: to the app subnet and to each linked legacy site's store (its addresses only,
  components/legacy_links.py) -> firewall; Oracle services -> service gateway (private,
  in-region; Object Storage and Vault are reached without leaving OCI).
- app subnet: to the data subnet -> firewall; Oracle services -> service gateway; anything else
  (the internet) -> firewall too: egress is a residency control, so it is inspected like every
  other flow, never sent straight to the NAT gateway (issue 13 item 7). Apps have no route of
  their own to a legacy site: what they send there follows the default route to the firewall,
  which rejects app traffic to private addresses.
- firewall subnet: legacy stores -> DRG (after inspection); Oracle services -> service gateway;
  anything else -> NAT gateway (inspected egress, egress-only).
- NAT gateway (its own route table, `route_table_id`): replies for the app subnet -> firewall, so
  the firewall sees both directions of an egress connection. Without a table the NAT gateway
  hands replies straight to the app subnet (the pulumi-oci NatGateway docstring: "the NAT
  gateway is created without an associated route table"), the firewall sees half a connection,
  and a stateful firewall drops or misses the rest. A NAT gateway's route table may only target
  private IPs (OCI Networking, "Route Table for a NAT Gateway"); this one targets the firewall's.
- DRG attachment (VCN ingress table): traffic arriving from a legacy site for the data or app
  subnet -> firewall: the replies of the sessions US hosts opened to a store are inspected, and
  anything a site tries to open is rejected there (components/firewall.py), never delivered
  straight to a subnet by the VCN's local routing.

No table has a route to an internet gateway: the VCN has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Literal

import pulumi
import pulumi_oci as oci

from components.legacy_links import LegacyLink

Target = Literal["firewall", "service_gateway", "nat_gateway", "drg"]
TABLES = ("data", "app", "firewall", "drg-ingress", "nat-return")
SUBNET_TABLES = ("data", "app", "firewall")


@dataclass(frozen=True)
class Route:
    destination: str  # a CIDR, or "services" for the region's Oracle services label
    target: Target
    description: str


@dataclass(frozen=True)
class RoutingArgs:
    compartment_id: pulumi.Input[str]
    display_prefix: str
    vcn_id: pulumi.Input[str]
    subnet_ids: Mapping[str, pulumi.Input[str]]  # data, app, firewall
    data_cidr: IPv4Network
    app_cidr: IPv4Network
    legacy_links: tuple[LegacyLink, ...]  # the sites linked to this region
    firewall_private_ip_id: pulumi.Input[str]
    service_gateway_id: pulumi.Input[str]
    service_cidr_label: pulumi.Input[str]
    drg_id: pulumi.Input[str]
    tags: Mapping[str, str]


def route_plan(args: RoutingArgs) -> dict[str, tuple[Route, ...]]:
    """Which destination goes where, per table (pure data, so it can be read and tested)."""
    stores = [(c, link.site) for link in args.legacy_links for c in link.store_cidrs]
    services = Route("services", "service_gateway", "Oracle services, privately")
    return {
        "data": (
            Route(str(args.app_cidr), "firewall", "to apps, inspected"),
            *(Route(c, "firewall", f"to {s}'s store, inspected") for c, s in stores),
            services,
        ),
        "app": (
            Route(str(args.data_cidr), "firewall", "to data, inspected"),
            services,
            Route("0.0.0.0/0", "firewall", "internet egress, inspected"),
        ),
        "firewall": (
            *(Route(c, "drg", f"inspected traffic to {s}'s store") for c, s in stores),
            services,
            Route("0.0.0.0/0", "nat_gateway", "inspected internet egress, egress-only"),
        ),
        "drg-ingress": (
            Route(str(args.data_cidr), "firewall", "legacy stores' replies to data, inspected"),
            Route(str(args.app_cidr), "firewall", "from legacy sites to apps: rejected at the firewall"),
        ),
        "nat-return": (Route(str(args.app_cidr), "firewall", "replies to app egress, inspected"),),
    }


class FirewallRouting(pulumi.ComponentResource):
    """Five route tables, their subnet attachments, the DRG's VCN attachment and the NAT gateway."""

    route_tables: dict[str, oci.core.RouteTable]
    nat_gateway: oci.core.NatGateway
    attachments: dict[str, oci.core.RouteTableAttachment]
    drg_attachment: oci.core.DrgAttachment

    def __init__(self, name: str, args: RoutingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:network:FirewallRouting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        targets: dict[Target, pulumi.Input[str]] = {
            "firewall": args.firewall_private_ip_id,
            "service_gateway": args.service_gateway_id,
            "drg": args.drg_id,
        }

        def rule(route: Route) -> oci.core.RouteTableRouteRuleArgs:
            if route.destination == "services":
                return oci.core.RouteTableRouteRuleArgs(
                    destination=args.service_cidr_label,
                    destination_type="SERVICE_CIDR_BLOCK",
                    network_entity_id=targets[route.target],
                    description=route.description,
                )
            return oci.core.RouteTableRouteRuleArgs(
                destination=route.destination,
                destination_type="CIDR_BLOCK",
                network_entity_id=targets[route.target],
                description=route.description,
            )

        def table(key: str, routes: tuple[Route, ...]) -> oci.core.RouteTable:
            return oci.core.RouteTable(
                f"{name}-rt-{key}",
                compartment_id=args.compartment_id,
                vcn_id=args.vcn_id,
                display_name=f"{args.display_prefix}-rt-{key}",
                route_rules=[rule(r) for r in routes],
                freeform_tags=dict(args.tags),
                opts=child,
            )

        plan = route_plan(args)
        # The NAT gateway's own table first (it targets the firewall only), then the gateway
        # with it, then the tables that send inspected egress to the gateway.
        nat_return = table("nat-return", plan["nat-return"])
        # Egress-only: a NAT gateway admits no connection initiated from outside.
        self.nat_gateway = oci.core.NatGateway(
            f"{name}-nat",
            compartment_id=args.compartment_id,
            vcn_id=args.vcn_id,
            display_name=f"{args.display_prefix}-nat",
            block_traffic=False,
            route_table_id=nat_return.id,
            freeform_tags=dict(args.tags),
            opts=child,
        )
        targets["nat_gateway"] = self.nat_gateway.id
        self.route_tables = {"nat-return": nat_return}
        for key, routes in plan.items():
            if key != "nat-return":
                self.route_tables[key] = table(key, routes)
        self.attachments = {
            table: oci.core.RouteTableAttachment(
                f"{name}-rta-{table}",
                subnet_id=args.subnet_ids[table],
                route_table_id=self.route_tables[table].id,
                opts=child,
            )
            for table in SUBNET_TABLES
        }
        self.drg_attachment = oci.core.DrgAttachment(
            f"{name}-drg-attachment",
            drg_id=args.drg_id,
            display_name=f"{args.display_prefix}-drg-attachment",
            network_details=oci.core.DrgAttachmentNetworkDetailsArgs(
                type="VCN",
                id=args.vcn_id,
                # Ingress routing: what arrives from the DRG is sent to the firewall first.
                route_table_id=self.route_tables["drg-ingress"].id,
            ),
            freeform_tags=dict(args.tags),
            opts=child,
        )
        self.register_outputs(
            {
                "route_table_ids": {t: rt.id for t, rt in self.route_tables.items()},
                "drg_attachment_id": self.drg_attachment.id,
                "nat_gateway_id": self.nat_gateway.id,
            }
        )
