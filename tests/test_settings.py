"""Settings validation: one test per rule, each starting from the valid prod stack and
changing exactly one thing, plus a property test that no mutation escapes as anything but
a SettingsError."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks.regions import catalogue_from_data, load_catalogue
from stacks.settings import (
    DEFAULT_QUOTA_FAMILIES,
    FLOOR_QUOTA_FAMILIES,
    Settings,
    SettingsError,
    SiteCapabilities,
    load_settings_file,
    parse_settings,
    stack_config_from_file,
)
from tests.conftest import ROOT, TODAY

NS = "us-data-residency:"
PROD = stack_config_from_file(ROOT / "Pulumi.prod.yaml")


def prod() -> dict[str, Any]:
    return copy.deepcopy(PROD)


def problems(config: dict[str, Any], **kw: Any) -> list[str]:
    with pytest.raises(SettingsError) as err:
        parse_settings(config, source="Pulumi.prod.yaml", stack="prod", today=kw.pop("today", TODAY), **kw)
    lines = str(err.value).splitlines()
    assert lines == err.value.problems
    for line in lines:
        assert line.startswith("Pulumi.prod.yaml: "), line
    return lines


def only(config: dict[str, Any], path: str, fragment: str, **kw: Any) -> None:
    """Exactly one problem, at `path`, mentioning `fragment`."""
    lines = problems(config, **kw)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Pulumi.prod.yaml: {path}: "), lines[0]
    assert fragment in lines[0], lines[0]


def mutate(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    c = prod()
    fn(c)
    return c


# ------------------------------------------------------------------ the valid stacks


def test_prod_loads_with_the_real_estate(prod_settings: Any) -> None:
    s = prod_settings
    assert s.tenancy.home_region == "us-ashburn-1"
    assert {r.identifier for r in s.regions} == {
        "us-ashburn-1",
        "us-phoenix-1",
        "us-chicago-1",
        "us-sanjose-1",
    }
    assert set(s.dr_pairs()) == {("us-ashburn-1", "us-phoenix-1"), ("us-chicago-1", "us-sanjose-1")}
    sites = {x.name: x for x in s.legacy_sites}
    assert sites["legacy-us-east"].mode == "replica" and sites["legacy-us-east"].country == "US"
    assert sites["legacy-sg"].mode == "frozen" and sites["legacy-sg"].writer is None
    waiver = s.waiver_for("legacy-sg")
    assert waiver is not None and waiver.expires == sites["legacy-sg"].sunset
    assert s.protect_data is True


def test_prod_uses_every_approved_region_of_the_catalogue(prod_settings: Any) -> None:
    approved = {r.identifier for r in load_catalogue().approved()}
    assert {r.identifier for r in prod_settings.regions} == approved


def test_staging_is_one_dr_pair_and_one_site(staging_settings: Any) -> None:
    assert len(staging_settings.regions) == 2
    assert len(staging_settings.dr_pairs()) == 1
    assert [x.name for x in staging_settings.legacy_sites] == ["legacy-us-east"]


def test_settings_are_frozen(prod_settings: Any) -> None:
    with pytest.raises(AttributeError):
        prod_settings.protect_data = False


# ------------------------------------------------------------------ unknown keys


def test_unknown_key_in_our_namespace() -> None:
    only(mutate(lambda c: c.update({NS + "regoins": {}})), NS + "regoins", "unknown key")


def test_unknown_nested_key() -> None:
    c = mutate(lambda c: c[NS + "kms"].update({"rotationDay": 30}))
    only(c, NS + "kms.rotationDay", "unknown key")


def test_unknown_foreign_namespace_key() -> None:
    only(mutate(lambda c: c.update({"oic:region": "us-ashburn-1"})), "oic:region", "unknown key")


# ------------------------------------------------------------------ regions


def test_frankfurt_instead_of_phoenix_is_refused_naming_the_key(tmp_path: Path) -> None:
    text = (ROOT / "Pulumi.prod.yaml").read_text().replace("us-phoenix-1", "eu-frankfurt-1")
    f = tmp_path / "Pulumi.prod.yaml"
    f.write_text(text)
    with pytest.raises(SettingsError) as err:
        load_settings_file(f, today=TODAY)
    first = str(err.value).splitlines()[0]
    assert first.startswith("Pulumi.prod.yaml: us-data-residency:regions.eu-frankfurt-1: ")
    assert "forbidden" in first


def test_region_not_in_catalogue() -> None:
    def f(c: dict[str, Any]) -> None:
        c[NS + "regions"]["us-atlantis-1"] = c[NS + "regions"].pop("us-sanjose-1")
        c[NS + "regions"]["us-chicago-1"]["drPartner"] = "us-atlantis-1"

    lines = problems(mutate(f))
    assert any("regions.us-atlantis-1: " in x and "not in the region catalogue" in x for x in lines), lines


@pytest.mark.parametrize("region", ["us-ashburn-2", "us-langley-1", "ap-singapore-1"])
def test_us_prefix_or_foreign_region_is_forbidden(region: str) -> None:
    def f(c: dict[str, Any]) -> None:
        c[NS + "regions"][region] = c[NS + "regions"].pop("us-sanjose-1")
        c[NS + "regions"]["us-chicago-1"]["drPartner"] = region

    lines = problems(mutate(f))
    assert any(f"regions.{region}: region {region} is forbidden" in x for x in lines), lines


def saltlake(c: dict[str, Any]) -> None:
    c[NS + "regions"]["us-saltlake-2"] = c[NS + "regions"].pop("us-sanjose-1")
    c[NS + "regions"]["us-chicago-1"]["drPartner"] = "us-saltlake-2"
    c[NS + "regions"]["us-saltlake-2"]["drPartner"] = "us-chicago-1"


def test_opt_in_region_without_opt_in_is_refused() -> None:
    lines = problems(mutate(saltlake))
    assert any("regions.us-saltlake-2: region us-saltlake-2 is opt-in and not opted into" in x for x in lines)


def test_opt_in_region_with_explicit_opt_in_loads() -> None:
    def f(c: dict[str, Any]) -> None:
        saltlake(c)
        c[NS + "tenancy"]["optInRegions"] = ["us-saltlake-2"]

    s = parse_settings(mutate(f), source="Pulumi.prod.yaml", stack="prod", today=TODAY)
    assert "us-saltlake-2" in {r.identifier for r in s.regions}


def test_opt_in_list_accepts_only_opt_in_regions() -> None:
    c = mutate(lambda c: c[NS + "tenancy"].update({"optInRegions": ["eu-frankfurt-1"]}))
    only(c, NS + "tenancy.optInRegions[0]", "not an opt-in region")


def test_home_region_must_be_approved() -> None:
    c = mutate(lambda c: c[NS + "tenancy"].update({"homeRegion": "ap-singapore-1"}))
    only(c, NS + "tenancy.homeRegion", "forbidden")


def test_home_region_must_be_a_stack_region() -> None:
    c = mutate(
        lambda c: c[NS + "tenancy"].update({"homeRegion": "us-saltlake-2", "optInRegions": ["us-saltlake-2"]})
    )
    only(c, NS + "tenancy.homeRegion", "must be one of the stack's regions")


# ------------------------------------------------------------------ DR pairs


def test_dr_partner_cannot_be_itself() -> None:
    c = mutate(lambda c: c[NS + "regions"]["us-ashburn-1"].update({"drPartner": "us-ashburn-1"}))
    lines = problems(c)
    assert any("regions.us-ashburn-1.drPartner: a region cannot be its own DR partner" in x for x in lines)


def test_dr_partner_must_be_approved() -> None:
    c = mutate(lambda c: c[NS + "regions"]["us-ashburn-1"].update({"drPartner": "eu-frankfurt-1"}))
    lines = problems(c)
    assert any("regions.us-ashburn-1.drPartner: region eu-frankfurt-1 is forbidden" in x for x in lines), (
        lines
    )


def test_dr_partner_must_be_in_the_stack() -> None:
    def f(c: dict[str, Any]) -> None:
        del c[NS + "regions"]["us-phoenix-1"]

    lines = problems(mutate(f))
    assert lines == [
        f"Pulumi.prod.yaml: {NS}regions.us-ashburn-1.drPartner: "
        "us-phoenix-1 is not one of the stack's regions"
    ]


def test_dr_pairs_are_mutual() -> None:
    c = mutate(lambda c: c[NS + "regions"]["us-phoenix-1"].update({"drPartner": "us-chicago-1"}))
    lines = problems(c)
    assert any("regions.us-ashburn-1.drPartner: DR pairs are mutual" in x for x in lines), lines


def test_dr_pair_across_realms_is_refused() -> None:
    rows = load_catalogue().to_data()
    # A catalogue in which a second realm has an approved region: the pair still must not cross.
    rows.append(
        {"identifier": "us-other-1", "key": "OTH", "realm": "oc9", "jurisdiction": "US", "status": "approved"}
    )
    cat = catalogue_from_data(rows, "test")

    def f(c: dict[str, Any]) -> None:
        c[NS + "regions"]["us-other-1"] = c[NS + "regions"].pop("us-sanjose-1")
        c[NS + "regions"]["us-chicago-1"]["drPartner"] = "us-other-1"
        c[NS + "regions"]["us-other-1"]["drPartner"] = "us-chicago-1"

    lines = problems(mutate(f), catalogue=cat)
    assert any("regions.us-chicago-1.drPartner: us-other-1 is in realm oc9" in x for x in lines), lines


# ------------------------------------------------------------------ CIDRs


@pytest.mark.parametrize(
    ("cidr", "fragment"),
    [
        ("10.10.0.0/33", "not a valid IPv4 CIDR"),
        ("10.10.0.1/16", "not a valid IPv4 CIDR"),  # host bits set
        ("8.8.0.0/16", "not inside RFC 1918"),
        ("100.64.0.0/16", "not inside RFC 1918"),  # CGNAT is not RFC 1918
    ],
)
def test_vcn_cidr_must_be_valid_rfc1918(cidr: str, fragment: str) -> None:
    c = mutate(lambda c: c[NS + "regions"]["us-ashburn-1"].update({"vcnCidr": cidr}))
    only(c, NS + "regions.us-ashburn-1.vcnCidr", fragment)


def test_vcn_cidrs_must_not_overlap_each_other() -> None:
    def f(c: dict[str, Any]) -> None:
        r = c[NS + "regions"]["us-phoenix-1"]
        r["vcnCidr"] = "10.10.0.0/16"
        r["subnets"] = {"data": "10.10.0.0/24", "app": "10.10.1.0/24", "firewall": "10.10.2.0/24"}

    only(
        mutate(f),
        NS + "regions.us-phoenix-1.vcnCidr",
        "overlaps 10.10.0.0/16 at us-data-residency:regions.us-ashburn-1",
    )


def test_legacy_cidr_must_not_overlap_a_vcn() -> None:
    c = mutate(
        lambda c: c[NS + "legacySites"]["legacy-us-east"].update(
            {"cidr": "10.40.128.0/17", "storeAddresses": ["10.40.128.10"]}
        )
    )
    only(
        c,
        NS + "legacySites.legacy-us-east.cidr",
        "overlaps 10.40.0.0/16 at us-data-residency:regions.us-sanjose-1",
    )


def test_subnet_must_be_inside_its_vcn() -> None:
    c = mutate(lambda c: c[NS + "regions"]["us-ashburn-1"]["subnets"].update({"app": "10.99.1.0/24"}))
    only(c, NS + "regions.us-ashburn-1.subnets.app", "not inside the VCN 10.10.0.0/16")


def test_subnets_must_not_overlap() -> None:
    c = mutate(lambda c: c[NS + "regions"]["us-ashburn-1"]["subnets"].update({"app": "10.10.0.0/25"}))
    only(c, NS + "regions.us-ashburn-1.subnets.app", "overlaps 10.10.0.0/24")


# ------------------------------------------------------------------ dates, sites, waivers


@pytest.mark.parametrize("bad", ["2027-13-01", "30/09/2027", "soon", 20270930])
def test_malformed_dates(bad: Any) -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-us-east"].update({"sunset": bad}))
    only(c, NS + "legacySites.legacy-us-east.sunset", "is not a date")


def test_dates_from_the_engine_in_rfc3339_form_are_accepted() -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-us-east"].update({"sunset": "2027-09-30T00:00:00Z"}))
    s = parse_settings(c, source="Pulumi.prod.yaml", stack="prod", today=TODAY)
    assert next(x for x in s.legacy_sites if x.name == "legacy-us-east").sunset == date(2027, 9, 30)


def test_replica_past_its_sunset_is_refused_naming_the_site() -> None:
    lines = problems(prod(), today=date(2027, 10, 1))
    assert (
        f"Pulumi.prod.yaml: {NS}legacySites.legacy-us-east.sunset: sunset 2027-09-30 has passed" in lines[0]
    )


def test_frozen_site_past_its_sunset_may_still_drain() -> None:
    c = mutate(lambda c: c[NS + "waivers"][0].update({"expires": "2027-07-31"}))
    s = parse_settings(c, source="Pulumi.prod.yaml", stack="prod", today=date(2027, 7, 1))
    assert any(x.name == "legacy-sg" for x in s.legacy_sites)


def test_replica_needs_a_writer() -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-us-east"].pop("writer"))
    only(c, NS + "legacySites.legacy-us-east.writer", "needs the replication writer")


def test_frozen_site_has_no_writer() -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"].update({"writer": "arn:aws:iam::0:user/x"}))
    only(c, NS + "legacySites.legacy-sg.writer", "mode frozen has no writer")


# Issue 13 item 1: the deploying principal keeps HeadBucket (s3:ListBucket, AWS S3 API Reference,
# HeadBucket) and the bucket policy, so it must be named, exact, and nobody else's role.
def test_a_site_names_its_deployer() -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"].pop("deployer"))
    only(c, NS + "legacySites.legacy-sg.deployer", "required")


@pytest.mark.parametrize(
    "value",
    ["*", "arn:aws:iam::000000000000:role/*", "arn:aws:iam::000000000000:root", "legacy-deployer"],
)
def test_the_deployer_is_one_exact_iam_user_or_role(value: str) -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"].update({"deployer": value}))
    only(c, NS + "legacySites.legacy-sg.deployer", "is not an IAM user or role ARN")


@pytest.mark.parametrize(("site", "other"), [("legacy-sg", "restorePrincipal"), ("legacy-us-east", "writer")])
def test_the_deployer_is_neither_the_restore_principal_nor_the_writer(site: str, other: str) -> None:
    def change(c: dict[str, Any]) -> None:
        s = c[NS + "legacySites"][site]
        s["deployer"] = s[other]

    only(mutate(change), f"{NS}legacySites.{site}.deployer", f"must differ from {other}")


# Issue 13 item 6: the network names a site's store, never the whole site.
def test_a_site_names_its_stores_addresses() -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"].pop("storeAddresses"))
    only(c, NS + "legacySites.legacy-sg.storeAddresses", "required")


@pytest.mark.parametrize(
    ("value", "path", "fragment"),
    [
        ([], "storeAddresses", "must be a non-empty list of IPv4 addresses"),
        ("172.17.10.10", "storeAddresses", "must be a non-empty list of IPv4 addresses"),
        (["172.17.10.10", "store.example"], "storeAddresses[1]", "is not an IPv4 address"),
        (["172.17.10.10", "172.17.10.10"], "storeAddresses[1]", "duplicate address 172.17.10.10"),
        # Inside another site, or the internet: the link to this site reaches neither.
        (["172.16.10.10"], "storeAddresses[0]", "is not inside the site's cidr 172.17.0.0/16"),
        (["203.0.113.5"], "storeAddresses[0]", "is not inside the site's cidr 172.17.0.0/16"),
    ],
)
def test_store_addresses_are_distinct_addresses_inside_the_site(value: Any, path: str, fragment: str) -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"].update({"storeAddresses": value}))
    only(c, f"{NS}legacySites.legacy-sg.{path}", fragment)


def test_the_stores_port_is_the_endpoints() -> None:
    c = mutate(
        lambda c: c[NS + "legacySites"]["legacy-sg"].update({"endpoint": "https://objects.sg.example:8443"})
    )
    s = parse_settings(c, source="Pulumi.prod.yaml", stack="prod", today=TODAY)
    ports = {x.name: x.store_port for x in s.legacy_sites}
    assert ports == {"legacy-sg": 8443, "legacy-us-east": 443}


def test_a_problem_is_one_line_whatever_the_key_holds() -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"].update({"bad\nkey": 1}))
    only(c, NS + "legacySites.legacy-sg.bad\\nkey", "unknown key")


# Issue 13 item 5: what each site's S3-compatible store supports of what pulumi-aws sends.
def test_prod_states_each_sites_capabilities() -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"].pop("capabilities"))
    only(c, NS + "legacySites.legacy-sg.capabilities", "required when protectData is true")
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"]["capabilities"].pop("versioning"))
    only(c, NS + "legacySites.legacy-sg.capabilities.versioning", "required when protectData is true")


def test_without_protect_data_capabilities_default_to_what_is_managed_today() -> None:
    def change(c: dict[str, Any]) -> None:
        c[NS + "protectData"] = False
        c[NS + "legacySites"]["legacy-sg"].pop("capabilities")

    s = parse_settings(mutate(change), source="Pulumi.prod.yaml", stack="prod", today=TODAY)
    site = next(x for x in s.legacy_sites if x.name == "legacy-sg")
    assert site.capabilities == SiteCapabilities()
    assert all(dataclasses.astuple(site.capabilities))


@pytest.mark.parametrize(
    "cap", ["versioning", "publicAccessBlock", "accessLogging", "lifecycleTransitionMinimumObjectSize"]
)
def test_a_store_lacking_what_a_control_relies_on_is_refused(cap: str) -> None:
    """Fail closed: versioning (restores by version id, USDR-SEC-03), the public access block
    (USDR-SEC-02), access logs (the restore trail), the lifecycle's minimum-object-size header
    (pulumi-aws always sends it and waits for its echo: terraform-provider-aws#25939, #46021)."""
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"]["capabilities"].update({cap: False}))
    only(c, f"{NS}legacySites.legacy-sg.capabilities.{cap}", "which a residency control relies on")


def test_a_store_without_ownership_controls_is_accepted() -> None:
    c = mutate(
        lambda c: c[NS + "legacySites"]["legacy-sg"]["capabilities"].update({"ownershipControls": False})
    )
    s = parse_settings(c, source="Pulumi.prod.yaml", stack="prod", today=TODAY)
    site = next(x for x in s.legacy_sites if x.name == "legacy-sg")
    assert site.capabilities.ownership_controls is False


def test_capabilities_are_booleans_and_known() -> None:
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"]["capabilities"].update({"objectLock": True}))
    only(c, NS + "legacySites.legacy-sg.capabilities.objectLock", "unknown key")
    c = mutate(lambda c: c[NS + "legacySites"]["legacy-sg"]["capabilities"].update({"versioning": "yes"}))
    only(c, NS + "legacySites.legacy-sg.capabilities.versioning", "true or false")


def test_singapore_site_without_waiver_is_refused() -> None:
    c = mutate(lambda c: c.pop(NS + "waivers"))
    only(c, NS + "legacySites.legacy-sg", "needs a waiver with target legacy-sg")


def test_singapore_site_with_expired_waiver_is_refused() -> None:
    c = mutate(lambda c: c[NS + "waivers"][0].update({"expires": "2026-11-28"}))
    only(c, NS + "legacySites.legacy-sg", "expired on 2026-11-28")


@pytest.mark.parametrize("field", ["owner", "reason", "expires", "target"])
def test_waiver_fields_are_required(field: str) -> None:
    c = mutate(lambda c: c[NS + "waivers"][0].pop(field))
    lines = problems(c)
    assert f"Pulumi.prod.yaml: {NS}waivers[0].{field}: required" in lines, lines


def test_waiver_expiry_at_most_365_days_out() -> None:
    c = mutate(lambda c: c[NS + "waivers"][0].update({"expires": "2027-11-30"}))
    only(c, NS + "waivers[0].expires", "more than 365 days after 2026-11-29")


def test_waiver_expiry_exactly_365_days_out_is_fine() -> None:
    c = mutate(lambda c: c[NS + "waivers"][0].update({"expires": "2027-11-29"}))
    parse_settings(c, source="Pulumi.prod.yaml", stack="prod", today=TODAY)


# ------------------------------------------------------------------ duplicates and names


def test_duplicate_waiver_targets() -> None:
    c = mutate(lambda c: c[NS + "waivers"].append(dict(c[NS + "waivers"][0])))
    only(c, NS + "waivers[1].target", "duplicate waiver")


def test_duplicate_bucket_names_across_data_classes() -> None:
    c = mutate(lambda c: c[NS + "dataClasses"]["account"].update({"buckets": ["media"]}))
    only(c, NS + "dataClasses.account.buckets", "duplicate bucket name 'media'")


def test_duplicate_bucket_names_in_one_list() -> None:
    c = mutate(lambda c: c[NS + "dataClasses"]["account"].update({"buckets": ["profiles", "profiles"]}))
    only(c, NS + "dataClasses.account.buckets[1]", "duplicate name")


def test_access_groups_must_differ() -> None:
    c = mutate(lambda c: c[NS + "accessTeam"]["groups"].update({"auditors": "us-data-admins"}))
    only(c, NS + "accessTeam.groups", "three different groups")


def test_duplicate_yaml_keys_are_refused_with_line(tmp_path: Path) -> None:
    text = (ROOT / "Pulumi.prod.yaml").read_text()
    text = text.replace("    us-phoenix-1:\n", "    us-ashburn-1:\n", 1)
    f = tmp_path / "Pulumi.prod.yaml"
    f.write_text(text)
    with pytest.raises(SettingsError) as err:
        load_settings_file(f, today=TODAY)
    (line,) = str(err.value).splitlines()
    assert line.startswith("Pulumi.prod.yaml:") and "duplicate key 'us-ashburn-1'" in line
    dup_line = (
        text.splitlines().index("    us-ashburn-1:", text.splitlines().index("    us-ashburn-1:") + 1) + 1
    )
    assert line.startswith(f"Pulumi.prod.yaml:{dup_line}:"), line


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "Pulumi.prod.yaml"
    lines = (ROOT / "Pulumi.prod.yaml").read_text().splitlines()
    lines[20] = lines[20] + " ]["  # break a line somewhere in the middle
    f.write_text("\n".join(lines))
    with pytest.raises(SettingsError) as err:
        load_settings_file(f, today=TODAY)
    (line,) = str(err.value).splitlines()
    assert line.startswith("Pulumi.prod.yaml:") and "YAML error" in line
    assert int(line.split(":")[1]) in (21, 22), line


def test_missing_stack_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"Pulumi.nope.yaml: no such file$"):
        load_settings_file(tmp_path / "Pulumi.nope.yaml")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("vaultType", "EXTERNAL", "not one of DEFAULT, VIRTUAL_PRIVATE"),
        ("protectionMode", "hsm", "not one of HSM, SOFTWARE"),
        ("rotationDays", 0, "positive whole number"),
        # OCI accepts 60-365 days (OCI docs, "Enabling and Updating Automatic Key Rotation";
        # pulumi_oci.kms.KeyAutoKeyRotationDetailsArgs.rotation_interval_in_days).
        ("rotationDays", 59, "outside the 60-365 days"),
        ("rotationDays", 366, "outside the 60-365 days"),
        ("replicateVaults", "yes", "true or false"),
    ],
)
def test_kms_values(key: str, value: Any, fragment: str) -> None:
    c = mutate(lambda c: c[NS + "kms"].update({key: value}))
    only(c, f"{NS}kms.{key}", fragment)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (0, "positive whole number"),
        ("70s", "positive whole number"),
        # At least a minute (Oracle's Core Landing Zone waits 70 s, sec_vault.tf), at most 10.
        (59, "outside 60-600 s"),
        (601, "outside 60-600 s"),
    ],
)
def test_propagation_wait_values(value: Any, fragment: str) -> None:
    c = mutate(lambda c: c[NS + "tenancy"].update({"propagationWaitSeconds": value}))
    only(c, f"{NS}tenancy.propagationWaitSeconds", fragment)


