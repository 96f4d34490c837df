"""Helpers the tabs of the client file share; their tables use ``kimdesk.ui.row_model``.

Each tab turns what ``views.open_client_file`` loaded into small frozen dataclasses first, so
no model ever holds an ORM object; the columns say how a row is shown.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QTableView,
    QWidget,
)

from kimdesk.ui.row_model import RowTableModel

# Case kinds short enough for a table column.
SHORT_CASE_KIND = {
    "short_intervention": "Kurzintervention",
    "process_support": "Begleitung",
    "case_management": "Case Management",
}
OVERDUE = QColor("#b71c1c")
HIGHLIGHT = QColor("#fff3cd")  # § 104c rows, as on the Heute screen
MUTED = QColor("#6b6b6b")


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
