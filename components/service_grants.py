"""IAM policies for the OCI services the estate turns on (Cloud Guard, the log archive's Service
Connector), in the home region.

They are created with the access team's compartments and policies, before the propagation wait
(components/propagation.py), so that whatever a service does with its grant happens after the
grant reached every region (issue 13 items 3 and 4). The statements come from the component
that needs them (`components.threat_detection.SERVICE_STATEMENTS`,
`components.log_archive.connector_statements`), each citing Oracle's documentation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_oci as oci


@dataclass(frozen=True)
class ServicePolicy:
    compartment_id: pulumi.Input[str]  # `in tenancy` statements: the tenancy (root)
    description: str
    statements: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class ServiceGrantsArgs:
    display_prefix: str
    policies: Mapping[str, ServicePolicy]  # role -> policy
    tags: Mapping[str, str]
    after: tuple[pulumi.Resource, ...] = ()  # the compartments the statements name


class ServiceGrants(pulumi.ComponentResource):
    """One `oci.identity.Policy` `<name>-<role>` named `<prefix>-<role>-service` per role."""

    policies: dict[str, oci.identity.Policy]

    def __init__(
        self, name: str, args: ServiceGrantsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("usdr:access:ServiceGrants", name, None, opts)
        empty = sorted(role for role, p in args.policies.items() if not p.statements)
        if empty:
            raise ValueError(f"{name}: no statement for {', '.join(empty)}: OCI refuses an empty policy")
        self.policies = {
            role: oci.identity.Policy(
                f"{name}-{role}",
                compartment_id=p.compartment_id,
                name=f"{args.display_prefix}-{role}-service",
                description=p.description,
                statements=list(p.statements),
                freeform_tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
            )
            for role, p in sorted(args.policies.items())
        }
        self.register_outputs({"policy_ids": {role: p.id for role, p in self.policies.items()}})
