"""Helpers for driving real widgets: typing any text, choosing by code, answering dialogs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QEventLoop, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QWidget


def type_text(qtbot: Any, widget: QWidget, text: str) -> None:
    """Replace the field's text by typing ``text`` key by key. QTest only knows ASCII keys, so
    umlauts and other letters arrive as key events that carry their text, as a keyboard
    layout would send them."""
    widget.clear()  # type: ignore[attr-defined]
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
            continue
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier,
                                                     char))


def choose(combo: QComboBox, data: Any) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not offered in {combo.objectName()}"
    combo.setCurrentIndex(index)


class Pending(list[Any]):
    """What a polled answer collected; ``wait()`` processes events until it has run.

    Form dialogs open with ``open()`` and return at once, so the test waits for the answer
    after the click; a message box's blocking ``exec()`` has run it already."""

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def wait(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.done and time.monotonic() < deadline:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)
        if not self.done:
            raise AssertionError("the expected dialog was never answered")


def when_modal(kind: type[QWidget], action: Callable[[Any], None], *,
               attempts: int = 200) -> Pending:
    """Run ``action(dialog)`` once a modal ``kind`` is shown (``open()`` or ``exec()``).

    Returns a list that receives any exception of ``action``; on an error the dialog is
    closed so that the test can fail instead of hanging. ``wait()`` on it after the click.
    """
    errors = Pending()

    def poll(remaining: int) -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, kind):
            try:
                action(widget)
            except BaseException as exc:  # re-raised by the test through the list
                errors.append(exc)
            if widget.isVisible():  # the action did not finish the dialog: do not hang
                shown = widget.findChild(QLabel, "errors")
                errors.append(AssertionError(
                    f"{kind.__name__} still open: {shown.text() if shown else ''}"))
                widget.close()
            errors.done = True
            return
        if remaining:
            QTimer.singleShot(10, lambda: poll(remaining - 1))
        else:
            errors.append(AssertionError(f"no modal {kind.__name__} appeared"))
            errors.done = True

    QTimer.singleShot(0, lambda: poll(attempts))
    return errors


def screenshot(widget: QWidget, directory: Path, name: str, size: tuple[int, int]) -> Path:
    widget.resize(*size)
    QApplication.processEvents()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{size[0]}x{size[1]}.png"
    assert widget.grab().save(str(path))
    return path
