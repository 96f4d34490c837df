"""Issue 14, the case manager's day without friction, through the real widgets: each test
fails on the code before the fix (noted per test)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox, QPushButton, QWidget

from kimdesk.casework import deadlines, views
from kimdesk.casework.context import Context
from kimdesk.ui.client_dialog import ClientDialog
from kimdesk.ui.contact_dialog import ContactDialog
from kimdesk.ui.state import AppState
from tests.factories import CM, client_count, make_case, make_person
from tests.ui.support import type_text, when_modal


def tab_chain(qtbot: Any, dialog: QDialog, steps: int = 40) -> list[str]:
    """Object names in the order Tab visits them, from the dialog's first focus."""
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    seen: list[str] = []
    for _ in range(steps):
        widget = QApplication.focusWidget()
        assert widget is not None
        seen.append(widget.objectName() or type(widget).__name__)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    return seen


# --- 1. Kontakt erfassen: no stray combo box --------------------------------------------------


def test_contact_dialog_of_a_one_person_case_shows_no_person_combo(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    """Before: the person combo ("Rezai, Moha…") floated over the "Datum" label and took a
    Tab stop on every case with one person."""
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    dialog = ContactDialog(app_state, case.id, people=[(client.id, client.display_name)])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)

    assert not dialog.person.isVisible()
    chain = tab_chain(qtbot, dialog)
    assert "person" not in chain
    assert chain[0] == "contact_on"
    assert {"duration", "mode", "note", "follow_up", "follow_up_subject"} <= set(chain)

    # It still records the contact for the case's one person, with the Wiedervorlage's subject.
    dialog.follow_up.set_value(ctx.today() + timedelta(days=7))
    type_text(qtbot, dialog.follow_up_subject, "Bescheid prüfen")
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [d.title for d in deadlines.due_items(ctx, own=True)] == ["Bescheid prüfen"]


