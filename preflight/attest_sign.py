"""Signing and verifying the residency attestation: a DSSE envelope around an in-toto Statement.

    openssl genpkey -algorithm ed25519 -out residency.key                 # or: -algorithm EC
    openssl pkey -in residency.key -pubout -out residency.pub             #  -pkeyopt ec_paramgen_curve:P-256
    preflight gate --stack prod --attestation att.dsse.json --sign-key residency.key
    preflight verify att.dsse.json --public-key residency.pub --against .

The envelope is DSSE v1 (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md):
`payloadType` `application/vnd.in-toto+json` (the in-toto attestation framework's DSSE payload
type, spec/v1/envelope.md), `payload` the statement's canonical bytes in base64, and
`signatures` over the pre-authentication encoding PAE(payloadType, payload). The envelope, the
PAE and the signature checks are securesystemslib's (`dsse.Envelope`, `CryptoSigner`,
`SSlibKey`: the in-toto and TUF maintainers' library), the keys and curves pyca cryptography's:
nothing here does cryptography by hand.

Keys: Ed25519 or ECDSA P-256 (scheme ecdsa-sha2-nistp256), PEM (PKCS#8 private, SPKI public).
A signature's `keyid` is securesystemslib's default key id of the public key, so a verifier
with the public key finds it, and an edited key id is a failed check like any other edited byte.

`verify` exit codes: 0 the signature is good under a trusted key, the payload type and the
statement's schema are right and, with `--against DIR`, its subjects match that checkout; 1 a
bad signature, an unknown key, any edited byte, an unsigned statement (or an old self-sealed
file) without `--allow-unsigned`, or subjects that do not match; 2 an unreadable file or key.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from preflight import attest
from preflight.errors import EXIT_BAD_INPUT, EXIT_BLOCKED, EXIT_OK, BadInput

PAYLOAD_TYPE = "application/vnd.in-toto+json"
_PEM_PUBLIC = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


# --------------------------------------------------------------------------- keys


def load_signer(path: Path | str) -> Any:
    """A securesystemslib CryptoSigner for a PEM private key (Ed25519 or ECDSA P-256); BadInput
    naming the file when it cannot be read, is encrypted, or is another kind of key."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from securesystemslib.signer import CryptoSigner

    where = f"--sign-key {path}"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadInput(f"{where}: cannot read: {exc.strerror or exc}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        raise BadInput(f"{where}: the key is encrypted; give an unencrypted PEM key") from None
    except (ValueError, UnicodeError):
        raise BadInput(f"{where}: not a PEM private key") from None
    _supported(key, where, ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)
    return CryptoSigner(key)


def _supported(key: Any, where: str, ed_type: type, ec_type: type) -> None:
    """Ed25519, or ECDSA on P-256: the two this project signs and verifies with."""
    from cryptography.hazmat.primitives.asymmetric import ec

    curve = getattr(key, "curve", None) if isinstance(key, ec_type) else None
    if curve is not None and not isinstance(curve, ec.SECP256R1):
        raise BadInput(f"{where}: ECDSA curve {curve.name} is not supported (use P-256 or Ed25519)")
    if not isinstance(key, ed_type | ec_type):
        raise BadInput(f"{where}: a {type(key).__name__} is not supported (use Ed25519 or ECDSA P-256)")


def _public_key(pem: bytes, where: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from securesystemslib.signer import SSlibKey

    try:
        key = load_pem_public_key(pem)
    except (ValueError, UnicodeError):
        raise BadInput(f"{where}: not a PEM public key") from None
    _supported(key, where, ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)
    return SSlibKey.from_crypto(key)


def load_public_keys(
    public_keys: Iterable[Path | str] = (), trusted_keys: Iterable[Path | str] = ()
) -> list[Any]:
    """The trusted keys: each `--public-key` file (one PEM key) and every PEM public key block of
    each `--trusted-keys` file (text outside the blocks, e.g. comments, is ignored)."""
    keys: list[Any] = []
    for option, paths, many in (("--public-key", public_keys, False), ("--trusted-keys", trusted_keys, True)):
        for path in paths:
            where = f"{option} {path}"
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise BadInput(f"{where}: cannot read: {exc.strerror or exc}") from None
            blocks = _PEM_PUBLIC.findall(data) if many else [data]
            if not blocks:
                raise BadInput(f"{where}: no PEM public key in it")
            keys.extend(_public_key(block, where) for block in blocks)
    return keys


# --------------------------------------------------------------------------- signing


def sign(payload: bytes, signer: Any) -> dict[str, Any]:
    """The DSSE envelope (as a dict) of `payload` signed by `signer`."""
    from securesystemslib.dsse import Envelope

    envelope = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    return dict(envelope.to_dict())


def envelope_text(envelope: Mapping[str, Any]) -> str:
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")) + "\n"


# --------------------------------------------------------------------------- verifying


@dataclass
class Verdict:
    """`code` the exit code; `lines` what was established, `errors` why it is not 0."""

    code: int
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _no(code: int, *errors: str, lines: Iterable[str] = ()) -> Verdict:
    return Verdict(code, list(lines), list(errors))


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(attest.PREDICATE_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def statement_problems(doc: Any) -> list[str]:
    """What is wrong with an in-toto Statement v1 carrying a residency predicate ([] when nothing)."""
    if not isinstance(doc, dict):
        return ["the payload is not a JSON object"]
    problems = []
    if doc.get("_type") != attest.STATEMENT_TYPE:
        problems.append(f"_type {doc.get('_type')!r} is not {attest.STATEMENT_TYPE}")
    if doc.get("predicateType") != attest.PREDICATE_TYPE:
        problems.append(f"predicateType {doc.get('predicateType')!r} is not {attest.PREDICATE_TYPE}")
    extra = sorted(set(doc) - {"_type", "subject", "predicateType", "predicate"})
    if extra:
        problems.append(f"unexpected statement fields: {', '.join(extra)}")
    subjects = doc.get("subject")
    if not isinstance(subjects, list) or not subjects:
        problems.append("subject: not a non-empty list")
    else:
        for i, s in enumerate(subjects):
            digest = s.get("digest") if isinstance(s, dict) else None
            if (
                not isinstance(s, dict)
                or not isinstance(s.get("name"), str)
                or not isinstance(digest, dict)
                or not digest
                or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in digest.items())
            ):
                problems.append(f"subject[{i}]: needs a name and a digest of algorithm -> hex")
    for error in sorted(_validator().iter_errors(doc.get("predicate")), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"predicate/{where}: {error.message}"[:300])
    return problems


def _b64(text: Any, what: str) -> bytes:
    """Strict base64: the bytes must re-encode to exactly the text (no ignored characters)."""
    if not isinstance(text, str):
        raise ValueError(f"{what} is not a string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise ValueError(f"{what} is not canonical base64")
    return raw


def _check_signatures(data: dict[str, Any], keys: list[Any]) -> tuple[bytes | None, str]:
    """(payload, line) when a trusted key verified a signature; (None, why) otherwise."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError

    if set(data) != {"payload", "payloadType", "signatures"}:
        return None, f"not a DSSE envelope (fields {', '.join(sorted(data))})"
    if data["payloadType"] != PAYLOAD_TYPE:
        return None, f"payloadType {data['payloadType']!r} is not {PAYLOAD_TYPE}"
    sigs = data["signatures"]
    if not isinstance(sigs, list) or not sigs:
        return None, "UNSIGNED: the envelope has no signature"
    try:
        payload = _b64(data["payload"], "payload")
        for s in sigs:
            if not isinstance(s, dict) or set(s) != {"keyid", "sig"} or not isinstance(s["keyid"], str):
                raise ValueError("a signature needs exactly a keyid and a sig")
            _b64(s["sig"], "sig")
        envelope = Envelope.from_dict(json.loads(json.dumps(data)))  # from_dict edits what it is given
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"malformed envelope: {exc}"
    try:
        accepted = envelope.verify(keys, 1)
    except VerificationError:
        ids = ", ".join(sorted(str(s["keyid"])[:16] for s in sigs))
        return None, f"BAD SIGNATURE: no trusted key verifies a signature (signed by key id {ids})"
    except ValueError as exc:
        return None, f"cannot verify: {exc}"
    if envelope.payload != payload:
        return None, "malformed envelope: payload decoded two ways"
    keyid = next(iter(accepted))
    return payload, f"signature good (key id {keyid[:16]}, {accepted[keyid].scheme})"


def verify_file(
    path: Path,
    keys: list[Any],
    *,
    allow_unsigned: bool = False,
    against: Path | None = None,
) -> Verdict:
    """Check one attestation file (see the module docstring for the exit codes)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return _no(EXIT_BAD_INPUT, f"{path}: no such file")
    except OSError as exc:
        return _no(EXIT_BAD_INPUT, f"{path}: cannot read: {exc.strerror or exc}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return _no(EXIT_BAD_INPUT, f"{path}: not UTF-8: {exc.reason}")
    except ValueError as exc:
        return _no(EXIT_BAD_INPUT, f"{path}: not JSON: {exc}")
    if not isinstance(data, dict):
        return _no(EXIT_BAD_INPUT, f"{path}: not an attestation (not a JSON object)")

    if attest.is_legacy(data):
        intact, line = attest.check_legacy(data)
        if not intact:
            return _no(EXIT_BLOCKED, f"{path}: old self-sealed attestation: {line}")
        unsigned = f"{path}: UNSIGNED: an old self-sealed attestation ({line}); anyone can recompute its seal"
        if not allow_unsigned:
            return _no(EXIT_BLOCKED, unsigned + " (--allow-unsigned to read it)")
        if against is not None:
            return _no(
                EXIT_BLOCKED, f"{path}: an old attestation names no subjects to check", lines=[unsigned]
            )
        return Verdict(EXIT_OK, [unsigned])

    lines: list[str] = []
    if {"payload", "payloadType", "signatures"} & set(data):
        if not keys:
            return _no(
                EXIT_BAD_INPUT,
                f"{path}: a signed attestation: give --public-key or --trusted-keys to verify it",
            )
        payload, line = _check_signatures(data, keys)
        if payload is None:
            return _no(EXIT_BLOCKED, f"{path}: {line}")
        lines.append(f"{path}: {line}")
        try:
            doc = json.loads(payload.decode("utf-8"))
        except ValueError:
            return _no(EXIT_BLOCKED, f"{path}: the signed payload is not JSON", lines=lines)
        if attest.canonical(doc) != payload:
            return _no(EXIT_BLOCKED, f"{path}: the signed payload is not canonical JSON", lines=lines)
    elif "_type" in data:
        doc = data
        unsigned = f"{path}: UNSIGNED: an in-toto statement without an envelope; nothing says who made it"
        if not allow_unsigned:
            return _no(EXIT_BLOCKED, unsigned + " (--allow-unsigned to check the rest)")
        lines.append(unsigned)
    else:
        return _no(EXIT_BAD_INPUT, f"{path}: not an attestation (no envelope, statement or seal)")

    problems = statement_problems(doc)
    if problems:
        return _no(EXIT_BLOCKED, *(f"{path}: statement: {p}" for p in problems), lines=lines)
    predicate = doc["predicate"]
    passed = predicate["verdict"]
    judged = "not judged" if passed is None else ("passed" if passed["passed"] else "blocked")
    lines.append(
        f"{path}: {predicate['source']['kind']} of {predicate['project']}/{predicate['stack']} as of "
        f"{predicate['as_of']}: {judged}; {len(predicate['data_resources'])} data-bearing resources"
    )
    errors: list[str] = []
    if against is not None:
        for ok, line in subjects_match(doc, against):
            (lines if ok else errors).append(f"{path}: {line}")
    return Verdict(EXIT_BLOCKED if errors else EXIT_OK, lines, errors)


def read_statement(
    path: Path, keys: list[Any], *, allow_unsigned: bool
) -> tuple[Verdict, dict[str, Any] | None]:
    """verify_file, and the statement when it verified (for attest-diff)."""
    result = verify_file(path, keys, allow_unsigned=allow_unsigned)
    if result.code != EXIT_OK:
        return result, None
    data = json.loads(Path(path).read_bytes())
    if "payload" in data:
        data = json.loads(base64.b64decode(data["payload"]))
    return result, data


def subjects_match(doc: Mapping[str, Any], checkout: Path) -> list[tuple[bool, str]]:
    """Each subject checked against the project checkout `checkout`: (matches, line).

    The commit is HEAD of its work tree, and a statement made from a tree with local changes
    does not match (its commit does not pin what was planned); the stack file and the pack are
    hashed afresh. A policy config or a state export is named, not checked (it is made in CI,
    not kept in the checkout). A plan's statement without a commit, stack file or pack subject
    does not match: what it does not name cannot be checked."""
    from preflight.analyze import pack_content_hash

    results: list[tuple[bool, str]] = []
    head = attest.git_state(checkout)
    kinds: set[str] = set()
    for s in doc["subject"]:
        name, digest = str(s["name"]), dict(s["digest"])
        if name == attest.COMMIT_SUBJECT:
            kinds.add("commit")
            want = digest.get("gitCommit")
            if want != head["commit"]:
                results.append(
                    (False, f"SUBJECT MISMATCH: commit {want} is not {checkout}'s HEAD {head['commit']}")
                )
            elif doc["predicate"]["git"].get("dirty") is not False:
                results.append((False, f"SUBJECT MISMATCH: made from a tree with local changes at {want}"))
            else:
                results.append((True, f"commit {want} is HEAD"))
        elif name.startswith((attest.STACK_FILE, attest.POLICY_PACK)):
            kind = "stack" if name.startswith(attest.STACK_FILE) else "pack"
            kinds.add(kind)
            rel = name.partition(":")[2]
            target = checkout / rel
            try:
                if kind == "stack":
                    actual = {"sha256": attest.sha256_file(target)}
                else:
                    if not target.is_dir():
                        raise OSError(f"{target}: no such directory")
                    algorithm, _, hexdigest = pack_content_hash(target).partition(":")
                    actual = {algorithm: hexdigest}
            except (OSError, BadInput) as exc:
                results.append((False, f"SUBJECT MISMATCH: {name}: cannot hash {target}: {exc}"))
                continue
            shared = set(actual) & set(digest)
            if not shared or any(actual[a] != digest[a] for a in shared):
                results.append(
                    (False, f"SUBJECT MISMATCH: {name}: {target} has {actual}, the statement {digest}")
                )
            else:
                results.append((True, f"{name} matches"))
        else:
            results.append((True, f"{name}: named, not checked against a checkout"))
    if doc["predicate"]["source"]["kind"] == "plan":
        for kind in sorted({"commit", "stack", "pack"} - kinds):
            results.append((False, f"SUBJECT MISMATCH: the statement names no {kind} to check"))
    return results
