"""Cloud Guard on the US data compartment, and a Security Zone over it when the stack asks.

Cloud Guard is configured in the tenancy's reporting region, so this component gets the home
region's provider. It attaches Oracle-managed recipes rather than clones: Oracle keeps their
rules current, and a clone would silently freeze them at the day it was made.

- Targets: the US data compartment (and its subtree) when it has no Security Zone (a zone makes
  its own target, below), with the configuration detector (public buckets, keys without
  rotation, ...) and the activity detector (suspicious IAM and data access), plus the Oracle
  responder recipe (findings are reported; remediation stays manual).
  The same recipes also watch every other compartment that holds part of the estate
  (`also_watched`: the security compartment with the vaults and keys, the network compartment
  with the firewalls): a key outside Cloud Guard's view is exactly what an attacker would touch.
- Security Zone: a recipe with every security-zone policy the tenancy offers, applied to the US
  data compartment. A zone *prevents* (public buckets, buckets without a vault key, public IPs)
  instead of reporting after the fact.

The recipe ids are looked up (they differ per tenancy); a missing recipe means Cloud Guard is
not enabled, and the lookup fails with that message rather than attaching nothing
(components/lookups.py: how lookups read, online and offline).

A fresh tenancy deploys in one run (issue 13 item 4), in the order the service requires, each
step a real dependency:

1. the service's IAM policy (`service_statements`, Oracle's: "Allow service cloudguard to read
   all-resources in tenancy" and "... to use network-security-groups in tenancy", Core Landing
   Zone iam_service_policies.tf; Cloud Guard docs, Prerequisites, "Common Policies") is created
   by stacks/estate.py before the propagation wait (components/propagation.py), which this
   component receives in `after`;
2. `<name>-configuration`: Cloud Guard ENABLED in the tenancy with its reporting region (the
   home region, an approved US region: Cloud Guard keeps its problems and reports there). It
   waits for the policy: enabling Cloud Guard right after its policy is what fails with
   404-NotAuthorizedOrNotFound (Core Landing Zone README, troubleshooting item 11);
3. the recipe lookups and security-zone policies are read only after the configuration exists
   (`InvokeOutputOptions.depends_on`): on a fresh tenancy the Oracle-managed recipes appear
   when Cloud Guard is enabled, so a lookup before it would find none;
4. targets, the zone recipe and the zone, after the configuration.

A Security Zone makes its own target: "When you create a security zone for a compartment, Cloud
Guard ... deletes any existing Cloud Guard target for the compartment and its subcompartments,
creates a security zone target for the compartment, adds the default Oracle-managed detector
recipe" (Security Zones docs, "Creating a Security Zone"; oracle/terraform-provider-oci#2390).
So with a zone the US data compartment gets no target of ours: one would be deleted by the
service right after, and every refresh would want it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_oci as oci

from components.lookups import not_answered

CONFIGURATION_RECIPE = "OCI Configuration Detector Recipe"
ACTIVITY_RECIPE = "OCI Activity Detector Recipe"
RESPONDER_RECIPE = "OCI Responder Recipe"
# What Cloud Guard needs to read the estate (Oracle's statements, as Core Landing Zone grants them;
# OCI docs, Cloud Guard "Prerequisites" and IAM "Common Policies"). Written in the root
# compartment: `in tenancy` statements live there.
SERVICE_STATEMENTS: tuple[str, ...] = (
    "Allow service cloudguard to read all-resources in tenancy",
    "Allow service cloudguard to use network-security-groups in tenancy",
)


@dataclass(frozen=True)
class ThreatDetectionArgs:
    tenancy_ocid: str
    data_compartment_id: pulumi.Input[str]  # watched and zoned
    security_compartment_id: pulumi.Input[str]  # where the target and the zone recipe live
    display_prefix: str
    tags: Mapping[str, str]
    security_zone: bool = True
    # role -> compartment id: further compartments watched with the same recipes (not zoned).
    also_watched: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Cloud Guard's reporting region: the home region (stacks/ checks it against the catalogue).
    reporting_region: str = ""
    # What enabling Cloud Guard waits for: the wait after its service policy (components/propagation.py).
    after: tuple[pulumi.Resource, ...] = ()


def _oracle_recipe_id(collections: Iterable[Any] | None, display_name: str) -> pulumi.Input[str]:
    if collections is None:
        return not_answered()  # offline: see components/lookups.py
    for collection in collections:
        for item in collection.items or ():
            if item.display_name == display_name and item.owner == "ORACLE":
                return str(item.id)
    raise LookupError(
        f"Cloud Guard has no Oracle-managed {display_name!r}: enable Cloud Guard in the tenancy first"
    )


def _policy_ids(result: oci.cloudguard.GetSecurityPoliciesResult) -> pulumi.Input[list[str]]:
    if result.security_policy_collections is None:
        return not_answered()  # offline: see components/lookups.py
    ids = [str(item.id) for c in result.security_policy_collections for item in c.items or ()]
    if not ids:
        raise LookupError(
            "Cloud Guard offers no security zone policy: enable Cloud Guard in the tenancy first"
        )
    return sorted(ids)  # stable order: no diff when the service lists them differently


class ThreatDetection(pulumi.ComponentResource):
    """`<name>-configuration`; Cloud Guard target `<name>-target` (US data, without a zone),
    `<name>-target-<role>` for each `also_watched` compartment; optional `<name>-zone-recipe`
    and `<name>-zone`."""

    configuration: oci.cloudguard.CloudGuardConfiguration
    targets: dict[str, oci.cloudguard.Target]
    zone_recipe: oci.cloudguard.SecurityRecipe | None
    zone: oci.cloudguard.SecurityZone | None

    def __init__(
        self, name: str, args: ThreatDetectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("usdr:security:ThreatDetection", name, None, opts)
        if not args.reporting_region:
            raise ValueError(f"{name}: Cloud Guard needs a reporting region (the home region)")
        tags = dict(args.tags)
        self.configuration = oci.cloudguard.CloudGuardConfiguration(
            f"{name}-configuration",
            compartment_id=args.tenancy_ocid,  # Cloud Guard is enabled for the tenancy (root)
            reporting_region=args.reporting_region,
            status="ENABLED",
            # Cloud Guard creates no default target and recipes of its own: ours are declared here.
            self_manage_resources=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )
        enabled = [self.configuration]
        child = pulumi.ResourceOptions(parent=self, depends_on=enabled)
        # The invokes use this component's provider, and run once Cloud Guard is enabled.
        lookup = pulumi.InvokeOutputOptions(parent=self, depends_on=enabled)

        def detector(display_name: str) -> pulumi.Output[str]:
            return oci.cloudguard.get_detector_recipes_output(
                compartment_id=args.tenancy_ocid, display_name=display_name, opts=lookup
            ).apply(lambda r: _oracle_recipe_id(r.detector_recipe_collections, display_name))

        responder = oci.cloudguard.get_responder_recipes_output(
            compartment_id=args.tenancy_ocid, display_name=RESPONDER_RECIPE, opts=lookup
        ).apply(lambda r: _oracle_recipe_id(r.responder_recipe_collections, RESPONDER_RECIPE))

        detectors = [
            oci.cloudguard.TargetTargetDetectorRecipeArgs(detector_recipe_id=detector(CONFIGURATION_RECIPE)),
            oci.cloudguard.TargetTargetDetectorRecipeArgs(detector_recipe_id=detector(ACTIVITY_RECIPE)),
        ]
        responders = [oci.cloudguard.TargetTargetResponderRecipeArgs(responder_recipe_id=responder)]

        def target(resource_name: str, role: str, compartment_id: pulumi.Input[str]) -> oci.cloudguard.Target:
            return oci.cloudguard.Target(
                resource_name,
                compartment_id=args.security_compartment_id,
                display_name=f"{args.display_prefix}-{role}",
                description=f"Cloud Guard over the {role} compartment",
                target_resource_type="COMPARTMENT",
                target_resource_id=compartment_id,
                target_detector_recipes=detectors,
                target_responder_recipes=responders,
                freeform_tags=tags,
                opts=child,
            )

        # The data target keeps its original resource name: renaming it would replace it. With a
        # Security Zone there is none: the zone makes its own (module docstring).
        self.targets = {}
        if not args.security_zone:
            self.targets["us-data"] = target(f"{name}-target", "us-data", args.data_compartment_id)
        for role, compartment_id in sorted(args.also_watched.items()):
            self.targets[role] = target(f"{name}-target-{role}", role, compartment_id)

        self.zone_recipe = self.zone = None
        if args.security_zone:
            policies = oci.cloudguard.get_security_policies_output(
                compartment_id=args.tenancy_ocid, opts=lookup
            ).apply(_policy_ids)
            self.zone_recipe = oci.cloudguard.SecurityRecipe(
                f"{name}-zone-recipe",
                compartment_id=args.security_compartment_id,
                display_name=f"{args.display_prefix}-us-data-zone",
                description="Every security zone policy: prevention, not only detection",
                security_policies=policies,
                freeform_tags=tags,
                opts=child,
            )
            self.zone = oci.cloudguard.SecurityZone(
                f"{name}-zone",
                compartment_id=args.data_compartment_id,
                display_name=f"{args.display_prefix}-us-data-zone",
                description="US data compartment: maximum security zone",
                security_zone_recipe_id=self.zone_recipe.id,
                freeform_tags=tags,
                # After Cloud Guard is enabled ("you must enable Cloud Guard in the tenancy before
                # creating a security zone", Security Zones docs); the zone makes its own target.
                opts=child,
            )
        self.register_outputs(
            {
                "configuration_id": self.configuration.id,
                "target_ids": {role: t.id for role, t in self.targets.items()},
                "security_zone_id": self.zone.id if self.zone is not None else None,
            }
        )