def test_contact_dialog_of_a_family_case_offers_the_person(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    client, partner = make_person(ctx, consent=True), make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    dialog = ContactDialog(app_state, case.id, people=[(client.id, client.display_name),
                                                       (partner.id, partner.display_name)])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.person.isVisible()
    assert "person" in tab_chain(qtbot, dialog)


# --- 2. The duplicate warning must not create the duplicate -----------------------------------


def _duplicate_dialog(qtbot: Any, app_state: AppState, ctx: Context) -> tuple[ClientDialog, Any]:
    existing = make_person(ctx, first_name="Rasha", last_name="Tahhan")
    dialog = ClientDialog(app_state)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    type_text(qtbot, dialog.first_name, "Rasha")
    type_text(qtbot, dialog.last_name, "Tahhan")
    dialog.municipality.setCurrentIndex(1)
    return dialog, existing


def test_enter_twice_on_a_likely_duplicate_opens_the_existing_file(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    """Before: "Trotzdem neu anlegen" had the focus; Enter twice made a second Tahhan, Rasha."""
    dialog, existing = _duplicate_dialog(qtbot, app_state, ctx)
    opened: list[str] = []
    app_state.hub.client_opened.connect(opened.append)
    before = client_count(ctx)

    def press_enter(box: QMessageBox) -> None:
        assert box.objectName() == "duplicate_warning"
        assert box.defaultButton().objectName() == "open_existing"
        assert box.defaultButton().text() == "Vorhandene Akte öffnen"
        qtbot.keyClick(box, Qt.Key.Key_Return)

    errors = when_modal(QMessageBox, press_enter)
    qtbot.keyClick(dialog.last_name, Qt.Key.Key_Return)  # the first Enter: save
    assert errors == []
    assert client_count(ctx) == before
    assert opened == [existing.id]
    assert dialog.result() == QDialog.DialogCode.Rejected and dialog.created_id is None


def test_create_anyway_is_still_possible_by_choice(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    dialog, existing = _duplicate_dialog(qtbot, app_state, ctx)
    before = client_count(ctx)

    def create(box: QMessageBox) -> None:
        button = box.findChild(QPushButton, "create_anyway")
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    errors = when_modal(QMessageBox, create)
    dialog.save()
    assert errors == []
    assert client_count(ctx) == before + 1
    assert dialog.created_id is not None and dialog.created_id != existing.id
    assert sum(r.display_name == existing.display_name for r in views.client_rows(ctx)) == 2


# --- 3. Family cases are visible from the other members' Akten --------------------------------


def test_family_case_shows_in_the_members_akte_list_and_verlauf(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    """Before: Soraya Haidari, participant of the family's case, had "Noch kein Fall", the
    Ratsuchende list said "ohne Fall", and her Verlauf lacked the family's contacts."""
    from kimdesk.casework.cases import add_participant
    from kimdesk.casework.clients import add_to_household, create_household
    from kimdesk.ui.client_file import ClientFileScreen
    from kimdesk.ui.clients_screen import ClientsScreen
    from tests.factories import make_contact

    herr = make_person(ctx, consent=True, first_name="Jawad", last_name="Haidari")
    frau = make_person(ctx, consent=True, first_name="Soraya", last_name="Haidari",
                       allow_duplicate=True)
    household = create_household(ctx, "Familie H.", herr.municipality, first_member=herr.id)
    add_to_household(ctx, household.id, frau.id, "partner")
    case = make_case(ctx, herr, CM)
    add_participant(ctx, case.id, frau.id)
    make_contact(ctx, case, note="Familiengespräch zur Wohnungssuche.")

    screen = ClientFileScreen(app_state)
    qtbot.addWidget(screen)
    screen.resize(1366, 768)
    screen.show()
    screen.show_client(frau.id)
    QApplication.processEvents()

    assert screen.findChild(QWidget, "no_cases") is None
    summaries = [label.text() for label in screen.findChildren(QLabel, "case_summary")]
    assert len(summaries) == 1 and summaries[0].startswith(
        f"Familienfall von {herr.display_name}")
    verlauf = [f"{e.title} {e.detail}" for e in screen.timeline.model.rows()]
    assert any("Familiengespräch zur Wohnungssuche." in text for text in verlauf)
    # Kontakt erfassen from her Akte records the contact with her.
    button = next(b for b in screen.findChildren(QPushButton, "record_contact")
                  if b.property("case_id") == case.id)
    dialog = screen.contact_dialog(button.property("case_id"))
    qtbot.addWidget(dialog)
    assert dialog.person.code() == frau.id

    clients = ClientsScreen(app_state)
    qtbot.addWidget(clients)
    clients.show()
    model = clients.model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).id == frau.id)
    assert model.index(row, 6).data() == "laufend (Familienfall)"


# --- 4. Contacts can be corrected, notes are readable -----------------------------------------


def test_contact_is_corrected_from_the_fall_and_its_note_is_readable(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    """Before: no widget reached the correction use case; the note was cut off in the table."""
    from kimdesk.casework import case_views
    from kimdesk.ui.case_screen import CaseScreen
    from tests.factories import make_contact

    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    long_note = ("Frau H. berichtet ausführlich über die Wohnungssuche, die Schule der "
                 "Kinder und den Termin bei der Ausländerbehörde; nächste Schritte besprochen.")
    make_contact(ctx, case, duration_minutes=30, note=long_note)
    screen = CaseScreen(app_state)
    qtbot.addWidget(screen)
    screen.resize(1366, 768)
    screen.show()
    screen.show_case(case.id)

    screen.contacts_table.selectRow(0)
    assert screen.contact_note.toPlainText() == long_note
    assert screen.correct_contact_button.isEnabled()
    qtbot.mouseClick(screen.correct_contact_button, Qt.MouseButton.LeftButton)
    dialog = screen.findChild(ContactDialog)
    assert dialog is not None and dialog.windowTitle() == "Kontakt korrigieren"
    assert dialog.duration.value() == 30 and dialog.note.toPlainText() == long_note
    dialog.duration.setValue(60)
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    contacts = case_views.load_case(ctx, case.id).contacts
    assert [(c.duration_minutes, c.note) for c in contacts] == [(60, long_note)]
    qtbot.waitUntil(lambda: screen.contacts_model.rowCount() == 1
                    and screen.contacts_model.row_at(0).duration_minutes == 60)


# --- 11. Strg+Enter saves in Neuer Fall as in Kontakt erfassen ----------------------------------


def test_ctrl_enter_saves_a_new_case_from_the_concern_field(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    """Before: Strg+Enter saved Kontakt erfassen but not Neuer Fall."""
    from kimdesk.casework.cases import cases_of
    from kimdesk.ui.client_file_tabs.cases import NewCaseDialog

    client = make_person(ctx)
    dialog = NewCaseDialog(app_state, client.id)
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(qtbot, dialog.concern, "Deutschkurs finden")
    qtbot.keyClick(dialog.concern, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [c.concern for c in cases_of(ctx, client.id)] == ["Deutschkurs finden"]


# --- handover, Termine and letters are reachable from the screens -----------------------------


def test_handover_termin_and_letter_are_reached_from_fall_and_akte(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    from kimdesk.casework import case_views
    from kimdesk.ui.appointment_dialog import AppointmentDialog
    from kimdesk.ui.case_screen import CaseScreen
    from kimdesk.ui.client_file import ClientFileScreen
    from kimdesk.ui.handover_dialog import HandoverDialog
    from kimdesk.ui.letter_dialog import LetterDialog

    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    fall = CaseScreen(app_state)
    qtbot.addWidget(fall)
    fall.resize(1366, 768)
    fall.show()
    fall.show_case(case.id)
    assert f"Zuständig: {ctx.user}" in fall.handover_label.text()
    qtbot.mouseClick(fall.handover_button, Qt.MouseButton.LeftButton)
    dialog = fall.findChild(HandoverDialog)
    assert dialog is not None and dialog.isVisible()
    type_text(qtbot, dialog.to_manager.lineEdit(), "Mehmet Yılmaz")
    type_text(qtbot, dialog.reason, "Umzug nach Goch")
    dialog.save()
    assert case_views.load_case(ctx, case.id).case_manager == "Mehmet Yılmaz"
    qtbot.waitUntil(lambda: "übergeben von" in fall.handover_label.text())

    akte = ClientFileScreen(app_state)
    qtbot.addWidget(akte)
    akte.resize(1366, 768)
    akte.show()
    akte.show_client(client.id)
    qtbot.mouseClick(akte.appointment_button, Qt.MouseButton.LeftButton)
    termin = akte.findChild(AppointmentDialog)
    assert termin is not None and termin.isVisible()
    assert termin.case.code() == case.id
    termin.reject()
    qtbot.mouseClick(akte.letter_button, Qt.MouseButton.LeftButton)
    letter = akte.findChild(LetterDialog)
    assert letter is not None and letter.isVisible()
    letter.reject()


# --- 11. the smaller points ----------------------------------------------------------------------


def test_weiter_in_the_case_picker_is_no_save_button(
        qtbot: Any, app_state: AppState) -> None:
    """Before: "Weiter …" (choosing the case for a Fallbesprechung, nothing is saved yet) was
    the dialog's standard Save button, drawn with a save icon where the desktop's style shows
    icons in dialog buttons (KDE, GNOME)."""
    from PySide6.QtWidgets import QDialogButtonBox

    from kimdesk.ui.coordination.reviews_tab import CasePickerDialog

    dialog = CasePickerDialog(app_state)
    qtbot.addWidget(dialog)
    dialog.show()
    button = dialog.findChild(QPushButton, "save")
    assert button is not None and button.text() == "Weiter …"
    box = dialog.findChild(QDialogButtonBox)
    assert box.standardButton(button) == QDialogButtonBox.StandardButton.NoButton
    assert box.buttonRole(button) == QDialogButtonBox.ButtonRole.AcceptRole
    assert button.icon().isNull()
    # The form dialogs that do save keep their Speichern button.
    contact = ContactDialog(app_state, make_case(
        app_state.ctx, make_person(app_state.ctx, consent=True), CM).id)
    qtbot.addWidget(contact)
    save = contact.findChild(QPushButton, "save")
    assert contact.findChild(QDialogButtonBox).standardButton(save) == \
        QDialogButtonBox.StandardButton.Save


def _placeholder_fits(field: Any) -> bool:
    """The whole placeholder fits the field's text area (frame, margins and the clear
    button's room taken off)."""
    metrics = field.fontMetrics()
    margins = field.textMargins()
    room = (field.contentsRect().width() - margins.left() - margins.right() - 2 * 4
            - metrics.height())
    return metrics.horizontalAdvance(field.placeholderText()) <= room


def test_the_search_placeholder_is_readable_in_full(
        qtbot: Any, app_state: AppState) -> None:
    """Before: "Suchen: Name, Teil des Namens oder Geburtsdatum …" was cut off beside the four
    filters at 1366 px (275 px for 330 px of text), and squeezed to 28 px at 150 %."""
    from kimdesk.ui.main_window import MainWindow

    window = MainWindow(app_state)
    qtbot.addWidget(window)
    window.show()
    window.show_page("Ratsuchende")
    search = window.clients.search
    for size in ((1366, 768), (910, 465)):  # 910 × 465: 1366 × 698 at 150 %
        window.resize(*size)
        QApplication.processEvents()
        assert _placeholder_fits(search), (size, search.width())
    window.discard_and_close()


def test_consents_under_datenschutz_can_be_searched_and_filtered(
        qtbot: Any, app_state: AppState, ctx: Context, clock: Any) -> None:
    """Before: one unfiltered table of every consent of the vault, without search."""
    from datetime import date

    from kimdesk.casework import consents
    from kimdesk.ui.privacy_screen import PrivacyScreen
    from tests.ui.support import choose

    active = make_person(ctx, consent=True, first_name="Zofia", last_name="Wiśniewska")
    revoked = make_person(ctx, consent=True, first_name="Mehmet", last_name="Yılmaz")
    expired = make_person(ctx, first_name="Rasha", last_name="Tahhan")
    [consent] = consents.consents_of(ctx, revoked.id)
    consents.revoke_consent(ctx, consent.id, ctx.today(), "mündlich widerrufen")
    consents.record_consent(ctx, expired.id, consents.ConsentInput(
        given_on=date(2025, 1, 10), valid_until=date(2025, 12, 31)))
    screen = PrivacyScreen(app_state)
    qtbot.addWidget(screen)
    screen.resize(1366, 700)
    screen.show()

    def names() -> list[str]:
        table = screen.consent_table
        return sorted(table.item(row, 0).text() for row in range(table.rowCount()))

    assert len(names()) == 3 and screen.consent_count.text() == "3 von 3 Einträgen"
    type_text(qtbot, screen.consent_search, "wisn")  # any case, no diacritics needed
    assert names() == [active.display_name]
    assert screen.consent_count.text() == "1 von 3 Einträgen"
    screen.consent_search.clear()
    for status, person in (("revoked", revoked), ("expired", expired), ("active", active)):
        choose(screen.consent_status, status)
        assert names() == [person.display_name], status
    choose(screen.consent_kind, "confidentiality_waiver")
    assert names() == []
    choose(screen.consent_kind, None)
    choose(screen.consent_status, None)
    assert len(names()) == 3
    for widget in (screen.consent_search, screen.consent_status, screen.consent_kind):
        assert widget.accessibleName()


def test_expired_p104c_is_marked_expired_in_the_akte_header(
        qtbot: Any, app_state: AppState, ctx: Context, clock: Any) -> None:
    """Before: the header still said "gültig bis 31.08.2026" after that day."""
    from datetime import date

    from kimdesk.casework.deadlines import record_residence
    from kimdesk.ui.client_file import ClientFileScreen

    client = make_person(ctx, consent=True)
    record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 1))  # until 31.08.2026
    clock.today = date(2026, 8, 3)
    akte = ClientFileScreen(app_state)
    qtbot.addWidget(akte)
    akte.show()
    akte.show_client(client.id)
    facts = akte.findChild(QLabel, "client_facts")
    assert "gültig bis 31.08.2026" in facts.text()
    clock.today = date(2026, 9, 2)
    akte.show_client(client.id)
    assert "abgelaufen am 31.08.2026" in facts.text()
    assert "gültig bis" not in facts.text()


def test_heute_calls_the_goal_review_zielueberpruefung(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    """Before: "Hilfeplan-Überprüfung" (the youth welfare office's term)."""
    from kimdesk.ui.today_screen import TodayScreen

    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    deadlines.add_deadline(ctx, client.id, "plan_review", ctx.today() + timedelta(days=2), "",
                           case_id=case.id)
    screen = TodayScreen(app_state)
    qtbot.addWidget(screen)
    screen.show()
    cells = [screen.due.item(row, column).text() for row in range(screen.due.rowCount())
             for column in range(screen.due.columnCount())]
    assert "Zielüberprüfung" in cells
    assert not any("Hilfeplan" in text for text in cells)


def test_ctrl_k_records_a_contact_wherever_a_case_is_current(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    """Strg+K in the Fall and in the Akte of a person with one open case (before: only in the
    Fall); with two open cases the Akte says where to choose."""
    from kimdesk.ui.main_window import MainWindow

    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    window = MainWindow(app_state)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()

    def ctrl_k_opens_contact_for(case_id: str) -> None:
        QApplication.processEvents()
        focus = QApplication.focusWidget() or window
        qtbot.keyClick(focus, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ContactDialog))
        dialog = QApplication.activeModalWidget()
        assert dialog.windowTitle() == "Kontakt erfassen" and dialog._case_id == case_id
        dialog.reject()
        QApplication.processEvents()
        window.activateWindow()

    window.open_case(case.id)
    ctrl_k_opens_contact_for(case.id)
    window.open_client(client.id)
    ctrl_k_opens_contact_for(case.id)
    make_case(ctx, client)  # a second open case (a Kurzintervention): which one is meant?
    window.open_client(client.id)
    QApplication.processEvents()
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_K,
                   Qt.KeyboardModifier.ControlModifier)
    assert QApplication.activeModalWidget() is None
    assert "Mehrere offene Fälle" in window.client_file.status.text()
    window.discard_and_close()
