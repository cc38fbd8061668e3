"""components/access.py: compartments, groups, region-conditioned policies, residency quotas."""

from __future__ import annotations

import re

import pytest

from components.access import (
    AccessArgs,
    AccessTeam,
    group_statements,
    quota_statements,
    region_condition,
    service_statements,
)
from stacks.regions import Status, load_catalogue
from tests.components.conftest import TAGS
from tests.components.harness import Synth, check_anatomy, synth_component

TYPE = "usdr:access:AccessTeam"
TENANCY = "ocid1.tenancy.oc1..aaaatesttenancy"
CATALOGUE = load_catalogue()
APPROVED = CATALOGUE.approved()
GROUPS = {"admins": "t-admins", "operators": "t-operators", "auditors": "t-auditors"}
COMPARTMENTS = {"us-data": "t-us-data", "network": "t-network", "security": "t-security"}
FAMILIES = ("block-storage", "database", "kms")


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
    }
    return AccessArgs(**{**fields, **overrides})


def build(**overrides: object) -> Synth[AccessTeam]:
    a = args(**overrides)
    return synth_component(lambda opts: AccessTeam("access-team", a, opts))


# --------------------------------------------------------------------------- generated statements


def test_conditions_and_quotas_come_from_the_catalogue() -> None:
    approved = [r for r in CATALOGUE if r.status is Status.APPROVED]
    assert tuple(approved) == APPROVED  # the stack's opt-ins are none
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
    with_opt_in = CATALOGUE.approved(["us-saltlake-2"])
    assert "request.region = 'aga'" in region_condition(with_opt_in)
    assert all("request.region != 'us-saltlake-2'" in s for s in quota_statements(FAMILIES, with_opt_in))


def test_a_single_region_needs_no_combinator() -> None:
    iad = (CATALOGUE.lookup("us-ashburn-1"),)
    assert region_condition(iad) == "request.region = 'iad'"
    assert quota_statements(("kms",), iad) == [
        "zero kms quotas in tenancy where request.region != 'us-ashburn-1'"
    ]


def test_nothing_approved_is_refused_rather_than_granting_or_zeroing_everything() -> None:
    with pytest.raises(ValueError):
        region_condition(())
    with pytest.raises(ValueError):
        quota_statements(FAMILIES, ())


def test_every_group_grant_names_a_team_group_and_carries_the_region_condition() -> None:
    where = region_condition(APPROVED)
    for role, statements in group_statements(args()).items():
        assert statements, role
        for s in statements:
            assert s.startswith(f"Allow group {GROUPS[role]} to "), s
            assert s.endswith(f" where {where}"), s
            assert "in tenancy" not in s, f"{s}: the team's grants stay in its compartments"
    auditors = group_statements(args())["auditors"]
    assert all(" to read " in s for s in auditors), auditors


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
