"""Linking (Durchführung, Verknüpfung): Vermittlungen to institutions of the network, whether
data is passed on (only with a matching Schweigepflichtentbindung), and their results."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import case_views, network
from kimdesk.casework.case_views import CaseDetail, InstitutionRow, ReferralRow
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models.enums import Phase
from kimdesk.reference import InstitutionType
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, format_date, save_cancel_buttons
from kimdesk.ui.flow_layout import ColumnsLayout
from kimdesk.ui.phases.base import (
    InputSnapshot,
    PhaseForm,
    action_row,
    buddy,
    configure_table,
    error_label,
    refill,
    set_people,
)
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState


class InstitutionDialog(QDialog):
    """Neue Einrichtung: name, type and Rechtskreis (proposed by the type), Kommune, contact."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.created_id: str | None = None
        ref = state.reference
        self.setWindowTitle("Neue Einrichtung")
        self.setMinimumWidth(480)
        self.name = QLineEdit(objectName="institution_name")
        self.institution_type = CodeCombo(
            ((t.code, t.label) for t in ref.terms("institution_types")),
            empty="– bitte wählen –", parent=self)
        self.institution_type.setObjectName("institution_type")
        self.legal_domain = CodeCombo(((t.code, t.label) for t in ref.terms("legal_domains")),
                                      empty="wie die Art der Einrichtung", parent=self)
        self.legal_domain.setObjectName("institution_legal_domain")
        self.municipality = CodeCombo(((m.code, m.name) for m in ref.municipalities),
                                      empty="kreisweit", parent=self)
        self.municipality.setObjectName("institution_municipality")
        self.contact_person = QLineEdit(objectName="institution_contact_person")
        self.phone = QLineEdit(objectName="institution_phone")
        self.email = QLineEdit(objectName="institution_email")
        form = QFormLayout()
        form.addRow("&Name*", self.name)
        form.addRow("&Art der Einrichtung*", self.institution_type)
        form.addRow("&Rechtskreis", self.legal_domain)
        form.addRow("&Kommune", self.municipality)
        form.addRow("Ansprech&person", self.contact_person)
        form.addRow("&Telefon", self.phone)
        form.addRow("&E-Mail", self.email)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "name": self.name, "institution_type": self.institution_type,
            "legal_domain": self.legal_domain, "municipality": self.municipality,
        })
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        self.institution_type.currentIndexChanged.connect(self._type_changed)

    def _type_changed(self) -> None:
        code = self.institution_type.code()
        if code is None:
            return
        term = self._state.reference.term("institution_types", code)
        if isinstance(term, InstitutionType):
            self.legal_domain.set_code(term.legal_domain)

    def save(self) -> None:
        self.errors.clear()
        data = network.InstitutionInput(
            name=self.name.text(), institution_type=self.institution_type.code() or "",
            legal_domain=self.legal_domain.code() or "",
            municipality=self.municipality.code() or "",
            contact_person=self.contact_person.text().strip(), phone=self.phone.text().strip(),
            email=self.email.text().strip())
        try:
            institution = network.create_institution(self._state.ctx, data)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.created_id = institution.id
        self.accept()


