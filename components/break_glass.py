"""Break glass: the tenancy's own administrators can reach everything, so their use is loud.

The built-in Administrators group of a tenancy has `manage all-resources in tenancy` and no
condition this project can add (docs/break-glass.md says who holds it and how its use is
reviewed). What the estate can do is make its use visible: two Events rules in the root
compartment of the home region, where IAM emits its events, send to a Notifications topic that
the settings' recipients (accessTeam.breakGlass.notify) are subscribed to:

- `<name>-iam-changes`: every change of policies, groups and group membership, users, identity
  providers and their group mappings (the `com.oraclecloud.identitycontrolplane.*` event types
  the CIS OCI Foundations Benchmark's monitoring recommendations 4.3-4.8 and Oracle's Core
  Landing Zone notify on);
- `<name>-sign-ins`: interactive sign-ins (`com.oraclecloud.identitysignon.interactivelogin`,
  which Oracle's Core Landing Zone 1.4.1 added to its IAM events), so a sign-in of a
  break-glass account is announced to the recipients the moment it happens. With the
  break-glass accounts named (`accounts`), the rule matches only their sign-ins, on the event's
  `data.identity.principalName` (the audit identity's "name of the user or service", oci-go-sdk
  `audit.Identity`; an Events filter matches nested `data` attributes and a list value is OR,
  "Matching Events with Filters"), so the recipients hear of break glass and not of every
  working day's sign-in. Without names, every sign-in is announced: noisy, never blind. An
  administrator who is not named is still seen where it matters: being added to the
  Administrators group is an IAM change (`addusertogroup`), announced by the first rule.

Events rules "apply to events in the compartment in which you create them and any child
compartments" (pulumi-oci `events.Rule` docstring, `condition`): the rules live in the tenancy
(root compartment), so IAM events anywhere below reach them. The topic lives in the security
compartment; an e-mail subscription becomes active only when its recipient confirms it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

IAM_CHANGE_EVENTS: tuple[str, ...] = tuple(
    f"com.oraclecloud.identitycontrolplane.{op}"
    for op in (
        "createpolicy",
        "updatepolicy",
        "deletepolicy",
        "creategroup",
        "updategroup",
        "deletegroup",
        "addusertogroup",
        "removeuserfromgroup",
        "createuser",
        "updateuser",
        "deleteuser",
        # CIS OCI 4.7 (user changes) and Core Landing Zone's `iam` category also list these two
        # (terraform-oci-modules-observability events/preconfigured_events.tf).
        "updateusercapabilities",
        "updateuserstate",
        "createidentityprovider",
        "updateidentityprovider",
        "deleteidentityprovider",
        "createidpgroupmapping",
        "updateidpgroupmapping",
        "deleteidpgroupmapping",
    )
)
SIGN_IN_EVENTS: tuple[str, ...] = ("com.oraclecloud.identitysignon.interactivelogin",)


@dataclass(frozen=True)
class BreakGlassArgs:
    tenancy_ocid: str  # the rules live in the root compartment: IAM's events are emitted there
    topic_compartment_id: pulumi.Input[str]  # the security compartment
    display_prefix: str
    notify: tuple[str, ...]  # e-mail recipients
    tags: Mapping[str, str]
    accounts: tuple[str, ...] = ()  # break-glass user names: the sign-in rule is theirs only


def event_condition(event_types: tuple[str, ...], principals: tuple[str, ...] = ()) -> str:
    """An Events rule filter matching any of `event_types` (a list value is OR), and, when
    `principals` are named, only events whose `data.identity.principalName` is one of them."""
    condition: dict[str, object] = {"eventType": list(event_types)}
    if principals:
        condition["data"] = {"identity": {"principalName": list(principals)}}
    return json.dumps(condition)


def email_topic(
    name: str,
    *,
    compartment_id: pulumi.Input[str],
    topic_name: str,
    description: str,
    notify: tuple[str, ...],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[oci.ons.NotificationTopic, list[oci.ons.Subscription]]:
    """`<name>-topic` and one `<name>-notify-<i>` e-mail subscription per recipient."""
    topic = oci.ons.NotificationTopic(
        f"{name}-topic",
        compartment_id=compartment_id,
        name=topic_name,
        description=description,
        freeform_tags=dict(tags),
        opts=opts,
    )
    subscriptions = [
        oci.ons.Subscription(
            f"{name}-notify-{i}",
            compartment_id=compartment_id,
            topic_id=topic.id,
            protocol="EMAIL",
            endpoint=address,
            freeform_tags=dict(tags),
            opts=opts,
        )
        for i, address in enumerate(notify)
    ]
    return topic, subscriptions


def ons_rule(
    resource_name: str,
    *,
    compartment_id: pulumi.Input[str],
    display_name: str,
    description: str,
    condition: str,
    topic_id: pulumi.Input[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> oci.events.Rule:
    """An enabled Events rule that publishes what `condition` matches to the topic."""
    return oci.events.Rule(
        resource_name,
        compartment_id=compartment_id,
        display_name=display_name,
        description=description,
        is_enabled=True,
        condition=condition,
        # `action`, not the deprecated `actions` block (pulumi-oci RuleActionsArgs docstring).
        actions=oci.events.RuleActionsArgs(
            action=[oci.events.RuleActionsActionArgs(action_type="ONS", is_enabled=True, topic_id=topic_id)]
        ),
        freeform_tags=dict(tags),
        opts=opts,
    )


class BreakGlassAlerts(pulumi.ComponentResource):
    """The topic, its e-mail subscriptions and the two Events rules that publish to it."""

    topic: oci.ons.NotificationTopic
    subscriptions: list[oci.ons.Subscription]
    rules: dict[str, oci.events.Rule]

    def __init__(self, name: str, args: BreakGlassArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:access:BreakGlassAlerts", name, None, opts)
        if not args.notify:
            raise ValueError(f"{name}: nobody to notify: a break-glass sign-in would go unnoticed")
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        self.topic, self.subscriptions = email_topic(
            name,
            compartment_id=args.topic_compartment_id,
            topic_name=f"{args.display_prefix}-break-glass",
            description="Sign-ins and IAM changes in the tenancy (break-glass review)",
            notify=args.notify,
            tags=tags,
            opts=child,
        )
        self.rules = {
            role: ons_rule(
                f"{name}-{role}",
                compartment_id=args.tenancy_ocid,
                display_name=f"{args.display_prefix}-{role}",
                description=description,
                condition=event_condition(events, principals),
                topic_id=self.topic.id,
                tags=tags,
                opts=child,
            )
            for role, events, principals, description in (
                (
                    "iam-changes",
                    IAM_CHANGE_EVENTS,
                    (),
                    "Any change of IAM policies, groups, users or identity providers",
                ),
                (
                    "sign-ins",
                    SIGN_IN_EVENTS,
                    args.accounts,
                    "Sign-ins of the break-glass accounts"
                    if args.accounts
                    else "Every interactive sign-in to the tenancy",
                ),
            )
        }
        self.register_outputs({"topic_id": self.topic.id})
