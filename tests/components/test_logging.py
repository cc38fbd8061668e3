"""components/logging.py: the region's log group and the shared service-log declaration."""

from __future__ import annotations

import pulumi
import pytest

from components.logging import RegionLogging, RegionLoggingArgs, service_log
from tests.components.conftest import COMPARTMENT, LOG_GROUP, TAGS
from tests.components.harness import check_anatomy, synth, synth_component

TYPE = "usdr:logging:RegionLogging"


def build(**overrides: object):
    args = RegionLoggingArgs(
        **{"compartment_id": COMPARTMENT, "display_prefix": "usdr-test-iad", "tags": TAGS, **overrides}
    )
    return synth_component(lambda opts: RegionLogging("iad-logging", args, opts))


def test_anatomy_and_inventory() -> None:
    s = build()
    _, children = check_anatomy(s, TYPE, "iad-logging")
    assert s.counts(children) == {"oci:Logging/logGroup:LogGroup": 1}
    group = s.named("iad-logging-log-group")
    assert group.inputs["displayName"] == "usdr-test-iad-log-group", group.urn
    assert group.inputs["compartmentId"] == COMPARTMENT, group.urn
    assert group.tags() == TAGS, group.urn


def test_log_group_is_protected_by_default() -> None:
    assert build().named("iad-logging-log-group").protect, "the log group must be protected by default"
    assert not build(protect=False).named("iad-logging-log-group").protect


def test_service_log_declares_an_enabled_service_log() -> None:
    s = synth(
        lambda: service_log(
            "x-flow-log-data",
            display_name="x-flow-log-data",
            log_group_id=LOG_GROUP,
            service="flowlogs",
            resource="ocid1.subnet.oc1.iad.x",
            category="all",
            tags=TAGS,
            opts=pulumi.ResourceOptions(),
        )
    )
    log = s.named("x-flow-log-data")
    assert log.type == "oci:Logging/log:Log"
    assert log.inputs["logType"] == "SERVICE", log.urn
    assert log.inputs["isEnabled"] is True, log.urn
    assert log.inputs["retentionDuration"] == 180, log.urn
    assert log.inputs["logGroupId"] == LOG_GROUP, log.urn
    assert log.inputs["configuration"]["source"] == {
        "sourceType": "OCISERVICE",
        "service": "flowlogs",
        "resource": "ocid1.subnet.oc1.iad.x",
        "category": "all",
    }, log.urn


@pytest.mark.parametrize("days", [0, 45, 210])
def test_service_log_refuses_retention_oci_does_not_offer(days: int) -> None:
    with pytest.raises(ValueError, match=r"30\.\.180 days"):
        service_log(
            "x",
            display_name="x",
            log_group_id=LOG_GROUP,
            service="flowlogs",
            resource="r",
            category="all",
            tags=TAGS,
            opts=pulumi.ResourceOptions(),
            retention_days=days,
        )
