"""Everything a widget shows as text (labels, fields, lists, tables, trees, window titles and
the texts of graphics scenes), for checking that no identifying value of a client is on screen."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QAbstractItemModel, QAbstractListModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
)


def _columns(model: QAbstractItemModel, parent: QModelIndex) -> int:
    # A list model hides columnCount (it is private in QAbstractListModel): one column.
    return 1 if isinstance(model, QAbstractListModel) else model.columnCount(parent)


def _model_texts(view: QAbstractItemView) -> Iterable[str]:
    model = view.model()
    if model is None:
        return
    for section in range(_columns(model, QModelIndex())):
        header = model.headerData(section, Qt.Orientation.Horizontal)
        if header is not None:
            yield str(header)
    pending = [QModelIndex()]
    while pending:
        parent = pending.pop()
        for row in range(model.rowCount(parent)):
            for column in range(_columns(model, parent)):
                index = model.index(row, column, parent)
                for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                    value = model.data(index, role)
                    if isinstance(value, str) and value:
                        yield value
                if column == 0 and not isinstance(model, QAbstractListModel) and (
                        model.rowCount(index)):
                    pending.append(index)


def visible_texts(root: QWidget) -> list[str]:
    """The texts of ``root`` and all its children (hidden ones too: a tab not shown is still
    part of the view)."""
    found: list[str] = [root.windowTitle()]
    for widget in [root, *root.findChildren(QWidget)]:
        found.append(widget.toolTip())
        if isinstance(widget, QLabel | QLineEdit | QAbstractButton):
            found.append(widget.text())
        if isinstance(widget, QPlainTextEdit | QTextEdit):
            found.append(widget.toPlainText())
            found.append(widget.placeholderText())
        if isinstance(widget, QGroupBox):
            found.append(widget.title())
        if isinstance(widget, QComboBox):
            found += [widget.itemText(i) for i in range(widget.count())]
        if isinstance(widget, QTabWidget):
            found += [widget.tabText(i) for i in range(widget.count())]
        if isinstance(widget, QAbstractItemView):
            found += list(_model_texts(widget))
        if isinstance(widget, QGraphicsView) and widget.scene() is not None:
            for item in widget.scene().items():
                if isinstance(item, QGraphicsTextItem):
                    found.append(item.toPlainText())
                elif isinstance(item, QGraphicsSimpleTextItem):
                    found.append(item.text())
    return [text for text in found if text]


def leaked(texts: Iterable[str], secrets: Iterable[str]) -> list[tuple[str, str]]:
    """(secret, text) for every text that contains one of ``secrets`` (case ignored)."""
    wanted = [s.casefold() for s in secrets]
    return [(secret, text) for text in texts for secret in wanted if secret in text.casefold()]
