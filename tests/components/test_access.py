"""components/access.py: compartments, groups, region-conditioned policies, residency quotas."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable

import pytest

from components.access import (
    DELETE_PERMISSIONS,
    AccessArgs,
    AccessTeam,
    ApprovedRegion,
    access_condition,
    group_statements,
    quota_statements,
    region_condition,
    service_statements,
)
from components.access_networks import AccessNetworks, AccessNetworksArgs, VcnSource
from components.break_glass import IAM_CHANGE_EVENTS, SIGN_IN_EVENTS, BreakGlassAlerts, BreakGlassArgs
from stacks.policy_config import PACK_DIR
from stacks.regions import Region, Status, load_catalogue
from tests.components.conftest import TAGS
from tests.components.harness import Synth, check_anatomy, synth_component

TYPE = "usdr:access:AccessTeam"
TENANCY = "ocid1.tenancy.oc1..aaaatesttenancy"
CATALOGUE = load_catalogue()


def plain(regions: Iterable[Region]) -> tuple[ApprovedRegion, ...]:
    """The catalogue's regions as the component's own args (what stacks/estate.py does)."""
    return tuple(ApprovedRegion(r.identifier, r.key) for r in regions)


APPROVED = plain(CATALOGUE.approved())
GROUPS = {"admins": "t-admins", "operators": "t-operators", "auditors": "t-auditors"}
COMPARTMENTS = {"us-data": "t-us-data", "network": "t-network", "security": "t-security"}
FAMILIES = ("block-storage", "database", "kms")
NETWORK_SOURCE = "usdr-test-us-networks"


def args(**overrides: object) -> AccessArgs:
    fields: dict[str, object] = {
        "tenancy_ocid": TENANCY,
        "parent_compartment_ocid": TENANCY,
        "display_prefix": "usdr-test",
        "compartments": COMPARTMENTS,
        "groups": GROUPS,
        "approved_regions": APPROVED,
        "quota_families": FAMILIES,
        "storage_regions": ("us-ashburn-1", "us-phoenix-1"),
        "replication_sources": ("us-ashburn-1", "us-phoenix-1"),
        "tags": TAGS,
        "network_source": NETWORK_SOURCE,
    }
    return AccessArgs(**{**fields, **overrides})


def build(**overrides: object) -> Synth[AccessTeam]:
    a = args(**overrides)
    return synth_component(lambda opts: AccessTeam("access-team", a, opts))


# --------------------------------------------------------------------------- generated statements


def test_conditions_and_quotas_come_from_the_catalogue() -> None:
    approved = [r for r in CATALOGUE if r.status is Status.APPROVED]
    assert plain(approved) == APPROVED  # the stack's opt-ins are none
    keys = ", ".join(f"request.region = '{r.key.lower()}'" for r in approved)
    assert region_condition(APPROVED) == f"any {{{keys}}}"
    not_in = ", ".join(f"request.region != '{r.identifier}'" for r in approved)
    assert quota_statements(FAMILIES, APPROVED) == [
        f"zero {f} quotas in tenancy where all {{{not_in}}}" for f in FAMILIES
    ]


def test_no_forbidden_or_opt_in_region_is_ever_granted() -> None:
    text = " ".join(s for ss in group_statements(args()).values() for s in ss)
    granted = set(re.findall(r"request\.region = '([a-z]+)'", text))
    assert granted == {r.key.lower() for r in APPROVED}
    for r in CATALOGUE:
        if r.status is not Status.APPROVED:
            assert f"'{r.key.lower()}'" not in text, f"{r.identifier} ({r.status}) granted"


def test_opting_in_extends_conditions_and_quotas() -> None:
    with_opt_in = plain(CATALOGUE.approved(["us-saltlake-2"]))
    assert "request.region = 'aga'" in region_condition(with_opt_in)
    assert all("request.region != 'us-saltlake-2'" in s for s in quota_statements(FAMILIES, with_opt_in))


def test_a_single_region_needs_no_combinator() -> None:
    iad = plain((CATALOGUE.lookup("us-ashburn-1"),))
    assert region_condition(iad) == "request.region = 'iad'"
    assert quota_statements(("kms",), iad) == [
        "zero kms quotas in tenancy where request.region != 'us-ashburn-1'"
    ]


def test_nothing_approved_is_refused_rather_than_granting_or_zeroing_everything() -> None:
    with pytest.raises(ValueError):
        region_condition(())
    with pytest.raises(ValueError):
        quota_statements(FAMILIES, ())


def test_every_group_grant_names_a_team_group_and_carries_the_access_condition() -> None:
    where = access_condition(APPROVED, NETWORK_SOURCE)
    no_deletes = access_condition(APPROVED, NETWORK_SOURCE, denied=DELETE_PERMISSIONS)
    for role, statements in group_statements(args()).items():
        assert statements, role
        for s in statements:
            assert s.startswith(f"Allow group {GROUPS[role]} to "), s
            assert s.endswith(f" where {no_deletes if role == 'admins' else where}"), s
            if "in tenancy" in s:  # only the audit log, which IAM writes in the root compartment
                assert role == "auditors" and " to read audit-events in tenancy " in s, s
    auditors = group_statements(args())["auditors"]
    assert all(" to read " in s for s in auditors), auditors


# The pack's own parsers read the generated statements (the pack directory on sys.path, as the
# CLI runs it): the same grammar the gate applies to any program.
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))
from residency.iam_access_conditions import (  # noqa: E402
    MFA_VAR,
    NETWORK_SOURCE_VAR,
    Atom,
    Combo,
    Grant,
    parse_grant,
    requires,
)


def grants() -> dict[str, list[Grant]]:
    out: dict[str, list[Grant]] = {}
    for role, statements in group_statements(args()).items():
        for s in statements:
            g = parse_grant(s)
            assert isinstance(g, Grant), f"{s!r} does not parse: {g}"
            out.setdefault(role, []).append(g)
    return out


def test_generated_conditions_parse_as_all_of_network_source_mfa_and_any_region() -> None:
    """OCI: `all {...}` is AND, `any {...}` OR, and a multiple condition nests in another
    (docs.oracle.com/iaas/Content/Identity/policysyntax/conditions.htm; tests/policies/
    test_iam_access_conditions.py quotes it): all {network source, MFA, any {regions}}."""
    regions = {f"'{r.key.lower()}'" for r in APPROVED}
    for role, gs in grants().items():
        for g in gs:
            assert g.subjects == (("group", GROUPS[role]),), g.statement
            c = g.condition
            assert isinstance(c, Combo) and c.kind == "all", g.statement
            ns, mfa, where, *denied = c.members
            assert len(denied) == (len(DELETE_PERMISSIONS) if role == "admins" else 0), g.statement
            assert ns == Atom(NETWORK_SOURCE_VAR, "=", f"'{NETWORK_SOURCE}'"), g.statement
            assert mfa == Atom(MFA_VAR, "=", "'true'"), g.statement
            assert isinstance(where, Combo) and where.kind == "any", g.statement
            assert {m.value for m in where.members if isinstance(m, Atom)} == regions, g.statement
            assert all(isinstance(m, Atom) and m.variable == "request.region" for m in where.members)
            assert requires(c, NETWORK_SOURCE_VAR, NETWORK_SOURCE) and requires(c, MFA_VAR, "true")
            assert requires(c, "request.region"), "every request is in one of the approved regions"
            assert not requires(c, "request.region", "iad"), "several regions: no single one is required"


def test_no_team_grant_can_delete_what_holds_or_unlocks_data() -> None:
    """CIS OCI 1.15, "Ensure storage service-level admins cannot delete resources they manage":
    the admins' `manage` excludes, term by term of an `all {}`, every delete permission of
    object, block and file storage (CIS 1.15's remediation) and of vaults and keys; the other
    groups hold no verb that includes one (`use object-family` has no delete permission, OCI
    "Details for Object Storage"; `read` never does). Deleting stays with the tenancy's
    Administrators, the break glass."""
    assert {"BUCKET_DELETE", "OBJECT_DELETE", "OBJECT_VERSION_DELETE", "VAULT_DELETE", "KEY_DELETE"} <= set(
        DELETE_PERMISSIONS
    )
    for role, gs in grants().items():
        for g in gs:
            if g.verb != "manage":
                assert g.verb in ("read", "use"), g.statement
                assert g.verb == "read" or g.resource in ("object-family", "virtual-network-family"), (
                    g.statement
                )
                continue
            assert role == "admins", g.statement
            c = g.condition
            assert isinstance(c, Combo) and c.kind == "all", g.statement
            refused = {m.value.strip("'") for m in c.members if isinstance(m, Atom) and m.op == "!="}
            assert {m.variable for m in c.members if isinstance(m, Atom) and m.op == "!="} == {
                "request.permission"
            }
            assert refused == set(DELETE_PERMISSIONS), g.statement


def test_auditors_read_only_the_audit_log_the_log_groups_and_the_compartments() -> None:
    got = {(g.verb, g.resource, g.location) for g in grants()["auditors"]}
    assert got == {
        ("read", "all-resources", "compartment t-us-data"),
        ("read", "all-resources", "compartment t-network"),
        ("read", "all-resources", "compartment t-security"),
        ("read", "audit-events", "tenancy"),
        ("read", "log-groups", "compartment t-security"),
        ("read", "log-content", "compartment t-security"),
    }


def test_no_grant_is_manage_all_resources_in_tenancy() -> None:
    for gs in grants().values():
        for g in gs:
            assert not (g.verb == "manage" and g.location == "tenancy"), g.statement


def test_service_principals_keep_their_two_grants_and_nothing_more() -> None:
    parsed = [parse_grant(s) for s in service_statements(args())]
    assert all(isinstance(g, Grant) for g in parsed)
    got = {(g.subjects, g.verb, g.resource, g.location) for g in parsed if isinstance(g, Grant)}
    assert got == {
        ((("service", "objectstorage-us-ashburn-1"),), "use", "keys", "compartment t-security"),
        ((("service", "objectstorage-us-phoenix-1"),), "use", "keys", "compartment t-security"),
        ((("service", "objectstorage-us-ashburn-1"),), "manage", "object-family", "compartment t-us-data"),
        ((("service", "objectstorage-us-phoenix-1"),), "manage", "object-family", "compartment t-us-data"),
    }


def test_a_grant_without_a_network_source_is_refused() -> None:
    with pytest.raises(ValueError, match="no network source"):
        group_statements(args(network_source=""))
    with pytest.raises(ValueError, match="cannot be quoted"):
        group_statements(args(network_source="it's"))


def test_service_grants_name_the_regions_object_storage_principal() -> None:
    assert service_statements(args(replication_sources=("us-ashburn-1",))) == [
        "Allow service objectstorage-us-ashburn-1 to use keys in compartment t-security",
        "Allow service objectstorage-us-phoenix-1 to use keys in compartment t-security",
        "Allow service objectstorage-us-ashburn-1 to manage object-family in compartment t-us-data",
    ]


# --------------------------------------------------------------------------- component


def test_anatomy_and_inventory() -> None:
    s = build()
    _, children = check_anatomy(s, TYPE, "access-team")
    assert s.counts(children) == {
        "oci:Identity/compartment:Compartment": 3,
        "oci:Identity/group:Group": 3,
        "oci:Identity/policy:Policy": 4,
        "oci:Limits/quota:Quota": 1,
    }


def test_compartments_outlive_the_stack() -> None:
    s = build()
    for role, name in COMPARTMENTS.items():
        c = s.named(f"access-team-compartment-{role}")
        assert c.inputs["name"] == name, c.urn
        assert c.inputs["compartmentId"] == TENANCY, c.urn
        assert c.inputs["enableDelete"] is False, f"{c.urn}: destroy must not delete a compartment"


def test_policies_carry_the_generated_statements_and_wait_for_what_they_name() -> None:
    s = build()
    named = {
        r.urn
        for r in s.resources
        if r.type in ("oci:Identity/compartment:Compartment", "oci:Identity/group:Group")
    }
    for role, statements in group_statements(args()).items():
        p = s.named(f"access-team-policy-{role}")
        assert p.inputs["statements"] == statements, p.urn
        assert p.inputs["name"] == f"usdr-test-{role}", p.urn
        assert named <= set(p.dependencies), f"{p.urn} does not wait for the groups and compartments it names"
    grants = s.named("access-team-policy-objectstorage")
    assert grants.inputs["statements"] == service_statements(args()), grants.urn
    quota = s.named("access-team-quota")
    assert quota.inputs["compartmentId"] == TENANCY, quota.urn
    assert quota.inputs["statements"] == quota_statements(FAMILIES, APPROVED), quota.urn
    for g in s.of_type("oci:Identity/group:Group"):
        assert g.inputs["compartmentId"] == TENANCY, g.urn
        assert g.inputs["name"] in GROUPS.values(), g.urn


def test_missing_roles_are_refused() -> None:
    with pytest.raises(ValueError, match="auditors"):
        build(groups={"admins": "a", "operators": "o"})


# --------------------------------------------------------------------------- access networks, break glass


def test_network_source_lists_the_egress_and_the_vcns_in_the_tenancy() -> None:
    a = AccessNetworksArgs(
        tenancy_ocid=TENANCY,
        name=NETWORK_SOURCE,
        public_cidrs=("192.0.2.0/28",),
        vcns=[VcnSource("ocid1.vcn.oc1.iad.aaaavcn", ("10.10.0.0/16",))],
        tags=TAGS,
    )
    s = synth_component(lambda opts: AccessNetworks("access-networks", a, opts))
    _, children = check_anatomy(s, "usdr:access:AccessNetworks", "access-networks")
    assert s.counts(children) == {"oci:Identity/networkSource:NetworkSource": 1}
    ns = s.named("access-networks-network-source")
    assert ns.inputs["compartmentId"] == TENANCY, ns.urn  # network sources live in the root compartment
    assert ns.inputs["name"] == NETWORK_SOURCE, ns.urn
    assert ns.inputs["publicSourceLists"] == ["192.0.2.0/28"], ns.urn
    assert ns.inputs["virtualSourceLists"] == [
        {"vcnId": "ocid1.vcn.oc1.iad.aaaavcn", "ipRanges": ["10.10.0.0/16"]}
    ], ns.urn
    assert ns.inputs["services"] == ["all"], ns.urn


def test_network_source_refuses_the_internet_and_nothing() -> None:
    base = AccessNetworksArgs(TENANCY, NETWORK_SOURCE, ("0.0.0.0/0",), [], TAGS)
    with pytest.raises(ValueError, match="whole internet"):
        synth_component(lambda opts: AccessNetworks("n", base, opts))
    empty = AccessNetworksArgs(TENANCY, NETWORK_SOURCE, (), [], TAGS)
    with pytest.raises(ValueError, match="no network at all"):
        synth_component(lambda opts: AccessNetworks("n", empty, opts))


def test_break_glass_rules_publish_iam_changes_and_sign_ins_to_the_topic() -> None:
    a = BreakGlassArgs(
        TENANCY, "ocid1.compartment.oc1..aaaasecurity", "usdr-test", ("oncall@example.com",), TAGS
    )
    s = synth_component(lambda opts: BreakGlassAlerts("break-glass", a, opts))
    _, children = check_anatomy(s, "usdr:access:BreakGlassAlerts", "break-glass")
    assert s.counts(children) == {
        "oci:Events/rule:Rule": 2,
        "oci:Ons/notificationTopic:NotificationTopic": 1,
        "oci:Ons/subscription:Subscription": 1,
    }
    topic = s.named("break-glass-topic")
    sub = s.named("break-glass-notify-0")
    assert (sub.inputs["protocol"], sub.inputs["endpoint"]) == ("EMAIL", "oncall@example.com"), sub.urn
    assert topic.urn in sub.dependencies, sub.urn
    wanted = {"break-glass-iam-changes": IAM_CHANGE_EVENTS, "break-glass-sign-ins": SIGN_IN_EVENTS}
    for name, events in wanted.items():
        rule = s.named(name)
        assert rule.inputs["compartmentId"] == TENANCY, f"{rule.urn}: IAM events are seen from the root"
        assert rule.inputs["isEnabled"] is True, rule.urn
        assert json.loads(rule.inputs["condition"]) == {"eventType": list(events)}, rule.urn
        (action,) = rule.inputs["actions"]["action"]
        assert action["actionType"] == "ONS" and action["isEnabled"] is True, rule.urn
        assert topic.urn in rule.dependencies, f"{rule.urn} does not publish to the topic"
    assert "com.oraclecloud.identitycontrolplane.addusertogroup" in IAM_CHANGE_EVENTS
    assert "com.oraclecloud.identitycontrolplane.updatepolicy" in IAM_CHANGE_EVENTS


def test_named_break_glass_accounts_narrow_the_sign_in_rule_to_them() -> None:
    a = BreakGlassArgs(
        TENANCY,
        "ocid1.compartment.oc1..aaaasecurity",
        "usdr-test",
        ("oncall@example.com",),
        TAGS,
        accounts=("bg-admin-1", "bg.admin+2@example.com"),
    )
    s = synth_component(lambda opts: BreakGlassAlerts("break-glass", a, opts))
    signins = json.loads(s.named("break-glass-sign-ins").inputs["condition"])
    assert signins == {
        "eventType": list(SIGN_IN_EVENTS),
        "data": {"identity": {"principalName": ["bg-admin-1", "bg.admin+2@example.com"]}},
    }
    # IAM changes stay unfiltered: making someone else an administrator is itself announced.
    changes = json.loads(s.named("break-glass-iam-changes").inputs["condition"])
    assert changes == {"eventType": list(IAM_CHANGE_EVENTS)}


def test_break_glass_needs_someone_to_tell() -> None:
    a = BreakGlassArgs(TENANCY, "ocid1.compartment.oc1..aaaasecurity", "usdr-test", (), TAGS)
    with pytest.raises(ValueError, match="nobody to notify"):
        synth_component(lambda opts: BreakGlassAlerts("b", a, opts))