@pytest.mark.parametrize("seconds", [60, 600])
def test_propagation_wait_bounds_are_inclusive_and_default_to_core_landing_zones(seconds: int) -> None:
    s = parse_settings(
        mutate(lambda c: c[NS + "tenancy"].update({"propagationWaitSeconds": seconds})),
        source="Pulumi.prod.yaml",
        stack="prod",
        today=TODAY,
    )
    assert s.tenancy.propagation_wait_seconds == seconds
    assert (
        parse_settings(
            prod(), source="Pulumi.prod.yaml", stack="prod", today=TODAY
        ).tenancy.propagation_wait_seconds
        == 70
    )


@pytest.mark.parametrize("days", [60, 365])
def test_rotation_bounds_are_inclusive(days: int) -> None:
    parse_settings(
        mutate(lambda c: c[NS + "kms"].update({"rotationDays": days})),
        source="Pulumi.prod.yaml",
        stack="prod",
        today=TODAY,
    )


def test_a_default_vault_cannot_rotate_keys_automatically() -> None:
    """Issue 13 item 2: OCI rotates keys automatically only in virtual private vaults ("This
    feature is only available for virtual private vaults", OCI docs, "Enabling and Updating
    Automatic Key Rotation"), and every key of the estate rotates (security-key-rotation)."""
    c = mutate(lambda c: c[NS + "kms"].update({"vaultType": "DEFAULT", "replicateVaults": False}))
    only(c, f"{NS}kms.vaultType", "only in virtual private vaults")


