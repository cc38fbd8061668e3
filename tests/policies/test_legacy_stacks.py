"""The legacy rules on what prod and staging really declare: the component's policies pass them.

`stacks.legacy.build_legacy_sites` runs under mocks (tests/legacy/conftest.py), every
registered resource goes to the in-process pack as the engine would send it (provider props,
protect, the `bucket` dependency), with the config `stacks.policy_config` generates for that
stack. No legacy rule may report anything, and the same estate with one bucket policy
loosened must be reported, so the check cannot pass by seeing nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.policy_config import pack_properties
from stacks.settings import Settings
from tests.legacy.conftest import Registered, Synth, synth
from tests.policies.harness import Diag, InProcessPack, Prov, Res, full_config

LEGACY_POLICIES = (
    "legacy-replica-writers",
    "legacy-replica-lockdown",
    "legacy-replica-expiry",
    "legacy-replica-retention",
    "legacy-bucket-inline-conflicts",
    "legacy-data-destinations",
)


def _resources(s: Synth) -> list[Res]:
    providers: dict[str, Prov] = {}
    for r in s.resources:
        if r.type.startswith("pulumi:providers:"):
            props = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in r.inputs.items()}
            providers[r.urn] = Prov(r.type, r.name, props)
    names = {r.urn: r.name for r in s.resources}
    out = []
    for r in s.resources:
        if not r.custom or r.type.startswith("pulumi:providers:"):
            continue
        prov = providers.get(r.provider.rsplit("::", 1)[0]) if r.provider else None
        deps = [names[u] for u in r.dependencies if u in names]
        out.append(Res(r.type, r.name, _wire(r), prov, protect=r.protect, deps={"bucket": deps}))
    return out


def _wire(r: Registered) -> dict[str, Any]:
    wire: dict[str, Any] = json.loads(json.dumps(r.inputs))
    return wire


def _legacy_findings(pack: InProcessPack, settings: Settings, resources: list[Res]) -> list[Diag]:
    properties = json.loads(json.dumps({k: v for k, v in pack_properties(settings).items() if v is not None}))
    pack.configure(full_config(properties, pack.names))
    found = pack.analyze_stack(resources) + [d for r in resources for d in pack.analyze(r)]
    return [d for d in found if d.policy in LEGACY_POLICIES]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_stacks_legacy_sites_pass_every_legacy_rule(
    stack: str, pack: InProcessPack, prod_settings: Settings, staging_settings: Settings
) -> None:
    from stacks.legacy import build_legacy_sites

    settings = prod_settings if stack == "prod" else staging_settings
    s = synth(lambda: build_legacy_sites(settings), stack=stack)
    assert s.error is None, s.error
    resources = _resources(s)
    policies = [r for r in resources if r.type == "aws:s3/bucketPolicy:BucketPolicy"]
    assert policies and all(r.provider is not None for r in policies)
    found = _legacy_findings(pack, settings, resources)
    assert not found, "\n".join(f"{d.policy}: {d.message}" for d in found)

    # One statement dropped from one replica policy: the rules must see it.
    victim = next(r for r in policies if not r.props["bucket"].endswith("-access-logs"))
    doc = json.loads(victim.props["policy"])
    doc["Statement"] = [st for st in doc["Statement"] if st.get("Sid") != "DenyReadsExceptRestore"]
    loosened = [r.set(policy=json.dumps(doc)) if r is victim else r for r in resources]
    found = _legacy_findings(pack, settings, loosened)
    assert any(d.policy == "legacy-replica-lockdown" and "s3:GetObject" in d.message for d in found), found
