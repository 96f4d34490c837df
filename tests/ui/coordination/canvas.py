"""Driving the service-chain canvas with the mouse: clicks, Strg+clicks, double clicks, drags."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsView

_LEFT = Qt.MouseButton.LeftButton


def view_point(view: QGraphicsView, scene_point: QPointF) -> QPoint:
    return view.mapFromScene(scene_point)


def item_centre(view: QGraphicsView, item: QGraphicsItem) -> QPoint:
    return view_point(view, item.mapToScene(item.boundingRect().center()))


def click(qtbot: Any, view: QGraphicsView, at: QPoint, *, control: bool = False) -> None:
    modifier = Qt.KeyboardModifier.ControlModifier if control else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(view.viewport(), _LEFT, modifier, at)


def double_click(qtbot: Any, view: QGraphicsView, at: QPoint) -> None:
    """Press, release, double click, release, as a mouse sends them: QTest's mouseDClick on a
    widget sends the double click alone, which the scene hands to the last grabbed item."""
    qtbot.mouseClick(view.viewport(), _LEFT, Qt.KeyboardModifier.NoModifier, at)
    qtbot.mouseDClick(view.viewport(), _LEFT, Qt.KeyboardModifier.NoModifier, at)
    qtbot.mouseRelease(view.viewport(), _LEFT, Qt.KeyboardModifier.NoModifier, at)


def drag(qtbot: Any, view: QGraphicsView, start: QPoint, end: QPoint, steps: int = 8) -> None:
    """Press at ``start``, move in steps with the button held, release at ``end``.

    QTest's mouseMove does not say which button is held, which a QGraphicsItem needs to move,
    so the moves are sent as mouse events that carry the pressed button."""
    viewport = view.viewport()
    qtbot.mousePress(viewport, _LEFT, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, steps + 1):
        point = QPointF(start) + (QPointF(end) - QPointF(start)) * (step / steps)
        move = QMouseEvent(QMouseEvent.Type.MouseMove, point, viewport.mapToGlobal(point),
                           Qt.MouseButton.NoButton, _LEFT, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, move)
    qtbot.mouseRelease(viewport, _LEFT, Qt.KeyboardModifier.NoModifier, end)
