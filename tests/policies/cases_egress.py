"""USDR-SEC-20 cases (policies/security/egress_firewall.py), baseline minus one.

The compliant estate of tests/policies/cases.py routes as components/routing.py does: the data
subnet's table sends 0.0.0.0/0 to the firewall's private IP, the firewall subnet's table (by
attachment) to the NAT gateway. Each case changes one thing. Registered in cases.py's ALL, so
they run in process and over the Analyzer gRPC protocol; the whole programs a careless engineer
would write are in tests/policies/test_egress_programs.py.
Built by a function, imported lazily: cases.py imports this module, this module uses cases.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.policies.harness import UNKNOWN, Res

if TYPE_CHECKING:
    from tests.policies.cases import Case

P = "security-egress-through-firewall"
M = "mandatory"
IGW = "oci:Core/internetGateway:InternetGateway"
DEFAULT_ROUTE_TABLE = "oci:Core/defaultRouteTable:DefaultRouteTable"
DRG_ATTACHMENT = "oci:Core/drgAttachment:DrgAttachment"
INSTANCE = "oci:Core/instance:Instance"
USES = "which no network firewall sits in"


def cases() -> list[Case]:
    from tests.policies.cases import (
        COMPARTMENT,
        ESTATE,
        OCI_IAD,
        RT_DATA,
        RT_FIREWALL,
        SUBNET_DATA,
        SUBNET_FW,
        TAGS,
        estate,
        route_table,
        stack,
    )

    to_nat = route_table("iad-rt-data", UNKNOWN, ["iad-nat"])
    igw = Res(IGW, "iad-igw", {"vcnId": UNKNOWN, "compartmentId": COMPARTMENT, "id": "igw-known-id"}, OCI_IAD)
    default_table = Res(
        DEFAULT_ROUTE_TABLE,
        "iad-default-routes",
        {
            "manageDefaultResourceId": UNKNOWN,
            "routeRules": [{"destination": "0.0.0.0/0", "networkEntityId": UNKNOWN}],
            "freeformTags": TAGS,
        },
        OCI_IAD,
        deps={"manageDefaultResourceId": ["iad-vcn"], "routeRules": ["iad-nat"]},
    )
    no_table = SUBNET_DATA.set(routeTableId=None)
    no_table = Res(
        no_table.type, no_table.name, no_table.props, no_table.provider, deps={"vcnId": ["iad-vcn"]}
    )
    return [
        stack(P, "baseline", ESTATE, None),
        # The data subnet's own table to the NAT gateway (ids unknown: the recorded dependency).
        stack(P, "violation", estate(swap=[to_nat]), (M, f"is used by subnet iad-subnet-data, {USES}")),
        # The same by the gateway's OCID (a gateway made elsewhere, or a real `pulumi up`'s ids).
        stack(
            P,
            "nat-ocid",
            estate(swap=[route_table("iad-rt-data", "ocid1.natgateway.oc1.iad.aaaaexisting")]),
            (M, "NAT gateway ocid1.natgateway.oc1.iad.aaaaexisting"),
        ),
        stack(
            P,
            "igw-ocid",
            estate(swap=[route_table("iad-rt-data", "ocid1.internetgateway.oc1.iad.aaaaexisting")]),
            (M, "internet gateway ocid1.internetgateway.oc1.iad.aaaaexisting"),
        ),
        # By a gateway's id as AnalyzeStack reports it after an update; one narrow destination.
        stack(
            P,
            "igw-by-id",
            estate(
                swap=[route_table("iad-rt-data", "igw-known-id", destination="203.0.113.0/24")], add=[igw]
            ),
            (M, "sends 203.0.113.0/24 -> internet gateway iad-igw"),
        ),
        # Other targets are not the internet: a DRG, the service gateway, a private IP.
        stack(P, "drg-target", estate(swap=[route_table("iad-rt-data", "ocid1.drg.oc1.iad.aaaadrg")]), None),
        # The firewall subnet's table left unattached: nothing is routed around the firewall yet,
        # but the first subnet attached to it would be.
        stack(P, "unattached", estate(drop=["iad-rta-firewall"]), (M, "no firewall subnet uses it")),
        # The firewall's table attached to the data subnet too.
        stack(
            P,
            "attached-to-data",
            estate(
                add=[
                    Res(
                        "oci:Core/routeTableAttachment:RouteTableAttachment",
                        "iad-rta-data",
                        {"subnetId": UNKNOWN, "routeTableId": UNKNOWN},
                        OCI_IAD,
                        deps={"subnetId": ["iad-subnet-data"], "routeTableId": ["iad-rt-firewall"]},
                    )
                ]
            ),
            (M, "subnet iad-subnet-data (attachment iad-rta-data)"),
        ),
        # A subnet without a table uses its VCN's default table, here pointed at the NAT gateway.
        stack(
            P,
            "default-table",
            estate(swap=[no_table], add=[default_table]),
            (M, "subnet iad-subnet-data (the VCN's default table)"),
        ),
        # ... and a subnet with a table of its own does not.
        stack(
            P, "default-table-unused", estate(add=[default_table.set()]), (M, "no firewall subnet uses it")
        ),
        # What arrives over the DRG handed to the NAT gateway.
        stack(
            P,
            "drg-ingress",
            estate(
                add=[
                    Res(
                        DRG_ATTACHMENT,
                        "iad-drg-attachment",
                        {
                            "drgId": "ocid1.drg.oc1.iad.aaaadrg",
                            "networkDetails": {"type": "VCN", "routeTableId": UNKNOWN},
                        },
                        OCI_IAD,
                        deps={"networkDetails": ["iad-rt-firewall"]},
                    )
                ]
            ),
            (M, f"iad-drg-attachment ({DRG_ATTACHMENT}), {USES}"),
        ),
        # A host in the firewall subnet meets the NAT gateway without the firewall.
        stack(
            P,
            "host-in-firewall-subnet",
            estate(
                add=[
                    Res(
                        INSTANCE,
                        "iad-batch-host",
                        {"createVnicDetails": {"subnetId": UNKNOWN}, "compartmentId": COMPARTMENT},
                        OCI_IAD,
                        deps={"createVnicDetails": ["iad-subnet-firewall"]},
                    )
                ]
            ),
            (
                M,
                f"iad-batch-host ({INSTANCE}) is placed in firewall subnet iad-subnet-firewall",
            ),
        ),
        # Fails closed: a target that is unknown and depends on nothing, or missing altogether.
        stack(P, "missing", estate(swap=[route_table("iad-rt-data", UNKNOWN)]), (M, "cannot be told")),
        stack(
            P,
            "no-target",
            estate(swap=[RT_DATA.set(routeRules=[{"destination": "0.0.0.0/0"}])]),
            (M, "routeRules.0.networkEntityId is missing"),
        ),
        stack(
            P,
            "rules-unknown",
            estate(swap=[RT_DATA.set(routeRules=UNKNOWN)]),
            (M, "routeRules is unknown and depends on nothing"),
        ),
        # A table from elsewhere, by OCID: cannot be judged.
        stack(
            P,
            "foreign-table",
            estate(
                swap=[
                    Res(
                        SUBNET_DATA.type,
                        SUBNET_DATA.name,
                        {**SUBNET_DATA.props, "routeTableId": "ocid1.routetable.oc1.iad.aaaaelsewhere"},
                        OCI_IAD,
                        deps={"vcnId": ["iad-vcn"]},
                    )
                ]
            ),
            (M, "route table ocid1.routetable.oc1.iad.aaaaelsewhere, which is not in the stack"),
        ),
        stack(P, "config", estate(swap=[to_nat]), None, level="disabled"),
        # The firewall subnet keeps its route to the NAT gateway: that is what it is for.
        stack(P, "firewall-subnet-routes-out", estate(swap=[SUBNET_FW, RT_FIREWALL]), None),
    ]
