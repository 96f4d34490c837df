"""Fristen: the person's open Fristen and Wiedervorlagen, "erledigt", and new Wiedervorlagen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import deadlines
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import Deadline
from kimdesk.models.enums import CaseKind
from kimdesk.ui.client_file_tabs.base import FileTab
from kimdesk.ui.client_file_tabs.rows import (
    HIGHLIGHT,
    OVERDUE,
    case_label,
    compact,
    hint_label,
    make_table,
    selected_row,
)
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, format_date, save_cancel_buttons
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState


@dataclass(frozen=True)
class DeadlineRow:
    id: str
    due_on: date
    kind: str
    title: str
    case: str
    note: str
    overdue: bool
    p104c: bool


class DeadlineDialog(QDialog):
    """Wiedervorlage anlegen: kind, due date, title, case, note."""

    def __init__(self, state: AppState, client_id: str, cases: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self.created: Deadline | None = None
        self.setWindowTitle("Wiedervorlage anlegen")
        self.setMinimumWidth(520)
        self.kind = CodeCombo(((t.code, t.label) for t in state.reference.terms("deadline_kinds")),
                              parent=self)
        self.kind.setObjectName("deadline_kind")
        compact(self.kind)
        self.kind.set_code("follow_up")
        self.due_on = DateField(state.today, self)
        self.due_on.setObjectName("deadline_due")
        self.due_on.setToolTip("z. B. +14 für in zwei Wochen")
        self.title = QLineEdit(objectName="deadline_title")
        self.title.setPlaceholderText("leer: Bezeichnung der Art, z. B. „Wiedervorlage“")
        self.title.setMaxLength(300)
        self.case = CodeCombo(cases, empty="– ohne Fall –", parent=self)
        self.case.setObjectName("deadline_case")
        compact(self.case)
        if len(cases) == 1:
            self.case.setCurrentIndex(1)
        self.note = QPlainTextEdit(objectName="deadline_note")
        self.note.setTabChangesFocus(True)
        self.note.setMaximumHeight(70)
        form = QFormLayout()
        form.addRow("Art", self.kind)
        form.addRow("fällig am*", self.due_on)
        form.addRow("Titel", self.title)
        form.addRow("Fall", self.case)
        form.addRow("Notiz", self.note)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "kind": self.kind, "due_on": self.due_on, "title": self.title})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        self.due_on.setFocus()

    def save(self) -> None:
        self.errors.clear()
        try:
            due_on = self.due_on.checked_value("due_on")
            if due_on is None:
                raise ValidationError("Bitte angeben, wann die Wiedervorlage fällig ist.",
                                      "due_on")
            self.created = deadlines.add_deadline(
                self._state.ctx, self._client_id, self.kind.code() or "follow_up", due_on,
                self.title.text(), case_id=self.case.code(), note=self.note.toPlainText().strip())
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()


def _foreground(row: DeadlineRow) -> QColor | None:
    return OVERDUE if row.overdue else None


def _background(row: DeadlineRow) -> QColor | None:
    return HIGHLIGHT if row.p104c else None


class DeadlinesTab(FileTab):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.model: RowTableModel[DeadlineRow] = RowTableModel([
            Column("fällig am", lambda r: format_date(r.due_on)
                   + (" (überfällig)" if r.overdue else "")),
            Column("Art", lambda r: r.kind),
            Column("Titel", lambda r: r.title, stretch=True),
            Column("Fall", lambda r: r.case),
            Column("Notiz", lambda r: r.note.replace("\n", " ")),
        ], self, foreground=_foreground, background=_background)
        self.table = make_table(self.model, "deadline_table", self)
        self.done_button = QPushButton("Erledigt", objectName="complete_deadline")
        self.add_button = QPushButton("Wiedervorlage anlegen …", objectName="add_deadline")
        self.status = QLabel(objectName="deadline_status")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        buttons.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint_label(
            "Offene Fristen und Wiedervorlagen dieser Person, die nächste zuerst. Überfällige "
            "sind rot, Fristen zum Chancen-Aufenthaltsrecht (§ 104c) gelb hinterlegt.",
            "deadlines_hint"))
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.done_button.clicked.connect(self.complete_selected)
        self.add_button.clicked.connect(self.add)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

    def _case_labels(self) -> dict[str, str]:
        assert self._file is not None
        return {c.id: case_label(c.kind, c.opened_on) for c in self._file.cases}

    def refresh(self) -> None:
        file = self._file
        assert file is not None
        today = self._state.today()
        ref = self._state.reference
        cases = self._case_labels()
        kinds = set(ref.codes("deadline_kinds"))
        rows = [DeadlineRow(d.id, d.due_on,
                            ref.label("deadline_kinds", d.kind) if d.kind in kinds else d.kind,
                            d.title, cases.get(d.case_id or "", ""), d.note, d.due_on < today,
                            d.kind == "p104c_expiry" or d.source.startswith(deadlines.P104C))
                for d in sorted(file.open_deadlines, key=lambda d: d.due_on)]
        self.model.set_rows(rows)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.done_button.setEnabled(self.selected() is not None)

    def selected(self) -> DeadlineRow | None:
        row = selected_row(self.table)
        return row if isinstance(row, DeadlineRow) else None

    def select_deadline(self, deadline_id: str) -> None:
        for row, item in enumerate(self.model.rows()):
            if item.id == deadline_id:
                self.table.selectRow(row)

    def complete_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        try:
            deadlines.complete_deadline(self._state.ctx, row.id)
        except KimdeskError as exc:
            self.report_error("Frist", exc.message)
            return
        self.status.setText(f"„{row.title}“ erledigt.")

    def deadline_dialog(self) -> DeadlineDialog:
        assert self._file is not None
        cases = [(c.id, f"{CaseKind(c.kind).label} seit {format_date(c.opened_on)}")
                 for c in self._file.cases if c.status == "open"]
        return DeadlineDialog(self._state, self._file.client.id, cases, parent=self)

    def add(self) -> None:
        open_dialog(self.deadline_dialog(),
                    lambda _dialog: self.status.setText("Wiedervorlage angelegt."))
