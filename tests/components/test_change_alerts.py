"""components/change_alerts.py: network and key changes, and Cloud Guard problems, announced
per region on the break-glass mechanism (CIS OCI 4.8-4.12, 4.15; issue 13)."""

from __future__ import annotations

import json

import pytest

from components.break_glass import IAM_CHANGE_EVENTS
from components.change_alerts import (
    CLOUD_GUARD_EVENTS,
    KEY_CHANGE_EVENTS,
    NETWORK_CHANGE_EVENTS,
    ChangeAlerts,
    ChangeAlertsArgs,
)
from tests.components.conftest import TAGS
from tests.components.harness import check_anatomy, synth_component

TENANCY = "ocid1.tenancy.oc1..aaaatesttenancy"
SECURITY = "ocid1.compartment.oc1..aaaasecurity"
TOPIC = "ocid1.onstopic.oc1.iad.breakglass"


def args(**kw: object) -> ChangeAlertsArgs:
    base: dict[str, object] = {
        "tenancy_ocid": TENANCY,
        "topic_compartment_id": SECURITY,
        "display_prefix": "usdr-test-phx",
        "notify": ("security@example.com",),
        "tags": TAGS,
    }
    return ChangeAlertsArgs(**{**base, **kw})  # type: ignore[arg-type]


def test_a_region_away_from_home_has_its_own_topic_and_both_rules() -> None:
    s = synth_component(lambda opts: ChangeAlerts("phx-change-alerts", args(), opts), region="us-phoenix-1")
    _, children = check_anatomy(s, "usdr:monitoring:ChangeAlerts", "phx-change-alerts")
    assert s.counts(children) == {
        "oci:Events/rule:Rule": 2,
        "oci:Ons/notificationTopic:NotificationTopic": 1,
        "oci:Ons/subscription:Subscription": 1,
    }
    topic = s.named("phx-change-alerts-topic")
    assert topic.inputs["compartmentId"] == SECURITY
    assert s.named("phx-change-alerts-notify-0").inputs["endpoint"] == "security@example.com"
    wanted = {
        "phx-change-alerts-network-changes": NETWORK_CHANGE_EVENTS,
        "phx-change-alerts-key-changes": KEY_CHANGE_EVENTS,
    }
    for name, events in wanted.items():
        rule = s.named(name)
        # The root compartment: a rule sees its compartment and every child (pulumi-oci events.Rule).
        assert rule.inputs["compartmentId"] == TENANCY, rule.urn
        assert rule.inputs["isEnabled"] is True, rule.urn
        assert json.loads(rule.inputs["condition"]) == {"eventType": list(events)}, rule.urn
        (action,) = rule.inputs["actions"]["action"]
        assert action["actionType"] == "ONS" and action["isEnabled"] is True, rule.urn
        assert topic.urn in rule.dependencies, f"{rule.urn} does not publish to the region's topic"


def test_at_home_the_rules_publish_to_the_break_glass_topic_and_announce_cloud_guard() -> None:
    a = args(topic_id=TOPIC, cloud_guard_problems=True)
    s = synth_component(lambda opts: ChangeAlerts("iad-change-alerts", a, opts))
    assert s.counts().get("oci:Ons/notificationTopic:NotificationTopic") is None  # no second topic
    rules = {r.name: r for r in s.of_type("oci:Events/rule:Rule")}
    assert set(rules) == {
        "iad-change-alerts-network-changes",
        "iad-change-alerts-key-changes",
        "iad-change-alerts-cloud-guard-problems",
    }
    for rule in rules.values():
        assert rule.inputs["actions"]["action"][0]["topicId"] == TOPIC, rule.urn  # the break-glass topic
    problems = json.loads(rules["iad-change-alerts-cloud-guard-problems"].inputs["condition"])
    assert problems == {"eventType": list(CLOUD_GUARD_EVENTS)}


def test_the_event_types_are_the_cis_ones() -> None:
    """CIS OCI 4.7-4.12 and 4.15 as Core Landing Zone lists them (terraform-oci-modules-
    observability events/preconfigured_events.tf, categories iam, network, cloudguard)."""
    vcn = "com.oraclecloud.virtualnetwork."
    for op in ("createvcn", "updatevcn", "deletevcn"):  # 4.8
        assert vcn + op in NETWORK_CHANGE_EVENTS
    for op in ("updateroutetable", "changeroutetablecompartment"):  # 4.9
        assert vcn + op in NETWORK_CHANGE_EVENTS
    for op in ("updatesecuritylist", "changesecuritylistcompartment"):  # 4.10
        assert vcn + op in NETWORK_CHANGE_EVENTS
    assert vcn + "updatenetworksecuritygroupsecurityrules" in NETWORK_CHANGE_EVENTS  # 4.11
    for t in (vcn + "updatedrgattachment", "com.oraclecloud.natgateway.updatenatgateway"):  # 4.12
        assert t in NETWORK_CHANGE_EVENTS
    assert "com.oraclecloud.servicegateway.detachserviceid" in NETWORK_CHANGE_EVENTS
    assert len(set(NETWORK_CHANGE_EVENTS)) == len(NETWORK_CHANGE_EVENTS) == 40
    for op in ("updateusercapabilities", "updateuserstate"):  # 4.7
        assert f"com.oraclecloud.identitycontrolplane.{op}" in IAM_CHANGE_EVENTS
    # OCI docs, "Events for Vaults and Keys": what makes data unreadable or moves a key.
    kms = "com.oraclecloud.keymanagementservice."
    for op in ("disablekey", "schedulekeydeletion", "changekeycompartment", "schedulevaultdeletion"):
        assert f"{kms}{op}.end" in KEY_CHANGE_EVENTS
    assert CLOUD_GUARD_EVENTS[0] == "com.oraclecloud.cloudguard.problemdetected"  # 4.15


def test_a_topic_of_its_own_needs_someone_to_tell() -> None:
    with pytest.raises(ValueError, match="nobody to notify"):
        synth_component(lambda opts: ChangeAlerts("c", args(notify=()), opts))
