"""preflight.tfplan: resource records -> Terraform-plan JSON (types, names, references, addresses).

Records are built by hand here, the shape synth produces (engine-style URNs, wire camelCase
inputs, outputs = inputs, ids derived from the URN), so these tests do not depend on synth.
"""

from __future__ import annotations

import importlib
import itertools
import re
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

from preflight.model import ResourceRecord
from preflight.tfplan import (
    AWS_TYPES,
    DATA_DIR,
    MAP_PROPERTIES,
    build_tfplan,
    connected_groups,
    property_name,
    snake_case,
    subplan,
    terraform_type,
    to_tfplan,
)

STACK = "urn:pulumi:prod::us-data-residency::pulumi:pulumi:Stack::us-data-residency-prod"
ROOT = Path(__file__).resolve().parents[2]


def urn(type_: str, name: str, parent_type: str | None = None) -> str:
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:prod::us-data-residency::{qualified}::{name}"


def provider(pkg: str, name: str, region: str) -> ResourceRecord:
    u = urn(f"pulumi:providers:{pkg}", name)
    return ResourceRecord(
        urn=u,
        type=f"pulumi:providers:{pkg}",
        name=name,
        custom=True,
        parent=STACK,
        provider=None,
        region=region,
        region_source="provider",
        inputs={"region": region},
        outputs={"region": region},
        id=f"prov-{name}",
    )


IAD = provider("oci", "oci-us-ashburn-1", "us-ashburn-1")
LEGACY = provider("aws", "legacy-us-east", "us-east-1")


def res(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    *,
    prov: ResourceRecord = IAD,
    deps: dict[str, list[str]] | None = None,
    parent_type: str | None = None,
    ident: str | None = None,
    line: int = 10,
) -> ResourceRecord:
    u = urn(type_, name, parent_type)
    deps = deps or {}
    return ResourceRecord(
        urn=u,
        type=type_,
        name=name,
        custom=True,
        parent=STACK,
        provider=f"{prov.urn}::{prov.id}",
        region=prov.region,
        region_source="provider",
        inputs=inputs,
        outputs=dict(inputs),
        dependencies=sorted({d for ds in deps.values() for d in ds}),
        property_dependencies=deps,
        location=f"components/example.py:{line}",
        id=ident or f"id-{name}",
    )


def planned(plan: dict[str, Any], address: str) -> dict[str, Any]:
    found = [r for r in plan["planned_values"]["root_module"]["resources"] if r["address"] == address]
    assert len(found) == 1, f"{address} not exactly once in planned_values"
    return found[0]


def configured(plan: dict[str, Any], address: str) -> dict[str, Any]:
    found = [r for r in plan["configuration"]["root_module"]["resources"] if r["address"] == address]
    assert len(found) == 1, f"{address} not exactly once in configuration"
    return found[0]


def change(plan: dict[str, Any], address: str) -> dict[str, Any]:
    found = [r for r in plan["resource_changes"] if r["address"] == address]
    assert len(found) == 1
    return found[0]["change"]


# --- type names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "tf_type"),
    [
        ("oci:ObjectStorage/bucket:Bucket", "oci_objectstorage_bucket"),
        ("oci:ObjectStorage/replicationPolicy:ReplicationPolicy", "oci_objectstorage_replication_policy"),
        ("oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
         "oci_core_network_security_group_security_rule"),
        ("oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule",
         "oci_network_firewall_network_firewall_policy_security_rule"),
        ("oci:CloudGuard/securityZone:SecurityZone", "oci_cloud_guard_security_zone"),
        ("oci:BigDataService/bdsInstance:BdsInstance", "oci_bds_bds_instance"),
        # overrides: the rule would give a different (wrong) name
        ("oci:Kms/vaultVerification:VaultVerification", "oci_kms_vault_replication"),
        ("oci:ObjectStorage/storageObject:StorageObject", "oci_objectstorage_object"),
        ("oci:Sch/connector:Connector", "oci_sch_service_connector"),
        # the AWS table
        ("aws:s3/bucket:Bucket", "aws_s3_bucket"),
        ("aws:s3/bucketV2:BucketV2", "aws_s3_bucket"),
        ("aws:s3/bucketVersioningV2:BucketVersioningV2", "aws_s3_bucket_versioning"),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws_s3_bucket_public_access_block"),
        ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
         "aws_s3_bucket_lifecycle_configuration"),
    ],
)  # fmt: skip
def test_type_names(token: str, tf_type: str) -> None:
    assert terraform_type(token) == (tf_type, "")


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("aws:ec2/securityGroup:SecurityGroup", "AWS_TYPES"),
        ("random:index/randomId:RandomId", "package 'random'"),
        ("oci:NoSuchModule/thing:Thing", "not in data/oci-module-prefixes.tsv"),
        ("oci:DataLabellingService/dataset:Dataset", "several Terraform prefixes"),
        ("usdr:storage:DataBucket", "not a provider resource type token"),
    ],
)
def test_unmapped_types_say_why(token: str, why: str) -> None:
    tf_type, reason = terraform_type(token)
    assert tf_type is None
    assert why in reason


