"""The shared modules' one error type."""

from __future__ import annotations


class InputError(ValueError):
    """A file or value that cannot be used, as one line: `<file>[:line:col]: <what is wrong>`.

    The program turns it into a SettingsError, preflight into BadInput (exit 2), the pack into a
    fail-closed violation: no caller shows a traceback for it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
