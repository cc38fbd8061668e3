"""The replace-forcing table: which changes make Pulumi replace a resource, and what to do then.

The facts live in `preflight/data/replace_properties.yaml` (data, reviewed like code); this
module reads and validates it once, answers the diff's questions (does a change of this
property force a replacement? is this type data-bearing?) and renders `docs/replacements.md`:

    python -m preflight.replacements --write   # regenerate docs/replacements.md
    python -m preflight.replacements --check   # exit 1 when the doc is stale

Property names are wire (camelCase) input names, the form `ResourceRecord.inputs` carries.
A change anywhere under a listed property (`keyShape.length` under `keyShape`) counts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).resolve().parent / "data" / "replace_properties.yaml"
DOC_FILE = Path(__file__).resolve().parents[1] / "docs" / "replacements.md"

_TOP_KEYS = frozenset({"schema", "checked_against", "remedies", "types"})
_TYPE_KEYS = frozenset({"title", "data_bearing", "remedy", "replace", "not_replace", "caution"})


class TableError(ValueError):
    """The data file is malformed: one line naming the key path."""


@dataclass(frozen=True)
class TypeRule:
    token: str
    title: str
    data_bearing: bool
    remedy: str
    replace: Mapping[str, str]  # property -> why a change forces replacement
    not_replace: Mapping[str, str] = field(default_factory=dict)
    caution: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplaceTable:
    remedies: Mapping[str, str]
    types: Mapping[str, TypeRule]
    checked_against: Mapping[str, str]

    def rule(self, token: str) -> TypeRule | None:
        return self.types.get(token)

    def data_bearing(self, token: str) -> bool:
        rule = self.types.get(token)
        return bool(rule and rule.data_bearing)

    def forces_replacement(self, token: str, path: str) -> str | None:
        """Why a change at `path` (`keyShape.length`, `cidrBlocks[0]`) replaces a `token`, or None."""
        rule = self.types.get(token)
        return _lookup(rule.replace, path) if rule else None

    def caution(self, token: str, path: str) -> str | None:
        rule = self.types.get(token)
        return _lookup(rule.caution, path) if rule else None

    def remedy(self, token: str) -> tuple[str, str] | None:
        """(remedy key, its paragraph) for a type, or None for types the table does not know."""
        rule = self.types.get(token)
        if rule is None:
            return None
        return rule.remedy, self.remedies[rule.remedy]


def top_property(path: str) -> str:
    """`keyShape.length` -> `keyShape`; `cidrBlocks[1]` -> `cidrBlocks`."""
    end = len(path)
    for sep in (".", "["):
        i = path.find(sep)
        if i != -1:
            end = min(end, i)
    return path[:end]


def _lookup(props: Mapping[str, str], path: str) -> str | None:
    return props.get(top_property(path))


def _text_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TableError(f"{where}: must be a mapping of property -> text")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str) or not v.strip():
            raise TableError(f"{where}.{k}: must be a property name with a non-empty explanation")
        out[k] = " ".join(v.split())
    return out


def parse_table(doc: Any, source: str = DATA_FILE.name) -> ReplaceTable:
    if not isinstance(doc, Mapping):
        raise TableError(f"{source}: must be a mapping")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise TableError(f"{source}: {unknown[0]}: unknown key")
    if doc.get("schema") != 1:
        raise TableError(f"{source}: schema: must be 1")
    remedies = _text_map(doc.get("remedies"), f"{source}: remedies")
    checked = {str(k): str(v) for k, v in (doc.get("checked_against") or {}).items()}
    raw_types = doc.get("types")
    if not isinstance(raw_types, Mapping) or not raw_types:
        raise TableError(f"{source}: types: must be a non-empty mapping")
    types: dict[str, TypeRule] = {}
    for token, spec in raw_types.items():
        where = f"{source}: types.{token}"
        if not isinstance(token, str) or token.count(":") < 2:
            raise TableError(f"{where}: not a type token (pkg:module/name:Type)")
        if not isinstance(spec, Mapping):
            raise TableError(f"{where}: must be a mapping")
        unknown = sorted(set(spec) - _TYPE_KEYS)
        if unknown:
            raise TableError(f"{where}.{unknown[0]}: unknown key")
        title, bearing, remedy = spec.get("title"), spec.get("data_bearing"), spec.get("remedy")
        if not isinstance(title, str) or not title.strip():
            raise TableError(f"{where}.title: required")
        if not isinstance(bearing, bool):
            raise TableError(f"{where}.data_bearing: must be true or false")
        if remedy not in remedies:
            raise TableError(
                f"{where}.remedy: {remedy!r} is not one of remedies: {', '.join(sorted(remedies))}"
            )
        if "replace" not in spec:
            raise TableError(f"{where}.replace: required (use {{}} when nothing forces replacement)")
        rule = TypeRule(
            token=token,
            title=title.strip(),
            data_bearing=bearing,
            remedy=str(remedy),
            replace=_text_map(spec.get("replace"), f"{where}.replace"),
            not_replace=_text_map(spec.get("not_replace"), f"{where}.not_replace"),
            caution=_text_map(spec.get("caution"), f"{where}.caution"),
        )
        overlap = sorted(
            (set(rule.replace) & set(rule.caution)) | (set(rule.replace) & set(rule.not_replace))
        )
        if overlap:
            raise TableError(f"{where}: {overlap[0]}: listed as replace and as caution/not_replace")
        types[token] = rule
    return ReplaceTable(remedies=remedies, types=types, checked_against=checked)


@cache
def load_table(path: Path = DATA_FILE) -> ReplaceTable:
    with path.open(encoding="utf-8") as fh:
        return parse_table(yaml.safe_load(fh), path.name)


# --------------------------------------------------------------------------- the document


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(table: ReplaceTable) -> str:
    """docs/replacements.md, generated: do not edit the doc, edit the data file."""
    versions = ", ".join(f"{k} {v}" for k, v in sorted(table.checked_against.items()))
    lines = [
        "# Changes that force replacement",
        "",
        "<!-- Generated from preflight/data/replace_properties.yaml by"
        " `python -m preflight.replacements --write`; edit the data file, not this page."
        " tests/preflight/test_diff.py fails when they differ. -->",
        "",
        "A *replace* is Pulumi creating a new resource and deleting the old one. For a bucket, a",
        "vault, a key or a log that is the loss of the data in it, so `preflight diff` shows every",
        "replace in its PR comment, and any delete or replace of a data-bearing or `protect`ed",
        "resource as **BLOCKING** (exit 1). The table below is the one the diff uses.",
        "",
        f"Checked against: {versions}. For pulumi-oci, an input the SDK does not mark *(Updatable)*",
        "is fixed at creation; a test compares this table with the installed SDK. The pulumi-aws",
        "lists follow the upstream Terraform provider's ForceNew attributes.",
        "",
        "Besides the properties below, a resource is replaced when:",
        "",
        "* its **logical name, parent or type changes** (its URN changes): unless `aliases` name the",
        "  old URN, Pulumi creates the new one and deletes the old one. The diff pairs such a delete",
        "  and create and shows them as one *rename* replace;",
        "* its **provider changes region**: the diff shows a region change as a replace.",
        "",
        "## What to do",
        "",
    ]
    for key in sorted(table.remedies):
        lines += [f"### `{key}`", "", table.remedies[key], ""]
    lines += ["## By resource type", ""]
    lines += [
        "| Type | Data-bearing | Property | Forces replacement because | Remedy |",
        "|---|---|---|---|---|",
    ]
    for token in sorted(table.types):
        rule = table.types[token]
        bearing = "**yes**" if rule.data_bearing else "no"
        first = f"`{token}`<br>{_cell(rule.title)}"
        if not rule.replace:
            lines.append(
                f"| {first} | {bearing} | — | no input forces replacement "
                f"| [`{rule.remedy}`](#{rule.remedy}) |"
            )
        for i, (prop, why) in enumerate(sorted(rule.replace.items())):
            lead = first if i == 0 else "〃"
            lines.append(
                f"| {lead} | {bearing} | `{prop}` | {_cell(why)} | [`{rule.remedy}`](#{rule.remedy}) |"
            )
    lines += [
        "",
        "## Updated in place, but handle with care",
        "",
        "| Type | Property | Why |",
        "|---|---|---|",
    ]
    for token in sorted(table.types):
        for prop, why in sorted(table.types[token].caution.items()):
            lines.append(f"| `{token}` | `{prop}` | {_cell(why)} |")
    not_replace = [
        (t, p, w) for t in sorted(table.types) for p, w in sorted(table.types[t].not_replace.items())
    ]
    if not_replace:
        lines += [
            "",
            "## Not marked *(Updatable)* by the SDK, yet never a replace",
            "",
            "| Type | Property | Why |",
            "|---|---|---|",
        ]
        lines += [f"| `{t}` | `{p}` | {_cell(w)} |" for t, p, w in not_replace]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m preflight.replacements", description=__doc__.split("\n")[0]
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {DOC_FILE.name}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 when {DOC_FILE.name} is stale")
    args = parser.parse_args(argv)
    text = render_markdown(load_table())
    if args.write:
        DOC_FILE.write_text(text, encoding="utf-8")
        return 0
    if args.check:
        current = DOC_FILE.read_text(encoding="utf-8") if DOC_FILE.is_file() else ""
        if current != text:
            print(f"{DOC_FILE}: stale; run python -m preflight.replacements --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
