"""The state backend stays in the US (docs/state-backend.md, stacks/state_backend.py).

Pulumi.yaml pins `backend.url`, which the CLI prefers to a stored login (PULUMI_BACKEND_URL
beats both: pulumi/pulumi pkg/workspace/creds.go GetCurrentCloudURLWithSource); one check of the
URL, by the region catalogue, runs before `dev.py preview|up|refresh` and in CI's login."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stacks.regions import load_catalogue
from stacks.state_backend import ROOT, effective_url, pinned_url, problem

GOOD = (
    "s3://usdr-pulumi-state?endpoint=ns1.compat.objectstorage.us-phoenix-1.oraclecloud.com"
    "&region=us-phoenix-1&s3ForcePathStyle=true&profile=usdr-state"
)


def test_pulumi_yaml_pins_a_backend_that_passes_the_check() -> None:
    url = pinned_url()
    assert url is not None and url.startswith("s3://usdr-pulumi-state?")
    assert problem(url) is None
    # docs/state-backend.md prescribes the same bucket, region, path style and profile.
    doc = (ROOT / "docs" / "state-backend.md").read_text(encoding="utf-8")
    for part in (
        "s3://usdr-pulumi-state",
        "region=us-ashburn-1",
        "s3ForcePathStyle=true",
        "profile=usdr-state",
    ):
        assert part in url and part in doc


@pytest.mark.parametrize("region", [r.identifier for r in load_catalogue().approved()])
def test_every_approved_region_may_hold_the_state(region: str) -> None:
    url = GOOD.replace("us-phoenix-1", region)
    assert problem(url) is None


@pytest.mark.parametrize(
    "region",
    [r.identifier for r in load_catalogue() if r not in load_catalogue().approved()],
)
def test_no_other_catalogue_region_may(region: str) -> None:
    """Forbidden, opt-in and other-realm regions alike (us-langley-1 is US, realm oc2)."""
    why = problem(GOOD.replace("us-phoenix-1", region))
    assert why is not None and "outside the approved US regions" in why


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("file:///tmp/state", "is not an s3:// bucket URL"),
        ("https://api.pulumi.com", "is not an s3:// bucket URL"),
        ("s3://b?region=us-ashburn-1", "endpoint (none) is not OCI's S3 API"),
        (
            GOOD.replace(
                "ns1.compat.objectstorage.us-phoenix-1.oraclecloud.com", "s3.us-east-1.amazonaws.com"
            ),
            "is not OCI's S3 API",
        ),
        (
            GOOD.replace("compat.objectstorage.us-phoenix-1", "compat.objectstorage.us-moon-1"),
            "'us-moon-1' is not in the region catalogue",
        ),
        (
            GOOD.replace("&region=us-phoenix-1", "&region=us-ashburn-1"),
            "is not the endpoint's region us-phoenix-1",
        ),
        (GOOD.replace("&s3ForcePathStyle=true", ""), "s3ForcePathStyle=true is required"),
        (GOOD.replace("profile=usdr-state", "profile=default"), "profile=default; the state's keys"),
        (GOOD.replace("&profile=usdr-state", ""), "profile=(none)"),
        (GOOD + "&region=eu-frankfurt-1", "region given more than once"),
    ],
)
def test_each_rule_refuses_with_one_line(url: str, said: str) -> None:
    why = problem(url)
    assert why is not None and said in why and "\n" not in why


def test_the_cli_chooses_the_environment_then_the_project(tmp_path: Path) -> None:
    project = tmp_path / "Pulumi.yaml"
    project.write_text(f"name: p\nruntime: python\nbackend:\n  url: {GOOD}\n")
    assert effective_url({}, project) == (GOOD, "Pulumi.yaml backend.url")
    assert effective_url({"PULUMI_BACKEND_URL": "file:///x"}, project) == ("file:///x", "PULUMI_BACKEND_URL")
    project.write_text("name: p\nruntime: python\n")
    assert effective_url({}, project) == (None, "Pulumi.yaml backend.url")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stacks.state_backend", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip


def test_the_command_exits_0_or_2_with_one_line() -> None:
    import os

    assert _run().returncode == 0  # Pulumi.yaml's
    assert _run(GOOD).returncode == 0
    env = {**os.environ, "PULUMI_BACKEND_URL": GOOD.replace("us-phoenix-1", "eu-frankfurt-1")}
    bad = _run(env=env)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("state backend (PULUMI_BACKEND_URL): usdr-pulumi-state: the state would")
    assert len(bad.stderr.splitlines()) == 1 and "Traceback" not in bad.stderr
    assert _run("--bogus").returncode == 2
