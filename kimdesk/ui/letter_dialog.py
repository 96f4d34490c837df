"""Brief aus Vorlage: choose one of the county's templates, fill it from the Akte (a case, an
Einrichtung or a Termin where the template needs one, and the few values typed by hand), read
and edit the text, and save it as PDF where the user chooses (nothing else is written)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import appointments, case_views
from kimdesk.errors import KimdeskError
from kimdesk.reports import letters
from kimdesk.ui import printing
from kimdesk.ui.fields import CodeCombo, FieldErrors, format_date
from kimdesk.ui.state import AppState


class LetterDialog(QDialog):
    def __init__(self, state: AppState, client_id: str, cases: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self.letter: letters.Letter | None = None
        self.saved_to: Path | None = None
        self.choose_path: printing.PathChooser | None = None  # tests answer the save dialog
        self.setWindowTitle("Brief aus Vorlage")
        self.setMinimumWidth(620)
        ctx = state.ctx
        self._templates = {t.code: t for t in letters.templates()}
        self.template = CodeCombo(((t.code, t.title) for t in self._templates.values()),
                                  parent=self)
        self.template.setObjectName("letter_template")
        self.case = CodeCombo(cases, empty="– ohne Fall –", parent=self)
        self.case.setObjectName("letter_case")
        if cases:
            self.case.set_code(cases[0][0])
        self.institution = CodeCombo(
            ((i.id, i.name) for i in case_views.institution_rows(ctx)),
            empty="– bitte wählen –", parent=self)
        self.institution.setObjectName("letter_institution")
        self.appointment = CodeCombo(
            ((a.id, f"{format_date(a.day)} {a.starts_at:%H:%M} – {a.title}")
             for a in appointments.appointments_of(ctx, client_id)),
            empty="– bitte wählen –", parent=self)
        self.appointment.setObjectName("letter_appointment")
        self._form = QFormLayout()
        self._form.addRow("&Vorlage", self.template)
        self._form.addRow("&Fall", self.case)
        self._form.addRow("&Einrichtung", self.institution)
        self._form.addRow("&Termin", self.appointment)
        self._inputs: dict[str, QLineEdit | QPlainTextEdit] = {}
        self._input_rows = QFormLayout()

        self.fill_button = QPushButton("&Ausfüllen", objectName="letter_fill")
        self.subject = QLineEdit(objectName="letter_subject")
        self.body = QPlainTextEdit(objectName="letter_body")
        self.body.setTabChangesFocus(True)
        self.body.setMinimumHeight(180)
        text_form = QFormLayout()
        text_form.addRow("Be&treff", self.subject)
        text_form.addRow("Te&xt", self.body)
        self.errors_label = QLabel(objectName="errors")
        self._error_fields: dict[str, QWidget] = {
            "institution_id": self.institution, "appointment_id": self.appointment,
            "case_id": self.case, "body": self.body}
        self.errors = FieldErrors(self.errors_label, self._error_fields)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Schließen")
        self.save_button = buttons.addButton("Als &PDF speichern …",
                                             QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setObjectName("letter_save")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self._form)
        layout.addLayout(self._input_rows)
        layout.addWidget(self.fill_button)
        layout.addLayout(text_form, 1)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)

        self.template.currentIndexChanged.connect(self._template_chosen)
        self.fill_button.clicked.connect(self.fill)
        self.save_button.clicked.connect(self.save_pdf)
        self._template_chosen()
        self.template.setFocus()

    def _template_chosen(self) -> None:
        template = self._templates.get(self.template.code() or "")
        while self._input_rows.rowCount():
            self._input_rows.removeRow(0)
        self._inputs.clear()
        if template is None:
            return
        self.institution.setEnabled(template.recipient == letters.INSTITUTION)
        self.appointment.setEnabled(template.needs_appointment)
        for name, label in template.inputs.items():
            field: QLineEdit | QPlainTextEdit
            if name == "anliegen":
                field = QPlainTextEdit(objectName=f"letter_input_{name}")
                field.setTabChangesFocus(True)
                field.setMaximumHeight(80)
            else:
                field = QLineEdit(objectName=f"letter_input_{name}")
            self._inputs[name] = field
            self._input_rows.addRow(label, field)
            self._error_fields[name] = field  # FieldErrors reads this dict
        self.letter = None

    def _typed(self) -> dict[str, str]:
        return {name: field.toPlainText() if isinstance(field, QPlainTextEdit) else field.text()
                for name, field in self._inputs.items()}

    def fill(self) -> bool:
        """Fill the template from the Akte; the text can then be edited."""
        self.errors.clear()
        try:
            self.letter = letters.fill(
                self._state.ctx, self.template.code() or "", self._client_id,
                case_id=self.case.code(), institution_id=self.institution.code(),
                appointment_id=self.appointment.code(), inputs=self._typed())
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return False
        self.subject.setText(self.letter.subject)
        self.body.setPlainText(self.letter.body)
        return True

    def save_pdf(self) -> None:
        if self.letter is None and not self.fill():
            return
        assert self.letter is not None
        letter = letters.Letter(self.letter.template, self.letter.title, self.letter.client_id,
                                self.letter.recipient, self.subject.text(),
                                self.body.toPlainText(), self.letter.sender)
        ctx = self._state.ctx

        def saved(path: Path) -> None:
            self.saved_to = path
            self._state.hub.status_message.emit(f"Brief gespeichert: {path.name}")

        # The file name names the template, never the person (it may be shared).
        printing.save_document(
            self, lambda: letters.letter_pdf(ctx, letter),
            printing.file_name(letter.title, "", ctx.today()),
            title="Brief als PDF speichern", choose_path=self.choose_path, on_saved=saved,
            on_failed=self.errors.show)
