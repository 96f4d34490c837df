"""A plain window for `make run`: unlock the vault, then show its counts.

A stand-in until the full desktop (main window with its screens) is wired to `kimdesk gui`.
Thread rule: unlocking (Argon2id) and counting run on a pool thread; the result comes back
through a queued signal, so only the GUI thread touches widgets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kimdesk import APP_NAME
from kimdesk.casework.overview import VaultCounts, counts
from kimdesk.casework.profile import context_for
from kimdesk.errors import KimdeskError
from kimdesk.models.enums import CaseKind, Phase
from kimdesk.vault import Vault, VaultLocked, WrongPassword, open_vault
from kimdesk.vault.store import vault_exists

# Rows of the overview: (key, label); keys name the labels for tests ("count_clients").
_ROWS: tuple[tuple[str, str], ...] = (
    ("clients", "Ratsuchende"),
    ("households", "Haushalte"),
    ("cases_open", "Laufende Fälle"),
    *((f"kind_{k.value}", f"    {k.label}") for k in CaseKind),
    *((f"phase_{p.value}", f"        {p.label}") for p in Phase),
    ("cases_closed", "Abgeschlossene Fälle"),
    ("deadlines_open", "Offene Fristen und Wiedervorlagen"),
    ("deadlines_overdue", "    davon überfällig"),
    ("deadlines_next_14_days", "    fällig in den nächsten 14 Tagen"),
)


@dataclass(frozen=True)
class Unlocked:
    """What the background unlock hands to the GUI thread."""

    vault: Vault
    counts: VaultCounts
    user: str
    team: str


def _values(result: VaultCounts) -> dict[str, int]:
    values = {
        "clients": result.clients,
        "households": result.households,
        "cases_open": result.cases_open,
        "cases_closed": result.cases_closed,
        "deadlines_open": result.deadlines_open,
        "deadlines_overdue": result.deadlines_overdue,
        "deadlines_next_14_days": result.deadlines_next_14_days,
    }
    values |= {f"kind_{k}": n for k, n in result.cases_by_kind.items()}
    values |= {f"phase_{p}": n for p, n in result.cases_by_phase.items()}
    return values


def unlock_and_count(data_dir: Path, password: str) -> Unlocked:
    """Open the vault and read its counts (runs on a worker thread)."""
    vault = open_vault(data_dir, password)
    try:
        ctx = context_for(vault)
        return Unlocked(vault, counts(ctx), ctx.user, ctx.reference.team(ctx.team).name)
    except BaseException:
        vault.close()
        raise


class _Relay(QObject):
    """Carries a worker's result to the GUI thread (queued: it lives in the GUI thread)."""

    succeeded = Signal(object)
    failed = Signal(object)


def _in_background(fn: Callable[[], Any], on_success: Callable[[Any], None],
                   on_error: Callable[[Exception], None]) -> _Relay:
    """Run ``fn`` on the global pool; the callbacks run on the GUI thread.

    A plain callable is handed to the pool: a QRunnable subclass crashes PySide6 6.12 when
    the pool deletes it (refcount error at garbage collection).
    """
    relay = _Relay()
    relay.succeeded.connect(on_success)
    relay.failed.connect(on_error)

    def job() -> None:
        try:
            result = fn()
        except Exception as exc:  # shown by the GUI thread, which knows how
            relay.failed.emit(exc)
        else:
            relay.succeeded.emit(result)

    QThreadPool.globalInstance().start(job)
    return relay


