"""USDR-RES-09 (advisory): a resource whose placement the pack cannot determine.

The pack knows where `oci:` resources live (their provider's region, USDR-RES-01) and where
`aws:` resources send data (a declared site or an AWS region, USDR-RES-02). Any other custom
resource (another cloud's provider, a dynamic provider's `pulumi-python:dynamic:Resource`,
whose code decides where it writes) could hold or move US user data somewhere the pack cannot
see. USDR-RES-08 judges every location-shaped value of its inputs (mandatory); this policy
reports the rest, the placement itself, at least as advisory (issue 12 item 3), so a reviewer
looks at it.

Custom or component: the engine sends a custom resource's provider with each Analyze request
(its own or the package's default provider); a component has none, and its children are judged
one by one. Dynamic resources are custom whatever the request says. Packages that create no
data-holding infrastructure (`random`, `tls`, `time`: values computed in the engine) are left
out, as are Pulumi's own types (providers, the stack, stack references).
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import ADVISORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource

PLACED_PACKAGES = ("oci", "aws", "pulumi")
DATA_FREE_PACKAGES = ("random", "tls", "time")
DYNAMIC = ("pulumi-python:dynamic:", "pulumi-nodejs:dynamic:")

META = Meta(
    name="residency-unplaced-types",
    control="USDR-RES-09",
    title="Resources whose placement cannot be determined",
    description="A custom resource of a type the pack cannot place (another provider, a dynamic provider) "
    "could hold US user data outside the approved regions: reported for review.",
    enforcement=ADVISORY,
    severity=Severity.MEDIUM,
    types=("*",),
    # The packages check() returns at once for (dynamic types are `pulumi-python:`, not `pulumi:`).
    except_types=tuple(f"{p}:" for p in (*PLACED_PACKAGES, *DATA_FREE_PACKAGES)),
    remediation="Keep US user data in OCI (or the declared legacy sites) through this project's components; "
    "if the resource must stay, record where it keeps data in its review and pass its location as an input "
    "(e.g. `region='us-ashburn-1'`), which residency-location-values then judges.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    dynamic = res.type.startswith(DYNAMIC)
    if not dynamic and (res.package in PLACED_PACKAGES or res.package in DATA_FREE_PACKAGES):
        return
    if not dynamic and res.provider is None:
        return  # a component: its children are judged
    what = (
        "a dynamic provider's resource (its code decides where it writes)"
        if dynamic
        else (f"a {res.package!r} resource")
    )
    yield Finding(
        f"{what}: the pack cannot determine where it keeps data; its location-shaped inputs are judged "
        "by residency-location-values, its placement needs a review"
    )


POLICY = resource_policy(META, check)
