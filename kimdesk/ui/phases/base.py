"""What every phase form shares: loading a CaseDetail, acting through casework, unsaved input.

Thread rule: forms run on the GUI thread; the casework calls they make are single small writes.
A form never clears what the user typed on a reload: only its own successful save resets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QSpinBox,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.case_views import CaseDetail, PersonRef
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models.enums import Phase
from kimdesk.ui.columns import FitColumns
from kimdesk.ui.fields import FieldErrors
from kimdesk.ui.state import AppState


def widget_value(widget: QWidget) -> Any:
    """The user-visible value of an input widget, for comparing before and after."""
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QSpinBox):
        return widget.value()
    if isinstance(widget, QAbstractButton):
        return widget.isChecked()
    if isinstance(widget, QListWidget):
        return tuple(widget.item(i).checkState() for i in range(widget.count()))
    raise TypeError(f"no value for {type(widget).__name__}")


class InputSnapshot:
    """Remembers the values of some inputs, to tell whether the user changed them since."""

    def __init__(self, widgets: Sequence[QWidget]) -> None:
        self._widgets = list(widgets)
        self._clean = self.values()

    def values(self) -> tuple[Any, ...]:
        return tuple(widget_value(w) for w in self._widgets)

    def mark_clean(self) -> None:
        self._clean = self.values()

    def is_dirty(self) -> bool:
        return self.values() != self._clean


def plain_text(name: str, height: int = 60, placeholder: str = "") -> QPlainTextEdit:
    """A multi-line field that Tab leaves (keyboard users), of a fixed comfortable height."""
    edit = QPlainTextEdit(objectName=name)
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(height)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    return edit


def column(*widgets: QWidget, stretch: bool = True) -> QVBoxLayout:
    """Widgets stacked at the top of a column (the rest of the height stays free)."""
    layout = QVBoxLayout()
    for widget in widgets:
        layout.addWidget(widget)
    if stretch:
        layout.addStretch(1)
    return layout


def error_label(name: str) -> QLabel:
    return QLabel(objectName=name)


def refill(combo: QComboBox, items: Iterable[tuple[str, Any]]) -> None:
    """Replace a picker's (label, data) items, keeping the chosen entry where it still exists.

    Signals are blocked while refilling, so a reload does not look like a user's choice.
    """
    chosen = combo.currentData()
    keep_empty = combo.count() > 0 and combo.itemData(0) is None
    empty_label = combo.itemText(0) if keep_empty else ""
    combo.blockSignals(True)
    combo.clear()
    if keep_empty:
        combo.addItem(empty_label, None)
    for label, data in items:
        combo.addItem(label, data)
    index = combo.findData(chosen) if chosen is not None else -1
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)


def set_people(combo: QComboBox, people: Iterable[PersonRef]) -> None:
    refill(combo, ((person.name, person.id) for person in people))


def configure_table(view: QTableView | QTreeView, *, stretch: Sequence[int] = (),
                    fit: Sequence[int] = (), widths: dict[int, int] | None = None) -> None:
    """Read-only, single row selection, compact rows.

    Columns in ``stretch`` share the free width (and elide), columns in ``fit`` take the width
    of their contents, ``widths`` fixes others; so the table fits without scrolling sideways.
    A table's columns give way where it is narrower than that (150 % on 1366×768): the first
    ``stretch`` column keeps a share, the widest others are elided (:class:`FitColumns`).
    """
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
    header.setHighlightSections(False)
    if isinstance(view, QTableView):
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    if stretch and isinstance(view, QTableView):
        FitColumns(view, stretch[0], widths=widths)  # owned by the view
    elif stretch or fit or widths:
        header.setStretchLastSection(False)
        for column, width in (widths or {}).items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        for column in fit:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in stretch:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    else:
        header.setStretchLastSection(True)


def action_row(errors: QLabel, *buttons: QWidget) -> QVBoxLayout:
    """A form's last rows: its error message (full width), then its buttons at the right."""
    layout = QVBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(errors)
    row = QHBoxLayout()
    row.addStretch(1)
    for button in buttons:
        row.addWidget(button)
    layout.addLayout(row)
    return layout


def buddy(text: str, widget: QWidget) -> QLabel:
    """A row label whose Alt shortcut focuses ``widget`` (for rows that hold a layout)."""
    label = QLabel(text)
    label.setBuddy(widget)
    return label


class PhaseForm(QWidget):
    """Base of the six phase forms. Subclasses set ``phase`` and implement the hooks."""

    phase: Phase

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._detail: CaseDetail | None = None
        self._editors: list[QGroupBox | QWidget] = []

    @property
    def detail(self) -> CaseDetail | None:
        return self._detail

    def load(self, detail: CaseDetail, *, reset: bool) -> None:
        """Show ``detail``. ``reset`` when a different case is shown: drop all typed input."""
        self._detail = detail
        self._load(detail, reset)
        self.set_read_only(not detail.is_open)

    def _load(self, detail: CaseDetail, reset: bool) -> None:
        raise NotImplementedError

    def has_unsaved_changes(self) -> bool:
        return False

    def set_read_only(self, read_only: bool) -> None:
        """A closed case is shown, not edited: the editing groups are disabled."""
        for editor in self._editors:
            editor.setEnabled(not read_only)

    def act(self, errors: FieldErrors, action: Callable[[], Any], *,
            message: str = "", on_success: Callable[[Any], None] | None = None) -> bool:
        """Run a casework call; show its refusal at the field it names, or the message.

        The screen reloads by itself once the call has committed (the vault reports it);
        ``on_success`` then resets the inputs.
        """
        errors.clear()
        try:
            result = action()
        except ValidationError as exc:
            errors.show(exc.message, exc.field)
            return False
        except KimdeskError as exc:
            errors.show(exc.message)
            return False
        if on_success is not None:
            on_success(result)
        if message:
            self._state.hub.status_message.emit(message)
        return True
