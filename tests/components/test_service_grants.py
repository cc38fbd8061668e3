"""components/service_grants.py: the IAM policies of the services the estate enables."""

from __future__ import annotations

import pytest

from components.service_grants import ServiceGrants, ServiceGrantsArgs, ServicePolicy
from components.threat_detection import SERVICE_STATEMENTS
from tests.components.conftest import TAGS
from tests.components.harness import check_anatomy, synth_component

TENANCY = "ocid1.tenancy.oc1..aaaatesttenancy"


def test_one_policy_per_service_in_the_given_compartment() -> None:
    a = ServiceGrantsArgs("usdr-test", {"cloudguard": ServicePolicy(TENANCY, "cg", SERVICE_STATEMENTS)}, TAGS)
    s = synth_component(lambda opts: ServiceGrants("service-grants", a, opts))
    _, children = check_anatomy(s, "usdr:access:ServiceGrants", "service-grants")
    (policy,) = children
    assert policy.inputs["compartmentId"] == TENANCY  # `in tenancy` statements live in the root
    assert policy.inputs["name"] == "usdr-test-cloudguard-service"
    assert policy.inputs["statements"] == list(SERVICE_STATEMENTS)


def test_an_empty_policy_is_refused() -> None:
    a = ServiceGrantsArgs("usdr-test", {"x": ServicePolicy(TENANCY, "x", ())}, TAGS)
    with pytest.raises(ValueError, match="no statement for x"):
        synth_component(lambda opts: ServiceGrants("g", a, opts))
