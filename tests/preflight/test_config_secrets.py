"""`secure:` config decrypted as the CLI's passphrase provider does (issue 11, item 2).

The known-answer vector is the Pulumi CLI's own (pulumi/pulumi tests/roundtrip/roundtrip_test.go,
TestConfigRoundtripComments: passphrase `TestConfigRoundtripComments`, its encryptionsalt and the
secure value of `foo:d`, which decrypts to `secret-value`), so the key derivation and the cipher
are checked against what the CLI wrote, not against preflight's own encryption. Further values
for the adversarial cases are encrypted here with that key (AES-256-GCM, random nonce), the
CLI's format.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from preflight.errors import BadInput
from preflight.project import SECRET_PLACEHOLDER, load_project, load_stack_config

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "passphrase"
GOOD = Path(__file__).parent / "fixtures" / "packs" / "good"
PHRASE = "TestConfigRoundtripComments"
SALT = "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg=="
CLI_VALUE = "v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA=="  # -> "secret-value"


def _encrypt(plain: str) -> str:
    key = hashlib.pbkdf2_hmac("sha256", PHRASE.encode(), base64.b64decode(SALT.split(":")[1]), 1_000_000, 32)
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plain.encode(), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"


def _stack(tmp_path: Path, config: str, head: str = f"encryptionsalt: {SALT}\n") -> Path:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(head + "config:\n" + config)
    return path


@pytest.fixture
def phrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PHRASE)


def _load(path: Path):  # type: ignore[no-untyped-def]
    return load_stack_config(load_project(FIXTURE), "dev", path)


def test_the_clis_own_vector_decrypts_and_is_registered_as_secret(tmp_path: Path, phrase: None) -> None:
    config = _load(_stack(tmp_path, f"  fixture-passphrase:token:\n    secure: {CLI_VALUE}\n"))
    assert config.values["fixture-passphrase:token"] == "secret-value"
    assert config.secret_keys == ("fixture-passphrase:token",)
    assert config.secret_values == ("secret-value",)


def test_secure_leaves_inside_an_object_decrypt_too(tmp_path: Path, phrase: None) -> None:
    config = _load(
        _stack(
            tmp_path, f"  fixture-passphrase:db:\n    user: app\n    password:\n      secure: {CLI_VALUE}\n"
        )
    )
    assert config.values["fixture-passphrase:db"] == {"user": "app", "password": "secret-value"}


def test_the_passphrase_file_is_read_and_trimmed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    (tmp_path / "phrase").write_text(PHRASE + "\n")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(tmp_path / "phrase"))
    config = _load(_stack(tmp_path, f"  fixture-passphrase:token:\n    secure: {CLI_VALUE}\n"))
    assert config.values["fixture-passphrase:token"] == "secret-value"


def test_without_a_passphrase_or_with_a_kms_provider_the_secret_stays_opaque(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    config = _load(_stack(tmp_path, f"  fixture-passphrase:token:\n    secure: {CLI_VALUE}\n"))
    assert config.values["fixture-passphrase:token"] == SECRET_PLACEHOLDER
    assert config.secret_values == ()
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PHRASE)
    kms = "secretsprovider: awskms://alias/x\nencryptedkey: AAAA\n"
    config = _load(_stack(tmp_path, f"  fixture-passphrase:token:\n    secure: {CLI_VALUE}\n", head=kms))
    assert config.values["fixture-passphrase:token"] == SECRET_PLACEHOLDER


def test_a_wrong_passphrase_is_bad_input_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "not-the-passphrase")
    with pytest.raises(BadInput) as err:
        _load(_stack(tmp_path, f"  fixture-passphrase:token:\n    secure: {CLI_VALUE}\n"))
    assert "Pulumi.dev.yaml: incorrect passphrase (PULUMI_CONFIG_PASSPHRASE)" in err.value.message


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("v2:abc:def", "not of the form"),
        ("v1:!!!:def", "not base64"),
        ("v1:" + "A" * 8 + ":" + "A" * 24, "nonce size"),
    ],
)
def test_a_value_that_does_not_decrypt_is_bad_input_naming_the_key(
    tmp_path: Path, phrase: None, value: str, why: str
) -> None:
    with pytest.raises(BadInput) as err:
        _load(_stack(tmp_path, f"  fixture-passphrase:token:\n    secure: {value}\n"))
    assert "config: fixture-passphrase:token: secure value" in err.value.message
    assert why in err.value.message


def test_a_value_sealed_with_another_key_does_not_decrypt(tmp_path: Path, phrase: None) -> None:
    other = AESGCM(b"k" * 32).encrypt(b"n" * 12, b"x", None)
    value = f"v1:{base64.b64encode(b'n' * 12).decode()}:{base64.b64encode(other).decode()}"
    with pytest.raises(BadInput) as err:
        _load(_stack(tmp_path, f"  fixture-passphrase:token:\n    secure: {value}\n"))
    assert "does not decrypt with this stack's key" in err.value.message


@pytest.mark.slow
def test_the_gate_judges_a_secure_region_and_never_shows_the_secret(tmp_path: Path) -> None:
    """`oci:region` set with `pulumi config set --secret`: with the passphrase the gate sees the
    bucket in Frankfurt (exit 1); the decrypted token is in no output, not even what the program
    printed; without the passphrase the region is unknown and the gate still blocks."""
    stack = _stack(
        tmp_path,
        f"  oci:region:\n    secure: {_encrypt('eu-frankfurt-1')}\n"
        f"  fixture-passphrase:token:\n    secure: {CLI_VALUE}\n",
    )
    out = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "preflight", "gate", "--project-dir", str(FIXTURE), "--stack", "dev",
           "--config-file", str(stack), "--policy-pack", str(GOOD), "--no-checkov", "--no-progress",
           "--format", "json", "--out", str(out), "--tfplan-out", str(tmp_path / "plan.json"),
           "--attestation", str(tmp_path / "att.json")]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFLIGHT_DEBUG", "PULUMI_CONFIG_PASS"))}
    run = {"cwd": ROOT, "capture_output": True, "text": True, "timeout": 300, "check": False}
    proc = subprocess.run(cmd, env={**env, "PULUMI_CONFIG_PASSPHRASE": PHRASE}, **run)  # type: ignore[call-overload]
    assert proc.returncode == 1, proc.stderr
    report = json.loads(out.read_text())
    bucket = next(r for r in report["resources"] if r["name"] == "data")
    assert bucket["region"] == "eu-frankfurt-1"
    assert "program| using token [secret]" in proc.stderr
    everything = proc.stdout + proc.stderr + "".join(p.read_text() for p in tmp_path.glob("*.json"))
    assert "secret-value" not in everything
    proc = subprocess.run(cmd, env=env, **run)  # type: ignore[call-overload]
    assert proc.returncode == 1, proc.stderr
    assert (
        next(r for r in json.loads(out.read_text())["resources"] if r["name"] == "data")["region"]
        != "us-ashburn-1"
    )
