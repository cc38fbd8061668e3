"""No secret in any output, however it was marked (issue 15, item 2).

`fixtures/secrets` plants values (PLANTED-*, planted-*) marked secret every way a program can:
`additional_secret_outputs`, `Output.secret`, `secure:` config, a secret-named key, and values
that only look like credentials (an AWS access key id, a PEM private key). Every output format,
the Terraform-plan export, the attestation and the residency map are grepped for them; the
near-misses (an OCID, an ARN, a CIDR, an OCI key fingerprint, "AKIA-not-a-key") must still show,
so the masker is not just blanking everything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.masking import SECRET, looks_like_credential, mask_text, mask_value

ROOT = Path(__file__).resolve().parents[2]
SECRETS = Path(__file__).parent / "fixtures" / "secrets"
PLANTED = (
    "planted-aso-value-1",
    "PLANTED-OUTPUT-SECRET-2",
    "PLANTED-UNDER-SECRET-KEY-3",
    "AKIAPLANTEDKEY4XXXXX",
    "plantedPEMbody5",
    "PRIVATE KEY",
)
NEAR_MISSES = (
    "ocid1.compartment.oc1..aaaaaaaanearmissocid",
    "arn:aws:iam::123456789012:role/near-miss-arn",
    "10.0.0.0/16",
    "12:34:56:78:90:ab:cd:ef:12:34:56:78:90:ab:cd:ef",
    "AKIA-not-a-key",
)


def _plan(tmp_path: Path, fmt: str, *extra: str) -> dict[str, str]:
    files = {
        "report": tmp_path / f"report.{fmt}",
        "tfplan": tmp_path / f"tfplan-{fmt}.json",
        "attestation": tmp_path / f"att-{fmt}.json",
        "map": tmp_path / f"map-{fmt}.mmd",
    }
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "plan", "--project-dir", str(SECRETS), "--stack", "dev",
         "--no-progress", "--format", fmt, "--out", str(files["report"]),
         "--tfplan-out", str(files["tfplan"]),
         "--attestation", str(files["attestation"]), "--residency-map", str(files["map"]), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = {name: path.read_text() for name, path in files.items()}
    out["stdout+stderr"] = proc.stdout + proc.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "extra"), [("json", ("--no-checkov",)), ("text", ("--no-checkov",)),
                                            ("markdown", ("--no-checkov",)), ("sarif", ())])  # fmt: skip
def test_no_planted_secret_in_any_output(tmp_path: Path, fmt: str, extra: tuple[str, ...]) -> None:
    """sarif runs with the real checkov: its export path (checkov.scan) is masked too."""
    outputs = _plan(tmp_path, fmt, *extra)
    for name, text in outputs.items():
        for planted in PLANTED:
            assert planted not in text, f"{planted!r} leaked into the {fmt} run's {name}"
    assert SECRET in outputs["tfplan"]
    if fmt == "json":
        for near in NEAR_MISSES:
            assert near in outputs["report"], f"{near!r} was masked but is no credential"
            assert near in outputs["tfplan"], f"{near!r} was masked in the tfplan"


@pytest.mark.parametrize(
    "text",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "key=ASIAY34FZKBOKMUTVV7A;",
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\ncut off",
        "ghp_" + "a1" * 18,
        "xoxb-123456789012-abcdefghij",
    ],
)
def test_credential_shapes_are_masked(text: str) -> None:
    assert looks_like_credential(text)
    assert "[secret]" in mask_text(text)
    assert "MIIB" not in mask_text(text) and "b3Bl" not in mask_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "ocid1.vault.oc1.us-ashburn-1.aaaaaaaaakiaabcdefghijklmnopqrstuvwx",
        "ocid1.compartment.oc1..aaaaaaaaAKIAIOSFODNN7EXAMPLEX",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "10.0.0.0/16",
        "2001:db8::/32",
        "12:34:56:78:90:ab:cd:ef:12:34:56:78:90:ab:cd:ef",
        "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
        "ssh-rsa AAAAB3NzaC1yc2E user@host",
        "AKIAIOSFODNN7EXAMPL",  # 15 after the prefix: not an access key id
        "XAKIAIOSFODNN7EXAMPLE",
    ],
)
def test_near_misses_are_shown(text: str) -> None:
    assert mask_text(text) == text


def test_secret_keys_mask_every_scalar_below_them_but_not_booleans() -> None:
    value = {
        "adminPassword": "hunter2",
        "privateKeyPem": {"pem": "x", "length": 4096},
        "apiKeys": ["a", "b"],
        "isSecret": False,
        "passwordLength": None,
        "name": "shown",
    }
    assert mask_value(value) == {
        "adminPassword": SECRET,
        "privateKeyPem": {"pem": SECRET, "length": SECRET},
        "apiKeys": [SECRET, SECRET],
        "isSecret": False,
        "passwordLength": None,
        "name": "shown",
    }


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_no_planted_secret_in_the_pr_diff(tmp_path: Path, fmt: str) -> None:
    """The PR diff of a change to every planted value (base: each value with `-old` appended)
    shows the changes, masked: neither side's value appears in the comment or on stderr."""
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(SECRETS, repo, ignore=shutil.ignore_patterns("__pycache__"))
    main = repo / "__main__.py"
    head = main.read_text()
    base = head
    for planted in PLANTED[:4]:
        base = base.replace(
            planted, planted + "-old" if not planted.startswith("AKIA") else "AKIAPLANTEDKEY4OLDXX"
        )
    base = base.replace("plantedPEMbody5", "plantedPEMbody5old")
    main.write_text(base)
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    main.write_text(head)
    out = tmp_path / f"diff.{fmt}"
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "diff", "--base", "HEAD", "--project-dir", str(repo),
         "--stack", "dev", "--no-checkov", "--format", fmt, "--out", str(out),
         "--policy-pack", str(Path(__file__).parent / "fixtures" / "packs" / "good")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    text = out.read_text() + proc.stdout + proc.stderr
    assert SECRET in text and "update" in text  # the changes are there, masked
    for planted in (*PLANTED, "PLANTEDKEY4OLD"):
        assert planted not in text, f"{planted!r} leaked into the {fmt} diff"
