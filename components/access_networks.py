"""The networks the US access team may work from: one OCI network source, in the home region.

Every grant to the team's groups requires `request.networkSource.name = '<this name>'`
(components/access.py). Network sources "can only be created in the tenancy (or root
compartment) and, like other IAM resources, reside in the home region" (OCI IAM docs, Managing
Network Sources), so the component is given the home-region provider and the tenancy OCID.

What it allows (pulumi-oci `NetworkSource` docstring): `public_source_lists`, "a list of allowed
public IP addresses and CIDR ranges" (the US offices' internet egress from the settings), and
`virtual_source_lists`, "a list of allowed VCN OCID and IP range pairs" (each US VCN of the
stack with its CIDR). `services` ("services allowed to make on-behalf-of requests ... only `all`
and `none` are supported. The default is `all`") is written out as `all`: a request an OCI
service makes on a team member's behalf (the Console's calls through Object Storage, for one)
comes from the service's address, not the member's, and `none` would refuse it.

The access team's policies name this source by its name, which is derived from the settings and
known before anything runs; the network source is built after the regions (it needs their VCN
OCIDs). Until it exists, a condition naming it holds for no request (no address is in a network
source that does not exist), so the grants open only once it does: the order fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_oci as oci


@dataclass(frozen=True)
class VcnSource:
    vcn_id: pulumi.Input[str]
    ip_ranges: tuple[str, ...]


@dataclass(frozen=True)
class AccessNetworksArgs:
    tenancy_ocid: str  # network sources live in the tenancy (root compartment)
    name: str  # unique across the tenancy, cannot be changed (a rename replaces it)
    public_cidrs: tuple[str, ...]  # the offices' egress (validated public ranges, never 0.0.0.0/0)
    vcns: Sequence[VcnSource]
    tags: Mapping[str, str]


class AccessNetworks(pulumi.ComponentResource):
    """`<name>-network-source`: where a grant to the access team may be used from."""

    network_source: oci.identity.NetworkSource

    def __init__(
        self, name: str, args: AccessNetworksArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("usdr:access:AccessNetworks", name, None, opts)
        if not args.public_cidrs and not args.vcns:
            raise ValueError(f"{name}: no network at all: every grant to the access team would match nothing")
        for cidr in args.public_cidrs:
            if cidr.endswith("/0"):
                raise ValueError(f"{name}: {cidr} is the whole internet, not a US network")
        self.network_source = oci.identity.NetworkSource(
            f"{name}-network-source",
            compartment_id=args.tenancy_ocid,
            name=args.name,
            description="US networks the US data access team may work from (offices' egress, US VCNs)",
            public_source_lists=list(args.public_cidrs),
            virtual_source_lists=[
                oci.identity.NetworkSourceVirtualSourceListArgs(vcn_id=v.vcn_id, ip_ranges=list(v.ip_ranges))
                for v in args.vcns
            ],
            services=["all"],
            freeform_tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"network_source_id": self.network_source.id, "name": args.name})
