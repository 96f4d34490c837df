"""Fixtures for the desktop screens: an unlocked AppState over a fresh copy of the test vault."""

from __future__ import annotations

import gc
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from kimdesk.casework.context import Context
from kimdesk.ui.hub import Hub
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.operations import GuiThreadGarbageCollector
from kimdesk.ui.state import AppState
from kimdesk.vault import Vault
from tests.factories import Clock
from tests.ui.sync_support import colleague_device


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: Any) -> Generator[None, Any, Any]:
    """A test that failed half-way can leave unsaved input behind; pytest-qt's closing of the
    widgets would then wait forever on the modal "Ungespeicherte Eingaben" question (a whole CI
    run hung on one failed assertion). Close as a user who agreed to discard."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget.discard_on_close_without_asking()
    return (yield)


@pytest.fixture(autouse=True)
def _garbage_on_the_gui_thread(qapp):  # type: ignore[no-untyped-def]
    """As the app does: no collection on a pool thread while a screen test runs.

    The objects that lived before the test are frozen meanwhile (``gc.freeze``), so the
    collector's final full collection walks only what the test made: a long test worker's heap
    holds a million objects, and walking it cost each screen test seconds of teardown."""
    gc.freeze()
    collector = GuiThreadGarbageCollector()
    yield
    collector.stop()
    collector.deleteLater()
    gc.unfreeze()


@pytest.fixture
def app_state(qtbot, vault: Vault, clock: Clock) -> AppState:  # type: ignore[no-untyped-def]
    """The app's session, unlocked, on the fixed test day; the vault closes after the test."""
    state = AppState(vault.data_dir, Hub(), clock=clock)
    state.attach(vault)
    return state


@pytest.fixture
def colleague(template_vault: Path, tmp_path: Path, clock: Clock) -> Iterator[Context]:
    """A colleague's laptop of the same team (not yet enrolled)."""
    ctx = colleague_device(template_vault, tmp_path / "colleague", clock)
    yield ctx
    ctx.vault.close()
