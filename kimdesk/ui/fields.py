"""Input widgets a practised user fills by keyboard: dates as text, code pickers, errors.

Dates are typed as TT.MM.JJJJ (also T.M.JJ), "heute"/"h", or "+14" (days from today), which is
faster than a calendar popup for a Wiedervorlage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from itertools import pairwise

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAccessible, QAccessibleEvent, QKeyEvent
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QWidget

from kimdesk.errors import KimdeskError, ValidationError

_DOTTED = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_RELATIVE = re.compile(r"^\s*\+\s*(\d{1,4})\s*([tTwWmM]?)\s*$")


class DateParseError(ValueError):
    pass


def parse_date(text: str, today: date) -> date | None:
    """The date meant by ``text``; None for empty input; DateParseError otherwise."""
    value = text.strip().lower()
    if not value:
        return None
    if value in ("h", "heute"):
        return today
    if value in ("g", "gestern"):
        return today - timedelta(days=1)
    if match := _RELATIVE.match(value):
        amount, unit = int(match[1]), match[2].lower()
        days = amount * {"": 1, "t": 1, "w": 7, "m": 30}[unit]
        return today + timedelta(days=days)
    try:
        if match := _DOTTED.match(value):
            day, month, year = int(match[1]), int(match[2]), match[3]
            full_year = int(year) if len(year) == 4 else 2000 + int(year)
            if len(year) == 2 and full_year > today.year + 10:
                full_year -= 100
            return date(full_year, month, day)
        if match := _ISO.match(value):
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise DateParseError("Dieses Datum gibt es nicht.") from None
    raise DateParseError("Bitte das Datum als TT.MM.JJJJ eingeben (oder „heute“, „+14“).")


def format_date(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def save_cancel_buttons(dialog: QDialog, save_text: str = "Speichern",
                        on_save: Callable[[], None] | None = None, *,
                        saves: bool = True) -> QDialogButtonBox:
    """The German Speichern/Abbrechen row every form dialog ends with; "save" names the
    button for tests. ``on_save`` validates and saves; the dialog accepts only on success.

    ``saves=False`` for a button that goes on to a next step ("Weiter …"): a plain accept
    button, since the standard Save button carries a save icon on desktops whose style shows
    icons in dialog buttons (KDE, GNOME)."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    if saves:
        save = buttons.addButton(QDialogButtonBox.StandardButton.Save)
        save.setText(save_text)
    else:
        save = buttons.addButton(save_text, QDialogButtonBox.ButtonRole.AcceptRole)
    save.setObjectName("save")
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Abbrechen")
    if on_save is not None:
        buttons.accepted.connect(on_save)
    buttons.rejected.connect(dialog.reject)
    return buttons


class _SaveOnCtrlEnter(QObject):
    """Strg+Enter on a watched field saves, also where the field would take the key itself
    (a line break in a text box)."""

    def __init__(self, dialog: QDialog, save: Callable[[], None]) -> None:
        super().__init__(dialog)
        self._save = save

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self._save()
            return True
        return False


def save_on_ctrl_enter(dialog: QDialog, save: Callable[[], None]) -> None:
    """Strg+Enter saves the form from every field of ``dialog`` (as in Kontakt erfassen)."""
    keys = _SaveOnCtrlEnter(dialog, save)
    dialog.installEventFilter(keys)
    for field in dialog.findChildren(QWidget):
        field.installEventFilter(keys)


def set_tab_order(*widgets: QWidget) -> None:
    """Tab moves through ``widgets`` in this order (the order of the form, not of creation).

    Widgets a form variant leaves out (never placed, so without a parent) are skipped.
    """
    placed = [widget for widget in widgets if widget.parent() is not None]
    for first, second in pairwise(placed):
        QWidget.setTabOrder(first, second)


class DateField(QLineEdit):
    """A date typed as text; ``value()`` raises DateParseError with a German message."""

    def __init__(self, today: Callable[[], date], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._today = today
        self.setPlaceholderText("TT.MM.JJJJ")
        # Never narrower than a whole date (squeezed in a full row it showed "T…").
        metrics = self.fontMetrics()
        self.setMinimumWidth(metrics.horizontalAdvance("00.00.00000") + 2 * metrics.height())
        self.setMaximumWidth(max(130, self.minimumWidth()))
        self.editingFinished.connect(self._normalise)

    def value(self) -> date | None:
        return parse_date(self.text(), self._today())

    def checked_value(self, field: str) -> date | None:
        """The date, or a ValidationError naming ``field`` so the form marks this widget."""
        try:
            return self.value()
        except DateParseError as exc:
            raise ValidationError(str(exc), field) from None

    def set_value(self, value: date | None) -> None:
        self.setText(format_date(value))

    def _normalise(self) -> None:
        # Show what "+14" or "heute" meant, so the user sees the date that will be saved.
        try:
            parsed = self.value()
        except DateParseError:
            return
        if parsed is not None:
            self.setText(format_date(parsed))


class CodeCombo(QComboBox):
    """A choice from a vocabulary: shows German labels, returns codes; type to jump."""

    def __init__(self, items: Iterable[tuple[str, str]], *, empty: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if empty is not None:
            self.addItem(empty, None)
        for code, label in items:
            self.addItem(label, code)

    def code(self) -> str | None:
        return self.currentData()

    def set_code(self, code: str | None) -> None:
        index = self.findData(code)
        self.setCurrentIndex(max(index, 0))


class FieldErrors:
    """Shows a ValidationError beside the field it names; input is never cleared.

    The banner is drawn in the error style each time (a busy text in between may have given it
    another colour) and announced: the banner and the field carry the message as their
    accessible description, and screen readers get an alert event."""

    _STYLE = "border: 2px solid #c62828;"
    BANNER_STYLE = "color: #b71c1c; font-weight: bold;"  # on the window grey 5.6:1

    def __init__(self, banner: QLabel, fields: dict[str, QWidget]) -> None:
        self._banner = banner
        self._fields = fields
        self._marked: list[tuple[QWidget, str]] = []  # with its own accessible description
        banner.setWordWrap(True)
        banner.setStyleSheet(self.BANNER_STYLE)
        banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        banner.hide()

    def clear(self) -> None:
        for widget, description in self._marked:
            widget.setStyleSheet("")
            widget.setToolTip("")
            widget.setAccessibleDescription(description)
        self._marked.clear()
        self._banner.clear()
        self._banner.setAccessibleName("")
        self._banner.setAccessibleDescription("")
        self._banner.hide()

    def show(self, message: str, field: str | None = None) -> None:
        self.clear()
        self._banner.setStyleSheet(self.BANNER_STYLE)
        self._banner.setText(message)
        self._banner.setAccessibleName("Fehler")
        self._banner.setAccessibleDescription(message)
        self._banner.show()
        widget = self._fields.get(field or "")
        if widget is not None:
            self._marked.append((widget, widget.accessibleDescription()))
            widget.setStyleSheet(self._STYLE)
            widget.setToolTip(message)
            widget.setAccessibleDescription(message)
            widget.setFocus()
        QAccessible.updateAccessibility(QAccessibleEvent(self._banner, QAccessible.Event.Alert))

    def show_error(self, error: KimdeskError) -> None:
        """An expected error of a use case: at its field if it names one, else as a banner."""
        self.show(error.message, getattr(error, "field", None))

    @property
    def message(self) -> str:
        return self._banner.text()
