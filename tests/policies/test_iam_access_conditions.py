"""USDR-IAM-03 (policies/residency/iam_access_conditions.py): baseline minus one, in process and over gRPC.

The OCI facts the policy relies on, from Oracle's IAM documentation:
- Policy Syntax > Conditions (https://docs.oracle.com/iaas/Content/Identity/policysyntax/conditions.htm):
  "Syntax for a single condition: variable =|!= value"; "Syntax for multiple conditions:
  any|all {<condition>,<condition>,...}"; "Use any or all with multiple conditions for a logical OR
  or AND, respectively"; values are single-quoted; "Condition matching is case insensitive".
  A multiple condition nests as a condition of another: `where all {target.bucket.name='b', any
  {request.permission='OBJECT_CREATE', request.permission='OBJECT_INSPECT'}}` (Oracle Data Flow's
  policy for its logs bucket).
- General Variables for All Requests: `request.networkSource.name`, "The name of the network source
  group that specifies allowed IP addresses the request may come from"; `request.user.mfaTotpVerified`,
  "To restrict access to only MFA-verified users, add the condition where
  request.user.mfaTotpVerified='true'" (IAM without identity domains only).
So the cases check the *implication*: a term inside `any` with other branches is not required.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.policies.cases import IAM, IAM_POLICY, OCI_IAD, TAGS, Case, one
from tests.policies.harness import UNKNOWN, InProcessPack, Res
from tests.policies.pack_process import start_pack
from tests.policies.run_cases import judge, run_case
from tests.policies.test_pack_grpc import GrpcPack

P = "residency-iam-access-conditions"
US_DATA_OCID = "ocid1.compartment.oc1..aaaausdata"
M = "mandatory"
NS = "request.networkSource.name = 'usdr-prod-us-networks'"
MFA = "request.user.mfaTotpVerified = 'true'"
REGIONS = "any {request.region = 'iad', request.region = 'phx'}"
WHERE = f"where all {{{NS}, {MFA}, {REGIONS}}}"
BASELINE = [
    f"Allow group us-data-admins to manage all-resources in compartment us-data {WHERE}",
    f"Allow group us-data-operators to use object-family in compartment us-network:shared {WHERE}",
    f"Allow group us-data-auditors to read audit-events in tenancy {WHERE}",
    f"Allow dynamic-group bastions to read buckets in compartment us-security where all {{{NS}, {REGIONS}}}",
    "Allow service objectstorage-us-ashburn-1 to use keys in compartment us-security",
    "Allow group us-data-operators to read buckets in compartment marketing",  # not US data
    "Define tenancy Partner as ocid1.tenancy.oc1..aaaapartner",
]
POLICY = IAM.set(statements=BASELINE)
NETWORK_SOURCE = Res(
    "oci:Identity/networkSource:NetworkSource",
    "access-networks-network-source",
    {
        "compartmentId": "ocid1.tenancy.oc1..aaaatenancy",
        "name": "usdr-prod-us-networks",
        "description": "d",
        "publicSourceLists": ["192.0.2.0/28", "192.0.2.64/27"],
        "virtualSourceLists": [{"vcnId": "ocid1.vcn.oc1.iad.aaaavcn", "ipRanges": ["10.10.0.0/16"]}],
        "services": ["all"],
        "freeformTags": TAGS,
    },
    OCI_IAD,
)


ADMINS_READ = "Allow group us-data-admins to read buckets in compartment us-data where "
ADMINS_MANAGE = "Allow group us-data-admins to manage all-resources in compartment us-data where "
OPS_USE = "Allow group us-data-operators to use object-family in compartment us-network:shared where "


def swap(i: int, statement: str) -> Res:
    return POLICY.set(statements=[*BASELINE[:i], statement, *BASELINE[i + 1 :]])


CASES: list[Case] = [
    one(P, "baseline", POLICY, None),
    one(P, "network-source-baseline", NETWORK_SOURCE, None),
    # a grant on US data without the network source (by name, path segment, OCID, in tenancy)
    one(
        P,
        "violation",
        swap(
            0,
            ADMINS_MANAGE + f"all {{{MFA}}}",
        ),
        (M, "without a network-source condition"),
    ),
    one(
        P,
        "path-segment",
        swap(
            1,
            OPS_USE + f"{MFA}",
        ),
        (M, "compartment us-network:shared"),
    ),
    one(
        P,
        "by-ocid",
        swap(
            5,
            f"Allow group us-data-operators to read buckets in compartment id {US_DATA_OCID}",
        ),
        (M, "without a network-source condition"),
        config={"usDataCompartments": ["us-data", US_DATA_OCID]},
    ),
    one(
        P,
        "in-tenancy",
        swap(2, f"Allow group us-data-auditors to read audit-events in tenancy where {MFA}"),
        (M, "reaches US data (tenancy)"),
    ),
    # the network source only as one branch of an `any`: not required
    one(
        P,
        "network-source-in-any",
        swap(
            0,
            ADMINS_READ + f"all {{{MFA}, any {{{NS}, request.region = 'iad'}}}}",
        ),
        (M, "without a network-source condition"),
    ),
    one(
        P,
        "network-source-pattern",
        swap(
            0,
            ADMINS_READ + f"all {{{MFA}, request.networkSource.name = /*/}}",
        ),
        (M, "without a network-source condition"),
    ),
    one(
        P,
        "network-source-negated",
        swap(
            0,
            ADMINS_READ + f"all {{{MFA}, request.networkSource.name != 'x'}}",
        ),
        (M, "without a network-source condition"),
    ),
    # people without MFA; MFA false; a dynamic group needs no MFA (baseline), any-user does
    one(
        P,
        "no-mfa",
        swap(
            0,
            ADMINS_MANAGE + f"all {{{NS}, {REGIONS}}}",
        ),
        (M, "without MFA"),
    ),
    one(
        P,
        "mfa-false",
        swap(
            0,
            ADMINS_READ + f"all {{{NS}, request.user.mfaTotpVerified = 'false'}}",
        ),
        (M, "without MFA"),
    ),
    one(
        P,
        "mfa-in-any",
        swap(
            0,
            ADMINS_READ + f"all {{{NS}, any {{{MFA}, request.region = 'iad'}}}}",
        ),
        (M, "without MFA"),
    ),
    one(
        P,
        "any-user",
        swap(3, f"Allow any-user to read buckets in compartment us-security where all {{{NS}, {REGIONS}}}"),
        (M, "grants any-user (people)"),
    ),
    one(
        P,
        "mixed-subjects",
        swap(
            4,
            "Allow service objectstorage-us-ashburn-1, group us-data-admins to use keys in tenancy",
        ),
        (M, "without a network-source condition"),
    ),
    # manage all-resources in tenancy: a finding whatever the condition
    one(
        P,
        "manage-all-in-tenancy",
        swap(0, f"Allow group us-data-admins to manage all-resources in tenancy {WHERE}"),
        (M, "grants manage all-resources in tenancy"),
    ),
    # does not parse / missing / unknown: fail closed
    one(
        P,
        "unparseable-condition",
        swap(
            0,
            ADMINS_READ + "all {request.region = 'iad'",
        ),
        (M, "condition does not parse"),
    ),
    one(P, "missing", POLICY.without("statements"), (M, "statements are missing")),
    one(P, "unknown", POLICY.set(statements=UNKNOWN), (M, "unknown during preview")),
    # config: without usDataCompartments every compartment counts (fail closed)
    one(P, "config", POLICY, (M, "compartment marketing"), config={"usDataCompartments": None}),
    one(
        P,
        "config-list",
        swap(5, "Allow group us-data-operators to read buckets in compartment marketing"),
        (M, "compartment marketing"),
        config={"usDataCompartments": ["us-data", "us-network", "us-security", "marketing"]},
    ),
    # network sources
    one(
        P,
        "network-source-internet",
        NETWORK_SOURCE.set(publicSourceLists=["192.0.2.0/28", "0.0.0.0/0"]),
        (M, "publicSourceLists[1] 0.0.0.0/0 allows the whole internet"),
    ),
    one(
        P,
        "network-source-internet-v6",
        NETWORK_SOURCE.set(publicSourceLists=["::/0"]),
        (M, "allows the whole internet"),
    ),
    one(
        P,
        "network-source-vcn-internet",
        NETWORK_SOURCE.set(
            virtualSourceLists=[{"vcnId": "ocid1.vcn.oc1.iad.aaaavcn", "ipRanges": ["0.0.0.0/0"]}]
        ),
        (M, "virtualSourceLists[0].ipRanges[0] 0.0.0.0/0 allows the whole internet"),
    ),
    one(
        P,
        "network-source-non-us",
        NETWORK_SOURCE.set(publicSourceLists=["203.0.113.128/25"]),
        (M, "overlaps 203.0.113.0/24, marked outside the US"),
    ),
    one(
        P,
        "network-source-non-us-config",
        NETWORK_SOURCE.set(publicSourceLists=["203.0.113.128/25"]),
        None,
        config={"nonUsSourceCidrs": []},
    ),
    one(
        P,
        "network-source-not-a-range",
        NETWORK_SOURCE.set(publicSourceLists=["the office"]),
        (M, "is not an IP range"),
    ),
    one(
        P,
        "network-source-unknown",
        NETWORK_SOURCE.set(publicSourceLists=UNKNOWN),
        (M, "publicSourceLists is not known"),
    ),
]
assert all(c.resources[0].type in (IAM_POLICY, NETWORK_SOURCE.type) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_in_process(case: Case, pack: InProcessPack, prod_properties: dict[str, Any]) -> None:
    judge(case, run_case(case, pack.configure, pack.analyze, pack.analyze_stack, prod_properties, pack.names))


def test_the_generated_config_names_the_us_compartments_and_non_us_ranges(
    prod_properties: dict[str, Any],
) -> None:
    assert prod_properties["usDataCompartments"] == ["us-data", "us-network", "us-security"]
    assert prod_properties["nonUsSourceCidrs"] == ["203.0.113.0/24"]


@pytest.fixture(scope="module")
def grpc_pack() -> Iterator[GrpcPack]:
    with start_pack() as proc:
        yield GrpcPack(proc)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_over_grpc(case: Case, grpc_pack: GrpcPack, prod_properties: dict[str, Any]) -> None:
    judge(
        case,
        run_case(
            case,
            grpc_pack.configure,
            grpc_pack.analyze,
            grpc_pack.analyze_stack,
            prod_properties,
            grpc_pack.names,
        ),
    )
