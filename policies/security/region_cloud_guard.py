"""USDR-SEC-13 / CIS OCI 4.14: every region that holds data is watched by a Cloud Guard target.

Cloud Guard runs in the tenancy's reporting region and a target watches its compartment (and
the compartments below it) in every region. So a region that holds data is covered when every
data-bearing resource there sits in a compartment that a Cloud Guard target's
`targetResourceId` names, directly, through a parent compartment declared in the program, or
because the target is the tenancy (root compartment). A Security Zone counts as a target of its
compartment: "When you create a security zone for a compartment, Cloud Guard ... creates a
security zone target for the compartment" (Security Zones docs, "Creating a Security Zone"; it
also deletes any other target there, so a program that zones a compartment declares no target
for it, issue 13 item 4). Compartments are matched by OCID or, when ids are not known yet
(preview), by the dependencies the engine recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown, text
from stack_graph import data_regions, of_type

TARGET = "oci:CloudGuard/target:Target"
ZONE = "oci:CloudGuard/securityZone:SecurityZone"
COMPARTMENT = "oci:Identity/compartment:Compartment"

Node = tuple[str, str]  # ("ocid", value) or ("urn", urn)

META = Meta(
    name="stack-region-cloud-guard",
    control="USDR-SEC-13",
    title="Every data region is watched by Cloud Guard",
    description="Each region that holds data has its data in compartments covered by a Cloud Guard target "
    "(the compartment itself, a parent compartment, or the tenancy).",
    enforcement=MANDATORY,
    severity=Severity.MEDIUM,
    cis="4.14",
    remediation="Create an oci.cloudguard.Target (with the home/reporting-region provider) whose "
    "target_resource_id is the US data compartment or a parent of it (threatDetection.cloudGuard in the "
    "stack settings), with the Oracle-managed configuration and activity detector recipes and the responder "
    "recipe.",
)


def _nodes(res: Resource, prop: str) -> set[Node]:
    """What `res.props[prop]` names: a literal OCID, or the resources the engine says it came from."""
    value = res.props.get(prop)
    out: set[Node] = set()
    if not is_unknown(value) and text(value):
        out.add(("ocid", str(value)))
    out.update(("urn", u) for u in res.property_dependencies.get(prop, ()))
    return out


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    targets: set[Node] = set()
    for t in of_type(resources, TARGET):
        if t.props.get("targetResourceType") in (None, "COMPARTMENT") and t.props.get("state") != "INACTIVE":
            targets |= _nodes(t, "targetResourceId")
    for z in of_type(resources, ZONE):
        targets |= _nodes(z, "compartmentId")  # the zone's own security zone target
    root = any(kind == "ocid" and value.startswith("ocid1.tenancy.") for kind, value in targets)

    parents: dict[Node, set[Node]] = {}
    for c in of_type(resources, COMPARTMENT):
        selves: set[Node] = {("urn", c.urn)}
        if text(c.props.get("id")):
            selves.add(("ocid", str(c.props["id"])))
        for node in selves:
            parents.setdefault(node, set()).update(_nodes(c, "compartmentId"))

    def covered(node: Node, seen: frozenset[Node] = frozenset()) -> bool:
        if node in targets:
            return True
        return any(p not in seen and covered(p, seen | {node}) for p in parents.get(node, ()))

    for region, data in sorted(data_regions(resources, cfg).items()):
        if root:
            continue
        bare = [r for r in data if not any(covered(n) for n in _nodes(r, "compartmentId"))]
        if bare:
            more = f" (and {len(bare) - 1} more)" if len(bare) > 1 else ""
            yield (
                bare[0].urn,
                f"region {region} holds data that no Cloud Guard target covers: {bare[0].name}{more}",
            )


POLICY = stack_policy(META, check)
