"""Verlauf: the timeline of a client file (contacts, phases, conversions, referrals, Fristen,
consents, residence), newest first, in a table over TimelineEntry."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from kimdesk.casework.views import TimelineEntry
from kimdesk.ui.client_file_tabs.base import FileTab
from kimdesk.ui.client_file_tabs.rows import MUTED, case_label, make_table
from kimdesk.ui.fields import CodeCombo, format_date
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

KIND_LABELS = {
    "contact": "Kontakt",
    "phase": "Phase",
    "case_kind": "Fall",
    "referral": "Vermittlung",
    "deadline": "Frist",
    "consent": "Einwilligung",
    "residence": "Aufenthalt",
}


class TimelineTableModel(RowTableModel[TimelineEntry]):
    """Datum, Art, Ereignis, Details, Fall: one row per TimelineEntry, in the given order.

    Entries after ``today`` (a Frist still ahead) are greyed: they are planned, not history.
    """

    def __init__(self, parent: Any = None) -> None:
        self._case_labels: dict[str, str] = {}
        self._today: date | None = None
        super().__init__([
            Column("Datum", lambda e: format_date(e.on)),
            Column("Art", lambda e: KIND_LABELS.get(e.kind, e.kind)),
            Column("Ereignis", lambda e: e.title),
            Column("Details", lambda e: e.detail, stretch=True),
            Column("Fall", lambda e: self._case_labels.get(e.case_id or "", "")),
        ], parent, foreground=self._planned)

    def _planned(self, entry: TimelineEntry) -> QColor | None:
        return MUTED if self._today is not None and entry.on > self._today else None

    def set_entries(self, entries: list[TimelineEntry], case_labels: dict[str, str],
                    today: date | None = None) -> None:
        self._case_labels = dict(case_labels)
        self._today = today
        self.set_rows(entries)


class _KindFilter(QSortFilterProxyModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.kind: str | None = None

    def set_kind(self, kind: str | None) -> None:
        self.beginFilterChange()
        self.kind = kind
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Any) -> bool:
        if self.kind is None:
            return True
        model = self.sourceModel()
        assert isinstance(model, TimelineTableModel)
        return model.row_at(source_row).kind == self.kind


class TimelineTab(FileTab):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.model = TimelineTableModel(self)
        self.filter_model = _KindFilter(self)
        self.filter_model.setSourceModel(self.model)
        self.table: QTableView = make_table(self.model, "timeline_table", self)
        self.table.setModel(self.filter_model)
        self.table.setWordWrap(True)
        # Long topic lists wrap; rows grow instead of cutting the second line off.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.kind = CodeCombo(KIND_LABELS.items(), empty="Alle Ereignisse", parent=self)
        self.kind.setObjectName("timeline_filter")
        self.count = QLabel(objectName="timeline_count")
        row = QHBoxLayout()
        row.addWidget(QLabel("Anzeigen:"))
        row.addWidget(self.kind)
        row.addStretch(1)
        row.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.kind.currentIndexChanged.connect(self._filter)
        self.table.doubleClicked.connect(self._open_case)

    def refresh(self) -> None:
        file = self._file
        assert file is not None
        labels = {c.id: case_label(c.kind, c.opened_on) for c in file.cases}
        self.model.set_entries(file.timeline, labels, self._state.today())
        self._filter()

    def _filter(self) -> None:
        self.filter_model.set_kind(self.kind.code())
        shown, total = self.filter_model.rowCount(), self.model.rowCount()
        self.count.setText(f"{shown} von {total} Einträgen" if shown != total
                           else f"{total} Einträge")

    def _open_case(self, index: Any) -> None:
        entry = index.data(Qt.ItemDataRole.UserRole)
        if isinstance(entry, TimelineEntry) and entry.case_id:
            self._state.hub.case_opened.emit(entry.case_id)
