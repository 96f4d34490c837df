"""The app against a real county server in tests: the team's in-process server app as the
app's connection, a refused connection for "offline", a colleague's device, closing safely."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication, QDialog

from kimdesk.casework.context import Context
from kimdesk.reference import load_reference
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from tests.factories import Clock
from tests.sync.devices import USERS, open_device
from tests.sync.team import Team

# A background sync against the in-process server: a wait, not a speed target (a sync makes
# several requests, and CI runs two test workers on two shared cores).
WAIT_MS = 60_000


def _closed_port() -> int:
    """A local port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _refused() -> Iterator[httpx.Client]:
    http = httpx.Client(base_url=f"http://127.0.0.1:{_closed_port()}", timeout=5)
    try:
        yield http
    finally:
        http.close()


class Network:
    """The app's connection to the county server: the team's real server app while
    ``online``, a refused TCP connection (a laptop outside the county network) otherwise."""

    def __init__(self, team: Team) -> None:
        self.team = team
        self.online = True
        self.opened: list[str] = []

    def __call__(self, server_url: str) -> AbstractContextManager[httpx.Client]:
        self.opened.append(server_url)
        if self.online:
            return nullcontext(self.team.http)  # type: ignore[arg-type]
        return _refused()


def colleague_device(template: Path, target: Path, clock: Clock) -> Context:
    """A colleague's laptop (its own vault copy and device id); close its vault after use."""
    return open_device(template, target, USERS[1], load_reference(), clock)


def open_window(qtbot: Any, state: AppState, network: Network) -> MainWindow:
    main = MainWindow(state, sync_connection=network)
    qtbot.addWidget(main)
    main.show()
    return main


def laptop_window(qtbot: Any, state: AppState, network: Network) -> MainWindow:
    """The main window at a 1366×768 laptop's size, shown and exposed (close it with
    :func:`close_window`)."""
    main = MainWindow(state, sync_connection=network)
    main.resize(1366, 768)
    main.show()
    qtbot.waitExposed(main)
    return main


def close_window(main: MainWindow) -> None:
    """Close without questions and let a running sync end before the server goes away."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    main.discard_and_close()
    QThreadPool.globalInstance().waitForDone(30_000)
    QApplication.processEvents()


def status_bar_shot(main: MainWindow, directory: Path, name: str) -> Path:
    """The status bar alone, as the window shows it at 1366 × 768."""
    main.resize(1366, 768)
    QApplication.processEvents()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    assert main.statusBar().grab().save(str(path))
    return path
