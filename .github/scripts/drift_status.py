#!/usr/bin/env python3
"""Drift of one stack from `pulumi refresh --preview-only --json`: the engine's own counts.

    python3 .github/scripts/drift_status.py refresh.json --markdown drift.md   # prints drift|none

The JSON is the preview digest the CLI writes with `--json` (pulumi/pulumi pkg/display/json.go:
`changeSummary`, a count per operation). A refresh step is counted under the operation its
result amounts to, `RefreshStep.ResultOp()`: `same` when the cloud matches the state, `update`
when it differs, `delete` when the resource is gone (pulumi/pulumi pkg/engine/update.go,
previewActions.OnResourceStepPost; pkg/resource/deploy/step.go). So drift is any operation but
`same` with a count above zero, decided from numbers, never from the CLI's English text.

Exit 0 with `drift` or `none` on stdout; exit 2 with one line on stderr when the file is not a
refresh preview (no JSON object, no `changeSummary`): "could not check" is never "no drift".
Runs on the runner's own Python: standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

NO_CHANGE = "same"


class NotAPreview(Exception):
    pass


def read_digest(text: str) -> dict[str, Any]:
    """The preview digest in `text` (the CLI's stdout), or NotAPreview saying why not."""
    start = text.find("{")
    if start < 0:
        raise NotAPreview("no JSON object in the refresh output")
    try:
        doc, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as exc:
        raise NotAPreview(f"the refresh output is not JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("changeSummary"), dict):
        raise NotAPreview(
            "the refresh output has no changeSummary: not a `pulumi refresh --preview-only --json`"
        )
    return doc


def drifted(digest: dict[str, Any]) -> dict[str, int]:
    """Operation -> count for everything the refresh would change (empty: no drift)."""
    out: dict[str, int] = {}
    for op, count in digest["changeSummary"].items():
        if not isinstance(count, int) or isinstance(count, bool):
            raise NotAPreview(f"changeSummary.{op}: {count!r} is not a count")
        if op != NO_CHANGE and count > 0:
            out[str(op)] = count
    return out


def markdown(stack: str, digest: dict[str, Any], changes: dict[str, int]) -> str:
    head = f"### Drift check · stack `{stack}` · {'drift' if changes else 'none'}\n\n"
    if not changes:
        same = digest["changeSummary"].get(NO_CHANGE, 0)
        return head + f"The cloud matches the state ({same} resources unchanged).\n"
    lines = [head, "| operation | resources |", "| --- | --- |"]
    lines += [f"| {op} | {count} |" for op, count in sorted(changes.items())]
    steps = [
        s for s in digest.get("steps") or [] if isinstance(s, dict) and s.get("op") not in (NO_CHANGE, "read")
    ]
    if steps:
        lines += ["", "| step | resource |", "| --- | --- |"]
        lines += [f"| {s.get('op')} | `{s.get('urn')}` |" for s in steps[:200]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="drift or none, from pulumi refresh --preview-only --json")
    parser.add_argument("file", type=Path)
    parser.add_argument("--stack", default="?")
    parser.add_argument("--markdown", type=Path, help="write the drift report (Markdown) here")
    args = parser.parse_args(argv)
    try:
        digest = read_digest(args.file.read_text(encoding="utf-8", errors="replace"))
        changes = drifted(digest)
    except (OSError, NotAPreview) as exc:
        print(f"drift_status: {args.file}: {exc}", file=sys.stderr)
        return 2
    if args.markdown:
        args.markdown.write_text(markdown(args.stack, digest, changes), encoding="utf-8")
    print("drift" if changes else "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
