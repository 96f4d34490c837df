"""Showing a form dialog without blocking: ``open()``, never ``exec()``.

Auto-lock hides every open dialog and shows it again after unlock; hiding would end an
``exec()`` and its caller would carry on as if the dialog had been cancelled. A dialog opened
here saves through casework itself (the vault then tells every screen), so nothing has to run
after it returns except, at most, ``on_accepted`` (e.g. open the file that was just created).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QWidget

D = TypeVar("D", bound=QDialog)


def open_dialog(dialog: D, on_accepted: Callable[[D], None] | None = None) -> D:
    """Show ``dialog`` window-modal and return at once; ``on_accepted(dialog)`` runs when the
    user saves (also if that happens only after an auto-lock and unlock)."""
    if on_accepted is not None:
        dialog.accepted.connect(lambda: on_accepted(dialog))
    dialog.open()
    return dialog


_DISCARDED = "kimdesk_discarded"


def discard(dialog: QDialog) -> None:
    """End ``dialog`` for good, also while an auto-lock hides it: what it edits is gone (e.g.
    the Kreis-Tresor after the county revoked it), so the unlock must not show it again."""
    dialog.setProperty(_DISCARDED, True)
    dialog.reject()


def discarded(dialog: QDialog) -> bool:
    """Whether :func:`discard` ended ``dialog``."""
    return bool(dialog.property(_DISCARDED))


def fit_to_screen(dialog: QWidget, width: int, height: int) -> None:
    """Resize ``dialog`` to ``width`` × ``height``, but never beyond the available area of the
    screen it opens on (a 1366×768 laptop, or less at 150 % scaling)."""
    screen = dialog.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        area = screen.availableGeometry()
        # Leave room for the window frame and title bar the platform adds.
        width = min(width, area.width() - 16)
        height = min(height, area.height() - 40)
    dialog.resize(max(width, dialog.minimumSizeHint().width()),
                  max(height, dialog.minimumSizeHint().height()))
