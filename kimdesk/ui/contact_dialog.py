"""Kontakt erfassen: one dialog a practised user fills by keyboard alone.

Tab order follows the form; dates accept "heute" and "+14"; topics are toggled with the space
bar; Strg+Enter saves from anywhere. A Kurzintervention's 6th session offers the conversion.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import cases
from kimdesk.casework.case_views import ContactRow
from kimdesk.casework.records import ContactRecord
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models.enums import CaseKind
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, save_cancel_buttons, set_tab_order
from kimdesk.ui.state import AppState


class ContactDialog(QDialog):
    """Kontakt erfassen; with ``correcting`` (a recorded contact) "Kontakt korrigieren": the
    form starts with its values and saving supersedes it (contacts are append-only)."""

    def __init__(self, state: AppState, case_id: str, parent: QWidget | None = None,
                 people: list[tuple[str, str]] | None = None,
                 correcting: ContactRow | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._case_id = case_id
        self._correcting = correcting
        self.result_info: cases.ContactRecorded | None = None
        self.corrected: ContactRecord | None = None
        ref = state.reference
        self.setWindowTitle("Kontakt korrigieren" if correcting else "Kontakt erfassen")
        self.setMinimumWidth(560)

        self.contact_on = DateField(state.today, self)
        self.contact_on.setObjectName("contact_on")
        self.contact_on.set_value(state.today())
        self.duration = QSpinBox(objectName="duration")
        self.duration.setRange(0, cases.MAX_CONTACT_MINUTES)
        self.duration.setSingleStep(15)
        self.duration.setSuffix(" Min.")
        self.duration.setValue(30)
        self.mode = CodeCombo(((t.code, t.label) for t in ref.terms("contact_kinds")), parent=self)
        self.mode.setObjectName("mode")
        self.place = QLineEdit(objectName="place")
        self.place.setPlaceholderText("z. B. Unterkunft, Büro, Jobcenter")
        self.person = CodeCombo(people or [], parent=self)
        self.person.setObjectName("person")
        self.client_present = QCheckBox("Ratsuchende:r anwesend", objectName="client_present")
        self.client_present.setChecked(True)
        self.interpreter = QCheckBox("Sprach- und Kulturmittlung", objectName="interpreter")
        self.interpreter_language = QLineEdit(objectName="interpreter_language")
        self.interpreter_language.setPlaceholderText("Sprache")
        self.interpreter_language.setEnabled(False)
        self.interpreter.toggled.connect(self.interpreter_language.setEnabled)
        self.topics = QListWidget(objectName="topics")
        for term in ref.terms("topics"):
            item = QListWidgetItem(term.label)
            item.setData(Qt.ItemDataRole.UserRole, term.code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.topics.addItem(item)
        self.topics.setMaximumHeight(150)
        self.note = QPlainTextEdit(objectName="note")
        self.note.setTabChangesFocus(True)
        self.note.setMaximumHeight(90)
        self.follow_up = DateField(state.today, self)
        self.follow_up.setObjectName("follow_up")
        self.follow_up.setToolTip("Nächste Wiedervorlage, z. B. +14 für in zwei Wochen")
        self.follow_up_subject = QLineEdit(objectName="follow_up_subject")
        self.follow_up_subject.setPlaceholderText("Betreff, z. B. Bescheid des Jobcenters prüfen")
        self.follow_up_subject.setMaxLength(cases.MAX_SUBJECT)

        interpreter_row = QHBoxLayout()
        interpreter_row.addWidget(self.interpreter)
        interpreter_row.addWidget(self.interpreter_language, 1)
        form = QFormLayout()
        form.addRow("&Datum", self.contact_on)
        form.addRow("D&auer", self.duration)
        form.addRow("&Kontaktart", self.mode)
        form.addRow("&Ort", self.place)
        if people and len(people) > 1:
            form.addRow("&Person", self.person)
        else:
            # One person: nothing to choose. Hidden, the combo neither floats over the form
            # nor takes a Tab stop; it still answers the case's only person.
            self.person.hide()
        form.addRow("", self.client_present)
        form.addRow("", interpreter_row)
        form.addRow("&Themen", self.topics)
        form.addRow("&Notiz", self.note)
        form.addRow("&Wiedervorlage", self.follow_up)
        form.addRow("&Betreff der Wiedervorlage", self.follow_up_subject)

        self.warning = QLabel(objectName="session_warning")
        self.warning.setStyleSheet("color: #735b00;")
        self.warning.hide()
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "contact_on": self.contact_on, "duration_minutes": self.duration, "mode": self.mode,
            "interpreter_language": self.interpreter_language, "topics": self.topics,
            "follow_up_on": self.follow_up, "client_id": self.person,
            "follow_up_subject": self.follow_up_subject,
        })
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.save)
        # Strg+Enter saves from every field, also where the field itself would take the key
        # (a line break in the note) and where the window is not the active one.
        for field in (self.contact_on, self.duration, self.mode, self.place, self.person,
                      self.interpreter_language, self.topics, self.note, self.follow_up,
                      self.follow_up_subject):
            field.installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        set_tab_order(self.contact_on, self.duration, self.mode, self.place, self.person,
                      self.client_present, self.interpreter, self.interpreter_language,
                      self.topics, self.note, self.follow_up, self.follow_up_subject,
                      self.save_button)
        if correcting is not None:
            self._fill(correcting)
        self.contact_on.setFocus()

    def _fill(self, row: ContactRow) -> None:
        """The recorded contact's values; a correction sets no new Wiedervorlage."""
        self.contact_on.set_value(row.contact_on)
        self.duration.setValue(row.duration_minutes)
        self.mode.set_code(row.mode)
        self.place.setText(row.place)
        self.client_present.setChecked(row.client_present)
        if self.person.findData(row.client_id) >= 0:
            self.person.set_code(row.client_id)
        self.interpreter.setChecked(bool(row.interpreter_language))
        self.interpreter_language.setText(row.interpreter_language)
        for i in range(self.topics.count()):
            item = self.topics.item(i)
            checked = item.data(Qt.ItemDataRole.UserRole) in row.topics
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.note.setPlainText(row.note)
        for widget in (self.follow_up, self.follow_up_subject):
            widget.setEnabled(False)
            widget.setToolTip("Beim Korrigieren wird keine neue Wiedervorlage angelegt.")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.save()
            return True
        return super().eventFilter(watched, event)

    def checked_topics(self) -> list[str]:
        return [
            self.topics.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.topics.count())
            if self.topics.item(i).checkState() == Qt.CheckState.Checked
        ]

    def contact_input(self) -> cases.ContactInput:
        contact_on = self.contact_on.checked_value("contact_on")
        if contact_on is None:
            raise ValidationError("Bitte das Datum des Kontakts angeben.", "contact_on")
        return cases.ContactInput(
            contact_on=contact_on,
            mode=self.mode.code() or "",
            duration_minutes=self.duration.value(),
            place=self.place.text(),
            interpreter=self.interpreter.isChecked(),
            interpreter_language=self.interpreter_language.text(),
            client_present=self.client_present.isChecked(),
            topics=self.checked_topics(),
            note=self.note.toPlainText(),
            follow_up_on=self.follow_up.checked_value("follow_up_on"),
            follow_up_subject=self.follow_up_subject.text(),
            client_id=self.person.code(),
        )

    def save(self) -> None:
        self.errors.clear()
        try:
            data = self.contact_input()
            if self._correcting is not None:
                data.follow_up_on, data.follow_up_subject = None, ""
                self.corrected = ContactRecord.of(cases.correct_contact(
                    self._state.ctx, self._correcting.id, data))
                self.accept()
                return
            self.result_info = cases.record_contact(self._state.ctx, self._case_id, data)
        except cases.ConversionRequired as exc:
            if self._offer_conversion(exc):
                self.save()
            return
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()

    def _offer_conversion(self, exc: cases.ConversionRequired) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Kurzintervention umwandeln?", exc.message,
                          parent=self)
        box.setObjectName("conversion_offer")
        support = box.addButton("In prozesshafte Begleitung umwandeln",
                                QMessageBox.ButtonRole.AcceptRole)
        management = box.addButton("In Case Management umwandeln",
                                   QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Abbrechen", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        target = {support: CaseKind.PROCESS_SUPPORT, management: CaseKind.CASE_MANAGEMENT}.get(
            box.clickedButton())  # type: ignore[call-overload]
        if target is None:
            self.errors.show(exc.message)
            return False
        try:
            cases.convert_case(self._state.ctx, self._case_id, target.value,
                               reason=f"{exc.session_number}. Sitzung")
        except KimdeskError as error:
            self.errors.show(error.message, getattr(error, "field", None))
            return False
        return True
