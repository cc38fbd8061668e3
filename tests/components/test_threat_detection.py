"""components/threat_detection.py: Cloud Guard target with Oracle recipes, optional security zone."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from components.threat_detection import (
    ACTIVITY_RECIPE,
    CONFIGURATION_RECIPE,
    RESPONDER_RECIPE,
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


def build(security_zone: bool = True, answer_lookups: bool = True) -> Synth[ThreatDetection]:
    a = ThreatDetectionArgs(
        TENANCY,
        DATA,
        SECURITY,
        "usdr-test",
        TAGS,
        security_zone=security_zone,
        also_watched={"security": SECURITY, "network": NETWORK},
    )
    return synth_component(
        lambda opts: ThreatDetection("threat-detection", a, opts), answer_lookups=answer_lookups
    )


def test_anatomy_and_inventory() -> None:
    s = build()
    _, children = check_anatomy(s, TYPE, "threat-detection")
    assert s.counts(children) == {
        "oci:CloudGuard/securityRecipe:SecurityRecipe": 1,
        "oci:CloudGuard/securityZone:SecurityZone": 1,
        "oci:CloudGuard/target:Target": 3,
    }


def test_target_watches_the_us_data_compartment_with_oracle_recipes() -> None:
    s = build()
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
    assert s.named("threat-detection-target").urn in zone.dependencies, (
        f"{zone.urn}: created before the target"
    )


def test_no_zone_when_the_stack_does_not_ask() -> None:
    s = build(security_zone=False)
    assert s.counts(s.children_of(s.of_type(TYPE)[0])) == {"oci:CloudGuard/target:Target": 3}


def test_every_estate_compartment_is_watched_with_the_same_recipes() -> None:
    s = build()
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
    s = build(answer_lookups=False)
    target = s.named("threat-detection-target")
    assert target.inputs["targetDetectorRecipes"] == [{}, {}], target.urn  # unknown ids are dropped
