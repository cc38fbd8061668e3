"""The US data access team, in the home region: compartments, groups, IAM policies, quotas.

IAM is global in OCI but written only through the home region, so this component is always
given the home-region provider. Two native residency guards are generated here from the region
catalogue (never hand-written per region, so adding a region to the catalogue is one edit):

- IAM conditions: every grant to the team's groups carries
  `where all {request.networkSource.name = '<us networks>', request.user.mfaTotpVerified = 'true',
  any {request.region = '<key>', ...}}`: a member's permissions exist only in the approved
  regions, only for a request from a US network (the stack's network source: the offices'
  egress and the US VCNs, `AccessNetworks` below) and only after a second factor.
- Quotas: `zero <family> quotas in tenancy where all {request.region != '<region>', ...}` for
  each data-holding quota family: nobody, whatever their IAM grants, can create storage,
  databases or keys outside the approved regions.

The only grants that do not name a team group are those to the Object Storage service of the
stack's regions, which encryption with a customer key and replication cannot work without. They
keep exactly those two grants and no network-source or MFA condition: a service principal's
request comes from inside OCI, not from a network the team works from, and carries no user.

The condition grammar, from OCI's IAM docs (Policy Syntax > Conditions,
https://docs.oracle.com/iaas/Content/Identity/policysyntax/conditions.htm): a single condition is
`variable =|!= value`, several are `any|all {<condition>,<condition>,...}` (`any` a logical OR,
`all` a logical AND), values are single-quoted and matching is case insensitive; a multiple
condition nests as a condition of another (`where all {target.bucket.name='b', any
{request.permission='OBJECT_CREATE', ...}}` is the form Oracle's Data Flow policies use). The
variables (General Variables for All Requests): `request.networkSource.name`, "the name of the
network source group that specifies allowed IP addresses the request may come from", and
`request.user.mfaTotpVerified`, restricted to MFA-verified users with
`request.user.mfaTotpVerified='true'` ("deprecated for IAM with identity domains, it works only
with IAM without identity domains": a tenancy with identity domains enforces the second factor
in the domain's sign-on policy instead, docs/access.md). A variable that does not apply to a
request declines it ("Variables that Aren't Applicable to a Request Result in a Declined
Request"), so these conditions fail closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

GROUP_ROLES = ("admins", "operators", "auditors")
HUMAN_ROLES = GROUP_ROLES  # groups hold users (people); dynamic groups and services are not people
MFA_CONDITION = "request.user.mfaTotpVerified = 'true'"
COMPARTMENT_ROLES = ("us-data", "network", "security")
# CIS OCI Foundations 1.15, "Ensure storage service-level admins cannot delete resources they
# manage": the team's admins manage everything in the estate's compartments except deleting what
# holds or unlocks data. The storage permissions are CIS 1.15's own (its remediation's
# `request.permission != ...` lists for object, block volume and file storage, whose names are in
# OCI's policy references, e.g. "Details for Object Storage": BUCKET_DELETE, OBJECT_DELETE,
# OBJECT_VERSION_DELETE come only with `manage`); the Vault ones from "Details for the Vault
# Service". Deleting any of these stays with the tenancy's Administrators, the break glass,
# whose sign-ins and IAM changes are announced (components/break_glass.py). Operators `use`
# object-family, which holds no delete permission at all.
DELETE_PERMISSIONS = (
    "BUCKET_DELETE",
    "OBJECT_DELETE",
    "OBJECT_VERSION_DELETE",
    "VOLUME_DELETE",
    "VOLUME_BACKUP_DELETE",
    "BOOT_VOLUME_BACKUP_DELETE",
    "FILE_SYSTEM_DELETE",
    "FILE_SYSTEM_DELETE_SNAPSHOT",
    "MOUNT_TARGET_DELETE",
    "EXPORT_SET_DELETE",
    "VAULT_DELETE",
    "KEY_DELETE",
)


@dataclass(frozen=True)
class ApprovedRegion:
    """A region the team may work in: the two names OCI's policy languages use for it.

    Plain values, so this component knows nothing of the region catalogue: stacks/estate.py
    translates the catalogue's approved regions (policies/usdr_common/regions.yaml) into these.
    """

    identifier: str  # us-ashburn-1: quota conditions (`request.region != 'us-ashburn-1'`)
    key: str  # IAD: IAM conditions (`request.region = 'iad'`)


@dataclass(frozen=True)
class AccessArgs:
    tenancy_ocid: str
    parent_compartment_ocid: str  # where the compartments and IAM policies are created
    display_prefix: str  # e.g. "usdr-prod"
    compartments: Mapping[str, str]  # role (COMPARTMENT_ROLES) -> compartment name
    groups: Mapping[str, str]  # role (GROUP_ROLES) -> group name
    approved_regions: tuple[ApprovedRegion, ...]  # the catalogue's (plus opt-ins), by stacks/
    quota_families: tuple[str, ...]
    storage_regions: tuple[str, ...]  # stack regions whose Object Storage uses our keys
    replication_sources: tuple[str, ...]  # stack regions that replicate to a DR partner
    tags: Mapping[str, str]
    # The OCI network source every human grant requires (AccessNetworks creates it by this name).
    network_source: str = ""
    # Compartment (role) holding the region log groups: the auditors read the access logs there.
    log_compartment: str = "security"


def region_condition(regions: Sequence[ApprovedRegion]) -> str:
    """`request.region = 'iad'` for one region, `any {...}` for several (keys, lower case)."""
    if not regions:
        raise ValueError("no approved region: an IAM condition over nothing would be an empty grant")
    terms = [f"request.region = '{r.key.lower()}'" for r in regions]
    return terms[0] if len(terms) == 1 else "any {" + ", ".join(terms) + "}"


def quota_statements(families: Sequence[str], regions: Sequence[ApprovedRegion]) -> list[str]:
    """`zero <family> quotas in tenancy where ...request.region != ...`, one per family."""
    if not regions:
        raise ValueError("no approved region: the quotas would zero the whole tenancy")
    terms = [f"request.region != '{r.identifier}'" for r in regions]
    where = terms[0] if len(terms) == 1 else "all {" + ", ".join(terms) + "}"
    return [f"zero {family} quotas in tenancy where {where}" for family in families]


def network_source_condition(name: str) -> str:
    if not name:
        raise ValueError("no network source: a grant without one could be used from anywhere")
    if "'" in name:
        raise ValueError(f"network source name {name!r} cannot be quoted in a policy condition")
    return f"request.networkSource.name = '{name}'"


def access_condition(
    regions: Sequence[ApprovedRegion],
    network_source: str,
    *,
    human: bool = True,
    denied: Sequence[str] = (),
) -> str:
    """`all {network source, [MFA,] <region condition>, [permission != each denied]}`: every term
    must hold (OCI `all` = AND), so a denied permission is never granted by the statement."""
    terms = [network_source_condition(network_source)]
    if human:
        terms.append(MFA_CONDITION)
    terms.append(region_condition(regions))
    terms += [f"request.permission != '{p}'" for p in denied]
    return "all {" + ", ".join(terms) + "}"


def group_statements(args: AccessArgs) -> dict[str, list[str]]:
    """Per group role, its grants; each from a US network, with MFA, in the approved regions."""
    where = access_condition(args.approved_regions, args.network_source, human=True)
    no_deletes = access_condition(
        args.approved_regions, args.network_source, human=True, denied=DELETE_PERMISSIONS
    )
    c = args.compartments
    g = args.groups
    return {
        "admins": [
            f"Allow group {g['admins']} to manage all-resources in compartment {c[role]} where {no_deletes}"
            for role in COMPARTMENT_ROLES
        ],
        "operators": [
            f"Allow group {g['operators']} to use object-family in compartment {c['us-data']} where {where}",
            f"Allow group {g['operators']} to use virtual-network-family in compartment {c['network']}"
            f" where {where}",
            *(
                f"Allow group {g['operators']} to read all-resources in compartment {c[role]} where {where}"
                for role in COMPARTMENT_ROLES
            ),
        ],
        "auditors": [
            f"Allow group {g['auditors']} to read all-resources in compartment {c[role]} where {where}"
            for role in COMPARTMENT_ROLES
        ]
        + [
            # The audit log: IAM changes and sign-ins are recorded in the root compartment, so the
            # auditors read audit events tenancy-wide (read only: `read` is the verb's ceiling).
            f"Allow group {g['auditors']} to read audit-events in tenancy where {where}",
            # The buckets' read/write logs (and flow, firewall logs) in the region log groups.
            f"Allow group {g['auditors']} to read log-groups in compartment {c[args.log_compartment]}"
            f" where {where}",
            f"Allow group {g['auditors']} to read log-content in compartment {c[args.log_compartment]}"
            f" where {where}",
        ],
    }


def service_statements(args: AccessArgs) -> list[str]:
    """Grants to the Object Storage service principal `objectstorage-<region>` of our regions."""
    c = args.compartments
    statements = [
        # Buckets are encrypted with our keys: the service wraps and unwraps data keys.
        f"Allow service objectstorage-{region} to use keys in compartment {c['security']}"
        for region in args.storage_regions
    ]
    statements += [
        # Replication: the source region's service reads the source and writes the replica.
        f"Allow service objectstorage-{region} to manage object-family in compartment {c['us-data']}"
        for region in args.replication_sources
    ]
    return statements


class AccessTeam(pulumi.ComponentResource):
    """Compartments, the three groups, their policies, the service grants and the quota."""

    compartments: dict[str, oci.identity.Compartment]
    groups: dict[str, oci.identity.Group]
    policies: dict[str, oci.identity.Policy]
    service_grants: oci.identity.Policy
    quota: oci.limits.Quota

    def __init__(self, name: str, args: AccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:access:AccessTeam", name, None, opts)
        missing = [
            r for r in (*COMPARTMENT_ROLES, *GROUP_ROLES) if r not in {**args.compartments, **args.groups}
        ]
        if missing:
            raise ValueError(f"{name}: missing compartment or group for {', '.join(missing)}")
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)

        self.compartments = {
            role: oci.identity.Compartment(
                f"{name}-compartment-{role}",
                compartment_id=args.parent_compartment_ocid,
                name=args.compartments[role],
                description=f"US data residency: {role} ({args.display_prefix})",
                # A compartment is never deleted by `pulumi destroy`: it outlives the stack so
                # that whatever it still holds stays under its policies and quotas.
                enable_delete=False,
                freeform_tags=tags,
                opts=child,
            )
            for role in COMPARTMENT_ROLES
        }
        self.groups = {
            role: oci.identity.Group(
                f"{name}-group-{role}",
                compartment_id=args.tenancy_ocid,  # groups live in the tenancy (root)
                name=args.groups[role],
                description=f"US data security: {role} ({args.display_prefix})",
                freeform_tags=tags,
                opts=child,
            )
            for role in GROUP_ROLES
        }
        # Statements name compartments and groups by name, so the dependency is declared.
        named = [*self.compartments.values(), *self.groups.values()]
        self.policies = {
            role: oci.identity.Policy(
                f"{name}-policy-{role}",
                compartment_id=args.parent_compartment_ocid,
                name=f"{args.display_prefix}-{role}",
                description=f"US data {role}: approved regions only",
                statements=statements,
                freeform_tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=named),
            )
            for role, statements in group_statements(args).items()
        }
        self.service_grants = oci.identity.Policy(
            f"{name}-policy-objectstorage",
            compartment_id=args.parent_compartment_ocid,
            name=f"{args.display_prefix}-objectstorage-service",
            description="Object Storage of the stack's regions: customer keys and DR replication",
            statements=service_statements(args),
            freeform_tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.compartments.values())),
        )
        self.quota = oci.limits.Quota(
            f"{name}-quota",
            compartment_id=args.tenancy_ocid,  # quotas that cover the tenancy live at its root
            name=f"{args.display_prefix}-us-only",
            description="Data-holding services exist only in approved US regions",
            statements=quota_statements(args.quota_families, args.approved_regions),
            freeform_tags=tags,
            opts=child,
        )
        self.register_outputs(
            {
                "compartment_ids": {role: c.id for role, c in self.compartments.items()},
                "group_ids": {role: g.id for role, g in self.groups.items()},
                "quota_id": self.quota.id,
            }
        )
