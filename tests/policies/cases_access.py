"""USDR-IAM-03 cases (policies/residency/iam_access_conditions.py), baseline minus one.

Registered in tests/policies/cases.py's ALL (one line there), so they run in process
(tests/policies/test_residency.py::test_policy) and over the Analyzer gRPC protocol
(tests/policies/test_pack_grpc.py::test_case_over_grpc) like every other policy's cases. The OCI
facts they rely on are quoted in tests/policies/test_iam_access_conditions.py.
Built by a function, imported lazily: cases.py imports this module, this module uses cases.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.policies.harness import UNKNOWN, Res

if TYPE_CHECKING:
    from tests.policies.cases import Case

P = "residency-iam-access-conditions"
US_DATA_OCID = "ocid1.compartment.oc1..aaaausdata"
M = "mandatory"
NS = "request.networkSource.name = 'usdr-prod-us-networks'"
MFA = "request.user.mfaTotpVerified = 'true'"
REGIONS = "any {request.region = 'iad', request.region = 'phx'}"
WHERE = f"where all {{{NS}, {MFA}, {REGIONS}}}"
ADMINS_READ = "Allow group us-data-admins to read buckets in compartment us-data where "
ADMINS_MANAGE = "Allow group us-data-admins to manage all-resources in compartment us-data where "
OPS_USE = "Allow group us-data-operators to use object-family in compartment us-network:shared where "
BASELINE = [
    f"Allow group us-data-admins to manage all-resources in compartment us-data {WHERE}",
    f"Allow group us-data-operators to use object-family in compartment us-network:shared {WHERE}",
    f"Allow group us-data-auditors to read audit-events in tenancy {WHERE}",
    f"Allow dynamic-group bastions to read buckets in compartment us-security where all {{{NS}, {REGIONS}}}",
    "Allow service objectstorage-us-ashburn-1 to use keys in compartment us-security",
    "Allow group us-data-operators to read buckets in compartment marketing",  # not US data
    "Define tenancy Partner as ocid1.tenancy.oc1..aaaapartner",
]


def cases() -> list[Case]:
    from tests.policies.cases import IAM, OCI_IAD, TAGS, one

    policy = IAM.set(statements=BASELINE)
    network_source = Res(
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

    def swap(i: int, statement: str) -> Res:
        return policy.set(statements=[*BASELINE[:i], statement, *BASELINE[i + 1 :]])

    return [
        # bastions is an allowed dynamic group here, so residency-iam-statements passes it too.
        one(P, "baseline", policy, None, config={"allowedDynamicGroups": ["bastions"]}),
        one(P, "network-source-baseline", network_source, None),
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
        # An OCID says nothing of where it sits (the US data compartment, or its parent: policies
        # inherit downwards), so a grant by an OCID nobody listed reaches US data.
        one(
            P,
            "by-unlisted-ocid",
            swap(5, f"Allow group us-data-operators to read buckets in compartment id {US_DATA_OCID}"),
            (M, f"reaches US data (compartment id {US_DATA_OCID}) without a network-source condition"),
        ),
        one(
            P,
            "by-outside-ocid",
            swap(5, f"Allow group us-data-operators to read buckets in compartment id {US_DATA_OCID}"),
            None,
            config={"outsideDataCompartments": [US_DATA_OCID]},
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
            swap(
                3, f"Allow any-user to read buckets in compartment us-security where all {{{NS}, {REGIONS}}}"
            ),
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
        one(P, "missing", policy.without("statements"), (M, "statements are missing")),
        one(P, "unknown", policy.set(statements=UNKNOWN), (M, "unknown during preview")),
        # config: without usDataCompartments every compartment counts (fail closed)
        one(P, "config", policy, (M, "compartment marketing"), config={"usDataCompartments": None}),
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
            network_source.set(publicSourceLists=["192.0.2.0/28", "0.0.0.0/0"]),
            (M, "publicSourceLists[1] 0.0.0.0/0 allows the whole internet"),
        ),
        one(
            P,
            "network-source-internet-v6",
            network_source.set(publicSourceLists=["::/0"]),
            (M, "allows the whole internet"),
        ),
        one(
            P,
            "network-source-vcn-internet",
            network_source.set(
                virtualSourceLists=[{"vcnId": "ocid1.vcn.oc1.iad.aaaavcn", "ipRanges": ["0.0.0.0/0"]}]
            ),
            (M, "virtualSourceLists[0].ipRanges[0] 0.0.0.0/0 allows the whole internet"),
        ),
        one(
            P,
            "network-source-non-us",
            network_source.set(publicSourceLists=["203.0.113.128/25"]),
            (M, "overlaps 203.0.113.0/24, marked outside the US"),
        ),
        one(
            P,
            "network-source-non-us-config",
            network_source.set(publicSourceLists=["203.0.113.128/25"]),
            None,
            config={"nonUsSourceCidrs": []},
        ),
        one(
            P,
            "network-source-not-a-range",
            network_source.set(publicSourceLists=["the office"]),
            (M, "is not an IP range"),
        ),
        one(
            P,
            "network-source-unknown",
            network_source.set(publicSourceLists=UNKNOWN),
            (M, "publicSourceLists is not known"),
        ),
        # An IPv6 range that overlaps no non-US range passes (the configured ones are IPv4).
        one(P, "network-source-ipv6-range", network_source.set(publicSourceLists=["2001:db8:10::/48"]), None),
        # A VCN entry without its ranges cannot be proven US-only.
        one(
            P,
            "network-source-vcn-without-ranges",
            network_source.set(virtualSourceLists=[{"vcnId": "ocid1.vcn.oc1.iad.aaaavcn"}]),
            (M, "virtualSourceLists[0].ipRanges is not known"),
        ),
    ]
