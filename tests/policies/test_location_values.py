"""USDR-RES-08 on what prod and staging really declare: no location value is refused, and one is seen.

The cases (tests/policies/cases.py, `residency-location-values:*`) prove each form of a
location value one change from a compliant baseline. This proves the other half of the
requirement (issue 12 item 1, "keep it free of false positives on the prod and staging
stacks"): the policy reads every field of every resource of both stacks, as preflight
synthesizes and sends them, without a false positive; and the same stack with one service grant
pointed at Frankfurt is refused, so the check cannot pass by seeing nothing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from preflight.analyze import analyze_request
from preflight.model import ResourceRecord
from preflight.synth import synthesize
from stacks.policy_config import pack_properties
from stacks.settings import Settings
from tests.policies.cases import DYNAMIC, Case
from tests.policies.harness import Diag, InProcessPack, diags, full_config
from tests.policies.run_cases import case_config

ROOT = Path(__file__).resolve().parents[2]
POLICY = "residency-location-values"
SERVICE_GRANT = re.compile(r"^Allow service objectstorage-([a-z0-9-]+) to ")


def _findings(pack: InProcessPack, settings: Settings, records: list[ResourceRecord]) -> list[Diag]:
    properties = json.loads(json.dumps({k: v for k, v in pack_properties(settings).items() if v is not None}))
    pack.configure(full_config(properties, pack.names))
    providers = {f"{r.urn}::{r.id}": r for r in records if r.type.startswith("pulumi:providers:") and r.id}
    return [d for r in records for d in diags(pack.servicer.Analyze(analyze_request(r, providers), None))]


def _to_frankfurt(record: ResourceRecord) -> ResourceRecord:
    statements: list[Any] = [
        SERVICE_GRANT.sub("Allow service objectstorage-eu-frankfurt-1 to ", s) if isinstance(s, str) else s
        for s in record.inputs["statements"]
    ]
    return dataclasses.replace(record, inputs={**record.inputs, "statements": statements})


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_prod_and_staging_carry_only_approved_locations(
    stack: str, pack: InProcessPack, prod_settings: Settings, staging_settings: Settings
) -> None:
    settings = prod_settings if stack == "prod" else staging_settings
    records = synthesize(ROOT, stack).resources
    found = _findings(pack, settings, records)
    assert not [d for d in found if d.policy == POLICY], "\n".join(
        d.message for d in found if d.policy == POLICY
    )
    assert not [d for d in found if d.enforcement == "mandatory"], "the stack must still block nothing"

    # One service grant (free text, no region-named field) pointed at Frankfurt: seen, in that
    # field, naming the region.
    victim = next(
        r
        for r in records
        if r.type == "oci:Identity/policy:Policy"
        and any(isinstance(s, str) and SERVICE_GRANT.match(s) for s in r.inputs.get("statements") or [])
    )
    changed = [_to_frankfurt(r) if r is victim else r for r in records]
    found = [d for d in _findings(pack, settings, changed) if d.policy == POLICY]
    assert found and all(d.enforcement == "mandatory" for d in found), found
    assert any("statements." in d.message and "eu-frankfurt-1" in d.message for d in found), found


def test_a_finding_quotes_the_place_not_the_text_around_it(
    pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    """A location inside a long value (a script, a connection string that may hold a secret) is
    named by its host: the rest of the value never reaches a report."""
    script = "export PASSWORD=hunter2-do-not-print; copy --to objectstorage.eu-frankfurt-1.oraclecloud.com"
    res = DYNAMIC.set(hooks={"afterBackup": script})
    pack.configure(case_config(Case(POLICY, "text", (res,), None), prod_properties, pack.names))
    found = [d for d in pack.analyze(res) if d.policy == POLICY]
    assert len(found) == 1, found
    assert "hooks.afterBackup = 'objectstorage.eu-frankfurt-1.oraclecloud.com'" in found[0].message
    assert "hunter2" not in found[0].message and "PASSWORD" not in found[0].message
