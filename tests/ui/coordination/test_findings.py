"""Erkenntnisse: the register with its filters and counts per month and quarter, the standard
form from the register, and "Erkenntnis festhalten" on a case and on one of its contacts.

Screenshots of the register and of the Fall header go to ``/tmp/shots`` (or
``KIMDESK_SCREENSHOT_DIR``).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu, QPushButton

from kimdesk.casework import cases
from kimdesk.casework.context import Context
from kimdesk.casework.coordination import findings
from kimdesk.casework.coordination.findings import FindingInput
from kimdesk.casework.coordination.reconstructions import add_theme
from kimdesk.ui.case_screen import CaseScreen
from kimdesk.ui.coordination.finding_dialog import FindingDialog
from kimdesk.ui.coordination.findings_tab import (
    ALL,
    CUSTOM,
    FindingsTab,
    period_bounds,
)
from kimdesk.ui.state import AppState
from tests.coordination_builders import DAUGHTER_FIRST_NAME, build_example5_case
from tests.factories import TODAY
from tests.ui.support import choose, type_text

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOT_DIR", "/tmp/shots"))


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def chart_values(tab: FindingsTab) -> list[int]:
    [series] = tab.chart_view.chart().series()
    [bars] = series.barSets()
    return [int(bars.at(i)) for i in range(bars.count())]


def chart_categories(tab: FindingsTab) -> list[str]:
    axis = tab.chart_view.chart().axes(Qt.Orientation.Horizontal)[0]
    return list(axis.categories())


def register(ctx: Context) -> dict[str, str]:
    """Five findings over 18 months, two of them under one generative theme."""
    theme = add_theme(ctx, None, "Alleinerziehende können an Qualifizierung teilnehmen, weil "
                                 "Kinderbetreuung mitgedacht wird.")

    def note(day: date, life_area: str, barrier: str, municipality: str = "",
             institution_type: str = "", theme_id: str | None = None) -> str:
        return findings.record_finding(ctx, FindingInput(
            life_area=life_area, barrier=barrier, municipality=municipality,
            institution_type=institution_type, noted_on=day, theme_id=theme_id,
            description=f"{life_area}: {barrier}")).id

    return {
        "theme": theme.id,
        "goch_march": note(date(2026, 3, 10), "childcare", "capacity", "goch", "daycare",
                           theme.id),
        "kleve_march": note(date(2026, 3, 20), "childcare", "compatibility", "kleve",
                            "education_provider", theme.id),
        "kleve_july": note(date(2026, 7, 5), "housing", "no_offer", "kleve"),
        "countywide_2025": note(date(2025, 6, 1), "language", "language"),
        "emmerich_november": note(date(2026, 11, 2), "work", "documents", "emmerich",
                                  "jobcenter"),
    }


def shown_ids(tab: FindingsTab) -> set[str]:
    return {row.id for row in tab.model.rows()}


def test_the_register_filters_and_counts_per_month_and_quarter(
        qtbot: Any, app_state: AppState) -> None:
    ids = register(app_state.ctx)
    tab = FindingsTab(app_state)
    qtbot.addWidget(tab)
    tab.resize(1366, 720)
    tab.show()

    # The last 12 months by default: December 2025 to November 2026, every month listed.
    assert (tab.start.value(), tab.end.value()) == (date(2025, 12, 1), TODAY)
    assert shown_ids(tab) == {ids["goch_march"], ids["kleve_march"], ids["kleve_july"],
                              ids["emmerich_november"]}
    assert tab.total.text() == "4 Erkenntnisse"
    assert chart_categories(tab)[:4] == ["Dez 25", "Jan 26", "Feb 26", "Mär 26"]
    # Nothing is suppressed: findings are about structures, so a month with one shows 1.
    assert chart_values(tab) == [0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1]
    assert [c.count for c in tab.counts] == chart_values(tab)

    choose(tab.granularity, findings.QUARTER)
    assert chart_categories(tab) == ["Q4 25", "Q1 26", "Q2 26", "Q3 26", "Q4 26"]
    assert chart_values(tab) == [0, 2, 0, 1, 1]

    choose(tab.life_area, "childcare")
    assert shown_ids(tab) == {ids["goch_march"], ids["kleve_march"]}
    choose(tab.municipality, "kleve")
    assert shown_ids(tab) == {ids["kleve_march"]}
    choose(tab.life_area, None)
    assert shown_ids(tab) == {ids["kleve_march"], ids["kleve_july"]}
    choose(tab.barrier, "no_offer")
    assert shown_ids(tab) == {ids["kleve_july"]}
    tab.set_filter(municipality="", barrier="", institution_type="daycare")
    assert shown_ids(tab) == {ids["goch_march"]}
    tab.set_filter(institution_type="", theme_id=ids["theme"])
    assert shown_ids(tab) == {ids["goch_march"], ids["kleve_march"]}
    assert all(row.theme_statement.startswith("Alleinerziehende") for row in tab.model.rows())
    choose(tab.theme, "none")
    assert shown_ids(tab) == {ids["kleve_july"], ids["emmerich_november"]}

    choose(tab.period, ALL)
    assert (tab.start.text(), tab.end.text()) == ("", "")
    assert ids["countywide_2025"] in shown_ids(tab)
    assert tab.model.rows()[-1].municipality_label == "kreisweit"
    choose(tab.theme, None)
    assert len(tab.model.rows()) == 5
    assert sum(chart_values(tab)) == 5

    # Typing dates makes the period a free one.
    type_text(qtbot, tab.start, "01.07.2026")
    type_text(qtbot, tab.end, "31.07.2026")
    tab.end.editingFinished.emit()
    assert tab.period.code() == CUSTOM
    assert shown_ids(tab) == {ids["kleve_july"]}
    type_text(qtbot, tab.end, "01.06.2026")
    tab.end.editingFinished.emit()
    assert tab.message.text() == "Das Ende des Zeitraums liegt vor seinem Anfang."

    SHOTS.mkdir(parents=True, exist_ok=True)
    choose(tab.period, ALL)
    choose(tab.granularity, findings.MONTH)
    for size, name in (((1366, 768), "findings_tab-1366.png"),
                       ((1920, 1080), "findings_tab.png")):
        tab.resize(*size)
        QApplication.processEvents()
        assert tab.grab().save(str(SHOTS / name))


def test_period_presets() -> None:
    assert period_bounds("last12", date(2026, 1, 15)) == (date(2025, 2, 1), date(2026, 1, 15))
    assert period_bounds("this_year", TODAY) == (date(2026, 1, 1), TODAY)
    assert period_bounds("last_year", TODAY) == (date(2025, 1, 1), date(2025, 12, 31))
    assert period_bounds(ALL, TODAY) == (None, None)


def test_a_team_meeting_finding_through_the_standard_form(
        qtbot: Any, app_state: AppState) -> None:
    tab = FindingsTab(app_state)
    qtbot.addWidget(tab)
    tab.show()
    click(qtbot, tab.new_button)
    dialog = tab.dialog
    assert isinstance(dialog, FindingDialog)
    assert dialog.source_label.text() == "Teamsitzung"
    assert dialog.noted_on.value() == TODAY
    assert dialog.municipality.currentText() == "kreisweit"

    save = dialog.findChild(QPushButton, "save")
    click(qtbot, save)
    assert dialog.errors.message == "Bitte den Lebensbereich wählen."
    choose(dialog.life_area, "housing")
    click(qtbot, save)
    assert dialog.errors.message == "Bitte die Art der Barriere wählen."
    choose(dialog.barrier, "access_conditions")
    click(qtbot, save)
    assert dialog.errors.message == "Bitte die Erkenntnis beschreiben."
    # Findings travel county-wide: a phone number is personal data, whoever it names.
    type_text(qtbot, dialog.description,
              "Vermieter verlangen eine Schufa-Auskunft; Rückfragen unter 02821 594-0.")
    click(qtbot, save)
    assert "Telefon" in dialog.errors.message
    assert dialog.description.toPlainText().endswith("594-0.")
    type_text(qtbot, dialog.description,
              "Vermieter verlangen eine Schufa-Auskunft, die Geflüchtete nicht haben.")
    choose(dialog.municipality, "geldern")
    choose(dialog.institution_type, "landlord")
    click(qtbot, save)
    assert tab.dialog is None, dialog.errors.message
    [row] = tab.model.rows()
    assert (row.life_area, row.barrier, row.municipality, row.institution_type, row.source) == (
        "housing", "access_conditions", "geldern", "landlord", "team_meeting")

    tab.table.selectRow(0)
    click(qtbot, tab.edit_button)
    edit = tab.dialog
    assert isinstance(edit, FindingDialog)
    assert edit.description.toPlainText().startswith("Vermieter verlangen")
    choose(edit.barrier, "documents")
    click(qtbot, edit.findChild(QPushButton, "save"))
    assert tab.dialog is None
    assert tab.model.rows()[0].barrier == "documents"


def test_erkenntnis_festhalten_on_a_case_and_on_a_contact(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    screen = CaseScreen(app_state)
    qtbot.addWidget(screen)
    screen.resize(1366 - 180, 768 - 40)  # as the main window embeds it
    screen.show()
    screen.show_case(example.case.id)
    QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert screen.grab().save(str(SHOTS / "case_screen_with_finding_action.png"))

    click(qtbot, screen.finding_button)
    dialog = screen.dialog
    assert isinstance(dialog, FindingDialog)
    assert dialog.source_label.text() == "Fall"
    assert dialog.municipality.code() == "kleve"  # the case's Kommune is proposed
    choose(dialog.life_area, "childcare")
    choose(dialog.barrier, "compatibility")
    type_text(qtbot, dialog.description,
              f"Für {DAUGHTER_FIRST_NAME} gibt es keinen Platz während der Maßnahme.")
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert "Name" in dialog.errors.message
    assert DAUGHTER_FIRST_NAME not in dialog.errors.message
    type_text(qtbot, dialog.description,
              "Berufsvorbereitende Maßnahmen ohne Kinderbetreuung schließen Alleinerziehende "
              "aus.")
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert screen.dialog is None, dialog.errors.message

    # On the Kontakte tab, the context menu of a contact offers the same form.
    contact = cases.contacts_of(app_state.ctx, example.case.id)[1]
    screen.tabs.setCurrentIndex(1)
    row = next(i for i, c in enumerate(screen.contacts_model.rows()) if c.id == contact.id)
    table = screen.contacts_table
    table.customContextMenuRequested.emit(table.visualRect(table.model().index(row, 0)).center())
    [menu] = [m for m in screen.findChildren(QMenu) if m.isVisible()]
    [action] = [a for a in menu.actions() if a.text() == "Erkenntnis festhalten …"]
    action.trigger()
    menu.close()
    from_contact = screen.dialog
    assert isinstance(from_contact, FindingDialog)
    assert from_contact.source_label.text() == "Kontakt"
    choose(from_contact.life_area, "qualification")
    choose(from_contact.barrier, "interface")
    type_text(qtbot, from_contact.description,
              "Jobcenter plant Maßnahmen, ohne die Betreuung mit dem Jugendamt abzustimmen.")
    click(qtbot, from_contact.findChild(QPushButton, "save"))
    assert screen.dialog is None, from_contact.errors.message

    rows = findings.finding_rows(app_state.ctx)
    assert sorted((r.source, r.municipality, r.review_id) for r in rows) == [
        ("case", "kleve", None), ("contact", "kleve", None)]
