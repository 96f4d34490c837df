"""Command line: ``kimdesk report zielvereinbarung|auskunft|fall|statistik|reconstruction|
fallbesprechung ... --out F.pdf``.

``register(subparsers)`` adds the sub-commands; each handler is set as ``handler`` and returns
the exit code (0 ok, 1 runtime error with one German line on stderr, 2 usage error).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kimdesk.errors import ValidationError
from kimdesk.stats.commands import (
    UsageError,
    add_period_arguments,
    add_vault_arguments,
    opened_context,
    period_and_scope,
    run_guarded,
    write_output,
)


def _zielvereinbarung(args: argparse.Namespace) -> str:
    from kimdesk.reports.personal import zielvereinbarung

    with opened_context(args) as ctx:
        content = zielvereinbarung(ctx, args.case, args.client)
    write_output(args.out, content)
    return f"Zielvereinbarung gespeichert: {args.out}"


def _auskunft(args: argparse.Namespace) -> str:
    from kimdesk.reports.personal import auskunft

    with opened_context(args) as ctx:
        content = auskunft(ctx, args.client)
    write_output(args.out, content)
    return f"Auskunft nach Art. 15 DSGVO gespeichert: {args.out}"


def _fall(args: argparse.Namespace) -> str:
    from kimdesk.reports.personal import case_summary

    with opened_context(args) as ctx:
        content = case_summary(ctx, args.case)
    write_output(args.out, content)
    return f"Fallübersicht gespeichert: {args.out}"


def _statistik(args: argparse.Namespace) -> str:
    from kimdesk.reports.statistics import statistics_pdf

    period, scope = period_and_scope(args)
    with opened_context(args) as ctx:
        try:
            scope.check(ctx.reference)
        except ValidationError as exc:
            raise UsageError(exc.message) from None
        if args.quelle == "kreis":
            from kimdesk.reports.statistics import statistics_report
            from kimdesk.stats.commands import county_statistics
            from kimdesk.stats.county import BASIS

            content = statistics_report(ctx, county_statistics(ctx, period, scope),
                                        basis=BASIS)
        else:
            content = statistics_pdf(ctx, period, scope)
    write_output(args.out, content)
    return f"Statistikbericht {period.label} gespeichert: {args.out}"


def _reconstruction(args: argparse.Namespace) -> str:
    from kimdesk.reports.reconstruction import reconstruction_pdf

    with opened_context(args) as ctx:
        content = reconstruction_pdf(ctx, args.id)
    write_output(args.out, content)
    return f"Fallrekonstruktion gespeichert: {args.out}"


def _fallbesprechung(args: argparse.Namespace) -> str:
    from kimdesk.reports.reconstruction import review_protocol_pdf

    with opened_context(args) as ctx:
        content = review_protocol_pdf(ctx, args.id)
    write_output(args.out, content)
    return f"Protokoll der Fallbesprechung gespeichert: {args.out}"


def _out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="DATEI.pdf",
                        help="Zieldatei (PDF); wird nur dort gespeichert")


def register(subparsers: Any) -> None:
    """Add ``report`` with its documents to the sub-commands of ``kimdesk``."""
    report = subparsers.add_parser(
        "report", help="PDF erstellen: Zielvereinbarung, Auskunft, Fallübersicht, Statistik, "
                       "Fallrekonstruktion, Fallbesprechung",
        description="Erstellt ein PDF und speichert es nur unter --out.")
    kinds = report.add_subparsers(dest="report_kind", metavar="DOKUMENT", required=True)

    parser = kinds.add_parser("zielvereinbarung", help="Zielvereinbarung einer Person im Fall")
    add_vault_arguments(parser)
    parser.add_argument("--case", required=True, metavar="FALL-ID", help="Kennung des Falls")
    parser.add_argument("--client", metavar="PERSON-ID",
                        help="Person im Fall (sonst die Ratsuchende/der Ratsuchende des Falls)")
    _out(parser)
    parser.set_defaults(handler=run_guarded(_zielvereinbarung))

    parser = kinds.add_parser("auskunft", help="Auskunft nach Art. 15 DSGVO über eine Person")
    add_vault_arguments(parser)
    parser.add_argument("--client", required=True, metavar="PERSON-ID",
                        help="Kennung der Person")
    _out(parser)
    parser.set_defaults(handler=run_guarded(_auskunft))

    parser = kinds.add_parser("fall", help="Fallübersicht")
    add_vault_arguments(parser)
    parser.add_argument("--case", required=True, metavar="FALL-ID", help="Kennung des Falls")
    _out(parser)
    parser.set_defaults(handler=run_guarded(_fall))

    parser = kinds.add_parser("statistik", help="Statistikbericht mit Zielsystem")
    add_vault_arguments(parser)
    add_period_arguments(parser)
    _out(parser)
    parser.set_defaults(handler=run_guarded(_statistik))

    parser = kinds.add_parser("reconstruction",
                              help="Fallrekonstruktion mit Dienstleistungskette (anonymisiert)")
    add_vault_arguments(parser)
    parser.add_argument("--id", required=True, metavar="REKONSTRUKTIONS-ID",
                        help="Kennung der Fallrekonstruktion")
    _out(parser)
    parser.set_defaults(handler=run_guarded(_reconstruction))

    parser = kinds.add_parser("fallbesprechung",
                              help="Protokoll einer Fallbesprechung (pseudonymisiert)")
    add_vault_arguments(parser)
    parser.add_argument("--id", required=True, metavar="BESPRECHUNGS-ID",
                        help="Kennung der Fallbesprechung")
    _out(parser)
    parser.set_defaults(handler=run_guarded(_fallbesprechung))
