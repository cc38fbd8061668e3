"""What the attestation tests share: the CLI run as a user runs it, fresh keys, a waived finding."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from preflight.model import Finding, ResourceRecord

ROOT = Path(__file__).resolve().parents[2]


def preflight_cli(*args: object) -> subprocess.CompletedProcess[str]:
    """`python -m preflight ARGS` from the repository root, output captured, never raising."""
    return subprocess.run(
        [sys.executable, "-m", "preflight", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def waived_finding(record: ResourceRecord, waiver: str = "legacy") -> Finding:
    """The advisory finding residency-waived reports for `record` under `waiver`."""
    return Finding(
        source="fixture-pack",
        policy="residency-waived",
        enforcement="advisory",
        severity="high",
        urn=record.urn,
        type=record.type,
        name=record.name,
        region=record.region,
        message=f"waived by waiver {waiver!r}",
        location=record.location,
        waiver=waiver,
    )


def write_keypair(tmp: Path, name: str, kind: str = "ed25519") -> tuple[Path, Path]:
    """A fresh key pair written as PEM (PKCS#8 private, SPKI public), as openssl makes them."""
    private: Any = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else ec.generate_private_key(ec.SECP256R1() if kind == "p256" else ec.SECP384R1())
    )
    key, pub = tmp / f"{name}.key", tmp / f"{name}.pub"
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    pub.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, pub
