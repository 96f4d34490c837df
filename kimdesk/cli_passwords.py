"""What every `kimdesk` sub-command shares: reading the vault password.

Order: ``--password-file``, then ``$KIMDESK_PASSWORD``, then a prompt on a terminal; never from
a command-line argument (it would show in the process list).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from kimdesk import config
from kimdesk.errors import KimdeskError
from kimdesk.vault.store import MIN_PASSWORD_LENGTH


def _password_from_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise KimdeskError(f"Die Passwortdatei {path} konnte nicht gelesen werden.") from None
    first = text.splitlines()[0] if text else ""
    if not first:
        raise KimdeskError(f"Die Passwortdatei {path} ist leer.")
    return first


def _prompt(label: str) -> str:
    if not sys.stdin.isatty():
        raise KimdeskError(
            f"Kein Passwort angegeben: bitte {config.PASSWORD_ENV} setzen oder --password-file "
            "angeben."
        )
    return getpass.getpass(label)


def read_password(args: argparse.Namespace, *, new: bool = False) -> str:
    """The vault password: --password-file, then $KIMDESK_PASSWORD, then a prompt."""
    path = getattr(args, "password_file", None)
    if path is not None:
        return _password_from_file(path)
    from_env = os.environ.get(config.PASSWORD_ENV)
    if from_env:
        return from_env
    if not new:
        return _prompt("Passwort des Datentresors: ")
    print(f"Bitte ein Passwort für den Datentresor wählen (mindestens {MIN_PASSWORD_LENGTH} "
          "Zeichen).")
    first = _prompt("Neues Passwort: ")
    if _prompt("Passwort wiederholen: ") != first:
        raise KimdeskError("Die beiden Passwörter stimmen nicht überein.")
    return first
