"""Monitoring (Prozessbeobachtung): progress of the Handlungsschritte, Fristen and
Wiedervorlagen of the case, and Verlaufsnotizen (contacts, via the Kontakt erfassen dialog)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import deadlines, planning
from kimdesk.casework.case_views import CaseDetail, ContactRow, DeadlineRow, StepRow
from kimdesk.errors import ValidationError
from kimdesk.models.enums import Phase
from kimdesk.ui.case_models import GoalTreeModel, overdue_colour
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, format_date
from kimdesk.ui.flow_layout import ColumnsLayout
from kimdesk.ui.phases.base import (
    InputSnapshot,
    PhaseForm,
    action_row,
    buddy,
    configure_table,
    error_label,
    set_people,
)
from kimdesk.ui.phases.planning import goal_of_index, goal_tree
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState


def contact_columns(state: AppState) -> list[Column[ContactRow]]:
    """Columns of a contact list: date, mode, duration, topics, note (shared with the screen)."""
    ref = state.reference
    topics = {t.code: t.label for t in ref.terms("topics")}
    modes = {t.code: t.label for t in ref.terms("contact_kinds")}
    return [
        Column("Datum", lambda r: format_date(r.contact_on)),
        Column("Kontaktart", lambda r: modes.get(r.mode, r.mode)),
        Column("Dauer", lambda r: f"{r.duration_minutes} Min."),
        Column("Person", lambda r: r.person_name),
        Column("Themen", lambda r: ", ".join(topics.get(t, t).split(" (")[0]
                                             for t in r.topics)),
        Column("Notiz", lambda r: " ".join(r.note.split())),
    ]


def configure_contact_table(view: QTableView) -> None:
    configure_table(view, stretch=(5,), fit=(0, 2), widths={1: 120, 3: 120, 4: 130})


class MonitoringForm(PhaseForm):
    phase = Phase.MONITORING
    contact_requested = Signal()  # "Verlaufsnotiz erfassen …": the screen opens the dialog

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        ref = state.reference

        # Steps
        self.tree_model = GoalTreeModel(ref, state.today, self)
        self.tree = goal_tree("monitoring_tree", self.tree_model, life_area=False)
        self.done_on = DateField(state.today, self)
        self.done_on.setObjectName("monitoring_done_on")
        self.done_on.setToolTip("Leer lassen für heute")
        self.complete_step_button = QPushButton("Schritt erledigt",
                                                objectName="monitoring_complete_step")
        self.step_errors_label = error_label("monitoring_step_errors")
        self.step_errors = FieldErrors(self.step_errors_label, {"done_on": self.done_on})
        steps_box = QGroupBox("Fortschritt der Handlungsschritte")
        steps_layout = QVBoxLayout(steps_box)
        steps_layout.addWidget(self.tree, 1)
        steps_layout.addLayout(action_row(self.step_errors_label,
                                          buddy("erledigt &am", self.done_on), self.done_on,
                                          self.complete_step_button))

        # Fristen and Wiedervorlagen
        self.deadline_model: RowTableModel[DeadlineRow] = RowTableModel([
            Column("Fällig", lambda r: format_date(r.due_on), overdue_colour(state.today)),
            Column("Art", lambda r: ref.label("deadline_kinds", r.kind)),
            Column("Titel", lambda r: r.title),
            Column("Person", lambda r: r.person_name),
        ], self)
        self.deadline_table = QTableView(objectName="monitoring_deadlines")
        self.deadline_table.setModel(self.deadline_model)
        configure_table(self.deadline_table, stretch=(1, 2), fit=(0,), widths={3: 130})
        self.complete_deadline_button = QPushButton("Frist erledigt",
                                                    objectName="monitoring_complete_deadline")
        self.deadline_person = CodeCombo([], parent=self)
        self.deadline_person.setObjectName("monitoring_deadline_person")
        self.deadline_kind = CodeCombo(((t.code, t.label) for t in ref.terms("deadline_kinds")),
                                       parent=self)
        self.deadline_kind.setObjectName("monitoring_deadline_kind")
        self.deadline_kind.set_code("follow_up")
        self.deadline_due = DateField(state.today, self)
        self.deadline_due.setObjectName("monitoring_deadline_due")
        self.deadline_due.setToolTip("z. B. +14 für in zwei Wochen")
        self.deadline_title = QLineEdit(objectName="monitoring_deadline_title")
        self.deadline_title.setPlaceholderText("leer: Bezeichnung der Fristart")
        self.add_deadline_button = QPushButton("Frist anlegen",
                                               objectName="monitoring_add_deadline")
        self.deadline_errors_label = error_label("monitoring_deadline_errors")
        self.deadline_errors = FieldErrors(self.deadline_errors_label, {
            "kind": self.deadline_kind, "due_on": self.deadline_due,
            "title": self.deadline_title})
        deadlines_box = QGroupBox("Offene Fristen und Wiedervorlagen")
        deadlines_layout = QVBoxLayout(deadlines_box)
        deadlines_layout.addWidget(self.deadline_table, 1)
        done_deadline_row = QHBoxLayout()
        done_deadline_row.addStretch(1)
        done_deadline_row.addWidget(self.complete_deadline_button)
        deadlines_layout.addLayout(done_deadline_row)
        new_deadline = QFormLayout()
        # Kind and date on rows of their own, the combo sized to a minimum content: beside
        # each other they made the Fall screen wider than the window at 150 %.
        for combo in (self.deadline_kind, self.deadline_person):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        new_deadline.addRow(buddy("Neue &Frist", self.deadline_kind), self.deadline_kind)
        new_deadline.addRow(buddy("fällig a&m", self.deadline_due), self.deadline_due)
        title_row = QHBoxLayout()
        title_row.addWidget(self.deadline_title, 1)
        title_row.addWidget(self.deadline_person)
        new_deadline.addRow(buddy("&Titel", self.deadline_title), title_row)
        new_deadline.addRow(action_row(self.deadline_errors_label, self.add_deadline_button))
        deadlines_layout.addLayout(new_deadline)

        # Verlaufsnotizen
        self.contact_model: RowTableModel[ContactRow] = RowTableModel(contact_columns(state),
                                                                      self)
        self.contact_table = QTableView(objectName="monitoring_contacts")
        self.contact_table.setModel(self.contact_model)
        configure_contact_table(self.contact_table)
        # Narrow here: the note matters most; the topics are on the Kontakte tab.
        self.contact_table.setColumnHidden(4, True)
        self.contact_table.horizontalHeader().resizeSection(1, 100)
        self.add_note_button = QPushButton("Verlaufsnotiz erfassen …",
                                           objectName="monitoring_add_note")
        notes_box = QGroupBox("Verlaufsnotizen")
        notes_layout = QVBoxLayout(notes_box)
        notes_layout.addWidget(self.contact_table, 1)
        note_row = QHBoxLayout()
        note_row.addStretch(1)
        note_row.addWidget(self.add_note_button)
        notes_layout.addLayout(note_row)

        right = QVBoxLayout()
        right.addWidget(deadlines_box, 1)
        right.addWidget(notes_box, 1)
        layout = ColumnsLayout(self)  # one under the other where the window is narrow
        layout.addWidget(steps_box, 1)
        layout.addLayout(right, 1)
        self._editors = [self.done_on, self.complete_step_button, self.complete_deadline_button,
                         self.deadline_kind, self.deadline_due, self.deadline_title,
                         self.deadline_person, self.add_deadline_button, self.add_note_button]
        self._snapshot = InputSnapshot([self.deadline_due, self.deadline_title])

        self.complete_step_button.clicked.connect(self.complete_step)
        self.complete_deadline_button.clicked.connect(self.complete_deadline)
        self.add_deadline_button.clicked.connect(self.add_deadline)
        self.add_note_button.clicked.connect(self.contact_requested)
        self.tree.selectionModel().selectionChanged.connect(self._update_buttons)
        self.deadline_table.selectionModel().selectionChanged.connect(self._update_buttons)

    # --- loading ----------------------------------------------------------------------------

    def _load(self, detail: CaseDetail, reset: bool) -> None:
        if reset:
            self.done_on.clear()
            self.deadline_due.clear()
            self.deadline_title.clear()
            self.deadline_kind.set_code("follow_up")
            self._snapshot.mark_clean()
            for errors in (self.step_errors, self.deadline_errors):
                errors.clear()
        step_id = self.selected_step_id()
        self.tree_model.set_goals(detail.people, detail.goals, closed=not detail.is_open)
        self.tree.expandAll()
        if step_id:
            self.select_step(step_id)
        self.deadline_model.set_rows([d for d in detail.deadlines if d.done_on is None])
        self.contact_model.set_rows(list(reversed(detail.contacts)))
        set_people(self.deadline_person, detail.people)

    def has_unsaved_changes(self) -> bool:
        return self._snapshot.is_dirty()

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        if not read_only:
            self._update_buttons()

    def _update_buttons(self, *_args: QItemSelection) -> None:
        open_case = self._detail is not None and self._detail.is_open
        step = self.selected_step()
        self.complete_step_button.setEnabled(open_case and step is not None
                                             and step.done_on is None)
        self.complete_deadline_button.setEnabled(
            open_case and bool(self.deadline_table.selectionModel().selectedRows()))

    # --- selection --------------------------------------------------------------------------

    def selected_step_id(self) -> str | None:
        rows = self.tree.selectionModel().selectedRows()
        hit = goal_of_index(rows[0]) if rows else None
        return hit[1] if hit is not None and hit[0] == "step" else None

    def selected_step(self) -> StepRow | None:
        step_id = self.selected_step_id()
        if step_id is None or self._detail is None:
            return None
        return next((s for g in self._detail.goals for s in g.steps if s.id == step_id), None)

    def select_step(self, step_id: str) -> None:
        """Select the step with ``step_id`` in the tree (person → goal → step)."""
        model = self.tree_model
        for person_row in range(model.rowCount()):
            person = model.index(person_row, 0)
            for goal_row in range(model.rowCount(person)):
                goal = model.index(goal_row, 0, person)
                for step_row in range(model.rowCount(goal)):
                    step = model.index(step_row, 0, goal)
                    if goal_of_index(step) == ("step", step_id):
                        self.tree.setCurrentIndex(step)
                        return

    # --- actions ----------------------------------------------------------------------------

    def complete_step(self) -> None:
        step_id = self.selected_step_id()
        if step_id is None:
            return
        self.act(self.step_errors,
                 lambda: planning.complete_step(self._state.ctx, step_id,
                                                self.done_on.checked_value("done_on")),
                 message="Handlungsschritt erledigt.",
                 on_success=lambda _step: self.done_on.clear())

    def complete_deadline(self) -> None:
        rows = self.deadline_table.selectionModel().selectedRows()
        if not rows:
            return
        deadline = self.deadline_model.row_at(rows[0].row())
        self.act(self.deadline_errors,
                 lambda: deadlines.complete_deadline(self._state.ctx, deadline.id),
                 message="Frist erledigt.")

    def add_deadline(self) -> None:
        detail = self._detail
        client_id = self.deadline_person.code()
        if detail is None or client_id is None:
            return

        def action() -> object:
            due_on = self.deadline_due.checked_value("due_on")
            if due_on is None:
                raise ValidationError("Bitte angeben, wann die Frist fällig ist.", "due_on")
            return deadlines.add_deadline(self._state.ctx, client_id,
                                          self.deadline_kind.code() or "", due_on,
                                          self.deadline_title.text(), case_id=detail.id)

        def reset(_deadline: object) -> None:
            self.deadline_due.clear()
            self.deadline_title.clear()
            self._snapshot.mark_clean()

        self.act(self.deadline_errors, action, message="Frist angelegt.",
                 on_success=reset)
