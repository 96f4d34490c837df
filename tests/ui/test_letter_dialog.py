"""Brief aus Vorlage through the real dialog: choose the template, fill from the Akte, edit the
text, save the PDF where the user chose (read back with pypdf)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from kimdesk.casework.appointments import add_appointment
from kimdesk.casework.context import Context
from kimdesk.ui.letter_dialog import LetterDialog
from kimdesk.ui.state import AppState
from tests.factories import CM, make_case, make_institution, make_person, make_waiver
from tests.reports.pdftext import text
from tests.ui.support import choose, type_text


def test_anschreiben_an_eine_behoerde_from_the_dialog(
        qtbot: Any, app_state: AppState, ctx: Context, tmp_path: Path) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    office = make_institution(ctx, "immigration_office")
    make_waiver(ctx, client, office)
    dialog = LetterDialog(app_state, client.id, [(case.id, "Case Management")])
    qtbot.addWidget(dialog)
    dialog.show()

    choose(dialog.template, "anschreiben_behoerde")
    choose(dialog.institution, office.id)
    type_text(qtbot, dialog.findChild(type(dialog.subject), "letter_input_betreff"),
              "Verlängerung")
    type_text(qtbot, dialog.findChild(type(dialog.body), "letter_input_anliegen"),
              "Bitte um Rückruf.")
    qtbot.mouseClick(dialog.fill_button, Qt.MouseButton.LeftButton)
    assert dialog.errors_label.isHidden(), dialog.errors_label.text()
    assert "Verlängerung" in dialog.subject.text()
    dialog.body.setPlainText(dialog.body.toPlainText() + "\n\nPS: Unterlagen folgen per Post.")

    target = tmp_path / "brief.pdf"
    dialog.choose_path = lambda suggested: str(target)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(target.exists, timeout=5000)
    content = text(target.read_bytes())
    assert office.name in content
    assert "Bitte um Rückruf." in content and "PS: Unterlagen folgen per Post." in content
    assert dialog.saved_to == target


def test_terminbestaetigung_needs_a_termin(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    dialog = LetterDialog(app_state, client.id, [(case.id, "Case Management")])
    qtbot.addWidget(dialog)
    dialog.show()
    choose(dialog.template, "terminbestaetigung")
    assert not dialog.institution.isEnabled() and dialog.appointment.isEnabled()
    qtbot.mouseClick(dialog.fill_button, Qt.MouseButton.LeftButton)
    assert "Termin" in dialog.errors_label.text()

    termin = add_appointment(ctx, client.id, ctx.today(), time(15, 0), case_id=case.id)
    dialog = LetterDialog(app_state, client.id, [(case.id, "Case Management")])
    qtbot.addWidget(dialog)
    dialog.show()
    choose(dialog.template, "terminbestaetigung")
    choose(dialog.appointment, termin.id)
    assert dialog.fill()
    assert "um 15:00 Uhr" in dialog.body.toPlainText()
