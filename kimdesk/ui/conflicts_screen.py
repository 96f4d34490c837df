"""Abgleich: concurrent edits of one field by two devices, both values side by side, to keep
the value that applies now or to bring back the other one (a tab of the Datenschutz screen)."""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kimdesk.errors import KimdeskError
from kimdesk.sync import conflicts
from kimdesk.sync.conflicts import ConflictRow
from kimdesk.ui import hub as areas
from kimdesk.ui.fields import FieldErrors
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState
from kimdesk.ui.style import MUTED_TEXT

IDENTITY_NOTE = "Identität/Aufenthalt – nie stillschweigend entschieden"
_IDENTITY_BACKGROUND = QColor("#ffe0b2")
_IDENTITY_TEXT = QColor("#8a2c00")


def _author(name: str, at: datetime | None) -> str:
    who = name or "einem anderen Gerät des Teams"
    if at is None:
        return f"gespeichert von {who}"
    return f"gespeichert von {who} am {at.astimezone():%d.%m.%Y um %H:%M} Uhr"


class ConflictsView(QWidget):
    """The open conflicts of this device; identity and residence fields first, highlighted."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._reloader = ReloadWhenShown(self, state, self.reload, areas=(areas.CONFLICTS,))
        self.model: RowTableModel[ConflictRow] = RowTableModel(
            [Column("Akte / Datensatz", lambda r: r.record),
             Column("Feld", lambda r: r.field_label),
             Column("Gilt jetzt", lambda r: r.kept),
             Column("Überschriebene Fassung", lambda r: r.lost),
             Column("Hinweis", lambda r: IDENTITY_NOTE if r.identity else "", stretch=True)],
            self,
            foreground=lambda r: _IDENTITY_TEXT if r.identity else None,
            background=lambda r: _IDENTITY_BACKGROUND if r.identity else None)
        self.table = QTableView(objectName="conflict_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)

        self.kept_value = QLabel(objectName="kept_value")
        self.kept_by = QLabel(objectName="kept_by")
        self.lost_value = QLabel(objectName="lost_value")
        self.lost_by = QLabel(objectName="lost_by")
        sides = QHBoxLayout()
        for title, value, author in (("Gilt jetzt", self.kept_value, self.kept_by),
                                     ("Andere Fassung", self.lost_value, self.lost_by)):
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setStyleSheet("font-size: 12pt;")
            author.setStyleSheet(f"color: {MUTED_TEXT};")
            inner.addWidget(value)
            inner.addWidget(author)
            inner.addStretch(1)
            sides.addWidget(box, 1)
        self.detail_title = QLabel(objectName="conflict_title")
        self.identity_note = QLabel(
            "Angabe zur Identität oder zum Aufenthalt: sie wird nie stillschweigend "
            "entschieden. Bitte anhand der Unterlagen prüfen, welche Fassung stimmt.",
            objectName="identity_note")
        self.identity_note.setWordWrap(True)
        self.identity_note.setStyleSheet("color: #8a2c00; font-weight: bold;")
        self.keep_button = QPushButton("Behalten", objectName="keep")
        self.keep_button.setToolTip("Die geltende Fassung bleibt; der Konflikt ist geprüft.")
        self.restore_button = QPushButton("Andere Fassung übernehmen", objectName="restore")
        self.restore_button.setToolTip(
            "Die überschriebene Fassung wird wieder eingetragen und beim nächsten Abgleich an "
            "das Team gesendet.")
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {})
        buttons = QHBoxLayout()
        buttons.addWidget(self.errors_label, 1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.restore_button)

        listing = QWidget()
        layout = QVBoxLayout(listing)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail_title)
        layout.addWidget(self.identity_note)
        layout.addLayout(sides)
        layout.addLayout(buttons)

        self.empty = QLabel(
            "Keine offenen Konflikte. Alle Änderungen aus dem Team sind zusammengeführt.",
            objectName="conflicts_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"color: {MUTED_TEXT}; font-size: 12pt;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(listing)

        intro = QLabel(
            "Haben zwei Geräte des Teams dasselbe Feld geändert, ohne voneinander zu wissen, "
            "gilt die zuletzt gespeicherte Fassung. Die andere geht nicht verloren: sie steht "
            "hier, bis jemand sie geprüft hat.")
        intro.setWordWrap(True)
        outer = QVBoxLayout(self)
        outer.addWidget(intro)
        outer.addWidget(self.pages, 1)

        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.keep_button.clicked.connect(self.keep_selected)
        self.restore_button.clicked.connect(self.restore_selected)

    def reload(self) -> None:
        self._reloader.stale = False
        rows = conflicts.open_conflicts(self._state.ctx)
        self.model.set_rows(rows)
        self.pages.setCurrentIndex(1 if rows else 0)
        # The last column (Hinweis) stretches; the others fit their text up to a limit.
        for column in range(self.model.columnCount() - 1):
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 260))
        if rows:
            self.table.selectRow(0)
        self._show_detail()

    def selected(self) -> ConflictRow | None:
        indexes = self.table.selectionModel().selectedRows()
        return self.model.row_at(indexes[0].row()) if indexes else None

    def _selected(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.selected()
        self.errors.clear()
        for widget in (self.keep_button, self.restore_button):
            widget.setEnabled(row is not None)
        if row is None:
            for label in (self.detail_title, self.kept_value, self.kept_by, self.lost_value,
                          self.lost_by):
                label.clear()
            self.identity_note.hide()
            return
        self.detail_title.setText(
            f"<b>{html.escape(row.record)}</b> – {html.escape(row.field_label)}")
        self.kept_value.setText(row.kept)
        self.kept_by.setText(_author(row.kept_by, row.kept_at))
        self.lost_value.setText(row.lost)
        self.lost_by.setText(_author(row.lost_by, row.lost_at))
        self.identity_note.setVisible(row.identity)

    def keep_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        try:
            conflicts.keep(self._state.ctx, row.id)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self._state.hub.status_message.emit("Konflikt geprüft: die geltende Fassung bleibt.")

    def restore_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        try:
            conflicts.restore(self._state.ctx, row.id)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self._state.hub.status_message.emit(
            "Andere Fassung übernommen; sie geht mit dem nächsten Abgleich an das Team.")
