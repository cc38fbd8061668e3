"""Transforms run as the engine runs them (issue 11, item 1).

The engine calls each transform back through the callbacks service the SDK starts and registers
what it returns: first the resource's own `transforms=`, then each ancestor's, then the stack's
in registration order (pkg/resource/deploy/source_eval.go, RegisterResource). The older
`transformations=` / `register_stack_transformation` run inside the SDK before registering.
Each case of fixtures/transforms declares its buckets in Ashburn and lets a transform move them:
the record (and so the pack and the gate) must see where the engine would put them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.errors import InternalFailure
from preflight.model import ResourceRecord
from preflight.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "transforms"
GOOD = Path(__file__).parent / "fixtures" / "packs" / "good"


def _config(tmp_path: Path, case: str) -> Path:
    path = tmp_path / f"Pulumi.{case}.yaml"
    path.write_text(f"config:\n  oci:region: us-ashburn-1\n  fixture-transforms:case: {case}\n")
    return path


def _buckets(tmp_path: Path, case: str) -> dict[str, ResourceRecord]:
    result = synthesize(FIXTURE, "dev", _config(tmp_path, case))
    return {r.name: r for r in result.resources if r.type == "oci:ObjectStorage/bucket:Bucket"}


@pytest.mark.parametrize(
    "case", ["stack-transform", "async-transform", "resource-transform", "transformation"]
)
def test_a_transform_that_moves_a_bucket_to_another_provider_is_recorded_there(
    tmp_path: Path, case: str
) -> None:
    buckets = _buckets(tmp_path, case)
    assert buckets["moved"].region == "eu-frankfurt-1"
    assert buckets["moved"].provider is not None and "::frankfurt::" in buckets["moved"].provider
    if "kept" in buckets:
        assert buckets["kept"].region == "us-ashburn-1"


def test_a_components_transforms_apply_to_its_children(tmp_path: Path) -> None:
    buckets = _buckets(tmp_path, "component-transform")
    assert buckets["store-data"].region == "eu-frankfurt-1"
    assert buckets["kept"].region == "us-ashburn-1"


def test_a_transform_that_rewrites_a_replication_destination_is_recorded(tmp_path: Path) -> None:
    result = synthesize(FIXTURE, "dev", _config(tmp_path, "props-transform"))
    replica = next(r for r in result.resources if r.name == "replica")
    assert replica.inputs["destinationRegionName"] == "eu-frankfurt-1"
    assert replica.outputs["destinationRegionName"] == "eu-frankfurt-1"  # what the program sees back


def test_a_transform_that_drops_protect_is_recorded_unprotected(tmp_path: Path) -> None:
    assert _buckets(tmp_path, "unprotect")["kept"].protect is False


def test_transforms_run_own_then_ancestors_then_stack_in_registration_order(tmp_path: Path) -> None:
    buckets = _buckets(tmp_path, "order")
    assert buckets["store-data"].inputs["freeformTags"]["order"] == "parent stack-1 stack-2"
    assert buckets["own"].inputs["freeformTags"]["order"] == "own stack-1 stack-2"


def test_a_transform_that_raises_is_a_program_error_naming_the_resource(tmp_path: Path) -> None:
    with pytest.raises(InternalFailure) as err:
        synthesize(FIXTURE, "dev", _config(tmp_path, "raises"))
    assert "transform" in err.value.message
    assert "moved" in err.value.message
    assert "transform exploded" in err.value.message


def test_invoke_transforms_run_before_the_lookup_with_its_token_and_args(tmp_path: Path) -> None:
    result = synthesize(FIXTURE, "dev", _config(tmp_path, "invoke-transform"))
    assert result.outputs["seen"] == [
        [
            "oci:Identity/getAvailabilityDomains:getAvailabilityDomains",
            "ocid1.compartment.oc1..aaaaaaaafixture",
        ]
    ]


def test_an_invoke_transform_that_raises_is_a_program_error_naming_the_lookup(tmp_path: Path) -> None:
    with pytest.raises(InternalFailure) as err:
        synthesize(FIXTURE, "dev", _config(tmp_path, "invoke-raises"))
    assert "getAvailabilityDomains" in err.value.message
    assert "invoke transform exploded" in err.value.message


@pytest.mark.slow
@pytest.mark.parametrize("case", ["stack-transform", "component-transform"])
def test_the_gate_blocks_a_bucket_a_transform_moved_out_of_the_us(tmp_path: Path, case: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "gate", "--project-dir", str(FIXTURE), "--stack", "dev",
         "--config-file", str(_config(tmp_path, case)), "--policy-pack", str(GOOD), "--no-checkov",
         "--no-progress", "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    blocking = [f for f in json.loads(proc.stdout)["findings"] if f["enforcement"] == "mandatory"]
    assert {f["name"] for f in blocking if f["policy"] == "bucket-us-only"} == {
        "moved" if case == "stack-transform" else "store-data"
    }
