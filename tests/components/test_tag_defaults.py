"""components/tag_defaults.py: CreatedBy defaults on the estate's compartments (CIS OCI 4.1)."""

from __future__ import annotations

import pytest

from components.tag_defaults import TagDefaults, TagDefaultsArgs
from tests.components.conftest import TAGS
from tests.components.harness import Synth, check_anatomy, synth_component

TENANCY = "ocid1.tenancy.oc1..aaaatesttenancy"
COMPARTMENTS = {role: f"ocid1.compartment.oc1..{role}" for role in ("us-data", "network", "security")}


def build(namespace: str = "usdr-test") -> Synth[TagDefaults]:
    args = TagDefaultsArgs(tenancy_ocid=TENANCY, namespace=namespace, compartment_ids=COMPARTMENTS, tags=TAGS)
    return synth_component(lambda opts: TagDefaults("tag-defaults", args, opts))


def test_anatomy() -> None:
    s = build()
    _, children = check_anatomy(s, "usdr:tagging:TagDefaults", "tag-defaults")
    assert s.counts(children) == {
        "oci:Identity/tagNamespace:TagNamespace": 1,
        "oci:Identity/tag:Tag": 1,
        "oci:Identity/tagDefault:TagDefault": 3,
    }


def test_every_compartment_records_who_created_each_resource() -> None:
    """CIS OCI 4.1 ("Ensure default tags are used on resources"): Oracle's CIS check looks for a
    tag default whose value holds `${iam.principal.name}`. The value must reach the provider
    literally: neither Python nor Pulumi interpolates it."""
    s = build()
    namespace = s.named("tag-defaults-namespace")
    assert namespace.inputs["compartmentId"] == TENANCY and namespace.inputs["name"] == "usdr-test"
    tag = s.named("tag-defaults-created-by")
    assert tag.inputs["tagNamespaceId"] == namespace.id and tag.inputs["name"] == "CreatedBy"
    defaults = {d.inputs["compartmentId"]: d for d in s.of_type("oci:Identity/tagDefault:TagDefault")}
    assert set(defaults) == set(COMPARTMENTS.values())
    for d in defaults.values():
        assert d.inputs["tagDefinitionId"] == tag.id, d.urn
        assert d.inputs["value"] == "${iam.principal.name}", d.urn
        # A required default blocks every create that cannot set it (pulumi-oci TagDefault).
        assert d.inputs["isRequired"] is False, d.urn


@pytest.mark.parametrize("bad", ["", "usdr prod", "usdr.prod"])
def test_a_namespace_oci_would_refuse_fails_before_anything_is_registered(bad: str) -> None:
    with pytest.raises(ValueError, match="no spaces or periods"):
        build(bad)
