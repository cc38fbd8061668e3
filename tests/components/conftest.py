"""Fixtures for the component tests: a mocks harness (harness.py) and IAD-like inputs.

Each test builds one component on an explicit `oci.Provider` under Pulumi mocks, with the
inputs the estate would give it for us-ashburn-1 in prod (two legacy sites linked), and reads
what the engine would have been asked to register.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from components.legacy_links import LegacyLink

COMPARTMENT = "ocid1.compartment.oc1..aaaatestcompartment"
LOG_GROUP = "ocid1.loggroup.oc1.iad.aaaatestloggroup"
TAGS = {"data-residency": "us-only", "stack": "test", "managed-by": "pulumi/us-data-residency"}


# The two sites prod links to us-ashburn-1: a replica site with two store addresses, a frozen one.
LINKS = (
    LegacyLink(
        "legacy-us-east",
        IPv4Network("172.16.0.0/16"),
        "198.51.100.10",
        (IPv4Address("172.16.10.10"), IPv4Address("172.16.10.11")),
        replica=True,
    ),
    LegacyLink("legacy-sg", IPv4Network("172.17.0.0/16"), "198.51.100.20", (IPv4Address("172.17.10.10"),)),
)


@pytest.fixture
def links() -> tuple[LegacyLink, ...]:
    return LINKS
