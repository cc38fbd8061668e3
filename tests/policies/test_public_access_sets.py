"""Every member of the sets that mean "public", one at a time (issue 12 item 4; issue 20's
"sets tested by one member only").

Each public form is judged from the compliant baseline with that one value changed, with the
policy at its configured level (never disabled), and each safe neighbour is judged too, so an
allow-list that loses a member, or a deny-list that gains one, fails here.

Sources for the sets:
- OCI bucket `accessType`: NoPublicAccess | ObjectRead | ObjectReadWithoutList (OCI API,
  `CreateBucketDetails.publicAccessType`; pulumi-oci `Bucket.access_type` docstring).
- OCI pre-authenticated requests `accessType`: ObjectRead | ObjectWrite | ObjectReadWrite |
  AnyObjectWrite | AnyObjectRead | AnyObjectReadWrite (OCI API, `CreatePreauthenticatedRequestDetails`).
- S3 canned ACLs (AWS S3 User Guide, "Canned ACL"): public-read, public-read-write and
  authenticated-read give READ to AllUsers / AuthenticatedUsers; private,
  bucket-owner-read, bucket-owner-full-control, aws-exec-read and log-delivery-write do not
  (log-delivery-write is a WRITE grant to the log-delivery group, judged as a writer elsewhere).
- S3 ACL grantee groups: http://acs.amazonaws.com/groups/global/AllUsers and .../AuthenticatedUsers
  (any AWS account at all) are public (S3 User Guide, "Access control list (ACL) overview").
- OCI IAM subjects `any-user` and `any-group` (OCI IAM, "Policy Syntax": subjects).
- Data ports (policies/security/data_ingress.py, from the OCI documentation there): 1521/1522
  Oracle Database, 3306/33060 MySQL HeatWave, 5432 PostgreSQL, 111 and 2048-2050 File Storage NFS,
  1433 SQL Server, 6379 Redis/OCI Cache, 9042 Cassandra, 9200 OpenSearch, 27017 MongoDB; the
  ports next to each, when not data ports themselves, are not refused by that rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.cases import BUCKET_IAD, IAM, OPEN_SSH, PAR_IAD, SECURITY_LIST_IAD, SG_ACL, Case, one
from tests.policies.harness import InProcessPack
from tests.policies.run_cases import judge, run_case

M = "mandatory"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def _run(case: Case, pack: InProcessPack, props: dict[str, Any]) -> None:
    assert case.level is None, "a set member is judged with the policy on"
    judge(case, run_case(case, pack.configure, pack.analyze, pack.analyze_stack, props, pack.names))


@pytest.mark.parametrize("access", ["ObjectRead", "ObjectReadWithoutList"])
def test_every_public_bucket_access_type_is_refused(
    access: str, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    case = one("security-bucket-not-public", access, BUCKET_IAD.set(accessType=access), (M, "readable"))
    _run(case, pack, prod_properties)


def test_a_private_bucket_is_not_public(pack: InProcessPack, prod_properties: dict[str, Any]) -> None:
    _run(one("security-bucket-not-public", "private", BUCKET_IAD.set(accessType="NoPublicAccess"), None),
         pack, prod_properties)  # fmt: skip


@pytest.mark.parametrize(
    ("canned", "grantee"),
    [("public-read", ALL_USERS), ("public-read-write", ALL_USERS), ("authenticated-read", AUTHENTICATED)],
)
def test_every_public_canned_acl_is_refused(
    canned: str, grantee: str, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    _run(
        one("security-bucket-not-public", canned, SG_ACL.set(acl=canned), (M, grantee)), pack, prod_properties
    )


@pytest.mark.parametrize(
    "canned", ["private", "bucket-owner-read", "bucket-owner-full-control", "aws-exec-read"]
)
def test_canned_acls_that_read_nothing_publicly_pass(
    canned: str, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    _run(one("security-bucket-not-public", canned, SG_ACL.set(acl=canned), None), pack, prod_properties)


@pytest.mark.parametrize("grantee", [ALL_USERS, AUTHENTICATED])
@pytest.mark.parametrize("permission", ["READ", "FULL_CONTROL"])
def test_every_public_grantee_of_an_explicit_grant_is_refused(
    grantee: str, permission: str, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    acl = SG_ACL.set(
        acl=None,
        accessControlPolicy={
            "owner": {"id": "owner-canonical-id"},
            "grants": [{"grantee": {"type": "Group", "uri": grantee}, "permission": permission}],
        },
    )
    _run(
        one("security-bucket-not-public", f"{permission}-{grantee}", acl, (M, grantee)), pack, prod_properties
    )


@pytest.mark.parametrize("access", ["ObjectRead", "ObjectReadWrite", "AnyObjectRead", "AnyObjectReadWrite"])
def test_every_reading_par_that_lives_long_is_public_access(
    access: str, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    par = PAR_IAD.set(accessType=access, timeExpires="2027-12-01T00:00:00Z")
    _run(one("security-par-public-read", access, par, (M, "")), pack, prod_properties)


@pytest.mark.parametrize("subject", ["any-user", "any-group"])
def test_every_anyone_subject_is_refused(
    subject: str, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    statements = [*IAM.props["statements"], f"Allow {subject} to read objects in compartment us-data"]
    case = one("residency-iam-statements", subject, IAM.set(statements=statements), (M, subject))
    _run(case, pack, prod_properties)


# The tests' own list (not imported from the pack): a port dropped from the pack's, or one added.
DATA_PORTS = (111, 1433, 1521, 1522, 2048, 2049, 2050, 3306, 5432, 6379, 9042, 9200, 27017, 33060)


def _open(port: int) -> Any:
    return SECURITY_LIST_IAD.set(
        ingressSecurityRules=[{**OPEN_SSH, "tcpOptions": {"min": port, "max": port}}]
    )


@pytest.mark.parametrize("port", DATA_PORTS)
def test_every_data_port_open_to_the_internet_is_refused(
    port: int, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    case = one("security-no-data-ingress", str(port), _open(port), (M, f"0.0.0.0/0 to port(s) {port} "))
    _run(case, pack, prod_properties)


@pytest.mark.parametrize("port", sorted({n for p in DATA_PORTS for n in (p - 1, p + 1)} - set(DATA_PORTS)))
def test_the_ports_next_to_the_data_ports_are_not_data_ports(
    port: int, pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    _run(one("security-no-data-ingress", str(port), _open(port), None), pack, prod_properties)
