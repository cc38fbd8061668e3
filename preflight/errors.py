"""preflight's failure classes and the exit codes of the contract (shared/DESIGN.md).

    0  no blocking finding
    1  a mandatory violation or an unsuppressed checkov failure (gate, diff)
    2  bad input: usage, unreadable or invalid config, not a Pulumi project
    3  internal failure: the program raised, the pack crashed or timed out, checkov missing

The CLI turns these into one line on stderr and the exit code; nothing else may escape as
a traceback. Anything that could not be checked is an error, never a pass.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class PreflightError(Exception):
    """Base: a one-line message and the exit code it maps to."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(PreflightError):
    """The user's input is wrong: usage, project, stack file, config. Exit 2."""

    exit_code = EXIT_BAD_INPUT


class InternalFailure(PreflightError):
    """Something could not be evaluated: program raised, pack crashed/hung, checkov missing. Exit 3."""

    exit_code = EXIT_INTERNAL
