"""Stack references answered from `--stack-outputs` files, as the engine reads them
(a `pulumi:pulumi:StackReference` read whose state is {name, outputs, secretOutputNames};
sdk/python/lib/pulumi/stack_reference.py marks the outputs named secret)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.errors import BadInput
from preflight.project import SECRET_PLACEHOLDER
from preflight.synth import synthesize, synthesize_isolated

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "stackref"
GOOD = Path(__file__).parent / "fixtures" / "packs" / "good"
REF = "acme/network/prod"


@pytest.mark.parametrize("file", ["outputs.json", "export.json"])
def test_outputs_of_either_format_reach_the_program_and_secrets_stay_secret(file: str) -> None:
    """`pulumi stack output --json` shows a secret as `[secret]`; `pulumi stack export
    --show-secrets` holds its plaintext in a secret object: either way the program sees a
    secret Output and the record holds the placeholder, never the plaintext."""
    result = synthesize(FIXTURE, "dev", stack_outputs=[f"{REF}={FIXTURE / file}"])
    replica = next(r for r in result.resources if r.name == "replica")
    assert replica.region == "ap-singapore-1"
    assert replica.inputs["metadata"] == {"token": SECRET_PLACEHOLDER}
    assert "PLANTED-STACKREF-SECRET" not in json.dumps(result.to_dict())


def test_a_reference_without_outputs_is_bad_input_naming_it_and_the_option() -> None:
    with pytest.raises(BadInput) as err:
        synthesize_isolated(FIXTURE, "dev")
    assert REF in err.value.message
    assert f"--stack-outputs {REF}=FILE" in err.value.message


@pytest.mark.slow
def test_the_gate_blocks_a_destination_that_came_from_another_stack() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    base = [sys.executable, "-m", "preflight", "gate", "--project-dir", str(FIXTURE), "--stack", "dev"]
    base += ["--policy-pack", str(GOOD), "--no-checkov", "--no-progress", "--format", "json"]
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 300, "check": False}
    proc = subprocess.run([*base, "--stack-outputs", f"{REF}={FIXTURE / 'export.json'}"], **run)  # type: ignore[call-overload]
    assert proc.returncode == 1, proc.stderr
    blocking = [f for f in json.loads(proc.stdout)["findings"] if f["enforcement"] == "mandatory"]
    assert [f["name"] for f in blocking] == ["replica"]
    assert "PLANTED-STACKREF-SECRET" not in proc.stdout + proc.stderr
    proc = subprocess.run(base, **run)  # type: ignore[call-overload]
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"preflight: error: stack reference {REF} has no outputs offline: give them with "
        f"--stack-outputs {REF}=FILE (pulumi stack output --json or pulumi stack export)"
    ]
