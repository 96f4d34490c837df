"""Planning (Zielplanung): Ziele per person and Handlungsschritte per Ziel, shown as the
Zielvereinbarung of each person (person → Ziel → Handlungsschritt)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import planning
from kimdesk.casework.case_views import CaseDetail, GoalRow
from kimdesk.errors import ValidationError
from kimdesk.models.enums import Phase
from kimdesk.ui.case_models import ID_ROLE, KIND_ROLE, GoalTreeModel
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors
from kimdesk.ui.flow_layout import ColumnsLayout
from kimdesk.ui.phases.base import (
    InputSnapshot,
    PhaseForm,
    action_row,
    buddy,
    configure_table,
    error_label,
    plain_text,
    refill,
    set_people,
)
from kimdesk.ui.state import AppState


class _WrappingDelegate(QStyledItemDelegate):
    """Row heights that fit the wrapped text of the first column at its current width.

    Qt's own size hint ignores the column width, so word wrap alone never grows a row.
    """

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
                 ) -> QSize:
        hint = super().sizeHint(option, index)
        if index.column() != 0:
            return hint
        depth, parent = 1, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        width = self._view.columnWidth(0) - depth * self._view.indentation() - 8
        text = str(index.data() or "")
        if width <= 40 or not text:
            return hint
        metrics = QFontMetrics(index.data(Qt.ItemDataRole.FontRole) or option.font)
        needed = metrics.boundingRect(QRect(0, 0, width, 10_000),
                                      int(Qt.TextFlag.TextWordWrap), text).height()
        return QSize(hint.width(), max(hint.height(), needed + 4))


def goal_tree(name: str, model: GoalTreeModel, *, life_area: bool = True) -> QTreeView:
    """A tree of the Zielvereinbarungen: long goals and steps wrap instead of being cut."""
    view = QTreeView(objectName=name)
    view.setModel(model)
    configure_table(view, stretch=(0,), fit=(3, 4), widths={1: 110, 2: 100})
    view.setWordWrap(True)
    view.setUniformRowHeights(False)
    view.setIndentation(14)
    view.setItemDelegate(_WrappingDelegate(view))
    view.setColumnHidden(1, not life_area)
    def measure_again(column: int, _old: int, _new: int) -> None:
        # Rows must be measured again when the text column narrows or widens.
        if column == 0:
            view.doItemsLayout()

    view.header().sectionResized.connect(measure_again)
    model.modelReset.connect(lambda: span_people(view))
    return view


def span_people(view: QTreeView) -> None:
    """The "Zielvereinbarung <Person>" rows use the full width."""
    model = view.model()
    for row in range(model.rowCount()):
        view.setFirstColumnSpanned(row, QModelIndex(), True)


def goal_label(goal: GoalRow) -> str:
    """"Ahmad: Coaching" – the first name is enough to tell the people of one case apart."""
    first_name = goal.person_name.partition(", ")[2] or goal.person_name
    return f"{first_name}: {goal.title}"


def goal_of_index(index: QModelIndex) -> tuple[str, str] | None:
    """(kind, id) of the goal or step at ``index`` in a goal tree, None for a person row."""
    kind = index.data(KIND_ROLE)
    if kind in ("goal", "step"):
        return kind, index.data(ID_ROLE)
    return None


class PlanningForm(PhaseForm):
    phase = Phase.PLANNING

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        ref = state.reference
        today: Callable[[], date] = state.today

        self.person = CodeCombo([], parent=self)
        self.person.setObjectName("planning_person")
        self.goal_title = QLineEdit(objectName="planning_goal_title")
        self.goal_title.setPlaceholderText("Ziel in einem Satz, z. B. „Einen Sprachkurs besuchen“")
        self.goal_detail = plain_text("planning_goal_detail", 48,
                                      "Woran merken wir, dass das Ziel erreicht ist?")
        self.goal_life_area = CodeCombo(((t.code, t.label) for t in ref.terms("life_areas")),
                                        empty="– ohne –", parent=self)
        self.goal_life_area.setObjectName("planning_goal_life_area")
        self.goal_due = DateField(today, self)
        self.goal_due.setObjectName("planning_goal_due")
        self.goal_agreed = DateField(today, self)
        self.goal_agreed.setObjectName("planning_goal_agreed")
        self.goal_agreed.setToolTip("Tag, an dem das Ziel mit der Person vereinbart wurde")
        self.add_goal_button = QPushButton("Ziel hinzufügen", objectName="planning_add_goal")
        self.goal_errors_label = error_label("planning_goal_errors")
        self.goal_errors = FieldErrors(self.goal_errors_label, {
            "title": self.goal_title, "life_area": self.goal_life_area,
            "due_on": self.goal_due, "agreed_on": self.goal_agreed, "client_id": self.person,
        })

        self.step_goal = CodeCombo([], empty="– Ziel wählen –", parent=self)
        self.step_goal.setObjectName("planning_step_goal")
        self.step_description = QLineEdit(objectName="planning_step_description")
        self.step_description.setPlaceholderText("Was ist zu tun?")
        self.step_responsible = QLineEdit(objectName="planning_step_responsible")
        self.step_responsible.setPlaceholderText("Wer? z. B. Frau H., Case Management, Jobcenter")
        self.step_due = DateField(today, self)
        self.step_due.setObjectName("planning_step_due")
        self.step_due.setToolTip("Frist; wird als Wiedervorlage geführt")
        self.add_step_button = QPushButton("Handlungsschritt hinzufügen",
                                           objectName="planning_add_step")
        self.step_errors_label = error_label("planning_step_errors")
        self.step_errors = FieldErrors(self.step_errors_label, {
            "description": self.step_description, "responsible": self.step_responsible,
            "due_on": self.step_due, "goal": self.step_goal,
        })

        goal_box = QGroupBox("Neues Ziel")
        goal_form = QFormLayout(goal_box)
        goal_form.addRow("&Person", self.person)
        goal_form.addRow("&Ziel (grob)", self.goal_title)
        goal_form.addRow("Ziel (&fein)", self.goal_detail)
        goal_form.addRow("&Handlungsfeld", self.goal_life_area)
        dates = QHBoxLayout()
        dates.addWidget(self.goal_due)
        dates.addSpacing(12)
        dates.addWidget(buddy("ver&einbart am", self.goal_agreed))
        dates.addWidget(self.goal_agreed)
        dates.addStretch(1)
        goal_form.addRow(buddy("Zie&ldatum", self.goal_due), dates)
        goal_form.addRow(action_row(self.goal_errors_label, self.add_goal_button))

        step_box = QGroupBox("Neuer Handlungsschritt")
        step_form = QFormLayout(step_box)
        step_form.addRow("Zu&m Ziel", self.step_goal)
        step_form.addRow("&Schritt", self.step_description)
        step_form.addRow("&verantwortlich", self.step_responsible)
        step_form.addRow("Fris&t", self.step_due)
        step_form.addRow(action_row(self.step_errors_label, self.add_step_button))

        self.model = GoalTreeModel(ref, today, self)
        self.tree = goal_tree("planning_tree", self.model)
        plan_box = QGroupBox("Zielvereinbarungen")
        plan_layout = QVBoxLayout(plan_box)
        plan_layout.addWidget(self.tree)

        editors = QVBoxLayout()
        editors.addWidget(goal_box)
        editors.addWidget(step_box)
        editors.addStretch(1)
        layout = ColumnsLayout(self)  # one under the other where the window is narrow
        layout.addLayout(editors, 4)
        layout.addWidget(plan_box, 5)
        self._editors = [goal_box, step_box]
        self._goal_snapshot = InputSnapshot([self.goal_title, self.goal_detail,
                                             self.goal_life_area, self.goal_due,
                                             self.goal_agreed])
        self._step_snapshot = InputSnapshot([self.step_description, self.step_responsible,
                                             self.step_due])

        self.add_goal_button.clicked.connect(self.add_goal)
        self.add_step_button.clicked.connect(self.add_step)
        self.goal_title.returnPressed.connect(self.add_goal)
        self.tree.clicked.connect(self._tree_clicked)

    # --- loading ----------------------------------------------------------------------------

    def _load(self, detail: CaseDetail, reset: bool) -> None:
        if reset:
            for widget in (self.goal_title, self.goal_due, self.goal_agreed,
                           self.step_description, self.step_responsible, self.step_due):
                widget.clear()
            self.goal_detail.clear()
            self.goal_life_area.set_code(None)
            self._goal_snapshot.mark_clean()
            self._step_snapshot.mark_clean()
            self.goal_errors.clear()
            self.step_errors.clear()
        set_people(self.person, detail.people)
        refill(self.step_goal, ((goal_label(g), g.id) for g in detail.goals))
        for number, goal in enumerate(detail.goals, start=1):
            self.step_goal.setItemData(number, f"{goal.person_name}: {goal.title}",
                                       Qt.ItemDataRole.ToolTipRole)
        self.model.set_goals(detail.people, detail.goals, closed=not detail.is_open)
        self.tree.expandAll()

    def has_unsaved_changes(self) -> bool:
        return self._goal_snapshot.is_dirty() or self._step_snapshot.is_dirty()

    def _tree_clicked(self, index: QModelIndex) -> None:
        hit = goal_of_index(index.siblingAtColumn(0))
        if hit is None or self._detail is None:
            return
        kind, item_id = hit
        if kind == "step":
            item_id = next(g.id for g in self._detail.goals
                           if any(s.id == item_id for s in g.steps))
        self.step_goal.set_code(item_id)

    # --- actions ----------------------------------------------------------------------------

    def add_goal(self) -> None:
        detail = self._detail
        client_id = self.person.code()
        if detail is None or client_id is None:
            return

        def action() -> object:
            return planning.add_goal(
                self._state.ctx, detail.id, client_id, self.goal_title.text(),
                detail=self.goal_detail.toPlainText().strip(),
                life_area=self.goal_life_area.code() or "",
                due_on=self.goal_due.checked_value("due_on"),
                agreed_on=self.goal_agreed.checked_value("agreed_on"))

        def reset(goal: object) -> None:
            for widget in (self.goal_title, self.goal_due, self.goal_agreed):
                widget.clear()
            self.goal_detail.clear()
            self.goal_life_area.set_code(None)
            self._goal_snapshot.mark_clean()
            self._new_goal_id = getattr(goal, "id", None)

        self._new_goal_id: str | None = None
        if self.act(self.goal_errors, action, message="Ziel hinzugefügt.",
                    on_success=reset) and self._new_goal_id:
            # Steps usually follow right away: offer the new goal for them.
            self.step_goal.set_code(self._new_goal_id)
            self.step_description.setFocus()

    def add_step(self) -> None:
        goal_id = self.step_goal.code()

        def action() -> object:
            if goal_id is None:
                raise ValidationError("Bitte das Ziel wählen, zu dem der Schritt gehört.", "goal")
            return planning.add_step(self._state.ctx, goal_id, self.step_description.text(),
                                     self.step_responsible.text(),
                                     due_on=self.step_due.checked_value("due_on"))

        def reset(_step: object) -> None:
            for widget in (self.step_description, self.step_responsible, self.step_due):
                widget.clear()
            self._step_snapshot.mark_clean()

        if self.act(self.step_errors, action,
                    message="Handlungsschritt hinzugefügt.", on_success=reset):
            self.step_description.setFocus()