def test_every_override_row_is_used_verbatim() -> None:
    rows = [
        line.split("\t")
        for line in (DATA_DIR / "oci-resource-token-overrides.tsv").read_text().splitlines()
        if line and not line.startswith("#") and not line.startswith("pulumi_token")
    ]
    assert len(rows) == 26
    for token, tf_type in rows:
        assert terraform_type(token) == (tf_type, ""), token


def test_data_tables_are_copies_of_the_checked_facts() -> None:
    # The checked facts live in the repository (tests/facts/), so a clone alone runs this.
    facts = ROOT / "tests" / "facts"
    for name in ("oci-module-prefixes.tsv", "oci-resource-token-overrides.tsv"):
        shipped = [ln for ln in (DATA_DIR / name).read_text().splitlines() if not ln.startswith("#")]
        assert shipped == (facts / name).read_text().splitlines(), name


def test_aws_table_tokens_exist_in_the_sdk() -> None:
    import pulumi_aws

    sdk = Path(pulumi_aws.__file__).parent
    source = "\n".join(p.read_text() for p in (sdk / "s3").glob("*.py"))
    for token in AWS_TYPES:
        assert f'"{token}"' in source, f"{token} is not a pulumi-aws 7.51.1 type token"


# --- property names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "snake"),
    [
        ("kmsKeyId", "kms_key_id"),
        ("objectEventsEnabled", "object_events_enabled"),
        ("ipv6cidrBlocks", "ipv6cidr_blocks"),
        ("name", "name"),
        ("applyServerSideEncryptionByDefault", "apply_server_side_encryption_by_default"),
    ],
)
def test_snake_case(wire: str, snake: str) -> None:
    assert snake_case(wire) == snake


@pytest.mark.parametrize(
    ("token", "path", "tf_name"),
    [
        ("aws:s3/bucket:Bucket", "corsRules", "cors_rule"),
        ("aws:s3/bucket:Bucket", "lifecycleRules.transitions", "transition"),
        ("aws:s3/bucketV2:BucketV2", "serverSideEncryptionConfigurations.rules", "rule"),
        # the same wire name, a different Terraform name: replication rules are plural in TF
        ("aws:s3/bucketV2:BucketV2", "replicationConfigurations.rules", "rules"),
        ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "rules", "rule"),
        ("oci:Core/ipsec:Ipsec", "tunnelConfigurations", "tunnel_configuration"),
        ("oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule",
         "positions", "position"),
        # OCI's own lists are plural in Terraform too: no change
        ("oci:Core/securityList:SecurityList", "ingressSecurityRules", "ingress_security_rules"),
        ("oci:ObjectStorage/bucket:Bucket", "retentionRules", "retention_rules"),
    ],
)  # fmt: skip
def test_pluralised_block_lists(token: str, path: str, tf_name: str) -> None:
    assert property_name(token, path) == tf_name


