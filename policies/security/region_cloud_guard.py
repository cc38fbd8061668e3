"""USDR-SEC-13 / CIS OCI 4.14: every region that holds data is covered by a Cloud Guard target."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource
from stack_graph import data_regions, of_type, region_of

TARGET = "oci:CloudGuard/target:Target"

META = Meta(
    name="stack-region-cloud-guard",
    control="USDR-SEC-13",
    title="Every data region has a Cloud Guard target",
    description="Each region that holds data has a Cloud Guard target (created with that region's provider).",
    enforcement=MANDATORY,
    severity=Severity.MEDIUM,
    cis="4.14",
    remediation="Create an oci.cloudguard.Target for the US data compartment with the region's provider "
    "(threatDetection.cloudGuard in the stack settings), with the Oracle-managed detector and responder "
    "recipes.",
)


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    target_regions = {region_of(t, cfg) for t in of_type(resources, TARGET)}
    for region, data in sorted(data_regions(resources, cfg).items()):
        if region not in target_regions:
            yield data[0].urn, f"region {region} holds data but has no Cloud Guard target"


POLICY = stack_policy(META, check)
