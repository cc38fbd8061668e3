"""components/threat_detection.py: Cloud Guard enabled with its reporting region, targets with
Oracle recipes, optional security zone, in the order the service requires (issue 13 item 4)."""

from __future__ import annotations

from types import SimpleNamespace

import pulumi
import pulumi_oci as oci
import pytest

from components.threat_detection import (
    ACTIVITY_RECIPE,
    CONFIGURATION_RECIPE,
    RESPONDER_RECIPE,
    SERVICE_STATEMENTS,
    ThreatDetection,
    ThreatDetectionArgs,
    _oracle_recipe_id,
)
from tests.components.conftest import TAGS
from tests.components.harness import SECURITY_POLICY_IDS, Synth, check_anatomy, synth_component

TYPE = "usdr:security:ThreatDetection"
TENANCY = "ocid1.tenancy.oc1..aaaatesttenancy"
DATA = "ocid1.compartment.oc1..usdata"
SECURITY = "ocid1.compartment.oc1..security"
NETWORK = "ocid1.compartment.oc1..network"


def build(
    security_zone: bool = True, answer_lookups: bool = True, grant: bool = True
) -> Synth[ThreatDetection]:
    def factory(opts: pulumi.ResourceOptions) -> ThreatDetection:
        # Stands for the propagation wait after Cloud Guard's service policy (stacks/estate.py).
        after = (
            (
                oci.identity.Policy(
                    "cloudguard-grant",
                    compartment_id=TENANCY,
                    name="cg",
                    description="cg",
                    statements=list(SERVICE_STATEMENTS),
                    opts=opts,
                ),
            )
            if grant
            else ()
        )
        a = ThreatDetectionArgs(
            TENANCY,
            DATA,
            SECURITY,
            "usdr-test",
            TAGS,
            security_zone=security_zone,
            also_watched={"security": SECURITY, "network": NETWORK},
            reporting_region="us-ashburn-1",
            after=after,
        )
        return ThreatDetection("threat-detection", a, opts)

    return synth_component(factory, answer_lookups=answer_lookups)


def test_anatomy_and_inventory() -> None:
    s = build(grant=False)
    _, children = check_anatomy(s, TYPE, "threat-detection")
    assert s.counts(children) == {
        "oci:CloudGuard/cloudGuardConfiguration:CloudGuardConfiguration": 1,
        "oci:CloudGuard/securityRecipe:SecurityRecipe": 1,
        "oci:CloudGuard/securityZone:SecurityZone": 1,
        "oci:CloudGuard/target:Target": 2,  # security, network: the zone makes the US data one
    }


def test_cloud_guard_is_enabled_in_the_tenancy_with_its_reporting_region() -> None:
    s = build()
    config = s.named("threat-detection-configuration")
    assert config.inputs["compartmentId"] == TENANCY, config.urn
    assert config.inputs["status"] == "ENABLED", config.urn
    assert config.inputs["reportingRegion"] == "us-ashburn-1", config.urn
    assert config.inputs["selfManageResources"] is False, config.urn


def test_a_fresh_tenancy_enables_cloud_guard_before_anything_uses_it() -> None:
    """Order the service requires: policy (its wait) -> configuration -> lookups -> targets/zone.
    Core Landing Zone README troubleshooting item 11: enabling right after the policy is a 404;
    Security Zones docs: "you must enable Cloud Guard in the tenancy before creating a security
    zone"; on a fresh tenancy the Oracle-managed recipes exist only once Cloud Guard is enabled."""
    s = build()
    config = s.named("threat-detection-configuration")
    assert s.named("cloudguard-grant").urn in config.dependencies, (
        f"{config.urn}: does not wait for its policy"
    )
    for r in s.resources:
        if r.custom and r.type.startswith("oci:CloudGuard/") and r.urn != config.urn:
            assert config.urn in r.dependencies, f"{r.urn}: not after Cloud Guard is enabled"
    position = s.resources.index(config)
    cloud_guard_lookups = [i for i in s.invokes if i.token.startswith("oci:CloudGuard/")]
    assert len(cloud_guard_lookups) == 4  # 2 detector recipes, the responder recipe, zone policies
    for i in cloud_guard_lookups:
        assert i.registered_before > position, f"{i.token} asked before Cloud Guard was enabled"


def test_a_reporting_region_is_required() -> None:
    a = ThreatDetectionArgs(TENANCY, DATA, SECURITY, "usdr-test", TAGS)
    with pytest.raises(ValueError, match="reporting region"):
        synth_component(lambda opts: ThreatDetection("threat-detection", a, opts))


