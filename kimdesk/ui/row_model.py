"""The one read-only Qt table model of the app: plain frozen row dataclasses shown through
column definitions (STYLE.md: item models are adapters, never over ORM objects).

UserRole gives the row itself, ``ID_ROLE`` its ``id`` (if it has one). A column may colour its
cells, the model may colour whole rows (overdue Fristen, § 104c).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

R = TypeVar("R")
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # Qt's default parent; a module constant, not a call per default
ID_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its header, how a row becomes its text, optionally a colour per cell."""

    header: str
    text: Callable[[R], str]
    colour: Callable[[R], QColor | None] | None = None
    stretch: bool = False


class RowTableModel(QAbstractTableModel, Generic[R]):
    """Rows of one dataclass type, shown through ``columns``."""

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
        column = self._columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.text(row)
        if role == Qt.ItemDataRole.UserRole:
            return row
        if role == ID_ROLE:
            return getattr(row, "id", None)
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = column.colour(row) if column.colour is not None else None
            if colour is None and self._foreground is not None:
                colour = self._foreground(row)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.BackgroundRole and self._background is not None:
            colour = self._background(row)
            return QBrush(colour) if colour is not None else None
        return None
