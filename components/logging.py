"""A region's log group, and the one way this project declares an OCI service log.

Every regional component writes into the region's log group: VCN flow logs (network), the
firewall's threat and traffic logs (firewall), bucket read and write logs (object storage). The
group is therefore built first in a region, and the other components receive its id.

`service_log` exists so that the five kinds of service log in the estate are declared with the
same property names, source type and retention; it creates one resource with the caller's
options (the caller passes `parent=self`), so the log stays a child of the component that owns
the thing it observes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

# OCI keeps service logs for 30-day steps up to 180 days. We keep the maximum: an incident or
# an auditor's question usually arrives weeks after the event, and these logs are the evidence
# of where data moved. Longer retention belongs to an archive, not to the log group.
MAX_LOG_RETENTION_DAYS = 180


@dataclass(frozen=True)
class RegionLoggingArgs:
    compartment_id: pulumi.Input[str]
    display_prefix: str  # e.g. "usdr-prod-iad": display names are "<prefix>-<role>"
    tags: Mapping[str, str]
    # The log group holds the record of who read and wrote US data: losing it in a replace is
    # losing evidence, so it is protected unless the stack opts out (staging).
    protect: bool = True


class RegionLogging(pulumi.ComponentResource):
    """The region's log group (`<name>-log-group`)."""

    log_group: oci.logging.LogGroup
    log_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegionLoggingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("usdr:logging:RegionLogging", name, None, opts)
        self.log_group = oci.logging.LogGroup(
            f"{name}-log-group",
            compartment_id=args.compartment_id,
            display_name=f"{args.display_prefix}-log-group",
            description="Flow, firewall and object storage logs of this region's US data estate.",
            freeform_tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.log_group_id = self.log_group.id
        self.register_outputs({"log_group_id": self.log_group_id})


def service_log(
    resource_name: str,
    *,
    display_name: str,
    log_group_id: pulumi.Input[str],
    service: str,
    resource: pulumi.Input[str],
    category: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    retention_days: int = MAX_LOG_RETENTION_DAYS,
) -> oci.logging.Log:
    """One enabled OCI service log (`log_type` SERVICE) of `service`/`category` for `resource`."""
    if retention_days % 30 or not 30 <= retention_days <= MAX_LOG_RETENTION_DAYS:
        raise ValueError(f"{resource_name}: log retention must be 30..180 days in 30-day steps")
    return oci.logging.Log(
        resource_name,
        display_name=display_name,
        log_group_id=log_group_id,
        log_type="SERVICE",
        is_enabled=True,
        retention_duration=retention_days,
        configuration=oci.logging.LogConfigurationArgs(
            source=oci.logging.LogConfigurationSourceArgs(
                source_type="OCISERVICE",
                service=service,
                resource=resource,
                category=category,
            ),
        ),
        freeform_tags=dict(tags),
        opts=opts,
    )
