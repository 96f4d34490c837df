"""Dialogs of the Fall screen: Umwandeln (to a more intensive kind) and Fall abschließen.

The rules and their messages come from casework; the dialogs show a refusal beside the field
it concerns and keep what was typed.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import cases
from kimdesk.casework.case_views import CaseDetail
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models.enums import CaseKind
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, save_cancel_buttons
from kimdesk.ui.phases.base import plain_text
from kimdesk.ui.state import AppState


class ConvertCaseDialog(QDialog):
    """Umwandeln: only more intensive kinds are offered; the reason goes into the history."""

    def __init__(self, state: AppState, detail: CaseDetail, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self._state = state
        self._case_id = detail.id
        self.setWindowTitle("Fall umwandeln")
        self.setMinimumWidth(480)
        current = CaseKind(detail.kind)
        self.target = CodeCombo(((k.value, k.label) for k in CaseKind
                                 if k.intensity > current.intensity), parent=self)
        self.target.setObjectName("convert_kind")
        self.reason = QLineEdit(objectName="convert_reason")
        self.reason.setPlaceholderText("z. B. mehrere Stellen beteiligt, längere Begleitung nötig")
        self.on = DateField(state.today, self)
        self.on.setObjectName("convert_on")
        self.on.set_value(state.today())
        form = QFormLayout()
        form.addRow("Bisher", QLabel(current.label))
        form.addRow("&Umwandeln in", self.target)
        form.addRow("&Grund", self.reason)
        form.addRow("&Datum", self.on)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {"kind": self.target,
                                                      "reason": self.reason, "on": self.on})
        buttons = save_cancel_buttons(self, "Umwandeln")
        buttons.accepted.connect(self.save)
        layout = QVBoxLayout(self)
        note = QLabel("Der bisherige Verlauf bleibt erhalten; ein Case Management beginnt mit "
                      "dem Intake.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        self.reason.setFocus()

    def save(self) -> None:
        self.errors.clear()
        try:
            target = self.target.code()
            if target is None:
                raise ValidationError("Der Fall hat bereits die intensivste Fallart.", "kind")
            cases.convert_case(self._state.ctx, self._case_id, target,
                               reason=self.reason.text().strip(),
                               on=self.on.checked_value("on"))
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()


class CloseCaseDialog(QDialog):
    """Fall abschließen: Abschlussgrund (vocabulary closing_reasons), date, Abschlussgespräch."""

    def __init__(self, state: AppState, detail: CaseDetail, proposed_reason: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._case_id = detail.id
        self.setWindowTitle("Fall abschließen")
        self.setMinimumWidth(520)
        ref = state.reference
        self.reason = CodeCombo(((t.code, t.label) for t in ref.terms("closing_reasons")),
                                empty="– bitte wählen –", parent=self)
        self.reason.setObjectName("closing_reason")
        self.reason.set_code(proposed_reason)
        self.closed_on = DateField(state.today, self)
        self.closed_on.setObjectName("closed_on")
        self.closed_on.set_value(state.today())
        self.note = plain_text("closing_note", 110,
                               "Was wurde erreicht, was wurde vereinbart, an wen kann sich die "
                               "Familie künftig wenden?")
        form = QFormLayout()
        form.addRow("Abschluss&grund", self.reason)
        form.addRow("&Datum", self.closed_on)
        form.addRow("A&bschlussgespräch", self.note)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "closing_reason": self.reason, "closed_on": self.closed_on})
        buttons = save_cancel_buttons(self, "Abschließen")
        buttons.accepted.connect(self.save)
        warning = QLabel("Nach dem Abschluss kann der Fall nicht mehr geändert werden. Offene "
                         "Wiedervorlagen des Falls werden mit abgeschlossen.")
        warning.setWordWrap(True)
        warning.setStyleSheet("color: #735b00;")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(warning)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        (self.note if proposed_reason else self.reason).setFocus()

    def save(self) -> None:
        self.errors.clear()
        try:
            reason = self.reason.code()
            if reason is None:
                raise ValidationError("Bitte den Abschlussgrund wählen.", "closing_reason")
            cases.close_case(self._state.ctx, self._case_id, reason,
                             note=self.note.toPlainText().strip(),
                             on=self.closed_on.checked_value("closed_on"))
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()
