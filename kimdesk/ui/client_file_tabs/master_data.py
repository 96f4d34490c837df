"""Stammdaten: the editable form of a person or organisation.

What is not consented is not offered: birth date, nationality, arrival, address, e-mail and
notes appear only while an Einwilligung in die Datenverarbeitung is active. "Speichern" sends
only the fields that changed. Edits survive a reload of the file (another tab saved, a sync
arrived, the vault was locked and unlocked): a field the user touched keeps what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import clients
from kimdesk.casework.records import ClientRecord
from kimdesk.casework.views import ClientFile
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models.enums import ClientKind
from kimdesk.ui.client_file_tabs.base import FileTab
from kimdesk.ui.client_file_tabs.rows import hint_label
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, format_date
from kimdesk.ui.flow_layout import FlowLayout
from kimdesk.ui.state import AppState

# The fields offered only with an active Einwilligung (kimdesk.models.clients.CONSENT_FIELDS
# minus the household fields, which the Haushalt tab handles).
CONSENT_GATED = ("birth_date", "nationality", "arrival_date", "address", "email", "notes")
TEXT_FIELDS = ("organisation_name", "first_name", "last_name", "phone", "languages",
               "interpreter_language", "address", "email", "notes")
PERSON_ONLY = ("gender", "languages", "interpreter_language", "birth_date", "nationality",
               "arrival_date")

_NO_CONSENT_HINT = (
    "Geburtsdatum, Staatsangehörigkeit, Einreisedatum, Anschrift, E-Mail und Notizen werden "
    "nur mit einer Einwilligung in die Datenverarbeitung erfasst. Die Teilnahme ist freiwillig; "
    "ohne Einwilligung bleibt es bei den Angaben, die eine Kurzintervention braucht."
)


class _Field:
    """How one form field is read and written: ``raw`` for change tracking (never raises),
    ``typed`` for saving (may raise ValidationError), ``put`` to show a stored value."""

    def __init__(self, widget: QWidget, raw: Callable[[], Any], typed: Callable[[], Any],
                 put: Callable[[Any], None]) -> None:
        self.widget, self.raw, self.typed, self.put = widget, raw, typed, put


class MasterDataTab(FileTab):
    edited = Signal()  # the user changed a field (unsaved)
    consent_requested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        ref = state.reference
        self._loading = False
        self._stored: dict[str, Any] = {}  # typed values as stored in the vault
        self._baseline: dict[str, Any] = {}  # raw widget values right after loading

        self.organisation_name = QLineEdit(objectName="organisation_name")
        self.first_name = QLineEdit(objectName="first_name")
        self.last_name = QLineEdit(objectName="last_name")
        self.gender = CodeCombo(((t.code, t.label) for t in ref.terms("genders")), parent=self)
        self.gender.setObjectName("gender")
        self.municipality = CodeCombo(((m.code, m.name) for m in ref.municipalities),
                                      empty="– bitte wählen –", parent=self)
        self.municipality.setObjectName("municipality")
        self.phone = QLineEdit(objectName="phone")
        self.languages = QLineEdit(objectName="languages")
        self.languages.setPlaceholderText("z. B. Arabisch, Englisch")
        self.interpreter_language = QLineEdit(objectName="interpreter_language")
        self.interpreter_language.setPlaceholderText("leer, wenn keine Sprachmittlung nötig ist")
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
        self.notes.setTabChangesFocus(True)
        self.notes.setMinimumHeight(80)
        self.notes.setMaximumHeight(140)
        for widget in (self.organisation_name, self.first_name, self.last_name, self.phone,
                       self.languages, self.interpreter_language, self.address, self.email):
            widget.setMinimumWidth(320)

        self._fields: dict[str, _Field] = {
            "organisation_name": self._line(self.organisation_name),
            "first_name": self._line(self.first_name),
            "last_name": self._line(self.last_name),
            "gender": self._combo(self.gender),
            "municipality": self._combo(self.municipality),
            "phone": self._line(self.phone),
            "languages": self._line(self.languages),
            "interpreter_language": self._line(self.interpreter_language),
            "birth_date": self._date(self.birth_date, "birth_date"),
            "nationality": self._combo(self.nationality),
            "arrival_date": self._date(self.arrival_date, "arrival_date"),
            "address": self._line(self.address),
            "email": self._line(self.email),
            "notes": _Field(self.notes, self.notes.toPlainText,
                            lambda: self.notes.toPlainText().strip(),
                            lambda v: self.notes.setPlainText(v or "")),
        }

        self.basics = QFormLayout()
        self.basics.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self._name_labels = {
            "organisation_name": QLabel("Name der Organisation*"),
            "first_name": QLabel("Vorname"),
            "last_name": QLabel("Nachname*"),
        }
        self.basics.addRow(self._name_labels["organisation_name"], self.organisation_name)
        self.basics.addRow(self._name_labels["first_name"], self.first_name)
        self.basics.addRow(self._name_labels["last_name"], self.last_name)
        self.anonymous_hint = hint_label(
            "Anonyme Beratung: Name und Telefon werden nicht gespeichert.", "anonymous_hint")
        self.basics.addRow("", self.anonymous_hint)
        self.basics.addRow("Geschlecht", self.gender)
        self.basics.addRow("Kommune*", self.municipality)
        self.basics.addRow("Telefon", self.phone)
        self.basics.addRow("Sprachen", self.languages)
        self.basics.addRow("Sprachmittlung in", self.interpreter_language)
        basics_box = QGroupBox("Angaben für die Beratung")
        basics_box.setLayout(self.basics)

        self.more = QGroupBox("Weitere Angaben (mit Einwilligung)", objectName="consent_fields")
        self.more_form = QFormLayout(self.more)
        self.more_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.more_form.addRow("Geburtsdatum", self.birth_date)
        self.more_form.addRow("Staatsangehörigkeit", self.nationality)
        self.more_form.addRow("Einreisedatum", self.arrival_date)
        self.more_form.addRow("Anschrift", self.address)
        self.more_form.addRow("E-Mail", self.email)
        self.more_form.addRow("Notizen", self.notes)

        self.no_consent = QGroupBox("Weitere Angaben", objectName="no_consent_box")
        no_consent_layout = QVBoxLayout(self.no_consent)
        no_consent_layout.addWidget(hint_label(_NO_CONSENT_HINT, "no_consent_hint"))
        self.goto_consents = QPushButton("Einwilligung erfassen …", objectName="goto_consents")
        self.goto_consents.clicked.connect(self.consent_requested)
        goto_row = QHBoxLayout()
        goto_row.addWidget(self.goto_consents)
        goto_row.addStretch(1)
        no_consent_layout.addLayout(goto_row)

        self.errors_label = QLabel(objectName="master_data_errors")
        self.errors = FieldErrors(self.errors_label, {n: f.widget for n, f in self._fields.items()})
        self.status = QLabel(objectName="master_data_status")
        self.status.setStyleSheet("color: #1b5e20;")
        self.save_button = QPushButton("Speichern", objectName="save_master_data")
        self.save_button.setDefault(True)
        self.discard_button = QPushButton("Änderungen verwerfen",
                                          objectName="discard_master_data")
        self.save_button.clicked.connect(self.save)
        self.discard_button.clicked.connect(self.discard)

        content = QWidget()
        # Two columns where they fit; at 150 % on 1366×768 one under the other.
        columns = FlowLayout(fill=True)
        columns.addWidget(basics_box)
        right_column = QWidget(content)
        right = QVBoxLayout(right_column)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.more)
        right.addWidget(self.no_consent)
        right.addStretch(1)
        columns.addWidget(right_column)
        inner = QVBoxLayout(content)
        inner.addLayout(columns)
        inner.addStretch(1)
        scroll = QScrollArea(objectName="master_data_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)

        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.errors_label)
        layout.addLayout(buttons)

        for name, spec in self._fields.items():
            signal = (spec.widget.currentIndexChanged if isinstance(spec.widget, QComboBox)
                      else spec.widget.textChanged)
            signal.connect(lambda *_args, n=name: self._field_edited(n))
        self._update_buttons()

    # --- field plumbing -----------------------------------------------------------------------

    @staticmethod
    def _line(widget: QLineEdit) -> _Field:
        return _Field(widget, widget.text, lambda: widget.text().strip(),
                      lambda v: widget.setText(v or ""))

    @staticmethod
    def _combo(widget: CodeCombo) -> _Field:
        return _Field(widget, widget.code, widget.code, widget.set_code)

    @staticmethod
    def _date(widget: DateField, name: str) -> _Field:
        return _Field(widget, widget.text, lambda: widget.checked_value(name), widget.set_value)

    def _visible_fields(self) -> list[str]:
        if self._file is None:
            return []
        client = self._file.client
        names = list(self._fields)
        if client.kind == ClientKind.ORGANISATION:
            names = [n for n in names if n not in PERSON_ONLY]
        else:
            names.remove("organisation_name")
        if client.anonymous:
            names = [n for n in names if n not in ("first_name", "last_name", "phone")]
        if not self.consent_active():
            names = [n for n in names if n not in CONSENT_GATED]
        return names

    # --- loading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        assert self._file is not None
        self._load(self._file.client, keep_edits=True)

    def show_new_file(self, file: ClientFile) -> None:
        """Show another person's file, dropping unsaved edits of the previous one."""
        self._file = file
        self._load(file.client, keep_edits=False)

    def _load(self, client: ClientRecord, *, keep_edits: bool) -> None:
        self._loading = True
        try:
            for name, spec in self._fields.items():
                value = getattr(client, name)
                untouched = name not in self._baseline or spec.raw() == self._baseline[name]
                if not keep_edits or untouched:
                    spec.put(value)
                self._stored[name] = value
                self._baseline_after_put(name, value)
            self._arrange(client)
        finally:
            self._loading = False
        self.errors.clear()
        self._update_buttons()

    def _baseline_after_put(self, name: str, value: Any) -> None:
        # The raw form of a stored value, computed without touching a widget a user edited.
        spec = self._fields[name]
        if isinstance(spec.widget, DateField):
            self._baseline[name] = format_date(value)
        elif isinstance(spec.widget, CodeCombo):
            index = spec.widget.findData(value)
            self._baseline[name] = spec.widget.itemData(max(index, 0))
        else:
            self._baseline[name] = value or ""

    def _arrange(self, client: ClientRecord) -> None:
        organisation = client.kind == ClientKind.ORGANISATION
        self.basics.setRowVisible(self.organisation_name, organisation)
        self._name_labels["first_name"].setText(
            "Ansprechperson Vorname" if organisation else "Vorname")
        self._name_labels["last_name"].setText(
            "Ansprechperson Nachname" if organisation else "Nachname*")
        for widget in (self.gender, self.languages, self.interpreter_language):
            self.basics.setRowVisible(widget, not organisation)
        for widget in (self.first_name, self.last_name):
            self.basics.setRowVisible(widget, not client.anonymous)
        self.basics.setRowVisible(self.anonymous_hint, client.anonymous)
        self.phone.setEnabled(not client.anonymous)
        for widget in (self.birth_date, self.nationality, self.arrival_date):
            self.more_form.setRowVisible(widget, not organisation)
        consent = self.consent_active()
        self.more.setVisible(consent)
        self.no_consent.setVisible(not consent)

    # --- editing ------------------------------------------------------------------------------

    def changed_fields(self) -> list[str]:
        """Visible fields whose text differs from what was loaded."""
        return [n for n in self._visible_fields() if self._fields[n].raw() != self._baseline[n]]

    def has_unsaved_changes(self) -> bool:
        return bool(self.changed_fields())

    def _field_edited(self, name: str) -> None:
        if self._loading:
            return
        self.status.clear()
        self._update_buttons()
        self.edited.emit()

    def _update_buttons(self) -> None:
        dirty = self._file is not None and self.has_unsaved_changes()
        self.save_button.setEnabled(dirty)
        self.discard_button.setEnabled(dirty)

    def changes(self) -> dict[str, Any]:
        """Typed values of the edited fields that differ from the vault; ValidationError on
        bad input (e.g. a date that does not exist)."""
        result: dict[str, Any] = {}
        for name in self.changed_fields():
            value = self._fields[name].typed()
            stored = self._stored.get(name)
            if name in TEXT_FIELDS:
                value, stored = value or "", (stored or "").strip()
            if value != stored:
                result[name] = value
        return result

    def save(self) -> bool:
        """Save the changed fields; errors are shown at their field, nothing typed is lost."""
        if self._file is None:
            return False
        self.errors.clear()
        self.status.clear()
        try:
            changes = self.changes()
            if not changes:
                self._load(self._file.client, keep_edits=False)
                return True
            client = ClientRecord.of(clients.update_client(self._state.ctx, self._file.client.id,
                                                                 changes))
        except ValidationError as exc:
            self.errors.show(exc.message, exc.field)
            return False
        except KimdeskError as exc:
            self.errors.show(exc.message)
            return False
        self._load(client, keep_edits=False)
        self.status.setText("Gespeichert.")
        return True

    def discard(self) -> None:
        if self._file is not None:
            self._load(self._file.client, keep_edits=False)
            self.status.setText("Änderungen verworfen.")
