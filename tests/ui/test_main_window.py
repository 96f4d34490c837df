"""The whole desktop app: unlocking, auto-lock without losing input, closing with unsaved
input, and the concept's Beispiel 2 (Frau T.) and Beispiel 3 (Frau P.) typed in by keyboard
and clicks, checked against what the vault holds afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from kimdesk import config
from kimdesk.casework import cases, clients, deadlines, views
from kimdesk.casework.context import Context
from kimdesk.ui.client_dialog import ClientDialog
from kimdesk.ui.client_file_tabs.cases import NewCaseDialog
from kimdesk.ui.contact_dialog import ContactDialog
from kimdesk.ui.hub import Hub
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from kimdesk.vault import Vault
from tests.factories import PASSWORD, Clock, make_case, make_person
from tests.ui.support import Pending, choose, screenshot, type_text, when_modal

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/kimdesk-shots"))


@pytest.fixture
def window(qtbot: Any, app_state: AppState) -> Iterator[MainWindow]:
    main = MainWindow(app_state)
    qtbot.addWidget(main)
    main.show()
    yield main
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    main.discard_and_close()


def _raise(errors: Pending) -> None:
    errors.wait()
    if errors:
        raise errors[0]


def _check_topics(dialog: Any, codes: set[str]) -> None:
    for row in range(dialog.topics.count()):
        item = dialog.topics.item(row)
        if item.data(Qt.ItemDataRole.UserRole) in codes:
            item.setCheckState(Qt.CheckState.Checked)


def _open_case_in_the_file(qtbot: Any, window: MainWindow, kind: str, access_route: str,
                           concern: str, topic: str) -> None:
    """Neuer Fall … in the open Akte, typed in as a case manager would (begun 02.11.2026)."""

    def fill_case(dialog: NewCaseDialog) -> None:
        choose(dialog.kind, kind)
        dialog.opened_on.clear()
        qtbot.keyClicks(dialog.opened_on, "02.11.2026")
        choose(dialog.access_route, access_route)
        type_text(qtbot, dialog.concern, concern)
        _check_topics(dialog, {topic})
        dialog.save()

    errors = when_modal(NewCaseDialog, fill_case)
    qtbot.mouseClick(window.client_file.new_case_button, Qt.MouseButton.LeftButton)
    _raise(errors)


# --- locking ----------------------------------------------------------------------------------


def test_the_first_start_proposes_the_team_of_the_installation(
        qtbot: Any, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text('team = "ost"\nmunicipalities = ["emmerich", "rees", "kalkar"]\n'
                       'server_url = "https://kim-sync.kreis-kleve.de"\n'
                       'auto_lock_minutes = 5\n', encoding="utf-8")
    monkeypatch.setenv(config.PROFILE_ENV, str(profile))
    main = MainWindow(AppState(tmp_path / "neu", Hub(), clock=clock))
    qtbot.addWidget(main)
    main.show()

    assert main.lock_screen.first_start
    assert main.lock_screen.team.code() == "ost"


def test_a_locked_vault_opens_with_the_password_typed_on_the_lock_screen(
        qtbot: Any, vault: Vault, clock: Clock) -> None:
    vault.close()
    state = AppState(vault.data_dir, Hub(), clock=clock)
    main = MainWindow(state)
    qtbot.addWidget(main)
    main.show()
    assert main.root.currentWidget() is main.lock_screen
    assert main.lock_state.text() == "Gesperrt"

    qtbot.keyClicks(main.lock_screen.password, "falsches-passwort")
    qtbot.keyClick(main.lock_screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "nicht richtig" in main.lock_screen.message.text(), timeout=5000)
    assert not state.unlocked

    qtbot.keyClicks(main.lock_screen.password, PASSWORD)
    qtbot.keyClick(main.lock_screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: state.unlocked, timeout=5000)
    assert main.root.currentWidget() is not main.lock_screen
    assert main.pages.currentWidget() is main.today
    assert "Anna Becker" in main.lock_state.text()
    state.lock()


def test_first_start_creates_the_vault_and_shows_the_recovery_code_once(
        qtbot: Any, tmp_path: Path, clock: Clock) -> None:
    state = AppState(tmp_path / "neu", Hub(), clock=clock)
    main = MainWindow(state)
    qtbot.addWidget(main)
    main.show()
    screen = main.lock_screen
    assert screen.first_start

    type_text(qtbot, screen.user_name, "Jörg Hülsmann")
    choose(screen.team, "mitte")
    qtbot.keyClicks(screen.password, "Kevelaer-2026!")
    qtbot.keyClicks(screen.password_repeat, "Kevelaer-2026?")
    qtbot.mouseClick(screen.submit, Qt.MouseButton.LeftButton)
    assert "stimmen nicht überein" in screen.message.text()
    assert not state.vault_exists

    screen.password_repeat.clear()
    qtbot.keyClicks(screen.password_repeat, "Kevelaer-2026!")
    qtbot.mouseClick(screen.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.unlocked, timeout=15000)
    code = screen.recovery_dialog.findChild(type(screen.message), "recovery_code").text()
    assert len(code.replace("-", "")) == 26
    assert "Jörg Hülsmann" in main.lock_state.text() and "Mitte" in main.lock_state.text()
    screen.recovery_dialog.accept()
    state.lock()
    state.unlock("Kevelaer-2026!")
    state.lock()


def test_auto_lock_hides_an_open_form_and_keeps_what_was_typed(
        qtbot: Any, window: MainWindow, app_state: AppState, ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, cases.CaseInput(kind="process_support").kind)
    window.open_client(client.id)
    dialog = window.client_file.contact_dialog(case.id)
    dialog.open()
    type_text(qtbot, dialog.note, "Unterlagen für die Schulanmeldung mitgebracht")

    window.idle_timer.setInterval(50)
    window.idle_timer.start()
    qtbot.waitUntil(lambda: not app_state.unlocked, timeout=3000)
    assert window.root.currentWidget() is window.lock_screen
    assert not dialog.isVisible()

    qtbot.keyClicks(window.lock_screen.password, PASSWORD)
    qtbot.keyClick(window.lock_screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app_state.unlocked, timeout=5000)
    assert dialog.isVisible()
    assert dialog.note.toPlainText() == "Unterlagen für die Schulanmeldung mitgebracht"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    notes = [c.note for c in cases.contacts_of(app_state.ctx, case.id)]
    assert "Unterlagen für die Schulanmeldung mitgebracht" in notes


def test_closing_with_unsaved_input_asks_first(
        qtbot: Any, window: MainWindow, app_state: AppState, ctx: Context) -> None:
    client = make_person(ctx)
    window.open_client(client.id)
    type_text(qtbot, window.client_file.master_data.phone, "0157 1234")
    assert window.unsaved_work()

    asked: list[bool] = []
    window.confirm_discard = lambda: asked.append(True) or False  # type: ignore[method-assign]
    window.close()
    assert asked == [True]
    assert app_state.unlocked, "the window stays open with the input"
    assert window.client_file.master_data.phone.text().endswith("0157 1234")


# --- Beispiel 2: Frau T., Kurzintervention ------------------------------------------------------


def test_beispiel_2_frau_t_kurzintervention_deutschkurs(
        qtbot: Any, window: MainWindow, app_state: AppState, clock: Clock) -> None:
    # Frau T. (Syrien) asks in her shelter in Kleve how to get into a German course.
    window.show_page("Ratsuchende")

    def fill_person(dialog: ClientDialog) -> None:
        type_text(qtbot, dialog.first_name, "Rania")
        type_text(qtbot, dialog.last_name, "Tahhan")
        choose(dialog.gender, "female")
        choose(dialog.municipality, "kleve")
        type_text(qtbot, dialog.languages, "Arabisch")
        qtbot.mouseClick(dialog.findChild(type(window.clients.new_person), "save"),
                         Qt.MouseButton.LeftButton)

    errors = when_modal(ClientDialog, fill_person)
    qtbot.mouseClick(window.clients.new_person, Qt.MouseButton.LeftButton)
    _raise(errors)
    assert window.pages.currentWidget() is window.client_file
    client_id = window.client_file.client_id
    assert client_id is not None

    _open_case_in_the_file(qtbot, window, "short_intervention", "accommodation",
                           "Sucht einen Deutschkurs, kennt Träger nicht", "language")
    ctx = app_state.ctx
    [case] = cases.cases_of(ctx, client_id)
    assert case.kind == "short_intervention"

    sessions = [
        (date(2026, 11, 2), "Telefonisch Kurskapazitäten erfragt, Anmeldetermin vereinbart"),
        (date(2026, 11, 6), "Anmeldeunterlagen gemeinsam ausgefüllt, Kursbrief erklärt"),
        (date(2026, 11, 24), "Bedankt sich, spricht erste Sätze Deutsch"),
    ]
    for when, note in sessions:
        def fill_contact(dialog: ContactDialog, when: date = when, note: str = note) -> None:
            dialog.contact_on.clear()
            qtbot.keyClicks(dialog.contact_on, when.strftime("%d.%m.%Y"))
            choose(dialog.mode, "outreach")
            dialog.duration.setValue(45)
            type_text(qtbot, dialog.place, "Unterkunft")
            _check_topics(dialog, {"language"})
            type_text(qtbot, dialog.note, note)
            qtbot.keyClick(dialog.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

        errors = when_modal(ContactDialog, fill_contact)
        window.client_file.record_contact(case.id)
        _raise(errors)

    contacts = cases.contacts_of(ctx, case.id)
    assert [(c.contact_on, c.note, c.topics, c.mode) for c in contacts] == [
        (when, note, ["language"], "outreach") for when, note in sessions]
    stored = clients.read_client(ctx, client_id)
    # A Kurzintervention keeps only what the concern needs: no birth date, no nationality.
    assert (stored.first_name, stored.last_name) == ("Rania", "Tahhan")
    assert stored.birth_date is None and stored.nationality is None
    assert [h.display_name for h in clients.find_clients(ctx, "Tahan")] == ["Tahhan, Rania"]
    timeline = views.open_client_file(ctx, client_id).timeline
    assert sum(entry.kind == "contact" for entry in timeline) == 3


# --- Beispiel 3: Frau P., prozesshafte Begleitung -----------------------------------------------


def test_beispiel_3_frau_p_begleitung_schulanmeldung(
        qtbot: Any, window: MainWindow, app_state: AppState) -> None:
    window.show_page("Ratsuchende")

    def fill_person(dialog: ClientDialog) -> None:
        type_text(qtbot, dialog.first_name, "Oksana")
        type_text(qtbot, dialog.last_name, "Petrenko")
        choose(dialog.gender, "female")
        choose(dialog.municipality, "rees")
        qtbot.mouseClick(dialog.consent, Qt.MouseButton.LeftButton)
        assert dialog.more.isEnabled()
        qtbot.keyClicks(dialog.birth_date, "14.02.1991")
        choose(dialog.nationality, "UA")
        type_text(qtbot, dialog.interpreter_language, "Ukrainisch")
        dialog.save()

    errors = when_modal(ClientDialog, fill_person)
    qtbot.mouseClick(window.clients.new_person, Qt.MouseButton.LeftButton)
    _raise(errors)
    client_id = window.client_file.client_id
    assert client_id is not None

    _open_case_in_the_file(qtbot, window, "process_support", "school_daycare",
                           "Schreiben des Kindergartens zur Schulanmeldung", "education")
    ctx = app_state.ctx
    [case] = cases.cases_of(ctx, client_id)

    steps = [
        ("office", False, "Schreiben erklärt, Termin an der Grundschule vereinbart"),
        ("accompaniment", True, "Anmeldetermin in der Schule begleitet"),
        ("office", False, "Unterlagen der Schule gemeinsam ausgefüllt"),
        ("accompaniment", True, "Schuleingangsuntersuchung begleitet, E-Mail-Adresse angelegt"),
        ("accompaniment", True, "Elternabend im Kindergarten begleitet"),
        ("office", False, "Bräuche der Einschulung erklärt"),
    ]
    for index, (mode, interpreter, note) in enumerate(steps):
        def fill_contact(dialog: ContactDialog, mode: str = mode, interpreter: bool = interpreter,
                         note: str = note, index: int = index) -> None:
            dialog.contact_on.clear()
            qtbot.keyClicks(dialog.contact_on, f"{3 + index * 3:02d}.11.2026")
            choose(dialog.mode, mode)
            if interpreter:
                qtbot.mouseClick(dialog.interpreter, Qt.MouseButton.LeftButton)
                type_text(qtbot, dialog.interpreter_language, "Ukrainisch")
            _check_topics(dialog, {"education"})
            type_text(qtbot, dialog.note, note)
            dialog.save()

        errors = when_modal(ContactDialog, fill_contact)
        window.client_file.record_contact(case.id)
        _raise(errors)

    # A prozesshafte Begleitung has no session limit: all six contacts are stored.
    contacts = cases.contacts_of(ctx, case.id)
    assert len(contacts) == 6
    assert sum(c.interpreter for c in contacts) == 3
    assert {c.interpreter_language for c in contacts if c.interpreter} == {"Ukrainisch"}

    window.open_case(case.id)
    assert window.pages.currentWidget() is window.case_screen
    window.case_screen.close_case()
    dialog = window.case_screen.dialog
    assert dialog is not None
    choose(dialog.reason, "no_further_need")
    type_text(qtbot, dialog.note, "Einschulung gut verlaufen, kein weiterer Bedarf")
    dialog.save()
    [closed] = cases.cases_of(ctx, client_id)
    assert closed.status == "closed" and closed.closing_reason == "no_further_need"
    stored = clients.read_client(ctx, client_id)
    assert stored.birth_date == date(1991, 2, 14) and stored.nationality == "UA"


# --- looked at ----------------------------------------------------------------------------------


def test_screenshots_of_the_main_screens(
        qtbot: Any, window: MainWindow, app_state: AppState, ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, "case_management")
    for page in MainWindow.NAVIGATION:
        window.show_page(page)
        for size in ((1366, 768), (1920, 1080)):
            screenshot(window, SHOTS, f"main-{page.lower()}", size)
    window.open_client(client.id)
    screenshot(window, SHOTS, "main-akte", (1366, 768))
    window.open_case(case.id)
    screenshot(window, SHOTS, "main-fall", (1366, 768))
    app_state.lock()
    window.lock_screen.prepare()
    window.root.setCurrentWidget(window.lock_screen)
    screenshot(window, SHOTS, "main-gesperrt", (1366, 768))


def test_the_demo_vault_shows_its_password_on_the_lock_screen(
        qtbot: Any, vault: Vault, clock: Clock) -> None:
    vault.close()
    main = MainWindow(AppState(vault.data_dir, Hub(), clock=clock))
    qtbot.addWidget(main)
    main.lock_screen.show_demo_hint("demo-passwort")
    assert "demo-passwort" in main.lock_screen.hint.text()
    screenshot(main, SHOTS, "main-gesperrt-demo", (1366, 768))


def test_a_contact_is_recorded_by_keyboard_alone(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    # The practised path: date, Tab, duration, Tab, mode by typing, Tab … note, Strg+Enter.
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, "process_support")
    dialog = ContactDialog(app_state, case.id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    assert dialog.focusWidget() is dialog.contact_on or dialog.contact_on.hasFocus()

    qtbot.keyClicks(dialog.contact_on, "h")
    qtbot.keyClick(dialog.contact_on, Qt.Key.Key_Tab)
    qtbot.keyClick(dialog.duration, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.duration, "60")
    qtbot.keyClick(dialog.duration, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.mode, "Tel")
    assert dialog.mode.code() == "phone"
    qtbot.keyClick(dialog.mode, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.place, "Telefon")
    dialog.topics.setFocus()
    dialog.topics.setCurrentRow(1)
    qtbot.keyClick(dialog.topics, Qt.Key.Key_Space)
    dialog.note.setFocus()
    qtbot.keyClicks(dialog.note, "Termin beim Jobcenter abgestimmt")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.follow_up, dialog.focusWidget()
    qtbot.keyClicks(dialog.follow_up, "+14")
    qtbot.keyClick(dialog.follow_up, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    [contact] = cases.contacts_of(ctx, case.id)
    assert (contact.contact_on, contact.duration_minutes, contact.mode) == (
        date(2026, 11, 25), 60, "phone")
    assert contact.note == "Termin beim Jobcenter abgestimmt"
    assert contact.topics == [dialog.topics.item(1).data(Qt.ItemDataRole.UserRole)]
    due = [d.due_on for d in deadlines.due_items(ctx, within_days=30)]
    assert date(2026, 12, 9) in due
