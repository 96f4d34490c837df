"""Termin anlegen: a date with a time of day (a Termin, a Begleitung zu einer Behörde) beside the
date-only Fristen; Heute lists it and the iCalendar export carries it pseudonymised."""

from __future__ import annotations

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import appointments
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.ui.fields import (
    CodeCombo,
    DateField,
    FieldErrors,
    save_cancel_buttons,
    save_on_ctrl_enter,
    set_tab_order,
)
from kimdesk.ui.state import AppState


class AppointmentDialog(QDialog):
    def __init__(self, state: AppState, client_id: str, cases: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self.created: appointments.AppointmentRow | None = None
        self.setWindowTitle("Termin anlegen")
        self.setMinimumWidth(480)
        self.kind = CodeCombo(appointments.KINDS.items(), parent=self)
        self.kind.setObjectName("appointment_kind")
        self.day = DateField(state.today, self)
        self.day.setObjectName("appointment_day")
        self.starts_at = QTimeEdit(QTime(9, 0), objectName="appointment_time")
        self.starts_at.setDisplayFormat("HH:mm")
        self.duration = QSpinBox(objectName="appointment_duration")
        self.duration.setRange(5, appointments.MAX_MINUTES)
        self.duration.setSingleStep(15)
        self.duration.setValue(60)
        self.duration.setSuffix(" Min.")
        self.title = QLineEdit(objectName="appointment_title")
        self.title.setMaxLength(appointments.MAX_TEXT)
        self.title.setPlaceholderText("Betreff, z. B. Jobcenter: Weiterbewilligung")
        self.place = QLineEdit(objectName="appointment_place")
        self.place.setPlaceholderText("z. B. Ausländerbehörde Kleve, Büro")
        self.case = CodeCombo(cases, empty="– ohne Fall –", parent=self)
        self.case.setObjectName("appointment_case")
        if cases:
            self.case.set_code(cases[0][0])
        self.note = QPlainTextEdit(objectName="appointment_note")
        self.note.setTabChangesFocus(True)
        self.note.setMaximumHeight(70)
        form = QFormLayout()
        form.addRow("&Art", self.kind)
        form.addRow("&Datum", self.day)
        form.addRow("&Uhrzeit", self.starts_at)
        form.addRow("D&auer", self.duration)
        form.addRow("&Betreff", self.title)
        form.addRow("&Ort", self.place)
        form.addRow("&Fall", self.case)
        form.addRow("&Notiz", self.note)
        hint = QLabel("Im Kalender-Export erscheint nur „Termin KIM – Fall …“: kein Name, "
                      "kein Ort, kein Betreff.", objectName="appointment_hint")
        hint.setWordWrap(True)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "kind": self.kind, "day": self.day, "starts_at": self.starts_at,
            "duration_minutes": self.duration, "title": self.title, "place": self.place,
            "case_id": self.case, "client_id": self.case})
        buttons = save_cancel_buttons(self, "Termin anlegen", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        set_tab_order(self.kind, self.day, self.starts_at, self.duration, self.title,
                      self.place, self.case, self.note)
        save_on_ctrl_enter(self, self.save)
        self.day.setFocus()

    def save(self) -> None:
        self.errors.clear()
        try:
            day = self.day.checked_value("day")
            if day is None:
                raise ValidationError("Bitte das Datum des Termins angeben.", "day")
            start = self.starts_at.time()
            self.created = appointments.add_appointment(
                self._state.ctx, self._client_id, day,
                start.toPython().replace(second=0, microsecond=0),
                kind=self.kind.code() or "", duration_minutes=self.duration.value(),
                title=self.title.text(), place=self.place.text(),
                note=self.note.toPlainText(), case_id=self.case.code())
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()
