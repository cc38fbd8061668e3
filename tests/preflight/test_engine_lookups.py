"""Data-source lookups answered offline as the calling provider would answer them
(preflight/engine/lookups.py): a model derived from the region catalogue and the caller's
region, the project's fixtures, and a fail-closed error for anything else. Before this, every
lookup answered `{}`: `get_availability_domains(...).availability_domains[0]` crashed the
program and a destination computed from a lookup became a silent None."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from preflight import diff as pdiff
from preflight.catalogue import region as catalogue_region
from preflight.engine import lookups
from preflight.errors import BadInput, InternalFailure
from preflight.synth import synthesize, synthesize_isolated

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "lookups"
PROGRAM = (FIXTURE / "__main__.py").read_text()
APPROVED = ("us-ashburn-1", "us-phoenix-1", "us-sanjose-1", "us-chicago-1")
TENANCY = "ocid1.tenancy.oc1..aaaaaaaafixture"


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(PROGRAM.splitlines(), 1) if text in line)


def caller(token: str, region: str | None = "us-ashburn-1", **args: Any) -> lookups.Caller:
    return lookups.Caller(token, args, region, "p", {"tenancyOcid": TENANCY})


def ask(
    token: str, region: str | None = "us-ashburn-1", tenancy: lookups.Tenancy | None = None, **args: Any
) -> Any:
    return lookups.Lookups(tenancy=tenancy or lookups.Tenancy()).answer(caller(token, region, **args))


ADS = "oci:Identity/getAvailabilityDomains:getAvailabilityDomains"


# --------------------------------------------------------------------------- the program's view


@pytest.fixture(scope="module")
def dev() -> Any:
    return synthesize(FIXTURE, "dev")


def test_the_common_idioms_get_region_shaped_answers_in_both_forms(dev: Any) -> None:
    out = dev.outputs
    # Plain form on the default provider (stack config us-ashburn-1): Ashburn's older AD label.
    assert re.fullmatch(r"[A-Z][a-z]{3}:US-ASHBURN-AD-1", out["ad"]), out["ad"]
    assert out["ads"] == 3
    # Output form on an explicit Frankfurt provider: its region, the same tenancy prefix.
    assert out["fra_ad"] == out["ad"].split(":")[0] + ":EU-FRANKFURT-1-AD-1"
    assert out["fault_domains"] == ["FAULT-DOMAIN-1", "FAULT-DOMAIN-2", "FAULT-DOMAIN-3"]
    # The filter (regex on `name`) keeps the All-services object only, keyed by the region.
    assert out["services"] == ["all-iad-services-in-oracle-services-network"]
    # From the project's preflight-lookups.yaml, ${key} filled with the caller's region key.
    assert out["image"] == "ocid1.image.oc1.iad.aaaaaaaalinux"
    bucket = next(r for r in dev.resources if r.name == "data")
    assert bucket.inputs["namespace"] == out["namespace"] and out["namespace"]


def test_a_destination_computed_from_a_lookup_is_the_answer_not_none(dev: Any) -> None:
    dests = {r.name: r.inputs.get("destinationRegionName") for r in dev.resources if r.name.startswith("dr-")}
    assert dests == {"dr-us-phoenix-1": "us-phoenix-1", "dr-eu-frankfurt-1": "eu-frankfurt-1"}
    assert not [w for w in dev.warnings if "invoke" in w]


@pytest.mark.slow
def test_the_gate_blocks_replication_to_a_region_that_came_from_a_lookup() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    cmd = [sys.executable, "-m", "preflight", "gate", "--project-dir", str(FIXTURE), "--stack", "dev"]
    cmd += ["--policy-pack", str(ROOT / "policies"), "--no-checkov", "--no-progress", "--format", "json"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1, proc.stderr
    residency = {
        f["name"]
        for f in json.loads(proc.stdout)["findings"]
        if f["enforcement"] == "mandatory" and f["policy"].startswith("residency-")
    }
    assert residency == {"dr-eu-frankfurt-1"}


# --------------------------------------------------------------------------- fail closed


def test_a_lookup_nobody_answers_fails_closed_naming_it_its_provider_and_the_line() -> None:
    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(FIXTURE, "unanswered")
    message = err.value.message
    assert message.startswith(f"program error: __main__.py:{line_of('get_shapes(')}: ")
    assert "lookup oci:Core/getShapes:getShapes on provider default (region us-ashburn-1)" in message
    assert "preflight-lookups.yaml" in message


def test_the_output_form_unanswered_fails_closed_too() -> None:
    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(FIXTURE, "unanswered-output")
    assert "lookup oci:Kms/getVaults:getVaults on provider default" in err.value.message


def test_a_region_bound_lookup_on_a_provider_without_region_fails_closed() -> None:
    """The provider's region would come from the runner's environment: unknowable offline."""
    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(FIXTURE, "noregion")
    assert f"__main__.py:{line_of('runner_ads = ')}" in err.value.message
    assert "provider runner sets no region" in err.value.message


def test_an_invoke_needs_an_explicit_provider_when_defaults_are_disabled() -> None:
    """The engine refuses an invoke on a disabled default provider as it refuses a resource."""
    with pytest.raises(InternalFailure) as err:
        synthesize_isolated(FIXTURE, "disabled")
    assert f"invoke {ADS} uses the default oci provider" in err.value.message


def test_an_unknown_or_unlisted_region_gets_no_invented_answer() -> None:
    with pytest.raises(lookups.NoAnswer, match="not in the region catalogue"):
        ask(ADS, "mars-central-1", compartmentId=TENANCY)
    with pytest.raises(lookups.NoAnswer, match="sets no region"):
        ask("oci:Core/getServices:getServices", None)


def test_tenancy_state_is_not_guessed() -> None:
    """The home region is the tenancy's: without `tenancy.homeRegion` it is not answered."""
    tokens = (
        "oci:Identity/getTenancy:getTenancy",
        "oci:Identity/getRegionSubscriptions:getRegionSubscriptions",
    )
    for token in tokens:
        with pytest.raises(lookups.NoAnswer, match="homeRegion"):
            ask(token, tenancyId=TENANCY)


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize("name", [*APPROVED, "eu-frankfurt-1", "ap-singapore-1"])
def test_availability_domains_follow_the_catalogue(name: str) -> None:
    region = catalogue_region(name)
    ads = ask(ADS, name, compartmentId=TENANCY)["availabilityDomains"]
    assert len(ads) == region.ads
    label = {"us-ashburn-1": "US-ASHBURN", "us-phoenix-1": "PHX"}.get(name, name.upper())
    assert [a["name"].split(":")[1] for a in ads] == [f"{label}-AD-{n}" for n in range(1, region.ads + 1)]
    assert len({a["name"].split(":")[0] for a in ads}) == 1
    assert all(a["id"].startswith(f"ocid1.availabilitydomain.{region.realm}..") for a in ads)
    assert ask(ADS, name, compartmentId=TENANCY) == ask(ADS, name, compartmentId=TENANCY)  # deterministic


