"""Engine-style URNs and deterministic mock ids."""

from __future__ import annotations

import hashlib

from preflight.catalogue import realm_of

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
_GLOBAL_OCI = ("oci:Identity/", "oci:Limits/")


def make_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """The engine's URN rule: the parent's whole qualified type chain, except the root stack's."""
    qualified = type_
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def package_of(type_: str) -> str:
    if type_.startswith(PROVIDER_PREFIX):
        return type_[len(PROVIDER_PREFIX) :]
    return type_.split(":", 1)[0]


def mock_id(urn: str, type_: str, region: str | None) -> str:
    digest = hashlib.sha256(urn.encode()).hexdigest()
    if type_.startswith(PROVIDER_PREFIX):
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    if type_.startswith("oci:"):
        kind = type_.rsplit(":", 1)[-1].lower()
        realm = realm_of(region) or "oc1"
        # IAM and quota OCIDs are tenancy-wide: OCI leaves their region segment empty.
        segment = "" if type_.startswith(_GLOBAL_OCI) else (region or "")
        return f"ocid1.{kind}.{realm}.{segment}.amaaaaaa{digest[:52]}"
    return f"{type_.rsplit(':', 1)[-1].lower()}-{digest[:16]}"