def test_the_service_statements_are_oracles() -> None:
    # Core Landing Zone iam_service_policies.tf `cloud_guard_statements`; Cloud Guard docs,
    # "Prerequisites" -> IAM "Common Policies". Both `in tenancy`: the policy lives in the root.
    assert SERVICE_STATEMENTS == (
        "Allow service cloudguard to read all-resources in tenancy",
        "Allow service cloudguard to use network-security-groups in tenancy",
    )


def test_target_watches_the_us_data_compartment_with_oracle_recipes() -> None:
    s = build(security_zone=False)
    target = s.named("threat-detection-target")
    assert target.inputs["targetResourceType"] == "COMPARTMENT", target.urn
    assert target.inputs["targetResourceId"] == DATA, target.urn
    assert target.inputs["compartmentId"] == SECURITY, target.urn
    lookups = {i.args.get("displayName"): i for i in s.invokes if "Recipes" in i.token}
    assert set(lookups) == {CONFIGURATION_RECIPE, ACTIVITY_RECIPE, RESPONDER_RECIPE}
    assert all(i.args["compartmentId"] == TENANCY for i in lookups.values())
    detectors = [d["detectorRecipeId"] for d in target.inputs["targetDetectorRecipes"]]
    assert detectors == [
        "ocid1.cloudguarddetectorrecipe.oc1.iad.ociconfigurationdetectorrecipe",
        "ocid1.cloudguarddetectorrecipe.oc1.iad.ociactivitydetectorrecipe",
    ], target.urn
    responders = [r["responderRecipeId"] for r in target.inputs["targetResponderRecipes"]]
    assert responders == ["ocid1.cloudguardresponderrecipe.oc1.iad.ociresponderrecipe"], target.urn


def test_security_zone_applies_every_policy_to_the_us_data_compartment() -> None:
    s = build()
    recipe = s.named("threat-detection-zone-recipe")
    assert recipe.inputs["securityPolicies"] == sorted(SECURITY_POLICY_IDS), recipe.urn
    zone = s.named("threat-detection-zone")
    assert zone.inputs["compartmentId"] == DATA, zone.urn
    assert zone.inputs["securityZoneRecipeId"] == recipe.id, zone.urn


def test_a_zoned_compartment_gets_no_second_target() -> None:
    """Creating a zone deletes any target on its compartment and makes a security zone target
    (Security Zones docs, "Creating a Security Zone"; oracle/terraform-provider-oci#2390): ours
    would be deleted by the service, and every refresh would want it back."""
    s = build()
    zone = s.named("threat-detection-zone")
    watched = [t.inputs["targetResourceId"] for t in s.of_type("oci:CloudGuard/target:Target")]
    assert zone.inputs["compartmentId"] not in watched, f"{zone.urn}: its compartment also has our target"


def test_no_zone_when_the_stack_does_not_ask() -> None:
    s = build(security_zone=False)
    assert s.counts(s.children_of(s.of_type(TYPE)[0])) == {
        "oci:CloudGuard/cloudGuardConfiguration:CloudGuardConfiguration": 1,
        "oci:CloudGuard/target:Target": 3,
    }


def test_every_estate_compartment_is_watched_with_the_same_recipes() -> None:
    s = build(security_zone=False)
    targets = {t.inputs["targetResourceId"]: t for t in s.of_type("oci:CloudGuard/target:Target")}
    assert set(targets) == {DATA, SECURITY, NETWORK}
    recipes = {
        rid: sorted(d["detectorRecipeId"] for d in t.inputs["targetDetectorRecipes"])
        for rid, t in targets.items()
    }
    assert recipes[SECURITY] == recipes[NETWORK] == recipes[DATA], recipes


def test_an_answered_lookup_without_the_oracle_recipe_fails_loudly() -> None:
    clone = SimpleNamespace(display_name=CONFIGURATION_RECIPE, owner="CUSTOMER", id="x")
    with pytest.raises(LookupError, match="enable Cloud Guard"):
        _oracle_recipe_id([SimpleNamespace(items=[clone])], CONFIGURATION_RECIPE)


def test_offline_synthesis_leaves_recipe_ids_unknown() -> None:
    s = build(security_zone=False, answer_lookups=False)
    target = s.named("threat-detection-target")
    assert target.inputs["targetDetectorRecipes"] == [{}, {}], target.urn  # unknown ids are dropped
