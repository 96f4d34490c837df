"""What every ``kimdesk`` sub-command shares: the vault and password options, opening the vault
the arguments name, writing an output file, and turning errors into the CLI contract.

The contract (DESIGN.md, "CLI contract"): exit 0 ok; 1 an expected error, printed as one German
line ``Fehler: …`` on stderr; 2 a usage error. ``cli.py`` and the sub-commands that packages
register (``report``, ``export``, ``enrol``/``sync`` …) all use this one module, and so does the
UI when it saves a PDF where the user chose.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kimdesk import config
from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for
from kimdesk.cli_passwords import read_password
from kimdesk.errors import KimdeskError
from kimdesk.sync.offline import require_lease
from kimdesk.vault import Vault, open_vault
from kimdesk.vault.store import vault_exists

EXIT_OK = 0
EXIT_ERROR = 1
USAGE_ERROR = 2


class UsageError(KimdeskError):
    """Arguments that do not fit together or name nothing known: exit code 2."""


def add_data_dir_argument(parser: argparse.ArgumentParser,
                          default_text: str = "Benutzerdatenverzeichnis") -> None:
    parser.add_argument("--data-dir", type=Path, metavar="VERZEICHNIS",
                        help=f"Verzeichnis des Datentresors (Standard: ${config.DATA_DIR_ENV} "
                             f"oder {default_text})")


def add_password_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password-file", type=Path, metavar="DATEI",
                        help="Passwort aus der ersten Zeile dieser Datei lesen "
                             f"(sonst ${config.PASSWORD_ENV} oder Nachfrage)")


def add_vault_arguments(parser: argparse.ArgumentParser,
                        default_text: str = "Benutzerdatenverzeichnis") -> None:
    """``--data-dir`` and ``--password-file``: the options of every command that opens a vault."""
    add_data_dir_argument(parser, default_text)
    add_password_argument(parser)


def vault_dir(args: argparse.Namespace) -> Path:
    """The vault directory the arguments name: ``--data-dir``, ``$KIMDESK_DATA_DIR`` or the
    per-user data directory."""
    return Path(args.data_dir) if args.data_dir else config.default_data_dir()


def open_vault_for(args: argparse.Namespace, *, past_the_lease: bool = False) -> Vault:
    """Open the vault the arguments name; asks for no password when there is nothing to open.

    A vault the offline lease locks (DESIGN.md, "Offline lease") is closed again with a German
    message saying what to do; only the ways out of the lock (``kimdesk sync``, ``kimdesk
    freischalten``) pass ``past_the_lease=True``."""
    directory = vault_dir(args)
    if not vault_exists(directory):
        raise KimdeskError(f"In {directory} wurde kein Datentresor gefunden (kimdesk init).")
    vault = open_vault(directory, read_password(args))
    if not past_the_lease:
        try:
            require_lease(vault)
        except BaseException:
            vault.close()
            raise
    return vault


@contextmanager
def opened_context(args: argparse.Namespace, *, past_the_lease: bool = False
                   ) -> Iterator[Context]:
    """The vault owner's context on the vault the arguments name; closed afterwards (see
    :func:`open_vault_for` for the offline lease)."""
    vault = open_vault_for(args, past_the_lease=past_the_lease)
    try:
        yield context_for(vault)
    finally:
        vault.close()


def write_output(path: Path, content: bytes) -> None:
    """Write where the user asked (owner-only permissions for a new file), nowhere else."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
    except OSError as exc:
        raise KimdeskError(f"Die Datei {path} konnte nicht geschrieben werden "
                           f"({exc.strerror or exc}).") from None


def run_guarded(action: Callable[[argparse.Namespace], str]
                ) -> Callable[[argparse.Namespace], int]:
    """A handler: runs ``action``, prints its line; expected errors become one German line."""

    def handler(args: argparse.Namespace) -> int:
        try:
            message = action(args)
        except UsageError as exc:
            print(f"kimdesk: {exc.message}", file=sys.stderr)
            return USAGE_ERROR
        except KimdeskError as exc:
            print(f"Fehler: {exc.message}", file=sys.stderr)
            return EXIT_ERROR
        print(message)
        return EXIT_OK

    return handler
