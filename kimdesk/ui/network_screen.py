"""Netzwerk: Einrichtungen per Kommune with their Rechtskreis and contact details."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import network
from kimdesk.casework.records import InstitutionRecord
from kimdesk.errors import KimdeskError
from kimdesk.ui import hub as areas
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import CodeCombo, FieldErrors, save_cancel_buttons
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.state import AppState

COLUMNS = ("Einrichtung", "Art", "Rechtskreis", "Kommune", "Ansprechperson", "Telefon", "E-Mail")


class InstitutionDialog(QDialog):
    """Create or edit one Einrichtung; the Rechtskreis defaults to the type's."""

    def __init__(self, state: AppState, institution: InstitutionRecord | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._institution = institution
        self.saved_id: str | None = None
        ref = state.reference
        self.setWindowTitle("Einrichtung bearbeiten" if institution else "Neue Einrichtung")
        self.setMinimumWidth(480)
        self.name = QLineEdit(objectName="name")
        self.institution_type = CodeCombo(
            ((t.code, t.label) for t in ref.terms("institution_types")), parent=self)
        self.institution_type.setObjectName("institution_type")
        self.legal_domain = CodeCombo(((t.code, t.label) for t in ref.terms("legal_domains")),
                                      empty="wie die Art der Einrichtung", parent=self)
        self.legal_domain.setObjectName("legal_domain")
        self.municipality = CodeCombo(((m.code, m.name) for m in ref.municipalities),
                                      empty="kreisweit", parent=self)
        self.municipality.setObjectName("municipality")
        self.contact_person = QLineEdit(objectName="contact_person")
        self.phone = QLineEdit(objectName="phone")
        self.email = QLineEdit(objectName="email")
        self.address = QLineEdit(objectName="address")
        self.notes = QPlainTextEdit(objectName="notes")
        self.notes.setMaximumHeight(80)
        self.notes.setTabChangesFocus(True)  # Tab goes on to the buttons, not into the text
        if institution is not None:
            self.name.setText(institution.name)
            self.institution_type.set_code(institution.institution_type)
            self.legal_domain.set_code(institution.legal_domain)
            self.municipality.set_code(institution.municipality or None)
            self.contact_person.setText(institution.contact_person)
            self.phone.setText(institution.phone)
            self.email.setText(institution.email)
            self.address.setText(institution.address)
            self.notes.setPlainText(institution.notes)
        form = QFormLayout()
        form.addRow("Name*", self.name)
        form.addRow("Art*", self.institution_type)
        form.addRow("Rechtskreis", self.legal_domain)
        form.addRow("Kommune", self.municipality)
        form.addRow("Ansprechperson", self.contact_person)
        form.addRow("Telefon", self.phone)
        form.addRow("E-Mail", self.email)
        form.addRow("Anschrift", self.address)
        form.addRow("Notizen", self.notes)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "name": self.name, "institution_type": self.institution_type,
            "legal_domain": self.legal_domain, "municipality": self.municipality})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)

    def save(self) -> None:
        self.errors.clear()
        data = network.InstitutionInput(
            name=self.name.text(), institution_type=self.institution_type.code() or "",
            legal_domain=self.legal_domain.code() or "",
            municipality=self.municipality.code() or "", address=self.address.text(),
            phone=self.phone.text(), email=self.email.text(),
            contact_person=self.contact_person.text(), notes=self.notes.toPlainText())
        try:
            if self._institution is None:
                saved = network.create_institution(self._state.ctx, data)
            else:
                saved = network.update_institution(self._state.ctx, self._institution.id, data)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()


class NetworkScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._institutions: list[InstitutionRecord] = []
        self._reloader = ReloadWhenShown(self, state, self.reload, areas=(areas.NETWORK,))
        ref = state.reference
        self.municipality = CodeCombo(((m.code, m.name) for m in ref.municipalities),
                                      empty="Alle Kommunen", parent=self)
        self.municipality.setObjectName("network_municipality")
        self.municipality.setAccessibleName("Filter Kommune")
        self.filter = QLineEdit(objectName="network_filter")
        self.filter.setPlaceholderText("Einrichtung oder Ansprechperson filtern …")
        self.table = QTableWidget(0, len(COLUMNS), objectName="institution_table")
        self.table.setAccessibleName("Akteure und Einrichtungen")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.new_button = QPushButton("Neue Einrichtung …", objectName="new_institution")
        self.edit_button = QPushButton("Bearbeiten …", objectName="edit_institution")
        top = QHBoxLayout()
        top.addWidget(self.filter, 2)
        top.addWidget(self.municipality, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.edit_button)
        bottom.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Netzwerk</h2>"))
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.municipality.currentIndexChanged.connect(self.reload)
        self.filter.textChanged.connect(self._fill)
        self.new_button.clicked.connect(lambda: self._edit(None))
        self.edit_button.clicked.connect(self._edit_selected)
        self.table.cellDoubleClicked.connect(lambda row, _c: self._edit_selected())

    def reload(self) -> None:
        if not self._state.unlocked:
            return
        self._institutions = network.institutions(self._state.ctx, self.municipality.code())
        self._reloader.stale = False
        self._fill()

    def _fill(self) -> None:
        ref = self._state.reference
        needle = self.filter.text().casefold().strip()
        shown = [i for i in self._institutions
                 if not needle or needle in i.name.casefold()
                 or needle in i.contact_person.casefold()]
        municipalities = {m.code: m.name for m in ref.municipalities}
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(shown))
        for row, institution in enumerate(shown):
            cells = (institution.name, ref.label("institution_types", institution.institution_type),
                     ref.label("legal_domains", institution.legal_domain),
                     municipalities.get(institution.municipality, "kreisweit"),
                     institution.contact_person, institution.phone, institution.email)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, institution.id)
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)

    def _edit_selected(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        institution_id = items[0].data(Qt.ItemDataRole.UserRole)
        match = next((i for i in self._institutions if i.id == institution_id), None)
        self._edit(match)

    def _edit(self, institution: InstitutionRecord | None) -> None:
        open_dialog(InstitutionDialog(self._state, institution, self))
