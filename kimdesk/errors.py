"""Expected errors: each carries a one-line German message a user can act on.

The CLI prints ``message`` and exits 1; the UI shows it beside the field or in a dialog.
Nothing in a message may name a client: messages end up in logs and on screens.
"""

from __future__ import annotations


class KimdeskError(Exception):
    """An expected failure with a message fit for the user (German)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(KimdeskError):
    """Input that breaks a rule; ``field`` names the offending field for the UI."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(KimdeskError):
    """A record that does not exist (or no longer exists, e.g. after deletion)."""
