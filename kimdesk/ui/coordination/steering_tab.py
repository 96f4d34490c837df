"""Lenkungsgruppe (concept 4.4, 5.3, 5.5.3): its decisions with what led to them and their
effect (findings per theme before and after, and the indicators it names month by month), its
meetings, and its composition by the seats the
concept lists. Dialogs save through :mod:`kimdesk.casework.coordination.steering` themselves.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.coordination import findings, project_groups, reconstructions, steering
from kimdesk.casework.coordination.steering import (
    DecisionDetail,
    DecisionEffect,
    DecisionInput,
    DecisionRow,
    EffectRow,
    MeetingInput,
    MeetingRow,
    SeatRow,
    SteeringMemberInput,
)
from kimdesk.errors import KimdeskError
from kimdesk.reference import SteeringRole
from kimdesk.stats import indicators
from kimdesk.stats.scope import month_label
from kimdesk.ui import hub as areas
from kimdesk.ui.coordination.project_groups_tab import CheckList, finding_label, wrap_tree
from kimdesk.ui.fields import (
    CodeCombo,
    DateField,
    FieldErrors,
    format_date,
    save_cancel_buttons,
    set_tab_order,
)
from kimdesk.ui.phases.base import configure_table
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

_RELOAD_ON = (areas.COORDINATION,)
_DUE = QColor("#b71c1c")


def _member_text(organisation: str, name: str) -> str:
    return " – ".join(part for part in (organisation, name) if part) or "(ohne Angabe)"


# --- dialogs ----------------------------------------------------------------------------------


class SteeringMemberDialog(QDialog):
    """A seat of the Lenkungsgruppe taken by an organisation (and the person holding it)."""

    def __init__(self, state: AppState, *, member_id: str | None = None, role: str = "",
                 organisation: str = "", name: str = "", active: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._member_id = member_id
        self.saved_id: str | None = None
        self.setWindowTitle("Mitglied bearbeiten" if member_id else "Mitglied hinzufügen")
        self.setMinimumWidth(620)
        roles = state.reference.terms("steering_member_roles")
        self.role = CodeCombo(((t.code, _seat_label(t)) for t in roles), parent=self)
        self.role.setObjectName("role")
        self.role.set_code(role or None)
        self.organisation = QLineEdit(organisation, objectName="organisation")
        self.organisation.setPlaceholderText("z. B. Stadt Goch, Caritasverband Kleve")
        self.name = QLineEdit(name, objectName="name")
        self.name.setPlaceholderText("Wer den Sitz wahrnimmt (Leitungsebene), optional")
        self.active = QCheckBox("Mitglied ist aktiv (ausgeschiedene behalten ihre Beschlüsse)",
                                objectName="active")
        self.active.setChecked(active)
        form = QFormLayout()
        form.addRow("Sitz*", self.role)
        form.addRow("Institution", self.organisation)
        form.addRow("Person", self.name)
        form.addRow("", self.active)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {"role": self.role,
                                                      "organisation": self.organisation,
                                                      "name": self.name})
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(save_cancel_buttons(self, "Speichern", self.save))

    def save(self) -> None:
        self.errors.clear()
        data = SteeringMemberInput(role=self.role.code() or "",
                                   organisation=self.organisation.text(),
                                   name=self.name.text(), active=self.active.isChecked())
        try:
            if self._member_id is None:
                saved = steering.add_steering_member(self._state.ctx, data)
            else:
                saved = steering.update_steering_member(self._state.ctx, self._member_id, data)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()


def _seat_label(term: object) -> str:
    assert isinstance(term, SteeringRole)
    return term.label + (f" ({term.seats} Sitze)" if term.seats > 1 else "")


class MeetingDialog(QDialog):
    """A Sitzung der Lenkungsgruppe: date, title, agenda, minutes, who attended."""

    def __init__(self, state: AppState, meeting: MeetingRow | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._meeting = meeting
        self.saved_id: str | None = None
        self.setWindowTitle("Sitzung bearbeiten" if meeting else "Neue Sitzung")
        self.resize(900, 640)
        self.held_on = DateField(state.today, self)
        self.held_on.setObjectName("held_on")
        self.title = QLineEdit(objectName="title")
        self.title.setPlaceholderText("z. B. Lenkungsgruppe, 5. Sitzung")
        self.agenda = QPlainTextEdit(objectName="agenda")
        self.agenda.setTabChangesFocus(True)
        self.minutes = QPlainTextEdit(objectName="minutes")
        self.minutes.setTabChangesFocus(True)
        self.attendees = CheckList("attendees", "Mitglied filtern …", self)
        members = [(m.id, f"{seat.role_label}: {_member_text(m.organisation, m.name)}")
                   for seat in steering.steering_composition(state.ctx) for m in seat.members]
        self.attendees.set_items(members, meeting.attendee_ids if meeting else ())
        if meeting is not None:
            self.held_on.set_value(meeting.held_on)
            self.title.setText(meeting.title)
            self.agenda.setPlainText(meeting.agenda)
            self.minutes.setPlainText(meeting.minutes)
        else:
            self.held_on.set_value(state.today())
        form = QFormLayout()
        form.addRow("Datum*", self.held_on)
        form.addRow("Titel", self.title)
        form.addRow("Tagesordnung", self.agenda)
        form.addRow("Protokoll", self.minutes)
        attendees_box = QGroupBox("Teilnehmende Mitglieder")
        QVBoxLayout(attendees_box).addWidget(self.attendees)
        body = QHBoxLayout()
        body.addLayout(form, 3)
        body.addWidget(attendees_box, 2)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "held_on": self.held_on, "title": self.title, "agenda": self.agenda,
            "minutes": self.minutes, "attendee_ids": self.attendees.list})
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.errors_label)
        layout.addWidget(save_cancel_buttons(self, "Speichern", self.save))
        set_tab_order(self.held_on, self.title, self.agenda, self.minutes,
                      self.attendees.filter, self.attendees.list)

    def save(self) -> None:
        self.errors.clear()
        try:
            held_on = self.held_on.checked_value("held_on")
            if held_on is None:
                self.errors.show("Bitte das Datum der Sitzung angeben.", "held_on")
                return
            data = MeetingInput(held_on=held_on, title=self.title.text(),
                                agenda=self.agenda.toPlainText(),
                                minutes=self.minutes.toPlainText(),
                                attendee_ids=self.attendees.checked())
            if self._meeting is None:
                saved = steering.create_meeting(self._state.ctx, data)
            else:
                saved = steering.update_meeting(self._state.ctx, self._meeting.id, data)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()


class DecisionDialog(QDialog):
    """A Beschluss with responsibility, Wiedervorlage, status and what led to it."""

    def __init__(self, state: AppState, decision: DecisionDetail | None = None, *,
                 meeting_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._decision = decision
        self.saved_id: str | None = None
        ctx = state.ctx
        ref = state.reference
        self.setWindowTitle("Beschluss bearbeiten" if decision else "Neuer Beschluss")
        self.resize(1180, 760)
        self._meetings = {m.id: m for m in steering.meeting_rows(ctx)}
        self.title = QLineEdit(objectName="title")
        self.meeting = CodeCombo(((m.id, f"{format_date(m.held_on)} – {m.title}")
                                  for m in self._meetings.values()),
                                 empty="ohne Sitzung (Umlaufverfahren)", parent=self)
        self.meeting.setObjectName("meeting")
        self.decided_on = DateField(state.today, self)
        self.decided_on.setObjectName("decided_on")
        self.text = QPlainTextEdit(objectName="text")
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText("Was die Lenkungsgruppe beschlossen hat")
        self.responsible = QComboBox(objectName="responsible")
        self.responsible.setEditable(True)
        self.responsible.addItems([t.label for t in ref.terms("steering_member_roles")])
        self.responsible.setCurrentIndex(-1)
        self.responsible.lineEdit().setPlaceholderText("Sitz oder Institution, die umsetzt")
        self.follow_up_on = DateField(state.today, self)
        self.follow_up_on.setObjectName("follow_up_on")
        self.status = CodeCombo(((t.code, t.label) for t in ref.terms("decision_statuses")),
                                parent=self)
        self.status.setObjectName("status")
        self.themes = CheckList("decision_themes", "Thema filtern …", self)
        self.themes.set_items((t.id, t.statement) for t in reconstructions.theme_rows(ctx))
        self.findings = CheckList("decision_findings", "Erkenntnis filtern …", self)
        self.findings.set_items((f.id, finding_label(f)) for f in findings.finding_rows(ctx))
        self.project_group = CodeCombo(
            ((g.id, f"{g.name} ({g.status_label})")
             for g in project_groups.project_group_rows(ctx)), empty="keine", parent=self)
        self.project_group.setObjectName("project_group")
        self.indicators = CheckList("decision_indicators", "Indikator filtern …", self)
        self.indicators.set_items((t.code, t.label) for t in ref.terms("decision_indicators"))
        self.indicators.filter.hide()  # a handful of indicators: nothing to filter
        self.indicators.list.setAccessibleName("Indikatoren des Beschlusses")
        rows = self.indicators.list.count()
        list_height = (rows * self.indicators.list.sizeHintForRow(0)
                       + 2 * self.indicators.list.frameWidth())
        self.indicators.list.setMaximumHeight(list_height)
        self.indicators.setMaximumHeight(list_height)

        if decision is not None:
            row = decision.row
            self.title.setText(row.title)
            self.meeting.set_code(row.meeting_id)
            self.decided_on.set_value(row.decided_on)
            self.text.setPlainText(decision.text)
            self.responsible.setEditText(row.responsible)
            self.follow_up_on.set_value(row.follow_up_on)
            self.status.set_code(row.status)
            for theme_id, _statement in decision.themes:
                self.themes.set_checked(theme_id)
            for finding in decision.findings:
                self.findings.set_checked(finding.id)
            self.project_group.set_code(decision.project_group_id)
            for code in decision.indicators:
                self.indicators.set_checked(code)
        else:
            self.status.set_code("open")
            self.meeting.set_code(meeting_id)
            self._meeting_chosen()

        form = QFormLayout()
        form.addRow("Beschluss*", self.title)
        form.addRow("Sitzung", self.meeting)
        form.addRow("Beschlossen am*", self.decided_on)
        form.addRow("Beschlusstext", self.text)
        form.addRow("Verantwortlich", self.responsible)
        form.addRow("Wiedervorlage", self.follow_up_on)
        form.addRow("Status", self.status)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(form)
        measured = QGroupBox("Woran die Wirkung gemessen wird (Indikatoren)")
        measured_layout = QVBoxLayout(measured)
        measured_layout.addWidget(self.indicators)
        left_layout.addWidget(measured)
        left_layout.addStretch(1)
        origin = QGroupBox("Was zu dem Beschluss geführt hat")
        origin_layout = QVBoxLayout(origin)
        hint = QLabel("Jeder Beschluss nennt seinen Anlass: generative Themen, Erkenntnisse "
                      "oder die Ergebnisse einer Projektgruppe.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #455a64;")
        group_row = QHBoxLayout()
        group_row.addWidget(QLabel("Projektgruppe"))
        group_row.addWidget(self.project_group, 1)
        self.links = QTabWidget(objectName="decision_links")
        self.links.addTab(self.themes, "Generative Themen")
        self.links.addTab(self.findings, "Erkenntnisse")
        origin_layout.addWidget(hint)
        origin_layout.addLayout(group_row)
        origin_layout.addWidget(self.links, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(origin)
        splitter.setSizes([640, 540])
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "title": self.title, "decided_on": self.decided_on, "text": self.text,
            "responsible": self.responsible, "follow_up_on": self.follow_up_on,
            "status": self.status, "theme_ids": self.links, "finding_ids": self.links,
            "project_group_id": self.project_group, "indicators": self.indicators})
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.errors_label)
        layout.addWidget(save_cancel_buttons(self, "Speichern", self.save))
        set_tab_order(self.title, self.meeting, self.decided_on, self.text, self.responsible,
                      self.follow_up_on, self.status, self.indicators, self.project_group,
                      self.links)
        self.meeting.currentIndexChanged.connect(lambda _index: self._meeting_chosen())

    def _meeting_chosen(self) -> None:
        # A decision carries the date of its meeting.
        meeting = self._meetings.get(self.meeting.code() or "")
        if meeting is not None:
            self.decided_on.set_value(meeting.held_on)
        elif not self.decided_on.text():
            self.decided_on.set_value(self._state.today())

    def value(self) -> DecisionInput:
        decided_on = self.decided_on.checked_value("decided_on")
        if decided_on is None:
            decided_on = self._state.today()
        return DecisionInput(
            title=self.title.text(), decided_on=decided_on, text=self.text.toPlainText(),
            responsible=self.responsible.currentText(),
            follow_up_on=self.follow_up_on.checked_value("follow_up_on"),
            status=self.status.code() or "open", theme_ids=self.themes.checked(),
            finding_ids=self.findings.checked(), project_group_id=self.project_group.code(),
            meeting_id=self.meeting.code(), indicators=self.indicators.checked())

    def save(self) -> None:
        self.errors.clear()
        try:
            data = self.value()
            if self._decision is None:
                saved = steering.record_decision(self._state.ctx, data)
            else:
                saved = steering.update_decision(self._state.ctx, self._decision.row.id, data)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()


# --- the tab ----------------------------------------------------------------------------------


def _decision_columns() -> list[Column[DecisionRow]]:
    return [
        Column("Datum", lambda r: format_date(r.decided_on)),
        Column("Beschluss", lambda r: r.title, stretch=True),
        Column("Verantwortlich", lambda r: r.responsible),
        Column("Wiedervorlage", lambda r: format_date(r.follow_up_on),
               colour=lambda r: _DUE if r.follow_up_due else None),
        Column("Status", lambda r: r.status_label),
        Column("Projektgruppe", lambda r: r.project_group_name),
        Column("Themen", lambda r: str(r.themes)),
        Column("Erkenntnisse", lambda r: str(r.findings)),
    ]


def _effect_columns() -> list[Column[EffectRow]]:
    def change(row: EffectRow) -> str:
        delta = row.after - row.before
        return "±0" if delta == 0 else f"{delta:+d}"

    return [
        Column("Thema bzw. Art der Erkenntnis", lambda r: r.label, stretch=True),
        Column("vorher", lambda r: str(r.before)),
        Column("nachher", lambda r: str(r.after)),
        Column("Veränderung", change),
    ]


class SteeringTab(QWidget):
    """Beschlüsse (with their effect), Sitzungen and Zusammensetzung of the Lenkungsgruppe."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._reloader = ReloadWhenShown(self, state, self.reload,
                                         areas=_RELOAD_ON)
        self._dialog: QDialog | None = None
        self._indicator_codes: tuple[str, ...] = ()
        ref = state.reference

        # --- decisions ----------------------------------------------------------------------
        self.status_filter = CodeCombo(((t.code, t.label) for t in ref.terms("decision_statuses")),
                                       empty="Alle Beschlüsse", parent=self)
        self.status_filter.setObjectName("decision_status_filter")
        self.due = QLabel(objectName="due_follow_ups")
        self.due.setStyleSheet("color: #b71c1c; font-weight: bold;")
        self.decisions_model: RowTableModel[DecisionRow] = RowTableModel(_decision_columns(), self)
        self.decisions = QTableView(objectName="decision_table")
        self.decisions.setModel(self.decisions_model)
        configure_table(self.decisions, stretch=(1,), fit=(0, 3, 4, 6, 7),
                        widths={2: 220, 5: 200})
        self.new_decision_button = QPushButton("Neuer Beschluss …", objectName="new_decision")
        self.edit_decision_button = QPushButton("Bearbeiten …", objectName="edit_decision")
        self.decision_title = QLabel(objectName="decision_title")
        self.decision_title.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.decision_title.setWordWrap(True)
        self.decision_title.setTextFormat(Qt.TextFormat.PlainText)
        self.decision_text = QLabel(objectName="decision_text")
        self.decision_text.setWordWrap(True)
        self.decision_text.setTextFormat(Qt.TextFormat.PlainText)
        self.decision_origin = QTreeWidget(objectName="decision_origin")
        self.decision_origin.setHeaderHidden(True)
        wrap_tree(self.decision_origin)
        self.effect_months = QSpinBox(objectName="effect_months")
        self.effect_months.setRange(1, 36)
        self.effect_months.setValue(steering.DEFAULT_EFFECT_MONTHS)
        self.effect_months.setSuffix(" Monate")
        self.effect_note = QLabel(objectName="effect_note")
        self.effect_note.setWordWrap(True)
        self.effect_model: RowTableModel[EffectRow] = RowTableModel(_effect_columns(), self)
        self.effect = QTableView(objectName="decision_effect")
        self.effect.setModel(self.effect_model)
        configure_table(self.effect, stretch=(0,), fit=(1, 2, 3))
        self.indicator_note = QLabel(objectName="indicator_note")
        self.indicator_note.setWordWrap(True)
        self.indicator_table = QTableWidget(objectName="decision_indicators")
        self.indicator_table.setAccessibleName("Indikatoren Monat für Monat")
        self.indicator_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.indicator_table.verticalHeader().setVisible(False)

        decisions_left = QWidget()
        left = QVBoxLayout(decisions_left)
        left.setContentsMargins(0, 0, 0, 0)
        filter_row = QHBoxLayout()
        filter_row.addWidget(QLabel("Status"))
        filter_row.addWidget(self.status_filter)
        filter_row.addWidget(self.due, 1)
        left.addLayout(filter_row)
        left.addWidget(self.decisions, 1)
        decision_buttons = QHBoxLayout()
        decision_buttons.addStretch(1)
        decision_buttons.addWidget(self.edit_decision_button)
        decision_buttons.addWidget(self.new_decision_button)
        left.addLayout(decision_buttons)
        effect_box = QGroupBox("Wirkung des Beschlusses")
        effect_layout = QVBoxLayout(effect_box)
        window_row = QHBoxLayout()
        window_row.addWidget(QLabel("Zeitfenster je"))
        window_row.addWidget(self.effect_months)
        window_row.addStretch(1)
        effect_layout.addLayout(window_row)
        findings_page = QWidget()
        findings_layout = QVBoxLayout(findings_page)
        findings_layout.addWidget(self.effect_note)
        findings_layout.addWidget(self.effect, 1)
        indicators_page = QWidget()
        indicators_layout = QVBoxLayout(indicators_page)
        indicators_layout.addWidget(self.indicator_note)
        indicators_layout.addWidget(self.indicator_table, 1)
        self.effect_pages = QTabWidget(objectName="effect_pages")
        self.effect_pages.addTab(findings_page, "Erkenntnisse vorher/nachher")
        self.effect_pages.addTab(indicators_page, "Indikatoren Monat für Monat")
        effect_layout.addWidget(self.effect_pages, 1)
        decision_detail = QWidget(objectName="decision_detail")
        detail = QVBoxLayout(decision_detail)
        detail.setContentsMargins(0, 0, 0, 0)
        detail.addWidget(self.decision_title)
        detail.addWidget(self.decision_text)
        detail.addWidget(QLabel("<b>Anlass</b>"))
        detail.addWidget(self.decision_origin, 2)
        detail.addWidget(effect_box, 3)
        decisions_page = QSplitter(Qt.Orientation.Horizontal, objectName="decisions_page")
        decisions_page.addWidget(decisions_left)
        decisions_page.addWidget(decision_detail)
        decisions_page.setSizes([760, 560])

        # --- meetings -----------------------------------------------------------------------
        self.meetings_model: RowTableModel[MeetingRow] = RowTableModel([
            Column("Datum", lambda r: format_date(r.held_on)),
            Column("Sitzung", lambda r: r.title, stretch=True),
            Column("Teilnehmende", lambda r: str(len(r.attendee_ids))),
            Column("Beschlüsse", lambda r: str(r.decisions)),
        ], self)
        self.meetings = QTableView(objectName="meeting_table")
        self.meetings.setModel(self.meetings_model)
        configure_table(self.meetings, stretch=(1,), fit=(0, 2, 3))
        self.new_meeting_button = QPushButton("Neue Sitzung …", objectName="new_meeting")
        self.edit_meeting_button = QPushButton("Bearbeiten …", objectName="edit_meeting")
        self.decision_in_meeting_button = QPushButton("Beschluss dieser Sitzung …",
                                                      objectName="decision_in_meeting")
        self.meeting_detail = QPlainTextEdit(objectName="meeting_detail")
        self.meeting_detail.setReadOnly(True)
        meetings_page = QWidget(objectName="meetings_page")
        meetings_layout = QVBoxLayout(meetings_page)
        meetings_split = QSplitter(Qt.Orientation.Horizontal)
        meetings_split.addWidget(self.meetings)
        meetings_split.addWidget(self.meeting_detail)
        meetings_split.setSizes([700, 500])
        meetings_layout.addWidget(meetings_split, 1)
        meeting_buttons = QHBoxLayout()
        meeting_buttons.addStretch(1)
        for button in (self.decision_in_meeting_button, self.edit_meeting_button,
                       self.new_meeting_button):
            meeting_buttons.addWidget(button)
        meetings_layout.addLayout(meeting_buttons)

        # --- composition --------------------------------------------------------------------
        self.members = QTreeWidget(objectName="steering_members")
        self.members.setHeaderLabels(("Sitz (Konzept 4.4)", "besetzt durch", "frei"))
        wrap_tree(self.members)
        header = self.members.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 520)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.add_member_button = QPushButton("Mitglied hinzufügen …", objectName="add_member")
        self.edit_member_button = QPushButton("Bearbeiten …", objectName="edit_member")
        self.retire_member_button = QPushButton("Ausscheiden lassen",
                                                objectName="retire_member")
        members_page = QWidget(objectName="members_page")
        members_layout = QVBoxLayout(members_page)
        intro = QLabel("Führungskräfte bzw. weisungsbefugte Leitungspositionen der Institutionen, "
                       "die das Konzept (4.4) für die Lenkungsgruppe vorsieht.")
        intro.setWordWrap(True)
        members_layout.addWidget(intro)
        members_layout.addWidget(self.members, 1)
        member_buttons = QHBoxLayout()
        member_buttons.addStretch(1)
        for button in (self.retire_member_button, self.edit_member_button,
                       self.add_member_button):
            member_buttons.addWidget(button)
        members_layout.addLayout(member_buttons)

        self.message = QLabel(objectName="steering_message")
        self.message.setWordWrap(True)
        self.message.hide()
        self.pages = QTabWidget(objectName="steering_pages")
        self.pages.addTab(decisions_page, "Beschlüsse")
        self.pages.addTab(meetings_page, "Sitzungen")
        self.pages.addTab(members_page, "Zusammensetzung")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)

        self.status_filter.currentIndexChanged.connect(lambda _index: self.reload())
        self.decisions.selectionModel().selectionChanged.connect(
            lambda *_: self._show_decision())
        self.decisions.doubleClicked.connect(lambda _index: self.edit_decision())
        self.effect_months.valueChanged.connect(lambda _value: self._show_effect())
        self.new_decision_button.clicked.connect(lambda: self.new_decision())
        self.edit_decision_button.clicked.connect(self.edit_decision)
        self.meetings.selectionModel().selectionChanged.connect(lambda *_: self._show_meeting())
        self.meetings.doubleClicked.connect(lambda _index: self.edit_meeting())
        self.new_meeting_button.clicked.connect(self.new_meeting)
        self.edit_meeting_button.clicked.connect(self.edit_meeting)
        self.decision_in_meeting_button.clicked.connect(self._decision_in_meeting)
        self.members.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.members.itemDoubleClicked.connect(lambda *_: self.edit_member())
        self.add_member_button.clicked.connect(self.add_member)
        self.edit_member_button.clicked.connect(self.edit_member)
        self.retire_member_button.clicked.connect(self.retire_member)
        self._update_buttons()

    # --- loading ----------------------------------------------------------------------------

    def reload(self) -> None:
        if not self._state.unlocked:
            return
        ctx = self._state.ctx
        decision = self.selected_decision()
        meeting = self.selected_meeting()
        self.decisions_model.set_rows(steering.decision_rows(ctx, self.status_filter.code()))
        due = steering.due_follow_ups(ctx)
        self.due.setText(f"{len(due)} Beschluss/Beschlüsse zur Wiedervorlage in den nächsten "
                         "14 Tagen oder überfällig" if due else "")
        self.meetings_model.set_rows(steering.meeting_rows(ctx))
        self._fill_members(steering.steering_composition(ctx))
        self._reloader.stale = False
        if decision is not None:
            self.select_decision(decision.id)
        if meeting is not None:
            self._select_row(self.meetings, self.meetings_model, meeting.id)
        self._show_decision()
        self._show_meeting()

    def _fill_members(self, seats: list[SeatRow]) -> None:
        current = self.members.currentItem()
        keep = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        self.members.clear()
        for seat in seats:
            # The members are the seat's children; a seat nobody holds says so itself.
            item = QTreeWidgetItem([seat.role_label, "" if seat.members else "nicht besetzt",
                                    str(seat.vacant) if seat.vacant else ""])
            item.setData(0, Qt.ItemDataRole.UserRole, ("seat", seat.role))
            if seat.vacant:
                item.setForeground(2, _DUE)
            self.members.addTopLevelItem(item)
            for member in seat.members:
                child = QTreeWidgetItem(["", _member_text(member.organisation, member.name), ""])
                child.setData(0, Qt.ItemDataRole.UserRole, ("member", member.id))
                item.addChild(child)
                if keep == ("member", member.id):
                    self.members.setCurrentItem(child)
            if keep == ("seat", seat.role):
                self.members.setCurrentItem(item)
        self.members.expandAll()
        self._update_buttons()

    # --- selection --------------------------------------------------------------------------

    @staticmethod
    def _selected_row(view: QTableView, model: RowTableModel) -> object | None:  # type: ignore[type-arg]
        rows = view.selectionModel().selectedRows()
        return model.row_at(rows[0].row()) if rows else None

    @staticmethod
    def _select_row(view: QTableView, model: RowTableModel, row_id: str) -> None:  # type: ignore[type-arg]
        for index, row in enumerate(model.rows()):
            if getattr(row, "id", None) == row_id:
                view.selectRow(index)
                return

    def selected_decision(self) -> DecisionRow | None:
        row = self._selected_row(self.decisions, self.decisions_model)
        return row if isinstance(row, DecisionRow) else None

    def select_decision(self, decision_id: str) -> None:
        self._select_row(self.decisions, self.decisions_model, decision_id)

    def selected_meeting(self) -> MeetingRow | None:
        row = self._selected_row(self.meetings, self.meetings_model)
        return row if isinstance(row, MeetingRow) else None

    def select_meeting(self, meeting_id: str) -> None:
        self._select_row(self.meetings, self.meetings_model, meeting_id)

    def _member_selection(self) -> tuple[str, str] | None:
        item = self.members.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def select_member(self, member_id: str) -> None:
        for index in range(self.members.topLevelItemCount()):
            seat = self.members.topLevelItem(index)
            for n in range(seat.childCount()):
                if seat.child(n).data(0, Qt.ItemDataRole.UserRole) == ("member", member_id):
                    self.members.setCurrentItem(seat.child(n))
                    return
        raise KeyError(member_id)

    def select_seat(self, role: str) -> None:
        for index in range(self.members.topLevelItemCount()):
            seat = self.members.topLevelItem(index)
            if seat.data(0, Qt.ItemDataRole.UserRole) == ("seat", role):
                self.members.setCurrentItem(seat)
                return
        raise KeyError(role)

    def _update_buttons(self) -> None:
        self.edit_decision_button.setEnabled(self.selected_decision() is not None)
        meeting = self.selected_meeting() is not None
        self.edit_meeting_button.setEnabled(meeting)
        self.decision_in_meeting_button.setEnabled(meeting)
        member = self._member_selection()
        is_member = member is not None and member[0] == "member"
        self.edit_member_button.setEnabled(is_member)
        self.retire_member_button.setEnabled(is_member)

    # --- details ----------------------------------------------------------------------------

    def _show_decision(self) -> None:
        self._update_buttons()
        self.decision_origin.clear()
        self.effect_model.set_rows([])
        row = self.selected_decision()
        if row is None or not self._state.unlocked:
            self.decision_title.setText("Kein Beschluss gewählt.")
            self.decision_text.clear()
            self.effect_note.clear()
            return
        detail = steering.decision_detail(self._state.ctx, row.id)
        self._indicator_codes = detail.indicators
        self.decision_title.setText(f"{format_date(row.decided_on)}: {row.title}")
        parts = [detail.text or "(ohne Beschlusstext)"]
        if row.responsible:
            parts.append(f"Verantwortlich: {row.responsible}")
        if row.follow_up_on:
            parts.append(f"Wiedervorlage: {format_date(row.follow_up_on)} · {row.status_label}")
        if detail.meeting_title:
            parts.append(f"Sitzung: {detail.meeting_title}")
        self.decision_text.setText("\n".join(parts))
        for title, texts in (
                ("Projektgruppe", [row.project_group_name] if row.project_group_name else []),
                ("Generative Themen", [statement for _id, statement in detail.themes]),
                ("Erkenntnisse", [finding_label(f) for f in detail.findings])):
            if not texts:
                continue
            branch = QTreeWidgetItem([f"{title} ({len(texts)})"])
            self.decision_origin.addTopLevelItem(branch)
            for text in texts:
                child = QTreeWidgetItem([text])
                child.setToolTip(0, text)
                branch.addChild(child)
        self.decision_origin.expandAll()
        self._show_effect()

    def _show_effect(self) -> None:
        row = self.selected_decision()
        if row is None or not self._state.unlocked:
            return
        try:
            effect = steering.decision_effect(self._state.ctx, row.id,
                                              self.effect_months.value())
        except KimdeskError as exc:
            self.effect_note.setText(exc.message)
            self.effect_model.set_rows([])
            return
        self.effect_model.set_rows(effect.rows)
        self.effect_note.setText(effect_text(effect))
        self._show_indicators(row)

    def _show_indicators(self, row: DecisionRow) -> None:
        table = self.indicator_table
        table.clear()
        codes = self._indicator_codes
        if not codes:
            table.setRowCount(0)
            table.setColumnCount(0)
            table.hide()
            self.indicator_note.setText("Der Beschluss nennt keine Indikatoren (Bearbeiten …).")
            return
        if self._state.is_county:
            # The Kreis-Tresor holds no case: the indicators are counted from cases.
            table.setRowCount(0)
            table.setColumnCount(0)
            table.hide()
            self.indicator_note.setText(
                "Die Indikatoren werden aus den Fällen eines Teams gezählt; der Kreis-Tresor "
                "enthält keine Fälle. Kreisweite Zahlen zeigt die Statistik mit der Quelle "
                "„Kreis (Kreisserver)“.")
            return
        try:
            series = indicators.indicator_table(self._state.ctx, codes, row.decided_on,
                                                min(self.effect_months.value(),
                                                    indicators.MAX_WINDOW_MONTHS))
        except KimdeskError as exc:
            table.hide()
            self.indicator_note.setText(exc.message)
            return
        table.show()
        self.indicator_note.setText(indicator_text(series[0]))
        months = [p.month for p in series[0].points]
        table.setColumnCount(1 + len(series))
        # Two-line headers: the labels are long, the values short.
        table.setHorizontalHeaderLabels(["Monat"] + [
            textwrap.fill(f"{s.label} ({s.unit})", 22) for s in series])
        table.setRowCount(len(months) + 2)
        bold = table.font()
        bold.setBold(True)
        for r, month in enumerate(months):
            label = month_label(month)
            if month == series[0].decided_month:
                label += " (Beschluss)"
            table.setItem(r, 0, QTableWidgetItem(label))
            for c, s in enumerate(series, start=1):
                point = s.points[r]
                table.setItem(r, c, _value_item(indicators.format_value(s, point)))
            if month == series[0].decided_month:
                for c in range(table.columnCount()):
                    table.item(r, c).setFont(bold)
        for r, (label, pick) in enumerate((("vorher (ganzes Fenster)", lambda s: s.before),
                                           ("nachher (bisher)", lambda s: s.after)),
                                          start=len(months)):
            table.setItem(r, 0, QTableWidgetItem(label))
            table.item(r, 0).setFont(bold)
            for c, s in enumerate(series, start=1):
                item = _value_item(indicators.format_value(s, pick(s)))
                item.setFont(bold)
                table.setItem(r, c, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def _show_meeting(self) -> None:
        self._update_buttons()
        meeting = self.selected_meeting()
        if meeting is None:
            self.meeting_detail.clear()
            return
        names = {m.id: f"{seat.role_label}: {_member_text(m.organisation, m.name)}"
                 for seat in steering.steering_composition(self._state.ctx)
                 for m in seat.members}
        attendees = [names.get(i, "(ausgeschiedenes Mitglied)") for i in meeting.attendee_ids]
        self.meeting_detail.setPlainText(
            f"{meeting.title}\n{format_date(meeting.held_on)}\n\n"
            f"Tagesordnung:\n{meeting.agenda or '–'}\n\nProtokoll:\n{meeting.minutes or '–'}"
            f"\n\nTeilnehmende:\n" + ("\n".join(attendees) or "–"))

    # --- dialogs ----------------------------------------------------------------------------

    @property
    def dialog(self) -> QDialog | None:
        return self._dialog

    def _open(self, dialog: QDialog, after: Callable[[str], None]) -> None:
        # open(), not exec(): an auto-lock hides dialogs and shows them again after unlock.
        self.message.hide()
        self._dialog = dialog

        def finished(result: int) -> None:
            self._dialog = None
            dialog.deleteLater()
            saved_id = getattr(dialog, "saved_id", None)
            if result == QDialog.DialogCode.Accepted and saved_id and self._state.unlocked:
                after(saved_id)

        dialog.finished.connect(finished)
        dialog.open()

    def _saved(self, text: str, select: Callable[[str], None]) -> Callable[[str], None]:
        def after(saved_id: str) -> None:
            select(saved_id)
            self._state.hub.status_message.emit(text)

        return after

    def new_decision(self, meeting_id: str | None = None) -> None:
        if self._dialog is None and self._state.unlocked:
            self._open(DecisionDialog(self._state, meeting_id=meeting_id, parent=self),
                       self._saved("Beschluss gespeichert.", self.select_decision))

    def _decision_in_meeting(self) -> None:
        meeting = self.selected_meeting()
        if meeting is not None:
            self.new_decision(meeting.id)

    def edit_decision(self) -> None:
        row = self.selected_decision()
        if row is None or self._dialog is not None:
            return
        detail = steering.decision_detail(self._state.ctx, row.id)
        self._open(DecisionDialog(self._state, detail, parent=self),
                   self._saved("Beschluss gespeichert.", self.select_decision))

    def new_meeting(self) -> None:
        if self._dialog is None and self._state.unlocked:
            self._open(MeetingDialog(self._state, parent=self),
                       self._saved("Sitzung gespeichert.", self.select_meeting))

    def edit_meeting(self) -> None:
        meeting = self.selected_meeting()
        if meeting is not None and self._dialog is None:
            self._open(MeetingDialog(self._state, meeting, self),
                       self._saved("Sitzung gespeichert.", self.select_meeting))

    def add_member(self) -> None:
        if self._dialog is not None or not self._state.unlocked:
            return
        chosen = self._member_selection()
        role = ""
        if chosen is not None and chosen[0] == "seat":
            role = chosen[1]
        self._open(SteeringMemberDialog(self._state, role=role, parent=self),
                   self._saved("Mitglied gespeichert.", self.select_member))

    def _member(self) -> tuple[str, str, str, str] | None:
        """(id, role, organisation, name) of the selected member."""
        chosen = self._member_selection()
        if chosen is None or chosen[0] != "member":
            return None
        for seat in steering.steering_composition(self._state.ctx):
            for member in seat.members:
                if member.id == chosen[1]:
                    return member.id, seat.role, member.organisation, member.name
        return None

    def edit_member(self) -> None:
        member = self._member()
        if member is None or self._dialog is not None:
            return
        member_id, role, organisation, name = member
        self._open(SteeringMemberDialog(self._state, member_id=member_id, role=role,
                                        organisation=organisation, name=name, parent=self),
                   self._saved("Mitglied gespeichert.", lambda _id: None))

    def retire_member(self) -> None:
        """The member leaves the Lenkungsgruppe; the seat becomes free, meetings keep them."""
        member = self._member()
        if member is None:
            return
        member_id, role, organisation, name = member
        try:
            steering.update_steering_member(self._state.ctx, member_id, SteeringMemberInput(
                role=role, organisation=organisation, name=name, active=False))
        except KimdeskError as exc:
            self.message.setText(exc.message)
            self.message.show()
            return


def _value_item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if text == "–":
        item.setToolTip(f"Weniger als {indicators.MIN_BASE} Fälle bzw. Vermittlungen: "
                        "nicht veröffentlicht.")
    return item


def indicator_text(series: indicators.IndicatorSeries) -> str:
    """How the indicator table is to be read."""
    return (f"Monate von {month_label(series.points[0].month)} bis "
            f"{month_label(series.points[-1].month)}; Vermittlungen zählen im Monat ihres "
            "Ergebnisses. Zahlen sind geschützt wie die Statistik (Zellschlüsselverfahren); "
            f"„–“: weniger als {indicators.MIN_BASE} Fälle, nicht veröffentlicht. Diese Zahlen "
            "zeigen, was sich verändert hat, nicht, dass der Beschluss es bewirkt hat.")


def effect_text(effect: DecisionEffect) -> str:
    """What the two windows are, in words, with the first and last day of each."""
    day = timedelta(days=1)  # the windows end before their last day (exclusive ends)
    text = (f"Erkenntnisse je {effect.window_days} Tage vor dem Beschluss "
            f"({format_date(effect.before_start)} bis {format_date(effect.decided_on - day)}) "
            f"und ab dem Beschluss ({format_date(effect.decided_on)} bis "
            f"{format_date(effect.after_end - day)}).")
    if not effect.complete:
        text += (" Das gewählte Zeitfenster ist noch nicht verstrichen: verglichen werden die "
                 "Tage seit dem Beschluss mit ebenso vielen davor.")
    if not effect.rows:
        text += " Der Beschluss ist mit keinem Thema und keiner Erkenntnis verknüpft."
    return text
