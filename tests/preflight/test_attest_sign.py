"""The signed attestation (issue 14, items 2, 3 and 5): a DSSE envelope made with a fresh key,
and every exit code of `preflight verify` (0 intact and matching; 1 bad signature, wrong key,
any edited byte, unsigned, subjects that do not match; 2 unreadable)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from preflight import attest
from preflight.analyze import pack_content_hash
from preflight.attest_sign import (
    PAYLOAD_TYPE,
    envelope_text,
    load_public_keys,
    load_signer,
    sign,
    verify_file,
)
from preflight.errors import BadInput
from preflight.inventory import build_inventory
from preflight.synth import synthesize
from tests.preflight.attest_helpers import preflight_cli, write_keypair

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


_keypair = write_keypair


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(cwd), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The basic fixture and a pack, committed in a git repository of their own."""
    root = tmp_path_factory.mktemp("checkout") / "basic"
    shutil.copytree(FIXTURES / "basic", root)
    shutil.copytree(FIXTURES / "packs" / "good", root / "policies")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "fixture")
    return root


@pytest.fixture(scope="module")
def statement(checkout: Path) -> bytes:
    synth = synthesize(checkout, "dev")
    predicate = attest.build_predicate(
        project=synth.project,
        stack=synth.stack,
        project_dir=checkout,
        inventory=build_inventory(synth.resources, synth.outputs),
        verdict=attest.verdict_of([]),
        pack={"name": "fixture-pack", "version": None, "sha256": pack_content_hash(checkout / "policies")},
        checkov="skipped (--no-checkov)",
        tool_version="0.1.0",
    )
    assert predicate["git"]["dirty"] is False
    subjects = attest.plan_subjects(
        project_dir=checkout,
        commit=predicate["git"]["commit"],
        stack_file=checkout / "Pulumi.dev.yaml",
        pack_dir=checkout / "policies",
        pack_hash=pack_content_hash(checkout / "policies"),
        policy_config=None,
    )
    return attest.statement(predicate, subjects)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("keys")
    return {
        "ed25519": _keypair(tmp, "ed25519"),
        "p256": _keypair(tmp, "p256", "p256"),
        "other": _keypair(tmp, "other"),
    }


def _signed(statement: bytes, key: Path, path: Path) -> Path:
    path.write_text(envelope_text(sign(statement, load_signer(key))))
    return path


def _verify(path: Path, *pubs: Path, **kw: Any) -> tuple[int, str]:
    result = verify_file(path, load_public_keys(pubs), **kw)
    return result.code, "\n".join(result.lines + result.errors)


@pytest.mark.parametrize("kind", ["ed25519", "p256"])
def test_signed_and_verified_with_a_fresh_key(
    statement: bytes, keys: dict[str, tuple[Path, Path]], checkout: Path, tmp_path: Path, kind: str
) -> None:
    key, pub = keys[kind]
    path = _signed(statement, key, tmp_path / "att.dsse.json")
    envelope = json.loads(path.read_text())
    assert envelope["payloadType"] == PAYLOAD_TYPE == "application/vnd.in-toto+json"
    assert base64.b64decode(envelope["payload"]) == statement, "the payload is the statement's bytes"
    code, out = _verify(path, pub, against=checkout)
    assert code == 0, out
    assert "signature good" in out and "commit" in out and "stack-file:Pulumi.dev.yaml matches" in out


