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
        self._municipalities = {m.code: m.name for m in reference.municipalities}
        self._nationalities = {n.code: n.name for n in reference.nationalities}

    def set_rows(self, rows: list[ClientRow], today: date | None = None) -> None:
        self.beginResetModel()
        self._rows = rows
        if today is not None:
            self._today = today
        self.endResetModel()

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
            return {"open": "laufend", "closed": "abgeschlossen"}.get(row.case_status or "",
                                                                      "ohne Fall")
        return format_date(row.next_due)
