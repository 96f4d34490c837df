"""Termin anlegen through the real dialog, by keyboard: the Termin lands with its time."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QDialog

from kimdesk.casework.appointments import ESCORT, appointments_between
from kimdesk.casework.context import Context
from kimdesk.ui.appointment_dialog import AppointmentDialog
from kimdesk.ui.state import AppState
from tests.factories import CM, make_case, make_person
from tests.ui.support import choose, type_text


def test_termin_with_a_time_is_created_from_the_dialog(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    dialog = AppointmentDialog(app_state, client.id, [(case.id, "Case Management")])
    qtbot.addWidget(dialog)
    dialog.show()
    choose(dialog.kind, ESCORT)
    qtbot.keyClicks(dialog.day, "+3")
    dialog.starts_at.setTime(QTime(10, 30))
    type_text(qtbot, dialog.title, "Ausländerbehörde: Verlängerung")
    qtbot.keyClick(dialog.title, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.errors_label.text()
    day = ctx.today() + timedelta(days=3)
    [row] = appointments_between(ctx, day, day)
    assert (row.kind, row.starts_at, row.case_id, row.title) == (
        ESCORT, time(10, 30), case.id, "Ausländerbehörde: Verlängerung")


def test_missing_date_is_shown_at_the_field(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    client = make_person(ctx)
    dialog = AppointmentDialog(app_state, client.id, [])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.day.clear()
    dialog.save()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "Datum" in dialog.errors_label.text()
