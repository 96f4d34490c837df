"""Command line: ``kimdesk report zielvereinbarung|auskunft|fall|statistik|reconstruction|
fallbesprechung|datenschutzinfo|einwilligung ... --out F.pdf``.

``register(subparsers)`` adds the sub-commands; each handler is set as ``handler`` and returns
the exit code (0 ok, 1 runtime error with one German line on stderr, 2 usage error).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kimdesk.cli_toolkit import (
    UsageError,
    add_vault_arguments,
    opened_context,
    run_guarded,
    write_output,
)
from kimdesk.errors import ValidationError
from kimdesk.stats.commands import add_period_arguments, period_and_scope


def _zielvereinbarung(args: argparse.Namespace) -> str:
    from kimdesk.reports.personal import zielvereinbarung

    with opened_context(args) as ctx:
        content = zielvereinbarung(ctx, args.case, args.client, args.sprache)
    write_output(args.out, content)
    return f"Zielvereinbarung gespeichert: {args.out}"


def _datenschutzinfo(args: argparse.Namespace) -> str:
    from kimdesk.reports.client_documents import datenschutzinfo

    with opened_context(args) as ctx:
        content = datenschutzinfo(ctx, args.sprache)
    write_output(args.out, content)
    return f"Informationsblatt zum Datenschutz gespeichert: {args.out}"


def _einwilligung(args: argparse.Namespace) -> str:
    from kimdesk.reports.client_documents import einwilligung

    with opened_context(args) as ctx:
        content = einwilligung(ctx, args.client, args.sprache)
    write_output(args.out, content)
    return f"Einwilligung und Schweigepflichtentbindung gespeichert: {args.out}"


def _language(value: str) -> str:
    from kimdesk.reports.client_documents import language_code

    try:
        return language_code(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _auskunft(args: argparse.Namespace) -> str:
    from kimdesk.reports.auskunft_data import auskunft_json
    from kimdesk.reports.personal import auskunft

    with opened_context(args) as ctx:
        if args.format == "json":
            content = auskunft_json(ctx, args.client)
        else:
            content = auskunft(ctx, args.client)
    write_output(args.out, content)
    if args.format == "json":
        return f"Auskunft nach Art. 15 DSGVO als JSON (Art. 20 DSGVO) gespeichert: {args.out}"
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
                       "Fallrekonstruktion, Fallbesprechung, Datenschutzinfo, Einwilligung",
        description="Erstellt ein PDF und speichert es nur unter --out.")
    kinds = report.add_subparsers(dest="report_kind", metavar="DOKUMENT", required=True)

    parser = kinds.add_parser("zielvereinbarung", help="Zielvereinbarung einer Person im Fall")
    add_vault_arguments(parser)
    parser.add_argument("--case", required=True, metavar="FALL-ID", help="Kennung des Falls")
    parser.add_argument("--client", metavar="PERSON-ID",
                        help="Person im Fall (sonst die Ratsuchende/der Ratsuchende des Falls)")
    parser.add_argument("--sprache", type=_language, metavar="SPRACHE",
                        help="Überschriften und feste Texte zusätzlich in dieser Sprache "
                             "(z. B. ar, uk, ru, tr, fa, pl, ro, bg, en, fr); Ziele auf Deutsch")
    _out(parser)
    parser.set_defaults(handler=run_guarded(_zielvereinbarung))

    parser = kinds.add_parser("auskunft", help="Auskunft nach Art. 15 DSGVO über eine Person")
    add_vault_arguments(parser)
    parser.add_argument("--client", required=True, metavar="PERSON-ID",
                        help="Kennung der Person")
    parser.add_argument("--format", choices=("pdf", "json"), default="pdf",
                        help="pdf (Standard) oder json: maschinenlesbare Fassung nach Art. 20 "
                             "DSGVO, Schema in docs/auskunft.schema.json")
    parser.add_argument("--out", type=Path, required=True, metavar="DATEI",
                        help="Zieldatei (PDF oder JSON); wird nur dort gespeichert")
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

    parser = kinds.add_parser("datenschutzinfo",
                              help="Informationsblatt zum Datenschutz (Art. 13 DSGVO), "
                                   "Deutsch und eine zweite Sprache")
    add_vault_arguments(parser)
    parser.add_argument("--sprache", type=_language, required=True, metavar="SPRACHE",
                        help="zweite Sprache: ar, uk, ru, tr, fa (Dari/Farsi), pl, ro, bg, en, "
                             "fr (oder de für nur Deutsch)")
    _out(parser)
    parser.set_defaults(handler=run_guarded(_datenschutzinfo))

    parser = kinds.add_parser("einwilligung",
                              help="Einwilligung und Schweigepflichtentbindung zum Unterschreiben, "
                                   "Deutsch und die Sprache der Person")
    add_vault_arguments(parser)
    parser.add_argument("--client", required=True, metavar="PERSON-ID",
                        help="Kennung der Person")
    parser.add_argument("--sprache", type=_language, metavar="SPRACHE",
                        help="zweite Sprache (sonst die in den Daten der Person eingetragene)")
    _out(parser)
    parser.set_defaults(handler=run_guarded(_einwilligung))