def test_security_zone_needs_cloud_guard() -> None:
    c = mutate(lambda c: c[NS + "threatDetection"].update({"cloudGuard": False}))
    only(c, NS + "threatDetection.securityZone", "needs Cloud Guard")


def test_missing_required_sections_are_named() -> None:
    c = mutate(lambda c: c.pop(NS + "tenancy"))
    lines = problems(c)
    assert f"Pulumi.prod.yaml: {NS}tenancy: required" in lines


def test_structured_config_from_the_engine_as_json_text() -> None:
    """The engine passes structured values as JSON text; decoding them loads the same settings."""
    from stacks.settings import _decode

    c = {k: _decode(json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in prod().items()}
    s = parse_settings(c, source="Pulumi.prod.yaml", stack="prod", today=TODAY)
    assert len(s.regions) == 4


# ------------------------------------------------------------------ property test

_PATHS: list[tuple[Any, ...]] = []


def _collect(node: Any, path: tuple[Any, ...]) -> None:
    _PATHS.append(path)
    if isinstance(node, dict):
        for k, v in node.items():
            _collect(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _collect(v, (*path, i))


_collect(PROD, ())
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 500),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["us-ashburn-1", "eu-frankfurt-1", "IAD", "10.0.0.0/8", "2027-02-30", "ocid1.x.oc1..y"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(_PATHS[1:]), st.sampled_from(["set", "delete"]), _VALUES),
        min_size=1,
        max_size=4,
    )
)
def test_random_mutations_load_or_raise_settings_error(edits: list[tuple[tuple[Any, ...], str, Any]]) -> None:
    config: Any = prod()
    for path, op, value in edits:
        parent = config
        try:
            for part in path[:-1]:
                parent = parent[part]
            if op == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this path
    try:
        parse_settings(config, source="Pulumi.prod.yaml", stack="prod", today=TODAY)
    except SettingsError as err:
        assert err.problems and all(
            p.startswith("Pulumi.prod.yaml: ") and "\n" not in p for p in err.problems
        )


