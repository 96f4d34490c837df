"""Beispiel 2 (Frau T.: new person, new Kurzintervention, first contact) by keyboard alone,
through the real main window: every key goes to the widget that has the focus (or to the
active dialog's focus widget), as on a real keyboard. Navigation keys (Tab, Enter, Space,
arrows, shortcuts) are counted; typed text is not. Issue 14: at most 25 after unlock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from kimdesk.casework import cases, clients
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState

MAX_NAVIGATION_KEYS = 25


class Keyboard:
    def __init__(self, qtbot: Any, window: MainWindow) -> None:
        self.qtbot = qtbot
        self.window = window
        self.keys: list[str] = []

    def target(self) -> QWidget:
        top = QApplication.activeModalWidget() or self.window
        focus = QApplication.focusWidget()
        if focus is None or focus.window() is not top:
            focus = top.focusWidget() or top
        return focus

    def settle(self) -> None:
        for _ in range(5):
            QApplication.processEvents()
        # What the window manager does: when a dialog closes, its parent window is active
        # again (the offscreen platform leaves no window active).
        top = QApplication.activeModalWidget() or self.window
        if not top.isActiveWindow():
            top.activateWindow()
            QApplication.processEvents()

    def press(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
              ) -> None:
        """One navigation key (counted)."""
        widget = self.target()
        self.keys.append(f"{modifier.name if modifier else ''}+{key.name} @ "
                         f"{widget.objectName() or type(widget).__name__}")
        self.qtbot.keyClick(widget, key, modifier)
        if modifier == Qt.KeyboardModifier.AltModifier:
            self.qtbot.wait(150)  # a mnemonic "animates" the button's click first
        self.settle()

    def type(self, text: str) -> None:
        """Text typed into the focused field (not counted)."""
        widget = self.target()
        for char in text:
            if char.isascii():
                self.qtbot.keyClicks(widget, char)
                continue
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier,
                                                         char))
        self.settle()

    @property
    def focused(self) -> str:
        return self.target().objectName()


@pytest.fixture
def window(qtbot: Any, app_state: AppState) -> Iterator[MainWindow]:
    main = MainWindow(app_state)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    QApplication.processEvents()
    yield main
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    main.discard_and_close()


CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
TAB = Qt.Key.Key_Tab


def test_beispiel_2_by_keyboard_in_at_most_25_navigation_keys(
        qtbot: Any, window: MainWindow, app_state: AppState) -> None:
    kb = Keyboard(qtbot, window)
    # Neue Person, from the start screen: Strg+N.
    kb.press(Qt.Key.Key_N, CTRL)
    assert kb.focused == "first_name"
    kb.type("Rania")
    kb.press(TAB)
    kb.type("Tahhan")
    kb.press(TAB)  # "anonym" checkbox
    kb.press(TAB)
    assert kb.focused == "gender"
    kb.type("w")
    kb.press(TAB)
    assert kb.focused == "municipality"
    kb.type("Kleve")
    kb.press(TAB)  # Telefon
    kb.press(TAB)
    assert kb.focused == "languages"
    kb.type("Arabisch")
    kb.press(Qt.Key.Key_Return, CTRL)  # Speichern: the new Akte opens
    assert QApplication.activeModalWidget() is None
    assert window.pages.currentWidget() is window.client_file
    client_id = window.client_file.client_id
    assert client_id is not None

    # Neuer Fall (Alt+N): Kurzintervention, Zugangsweg, Anliegen, Thema Sprache.
    kb.press(Qt.Key.Key_N, ALT)
    assert kb.focused == "case_kind"
    kb.type("K")
    kb.press(TAB)  # Fallbeginn: today
    kb.press(TAB)
    assert kb.focused == "access_route"
    kb.type("Unt")
    kb.press(TAB)
    assert kb.focused == "concern"
    kb.type("Sucht einen Deutschkurs, kennt Träger nicht")
    kb.press(TAB)
    assert kb.focused == "case_topics"
    kb.type("Sp")
    kb.press(Qt.Key.Key_Space)
    kb.press(Qt.Key.Key_Return, CTRL)  # Fall anlegen
    assert QApplication.activeModalWidget() is None
    assert window.pages.currentWidget() is window.client_file

    # Erster Kontakt (Strg+K): aufsuchend in der Unterkunft, with a note.
    kb.press(Qt.Key.Key_K, CTRL)
    assert kb.focused == "contact_on"
    kb.press(TAB)
    kb.type("45")
    kb.press(TAB)
    assert kb.focused == "mode"
    kb.type("Auf")
    kb.press(TAB)
    assert kb.focused == "place"
    kb.type("Unterkunft")
    kb.press(Qt.Key.Key_T, ALT)  # &Themen
    kb.type("Sp")
    kb.press(Qt.Key.Key_Space)
    kb.press(Qt.Key.Key_N, ALT)  # &Notiz
    assert kb.focused == "note"
    kb.type("Telefonisch Kurskapazitäten erfragt, Anmeldetermin vereinbart")
    kb.press(Qt.Key.Key_Return, CTRL)
    assert QApplication.activeModalWidget() is None

    ctx = app_state.ctx
    stored = clients.read_client(ctx, client_id)
    assert (stored.first_name, stored.last_name, stored.gender, stored.municipality,
            stored.languages) == ("Rania", "Tahhan", "female", "kleve", "Arabisch")
    [case] = cases.cases_of(ctx, client_id)
    assert (case.kind, case.access_route, case.opened_on) == (
        "short_intervention", "accommodation", app_state.today())
    [contact] = cases.contacts_of(ctx, case.id)
    assert (contact.contact_on, contact.duration_minutes, contact.place, contact.note) == (
        app_state.today(), 45, "Unterkunft",
        "Telefonisch Kurskapazitäten erfragt, Anmeldetermin vereinbart")
    assert contact.mode == "outreach"
    assert contact.topics == ["language"]
    # Counted: every Tab, Enter, Space and shortcut after unlock (typed text is not).
    assert len(kb.keys) <= MAX_NAVIGATION_KEYS, kb.keys
