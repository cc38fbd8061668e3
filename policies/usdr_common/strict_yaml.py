"""YAML read the way the Pulumi CLI reads it, bounded: the one strict reader of the repository.

Stack files (stacks/settings.py), `Pulumi.yaml` and every file preflight reads
(preflight/project.py), and the region catalogue (regions.py) go through `read_yaml`:

* YAML 1.2 as the CLI's Go parser sees it: no timestamps, only true/false are booleans;
* a duplicate key is an error, never the last one silently winning;
* bounded: a regular file of at most MAX_FILE_BYTES (a FIFO or device is refused without
  blocking), nesting at most MAX_DEPTH, aliases expanding to at most MAX_EXPANDED_NODES.

Every problem is one `InputError` line, `<file>[:line:col]: ...`. Standard library + PyYAML.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "MAX_FILE_BYTES",
    "InputError",
    "parse_yaml",
    "read_bounded",
    "read_yaml",
]


class _Loader(yaml.SafeLoader):
    """YAML as Pulumi (Go, YAML 1.2) reads it: no dates, only true/false are booleans,
    and a duplicate key is an error instead of the last one silently winning."""


# Copy the resolvers so editing them does not change PyYAML's SafeLoader for everyone else.
_Loader.yaml_implicit_resolvers = {
    ch: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"unhashable key {key!r}", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


# Bounds for every file read through here (stack files, Pulumi.yaml, regions.yaml, preflight's
# --policy-config and --stack-outputs). Generous for real input (prod's stack file is 30 KiB,
# its generated policy config 20 KiB) and small enough that hostile input is refused in
# milliseconds: a FIFO or /dev/zero would block or never end, a 4 GB file would be read whole,
# an alias bomb expands to billions of nodes in whatever walks it next, and deep nesting
# overflows the stack.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 100
MAX_EXPANDED_NODES = 1_000_000


def read_bounded(path: Path, shown: str | None = None) -> str:
    """A regular file's text, at most MAX_FILE_BYTES; anything else is a one-line InputError.

    The file is opened non-blocking and checked with fstat before a byte is read, so a FIFO
    (which would wait for a writer) or a device (/dev/zero never ends) is refused at once.
    """
    shown = shown or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise InputError(f"{shown}: cannot read: {kind}")
        if info.st_size > MAX_FILE_BYTES:
            limit = f"{MAX_FILE_BYTES:,}"
            raise InputError(f"{shown}: {info.st_size:,} bytes, more than the {limit} a file may have")
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:  # grew while we read it
        raise InputError(f"{shown}: more than the {MAX_FILE_BYTES:,} bytes a file may have")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown}: cannot read: not UTF-8 ({exc.reason} at byte {exc.start})") from None


def _expanded_size(root: yaml.Node, shown: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH or expanding (through aliases) to more than
    MAX_EXPANDED_NODES. Memoized per node, so the check is linear in the document's text; a
    recursive alias (`&a [*a]`) is refused by the composer before this runs."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:
            where = f"{shown}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"
            raise InputError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            sizes[id(node)] = 1
            continue
        if done:
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_EXPANDED_NODES:
                where = f"{shown}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"
                raise InputError(f"{where}: aliases expand to more than {MAX_EXPANDED_NODES:,} values")
            sizes[id(node)] = total
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


def read_yaml(path: Path, shown: str | None = None) -> Any:
    """Parse one YAML file; any problem is a one-line InputError `<file>[:line:col]: ...`.

    Bounded: size (read_bounded), nesting depth and alias expansion (_expanded_size)."""
    shown = shown or str(path)
    return parse_yaml(read_bounded(path, shown), shown)


def parse_yaml(text: str, shown: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, shown)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x) or str(exc)
        raise InputError(f"{where}: YAML error: {what}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{shown}: YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:  # the composer recurses per level: deeper than Python's stack
        raise InputError(f"{shown}: nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
