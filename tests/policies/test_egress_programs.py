"""Programs that send traffic to the internet around the firewall (issue 13 item 7, USDR-SEC-20).

Each is what a careless or clever engineer would add to this project's own program: the prod
estate, built as `__main__.py` builds it, plus a few lines through the real pulumi_oci SDK.
The program runs the way preflight runs the real one (a copy of the project, the prod stack,
synthesized offline), and the real pack judges the records over its own gRPC protocol with the
prod stack's generated config. Every one of them must be caught by
`security-egress-through-firewall`, naming the route table, the gateway and what uses the
table; the same lines sending the traffic to the firewall instead must not be.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from preflight.analyze import analyze
from preflight.model import Finding
from preflight.synth import synthesize
from stacks.policy_config import pack_config, policy_names
from stacks.settings import Settings
from tests.project_copy import ROOT, copy_project

pytestmark = pytest.mark.slow
POLICY = "security-egress-through-firewall"

PRELUDE = """
import pulumi_oci as _oci

_ashburn = estate.regions["us-ashburn-1"]
_net = _ashburn.network
_opts = pulumi.ResourceOptions(provider=estate.providers.region("us-ashburn-1"))
_compartment = estate.access.compartments["network"].id


def _table(name, target, destination="0.0.0.0/0"):
    return _oci.core.RouteTable(
        name,
        compartment_id=_compartment,
        vcn_id=_net.vcn.id,
        route_rules=[
            _oci.core.RouteTableRouteRuleArgs(
                destination=destination, destination_type="CIDR_BLOCK", network_entity_id=target
            )
        ],
        opts=_opts,
    )


def _subnet(name, cidr, **kw):
    return _oci.core.Subnet(
        name,
        compartment_id=_compartment,
        vcn_id=_net.vcn.id,
        cidr_block=cidr,
        prohibit_public_ip_on_vnic=True,
        opts=_opts,
        **kw,
    )
"""

PROGRAMS = {
    # A batch subnet whose table sends the internet straight to the estate's NAT gateway.
    "batch-subnet-to-nat": """
_subnet("batch", "10.10.200.0/24", route_table_id=_table("batch-rt", _ashburn.routing.nat_gateway.id).id)
""",
    # The same, with the table attached afterwards, as the estate attaches its own.
    "attachment-to-nat": """
_batch = _subnet("batch", "10.10.200.0/24")
_oci.core.RouteTableAttachment(
    "batch-rta", subnet_id=_batch.id, route_table_id=_table("batch-rt", _ashburn.routing.nat_gateway.id).id,
    opts=_opts,
)
""",
    # A gateway of their own, and only a narrow destination: still the internet, uninspected.
    "own-internet-gateway": """
_igw = _oci.core.InternetGateway("shortcut-igw", compartment_id=_compartment, vcn_id=_net.vcn.id, opts=_opts)
_subnet("batch", "10.10.200.0/24", route_table_id=_table("batch-rt", _igw.id, "203.0.113.0/24").id)
""",
    # The VCN's default table (what a subnet without a table uses) pointed at a NAT gateway.
    "default-route-table": """
_nat = _oci.core.NatGateway("shortcut-nat", compartment_id=_compartment, vcn_id=_net.vcn.id, opts=_opts)
_oci.core.DefaultRouteTable(
    "vcn-default-routes",
    manage_default_resource_id=_net.vcn.default_route_table_id,
    route_rules=[
        _oci.core.DefaultRouteTableRouteRuleArgs(destination="0.0.0.0/0", network_entity_id=_nat.id)
    ],
    opts=_opts,
)
_subnet("batch", "10.10.200.0/24")
""",
    # A NAT gateway made elsewhere, named by its OCID.
    "literal-nat-ocid": """
_subnet(
    "batch",
    "10.10.200.0/24",
    route_table_id=_table("batch-rt", "ocid1.natgateway.oc1.iad.aaaaaaaaexistingnat").id,
)
""",
    # Traffic arriving from the legacy sites over the DRG, handed to the NAT gateway.
    "drg-ingress-to-nat": """
_oci.core.DrgAttachment(
    "shortcut-drg-attachment",
    drg_id=_net.drg.id,
    network_details=_oci.core.DrgAttachmentNetworkDetailsArgs(
        type="VCN", id=_net.vcn.id, route_table_id=_table("ingress-rt", _ashburn.routing.nat_gateway.id).id
    ),
    opts=_opts,
)
""",
    # Routing left alone, a host placed in the firewall subnet: its egress meets the NAT gateway
    # without passing the firewall.
    "instance-in-firewall-subnet": """
_oci.core.Instance(
    "batch-host",
    availability_domain="xyz:US-ASHBURN-AD-1",
    compartment_id=_compartment,
    shape="VM.Standard.E5.Flex",
    create_vnic_details=_oci.core.InstanceCreateVnicDetailsArgs(
        subnet_id=_net.subnets["firewall"].id, assign_public_ip="false"
    ),
    opts=_opts,
)
""",
}

# The same lines, sending the internet to the firewall: nothing for this policy to say.
THROUGH_THE_FIREWALL = """
_subnet("batch", "10.10.200.0/24", route_table_id=_table("batch-rt", _ashburn.firewall.private_ip_id).id)
"""


def _verdict(tmp_path: Path, prod_settings: Settings, snippet: str) -> list[Finding]:
    project = copy_project(tmp_path / "project")
    main = project / "__main__.py"
    main.write_text(main.read_text(encoding="utf-8") + PRELUDE + textwrap.dedent(snippet), encoding="utf-8")
    synth = synthesize(project, "prod")
    assert {"batch", "shortcut-drg-attachment", "batch-host"} & {r.name for r in synth.resources}
    result = analyze(
        synth.resources,
        pack_dir=ROOT / "policies",
        config=pack_config(prod_settings, policy_names()),
        timeout=300,
        stack="prod",
        project="us-data-residency",
    )
    return [f for f in result.findings if f.policy == POLICY]


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_a_program_sending_traffic_around_the_firewall_is_blocked(
    program: str, tmp_path: Path, prod_settings: Settings
) -> None:
    found = _verdict(tmp_path, prod_settings, PROGRAMS[program])
    assert found, f"{program}: not caught"
    assert all(f.enforcement == "mandatory" for f in found), found
    culprit = {
        "drg-ingress-to-nat": "ingress-rt",
        "default-route-table": "vcn-default-routes",
        "instance-in-firewall-subnet": "batch-host",
    }.get(program, "batch-rt")
    assert any(f.urn.endswith(f"::{culprit}") for f in found), [f.urn for f in found]
    assert all("firewall" in f.message for f in found), [f.message for f in found]


def test_the_same_lines_through_the_firewall_pass(tmp_path: Path, prod_settings: Settings) -> None:
    assert _verdict(tmp_path, prod_settings, THROUGH_THE_FIREWALL) == []