def test_an_availability_domain_by_number_and_fault_domains_of_another_region() -> None:
    second = ask("oci:Identity/getAvailabilityDomain:getAvailabilityDomain", "us-chicago-1", adNumber=2)
    assert second["name"].endswith(":US-CHICAGO-1-AD-2") and second["adNumber"] == 2
    with pytest.raises(lookups.NoAnswer):
        ask("oci:Identity/getAvailabilityDomain:getAvailabilityDomain", "us-sanjose-1", adNumber=2)
    fra_ad = ask(ADS, "eu-frankfurt-1")["availabilityDomains"][0]["name"]
    with pytest.raises(lookups.NoAnswer, match="is not one of region us-ashburn-1"):
        ask("oci:Identity/getFaultDomains:getFaultDomains", availabilityDomain=fra_ad, compartmentId=TENANCY)


def test_the_namespace_is_the_tenancys_from_every_region() -> None:
    token = "oci:ObjectStorage/getNamespace:getNamespace"
    answers = {ask(token, r, compartmentId=TENANCY)["namespace"] for r in APPROVED}
    assert len(answers) == 1
    assert ask(token, tenancy=lookups.Tenancy(namespace="axfixture"))["namespace"] == "axfixture"


def test_services_are_the_callers_regions() -> None:
    services = ask("oci:Core/getServices:getServices", "us-phoenix-1")["services"]
    assert {s["cidrBlock"] for s in services} == {
        "all-phx-services-in-oracle-services-network",
        "oci-phx-objectstorage",
    }
    assert all(s["id"].startswith("ocid1.service.oc1.phx.") for s in services)


