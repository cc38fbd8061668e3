"""The `preflight` command line (shared/DESIGN.md is the contract).

    preflight plan   --stack NAME [options]   synthesize + analyze + report; exit 0 unless it could not run
    preflight gate   --stack NAME [options]   the same, exit 1 on any blocking finding
    preflight verify FILE                     recompute a residency attestation's sha256

Exit codes: 0 ok, 1 blocked, 2 bad input, 3 internal failure. Every error is one line on
stderr; set PREFLIGHT_DEBUG=1 to see the traceback of an unexpected one.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from preflight.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, PreflightError

PROG = "preflight"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _add_synth(sub: argparse._SubParsersAction[_Parser]) -> None:
    # Internal: synthesis in a fresh interpreter for synth.synthesize_isolated (not in --help).
    p = sub.add_parser("_synth")
    p.add_argument("--project-dir", type=Path, default=Path("."))
    p.add_argument("--stack", required=True)
    p.add_argument("--config-file", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=_run_synth)


def _run_synth(args: argparse.Namespace) -> int:
    from preflight.synth import synthesize, write_result

    result = synthesize(args.project_dir, args.stack, args.config_file)
    write_result(result, args.out)
    return 0


def build_parser() -> _Parser:
    parser = _Parser(prog=PROG, description="Offline plan and policy gate for Pulumi Python projects.")
    sub = parser.add_subparsers(dest="command", metavar="{plan,gate,verify}", parser_class=_Parser)
    sub.required = True
    _add_synth(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except PreflightError as exc:
        print(f"{PROG}: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted; nothing was checked", file=sys.stderr)
        return EXIT_INTERNAL
    except BaseException as exc:  # the contract: one line, exit 3, never a traceback
        if os.environ.get("PREFLIGHT_DEBUG"):
            traceback.print_exc()
        detail = " ".join(str(exc).split())[:300]
        hint = "rerun with PREFLIGHT_DEBUG=1 for the traceback"
        print(f"{PROG}: internal error: {type(exc).__name__}: {detail} ({hint})", file=sys.stderr)
        return EXIT_INTERNAL