# ------------------------------------------------------------------ access networks (issue 19)

NETS = NS + "accessTeam.networkSources"


def test_prod_names_its_networks_and_break_glass_recipients(prod_settings: Any) -> None:
    team = prod_settings.access_team
    assert [str(n) for n in team.network_sources.corporate_egress] == ["192.0.2.0/28", "192.0.2.64/27"]
    assert team.network_sources.stack_vcns is True
    assert [str(n) for n in team.network_sources.non_us] == ["203.0.113.0/24"]
    assert team.break_glass.notify == ("security-oncall@example.com",)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("10.0.0.0/33", "is not a valid IPv4 CIDR block"),
        ("192.0.2.1/24", "is not a valid IPv4 CIDR block"),  # host bits set
        ("0.0.0.0/0", "is the whole internet"),
        ("10.1.0.0/16", "private address space"),
        (42, "must be a CIDR block as text"),
    ],
)
def test_corporate_egress_entries_are_checked(value: Any, fragment: str) -> None:
    c = mutate(
        lambda c: c[NS + "accessTeam"]["networkSources"].update(corporateEgress=["192.0.2.0/28", value])
    )
    only(c, f"{NETS}.corporateEgress[1]", fragment)


def test_an_empty_egress_list_is_refused_for_prod() -> None:
    c = mutate(lambda c: c[NS + "accessTeam"]["networkSources"].update(corporateEgress=[]))
    only(c, f"{NETS}.corporateEgress", "protectData is true")


