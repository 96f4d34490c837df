"""Table columns that share the table's width instead of scrolling sideways.

Each column is as wide as its content and one column (the name) takes the rest. Where the
table is narrower than that (150 % scaling on a 1366×768 laptop), the widest columns give way
first (their text is elided with "…", the tooltip or the Akte shows it whole) and the name
column keeps a share of the width, so the table never needs a horizontal scroll bar.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

# A column never gets narrower than this many average characters (plus its padding).
MIN_CHARACTERS = 5


class FitColumns(QObject):
    """Keeps the columns of ``table`` within its width (see the module docstring)."""

    def __init__(self, table: QTableView, stretch: int, *, stretch_share: float = 0.3,
                 widths: dict[int, int] | None = None, widest: int | None = None) -> None:
        """``widths``: columns with a set width instead of their content's (they give way
        like the others where the table is narrow); ``widest``: no column but the stretch
        column gets wider than this."""
        super().__init__(table)
        self._table = table
        self._stretch = stretch
        self._share = stretch_share
        self._set = dict(widths or {})
        self._widest = widest
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)  # "Verantwo…", not "ntwort"
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._pending = QTimer(self, singleShot=True, interval=0)
        self._pending.timeout.connect(self.fit)
        table.viewport().installEventFilter(self)
        model = table.model()
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted,
                       model.rowsRemoved, model.dataChanged):
            signal.connect(self._pending.start)
        self._pending.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.fit()
        return False

    def widths(self, available: int) -> list[int]:
        """The column widths for ``available`` pixels (hidden columns get 0)."""
        table, header = self._table, self._table.horizontalHeader()
        count = table.model().columnCount()
        floor = MIN_CHARACTERS * table.fontMetrics().averageCharWidth() + 12
        wants = [0 if header.isSectionHidden(c)
                 else self._set[c] if c in self._set
                 else max(table.sizeHintForColumn(c), header.sectionSizeHint(c), floor)
                 for c in range(count)]
        others = [c for c in range(count) if c != self._stretch and wants[c]]
        if self._widest is not None:
            for c in others:
                wants[c] = min(wants[c], max(self._widest, floor))
        keep = max(round(available * self._share), floor)
        budget = max(available - keep, 0)
        if sum(wants[c] for c in others) > budget:
            # The widest give way first: the largest cap with sum(min(want, cap)) ≤ budget.
            low, high = floor, max(wants[c] for c in others)
            while low < high:
                cap = (low + high + 1) // 2
                if sum(min(wants[c], cap) for c in others) <= budget:
                    low = cap
                else:
                    high = cap - 1
            for c in others:
                wants[c] = min(wants[c], low)
        rest = available - sum(wants[c] for c in others)
        wants[self._stretch] = max(rest, floor)
        return wants

    def fit(self) -> None:
        table = self._table
        if table.model() is None or not table.isVisible():
            return
        header = table.horizontalHeader()
        for column, width in enumerate(self.widths(table.viewport().width())):
            if not header.isSectionHidden(column) and header.sectionSize(column) != width:
                header.resizeSection(column, width)