def test_values_blocks_maps_and_numbers() -> None:
    lifecycle = res(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "backups-lifecycle",
        {
            "bucket": "backups",
            "rules": [
                {
                    "id": "expire-by-sunset",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": 300.0},
                    "transitions": [{"days": 30.0, "storageClass": "GLACIER"}],
                }
            ],
        },
        prov=LEGACY,
    )
    bucket = res(
        "oci:ObjectStorage/bucket:Bucket",
        "media",
        {
            "name": "usdr-prod-media",
            "freeformTags": {"DataClass": "user-content", "cost-center": "42", "Owner.Team": "x"},
            "definedTags": {"Oracle-Tags.CreatedBy": "pulumi"},
            "metadata": {"someKey": "v"},
            "retentionRules": [{"displayName": "hold", "duration": {"timeAmount": 30.0, "timeUnit": "DAYS"}}],
            "__defaults": [],
        },
    )
    log = res(
        "oci:Logging/log:Log",
        "media-access",
        {"configuration": {"source": {"category": "write", "parameters": {"camelKey": "v"}}}},
    )
    plan = to_tfplan([IAD, LEGACY, lifecycle, bucket, log])

    rules = planned(plan, "aws_s3_bucket_lifecycle_configuration.backups-lifecycle")["values"]["rule"]
    assert rules == [
        {
            "id": "expire-by-sunset",
            "status": "Enabled",
            "filter": [{"prefix": ""}],  # a single block is a one-element list, as in TF plans
            "expiration": [{"days": 300}],  # whole floats back to integers
            "transition": [{"days": 30, "storage_class": "GLACIER"}],
        }
    ]
    values = planned(plan, "oci_objectstorage_bucket.media")["values"]
    assert values["freeform_tags"] == {"DataClass": "user-content", "cost-center": "42", "Owner.Team": "x"}
    assert values["defined_tags"] == {"Oracle-Tags.CreatedBy": "pulumi"}
    assert values["metadata"] == {"someKey": "v"}  # a map of this type (pulumi-property-names.tsv)
    assert values["retention_rules"] == [
        {"display_name": "hold", "duration": [{"time_amount": 30, "time_unit": "DAYS"}]}
    ]
    assert "__defaults" not in values
    source = planned(plan, "oci_logging_log.media-access")["values"]["configuration"][0]["source"][0]
    assert source["parameters"] == {"camelKey": "v"}


def test_secrets_are_masked_and_marked_sensitive() -> None:
    ipsec = res(
        "oci:Core/ipsec:Ipsec",
        "legacy-link",
        {"staticRoutes": ["172.16.0.0/16"], "tunnelConfigurations": [{"sharedSecret": "[secret]"}]},
    )
    plan = to_tfplan([IAD, ipsec])
    resource = planned(plan, "oci_core_ipsec.legacy-link")
    assert resource["values"]["tunnel_configuration"] == [{"shared_secret": "[secret]"}]
    assert resource["sensitive_values"] == {"tunnel_configuration": [{"shared_secret": True}]}


def test_unknown_values_are_left_out_and_marked() -> None:
    vcn = res("oci:Core/vcn:Vcn", "vcn", {"cidrBlocks": ["10.0.0.0/16"], "displayName": "[unknown]"})
    plan = to_tfplan([IAD, vcn])
    assert "display_name" not in planned(plan, "oci_core_vcn.vcn")["values"]
    assert change(plan, "oci_core_vcn.vcn")["after_unknown"] == {"display_name": True}


# --- the property-name table against the SDK ----------------------------------------------

