"""USDR-SEC-11: every region that holds data has a network firewall with IDS/IPS.

A region holds data when a data-bearing OCI resource (`dataBearingTypes`) is there. It needs a
NetworkFirewall in the same region whose policy has an INSPECT rule with intrusion detection
or prevention (how well that rule covers the subnets is security-firewall-ids' job).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource
from stack_graph import data_regions, of_type, refers_to, region_of

from security.firewall_ids import FIREWALL, FW_POLICY, ids_rules

META = Meta(
    name="stack-region-firewall",
    control="USDR-SEC-11",
    title="Every data region has a firewall with IDS/IPS",
    description="Each region that holds data has an OCI Network Firewall whose policy inspects traffic for "
    "intrusions.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation="Deploy the region's firewall component (NetworkFirewall in the firewall subnet, policy "
    "with an INSPECT rule using the stack's firewall.idsMode) and route the data subnets through it.",
)


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    policies = of_type(resources, FW_POLICY)
    for region, data in sorted(data_regions(resources, cfg).items()):
        ok = False
        for fw in of_type(resources, FIREWALL):
            if region_of(fw, cfg) != region:
                continue
            if any(refers_to(fw, "networkFirewallPolicyId", p) and ids_rules(p, resources) for p in policies):
                ok = True
                break
        if not ok:
            yield data[0].urn, f"region {region} holds data but has no network firewall with IDS/IPS"


POLICY = stack_policy(META, check)
