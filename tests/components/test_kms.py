"""components/kms.py: vault, one HSM AES-256 key per data class, rotation, DR-only replica."""

from __future__ import annotations

import pytest

from components.kms import KmsArgs, RegionKms
from tests.components.conftest import COMPARTMENT, TAGS
from tests.components.harness import Synth, check_anatomy, synth_component

TYPE = "usdr:kms:RegionKms"
CLASSES = ("user-content", "account", "messages")


def build(**overrides: object) -> Synth[RegionKms]:
    fields = {
        "compartment_id": COMPARTMENT,
        "display_prefix": "usdr-test-iad",
        "data_classes": CLASSES,
        "tags": TAGS,
    }
    args = KmsArgs(**{**fields, **overrides})
    return synth_component(lambda opts: RegionKms("iad-kms", args, opts))


def test_anatomy_and_inventory() -> None:
    s = build(replica_region="us-phoenix-1")
    _, children = check_anatomy(s, TYPE, "iad-kms")
    assert s.counts(children) == {
        "oci:Kms/key:Key": 3,
        "oci:Kms/vault:Vault": 1,
        "oci:Kms/vaultVerification:VaultVerification": 1,
    }
    assert {r.name for r in children} == {
        "iad-kms-vault",
        "iad-kms-vault-replica",
        *(f"iad-kms-key-{c}" for c in CLASSES),
    }


def test_secure_defaults() -> None:
    s = build()
    vault = s.named("iad-kms-vault")
    assert vault.inputs["vaultType"] == "VIRTUAL_PRIVATE", vault.urn
    assert vault.protect, f"{vault.urn} must be protected by default"
    endpoint = s.resolve(s.value.vault.management_endpoint)
    for c in CLASSES:
        key = s.named(f"iad-kms-key-{c}")
        assert key.inputs["keyShape"] == {"algorithm": "AES", "length": 32}, key.urn  # 32 bytes = 256 bits
        assert key.inputs["protectionMode"] == "HSM", key.urn
        assert key.inputs["isAutoRotationEnabled"] is True, key.urn
        assert key.inputs["autoKeyRotationDetails"]["rotationIntervalInDays"] == 90, key.urn
        assert key.inputs["managementEndpoint"] == endpoint, f"{key.urn}: not created in the region's vault"
        assert key.protect, f"{key.urn} must be protected by default"
        assert key.tags() == {**TAGS, "data-class": c}, key.urn
    # No replica unless asked for one (the estate asks only for the DR partner).
    assert not s.of_type("oci:Kms/vaultVerification:VaultVerification")


def test_settings_flow_through() -> None:
    s = build(rotation_days=60, protect=False, replica_region="us-phoenix-1")
    assert not s.named("iad-kms-vault").protect
    key = s.named("iad-kms-key-account")
    assert key.inputs["autoKeyRotationDetails"]["rotationIntervalInDays"] == 60, key.urn
    assert not key.protect, key.urn
    replica = s.named("iad-kms-vault-replica")
    assert replica.inputs == {
        "vaultId": s.named("iad-kms-vault").id,
        "replicaRegion": "us-phoenix-1",
    }, replica.urn


def test_key_ids_are_exported_per_class() -> None:
    s = build()
    assert s.resolve(s.value.key_ids) == {c: s.named(f"iad-kms-key-{c}").id for c in CLASSES}


@pytest.mark.parametrize("days", [0, 59, 366])
def test_rotation_interval_is_what_oci_accepts(days: int) -> None:
    """60-365 days: pulumi_oci.kms.KeyAutoKeyRotationDetailsArgs.rotation_interval_in_days ("the
    interval should between 60 day and 365 days") and OCI's "Enabling and Updating Automatic Key
    Rotation"."""
    with pytest.raises(ValueError, match="rotation_days"):
        build(rotation_days=days)


def test_a_default_vault_is_refused_because_its_keys_cannot_auto_rotate() -> None:
    """OCI docs, "Enabling and Updating Automatic Key Rotation": "This feature is only available
    for virtual private vaults"."""
    with pytest.raises(ValueError, match="VIRTUAL_PRIVATE"):
        build(vault_type="DEFAULT")