def test_subscriptions_default_to_every_region_of_the_realm_the_safe_superset() -> None:
    """A program that deploys 'to every subscribed region' is judged for every region it could reach."""
    home = lookups.Tenancy(home_region="us-ashburn-1")
    subs = ask("oci:Identity/getRegionSubscriptions:getRegionSubscriptions", tenancy=home, tenancyId=TENANCY)
    names = [s["regionName"] for s in subs["regionSubscriptions"]]
    assert "eu-frankfurt-1" in names and "ap-singapore-1" in names
    assert "us-langley-1" not in names  # another realm: a tenancy cannot subscribe to it
    assert [s["regionName"] for s in subs["regionSubscriptions"] if s["isHomeRegion"]] == ["us-ashburn-1"]
    tenancy = ask("oci:Identity/getTenancy:getTenancy", tenancy=home, tenancyId=TENANCY)
    assert tenancy["homeRegionKey"] == "IAD"
    regions = ask("oci:Identity/getRegions:getRegions", "us-chicago-1")["regions"]
    assert {"key": "FRA", "name": "eu-frankfurt-1"} in regions


def test_aws_caller_identity_region_and_partition() -> None:
    config = {"allowedAccountIds": ["210987654321"]}
    token = "aws:index/getCallerIdentity:getCallerIdentity"
    ident = lookups.Lookups().answer(lookups.Caller(token, {}, "us-east-1", "legacy", config))
    assert ident["accountId"] == "210987654321" and ident["arn"].startswith("arn:aws:iam::210987654321:")
    region = ask("aws:index/getRegion:getRegion", "ap-southeast-1")
    assert region["region"] == "ap-southeast-1" and region["endpoint"] == "ec2.ap-southeast-1.amazonaws.com"
    assert ask("aws:index/getPartition:getPartition", "us-gov-west-1")["partition"] == "aws-us-gov"
    with pytest.raises(lookups.NoAnswer, match="AWS_REGION"):
        ask("aws:index/getRegion:getRegion", None)


# --------------------------------------------------------------------------- filters


def services(*filters: dict[str, Any]) -> list[str]:
    answer = ask("oci:Core/getServices:getServices", filters=list(filters))
    return [s["cidrBlock"] for s in answer["services"]]


def test_filters_as_terraform_provider_oci_applies_them() -> None:
    assert services({"name": "name", "values": ["OCI IAD Object Storage"]}) == ["oci-iad-objectstorage"]
    assert services({"name": "name", "values": ["Object Storage"]}) == []  # exact unless regex
    regex = {"name": "name", "values": ["Object Storage"], "regex": True}
    assert services(regex) == ["oci-iad-objectstorage"]
    assert services({"name": "cidr_block", "values": ["^all-", "^oci-"], "regex": True}) == [
        "all-iad-services-in-oracle-services-network",
        "oci-iad-objectstorage",
    ]
    # Several filters must all hold.
    all_services = {"name": "cidr_block", "values": ["^all-"], "regex": True}
    assert services(all_services, {"name": "name", "values": ["x"]}) == []
    with pytest.raises(lookups.NoAnswer, match="regular expression"):
        services({"name": "name", "values": ["("], "regex": True})


# --------------------------------------------------------------------------- fixtures files


