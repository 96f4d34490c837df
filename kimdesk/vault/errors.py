"""Errors the vault raises; messages are German and name no client."""

from __future__ import annotations

from kimdesk.errors import KimdeskError


class VaultError(KimdeskError):
    """Any expected failure of the vault."""


class VaultMissing(VaultError):
    """No vault in the given data directory."""


class WrongPassword(VaultError):
    """The password (or recovery secret) does not open the vault."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VaultLocked(VaultError):
    """Too many failed attempts: the next try is allowed only after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VaultCorrupted(VaultError):
    """The files are damaged or were altered; nothing was changed by the attempt to open."""
