"""The plain unlock window of `kimdesk gui`: password in, counts out, delays respected."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from kimdesk.casework.profile import context_for
from kimdesk.ui.unlock_window import UnlockWindow
from kimdesk.vault import open_vault
from tests.factories import CM, PASSWORD, SHORT, make_case, make_person

# Set to a directory to keep screenshots of the window for a look (e.g. /tmp).
SCREENSHOT_DIR = os.environ.get("KIMDESK_SCREENSHOT_DIR")


@pytest.fixture
def locked_vault(template_vault: Path, tmp_path: Path) -> Path:
    """A closed vault with two persons, an open Kurzintervention and an open CM case."""
    path = tmp_path / "vault"
    shutil.copytree(template_vault, path)
    vault = open_vault(path, PASSWORD)
    try:
        ctx = context_for(vault)
        make_case(ctx, make_person(ctx), SHORT)
        make_case(ctx, make_person(ctx, consent=True), CM, phase="planning")
    finally:
        vault.close()
    return path


def _window(qtbot, data_dir: Path, **kwargs) -> UnlockWindow:  # type: ignore[no-untyped-def]
    window = UnlockWindow(data_dir, **kwargs)
    qtbot.addWidget(window)
    window.show()
    return window


def _screenshot(window: UnlockWindow, name: str) -> None:
    if SCREENSHOT_DIR:
        assert window.grab().save(str(Path(SCREENSHOT_DIR) / name))


def test_unlocking_shows_the_counts(qtbot, locked_vault: Path) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, locked_vault, demo_password=None)
    _screenshot(window, "unlock.png")
    qtbot.keyClicks(window.password, PASSWORD)
    with qtbot.waitSignal(window.unlocked, timeout=10_000):
        qtbot.mouseClick(window.unlock_button, Qt.MouseButton.LeftButton)

    assert window.stack.currentWidget() is window.overview_page
    assert window.count_labels["clients"].text() == "2"
    assert window.count_labels["cases_open"].text() == "2"
    assert window.count_labels["kind_short_intervention"].text() == "1"
    assert window.count_labels["phase_planning"].text() == "1"
    assert "Anna Becker" in window.who.text()
    assert window.password.text() == ""
    _screenshot(window, "unlock-overview.png")

    window.lock()
    assert not window.is_unlocked
    assert window.stack.currentWidget() is window.unlock_page
    assert window.count_labels["clients"].text() == "–"


def test_wrong_password_is_shown_in_the_window_and_the_delay_respected(
    qtbot, locked_vault: Path  # type: ignore[no-untyped-def]
) -> None:
    window = _window(qtbot, locked_vault)
    for _attempt in range(3):  # the third failure brings the first delay (1 s)
        qtbot.waitUntil(window.unlock_button.isEnabled, timeout=10_000)
        window.password.setText("falsches-passwort")
        qtbot.mouseClick(window.unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "nicht richtig" in window.message.text(), timeout=10_000)

    assert not window.is_unlocked
    assert window.stack.currentWidget() is window.unlock_page
    assert "Nächster Versuch" in window.message.text()
    assert not window.unlock_button.isEnabled()
    assert re.search(r"\(in \d s\)", window.unlock_button.text())
    _screenshot(window, "unlock-wrong-password.png")

    qtbot.waitUntil(window.unlock_button.isEnabled, timeout=5_000)
    window.password.setText(PASSWORD)
    with qtbot.waitSignal(window.unlocked, timeout=10_000):
        qtbot.mouseClick(window.unlock_button, Qt.MouseButton.LeftButton)
    assert window.count_labels["clients"].text() == "2"
    window.close()
    assert not window.is_unlocked


def test_a_missing_vault_is_explained_and_nothing_can_be_typed(
    qtbot, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    window = _window(qtbot, tmp_path / "leer", demo_password="demo-passwort")
    assert "kein Datentresor" in window.message.text()
    assert not window.unlock_button.isEnabled()
    assert not window.password.isEnabled()
    assert window.findChild(type(window.message), "demo_hint") is not None
