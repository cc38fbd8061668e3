"""USDR-SEC-17: no ingress from the whole internet to the ports data is read and written on.

Issue 12 item 4: internet exposure counts for data paths as for admin ports, in security lists,
NSG rules (`oci:Core/networkSecurityGroupSecurityRule`, separate resources) and AWS security
groups alike, and with the same attacker's count as USDR-SEC-08 (`admin_ingress.py`: the union
of a resource's rule sources per port covering the public address space, `0.0.0.0/1` +
`128.0.0.0/1`, long lists, `::/0` and its halves). Unknown or secret sources, protocols or
port ranges fail closed, naming the field.

The data ports, where the services that hold US user data listen (OCI documentation):
1521/1522 Oracle Database and Autonomous Database (TLS, 1522), 3306/33060 MySQL HeatWave,
5432 OCI Database with PostgreSQL, 111 and 2048-2050 File Storage NFS mount targets
("Configuring VCN Security Rules for File Storage"); and the usual self-managed stores on
compute: 1433 SQL Server, 6379 Redis/OCI Cache, 9042 Cassandra, 9200 OpenSearch, 27017 MongoDB.
HTTPS (443) is not among them: a public load balancer's listener is not a data store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource

from security.admin_ingress import META as ADMIN_META
from security.admin_ingress import open_to_internet

DATA_PORTS: Final = (111, 1433, 1521, 1522, 2048, 2049, 2050, 3306, 5432, 6379, 9042, 9200, 27017, 33060)

META = Meta(
    name="security-no-data-ingress",
    control="USDR-SEC-17",
    title="No internet ingress to data ports",
    description="No security list, NSG rule or security group rule admits the whole internet (as the union "
    "of its sources) to a port a data store listens on (databases, NFS, caches, search).",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=ADMIN_META.types,
    remediation="Restrict the rule's source to the application subnets or the VCN's CIDR; reach databases "
    "and file systems through private endpoints, never from 0.0.0.0/0 or ::/0 (or their halves).",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    yield from open_to_internet(res, DATA_PORTS)


POLICY = resource_policy(META, check)
