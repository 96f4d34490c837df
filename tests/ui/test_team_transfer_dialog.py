"""Fall an ein anderes Team übergeben through the real dialog: without a consent that covers the
KIM the dialog says what is needed and nothing changes; with it, team, Kommune and the
confirmation request the transfer (the sync carries it out: tests/sync/test_transfer.py)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog

from kimdesk.casework import case_views
from kimdesk.casework import transfer as casework
from kimdesk.casework.context import Context
from kimdesk.models.transfer import REQUESTED
from kimdesk.ui.case_screen import CaseScreen
from kimdesk.ui.state import AppState
from kimdesk.ui.team_transfer_dialog import TeamTransferDialog
from tests.factories import CM, make_case, make_person


def _choose(dialog: TeamTransferDialog, team: str, municipality: str) -> None:
    dialog.to_team.setCurrentIndex(dialog.to_team.findData(team))
    dialog.municipality.setCurrentIndex(dialog.municipality.findData(municipality))


def test_without_consent_the_dialog_says_what_is_needed_and_changes_nothing(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx))  # a Kurzintervention, no Einwilligung
    dialog = TeamTransferDialog(app_state, case_views.load_case(ctx, case.id))
    qtbot.addWidget(dialog)
    dialog.show()
    _choose(dialog, "mitte", "goch")
    assert "fehlt eine Einwilligung" in dialog.consent.text()
    dialog.confirm.setChecked(True)
    dialog.save()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "Team 3 Mitte" in dialog.errors_label.text()
    assert casework.transfers(ctx) == []


def test_the_transfer_is_requested_with_team_kommune_and_confirmation(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM)
    dialog = TeamTransferDialog(app_state, case_views.load_case(ctx, case.id))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.to_team.findData("nord") == -1  # not to the own team
    _choose(dialog, "mitte", "goch")
    assert "deckt die Weitergabe" in dialog.consent.text()
    dialog.save()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "bestätigen" in dialog.errors_label.text()
    dialog.confirm.setChecked(True)
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    [row] = casework.transfers(ctx)
    assert (row.state, row.to_team, row.municipality, row.case_id) == (
        REQUESTED, "mitte", "goch", case.id)


def test_the_fall_screen_says_that_the_file_is_being_handed_over(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM)
    screen = CaseScreen(app_state)
    qtbot.addWidget(screen)
    screen.show()
    screen.show_case(case.id)
    assert "Übergabe" not in screen.handover_label.text()

    row = casework.request_transfer(ctx, case.id, "mitte", "goch")
    screen.show_case(case.id)

    asked = f"{row.requested_at.astimezone():%d.%m.%Y}"
    assert f"Übergabe an Team 3 Mitte angefordert am {asked}; sie geht beim nächsten Abgleich" \
        in screen.handover_label.text()
