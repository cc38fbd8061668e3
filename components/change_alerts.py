"""Notifications for network and key changes, and Cloud Guard problems (CIS OCI 4.x), per region.

The same mechanism as the break-glass alerts (components/break_glass.py: `email_topic`,
`ons_rule`, `event_condition`): Events rules in the root compartment, which "apply to events in
the compartment in which you create them and any child compartments" (pulumi-oci `events.Rule`
docstring), publishing to a Notifications topic whose e-mail recipients are the security
recipients (accessTeam.breakGlass.notify). Events are regional and a rule publishes only to a
topic in its own region, so every stack region has its rules; in the home region they publish
to the break-glass topic itself (`topic_id`), elsewhere to the region's own `<name>-topic`.

- `network-changes`: CIS OCI 4.8-4.12 (VCN, route table, security list, NSG, network gateway
  changes), the event types of Core Landing Zone's `network` category
  (oci-landing-zones/terraform-oci-modules-observability events/preconfigured_events.tf);
- `key-changes`: the vault and key changes that can make US data unreadable or move a key out of
  its compartment (disable, schedule deletion, change compartment, a vault replica created or
  deleted), OCI docs "Events for Vaults and Keys"
  (https://docs.oracle.com/iaas/Content/KeyManagement/Tasks/event_notification.htm). CIS OCI 4.16
  asks that keys rotate, which the keys do themselves (components/kms.py); a change to a key is
  what an attacker's first step would look like;
- `cloud-guard-problems` (the reporting region only: Cloud Guard emits its events there): CIS OCI
  4.15, Core Landing Zone's `cloudguard` category.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

from components.break_glass import email_topic, event_condition, ons_rule

_VCN = "com.oraclecloud.virtualnetwork."
NETWORK_CHANGE_EVENTS: tuple[str, ...] = (
    *(
        _VCN + op
        for op in (
            # CIS 4.8 VCN
            "createvcn",
            "deletevcn",
            "updatevcn",
            # CIS 4.9 route tables
            "createroutetable",
            "deleteroutetable",
            "updateroutetable",
            "changeroutetablecompartment",
            # CIS 4.10 security lists
            "createsecuritylist",
            "deletesecuritylist",
            "updatesecuritylist",
            "changesecuritylistcompartment",
            # CIS 4.11 network security groups
            "createnetworksecuritygroup",
            "deletenetworksecuritygroup",
            "updatenetworksecuritygroup",
            "updatenetworksecuritygroupsecurityrules",
            "changenetworksecuritygroupcompartment",
            # CIS 4.12 network gateways
            "createdrg",
            "deletedrg",
            "updatedrg",
            "createdrgattachment",
            "deletedrgattachment",
            "updatedrgattachment",
            "createinternetgateway",
            "deleteinternetgateway",
            "updateinternetgateway",
            "changeinternetgatewaycompartment",
            "createlocalpeeringgateway",
            "deletelocalpeeringgateway.end",
            "updatelocalpeeringgateway",
            "changelocalpeeringgatewaycompartment",
        )
    ),
    "com.oraclecloud.natgateway.createnatgateway",
    "com.oraclecloud.natgateway.deletenatgateway",
    "com.oraclecloud.natgateway.updatenatgateway",
    "com.oraclecloud.natgateway.changenatgatewaycompartment",
    "com.oraclecloud.servicegateway.createservicegateway",
    "com.oraclecloud.servicegateway.deleteservicegateway.end",
    "com.oraclecloud.servicegateway.attachserviceid",
    "com.oraclecloud.servicegateway.detachserviceid",
    "com.oraclecloud.servicegateway.updateservicegateway",
    "com.oraclecloud.servicegateway.changeservicegatewaycompartment",
)
_KMS = "com.oraclecloud.keymanagementservice."
KEY_CHANGE_EVENTS: tuple[str, ...] = (
    *(
        f"{_KMS}{op}.end"
        for op in (
            "disablekey",
            "enablekey",
            "schedulekeydeletion",
            "cancelkeydeletion",
            "changekeycompartment",
            "schedulevaultdeletion",
            "cancelvaultdeletion",
            "changevaultcompartment",
        )
    ),
    # Spelled with capitals on the docs page, as OCI emits them.
    "com.oraclecloud.KeyManagementService.CreateVaultReplica.end",
    "com.oraclecloud.KeyManagementService.DeleteVaultReplica.end",
)
CLOUD_GUARD_EVENTS: tuple[str, ...] = (
    "com.oraclecloud.cloudguard.problemdetected",
    "com.oraclecloud.cloudguard.problemdismissed",
    "com.oraclecloud.cloudguard.problemremediated",
)


@dataclass(frozen=True)
class ChangeAlertsArgs:
    tenancy_ocid: str  # the rules live in the root compartment: they see every compartment
    topic_compartment_id: pulumi.Input[str]  # the security compartment
    display_prefix: str  # the region's prefix, e.g. "usdr-prod-phx"
    notify: tuple[str, ...]
    tags: Mapping[str, str]
    # The home region's break-glass topic: publish there instead of creating a topic.
    topic_id: pulumi.Input[str] | None = None
    cloud_guard_problems: bool = False  # the reporting region only


class ChangeAlerts(pulumi.ComponentResource):
    """Rules `<name>-network-changes`, `<name>-key-changes` [, `<name>-cloud-guard-problems`],
    and `<name>-topic` with its subscriptions unless `topic_id` is given."""

    topic_id: pulumi.Output[str]
    rules: dict[str, oci.events.Rule]

    def __init__(self, name: str, args: ChangeAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:monitoring:ChangeAlerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.topic_id is not None:
            self.topic_id = pulumi.Output.from_input(args.topic_id)
        else:
            if not args.notify:
                raise ValueError(f"{name}: nobody to notify: a network or key change would go unnoticed")
            topic, _ = email_topic(
                name,
                compartment_id=args.topic_compartment_id,
                topic_name=f"{args.display_prefix}-changes",
                description="Network and key changes in this region (CIS OCI 4.8-4.12)",
                notify=args.notify,
                tags=args.tags,
                opts=child,
            )
            self.topic_id = topic.id
        rules = [
            ("network-changes", NETWORK_CHANGE_EVENTS, "VCN, route, security list, NSG and gateway changes"),
            ("key-changes", KEY_CHANGE_EVENTS, "Vault and key changes: disable, delete, move, replicas"),
        ]
        if args.cloud_guard_problems:
            rules.append(("cloud-guard-problems", CLOUD_GUARD_EVENTS, "Cloud Guard problems"))
        self.rules = {
            role: ons_rule(
                f"{name}-{role}",
                compartment_id=args.tenancy_ocid,
                display_name=f"{args.display_prefix}-{role}",
                description=description,
                condition=event_condition(events),
                topic_id=self.topic_id,
                tags=args.tags,
                opts=child,
            )
            for role, events, description in rules
        }
        self.register_outputs({"topic_id": self.topic_id})
