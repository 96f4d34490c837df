"""The Statistik screen: charts of protected figures, exports to the chosen path only."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QGraphicsSimpleTextItem, QGraphicsTextItem

from kimdesk.casework.context import Context
from kimdesk.stats.county import build_county
from kimdesk.stats.figures import Statistics
from kimdesk.stats.scope import Period, Scope
from kimdesk.sync.statistics import fetch_county
from kimdesk.ui.state import AppState
from kimdesk.ui.stats_screen import CHARTS, StatsScreen
from tests.reports.pdftext import text
from tests.stats.stats_builders import SURNAMES, CaseSpec, populate
from tests.sync.team import Team, sqlite_url
from tests.ui.support import screenshot

SHOTS = Path("/tmp/shots-stats")


@pytest.fixture(autouse=True)
def _workers_done(qtbot: Any) -> Any:
    yield
    QThreadPool.globalInstance().waitForDone(10000)
    qtbot.wait(10)


def _vault(app_state: AppState) -> None:
    """2026 cases: many short interventions, a few (1–4) of rarer kinds and outcomes."""
    specs = [
        *[CaseSpec(kind="short_intervention", opened=13, topics=["work", "language"],
                   contacts=[(14, "office", 45, False)]) for _ in range(40)],
        *[CaseSpec(kind="process_support", opened=14, closed_after=3, topics=["housing"],
                   referrals=[("jobcenter", "attended")]) for _ in range(18)],
        *[CaseSpec(kind="case_management", opened=15, phase="planning", municipality="goch",
                   topics=["childcare"], referrals=[("jobcenter", "not_attended")],
                   contacts=[(16, "home_visit", 90, True)]) for _ in range(3)],
        *[CaseSpec(kind="case_management", opened=15, phase="monitoring", topics=["health"])
          for _ in range(9)],
    ]
    populate(app_state.ctx.vault, app_state.reference, specs)


def _screen(qtbot: Any, app_state: AppState) -> StatsScreen:
    screen = StatsScreen(app_state)
    qtbot.addWidget(screen)
    screen.set_period(date(2026, 1, 1), date(2026, 11, 1))
    return screen


def _computed(qtbot: Any, screen: StatsScreen) -> None:
    screen.refresh()
    qtbot.waitUntil(lambda: not screen.busy and screen.statistics is not None, timeout=20000)


def test_defaults_to_the_current_year_and_the_county(qtbot: Any, app_state: AppState) -> None:
    screen = StatsScreen(app_state)
    qtbot.addWidget(screen)
    period = screen.period()
    assert (period.start, period.end) == ("2026-01", "2026-11")
    assert screen.scope.currentText() == "Kreis Kleve (alle Teams)"
    assert screen.scope.count() > 10  # teams, Planungsräume, Kommunen


def test_charts_show_no_number_below_five(qtbot: Any, app_state: AppState) -> None:
    _vault(app_state)
    screen = _screen(qtbot, app_state)
    _computed(qtbot, screen)
    stats = screen.statistics
    assert stats is not None
    drawn = {spec.code for spec in CHARTS
             if screen.chart_views[spec.code].chart().series()}
    assert {"chart_cases_by_kind", "chart_topics", "chart_referrals"} <= drawn
    # Every value the screen writes is a shown figure value or a marker, never 1–4.
    assert screen.bar_texts
    for item in screen.bar_texts:
        assert item.value not in {"1", "2", "3", "4"}, item
    # The 3 CM cases in Goch (a cell of 1–4) are shown as published: 0 or at least 5.
    goch = stats.figure("cases_by_municipality").cell("goch", "active")
    assert goch == 0 or (isinstance(goch, int) and goch >= 5)
    # Bars: every bar is 0 or at least 5 (hours aside).
    for spec in CHARTS:
        chart = screen.chart_views[spec.code].chart()
        for series in chart.series():
            for bar_set in series.barSets():
                if bar_set.label() == "Stunden":
                    continue
                values = [bar_set.at(i) for i in range(bar_set.count())]
                assert all(v == 0 or v >= 5 for v in values), (spec.code, values)
    notes = " ".join(label.text() for label in screen.findChildren(type(screen.status)))
    assert "Cell-Key-Verfahren" in notes
    for surname in SURNAMES:
        assert surname not in notes


def test_scope_and_period_filters(qtbot: Any, app_state: AppState) -> None:
    _vault(app_state)
    screen = _screen(qtbot, app_state)
    screen.scope.setCurrentIndex(screen.scope.findText("Kommune: Goch"))
    _computed(qtbot, screen)
    assert screen.statistics is not None
    assert screen.statistics.scope.code == "goch"
    assert "Goch" in screen.status.text()


def test_exports_write_to_the_chosen_path(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    _vault(app_state)
    screen = _screen(qtbot, app_state)
    out = tmp_path / "out"
    out.mkdir()
    asked: list[str] = []

    def chooser(suggested: str) -> str:
        asked.append(suggested)
        return str(out / suggested)

    screen.choose_path = chooser
    for fmt in ("csv", "xlsx", "pdf"):
        screen.export(fmt)
        qtbot.waitUntil(lambda fmt=fmt: any(p.suffix == f".{fmt}" for p in out.iterdir())
                        and screen.pdf_button.isEnabled(), timeout=30000)
    assert sorted(p.suffix for p in out.iterdir()) == [".csv", ".pdf", ".xlsx"]
    assert asked[0] == "Statistik-Kreis-2026-01-bis-2026-11-2026-11-25.csv"
    csv_text = next(out.glob("*.csv")).read_bytes().decode("utf-8-sig")
    assert "contacts_by_kind" in csv_text and "<5" not in csv_text
    assert "Statistikbericht" in text(next(out.glob("*.pdf")).read_bytes())


def test_cancelled_export_writes_nothing(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    screen = _screen(qtbot, app_state)
    asked: list[str] = []
    screen.choose_path = lambda suggested: asked.append(suggested)  # returns None
    screen.export("csv")
    qtbot.waitUntil(lambda: bool(asked) and screen.csv_button.isEnabled(), timeout=20000)
    assert screen.status.text() == "Export abgebrochen."


def test_screenshots(qtbot: Any, app_state: AppState) -> None:
    _vault(app_state)
    screen = _screen(qtbot, app_state)
    screen.show()
    _computed(qtbot, screen)
    for size in ((1366, 768), (1920, 1080)):
        screenshot(screen, SHOTS, "statistik", size)


def test_the_county_source_shows_the_servers_figures(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    populate(app_state.ctx.vault, app_state.reference, [
        CaseSpec(kind="process_support", municipality="kleve", opened=22) for _ in range(12)])
    team = Team(sqlite_url(tmp_path), "nord")
    try:
        team.join(app_state.ctx)  # enrolled as the team's coordinator; the sync uploads

        def from_test_server(ctx: Context, period: Period, scope: Scope) -> Statistics:
            data = fetch_county(ctx, team.http, period, scope)
            return build_county(data, ctx.reference, scope, ctx.today())

        screen = StatsScreen(app_state)
        qtbot.addWidget(screen)
        screen.county_source = from_test_server
        screen.set_period(date(2026, 11, 1), date(2026, 11, 1))
        screen.source.setCurrentIndex(screen.source.findData("kreis"))
        _computed(qtbot, screen)
        stats = screen.statistics
        assert stats is not None and "Kreisserver" in stats.scope_label
        new = stats.figure("kreis_cases_by_team").cell("nord", "new")
        assert isinstance(new, int) and abs(new - 12) <= 4
        assert "Team 1 Nord: zuletzt übermittelt am" in screen.overview.text()
        assert screen.chart_views["chart_new_closed"].chart().series()
        assert {item.chart for item in screen.bar_texts} >= {"chart_cases_by_kind",
                                                              "chart_new_closed"}
    finally:
        QThreadPool.globalInstance().waitForDone(10000)
        team.close()


def _axis_texts(screen: StatsScreen, code: str) -> list[str]:
    """The texts Qt Charts actually draws in a chart (axis labels after any eliding)."""
    scene = screen.chart_views[code].scene()
    return [item.toPlainText() if isinstance(item, QGraphicsTextItem) else item.text()
            for item in scene.items()
            if isinstance(item, QGraphicsTextItem | QGraphicsSimpleTextItem)]


def test_handlungsfelder_are_readable_at_1366(qtbot: Any, app_state: AppState) -> None:
    # Every Handlungsfeld of the reference list, in enough cases to be charted.
    topics = list(app_state.reference.codes("topics"))
    populate(app_state.ctx.vault, app_state.reference,
             [CaseSpec(kind="short_intervention", opened=13, topics=topics) for _ in range(6)])
    screen = _screen(qtbot, app_state)
    screen.show()
    _computed(qtbot, screen)
    # The width the screen has in the main window at 1366 px (beside the navigation).
    screenshot(screen, SHOTS, "statistik-handlungsfelder", (1180, 700))
    texts = _axis_texts(screen, "chart_topics")
    assert screen.chart_views["chart_topics"].grab().save(
        str(SHOTS / "statistik-handlungsfelder-chart.png"))
    assert not [t for t in texts if t.endswith(("...", "…"))], texts
    for short in ("Aufenthalt/Einbürgerung", "Qualifikation/Berufliche Orientierung",
                  "Existenzsicherung/Finanzen", "Gesundheit", "Orientierung/Behörden/Dokumente"):
        assert short in texts
    # The full label stays in the tooltip texts of the bars.
    assert any(item.label.startswith("Gesundheit (inkl. psychische Gesundheit, Behinderung)")
               for item in screen.bar_texts if item.chart == "chart_topics")
