"""`secure:` config values, read as the CLI's passphrase secrets provider wrote them.

The passphrase provider (pulumi/pulumi pkg/secrets/passphrase/manager.go and
sdk/go/common/resource/config/crypt.go):
* the stack file's `encryptionsalt: v1:<salt>:<check>` holds the base64 salt and, after it, the
  word `pulumi` encrypted with the key, which tells a wrong passphrase from a right one;
* the key is PBKDF2-HMAC-SHA256 of the passphrase over the salt, 1,000,000 iterations, 32 bytes;
* each value is `v1:<base64 nonce (12 bytes)>:<base64 AES-256-GCM ciphertext and tag>`, no AAD;
* the passphrase comes from `PULUMI_CONFIG_PASSPHRASE` if it is set at all (even empty), else
  from the file `PULUMI_CONFIG_PASSPHRASE_FILE` names, surrounding whitespace trimmed.

With a passphrase, preflight decrypts `secure:` values so the program and the policies judge the
real value; every output masks it (preflight/masking.py is given the plaintexts). Without one, or
with another secrets provider (a cloud KMS, the Pulumi service), the value stays the opaque
`[secret]` placeholder, and a check that needs it cannot prove it. A wrong passphrase or a
value that does not decrypt is bad input naming the file and key, as the CLI refuses it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from preflight.errors import BadInput

PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"  # noqa: S105 - the variable's name, not a value
PASSPHRASE_FILE_ENV = "PULUMI_CONFIG_PASSPHRASE_FILE"  # noqa: S105 - the variable's name
ITERATIONS = 1_000_000
KEY_BYTES = 32
_CHECK = "pulumi"
_NONCE_BYTES = 12


def passphrase() -> str | None:
    """The passphrase as the CLI reads it from the environment (None: none given)."""
    if PASSPHRASE_ENV in os.environ:
        return os.environ[PASSPHRASE_ENV]
    path = os.environ.get(PASSPHRASE_FILE_ENV)
    if path:
        from preflight.project import read_bounded

        return read_bounded(Path(path).absolute(), f"{PASSPHRASE_FILE_ENV} {path}").strip()
    return None


class Decrypter:
    """AES-256-GCM with the passphrase-derived key of one stack file."""

    def __init__(self, key: bytes, where: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)
        self.where = where

    def decrypt(self, value: Any, key: str) -> str:
        what = f"{self.where}: config: {key}: secure value"
        if not isinstance(value, str):
            raise BadInput(f"{what} must be text")
        parts = value.split(":")
        if len(parts) != 3 or parts[0] != "v1":
            raise BadInput(f"{what} is not of the form v1:<nonce>:<ciphertext>")
        try:
            nonce = base64.b64decode(parts[1], validate=True)
            ciphertext = base64.b64decode(parts[2], validate=True)
        except (binascii.Error, ValueError):
            raise BadInput(f"{what} is not base64") from None
        if len(nonce) != _NONCE_BYTES:
            raise BadInput(f"{what}: nonce size is incorrect")
        from cryptography.exceptions import InvalidTag

        try:
            plain = self._aead.decrypt(nonce, ciphertext, None)
        except InvalidTag:
            raise BadInput(f"{what} does not decrypt with this stack's key") from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"{what} is not UTF-8 text once decrypted") from None


@functools.lru_cache(maxsize=8)
def _derive(phrase: str, salt: bytes) -> bytes:
    """The key (about a second of PBKDF2; preflight reads a stack file several times a run)."""
    return hashlib.pbkdf2_hmac("sha256", phrase.encode("utf-8"), salt, ITERATIONS, KEY_BYTES)


def decrypter_for(doc: Mapping[str, Any], where: str) -> Decrypter | None:
    """The stack file's decrypter, or None when its secrets cannot be read offline (no
    passphrase given, or a provider other than the passphrase one)."""
    provider = doc.get("secretsprovider")
    salt_state = doc.get("encryptionsalt")
    if provider not in (None, "passphrase") or not salt_state:
        return None
    phrase = passphrase()
    if phrase is None:
        return None
    if not isinstance(salt_state, str) or salt_state.count(":") < 2:
        raise BadInput(f"{where}: encryptionsalt: malformed (expected v1:<salt>:<check>)")
    version, salt_b64, check = salt_state.split(":", 2)
    if version != "v1":
        raise BadInput(f"{where}: encryptionsalt: unknown version {version!r}")
    try:
        salt = base64.b64decode(salt_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(f"{where}: encryptionsalt: the salt is not base64") from None
    key = _derive(phrase, salt)
    decrypter = Decrypter(key, where)
    try:
        ok = decrypter.decrypt(check, "encryptionsalt") == _CHECK
    except BadInput:
        ok = False
    if not ok:
        source = PASSPHRASE_ENV if PASSPHRASE_ENV in os.environ else PASSPHRASE_FILE_ENV
        raise BadInput(f"{where}: incorrect passphrase ({source}) for this stack's encryptionsalt")
    return decrypter