def test_an_empty_egress_list_is_allowed_where_data_is_not_protected() -> None:
    def edit(c: dict[str, Any]) -> None:
        c[NS + "accessTeam"]["networkSources"]["corporateEgress"] = []
        c[NS + "protectData"] = False

    from stacks.settings import parse_settings

    s = parse_settings(mutate(edit), source="Pulumi.prod.yaml", stack="prod", today=TODAY)
    assert s.access_team.network_sources.corporate_egress == ()


def test_no_network_at_all_is_refused() -> None:
    def edit(c: dict[str, Any]) -> None:
        c[NS + "accessTeam"]["networkSources"].update(corporateEgress=[], stackVcns=False)
        c[NS + "protectData"] = False

    only(mutate(edit), NETS, "names no network at all")


def test_egress_marked_non_us_is_refused() -> None:
    c = mutate(lambda c: c[NS + "accessTeam"]["networkSources"].update(nonUs=["192.0.2.0/24"]))
    lines = problems(c)
    assert lines and all(ln.startswith(f"Pulumi.prod.yaml: {NETS}.corporateEgress[") for ln in lines), lines
    assert "marked outside the US" in lines[0]


def test_network_sources_and_break_glass_are_required_and_strict() -> None:
    only(mutate(lambda c: c[NS + "accessTeam"].pop("networkSources")), NETS, "required")
    only(
        mutate(lambda c: c[NS + "accessTeam"]["networkSources"].update(extra=1)),
        f"{NETS}.extra",
        "unknown key",
    )
    only(
        mutate(lambda c: c[NS + "accessTeam"]["breakGlass"].update(notify=[])),
        NS + "accessTeam.breakGlass.notify",
        "at least one recipient",
    )
    only(
        mutate(lambda c: c[NS + "accessTeam"]["breakGlass"].update(notify=["oncall"])),
        NS + "accessTeam.breakGlass.notify[0]",
        "not an e-mail address",
    )
    only(
        mutate(lambda c: c[NS + "accessTeam"]["breakGlass"].update(accounts=["bg admin"])),
        NS + "accessTeam.breakGlass.accounts[0]",
        "not an OCI user name",
    )
    only(
        mutate(lambda c: c[NS + "accessTeam"]["breakGlass"].update(accounts=[])),
        NS + "accessTeam.breakGlass.accounts",
        "non-empty list",
    )


