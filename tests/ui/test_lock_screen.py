"""The lock screen's "Passwort vergessen?": the printed recovery code and a new password typed
twice open the vault with a new key and show the new code once; the old password fails
afterwards. First start and recovery refuse guessable passwords with a German explanation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QDialog, QFrame, QLabel, QWidget

from kimdesk import config
from kimdesk.casework.profile import create_profile
from kimdesk.ui.hub import Hub
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from kimdesk.vault import KdfParams, WrongPassword, create_vault, keys, open_vault
from kimdesk.vault.header import read_header
from kimdesk.vault.store import HEADER_FILE
from tests.factories import Clock
from tests.reports.pdftext import pages as pdf_pages
from tests.ui.support import screenshot, type_text

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/kimdesk-shots"))
PASSWORD = "Rheinufer-Kleve-2026"
NEW_PASSWORD = "Wolkenbruch-Kranenburg-Eiche"
USER = "Jana Hermsen"


@pytest.fixture
def locked(qtbot: Any, tmp_path: Path, clock: Clock) -> Any:
    """A closed vault (recovery code known) and the main window showing its lock screen."""
    data_dir = tmp_path / "vault"
    vault, code = create_vault(data_dir, PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        create_profile(vault, USER, "nord")
    state = AppState(data_dir, Hub(), clock=clock)
    main = MainWindow(state)
    qtbot.addWidget(main)
    main.show()
    yield main, state, code
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    main.discard_and_close()


def _fill(qtbot: Any, screen: Any, code: str, password: str, repeat: str | None = None) -> None:
    for field in (screen.recovery_code, screen.password, screen.password_repeat):
        field.clear()
    type_text(qtbot, screen.recovery_code, code)
    qtbot.keyClicks(screen.password, password)
    qtbot.keyClicks(screen.password_repeat, password if repeat is None else repeat)
    qtbot.mouseClick(screen.submit, Qt.MouseButton.LeftButton)


def test_forgotten_password_is_replaced_through_the_lock_screen(qtbot: Any, locked: Any) -> None:
    main, state, code = locked
    screen = main.lock_screen
    header_before = (state.data_dir / HEADER_FILE).read_bytes()
    assert screen.forgot.isVisible() and screen.forgot.text() == "Passwort vergessen?"

    qtbot.mouseClick(screen.forgot, Qt.MouseButton.LeftButton)
    # The form layout shows re-added fields on the next turn of the event loop.
    qtbot.waitUntil(lambda: screen.recovery_code.isVisible() and screen.password_repeat.isVisible())
    assert "Passwort vergessen" in screen.title.text()
    assert screen.submit.text() == "Neues Passwort setzen"
    screenshot(main, SHOTS, "lock-screen-recovery", (1366, 768))

    # Typing shows the strength; a guessable password is refused before anything is opened.
    _fill(qtbot, screen, code, "passwort12")
    assert "zu leicht zu erraten" in screen.message.text()
    assert "schwach" in screen.strength.text()
    screenshot(main, SHOTS, "lock-screen-recovery-weak", (1366, 768))
    _fill(qtbot, screen, code, NEW_PASSWORD, repeat=NEW_PASSWORD + "!")
    assert "stimmen nicht überein" in screen.message.text()
    _fill(qtbot, screen, "ABCD-EFGH", NEW_PASSWORD)
    assert "26 Ziffern" in screen.message.text()

    # A well-formed but wrong code, then the user's own name as the new password.
    other = keys.new_recovery_code()
    _fill(qtbot, screen, other, NEW_PASSWORD)
    qtbot.waitUntil(lambda: "Wiederherstellungscode ist nicht richtig" in screen.message.text(),
                    timeout=10000)
    _fill(qtbot, screen, code, "Hermsen-Jana-1990")
    qtbot.waitUntil(lambda: "Ihren Namen" in screen.message.text(), timeout=10000)
    assert not state.unlocked
    assert (state.data_dir / HEADER_FILE).read_bytes() == header_before

    # The code as typed from paper: lower case, spaces instead of dashes.
    _fill(qtbot, screen, code.lower().replace("-", " "), NEW_PASSWORD)
    qtbot.waitUntil(lambda: state.unlocked, timeout=15000)
    assert main.root.currentWidget() is not screen
    new_code = screen.recovery_dialog.findChild(QLabel, "recovery_code").text()
    assert keys.is_well_formed_recovery_code(new_code) and new_code != code
    screen.recovery_dialog.accept()
    state.lock()
    assert screen.forgot.isVisible() and not screen.recovery_code.isVisible()

    with pytest.raises(WrongPassword):
        open_vault(state.data_dir, PASSWORD)
    state.unlock(NEW_PASSWORD)
    assert state.ctx.user == USER
    state.lock()


def test_back_returns_to_the_unlock_form(qtbot: Any, locked: Any) -> None:
    main, state, _code = locked
    screen = main.lock_screen
    qtbot.mouseClick(screen.forgot, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.back, Qt.MouseButton.LeftButton)
    assert not screen.recovery_code.isVisible() and not screen.password_repeat.isVisible()
    qtbot.keyClicks(screen.password, PASSWORD)
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: state.unlocked, timeout=10000)
    state.lock()


def test_first_start_refuses_a_weak_password_and_wraps_for_the_county(
        qtbot: Any, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    county = X25519PrivateKey.generate()
    line = county.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode().splitlines()[1]
    profile = tmp_path / "profile.toml"
    profile.write_text('team = "sued"\nmunicipalities = ["geldern"]\n'
                       'server_url = "https://kim-sync.kreis-kleve.de"\nauto_lock_minutes = 5\n'
                       f'recovery_public_key = "{line}"\n', encoding="utf-8")
    monkeypatch.setenv(config.PROFILE_ENV, str(profile))
    state = AppState(tmp_path / "neu", Hub(), clock=clock)
    main = MainWindow(state)
    qtbot.addWidget(main)
    main.show()
    screen = main.lock_screen
    assert not screen.forgot.isVisible()
    type_text(qtbot, screen.user_name, "Jörg Hülsmann")
    for weak, reason in (("aaaaaaaaaa", "Wiederholungen"), ("Hülsmann-2026", "Ihren Namen")):
        screen.password.clear()
        screen.password_repeat.clear()
        type_text(qtbot, screen.password, weak)  # keyClicks cannot type "ü"
        type_text(qtbot, screen.password_repeat, weak)
        qtbot.mouseClick(screen.submit, Qt.MouseButton.LeftButton)
        assert reason in screen.message.text()
        assert not state.vault_exists

    screen.password.clear()
    screen.password_repeat.clear()
    qtbot.keyClicks(screen.password, "Kevelaer-Wallfahrt-Linde")
    assert "stark" in screen.strength.text()
    qtbot.keyClicks(screen.password_repeat, "Kevelaer-Wallfahrt-Linde")
    qtbot.mouseClick(screen.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.unlocked, timeout=15000)
    screen.recovery_dialog.accept()
    state.lock()
    sealed = read_header(state.data_dir / HEADER_FILE).county_wrap
    assert sealed is not None
    assert sealed.recipient_public == county.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _overlapping(widgets: list[QWidget]) -> list[tuple[str, str]]:
    """Pairs of visible sibling-level widgets whose areas overlap (labels piled up)."""
    boxes = [(w, QRect(w.mapTo(w.window(), QPoint(0, 0)), w.size())) for w in widgets]
    return [(a.objectName() or getattr(a, "text", lambda: "")(),
             b.objectName() or getattr(b, "text", lambda: "")())
            for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:]
            if box_a.intersects(box_b) and not a.isAncestorOf(b) and not b.isAncestorOf(a)]


def test_first_start_after_errors_keeps_its_form_and_the_code_can_be_printed(
        qtbot: Any, tmp_path: Path, clock: Clock) -> None:
    state = AppState(tmp_path / "neu", Hub(), clock=clock)
    main = MainWindow(state)
    qtbot.addWidget(main)
    main.show()
    main.resize(1366, 768)
    screen = main.lock_screen
    card = screen.findChild(QFrame, "lock_card")
    # Errors one after the other: no name, a weak password, two passwords that differ.
    qtbot.mouseClick(screen.submit, Qt.MouseButton.LeftButton)
    type_text(qtbot, screen.user_name, "Jana Hermsen")
    for first, second in (("aaaaaaaaaa", "aaaaaaaaaa"), (PASSWORD, PASSWORD + "?")):
        screen.password.clear()
        screen.password_repeat.clear()
        qtbot.keyClicks(screen.password, first)
        qtbot.keyClicks(screen.password_repeat, second)
        qtbot.mouseClick(screen.submit, Qt.MouseButton.LeftButton)
        QApplication.processEvents()
        assert screen.message.text()
    shown = [w for w in card.findChildren(QWidget)
             if w.isVisible() and w.parent() is card]
    captions = [w.text() for w in shown if isinstance(w, QLabel) and not w.objectName()]
    assert captions == ["Ihr Name", "Team", "Stellenanteil (VZÄ)", "Passwort",
                        "Passwort wiederholen"]
    assert not _overlapping(shown)
    screenshot(main, SHOTS, "erster-start-nach-fehlern", (1366, 768))

    screen.password_repeat.clear()
    qtbot.keyClicks(screen.password_repeat, PASSWORD)
    qtbot.mouseClick(screen.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.unlocked, timeout=15000)
    dialog = screen.recovery_dialog
    code = dialog.findChild(QLabel, "recovery_code").text()
    # Printing: a PDF written only where the user chooses; cancelling writes nothing.
    asked: list[str] = []
    dialog.choose_path = lambda suggested: asked.append(suggested)  # cancels
    dialog.print_button.click()
    qtbot.waitUntil(lambda: bool(asked) and dialog.print_button.isEnabled(), timeout=10000)
    target = tmp_path / "ausdruck" / "code.pdf"
    target.parent.mkdir()
    dialog.choose_path = lambda suggested: str(target)
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    dialog.print_button.click()
    qtbot.waitUntil(lambda: target.exists() and dialog.print_button.isEnabled(),
                    timeout=10000)
    assert asked[0].endswith(".pdf") and "Wiederherstellungscode" in asked[0]
    created = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    assert created == {target}  # no other (plaintext) file anywhere
    content = " ".join(pdf_pages(target.read_bytes()))
    assert code in content
    assert "Passwort vergessen" in content
    assert "Gespeichert" in dialog.findChild(QLabel, "recovery_print_status").text()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(target),
                    str(SHOTS / "wiederherstellungscode")], check=True, timeout=60)
    dialog.accept()


def test_a_wrong_password_is_shown_as_an_error_and_announced(qtbot: Any, locked: Any) -> None:
    """Before: the message kept the plain text colour of "Datentresor wird geöffnet …" and
    nothing told a screen reader about it."""
    from tests.ui.test_contrast import contrast

    main, _state, _code = locked
    screen = main.lock_screen
    qtbot.keyClicks(screen.password, "falsches-passwort")
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "nicht richtig" in screen.message.text(), timeout=5000)
    text = screen.message.text()
    screen.message.ensurePolished()
    palette = screen.message.palette()
    colour = palette.color(palette.ColorRole.WindowText)
    assert colour.red() > 2 * colour.green() and colour.red() > 2 * colour.blue(), colour.name()
    assert contrast(colour, palette.color(palette.ColorRole.Window)) >= 4.5
    assert screen.message.font().bold()
    assert screen.message.accessibleDescription() == text
    assert screen.message.accessibleName() == "Fehler"
    assert screen.password.accessibleDescription() == text
    assert screen.password.hasFocus() or main.focusWidget() is screen.password


def test_after_unlock_the_keyboard_is_on_the_days_work(qtbot: Any, locked: Any,
                                                       clock: Clock) -> None:
    """Before: after unlocking no widget of the workspace had the focus."""
    import dataclasses
    from datetime import timedelta

    from kimdesk.casework import deadlines
    from kimdesk.casework.profile import context_for
    from kimdesk.reference import load_reference
    from tests.factories import make_person

    main, state, _code = locked
    with open_vault(state.data_dir, PASSWORD) as vault:
        ctx = dataclasses.replace(context_for(vault, load_reference()), clock=clock)
        client = make_person(ctx, consent=True)
        deadlines.add_deadline(ctx, client.id, "follow_up", ctx.today() - timedelta(days=1),
                               "Bescheid prüfen")
    main.activateWindow()
    qtbot.keyClicks(main.lock_screen.password, PASSWORD)
    qtbot.keyClick(main.lock_screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: state.unlocked, timeout=15000)
    QApplication.processEvents()
    assert main.focusWidget() is main.today.due
    assert main.today.due.currentRow() == 0
    opened: list[str] = []
    state.hub.client_opened.connect(opened.append)
    qtbot.keyClick(main.today.due, Qt.Key.Key_Return)
    assert opened == [client.id]
    # After a lock, the keyboard comes back where it was.
    main.show_page("Ratsuchende")
    main.clients.search.setFocus()
    main.lock()
    qtbot.keyClicks(main.lock_screen.password, PASSWORD)
    qtbot.keyClick(main.lock_screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: state.unlocked, timeout=15000)
    assert main.focusWidget() is main.clients.search
