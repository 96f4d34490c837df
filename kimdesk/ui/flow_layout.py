"""A row of buttons that wraps onto the next line when the window is narrow (Qt's flow layout
example): the header actions of a screen fit 1366×768 also at 150 % scaling instead of
pushing the screen wider than the window."""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QStyle,
    QWidget,
)


class FlowLayout(QLayout):
    """Items left to right, wrapped at the right edge; its minimum width is its widest item."""

    def __init__(self, parent: QWidget | None = None, spacing: int = -1, *,
                 fill: bool = False) -> None:
        """``fill``: the items of a row share its spare width and take the row's height
        (group boxes side by side, as in a grid, while they fit)."""
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._fill = fill
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """All items on one row."""
        width = height = 0
        for item in self._visible():
            hint = item.sizeHint()
            width += hint.width() + (self._gap(item, horizontal=True) if width else 0)
            height = max(height, hint.height())
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(),
                     height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _gap(self, item: QLayoutItem, *, horizontal: bool) -> int:
        if self._spacing >= 0:
            return self._spacing
        widget = item.widget()
        style = widget.style() if widget is not None else None
        if style is None:
            return 6
        metric = (QStyle.PixelMetric.PM_LayoutHorizontalSpacing if horizontal
                  else QStyle.PixelMetric.PM_LayoutVerticalSpacing)
        return max(style.pixelMetric(metric), 6)

    def _rows(self, width: int) -> list[list[QLayoutItem]]:
        rows: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._visible():
            hint = item.sizeHint().width()
            if rows[-1] and used + hint > width:
                rows.append([])
                used = 0
            rows[-1].append(item)
            used += hint + self._gap(item, horizontal=True)
        return rows

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        """Place (or only measure) the items; returns the height they take."""
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        y = area.y()
        for number, row in enumerate(self._rows(area.width())):
            if not row:
                continue
            if number:
                y += self._gap(row[0], horizontal=False)
            gaps = sum(self._gap(item, horizontal=True) for item in row[1:])
            hints = [item.sizeHint().width() for item in row]
            spare = max(area.width() - sum(hints) - gaps, 0) if self._fill else 0
            widths = [max(min(hint + spare * hint // max(sum(hints), 1), area.width()),
                          item.minimumSize().width()) for hint, item in zip(hints, row,
                                                                             strict=True)]
            height = max(item.heightForWidth(width) if item.hasHeightForWidth()
                         else item.sizeHint().height() for item, width in zip(row, widths,
                                                                               strict=True))
            x = area.x()
            for item, width in zip(row, widths, strict=True):
                if move:
                    own = height if self._fill else (
                        item.heightForWidth(width) if item.hasHeightForWidth()
                        else item.sizeHint().height())
                    item.setGeometry(QRect(QPoint(x, y), QSize(width, own)))
                x += width + self._gap(item, horizontal=True)
            y += height
        return y - rect.y() + margins.bottom()


def labelled(text: str, field: QWidget, parent: QWidget | None = None) -> QWidget:
    """A label and its field as one piece of a flow (they never part at a line break)."""
    pair = QWidget(parent)
    row = QHBoxLayout(pair)
    row.setContentsMargins(0, 0, 0, 0)
    label = QLabel(text, pair)
    label.setBuddy(field)
    row.addWidget(label)
    row.addWidget(field, 1)
    return pair


class ColumnsLayout(QBoxLayout):
    """Columns side by side where they fit, one under the other where they do not (a phase
    form's editor and list at 150 % on 1366×768). Its minimum width is the widest column's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QBoxLayout.Direction.LeftToRight, parent)

    def _items(self) -> list[QLayoutItem]:
        items = (self.itemAt(index) for index in range(self.count()))
        return [item for item in items if item is not None and not item.isEmpty()]

    def _side_by_side(self) -> int:
        """The width the columns need side by side."""
        items = self._items()
        margins = self.contentsMargins()
        spacing = max(self.spacing(), 0) * max(len(items) - 1, 0)
        return (sum(item.minimumSize().width() for item in items) + spacing
                + margins.left() + margins.right())

    def minimumSize(self) -> QSize:
        margins = self.contentsMargins()
        widest = max((item.minimumSize().width() for item in self._items()), default=0)
        return QSize(widest + margins.left() + margins.right(), super().minimumSize().height())

    def setGeometry(self, rect: QRect) -> None:
        wanted = (QBoxLayout.Direction.LeftToRight if rect.width() >= self._side_by_side()
                  else QBoxLayout.Direction.TopToBottom)
        if self.direction() != wanted:
            self.setDirection(wanted)
        super().setGeometry(rect)
