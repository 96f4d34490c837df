"""Accessible names for every input, list and table (BITV 2.0 / EN 301 549 11.4.1.2: name,
role, value), given once for the whole app instead of in each of the 130 forms.

A screen reader announces a field by its accessible name. Qt derives it only in a few cases;
a combo box without one announces its current value, a field inside a group box the group's
title (Vorname and Nachname both as "Angaben für die Beratung"). :class:`AccessibleNames`, an
application-wide event filter, names each widget when it is first shown:

1. from its label: a QLabel whose buddy it is (every ``QFormLayout.addRow("&Text", field)``
   row, every ``setBuddy``), with "&", ":" and markup removed — this wins over the rest;
2. otherwise from its placeholder text (a search field), its tooltip, a label right before it
   in its row ("Von [Datum]"), its group box's title or its tab's text, so a table under
   "Wiedervorlagen und Fristen" is announced as such.

A name set by the code itself (``setAccessibleName``) is never replaced.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QTabWidget,
    QTextEdit,
    QWidget,
)

# Widgets that hold a value or a list of them and so need a name of their own.
INPUTS = (QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QTextEdit, QAbstractItemView)
_AUTO = "kimdesk_auto_name"  # a name given here (may be improved), not by the code
_FROM_LABEL = "label"
_FROM_CONTEXT = "context"


def clean(text: str) -> str:
    """A label's text as a name: no mnemonic "&", no markup, no trailing ":", "…" or "*"."""
    text = re.sub(r"<[^>]+>", " ", text).replace("&&", "\0").replace("&", "").replace("\0", "&")
    return " ".join(text.split()).rstrip(":…* ").strip()


def _label_before(widget: QWidget) -> str:
    """The text of a QLabel right before ``widget`` in its row ("Von [Datum]")."""
    parent = widget.parentWidget()
    if parent is None or parent.layout() is None:
        return ""
    layouts: list[QLayout] = [parent.layout()]
    while layouts:
        layout = layouts.pop()
        index = layout.indexOf(widget)
        if index > 0:
            before = layout.itemAt(index - 1).widget()
            if isinstance(before, QLabel) and before.buddy() is None and before.text():
                return clean(before.text())
            return ""
        for i in range(layout.count()):
            child = layout.itemAt(i).layout()
            if child is not None:
                layouts.append(child)
    return ""


def _context_name(widget: QWidget) -> str:
    if isinstance(widget, QLineEdit) and widget.placeholderText():
        return clean(widget.placeholderText())
    if widget.toolTip():
        return clean(widget.toolTip())
    before = _label_before(widget)
    if before:
        return before
    child: QWidget = widget
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QGroupBox) and parent.title():
            return clean(parent.title())
        if isinstance(parent, QStackedWidget) and isinstance(parent.parentWidget(), QTabWidget):
            tabs = parent.parentWidget()
            assert isinstance(tabs, QTabWidget)
            index = tabs.indexOf(child)
            if index >= 0 and tabs.tabText(index):
                return clean(tabs.tabText(index))
        child, parent = parent, parent.parentWidget()
    return ""


def _name(widget: QWidget, name: str, source: str) -> None:
    if not name:
        return
    given = widget.property(_AUTO)
    if widget.accessibleName() and given is None:
        return  # named by the code itself
    if given == _FROM_LABEL and source == _FROM_CONTEXT:
        return
    widget.setAccessibleName(name)
    widget.setProperty(_AUTO, source)


def name_widget(widget: QWidget) -> None:
    """Name ``widget`` (and a label's buddy) as described in the module's docstring."""
    if isinstance(widget, QLabel):
        buddy = widget.buddy()
        if buddy is not None:
            _name(buddy, clean(widget.text()), _FROM_LABEL)
            if isinstance(buddy, QComboBox) and buddy.isEditable() and buddy.lineEdit():
                _name(buddy.lineEdit(), clean(widget.text()), _FROM_LABEL)
        return
    if (isinstance(widget, INPUTS) and not isinstance(widget, QHeaderView)
            and not widget.accessibleName()):
        _name(widget, _context_name(widget), _FROM_CONTEXT)


def name_tree(root: QWidget) -> None:
    """Name every widget under ``root`` now (labels last, so they win)."""
    widgets = [root, *root.findChildren(QWidget)]
    for widget in widgets:
        if not isinstance(widget, QLabel):
            name_widget(widget)
    for widget in widgets:
        if isinstance(widget, QLabel):
            name_widget(widget)


class AccessibleNames(QObject):
    """Names widgets as they are shown; install once on the application."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(watched, QWidget):
            name_widget(watched)
        return False


def install(app: QApplication) -> AccessibleNames:
    names = AccessibleNames(app)
    app.installEventFilter(names)
    return names
