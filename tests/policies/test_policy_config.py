"""stacks/policy_config: the pack config from stack settings, its CLI, and CLI-equivalent Configure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pack_config import parse_config

from stacks.policy_config import PolicyConfigError, main, pack_config, policy_names, reconcile
from stacks.settings import Settings
from tests.policies.harness import InProcessPack

ROOT = Path(__file__).resolve().parents[2]


def test_every_policy_gets_the_same_properties(prod_settings: Settings) -> None:
    names = policy_names()
    config = pack_config(prod_settings, names)
    assert sorted(config) == sorted(names)
    blocks = {json.dumps(v, sort_keys=True) for v in config.values()}
    assert len(blocks) == 1


def test_prod_properties_carry_the_settings(prod_properties: dict[str, Any]) -> None:
    p = prod_properties
    assert p["homeRegion"] == "us-ashburn-1" and p["realm"] == "oc1"
    assert p["allowedRegions"] == ["us-ashburn-1", "us-phoenix-1", "us-sanjose-1", "us-chicago-1"]
    assert p["accessTeam"] == {
        "admins": ["us-data-admins"],
        "operators": ["us-data-operators"],
        "auditors": ["us-data-auditors"],
    }
    sites = {s["name"]: s for s in p["legacySites"]}
    assert sites["legacy-sg"]["mode"] == "frozen" and sites["legacy-sg"]["writer"] is None
    assert sites["legacy-us-east"]["writer"] == "arn:aws:iam::000000000000:user/legacy-replicator"
    assert (
        sites["legacy-us-east"]["awsRegion"] == "us-east-1"
        and sites["legacy-us-east"]["sunset"] == "2027-09-30"
    )
    assert p["waivers"] == [
        {
            "target": "legacy-sg",
            "owner": "data-residency@example.com",
            "reason": p["waivers"][0]["reason"],
            "expires": "2027-06-30",
        }
    ]
    assert p["dataSubnets"]["us-chicago-1"] == ["10.30.0.0/24"]
    assert [r["identifier"] for r in p["catalogue"]][:2] == ["us-ashburn-1", "us-phoenix-1"]
    parse_config(p)  # the pack accepts what the generator writes


def test_staging_without_protect_data_downgrades_only_the_protect_policy(staging_settings: Settings) -> None:
    config = pack_config(staging_settings, policy_names())
    assert config["stack-data-protected"]["enforcementLevel"] == "advisory"
    assert all("enforcementLevel" not in v for k, v in config.items() if k != "stack-data-protected")


def test_reconcile_keeps_declared_levels_and_applies_all_then_entries(pack: InProcessPack) -> None:
    info = pack.info()
    plain = reconcile(info, {"residency-oci-region": {"realm": "oc1"}})
    assert plain["residency-oci-region"] == ("mandatory", {"realm": "oc1"})
    assert plain["security-required-tags"][0] == "advisory"
    everything = reconcile(
        info, {"all": "advisory", "residency-aws-location": {"enforcementLevel": "mandatory"}}
    )
    assert everything["residency-oci-region"][0] == "advisory"
    assert everything["residency-aws-location"][0] == "mandatory"
    with pytest.raises(PolicyConfigError, match="no such policy"):
        reconcile(info, {"residency-typo": {}})
    with pytest.raises(PolicyConfigError, match="not one of"):
        reconcile(info, {"residency-oci-region": "blocking"})


def test_cli_writes_the_config(tmp_path: Path, prod_settings: Settings) -> None:
    out = tmp_path / "pack.json"
    assert main(["--stack", "prod", "--project-dir", str(ROOT), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(json.dumps(pack_config(prod_settings, policy_names())))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "nope"], "Pulumi.nope.yaml: no such file"),
        ([], "the following arguments are required: --stack"),
        (["--stack", "prod", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--project-dir", str(ROOT)] if args else args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_invalid_settings_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "Pulumi.x.yaml"
    bad.write_text("config:\n  us-data-residency:tenancy: {}\n")
    assert main(["--stack", "x", "--config-file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("policy_config: Pulumi.x.yaml: ") and err.count("\n") == 1


@pytest.mark.slow
def test_module_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stacks.policy_config", "--stack", "staging"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "stack-data-protected" in json.loads(result.stdout)
    bad = subprocess.run(
        [sys.executable, "-m", "stacks.policy_config", "--stack", "missing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and not bad.stdout


def test_cloud_guard_is_an_allowed_service_only_when_the_stack_enables_it(prod_settings: Settings) -> None:
    """residency-iam-statements allows the services the estate grants to: Object Storage of each
    approved region, and Cloud Guard's service policy (components/threat_detection.py)."""
    import dataclasses

    from stacks.policy_config import pack_properties
    from stacks.settings import ThreatDetection

    services = pack_properties(prod_settings)["allowedServices"]
    assert services == [f"objectstorage-{r.identifier}" for r in prod_settings.approved_regions] + [
        "cloudguard"
    ]
    off = dataclasses.replace(
        prod_settings, threat_detection=ThreatDetection(cloud_guard=False, security_zone=False)
    )
    assert "cloudguard" not in pack_properties(off)["allowedServices"]
