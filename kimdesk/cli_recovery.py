"""`kimdesk recover` and `kimdesk password`: back into a vault after a forgotten password, and a
new password (optionally with a new key) for an open one.

``recover`` opens the vault with the printed recovery code or, for county IT, with the county's
private recovery key (a PEM file, e.g. on a USB stick) and sets a new password. Both run on the
laptop alone: nothing here opens a network connection, and neither the vault nor the key leaves
the machine. A recovery always re-keys the vault: the old password, old headers and backups,
and the used recovery code stop working, and a new recovery code is printed.

Secrets never come from command-line arguments (they would show in the process list): the code
from ``--recovery-code-file`` or a prompt, the new password from ``KIMDESK_NEW_PASSWORD`` or a
prompt, the current password as for every command (``--password-file``, ``KIMDESK_PASSWORD``,
prompt).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from kimdesk import config
from kimdesk.cli_passwords import read_password
from kimdesk.cli_toolkit import EXIT_OK, add_data_dir_argument, add_vault_arguments, vault_dir
from kimdesk.errors import KimdeskError

NEW_PASSWORD_ENV = "KIMDESK_NEW_PASSWORD"
COUNTY_KEY_PASSPHRASE_ENV = "KIMDESK_COUNTY_KEY_PASSPHRASE"


def register(commands: Any) -> None:
    recover = commands.add_parser(
        "recover", help="Passwort vergessen: mit dem Wiederherstellungscode ein neues setzen",
        description="Öffnet den Datentresor mit dem Wiederherstellungscode (oder, für die "
                    "Kreis-IT, mit dem privaten Wiederherstellungsschlüssel des Kreises) und "
                    "setzt ein neues Passwort. Der Tresor bekommt dabei einen neuen Schlüssel: "
                    "das alte Passwort und der benutzte Code gelten danach nicht mehr, ein neuer "
                    "Code wird angezeigt. Alles geschieht auf diesem Gerät, ohne Netzwerk.",
        epilog=f"Neues Passwort ohne Nachfrage: Umgebungsvariable {NEW_PASSWORD_ENV}. "
               "Ablauf für die Kreis-IT: docs/it/recovery.md.")
    add_data_dir_argument(recover)
    source = recover.add_mutually_exclusive_group()
    source.add_argument("--recovery-code-file", type=Path, metavar="DATEI",
                        help="Wiederherstellungscode aus der ersten Zeile dieser Datei lesen "
                             "(sonst Nachfrage)")
    source.add_argument("--county-key-file", type=Path, metavar="DATEI",
                        help="Kreis-IT: privater Wiederherstellungsschlüssel des Kreises "
                             f"(PEM; Passphrase aus {COUNTY_KEY_PASSPHRASE_ENV} oder Nachfrage)")
    recover.set_defaults(handler=cmd_recover)

    password = commands.add_parser(
        "password", help="das Passwort ändern (auf Wunsch mit neuem Schlüssel)",
        description="Setzt ein neues Passwort. Mit --rekey bekommt der Datentresor zusätzlich "
                    "einen neuen Schlüssel: alte Kopien des Tresorkopfs, Sicherungskopien und "
                    "der bisherige Wiederherstellungscode öffnen danach nichts mehr; ein neuer "
                    "Code wird angezeigt.",
        epilog=f"Bisheriges Passwort: --password-file, {config.PASSWORD_ENV} oder Nachfrage; "
               f"neues Passwort: {NEW_PASSWORD_ENV} oder Nachfrage.")
    add_vault_arguments(password)
    password.add_argument("--rekey", action="store_true",
                          help="dem Datentresor einen neuen Schlüssel geben (empfohlen, wenn das "
                               "alte Passwort bekannt geworden sein könnte)")
    password.set_defaults(handler=cmd_password)


# --- reading secrets ----------------------------------------------------------------------------


def _prompt(label: str, what: str) -> str:
    if sys.stdin is None or not sys.stdin.isatty():
        raise KimdeskError(f"Kein {what} angegeben (siehe kimdesk recover --help).")
    return getpass.getpass(label)


def _first_line(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise KimdeskError(f"Die Datei {path} ({what}) konnte nicht gelesen werden.") from None
    first = text.splitlines()[0].strip() if text.strip() else ""
    if not first:
        raise KimdeskError(f"Die Datei {path} ({what}) ist leer.")
    return first


def read_new_password() -> str:
    """The new password: ``$KIMDESK_NEW_PASSWORD`` or a prompt, typed twice."""
    from_env = os.environ.get(NEW_PASSWORD_ENV)
    if from_env:
        return from_env
    print("Bitte ein neues Passwort wählen: mindestens 10 Zeichen, schwer zu erraten (z. B. "
          "drei oder vier Wörter, die nicht zusammengehören).")
    first = _prompt("Neues Passwort: ", f"neues Passwort ({NEW_PASSWORD_ENV})")
    if _prompt("Neues Passwort wiederholen: ", "neues Passwort") != first:
        raise KimdeskError("Die beiden Passwörter stimmen nicht überein.")
    return first


def _county_key(path: Path) -> Any:
    from kimdesk.vault.keys import load_private_key_pem

    try:
        pem = path.read_bytes()
    except OSError:
        raise KimdeskError(f"Der Wiederherstellungsschlüssel {path} konnte nicht gelesen "
                           "werden.") from None
    passphrase: bytes | None = None
    if b"ENCRYPTED" in pem:
        text = os.environ.get(COUNTY_KEY_PASSPHRASE_ENV) or _prompt(
            "Passphrase des Wiederherstellungsschlüssels: ",
            f"Passphrase ({COUNTY_KEY_PASSPHRASE_ENV})")
        passphrase = text.encode("utf-8")
    try:
        return load_private_key_pem(pem, passphrase)
    except (ValueError, TypeError):
        raise KimdeskError(f"{path} ist kein privater X25519-Wiederherstellungsschlüssel im "
                           "PEM-Format, oder die Passphrase ist falsch.") from None


# --- commands -----------------------------------------------------------------------------------


def _print_new_code(code: str) -> None:
    print()
    print("NEUER WIEDERHERSTELLUNGSCODE – wird nur dieses eine Mal angezeigt:")
    print()
    print(f"    {code}")
    print()
    print("Der bisherige Code gilt nicht mehr. Bitte den neuen ausdrucken oder abschreiben und "
          "verschlossen,")
    print("getrennt von diesem Gerät aufbewahren. Wer den Code hat, kann alle Daten lesen.")


def cmd_recover(args: argparse.Namespace) -> int:
    from kimdesk.casework.recovery import recover_with_code, recover_with_county_key
    from kimdesk.vault.passwords import check_password_policy
    from kimdesk.vault.store import vault_exists

    data_dir = vault_dir(args)
    if not vault_exists(data_dir):
        raise KimdeskError(f"In {data_dir} wurde kein Datentresor gefunden.")
    county_key = _county_key(args.county_key_file) if args.county_key_file else None
    code = ""
    if county_key is None:
        code = (_first_line(args.recovery_code_file, "Wiederherstellungscode")
                if args.recovery_code_file
                else _prompt("Wiederherstellungscode: ", "Wiederherstellungscode "
                             "(--recovery-code-file)"))
    new_password = read_new_password()
    check_password_policy(new_password)  # before the vault is opened; the name comes later
    vault, new_code = (
        recover_with_county_key(data_dir, county_key, new_password,
                                county_public_key=_profile_recovery_key())
        if county_key is not None
        else recover_with_code(data_dir, code, new_password,
                               county_public_key=_profile_recovery_key()))
    vault.close()
    print(f"Neues Passwort für den Datentresor in {data_dir} gesetzt; der Tresor hat einen "
          "neuen Schlüssel.")
    print("Das alte Passwort öffnet ihn nicht mehr.")
    _print_new_code(new_code)
    return EXIT_OK


def cmd_password(args: argparse.Namespace) -> int:
    from kimdesk.casework.recovery import change_password
    from kimdesk.vault import open_vault
    from kimdesk.vault.passwords import check_password_policy
    from kimdesk.vault.store import vault_exists

    data_dir = vault_dir(args)
    if not vault_exists(data_dir):
        raise KimdeskError(f"In {data_dir} wurde kein Datentresor gefunden.")
    old_password = read_password(args)
    new_password = read_new_password()
    check_password_policy(new_password)
    vault = open_vault(data_dir, old_password)
    try:
        new_code = change_password(vault, old_password, new_password, rekey=args.rekey,
                                   county_public_key=_profile_recovery_key())
    finally:
        vault.close()
    print("Das Passwort wurde geändert.")
    if new_code is not None:
        print("Der Datentresor hat einen neuen Schlüssel; alte Kopien öffnen nichts mehr.")
        _print_new_code(new_code)
    return EXIT_OK


def _profile_recovery_key() -> Any:
    """The installation profile's county key (added to a vault made before it was set)."""
    return config.county_recovery_key()