# The OCI types the components (issue 3) declare: their block lists and maps were checked
# against the Terraform schema and are pinned in data/pulumi-property-names.tsv.
PROJECT_OCI_TYPES = [
    "oci:CloudGuard/cloudGuardConfiguration:CloudGuardConfiguration",
    "oci:CloudGuard/securityRecipe:SecurityRecipe",
    "oci:CloudGuard/securityZone:SecurityZone",
    "oci:CloudGuard/target:Target",
    "oci:Core/cpe:Cpe",
    "oci:Core/defaultSecurityList:DefaultSecurityList",
    "oci:Core/drg:Drg",
    "oci:Core/drgAttachment:DrgAttachment",
    "oci:Core/internetGateway:InternetGateway",
    "oci:Core/ipsec:Ipsec",
    "oci:Core/natGateway:NatGateway",
    "oci:Core/networkSecurityGroup:NetworkSecurityGroup",
    "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
    "oci:Core/routeTable:RouteTable",
    "oci:Core/routeTableAttachment:RouteTableAttachment",
    "oci:Core/securityList:SecurityList",
    "oci:Core/serviceGateway:ServiceGateway",
    "oci:Core/subnet:Subnet",
    "oci:Core/vcn:Vcn",
    "oci:Events/rule:Rule",
    "oci:Identity/compartment:Compartment",
    "oci:Identity/dynamicGroup:DynamicGroup",
    "oci:Identity/group:Group",
    "oci:Identity/networkSource:NetworkSource",
    "oci:Identity/policy:Policy",
    "oci:Identity/tag:Tag",
    "oci:Identity/tagDefault:TagDefault",
    "oci:Identity/tagNamespace:TagNamespace",
    "oci:Kms/key:Key",
    "oci:Kms/vault:Vault",
    "oci:Kms/vaultVerification:VaultVerification",
    "oci:Limits/quota:Quota",
    "oci:Logging/log:Log",
    "oci:Logging/logGroup:LogGroup",
    "oci:NetworkFirewall/networkFirewall:NetworkFirewall",
    "oci:NetworkFirewall/networkFirewallPolicy:NetworkFirewallPolicy",
    "oci:NetworkFirewall/networkFirewallPolicyAddressList:NetworkFirewallPolicyAddressList",
    "oci:NetworkFirewall/networkFirewallPolicySecurityRule:NetworkFirewallPolicySecurityRule",
    "oci:NetworkFirewall/networkFirewallPolicyService:NetworkFirewallPolicyService",
    "oci:NetworkFirewall/networkFirewallPolicyServiceList:NetworkFirewallPolicyServiceList",
    "oci:ObjectStorage/bucket:Bucket",
    "oci:ObjectStorage/objectLifecyclePolicy:ObjectLifecyclePolicy",
    "oci:ObjectStorage/replicationPolicy:ReplicationPolicy",
    "oci:Ons/notificationTopic:NotificationTopic",
    "oci:Ons/subscription:Subscription",
]
# Other packages' types the estate declares (preflight.tfplan.OTHER_TYPES): the propagation wait.
PROJECT_OTHER_TYPES = ["time:index/sleep:Sleep"]


def _sdk_args_class(token: str) -> type:
    """The SDK's args class for a token, reached the way programs reach it (`pulumi_oci.kms.Key`):
    importing SDK submodules directly would break the SDK's lazy modules for later tests."""
    package, rest = token.split(":", 1)
    module, cls = rest.split(":")
    sdk = importlib.import_module(
        {"aws": "pulumi_aws", "oci": "pulumi_oci", "time": "pulumiverse_time"}[package]
    )
    top = module.split("/")[0]
    resource = getattr(sdk if top == "index" else getattr(sdk, top.lower()), cls)
    defining = sys.modules[resource.__module__]
    # pulumi-aws 7 names a resource's args `<Name>InitArgs` where `<Name>Args` is a nested type
    found = getattr(defining, f"{cls}InitArgs", None) or getattr(defining, f"{cls}Args")
    assert isinstance(found, type)
    return found


def _sdk_shapes(cls: type, prefix: str = "") -> set[tuple[str, str]]:
    """(kind, wire path) for every list of blocks and every map under an SDK input type."""
    from pulumi import _types

    shapes: set[tuple[str, str]] = set()
    for wire, hint in _types.input_type_types(cls).items():
        t = _types.unwrap_type(hint)
        origin = getattr(typing.get_origin(t), "__name__", "")
        args = typing.get_args(t)
        path = f"{prefix}{wire}"
        inner: Any = None
        if origin in ("Sequence", "list") and args:
            element = _types.unwrap_type(args[0])
            if isinstance(element, type) and _types.is_input_type(element):
                shapes.add(("blocks", path))
                inner = element
        elif origin in ("Mapping", "dict"):
            shapes.add(("map", path))
        elif isinstance(t, type) and _types.is_input_type(t):
            inner = t
        if inner is not None:
            shapes |= _sdk_shapes(inner, path + ".")
    return shapes


def _table_shapes(token: str) -> set[tuple[str, str]]:
    rows = [
        line.split("\t")
        for line in (DATA_DIR / "pulumi-property-names.tsv").read_text().splitlines()
        if line and not line.startswith("#") and not line.startswith("kind\t")
    ]
    return {(kind, path) for kind, tok, path, _ in rows if tok == token}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # importing the deprecated V2 modules
