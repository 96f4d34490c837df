"""Errors of the HTTP API: a status code and a German one-line ``detail`` (plus extra keys).

Raised by the service modules, which know no FastAPI; ``app.py`` turns them into responses
``{"detail": "…", **extra}``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer other than success, with a message fit for the user (German, no client data)."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, **self.extra}


def unauthorised() -> ApiError:
    return ApiError(401, "Anmeldung am Server fehlgeschlagen: Gerät unbekannt oder Zugangsdaten "
                         "ungültig (Gerät neu anmelden).")


def revoked(**evidence: Any) -> ApiError:
    """A revoked device; ``evidence`` carries the signed revocations the device checks before
    it wipes itself (``revocations``, ``issuer_keys``)."""
    return ApiError(403, "Dieses Gerät wurde gesperrt; die Daten auf dem Gerät werden gelöscht.",
                    wipe=True, **evidence)


def not_confirmed() -> ApiError:
    return ApiError(409, "Dieses Gerät ist noch nicht bestätigt: eine Koordinatorin oder ein "
                         "Koordinator muss den Fingerabdruck prüfen und das Gerät freigeben.")
