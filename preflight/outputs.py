"""Writing preflight's output files: atomically, and never read back.

Every file preflight writes for its user (`--out`, `--attestation`, `--tfplan-out`,
`--residency-map`) goes through `atomic_target`: the content is written to a temporary file in
the target's own directory and renamed over the target (`os.replace`, atomic on POSIX within
one filesystem). A reader, a concurrent gate or a CI step that uploads the file sees the old
content or the new one, never a mix of two runs; an interrupted run leaves no half file (the
temporary is removed in `finally`). preflight never reads these files back: what a gate judges
is its own in-memory data or a private copy in its own temporary directory (issue 15, item 1).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from preflight.errors import BadInput


@contextlib.contextmanager
def atomic_target(path: Path | str, what: str) -> Iterator[Path]:
    """A temporary path next to `path`; on a clean exit it replaces `path` in one rename.
    BadInput naming `what` (the option) when the directory or the file cannot be written."""
    target = Path(path)
    if target.is_dir():
        raise BadInput(f"{what} {path}: is a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise BadInput(f"{what} {path}: cannot write: {exc.strerror or exc}") from None
    tmp = Path(name)
    try:
        try:
            yield tmp
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an output gets the usual mode
            os.replace(tmp, target)
        except OSError as exc:
            raise BadInput(f"{what} {path}: cannot write: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text_atomic(path: Path | str, text: str, what: str) -> None:
    """Write `text` (UTF-8) to `path` atomically (see `atomic_target`)."""
    with atomic_target(path, what) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
