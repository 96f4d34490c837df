"""Heute: due Wiedervorlagen and Fristen (overdue first, § 104c highlighted), the last opened
files, and the own case load against the Fallzahlschlüssel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import caseload, deadlines, views
from kimdesk.casework.profile import load_profile
from kimdesk.errors import KimdeskError
from kimdesk.models.enums import CaseKind
from kimdesk.ui import hub as areas
from kimdesk.ui.fields import format_date
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.state import AppState

HORIZON_DAYS = 14
MAX_RECENT = 8
_OVERDUE = QColor("#b71c1c")
_P104C = QColor("#fff3cd")


class TodayScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._recent: list[str] = []  # client ids, newest first
        self._names: dict[str, str] = {}

        self.greeting = QLabel(objectName="greeting")
        self.due = QTableWidget(0, 4, objectName="due_table")
        self.due.setHorizontalHeaderLabels(["Fällig am", "Ratsuchende:r", "Frist", "Art"])
        self.due.verticalHeader().hide()
        self.due.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.due.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.due.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.done_button = QPushButton("Als erledigt markieren", objectName="deadline_done")
        self.due_summary = QLabel(objectName="due_summary")

        self.recent = QListWidget(objectName="recent_files")
        self.load_label = QLabel(objectName="caseload_label")
        self.load_label.setWordWrap(True)
        self.load_bar = QProgressBar(objectName="caseload_bar")
        self.load_bar.setRange(0, 150)
        self.load_bar.setFormat("%v % des Fallzahlschlüssels")

        due_box = QGroupBox("Wiedervorlagen und Fristen")
        due_layout = QVBoxLayout(due_box)
        due_layout.addWidget(self.due_summary)
        due_layout.addWidget(self.due, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.done_button)
        due_layout.addLayout(row)
        recent_box = QGroupBox("Zuletzt geöffnete Akten")
        QVBoxLayout(recent_box).addWidget(self.recent)
        load_box = QGroupBox("Eigene Fallzahl")
        load_layout = QVBoxLayout(load_box)
        load_layout.addWidget(self.load_label)
        load_layout.addWidget(self.load_bar)
        load_layout.addStretch(1)

        side = QVBoxLayout()
        side.addWidget(recent_box, 2)
        side.addWidget(load_box, 1)
        body = QHBoxLayout()
        body.addWidget(due_box, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.greeting)
        layout.addLayout(body, 1)

        self.due.cellDoubleClicked.connect(self._open_due)
        self.done_button.clicked.connect(self._mark_done)
        self.recent.itemActivated.connect(
            lambda item: state.hub.client_opened.emit(item.data(Qt.ItemDataRole.UserRole)))
        self._reloader = ReloadWhenShown(
            self, state, self.reload, areas=(areas.DEADLINES, areas.CASES, areas.CLIENTS))
        state.hub.client_opened.connect(self.remember)
        state.hub.vault_locked.connect(self._forget_names)

    def _forget_names(self) -> None:
        # Names stay on screen behind the lock only as long as the widgets are hidden;
        # clearing them here keeps a locked window from holding them at all.
        self.due.setRowCount(0)
        self._names.clear()
        self.recent.clear()

    def remember(self, client_id: str) -> None:
        self._recent = [cid for cid in self._recent if cid != client_id]
        self._recent.insert(0, client_id)
        del self._recent[MAX_RECENT:]
        self._reloader.mark_stale()

    def reload(self) -> None:
        ctx = self._state.ctx
        rows = {row.id: row for row in views.client_rows(ctx)}
        self._names = {cid: row.display_name for cid, row in rows.items()}
        profile = load_profile(ctx.vault)
        first = profile.user_name.split()[0] if profile.user_name else ""
        today = ctx.today()
        self.greeting.setText(
            f"<h2>Heute, {today:%d.%m.%Y}</h2><p>Guten Tag {first}. Hier steht, was fällig ist."
            "</p>")

        items = deadlines.due_items(ctx, HORIZON_DAYS)
        self.due.setRowCount(len(items))
        overdue = sum(item.overdue for item in items)
        self.due_summary.setText(
            f"{len(items)} fällig in den nächsten {HORIZON_DAYS} Tagen, davon {overdue} überfällig."
            if items else "Nichts fällig – keine offenen Wiedervorlagen oder Fristen.")
        for row, item in enumerate(items):
            kind = self._state.reference.label("deadline_kinds", item.kind)
            cells = [format_date(item.due_on), self._names.get(item.client_id, "–"), item.title,
                     kind]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, (item.deadline_id, item.client_id))
                if item.overdue:
                    cell.setForeground(QBrush(_OVERDUE))
                if item.p104c:
                    cell.setBackground(QBrush(_P104C))
                    cell.setToolTip("§ 104c: Antrag nach § 25a/§ 25b vor Ablauf stellen")
                self.due.setItem(row, column, cell)

        self.recent.clear()
        for client_id in self._recent:
            if client_id in self._names:
                entry = QListWidgetItem(self._names[client_id])
                entry.setData(Qt.ItemDataRole.UserRole, client_id)
                self.recent.addItem(entry)

        load = caseload.caseload(ctx, fte=profile.fte, case_manager=profile.user_name)
        percent = round(load.ratio * 100)
        parts = ", ".join(f"{n} {CaseKind(kind).label}" for kind, n in
                          sorted(load.open_cases.items()) if n)
        self.load_label.setText(
            f"{sum(load.open_cases.values())} laufende Fälle ({parts or 'keine'}), gewichtet "
            f"{load.weighted:g} von {load.capacity:g} bei {load.fte:g} VZÄ "
            f"(Fallzahlschlüssel {ctx.reference.rules.cases_per_vza} je VZÄ).")
        self.load_bar.setValue(min(percent, 150))

    def _selected(self) -> tuple[str, str] | None:
        items = self.due.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _open_due(self, row: int, _column: int) -> None:
        data = self.due.item(row, 0).data(Qt.ItemDataRole.UserRole)
        self._state.hub.client_opened.emit(data[1])

    def _mark_done(self) -> None:
        selected = self._selected()
        if selected is None:
            self._state.hub.status_message.emit("Bitte zuerst eine Frist auswählen.")
            return
        try:
            deadlines.complete_deadline(self._state.ctx, selected[0])
        except KimdeskError as exc:
            self._state.hub.status_message.emit(exc.message)