@pytest.mark.parametrize("token", sorted(AWS_TYPES) + PROJECT_OCI_TYPES + PROJECT_OTHER_TYPES)
def test_property_table_matches_the_sdk(token: str) -> None:
    """Every list of blocks and every map of the type is in the table (maps named in
    MAP_PROPERTIES aside), and the table has nothing the SDK does not: an upgrade that adds or
    renames one fails here, and someone checks the Terraform name."""
    sdk = {(kind, path) for kind, path in _sdk_shapes(_sdk_args_class(token))}
    global_map = {("map", path) for kind, path in sdk if path.rsplit(".", 1)[-1] in MAP_PROPERTIES}
    expected = sdk - global_map
    assert _table_shapes(token) == expected, token


def test_every_project_type_has_a_terraform_type() -> None:
    for token in PROJECT_OCI_TYPES + PROJECT_OTHER_TYPES:
        assert terraform_type(token)[0] is not None, token
    assert terraform_type("time:index/sleep:Sleep")[0] == "time_sleep"  # hashicorp/time


# --- references ---------------------------------------------------------------------------


def test_references_from_property_dependencies() -> None:
    bucket = res("aws:s3/bucket:Bucket", "backups", {"bucket": "backups"}, prov=LEGACY, ident="backups")
    key = res("oci:Kms/key:Key", "data-key", {"displayName": "data"}, ident="ocid1.key.oc1.iad.aaaa")
    pab = res(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "backups-pab",
        {"bucket": "backups", "blockPublicAcls": True, "blockPublicPolicy": True},
        prov=LEGACY,
        deps={"bucket": [bucket.urn]},
    )
    sse = res(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "backups-sse",
        {
            "bucket": "backups",
            "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                "kmsMasterKeyId": key.id}}],
        },
        prov=LEGACY,
        deps={"bucket": [bucket.urn], "rules": [key.urn]},
    )  # fmt: skip
    oci_bucket = res(
        "oci:ObjectStorage/bucket:Bucket",
        "media",
        {"name": "usdr-prod-media", "kmsKeyId": key.id},
        deps={"kmsKeyId": [key.urn]},
    )
    plan = to_tfplan([IAD, LEGACY, bucket, key, pab, sse, oci_bucket])

    # An id is known only after apply: the value is left out, the reference takes its place.
    pab_address = "aws_s3_bucket_public_access_block.backups-pab"
    assert "bucket" not in planned(plan, pab_address)["values"]
    assert configured(plan, pab_address)["expressions"]["bucket"] == {
        "references": ["aws_s3_bucket.backups.id", "aws_s3_bucket.backups"]
    }
    assert change(plan, pab_address)["after_unknown"] == {"bucket": True}

    # Nested: the reference sits in the block that holds the value.
    sse_address = "aws_s3_bucket_server_side_encryption_configuration.backups-sse"
    rule = planned(plan, sse_address)["values"]["rule"]
    assert rule == [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]
    assert configured(plan, sse_address)["expressions"]["rule"] == [
        {"apply_server_side_encryption_by_default": [
            {"kms_master_key_id": {"references": ["oci_kms_key.data-key.id", "oci_kms_key.data-key"]}}
        ]}
    ]  # fmt: skip
    assert change(plan, sse_address)["after_unknown"]["rule"] == [
        {"apply_server_side_encryption_by_default": [{"kms_master_key_id": True}]}
    ]
    expressions = configured(plan, "oci_objectstorage_bucket.media")["expressions"]
    assert expressions["kms_key_id"]["references"][0] == "oci_kms_key.data-key.id"


def test_a_configured_value_stays_and_is_referenced() -> None:
    """`destination_bucket_name = dest.name` is known at plan time (the name is configured), so
    the value stays; the reference is recorded all the same."""
    dest = res("oci:ObjectStorage/bucket:Bucket", "media-dr", {"name": "usdr-prod-media-dr"})
    policy = res(
        "oci:ObjectStorage/replicationPolicy:ReplicationPolicy",
        "media-replication",
        {"destinationBucketName": "usdr-prod-media-dr", "destinationRegionName": "us-phoenix-1"},
        deps={"destinationBucketName": [dest.urn]},
    )
    plan = to_tfplan([IAD, dest, policy])
    address = "oci_objectstorage_replication_policy.media-replication"
    assert planned(plan, address)["values"]["destination_bucket_name"] == "usdr-prod-media-dr"
    assert configured(plan, address)["expressions"]["destination_bucket_name"] == {
        "references": ["oci_objectstorage_bucket.media-dr.name", "oci_objectstorage_bucket.media-dr"]
    }


