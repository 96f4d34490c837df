"""Command line: ``kimdesk export statistik`` (CSV/XLSX), and the period and area arguments
that ``kimdesk report statistik`` shares.

``register(subparsers)`` adds the sub-command to the ``kimdesk`` parser; vault options, errors
and exit codes come from ``kimdesk.cli_toolkit``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kimdesk.casework.context import Context
from kimdesk.cli_toolkit import (
    UsageError,
    add_vault_arguments,
    opened_context,
    run_guarded,
    write_output,
)
from kimdesk.errors import ValidationError
from kimdesk.stats.figures import Statistics
from kimdesk.stats.scope import Period, Scope, ScopeKind, parse_month


def month_argument(text: str) -> str:
    try:
        return parse_month(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


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


def county_statistics(ctx: Context, period: Period, scope: Scope) -> Statistics:
    """The county figures of ``period`` and ``scope`` from the county server."""
    from kimdesk.sync.statistics import county_view

    return county_view(ctx, period, scope)


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
