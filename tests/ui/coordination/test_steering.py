"""Lenkungsgruppe: seats as concept 4.4 lists them, meetings, decisions that name what led to
them, follow-ups, and the effect of a decision on the findings of its theme."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from kimdesk.casework.coordination import steering
from kimdesk.casework.coordination.findings import FindingInput, record_finding
from kimdesk.ui.coordination.steering_tab import (
    DecisionDialog,
    MeetingDialog,
    SteeringMemberDialog,
    SteeringTab,
)
from kimdesk.ui.state import AppState
from tests.coordination_builders import build_example5
from tests.factories import Clock
from tests.stats.stats_builders import referrals_with_outcomes
from tests.ui.coordination.widget_texts import leaked, visible_texts
from tests.ui.support import choose, screenshot, type_text

SHOTS = Path("/tmp/shots")


@pytest.fixture
def tab(qtbot: Any, app_state: AppState) -> SteeringTab:
    widget = SteeringTab(app_state)
    qtbot.addWidget(widget)
    widget.resize(1600, 900)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _save(qtbot: Any, dialog: Any) -> None:
    qtbot.mouseClick(dialog.findChild(QPushButton, "save"), Qt.MouseButton.LeftButton)


def _add_member(qtbot: Any, tab: SteeringTab, role: str, organisation: str, name: str
                ) -> SteeringMemberDialog:
    tab.pages.setCurrentIndex(2)
    qtbot.mouseClick(tab.add_member_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, SteeringMemberDialog)
    choose(dialog.role, role)
    type_text(qtbot, dialog.organisation, organisation)
    type_text(qtbot, dialog.name, name)
    _save(qtbot, dialog)
    return dialog


def _seat(tab: SteeringTab, role: str) -> Any:
    return next(tab.members.topLevelItem(i) for i in range(tab.members.topLevelItemCount())
                if tab.members.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) ==
                ("seat", role))


def test_the_seats_of_concept_4_4_are_filled_and_freed(
        qtbot: Any, tab: SteeringTab, app_state: AppState) -> None:
    tab.reload()
    assert tab.members.topLevelItemCount() == len(
        app_state.reference.terms("steering_member_roles"))
    assert _seat(tab, "municipality").text(2) == "2", "two seats for the Kommunen, both free"

    _add_member(qtbot, tab, "municipality", "Stadt Goch", "Bürgermeisterin")
    _add_member(qtbot, tab, "municipality", "Gemeinde Issum", "")
    assert tab.dialog is None
    seat = _seat(tab, "municipality")
    assert [seat.child(i).text(1) for i in range(seat.childCount())] == [
        "Stadt Goch – Bürgermeisterin", "Gemeinde Issum"]
    assert seat.text(2) == "", "no seat left"

    # A third Kommune finds both seats taken; the message names the seat, the input stays.
    dialog = _add_member(qtbot, tab, "municipality", "Stadt Kevelaer", "")
    assert "alle 2 Sitze besetzt" in dialog.errors_label.text()
    assert "border" in dialog.role.styleSheet() and dialog.organisation.text() == "Stadt Kevelaer"
    dialog.reject()

    goch = next(m for s in steering.steering_composition(app_state.ctx) for m in s.members
                if m.organisation == "Stadt Goch")
    tab.select_member(goch.id)
    qtbot.mouseClick(tab.retire_member_button, Qt.MouseButton.LeftButton)
    assert _seat(tab, "municipality").text(2) == "1"
    _add_member(qtbot, tab, "municipality", "Stadt Kevelaer", "")
    seat = _seat(tab, "municipality")
    assert [seat.child(i).text(1) for i in range(seat.childCount())] == [
        "Gemeinde Issum", "Stadt Kevelaer"]
    assert _seat(tab, "vhs").text(1) == "nicht besetzt"


def test_a_meeting_with_agenda_minutes_and_attendees(
        qtbot: Any, tab: SteeringTab, app_state: AppState) -> None:
    member = steering.add_steering_member(app_state.ctx, steering.SteeringMemberInput(
        role="kim_team_lead", organisation="Kreis Kleve", name="Teamleitung KIM"))
    tab.reload()
    tab.pages.setCurrentIndex(1)
    qtbot.mouseClick(tab.new_meeting_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, MeetingDialog)
    assert dialog.held_on.text() == "25.11.2026"
    type_text(qtbot, dialog.held_on, "03.12.2026")
    type_text(qtbot, dialog.title, "Lenkungsgruppe, 5. Sitzung")
    type_text(qtbot, dialog.agenda, "1. Ergebnisse der Projektgruppe Vereinbarkeit")
    type_text(qtbot, dialog.minutes, "Die Projektgruppe stellt ihr Zielschema vor.")
    dialog.attendees.set_checked(member.id)
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()

    [meeting] = steering.meeting_rows(app_state.ctx)
    assert (meeting.held_on, meeting.title, meeting.attendee_ids) == (
        date(2026, 12, 3), "Lenkungsgruppe, 5. Sitzung", (member.id,))
    assert tab.selected_meeting() is not None
    assert "Teamleitung KIM" in tab.meeting_detail.toPlainText()
    assert "Zielschema" in tab.meeting_detail.toPlainText()


def test_a_decision_names_what_led_to_it_and_takes_its_meetings_date(
        qtbot: Any, tab: SteeringTab, app_state: AppState) -> None:
    example = build_example5(app_state.ctx)
    meeting = steering.create_meeting(app_state.ctx, steering.MeetingInput(
        held_on=date(2026, 11, 20), title="Lenkungsgruppe, 5. Sitzung"))
    tab.reload()
    tab.pages.setCurrentIndex(1)
    tab.select_meeting(meeting.id)
    qtbot.mouseClick(tab.decision_in_meeting_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, DecisionDialog)
    assert dialog.meeting.code() == meeting.id and dialog.decided_on.text() == "20.11.2026"
    type_text(qtbot, dialog.title, "Kontingent an Betreuungsplätzen")
    type_text(qtbot, dialog.text, "Das Jugendamt hält Plätze für Teilnehmende vor.")
    type_text(qtbot, dialog.responsible.lineEdit(), "Fachbereichsleitung 4")
    type_text(qtbot, dialog.follow_up_on, "20.02.2027")
    _save(qtbot, dialog)
    assert "was zu dem Beschluss geführt hat" in dialog.errors_label.text()
    assert tab.dialog is dialog

    dialog.themes.set_checked(example.theme.id)
    choose(dialog.project_group, example.project_group.id)
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()

    decision = tab.selected_decision()
    assert decision is not None and decision.title == "Kontingent an Betreuungsplätzen"
    assert tab.pages.currentIndex() == 1  # the user stays where they were
    detail = steering.decision_detail(app_state.ctx, decision.id)
    assert (detail.row.decided_on, detail.row.responsible, detail.row.follow_up_on,
            detail.row.meeting_id, detail.project_group_id) == (
        date(2026, 11, 20), "Fachbereichsleitung 4", date(2027, 2, 20), meeting.id,
        example.project_group.id)
    assert [theme_id for theme_id, _ in detail.themes] == [example.theme.id]
    origin = [tab.decision_origin.topLevelItem(i).text(0)
              for i in range(tab.decision_origin.topLevelItemCount())]
    assert origin == ["Projektgruppe (1)", "Generative Themen (1)"]
    assert leaked(visible_texts(tab), example.example.secrets) == []


def _effect_cells(tab: SteeringTab) -> list[tuple[str, str, str, str]]:
    model = tab.effect_model
    return [tuple(model.data(model.index(row, column)) for column in range(4))
            for row in range(model.rowCount())]  # type: ignore[misc]


def test_the_effect_counts_findings_per_theme_before_and_after_the_decision(
        qtbot: Any, tab: SteeringTab, app_state: AppState, clock: Clock) -> None:
    example = build_example5(app_state.ctx)  # decided 30 days ago; findings 150, 100 days ago
    ctx = app_state.ctx
    decided = example.decision.decided_on
    for days in (-20, -10, 12):
        record_finding(ctx, FindingInput(
            life_area="childcare", barrier="compatibility", description="Maßnahme ohne "
            "Betreuungsangebot", noted_on=decided + timedelta(days=days),
            theme_id=example.theme.id))
    tab.reload()
    tab.select_decision(example.decision.id)
    # 30 days since the decision: both windows shrink to 30 days.
    assert _effect_cells(tab) == [(example.theme.statement, "2", "1", "-1")]
    assert "je 30 Tage" in tab.effect_note.text()
    assert "noch nicht verstrichen" in tab.effect_note.text()

    clock.today = decided + timedelta(days=200)
    tab.effect_months.setValue(5)
    assert "noch nicht verstrichen" not in tab.effect_note.text()
    # Five months before: the builder's two (120 and 70 days before) and the ones 20 and 10
    # days before; after: the one 12 days after.
    assert _effect_cells(tab) == [(example.theme.statement, "4", "1", "-3")]
    tab.effect_months.setValue(2)
    assert _effect_cells(tab) == [(example.theme.statement, "2", "1", "-1")]


def test_a_due_follow_up_is_marked(qtbot: Any, tab: SteeringTab, app_state: AppState,
                                   clock: Clock) -> None:
    example = build_example5(app_state.ctx)  # follow-up in 60 days
    tab.reload()
    assert tab.due.text() == ""
    clock.today = clock.today + timedelta(days=61)
    tab.reload()
    assert tab.due.text().startswith("1 Beschluss")
    tab.select_decision(example.decision.id)
    row = tab.decisions.selectionModel().selectedRows()[0].row()
    colour = tab.decisions_model.data(tab.decisions_model.index(row, 3),
                                      Qt.ItemDataRole.ForegroundRole)
    assert colour is not None and colour.color().name() == "#b71c1c"


def test_screenshots_of_the_lenkungsgruppe(
        qtbot: Any, tab: SteeringTab, app_state: AppState) -> None:
    example = build_example5(app_state.ctx)
    steering.add_steering_member(app_state.ctx, steering.SteeringMemberInput(
        role="district_fb4", organisation="Kreis Kleve", name="Fachbereichsleitung 4"))
    tab.reload()
    tab.select_decision(example.decision.id)
    screenshot(tab, SHOTS, "steering_decisions", (1920, 1000))
    tab.pages.setCurrentIndex(2)
    screenshot(tab, SHOTS, "steering_members", (1920, 1000))
    tab.pages.setCurrentIndex(0)
    tab.edit_decision()
    dialog = tab.dialog
    assert isinstance(dialog, DecisionDialog)
    screenshot(dialog, SHOTS, "decision_dialog", (1180, 760))
    dialog.reject()


def test_a_decision_names_indicators_and_the_tab_shows_them_month_by_month(
        qtbot: Any, tab: SteeringTab, app_state: AppState, vault: Any) -> None:
    example = build_example5(app_state.ctx)  # decided 30 days ago (26.10.2026)
    decided = example.decision.decided_on
    referrals_with_outcomes(vault, "jobcenter", [
        (decided - timedelta(days=70), decided - timedelta(days=40 + n % 5),
         "granted" if n < 2 else "rejected") for n in range(24)] + [
        (decided - timedelta(days=20), decided + timedelta(days=8 + n % 5),
         "granted" if n < 22 else "rejected") for n in range(24)])
    tab.reload()
    tab.select_decision(example.decision.id)
    assert tab.indicator_table.isHidden()
    assert "nennt keine Indikatoren" in tab.indicator_note.text()

    tab.edit_decision()
    dialog = tab.dialog
    assert isinstance(dialog, DecisionDialog)
    assert "Vermittlungserfolg Jobcenter" in dialog.indicators.texts()
    dialog.indicators.set_checked("jobcenter_referral_success")
    dialog.indicators.set_checked("new_cases")
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()

    table = tab.indicator_table
    assert not table.isHidden()
    headers = [table.horizontalHeaderItem(c).text().replace("\n", " ")
               for c in range(table.columnCount())]
    assert headers == ["Monat", "Vermittlungserfolg Jobcenter (%)",
                       "Neu aufgenommene Fälle (je Monat)"]
    months = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert "Oktober 2026 (Beschluss)" in months
    assert months[-2:] == ["vorher (ganzes Fenster)", "nachher (bisher)"]
    before, after = (int(table.item(r, 1).text().removesuffix(" %"))
                     for r in (len(months) - 2, len(months) - 1))
    # 2 of 24 before, 22 of 24 after. Both counts of a share are published with up to ±4 of
    # noise (cell key method): at worst 6/20 = 30 % before and 18/28 = 64 % after.
    assert before < 45 < 60 < after
    assert "Zellschlüsselverfahren" in tab.indicator_note.text()
    tab.effect_pages.setCurrentIndex(1)
    screenshot(tab, SHOTS, "steering_indicators", (1366, 768))