def test_a_bad_cidr_in_a_stack_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stacks.policy_config import main

    text = (ROOT / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "Pulumi.prod.yaml"
    bad.write_text(
        text.replace("corporateEgress: [192.0.2.0/28,", "corporateEgress: [0.0.0.0/0,"), encoding="utf-8"
    )
    assert main(["--stack", "prod", "--config-file", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(
        f"policy_config: Pulumi.prod.yaml: {NETS}.corporateEgress[0]: 0.0.0.0/0 is the whole"
    ), err


@pytest.mark.parametrize("dropped", ["object-storage", "compute-core", "compute-memory", "vcn"])
def test_quotas_always_cover_object_storage_compute_and_networking(dropped: str) -> None:
    """Issue 13 item 8 (CIS floor): whatever a stack lists, these families are zeroed outside the
    approved regions. OCI's family names: "Object Storage Quotas" (family object-storage,
    storage-bytes, regional), "Compute Quotas" (compute-core, compute-memory), "Networking
    Quotas" (vcn), docs.oracle.com/iaas/Content/Quotas/Concepts/resourcequotas.htm."""
    listed = [f for f in DEFAULT_QUOTA_FAMILIES if f != dropped]
    c = mutate(lambda c: c[NS + "accessTeam"].update({"quotaFamilies": listed}))
    only(c, f"{NS}accessTeam.quotaFamilies", f"missing {dropped}: object storage, compute and networking")


def test_prod_zeroes_the_floor_families_outside_the_approved_regions(prod_settings: Settings) -> None:
    assert set(FLOOR_QUOTA_FAMILIES) <= set(prod_settings.access_team.quota_families)
    assert set(FLOOR_QUOTA_FAMILIES) <= set(DEFAULT_QUOTA_FAMILIES)
