"""Haushalt: the members of the person's household with their role, and relations.

A household and relations are personal data beyond a Kurzintervention, so they are offered
only with an active Einwilligung (casework refuses a household without one, too).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import clients, file_actions
from kimdesk.errors import KimdeskError
from kimdesk.ui.client_dialog import ClientDialog
from kimdesk.ui.client_file_tabs.base import FileTab
from kimdesk.ui.client_file_tabs.rows import (
    compact,
    hint_label,
    make_table,
    selected_row,
)
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import CodeCombo, FieldErrors, format_date, save_cancel_buttons
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

# Relation choices as a user says them; (stored kind, this person is the first side).
RELATION_CHOICES = {
    "spouse": ("Ehepartner:in von", "spouse", True),
    "parent_of": ("Elternteil von", "parent_of", True),
    "child_of": ("Kind von", "parent_of", False),
    "sibling": ("Geschwister von", "sibling", True),
    "other": ("sonstige Beziehung zu", "other", True),
}
_SEEN_FROM_OTHER_SIDE = {"parent_of": "Kind von"}


@dataclass(frozen=True)
class MemberRow:
    id: str
    name: str
    role: str
    birth_date: date | None
    is_self: bool


@dataclass(frozen=True)
class RelationRow:
    id: str
    relation: str  # "Elternteil von"
    other_id: str
    other_name: str


def _relation_text(kind: str, first_side: bool) -> str:
    if not first_side and kind in _SEEN_FROM_OTHER_SIDE:
        return _SEEN_FROM_OTHER_SIDE[kind]
    return next(label for label, stored, first in RELATION_CHOICES.values()
                if stored == kind and first)


class HouseholdDialog(QDialog):
    """Haushalt anlegen: label, Kommune, address, and the role of the person of this file."""

    def __init__(self, state: AppState, client_id: str, *, label: str, municipality: str,
                 address: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self.created_id: str | None = None
        self.setWindowTitle("Haushalt anlegen")
        self.setMinimumWidth(480)
        self.label = QLineEdit(label, objectName="household_name")
        self.municipality = CodeCombo(((m.code, m.name) for m in state.reference.municipalities),
                                      empty="– bitte wählen –", parent=self)
        self.municipality.setObjectName("household_municipality")
        self.municipality.set_code(municipality)
        self.address = QLineEdit(address, objectName="household_address")
        self.role = CodeCombo(((r, r) for r in clients.HOUSEHOLD_ROLES), parent=self)
        self.role.setObjectName("own_role")
        form = QFormLayout()
        form.addRow("Bezeichnung*", self.label)
        form.addRow("Kommune*", self.municipality)
        form.addRow("Anschrift", self.address)
        form.addRow("Rolle dieser Person", self.role)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "label": self.label, "municipality": self.municipality})
        buttons = save_cancel_buttons(self, "Anlegen", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)

    def save(self) -> None:
        self.errors.clear()
        ctx = self._state.ctx
        try:
            household = clients.create_household(
                ctx, self.label.text(), self.municipality.code() or "",
                self.address.text().strip(), first_member=self._client_id,
                role=self.role.code() or "")
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.created_id = household.id
        self.accept()


class AddMemberDialog(QDialog):
    """Person zum Haushalt hinzufügen: find an existing person by name, or create a new one."""

    def __init__(self, state: AppState, household_id: str, *, exclude: set[str],
                 last_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._household_id = household_id
        self._exclude = exclude
        self._last_name = last_name
        self.added_id: str | None = None
        self.setWindowTitle("Person zum Haushalt hinzufügen")
        self.setMinimumSize(520, 420)
        self.search = QLineEdit(objectName="member_search")
        self.search.setPlaceholderText("Name oder Geburtsdatum eingeben …")
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget(objectName="member_results")
        self.new_person = QPushButton("Neue Person anlegen …", objectName="new_member")
        self.role = CodeCombo(((r, r) for r in clients.HOUSEHOLD_ROLES), parent=self)
        self.role.setObjectName("member_role")
        self.role.set_code("Kind")
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "household_id": self.results, "other": self.results})

        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.new_person)
        form = QFormLayout()
        form.addRow("Rolle im Haushalt", self.role)
        buttons = save_cancel_buttons(self, "Hinzufügen", self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Person suchen (Name, Teil des Namens oder Geburtsdatum):"))
        layout.addLayout(search_row)
        layout.addWidget(self.results, 1)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)

        self._debounce = QTimer(self, singleShot=True, interval=150)
        self._debounce.timeout.connect(self.run_search)
        self.search.textChanged.connect(self._debounce.start)
        self.new_person.clicked.connect(self.create_person)
        self.search.setFocus()

    def run_search(self) -> None:
        self._debounce.stop()
        self.results.clear()
        query = self.search.text()
        if not query.strip():
            return
        for hit in clients.find_clients(self._state.ctx, query):
            if hit.id in self._exclude:
                continue
            text = hit.display_name + (f", geb. {format_date(hit.birth_date)}"
                                       if hit.birth_date else "")
            self._add_result(hit.id, text)
        if self.results.count():
            self.results.setCurrentRow(0)
        else:
            self.results.addItem(QListWidgetItem("Keine Person gefunden."))

    def _add_result(self, client_id: str, text: str) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, client_id)
        self.results.addItem(item)
        return item

    def selected_id(self) -> str | None:
        item = self.results.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def create_person(self) -> None:
        dialog = ClientDialog(self._state, parent=self)
        dialog.setObjectName("new_member_dialog")
        dialog.prefill_name(self.search.text().strip() or self._last_name)
        open_dialog(dialog, lambda d: self.person_created(d.created_id, d.first_name.text(),
                                                          d.last_name.text()))

    def person_created(self, client_id: str, first_name: str, last_name: str) -> None:
        """Select a person just created with the ClientDialog."""
        self.results.clear()
        name = ", ".join(part for part in (last_name.strip(), first_name.strip()) if part)
        self.results.setCurrentItem(self._add_result(client_id, f"{name} (neu angelegt)"))

    def save(self) -> None:
        self.errors.clear()
        if self._debounce.isActive():  # Enter right after typing: show the hits first
            self.run_search()
            return
        client_id = self.selected_id()
        if client_id is None:
            self.errors.show("Bitte eine Person auswählen oder neu anlegen.", "other")
            return
        try:
            clients.add_to_household(self._state.ctx, self._household_id, client_id,
                                     self.role.code() or "")
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.added_id = client_id
        self.accept()


class RelationDialog(QDialog):
    """Beziehung erfassen: this person is <relation> <other person>."""

    def __init__(self, state: AppState, client_id: str, client_name: str,
                 candidates: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self.created = False
        self.setWindowTitle("Beziehung erfassen")
        self.setMinimumWidth(480)
        self.kind = CodeCombo(((code, label) for code, (label, _k, _f)
                               in RELATION_CHOICES.items()), parent=self)
        self.kind.setObjectName("relation_kind")
        self.other = CodeCombo(candidates, empty="– bitte wählen –", parent=self)
        self.other.setObjectName("relation_other")
        compact(self.other)
        self.search = QLineEdit(objectName="relation_search")
        self.search.setPlaceholderText("weitere Person suchen (Name) …")
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.run_search)
        self.search.textChanged.connect(self._debounce.start)
        form = QFormLayout()
        who = QLabel(client_name)
        who.setWordWrap(True)
        form.addRow("Person", who)
        form.addRow("ist", self.kind)
        form.addRow("von/zu", self.other)
        form.addRow("", self.search)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {"kind": self.kind, "other": self.other})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)

    def run_search(self) -> None:
        """Add persons matching the search text to the choice."""
        self._debounce.stop()
        if not self.search.text().strip():
            return
        for hit in clients.find_clients(self._state.ctx, self.search.text(), limit=20):
            if hit.id != self._client_id and self.other.findData(hit.id) < 0:
                self.other.addItem(hit.display_name, hit.id)
        if self.other.count() > 1 and self.other.code() is None:
            self.other.setCurrentIndex(1)

    def save(self) -> None:
        self.errors.clear()
        if self._debounce.isActive():  # Enter right after typing: show the hits first
            self.run_search()
            return
        other = self.other.code()
        if other is None:
            self.errors.show("Bitte die andere Person wählen.", "other")
            return
        _label, kind, first_side = RELATION_CHOICES[self.kind.code() or "other"]
        first, second = (self._client_id, other) if first_side else (other, self._client_id)
        try:
            clients.add_relation(self._state.ctx, first, second, kind)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.created = True
        self.accept()


class HouseholdTab(FileTab):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.summary = QLabel(objectName="household_summary")
        self.summary.setWordWrap(True)
        self.consent_hint = hint_label(
            "Haushalt und Beziehungen werden nur mit einer Einwilligung in die "
            "Datenverarbeitung erfasst (Reiter „Einwilligungen“).", "household_consent_hint")
        self.create_button = QPushButton("Haushalt anlegen …", objectName="create_household")
        self.add_button = QPushButton("Person hinzufügen …", objectName="add_member")
        self.open_button = QPushButton("Akte öffnen", objectName="open_member")
        self.relation_button = QPushButton("Beziehung erfassen …", objectName="add_relation")

        self.members_model: RowTableModel[MemberRow] = RowTableModel([
            Column("Name", lambda r: r.name + (" (diese Akte)" if r.is_self else ""),
                   stretch=True),
            Column("Rolle im Haushalt", lambda r: r.role),
            Column("Geburtsdatum", lambda r: format_date(r.birth_date)),
        ], self)
        self.members = make_table(self.members_model, "household_members", self)
        self.relations_model: RowTableModel[RelationRow] = RowTableModel([
            Column("Beziehung", lambda r: r.relation),
            Column("Person", lambda r: r.other_name, stretch=True),
        ], self)
        self.relations = make_table(self.relations_model, "relations", self)

        members_box = QGroupBox("Haushalt/Familie")
        members_layout = QVBoxLayout(members_box)
        members_layout.addWidget(self.summary)
        members_layout.addWidget(self.consent_hint)
        members_layout.addWidget(self.members, 1)
        row = QHBoxLayout()
        row.addWidget(self.create_button)
        row.addWidget(self.add_button)
        row.addStretch(1)
        row.addWidget(self.open_button)
        members_layout.addLayout(row)
        relations_box = QGroupBox("Beziehungen")
        relations_layout = QVBoxLayout(relations_box)
        relations_layout.addWidget(self.relations, 1)
        row = QHBoxLayout()
        row.addWidget(self.relation_button)
        row.addStretch(1)
        relations_layout.addLayout(row)
        layout = QHBoxLayout(self)
        layout.addWidget(members_box, 3)
        layout.addWidget(relations_box, 2)

        self.create_button.clicked.connect(self.create_household)
        self.add_button.clicked.connect(self.add_member)
        self.open_button.clicked.connect(self.open_member)
        self.members.doubleClicked.connect(self.open_member)
        self.relation_button.clicked.connect(self.add_relation)

    def refresh(self) -> None:
        file = self._file
        assert file is not None
        client = file.client
        consent = self.consent_active()
        rows = [MemberRow(client.id, client.display_name, client.household_role,
                          client.birth_date, True)]
        rows += [MemberRow(m.id, m.display_name, m.household_role, m.birth_date, False)
                 for m in file.members]
        self.members_model.set_rows(rows if file.household else [])
        if file.household:
            municipality = self._state.reference.municipality(file.household.municipality).name
            count = len(rows)
            self.summary.setText(f"<b>{html.escape(file.household.label)}</b> · {municipality} · "
                                 f"{count} {'Person' if count == 1 else 'Personen'}")
        else:
            self.summary.setText("Für diese Person ist noch kein Haushalt erfasst.")
        known = {r.id: r.name for r in rows}
        others = {r.other_id if r.client_id == client.id else r.client_id
                  for r in file.relations}
        missing = others - set(known)
        if missing:
            known |= file_actions.client_names(self._state.ctx, missing)
        relation_rows = []
        for relation in file.relations:
            first_side = relation.client_id == client.id
            other = relation.other_id if first_side else relation.client_id
            relation_rows.append(RelationRow(relation.id, _relation_text(relation.kind,
                                                                         first_side),
                                             other, known.get(other, "unbekannt")))
        self.relations_model.set_rows(relation_rows)
        self.consent_hint.setVisible(not consent)
        self.create_button.setVisible(file.household is None)
        self.create_button.setEnabled(consent)
        self.add_button.setEnabled(consent and file.household is not None)
        self.relation_button.setEnabled(consent)

    def _selected_member(self) -> MemberRow | None:
        row = selected_row(self.members)
        return row if isinstance(row, MemberRow) else None

    def create_household(self) -> None:
        assert self._file is not None
        client = self._file.client
        dialog = HouseholdDialog(
            self._state, client.id, label=f"Familie {client.last_name}".strip(),
            municipality=client.municipality, address=client.address, parent=self)
        open_dialog(dialog)

    def add_member_dialog(self) -> AddMemberDialog:
        assert self._file is not None and self._file.household is not None
        exclude = {self._file.client.id, *(m.id for m in self._file.members)}
        return AddMemberDialog(self._state, self._file.household.id, exclude=exclude,
                               last_name=self._file.client.last_name, parent=self)

    def add_member(self) -> None:
        open_dialog(self.add_member_dialog())

    def open_member(self) -> None:
        member = self._selected_member()
        if member is not None and not member.is_self:
            self._state.hub.client_opened.emit(member.id)

    def relation_dialog(self) -> RelationDialog:
        assert self._file is not None
        candidates = [(m.id, m.display_name) for m in self._file.members]
        return RelationDialog(self._state, self._file.client.id,
                              self._file.client.display_name, candidates, parent=self)

    def add_relation(self) -> None:
        open_dialog(self.relation_dialog())
