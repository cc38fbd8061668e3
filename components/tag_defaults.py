"""Tag defaults (CIS OCI Foundations Benchmark 4.1, "Ensure default tags are used on resources").

OCI applies a tag default to every resource created in its compartment afterwards. This
component defines one tag, `<namespace>.CreatedBy`, and makes `${iam.principal.name}` (OCI's
tag variable for the principal that sends the create request) its default in each compartment
it is given: whoever creates a resource there, through Pulumi, the console or the API, is
recorded on it. The CIS check (Oracle's `cis_reports.py`) looks for a tag default whose value
contains `${iam.principal.name}`; Oracle's Core Landing Zone relies on the `Oracle-Tags`
defaults a tenancy is created with, which a tenancy may have lost or never had: this one is the
project's own.

The default is not required (`is_required=False`): a required default blocks every create that
cannot set it ("If no value is set, resource creation is blocked", pulumi-oci TagDefault), and
an automatic default always can. The estate's resources set no defined tags, so the value OCI
adds is not a difference in Pulumi's plan (the OCI provider treats `defined_tags` as optional
and computed).

Deleting: a tag namespace is deleted only after it is retired and its tags are removed (OCI
Tagging, "Deleting Tag Namespaces"); the decommission of a stack retires it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

CREATED_BY = "CreatedBy"
PRINCIPAL_NAME = "${iam.principal.name}"  # OCI tag variable, not a Python or Pulumi placeholder


@dataclass(frozen=True)
class TagDefaultsArgs:
    tenancy_ocid: str  # tag namespaces live in the tenancy (pulumi-oci TagNamespace)
    namespace: str  # unique across the tenancy's tag namespaces, no spaces or periods
    compartment_ids: Mapping[str, pulumi.Input[str]]  # role -> compartment that gets the default
    tags: Mapping[str, str]


class TagDefaults(pulumi.ComponentResource):
    """A tag namespace, its CreatedBy tag, and a CreatedBy default per compartment."""

    namespace: oci.identity.TagNamespace
    created_by: oci.identity.Tag
    defaults: dict[str, oci.identity.TagDefault]

    def __init__(self, name: str, args: TagDefaultsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:tagging:TagDefaults", name, None, opts)
        if not args.namespace or any(c in args.namespace for c in " ."):
            raise ValueError(f"tag namespace {args.namespace!r}: no spaces or periods (OCI Tagging limits)")
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = oci.identity.TagNamespace(
            f"{name}-namespace",
            compartment_id=args.tenancy_ocid,
            name=args.namespace,
            description="US data residency: tags the estate defaults on its compartments (CIS 4.1)",
            freeform_tags=dict(args.tags),
            opts=child,
        )
        self.created_by = oci.identity.Tag(
            f"{name}-created-by",
            tag_namespace_id=self.namespace.id,
            name=CREATED_BY,
            description="The principal that created the resource (tag default: ${iam.principal.name})",
            is_cost_tracking=False,
            freeform_tags=dict(args.tags),
            opts=child,
        )
        self.defaults = {
            role: oci.identity.TagDefault(
                f"{name}-default-{role}",
                compartment_id=compartment,
                tag_definition_id=self.created_by.id,
                value=PRINCIPAL_NAME,
                is_required=False,
                opts=child,
            )
            for role, compartment in args.compartment_ids.items()
        }
        self.register_outputs({"namespace_id": self.namespace.id, "tag_id": self.created_by.id})
