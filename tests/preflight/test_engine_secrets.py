"""Secrets however the program marks them are recorded as `[secret]`, never as plaintext."""

from __future__ import annotations

import json
from pathlib import Path

from preflight.project import SECRET_PLACEHOLDER
from preflight.synth import synthesize

FIXTURES = Path(__file__).parent / "fixtures"
PLANTED = "PLANTED-ASO-SECRET-1"


def test_additional_secret_outputs_are_recorded_secret_in_inputs_outputs_and_exports() -> None:
    """`additional_secret_outputs` makes the engine mark those outputs secret
    (pkg/resource/deploy: the step executor wraps `AdditionalSecretOutputs` in secrets), so the
    program sees a secret Output and an export of it is secret too. Nothing recorded may hold
    the plaintext: every report format is built from these records."""
    result = synthesize(FIXTURES / "secretoutputs", "dev")
    bucket = next(r for r in result.resources if r.name == "tokens")
    assert bucket.inputs["metadata"] == SECRET_PLACEHOLDER
    assert bucket.outputs["metadata"] == SECRET_PLACEHOLDER
    assert bucket.options["additionalSecretOutputs"] == ["metadata"]
    assert result.outputs["metadata"] == SECRET_PLACEHOLDER
    assert PLANTED not in json.dumps(result.to_dict())
