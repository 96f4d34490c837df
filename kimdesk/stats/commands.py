"""Command line: ``kimdesk export statistik`` (CSV/XLSX), and the argument helpers that
``kimdesk report`` shares (vault, password, period, area, output file).

``register(subparsers)`` adds the sub-command to the ``kimdesk`` parser; each handler is set as
``handler`` and returns the exit code (0 ok, 1 runtime error with one German line on stderr,
2 usage error). Data directory and password follow the rest of the CLI (``kimdesk.config``):
``--data-dir`` or ``$KIMDESK_DATA_DIR`` or the per-user data directory; ``--password-file``,
``$KIMDESK_PASSWORD`` or a prompt.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kimdesk import config
from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for
from kimdesk.cli_passwords import read_password
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.stats.figures import Statistics
from kimdesk.stats.scope import Period, Scope, ScopeKind, parse_month
from kimdesk.vault import open_vault

PASSWORD_ENV = config.PASSWORD_ENV
USAGE_ERROR = 2


class UsageError(KimdeskError):
    """Arguments that do not fit together or name nothing known: exit code 2."""


def month_argument(text: str) -> str:
    try:
        return parse_month(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def add_vault_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, metavar="VERZEICHNIS",
                        help="Verzeichnis des Datentresors (Standard: "
                             f"${config.DATA_DIR_ENV} oder das Benutzerdatenverzeichnis)")
    parser.add_argument("--password-file", type=Path, metavar="DATEI",
                        help=f"Passwort aus dieser Datei (erste Zeile); sonst ${PASSWORD_ENV} "
                             "oder Abfrage")


def add_period_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=month_argument, required=True,
                        metavar="JJJJ-MM", help="erster Monat des Zeitraums")
    parser.add_argument("--to", dest="end", type=month_argument, required=True,
                        metavar="JJJJ-MM", help="letzter Monat des Zeitraums")
    area = parser.add_mutually_exclusive_group()
    area.add_argument("--team", metavar="TEAM",
                      help="nur dieses Team (nord, ost, mitte, sued, welcome)")
    area.add_argument("--planungsraum", metavar="TEAM",
                      help="nur die Kommunen des Planungsraums dieses regionalen Teams")
    area.add_argument("--kommune", metavar="KOMMUNE", help="nur diese Kommune (Code, z. B. kleve)")
    parser.add_argument("--quelle", choices=("tresor", "kreis"), default="tresor",
                        help="tresor: die Fälle dieses Datentresors (Standard); kreis: die von "
                             "allen Teams an den Kreisserver übermittelten, geschützten Zahlen "
                             "(Koordination; Case-Manager: das eigene Team)")


def period_and_scope(args: argparse.Namespace) -> tuple[Period, Scope]:
    """The period and area the arguments name; UsageError if they do not fit."""
    try:
        period = Period(args.start, args.end)
    except ValidationError as exc:
        raise UsageError(exc.message) from None
    if args.team:
        scope = Scope(ScopeKind.TEAM, args.team)
    elif args.planungsraum:
        scope = Scope(ScopeKind.PLANNING_AREA, args.planungsraum)
    elif args.kommune:
        scope = Scope(ScopeKind.MUNICIPALITY, args.kommune)
    else:
        scope = Scope.county()
    return period, scope


@contextmanager
def opened_context(args: argparse.Namespace) -> Iterator[Context]:
    """The vault owner's context on the vault the arguments name; closed afterwards."""
    data_dir = args.data_dir or config.default_data_dir()
    vault = open_vault(data_dir, read_password(args))
    try:
        yield context_for(vault)
    finally:
        vault.close()


def county_statistics(ctx: Context, period: Period, scope: Scope) -> Statistics:
    """The county figures of ``period`` and ``scope`` from the county server."""
    from kimdesk.sync.statistics import county_view

    return county_view(ctx, period, scope)


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
            return 1
        print(message)
        return 0

    return handler


def _export(args: argparse.Namespace) -> str:
    from kimdesk.stats import exports
    from kimdesk.stats.figures import build, load
    from kimdesk.stats.zielsystem import measure, zielsystem_for

    fmt = args.format or args.out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise UsageError("Bitte --format csv oder --format xlsx angeben.")
    period, scope = period_and_scope(args)
    with opened_context(args) as ctx:
        try:
            scope.check(ctx.reference)
        except ValidationError as exc:
            raise UsageError(exc.message) from None
        if args.quelle == "kreis":
            stats = county_statistics(ctx, period, scope)
            measured = None
        else:
            data = load(ctx, period, scope)
            stats = build(data, ctx.reference, ctx.today())
            system = zielsystem_for(ctx.reference, period.end)
            measured = ((system, measure(ctx, system, period.end, stats, data)) if system
                        else None)
    content = (exports.to_csv if fmt == "csv" else exports.to_xlsx)(stats, measured)
    write_output(args.out, content)
    return f"Statistik {period.label} ({stats.scope_label}) exportiert: {args.out}"


def register(subparsers: Any) -> None:
    """Add ``export statistik`` to the sub-commands of ``kimdesk``."""
    export = subparsers.add_parser(
        "export", help="Statistik als CSV oder XLSX exportieren",
        description="Anonymisierte Statistik (Cell-Key-Verfahren) als CSV oder XLSX.")
    kinds = export.add_subparsers(dest="export_kind", metavar="WAS", required=True)
    parser = kinds.add_parser(
        "statistik", help="Kennzahlen eines Zeitraums (Controlling, Fachdatenerhebung)",
        description="Exportiert die Kennzahlen eines Zeitraums. Spalten: "
                    "docs/statistics-columns.md. Anzahlen sind nach dem Cell-Key-"
                    "Verfahren geschützt (höchstens ±4, nie 1–4).")
    add_vault_arguments(parser)
    add_period_arguments(parser)
    parser.add_argument("--format", choices=("csv", "xlsx"),
                        help="Dateiformat (sonst aus der Endung von --out)")
    parser.add_argument("--out", type=Path, required=True, metavar="DATEI", help="Zieldatei")
    parser.set_defaults(handler=run_guarded(_export))
