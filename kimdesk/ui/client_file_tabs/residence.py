"""Aufenthalt: the current Aufenthaltsstatus, its history with dates, and the § 104c checklist.

§ 104c (Chancen-Aufenthaltsrecht) always runs 18 months from the grant; casework computes the
end date and creates the Fristen, and this tab shows what it computed once saved.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import deadlines
from kimdesk.casework.records import ResidenceEntry
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.reference import ResidenceStatus
from kimdesk.ui.client_file_tabs.base import FileTab
from kimdesk.ui.client_file_tabs.rows import (
    compact,
    hint_label,
    make_table,
)
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import (
    CodeCombo,
    DateField,
    DateParseError,
    FieldErrors,
    format_date,
    save_cancel_buttons,
)
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState


def is_p104c(state: AppState, status: str | None) -> bool:
    if not status or status not in state.reference.codes("residence_statuses"):
        return False
    term = state.reference.term("residence_statuses", status)
    return isinstance(term, ResidenceStatus) and term.chancen_104c


@dataclass(frozen=True)
class ResidenceRow:
    id: str
    status: str
    granted_on: date | None
    valid_until: date | None
    note: str
    recorded_on: date


class ResidenceDialog(QDialog):
    """Status erfassen: status, erteilt am, gültig bis (computed for § 104c), note."""

    def __init__(self, state: AppState, client_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self.created: ResidenceEntry | None = None
        self.setWindowTitle("Aufenthaltsstatus erfassen")
        self.setMinimumWidth(640)
        self.status = CodeCombo(((t.code, t.label)
                                 for t in state.reference.terms("residence_statuses")),
                                empty="– bitte wählen –", parent=self)
        self.status.setObjectName("residence_status")
        compact(self.status, 40)
        self.granted_on = DateField(state.today, self)
        self.granted_on.setObjectName("granted_on")
        self.valid_until = DateField(state.today, self)
        self.valid_until.setObjectName("valid_until")
        self.computed = QLabel(objectName="computed_until")
        self.note = QLineEdit(objectName="residence_note")
        self.rule_hint = hint_label(
            f"§ 104c gilt immer {state.reference.rules.p104c_validity_months} Monate ab "
            "Erteilung und ist nicht verlängerbar. „Gültig bis“ wird berechnet; Fristen und "
            "Erinnerungen für den Antrag nach § 25a/§ 25b werden angelegt.", "p104c_rule_hint")
        until_row = QHBoxLayout()
        until_row.addWidget(self.valid_until)
        until_row.addWidget(self.computed, 1)
        form = QFormLayout()
        form.addRow("Aufenthaltsstatus*", self.status)
        form.addRow("erteilt am", self.granted_on)
        form.addRow("gültig bis", until_row)
        form.addRow("Notiz", self.note)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "status": self.status, "granted_on": self.granted_on,
            "valid_until": self.valid_until})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.rule_hint)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        self.status.currentIndexChanged.connect(self._update)
        self.granted_on.textChanged.connect(self._update)
        self._update()
        self.status.setFocus()

    def _update(self) -> None:
        p104c = is_p104c(self._state, self.status.code())
        self.rule_hint.setVisible(p104c)
        self.valid_until.setEnabled(not p104c)
        self.computed.clear()
        if p104c:
            self.valid_until.clear()
            try:
                granted = self.granted_on.value()
            except DateParseError:
                granted = None
            if granted is not None:
                until = deadlines.p104c_expiry(self._state.ctx, granted)
                self.computed.setText(f"wird berechnet: {format_date(until)}")
            else:
                self.computed.setText("wird aus „erteilt am“ berechnet")

    def save(self) -> None:
        self.errors.clear()
        try:
            status = self.status.code()
            if status is None:
                raise ValidationError("Bitte einen Aufenthaltsstatus wählen.", "status")
            self.created = ResidenceEntry.of(deadlines.record_residence(
                self._state.ctx, self._client_id, status,
                granted_on=self.granted_on.checked_value("granted_on"),
                valid_until=self.valid_until.checked_value("valid_until"),
                note=self.note.text().strip()))
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()


class ResidenceTab(FileTab):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self._saved_info: tuple[str, str] | None = None  # (client id, text)
        self.current = QLabel(objectName="residence_current")
        self.current.setWordWrap(True)
        self.info = QLabel(objectName="residence_info")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #1b5e20;")
        self.consent_hint = hint_label(
            "Der Aufenthaltsstatus wird nur mit einer Einwilligung in die Datenverarbeitung "
            "erfasst (Reiter „Einwilligungen“).", "residence_consent_hint")
        self.record_button = QPushButton("Status erfassen …", objectName="record_residence")
        self.model: RowTableModel[ResidenceRow] = RowTableModel([
            Column("Aufenthaltsstatus", lambda r: r.status, stretch=True),
            Column("erteilt am", lambda r: format_date(r.granted_on)),
            Column("gültig bis", lambda r: format_date(r.valid_until)),
            Column("Notiz", lambda r: r.note),
            Column("erfasst am", lambda r: format_date(r.recorded_on)),
        ], self)
        self.history = make_table(self.model, "residence_history", self)

        self.checklist_box = QGroupBox("§ 104c – Voraussetzungen für § 25a/§ 25b",
                                       objectName="p104c_checklist")
        grid = QGridLayout(self.checklist_box)
        self.checks: dict[str, QCheckBox] = {}
        self.check_dates: dict[str, QLabel] = {}
        for row, term in enumerate(state.reference.rules.p104c_checklist):
            box = QCheckBox(term.label, objectName=f"check_{term.code}")
            when = QLabel(objectName=f"check_{term.code}_date")
            when.setStyleSheet("color: #555;")
            box.toggled.connect(lambda checked, code=term.code: self.set_item(code, checked))
            self.checks[term.code] = box
            self.check_dates[term.code] = when
            grid.addWidget(box, row, 0)
            grid.addWidget(when, row, 1)
        grid.setColumnStretch(1, 1)

        current_box = QGroupBox("Aktueller Status")
        current_layout = QVBoxLayout(current_box)
        current_layout.addWidget(self.current)
        current_layout.addWidget(self.info)
        current_layout.addWidget(self.consent_hint)
        row = QHBoxLayout()
        row.addWidget(self.record_button)
        row.addStretch(1)
        current_layout.addLayout(row)
        top = QHBoxLayout()
        top.addWidget(current_box, 3)
        top.addWidget(self.checklist_box, 2)
        history_box = QGroupBox("Verlauf des Aufenthaltsstatus")
        QVBoxLayout(history_box).addWidget(self.history)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(history_box, 1)
        self.record_button.clicked.connect(self.record)

    def refresh(self) -> None:
        file = self._file
        assert file is not None
        ref = self._state.reference
        records = list(file.residence)
        self.model.set_rows([
            ResidenceRow(r.id, ref.label("residence_statuses", r.status), r.granted_on,
                         r.valid_until, r.note, r.created_at.date())
            for r in reversed(records)])
        current = records[-1] if records else None
        self.current.setText(self._describe(current))
        consent = self.consent_active()
        self.consent_hint.setVisible(not consent)
        self.record_button.setEnabled(consent)
        info = self._saved_info
        self.info.setText(info[1] if info and info[0] == file.client.id else "")
        self.info.setVisible(bool(self.info.text()))

        items = {c.item: c for c in file.checklist}
        show = bool(items) or (current is not None and is_p104c(self._state, current.status))
        self.checklist_box.setVisible(show)
        for code, box in self.checks.items():
            entry = items.get(code)
            box.blockSignals(True)
            box.setChecked(bool(entry and entry.fulfilled))
            box.blockSignals(False)
            box.setEnabled(consent)
            when = entry.fulfilled_on if entry and entry.fulfilled else None
            self.check_dates[code].setText(f"erfüllt seit {format_date(when)}" if when else "")

    def _describe(self, record: ResidenceEntry | None) -> str:
        if record is None:
            return "Noch kein Aufenthaltsstatus erfasst."
        label = html.escape(self._state.reference.label("residence_statuses", record.status))
        parts = [f"<b>{label}</b>"]
        dates = []
        if record.granted_on:
            dates.append(f"erteilt am {format_date(record.granted_on)}")
        if record.valid_until:
            dates.append(f"gültig bis {format_date(record.valid_until)}")
            days = (record.valid_until - self._state.today()).days
            if days < 0:
                dates.append("<span style='color:#b71c1c'>abgelaufen</span>")
            elif days <= 60:
                dates.append(f"<span style='color:#b71c1c'>noch {days} Tage</span>")
        if dates:
            parts.append(" · ".join(dates))
        if is_p104c(self._state, record.status):
            parts.append(f"{self._state.reference.rules.p104c_validity_months} Monate ab "
                         "Erteilung, nicht verlängerbar; Antrag nach § 25a/§ 25b vor Ablauf.")
        return "<br>".join(parts)

    def residence_dialog(self) -> ResidenceDialog:
        assert self._file is not None
        return ResidenceDialog(self._state, self._file.client.id, parent=self)

    def record(self) -> None:
        open_dialog(self.residence_dialog(), self._dialog_saved)

    def _dialog_saved(self, dialog: ResidenceDialog) -> None:
        if dialog.created is not None:
            self.residence_saved(dialog.created)

    def residence_saved(self, record: ResidenceEntry) -> None:
        """Say what casework computed (end date, Fristen), then reload the file."""
        assert self._file is not None
        ref = self._state.reference
        text = f"Gespeichert: {ref.label('residence_statuses', record.status)}"
        if record.valid_until:
            text += f", gültig bis {format_date(record.valid_until)}"
        if is_p104c(self._state, record.status):
            weeks = " und ".join(str(w) for w in ref.rules.p104c_reminder_weeks)
            text += (f" (berechnet: {ref.rules.p104c_validity_months} Monate ab Erteilung). "
                     f"Fristen angelegt: Ablauf und Erinnerungen {weeks} Wochen vorher.")
        elif record.valid_until:
            text += ". Frist für den Ablauf angelegt."
        # The file has reloaded already (the vault reported the save); show the note now.
        self._saved_info = (self._file.client.id, text)
        self.info.setText(text)
        self.info.setVisible(True)

    def set_item(self, code: str, fulfilled: bool) -> None:
        assert self._file is not None
        try:
            deadlines.set_checklist_item(self._state.ctx, self._file.client.id, code, fulfilled)
        except KimdeskError as exc:
            self.report_error("Prüfpunkt nicht gespeichert", exc.message)
            self.refresh()
