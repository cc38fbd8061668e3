"""USDR-SEC-14 / CIS OCI 4.13: every subnet has VCN flow logs.

A subnet is covered by an enabled `oci:Logging/log:Log` whose configuration.source has
service `flowlogs` and whose resource is the subnet (or its VCN, for VCN-level flow logs).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, get, is_unknown
from stack_graph import of_type, refers_to

SUBNET = "oci:Core/subnet:Subnet"
VCN = "oci:Core/vcn:Vcn"
LOG = "oci:Logging/log:Log"

META = Meta(
    name="stack-subnet-flow-logs",
    control="USDR-SEC-14",
    title="Flow logs on every subnet",
    description="Every subnet has an enabled VCN flow log (service flowlogs) on it or on its VCN.",
    enforcement=MANDATORY,
    severity=Severity.MEDIUM,
    cis="4.13",
    remediation="Create an oci.logging.Log(log_type=\"SERVICE\", configuration={'source': {'service': "
    "'flowlogs', 'resource': subnet.id, 'category': 'all', 'source_type': 'OCISERVICE'}}) in the region's "
    "log group for each subnet.",
)


def _points_at(log: Resource, target: Resource) -> bool:
    resource = get(log.props, "configuration", "source", "resource")
    if isinstance(resource, str) and resource and resource == target.props.get("id"):
        return True
    return log.depends_on(target.urn, "configuration") or (
        is_unknown(resource) and target.urn in log.dependencies
    )


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    flow_logs = [
        r
        for r in of_type(resources, LOG)
        if get(r.props, "configuration", "source", "service") == "flowlogs"
        and r.props.get("isEnabled") is not False
    ]
    vcns = of_type(resources, VCN)
    for subnet in of_type(resources, SUBNET):
        vcn = next((v for v in vcns if refers_to(subnet, "vcnId", v)), None)
        if any(_points_at(log, subnet) or (vcn is not None and _points_at(log, vcn)) for log in flow_logs):
            continue
        yield subnet.urn, "the subnet has no enabled flow log"


POLICY = stack_policy(META, check)
