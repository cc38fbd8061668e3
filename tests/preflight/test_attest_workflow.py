"""The deploy workflow attests what it deployed (issue 14, items 2 and 4): after `dev.py up`, the
state is exported and attested, both statements are signed keylessly by actions/attest under
the project's predicate type, and attest-diff runs last (a difference fails the deploy job)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from preflight.attest import PREDICATE_TYPE

DEPLOY = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "deploy.yml"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_deploy_attests_the_plan_and_the_deployed_state(stack: str) -> None:
    job = yaml.safe_load(DEPLOY.read_text(encoding="utf-8"))["jobs"][stack]
    assert job["permissions"] == {"contents": "read", "id-token": "write", "attestations": "write"}
    steps = job["steps"]
    runs = [str(s.get("run", "")) for s in steps]
    uses = [str(s.get("uses", "")) for s in steps]
    gate = next(i for i, r in enumerate(runs) if "dev.py gate" in r)
    assert "--attestation out/planned.intoto.json" in runs[gate]
    up = next(i for i, r in enumerate(runs) if "dev.py up" in r)
    state = next(i for i, r in enumerate(runs) if "preflight attest-state" in r)
    assert "pulumi stack export" in runs[state] and 'rm -f "${RUNNER_TEMP}/state.json"' in runs[state]
    attests = [i for i, u in enumerate(uses) if u.startswith("actions/attest@")]
    assert len(attests) == 2 and up < state < min(attests)
    subjects = {steps[i]["with"]["subject-path"] for i in attests}
    assert subjects == {"out/planned.intoto.json", "out/deployed.intoto.json"}
    for i in attests:
        assert steps[i]["with"]["predicate-type"] == PREDICATE_TYPE, "one predicate type, the code's"
    diff = next(i for i, r in enumerate(runs) if "preflight attest-diff" in r)
    assert diff == len(steps) - 1, "the comparison runs last, after the attestations are stored"
