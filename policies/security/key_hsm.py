"""USDR-SEC-05: keys are HSM-protected.

`protectionMode` must be `HSM`, set explicitly: the mode is fixed at creation, so intent is
recorded in code rather than left to an API default. SOFTWARE keys leave key material in
software; EXTERNAL keys live in a key manager the catalogue cannot place.
"""

from __future__ import annotations

from collections.abc import Iterator

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown

META = Meta(
    name="security-key-hsm",
    control="USDR-SEC-05",
    title="Keys are HSM-protected",
    description="Every oci:Kms key sets protectionMode HSM.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    types=("oci:Kms/key:Key",),
    remediation='Create the key with `protection_mode="HSM"`. The mode cannot be changed: create a new '
    "HSM key, re-encrypt (rotate buckets and secrets to it), then schedule the old key's deletion.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    mode = res.props.get("protectionMode")
    if is_unknown(mode):
        yield Finding("protectionMode is unknown during preview: the key cannot be proven HSM-protected")
    elif mode != "HSM":
        shown = "not set" if mode is None else repr(mode)
        yield Finding(f"protectionMode is {shown}, not 'HSM'")


POLICY = resource_policy(META, check)
