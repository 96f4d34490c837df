"""A read-only Qt table model over plain row dataclasses, and the helpers the tabs share.

Each tab turns what ``views.open_client_file`` loaded into small frozen dataclasses first, so
no model ever holds an ORM object; the columns say how a row is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QTableView,
    QWidget,
)

R = TypeVar("R")

# Case kinds short enough for a table column.
SHORT_CASE_KIND = {
    "short_intervention": "Kurzintervention",
    "process_support": "Begleitung",
    "case_management": "Case Management",
}
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # the default parent of Qt's signatures

OVERDUE = QColor("#b71c1c")
HIGHLIGHT = QColor("#fff3cd")  # § 104c rows, as on the Heute screen
MUTED = QColor("#6b6b6b")


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its header and how a row becomes the text in it."""

    header: str
    text: Callable[[R], str]
    stretch: bool = False


class RowTableModel(QAbstractTableModel, Generic[R]):
    """Rows of one dataclass type, shown through ``columns``; UserRole gives the row itself.

    ``foreground``/``background`` may colour a whole row (overdue Fristen, § 104c).
    """

    def __init__(self, columns: Sequence[Column[R]], parent: Any = None, *,
                 foreground: Callable[[R], QColor | None] | None = None,
                 background: Callable[[R], QColor | None] | None = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[R] = []
        self._foreground = foreground
        self._background = background

    @property
    def columns(self) -> list[Column[R]]:
        return self._columns

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self._columns)):
            return self._columns[section].header
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._columns[index.column()].text(row)
        if role == Qt.ItemDataRole.UserRole:
            return row
        if role == Qt.ItemDataRole.ForegroundRole and self._foreground is not None:
            color = self._foreground(row)
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.BackgroundRole and self._background is not None:
            color = self._background(row)
            return QBrush(color) if color is not None else None
        return None


def make_table(model: RowTableModel[Any], name: str, parent: QWidget | None = None
               ) -> QTableView:
    """A read-only, single-selection table; stretch columns take the spare width."""
    table = QTableView(parent, objectName=name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    for column, spec in enumerate(model.columns):
        mode = (QHeaderView.ResizeMode.Stretch if spec.stretch
                else QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(column, mode)
    return table


def selected_row(table: QTableView) -> Any | None:
    """The row object of the selected line, or None."""
    indexes = table.selectionModel().selectedRows() if table.selectionModel() else []
    if not indexes:
        return None
    return indexes[0].data(Qt.ItemDataRole.UserRole)


def case_label(kind: str, opened_on: date) -> str:
    """"Case Management (02.11.2026)": which case, in a table column."""
    return f"{SHORT_CASE_KIND.get(kind, kind)} ({opened_on:%d.%m.%Y})"


def hint_label(text: str, name: str) -> QLabel:
    """A grey explanatory line that wraps instead of being cut off."""
    label = QLabel(text, objectName=name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #555;")
    return label


def compact(combo: QComboBox, characters: int = 28) -> QComboBox:
    """Keep a combo with long entries (Aufenthaltsstatus, Einrichtungen) from widening its
    dialog beyond the screen; the popup still shows the full text."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo
