"""Before/after figures of several mutation runs, per module, per folder and over all of them.

    python3 benchmarks/mutation_summary.py --before a.json --before b.json --after c.json ...

Each report is one of `python3 dev.py mutate` (benchmarks/mutation.py). A module's *before* is
its entry in the last `--before` report that has it; its *after* the entry in the last `--after`
report that has it, or its before when no after report has it (nothing was re-run: the figure
stands). An `--after` report made with `--survivors-of` already carries its before's killed
mutants, so an entry is a whole figure. The folder lines and the "all" lines add the modules'
killed and survived mutants up: docs/mutation-testing.md takes its tables from this, not from
sums made by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2


def load(paths: Sequence[Path]) -> dict[str, dict[str, Any]]:
    """module -> its entry in the last of `paths` that has it."""
    out: dict[str, dict[str, Any]] = {}
    for path in paths:
        for m in json.loads(path.read_text(encoding="utf-8"))["modules"]:
            out[m["module"]] = {**m, "report": path.name}
    return out


def _pct(killed: int, survived: int) -> str:
    judged = killed + survived
    return "-" if judged == 0 else f"{100 * survived / judged:.1f}%"


def folder(module: str) -> str:
    return module.rsplit("/", 1)[0] + "/"


def summary(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> str:
    modules = sorted(set(before) | set(after), key=lambda m: (folder(m), m))
    rows = [
        "| module | mutants | sampled | not run | before: killed / survived | before"
        " | after: killed / survived | after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    totals: dict[str, list[int]] = {}

    def add(key: str, b: dict[str, Any] | None, a: dict[str, Any]) -> None:
        t = totals.setdefault(key, [0, 0, 0, 0, 0])
        if b is not None:
            t[0] += b["killed"]
            t[1] += b["survived"]
        t[2] += a["killed"]
        t[3] += a["survived"]
        t[4] += a["not_run"]

    for m in modules:
        b = before.get(m)
        a = after.get(m, b)
        assert a is not None
        bk = "-" if b is None else f"{b['killed']} / {b['survived']}"
        bp = "-" if b is None else _pct(b["killed"], b["survived"])
        rows.append(
            f"| `{m}` | {a['mutants']} | {a['sampled']} | {a['not_run']} | {bk} | {bp}"
            f" | {a['killed']} / {a['survived']} | {_pct(a['killed'], a['survived'])} |"
        )
        add(folder(m), b, a)
        add("policies/ (all)" if m.startswith("policies/") else "verdict path (all)", b, a)
    for key in sorted(totals, key=lambda k: (k.endswith("(all)"), k)):  # folders, then the "all" lines
        bk_, bs, ak, as_, nr = totals[key]
        rows.append(
            f"| **{key}** | | | {nr} | {bk_} / {bs} | {_pct(bk_, bs)} | {ak} / {as_} | {_pct(ak, as_)} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="mutation_summary.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--before", action="append", type=Path, default=[], help="a report (repeatable)")
    p.add_argument("--after", action="append", type=Path, default=[], help="a report (repeatable)")
    ns = p.parse_args(list(argv))
    try:
        before, after = load(ns.before), load(ns.after)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"mutation_summary: not a report of benchmarks/mutation.py ({e})", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(summary(before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
