"""Fall: one case of any kind, and for case management its phases with a form for each.

Header with the client, Fallart, status and the actions (Kontakt erfassen, Umwandeln, Fall
abschließen, Zur Akte); tabs for the phases (case management only), the contacts and the history
of phases and kinds. All changes go through casework; after each the hub's ``data_changed``
reloads this screen, and typed but unsaved input survives the reload.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import case_views, cases
from kimdesk.casework import transfer as team_transfer
from kimdesk.casework.case_views import CaseDetail, ContactRow, KindChangeRow, PhaseChangeRow
from kimdesk.errors import KimdeskError, NotFound
from kimdesk.models.enums import CaseKind, CaseStatus, Phase
from kimdesk.ui import hub as areas
from kimdesk.ui import printing
from kimdesk.ui.case_dialogs import CloseCaseDialog, ConvertCaseDialog
from kimdesk.ui.contact_dialog import ContactDialog
from kimdesk.ui.coordination.finding_dialog import FindingDialog
from kimdesk.ui.fields import format_date
from kimdesk.ui.flow_layout import FlowLayout
from kimdesk.ui.handover_dialog import HandoverDialog
from kimdesk.ui.phases.assessment import AssessmentForm
from kimdesk.ui.phases.base import PhaseForm, configure_table
from kimdesk.ui.phases.evaluation import EvaluationForm
from kimdesk.ui.phases.intake import IntakeForm
from kimdesk.ui.phases.linking import LinkingForm
from kimdesk.ui.phases.monitoring import MonitoringForm, configure_contact_table, contact_columns
from kimdesk.ui.phases.planning import PlanningForm
from kimdesk.ui.phases.stepper import PhaseStepper, phase_title
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState
from kimdesk.ui.team_transfer_dialog import TeamTransferDialog

# Areas whose changes this screen shows.
_RELOAD_ON = (areas.CASES, areas.DEADLINES, areas.NETWORK, areas.CONSENTS, areas.CLIENTS)
_KIND_SHORT = {
    CaseKind.SHORT_INTERVENTION.value: "Kurzintervention",
    CaseKind.PROCESS_SUPPORT.value: "Prozesshafte Begleitung",
    CaseKind.CASE_MANAGEMENT.value: "Case Management",
}
_MESSAGE_STYLE = {
    "error": "color: #b71c1c; font-weight: bold;",
    "warning": "color: #735b00; font-weight: bold;",
    "info": "color: #1b5e20;",
}


class CaseScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._case_id: str | None = None
        self._detail: CaseDetail | None = None
        self._viewed: Phase | None = None
        self._dialog: QDialog | None = None
        ref = state.reference

        # --- header -------------------------------------------------------------------------
        self.title = QLabel(objectName="case_title")
        self.title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.title.setWordWrap(True)
        self.meta = QLabel(objectName="case_meta")
        for label in (self.title, self.meta):
            label.setTextFormat(Qt.TextFormat.PlainText)  # names are data, not markup
        self.meta.setWordWrap(True)
        self.session_count = QLabel(objectName="session_count")
        self.session_count.setStyleSheet("font-weight: bold;")
        self.record_contact_button = QPushButton("Kontakt erfassen …",
                                                 objectName="record_contact")
        self.record_contact_button.setShortcut("Ctrl+K")
        self.record_contact_button.setToolTip("Kontakt erfassen (Strg+K)")
        self.convert_button = QPushButton("Umwandeln …", objectName="convert_case")
        self.close_button = QPushButton("Fall abschließen …", objectName="close_case")
        self.to_file_button = QPushButton("Zur Akte", objectName="to_client_file")
        self.goal_agreement_button = QPushButton("Zielvereinbarung drucken …",
                                                 objectName="print_goal_agreement")
        self.case_summary_button = QPushButton("Fallübersicht …", objectName="print_case_summary")
        # A short label: the header row is full at 1366 px; the tooltip says it in full.
        self.finding_button = QPushButton("Erkenntnis …", objectName="record_finding")
        self.finding_button.setToolTip("Erkenntnis festhalten: eine Versorgungslücke oder "
                                       "defizitäre Schnittstelle, die dieser Fall zeigt (ohne "
                                       "Personendaten)")
        # Seams for tests: None means the real (modal) dialogs.
        self.choose_path: printing.PathChooser | None = None
        self.choose_person: printing.PersonChooser | None = None
        self.message = QLabel(objectName="case_message")
        self.message.setWordWrap(True)
        self.message.hide()

        header_text = QVBoxLayout()
        header_text.setSpacing(2)
        header_text.addWidget(self.title)
        header_text.addWidget(self.meta)
        header_text.addWidget(self.session_count)
        # The actions get a row of their own under the title and details: beside seven
        # buttons the title had ~300 px at 1366 (issue 14, item 9).
        # They wrap onto a second line where the window is narrow (150 % on 1366×768).
        header_buttons = FlowLayout()
        for button in (self.record_contact_button, self.convert_button, self.close_button,
                       self.goal_agreement_button, self.case_summary_button,
                       self.finding_button, self.to_file_button):
            header_buttons.addWidget(button)
        header = QVBoxLayout()
        header.addLayout(header_text)
        header.addLayout(header_buttons)

        # --- phases -------------------------------------------------------------------------
        self.stepper = PhaseStepper(ref, self)
        self.phase_status = QLabel(objectName="phase_status")
        self.phase_status.setWordWrap(True)
        self.phase_note = QLineEdit(objectName="phase_note")
        self.phase_note.setPlaceholderText("Vermerk zum Phasenwechsel (optional)")
        self.phase_note.setMinimumWidth(270)
        self.phase_note.setMaximumWidth(360)
        self.revisit_button = QPushButton("In diese Phase zurückwechseln",
                                          objectName="revisit_phase")
        self.next_button = QPushButton(objectName="next_phase")
        phase_bar = QHBoxLayout()
        phase_bar.addWidget(self.phase_status, 1)
        phase_bar.addWidget(self.phase_note)
        phase_bar.addWidget(self.revisit_button)
        phase_bar.addWidget(self.next_button)

        self.intake = IntakeForm(state)
        self.assessment = AssessmentForm(state)
        self.planning = PlanningForm(state)
        self.linking = LinkingForm(state)
        self.monitoring = MonitoringForm(state)
        self.evaluation = EvaluationForm(state)
        self.forms: dict[Phase, PhaseForm] = {form.phase: form for form in (
            self.intake, self.assessment, self.planning, self.linking, self.monitoring,
            self.evaluation)}
        self.phase_stack = QStackedWidget(objectName="phase_forms")
        for phase in Phase:
            scroll = QScrollArea(objectName=f"scroll_{phase.value}")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(self.forms[phase])
            self.phase_stack.addWidget(scroll)
        phases_page = QWidget(objectName="phases_page")
        phases_layout = QVBoxLayout(phases_page)
        phases_layout.setContentsMargins(6, 6, 6, 0)
        phases_layout.addWidget(self.stepper)
        phases_layout.addLayout(phase_bar)
        phases_layout.addWidget(self.phase_stack, 1)

        # --- contacts -----------------------------------------------------------------------
        self.concern = QLabel(objectName="case_concern")
        self.concern.setWordWrap(True)
        self.contacts_model: RowTableModel[ContactRow] = RowTableModel(contact_columns(state),
                                                                       self)
        self.contacts_table = QTableView(objectName="case_contacts")
        self.contacts_table.setModel(self.contacts_model)
        configure_contact_table(self.contacts_table)
        self.contacts_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.contacts_table.customContextMenuRequested.connect(self._contact_menu)
        self.contacts_table.doubleClicked.connect(
            lambda index: self.correct_contact(self.contacts_model.row_at(index.row()).id))
        # The whole note of the chosen contact, readable (the table cuts it off).
        self.contact_note = QPlainTextEdit(objectName="contact_note")
        self.contact_note.setReadOnly(True)
        self.contact_note.setAccessibleName("Notiz des gewählten Kontakts")
        self.contact_note.setPlaceholderText("Einen Kontakt wählen, um seine Notiz zu lesen.")
        self.contact_note.setMaximumHeight(110)
        self.contact_note.setTabChangesFocus(True)
        self.correct_contact_button = QPushButton("Kontakt &korrigieren …",
                                                  objectName="correct_contact")
        self.correct_contact_button.setEnabled(False)
        self.correct_contact_button.clicked.connect(self._correct_selected_contact)
        self.contacts_table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._contact_chosen(current.row()))
        contacts_page = QWidget(objectName="contacts_page")
        contacts_layout = QVBoxLayout(contacts_page)
        contacts_layout.addWidget(self.concern)
        contacts_layout.addWidget(self.contacts_table, 1)
        note_row = QHBoxLayout()
        note_row.addWidget(self.contact_note, 1)
        note_row.addWidget(self.correct_contact_button, 0, Qt.AlignmentFlag.AlignTop)
        contacts_layout.addLayout(note_row)

        # --- history ------------------------------------------------------------------------
        def phase_label(code: str | None) -> str:
            return phase_title(ref, Phase(code))[0] if code else "–"

        def kind_label(code: str | None) -> str:
            return CaseKind(code).label if code else "–"

        self.phase_history_model: RowTableModel[PhaseChangeRow] = RowTableModel([
            Column("Datum", lambda r: format_date(r.changed_on)),
            Column("von", lambda r: phase_label(r.from_phase)),
            Column("nach", lambda r: phase_label(r.to_phase)),
            Column("durch", lambda r: r.author),
            Column("Vermerk", lambda r: r.note),
        ], self)
        self.phase_history = QTableView(objectName="phase_history")
        self.phase_history.setModel(self.phase_history_model)
        self.kind_history_model: RowTableModel[KindChangeRow] = RowTableModel([
            Column("Datum", lambda r: format_date(r.changed_on)),
            Column("von", lambda r: kind_label(r.from_kind)),
            Column("nach", lambda r: kind_label(r.to_kind)),
            Column("durch", lambda r: r.author),
            Column("Grund", lambda r: r.reason),
        ], self)
        self.kind_history = QTableView(objectName="kind_history")
        self.kind_history.setModel(self.kind_history_model)
        for view in (self.phase_history, self.kind_history):
            configure_table(view, stretch=(4,), fit=(0, 1, 2, 3))
        self.phase_history_box = QGroupBox("Phasenverlauf")
        QVBoxLayout(self.phase_history_box).addWidget(self.phase_history)
        kind_box = QGroupBox("Fallart und Umwandlungen")
        QVBoxLayout(kind_box).addWidget(self.kind_history)
        # Zuständigkeit: who is responsible, the handovers, "Fall übergeben …"
        self.handover_label = QLabel(objectName="case_handovers")
        self.handover_label.setWordWrap(True)
        self.handover_label.setTextFormat(Qt.TextFormat.PlainText)
        self.handover_button = QPushButton("Fall &übergeben …", objectName="hand_over_case")
        handover_box = QGroupBox("Zuständigkeit")
        handover_row = QHBoxLayout(handover_box)
        handover_row.addWidget(self.handover_label, 1)
        handover_row.addWidget(self.handover_button, 0, Qt.AlignmentFlag.AlignTop)
        self.handover_button.clicked.connect(self.hand_over)
        self.team_transfer_button = QPushButton("An anderes &Team übergeben …",
                                                objectName="transfer_case_to_team")
        handover_row.addWidget(self.team_transfer_button, 0, Qt.AlignmentFlag.AlignTop)
        self.team_transfer_button.clicked.connect(self.transfer_to_team)
        history_page = QWidget(objectName="history_page")
        history_layout = QVBoxLayout(history_page)
        history_layout.addWidget(handover_box)
        history_layout.addWidget(self.phase_history_box, 3)
        history_layout.addWidget(kind_box, 2)

        self.tabs = QTabWidget(objectName="case_tabs")
        self.tabs.addTab(phases_page, "Phasen")
        self.tabs.addTab(contacts_page, "Kontakte")
        self.tabs.addTab(history_page, "Verlauf")

        case_page = QWidget()
        case_layout = QVBoxLayout(case_page)
        case_layout.setContentsMargins(0, 0, 0, 0)
        case_layout.addLayout(header)
        case_layout.addWidget(self.message)
        case_layout.addWidget(self.tabs, 1)
        self.empty = QLabel("Kein Fall geöffnet. Einen Fall über die Akte einer Person öffnen.",
                            objectName="case_empty")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(case_page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

        self.record_contact_button.clicked.connect(self.record_contact)
        self.convert_button.clicked.connect(self.convert)
        self.close_button.clicked.connect(lambda: self.close_case())
        self.to_file_button.clicked.connect(self.open_client_file)
        self.goal_agreement_button.clicked.connect(self.print_goal_agreement)
        self.case_summary_button.clicked.connect(self.print_case_summary)
        self.finding_button.clicked.connect(lambda: self.record_finding())
        self.stepper.phase_selected.connect(lambda code: self.view_phase(Phase(code)))
        self.next_button.clicked.connect(self.next_phase)
        self.revisit_button.clicked.connect(self.revisit_phase)
        self.monitoring.contact_requested.connect(self.record_contact)
        self.evaluation.close_requested.connect(lambda reason: self.close_case(reason or None))
        self._reloader = ReloadWhenShown(self, state, self.reload, areas=_RELOAD_ON,
                                         ready=lambda: self._case_id is not None)

    # --- public API -------------------------------------------------------------------------

    @property
    def case_id(self) -> str | None:
        return self._case_id

    @property
    def detail(self) -> CaseDetail | None:
        return self._detail

    def show_case(self, case_id: str) -> None:
        """Show another case; input typed for the previous one is dropped (the caller asks)."""
        self._case_id = case_id
        self._viewed = None
        self._clear_message()
        self.reload(reset=True)
        if self._detail is not None:
            self.tabs.setCurrentIndex(0 if self._detail.is_case_management else 1)

    def has_unsaved_changes(self) -> bool:
        if self._detail is None:
            return False
        return (any(form.has_unsaved_changes() for form in self.forms.values())
                or bool(self.phase_note.text().strip()))

    def reload(self, reset: bool = False) -> None:
        if self._case_id is None or not self._state.unlocked:
            return
        self._reloader.stale = False
        try:
            detail = case_views.load_case(self._state.ctx, self._case_id)
        except NotFound as exc:
            self._detail = None
            self.empty.setText(exc.message)
            self.pages.setCurrentWidget(self.empty)
            return
        previous = self._detail
        self._detail = detail
        self.pages.setCurrentIndex(1)
        self._show_header(detail)
        self.contacts_model.set_rows(list(reversed(detail.contacts)))
        self.tabs.setTabText(1, f"Kontakte ({len(detail.contacts)})")
        self.concern.setText(f"<b>Anliegen:</b> {_escape(detail.concern)}" if detail.concern
                             else "<i>Kein Anliegen festgehalten.</i>")
        self.phase_history_model.set_rows(detail.phase_changes)
        self.kind_history_model.set_rows(detail.kind_changes)
        self.phase_history_box.setVisible(bool(detail.phase_changes))
        is_cm = detail.is_case_management
        self.tabs.setTabVisible(0, is_cm)
        if is_cm:
            for form in self.forms.values():
                form.load(detail, reset=reset)
            assert detail.phase is not None
            current = Phase(detail.phase)
            if reset or previous is None or previous.phase != detail.phase \
                    or self._viewed is None or self._viewed.index > current.index:
                self._viewed = current  # a phase change shows the form of the new phase
            self._show_phase_state(detail)
            if previous is not None and not previous.is_case_management:
                self.tabs.setCurrentIndex(0)  # just converted into case management

    # --- header -----------------------------------------------------------------------------

    def _show_header(self, detail: CaseDetail) -> None:
        ref = self._state.reference
        self.title.setText(f"{detail.client_name} – {_KIND_SHORT.get(detail.kind, detail.kind)}")
        status = CaseStatus(detail.status).label
        if not detail.is_open:
            status += f" am {format_date(detail.closed_on)}"
            if detail.closing_reason:
                status += f" ({ref.label('closing_reasons', detail.closing_reason)})"
        parts = [CaseKind(detail.kind).label, status,
                 f"eröffnet am {format_date(detail.opened_on)}",
                 _safe(lambda: ref.team(detail.team).name, detail.team),
                 _safe(lambda: ref.municipality(detail.municipality).name, detail.municipality),
                 f"Fallverantwortung: {detail.case_manager}"]
        if len(detail.people) > 1:
            parts.append("mit " + ", ".join(p.name for p in detail.people[1:]))
        self.meta.setText(" · ".join(parts))
        if detail.kind == CaseKind.SHORT_INTERVENTION:
            limit = self._state.reference.rules.short_intervention_offer_conversion_at - 1
            count = detail.session_count
            self.session_count.setText(f"Sitzung {count} von {limit}")
            self.session_count.setStyleSheet(
                "font-weight: bold;" + (" color: #735b00;" if count >= limit else ""))
            self.session_count.setToolTip(
                "Eine Kurzintervention umfasst höchstens "
                f"{limit} Sitzungen; danach wird sie umgewandelt.")
            self.session_count.show()
        else:
            self.session_count.hide()
        self.record_contact_button.setEnabled(detail.is_open)
        self.convert_button.setEnabled(detail.is_open and not detail.is_case_management)
        self.close_button.setEnabled(detail.is_open)
        self.handover_button.setEnabled(detail.is_open)
        self.team_transfer_button.setEnabled(detail.is_open)
        lines = [f"Zuständig: {detail.case_manager}"] + [
            f"{format_date(h.handed_over_on)}: übergeben von {h.from_manager} an "
            f"{h.to_manager} – {h.reason}" for h in detail.handovers]
        moving = team_transfer.transfer_status(self._state.ctx, detail.id)
        if moving:
            lines.append(moving)
        self.handover_label.setText("\n".join(lines))

    def _show_message(self, text: str, level: str = "error") -> None:
        self.message.setStyleSheet(_MESSAGE_STYLE[level])
        self.message.setText(text)
        self.message.show()

    def _clear_message(self) -> None:
        self.message.clear()
        self.message.hide()

    @property
    def message_text(self) -> str:
        return self.message.text() if self.message.isVisible() else ""

    # --- phases -----------------------------------------------------------------------------

    def _show_phase_state(self, detail: CaseDetail) -> None:
        assert detail.phase is not None and self._viewed is not None
        current, viewed = Phase(detail.phase), self._viewed
        ref = self._state.reference
        self.stepper.show_state(current, viewed)
        self.phase_stack.setCurrentIndex(viewed.index)
        since = next((c.changed_on for c in reversed(detail.phase_changes)
                      if c.to_phase == current.value), None)
        current_name = ref.label("phases", current.value)
        status = f"Aktuelle Phase: <b>{current_name}</b>"
        if since:
            status += f" seit {format_date(since)}"
        if viewed != current:
            status = (f"Ansicht: {ref.label('phases', viewed.value)} (abgeschlossene Phase). "
                      + status)
        if not detail.is_open:
            status = "Der Fall ist abgeschlossen; die Phasen sind nur noch einsehbar."
        self.phase_status.setText(status)
        following = list(Phase)[current.index + 1] if current.index < 5 else None
        can_move = detail.is_open and viewed == current and following is not None
        self.next_button.setVisible(can_move)
        if following is not None:
            self.next_button.setText(f"Weiter zu {phase_title(ref, following)[0]} ▸")
        self.revisit_button.setVisible(detail.is_open and viewed.index < current.index)
        self.phase_note.setVisible(detail.is_open and (can_move or viewed != current))

    def view_phase(self, phase: Phase) -> None:
        """Open the form of a done or the current phase (phases ahead are not offered)."""
        detail = self._detail
        if detail is None or detail.phase is None:
            return
        if phase.index > Phase(detail.phase).index:
            self._show_phase_state(detail)  # undo the stepper's check mark
            return
        self._viewed = phase
        self._show_phase_state(detail)

    def next_phase(self) -> None:
        detail = self._detail
        if detail is None or detail.phase is None or detail.phase == Phase.EVALUATION:
            return
        self.request_phase(list(Phase)[Phase(detail.phase).index + 1].value)

    def revisit_phase(self) -> None:
        if self._viewed is not None:
            self.request_phase(self._viewed.value)

    def request_phase(self, phase: str) -> bool:
        """Change the case's phase; casework's refusal (e.g. a skipped phase) is shown."""
        if self._detail is None:
            return False
        self._clear_message()
        try:
            cases.change_phase(self._state.ctx, self._detail.id, phase,
                               note=self.phase_note.text().strip())
        except KimdeskError as exc:
            self._show_message(exc.message)
            return False
        self.phase_note.clear()
        self._viewed = Phase(phase)
        self._state.hub.status_message.emit(
            f"Phase gewechselt: {self._state.reference.label('phases', phase)}.")
        return True

    # --- actions ----------------------------------------------------------------------------

    # Dialogs are opened with open(), not exec(): the screen reacts to their ``finished``
    # signal. An auto-lock hides open dialogs and shows them again after unlocking, which
    # would end an exec() loop early and lose what the dialog did afterwards.

    @property
    def dialog(self) -> QDialog | None:
        """The dialog this screen has open, if any."""
        return self._dialog

    def _open(self, dialog: QDialog, on_finished: Callable[[int], None]) -> None:
        self._clear_message()
        self._dialog = dialog

        def finished(result: int) -> None:
            self._dialog = None
            dialog.deleteLater()
            if self._state.unlocked:
                on_finished(result)

        dialog.finished.connect(finished)
        dialog.open()

    def record_contact(self) -> None:
        """Kontakt erfassen (also the Verlaufsnotiz of the Monitoring)."""
        detail = self._detail
        if detail is None or not detail.is_open or self._dialog is not None:
            return
        people = [(p.id, p.name) for p in detail.people]
        dialog = ContactDialog(self._state, detail.id, self, people=people)

        def finished(result: int) -> None:
            accepted = result == QDialog.DialogCode.Accepted
            after = case_views.load_case(self._state.ctx, detail.id)
            converted = after.kind != detail.kind
            if converted:
                self._show_message(
                    f"Der Fall wurde umgewandelt in: {CaseKind(after.kind).label}.", "info")
            if accepted and dialog.result_info is not None:
                if dialog.result_info.warning:
                    self._show_message(dialog.result_info.warning, "warning")
                self._state.hub.status_message.emit("Kontakt gespeichert.")

        self._open(dialog, finished)

    def convert(self) -> None:
        """Umwandeln into a more intensive kind."""
        if self._detail is None or not self._detail.is_open or self._dialog is not None:
            return

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self._state.hub.status_message.emit("Fall umgewandelt.")

        self._open(ConvertCaseDialog(self._state, self._detail, self), finished)

    def close_case(self, proposed_reason: str | None = None) -> None:
        """Fall abschließen, with a reason proposed by the Evaluation where there is one."""
        if self._detail is None or not self._detail.is_open or self._dialog is not None:
            return

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self._state.hub.status_message.emit("Fall abgeschlossen.")

        self._open(CloseCaseDialog(self._state, self._detail, proposed_reason, self), finished)

    def record_finding(self, contact_id: str | None = None) -> None:
        """Erkenntnis festhalten from this case (or one of its contacts): structural, checked
        against the case's people when saved."""
        detail = self._detail
        if detail is None or self._dialog is not None:
            return
        dialog = FindingDialog(self._state, source="contact" if contact_id else "case",
                               case_id=detail.id, contact_id=contact_id,
                               municipality=detail.municipality, parent=self)

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self._state.hub.status_message.emit("Erkenntnis gespeichert.")

        self._open(dialog, finished)

    def hand_over(self) -> None:
        """Fall übergeben: another case manager of the team takes the case over."""
        detail = self._detail
        if detail is None or not detail.is_open or self._dialog is not None:
            return

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self._state.hub.status_message.emit("Fall übergeben.")

        self._open(HandoverDialog(self._state, detail, self), finished)

    def transfer_to_team(self) -> None:
        """Fall an ein anderes Team übergeben: the client moved; her file goes to the team
        responsible there (consent checked, confirmed; the next sync carries it out)."""
        detail = self._detail
        if detail is None or not detail.is_open or self._dialog is not None:
            return

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self._state.hub.status_message.emit(
                    "Übergabe an das andere Team angefordert; sie geht beim nächsten Abgleich "
                    "hinaus.")

        self._open(TeamTransferDialog(self._state, detail, self), finished)

    def _contact_chosen(self, row: int) -> None:
        contact = self.contacts_model.row_at(row) if row >= 0 else None
        self.contact_note.setPlainText(contact.note if contact else "")
        self.correct_contact_button.setEnabled(
            contact is not None and self._detail is not None and self._detail.is_open)

    def _correct_selected_contact(self) -> None:
        index = self.contacts_table.currentIndex()
        if index.isValid():
            self.correct_contact(self.contacts_model.row_at(index.row()).id)

    def correct_contact(self, contact_id: str) -> None:
        """Kontakt korrigieren: the dialog starts with the recorded values; saving supersedes
        the contact with the corrected one (the old one stays in the history)."""
        detail = self._detail
        if detail is None or not detail.is_open or self._dialog is not None:
            return
        row = next((c for c in detail.contacts if c.id == contact_id), None)
        if row is None:
            return
        people = [(p.id, p.name) for p in detail.people]
        dialog = ContactDialog(self._state, detail.id, self, people=people, correcting=row)

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self._state.hub.status_message.emit("Kontakt korrigiert.")

        self._open(dialog, finished)

    def _contact_menu(self, position: QPoint) -> None:
        index = self.contacts_table.indexAt(position)
        if not index.isValid():
            return
        contact = self.contacts_model.row_at(index.row())
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self._detail is not None and self._detail.is_open:
            menu.addAction("Kontakt korrigieren …", lambda: self.correct_contact(contact.id))
        menu.addAction("Erkenntnis festhalten …", lambda: self.record_finding(contact.id))
        menu.popup(self.contacts_table.viewport().mapToGlobal(position))

    def open_client_file(self) -> None:
        if self._detail is not None:
            self._state.hub.client_opened.emit(self._detail.client_id)

    # --- documents --------------------------------------------------------------------------

    def print_goal_agreement(self) -> None:
        """Zielvereinbarung of one person of the case (asked for when there are several)."""
        detail = self._detail
        if detail is None:
            return
        person = detail.people[0]
        if len(detail.people) > 1:
            chooser = self.choose_person or printing.person_dialog(
                self, "Zielvereinbarung drucken")
            chosen = chooser([(p.id, p.name) for p in detail.people])
            if chosen is None:
                return
            person = next(p for p in detail.people if p.id == chosen)
        ctx, case_id, client_id = self._state.ctx, detail.id, person.id
        name = printing.file_name("Zielvereinbarung", printing.last_name(person.name),
                                  self._state.today())
        from kimdesk.reports.personal import zielvereinbarung  # PDF library: on use only

        self._save_pdf(lambda: zielvereinbarung(ctx, case_id, client_id), name,
                       "Zielvereinbarung speichern", self.goal_agreement_button)

    def print_case_summary(self) -> None:
        detail = self._detail
        if detail is None:
            return
        ctx, case_id = self._state.ctx, detail.id
        name = printing.file_name("Fallübersicht", printing.last_name(detail.client_name),
                                  self._state.today())
        from kimdesk.reports.personal import case_summary  # PDF library: on use only

        self._save_pdf(lambda: case_summary(ctx, case_id), name, "Fallübersicht speichern",
                       self.case_summary_button)

    def _save_pdf(self, produce: Callable[[], bytes], name: str, title: str,
                  button: QPushButton) -> None:
        self._clear_message()
        button.setEnabled(False)
        operation = printing.save_document(
            self, produce, name, title=title, choose_path=self.choose_path,
            on_saved=lambda path: self._state.hub.status_message.emit(
                f"Gespeichert: {path}"),
            on_failed=self._show_message)
        operation.finished.connect(lambda: button.setEnabled(True))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe(label: Callable[[], str], fallback: str) -> str:
    """A reference label, or the raw code when the county removed the entry."""
    try:
        return str(label())
    except KeyError:
        return fallback
