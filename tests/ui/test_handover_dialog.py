"""Fall übergeben through the real dialog: the colleague takes the case over, with the reason;
a missing reason is asked for at its field."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from kimdesk.casework import case_views, caseload
from kimdesk.casework.context import Context
from kimdesk.ui.handover_dialog import HandoverDialog
from kimdesk.ui.state import AppState
from tests.factories import CM, make_case, make_person
from tests.ui.support import type_text


def test_case_is_handed_over_from_the_dialog(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM)
    dialog = HandoverDialog(app_state, case_views.load_case(ctx, case.id))
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(qtbot, dialog.to_manager.lineEdit(), "Mehmet Yılmaz")
    dialog.save()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "Grund" in dialog.errors_label.text()

    type_text(qtbot, dialog.reason, "Umzug nach Goch")
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == QDialog.DialogCode.Accepted
    detail = case_views.load_case(ctx, case.id)
    assert detail.case_manager == "Mehmet Yılmaz"
    assert [h.reason for h in detail.handovers] == ["Umzug nach Goch"]
    assert caseload.caseload(ctx, fte=1.0, case_manager="Mehmet Yılmaz").open_cases == {CM: 1}
