"""A cache of one side of `preflight diff`, so a re-run of the PR check after a push costs one
synthesis (the head's), not two: the base is usually the same commit as last time.

An entry is keyed by everything that determines the side: the git tree of the base's project
directory (program, stack file, preflight-lookups.yaml, its settings model), the stack and any
stack file outside it, the policy pack's content (the working tree's pack judges both sides),
`--policy-config`, `--stack-outputs` and `--lookups` files, checkov on or off and which checkov,
the interpreter and the Pulumi SDK versions, and preflight's own code. Any of these changing is
a different key, so a stale entry is never found.

Entries are signed (HMAC-SHA256) with a key only this user can read (`$PREFLIGHT_CACHE_KEY`,
else `<cache>/key`, created 0600): an entry that does not verify, does not parse, or carries
another key is ignored and rebuilt, never used, so a cache restored from somewhere else or
edited by hand cannot change a verdict. The payload is pickled only after it verified.
Location: `$PREFLIGHT_CACHE_DIR`, else `$XDG_CACHE_HOME/preflight`, else `~/.cache/preflight`;
`--no-cache` turns it off. Entries older than `MAX_AGE_DAYS` are pruned when one is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import sys
import tempfile
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

CACHE_ENV = "PREFLIGHT_CACHE_DIR"
KEY_ENV = "PREFLIGHT_CACHE_KEY"
FORMAT = b"preflight-diff-cache/1\n"
MAX_AGE_DAYS = 14
_SKIP_DIRS = frozenset({"__pycache__", ".venv", ".venv-checkov", ".git", ".pytest_cache", ".mypy_cache"})
_PACKAGES = ("pulumi", "pulumi-oci", "pulumi-aws", "pulumi-policy", "protobuf", "grpcio")


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "preflight"


def _signing_key(root: Path) -> bytes:
    given = os.environ.get(KEY_ENV)
    if given:
        return given.encode()
    path = root / "key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    root.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def digest_tree(root: Path) -> str:
    """SHA-256 over the relative paths and contents of the files under `root`; caches and
    virtualenvs are pruned, never walked. A missing root hashes as such."""
    h = hashlib.sha256()
    if not root.exists():
        h.update(b"missing")
        return h.hexdigest()
    files = []
    for here, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        files += [Path(here, name) for name in names]
    for path in sorted(p for p in files if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def digest_files(paths: Iterable[str | Path | None]) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p is None:
            h.update(b"-\0")
            continue
        path = Path(p)
        h.update(str(path).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"missing")
    return h.hexdigest()


def environment() -> dict[str, str]:
    """What outside the repository shapes a synthesis: the interpreter and the SDK versions."""
    out = {"python": sys.version, "executable": sys.executable}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def interpreter_fingerprint(python: str) -> str:
    """The interpreter a program runs with and the state of its environment's packages: the
    site-packages directories' mtimes change whenever a distribution is installed, upgraded or
    removed (each has its own dist-info directory there)."""
    exe = Path(python)
    parts = [str(exe.resolve())]
    for site in sorted(exe.parent.parent.glob("lib/python3*/site-packages")):
        with contextlib.suppress(OSError):
            parts.append(f"{site}:{site.stat().st_mtime_ns}")
    return "|".join(parts)


_PREFLIGHT_DIGEST: str | None = None


def preflight_digest() -> str:
    global _PREFLIGHT_DIGEST
    if _PREFLIGHT_DIGEST is None:
        _PREFLIGHT_DIGEST = digest_tree(Path(__file__).resolve().parent)
    return _PREFLIGHT_DIGEST


def make_key(parts: dict[str, Any]) -> str:
    """The entry's name: a digest of every part, in a stable order."""
    h = hashlib.sha256()
    for name in sorted(parts):
        h.update(f"{name}={parts[name]!r}\n".encode())
    return h.hexdigest()


class Cache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir()
        self.notes: list[str] = []

    def _path(self, key: str) -> Path:
        return self.root / "diff" / f"{key}.entry"

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        try:
            signing = _signing_key(self.root)
        except OSError:
            return None
        header, mac, body = (
            blob[: len(FORMAT)],
            blob[len(FORMAT) : len(FORMAT) + 32],
            blob[len(FORMAT) + 32 :],
        )
        expected = hmac.new(signing, key.encode() + b"\0" + body, hashlib.sha256).digest()
        if header != FORMAT or not hmac.compare_digest(mac, expected):
            self.notes.append(f"a cached side ({path.name}) did not verify and was not used")
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        try:
            return pickle.loads(body)  # noqa: S301 - verified above: written by this user's preflight
        except Exception:  # a verified but unreadable entry (another preflight's classes): rebuild
            self.notes.append(f"a cached side ({path.name}) could not be read and was not used")
            return None

    def put(self, key: str, value: Any) -> None:
        """Best effort: a cache that cannot be written costs time, never a verdict."""
        try:
            signing = _signing_key(self.root)
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            mac = hmac.new(signing, key.encode() + b"\0" + body, hashlib.sha256).digest()
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".entry-")
            with os.fdopen(fd, "wb") as f:
                f.write(FORMAT + mac + body)
            os.replace(tmp, target)
            self._prune(target.parent)
        except OSError as exc:
            self.notes.append(f"the diff cache could not be written ({exc.strerror or exc})")

    def _prune(self, where: Path) -> None:
        cutoff = time.time() - MAX_AGE_DAYS * 86400
        for entry in where.glob("*.entry"):
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