def test_dependencies_without_a_matching_value_become_depends_on() -> None:
    vault = res("oci:Kms/vault:Vault", "vault", {"displayName": "v"})
    key = res(
        "oci:Kms/key:Key",
        "key",
        {"managementEndpoint": "https://derived-from-vault.example", "displayName": "k"},
        deps={"managementEndpoint": [vault.urn]},
    )
    plan = to_tfplan([IAD, vault, key])
    conf = configured(plan, "oci_kms_key.key")
    assert conf["expressions"] == {}
    assert conf["depends_on"] == ["oci_kms_vault.vault"]
    assert planned(plan, "oci_kms_key.key")["values"]["management_endpoint"] == (
        "https://derived-from-vault.example"
    )


def test_lists_of_ids_are_unknown_with_every_reference() -> None:
    nsg_a = res("oci:Core/networkSecurityGroup:NetworkSecurityGroup", "nsg-a", {}, ident="ocid1.nsg.a")
    nsg_b = res("oci:Core/networkSecurityGroup:NetworkSecurityGroup", "nsg-b", {}, ident="ocid1.nsg.b")
    fw = res(
        "oci:NetworkFirewall/networkFirewall:NetworkFirewall",
        "fw",
        {"networkSecurityGroupIds": ["ocid1.nsg.a", "ocid1.nsg.b"]},
        deps={"networkSecurityGroupIds": [nsg_a.urn, nsg_b.urn]},
    )
    plan = to_tfplan([IAD, nsg_a, nsg_b, fw])
    address = "oci_network_firewall_network_firewall.fw"
    assert "network_security_group_ids" not in planned(plan, address)["values"]
    assert configured(plan, address)["expressions"]["network_security_group_ids"]["references"] == [
        "oci_core_network_security_group.nsg-a.id",
        "oci_core_network_security_group.nsg-a",
        "oci_core_network_security_group.nsg-b.id",
        "oci_core_network_security_group.nsg-b",
    ]


# --- addresses, providers, what is left out ----------------------------------------------


def test_addresses_are_unique_stable_and_map_back() -> None:
    a = res("oci:ObjectStorage/bucket:Bucket", "logs", {}, parent_type="usdr:storage:DataBucket")
    b = res("oci:ObjectStorage/bucket:Bucket", "logs", {}, parent_type="usdr:logging:LogArchive")
    c = res("oci:ObjectStorage/bucket:Bucket", "media.v2/east", {})
    d = res("oci:ObjectStorage/bucket:Bucket", "2fa-secrets", {})
    e = res("oci:Kms/key:Key", "logs", {})  # same name, other type: no clash
    records = [IAD, a, b, c, d, e]
    results = [build_tfplan(list(order)) for order in itertools.permutations(records[1:])]
    first = results[0].addresses
    assert all(r.addresses == first for r in results), "addresses depend on registration order"
    assert sorted(first.values()) == sorted(r.urn for r in records[1:])
    assert len(set(first)) == len(first)
    by_urn = {u: addr for addr, u in first.items()}
    assert re.fullmatch(r"oci_objectstorage_bucket\.logs_[0-9a-f]{12}", by_urn[a.urn])
    assert by_urn[a.urn] != by_urn[b.urn]
    assert by_urn[c.urn] == "oci_objectstorage_bucket.media_v2_east"
    assert by_urn[d.urn] == "oci_objectstorage_bucket._2fa-secrets"
    assert by_urn[e.urn] == "oci_kms_key.logs"
    plan = results[0].plan
    assert plan["preflight"]["addresses"] == dict(sorted(first.items()))
    for r in plan["planned_values"]["root_module"]["resources"]:
        assert r["address"] == f"{r['type']}.{r['name']}"
        assert r["mode"] == "managed"


