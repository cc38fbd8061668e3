"""A region's OCI Network Firewall with intrusion detection/prevention, and its policy.

The policy INSPECTs (IDS or IPS, from settings) every flow to or from the data subnet, the data
subnet's sessions to the store of each legacy site linked to this region (its addresses, its
HTTPS port: components/legacy_links.py), and the app subnets' egress to the internet (the route
tables send it here before the NAT gateway: components/routing.py). It REJECTs, first, every
session a legacy site opens, then any other flow to a legacy site; app traffic to any other
private address, and everything else. The firewall is stateful: the replies of a session it
admitted are part of that session, not new flows for the rules. Threat and traffic logs go to
the region's log group.

Why the policy is named by a content hash (docs/firewall-policy-rollout.md has the runbook):
OCI refuses to edit a policy that is attached to a firewall. So a policy is never edited: its
display name carries a hash of its address lists and rules, `replace_on_changes=["*"]` turns any
change into a replacement, and `delete_before_replace=False` makes Pulumi create the new policy
(and, because their parent policy id changes, its lists and rules) before the firewall is
switched to it; the old policy is deleted only after the switch. The firewall depends on every
list and rule of its policy, so it never points at a policy that is still being filled in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from ipaddress import IPv4Network
from typing import Literal

import pulumi
import pulumi_oci as oci

from components.legacy_links import LegacyLink
from components.logging import MAX_LOG_RETENTION_DAYS, service_log
from components.lookups import not_answered

IdsMode = Literal["INTRUSION_DETECTION", "INTRUSION_PREVENTION"]
FIREWALL_LOG_CATEGORIES = ("threatlog", "trafficlog")
HASH_LENGTH = 12
# RFC 1918 private space and RFC 6598 shared (carrier-grade NAT) space: never "the internet".
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")


@dataclass(frozen=True)
class AddressList:
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    """A TCP port, as a policy's services name one (type TCP_SERVICE: the OCI Network Firewall
    API's `CreateTcpServiceDetails`; its port range's maximum may be absent for one port)."""

    name: str
    port: int


@dataclass(frozen=True)
class ServiceList:
    name: str
    services: tuple[str, ...]  # Service names


@dataclass(frozen=True)
class SecurityRule:
    name: str
    action: Literal["INSPECT", "REJECT"]
    inspection: IdsMode | None
    sources: tuple[str, ...]  # address list names; empty = any
    destinations: tuple[str, ...]  # address list names; empty = any
    services: tuple[str, ...] = ()  # service list names; empty = any protocol and port


@dataclass(frozen=True)
class PolicySpec:
    """The whole content of a firewall policy, in evaluation order."""

    address_lists: tuple[AddressList, ...]
    rules: tuple[SecurityRule, ...]
    services: tuple[Service, ...] = ()
    service_lists: tuple[ServiceList, ...] = ()

    def content_hash(self) -> str:
        """A stable digest of the content: equal content, equal hash; any change, new hash."""
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]


@dataclass(frozen=True)
class FirewallArgs:
    compartment_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]  # the network's firewall subnet
    display_prefix: str
    log_group_id: pulumi.Input[str]
    tags: Mapping[str, str]
    vcn_cidr: IPv4Network
    data_cidrs: tuple[IPv4Network, ...]
    legacy_links: tuple[LegacyLink, ...]  # the sites linked to this region
    # Subnets whose internet egress the route tables steer through the firewall; empty: none.
    app_cidrs: tuple[IPv4Network, ...] = ()
    # Prevention (block on signature match) unless the stack asks for detection only.
    ids_mode: IdsMode = "INTRUSION_PREVENTION"
    log_retention_days: int = MAX_LOG_RETENTION_DAYS


def policy_spec(args: FirewallArgs) -> PolicySpec:
    """The policy content for `args`: inspect data and legacy flows, reject the rest."""
    lists = [
        AddressList("vcn", (str(args.vcn_cidr),)),
        AddressList("data-subnets", tuple(str(c) for c in args.data_cidrs)),
    ]
    rules: list[SecurityRule] = []
    services: dict[int, Service] = {}
    if args.legacy_links:
        # A legacy site is restore-only in both directions of the word: it never opens a
        # session (first rule), and the data subnet reaches its store on the store's port only
        # (one rule per site); whatever else is meant for a site is rejected before the data
        # rules below could admit it (components/legacy_links.py).
        lists.append(AddressList("legacy-sites", tuple(str(link.cidr) for link in args.legacy_links)))
        rules.append(SecurityRule("reject-from-legacy", "REJECT", None, ("legacy-sites",), ()))
        for link in args.legacy_links:
            lists.append(AddressList(f"store-{link.site}", link.store_cidrs))
            service = services.setdefault(link.store_port, Service(f"tcp-{link.store_port}", link.store_port))
            rules.append(
                SecurityRule(
                    f"{'replica' if link.replica else 'restore'}-{link.site}",
                    "INSPECT",
                    args.ids_mode,
                    ("data-subnets",),
                    (f"store-{link.site}",),
                    (f"{service.name}-list",),
                )
            )
        rules.append(SecurityRule("reject-to-legacy", "REJECT", None, (), ("legacy-sites",)))
    rules += [
        SecurityRule("inspect-to-data", "INSPECT", args.ids_mode, (), ("data-subnets",)),
        SecurityRule("inspect-from-data", "INSPECT", args.ids_mode, ("data-subnets",), ()),
    ]
    if args.app_cidrs:
        # Internet egress of the apps, inspected. The rules above already took app -> data (and
        # rejected app -> legacy); any other private address (another VCN, a peered network, a
        # site not linked here) is rejected before the egress rule could match it.
        lists += [
            AddressList("app-subnets", tuple(str(c) for c in args.app_cidrs)),
            AddressList("private-ranges", PRIVATE_RANGES),
        ]
        rules += [
            SecurityRule("reject-app-to-private", "REJECT", None, ("app-subnets",), ("private-ranges",)),
            SecurityRule("inspect-app-egress", "INSPECT", args.ids_mode, ("app-subnets",), ()),
        ]
    # Explicit last rule: whatever no rule above inspects is rejected (the client sees a reset
    # rather than a silent drop, which shortens debugging; nothing gets through either way).
    rules.append(SecurityRule("reject-all", "REJECT", None, (), ()))
    ordered = tuple(services[p] for p in sorted(services))
    return PolicySpec(
        tuple(lists),
        tuple(rules),
        ordered,
        tuple(ServiceList(f"{svc.name}-list", (svc.name,)) for svc in ordered),
    )


def _first_private_ip(result: oci.core.GetPrivateIpsResult) -> pulumi.Input[str]:
    if result.private_ips is None:
        return not_answered()  # offline: see components/lookups.py
    for ip in result.private_ips:
        return ip.id
    raise LookupError(f"no private IP {result.ip_address} found for the network firewall")


class RegionFirewall(pulumi.ComponentResource):
    """Network firewall in the firewall subnet + content-hashed policy + threat/traffic logs."""

    spec: PolicySpec
    policy_name: str
    policy: oci.networkfirewall.NetworkFirewallPolicy
    address_lists: dict[str, oci.networkfirewall.NetworkFirewallPolicyAddressList]
    services: dict[str, oci.networkfirewall.NetworkFirewallPolicyService]
    service_lists: dict[str, oci.networkfirewall.NetworkFirewallPolicyServiceList]
    rules: dict[str, oci.networkfirewall.NetworkFirewallPolicySecurityRule]
    firewall: oci.networkfirewall.NetworkFirewall
    logs: dict[str, oci.logging.Log]
    private_ip_id: pulumi.Output[str]

    def __init__(self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:firewall:RegionFirewall", name, None, opts)
        tags = dict(args.tags)
        self.spec = policy_spec(args)
        self.policy_name = f"{args.display_prefix}-fw-policy-{self.spec.content_hash()}"
        self.policy = oci.networkfirewall.NetworkFirewallPolicy(
            f"{name}-policy",
            compartment_id=args.compartment_id,
            display_name=self.policy_name,
            description="US data residency: inspect data-subnet and legacy-site flows, reject the rest.",
            freeform_tags=tags,
            # An attached policy cannot be edited in place: any change is a new policy, created
            # before the old one is deleted (see the module docstring).
            opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["*"], delete_before_replace=False),
        )
        child = pulumi.ResourceOptions(parent=self)

        self.address_lists = {
            al.name: oci.networkfirewall.NetworkFirewallPolicyAddressList(
                f"{name}-policy-list-{al.name}",
                network_firewall_policy_id=self.policy.id,
                name=al.name,
                type="IP",
                addresses=list(al.addresses),
                description=f"{al.name} of this region's estate",
                opts=child,
            )
            for al in self.spec.address_lists
        }

        # Services before the lists that name them: "The services referenced in the service list
        # must already be present in the policy" (pulumi-oci NetworkFirewallPolicyServiceList).
        self.services = {
            svc.name: oci.networkfirewall.NetworkFirewallPolicyService(
                f"{name}-policy-service-{svc.name}",
                network_firewall_policy_id=self.policy.id,
                name=svc.name,
                type="TCP_SERVICE",
                port_ranges=[
                    oci.networkfirewall.NetworkFirewallPolicyServicePortRangeArgs(minimum_port=svc.port)
                ],
                description=f"TCP {svc.port}",
                opts=child,
            )
            for svc in self.spec.services
        }
        self.service_lists = {
            sl.name: oci.networkfirewall.NetworkFirewallPolicyServiceList(
                f"{name}-policy-service-list-{sl.name}",
                network_firewall_policy_id=self.policy.id,
                name=sl.name,
                services=list(sl.services),
                description=f"{sl.name} of this region's estate",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.services[n] for n in sl.services]),
            )
            for sl in self.spec.service_lists
        }

        self.rules = {}
        previous: oci.networkfirewall.NetworkFirewallPolicySecurityRule | None = None
        for rule in self.spec.rules:
            # Rules are evaluated in order; each is placed after the previous one, and depends
            # on the address lists it names (referenced by name, so the dependency is explicit).
            used: list[pulumi.Resource] = [self.address_lists[n] for n in (*rule.sources, *rule.destinations)]
            used += [self.service_lists[n] for n in rule.services]
            current = oci.networkfirewall.NetworkFirewallPolicySecurityRule(
                f"{name}-policy-rule-{rule.name}",
                network_firewall_policy_id=self.policy.id,
                name=rule.name,
                action=rule.action,
                inspection=rule.inspection,
                condition=oci.networkfirewall.NetworkFirewallPolicySecurityRuleConditionArgs(
                    source_addresses=list(rule.sources),
                    destination_addresses=list(rule.destinations),
                    services=list(rule.services) or None,
                ),
                positions=[
                    oci.networkfirewall.NetworkFirewallPolicySecurityRulePositionArgs(
                        after_rule=previous.name
                    )
                ]
                if previous is not None
                else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=used),
            )
            self.rules[rule.name] = current
            previous = current

        self.firewall = oci.networkfirewall.NetworkFirewall(
            f"{name}-fw",
            compartment_id=args.compartment_id,
            subnet_id=args.subnet_id,
            network_firewall_policy_id=self.policy.id,
            display_name=f"{args.display_prefix}-fw",
            freeform_tags=tags,
            # Switch only to a complete policy: every list and rule exists before the update.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    *self.address_lists.values(),
                    *self.services.values(),
                    *self.service_lists.values(),
                    *self.rules.values(),
                ],
            ),
        )
        self.logs = {
            category: service_log(
                f"{name}-{category}",
                display_name=f"{args.display_prefix}-fw-{category}",
                log_group_id=args.log_group_id,
                service="ocinetworkfirewall",
                resource=self.firewall.id,
                category=category,
                tags=tags,
                retention_days=args.log_retention_days,
                opts=child,
            )
            for category in FIREWALL_LOG_CATEGORIES
        }
        # Route rules steer traffic to the firewall's private IP object, not to its address.
        found = oci.core.get_private_ips_output(
            ip_address=self.firewall.ipv4address,
            subnet_id=args.subnet_id,
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).apply(_first_private_ip)
        # ... and carry the firewall as their dependency. While the firewall is pending (a first
        # preview), the engine answers the lookup "unknown" and the SDK gives that answer no
        # dependencies (pulumi/runtime/invoke.py, `resp.unknown`): the route tables would point at
        # an unknown that depends on nothing, which the pack cannot tell from an internet route
        # (security-egress-through-firewall fails closed on it).
        self.private_ip_id = pulumi.Output.all(self.firewall.id, found).apply(lambda pair: pair[1])

        self.register_outputs(
            {
                "firewall_id": self.firewall.id,
                "policy_id": self.policy.id,
                "policy_name": self.policy_name,
                "private_ip_id": self.private_ip_id,
            }
        )
