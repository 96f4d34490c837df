"""The Ratsuchende list: a Qt table model over plain ClientRow data (never ORM objects)."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from kimdesk.casework.views import ClientRow
from kimdesk.models.enums import CaseKind, Phase
from kimdesk.reference import Reference
from kimdesk.ui.fields import format_date

COLUMNS = ("Name", "Geburtsdatum", "Kommune", "Staatsangehörigkeit", "Fallart", "Phase",
           "Status", "Nächste Frist")
_SHORT_KIND = {
    CaseKind.SHORT_INTERVENTION.value: "Kurzintervention",
    CaseKind.PROCESS_SUPPORT.value: "Begleitung",
    CaseKind.CASE_MANAGEMENT.value: "Case Management",
}
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # Qt's default parent; a module constant, not a call per default


class ClientTableModel(QAbstractTableModel):
    def __init__(self, reference: Reference, today: date, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ClientRow] = []
        self._today = today
        self._sort_column = 0
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._municipalities = {m.code: m.name for m in reference.municipalities}
        self._nationalities = {n.code: n.name for n in reference.nationalities}

    def set_rows(self, rows: list[ClientRow], today: date | None = None) -> None:
        self.beginResetModel()
        if today is not None:
            self._today = today
        self._rows = self._sorted(rows)
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # Sorting here, on plain keys, instead of in a proxy that asks data() for every
        # comparison: with thousands of rows that is the difference of a keystroke's budget.
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        self._rows = self._sorted(self._rows)
        self.layoutChanged.emit()

    def _sorted(self, rows: list[ClientRow]) -> list[ClientRow]:
        column = self._sort_column

        def key(row: ClientRow) -> tuple[bool, int, str]:
            if column in (1, 7):  # dates sort by date, empty ones last
                value = row.birth_date if column == 1 else row.next_due
                return (value is None, value.toordinal() if value else 0, "")
            return (False, 0, self._text(row, column).casefold())

        reverse = self._sort_order == Qt.SortOrder.DescendingOrder
        return sorted(rows, key=key, reverse=reverse)

    def row_at(self, row: int) -> ClientRow:
        return self._rows[row]

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        overdue = row.next_due is not None and row.next_due < self._today
        if role == Qt.ItemDataRole.ForegroundRole and column == 7 and overdue:
            return QBrush(QColor("#b71c1c"))
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def _text(self, row: ClientRow, column: int) -> str:
        if column == 0:
            return row.display_name
        if column == 1:
            return format_date(row.birth_date)
        if column == 2:
            return self._municipalities.get(row.municipality, row.municipality)
        if column == 3:
            return self._nationalities.get(row.nationality or "", "")
        if column == 4:
            return _SHORT_KIND.get(row.case_kind or "", "")
        if column == 5:
            return Phase(row.phase).label.split(" (")[0] if row.phase else ""
        if column == 6:
            status = {"open": "laufend", "closed": "abgeschlossen"}.get(row.case_status or "",
                                                                        "ohne Fall")
            return f"{status} (Familienfall)" if row.family_case else status
        return format_date(row.next_due)
