"""Every policy, four ways: compliant baseline, violation, property missing, config override.

Compliance-policies style: each case starts from a compliant baseline (the resources of
`ESTATE`, a small but complete estate: one OCI region and both legacy sites of the prod
stack) and changes one thing. The base pack config is the one `stacks.policy_config`
generates from Pulumi.prod.yaml; a case may override properties or the policy's level.

The same cases run in process (test_residency/test_security/test_lifecycle.py) and over the
analyzer gRPC protocol against the pack started as the CLI starts it (test_pack_grpc.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tests.policies.cases_access import cases as access_cases
from tests.policies.cases_egress import cases as egress_cases
from tests.policies.cases_mutation import cases as mutation_cases
from tests.policies.harness import UNKNOWN, Prov, Res

# --------------------------------------------------------------------------- providers

OCI_IAD = Prov("pulumi:providers:oci", "oci-us-ashburn-1", {"region": "us-ashburn-1"})
OCI_PHX = Prov("pulumi:providers:oci", "oci-us-phoenix-1", {"region": "us-phoenix-1"})
OCI_SIN = Prov("pulumi:providers:oci", "oci-ap-singapore-1", {"region": "ap-singapore-1"})
OCI_AGA = Prov("pulumi:providers:oci", "oci-us-saltlake-2", {"region": "us-saltlake-2"})
OCI_NO_REGION = Prov("pulumi:providers:oci", "oci-explicit", {})
OCI_UNKNOWN = Prov("pulumi:providers:oci", "oci-computed", {"region": UNKNOWN})
US_EAST_ENDPOINT = "https://objects.legacy-us-east.dc.example.net"
SG_ENDPOINT = "https://objects.legacy-sg.dc.example.net"
# Bridged providers send nested provider config as JSON text, as the real aws.Provider does.
AWS_US = Prov(
    "pulumi:providers:aws",
    "legacy-us-east",
    {"region": "us-east-1", "endpoints": json.dumps([{"s3": US_EAST_ENDPOINT}])},
)
AWS_SG = Prov(
    "pulumi:providers:aws",
    "legacy-sg",
    {"region": "ap-southeast-1", "endpoints": json.dumps([{"s3": SG_ENDPOINT}])},
)
AWS_REAL_EU = Prov("pulumi:providers:aws", "aws-eu", {"region": "eu-west-1"})
AWS_REAL_USE2 = Prov("pulumi:providers:aws", "aws-use2", {"region": "us-east-2"})
AWS_NOWHERE = Prov("pulumi:providers:aws", "aws-explicit", {})

WRITER = "arn:aws:iam::000000000000:user/legacy-replicator"
RESTORE = "arn:aws:iam::000000000000:role/us-restore"
OUTSIDER = "arn:aws:iam::000000000000:user/someone-else"
TAGS = {"data-residency": "us-only", "stack": "prod", "managed-by": "pulumi/us-data-residency"}
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaausdata"
PARENT = "ocid1.compartment.oc1..aaaaaaaaparent"

# --------------------------------------------------------------------------- types

BUCKET = "oci:ObjectStorage/bucket:Bucket"
REPLICATION = "oci:ObjectStorage/replicationPolicy:ReplicationPolicy"
PAR = "oci:ObjectStorage/preauthrequest:Preauthrequest"
VAULT = "oci:Kms/vault:Vault"
KEY = "oci:Kms/key:Key"
VAULT_REPLICA = "oci:Kms/vaultVerification:VaultVerification"
VCN = "oci:Core/vcn:Vcn"
SUBNET = "oci:Core/subnet:Subnet"
SECURITY_LIST = "oci:Core/securityList:SecurityList"
ROUTE_TABLE = "oci:Core/routeTable:RouteTable"
ROUTE_ATTACHMENT = "oci:Core/routeTableAttachment:RouteTableAttachment"
NAT_GATEWAY = "oci:Core/natGateway:NatGateway"
NSG_RULE = "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"
LOG = "oci:Logging/log:Log"
FW = "oci:NetworkFirewall/networkFirewall:NetworkFirewall"
FW_POLICY = "oci:NetworkFirewall/networkFirewallPolicy:NetworkFirewallPolicy"
FW_LIST = "oci:NetworkFirewall/networkFirewallPolicyAddressList:NetworkFirewallPolicyAddressList"
FW_RULE = "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule"
CLOUD_GUARD = "oci:CloudGuard/target:Target"
IAM_POLICY = "oci:Identity/policy:Policy"
IAM_GROUP = "oci:Identity/group:Group"
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_ACL = "aws:s3/bucketAclV2:BucketAclV2"
S3_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
S3_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
S3_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
AWS_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"


def doc(*statements: Mapping[str, Any]) -> str:
    """A policy document; a key set to None in a statement is left out (`{**st, "Action": None}`)."""
    kept = [{k: v for k, v in st.items() if v is not None} for st in statements]
    return json.dumps({"Version": "2012-10-17", "Statement": kept})


# The tests' own action lists (not imported from the pack): what the replication job does, what
# nobody may do, what only the restore principal may do.
WRITER_ACTIONS = [
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
]
NOBODY_ACTIONS = [
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectVersionTagging",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutReplicationConfiguration",
    "s3:RestoreObject",
    "s3:DeleteBucket",
]
READ_ACTIONS = ["s3:Get*", "s3:List*"]
OBJECT_WRITES = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
READS = ["s3:GetObject", "s3:ListBucket"]
US_ARNS = ["arn:aws:s3:::backups", "arn:aws:s3:::backups/*"]
SG_ARNS = ["arn:aws:s3:::backups-sg", "arn:aws:s3:::backups-sg/*"]
DENY_ALL_BUT_WRITER = {
    "Sid": "DenyWritesExceptWriter",
    "Effect": "Deny",
    "Principal": "*",
    "Action": WRITER_ACTIONS,
    "Resource": US_ARNS,
    "Condition": {"StringNotEquals": {"aws:PrincipalArn": WRITER}},
}
ALLOW_WRITER = {
    "Sid": "AllowWriter",
    "Effect": "Allow",
    "Principal": {"AWS": WRITER},
    "Action": OBJECT_WRITES[:2],
    "Resource": "arn:aws:s3:::backups/*",
}
DENY_NOBODY_US = {
    "Sid": "DenyToEveryone",
    "Effect": "Deny",
    "Principal": "*",
    "Action": NOBODY_ACTIONS,
    "Resource": US_ARNS,
}
DENY_READS_US = {
    "Sid": "DenyReadsExceptRestore",
    "Effect": "Deny",
    "Principal": "*",
    "Action": READ_ACTIONS,
    "Resource": US_ARNS,
    "Condition": {"StringNotEquals": {"aws:PrincipalArn": RESTORE}},
}
ALLOW_RESTORE = {
    "Sid": "AllowRestoreReads",
    "Effect": "Allow",
    "Principal": {"AWS": RESTORE},
    "Action": READS,
    "Resource": "arn:aws:s3:::backups/*",
}
DENY_EVERYONE = {
    "Sid": "DenyToEveryone",
    "Effect": "Deny",
    "Principal": "*",
    "Action": WRITER_ACTIONS + NOBODY_ACTIONS,
    "Resource": SG_ARNS,
}
DENY_READS_SG = {**DENY_READS_US, "Resource": SG_ARNS}
# The replica policies as the component writes them: every forbidden request explicitly denied.
US_STATEMENTS = (DENY_ALL_BUT_WRITER, ALLOW_WRITER, DENY_NOBODY_US, DENY_READS_US, ALLOW_RESTORE)
SG_STATEMENTS = (DENY_EVERYONE, DENY_READS_SG, {**ALLOW_RESTORE, "Resource": "arn:aws:s3:::backups-sg/*"})


ABORT_UPLOADS = {
    "id": "abort-incomplete-uploads",
    "status": "Enabled",
    "filter": {"prefix": ""},
    "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
}


def lifecycle_rules(day: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "expire-by-sunset",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"date": f"{day}T00:00:00Z"},
        },
        ABORT_UPLOADS,
    ]


# --------------------------------------------------------------------------- the compliant estate

VCN_IAD = Res(
    VCN,
    "iad-vcn",
    {"cidrBlocks": ["10.10.0.0/16"], "compartmentId": COMPARTMENT, "freeformTags": TAGS},
    OCI_IAD,
)
SUBNET_DATA = Res(
    SUBNET,
    "iad-subnet-data",
    {"cidrBlock": "10.10.0.0/24", "vcnId": UNKNOWN, "routeTableId": UNKNOWN, "freeformTags": TAGS},
    OCI_IAD,
    deps={"vcnId": ["iad-vcn"], "routeTableId": ["iad-rt-data"]},
)
SUBNET_FW = Res(
    SUBNET,
    "iad-subnet-firewall",
    {"cidrBlock": "10.10.2.0/24", "vcnId": UNKNOWN, "freeformTags": TAGS},
    OCI_IAD,
    deps={"vcnId": ["iad-vcn"]},
)


def flow_log(subnet: Res) -> Res:
    source = {"service": "flowlogs", "resource": UNKNOWN, "category": "all", "sourceType": "OCISERVICE"}
    return Res(
        LOG,
        f"{subnet.name}-flow-log",
        {"logType": "SERVICE", "isEnabled": True, "configuration": {"source": source}, "freeformTags": TAGS},
        OCI_IAD,
        deps={"configuration": [subnet.name]},
    )


FLOW_DATA = flow_log(SUBNET_DATA)
FLOW_FW = flow_log(SUBNET_FW)
# Routing as components/routing.py builds it: the data subnet's internet route goes to the
# firewall's private IP; only the firewall subnet's table reaches the NAT gateway.
FIREWALL_PRIVATE_IP = "ocid1.privateip.oc1.iad.aaaafirewall"
NAT_IAD = Res(
    NAT_GATEWAY,
    "iad-nat",
    {"vcnId": UNKNOWN, "blockTraffic": False, "compartmentId": COMPARTMENT, "freeformTags": TAGS},
    OCI_IAD,
    deps={"vcnId": ["iad-vcn"]},
)


def route_table(name: str, target: str, deps: Sequence[str] = (), destination: str = "0.0.0.0/0") -> Res:
    """A route table with one rule; `target` is the networkEntityId (UNKNOWN with `deps`)."""
    rule = {"destination": destination, "destinationType": "CIDR_BLOCK", "networkEntityId": target}
    return Res(
        ROUTE_TABLE,
        name,
        {"vcnId": UNKNOWN, "routeRules": [rule], "compartmentId": COMPARTMENT, "freeformTags": TAGS},
        OCI_IAD,
        deps={"vcnId": ["iad-vcn"], **({"routeRules": list(deps)} if deps else {})},
    )


RT_DATA = route_table("iad-rt-data", FIREWALL_PRIVATE_IP)
RT_FIREWALL = route_table("iad-rt-firewall", UNKNOWN, ["iad-nat"])
RTA_FIREWALL = Res(
    ROUTE_ATTACHMENT,
    "iad-rta-firewall",
    {"subnetId": UNKNOWN, "routeTableId": UNKNOWN},
    OCI_IAD,
    deps={"subnetId": ["iad-subnet-firewall"], "routeTableId": ["iad-rt-firewall"]},
)
VAULT_IAD = Res(
    VAULT,
    "iad-vault",
    {
        "vaultType": "VIRTUAL_PRIVATE",
        "displayName": "usdr-prod-iad-vault",
        "compartmentId": COMPARTMENT,
        "freeformTags": TAGS,
    },
    OCI_IAD,
    protect=True,
)
KEY_IAD = Res(
    KEY,
    "iad-key-user-content",
    {
        "protectionMode": "HSM",
        "isAutoRotationEnabled": True,
        "autoKeyRotationDetails": {"rotationIntervalInDays": 90},
        "keyShape": {"algorithm": "AES", "length": 32},
        "managementEndpoint": UNKNOWN,
        "compartmentId": COMPARTMENT,
        "freeformTags": TAGS,
    },
    OCI_IAD,
    protect=True,
    deps={"managementEndpoint": ["iad-vault"]},
)
BUCKET_IAD = Res(
    BUCKET,
    "iad-bucket-media",
    {
        "name": "usdr-prod-media",
        "namespace": "usdrprod",
        "compartmentId": COMPARTMENT,
        "kmsKeyId": UNKNOWN,
        "accessType": "NoPublicAccess",
        "versioning": "Enabled",
        "objectEventsEnabled": True,
        "freeformTags": TAGS,
    },
    OCI_IAD,
    protect=True,
    deps={"kmsKeyId": ["iad-key-user-content"]},
)
FW_POLICY_IAD = Res(FW_POLICY, "iad-fw-policy", {"compartmentId": COMPARTMENT, "freeformTags": TAGS}, OCI_IAD)
FW_LIST_DATA = Res(
    FW_LIST,
    "iad-fw-list-data",
    {"name": "data-subnets", "type": "IP", "addresses": ["10.10.0.0/24"], "networkFirewallPolicyId": UNKNOWN},
    OCI_IAD,
    deps={"networkFirewallPolicyId": ["iad-fw-policy"]},
)
FW_RULE_IDS = Res(
    FW_RULE,
    "iad-fw-rule-inspect-to-data",
    {
        "name": "inspect-to-data",
        "action": "INSPECT",
        "inspection": "INTRUSION_PREVENTION",
        "condition": {"sourceAddresses": [], "destinationAddresses": ["data-subnets"]},
        "networkFirewallPolicyId": UNKNOWN,
    },
    OCI_IAD,
    deps={"networkFirewallPolicyId": ["iad-fw-policy"]},
)
FIREWALL_IAD = Res(
    FW,
    "iad-fw",
    {
        "subnetId": UNKNOWN,
        "networkFirewallPolicyId": UNKNOWN,
        "compartmentId": COMPARTMENT,
        "freeformTags": TAGS,
    },
    OCI_IAD,
    deps={"subnetId": ["iad-subnet-firewall"], "networkFirewallPolicyId": ["iad-fw-policy"]},
)
CLOUD_GUARD_IAD = Res(
    CLOUD_GUARD,
    "iad-cloud-guard",
    {
        "targetResourceType": "COMPARTMENT",
        "targetResourceId": COMPARTMENT,
        "compartmentId": COMPARTMENT,
        "freeformTags": TAGS,
    },
    OCI_IAD,
)

US_BUCKET = Res(
    S3_BUCKET,
    "legacy-us-east-backups",
    {"bucket": "backups", "objectLockEnabled": False, "tags": TAGS},
    AWS_US,
    protect=True,
)
US_POLICY = Res(
    S3_POLICY,
    "legacy-us-east-backups-policy",
    {"bucket": "backups", "policy": doc(*US_STATEMENTS)},
    AWS_US,
    deps={"bucket": ["legacy-us-east-backups"]},
)
US_LIFECYCLE = Res(
    S3_LIFECYCLE,
    "legacy-us-east-backups-lifecycle",
    {"bucket": "backups", "rules": lifecycle_rules("2027-09-30")},
    AWS_US,
    deps={"bucket": ["legacy-us-east-backups"]},
)
SG_BUCKET = Res(
    S3_BUCKET,
    "legacy-sg-backups",
    {"bucket": "backups-sg", "objectLockEnabled": False, "tags": TAGS},
    AWS_SG,
    protect=True,
)
SG_POLICY = Res(
    S3_POLICY,
    "legacy-sg-backups-policy",
    {"bucket": "backups-sg", "policy": doc(*SG_STATEMENTS)},
    AWS_SG,
    deps={"bucket": ["legacy-sg-backups"]},
)
SG_LIFECYCLE = Res(
    S3_LIFECYCLE,
    "legacy-sg-backups-lifecycle",
    {"bucket": "backups-sg", "rules": lifecycle_rules("2027-06-30")},
    AWS_SG,
    deps={"bucket": ["legacy-sg-backups"]},
)

ESTATE: tuple[Res, ...] = (
    VCN_IAD,
    SUBNET_DATA,
    SUBNET_FW,
    FLOW_DATA,
    FLOW_FW,
    NAT_IAD,
    RT_DATA,
    RT_FIREWALL,
    RTA_FIREWALL,
    VAULT_IAD,
    KEY_IAD,
    BUCKET_IAD,
    FW_POLICY_IAD,
    FW_LIST_DATA,
    FW_RULE_IDS,
    FIREWALL_IAD,
    CLOUD_GUARD_IAD,
    US_BUCKET,
    US_POLICY,
    US_LIFECYCLE,
    SG_BUCKET,
    SG_POLICY,
    SG_LIFECYCLE,
)


_SUBNET_ID = "ocid1.subnet.oc1.iad.aaaadata"


def _literal_flow_log(resource: str) -> Res:
    source = {"service": "flowlogs", "resource": resource, "category": "all", "sourceType": "OCISERVICE"}
    return replace(FLOW_DATA, deps={}).set(configuration={"source": source})


PHX_BUCKET = replace(BUCKET_IAD, name="phx-bucket-media", provider=OCI_PHX)


def estate(*, drop: Sequence[str] = (), swap: Sequence[Res] = (), add: Sequence[Res] = ()) -> tuple[Res, ...]:
    """The compliant estate with resources dropped (by name), replaced (same name) or added."""
    by_name = {r.name: r for r in swap}
    kept = tuple(by_name.get(r.name, r) for r in ESTATE if r.name not in drop)
    return kept + tuple(add)


# --------------------------------------------------------------------------- other baselines

DATA_COMPARTMENT = Res(
    "oci:Identity/compartment:Compartment",
    "access-compartment-us-data",
    {"compartmentId": PARENT, "name": "us-data", "description": "d", "id": COMPARTMENT},
    OCI_IAD,
)

# As components/access.py writes them: every grant on US data from the US network source, with
# MFA for people (USDR-IAM-03), so this baseline passes every other policy too.
_US_ONLY = "request.networkSource.name = 'usdr-prod-us-networks', request.user.mfaTotpVerified = 'true'"
IAM_STATEMENTS = [
    f"Allow group us-data-admins to manage all-resources in compartment us-data where all {{{_US_ONLY}}}",
    "Allow group us-data-operators to use object-family in compartment us-data where all "
    f"{{{_US_ONLY}, request.region = 'iad'}}",
    "Allow group 'Default'/'us-data-auditors' to read all-resources in compartment us-data "
    f"where all {{{_US_ONLY}}}",
    "Allow service objectstorage-us-ashburn-1 to use keys in compartment us-security",
]
IAM = Res(
    IAM_POLICY,
    "access-policy",
    {
        "name": "usdr-prod-access",
        "compartmentId": COMPARTMENT,
        "statements": IAM_STATEMENTS,
        "description": "d",
        "freeformTags": TAGS,
    },
    OCI_IAD,
)
GROUP = Res(
    IAM_GROUP,
    "access-group-admins",
    {"name": "us-data-admins", "compartmentId": COMPARTMENT, "description": "d", "freeformTags": TAGS},
    OCI_IAD,
)
REPLICATION_IAD = Res(
    REPLICATION,
    "iad-media-replication",
    {
        "bucket": "usdr-prod-media",
        "namespace": "usdrprod",
        "destinationBucketName": "usdr-prod-media-replica",
        "destinationRegionName": "us-phoenix-1",
        "name": "media-to-phx",
    },
    OCI_IAD,
)
VAULT_REPLICA_IAD = Res(
    VAULT_REPLICA,
    "iad-vault-replica",
    {"vaultId": "ocid1.vault.oc1.iad.aaaaaaaavault", "replicaRegion": "us-phoenix-1"},
    OCI_IAD,
)
SECURITY_LIST_IAD = Res(
    SECURITY_LIST,
    "iad-sl-data",
    {
        "vcnId": UNKNOWN,
        "compartmentId": COMPARTMENT,
        "freeformTags": TAGS,
        "ingressSecurityRules": [
            {"protocol": "6", "source": "10.10.0.0/16", "tcpOptions": {"min": 22, "max": 22}},
            {"protocol": "6", "source": "0.0.0.0/0", "tcpOptions": {"min": 443, "max": 443}},
        ],
    },
    OCI_IAD,
)
NSG_RULE_IAD = Res(
    NSG_RULE,
    "iad-nsg-https",
    {
        "direction": "INGRESS",
        "protocol": "6",
        "source": "0.0.0.0/0",
        "sourceType": "CIDR_BLOCK",
        "tcpOptions": {"destinationPortRange": {"min": 443, "max": 443}},
        "networkSecurityGroupId": UNKNOWN,
    },
    OCI_IAD,
)
PAR_IAD = Res(
    PAR,
    "iad-par-report",
    {
        "accessType": "ObjectRead",
        "bucket": "usdr-prod-media",
        "namespace": "usdrprod",
        "name": "report",
        "objectName": "report.pdf",
        "timeExpires": "2026-12-01T00:00:00Z",
    },
    OCI_IAD,
)
SG_ACL = Res(S3_ACL, "legacy-us-east-backups-acl", {"bucket": "backups", "acl": "private"}, AWS_US)
US_LOCK = Res(
    S3_LOCK,
    "legacy-us-east-backups-lock",
    {"bucket": "backups", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}},
    AWS_US,
)
SG_LOCK = Res(
    S3_LOCK,
    "legacy-sg-backups-lock",
    {"bucket": "backups-sg", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}},
    AWS_SG,
)
S3_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
AWS_RULE = Res(
    AWS_SG_RULE,
    "bastion-https",
    {
        "type": "ingress",
        "protocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrBlocks": ["0.0.0.0/0"],
        "securityGroupId": UNKNOWN,
    },
    AWS_REAL_USE2,
)

# Resources of other programs: a dynamic provider's resource (its pickled provider travels as
# `__provider`), an instance with an availability domain, another provider's config map.
DYNAMIC = Res(
    "pulumi-python:dynamic:Resource",
    "backup-copier",
    {
        "__provider": "gASVxwAAAAAAAACMCF9fbWFpbl9flIwKQ29waWVyUHJvdmlkZXKUk5QpgZQu",
        "bucket": "usdr-prod-media",
        "destinations": ["us-phoenix-1"],
        "endpoint": "https://objectstorage.us-ashburn-1.oraclecloud.com/n/usdrprod/b/usdr-prod-media",
        "source": "ocid1.bucket.oc1.iad.aaaaaaaabucket",
        "targetRegion": "us-phoenix-1",
    },
)
INSTANCE = Res(
    "oci:Core/instance:Instance",
    "iad-app",
    {
        "availabilityDomain": "xyz:US-ASHBURN-AD-1",
        "compartmentId": COMPARTMENT,
        "shape": "VM.Standard.E4.Flex",
        "freeformTags": TAGS,
    },
    OCI_IAD,
)
CONFIG_MAP = Res(
    "kubernetes:core/v1:ConfigMap",
    "app-settings",
    {"metadata": {"name": "app"}, "data": {"OCI_REGION": "us-ashburn-1", "REGION_KEY": "IAD"}},
)

# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    policy: str
    kind: str  # baseline | violation | missing | config | <extra>
    resources: tuple[Res, ...]
    expect: tuple[str, str] | None  # (enforcement, text in the message) or None: no finding
    config: Mapping[str, Any] = field(default_factory=dict)  # properties over the generated config
    level: str | None = None  # enforcementLevel for this policy in the pack config
    stack: bool = False

    @property
    def id(self) -> str:
        return f"{self.policy}:{self.kind}"

    @property
    def group(self) -> str:
        """The pack folder the policy lives in."""
        if self.policy.startswith(("legacy-", "stack-data-")):
            return "lifecycle"
        return "residency" if self.policy.startswith("residency-") else "security"


def one(policy: str, kind: str, res: Res, expect: tuple[str, str] | None, **kw: Any) -> Case:
    return Case(policy, kind, (res,), expect, **kw)


def stack(
    policy: str, kind: str, resources: tuple[Res, ...], expect: tuple[str, str] | None, **kw: Any
) -> Case:
    return Case(policy, kind, resources, expect, stack=True, **kw)


M, A = "mandatory", "advisory"
PROD_SG_SITE = {
    "name": "legacy-sg",
    "endpoint": SG_ENDPOINT,
    "awsRegion": "ap-southeast-1",
    "country": "SG",
    "mode": "frozen",
    "writer": None,
    "restorePrincipal": RESTORE,
    "sunset": "2027-06-30",
}
PROD_US_SITE = {
    "name": "legacy-us-east",
    "endpoint": US_EAST_ENDPOINT,
    "awsRegion": "us-east-1",
    "country": "US",
    "mode": "replica",
    "writer": WRITER,
    "restorePrincipal": RESTORE,
    "sunset": "2027-09-30",
}


def sg_waiver(expires: str) -> dict[str, Any]:
    return {
        "waivers": [
            {
                "target": "legacy-sg",
                "owner": "data-residency@example.com",
                "reason": "frozen backups",
                "expires": expires,
            }
        ]
    }


RESIDENCY: list[Case] = [
    # USDR-RES-01
    one("residency-oci-region", "baseline", BUCKET_IAD, None),
    one("residency-oci-region", "violation", BUCKET_IAD.on(OCI_SIN), (M, "ap-singapore-1 is forbidden")),
    one("residency-oci-region", "missing", BUCKET_IAD.on(OCI_NO_REGION), (M, "cannot be determined")),
    one(
        "residency-oci-region",
        "config",
        BUCKET_IAD.on(OCI_AGA),
        None,
        config={"allowedRegions": ["us-ashburn-1", "us-saltlake-2"], "optInRegions": ["us-saltlake-2"]},
    ),
    one("residency-oci-region", "unknown", BUCKET_IAD.on(OCI_UNKNOWN), (M, "unknown during preview")),
    one(
        "residency-oci-region",
        "other-realm",
        BUCKET_IAD.on(Prov("pulumi:providers:oci", "gov", {"region": "us-gov-ashburn-1"})),
        (M, "forbidden"),
    ),
    one(
        "residency-oci-region",
        "not-by-prefix",
        BUCKET_IAD.on(Prov("pulumi:providers:oci", "ded", {"region": "us-somerset-1"})),
        (M, "us-somerset-1 is forbidden"),
    ),
    one(
        "residency-oci-region",
        "stranger-singapore",
        Res(BUCKET, "their-bucket", {"name": "x", "namespace": "n", "compartmentId": COMPARTMENT}, OCI_SIN),
        (M, "ap-singapore-1"),
    ),
    one(
        "residency-oci-region",
        "waived",
        BUCKET_IAD.on(OCI_SIN),
        None,
        config={
            "waivers": [{"target": "iad-bucket-media", "owner": "o", "reason": "r", "expires": "2027-01-31"}]
        },
    ),
    # USDR-RES-02
    one("residency-aws-location", "baseline", US_BUCKET, None),
    one(
        "residency-aws-location",
        "violation",
        US_BUCKET.on(AWS_REAL_EU),
        (
            M,
            "eu-west-1 (from provider), not a declared legacy site; approved AWS regions: none",
        ),
    ),
    one(
        "residency-aws-location",
        "missing",
        US_BUCKET.on(AWS_NOWHERE),
        (M, "target cannot be determined: no resource, provider or stack-config region"),
    ),
    one(
        "residency-aws-location",
        "config",
        US_BUCKET.on(AWS_REAL_USE2),
        None,
        config={"awsAllowedRegions": ["us-east-2"]},
    ),
    one(
        "residency-aws-location",
        "undeclared-endpoint",
        US_BUCKET.on(
            Prov(
                "pulumi:providers:aws",
                "x",
                {"region": "us-east-1", "endpoints": json.dumps([{"s3": "https://minio.example.org"}])},
            )
        ),
        (M, f"not a declared legacy site (declared: {US_EAST_ENDPOINT}"),
    ),
    # The endpoint decides: a declared site's resource whose own region is unknown still passes,
    # and an undeclared endpoint still fails (not "cannot be determined").
    one("residency-aws-location", "endpoint-decides-region-unknown", US_BUCKET.set(region=UNKNOWN), None),
    one("residency-aws-location", "non-us-site-waived", SG_BUCKET, None),
    one(
        "residency-aws-location",
        "non-us-site-no-waiver",
        SG_BUCKET,
        (M, "outside US"),
        config={"waivers": []},
    ),
    one(
        "residency-aws-location",
        "non-us-site-expired-waiver",
        SG_BUCKET,
        (M, "expired on 2026-11-01"),
        config=sg_waiver("2026-11-01"),
    ),
    one(
        "residency-aws-location",
        "endpoints-unknown",
        US_BUCKET.on(Prov("pulumi:providers:aws", "x", {"region": "us-east-1", "endpoints": UNKNOWN})),
        (M, "unknown during preview"),
    ),
    # USDR-RES-03
    one("residency-cross-region", "baseline", REPLICATION_IAD, None),
    one(
        "residency-cross-region",
        "violation",
        REPLICATION_IAD.set(destinationRegionName="ap-singapore-1"),
        (M, "destinationRegionName: region ap-singapore-1 is forbidden"),
    ),
    one(
        "residency-cross-region",
        "missing",
        REPLICATION_IAD.without("destinationRegionName"),
        (M, "destinationRegionName is missing"),
    ),
    one(
        "residency-cross-region",
        "config",
        REPLICATION_IAD,
        (M, "not oc2"),
        config={
            "realm": "oc2",
            "allowedRegions": [{"identifier": "us-phoenix-1", "realm": "oc1"}, "us-ashburn-1"],
        },
    ),
    one(
        "residency-cross-region",
        "unknown",
        REPLICATION_IAD.set(destinationRegionName=UNKNOWN),
        (M, "unknown during preview"),
    ),
    one("residency-cross-region", "vault-replica-baseline", VAULT_REPLICA_IAD, None),
    one(
        "residency-cross-region",
        "vault-replica-other-realm",
        VAULT_REPLICA_IAD.set(replicaRegion="us-langley-1"),
        (M, "replicaRegion: region us-langley-1"),
    ),
    one(
        "residency-cross-region",
        "vault-replica-missing",
        VAULT_REPLICA_IAD.without("replicaRegion"),
        (M, "replicaRegion is missing"),
    ),
    # Approved, and in the configured realm, but not the source's: replication works only inside
    # one realm (facts/NOTES.md: a tenancy lives in one realm).
    one(
        "residency-cross-region",
        "approved-in-another-realm",
        REPLICATION_IAD.set(destinationRegionName="us-langley-1"),
        (M, "destinationRegionName: us-langley-1 is in oc2, the resource in oc1"),
        config={
            "realm": "oc2",
            "allowedRegions": [{"identifier": "us-ashburn-1", "realm": "oc1"}, "us-langley-1"],
        },
    ),
    # No realm configured: the source's own realm is required.
    one(
        "residency-cross-region",
        "no-realm-configured-source-realm-rules",
        REPLICATION_IAD.set(destinationRegionName="us-langley-1"),
        (M, "destinationRegionName: region us-langley-1 is in oc2, not oc1"),
        config={"realm": None, "allowedRegions": ["us-ashburn-1", "us-langley-1"]},
    ),
    # An empty region field does not end the check of the others.
    one(
        "residency-cross-region",
        "empty-field-then-forbidden",
        REPLICATION_IAD.set(destinationRegionName="", sourceRegionName="ap-singapore-1"),
        (M, "sourceRegionName: region ap-singapore-1 is forbidden"),
    ),
    # USDR-RES-04
    one(
        "residency-referenced-ocids",
        "baseline",
        BUCKET_IAD.set(kmsKeyId="ocid1.key.oc1.iad.aaaaaaaakey"),
        None,
    ),
    one(
        "residency-referenced-ocids",
        "violation",
        BUCKET_IAD.set(kmsKeyId="ocid1.key.oc1.sin.aaaaaaaakey"),
        (M, "region segment 'sin'"),
    ),
    one("residency-referenced-ocids", "missing", BUCKET_IAD.without("kmsKeyId"), None),
    one(
        "residency-referenced-ocids",
        "config",
        BUCKET_IAD.set(kmsKeyId="ocid1.key.oc1.aga.aaaaaaaakey"),
        None,
        config={"allowedRegions": ["us-ashburn-1", "us-saltlake-2"], "optInRegions": ["us-saltlake-2"]},
    ),
    one(
        "residency-referenced-ocids",
        "long-form",
        BUCKET_IAD.set(kmsKeyId="ocid1.key.oc1.ap-singapore-1.aaaaaaaakey"),
        (M, "ap-singapore-1"),
    ),
    one(
        "residency-referenced-ocids",
        "long-form-approved",
        BUCKET_IAD.set(kmsKeyId="ocid1.key.oc1.us-phoenix-1.aaaaaaaakey"),
        None,
    ),
    one(
        "residency-referenced-ocids",
        "unknown-key",
        BUCKET_IAD.set(kmsKeyId="ocid1.key.oc1.zzz.aaaaaaaakey"),
        (M, "'zzz' is not in the region catalogue"),
    ),
    one(
        "residency-referenced-ocids",
        "other-realm",
        BUCKET_IAD.set(kmsKeyId="ocid1.key.oc2.lfi.aaaaaaaakey"),
        (M, "realm oc2, not oc1"),
    ),
    one(
        "residency-referenced-ocids",
        "inside-text",
        IAM.set(
            statements=[
                "Allow group us-data-admins to use keys in tenancy "
                "where target.key.id = 'ocid1.key.oc1.fra.aaaaaaaakey'"
            ]
        ),
        (M, "region segment 'fra'"),
    ),
    # A global OCID (a compartment's: no region) before a regional one in the same text: the
    # regional one is still judged.
    one(
        "residency-referenced-ocids",
        "global-then-regional",
        IAM.set(
            statements=[
                "Allow group us-data-admins to use keys in compartment id ocid1.compartment.oc1..aaaaaaaaone "
                "where target.key.id = 'ocid1.key.oc1.fra.aaaaaaaakey'"
            ]
        ),
        (M, "region segment 'fra'"),
    ),
    # USDR-RES-08: the value, not the field name, on any type (issue 12 items 1 and 3)
    one("residency-location-values", "baseline", DYNAMIC, None),
    one(
        "residency-location-values",
        "violation",
        DYNAMIC.set(destinations=["us-phoenix-1", "eu-frankfurt-1"]),
        (M, "destinations.1 = 'eu-frankfurt-1' (region): region eu-frankfurt-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "missing",
        DYNAMIC.set(targetRegion=UNKNOWN),
        (M, "targetRegion is unknown"),
    ),
    one(
        "residency-location-values",
        "config",
        DYNAMIC.set(destinations=["us-saltlake-2"]),
        None,
        config={
            "allowedRegions": ["us-ashburn-1", "us-phoenix-1", "us-saltlake-2"],
            "optInRegions": ["us-saltlake-2"],
        },
    ),
    one(
        "residency-location-values",
        "secret",
        DYNAMIC.set(targetRegion="[secret]"),
        (M, "targetRegion is secret"),
    ),
    one(
        "residency-location-values",
        "key-upper",
        BUCKET_IAD.set(freeformTags={**TAGS, "dr-site": "FRA"}),
        (M, "freeformTags.dr-site = 'FRA' (key): region eu-frankfurt-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "key-lower",
        DYNAMIC.set(copies={"primary": "iad", "secondary": "sin"}),
        (M, "copies.secondary = 'sin' (key): region ap-singapore-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "key-words-are-not-places",
        BUCKET_IAD.set(
            freeformTags={**TAGS, "team": "sin-city", "note": "ord of ops: fra and tus to review"}
        ),
        None,
    ),
    one(
        "residency-location-values",
        "ad",
        INSTANCE.set(availabilityDomain="Uocm:EU-FRANKFURT-1-AD-1"),
        (M, "availabilityDomain = 'Uocm:EU-FRANKFURT-1-AD-1' (ad): region eu-frankfurt-1 is forbidden"),
    ),
    one("residency-location-values", "ad-baseline", INSTANCE, None),
    # A region key shared by two regions of the realm (ap-singapore-1, ap-singapore-2): the
    # resource's own region says which one the AD is in, not "ambiguous".
    one(
        "residency-location-values",
        "ad-resolved-by-own-region",
        INSTANCE.on(OCI_SIN).set(availabilityDomain="Uocm:AP-SINGAPORE-AD-1"),
        (M, "(ad): region ap-singapore-1 is forbidden"),
    ),
    # A field whose name sorts before the dynamic provider's own `__provider` is still read, and
    # the pickled provider is not.
    one(
        "residency-location-values",
        "capitalised-field",
        DYNAMIC.set(Target="eu-frankfurt-1"),
        (M, "Target = 'eu-frankfurt-1'"),
    ),
    one(
        "residency-location-values",
        "serialised-provider-not-read",
        DYNAMIC.set(__provider="copies to eu-frankfurt-1 from 2025"),
        None,
    ),
    # A value seen twice in one field does not end the reading of that field.
    one(
        "residency-location-values",
        "repeated-then-forbidden",
        BUCKET_IAD.set(freeformTags={**TAGS, "note": "copies: us-ashburn-1, us-ashburn-1, eu-frankfurt-1"}),
        (M, "freeformTags.note = 'eu-frankfurt-1'"),
    ),
    one(
        "residency-location-values",
        "ad-key",
        INSTANCE.set(availabilityDomain="Uocm:NRT-AD-1"),
        (M, "region ap-tokyo-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "ad-without-number",
        INSTANCE.set(availabilityDomain="xyz:AP-SINGAPORE-AD-1"),
        (M, "'AP-SINGAPORE' could be ap-singapore-1, ap-singapore-2"),
    ),
    one(
        "residency-location-values",
        "oci-endpoint",
        DYNAMIC.set(endpoint="https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/ns/b/media"),
        (M, "(endpoint): region eu-frankfurt-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "unknown-region-in-cloud-endpoint",
        DYNAMIC.set(endpoint="objectstorage.uk-london-1.oraclecloud.com"),
        (M, "region 'uk-london-1' is not in the region catalogue"),
    ),
    one(
        "residency-location-values",
        "aws-endpoint",
        DYNAMIC.set(endpoint="https://s3-ap-southeast-1.amazonaws.com/backups"),
        (M, "AWS region ap-southeast-1 is not approved"),
    ),
    one(
        "residency-location-values",
        "service-principal",
        DYNAMIC.set(grant="Allow service objectstorage-eu-frankfurt-1 to manage object-family in tenancy"),
        (M, "grant = 'eu-frankfurt-1' (region): region eu-frankfurt-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "hyphenated-look-alike",
        DYNAMIC.set(note="shard-0001-bucket-3 replicates like db-primary-1 and usdr-us-ashburn-1"),
        None,
    ),
    one(
        "residency-location-values",
        "host-look-alike",
        DYNAMIC.set(endpoint="https://db-primary-1.internal.example.com:5432"),
        None,
    ),
    one(
        "residency-location-values",
        "ocid-on-another-type",
        DYNAMIC.set(source="ocid1.bucket.oc1.fra.aaaaaaaabucket"),
        (M, "source = 'ocid1.bucket.oc1.fra.aaaaaaaabucket' (ocid): region eu-frankfurt-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "ocid-other-realm",
        DYNAMIC.set(source="ocid1.bucket.oc2.lfi.aaaaaaaabucket"),
        (M, "OCID in realm oc2, not oc1"),
    ),
    one(
        "residency-location-values",
        "nested",
        DYNAMIC.set(backup={"copies": [{"target": "us-phoenix-1"}, {"target": "ap-singapore-1"}]}),
        (M, "backup.copies.1.target = 'ap-singapore-1'"),
    ),
    one(
        "residency-location-values",
        "json-text",
        DYNAMIC.set(spec=json.dumps({"replicas": ["us-phoenix-1", "ap-tokyo-1"]})),
        (M, "spec.replicas.1 = 'ap-tokyo-1'"),
    ),
    one(
        "residency-location-values",
        "inside-text",
        BUCKET_IAD.set(freeformTags={**TAGS, "note": "copied from eu-frankfurt-1 in 2025"}),
        (M, "freeformTags.note = 'eu-frankfurt-1'"),
    ),
    one(
        "residency-location-values",
        "other-realm",
        DYNAMIC.set(destinations=["us-langley-1"]),
        (M, "region us-langley-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "other-provider-aws-region",
        CONFIG_MAP.set(data={"AWS_REGION": "eu-west-1"}),
        (M, "data.AWS_REGION = 'eu-west-1': AWS region eu-west-1 is not approved (awsAllowedRegions: none)"),
    ),
    one(
        "residency-location-values",
        "arn",
        CONFIG_MAP.set(data={"KMS_KEY": "arn:aws:kms:eu-west-1:123456789012:key/abc"}),
        (M, "AWS region eu-west-1 is not approved"),
    ),
    one("residency-location-values", "other-provider-baseline", CONFIG_MAP, None),
    one(
        "residency-location-values",
        "component",
        Res("acme:backup:CopyJob", "copy-job", {"targetRegion": "eu-frankfurt-1"}),
        (M, "targetRegion = 'eu-frankfurt-1' (region): region eu-frankfurt-1 is forbidden"),
    ),
    one(
        "residency-location-values",
        "unknown-region-in-region-field",
        Res("acme:backup:CopyJob", "copy-job", {"copyRegions": ["uk-london-1"]}),
        (M, "region 'uk-london-1' is not in the region catalogue"),
    ),
    one(
        "residency-location-values",
        "site-signing-region",
        Res(
            S3_OBJECT,
            "legacy-us-east-note",
            {"bucket": "backups", "key": "k", "metadata": {"src": "us-east-1"}},
            AWS_US,
        ),
        None,
    ),
    one(
        "residency-location-values",
        "waived",
        DYNAMIC.set(destinations=["eu-frankfurt-1"]),
        None,
        config={
            "waivers": [{"target": "backup-copier", "owner": "o", "reason": "r", "expires": "2027-01-31"}]
        },
    ),
    one(
        "residency-waived",
        "location-value",
        DYNAMIC.set(destinations=["eu-frankfurt-1"]),
        (A, "[residency-location-values] destinations.0 = 'eu-frankfurt-1'"),
        config={
            "waivers": [{"target": "backup-copier", "owner": "o", "reason": "r", "expires": "2027-01-31"}]
        },
    ),
    # USDR-RES-09 (advisory): placement the pack cannot determine
    one("residency-unplaced-types", "baseline", BUCKET_IAD, None),
    one("residency-unplaced-types", "violation", DYNAMIC, (A, "a dynamic provider's resource")),
    one(
        "residency-unplaced-types",
        "other-provider",
        CONFIG_MAP.on(Prov("pulumi:providers:kubernetes", "default_4_18_0", {})),
        (A, "a 'kubernetes' resource"),
    ),
    one("residency-unplaced-types", "missing", CONFIG_MAP, None),  # no provider: a component
    one(
        "residency-unplaced-types",
        "config",
        DYNAMIC,
        (M, "the pack cannot determine where it keeps data"),
        level="mandatory",
    ),
    one(
        "residency-unplaced-types",
        "data-free",
        Res(
            "random:index/randomPet:RandomPet",
            "suffix",
            {"length": 2},
            Prov("pulumi:providers:random", "default", {}),
        ),
        None,
    ),
    one(
        "residency-unplaced-types",
        "data-free-wait",
        # The estate's propagation wait (components/propagation.py, issue 13 item 3): a timer in
        # the engine that holds no data; its triggers are the compartment ids it passes through.
        Res(
            "time:index/sleep:Sleep",
            "iam-propagation-sleep",
            {"createDuration": "70s", "triggers": {"us-data": "ocid1.compartment.oc1..aaaausdata"}},
            Prov("pulumi:providers:time", "time", {}),
        ),
        None,
    ),
    # USDR-IAM-01
    one("residency-iam-home-region", "baseline", GROUP, None),
    one("residency-iam-home-region", "violation", GROUP.on(OCI_PHX), (M, "not the home region us-ashburn-1")),
    one(
        "residency-iam-home-region",
        "missing",
        GROUP.on(OCI_NO_REGION),
        (M, "IAM region cannot be determined"),
    ),
    one(
        "residency-iam-home-region",
        "config",
        GROUP,
        (M, "not the home region us-phoenix-1"),
        config={"homeRegion": "us-phoenix-1"},
    ),
    one(
        "residency-iam-home-region",
        "home-not-approved",
        GROUP.on(OCI_SIN),
        (M, "home region ap-singapore-1 is not approved"),
        config={"homeRegion": "ap-singapore-1", "realm": "oc1"},
    ),
    # The home region named by its key is the same region.
    one("residency-iam-home-region", "home-by-key", GROUP, None, config={"homeRegion": "IAD"}),
    # No homeRegion configured: any approved region, and only an approved one.
    one(
        "residency-iam-home-region", "no-home-approved", GROUP.on(OCI_PHX), None, config={"homeRegion": None}
    ),
    one(
        "residency-iam-home-region",
        "no-home-forbidden",
        GROUP.on(OCI_SIN),
        (M, "IAM region ap-singapore-1: region ap-singapore-1 is forbidden"),
        config={"homeRegion": None},
    ),
    # USDR-IAM-02
    one("residency-iam-statements", "baseline", IAM, None),
    one(
        "residency-iam-statements",
        "violation",
        IAM.set(statements=[*IAM_STATEMENTS, "Allow any-user to read objects in compartment us-data"]),
        (M, "grants to any-user"),
    ),
    one("residency-iam-statements", "missing", IAM.without("statements"), (M, "statements are missing")),
    one(
        "residency-iam-statements",
        "config",
        IAM.set(statements=["Allow group contractors to read buckets in compartment us-data"]),
        None,
        config={
            "accessTeam": {
                "admins": ["us-data-admins"],
                "operators": ["us-data-operators", "contractors"],
                "auditors": [],
            }
        },
    ),
    one(
        "residency-iam-statements",
        "outside-group",
        IAM.set(statements=["Allow group contractors to read buckets in compartment us-data"]),
        (M, "not an access-team group"),
    ),
    one(
        "residency-iam-statements",
        "manage-all-non-admin",
        IAM.set(statements=["Allow group us-data-operators to manage all-resources in tenancy"]),
        (M, "not an admin group"),
    ),
    # Cloud Guard's statements (components/threat_detection.py): allowed only when the stack
    # enables Cloud Guard (stacks/policy_config.py puts `cloudguard` in allowedServices).
    one(
        "residency-iam-statements",
        "cloud-guard-configured",
        IAM.set(statements=["Allow service cloudguard to read all-resources in tenancy"]),
        None,
        config={"allowedServices": ["objectstorage-us-ashburn-1", "cloudguard"]},
    ),
    one(
        "residency-iam-statements",
        "cloud-guard-not-configured",
        IAM.set(statements=["Allow service cloudguard to read all-resources in tenancy"]),
        (M, "not an allowed service principal"),
        config={"allowedServices": ["objectstorage-us-ashburn-1"]},  # a stack without Cloud Guard
    ),
    one(
        "residency-iam-statements",
        "foreign-service",
        IAM.set(statements=["Allow service objectstorage-ap-singapore-1 to manage object-family in tenancy"]),
        (M, "not an allowed service principal"),
    ),
    one(
        "residency-iam-statements",
        "admit",
        IAM.set(statements=["Admit group Auditors of tenancy Other to read all-resources in tenancy"]),
        (M, "another tenancy"),
    ),
    one(
        "residency-iam-statements",
        "unparseable",
        IAM.set(statements=["Permit everyone to do everything"]),
        (M, "does not parse"),
    ),
    one("residency-iam-statements", "unknown", IAM.set(statements=UNKNOWN), (M, "unknown during preview")),
    one(
        "residency-iam-statements",
        "dynamic-group-not-allowed",
        IAM.set(statements=["Allow dynamic-group ci-runners to manage buckets in compartment us-data"]),
        (M, "grants to dynamic-group ci-runners, not an allowed dynamic group"),
    ),
    one(
        "residency-iam-statements",
        "dynamic-group-allowed",
        IAM.set(statements=["Allow dynamic-group ci-runners to manage buckets in compartment us-data"]),
        None,
        config={"allowedDynamicGroups": ["build-hosts", "CI-Runners"]},
    ),
    one(
        "residency-iam-statements",
        "no-to",
        IAM.set(statements=["Allow group us-data-admins manage all-resources in tenancy"]),
        (M, "does not parse"),
    ),
    # USDR-WVR-01 (advisory): the waived finding, named
    one("residency-waived", "baseline", US_BUCKET, None),
    one(
        "residency-waived",
        "violation",
        SG_BUCKET,
        (A, "waived by waiver 'legacy-sg' (owner data-residency@example.com, expires 2027-06-30"),
    ),
    one("residency-waived", "missing", SG_BUCKET.on(AWS_NOWHERE), None),
    one(
        "residency-waived",
        "config",
        SG_BUCKET,
        (A, "WARNING: the waiver expires in 10 days"),
        config=sg_waiver("2026-12-09"),
    ),
    one("residency-waived", "expired", SG_BUCKET, None, config=sg_waiver("2026-11-01")),
    # USDR-WVR-02 (advisory, stack)
    stack("residency-waiver-expiry", "baseline", ESTATE, None),
    stack(
        "residency-waiver-expiry",
        "violation",
        ESTATE,
        (A, "expires in 10 days"),
        config=sg_waiver("2026-12-09"),
    ),
    stack(
        "residency-waiver-expiry",
        "missing",
        estate(drop=["legacy-sg-backups", "legacy-sg-backups-policy", "legacy-sg-backups-lifecycle"]),
        (A, "matches no resource"),
    ),
    stack("residency-waiver-expiry", "config", ESTATE, (A, "has expired"), config=sg_waiver("2026-11-01")),
]

NSG_IAD = Res(
    "oci:Core/networkSecurityGroup:NetworkSecurityGroup",
    "iad-nsg",
    {"vcnId": UNKNOWN, "compartmentId": COMPARTMENT, "freeformTags": TAGS},
    OCI_IAD,
)


def _nsg_rule(name: str, source: str, *, port: int = 22, nsg: str | None = None) -> Res:
    """One NSG rule resource admitting `source` to `port`, linked to NSG_IAD (or a literal NSG id)."""
    return Res(
        NSG_RULE,
        name,
        {
            "direction": "INGRESS",
            "protocol": "6",
            "source": source,
            "sourceType": "CIDR_BLOCK",
            "tcpOptions": {"destinationPortRange": {"min": port, "max": port}},
            "networkSecurityGroupId": nsg or UNKNOWN,
        },
        OCI_IAD,
        deps={} if nsg else {"networkSecurityGroupId": ["iad-nsg"]},
    )


def _half_list(name: str, source: str) -> Res:
    return replace(
        SECURITY_LIST_IAD.set(
            ingressSecurityRules=[
                {"protocol": "6", "source": source, "tcpOptions": {"min": 5432, "max": 5432}}
            ]
        ),
        name=name,
    )


SUBNET_DATA_TWO_LISTS = replace(
    SUBNET_DATA.set(securityListIds=[UNKNOWN, UNKNOWN]),
    deps={"securityListIds": ["iad-sl-low", "iad-sl-high"]},
)
AWS_GROUP = Res(
    "aws:ec2/securityGroup:SecurityGroup",
    "app-sg",
    {"ingress": [{"protocol": "tcp", "fromPort": 3306, "toPort": 3306, "cidrBlocks": ["0.0.0.0/1"]}]},
    AWS_REAL_USE2,
)
AWS_GROUP_RULE = Res(
    AWS_SG_RULE,
    "app-sg-high",
    {
        "type": "ingress",
        "protocol": "tcp",
        "fromPort": 3306,
        "toPort": 3306,
        "cidrBlocks": ["128.0.0.0/1"],
        "securityGroupId": UNKNOWN,
    },
    AWS_REAL_USE2,
    deps={"securityGroupId": ["app-sg"]},
)
_IN_POLICY = {"networkFirewallPolicyId": ["iad-fw-policy"]}
FW_LIST_EVERYONE = Res(
    FW_LIST,
    "iad-fw-list-everyone",
    {
        "name": "everyone",
        "type": "IP",
        "addresses": ["0.0.0.0/1", "128.0.0.0/1"],
        "networkFirewallPolicyId": UNKNOWN,
    },
    OCI_IAD,
    deps=_IN_POLICY,
)
FW_SERVICE_SSH = Res(
    "oci:NetworkFirewall/networkFirewallPolicyService:NetworkFirewallPolicyService",
    "iad-fw-svc-ssh",
    {
        "name": "ssh",
        "type": "TCP_SERVICE",
        "portRanges": [{"minimumPort": 22, "maximumPort": 22}],
        "networkFirewallPolicyId": UNKNOWN,
    },
    OCI_IAD,
    deps=_IN_POLICY,
)
FW_SERVICES_ADMIN = Res(
    "oci:NetworkFirewall/networkFirewallPolicyServiceList:NetworkFirewallPolicyServiceList",
    "iad-fw-svcs-admin",
    {"name": "admin", "services": ["ssh"], "networkFirewallPolicyId": UNKNOWN},
    OCI_IAD,
    deps=_IN_POLICY,
)
FW_RULE_ALLOW_SSH = Res(
    FW_RULE,
    "iad-fw-rule-allow-ssh",
    {
        "name": "allow-ssh",
        "action": "ALLOW",
        "condition": {"sourceAddresses": ["everyone"], "services": ["admin"]},
        "networkFirewallPolicyId": UNKNOWN,
    },
    OCI_IAD,
    deps=_IN_POLICY,
)

OPEN_SSH = {"protocol": "6", "source": "0.0.0.0/0", "tcpOptions": {"min": 22, "max": 22}}
SECURITY: list[Case] = [
    # USDR-SEC-01 / CIS 5.1.2
    one("security-bucket-cmk", "baseline", BUCKET_IAD, None),
    one("security-bucket-cmk", "violation", BUCKET_IAD.set(kmsKeyId=""), (M, "kmsKeyId is not set")),
    one("security-bucket-cmk", "missing", BUCKET_IAD.without("kmsKeyId"), (M, "kmsKeyId is not set")),
    one(
        "security-bucket-cmk",
        "config",
        BUCKET_IAD.without("kmsKeyId"),
        (A, "kmsKeyId is not set"),
        level="advisory",
    ),
    # USDR-SEC-02 / CIS 5.1.1
    one("security-bucket-not-public", "baseline", BUCKET_IAD, None),
    one(
        "security-bucket-not-public",
        "violation",
        BUCKET_IAD.set(accessType="ObjectRead"),
        (M, "readable without authentication"),
    ),
    one("security-bucket-not-public", "missing", BUCKET_IAD.without("accessType"), None),
    one(
        "security-bucket-not-public",
        "config",
        BUCKET_IAD.set(accessType="ObjectReadWithoutList"),
        None,
        level="disabled",
    ),
    one("security-bucket-not-public", "s3-public-acl", SG_ACL.set(acl="public-read"), (M, "AllUsers")),
    # A named grantee may read (every public grantee is refused in test_public_access_sets.py).
    one(
        "security-bucket-not-public",
        "s3-acl-named-reader",
        SG_ACL.set(
            acl=None,
            accessControlPolicy={
                "owner": {"id": "owner-canonical-id"},
                "grants": [
                    {"grantee": {"type": "CanonicalUser", "id": "restore-canonical-id"}, "permission": "READ"}
                ],
            },
        ),
        None,
    ),
    # Denying everyone a read is what the replicas do: not public.
    one(
        "security-bucket-not-public",
        "s3-deny-everyone-reads",
        US_POLICY.set(
            policy=doc(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": "arn:aws:s3:::backups/*",
                }
            )
        ),
        None,
    ),
    # A document the pack cannot read cannot be proven private.
    one(
        "security-bucket-not-public",
        "s3-unreadable-policy",
        US_POLICY.set(policy="{not json"),
        (M, "cannot be proven private"),
    ),
    one(
        "security-bucket-not-public",
        "s3-public-read-policy",
        US_POLICY.set(
            policy=doc(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::backups/*",
                }
            )
        ),
        (M, "lets everyone s3:GetObject"),
    ),
    # USDR-SEC-03 / CIS 5.1.3
    one("security-bucket-versioning", "baseline", BUCKET_IAD, None),
    one(
        "security-bucket-versioning",
        "violation",
        BUCKET_IAD.set(versioning="Disabled"),
        (M, "versioning is 'Disabled'"),
    ),
    one("security-bucket-versioning", "missing", BUCKET_IAD.without("versioning"), (M, "not set (Disabled)")),
    one("security-bucket-versioning", "config", BUCKET_IAD.without("versioning"), None, level="disabled"),
    one(
        "security-bucket-versioning",
        "retention-archive-exception",
        BUCKET_IAD.without("versioning").set(
            retentionRules=[{"displayName": "keep-7y", "duration": {"timeAmount": 7, "timeUnit": "YEARS"}}]
        ),
        None,
    ),
    # The exception from outside: no rules, or rules not known yet, are not a retention-locked archive.
    one(
        "security-bucket-versioning",
        "empty-retention-rules",
        BUCKET_IAD.without("versioning").set(retentionRules=[]),
        (M, "versioning is not set (Disabled)"),
    ),
    one(
        "security-bucket-versioning",
        "unknown-retention-rules",
        BUCKET_IAD.without("versioning").set(retentionRules=UNKNOWN),
        (M, "versioning is not set (Disabled)"),
    ),
    # USDR-SEC-04
    one("security-bucket-object-events", "baseline", BUCKET_IAD, None),
    one(
        "security-bucket-object-events",
        "violation",
        BUCKET_IAD.set(objectEventsEnabled=False),
        (M, "objectEventsEnabled is False"),
    ),
    one(
        "security-bucket-object-events",
        "missing",
        BUCKET_IAD.without("objectEventsEnabled"),
        (M, "objectEventsEnabled is None"),
    ),
    # Only the boolean true: numbers arrive as floats on the wire, and 1.0 is not "enabled".
    one(
        "security-bucket-object-events",
        "number-is-not-true",
        BUCKET_IAD.set(objectEventsEnabled=1.0),
        (M, "objectEventsEnabled is 1.0"),
    ),
    one(
        "security-bucket-object-events",
        "config",
        BUCKET_IAD.without("objectEventsEnabled"),
        (A, "objectEventsEnabled"),
        level="advisory",
    ),
    # USDR-SEC-05
    one("security-key-hsm", "baseline", KEY_IAD, None),
    one(
        "security-key-hsm",
        "violation",
        KEY_IAD.set(protectionMode="SOFTWARE"),
        (M, "protectionMode is 'SOFTWARE'"),
    ),
    one("security-key-hsm", "missing", KEY_IAD.without("protectionMode"), (M, "protectionMode is not set")),
    one(
        "security-key-hsm",
        "config",
        KEY_IAD.set(protectionMode="SOFTWARE"),
        (A, "SOFTWARE"),
        level="advisory",
    ),
    # USDR-SEC-06 / CIS 4.16
    one("security-key-rotation", "baseline", KEY_IAD, None),
    one(
        "security-key-rotation",
        "violation",
        KEY_IAD.set(autoKeyRotationDetails={"rotationIntervalInDays": 400}),
        (M, "400 days exceeds 365"),
    ),
    one(
        "security-key-rotation",
        "missing",
        KEY_IAD.without("isAutoRotationEnabled"),
        (M, "never rotated automatically"),
    ),
    one(
        "security-key-rotation", "config", KEY_IAD, (M, "90 days exceeds 60"), config={"maxRotationDays": 60}
    ),
    # Only the boolean true enables rotation; an interval must be a number of days, not a flag.
    one(
        "security-key-rotation",
        "number-is-not-true",
        KEY_IAD.set(isAutoRotationEnabled=1.0),
        (M, "isAutoRotationEnabled is 1.0"),
    ),
    one(
        "security-key-rotation",
        "interval-missing",
        KEY_IAD.set(autoKeyRotationDetails={}),
        (M, "rotationIntervalInDays is not set"),
    ),
    one(
        "security-key-rotation",
        "interval-is-a-flag",
        KEY_IAD.set(autoKeyRotationDetails={"rotationIntervalInDays": True}),
        (M, "rotationIntervalInDays is not set"),
    ),
    # USDR-SEC-07 (stack)
    stack("security-firewall-ids", "baseline", ESTATE, None),
    stack(
        "security-firewall-ids",
        "violation",
        estate(swap=[FW_RULE_IDS.set(action="ALLOW", inspection=None)]),
        (M, "no security rule with action INSPECT"),
    ),
    stack(
        "security-firewall-ids",
        "missing",
        estate(drop=["iad-fw-list-data"]),
        (M, "no intrusion-inspection rule covers data subnet 10.10.0.0/24"),
    ),
    stack(
        "security-firewall-ids",
        "config",
        ESTATE,
        (M, "covers data subnet 10.10.5.0/24"),
        config={"dataSubnets": {"us-ashburn-1": ["10.10.0.0/24", "10.10.5.0/24"]}},
    ),
    # Only INSPECT counts, whatever inspection an ALLOW rule names.
    stack(
        "security-firewall-ids",
        "allow-with-inspection",
        estate(swap=[FW_RULE_IDS.set(action="ALLOW")]),
        (M, "no security rule with action INSPECT"),
    ),
    # Outbound from the data subnets is covered; from somewhere else it is not.
    stack(
        "security-firewall-ids",
        "outbound-from-data",
        estate(
            swap=[
                FW_RULE_IDS.set(condition={"sourceAddresses": ["data-subnets"], "destinationAddresses": []})
            ]
        ),
        None,
    ),
    stack(
        "security-firewall-ids",
        "outbound-from-elsewhere",
        estate(
            swap=[FW_RULE_IDS.set(condition={"sourceAddresses": ["elsewhere"], "destinationAddresses": []})],
            add=[
                replace(FW_LIST_DATA, name="iad-fw-list-elsewhere").set(
                    name="elsewhere", addresses=["192.168.0.0/24"]
                )
            ],
        ),
        (M, "no intrusion-inspection rule covers data subnet 10.10.0.0/24"),
    ),
    # No dataSubnets configured: every subnet of the region but the firewall's is a data subnet,
    # including those after it and after one whose CIDR cannot be read.
    stack(
        "security-firewall-ids",
        "derived-data-subnets",
        estate(
            add=[
                replace(SUBNET_DATA, name="iad-subnet-odd").set(cidrBlock="not-a-cidr"),
                replace(SUBNET_DATA, name="iad-subnet-late").set(cidrBlock="10.10.9.0/24"),
            ]
        ),
        (M, "no intrusion-inspection rule covers data subnet 10.10.9.0/24"),
        config={"dataSubnets": None},
    ),
    # USDR-SEC-08 / CIS 2.1-2.4
    one("security-no-admin-ingress", "baseline", SECURITY_LIST_IAD, None),
    one(
        "security-no-admin-ingress",
        "violation",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[OPEN_SSH]),
        (M, "0.0.0.0/0 to port(s) 22"),
    ),
    one(
        "security-no-admin-ingress",
        "missing",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{"protocol": "6", "source": "0.0.0.0/0"}]),
        (M, "port(s) 22, 23, 3389"),
    ),
    one(
        "security-no-admin-ingress",
        "config",
        SECURITY_LIST_IAD,
        (M, "port(s) 443"),
        config={"adminPorts": [22, 443]},
    ),
    one(
        "security-no-admin-ingress",
        "nsg-rule",
        NSG_RULE_IAD.set(tcpOptions={"destinationPortRange": {"min": 3389, "max": 3389}}),
        (M, "port(s) 3389"),
    ),
    one("security-no-admin-ingress", "nsg-rule-baseline", NSG_RULE_IAD, None),
    one(
        "security-no-admin-ingress",
        "ipv6-all-protocols",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{"protocol": "all", "source": "::/0"}]),
        (M, "::/0"),
    ),
    one("security-no-admin-ingress", "aws-rule", AWS_RULE.set(fromPort=0, toPort=65535), (M, "port(s) 22")),
    # Issue 12 item 4: the internet as an attacker counts it, the union of the sources.
    one(
        "security-no-admin-ingress",
        "halves",
        SECURITY_LIST_IAD.set(
            ingressSecurityRules=[{**OPEN_SSH, "source": "0.0.0.0/1"}, {**OPEN_SSH, "source": "128.0.0.0/1"}]
        ),
        (M, "together these are the whole public internet"),
    ),
    one(
        "security-no-admin-ingress",
        "ipv6-halves",
        SECURITY_LIST_IAD.set(
            ingressSecurityRules=[
                {"protocol": "all", "source": "::/1"},
                {"protocol": "all", "source": "8000::/1"},
            ]
        ),
        (M, "together these are the whole public internet"),
    ),
    one(
        "security-no-admin-ingress",
        "long-list",
        SECURITY_LIST_IAD.set(
            ingressSecurityRules=[{**OPEN_SSH, "source": f"{i}.0.0.0/8"} for i in range(256)]
        ),
        (M, "admits 0.0.0.0/8, 1.0.0.0/8, 10.0.0.0/8, 100.0.0.0/8 and 252 more to port(s) 22"),
    ),
    one(
        "security-no-admin-ingress",
        "public-space-only",  # every public block, the private ones left out: still the internet
        SECURITY_LIST_IAD.set(
            ingressSecurityRules=[
                {**OPEN_SSH, "source": str(n)}
                for n in __import__("ipaddress")
                .ip_network("0.0.0.0/0")
                .address_exclude(__import__("ipaddress").ip_network("10.0.0.0/8"))
            ]
        ),
        (M, "together these are the whole public internet"),
    ),
    one(
        "security-no-admin-ingress",
        "aws-halves",
        AWS_RULE.set(fromPort=22, toPort=22, cidrBlocks=["0.0.0.0/1", "128.0.0.0/1"]),
        (M, "together these are the whole public internet"),
    ),
    one(
        "security-no-admin-ingress",
        "office-range",  # an operators' network is not the internet
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{**OPEN_SSH, "source": "198.51.100.0/24"}]),
        None,
    ),
    one(
        "security-no-admin-ingress",
        "halves-on-other-ports",  # each half reaches a different port: no port is open to all
        SECURITY_LIST_IAD.set(
            ingressSecurityRules=[
                {**OPEN_SSH, "source": "0.0.0.0/1"},
                {"protocol": "6", "source": "128.0.0.0/1", "tcpOptions": {"min": 3389, "max": 3389}},
            ]
        ),
        None,
    ),
    one(
        "security-no-admin-ingress",
        "unknown-source",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{**OPEN_SSH, "source": UNKNOWN}]),
        (M, "unknown during preview"),
    ),
    # USDR-SEC-17 (issue 12 item 4): data paths, counted like admin ports
    one("security-no-data-ingress", "baseline", SECURITY_LIST_IAD, None),
    one(
        "security-no-data-ingress",
        "violation",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{**OPEN_SSH, "tcpOptions": {"min": 1522, "max": 1522}}]),
        (M, "0.0.0.0/0 to port(s) 1522"),
    ),
    one(
        "security-no-data-ingress",
        "missing",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{"protocol": "6", "source": "0.0.0.0/0"}]),
        (M, "port(s) 111, 1433, 1521"),
    ),
    one(
        "security-no-data-ingress",
        "config",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{**OPEN_SSH, "tcpOptions": {"min": 5432, "max": 5432}}]),
        (A, "port(s) 5432"),
        level="advisory",
    ),
    one(
        "security-no-data-ingress",
        "ipv6-lower-half",
        NSG_RULE_IAD.set(source="::/1", tcpOptions={"destinationPortRange": {"min": 3306, "max": 3306}}),
        (M, "::/1 to port(s) 3306"),  # ::/1 holds all of 2000::/3, the global unicast space
    ),
    one(
        "security-no-data-ingress",
        "nsg-rule",
        NSG_RULE_IAD.set(tcpOptions={"destinationPortRange": {"min": 2048, "max": 2050}}),
        (M, "the NSG rule admits 0.0.0.0/0 to port(s) 2048, 2049, 2050"),
    ),
    one(
        "security-no-data-ingress",
        "halves",
        SECURITY_LIST_IAD.set(
            ingressSecurityRules=[
                {"protocol": "6", "source": "0.0.0.0/1", "tcpOptions": {"min": 3306, "max": 3306}},
                {"protocol": "6", "source": "128.0.0.0/1", "tcpOptions": {"min": 3306, "max": 3306}},
            ]
        ),
        (M, "together these are the whole public internet"),
    ),
    one(
        "security-no-data-ingress",
        "aws-rule",
        AWS_RULE.set(fromPort=27017, toPort=27017, cidrBlocks=None, ipv6CidrBlocks=["::/0"]),
        (M, "::/0 to port(s) 27017"),
    ),
    one("security-no-data-ingress", "aws-rule-https-only", AWS_RULE, None),
    one(
        "security-no-data-ingress",
        "secret-source",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{**OPEN_SSH, "source": "[secret]"}]),
        (M, "source is secret"),
    ),
    one(
        "security-no-admin-ingress",
        "secret-source",
        SECURITY_LIST_IAD.set(ingressSecurityRules=[{**OPEN_SSH, "source": "[secret]"}]),
        (M, "source is secret"),
    ),
    one(
        "security-no-data-ingress",
        "unknown-port",
        NSG_RULE_IAD.set(tcpOptions={"destinationPortRange": {"min": UNKNOWN, "max": 1521}}),
        (M, "min is unknown during preview"),
    ),
    # USDR-SEC-18 (issue 12 item 4): exposure assembled from several resources
    stack("security-exposure-across-rules", "baseline", ESTATE, None),
    stack(
        "security-exposure-across-rules",
        "violation",
        estate(
            add=[NSG_IAD, _nsg_rule("iad-nsg-ssh-a", "0.0.0.0/1"), _nsg_rule("iad-nsg-ssh-b", "128.0.0.0/1")]
        ),
        (
            M,
            "NSG iad-nsg: iad-nsg-ssh-a, iad-nsg-ssh-b together admit the whole public internet to "
            "port(s) 22",
        ),
    ),
    stack(
        "security-exposure-across-rules",
        "one-rule-is-sec-08s",
        estate(
            add=[NSG_IAD, _nsg_rule("iad-nsg-ssh-a", "0.0.0.0/0"), _nsg_rule("iad-nsg-ssh-b", "10.0.0.0/8")]
        ),
        None,
    ),
    stack(
        "security-exposure-across-rules",
        "office-ranges",
        estate(
            add=[
                NSG_IAD,
                _nsg_rule("iad-nsg-ssh-a", "198.51.100.0/24"),
                _nsg_rule("iad-nsg-ssh-b", "8.8.8.0/24"),
            ]
        ),
        None,
    ),
    stack(
        "security-exposure-across-rules",
        "nsg-by-literal-id",
        estate(
            add=[
                _nsg_rule("iad-nsg-ssh-a", "0.0.0.0/1", nsg="ocid1.networksecuritygroup.oc1.iad.aaaa"),
                _nsg_rule("iad-nsg-ssh-b", "128.0.0.0/1", nsg="ocid1.networksecuritygroup.oc1.iad.aaaa"),
            ]
        ),
        (M, "NSG ocid1.networksecuritygroup.oc1.iad.aaaa: iad-nsg-ssh-a, iad-nsg-ssh-b together admit"),
    ),
    stack(
        "security-exposure-across-rules",
        "subnet-lists",
        estate(
            swap=[SUBNET_DATA_TWO_LISTS],
            add=[_half_list("iad-sl-low", "0.0.0.0/1"), _half_list("iad-sl-high", "128.0.0.0/1")],
        ),
        (
            M,
            "subnet iad-subnet-data's security lists: iad-sl-high, iad-sl-low together admit the whole "
            "public "
            "internet to port(s) 5432",
        ),
    ),
    stack(
        "security-exposure-across-rules",
        "aws-group",
        (AWS_GROUP, AWS_GROUP_RULE),
        (
            M,
            "security group app-sg: app-sg (inline ingress), app-sg-high together admit the whole public "
            "internet to port(s) 3306",
        ),
    ),
    stack(
        "security-exposure-across-rules",
        "firewall-allow-halves",
        estate(add=[FW_LIST_EVERYONE, FW_SERVICE_SSH, FW_SERVICES_ADMIN, FW_RULE_ALLOW_SSH]),
        (M, "firewall policy iad-fw-policy: rule allow-ssh admits the whole public internet to port(s) 22"),
    ),
    stack(
        "security-exposure-across-rules",
        "firewall-allow-anything",
        estate(add=[FW_RULE_ALLOW_SSH.set(condition={})]),
        (M, "rule allow-ssh admits the whole public internet to port(s) 22, 23, 111"),
    ),
    stack(
        "security-exposure-across-rules",
        "firewall-https-only",
        estate(
            add=[
                FW_LIST_EVERYONE,
                FW_SERVICE_SSH.set(portRanges=[{"minimumPort": 443}]),
                FW_SERVICES_ADMIN,
                FW_RULE_ALLOW_SSH,
            ]
        ),
        None,
    ),
    # A service's port range reaches every port inside it, not only its first.
    stack(
        "security-exposure-across-rules",
        "firewall-service-port-range",
        estate(
            add=[
                FW_LIST_EVERYONE,
                FW_SERVICE_SSH.set(portRanges=[{"minimumPort": 20, "maximumPort": 3400}]),
                FW_SERVICES_ADMIN,
                FW_RULE_ALLOW_SSH,
            ]
        ),
        (M, "admits the whole public internet to port(s) 22, 23, 111"),
    ),
    stack(
        "security-exposure-across-rules",
        "firewall-icmp-application",
        estate(
            add=[
                FW_LIST_EVERYONE,
                FW_RULE_ALLOW_SSH.set(condition={"sourceAddresses": ["everyone"], "applications": ["ping"]}),
            ]
        ),
        None,
    ),
    stack(
        "security-exposure-across-rules",
        "firewall-drop",
        estate(
            add=[FW_LIST_EVERYONE, FW_SERVICE_SSH, FW_SERVICES_ADMIN, FW_RULE_ALLOW_SSH.set(action="DROP")]
        ),
        None,
    ),
    stack(
        "security-exposure-across-rules",
        "missing",
        estate(add=[FW_SERVICE_SSH, FW_SERVICES_ADMIN, FW_RULE_ALLOW_SSH]),
        (M, "rule allow-ssh names address list 'everyone', not in the policy: it cannot be proven closed"),
    ),
    stack(
        "security-exposure-across-rules",
        "unknown-addresses",
        estate(
            add=[
                FW_LIST_EVERYONE.set(addresses=UNKNOWN),
                FW_SERVICE_SSH,
                FW_SERVICES_ADMIN,
                FW_RULE_ALLOW_SSH,
            ]
        ),
        (M, "address list 'everyone' is unknown during preview: it cannot be proven closed"),
    ),
    stack(
        "security-exposure-across-rules",
        "config",
        estate(
            add=[
                NSG_IAD,
                _nsg_rule("iad-nsg-ssh-a", "0.0.0.0/1", port=2222),
                _nsg_rule("iad-nsg-ssh-b", "128.0.0.0/1", port=2222),
            ]
        ),
        (M, "to port(s) 2222"),
        config={"adminPorts": [22, 2222]},
    ),
    # USDR-SEC-16 (issue 12 item 4): a reading PAR is public access
    one("security-par-public-read", "baseline", PAR_IAD, None),
    one(
        "security-par-public-read",
        "violation",
        PAR_IAD.set(accessType="AnyObjectRead").without("objectName"),
        (M, "bucket-wide"),
    ),
    # Any object is bucket-wide even with an object name; the expiry is judged as a UTC day.
    one(
        "security-par-public-read",
        "any-object-with-a-name",
        PAR_IAD.set(accessType="AnyObjectRead"),
        (M, "bucket-wide"),
    ),
    one(
        "security-par-public-read",
        "offset-crosses-midnight",
        PAR_IAD.set(timeExpires="2026-12-06T23:30:00-05:00"),
        (M, "valid for 8 days (more than 7)"),
    ),
    one("security-par-public-read", "utc-seven-days", PAR_IAD.set(timeExpires="2026-12-06T23:30:00Z"), None),
    one(
        "security-par-public-read",
        "missing",
        PAR_IAD.without("timeExpires"),
        (M, "expiry is unknown or unset"),
    ),
    one(
        "security-par-public-read",
        "long-lived",
        PAR_IAD.set(timeExpires="2027-11-29T00:00:00Z"),
        (M, "valid for 365 days"),
    ),
    one(
        "security-par-public-read",
        "listing",
        PAR_IAD.set(accessType="AnyObjectReadWrite", bucketListingAction="ListObjects"),
        (M, "listing allowed"),
    ),
    one(
        "security-par-public-read", "unknown", PAR_IAD.set(accessType=UNKNOWN), (M, "unknown during preview")
    ),
    one("security-par-public-read", "write-only", PAR_IAD.set(accessType="ObjectWrite"), None),  # SEC-09's
    one(
        "security-par-public-read",
        "config",  # a waiver naming the PAR accepts the long-lived share
        PAR_IAD.set(timeExpires="2027-11-29T00:00:00Z"),
        None,
        config={
            "waivers": [{"target": "iad-par-report", "owner": "o", "reason": "r", "expires": "2027-01-31"}]
        },
    ),
    # USDR-SEC-09
    one("security-bucket-public-writes", "baseline", US_POLICY, None),
    one(
        "security-bucket-public-writes",
        "violation",
        US_POLICY.set(
            policy=doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:Put*",
                    "Resource": "arn:aws:s3:::backups/*",
                }
            )
        ),
        (M, "lets everyone s3:PutObject, s3:PutObjectAcl, s3:PutObjectVersionAcl, s3:PutObjectTagging ..."),
    ),
    one("security-bucket-public-writes", "missing", US_POLICY.without("policy"), (M, "not a JSON object")),
    one(
        "security-bucket-public-writes",
        "config",
        US_POLICY.set(
            policy=doc(
                {
                    "Effect": "Allow",
                    "NotPrincipal": {"AWS": WRITER},
                    "Action": "s3:DeleteObject",
                    "Resource": "*",
                }
            )
        ),
        (A, "lets everyone s3:DeleteObject"),
        level="advisory",
    ),
    one(
        "security-bucket-public-writes",
        "oci-par-write",
        PAR_IAD.set(accessType="AnyObjectWrite"),
        (M, "unauthenticated writes"),
    ),
    one("security-bucket-public-writes", "oci-par-read", PAR_IAD, None),
    # Four actions are named in full, with nothing left out to point at.
    one(
        "security-bucket-public-writes",
        "four-actions-in-full",
        US_POLICY.set(
            policy=doc(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": [
                        "s3:DeleteObject",
                        "s3:DeleteObjectVersion",
                        "s3:DeleteObjectTagging",
                        "s3:DeleteBucket",
                    ],
                    "Resource": "arn:aws:s3:::backups/*",
                }
            )
        ),
        (M, "lets everyone s3:DeleteObject, s3:DeleteObjectVersion, s3:DeleteObjectTagging, s3:DeleteBucket"),
    ),
    one(
        "security-bucket-public-writes",
        "s3-acl-write",
        SG_ACL.set(acl="public-read-write"),
        (M, "WRITE to http://acs.amazonaws.com/groups/global/AllUsers"),
    ),
    one(
        "security-bucket-public-writes",
        "unknown-document",
        US_POLICY.set(policy=UNKNOWN),
        (M, "unknown during preview"),
    ),
    # USDR-SEC-10 / CIS 4.1 (advisory)
    one("security-required-tags", "baseline", BUCKET_IAD, None),
    one(
        "security-required-tags",
        "violation",
        BUCKET_IAD.set(freeformTags={"stack": "prod"}),
        (A, "missing required tag(s): data-residency, managed-by"),
    ),
    one(
        "security-required-tags",
        "missing",
        BUCKET_IAD.without("freeformTags"),
        (A, "missing required tag(s): data-residency, stack, managed-by"),
    ),
    one(
        "security-required-tags",
        "config",
        BUCKET_IAD,
        (A, "missing required tag(s): cost-center"),
        config={"requiredTags": ["data-residency", "cost-center"]},
    ),
    # A type that cannot carry tags is not asked for them; defined tags count by their key.
    one("security-required-tags", "untaggable-type", REPLICATION_IAD, None),
    one(
        "security-required-tags",
        "defined-tags",
        BUCKET_IAD.without("freeformTags").set(
            definedTags={"Usdr.data-residency": "us-only", "Usdr.stack": "prod", "Usdr.managed-by": "pulumi"}
        ),
        None,
    ),
    # Default tags are the AWS provider's; an OCI provider's props of that name add nothing.
    one(
        "security-required-tags",
        "oci-provider-default-tags",
        BUCKET_IAD.without("freeformTags").on(
            Prov(
                "pulumi:providers:oci",
                "oci-us-ashburn-1",
                {"region": "us-ashburn-1", "defaultTags": json.dumps({"tags": TAGS})},
            )
        ),
        (A, "missing required tag(s): data-residency, stack, managed-by"),
    ),
    one(
        "security-required-tags",
        "aws-default-tags",
        US_BUCKET.without("tags").on(
            Prov(
                "pulumi:providers:aws",
                "legacy-us-east",
                {**AWS_US.props, "defaultTags": json.dumps({"tags": TAGS})},
            )
        ),
        None,
    ),
    # USDR-SEC-11 (stack)
    stack("stack-region-firewall", "baseline", ESTATE, None),
    stack(
        "stack-region-firewall",
        "violation",
        estate(drop=["iad-fw"]),
        (M, "us-ashburn-1 holds data but has no network firewall"),
    ),
    stack(
        "stack-region-firewall",
        "missing",
        estate(
            swap=[
                Res(
                    FW,
                    "iad-fw",
                    FIREWALL_IAD.without("networkFirewallPolicyId").props,
                    OCI_IAD,
                    deps={"subnetId": ["iad-subnet-firewall"]},
                )
            ]
        ),
        (M, "no network firewall with IDS"),
    ),
    stack(
        "stack-region-firewall",
        "config",
        estate(drop=["iad-fw"]),
        None,
        config={"dataBearingTypes": ["oci:Core/volume:Volume"]},
    ),
    # Two regions: each needs its own firewall; one elsewhere does not count, one per region does.
    stack(
        "stack-region-firewall",
        "second-region-without-firewall",
        estate(add=[PHX_BUCKET]),
        (M, "region us-phoenix-1 holds data but has no network firewall"),
    ),
    stack(
        "stack-region-firewall",
        "firewall-only-elsewhere",
        estate(swap=[FIREWALL_IAD.on(OCI_PHX)], add=[PHX_BUCKET]),
        (M, "region us-ashburn-1 holds data but has no network firewall"),
    ),
    stack(
        "stack-region-firewall",
        "a-firewall-per-region",
        estate(add=[PHX_BUCKET, replace(FIREWALL_IAD, name="phx-fw", provider=OCI_PHX)]),
        None,
    ),
    # USDR-SEC-12 (stack)
    stack("stack-region-vault", "baseline", ESTATE, None),
    stack(
        "stack-region-vault",
        "violation",
        estate(drop=["iad-vault"]),
        (M, "us-ashburn-1 holds data but has no KMS vault"),
    ),
    stack("stack-region-vault", "missing", estate(swap=[VAULT_IAD.on(OCI_NO_REGION)]), (M, "no KMS vault")),
    stack(
        "stack-region-vault",
        "config",
        estate(drop=["iad-vault"]),
        None,
        config={"dataBearingTypes": ["oci:Core/volume:Volume"]},
    ),
    # USDR-SEC-13 / CIS 4.14 (stack)
    stack("stack-region-cloud-guard", "baseline", ESTATE, None),
    stack(
        "stack-region-cloud-guard",
        "violation",
        estate(drop=["iad-cloud-guard"]),
        (M, "region us-ashburn-1 holds data that no Cloud Guard target covers: iad-vault (and 2 more)"),
    ),
    # An inactive target watches nothing.
    stack(
        "stack-region-cloud-guard",
        "inactive-target",
        estate(swap=[CLOUD_GUARD_IAD.set(state="INACTIVE")]),
        (M, "no Cloud Guard target covers"),
    ),
    # Compartments that name each other (a hostile or broken program) end the walk up: not covered.
    stack(
        "stack-region-cloud-guard",
        "compartment-cycle",
        estate(
            swap=[CLOUD_GUARD_IAD.set(targetResourceId="ocid1.compartment.oc1..elsewhere")],
            add=[
                DATA_COMPARTMENT,
                replace(DATA_COMPARTMENT, name="access-compartment-parent").set(
                    compartmentId=COMPARTMENT, id=PARENT, name="parent"
                ),
            ],
        ),
        (M, "no Cloud Guard target covers"),
    ),
    stack(
        "stack-region-cloud-guard",
        "missing",
        estate(swap=[CLOUD_GUARD_IAD.without("targetResourceId")]),
        (M, "no Cloud Guard target covers"),
    ),
    stack(
        "stack-region-cloud-guard",
        "config",
        estate(drop=["iad-cloud-guard"]),
        (A, "no Cloud Guard target covers"),
        level="advisory",
    ),
    stack("stack-region-cloud-guard", "targets-are-global", estate(swap=[CLOUD_GUARD_IAD.on(OCI_PHX)]), None),
    stack(
        "stack-region-cloud-guard",
        "other-compartment",
        estate(swap=[CLOUD_GUARD_IAD.set(targetResourceId="ocid1.compartment.oc1..other")]),
        (M, "no Cloud Guard target covers"),
    ),
    stack(
        "stack-region-cloud-guard",
        "parent-compartment",
        estate(swap=[CLOUD_GUARD_IAD.set(targetResourceId=PARENT)], add=[DATA_COMPARTMENT]),
        None,
    ),
    stack(
        "stack-region-cloud-guard",
        "tenancy-root",
        estate(swap=[CLOUD_GUARD_IAD.set(targetResourceId="ocid1.tenancy.oc1..aaaaaaaaroot")]),
        None,
    ),
    # A Security Zone makes its own target on its compartment (Security Zones docs, "Creating a
    # Security Zone"): the zoned compartment is covered without a Target of the program's.
    stack(
        "stack-region-cloud-guard",
        "security-zone-target",
        estate(
            drop=["iad-cloud-guard"],
            add=[
                Res(
                    "oci:CloudGuard/securityZone:SecurityZone",
                    "iad-zone",
                    {
                        "compartmentId": COMPARTMENT,
                        "displayName": "z",
                        "securityZoneRecipeId": "r",
                        "freeformTags": TAGS,
                    },
                    OCI_IAD,
                )
            ],
        ),
        None,
    ),
    stack(
        "stack-region-cloud-guard",
        "security-zone-elsewhere",
        estate(
            drop=["iad-cloud-guard"],
            add=[
                Res(
                    "oci:CloudGuard/securityZone:SecurityZone",
                    "iad-zone",
                    {
                        "compartmentId": "ocid1.compartment.oc1..other",
                        "displayName": "z",
                        "securityZoneRecipeId": "r",
                        "freeformTags": TAGS,
                    },
                    OCI_IAD,
                )
            ],
        ),
        (M, "no Cloud Guard target covers"),
    ),
    # USDR-SEC-14 / CIS 4.13 (stack)
    stack("stack-subnet-flow-logs", "baseline", ESTATE, None),
    # A flow log names its subnet by a literal id: that subnet is covered, another one is not.
    stack(
        "stack-subnet-flow-logs",
        "by-literal-id",
        estate(swap=[SUBNET_DATA.set(id=_SUBNET_ID), _literal_flow_log(_SUBNET_ID)]),
        None,
    ),
    stack(
        "stack-subnet-flow-logs",
        "other-literal-id",
        estate(swap=[SUBNET_DATA.set(id=_SUBNET_ID), _literal_flow_log("ocid1.subnet.oc1.iad.aaaaother")]),
        (M, "the subnet has no enabled flow log"),
    ),
    stack(
        "stack-subnet-flow-logs",
        "violation",
        estate(drop=["iad-subnet-data-flow-log"]),
        (M, "no enabled flow log"),
    ),
    stack(
        "stack-subnet-flow-logs",
        "missing",
        estate(swap=[FLOW_DATA.set(configuration={"source": {"resource": UNKNOWN, "category": "all"}})]),
        (M, "no enabled flow log"),
    ),
    stack(
        "stack-subnet-flow-logs", "config", estate(drop=["iad-subnet-data-flow-log"]), None, level="disabled"
    ),
    stack(
        "stack-subnet-flow-logs",
        "disabled-log",
        estate(swap=[FLOW_DATA.set(isEnabled=False)]),
        (M, "no enabled flow log"),
    ),
]

US_VERSIONING = Res(
    S3_VERSIONING,
    "legacy-us-east-backups-versioning",
    {"bucket": "backups", "versioningConfiguration": {"status": "Enabled"}},
    AWS_US,
    deps={"bucket": ["legacy-us-east-backups"]},
)
DRAIN_RULES = [
    {
        "id": "expire-by-sunset",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "expiration": {"date": "2027-08-31"},
        "noncurrentVersionExpiration": {"noncurrentDays": 30},
    },
    {
        "id": "remove-expired-delete-markers",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "expiration": {"expiredObjectDeleteMarker": True},
    },
    ABORT_UPLOADS,
]
DENY_FROM_DRAIN = {
    "Sid": "DenyWritesFromDrainStart",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["s3:PutObject", "s3:ReplicateObject"],
    "Resource": "arn:aws:s3:::backups/*",
    "Condition": {"DateGreaterThanEquals": {"aws:CurrentTime": "2027-08-31T00:00:00Z"}},
}

LIFECYCLE: list[Case] = [
    # USDR-LEG-01: what the policy lets anyone do, evaluated as S3 does
    one("legacy-replica-writers", "baseline", US_POLICY, None),
    one(
        "legacy-replica-writers",
        "violation",
        US_POLICY.set(policy=doc({**ALLOW_WRITER, "Principal": {"AWS": [WRITER, OUTSIDER]}})),
        (M, f"lets {OUTSIDER} s3:PutObject"),
    ),
    one("legacy-replica-writers", "missing", US_POLICY.without("policy"), (M, "cannot be proven read-only")),
    one(
        "legacy-replica-writers",
        "config",
        US_POLICY,
        (M, "nobody may write (frozen)"),
        config={"legacySites": [{**PROD_US_SITE, "mode": "frozen", "writer": None}, PROD_SG_SITE]},
    ),
    one(
        "legacy-replica-writers",
        "overridden-by-deny",
        # S3: an explicit deny beats the allow, so the outsider cannot write.
        US_POLICY.set(
            policy=doc(DENY_ALL_BUT_WRITER, {**ALLOW_WRITER, "Principal": {"AWS": [WRITER, OUTSIDER]}})
        ),
        None,
    ),
    one(
        "legacy-replica-writers",
        "restore-writes",
        US_POLICY.set(policy=doc({**ALLOW_RESTORE, "Action": ["s3:GetObject", "s3:DeleteObject"]})),
        (M, f"lets {RESTORE} s3:DeleteObject"),
    ),
    one(
        "legacy-replica-writers",
        "outsider-reads",
        US_POLICY.set(policy=doc({**ALLOW_RESTORE, "Principal": {"AWS": [RESTORE, OUTSIDER]}})),
        (M, f"lets {OUTSIDER} s3:GetObject"),
    ),
    one(
        "legacy-replica-writers",
        "writer-beyond-replication",
        US_POLICY.set(policy=doc({**ALLOW_WRITER, "Action": ["s3:PutObject", "s3:DeleteObjectVersion"]})),
        (M, f"lets {WRITER} s3:DeleteObjectVersion"),
    ),
    one(
        "legacy-replica-writers",
        "writer-policy-change",
        US_POLICY.set(
            policy=doc({**ALLOW_WRITER, "Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::backups"})
        ),
        (M, f"lets {WRITER} s3:PutBucketPolicy"),
    ),
    one(
        "legacy-replica-writers",
        "not-action",
        US_POLICY.set(
            policy=doc({**ALLOW_RESTORE, "Principal": "*", "Action": None, "NotAction": "s3:Get*"})
        ),
        (M, "lets an anonymous caller s3:PutObject"),
    ),
    one(
        "legacy-replica-writers",
        "not-principal",
        US_POLICY.set(policy=doc({**ALLOW_WRITER, "Principal": None, "NotPrincipal": {"AWS": WRITER}})),
        (M, f"lets {RESTORE} s3:PutObject"),
    ),
    one(
        "legacy-replica-writers",
        "wildcard-any-case",
        US_POLICY.set(policy=doc({**ALLOW_WRITER, "Principal": {"AWS": OUTSIDER}, "Action": "S3:pUt*"})),
        (M, f"lets {OUTSIDER} s3:PutObject"),
    ),
    one(
        "legacy-replica-writers",
        "conditional-allow",
        US_POLICY.set(
            policy=doc(
                {
                    **ALLOW_WRITER,
                    "Principal": {"AWS": OUTSIDER},
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                }
            )
        ),
        (M, f"lets {OUTSIDER} s3:PutObject"),
    ),
    one(
        "legacy-replica-writers",
        "account-principal",
        US_POLICY.set(policy=doc({**ALLOW_WRITER, "Principal": {"AWS": "111111111111"}})),
        (M, "lets 111111111111 s3:PutObject"),
    ),
    one(
        "legacy-replica-writers",
        "deny-on-bucket-arn-only",
        # The deny names the bucket, the allow its objects: S3 lets the outsider write objects.
        US_POLICY.set(
            policy=doc(
                {**ALLOW_WRITER, "Principal": {"AWS": OUTSIDER}},
                {**DENY_ALL_BUT_WRITER, "Resource": "arn:aws:s3:::backups"},
            )
        ),
        (M, f"lets {OUTSIDER} s3:PutObject"),
    ),
    one(
        "legacy-replica-writers",
        "log-delivery-may-put",
        US_POLICY.set(
            policy=doc(
                {
                    **ALLOW_WRITER,
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                }
            )
        ),
        None,
    ),
    one(
        "legacy-replica-writers",
        "unknown-operator",
        US_POLICY.set(
            policy=doc({**DENY_ALL_BUT_WRITER, "Condition": {"StringFancy": {"aws:PrincipalArn": WRITER}}})
        ),
        (M, "operator 'StringFancy' cannot be evaluated"),
    ),
    one(
        "legacy-replica-writers",
        "acl-grant",
        SG_ACL.without("acl").set(
            accessControlPolicy={
                "owner": {"id": "owner1"},
                "grants": [
                    {"grantee": {"id": "owner1", "type": "CanonicalUser"}, "permission": "FULL_CONTROL"},
                    {"grantee": {"id": "other", "type": "CanonicalUser"}, "permission": "WRITE"},
                ],
            }
        ),
        (M, "grants WRITE to other"),
    ),
    one(
        "legacy-replica-writers",
        "acl-read-grant",
        SG_ACL.without("acl").set(
            accessControlPolicy={
                "owner": {"id": "owner1"},
                "grants": [{"grantee": {"id": "other", "type": "CanonicalUser"}, "permission": "READ"}],
            }
        ),
        (M, "grants READ to other"),
    ),
    one(
        "legacy-replica-writers",
        "acl-public-read",
        SG_ACL.set(acl="public-read"),
        (M, "grants READ to http://acs.amazonaws.com/groups/global/AllUsers"),
    ),
    one(
        "legacy-replica-writers",
        "object-canned-acl",
        Res(S3_OBJECT, "their-object", {"bucket": "backups", "key": "k", "acl": "public-read"}, AWS_US),
        (M, "the object's canned ACL 'public-read' grants access beyond the bucket owner"),
    ),
    one(
        "legacy-replica-writers",
        "object-private",
        Res(S3_OBJECT, "their-object", {"bucket": "backups", "key": "k", "acl": "private"}, AWS_US),
        None,
    ),
    one(
        "legacy-replica-writers",
        "object-copy-grants",
        Res(
            "aws:s3/objectCopy:ObjectCopy",
            "their-copy",
            {
                "bucket": "backups",
                "key": "k",
                "source": "x/y",
                "grants": [{"type": "CanonicalUser", "id": "other", "permissions": ["READ"]}],
            },
            AWS_US,
        ),
        (M, "the object grants READ to other"),
    ),
    one(
        "legacy-replica-writers",
        "not-a-legacy-site",
        US_POLICY.on(AWS_REAL_USE2).set(policy=doc({**ALLOW_WRITER, "Principal": {"AWS": OUTSIDER}})),
        None,
    ),
    # USDR-LEG-02 (stack): what the policy surely denies, evaluated as S3 does
    stack("legacy-replica-lockdown", "baseline", ESTATE, None),
    stack(
        "legacy-replica-lockdown",
        "violation",
        estate(swap=[US_POLICY.set(policy=doc(ALLOW_WRITER, ALLOW_RESTORE))]),
        (M, f"does not deny {RESTORE} s3:PutObject"),
    ),
    stack(
        "legacy-replica-lockdown",
        "missing",
        estate(drop=["legacy-us-east-backups-policy"]),
        (M, "no bucket policy denies what the site forbids"),
    ),
    stack(
        "legacy-replica-lockdown",
        "config",
        ESTATE,
        (M, f"does not deny {WRITER} s3:PutObject"),
        config={"legacySites": [{**PROD_US_SITE, "mode": "frozen", "writer": None}, PROD_SG_SITE]},
    ),
    stack(
        "legacy-replica-lockdown",
        "wider-exemption",
        estate(
            swap=[
                US_POLICY.set(
                    policy=doc(
                        {
                            **DENY_ALL_BUT_WRITER,
                            "Condition": {"StringNotEquals": {"aws:PrincipalArn": [WRITER, OUTSIDER]}},
                        },
                        *US_STATEMENTS[1:],
                    )
                )
            ]
        ),
        (M, f"does not deny {OUTSIDER} s3:PutObject"),
    ),
    stack(
        "legacy-replica-lockdown",
        "wildcard-exemption",
        estate(
            swap=[
                US_POLICY.set(
                    policy=doc(
                        {
                            **DENY_ALL_BUT_WRITER,
                            "Condition": {
                                "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/legacy-*"}
                            },
                        },
                        *US_STATEMENTS[1:],
                    )
                )
            ]
        ),
        (M, "does not deny arn:aws:iam::000000000000:user/legacy-zz s3:PutObject"),
    ),
    stack(
        "legacy-replica-lockdown",
        "not-principal-exemption",
        estate(
            swap=[
                US_POLICY.set(
                    policy=doc(
                        {
                            **DENY_ALL_BUT_WRITER,
                            "Principal": None,
                            "NotPrincipal": {"AWS": WRITER},
                            "Condition": None,
                        },
                        *US_STATEMENTS[1:],
                    )
                )
            ]
        ),
        None,
    ),
    stack(
        "legacy-replica-lockdown",
        "not-principal-wider",
        estate(
            swap=[
                US_POLICY.set(
                    policy=doc(
                        {
                            **DENY_ALL_BUT_WRITER,
                            "Principal": None,
                            "NotPrincipal": {"AWS": [WRITER, OUTSIDER]},
                            "Condition": None,
                        },
                        *US_STATEMENTS[1:],
                    )
                )
            ]
        ),
        (M, f"does not deny {OUTSIDER} s3:PutObject"),
    ),
    stack(
        "legacy-replica-lockdown",
        "deny-on-bucket-arn-only",
        estate(
            swap=[
                US_POLICY.set(
                    policy=doc(
                        *(
                            {**st, "Resource": "arn:aws:s3:::backups"} if st["Effect"] == "Deny" else st
                            for st in US_STATEMENTS
                        )
                    )
                )
            ]
        ),
        (M, f"does not deny {RESTORE} s3:PutObject"),
    ),
    stack(
        "legacy-replica-lockdown",
        "deny-on-objects-only",
        estate(
            swap=[
                US_POLICY.set(
                    policy=doc(
                        *(
                            {**st, "Resource": "arn:aws:s3:::backups/*"} if st["Effect"] == "Deny" else st
                            for st in US_STATEMENTS
                        )
                    )
                )
            ]
        ),
        (M, "s3:PutBucketPolicy"),
    ),
    stack(
        "legacy-replica-lockdown",
        "deny-on-a-prefix",
        estate(
            swap=[
                US_POLICY.set(
                    policy=doc(
                        {
                            **DENY_ALL_BUT_WRITER,
                            "Resource": ["arn:aws:s3:::backups", "arn:aws:s3:::backups/daily/*"],
                        },
                        *US_STATEMENTS[1:],
                    )
                )
            ]
        ),
        (M, f"does not deny {RESTORE} s3:PutObject"),
    ),
    stack(
        "legacy-replica-lockdown",
        "not-action-deny",
        # Frozen: one Deny of everything but reads, to everyone, does the job.
        estate(
            swap=[
                SG_POLICY.set(
                    policy=doc(
                        {**DENY_EVERYONE, "Action": None, "NotAction": ["s3:Get*", "s3:List*"]},
                        *SG_STATEMENTS[1:],
                    )
                )
            ]
        ),
        None,
    ),
    stack(
        "legacy-replica-lockdown",
        "not-action-deny-leaves-puts",
        estate(
            swap=[
                SG_POLICY.set(
                    policy=doc(
                        {
                            **DENY_EVERYONE,
                            "Action": None,
                            "NotAction": ["s3:Get*", "s3:List*", "s3:PutObject"],
                        },
                        *SG_STATEMENTS[1:],
                    )
                )
            ]
        ),
        (M, f"does not deny {RESTORE} s3:PutObject"),
    ),
    stack(
        "legacy-replica-lockdown",
        "conditional-deny",
        # Only over TLS: a caller escapes it by using plain HTTP, so it is no deny at all.
        estate(
            swap=[
                US_POLICY.set(
                    policy=doc(
                        DENY_ALL_BUT_WRITER,
                        ALLOW_WRITER,
                        {**DENY_NOBODY_US, "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
                        DENY_READS_US,
                    )
                )
            ]
        ),
        (M, f"does not deny {WRITER} s3:PutObjectVersionTagging, s3:DeleteObjectVersion"),
    ),
    stack(
        "legacy-replica-lockdown",
        "reads-not-denied",
        estate(
            swap=[US_POLICY.set(policy=doc(DENY_ALL_BUT_WRITER, ALLOW_WRITER, DENY_NOBODY_US, ALLOW_RESTORE))]
        ),
        (M, f"does not deny {WRITER} s3:GetObject"),
    ),
    stack(
        "legacy-replica-lockdown",
        "writer-may-delete-versions",
        estate(
            swap=[US_POLICY.set(policy=doc(DENY_ALL_BUT_WRITER, ALLOW_WRITER, DENY_READS_US, ALLOW_RESTORE))]
        ),
        (M, f"does not deny {WRITER} s3:PutObjectVersionTagging, s3:DeleteObjectVersion"),
    ),
    stack(
        "legacy-replica-lockdown",
        "second-policy",
        # S3 keeps one policy per bucket: whichever the provider applies last must suffice.
        estate(
            add=[
                Res(
                    S3_POLICY,
                    "their-policy",
                    {"bucket": "backups", "policy": doc(ALLOW_WRITER)},
                    AWS_US,
                    deps={"bucket": ["legacy-us-east-backups"]},
                )
            ]
        ),
        (M, "policy 'their-policy' does not deny"),
    ),
    stack(
        "legacy-replica-lockdown",
        "same-name-at-another-site",
        # Bucket names are unique per endpoint: Singapore's `backups` policy does not protect US `backups`.
        estate(
            drop=["legacy-us-east-backups-policy"],
            swap=[
                SG_BUCKET.set(bucket="backups"),
                SG_POLICY.set(bucket="backups", policy=doc(*US_STATEMENTS)),
            ],
        ),
        (M, "site legacy-us-east: no bucket policy denies what the site forbids"),
    ),
    stack(
        "legacy-replica-lockdown",
        "bucket-name-unknown",
        estate(swap=[US_BUCKET.set(bucket=UNKNOWN)]),
        (M, "the bucket's name is unknown during preview"),
    ),
    # USDR-LEG-03 (stack)
    stack("legacy-replica-expiry", "baseline", ESTATE, None),
    stack(
        "legacy-replica-expiry",
        "violation",
        estate(swap=[US_LIFECYCLE.set(rules=lifecycle_rules("2028-01-31"))]),
        (M, "after the sunset 2027-09-30"),
    ),
    stack(
        "legacy-replica-expiry",
        "missing",
        estate(drop=["legacy-us-east-backups-lifecycle"]),
        (M, "no enabled whole-bucket rule expires objects on a date"),
    ),
    stack(
        "legacy-replica-expiry",
        "config",
        ESTATE,
        (M, "after the sunset 2027-03-31"),
        config={"legacySites": [PROD_US_SITE, {**PROD_SG_SITE, "sunset": "2027-03-31"}]},
    ),
    stack(
        "legacy-replica-expiry",
        "days-only",
        estate(
            swap=[
                US_LIFECYCLE.set(
                    rules=[{"id": "d", "status": "Enabled", "filter": {}, "expiration": {"days": 30}}]
                )
            ]
        ),
        (M, "cannot promise a date"),
    ),
    stack(
        "legacy-replica-expiry",
        "filtered",
        estate(
            swap=[
                US_LIFECYCLE.set(rules=[{**lifecycle_rules("2027-09-30")[0], "filter": {"prefix": "daily/"}}])
            ]
        ),
        (M, "filtered"),
    ),
    stack(
        "legacy-replica-expiry",
        "versioned-drain",
        estate(
            swap=[
                US_LIFECYCLE.set(rules=DRAIN_RULES),
                US_POLICY.set(policy=doc(DENY_ALL_BUT_WRITER, DENY_FROM_DRAIN, ALLOW_WRITER)),
            ],
            add=[US_VERSIONING],
        ),
        None,
    ),
    stack(
        "legacy-replica-expiry",
        "versioned-no-noncurrent",
        estate(add=[US_VERSIONING]),
        (M, "noncurrent versions never expire"),
    ),
    stack(
        "legacy-replica-expiry",
        "versioned-no-write-stop",
        estate(swap=[US_LIFECYCLE.set(rules=DRAIN_RULES)], add=[US_VERSIONING]),
        (M, "writes are stopped never"),
    ),
    # USDR-LEG-03: the lifecycle read whole
    stack(
        "legacy-replica-expiry",
        "disabled-rule",
        estate(
            swap=[
                US_LIFECYCLE.set(
                    rules=[{**lifecycle_rules("2027-09-30")[0], "status": "Disabled"}, ABORT_UPLOADS]
                )
            ]
        ),
        (M, "rule 'expire-by-sunset' is not Enabled"),
    ),
    stack(
        "legacy-replica-expiry",
        "rule-level-prefix",
        estate(
            swap=[
                US_LIFECYCLE.set(
                    rules=[
                        {**lifecycle_rules("2027-09-30")[0], "filter": None, "prefix": "daily/"},
                        ABORT_UPLOADS,
                    ]
                )
            ]
        ),
        (M, "has a rule-level prefix"),
    ),
    stack(
        "legacy-replica-expiry",
        "size-filter",
        # Objects of size 0 are left out by `objectSizeGreaterThan: 0`.
        estate(
            swap=[
                US_LIFECYCLE.set(
                    rules=[
                        {**lifecycle_rules("2027-09-30")[0], "filter": {"objectSizeGreaterThan": 0}},
                        ABORT_UPLOADS,
                    ]
                )
            ]
        ),
        (M, "is filtered"),
    ),
    stack(
        "legacy-replica-expiry",
        "transition-only",
        estate(
            swap=[
                US_LIFECYCLE.set(
                    rules=[
                        {
                            "id": "to-glacier",
                            "status": "Enabled",
                            "filter": {"prefix": ""},
                            "transitions": [{"date": "2027-01-01", "storageClass": "GLACIER"}],
                        },
                        ABORT_UPLOADS,
                    ]
                )
            ]
        ),
        (M, "only transitions objects"),
    ),
    stack(
        "legacy-replica-expiry",
        "two-configurations",
        estate(
            add=[
                Res(
                    S3_LIFECYCLE,
                    "their-lifecycle",
                    {"bucket": "backups", "rules": lifecycle_rules("2027-01-31")},
                    AWS_US,
                    deps={"bucket": ["legacy-us-east-backups"]},
                )
            ]
        ),
        (M, "2 lifecycle configurations"),
    ),
    stack(
        "legacy-replica-expiry",
        "no-abort-of-uploads",
        estate(swap=[US_LIFECYCLE.set(rules=lifecycle_rules("2027-09-30")[:1])]),
        (M, "no enabled whole-bucket rule aborts incomplete multipart uploads"),
    ),
    stack(
        "legacy-replica-expiry",
        "abort-too-late",
        estate(
            swap=[
                US_LIFECYCLE.set(
                    rules=[
                        lifecycle_rules("2027-09-30")[0],
                        {**ABORT_UPLOADS, "abortIncompleteMultipartUpload": {"daysAfterInitiation": 30}},
                    ]
                )
            ]
        ),
        (M, "incomplete uploads are aborted after 30 days"),
    ),
    stack(
        "legacy-replica-expiry",
        "frozen-abort-too-late",
        estate(
            swap=[
                SG_LIFECYCLE.set(
                    rules=[
                        lifecycle_rules("2027-06-30")[0],
                        {**ABORT_UPLOADS, "abortIncompleteMultipartUpload": {"daysAfterInitiation": 400}},
                    ]
                )
            ]
        ),
        (M, "are aborted only 400 days later, after the sunset 2027-06-30"),
    ),
    stack(
        "legacy-replica-expiry",
        "versioned-keeps-newer-versions",
        estate(
            swap=[
                US_LIFECYCLE.set(
                    rules=[
                        {
                            **DRAIN_RULES[0],
                            "noncurrentVersionExpiration": {
                                "noncurrentDays": 30,
                                "newerNoncurrentVersions": 3,
                            },
                        },
                        *DRAIN_RULES[1:],
                    ]
                ),
                US_POLICY.set(policy=doc(DENY_ALL_BUT_WRITER, DENY_FROM_DRAIN, ALLOW_WRITER)),
            ],
            add=[US_VERSIONING],
        ),
        (M, "keeps the 3 newest noncurrent versions"),
    ),
    stack(
        "legacy-replica-expiry",
        "versioned-delete-markers-stay",
        estate(
            swap=[
                US_LIFECYCLE.set(rules=[DRAIN_RULES[0], ABORT_UPLOADS]),
                US_POLICY.set(policy=doc(DENY_ALL_BUT_WRITER, DENY_FROM_DRAIN, ALLOW_WRITER)),
            ],
            add=[US_VERSIONING],
        ),
        (M, "no enabled whole-bucket rule removes expired delete markers"),
    ),
    stack(
        "legacy-replica-expiry",
        "write-stop-lapses",
        # Denied from the drain start, but only until mid-September: writes resume before the sunset.
        estate(
            swap=[
                US_LIFECYCLE.set(rules=DRAIN_RULES),
                US_POLICY.set(
                    policy=doc(
                        DENY_ALL_BUT_WRITER,
                        {
                            **DENY_FROM_DRAIN,
                            "Condition": {
                                **DENY_FROM_DRAIN["Condition"],
                                "DateLessThan": {"aws:CurrentTime": "2027-09-15T00:00:00Z"},
                            },
                        },
                        ALLOW_WRITER,
                    )
                ),
            ],
            add=[US_VERSIONING],
        ),
        (M, "writes are stopped never"),
    ),
    stack(
        "legacy-replica-expiry",
        "write-stop-leaves-replication",
        estate(
            swap=[
                US_LIFECYCLE.set(rules=DRAIN_RULES),
                US_POLICY.set(
                    policy=doc(
                        DENY_ALL_BUT_WRITER, {**DENY_FROM_DRAIN, "Action": "s3:PutObject"}, ALLOW_WRITER
                    )
                ),
            ],
            add=[US_VERSIONING],
        ),
        (M, "writes are stopped never"),
    ),
    # USDR-LEG-04: no Object Lock in any form
    one("legacy-replica-retention", "baseline", US_BUCKET, None),
    one(
        "legacy-replica-retention",
        "violation",
        US_LOCK.set(rule={"defaultRetention": {"mode": "COMPLIANCE", "days": 1}}),
        (M, "compliance-mode retention"),
    ),
    one(
        "legacy-replica-retention",
        "missing",
        US_LOCK.without("rule"),
        (M, "enables Object Lock on the bucket"),
    ),
    one(
        "legacy-replica-retention",
        "config",
        SG_LOCK,
        (M, "after the sunset 2026-12-15"),
        config={"legacySites": [PROD_US_SITE, {**PROD_SG_SITE, "sunset": "2026-12-15"}]},
    ),
    one(
        "legacy-replica-retention",
        "frozen-short-retention-still-a-lock",
        SG_LOCK,
        (M, "enables Object Lock"),
    ),
    one(
        "legacy-replica-retention",
        "governance-at-a-replica",
        # Written up to the drain, locked 30 days more: past the sunset, however soon it is enabled.
        US_LOCK,
        (M, "stay locked until about 2027-10-30, after the sunset 2027-09-30"),
    ),
    one(
        "legacy-replica-retention",
        "retention-unknown",
        US_LOCK.set(rule={"defaultRetention": {"mode": "GOVERNANCE", "days": UNKNOWN}}),
        (M, "the retention period is unknown during preview"),
    ),
    one(
        "legacy-replica-retention",
        "object-lock-enabled",
        US_BUCKET.set(objectLockEnabled=True),
        (M, "Object Lock is enabled"),
    ),
    one(
        "legacy-replica-retention",
        "bucket-v2-object-lock",
        Res(
            "aws:s3/bucketV2:BucketV2",
            "their-bucket",
            {"bucket": "theirs", "objectLockEnabled": True},
            AWS_US,
        ),
        (M, "Object Lock is enabled"),
    ),
    one(
        "legacy-replica-retention",
        "inline-lock-configuration",
        US_BUCKET.set(
            objectLockConfiguration={
                "objectLockEnabled": "Enabled",
                "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 1}},
            }
        ),
        (M, "the inline objectLockConfiguration enables Object Lock"),
    ),
    one(
        "legacy-replica-retention",
        "inline-compliance",
        US_BUCKET.set(
            objectLockConfiguration={"rule": {"defaultRetention": {"mode": "COMPLIANCE", "years": 1}}}
        ),
        (M, "the inline objectLockConfiguration: compliance-mode retention"),
    ),
    one(
        "legacy-replica-retention",
        "object-legal-hold",
        Res(
            S3_OBJECT,
            "their-object",
            {"bucket": "backups", "key": "k", "objectLockLegalHoldStatus": "ON"},
            AWS_US,
        ),
        (M, "legal hold"),
    ),
    one(
        "legacy-replica-retention",
        "object-retained-past-sunset",
        Res(
            S3_OBJECT,
            "their-object",
            {
                "bucket": "backups",
                "key": "k",
                "objectLockMode": "GOVERNANCE",
                "objectLockRetainUntilDate": "2028-01-01T00:00:00Z",
            },
            AWS_US,
        ),
        (M, "retained until 2028-01-01T00:00:00Z, not before the sunset 2027-09-30"),
    ),
    one(
        "legacy-replica-retention",
        "object-retained-until-before-sunset",
        Res(
            S3_OBJECT,
            "their-object",
            {
                "bucket": "backups",
                "key": "k",
                "objectLockMode": "GOVERNANCE",
                "objectLockRetainUntilDate": "2027-01-01T00:00:00Z",
            },
            AWS_US,
        ),
        None,
    ),
    one(
        "legacy-replica-retention",
        "object-copy-retained",
        Res(
            "aws:s3/objectCopy:ObjectCopy",
            "their-copy",
            {"bucket": "backups", "key": "k", "source": "x/y", "objectLockRetainUntilDate": UNKNOWN},
            AWS_US,
        ),
        (M, "retain-until date is unknown during preview"),
    ),
    one("legacy-replica-retention", "not-a-legacy-site", US_LOCK.on(AWS_REAL_USE2), None),
    # USDR-LIF-01 (stack)
    stack("stack-data-protected", "baseline", ESTATE, None),
    stack(
        "stack-data-protected",
        "violation",
        estate(
            swap=[
                Res(BUCKET, BUCKET_IAD.name, BUCKET_IAD.props, OCI_IAD, protect=False, deps=BUCKET_IAD.deps)
            ]
        ),
        (M, "'iad-bucket-media' holds data but is not protected"),
    ),
    stack(
        "stack-data-protected",
        "missing",
        estate(swap=[Res(S3_BUCKET, SG_BUCKET.name, SG_BUCKET.props, AWS_SG)]),
        (M, "'legacy-sg-backups' holds data but is not protected"),
    ),
    stack(
        "stack-data-protected",
        "config",
        estate(swap=[Res(KEY, KEY_IAD.name, KEY_IAD.props, OCI_IAD, deps=KEY_IAD.deps)]),
        (A, "not protected"),
        level="advisory",
    ),
]

# The deprecated inline arguments of aws.s3.Bucket, judged like their separate resources.
INLINE_EXPIRY = [
    {
        "id": "expire",
        "enabled": True,
        "expiration": {"date": "2027-09-30T00:00:00Z"},
        "abortIncompleteMultipartUploadDays": 1,
    }
]
US_ACL = Res(
    S3_ACL,
    "legacy-us-east-backups-acl",
    {"bucket": "backups", "acl": "private"},
    AWS_US,
    deps={"bucket": ["legacy-us-east-backups"]},
)
INLINE: list[Case] = [
    one(
        "legacy-replica-writers",
        "inline-policy",
        US_BUCKET.set(policy=doc({**ALLOW_WRITER, "Principal": {"AWS": OUTSIDER}})),
        (M, f"the inline policy: statement 'AllowWriter' lets {OUTSIDER} s3:PutObject"),
    ),
    one(
        "legacy-replica-writers",
        "inline-acl",
        US_BUCKET.set(acl="public-read-write"),
        (M, "the inline ACL grants WRITE to http://acs.amazonaws.com/groups/global/AllUsers"),
    ),
    one(
        "legacy-replica-writers",
        "inline-grants",
        US_BUCKET.set(grants=[{"type": "CanonicalUser", "id": "other", "permissions": ["READ", "WRITE"]}]),
        (M, "the inline ACL grants WRITE to other"),
    ),
    one(
        "security-bucket-public-writes",
        "inline-policy",
        US_BUCKET.set(policy=doc({**ALLOW_WRITER, "Principal": "*"})),
        (M, "the inline policy: statement 'AllowWriter' lets everyone s3:PutObject"),
    ),
    one(
        "security-bucket-public-writes",
        "inline-grants",
        US_BUCKET.set(
            grants=[
                {
                    "type": "Group",
                    "uri": "http://acs.amazonaws.com/groups/global/AllUsers",
                    "permissions": ["WRITE"],
                }
            ]
        ),
        (M, "the inline ACL: the ACL grants WRITE to http://acs.amazonaws.com/groups/global/AllUsers"),
    ),
    one(
        "security-bucket-not-public",
        "inline-acl",
        US_BUCKET.set(acl="public-read"),
        (M, "the inline ACL: the ACL grants READ to http://acs.amazonaws.com/groups/global/AllUsers"),
    ),
    one("security-bucket-not-public", "inline-acl-private", US_BUCKET.set(acl="private"), None),
    stack(
        "legacy-replica-lockdown",
        "inline-policy-counts",
        estate(drop=["legacy-us-east-backups-policy"], swap=[US_BUCKET.set(policy=doc(*US_STATEMENTS))]),
        None,
    ),
    stack(
        "legacy-replica-lockdown",
        "inline-policy-loose",
        estate(drop=["legacy-us-east-backups-policy"], swap=[US_BUCKET.set(policy=doc(ALLOW_WRITER))]),
        (M, "policy 'legacy-us-east-backups (inline policy)' does not deny"),
    ),
    stack(
        "legacy-replica-expiry",
        "inline-lifecycle-counts",
        estate(drop=["legacy-us-east-backups-lifecycle"], swap=[US_BUCKET.set(lifecycleRules=INLINE_EXPIRY)]),
        None,
    ),
    stack(
        "legacy-replica-expiry",
        "inline-lifecycle-disabled",
        estate(
            drop=["legacy-us-east-backups-lifecycle"],
            swap=[US_BUCKET.set(lifecycleRules=[{**INLINE_EXPIRY[0], "enabled": False}])],
        ),
        (M, "rule 'expire' is not Enabled"),
    ),
    stack(
        "legacy-replica-expiry",
        "inline-lifecycle-prefix",
        estate(
            drop=["legacy-us-east-backups-lifecycle"],
            swap=[US_BUCKET.set(lifecycleRules=[{**INLINE_EXPIRY[0], "prefix": "daily/"}])],
        ),
        (M, "rule 'expire' is filtered"),
    ),
    stack(
        "legacy-replica-expiry",
        "inline-lifecycle-late",
        estate(
            drop=["legacy-us-east-backups-lifecycle"],
            swap=[US_BUCKET.set(lifecycleRules=[{**INLINE_EXPIRY[0], "expiration": {"date": "2028-01-31"}}])],
        ),
        (M, "after the sunset 2027-09-30"),
    ),
    stack(
        "legacy-replica-expiry",
        "inline-versioning",
        estate(swap=[US_BUCKET.set(versioning={"enabled": True})]),
        (M, "the bucket is versioned but noncurrent versions never expire"),
    ),
    # USDR-LEG-07 (stack)
    # Separate resources for configurations the inline arguments also have: no conflict. (Versioning
    # alone would be caught by legacy-replica-expiry: noncurrent versions must expire too.)
    stack("legacy-bucket-inline-conflicts", "baseline", estate(add=[US_ACL]), None),
    stack(
        "legacy-bucket-inline-conflicts",
        "violation",
        estate(swap=[US_BUCKET.set(policy=doc(*US_STATEMENTS))]),
        (M, "the inline `policy` and 'legacy-us-east-backups-policy' both manage the same configuration"),
    ),
    stack(
        "legacy-bucket-inline-conflicts",
        "missing",
        estate(swap=[US_BUCKET.set(policy=UNKNOWN)]),
        (M, "the inline `policy` and 'legacy-us-east-backups-policy'"),
    ),
    stack(
        "legacy-bucket-inline-conflicts",
        "config",
        estate(swap=[US_BUCKET.set(policy=doc(*US_STATEMENTS))]),
        (A, "both manage the same configuration"),
        level="advisory",
    ),
    stack(
        "legacy-bucket-inline-conflicts",
        "lifecycle",
        estate(swap=[US_BUCKET.set(lifecycleRules=INLINE_EXPIRY)]),
        (M, "the inline `lifecycleRules` and 'legacy-us-east-backups-lifecycle'"),
    ),
    stack(
        "legacy-bucket-inline-conflicts",
        "acl-default-private",
        estate(swap=[US_BUCKET.set(acl="private")], add=[US_ACL]),
        None,
    ),
    stack(
        "legacy-bucket-inline-conflicts",
        "acl",
        estate(swap=[US_BUCKET.set(acl="log-delivery-write")], add=[US_ACL]),
        (M, "the inline `acl` and 'legacy-us-east-backups-acl'"),
    ),
    stack(
        "legacy-bucket-inline-conflicts",
        "versioning",
        estate(swap=[US_BUCKET.set(versioning={"enabled": True})], add=[US_VERSIONING]),
        (M, "the inline `versioning` and 'legacy-us-east-backups-versioning'"),
    ),
    stack(
        "legacy-bucket-inline-conflicts",
        "object-lock",
        estate(
            swap=[US_BUCKET.set(objectLockConfiguration={"objectLockEnabled": "Enabled"})],
            add=[
                Res(
                    S3_LOCK,
                    "legacy-us-east-backups-lock",
                    US_LOCK.props,
                    AWS_US,
                    deps={"bucket": ["legacy-us-east-backups"]},
                )
            ],
        ),
        (M, "the inline `objectLockConfiguration` and 'legacy-us-east-backups-lock'"),
    ),
]

# USDR-LEG-08: where data from a legacy site may go.
US_LOG_BUCKET = Res(
    S3_BUCKET,
    "legacy-us-east-access-logs",
    {"bucket": "legacy-us-east-access-logs", "tags": TAGS},
    AWS_US,
    protect=True,
)
US_OTHER_BUCKET = Res(
    S3_BUCKET, "legacy-us-east-archive", {"bucket": "archive", "tags": TAGS}, AWS_US, protect=True
)
# The log bucket is a bucket at the site like any other: locked down and drained by the sunset.
US_LOG_POLICY = Res(
    S3_POLICY,
    "legacy-us-east-access-logs-policy",
    {
        "bucket": "legacy-us-east-access-logs",
        "policy": doc(*US_STATEMENTS).replace(
            "arn:aws:s3:::backups", "arn:aws:s3:::legacy-us-east-access-logs"
        ),
    },
    AWS_US,
    deps={"bucket": ["legacy-us-east-access-logs"]},
)
US_LOG_LIFECYCLE = Res(
    S3_LIFECYCLE,
    "legacy-us-east-access-logs-lifecycle",
    {"bucket": "legacy-us-east-access-logs", "rules": lifecycle_rules("2027-09-30")},
    AWS_US,
    deps={"bucket": ["legacy-us-east-access-logs"]},
)
US_LOGGING = Res(
    "aws:s3/bucketLogging:BucketLogging",
    "legacy-us-east-backups-logging",
    {"bucket": "backups", "targetBucket": "legacy-us-east-access-logs", "targetPrefix": "backups/"},
    AWS_US,
    deps={"bucket": ["legacy-us-east-backups"], "targetBucket": ["legacy-us-east-access-logs"]},
)


def replication_to(dest: Any) -> Res:
    return Res(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "legacy-us-east-backups-replication",
        {
            "bucket": "backups",
            "role": "arn:aws:iam::000000000000:role/replication",
            "rules": [{"id": "all", "status": "Enabled", "destination": {"bucket": dest}}],
        },
        AWS_US,
        deps={"bucket": ["legacy-us-east-backups"]},
    )


DESTINATIONS: list[Case] = [
    stack(
        "legacy-data-destinations",
        "baseline",
        estate(add=[US_LOG_BUCKET, US_LOG_POLICY, US_LOG_LIFECYCLE, US_LOGGING]),
        None,
    ),
    stack(
        "legacy-data-destinations",
        "violation",
        estate(add=[replication_to("arn:aws:s3:::backups-sg")]),
        (
            M,
            "replication rule 'all': the destination bucket 'backups-sg' is at site legacy-sg in SG, "
            "outside the US",
        ),
    ),
    stack(
        "legacy-data-destinations",
        "missing",
        estate(add=[replication_to(UNKNOWN)]),
        (M, "the destination is unknown during preview"),
    ),
    stack(
        "legacy-data-destinations",
        "config",
        estate(add=[replication_to("arn:aws:s3:::backups-sg")]),
        None,
        config={"allowedCountries": ["US", "SG"]},
    ),
    stack(
        "legacy-data-destinations",
        "replication-nowhere",
        estate(add=[replication_to("arn:aws:s3:::their-bucket")]),
        (M, "the destination bucket 'their-bucket' is not a bucket of this stack at a declared site"),
    ),
    stack(
        "legacy-data-destinations",
        "replication-same-site",
        estate(add=[US_OTHER_BUCKET, replication_to("arn:aws:s3:::archive")]),
        None,
    ),
    stack(
        "legacy-data-destinations",
        "replication-not-an-s3-arn",
        estate(add=[replication_to("arn:aws:s3:eu-west-1:111111111111:accesspoint/x")]),
        (M, "is not an S3 bucket ARN"),
    ),
    stack(
        "legacy-data-destinations",
        "inline-replication",
        estate(
            swap=[
                US_BUCKET.set(
                    replicationConfiguration={
                        "role": "r",
                        "rules": [
                            {"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::backups-sg"}}
                        ],
                    }
                )
            ]
        ),
        (M, "inline replication rule 0: the destination bucket 'backups-sg' is at site legacy-sg"),
    ),
    stack(
        "legacy-data-destinations",
        "inventory-export",
        estate(
            add=[
                Res(
                    "aws:s3/inventory:Inventory",
                    "legacy-us-east-backups-inventory",
                    {
                        "bucket": "backups",
                        "name": "all",
                        "destination": {
                            "bucket": {"bucketArn": "arn:aws:s3:::their-bucket", "format": "CSV"}
                        },
                    },
                    AWS_US,
                )
            ]
        ),
        (M, "the inventory export: the destination bucket 'their-bucket'"),
    ),
    stack(
        "legacy-data-destinations",
        "analytics-export",
        estate(
            add=[
                Res(
                    "aws:s3/analyticsConfiguration:AnalyticsConfiguration",
                    "legacy-us-east-backups-analytics",
                    {
                        "bucket": "backups",
                        "name": "all",
                        "storageClassAnalysis": {
                            "dataExport": {
                                "destination": {
                                    "s3BucketDestination": {"bucketArn": "arn:aws:s3:::backups-sg"}
                                }
                            }
                        },
                    },
                    AWS_US,
                )
            ]
        ),
        (M, "the analytics export: the destination bucket 'backups-sg' is at site legacy-sg in SG"),
    ),
    stack(
        "legacy-data-destinations",
        "access-logs-elsewhere",
        estate(add=[US_LOGGING.set(targetBucket="their-log-bucket")]),
        (M, "the access logs: the destination bucket 'their-log-bucket'"),
    ),
    stack(
        "legacy-data-destinations",
        "access-logs-unknown-but-wired",
        # Preview: the target is the log bucket's computed id; its dependency says which bucket.
        estate(add=[US_LOG_BUCKET, US_LOGGING.set(targetBucket=UNKNOWN)]),
        None,
    ),
    stack(
        "legacy-data-destinations",
        "access-logs-by-id",
        # The engine reports the target bucket's id, which need not be its name.
        estate(add=[US_LOG_BUCKET.set(id="bucket-0123abcd"), US_LOGGING.set(targetBucket="bucket-0123abcd")]),
        None,
    ),
    stack(
        "legacy-data-destinations",
        "inline-logging",
        estate(swap=[US_BUCKET.set(logging={"targetBucket": "backups-sg", "targetPrefix": "x/"})]),
        (M, "inline access logs: the destination bucket 'backups-sg' is at site legacy-sg"),
    ),
    stack(
        "legacy-data-destinations",
        "notifications",
        estate(
            add=[
                Res(
                    "aws:s3/bucketNotification:BucketNotification",
                    "legacy-us-east-backups-events",
                    {
                        "bucket": "backups",
                        "queues": [
                            {
                                "queueArn": "arn:aws:sqs:eu-west-1:111111111111:q",
                                "events": ["s3:ObjectCreated:*"],
                            }
                        ],
                    },
                    AWS_US,
                )
            ]
        ),
        (M, "event notifications send object keys to arn:aws:sqs:eu-west-1:111111111111:q"),
    ),
    stack(
        "legacy-data-destinations",
        "access-point",
        estate(
            add=[
                Res(
                    "aws:s3/accessPoint:AccessPoint",
                    "legacy-us-east-ap",
                    {"bucket": "backups", "name": "ap"},
                    AWS_US,
                )
            ]
        ),
        (M, "access point 'legacy-us-east-ap' opens another way to the bucket"),
    ),
    stack(
        "legacy-data-destinations",
        "s3control-access-point",
        estate(
            add=[
                Res(
                    "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint",
                    "their-mrap",
                    {"details": {"name": "x", "regions": [{"bucket": "backups"}]}},
                    AWS_REAL_USE2,
                )
            ]
        ),
        (M, "MultiRegionAccessPoint 'their-mrap' reaches bucket 'legacy-us-east-backups'"),
    ),
    stack(
        "legacy-data-destinations",
        "website",
        estate(
            add=[
                Res(
                    "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
                    "legacy-us-east-backups-website",
                    {"bucket": "backups", "indexDocument": {"suffix": "index.html"}},
                    AWS_US,
                )
            ]
        ),
        (M, "a website configuration serves the bucket on a plain-HTTP website endpoint"),
    ),
    stack(
        "legacy-data-destinations",
        "inline-website",
        estate(swap=[US_BUCKET.set(website={"indexDocument": "index.html"})]),
        (M, "the inline website configuration serves the bucket"),
    ),
    stack(
        "legacy-data-destinations",
        "not-a-legacy-site",
        estate(add=[replication_to("arn:aws:s3:::their-bucket").on(AWS_REAL_USE2)]),
        None,
    ),
]

# --------------------------------------------------------------------------- issue 13 item 1: the deployer
# (block kept apart from the mutation-testing cases to ease merging)
# HeadBucket, the AWS provider's read of a bucket on every refresh and after every update,
# "requires s3:ListBucket" (AWS S3 API Reference, HeadBucket,
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html): the site's deployer is
# exempted from the listing deny, and only from it. Widening the exemption to object reads must fail.
DEPLOYER = "arn:aws:iam::000000000000:role/legacy-deployer"
US_SITE_WITH_DEPLOYER = {**PROD_US_SITE, "deployer": DEPLOYER}
WITH_DEPLOYER = {"legacySites": [US_SITE_WITH_DEPLOYER, PROD_SG_SITE]}
_RESTORE_ONLY_READS = [
    "s3:Get*",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
]
DENY_OBJECT_READS_US = {**DENY_READS_US, "Action": _RESTORE_ONLY_READS}
DENY_LISTING_US = {
    "Sid": "DenyListingExceptRestoreAndDeployer",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:ListBucket",
    "Resource": US_ARNS,
    "Condition": {"StringNotEquals": {"aws:PrincipalArn": [RESTORE, DEPLOYER]}},
}
ALLOW_DEPLOYER = {
    "Sid": "AllowDeployerBucketMetadata",
    "Effect": "Allow",
    "Principal": {"AWS": DEPLOYER},
    "Action": ["s3:ListBucket"],
    "Resource": "arn:aws:s3:::backups",
}
US_DEPLOYER_STATEMENTS = (
    DENY_ALL_BUT_WRITER,
    ALLOW_WRITER,
    DENY_NOBODY_US,
    DENY_OBJECT_READS_US,
    DENY_LISTING_US,
    ALLOW_RESTORE,
    ALLOW_DEPLOYER,
)
# The exemption widened to object reads: the deny no longer covers the deployer's GetObject.
DEPLOYER_WIDENED = (
    *US_DEPLOYER_STATEMENTS[:3],
    {**DENY_OBJECT_READS_US, "Condition": {"StringNotEquals": {"aws:PrincipalArn": [RESTORE, DEPLOYER]}}},
    DENY_LISTING_US,
    ALLOW_RESTORE,
    {**ALLOW_DEPLOYER, "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": US_ARNS},
)
DEPLOYER_CASES: list[Case] = [
    stack(
        "legacy-replica-lockdown",
        "deployer-heads-the-bucket",
        estate(swap=[US_POLICY.set(policy=doc(*US_DEPLOYER_STATEMENTS))]),
        None,
        config=WITH_DEPLOYER,
    ),
    stack(
        "legacy-replica-lockdown",
        "deployer-exemption-widened-to-objects",
        estate(swap=[US_POLICY.set(policy=doc(*DEPLOYER_WIDENED))]),
        (M, f"does not deny {DEPLOYER} s3:GetObject"),
        config=WITH_DEPLOYER,
    ),
    stack(
        "legacy-replica-lockdown",
        "deployer-not-declared",
        # The same compliant document, but the site declares no deployer: the exemption is an excess.
        estate(swap=[US_POLICY.set(policy=doc(*US_DEPLOYER_STATEMENTS))]),
        (M, f"does not deny {DEPLOYER} s3:ListBucket"),
        config={"legacySites": [PROD_US_SITE, PROD_SG_SITE]},
    ),
    one(
        "legacy-replica-writers",
        "deployer-heads-the-bucket",
        US_POLICY.set(policy=doc(*US_DEPLOYER_STATEMENTS)),
        None,
        config=WITH_DEPLOYER,
    ),
    one(
        "legacy-replica-writers",
        "deployer-exemption-widened-to-objects",
        US_POLICY.set(policy=doc(*DEPLOYER_WIDENED)),
        (M, f"lets {DEPLOYER} s3:GetObject"),
        config=WITH_DEPLOYER,
    ),
]


ALL: list[Case] = (
    RESIDENCY
    + SECURITY
    + LIFECYCLE
    + INLINE
    + DESTINATIONS
    + access_cases()
    + egress_cases()
    + DEPLOYER_CASES
)
ALL += mutation_cases()
