"""Die Akte (client file): header with the person's key facts and cases, and seven tabs.

Stammdaten, Haushalt, Einwilligungen, Aufenthalt, Dokumente, Verlauf, Fristen; each tab lives
in ``ui/client_file_tabs/``. The file is loaded with ``views.open_client_file`` (an audited
read) when it is shown and again after a change to one of its areas. The screen's own changes
reload it at once and are then announced on the hub; changes from elsewhere reload it when it
is visible, or when it is next shown.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import file_actions, views
from kimdesk.errors import KimdeskError
from kimdesk.models.enums import ClientKind, ConsentKind
from kimdesk.ui import hub as areas
from kimdesk.ui import printing
from kimdesk.ui.appointment_dialog import AppointmentDialog
from kimdesk.ui.client_file_tabs.base import FileTab, consent_state
from kimdesk.ui.client_file_tabs.cases import CasesPanel, NewCaseDialog
from kimdesk.ui.client_file_tabs.consents import ConsentsTab
from kimdesk.ui.client_file_tabs.deadlines import DeadlinesTab
from kimdesk.ui.client_file_tabs.documents import DocumentsTab
from kimdesk.ui.client_file_tabs.household import HouseholdTab
from kimdesk.ui.client_file_tabs.master_data import MasterDataTab
from kimdesk.ui.client_file_tabs.residence import ResidenceTab
from kimdesk.ui.client_file_tabs.rows import case_label
from kimdesk.ui.client_file_tabs.timeline import TimelineTab
from kimdesk.ui.contact_dialog import ContactDialog
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import format_date
from kimdesk.ui.flow_layout import FlowLayout
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.state import AppState

# The hub areas whose changes the file shows.
FILE_AREAS = (areas.CLIENTS, areas.CASES, areas.DEADLINES, areas.CONSENTS, areas.DOCUMENTS,
              areas.NETWORK)

_BADGE = {
    "aktiv": ("Einwilligung liegt vor", "#1b5e20", "#e8f5e9"),
    "widerrufen": ("Einwilligung widerrufen", "#b71c1c", "#ffebee"),
    "abgelaufen": ("Einwilligung abgelaufen", "#b71c1c", "#ffebee"),
    "none": ("Keine Einwilligung – nur Kurzintervention", "#7a5a00", "#fff3cd"),
}


def age_on(birth_date: date, today: date) -> int:
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


if TYPE_CHECKING:
    from kimdesk.ui.letter_dialog import LetterDialog

class ClientFileScreen(QWidget):
    file_loaded = Signal(str)  # client id, after every (re)load

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id: str | None = None
        self._file: views.ClientFile | None = None

        # --- header ---------------------------------------------------------------------------
        self.name_label = QLabel(objectName="client_name")
        self.name_label.setStyleSheet("font-size: 18pt; font-weight: bold;")
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)  # names are never markup
        self.consent_badge = QLabel(objectName="consent_badge")
        self.facts = QLabel(objectName="client_facts")
        self.facts.setTextFormat(Qt.TextFormat.PlainText)
        self.facts.setWordWrap(True)
        self.new_case_button = QPushButton("&Neuer Fall …", objectName="new_case")
        self.new_case_button.setToolTip("Neuer Fall (Alt+N)")
        self.appointment_button = QPushButton("&Termin …", objectName="new_appointment")
        self.appointment_button.setToolTip("Termin mit Uhrzeit anlegen (z. B. Begleitung zu "
                                           "einer Behörde)")
        self.letter_button = QPushButton("&Brief …", objectName="new_letter")
        self.letter_button.setToolTip("Brief aus einer Vorlage des Kreises als PDF")
        self.access_report_button = QPushButton("Auskunft Art. 15 …",
                                                objectName="print_access_report")
        self.access_report_button.setToolTip(
            "Auskunft nach Art. 15 DSGVO: alles, was über die Person gespeichert ist, als PDF")
        self.choose_path: printing.PathChooser | None = None  # test seam; None: save dialog
        self.cases_panel = CasesPanel(self)
        self.status = QLabel(objectName="file_status")
        self.status.setStyleSheet("color: #1b5e20;")

        header = QWidget(objectName="client_header")
        # Name and badge on the left, the actions on the right; where the window is narrow
        # (150 % on 1366×768) the actions wrap under the name instead of widening the screen.
        name_part = QWidget(header, objectName="client_name_row")
        name_row = QHBoxLayout(name_part)
        name_row.setContentsMargins(0, 0, 0, 0)
        name_row.addWidget(self.name_label)
        name_row.addSpacing(12)
        name_row.addWidget(self.consent_badge)
        name_row.addStretch(1)
        actions = QWidget(header, objectName="client_actions")
        action_row = QHBoxLayout(actions)
        action_row.setContentsMargins(0, 0, 0, 0)
        action_row.addStretch(1)
        action_row.addWidget(self.status)
        action_row.addWidget(self.access_report_button)
        action_row.addWidget(self.letter_button)
        action_row.addWidget(self.appointment_button)
        action_row.addWidget(self.new_case_button)
        title_row = FlowLayout(fill=True)
        title_row.addWidget(name_part)
        title_row.addWidget(actions)
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(0, 0, 0, 0)
        header_layout.addLayout(title_row)
        header_layout.addWidget(self.facts)
        header_layout.addWidget(self.cases_panel)

        # --- tabs -----------------------------------------------------------------------------
        self.master_data = MasterDataTab(state)
        self.household = HouseholdTab(state)
        self.consents = ConsentsTab(state)
        self.residence = ResidenceTab(state)
        self.documents = DocumentsTab(state)
        self.timeline = TimelineTab(state)
        self.deadlines = DeadlinesTab(state)
        self.tabs = QTabWidget(objectName="client_tabs")
        self._titles: dict[FileTab, str] = {}
        for tab, title, name in (
            (self.master_data, "Stammdaten", "tab_master_data"),
            (self.household, "Haushalt", "tab_household"),
            (self.consents, "Einwilligungen", "tab_consents"),
            (self.residence, "Aufenthalt", "tab_residence"),
            (self.documents, "Dokumente", "tab_documents"),
            (self.timeline, "Verlauf", "tab_timeline"),
            (self.deadlines, "Fristen", "tab_deadlines"),
        ):
            tab.setObjectName(name)
            self.tabs.addTab(tab, title)
            self._titles[tab] = title

        file_page = QWidget()
        file_layout = QVBoxLayout(file_page)
        file_layout.addWidget(header)
        file_layout.addWidget(self.tabs, 1)
        self.placeholder = QLabel("Keine Akte geöffnet. Bitte unter „Ratsuchende“ eine Person "
                                  "wählen.", objectName="no_file")
        self.placeholder.setWordWrap(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(file_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        self.new_case_button.clicked.connect(self.new_case)
        # Strg+K as on the Fall screen: a contact for the Akte's open case.
        QShortcut(QKeySequence("Ctrl+K"), self, activated=self.record_contact_for_open_case,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.appointment_button.clicked.connect(self.new_appointment)
        self.letter_button.clicked.connect(self.new_letter)
        self.access_report_button.clicked.connect(self.print_access_report)
        self.cases_panel.open_requested.connect(state.hub.case_opened)
        self.cases_panel.contact_requested.connect(self.record_contact)
        self.master_data.edited.connect(self._update_titles)
        self.master_data.consent_requested.connect(self._record_consent_from_master_data)
        # Edits typed before an auto-lock are kept by the tabs across the reload after unlock.
        self._reloader = ReloadWhenShown(self, state, self.reload, areas=FILE_AREAS,
                                         ready=lambda: self._client_id is not None)

    # --- public API -----------------------------------------------------------------------------

    @property
    def client_id(self) -> str | None:
        return self._client_id

    @property
    def file(self) -> views.ClientFile | None:
        return self._file

    def show_client(self, client_id: str) -> None:
        """Open the file of ``client_id``; unsaved edits of a previous file are dropped
        (the main window asks before, with ``has_unsaved_changes``)."""
        switching = client_id != self._client_id
        self._client_id = client_id
        if not self._load(fresh=switching):
            return
        if switching:
            self.tabs.setCurrentIndex(0)
            self.status.clear()

    def has_unsaved_changes(self) -> bool:
        return self._file is not None and self.master_data.has_unsaved_changes()

    def reload(self) -> None:
        if self._client_id is not None:
            self._load(fresh=False)

    def tab_index(self, object_name: str) -> int:
        for index in range(self.tabs.count()):
            if self.tabs.widget(index).objectName() == object_name:
                return index
        raise KeyError(object_name)

    # --- loading ------------------------------------------------------------------------------

    def _load(self, *, fresh: bool) -> bool:
        assert self._client_id is not None
        try:
            file = views.open_client_file(self._state.ctx, self._client_id)
        except KimdeskError as exc:
            self._file = None
            self.placeholder.setText(exc.message)
            self.pages.setCurrentIndex(0)
            return False
        self._file = file
        self._reloader.stale = False
        if fresh:
            self.master_data.show_new_file(file)
        for tab in self._titles:
            tab.show_file(file)
        self._show_header(file)
        self._update_titles()
        self.pages.setCurrentIndex(1)
        self.file_loaded.emit(file.client.id)
        return True

    def _show_header(self, file: views.ClientFile) -> None:
        client = file.client
        today = self._state.today()
        self.name_label.setText(client.display_name or "(ohne Namen)")
        facts: list[str] = []
        if client.kind == ClientKind.ORGANISATION:
            contact = " ".join(p for p in (client.first_name, client.last_name) if p)
            facts.append("Organisation" + (f", Ansprechperson {contact}" if contact else ""))
        elif client.birth_date:
            facts.append(f"geb. {format_date(client.birth_date)} "
                         f"({age_on(client.birth_date, today)} Jahre)")
        municipality = self._state.reference.municipality(client.municipality).name
        facts.append(f"Kommune {municipality}")
        if file.residence:
            current = file.residence[-1]
            status = self._state.reference.label("residence_statuses", current.status)
            if current.valid_until and current.valid_until < today:
                status += f", abgelaufen am {format_date(current.valid_until)}"
            elif current.valid_until:
                status += f", gültig bis {format_date(current.valid_until)}"
            facts.append(f"Aufenthalt: {status}")
        else:
            facts.append("Aufenthalt: nicht erfasst")
        if file.household:
            facts.append(f"Haushalt: {file.household.label} ({len(file.members) + 1} Personen)")
        if client.interpreter_language:
            facts.append(f"Sprachmittlung: {client.interpreter_language}")
        self.facts.setText(" · ".join(facts))

        processing = [c for c in file.consents if c.kind == ConsentKind.DATA_PROCESSING]
        states = [consent_state(c, today) for c in processing]
        key = ("aktiv" if "aktiv" in states else states[-1] if states else "none")
        text, color, background = _BADGE.get(key, _BADGE["none"])
        releases = sum(1 for c in file.consents
                       if c.kind == ConsentKind.RELEASE and consent_state(c, today) == "aktiv")
        if releases:
            text += f" · {releases} Schweigepflichtentbindung" + ("en" if releases > 1 else "")
        self.consent_badge.setText(text)
        self.consent_badge.setProperty("state", key)
        self.consent_badge.setStyleSheet(
            f"color: {color}; background: {background}; border-radius: 4px; padding: 2px 8px;")
        self.cases_panel.set_cases(file.cases, file.family_cases, file.family_case_clients)

    def _update_titles(self) -> None:
        file = self._file
        counts = {
            self.documents: len(file.attachments) if file else 0,
            self.deadlines: len(file.open_deadlines) if file else 0,
        }
        for tab, title in self._titles.items():
            text = title
            if counts.get(tab):
                text += f" ({counts[tab]})"
            if tab is self.master_data and self.master_data.has_unsaved_changes():
                text += " *"
            self.tabs.setTabText(self.tabs.indexOf(tab), text)

    # --- header actions -----------------------------------------------------------------------

    def print_access_report(self) -> None:
        """Auskunft nach Art. 15 DSGVO as PDF, saved only where the user chooses."""
        if self._client_id is None or self._file is None:
            return
        ctx, client_id = self._state.ctx, self._client_id
        name = printing.file_name("Auskunft-Art15",
                                  printing.last_name(self._file.client.display_name),
                                  self._state.today())
        self.access_report_button.setEnabled(False)
        self.status.setStyleSheet("color: #1b5e20;")
        self.status.setText("Auskunft wird erstellt …")
        from kimdesk.reports.personal import auskunft  # PDF library: on use only

        operation = printing.save_document(
            self, lambda: auskunft(ctx, client_id), name, title="Auskunft speichern",
            choose_path=self.choose_path, on_saved=self._access_report_saved,
            on_cancelled=self.status.clear, on_failed=self._access_report_failed)
        operation.finished.connect(lambda: self.access_report_button.setEnabled(True))

    def _access_report_saved(self, path: object) -> None:
        self.status.setStyleSheet("color: #1b5e20;")
        self.status.setText("Auskunft gespeichert.")
        self._state.hub.status_message.emit(f"Auskunft nach Art. 15 DSGVO gespeichert: {path}")

    def _access_report_failed(self, message: str) -> None:
        self.status.setStyleSheet("color: #b71c1c; font-weight: bold;")
        self.status.setText(message)

    def new_case_dialog(self) -> NewCaseDialog:
        assert self._client_id is not None
        return NewCaseDialog(self._state, self._client_id, parent=self)

    def new_case(self) -> None:
        open_dialog(self.new_case_dialog(), self._case_dialog_saved)

    def _open_cases(self) -> list[tuple[str, str]]:
        """The open cases the person takes part in (her own and family cases), as choices."""
        file = self._file
        if file is None:
            return []
        return [(c.id, case_label(c.kind, c.opened_on)) for c in
                [*file.cases, *file.family_cases] if c.status == "open"]

    def appointment_dialog(self) -> AppointmentDialog:
        assert self._client_id is not None
        return AppointmentDialog(self._state, self._client_id, self._open_cases(), self)

    def new_appointment(self) -> None:
        if self._client_id is not None:
            open_dialog(self.appointment_dialog(),
                        lambda _d: self.status.setText("Termin angelegt."))

    def letter_dialog(self) -> LetterDialog:
        # The letters (and their PDF library) load when a letter is written, not at start.
        from kimdesk.ui.letter_dialog import LetterDialog

        assert self._client_id is not None
        return LetterDialog(self._state, self._client_id, self._open_cases(), self)

    def new_letter(self) -> None:
        if self._client_id is not None:
            open_dialog(self.letter_dialog())

    def _case_dialog_saved(self, dialog: NewCaseDialog) -> None:
        if dialog.created is not None:
            self.case_created(dialog.created.id)

    def case_created(self, case_id: str) -> None:
        self.status.setText("Fall angelegt.")

    def contact_dialog(self, case_id: str) -> ContactDialog:
        people = file_actions.case_people(self._state.ctx, case_id)
        dialog = ContactDialog(self._state, case_id, self, people=people)
        if self._client_id is not None and dialog.person.findData(self._client_id) >= 0:
            dialog.person.set_code(self._client_id)  # a family case from a member's Akte
        return dialog

    def record_contact_for_open_case(self) -> None:
        """Strg+K: Kontakt erfassen for the one open case of the Akte; with several, the user
        chooses the case in the header."""
        cases_open = self._open_cases()
        if len(cases_open) == 1:
            self.record_contact(cases_open[0][0])
        elif cases_open:
            self.status.setText("Mehrere offene Fälle: bitte oben beim Fall „Kontakt erfassen …“ "
                                "wählen.")
        else:
            self.status.setText("Kein offener Fall: zuerst „Neuer Fall …“ (Alt+N).")

    def record_contact(self, case_id: str) -> None:
        open_dialog(self.contact_dialog(case_id), self.contact_recorded)

    def contact_recorded(self, dialog: ContactDialog) -> None:
        info = dialog.result_info
        self.status.setText("Kontakt gespeichert.")
        if info is not None and info.warning:
            self._state.hub.status_message.emit(info.warning)

    def _record_consent_from_master_data(self) -> None:
        self.tabs.setCurrentWidget(self.consents)
        self.consents.record(ConsentKind.DATA_PROCESSING.value)
