"""docs/attestation.md is what an auditor follows: its Python check (securesystemslib, nothing of
this project) verifies a real envelope and refuses an edited one, its openssl one-liners make
keys preflight signs with, and it documents every field of the predicate schema."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from preflight import attest
from preflight.attest_sign import envelope_text, load_public_keys, load_signer, sign, verify_file

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "attestation.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def _statement() -> bytes:
    predicate = {
        "data_resources": [{"region": "us-ashburn-1", "jurisdiction": "US", "kind": "bucket", "name": "b"}]
    }
    return attest.statement(
        predicate, [{"name": "stack-file:Pulumi.prod.yaml", "digest": {"sha256": "0" * 64}}]
    )


@pytest.fixture(scope="module")
def keypair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    tmp = tmp_path_factory.mktemp("openssl")
    lines = [line for line in _blocks("sh")[0].splitlines() if line.startswith("openssl ")]
    assert len(lines) == 2, lines
    for line in lines:
        subprocess.run(line, shell=True, cwd=tmp, check=True, capture_output=True)  # noqa: S602 the doc's own lines
    return tmp / "residency.key", tmp / "residency.pub"


def test_the_openssl_one_liners_make_a_key_preflight_signs_with(
    keypair: tuple[Path, Path], tmp_path: Path
) -> None:
    key, pub = keypair
    path = tmp_path / "att.json"
    path.write_text(envelope_text(sign(_statement(), load_signer(key))))
    result = verify_file(path, load_public_keys([pub]))
    assert result.code == 1 and any("predicate" in e for e in result.errors), "signature good, schema not"
    assert any("signature good" in line for line in result.lines)


def test_the_python_check_verifies_and_refuses_an_edited_envelope(
    keypair: tuple[Path, Path], tmp_path: Path
) -> None:
    (code,) = _blocks("python")
    script = tmp_path / "check.py"
    script.write_text(code)
    key, pub = keypair
    envelope = tmp_path / "att.dsse.json"
    envelope.write_text(envelope_text(sign(_statement(), load_signer(key))))
    run = [sys.executable, "-I", str(script), str(envelope), str(pub)]  # -I: nothing of this project
    ok = subprocess.run(run, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == ["us-ashburn-1", "US", "bucket", "b"]
    doc = json.loads(envelope.read_text())
    edited = json.loads(_statement())
    edited["predicate"]["data_resources"][0]["region"] = "eu-frankfurt-1"
    doc["payload"] = base64.b64encode(attest.canonical(edited)).decode()
    envelope.write_text(json.dumps(doc))
    bad = subprocess.run(run, capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "VerificationError" in bad.stderr


def test_the_page_names_the_predicate_type_and_every_field() -> None:
    assert attest.PREDICATE_TYPE in DOC and attest.STATEMENT_TYPE in DOC
    schema = json.loads(attest.PREDICATE_SCHEMA.read_text())
    for field in schema["properties"]:
        assert f"`{field}" in DOC, f"docs/attestation.md does not describe the predicate's {field}"
    for listed in ("data_resources", "replication_edges", "legacy_replicas", "waivers_used"):
        for sub in schema["properties"][listed]["items"]["properties"]:
            assert f"`{sub}`" in DOC, f"{listed}.{sub} is not described"
