"""Heute (issue 14, items 5, 6 and 11): only the user's own days, Enter opens the Akte, the recent
Akten survive a restart, numbers with a decimal comma, an expired § 104c says so, the Termine and
their iCalendar export without client data. Each test fails on the screen before the change."""

from __future__ import annotations

import dataclasses
import os
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from kimdesk.casework.appointments import ESCORT, add_appointment
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_deadline, record_residence
from kimdesk.casework.views import open_client_file
from kimdesk.ui.state import AppState
from kimdesk.ui.today_screen import TodayScreen
from tests.factories import CM, Clock, make_case, make_person
from tests.ui.support import screenshot

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/kimdesk-shots"))
COLLEAGUE = "Mehmet Yılmaz"


def _screen(qtbot: Any, app_state: AppState) -> TodayScreen:
    screen = TodayScreen(app_state)
    qtbot.addWidget(screen)
    screen.resize(1366, 768)
    screen.show()
    return screen


def _cells(table: Any, column: int) -> list[str]:
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_heute_lists_only_the_own_days_and_enter_opens_the_akte(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    mehmet = dataclasses.replace(ctx, user=COLLEAGUE)
    mine = make_person(ctx, consent=True)
    my_case = make_case(ctx, mine, CM)
    theirs = make_person(ctx, consent=True)
    their_case = make_case(mehmet, theirs, CM)
    soon = ctx.today() + timedelta(days=2)
    add_deadline(ctx, mine.id, "follow_up", soon, "Rückruf Jobcenter", case_id=my_case.id)
    add_deadline(mehmet, theirs.id, "follow_up", soon, "Fall des Kollegen",
                 case_id=their_case.id)
    add_appointment(ctx, mine.id, soon, time(9, 30), kind=ESCORT, title="Ausländerbehörde",
                    case_id=my_case.id)
    add_appointment(mehmet, theirs.id, soon, time(11, 0), title="Kollege", case_id=their_case.id)

    screen = _screen(qtbot, app_state)
    assert _cells(screen.due, 2) == ["Rückruf Jobcenter"]
    assert _cells(screen.termine, 2) == ["Ausländerbehörde"]
    assert _cells(screen.termine, 0)[0].endswith("09:30 Uhr")
    assert "1 laufende Fälle" in screen.load_label.text()

    opened: list[str] = []
    app_state.hub.client_opened.connect(opened.append)
    screen.due.setFocus()
    screen.due.setCurrentCell(0, 0)
    qtbot.keyClick(screen.due, Qt.Key.Key_Return)
    assert opened == [mine.id]
    screenshot(screen, SHOTS, "heute", (1366, 768))


def test_recent_akten_survive_a_restart(qtbot: Any, app_state: AppState, ctx: Context) -> None:
    first, second = make_person(ctx), make_person(ctx)
    open_client_file(ctx, first.id)
    open_client_file(ctx, second.id)
    screen = _screen(qtbot, app_state)  # a new screen, as after a restart
    assert [screen.recent.item(i).text() for i in range(screen.recent.count())] == [
        second.display_name, first.display_name]


def test_weighted_caseload_has_a_decimal_comma(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    """Before: "gewichtet 4.5" (a decimal point in a German text)."""
    for _ in range(3):
        make_case(ctx, make_person(ctx, consent=True), CM)  # 3 × 1.5
    screen = _screen(qtbot, app_state)
    assert "gewichtet 4,5 von 50" in screen.load_label.text()


def test_expired_p104c_is_marked_expired(
        qtbot: Any, app_state: AppState, ctx: Context, clock: Clock) -> None:
    client = make_person(ctx, consent=True)
    make_case(ctx, client, CM)
    record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 1))  # until 31.08.2026
    clock.today = date(2026, 9, 2)
    screen = _screen(qtbot, app_state)
    titles = _cells(screen.due, 2)
    assert any("abgelaufen am 31.08.2026" in t for t in titles)
    assert not any("läuft ab" in t for t in titles)


def test_termine_export_as_icalendar_without_client_names(
        qtbot: Any, app_state: AppState, ctx: Context, tmp_path: Path) -> None:
    client = make_person(ctx, consent=True, first_name="Rasha", last_name="Tahhan")
    case = make_case(ctx, client, CM)
    add_appointment(ctx, client.id, ctx.today() + timedelta(days=1), time(10, 0),
                    title="Tahhan: Jobcenter", case_id=case.id)
    screen = _screen(qtbot, app_state)
    target = tmp_path / "termine.ics"
    screen.choose_path = lambda suggested: str(target)
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(target.exists, timeout=5000)
    data = target.read_bytes()
    assert b"BEGIN:VEVENT" in data and f"Fall {case.id[:4].upper()}".encode() in data
    for secret in (b"Rasha", b"Tahhan", b"Jobcenter"):
        assert secret not in data