def test_fixture_match_on_token_args_and_region_first_file_wins(tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_text(
        "lookups:\n"
        "  - {token: 'oci:Core/getImages:getImages', region: us-phoenix-1, result: {images: [{id: phx}]}}\n"
        "  - {token: 'oci:Core/getImages:getImages', args: {operatingSystem: Oracle Linux},\n"
        "     result: {images: [{id: mine}]}}\n"
    )
    answers = lookups.load(FIXTURE, [str(first)])
    image = "oci:Core/getImages:getImages"
    assert answers.answer(caller(image, operatingSystem="Oracle Linux"))["images"] == [{"id": "mine"}]
    phoenix = answers.answer(caller(image, "us-phoenix-1", operatingSystem="Oracle Linux"))
    assert phoenix["images"] == [{"id": "phx"}]
    # Read after the option's file: the project's own preflight-lookups.yaml (${key} filled).
    assert answers.sources == [str(first), "preflight-lookups.yaml"]
    only_project = lookups.load(FIXTURE)
    chicago = only_project.answer(caller(image, "us-chicago-1", operatingSystem="Oracle Linux"))
    assert chicago["images"][0]["id"] == "ocid1.image.oc1.ord.aaaaaaaalinux"
    with pytest.raises(lookups.NoAnswer):  # args that match no fixture, and no model
        answers.answer(caller(image, operatingSystem="Windows"))
    # The arguments are echoed, as the provider's data sources return their inputs.
    assert answers.answer(caller(image, operatingSystem="Oracle Linux"))["operatingSystem"] == "Oracle Linux"


def test_lookups_option_reaches_the_program(tmp_path: Path) -> None:
    override = tmp_path / "images.yaml"
    override.write_text(
        "lookups:\n  - {token: 'oci:Core/getImages:getImages',\n"
        "     result: {images: [{id: 'ocid1.image.oc1.${key}.override'}]}}\n"
    )
    result = synthesize_isolated(FIXTURE, "dev", lookup_files=[str(override)])
    assert result.outputs["image"] == "ocid1.image.oc1.iad.override"


IMAGES = "{token: 'oci:Core/getImages:getImages'"
BAD_FIXTURES = [
    ("[1, 2]", "expected a mapping"),
    ("lookup: []", "lookup: unknown key"),
    ("lookups: {a: 1}", "lookups: expected a list"),
    ("lookups: [{result: {}}]", "lookups[0].token: expected an invoke token"),
    (f"lookups: [{IMAGES}}}]", "lookups[0].result: expected a mapping"),
    (f"lookups: [{IMAGES}, result: {{}}, region: mars-1}}]", "lookups[0].region: 'mars-1'"),
    (f"lookups: [{IMAGES}, result: {{}}, when: x}}]", "lookups[0].when: unknown key"),
    ("tenancy: {homeRegion: us-ashburn-1, subscribedRegions: [us-phoenix-1]}", "home region us-ashburn-1"),
    ("tenancy: {home: us-ashburn-1}", "tenancy.home: unknown key"),
    ("lookups: [", "bad.yaml"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FIXTURES)
def test_a_bad_fixtures_file_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text + "\n")
    with pytest.raises(BadInput) as err:
        lookups.load(FIXTURE, [str(bad)])
    assert str(bad) in err.value.message and expected in err.value.message
    assert "\n" not in err.value.message


def test_a_bad_fixtures_file_is_exit_2_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("lookups: [{token: nope, result: {}}]\n")
    cmd = [sys.executable, "-m", "preflight", "plan", "--project-dir", str(FIXTURE), "--stack", "dev"]
    cmd += ["--lookups", str(bad)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"preflight: error: {bad}: lookups[0].token: "
        "expected an invoke token like oci:Core/getImages:getImages"
    ]


def test_diff_passes_the_offline_answers_and_synth_timeout_to_both_sides() -> None:
    args = argparse.Namespace(
        base="HEAD", stack_outputs=["a/b/c=x.json"], lookups=["l.yaml"], synth_timeout=12.0, format="json"
    )
    opts = pdiff.options_from_args(args)
    assert opts.stack_outputs == ["a/b/c=x.json"]
    assert opts.lookups == [str(Path("l.yaml").resolve())]
    assert opts.synth_timeout == 12.0