class LinkingForm(PhaseForm):
    phase = Phase.LINKING

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        ref = state.reference
        self._institutions: dict[str, InstitutionRow] = {}
        self.dialog: InstitutionDialog | None = None

        self.institution = CodeCombo([], empty="– Einrichtung wählen –", parent=self)
        self.institution.setObjectName("linking_institution")
        self.new_institution_button = QPushButton("Neue Einrichtung …",
                                                  objectName="linking_new_institution")
        self.person = CodeCombo([], parent=self)
        self.person.setObjectName("linking_person")
        self.purpose = QLineEdit(objectName="linking_purpose")
        self.purpose.setPlaceholderText("z. B. Coaching mit Deutschunterricht")
        self.referred_on = DateField(state.today, self)
        self.referred_on.setObjectName("linking_referred_on")
        self.referred_on.setToolTip("Leer lassen für heute")
        self.shares_data = QCheckBox("Daten werden weitergegeben", objectName="linking_shares_data")
        self.information_kinds: dict[str, QCheckBox] = {}
        kinds_grid = QGridLayout()
        kinds_grid.setContentsMargins(0, 0, 0, 0)
        for number, term in enumerate(ref.terms("information_kinds")):
            box = QCheckBox(term.label, objectName=f"linking_info_{term.code}")
            self.information_kinds[term.code] = box
            kinds_grid.addWidget(box, number // 2, number % 2)
        self.kinds_widget = QWidget(objectName="linking_information_kinds")
        self.kinds_widget.setLayout(kinds_grid)
        self.institution_info = QLabel(objectName="linking_institution_info")
        self.institution_info.setStyleSheet("color: #555;")
        self.institution_info.setWordWrap(True)
        self.release_hint = QLabel(objectName="linking_release_hint")
        self.release_hint.setWordWrap(True)
        self.refer_button = QPushButton("Vermitteln", objectName="linking_refer")
        self.errors_label = error_label("linking_errors")
        self.errors = FieldErrors(self.errors_label, {
            "institution_id": self.institution, "purpose": self.purpose,
            "referred_on": self.referred_on, "shares_data": self.shares_data,
            "information_kinds": self.kinds_widget, "client_id": self.person,
        })

        referral_box = QGroupBox("Neue Vermittlung")
        form = QFormLayout(referral_box)
        institution_row = QHBoxLayout()
        institution_row.addWidget(self.institution, 1)
        institution_row.addWidget(self.new_institution_button)
        form.addRow(buddy("&Einrichtung", self.institution), institution_row)
        form.addRow("", self.institution_info)
        form.addRow("&Person", self.person)
        form.addRow("&Zweck", self.purpose)
        form.addRow("&Datum", self.referred_on)
        form.addRow("", self.shares_data)
        form.addRow("Welche Daten", self.kinds_widget)
        form.addRow("", self.release_hint)
        form.addRow(action_row(self.errors_label, self.refer_button))

        self.model: RowTableModel[ReferralRow] = RowTableModel([
            Column("Datum", lambda r: format_date(r.referred_on)),
            Column("Person", lambda r: r.person_name),
            Column("Einrichtung", lambda r: r.institution_name),
            Column("Zweck", lambda r: r.purpose),
            Column("Daten", lambda r: ", ".join(
                ref.label("information_kinds", k) for k in r.information_kinds)
                if r.shares_data else "keine"),
            Column("Ergebnis", lambda r: ref.label("referral_outcomes", r.outcome)),
        ], self)
        self.table = QTableView(objectName="linking_table")
        self.table.setModel(self.model)
        configure_table(self.table, stretch=(2, 3, 4), fit=(0, 5), widths={1: 120})

        self.outcome = CodeCombo(((t.code, t.label) for t in ref.terms("referral_outcomes")),
                                 parent=self)
        self.outcome.setObjectName("linking_outcome")
        self.outcome_on = DateField(state.today, self)
        self.outcome_on.setObjectName("linking_outcome_on")
        self.outcome_on.setToolTip("Leer lassen für heute")
        self.save_outcome_button = QPushButton("Ergebnis speichern",
                                               objectName="linking_save_outcome")
        self.selected_label = QLabel("Eine Vermittlung in der Liste wählen.",
                                     objectName="linking_selected")
        self.selected_label.setWordWrap(True)
        self.selected_label.setTextFormat(Qt.TextFormat.PlainText)
        self.outcome_errors_label = error_label("linking_outcome_errors")
        self.outcome_errors = FieldErrors(self.outcome_errors_label, {
            "outcome": self.outcome, "outcome_on": self.outcome_on})
        outcome_box = QGroupBox("Ergebnis der Vermittlung")
        outcome_layout = QVBoxLayout(outcome_box)
        outcome_layout.addWidget(self.selected_label)
        outcome_row = QHBoxLayout()
        outcome_row.addWidget(buddy("E&rgebnis", self.outcome))
        outcome_row.addWidget(self.outcome, 1)
        outcome_row.addWidget(buddy("a&m", self.outcome_on))
        outcome_row.addWidget(self.outcome_on)
        outcome_row.addWidget(self.save_outcome_button)
        outcome_layout.addLayout(outcome_row)
        outcome_layout.addWidget(self.outcome_errors_label)

        list_box = QGroupBox("Vermittlungen")
        list_layout = QVBoxLayout(list_box)
        list_layout.addWidget(self.table, 1)
        list_layout.addWidget(outcome_box)

        editor_column = QVBoxLayout()
        editor_column.addWidget(referral_box)
        editor_column.addStretch(1)
        layout = ColumnsLayout(self)  # one under the other where the window is narrow
        layout.addLayout(editor_column, 5)
        layout.addWidget(list_box, 6)
        self._editors = [referral_box, outcome_box]
        self._outcome_box = outcome_box
        self._snapshot = InputSnapshot([self.purpose, self.referred_on, self.shares_data,
                                        *self.information_kinds.values()])

        self.refer_button.clicked.connect(self.refer)
        self.new_institution_button.clicked.connect(self.new_institution)
        self.save_outcome_button.clicked.connect(self.save_outcome)
        self.shares_data.toggled.connect(self.kinds_widget.setEnabled)
        self.institution.currentIndexChanged.connect(self._update_release_hint)
        self.institution.currentIndexChanged.connect(self._show_institution_info)
        self.person.currentIndexChanged.connect(self._update_release_hint)
        self.table.selectionModel().selectionChanged.connect(self._referral_selected)
        self.kinds_widget.setEnabled(False)
        self._update_outcome_editor()

    # --- loading ----------------------------------------------------------------------------

    def _load(self, detail: CaseDetail, reset: bool) -> None:
        if reset:
            self.purpose.clear()
            self.referred_on.clear()
            self.shares_data.setChecked(False)
            for box in self.information_kinds.values():
                box.setChecked(False)
            self.institution.set_code(None)
            self._snapshot.mark_clean()
            self.errors.clear()
            self.outcome_errors.clear()
        self.reload_institutions()
        set_people(self.person, detail.people)
        selected = self.selected_referral()
        self.model.set_rows(detail.referrals)
        if selected is not None:
            self.select_referral(selected.id)
        self._update_release_hint()
        self._update_outcome_editor()

    def reload_institutions(self) -> None:
        rows = case_views.institution_rows(self._state.ctx)
        self._institutions = {row.id: row for row in rows}
        refill(self.institution, ((row.name, row.id) for row in rows))
        self._show_institution_info()

    def _show_institution_info(self) -> None:
        ref = self._state.reference
        row = self._institutions.get(self.institution.code() or "")
        if row is None:
            self.institution_info.setText("")
            return
        parts = [ref.label("institution_types", row.institution_type),
                 ref.label("legal_domains", row.legal_domain)]
        if row.municipality:
            parts.append(ref.municipality(row.municipality).name)
        self.institution_info.setText(" · ".join(parts))

    def has_unsaved_changes(self) -> bool:
        return self._snapshot.is_dirty()

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        if not read_only:
            self._update_outcome_editor()

    def selected_referral(self) -> ReferralRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select_referral(self, referral_id: str) -> None:
        for number, row in enumerate(self.model.rows()):
            if row.id == referral_id:
                self.table.selectRow(number)
                return

    def _referral_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        row = self.selected_referral()
        if row is not None:
            self.outcome.set_code(row.outcome)
            self.outcome_on.set_value(row.outcome_on)
        self._update_outcome_editor()

    def _update_outcome_editor(self) -> None:
        row = self.selected_referral()
        open_case = self._detail is not None and self._detail.is_open
        for widget in (self.outcome, self.outcome_on, self.save_outcome_button):
            widget.setEnabled(row is not None and open_case)
        self.selected_label.setText(
            f"{row.institution_name} – {row.purpose} ({row.person_name})" if row is not None
            else "Eine Vermittlung in der Liste wählen.")

    def _update_release_hint(self) -> None:
        institution_id, client_id = self.institution.code(), self.person.code()
        if institution_id is None or client_id is None or not self._state.unlocked:
            self.release_hint.setText("")
            return
        ref = self._state.reference
        releases = case_views.releases_towards(self._state.ctx, client_id, institution_id)
        if releases:
            lines = [
                f"Schweigepflichtentbindung vom {format_date(r.given_on)}"
                + (f" bis {format_date(r.valid_until)}" if r.valid_until else "")
                + ": " + ", ".join(ref.label("information_kinds", k)
                                   for k in r.information_kinds)
                for r in releases]
            self.release_hint.setStyleSheet("color: #1b5e20;")
            self.release_hint.setText("\n".join(lines))
        else:
            self.release_hint.setStyleSheet("color: #735b00;")
            self.release_hint.setText(
                "Keine gültige Schweigepflichtentbindung gegenüber dieser Stelle: "
                "Vermittlung nur ohne Weitergabe von Daten.")

    # --- actions ----------------------------------------------------------------------------

    def new_institution(self) -> None:
        """Neue Einrichtung; opened with open() so an auto-lock cannot cut it short."""
        if self.dialog is not None:
            return
        dialog = InstitutionDialog(self._state, self)
        self.dialog = dialog

        def finished(_result: int) -> None:
            self.dialog = None
            dialog.deleteLater()
            if dialog.created_id and self._state.unlocked:
                self.reload_institutions()
                self.institution.set_code(dialog.created_id)
                self._show_institution_info()
                self._update_release_hint()

        dialog.finished.connect(finished)
        dialog.open()

    def checked_information_kinds(self) -> list[str]:
        return [code for code, box in self.information_kinds.items() if box.isChecked()]

    def refer(self) -> None:
        detail = self._detail
        if detail is None:
            return

        def action() -> object:
            institution_id = self.institution.code()
            if institution_id is None:
                raise ValidationError("Bitte die Einrichtung wählen.", "institution_id")
            shares = self.shares_data.isChecked()
            return network.refer(self._state.ctx, detail.id, network.ReferralInput(
                institution_id=institution_id, purpose=self.purpose.text(),
                referred_on=self.referred_on.checked_value("referred_on"),
                shares_data=shares,
                information_kinds=self.checked_information_kinds() if shares else [],
                client_id=self.person.code()))

        def reset(referral: object) -> None:
            self.purpose.clear()
            self.referred_on.clear()
            self.shares_data.setChecked(False)
            for box in self.information_kinds.values():
                box.setChecked(False)
            self._snapshot.mark_clean()
            self._new_referral = getattr(referral, "id", None)

        self._new_referral: str | None = None
        if self.act(self.errors, action, message="Vermittlung gespeichert.",
                    on_success=reset) and self._new_referral:
            self.select_referral(self._new_referral)

    def save_outcome(self) -> None:
        row = self.selected_referral()
        outcome = self.outcome.code()
        if row is None or outcome is None:
            return
        self.act(self.outcome_errors,
                 lambda: network.set_referral_outcome(
                     self._state.ctx, row.id, outcome,
                     on=self.outcome_on.checked_value("outcome_on")),
                 message="Ergebnis der Vermittlung gespeichert.")