class UnlockWindow(QWidget):
    """Unlock page (password, messages, growing delay) and the overview of counts."""

    unlocked = Signal()
    locked = Signal()

    def __init__(self, data_dir: Path, *, demo_password: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self._vault: Vault | None = None
        self._busy = False
        self._closing = False
        self._relay: _Relay | None = None  # keeps the running job's relay alive
        self._retry_at = 0.0  # time.monotonic() when the next attempt is allowed
        self._countdown = QTimer(self, interval=200)
        self._countdown.timeout.connect(self._tick)
        self.setWindowTitle(f"{APP_NAME} – Datentresor")
        self.resize(640, 560)

        self.stack = QStackedWidget(self)
        self.unlock_page = self._build_unlock_page(demo_password)
        self.overview_page = self._build_overview_page()
        self.stack.addWidget(self.unlock_page)
        self.stack.addWidget(self.overview_page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self._show_unlock()

    # --- pages ------------------------------------------------------------------------------

    def _build_unlock_page(self, demo_password: str | None) -> QWidget:
        page = QWidget(objectName="unlock_page")
        title = QLabel(f"<h1>{APP_NAME}</h1>"
                       "<p>Fallmanagement · Kommunales Integrationsmanagement Kreis Kleve</p>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        card = QFrame(objectName="unlock_card")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        # A fixed width lets the wrapped labels compute their height (Qt's height-for-width).
        card.setFixedWidth(460)
        heading = QLabel("<h3>Datentresor entsperren</h3>")
        where = QLabel(objectName="data_dir")
        where.setToolTip(str(self.data_dir))
        where.setText(where.fontMetrics().elidedText(
            f"Datentresor: {self.data_dir}", Qt.TextElideMode.ElideMiddle, 430))
        where.setStyleSheet("color: palette(mid);")
        self.password = QLineEdit(objectName="password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Passwort")
        self.password.returnPressed.connect(self._submit)
        self.unlock_button = QPushButton("Entsperren", objectName="unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._submit)
        self.message = QLabel(objectName="message")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Passwort", self.password)
        inner = QVBoxLayout(card)
        inner.addWidget(heading)
        inner.addWidget(where)
        inner.addLayout(form)
        inner.addWidget(self.message)
        inner.addWidget(self.unlock_button)
        if demo_password:
            hint = QLabel(f"Demo-Datentresor mit erfundenen Personen. Passwort: "
                          f"<b>{demo_password}</b>", objectName="demo_hint")
            hint.setWordWrap(True)
            inner.addWidget(hint)
        outer = QVBoxLayout(page)
        outer.addStretch(1)
        outer.addWidget(title)
        outer.addWidget(card, alignment=Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        return page

    def _build_overview_page(self) -> QWidget:
        page = QWidget(objectName="overview_page")
        heading = QLabel("<h2>Übersicht</h2>")
        self.who = QLabel(objectName="who")
        self.count_labels: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label in _ROWS:
            value = QLabel("–", objectName=f"count_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            self.count_labels[key] = value
            form.addRow(label, value)
        note = QLabel("Vorläufige Ansicht: die vollständige Oberfläche mit Heute, Ratsuchenden "
                      "und Fällen folgt.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        self.lock_button = QPushButton("Sperren", objectName="lock")
        self.lock_button.clicked.connect(self.lock)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.lock_button)
        layout = QVBoxLayout(page)
        layout.addWidget(heading)
        layout.addWidget(self.who)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(note)
        layout.addLayout(buttons)
        return page

    # --- unlocking --------------------------------------------------------------------------

    def _show_unlock(self) -> None:
        self.stack.setCurrentWidget(self.unlock_page)
        self.password.clear()
        if not vault_exists(self.data_dir):
            self._show_message(
                f"In {self.data_dir} wurde kein Datentresor gefunden. Bitte zuerst mit "
                "„kimdesk init“ anlegen (oder „kimdesk gui --demo“ für den Demo-Tresor).")
            self.password.setEnabled(False)
            self.unlock_button.setEnabled(False)
            return
        self.password.setEnabled(True)
        self.unlock_button.setEnabled(True)
        self.password.setFocus()

    def _show_message(self, text: str, *, error: bool = True) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)

    def _submit(self) -> None:
        if self._busy or self._retry_at or not self.unlock_button.isEnabled():
            return
        password = self.password.text()
        if not password:
            self._show_message("Bitte das Passwort eingeben.")
            return
        self._busy = True
        self.unlock_button.setEnabled(False)
        self._show_message("Datentresor wird geöffnet …", error=False)
        self._relay = _in_background(lambda: unlock_and_count(self.data_dir, password),
                                     self._unlocked, self._failed)

    def _unlocked(self, result: Unlocked) -> None:
        self._busy = False
        self._relay = None
        if self._closing:
            result.vault.close()
            return
        self._vault = result.vault
        self.password.clear()
        self._show_message("", error=False)
        self.who.setText(f"Angemeldet: {result.user} · {result.team}")
        for key, value in _values(result.counts).items():
            if key in self.count_labels:
                self.count_labels[key].setText(f"{value:,}".replace(",", "."))
        self.stack.setCurrentWidget(self.overview_page)
        self.unlocked.emit()

    def _failed(self, exc: Exception) -> None:
        self._busy = False
        self._relay = None
        self.password.selectAll()
        self.password.setFocus()
        if isinstance(exc, WrongPassword | VaultLocked):
            self._show_message(exc.message)
            self._start_wait(exc.retry_after)
        elif isinstance(exc, KimdeskError):
            self._show_message(exc.message)
            self.unlock_button.setEnabled(True)
        else:
            self._show_message("Der Datentresor konnte nicht geöffnet werden "
                               f"({type(exc).__name__}).")
            self.unlock_button.setEnabled(True)

    def _start_wait(self, seconds: float) -> None:
        """Respect the growing delay after failed attempts: the button waits, visibly."""
        # A small margin: the vault counts from its own clock, and a timer may fire early.
        self._retry_at = time.monotonic() + seconds + 0.1 if seconds > 0 else 0.0
        self._tick()
        if self._retry_at:
            self._countdown.start()

    def _tick(self) -> None:
        remaining = self._retry_at - time.monotonic()
        if remaining > 0:
            self.unlock_button.setEnabled(False)
            shown = max(1, math.ceil(remaining - 0.15))  # the margin is not the user's wait
            self.unlock_button.setText(f"Entsperren (in {shown} s)")
            return
        self._countdown.stop()
        self._retry_at = 0.0
        self.unlock_button.setText("Entsperren")
        self.unlock_button.setEnabled(True)

    # --- locking ----------------------------------------------------------------------------

    @property
    def is_unlocked(self) -> bool:
        return self._vault is not None

    def lock(self) -> None:
        """Drop the key and return to the unlock page."""
        if self._vault is not None:
            self._vault.close()
            self._vault = None
        for label in self.count_labels.values():
            label.setText("–")
        self._show_message("", error=False)
        self._show_unlock()
        self.locked.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closing = True
        self._countdown.stop()
        if self._busy:
            # An unlock still running hands its vault to _unlocked, which closes it.
            QThreadPool.globalInstance().waitForDone()
        if self._vault is not None:
            self._vault.close()
            self._vault = None
        super().closeEvent(event)