def test_unsupported_types_are_reported_not_dropped() -> None:
    component = ResourceRecord(
        urn=urn("usdr:storage:DataBucket", "media"),
        type="usdr:storage:DataBucket",
        name="media",
        custom=False,
        parent=STACK,
        provider=None,
        region=None,
        region_source="none",
        inputs={},
        outputs={},
    )
    random_id = res("random:index/randomId:RandomId", "suffix", {"byteLength": 4.0})
    sg = res("aws:ec2/securityGroup:SecurityGroup", "sg", {}, prov=LEGACY)
    bucket = res("oci:ObjectStorage/bucket:Bucket", "media", {})
    result = build_tfplan([IAD, LEGACY, component, random_id, sg, bucket])
    assert result.skipped_urns == [random_id.urn, sg.urn]
    assert result.plan["preflight"]["skipped"][0]["urn"] == random_id.urn
    assert "package 'random'" in result.plan["preflight"]["skipped"][0]["reason"]
    # components and providers are not Terraform resources and not "skipped" either
    assert list(result.addresses.values()) == [bucket.urn]


def test_provider_config_carries_each_region() -> None:
    phx = provider("oci", "oci-us-phoenix-1", "us-phoenix-1")
    a = res("oci:ObjectStorage/bucket:Bucket", "a", {})
    b = res("oci:ObjectStorage/bucket:Bucket", "b", {}, prov=phx)
    c = res("aws:s3/bucket:Bucket", "c", {}, prov=LEGACY)
    plan = to_tfplan([IAD, phx, LEGACY, a, b, c])
    config = plan["configuration"]["provider_config"]
    assert config["oci.oci-us-ashburn-1"]["expressions"]["region"]["constant_value"] == "us-ashburn-1"
    assert config["oci.oci-us-phoenix-1"]["expressions"]["region"]["constant_value"] == "us-phoenix-1"
    assert config["aws.legacy-us-east"]["full_name"] == "registry.terraform.io/hashicorp/aws"
    assert configured(plan, "oci_objectstorage_bucket.b")["provider_config_key"] == "oci.oci-us-phoenix-1"


def test_plan_header() -> None:
    plan = to_tfplan([])
    assert plan["format_version"].startswith("1.")
    assert plan["terraform_version"].startswith("1.")
    assert plan["planned_values"] == {"root_module": {"resources": []}}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the program imports pulumi_aws.s3
def test_prod_maps_completely(root: Path) -> None:
    """Every custom resource of prod has a Terraform type and a reviewed property table."""
    from preflight.synth import synthesize

    resources = synthesize(root, "prod").resources
    result = build_tfplan(resources)
    assert result.skipped == []
    custom = {r.type for r in resources if r.custom and not r.type.startswith("pulumi:providers:")}
    assert custom <= set(AWS_TYPES) | set(PROJECT_OCI_TYPES) | set(PROJECT_OTHER_TYPES), (
        "add new types to PROJECT_OCI_TYPES"
    )
    assert len(result.addresses) == sum(1 for r in resources if r.custom) - sum(
        1 for r in resources if r.type.startswith("pulumi:providers:")
    )


def test_connected_groups_follow_references_and_depends_on() -> None:
    bucket = res("aws:s3/bucket:Bucket", "backups", {"bucket": "backups"}, prov=LEGACY, ident="backups")
    pab = res(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "backups-pab",
        {"bucket": "backups"},
        prov=LEGACY,
        deps={"bucket": [bucket.urn]},
    )
    vault = res("oci:Kms/vault:Vault", "vault", {})
    key = res("oci:Kms/key:Key", "key", {"managementEndpoint": "x"}, deps={"managementEndpoint": [vault.urn]})
    alone = res("oci:ObjectStorage/bucket:Bucket", "alone", {})
    plan = to_tfplan([IAD, LEGACY, bucket, pab, vault, key, alone])
    groups = sorted(sorted(g) for g in connected_groups(plan))
    assert groups == [
        ["aws_s3_bucket.backups", "aws_s3_bucket_public_access_block.backups-pab"],  # a reference
        ["oci_kms_key.key", "oci_kms_vault.vault"],  # depends_on
        ["oci_objectstorage_bucket.alone"],
    ]
    part = subplan(plan, groups[0])
    assert [r["address"] for r in part["planned_values"]["root_module"]["resources"]] == groups[0]
    assert [r["address"] for r in part["configuration"]["root_module"]["resources"]] == groups[0]
    assert [r["address"] for r in part["resource_changes"]] == groups[0]
    assert part["configuration"]["provider_config"] == plan["configuration"]["provider_config"]
    assert set(part["preflight"]["addresses"]) == set(groups[0])
