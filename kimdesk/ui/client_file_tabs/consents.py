"""Einwilligungen und Schweigepflichtentbindungen: list, record, revoke.

No blanket consent: a Schweigepflichtentbindung names its recipient (an institution of the
network, or a kind of institution), the kinds of information and the purpose; health data must
be named as a special category. The rules live in casework; this tab shows their messages.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
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

from kimdesk.casework import consents, network
from kimdesk.casework.consents import CONSENT_FORMS, ConsentInput
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import Consent
from kimdesk.models.enums import ConsentKind
from kimdesk.ui.client_file_tabs.base import FileTab, consent_state
from kimdesk.ui.client_file_tabs.rows import (
    MUTED,
    compact,
    hint_label,
    make_table,
    selected_row,
)
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, format_date, save_cancel_buttons
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

KIND_LABELS = {
    ConsentKind.DATA_PROCESSING.value: "Einwilligung Datenverarbeitung",
    ConsentKind.RELEASE.value: "Schweigepflichtentbindung",
}


@dataclass(frozen=True)
class ConsentRow:
    id: str
    kind: str
    recipient: str
    information: str
    purpose: str
    health: bool
    given_on: date
    valid_until: date | None
    revoked_on: date | None
    status: str
    form: str


def _recipient(consent: Consent, institutions: dict[str, str], state: AppState) -> str:
    if consent.kind != ConsentKind.RELEASE:
        return "KIM Kreis Kleve"
    parts = []
    if consent.recipient_institution_id:
        parts.append(institutions.get(consent.recipient_institution_id, "Einrichtung"))
    elif consent.recipient_type:
        parts.append("jede Stelle: "
                     + state.reference.label("institution_types", consent.recipient_type))
    if consent.recipient_text:
        parts.append(consent.recipient_text)
    return ", ".join(parts)


class ConsentDialog(QDialog):
    """Einwilligung or Schweigepflichtentbindung erfassen (``kind`` decides which)."""

    def __init__(self, state: AppState, client_id: str, kind: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self._kind = kind
        self.created: Consent | None = None
        ref = state.reference
        release = kind == ConsentKind.RELEASE
        self.setWindowTitle("Schweigepflichtentbindung erfassen" if release
                            else "Einwilligung erfassen")
        self.setMinimumWidth(680)

        self.institution = CodeCombo(
            ((i.id, i.name) for i in network.institutions(state.ctx)) if release else (),
            empty="– keine bestimmte Einrichtung –", parent=self)
        self.institution.setObjectName("recipient_institution")
        compact(self.institution, 40)
        self.recipient_type = CodeCombo(
            ((t.code, t.label) for t in ref.terms("institution_types")),
            empty="– bitte wählen –", parent=self)
        self.recipient_type.setObjectName("recipient_type")
        compact(self.recipient_type, 40)
        self.recipient_text = QLineEdit(objectName="recipient_text")
        self.recipient_text.setPlaceholderText("z. B. Ansprechperson oder Abteilung")
        self.information = QGroupBox("Welche Informationen dürfen weitergegeben werden?",
                                     objectName="information_kinds")
        grid = QGridLayout(self.information)
        self.information_boxes: dict[str, QCheckBox] = {}
        for index, term in enumerate(ref.terms("information_kinds")):
            box = QCheckBox(term.label, objectName=f"info_{term.code}")
            self.information_boxes[term.code] = box
            grid.addWidget(box, index // 2, index % 2)
        self.special = QCheckBox(
            "Gesundheitsdaten ausdrücklich als besondere Kategorie benannt (Art. 9 DSGVO)",
            objectName="special_categories")
        rows = (len(self.information_boxes) + 1) // 2
        grid.addWidget(self.special, rows, 0, 1, 2)
        self.mutual = QCheckBox("gegenseitig (die Stelle darf auch dem KIM berichten)",
                                objectName="mutual")

        self.purpose = QPlainTextEdit(objectName="purpose")
        self.purpose.setTabChangesFocus(True)
        self.purpose.setMaximumHeight(60)
        if not release:
            self.purpose.setPlainText(ConsentInput().purpose)
        self.given_on = DateField(state.today, self)
        self.given_on.setObjectName("given_on")
        self.given_on.set_value(state.today())
        self.valid_until = DateField(state.today, self)
        self.valid_until.setObjectName("valid_until")
        self.valid_until.setToolTip("leer lassen, wenn die Einwilligung bis zum Widerruf gilt")
        self.form = CodeCombo(CONSENT_FORMS.items(), parent=self)
        self.form.setObjectName("consent_form")
        self.language = QLineEdit("Deutsch", objectName="consent_language")
        self.interpreter = QCheckBox("mit Sprach- und Kulturmittlung erklärt",
                                     objectName="consent_interpreter")

        form = QFormLayout()
        if release:
            form.addRow("Einrichtung", self.institution)
            form.addRow("oder Art der Stelle", self.recipient_type)
            form.addRow("Ansprechperson", self.recipient_text)
            form.addRow(self.information)
            form.addRow("", self.mutual)
        form.addRow("Zweck*", self.purpose)
        form.addRow("erteilt am*", self.given_on)
        form.addRow("gültig bis", self.valid_until)
        form.addRow("Form", self.form)
        language_row = QHBoxLayout()
        language_row.addWidget(self.language, 1)
        language_row.addWidget(self.interpreter)
        form.addRow("Sprache", language_row)

        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "recipient_institution_id": self.institution, "recipient_type": self.recipient_type,
            "information_kinds": self.information, "special_categories": self.special,
            "purpose": self.purpose, "given_on": self.given_on,
            "valid_until": self.valid_until, "form": self.form, "kind": self.form,
        })
        buttons = save_cancel_buttons(self, "Speichern", self.save)

        layout = QVBoxLayout(self)
        if release:
            layout.addWidget(hint_label(
                "Eine Schweigepflichtentbindung gilt nur gegenüber der genannten Stelle, für die "
                "angekreuzten Informationen und den genannten Zweck.", "release_hint"))
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        self.institution.currentIndexChanged.connect(self._institution_changed)
        self._institution_changed()
        (self.institution if release else self.purpose).setFocus()

    def _institution_changed(self) -> None:
        # A named institution fixes the kind of recipient; the type is only the alternative.
        self.recipient_type.setEnabled(self.institution.code() is None)

    def consent_input(self) -> ConsentInput:
        release = self._kind == ConsentKind.RELEASE
        given_on = self.given_on.checked_value("given_on")
        if given_on is None:
            raise ValidationError("Bitte das Datum der Einwilligung angeben.", "given_on")
        institution = self.institution.code() if release else None
        return ConsentInput(
            kind=self._kind,
            purpose=self.purpose.toPlainText().strip(),
            given_on=given_on,
            recipient_institution_id=institution,
            recipient_type=(self.recipient_type.code() or "") if release and not institution
            else "",
            recipient_text=self.recipient_text.text().strip() if release else "",
            information_kinds=[code for code, box in self.information_boxes.items()
                               if box.isChecked()] if release else [],
            special_categories=release and self.special.isChecked(),
            mutual=release and self.mutual.isChecked(),
            form=self.form.code() or "schriftlich",
            language=self.language.text().strip() or "Deutsch",
            interpreter=self.interpreter.isChecked(),
            valid_until=self.valid_until.checked_value("valid_until"),
        )

    def save(self) -> None:
        self.errors.clear()
        try:
            self.created = consents.record_consent(self._state.ctx, self._client_id,
                                                   self.consent_input())
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()


class RevokeDialog(QDialog):
    """Widerruf: from which day, and a note (e.g. how it was declared)."""

    def __init__(self, state: AppState, consent_id: str, what: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._consent_id = consent_id
        self.revoked = False
        self.setWindowTitle("Einwilligung widerrufen")
        self.setMinimumWidth(480)
        self.revoked_on = DateField(state.today, self)
        self.revoked_on.setObjectName("revoked_on")
        self.revoked_on.set_value(state.today())
        self.note = QPlainTextEdit(objectName="revocation_note")
        self.note.setTabChangesFocus(True)
        self.note.setMaximumHeight(80)
        self.note.setPlaceholderText("z. B. mündlich im Beratungsgespräch erklärt")
        what_label = QLabel(what)
        what_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Widerruf von", what_label)
        form.addRow("wirksam ab*", self.revoked_on)
        form.addRow("Notiz", self.note)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {"revoked_on": self.revoked_on})
        buttons = save_cancel_buttons(self, "Widerruf speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint_label(
            "Der Widerruf gilt ab dem genannten Tag; was vorher rechtmäßig geschehen ist, "
            "bleibt wirksam.", "revoke_hint"))
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)

    def save(self) -> None:
        self.errors.clear()
        try:
            on = self.revoked_on.checked_value("revoked_on")
            consents.revoke_consent(self._state.ctx, self._consent_id, on,
                                    self.note.toPlainText().strip())
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.revoked = True
        self.accept()


class ConsentsTab(FileTab):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        info_labels = {t.code: t.label.split(" (")[0]
                       for t in state.reference.terms("information_kinds")}
        self._info_labels = info_labels
        self.model: RowTableModel[ConsentRow] = RowTableModel([
            Column("Art", lambda r: r.kind),
            Column("Stelle", lambda r: r.recipient),
            Column("Informationen", lambda r: r.information),
            Column("Zweck", lambda r: r.purpose, stretch=True),
            Column("Gesundheit", lambda r: "ja" if r.health else "–"),
            Column("erteilt am", lambda r: format_date(r.given_on)),
            Column("gültig bis", lambda r: format_date(r.valid_until) or "bis Widerruf"),
            Column("Status", lambda r: r.status
                   + (f" am {format_date(r.revoked_on)}" if r.revoked_on else "")),
        ], self, foreground=lambda r: None if r.status == "aktiv" else MUTED)
        self.table = make_table(self.model, "consent_table", self)
        self.record_consent = QPushButton("Einwilligung erfassen …", objectName="record_consent")
        self.record_release = QPushButton("Schweigepflichtentbindung erfassen …",
                                          objectName="record_release")
        self.revoke = QPushButton("Widerrufen …", objectName="revoke_consent")
        self.detail = QLabel(objectName="consent_detail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        detail_scroll = QScrollArea()
        detail_scroll.setWidgetResizable(True)
        detail_scroll.setFrameShape(QFrame.Shape.NoFrame)
        detail_scroll.setWidget(self.detail)
        detail_scroll.setMaximumHeight(90)

        buttons = QHBoxLayout()
        buttons.addWidget(self.record_consent)
        buttons.addWidget(self.record_release)
        buttons.addStretch(1)
        buttons.addWidget(self.revoke)
        layout = QVBoxLayout(self)
        layout.addWidget(hint_label(
            "Einwilligungen sind freiwillig, zweckgebunden und jederzeit widerrufbar. Jede "
            "Schweigepflichtentbindung wird für eine Stelle, bestimmte Informationen und einen "
            "Zweck erfasst – keine Pauschaleinwilligung.", "consent_hint"))
        layout.addWidget(self.table, 1)
        layout.addWidget(detail_scroll)
        layout.addLayout(buttons)

        self.record_consent.clicked.connect(
            lambda: self.record(ConsentKind.DATA_PROCESSING.value))
        self.record_release.clicked.connect(lambda: self.record(ConsentKind.RELEASE.value))
        self.revoke.clicked.connect(self.revoke_selected)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

    def refresh(self) -> None:
        file = self._file
        assert file is not None
        today = self._state.today()
        institutions = {}
        if any(c.recipient_institution_id for c in file.consents):
            institutions = {i.id: i.name for i in network.institutions(self._state.ctx)}
        rows = [
            ConsentRow(
                c.id, KIND_LABELS.get(c.kind, c.kind), _recipient(c, institutions, self._state),
                ", ".join(self._info_labels.get(k, k) for k in c.information_kinds) or "–",
                c.purpose, c.special_categories, c.given_on, c.valid_until, c.revoked_on,
                consent_state(c, today), CONSENT_FORMS.get(c.form, c.form))
            for c in sorted(file.consents, key=lambda c: c.given_on, reverse=True)
        ]
        self.model.set_rows(rows)
        self._selection_changed()

    def _selected(self) -> ConsentRow | None:
        row = selected_row(self.table)
        return row if isinstance(row, ConsentRow) else None

    def _selection_changed(self) -> None:
        row = self._selected()
        self.revoke.setEnabled(row is not None and row.revoked_on is None)
        if row is None:
            self.detail.setText("Eine Zeile wählen, um alle Angaben zu sehen.")
            return
        esc = html.escape
        self.detail.setText(
            f"<b>{esc(row.kind)}</b> · {esc(row.recipient)} · Form: {esc(row.form)}<br>"
            f"Informationen: {esc(row.information)}<br>Zweck: {esc(row.purpose)}")

    def consent_dialog(self, kind: str) -> ConsentDialog:
        assert self._file is not None
        return ConsentDialog(self._state, self._file.client.id, kind, parent=self)

    def record(self, kind: str) -> None:
        open_dialog(self.consent_dialog(kind))

    def select_consent(self, consent_id: str) -> None:
        for row, item in enumerate(self.model.rows()):
            if item.id == consent_id:
                self.table.selectRow(row)

    def revoke_dialog(self) -> RevokeDialog | None:
        row = self._selected()
        if row is None or row.revoked_on is not None:
            return None
        what = f"{row.kind} vom {format_date(row.given_on)} ({row.recipient})"
        return RevokeDialog(self._state, row.id, what, parent=self)

    def revoke_selected(self) -> None:
        dialog = self.revoke_dialog()
        if dialog is not None:
            open_dialog(dialog)
