"""Qt item models of the Fall screen: adapters over the plain rows of ``casework.case_views``.

``GoalTreeModel`` shows the Zielvereinbarung per person as a tree (person → goal → step);
tables use the shared ``kimdesk.ui.row_model.RowTableModel``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from kimdesk.casework.case_views import GoalRow, PersonRef, StepRow
from kimdesk.reference import Reference
from kimdesk.ui.fields import format_date
from kimdesk.ui.row_model import ID_ROLE

R = TypeVar("R")
_Index = QModelIndex | QPersistentModelIndex

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # tree: "person", "goal" or "step"
_OVERDUE = QColor("#b71c1c")
_DONE = QColor("#2e7d32")


@dataclass(frozen=True)
class _Node:
    kind: str  # person, goal, step
    row: int  # position under its parent
    parent: int  # node number of the parent, -1 for top level
    payload: PersonRef | GoalRow | StepRow


TREE_COLUMNS = ("Ziel / Handlungsschritt", "Handlungsfeld", "verantwortlich", "Frist", "Stand")


class GoalTreeModel(QAbstractItemModel):
    """Zielvereinbarung per person: person → Ziel → Handlungsschritt (read-only)."""

    def __init__(self, reference: Reference, today: Callable[[], date],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reference = reference
        self._today = today
        self._nodes: list[_Node] = []
        self._children: dict[int, list[int]] = {-1: []}
        self._closed = False

    def set_goals(self, people: Sequence[PersonRef], goals: Sequence[GoalRow], *,
                  closed: bool = False) -> None:
        """``closed``: the case is closed, so open steps are no longer overdue."""
        self.beginResetModel()
        self._closed = closed
        self._nodes, self._children = [], {-1: []}
        for person in people:
            person_goals = [g for g in goals if g.client_id == person.id]
            person_node = self._add("person", -1, person)
            for goal in person_goals:
                goal_node = self._add("goal", person_node, goal)
                for step in goal.steps:
                    self._add("step", goal_node, step)
        self.endResetModel()

    def _add(self, kind: str, parent: int, payload: PersonRef | GoalRow | StepRow) -> int:
        number = len(self._nodes)
        siblings = self._children.setdefault(parent, [])
        self._nodes.append(_Node(kind, len(siblings), parent, payload))
        siblings.append(number)
        self._children[number] = []
        return number

    def _node_number(self, index: _Index) -> int:
        return int(index.internalId()) - 1 if index.isValid() else -1

    # --- QAbstractItemModel -----------------------------------------------------------------

    def index(self, row: int, column: int,
              parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008 - Qt signature
        if column < 0 or column >= len(TREE_COLUMNS):
            return QModelIndex()
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        children = self._children.get(self._node_number(parent), [])
        if not 0 <= row < len(children):
            return QModelIndex()
        # Node numbers are shifted by one: internal id 0 is what an invalid index carries.
        return self.createIndex(row, column, children[row] + 1)

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = self._nodes[self._node_number(index)]
        if node.parent < 0:
            return QModelIndex()
        parent_node = self._nodes[node.parent]
        return self.createIndex(parent_node.row, 0, node.parent + 1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children.get(self._node_number(parent), []))

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return len(TREE_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(TREE_COLUMNS)):
            return TREE_COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._nodes[self._node_number(index)]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = self._text(node, index.column())
            if role == Qt.ItemDataRole.ToolTipRole:
                return text if len(text) > 30 else None
            return text
        if role == ID_ROLE:
            return node.payload.id
        if role == KIND_ROLE:
            return node.kind
        if role == Qt.ItemDataRole.FontRole and node.kind in ("person", "goal"):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 4:
            return self._status_colour(node)
        return None

    def _text(self, node: _Node, column: int) -> str:
        ref = self._reference
        payload = node.payload
        if isinstance(payload, PersonRef):
            return f"Zielvereinbarung {payload.name}" if column == 0 else ""
        if isinstance(payload, GoalRow):
            if column == 0:
                return payload.title
            if column == 1:
                return ref.label("life_areas", payload.life_area) if payload.life_area else ""
            if column == 3:
                return format_date(payload.due_on)
            if column == 4:
                return goal_state(ref, payload)
            return ""
        if column == 0:
            return payload.description
        if column == 2:
            return payload.responsible
        if column == 3:
            return format_date(payload.due_on)
        if column == 4:
            if payload.done_on:
                return f"erledigt {format_date(payload.done_on)}"
            if self._overdue(payload):
                return "überfällig"
            return "offen"
        return ""

    def _overdue(self, step: StepRow) -> bool:
        return (not self._closed and step.done_on is None and step.due_on is not None
                and step.due_on < self._today())

    def _status_colour(self, node: _Node) -> QBrush | None:
        payload = node.payload
        if isinstance(payload, StepRow):
            if payload.done_on:
                return QBrush(_DONE)
            if self._overdue(payload):
                return QBrush(_OVERDUE)
        return None


_GOAL_STATUS = {"open": "offen", "in_progress": "in Arbeit", "done": "erreicht",
                "dropped": "nicht erreicht"}


def goal_state(reference: Reference, goal: GoalRow) -> str:
    """What the Stand column says about a goal: its attainment once evaluated."""
    if goal.attainment:
        return "Zielerreichung: " + reference.label("goal_attainment", goal.attainment)
    done = sum(1 for s in goal.steps if s.done_on)
    steps = f" ({done}/{len(goal.steps)})" if goal.steps else ""
    return _GOAL_STATUS.get(goal.status, goal.status) + steps


def overdue_colour(today: Callable[[], date]) -> Callable[[Any], QColor | None]:
    """A colour function for rows with ``due_on``/``done_on``: red when open and overdue."""
    def colour(row: Any) -> QColor | None:
        if getattr(row, "done_on", None) is None and row.due_on < today():
            return _OVERDUE
        return None
    return colour
