"""USDR-SEC-20: traffic reaches the internet only through a network firewall (issue 13 item 7).

Egress is a residency control too: a host that can open a connection to the internet without
the firewall seeing it can carry US user data anywhere. A route table routes to the internet
when one of its rules targets a NAT gateway or an internet gateway, judged by the target's value:
an OCID of type `natgateway`/`internetgateway`, the id of such a gateway in the stack, or (ids
unknown, as in a preview) a recorded dependency of `routeRules` on one. Such a table may be used
only by subnets that a NetworkFirewall sits in:

* a subnet uses a table by its `routeTableId` or through a RouteTableAttachment; a subnet with
  neither uses its VCN's default table (a DefaultRouteTable managing `defaultRouteTableId`);
* anything else that names the table (a DRG attachment's ingress table, a gateway's own table,
  another VCN's peering) hands traffic that did not come from the firewall to the internet;
* a table that routes to the internet and that no firewall subnet uses is refused as well: the
  first subnet attached to it later (from the console, another program) would bypass the gate.

The firewall subnet holds the firewall alone: any other resource placed in it (an instance's
VNIC, a load balancer) sends its traffic to the gateway uninspected. Only the firewall, route
table attachments and flow logs may refer to it.

Fails closed: a rule whose target is unknown and depends on nothing in the stack, and a subnet
whose table is not in the stack (an OCID from elsewhere), cannot be judged and are findings.
A local peering gateway leads to another VCN, whose routing this stack does not show: that VCN's
own stack is judged by the same rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from locations import OCID
from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown, items, leaves, text
from stack_graph import of_type, refers_to

SUBNET = "oci:Core/subnet:Subnet"
VCN = "oci:Core/vcn:Vcn"
ROUTE_TABLE = "oci:Core/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "oci:Core/defaultRouteTable:DefaultRouteTable"
ATTACHMENT = "oci:Core/routeTableAttachment:RouteTableAttachment"
NAT_GATEWAY = "oci:Core/natGateway:NatGateway"
INTERNET_GATEWAY = "oci:Core/internetGateway:InternetGateway"
FIREWALL = "oci:NetworkFirewall/networkFirewall:NetworkFirewall"
LOG = "oci:Logging/log:Log"
GATEWAYS = {NAT_GATEWAY: "NAT gateway", INTERNET_GATEWAY: "internet gateway"}
# OCID resource types of the gateways (docs.oracle.com, "Resource Identifiers":
# ocid1.<resource type>.<realm>.<region>.<unique id>; the Networking API's NatGateway and
# InternetGateway ids are ocid1.natgateway... and ocid1.internetgateway...).
GATEWAY_OCID_TYPES = {"natgateway": "NAT gateway", "internetgateway": "internet gateway"}
# What may refer to a firewall subnet: the firewall, the subnet's table attachment, its flow log,
# and route tables (a rule targeting the firewall's private IP is computed from the subnet; a
# table is not placed in a subnet). Subnets themselves place nothing in one another.
IN_FIREWALL_SUBNET = frozenset({FIREWALL, ATTACHMENT, LOG, ROUTE_TABLE, DEFAULT_ROUTE_TABLE, SUBNET})

META = Meta(
    name="security-egress-through-firewall",
    control="USDR-SEC-20",
    title="Internet egress only through the firewall",
    description="A route table that targets a NAT or internet gateway is used only by subnets a network "
    "firewall sits in, and nothing but the firewall is placed in those subnets.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation="Route the subnet's 0.0.0.0/0 to the firewall's private IP (components/routing.py does), "
    "and give only the firewall subnet's table a route to the NAT gateway. Place hosts in the app or data "
    "subnets, never in the firewall subnet.",
)


def _gateway_of(
    rule: object, index: int, table: Resource, gateways: Sequence[Resource]
) -> tuple[str, str | None]:
    """(what the rule's target is, if it is a gateway to the internet) -> (label, problem).

    The label names the gateway ("" when the target is not one); the problem says why the
    target cannot be judged."""
    target = get(rule, "networkEntityId")
    if text(target):
        found = OCID.match(str(target))
        if found and found[1].lower() in GATEWAY_OCID_TYPES:
            return f"{GATEWAY_OCID_TYPES[found[1].lower()]} {target}", None
        for g in gateways:
            if text(g.props.get("id")) and g.props.get("id") == target:
                return f"{GATEWAYS[g.type]} {g.name}", None
        return "", None
    via = [g for g in gateways if table.depends_on(g.urn, "routeRules")]
    if via:
        return " / ".join(f"{GATEWAYS[g.type]} {g.name}" for g in via), None
    if is_unknown(target) and table.property_dependencies.get("routeRules"):
        return "", None  # computed from something in the stack that is not a gateway
    what = "unknown" if is_unknown(target) else "missing"
    return "", (
        f"routeRules.{index}.networkEntityId is {what} and depends on nothing in the stack: "
        "whether it leads to the internet around the firewall cannot be told"
    )


def _internet_routes(table: Resource, gateways: Sequence[Resource]) -> tuple[list[str], list[str]]:
    """(routes to the internet as 'destination -> gateway', problems) of one table."""
    rules = table.props.get("routeRules")
    if is_unknown(rules):
        via = [g for g in gateways if table.depends_on(g.urn, "routeRules")]
        if via:
            return [f"(computed rules) -> {GATEWAYS[g.type]} {g.name}" for g in via], []
        if table.property_dependencies.get("routeRules"):
            return [], []
        return [], ["routeRules is unknown and depends on nothing in the stack: it cannot be judged"]
    routes, problems = [], []
    for i, rule in enumerate(items(rules)):
        gateway, problem = _gateway_of(rule, i, table, gateways)
        if problem:
            problems.append(problem)
        elif gateway:
            routes.append(f"{get(rule, 'destination') or '(no destination)'} -> {gateway}")
    return routes, problems


class _Referrers:
    """Which custom resources name a resource, by a prop's value (its id) or by a recorded
    dependency: indexed once per stack, so judging a table or a subnet does not walk every
    resource's props again (the per-stack hot path). The index is built at the first question:
    a stack without a route to the internet or a firewall subnet never needs it."""

    def __init__(self, custom: Sequence[Resource]) -> None:
        self.custom = custom
        self.order: dict[str, int] = {}
        self.by_value: dict[str, dict[str, Resource]] = {}
        self.by_dependency: dict[str, dict[str, Resource]] = {}
        self.indexed = False

    def _index(self) -> None:
        self.indexed = True
        self.order = {r.urn: i for i, r in enumerate(self.custom)}
        for r in self.custom:
            for _, v in leaves(r.props):
                if isinstance(v, str):
                    self.by_value.setdefault(v, {})[r.urn] = r
            for urn in (*r.dependencies, *(u for deps in r.property_dependencies.values() for u in deps)):
                self.by_dependency.setdefault(urn, {})[r.urn] = r

    def of(self, target: Resource) -> list[Resource]:
        if not self.indexed:
            self._index()
        own = target.props.get("id")
        found = {**self.by_dependency.get(target.urn, {})}
        if text(own):
            found.update(self.by_value.get(str(own), {}))
        found.pop(target.urn, None)
        return sorted(found.values(), key=lambda r: self.order[r.urn])


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    del cfg  # the rule is the same in every region
    subnets = of_type(resources, SUBNET)
    firewalls = of_type(resources, FIREWALL)
    attachments = of_type(resources, ATTACHMENT)
    gateways = of_type(resources, NAT_GATEWAY, INTERNET_GATEWAY)
    tables = of_type(resources, ROUTE_TABLE, DEFAULT_ROUTE_TABLE)
    vcns = of_type(resources, VCN)
    fw_subnets = {s.urn for s in subnets if any(refers_to(f, "subnetId", s) for f in firewalls)}
    referrers = _Referrers(_custom(resources))

    for table in tables:
        routes, problems = _internet_routes(table, gateways)
        for problem in problems:
            yield table.urn, f"route table {table.name}: {problem}"
        if not routes:
            continue
        sends = f"route table {table.name} sends {', '.join(routes)}"
        users: list[tuple[str, bool]] = []  # (what uses the table, is it a firewall subnet)
        for s in subnets:
            if refers_to(s, "routeTableId", table):
                users.append((f"subnet {s.name}", s.urn in fw_subnets))
        for a in attachments:
            if refers_to(a, "routeTableId", table):
                to = [s for s in subnets if refers_to(a, "subnetId", s)]
                if not to:
                    users.append((f"attachment {a.name} (to a subnet outside the stack)", False))
                users += [(f"subnet {s.name} (attachment {a.name})", s.urn in fw_subnets) for s in to]
        if table.type == DEFAULT_ROUTE_TABLE:
            vcn = [v for v in vcns if refers_to(table, "manageDefaultResourceId", v, "defaultRouteTableId")]
            if not vcn:
                users.append(("the subnets of a VCN outside the stack", False))
            for s in subnets:
                if any(refers_to(s, "vcnId", v) for v in vcn) and _uses_default(s, attachments):
                    users.append((f"subnet {s.name} (the VCN's default table)", s.urn in fw_subnets))
        others = [r for r in referrers.of(table) if r.type not in (SUBNET, ATTACHMENT)]
        users += [(f"{r.name} ({r.type})", False) for r in others]
        bad = [who for who, ok in users if not ok]
        if bad:
            yield (
                table.urn,
                (
                    f"{sends}, and is used by {', '.join(bad)}, which no network firewall sits in: "
                    "that traffic reaches the internet uninspected"
                ),
            )
        elif not users:
            yield (
                table.urn,
                (
                    f"{sends}, but no firewall subnet uses it: the first subnet attached to it would "
                    "reach the internet around the firewall"
                ),
            )

    for s in subnets:
        if s.urn in fw_subnets:
            for r in referrers.of(s):
                if r.type not in IN_FIREWALL_SUBNET:
                    yield (
                        r.urn,
                        (
                            f"{r.name} ({r.type}) is placed in firewall subnet {s.name}: traffic from "
                            "there goes to the gateway without passing the firewall"
                        ),
                    )
            continue
        table_id = s.props.get("routeTableId")
        if text(table_id) and not any(refers_to(s, "routeTableId", t) for t in tables):
            yield (
                s.urn,
                (
                    f"subnet {s.name} uses route table {table_id}, which is not in the stack: whether its "
                    "traffic passes the firewall cannot be told"
                ),
            )


def _custom(resources: Sequence[Resource]) -> list[Resource]:
    """Custom resources only: a component (no provider) places and routes nothing itself; its
    outputs naming a table or a subnet are not a use of it."""
    return [r for r in resources if r.provider is not None]


def _uses_default(subnet: Resource, attachments: Sequence[Resource]) -> bool:
    """A subnet with no table of its own and none attached uses its VCN's default table."""
    if subnet.props.get("routeTableId") is not None or subnet.property_dependencies.get("routeTableId"):
        return False
    return not any(refers_to(a, "subnetId", subnet) for a in attachments)


POLICY = stack_policy(META, check)