def test_a_wrong_key_is_exit_1(statement: bytes, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    path = _signed(statement, keys["ed25519"][0], tmp_path / "att.json")
    code, out = _verify(path, keys["other"][1])
    assert code == 1 and "BAD SIGNATURE" in out
    # A trusted-keys file with the right key among others verifies.
    trusted = tmp_path / "trusted.pem"
    trusted.write_text(
        "# residency signers\n" + keys["other"][1].read_text() + "\n" + keys["ed25519"][1].read_text()
    )
    result = verify_file(path, load_public_keys(trusted_keys=[trusted]))
    assert result.code == 0, result.errors


def test_one_changed_byte_anywhere_is_never_0(
    statement: bytes, keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    key, pub = keys["ed25519"]
    path = _signed(statement, key, tmp_path / "att.json")
    good = path.read_bytes()
    trusted = load_public_keys([pub])
    # Every byte of the envelope but the payload's middle, and a stride through the payload.
    positions = sorted(
        set(range(0, 300)) | set(range(len(good) - 400, len(good))) | set(range(0, len(good), 97))
    )
    codes = set()
    for i in positions:
        if i >= len(good) or good[i] in b"\n":
            continue
        changed = good[:i] + bytes([good[i] ^ 0x01]) + good[i + 1 :]
        path.write_bytes(changed)
        code = verify_file(path, trusted).code
        assert code != 0, f"byte {i} ({chr(good[i])!r}) changed and still verified"
        try:
            json.loads(changed)
        except ValueError:
            assert code == 2
        else:
            assert code == 1, f"byte {i}: a readable envelope that does not verify is exit 1, not {code}"
        codes.add(code)
    assert codes == {1, 2}


def test_a_recomputed_statement_is_exit_1(
    statement: bytes, keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    """Move a bucket in the payload and re-encode it well: the signature no longer covers it."""
    key, pub = keys["ed25519"]
    path = _signed(statement, key, tmp_path / "att.json")
    envelope = json.loads(path.read_text())
    doc = json.loads(statement)
    doc["predicate"]["data_resources"][0]["region"] = "eu-frankfurt-1"
    envelope["payload"] = base64.b64encode(attest.canonical(doc)).decode()
    path.write_text(json.dumps(envelope))
    code, out = _verify(path, pub)
    assert code == 1 and "BAD SIGNATURE" in out
    # The payload type is signed too (DSSE's PAE).
    envelope = json.loads(_signed(statement, key, path).read_text())
    envelope["payloadType"] = "application/json"
    path.write_text(json.dumps(envelope))
    assert _verify(path, pub)[0] == 1


def test_a_signed_statement_that_breaks_the_schema_is_exit_1(
    statement: bytes, keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    doc = json.loads(statement)
    doc["predicate"]["data_resources"][0]["region"] = 1
    key, pub = keys["ed25519"]
    code, out = _verify(_signed(attest.canonical(doc), key, tmp_path / "att.json"), pub)
    assert code == 1 and "predicate/data_resources/0/region" in out


def test_unsigned_is_exit_1_unless_allowed(statement: bytes, checkout: Path, tmp_path: Path) -> None:
    path = tmp_path / "statement.json"
    path.write_bytes(statement)
    code, out = _verify(path)
    assert code == 1 and "UNSIGNED" in out
    code, out = _verify(path, allow_unsigned=True, against=checkout)
    assert code == 0 and "UNSIGNED" in out, out
    envelope = {
        "payload": base64.b64encode(statement).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [],
    }
    path.write_text(json.dumps(envelope))
    assert verify_file(path, [], allow_unsigned=True).code == 2, "a signed-format file needs a key"
    _, pub = _keypair(tmp_path, "k")
    code, out = _verify(path, pub, allow_unsigned=True)
    assert code == 1 and "UNSIGNED: the envelope has no signature" in out


def test_subjects_that_do_not_match_the_checkout_are_exit_1(
    statement: bytes, keys: dict[str, tuple[Path, Path]], checkout: Path, tmp_path: Path
) -> None:
    key, pub = keys["ed25519"]
    path = _signed(statement, key, tmp_path / "att.json")
    other = tmp_path / "other"
    shutil.copytree(checkout, other)
    (other / "Pulumi.dev.yaml").write_text(
        (other / "Pulumi.dev.yaml").read_text().replace("us-east-1", "us-west-2")
    )
    (other / "policies" / "extra.py").write_text("# a policy the plan was not judged by\n")
    _git(other, "add", "-A")
    _git(other, "commit", "-q", "-m", "moved")
    code, out = _verify(path, pub, against=other)
    assert code == 1
    assert "SUBJECT MISMATCH: commit" in out
    assert "SUBJECT MISMATCH: stack-file:Pulumi.dev.yaml" in out
    assert "SUBJECT MISMATCH: policy-pack:policies" in out


def test_unreadable_files_and_keys_are_exit_2(keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    for text in (b"", b"{", b"\xff\xfe", b"[1]", b'{"hello": 1}'):
        path = tmp_path / "bad.json"
        path.write_bytes(text)
        assert verify_file(path, []).code == 2, text
    assert verify_file(tmp_path / "missing.json", []).code == 2
    not_a_key = tmp_path / "nokey.pem"
    not_a_key.write_text("hello\n")
    for call in (
        lambda: load_public_keys([not_a_key]),
        lambda: load_public_keys(trusted_keys=[not_a_key]),
        lambda: load_public_keys([tmp_path / "missing.pub"]),
        lambda: load_signer(not_a_key),
        lambda: load_signer(keys["ed25519"][1]),  # a public key is not a signing key
    ):
        with pytest.raises(BadInput):
            call()


def test_unsupported_keys_are_refused(tmp_path: Path) -> None:
    key, pub = _keypair(tmp_path, "p384", "p384")
    with pytest.raises(BadInput, match="P-256 or Ed25519"):
        load_signer(key)
    with pytest.raises(BadInput, match="P-256 or Ed25519"):
        load_public_keys([pub])
    rsa_key = tmp_path / "rsa.key"
    rsa_key.write_bytes(
        rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(BadInput, match="not supported"):
        load_signer(rsa_key)
    encrypted = tmp_path / "enc.key"
    encrypted.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    with pytest.raises(BadInput, match="encrypted"):
        load_signer(encrypted)


_cli = preflight_cli


@pytest.mark.slow
def test_gate_signs_and_verify_checks_end_to_end(
    keys: dict[str, tuple[Path, Path]], checkout: Path, tmp_path: Path
) -> None:
    """The CLI: gate --attestation --sign-key, then verify with each exit code."""
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"bucket-us-only": "advisory"}))
    out = tmp_path / "att.dsse.json"
    key, pub = keys["ed25519"]
    gate = _cli(
        "gate", "--project-dir", checkout, "--stack", "dev", "--no-checkov", "--no-progress",
        "--policy-config", config, "--format", "json", "--out", tmp_path / "report.json",
        "--attestation", out, "--sign-key", key,
    )  # fmt: skip
    assert gate.returncode == 0, gate.stderr
    verified = _cli("verify", out, "--public-key", pub, "--against", checkout)
    assert verified.returncode == 0, verified.stderr
    assert "signature good" in verified.stdout and "plan of fixture-basic/dev" in verified.stdout
    statement = json.loads(base64.b64decode(json.loads(out.read_text())["payload"]))
    names = {s["name"] for s in statement["subject"]}
    assert {"git-commit", "stack-file:Pulumi.dev.yaml", "policy-pack:policies"} <= names
    assert any(n.startswith("policy-config:") for n in names)
    wrong = _cli("verify", out, "--public-key", keys["other"][1])
    assert wrong.returncode == 1 and re.search(r"error: .*BAD SIGNATURE", wrong.stderr), wrong.stderr
    assert _cli("verify", out).returncode == 2, "no key given for a signed file"
    assert _cli("verify", tmp_path / "none.json", "--public-key", pub).returncode == 2
    assert _cli("verify", out, "--public-key", tmp_path / "none.pub").returncode == 2
    # A bad key fails before anything runs, and --sign-key needs --attestation.
    bad = _cli("gate", "--project-dir", checkout, "--stack", "dev", "--no-checkov", "--attestation", out,
               "--sign-key", pub)  # fmt: skip
    assert bad.returncode == 2 and "not a PEM private key" in bad.stderr and "Traceback" not in bad.stderr
    alone = _cli("plan", "--project-dir", checkout, "--stack", "dev", "--no-checkov", "--sign-key", key)
    assert alone.returncode == 2 and "--attestation" in alone.stderr
