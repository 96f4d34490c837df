"""The client file (Akte): the real widgets driven with qtbot, the vault checked afterwards.

Modal dialogs are either built through the screen's factory methods and filled and saved
directly, or answered by a QTimer while the screen's own button waits in ``exec()``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from kimdesk.casework import audit, cases, clients, consents, deadlines, documents
from kimdesk.casework.context import Context
from kimdesk.casework.views import TimelineEntry
from kimdesk.models.enums import CaseKind, ConsentKind
from kimdesk.ui import hub as areas
from kimdesk.ui.client_file import ClientFileScreen
from kimdesk.ui.client_file_tabs.consents import ConsentDialog
from kimdesk.ui.client_file_tabs.documents import DocumentViewer
from kimdesk.ui.client_file_tabs.household import AddMemberDialog
from kimdesk.ui.client_file_tabs.timeline import TimelineTableModel
from kimdesk.ui.contact_dialog import ContactDialog
from kimdesk.ui.state import AppState
from kimdesk.vault import open_vault
from tests.factories import (
    CM,
    PASSWORD,
    SUPPORT,
    make_case,
    make_contact,
    make_institution,
    make_organisation,
    make_person,
    make_waiver,
)
from tests.ui.support import Pending

SHOTS = os.environ.get("KIMDESK_SCREENSHOTS")


@pytest.fixture
def screen(qtbot, app_state: AppState) -> ClientFileScreen:  # type: ignore[no-untyped-def]
    widget = ClientFileScreen(app_state)
    qtbot.addWidget(widget)
    widget.show()
    widget.resize(1366, 768)
    widget.show()
    return widget


def child(parent: QWidget, cls: type[Any], name: str) -> Any:
    widget = parent.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name!r}"
    return widget


def show_tab(screen: ClientFileScreen, name: str) -> QWidget:
    screen.tabs.setCurrentIndex(screen.tab_index(name))
    return screen.tabs.currentWidget()


def replace_text(qtbot, widget: QLineEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def tick(qtbot, box: QAbstractButton) -> None:  # type: ignore[no-untyped-def]
    """Toggle a checkbox by keyboard (quick mouse clicks on neighbours read as a double click)."""
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)


def answer_dialog(cls: type[QDialog], action: Callable[[Any], None]) -> Pending:
    """Act on the next modal dialog of ``cls`` once it is open; never leave it open.
    Call ``wait()`` on the result after the click that opens it."""
    seen = Pending()

    def handle() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, cls):
            QTimer.singleShot(10, handle)
            return
        seen.append(dialog)
        try:
            action(dialog)
        finally:
            seen.done = True
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, handle)
    return seen


def last_update_fields(ctx: Context, client_id: str, entity: str) -> list[str]:
    with ctx.vault.reading() as session:
        entries = [e for e in audit.entries_for_client(session, client_id)
                   if e.action == "update" and e.entity == entity]
    return entries[-1].detail["fields"]


# --- Stammdaten ---------------------------------------------------------------------------------


def test_master_data_edit_saves_only_changed_fields(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    screen.show_client(person.id)
    tab = screen.master_data

    assert child(tab, QLineEdit, "first_name").text() == "Amina"
    replace_text(qtbot, child(tab, QLineEdit, "phone"), "0157 1234567")
    replace_text(qtbot, child(tab, QLineEdit, "languages"), "Arabisch, Englisch")
    assert screen.has_unsaved_changes()
    assert screen.tabs.tabText(0) == "Stammdaten *"
    qtbot.mouseClick(child(tab, QPushButton, "save_master_data"), Qt.MouseButton.LeftButton)

    stored = clients.read_client(ctx, person.id)
    assert (stored.phone, stored.languages) == ("0157 1234567", "Arabisch, Englisch")
    assert stored.birth_date == date(1991, 4, 17)  # untouched fields stay as they were
    assert last_update_fields(ctx, person.id, "clients") == ["languages", "phone"]
    assert not screen.has_unsaved_changes()
    assert screen.tabs.tabText(0) == "Stammdaten"
    assert child(tab, QLabel, "master_data_status").text() == "Gespeichert."


def test_typing_marks_unsaved_changes_and_discard_restores(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    screen.show_client(person.id)
    assert not screen.has_unsaved_changes()
    save = child(screen, QPushButton, "save_master_data")
    assert not save.isEnabled()

    qtbot.keyClicks(child(screen, QLineEdit, "first_name"), "-Maria")

    assert screen.has_unsaved_changes()
    assert save.isEnabled()
    qtbot.mouseClick(child(screen, QPushButton, "discard_master_data"),
                     Qt.MouseButton.LeftButton)
    assert not screen.has_unsaved_changes()
    assert child(screen, QLineEdit, "first_name").text() == "Amina"


def test_validation_error_is_shown_at_the_field_and_input_kept(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    screen.show_client(person.id)
    email = child(screen, QLineEdit, "email")

    qtbot.keyClicks(email, "amina.haddad")
    qtbot.mouseClick(child(screen, QPushButton, "save_master_data"), Qt.MouseButton.LeftButton)

    errors = child(screen, QLabel, "master_data_errors")
    assert errors.text() == "Die E-Mail-Adresse ist unvollständig."
    assert "border" in email.styleSheet()
    assert email.text() == "amina.haddad"
    assert screen.has_unsaved_changes()
    assert clients.read_client(ctx, person.id).email == ""


def test_edits_survive_a_reload_after_another_change(qtbot, screen, ctx, app_state) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    screen.show_client(person.id)
    replace_text(qtbot, child(screen, QLineEdit, "phone"), "02821 999")

    deadlines.add_deadline(ctx, person.id, "follow_up", ctx.today() + timedelta(days=3),
                           "Rückruf")
    app_state.hub.data_changed.emit(areas.DEADLINES)

    assert screen.deadlines.model.rowCount() == 1  # the file was reloaded ...
    assert child(screen, QLineEdit, "phone").text() == "02821 999"  # ... the edit kept
    assert screen.has_unsaved_changes()


def test_edits_survive_auto_lock_and_unlock(qtbot, screen, ctx, app_state, vault) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    screen.show_client(person.id)
    replace_text(qtbot, child(screen, QLineEdit, "languages"), "Arabisch, Kurdisch")

    app_state.lock()
    assert screen.has_unsaved_changes()
    reopened = open_vault(vault.data_dir, PASSWORD)
    try:
        app_state.attach(reopened)
        assert child(screen, QLineEdit, "languages").text() == "Arabisch, Kurdisch"
        qtbot.mouseClick(child(screen, QPushButton, "save_master_data"),
                         Qt.MouseButton.LeftButton)
        assert clients.read_client(app_state.ctx, person.id).languages == "Arabisch, Kurdisch"
    finally:
        reopened.close()


def test_consent_gated_fields_appear_after_recording_consent(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    screen.show_client(person.id)
    gated = child(screen, QWidget, "consent_fields")
    assert gated.isHidden()
    assert child(screen, QWidget, "no_consent_box").isVisible()
    assert "nur Kurzintervention" in child(screen, QLabel, "consent_badge").text()

    tab = show_tab(screen, "tab_consents")

    def fill(dialog: ConsentDialog) -> None:
        replace_text(qtbot, dialog.given_on, "20.11.2026")
        dialog.form.set_code("muendlich")
        qtbot.mouseClick(child(dialog, QPushButton, "save"), Qt.MouseButton.LeftButton)

    seen = answer_dialog(ConsentDialog, fill)
    qtbot.mouseClick(child(tab, QPushButton, "record_consent"), Qt.MouseButton.LeftButton)
    seen.wait()

    assert seen and seen[0].result() == QDialog.DialogCode.Accepted
    stored = consents.consents_of(ctx, person.id)
    assert [(c.kind, c.given_on, c.form) for c in stored] == [
        (ConsentKind.DATA_PROCESSING.value, date(2026, 11, 20), "muendlich")]
    assert screen.consents.model.rowCount() == 1
    assert child(screen, QLabel, "consent_badge").text() == "Einwilligung liegt vor"

    show_tab(screen, "tab_master_data")
    assert gated.isVisible()
    assert child(screen, QWidget, "no_consent_box").isHidden()
    replace_text(qtbot, child(screen, QLineEdit, "birth_date"), "17.4.1991")
    child(screen, QWidget, "nationality").set_code("SY")
    qtbot.mouseClick(child(screen, QPushButton, "save_master_data"), Qt.MouseButton.LeftButton)
    stored_client = clients.read_client(ctx, person.id)
    assert (stored_client.birth_date, stored_client.nationality) == (date(1991, 4, 17), "SY")
    assert "geb. 17.04.1991 (35 Jahre)" in child(screen, QLabel, "client_facts").text()


def test_release_with_health_needs_the_special_category(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    doctor = make_institution(ctx, "health_care")
    screen.show_client(person.id)
    show_tab(screen, "tab_consents")

    dialog = screen.consents.consent_dialog(ConsentKind.RELEASE.value)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.institution.set_code(doctor.id)
    tick(qtbot, child(dialog, QAbstractButton, "info_health"))
    tick(qtbot, child(dialog, QAbstractButton, "info_master_data"))
    qtbot.keyClicks(dialog.purpose, "Abstimmung der Behandlung")
    dialog.save()

    assert dialog.errors.message == (
        "Gesundheitsdaten müssen ausdrücklich als besondere Kategorie benannt werden.")
    assert "border" in dialog.special.styleSheet()
    assert [c.kind for c in consents.consents_of(ctx, person.id)] == ["data_processing"]

    tick(qtbot, dialog.special)
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    release = consents.consents_of(ctx, person.id)[-1]
    assert (release.kind, release.recipient_institution_id, release.special_categories) == (
        ConsentKind.RELEASE.value, doctor.id, True)
    assert sorted(release.information_kinds) == ["health", "master_data"]


def test_revoking_the_consent_hides_the_gated_fields(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    screen.show_client(person.id)
    assert child(screen, QWidget, "consent_fields").isVisible()
    show_tab(screen, "tab_consents")
    screen.consents.table.selectRow(0)
    assert child(screen, QPushButton, "revoke_consent").isEnabled()

    def fill(dialog: QDialog) -> None:
        # QTest types ASCII only; an umlaut comes in as an input method would insert it.
        child(dialog, QWidget, "revocation_note").insertPlainText("Mündlich erklärt")
        qtbot.mouseClick(child(dialog, QPushButton, "save"), Qt.MouseButton.LeftButton)

    answered = answer_dialog(QDialog, fill)
    qtbot.mouseClick(child(screen, QPushButton, "revoke_consent"), Qt.MouseButton.LeftButton)
    answered.wait()

    (stored,) = consents.consents_of(ctx, person.id)
    assert (stored.revoked_on, stored.revocation_note) == (ctx.today(), "Mündlich erklärt")
    assert screen.consents.model.data(screen.consents.model.index(0, 7)).startswith(
        "widerrufen")
    assert child(screen, QLabel, "consent_badge").text() == "Einwilligung widerrufen"
    assert child(screen, QWidget, "consent_fields").isHidden()


# --- Aufenthalt ---------------------------------------------------------------------------------


def test_p104c_shows_the_computed_end_and_creates_deadlines(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    screen.show_client(person.id)
    tab = show_tab(screen, "tab_residence")
    assert child(tab, QWidget, "p104c_checklist").isHidden()

    def fill(dialog: QDialog) -> None:
        child(dialog, QWidget, "residence_status").set_code("p104c")
        assert not child(dialog, QLineEdit, "valid_until").isEnabled()
        qtbot.keyClicks(child(dialog, QLineEdit, "granted_on"), "01.06.2025")
        assert child(dialog, QLabel, "computed_until").text() == "wird berechnet: 30.11.2026"
        qtbot.mouseClick(child(dialog, QPushButton, "save"), Qt.MouseButton.LeftButton)

    answered = answer_dialog(QDialog, fill)
    qtbot.mouseClick(child(tab, QPushButton, "record_residence"), Qt.MouseButton.LeftButton)
    answered.wait()

    (record,) = deadlines.residence_history(ctx, person.id)
    # 18 months from the grant: 01.06.2025 + 18 months - 1 day
    assert (record.status, record.valid_until) == ("p104c", date(2026, 11, 30))
    info = child(tab, QLabel, "residence_info").text()
    assert "gültig bis 30.11.2026" in info and "18 Monate" in info
    assert "gültig bis 30.11.2026" in child(tab, QLabel, "residence_current").text()
    assert "Chancen-Aufenthaltsrecht" in child(screen, QLabel, "client_facts").text()

    rows = screen.deadlines.model.rows()
    assert [(r.due_on, r.p104c) for r in rows] == [
        (date(2026, 10, 5), True), (date(2026, 10, 19), True), (date(2026, 11, 30), True)]
    assert rows[0].overdue and not rows[2].overdue
    assert screen.tabs.tabText(screen.tab_index("tab_deadlines")) == "Fristen (3)"

    checklist = child(tab, QWidget, "p104c_checklist")
    assert checklist.isVisible()
    tick(qtbot, child(tab, QAbstractButton, "check_language"))
    items = {i.item: i for i in deadlines.checklist(ctx, person.id)}
    assert items["language"].fulfilled and items["language"].fulfilled_on == ctx.today()
    assert not items["livelihood"].fulfilled
    assert child(tab, QAbstractButton, "check_language").isChecked()
    assert child(tab, QLabel, "check_language_date").text() == "erfüllt seit 25.11.2026"


def test_residence_is_not_offered_without_consent(screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    screen.show_client(person.id)
    tab = show_tab(screen, "tab_residence")
    assert not child(tab, QPushButton, "record_residence").isEnabled()
    assert child(tab, QLabel, "residence_consent_hint").isVisible()


# --- Dokumente ----------------------------------------------------------------------------------


def _add_document(qtbot, screen: ClientFileScreen, path: Path, description: str = "") -> None:  # type: ignore[no-untyped-def]
    dialog = screen.documents.add_dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.path.setText(str(path))
    qtbot.keyClicks(dialog.description, description)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.created is not None or bool(dialog.errors.message))
    assert dialog.created is not None, dialog.errors.message
    screen.documents.document_added(dialog)


def _all_bytes(directory: Path) -> list[bytes]:
    return [p.read_bytes() for p in directory.rglob("*") if p.is_file()]


def test_document_is_added_viewed_in_memory_and_never_on_disk(qtbot, screen, ctx, tmp_path,
                                                              vault) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    marker = "Bewilligungsbescheid Jobcenter Kleve – Aktenzeichen 4711-KLE"
    source = tmp_path / "outside" / "bescheid.txt"
    source.parent.mkdir()
    source.write_text(marker + "\nLeistungen ab 01.12.2026.\n", encoding="utf-8")
    screen.show_client(person.id)
    tab = show_tab(screen, "tab_documents")

    _add_document(qtbot, screen, source, "Bescheid SGB II")

    (stored,) = documents.attachments_of(ctx, person.id)
    assert (stored.filename, stored.description, stored.media_type) == (
        "bescheid.txt", "Bescheid SGB II", "text/plain")
    assert screen.documents.model.rowCount() == 1
    assert screen.tabs.tabText(screen.tab_index("tab_documents")) == "Dokumente (1)"
    files = list((vault.data_dir / "attachments").iterdir())
    assert [f.name for f in files] == [stored.id]
    plaintext = marker.encode()
    assert not any(plaintext in data for data in _all_bytes(vault.data_dir))

    screen.documents.table.selectRow(0)
    qtbot.mouseClick(child(tab, QPushButton, "view_document"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.documents.viewer is not None)
    viewer = screen.documents.viewer
    assert viewer.kind == "text"
    assert marker in viewer.content_widget.toPlainText()
    viewer.close()
    qtbot.waitUntil(lambda: screen.documents.viewer is None)
    # Viewing wrote nothing: still only the one ciphertext, no plaintext anywhere in the vault.
    assert [f.name for f in (vault.data_dir / "attachments").iterdir()] == [stored.id]
    assert not any(plaintext in data for data in _all_bytes(vault.data_dir))


def test_save_copy_is_the_explicit_act_and_is_audited(qtbot, screen, ctx, tmp_path,
                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    content = b"%PDF-1.4 not really a pdf \x00\x01\x02"
    documents.add_attachment(ctx, person.id, "Zeugnis.pdf", content)
    screen.show_client(person.id)
    tab = show_tab(screen, "tab_documents")
    screen.documents.table.selectRow(0)

    qtbot.mouseClick(child(tab, QPushButton, "view_document"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.documents.viewer is not None)
    viewer = screen.documents.viewer
    assert viewer.kind == "none"
    assert "Vorschau nicht möglich" in child(viewer, QLabel, "document_no_preview").text()
    viewer.close()

    target = tmp_path / "kopie" / "Zeugnis.pdf"
    target.parent.mkdir()
    monkeypatch.setattr("kimdesk.ui.client_file_tabs.documents.QFileDialog.getSaveFileName",
                        lambda *args, **kwargs: (str(target), ""))
    qtbot.mouseClick(child(tab, QPushButton, "save_copy"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Kopie gespeichert" in child(tab, QLabel, "document_status").text())

    assert target.read_bytes() == content
    with ctx.vault.reading() as session:
        actions = [(e.action, e.entity) for e in audit.entries_for_client(session, person.id)]
    assert ("export", "attachments") in actions


def test_image_documents_are_shown_as_images(qtbot, screen, ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("#1565c0"))
    path = tmp_path / "pass.png"
    assert image.save(str(path))
    screen.show_client(person.id)
    show_tab(screen, "tab_documents")
    _add_document(qtbot, screen, path)

    screen.documents.table.selectRow(0)
    screen.documents.view_selected()
    qtbot.waitUntil(lambda: screen.documents.viewer is not None)
    viewer = screen.documents.viewer
    assert viewer.kind == "image"
    assert viewer.content_widget.pixmap().size().width() == 40
    viewer.close()


def test_documents_need_consent(screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    screen.show_client(person.id)
    tab = show_tab(screen, "tab_documents")
    assert not child(tab, QPushButton, "add_document").isEnabled()


# --- Fälle, Kontakte, Verlauf -------------------------------------------------------------------


def test_case_management_is_refused_without_consent(qtbot, screen, ctx, app_state) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    screen.show_client(person.id)
    dialog = screen.new_case_dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.kind.set_code(CM)
    qtbot.keyClicks(dialog.concern, "Aufenthalt sichern und Arbeit finden")
    dialog.save()

    assert dialog.errors.message == (
        "Ein Case Management setzt eine gültige Einwilligung in die Datenverarbeitung voraus. "
        "Bitte zuerst die Einwilligung erfassen.")
    assert "border" in dialog.kind.styleSheet()
    assert cases.cases_of(ctx, person.id) == []

    dialog.kind.set_code(CaseKind.SHORT_INTERVENTION.value)
    dialog.access_route.set_code("accommodation")
    dialog.set_topics(["livelihood"])
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    screen.case_created(dialog.created.id)

    (case,) = cases.cases_of(ctx, person.id)
    assert (case.kind, case.access_route, case.concern) == (
        "short_intervention", "accommodation", "Aufenthalt sichern und Arbeit finden")
    (button,) = screen.findChildren(QPushButton, "open_case")
    assert button.property("case_id") == case.id
    with qtbot.waitSignal(app_state.hub.case_opened) as opened:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened.args == [case.id]


def test_new_case_through_the_header_button(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    screen.show_client(person.id)
    assert child(screen, QLabel, "no_cases").isVisible()

    def fill(dialog: QDialog) -> None:
        child(dialog, QWidget, "case_kind").set_code(CM)
        child(dialog, QWidget, "access_route").set_code("public_order_office")
        qtbot.keyClicks(child(dialog, QWidget, "concern"), "Viele Alltagsfragen der Familie")
        qtbot.mouseClick(child(dialog, QPushButton, "save"), Qt.MouseButton.LeftButton)

    answered = answer_dialog(QDialog, fill)
    qtbot.mouseClick(child(screen, QPushButton, "new_case"), Qt.MouseButton.LeftButton)
    answered.wait()

    (case,) = cases.cases_of(ctx, person.id)
    assert (case.kind, case.phase, case.access_route) == (CM, "intake", "public_order_office")
    summary = child(screen, QLabel, "case_summary").text()
    assert summary.startswith("Rechtskreisübergreifendes Case Management · Phase Intake")


def test_contact_recorded_from_the_header_appears_in_the_timeline(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    case = make_case(ctx, person, SUPPORT)
    screen.show_client(person.id)
    assert sorted(e.kind for e in screen.timeline.model.rows()) == ["case_kind", "consent"]

    def fill(dialog: ContactDialog) -> None:
        dialog.mode.set_code("phone")
        dialog.duration.setValue(20)
        qtbot.keyClicks(dialog.note, "Termin Schulanmeldung besprochen")
        replace_text(qtbot, dialog.follow_up, "+7")
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    seen = answer_dialog(ContactDialog, fill)
    (button,) = screen.findChildren(QPushButton, "record_contact")
    assert button.property("case_id") == case.id
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    seen.wait()

    assert seen and seen[0].result() == QDialog.DialogCode.Accepted
    (contact,) = cases.contacts_of(ctx, case.id)
    assert (contact.mode, contact.duration_minutes) == ("phone", 20)
    titles = [e.title for e in screen.timeline.model.rows()]
    assert "Kontakt: Telefon (20 Min.)" in titles
    table = child(screen, QWidget, "timeline_table")
    shown = [table.model().index(r, 2).data() for r in range(table.model().rowCount())]
    assert "Kontakt: Telefon (20 Min.)" in shown
    # the follow-up became a Wiedervorlage of the person
    # The Wiedervorlage has a subject, never a bare "Wiedervorlage" (issue 14, item 5).
    assert [r.title for r in screen.deadlines.model.rows()] == [
        f"Nachfassen zum Kontakt vom {ctx.today():%d.%m.%Y}"]


def test_timeline_lists_recorded_contacts_newest_first_and_filters(qtbot, screen, ctx,
                                                                   clock) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    case = make_case(ctx, person, SUPPORT, opened_on=ctx.today() - timedelta(days=10))
    make_contact(ctx, case, contact_on=ctx.today() - timedelta(days=9), mode="office")
    make_contact(ctx, case, contact_on=ctx.today() - timedelta(days=2), mode="accompaniment",
                 duration_minutes=90)
    screen.show_client(person.id)
    tab = show_tab(screen, "tab_timeline")

    entries = screen.timeline.model.rows()
    assert [e.on for e in entries] == sorted((e.on for e in entries), reverse=True)
    assert [e.title for e in entries if e.kind == "contact"] == [
        "Kontakt: Begleitung (90 Min.)",
        "Kontakt: Persönlich (Büro) (45 Min.)"]
    combo = child(tab, QWidget, "timeline_filter")
    combo.setCurrentIndex(combo.findData("contact"))
    table = child(tab, QWidget, "timeline_table")
    assert table.model().rowCount() == 2
    assert child(tab, QLabel, "timeline_count").text() == "2 von 4 Einträgen"


def test_timeline_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TimelineTableModel()
    model.set_entries([
        TimelineEntry(date(2026, 11, 20), "contact", "Kontakt: Telefon (20 Min.)", "Sprache",
                      "c1"),
        TimelineEntry(date(2026, 11, 1), "case_kind", "Fall eröffnet: Kurzintervention", "",
                      "c1"),
    ], {"c1": "Kurzintervention (01.11.2026)"})
    qtmodeltester.check(model)
    assert model.index(0, 4).data() == "Kurzintervention (01.11.2026)"


# --- Fristen ------------------------------------------------------------------------------------


def test_deadline_added_and_completed(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    case = make_case(ctx, person)
    screen.show_client(person.id)
    tab = show_tab(screen, "tab_deadlines")

    dialog = screen.deadlines.deadline_dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.case.code() == case.id  # the only open case is proposed
    qtbot.keyClicks(dialog.due_on, "+14")
    qtbot.keyClicks(dialog.title, "Weiterbewilligungsantrag abgeben")
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted

    (row,) = screen.deadlines.model.rows()
    assert (row.due_on, row.title, row.kind) == (
        date(2026, 12, 9), "Weiterbewilligungsantrag abgeben", "Wiedervorlage")
    screen.deadlines.table.selectRow(0)
    qtbot.mouseClick(child(tab, QPushButton, "complete_deadline"), Qt.MouseButton.LeftButton)
    assert screen.deadlines.model.rowCount() == 0
    assert deadlines.due_items(ctx, within_days=30) == []


def test_deadline_without_date_is_refused_at_the_field(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx)
    screen.show_client(person.id)
    dialog = screen.deadlines.deadline_dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.due_on, "31.02.2027")
    dialog.save()
    assert dialog.errors.message == "Dieses Datum gibt es nicht."
    assert "border" in dialog.due_on.styleSheet()


# --- Haushalt -----------------------------------------------------------------------------------


def test_household_with_member_and_relation(qtbot, screen, ctx, app_state) -> None:  # type: ignore[no-untyped-def]
    mother = make_person(ctx, consent=True)
    son = make_person(ctx, consent=True, first_name="Karim", last_name="Haddad",
                      allow_duplicate=True)
    screen.show_client(mother.id)
    tab = show_tab(screen, "tab_household")
    assert child(tab, QPushButton, "create_household").isEnabled()

    def create(dialog: QDialog) -> None:
        assert child(dialog, QLineEdit, "household_name").text() == "Familie Haddad"
        child(dialog, QWidget, "own_role").set_code("Haushaltsvorstand")
        qtbot.mouseClick(child(dialog, QPushButton, "save"), Qt.MouseButton.LeftButton)

    answered = answer_dialog(QDialog, create)
    qtbot.mouseClick(child(tab, QPushButton, "create_household"), Qt.MouseButton.LeftButton)
    answered.wait()
    assert clients.read_client(ctx, mother.id).household_role == "Haushaltsvorstand"
    assert child(tab, QPushButton, "create_household").isHidden()

    dialog = screen.household.add_member_dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.search, "Karim")
    dialog.run_search()
    assert dialog.results.count() == 1 and dialog.selected_id() == son.id
    dialog.role.set_code("Kind")
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted

    household_id = clients.read_client(ctx, mother.id).household_id
    members = clients.household_members(ctx, household_id)
    assert {(m.id, m.household_role) for m in members} == {
        (mother.id, "Haushaltsvorstand"), (son.id, "Kind")}
    assert [r.name for r in screen.household.members_model.rows()] == [
        "Haddad, Amina", "Haddad, Karim"]

    relation = screen.household.relation_dialog()
    qtbot.addWidget(relation)
    relation.show()
    relation.kind.set_code("parent_of")
    relation.other.set_code(son.id)
    relation.save()
    assert relation.result() == QDialog.DialogCode.Accepted
    assert [(r.relation, r.other_name) for r in screen.household.relations_model.rows()] == [
        ("Elternteil von", "Haddad, Karim")]

    screen.household.members.selectRow(1)
    with qtbot.waitSignal(app_state.hub.client_opened) as opened:
        qtbot.mouseClick(child(tab, QPushButton, "open_member"), Qt.MouseButton.LeftButton)
    assert opened.args == [son.id]
    screen.show_client(son.id)  # seen from the son's file, the relation reads the other way
    assert [(r.relation, r.other_name) for r in screen.household.relations_model.rows()] == [
        ("Kind von", "Haddad, Amina")]


def test_new_household_member_created_in_the_add_dialog(qtbot, screen, ctx) -> None:  # type: ignore[no-untyped-def]
    mother = make_person(ctx, consent=True)
    household = clients.create_household(ctx, "Familie Haddad", "kleve")
    clients.add_to_household(ctx, household.id, mother.id, "Haushaltsvorstand")
    screen.show_client(mother.id)
    dialog = screen.household.add_member_dialog()
    qtbot.addWidget(dialog)
    dialog.show()

    def create_person(new: QDialog) -> None:
        assert new.last_name.text() == "Haddad"
        qtbot.keyClicks(new.first_name, "Sara")
        new.municipality.set_code("kleve")
        tick(qtbot, new.consent)
        qtbot.mouseClick(child(new, QPushButton, "save"), Qt.MouseButton.LeftButton)

    answered = answer_dialog(QDialog, create_person)
    qtbot.mouseClick(child(dialog, QPushButton, "new_member"), Qt.MouseButton.LeftButton)
    answered.wait()
    assert dialog.selected_id() is not None
    dialog.save()
    assert isinstance(dialog, AddMemberDialog) and dialog.added_id is not None
    names = {m.display_name for m in clients.household_members(ctx, household.id)}
    assert names == {"Haddad, Amina", "Haddad, Sara"}


# --- Kopf, Sperre, Screenshots ------------------------------------------------------------------


def test_header_shows_the_file_at_a_glance(screen, ctx) -> None:  # type: ignore[no-untyped-def]
    person = make_person(ctx, consent=True)
    make_waiver(ctx, person, make_institution(ctx))
    deadlines.record_residence(ctx, person.id, "duldung", granted_on=date(2026, 9, 1),
                               valid_until=date(2027, 3, 1))
    screen.show_client(person.id)
    assert child(screen, QLabel, "client_name").text() == "Haddad, Amina"
    facts = child(screen, QLabel, "client_facts").text()
    assert "Kommune Kleve" in facts
    assert "Duldung (§ 60a AufenthG), gültig bis 01.03.2027" in facts
    assert child(screen, QLabel, "consent_badge").text() == (
        "Einwilligung liegt vor · 1 Schweigepflichtentbindung")


def test_organisation_file_offers_organisation_fields(screen, ctx) -> None:  # type: ignore[no-untyped-def]
    employer = make_organisation(ctx, first_name="Jan", last_name="Verhoeven")
    screen.show_client(employer.id)
    assert child(screen, QLabel, "client_name").text() == "Gartenbau Verhoeven GmbH"
    assert child(screen, QLabel, "client_facts").text().startswith(
        "Organisation, Ansprechperson Jan Verhoeven")
    assert child(screen, QLineEdit, "organisation_name").isVisible()
    assert child(screen, QWidget, "gender").isHidden()
    assert child(screen, QLineEdit, "interpreter_language").isHidden()


def test_anonymous_short_intervention_hides_names(screen, ctx) -> None:  # type: ignore[no-untyped-def]
    anonymous = clients.create_client(ctx, clients.ClientInput(anonymous=True,
                                                               municipality="goch"))
    screen.show_client(anonymous.id)
    assert child(screen, QLabel, "client_name").text() == "Anonyme Beratung"
    assert child(screen, QLineEdit, "last_name").isHidden()
    assert child(screen, QLabel, "anonymous_hint").isVisible()
    assert not child(screen, QLineEdit, "phone").isEnabled()


def test_unknown_client_shows_a_message(screen) -> None:  # type: ignore[no-untyped-def]
    screen.show_client("0" * 32)
    assert screen.pages.currentIndex() == 0
    assert "nicht gefunden" in child(screen, QLabel, "no_file").text()


def _family_h(ctx: Context, tmp_path: Path) -> str:
    """Beispiel 4, Familie H., as far as the client file shows it."""
    father = make_person(ctx, consent=True, first_name="Farid", last_name="Hakimi",
                         gender="male", nationality="AF", municipality="kevelaer",
                         languages="Dari, Paschtu, etwas Deutsch", interpreter_language="Dari",
                         address="Hauptstraße 12, 47623 Kevelaer", birth_date=date(1986, 3, 2),
                         arrival_date=date(2025, 10, 1))
    household = clients.create_household(ctx, "Familie H.", "kevelaer",
                                         "Hauptstraße 12, 47623 Kevelaer")
    clients.add_to_household(ctx, household.id, father.id, "Haushaltsvorstand")
    for first, role, born in (("Mariam", "Ehepartner:in", date(1989, 5, 14)),
                              ("Parisa", "Kind", date(2016, 2, 1)),
                              ("Karim", "Kind", date(2019, 7, 9)),
                              ("Soraya", "Kind", date(2022, 4, 20))):
        member = make_person(ctx, consent=True, first_name=first, last_name="Hakimi",
                             birth_date=born, nationality="AF", municipality="kevelaer",
                             allow_duplicate=True)
        clients.add_to_household(ctx, household.id, member.id, role)
        clients.add_relation(ctx, father.id, member.id,
                             "spouse" if role == "Ehepartner:in" else "parent_of")
    jobcenter = make_institution(ctx)
    make_waiver(ctx, father, jobcenter, information_kinds=("master_data", "finances"),
                purpose="Antrag auf Leistungen nach dem SGB II")
    deadlines.record_residence(ctx, father.id, "gestattung", granted_on=date(2025, 10, 20))
    deadlines.record_residence(ctx, father.id, "ae_25_2_refugee", granted_on=date(2026, 10, 28),
                               valid_until=date(2029, 10, 27))
    case = make_case(ctx, father, CM, access_route="public_order_office",
                     opened_on=date(2026, 11, 2), phase="assessment")
    make_case(ctx, father, SUPPORT, opened_on=date(2026, 11, 3))
    for days, mode in ((21, "outreach"), (14, "office"), (7, "phone"), (1, "accompaniment")):
        make_contact(ctx, case, contact_on=ctx.today() - timedelta(days=days), mode=mode,
                     topics=["livelihood", "education"],
                     note="Anträge SGB II und Schulanmeldung", interpreter=days == 21,
                     interpreter_language="Dari" if days == 21 else "")
    deadlines.add_deadline(ctx, father.id, "appointment", ctx.today() + timedelta(days=5),
                           "Termin Jobcenter, Fallmanagerin", case_id=case.id)
    documents.add_attachment(ctx, father.id, "Bescheid_Jobcenter_2026-11.pdf",
                             b"%PDF-1.4 synthetic", description="Bewilligungsbescheid SGB II")
    documents.add_attachment(ctx, father.id, "Schulanmeldung.txt", b"Anmeldung Grundschule",
                             case_id=case.id, description="Anmeldung für Parisa und Karim")
    return father.id


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080), (1140, 640)])
def test_screenshots_of_every_tab(qtbot, screen, ctx, tmp_path, size) -> None:  # type: ignore[no-untyped-def]
    client_id = _family_h(ctx, tmp_path)
    screen.show_client(client_id)
    screen.resize(*size)
    target = Path(SHOTS) if SHOTS else tmp_path / "shots"
    target.mkdir(parents=True, exist_ok=True)
    for index in range(screen.tabs.count()):
        screen.tabs.setCurrentIndex(index)
        qtbot.wait(10)
        tab = screen.tabs.widget(index)
        # No button narrower than its text needs.
        for button in tab.findChildren(QPushButton) + screen.findChildren(QPushButton):
            if button.isVisible():
                assert button.width() >= button.minimumSizeHint().width(), button.text()
        path = target / f"client_file_{size[0]}x{size[1]}_{index}_{tab.objectName()}.png"
        assert screen.grab().save(str(path))


def test_screenshots_without_consent_with_p104c_and_of_the_dialogs(qtbot, screen, ctx,
                                                                   tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = Path(SHOTS) if SHOTS else tmp_path / "shots"
    target.mkdir(parents=True, exist_ok=True)
    newcomer = make_person(ctx)
    make_case(ctx, newcomer)
    screen.show_client(newcomer.id)
    for name in ("tab_master_data", "tab_household", "tab_residence"):
        show_tab(screen, name)
        qtbot.wait(10)
        assert screen.grab().save(str(target / f"client_file_no_consent_{name}.png"))

    person = make_person(ctx, consent=True)
    deadlines.record_residence(ctx, person.id, "p104c", granted_on=date(2025, 6, 1))
    deadlines.set_checklist_item(ctx, person.id, "identity", True)
    screen.show_client(person.id)
    for name in ("tab_residence", "tab_deadlines"):
        show_tab(screen, name)
        qtbot.wait(10)
        assert screen.grab().save(str(target / f"client_file_p104c_{name}.png"))

    dialogs = {
        "release": screen.consents.consent_dialog(ConsentKind.RELEASE.value),
        "consent": screen.consents.consent_dialog(ConsentKind.DATA_PROCESSING.value),
        "residence": screen.residence.residence_dialog(),
        "new_case": screen.new_case_dialog(),
        "document": screen.documents.add_dialog(),
        "deadline": screen.deadlines.deadline_dialog(),
        "relation": screen.household.relation_dialog(),
    }
    attachment = documents.add_attachment(
        ctx, person.id, "Notiz.txt", "Termin Ausländerbehörde am 02.12.\nPass mitbringen.".encode())
    dialogs["viewer"] = DocumentViewer(attachment, documents.read_attachment(ctx, attachment.id)[1],
                                       save_copy=lambda: None)
    for name, dialog in dialogs.items():
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.wait(10)
        assert dialog.height() <= 740, name  # fits a 1366×768 screen with a title bar
        assert dialog.grab().save(str(target / f"dialog_{name}.png"))
        dialog.close()
