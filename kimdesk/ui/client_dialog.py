"""Neue Person / neue Organisation: Stammdaten, and the Einwilligung that unlocks more fields.

What is not consented is not offered: the fields beyond a Kurzintervention stay disabled until
the Einwilligung in die Datenverarbeitung is ticked.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import clients
from kimdesk.casework.consents import CONSENT_FORMS, ConsentInput
from kimdesk.errors import KimdeskError
from kimdesk.models.enums import ClientKind
from kimdesk.ui.fields import (
    CodeCombo,
    DateField,
    FieldErrors,
    format_date,
    save_cancel_buttons,
    save_on_ctrl_enter,
    set_tab_order,
)
from kimdesk.ui.state import AppState


class ClientDialog(QDialog):
    def __init__(self, state: AppState, *, organisation: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._organisation = organisation
        self.created_id: str | None = None
        self.opened_existing_id: str | None = None  # "Vorhandene Akte öffnen" chosen
        ref = state.reference
        self.setWindowTitle("Neue Organisation" if organisation else "Neue Person")
        self.setMinimumWidth(520)

        self.organisation_name = QLineEdit(objectName="organisation_name")
        self.first_name = QLineEdit(objectName="first_name")
        self.last_name = QLineEdit(objectName="last_name")
        self.anonymous = QCheckBox("Anonyme Beratung (Kurzintervention ohne Namen)",
                                   objectName="anonymous")
        self.gender = CodeCombo(((t.code, t.label) for t in ref.terms("genders")), parent=self)
        self.gender.setObjectName("gender")
        self.gender.set_code("not_stated")
        self.municipality = CodeCombo(((m.code, m.name) for m in ref.municipalities),
                                      empty="– bitte wählen –", parent=self)
        self.municipality.setObjectName("municipality")
        self.phone = QLineEdit(objectName="phone")
        self.languages = QLineEdit(objectName="languages")
        self.interpreter_language = QLineEdit(objectName="interpreter_language")

        self.consent = QCheckBox("Einwilligung in die Datenverarbeitung liegt vor",
                                 objectName="consent")
        self.consent_form = CodeCombo(CONSENT_FORMS.items(), parent=self)
        self.consent_form.setObjectName("consent_form")
        self.consent_date = DateField(state.today, self)
        self.consent_date.setObjectName("consent_date")
        self.consent_date.set_value(state.today())

        self.birth_date = DateField(state.today, self)
        self.birth_date.setObjectName("birth_date")
        self.nationality = CodeCombo(
            sorted(((n.code, n.name) for n in ref.nationalities), key=lambda item: item[1]),
            empty="– keine Angabe –", parent=self)
        self.nationality.setObjectName("nationality")
        self.arrival_date = DateField(state.today, self)
        self.arrival_date.setObjectName("arrival_date")
        self.address = QLineEdit(objectName="address")
        self.email = QLineEdit(objectName="email")
        self.notes = QPlainTextEdit(objectName="notes")
        self.notes.setMaximumHeight(70)
        self.notes.setTabChangesFocus(True)

        basics = QFormLayout()
        if organisation:
            # Made with the dialog as parent, they would float over the form unlabelled.
            self.gender.hide()
            self.nationality.hide()
            basics.addRow("Name der Organisation*", self.organisation_name)
            basics.addRow("Ansprechperson Vorname", self.first_name)
            basics.addRow("Ansprechperson Nachname", self.last_name)
        else:
            basics.addRow("Vorname", self.first_name)
            basics.addRow("Nachname*", self.last_name)
            basics.addRow("", self.anonymous)
            basics.addRow("Geschlecht", self.gender)
        basics.addRow("Kommune*", self.municipality)
        basics.addRow("Telefon", self.phone)
        if not organisation:
            basics.addRow("Sprachen", self.languages)
            basics.addRow("Sprachmittlung in", self.interpreter_language)

        consent_box = QGroupBox("Einwilligung")
        consent_form = QFormLayout(consent_box)
        consent_form.addRow(self.consent)
        consent_form.addRow("Form", self.consent_form)
        consent_form.addRow("erteilt am", self.consent_date)

        self.more = QGroupBox("Weitere Angaben (nur mit Einwilligung)")
        more_form = QFormLayout(self.more)
        if not organisation:
            more_form.addRow("Geburtsdatum", self.birth_date)
            more_form.addRow("Staatsangehörigkeit", self.nationality)
            more_form.addRow("Einreisedatum", self.arrival_date)
        more_form.addRow("Anschrift", self.address)
        more_form.addRow("E-Mail", self.email)
        more_form.addRow("Notizen", self.notes)

        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "organisation_name": self.organisation_name, "first_name": self.first_name,
            "last_name": self.last_name, "municipality": self.municipality,
            "birth_date": self.birth_date, "nationality": self.nationality,
            "arrival_date": self.arrival_date, "address": self.address, "email": self.email,
            "notes": self.notes, "gender": self.gender, "consent_date": self.consent_date,
        })
        buttons = save_cancel_buttons(self, "Speichern", self.save)

        layout = QVBoxLayout(self)
        layout.addLayout(basics)
        layout.addWidget(consent_box)
        layout.addWidget(self.more)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)

        set_tab_order(self.organisation_name, self.first_name, self.last_name, self.anonymous,
                      self.gender, self.municipality, self.phone, self.languages,
                      self.interpreter_language, self.consent, self.consent_form,
                      self.consent_date, self.birth_date, self.nationality, self.arrival_date,
                      self.address, self.email, self.notes)
        save_on_ctrl_enter(self, self.save)
        self.consent.toggled.connect(self._consent_toggled)
        self.anonymous.toggled.connect(self._anonymous_toggled)
        self._consent_toggled(False)
        (self.organisation_name if organisation else self.first_name).setFocus()

    def prefill_name(self, text: str) -> None:
        parts = text.strip().split()
        if len(parts) >= 2:
            self.first_name.setText(" ".join(parts[:-1]))
            self.last_name.setText(parts[-1])
        elif parts:
            self.last_name.setText(parts[0])

    def _consent_toggled(self, checked: bool) -> None:
        self.more.setEnabled(checked)
        self.consent_form.setEnabled(checked)
        self.consent_date.setEnabled(checked)

    def _anonymous_toggled(self, checked: bool) -> None:
        for widget in (self.first_name, self.last_name, self.phone):
            widget.setEnabled(not checked)
        self.consent.setEnabled(not checked)
        if checked:
            self.consent.setChecked(False)

    def _input(self) -> tuple[clients.ClientInput, ConsentInput | None]:
        consent = None
        birth_date = arrival_date = None
        if self.consent.isChecked():
            consent = ConsentInput(form=self.consent_form.code() or "schriftlich",
                                   given_on=self.consent_date.checked_value("consent_date"))
            birth_date = self.birth_date.checked_value("birth_date")
            arrival_date = self.arrival_date.checked_value("arrival_date")
        with_consent = self.consent.isChecked()
        data = clients.ClientInput(
            kind=ClientKind.ORGANISATION.value if self._organisation else ClientKind.PERSON.value,
            organisation_name=self.organisation_name.text(),
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            anonymous=self.anonymous.isChecked(),
            gender=self.gender.code() or "not_stated",
            municipality=self.municipality.code() or "",
            phone=self.phone.text().strip(),
            languages=self.languages.text().strip(),
            interpreter_language=self.interpreter_language.text().strip(),
            birth_date=birth_date,
            nationality=self.nationality.code() if with_consent else None,
            arrival_date=arrival_date,
            address=self.address.text().strip() if with_consent else "",
            email=self.email.text().strip() if with_consent else "",
            notes=self.notes.toPlainText().strip() if with_consent else "",
        )
        return data, consent

    def save(self, allow_duplicate: bool = False) -> None:
        self.errors.clear()
        try:
            data, consent = self._input()
            client = clients.create_client(self._state.ctx, data, consent=consent,
                                           allow_duplicate=allow_duplicate)
        except clients.LikelyDuplicate as duplicate:
            self._ask_duplicate(duplicate)
            return
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.created_id = client.id
        self.accept()

    def _ask_duplicate(self, duplicate: clients.LikelyDuplicate) -> None:
        names = "\n".join(
            f"• {hit.display_name}"
            + (f", geb. {format_date(hit.birth_date)}" if hit.birth_date else "")
            for hit in duplicate.candidates[:5])
        box = QMessageBox(QMessageBox.Icon.Warning, "Mögliche Dublette",
                          f"{duplicate.message}\n\n{names}", parent=self)
        box.setObjectName("duplicate_warning")
        first = duplicate.candidates[0] if duplicate.candidates else None
        open_existing = None
        if first is not None:
            label = ("Vorhandene Akte öffnen" if len(duplicate.candidates) == 1
                     else f"Akte „{first.display_name}“ öffnen")
            open_existing = box.addButton(label, QMessageBox.ButtonRole.AcceptRole)
            open_existing.setObjectName("open_existing")
        back = box.addButton("Zurück", QMessageBox.ButtonRole.RejectRole)
        create = box.addButton("Trotzdem neu anlegen", QMessageBox.ButtonRole.DestructiveRole)
        create.setObjectName("create_anyway")
        # Enter must never create the duplicate: it opens the file that exists (or goes back).
        box.setDefaultButton(open_existing or back)
        box.setEscapeButton(back)
        box.exec()
        if box.clickedButton() is create:
            self.save(allow_duplicate=True)
        elif open_existing is not None and box.clickedButton() is open_existing:
            assert first is not None
            self.opened_existing_id = first.id
            self._state.hub.client_opened.emit(first.id)
            self.reject()
        else:
            self.errors.show(duplicate.message, "last_name")

