"""Fixtures for the desktop screens: an unlocked AppState over a fresh copy of the test vault."""

from __future__ import annotations

import pytest

from kimdesk.ui.hub import Hub
from kimdesk.ui.operations import GuiThreadGarbageCollector
from kimdesk.ui.state import AppState
from kimdesk.vault import Vault
from tests.factories import Clock


@pytest.fixture(autouse=True)
def _garbage_on_the_gui_thread(qapp):  # type: ignore[no-untyped-def]
    """As the app does: no collection on a pool thread while a screen test runs."""
    collector = GuiThreadGarbageCollector()
    yield
    collector.stop()
    collector.deleteLater()


@pytest.fixture
def app_state(qtbot, vault: Vault, clock: Clock) -> AppState:  # type: ignore[no-untyped-def]
    """The app's session, unlocked, on the fixed test day; the vault closes after the test."""
    state = AppState(vault.data_dir, Hub(), clock=clock)
    state.attach(vault)
    return state
