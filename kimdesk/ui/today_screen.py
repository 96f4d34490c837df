"""Heute: the user's own Termine of the next days, her due Wiedervorlagen and Fristen (overdue
first, § 104c highlighted, an expired one marked expired), her Fallzahl and the Akten she opened
last. "Own" is what "Eigene Fallzahl" counts (kimdesk/casework/caseload.py); the team's other
days stay in the Akten (Vertretung). Enter or a double click on a row opens the Akte."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
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

from kimdesk.casework import appointments, deadlines, today, views
from kimdesk.errors import KimdeskError
from kimdesk.models.enums import CaseKind
from kimdesk.ui import hub as areas
from kimdesk.ui import printing
from kimdesk.ui.fields import format_date
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.state import AppState

HORIZON_DAYS = today.HORIZON_DAYS
EXPORT_DAYS = 28  # the iCalendar file carries four weeks
MAX_RECENT = today.MAX_RECENT
_OVERDUE = QColor("#b71c1c")
_P104C = QColor("#fff3cd")
_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def german_number(value: float) -> str:
    """11.5 → "11,5" (a decimal comma, as every German text writes it)."""
    return f"{value:g}".replace(".", ",")


def _table(name: str, headers: list[str], stretch: int) -> QTableWidget:
    table = QTableWidget(0, len(headers), objectName=name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


class TodayScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._names: dict[str, str] = {}
        self.choose_path: printing.PathChooser | None = None  # tests answer the save dialog

        self.greeting = QLabel(objectName="greeting")
        self.termine = _table("appointment_table", ["Wann", "Ratsuchende:r", "Termin", "Art"], 2)
        self.termine.setAccessibleName("Eigene Termine")
        self.termine_summary = QLabel(objectName="appointment_summary")
        self.export_button = QPushButton("Termine als &Kalenderdatei speichern …",
                                         objectName="export_icalendar")
        self.export_button.setToolTip(
            f"Die eigenen Termine der nächsten {EXPORT_DAYS} Tage als .ics-Datei für den "
            "Kalender – ohne Namen, nur „Termin KIM – Fall …“.")
        self.due = _table("due_table", ["Fällig am", "Ratsuchende:r", "Frist", "Art"], 2)
        self.due.setAccessibleName("Eigene Wiedervorlagen und Fristen")
        self.done_button = QPushButton("Als &erledigt markieren", objectName="deadline_done")
        self.due_summary = QLabel(objectName="due_summary")

        self.recent = QListWidget(objectName="recent_files")
        self.recent.setAccessibleName("Zuletzt geöffnete Akten")
        self.recent.setMaximumHeight(170)
        # Long names are elided (the side column is narrow at 150 %), never scrolled sideways.
        self.recent.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.load_label = QLabel(objectName="caseload_label")
        self.load_label.setWordWrap(True)
        self.load_bar = QProgressBar(objectName="caseload_bar")
        self.load_bar.setRange(0, 150)
        # Short enough for the side column at 150 %; the label above says what it measures.
        self.load_bar.setFormat("%v %")
        self.load_bar.setAccessibleName("Auslastung des Fallzahlschlüssels")
        self.load_bar.setToolTip("Eigene Fallzahl in Prozent des Fallzahlschlüssels")

        termine_box = QGroupBox("Eigene Termine")
        termine_layout = QVBoxLayout(termine_box)
        termine_layout.addWidget(self.termine_summary)
        termine_layout.addWidget(self.termine, 1)
        export_row = QHBoxLayout()
        export_row.addStretch(1)
        export_row.addWidget(self.export_button)
        termine_layout.addLayout(export_row)
        due_box = QGroupBox("Eigene Wiedervorlagen und Fristen")
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

        main = QVBoxLayout()
        main.addWidget(termine_box, 2)
        main.addWidget(due_box, 3)
        side = QVBoxLayout()
        side.addWidget(load_box)
        side.addWidget(recent_box)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(main, 3)
        body.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.greeting)
        layout.addLayout(body, 1)

        # Enter (and a double click) on a row opens the person's Akte.
        self.due.activated.connect(self._open_row)
        self.termine.activated.connect(self._open_row)
        self.done_button.clicked.connect(self._mark_done)
        self.export_button.clicked.connect(self.export_icalendar)
        self.recent.itemActivated.connect(self._open_recent)
        self._reloader = ReloadWhenShown(
            self, state, self.reload, areas=(areas.DEADLINES, areas.CASES, areas.CLIENTS))
        state.hub.client_opened.connect(self.remember)
        state.hub.vault_locked.connect(self._forget_names)

    def focus_first(self) -> None:
        """The keyboard starts on the day's work: the Termine if there are any, else the
        Wiedervorlagen and Fristen, on the first row (Enter opens its Akte)."""
        table = self.termine if self.termine.rowCount() else self.due
        table.setFocus(Qt.FocusReason.OtherFocusReason)
        if table.rowCount() and not table.currentIndex().isValid():
            table.setCurrentCell(0, 0)

    def _forget_names(self) -> None:
        # Names stay on screen behind the lock only as long as the widgets are hidden;
        # clearing them here keeps a locked window from holding them at all.
        self.due.setRowCount(0)
        self.termine.setRowCount(0)
        self._names.clear()
        self.recent.clear()

    def remember(self, _client_id: str) -> None:
        """An Akte was opened: the recent list (kept by the audit trail) changed."""
        self._reloader.mark_stale()

    def reload(self) -> None:
        ctx = self._state.ctx
        data = today.today_data(ctx, HORIZON_DAYS)
        self._names = {row.id: row.display_name for row in views.client_rows(ctx)}
        first = data.user_name.split()[0] if data.user_name else ""
        day = ctx.today()
        self.greeting.setText(
            f"<h2>Heute, {day:%d.%m.%Y}</h2><p>Guten Tag {first}. Hier steht, was für Ihre "
            "Fälle ansteht.</p>")
        self._show_termine(data.appointments)
        self._show_due(data.due)

        self.recent.clear()
        for recent in data.recent:
            entry = QListWidgetItem(recent.display_name)
            entry.setData(Qt.ItemDataRole.UserRole, recent.client_id)
            self.recent.addItem(entry)
        if not data.recent:
            self.recent.addItem(QListWidgetItem("Noch keine Akte geöffnet."))

        load = data.caseload
        parts = ", ".join(f"{n} {CaseKind(kind).label}" for kind, n in
                          sorted(load.open_cases.items()) if n)
        self.load_label.setText(
            f"{sum(load.open_cases.values())} laufende Fälle ({parts or 'keine'}), gewichtet "
            f"{german_number(load.weighted)} von {german_number(load.capacity)} bei "
            f"{german_number(load.fte)} VZÄ (Fallzahlschlüssel "
            f"{ctx.reference.rules.cases_per_vza} je VZÄ).")
        self.load_bar.setValue(min(round(load.ratio * 100), 150))

    def _show_termine(self, rows: list[appointments.AppointmentRow]) -> None:
        self.termine.setRowCount(len(rows))
        self.termine_summary.setText(
            f"{len(rows)} {'Termin' if len(rows) == 1 else 'Termine'} in den nächsten "
            f"{HORIZON_DAYS} Tagen." if rows
            else f"Keine Termine in den nächsten {HORIZON_DAYS} Tagen.")
        for row, termin in enumerate(rows):
            when = (f"{_WEEKDAYS[termin.day.weekday()]} {format_date(termin.day)}, "
                    f"{termin.starts_at:%H:%M} Uhr")
            cells = [when, self._names.get(termin.client_id, "–"),
                     termin.title + (f" ({termin.place})" if termin.place else ""),
                     termin.kind_label]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, (termin.id, termin.client_id))
                self.termine.setItem(row, column, cell)

    def _show_due(self, items: list[deadlines.DueItem]) -> None:
        self.due.setRowCount(len(items))
        overdue = sum(item.overdue for item in items)
        self.due_summary.setText(
            f"{len(items)} fällig in den nächsten {HORIZON_DAYS} Tagen, davon {overdue} überfällig."
            if items else "Nichts fällig – keine offenen Wiedervorlagen oder Fristen.")
        for row, item in enumerate(items):
            kind = self._state.reference.label("deadline_kinds", item.kind)
            cells = [format_date(item.due_on), self._names.get(item.client_id, "–"),
                     item.display_title, kind]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, (item.deadline_id, item.client_id))
                if item.overdue:
                    cell.setForeground(QBrush(_OVERDUE))
                if item.p104c:
                    cell.setBackground(QBrush(_P104C))
                    cell.setToolTip(
                        "§ 104c abgelaufen" if item.expired
                        else "§ 104c: Antrag nach § 25a/§ 25b vor Ablauf stellen")
                self.due.setItem(row, column, cell)

    def _open_recent(self, item: QListWidgetItem) -> None:
        client_id = item.data(Qt.ItemDataRole.UserRole)
        if client_id:  # not the "Noch keine Akte geöffnet." line
            self._state.hub.client_opened.emit(client_id)

    def _selected(self) -> tuple[str, str] | None:
        items = self.due.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _open_row(self, index: QModelIndex) -> None:
        data = index.siblingAtColumn(0).data(Qt.ItemDataRole.UserRole)
        if data:
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

    def export_icalendar(self) -> None:
        """Die eigenen Termine als Kalenderdatei, pseudonymisiert (no client data)."""
        ctx = self._state.ctx
        first = ctx.today()
        last = first + timedelta(days=EXPORT_DAYS)

        def saved(path: Path) -> None:
            self._state.hub.status_message.emit(f"Termine gespeichert: {path.name}")

        printing.save_document(
            self, lambda: appointments.export_icalendar(ctx, first, last),
            f"KIM-Termine-{first.isoformat()}.ics", title="Termine als Kalenderdatei speichern",
            file_filter="Kalenderdatei (*.ics)", choose_path=self.choose_path, on_saved=saved,
            on_failed=self._state.hub.status_message.emit)
