"""USDR-LIF-01: every data-bearing resource is protected against deletion.

Buckets, vaults, keys, volumes, databases, legacy replica buckets (`dataBearingTypes`) must
carry the `protect` resource option, so that a delete or a replacement needs a deliberate
change in code first and shows up in review.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pack_config import PackConfig
from pack_policy import MANDATORY, Meta, stack_policy
from pulumi_policy import Severity
from resource_props import Resource

META = Meta(
    name="stack-data-protected",
    control="USDR-LIF-01",
    title="Data-bearing resources are protected",
    description="Every data-bearing resource (buckets, vaults, keys, volumes, databases, legacy replicas) "
    "has the protect option set.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    remediation="Pass `opts=pulumi.ResourceOptions(protect=True)` (the components do so when protectData is "
    "true in the stack settings). To delete on purpose: set protect=False in one reviewed change, then "
    "remove the resource in the next.",
)


def check(resources: Sequence[Resource], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    for r in resources:
        if r.type in cfg.data_bearing_types and not r.protect:
            yield r.urn, f"{r.type.rsplit(':', 1)[-1]} {r.name!r} holds data but is not protected"


POLICY = stack_policy(META, check)
