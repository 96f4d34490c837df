"""Tests for the statistics report PDF: figures (cell key method), Zielsystem, no person."""

from __future__ import annotations

from kimdesk.casework.context import Context
from kimdesk.reference import load_reference
from kimdesk.reports.statistics import statistics_pdf
from kimdesk.stats.scope import Period, Scope, ScopeKind
from tests.reports.pdftext import fonts, pages, text
from tests.stats.stats_builders import FIRST_NAMES, SURNAMES, CaseSpec, populate

REF = load_reference()


def test_statistics_report(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="process_support", opened=13, topics=["work", "housing"],
                   contacts=[(13, "office", 60, True)] * 2,
                   referrals=[("jobcenter", "attended")]) for _ in range(12)],
        *[CaseSpec(kind="case_management", opened=14, phase="planning",
                   goals=[("work", "full")]) for _ in range(3)],
    ])
    pdf = statistics_pdf(ctx, Period("2026-01", "2026-06"))
    content = text(pdf)
    for expected in ("Statistikbericht", "Januar 2026 bis Juni 2026", "Kreis Kleve (alle Teams)",
                     "Zeichenerklärung", "Überblick", "Fälle nach Fallart und Status",
                     "Vermittlungen nach Art der Einrichtung und Ergebnis",
                     "Auslastung nach Fallzahlschlüssel je Team", "Jobcenter", "Cell-Key-Verfahren",
                     "Schutz der Personen",
                     "Zielsystem 2025/2026 (Vorschlag): Zielwerte und Messwerte",
                     "Neu aufgenommene Fälle im rechtskreisübergreifenden Case Management",
                     "Soll anteilig", "Messwert"):
        assert expected in content, expected
    for name in (*SURNAMES, *FIRST_NAMES):
        assert name not in content
    texts = pages(pdf)
    for number, page in enumerate(texts, start=1):
        assert f"Seite {number} von {len(texts)}" in page
        assert "Vertraulich" not in page  # no personal data in this one
    assert all("DejaVuSans" in str(font["/BaseFont"]) for font in fonts(pdf))


def test_statistics_report_for_a_team(ctx: Context) -> None:
    populate(ctx.vault, REF, [CaseSpec(opened=13, municipality="goch") for _ in range(6)])
    content = text(statistics_pdf(ctx, Period("2026-03", "2026-03"),
                                  Scope(ScopeKind.TEAM, "mitte")))
    assert "Team 3 Mitte" in content and "März 2026" in content
