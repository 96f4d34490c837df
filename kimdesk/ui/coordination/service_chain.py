"""The service-chain canvas of a Fallrekonstruktion: actors as boxes, relations as arrows.

The canvas edits two plain lists in the fixed JSON shapes of a reconstruction:
``actors: [{"id", "label", "kind", "x", "y"}]`` (``x``/``y`` = the centre of the box in scene
units, as the PDF of :mod:`kimdesk.reports.reconstruction` reads them) and
``relations: [{"id", "source", "target", "kind", "label"}]``. Kinds of actors are told apart by
shape and colour (legend above the canvas, colours and terms as in the PDF); obstacles are red,
dashed and carry a ✕ marker; a Zusammenarbeit has no direction, so no arrow head.
Everything can be done by keyboard: Tab walks through the actors, arrows move them, F2
renames, Entf deletes, „Verbinden" with one selected actor offers the targets as a menu.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QContextMenuEvent,
    QFocusEvent,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QTextOption,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QGraphicsTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.coordination import reconstructions
from kimdesk.ui.flow_layout import FlowLayout

BOX_WIDTH = 176.0
BOX_MAX_WIDTH = 320.0
BOX_MIN_HEIGHT = 58.0
_PAD = 10.0
_GRID = (236.0, 128.0)  # cell of the free-spot search for new actors
_GRID_COLUMNS = 5
_MAX_FIT_SCALE = 1.25  # a small chain is not blown up to poster size
CAPTION_PT = 9.5  # relation labels; actor labels are larger (``_label_font``)
# Opening a chain never shows it smaller than this: relation labels at 9 pt on the screen,
# actor labels at 10 pt (issue 14, item 7: it opened at 4 %, labels ~6 px). A larger chain
# scrolls; "Einpassen" still shows all of it.
READABLE_SCALE = 9.0 / CAPTION_PT
_SCENE_MARGIN = 1200.0  # free canvas around the chain to drag boxes into
_ARROW = 11.0


@dataclass(frozen=True)
class ActorStyle:
    label: str  # German, for the legend and the kind picker
    fill: str
    border: str
    dashed: bool = False


@dataclass(frozen=True)
class RelationStyle:
    label: str
    colour: str
    width: float
    dash: Qt.PenStyle


# Colours as in the PDF, so the printed diagram looks like the one on the screen.
ACTOR_KINDS: dict[str, ActorStyle] = {
    "institution": ActorStyle(reconstructions.ACTOR_KINDS["institution"], "#dce9f5", "#2b5d8a"),
    "person": ActorStyle(reconstructions.ACTOR_KINDS["person"], "#fbeed5", "#a06a12"),
    "offer": ActorStyle(reconstructions.ACTOR_KINDS["offer"], "#e3f1df", "#3d7a34", True),
}
RELATION_KINDS: dict[str, RelationStyle] = {
    "cooperation": RelationStyle(reconstructions.RELATION_KINDS["cooperation"], "#4a4a4a", 2.0,
                                 Qt.PenStyle.SolidLine),
    "precondition": RelationStyle(reconstructions.RELATION_KINDS["precondition"], "#2b5d8a",
                                  2.6, Qt.PenStyle.SolidLine),
    "influence": RelationStyle(reconstructions.RELATION_KINDS["influence"], "#7a5a9a", 2.0,
                               Qt.PenStyle.DotLine),
    "obstacle": RelationStyle(reconstructions.RELATION_KINDS["obstacle"], "#c62828", 3.0,
                              Qt.PenStyle.DashLine),
}
OBSTACLE = "obstacle"
UNDIRECTED = ("cooperation",)  # drawn without an arrow head, as in the PDF


def new_id() -> str:
    return uuid.uuid4().hex


def _label_font() -> QFont:
    font = QFont()
    font.setPointSizeF(10.5)
    return font


def actor_outline(kind: str, rect: QRectF) -> QPainterPath:
    """The shape that tells the kind: rounded box (Einrichtung), pill (Person), a box with
    pointed sides (Angebot)."""
    path = QPainterPath()
    if kind == "person":
        radius = rect.height() / 2
        path.addRoundedRect(rect, radius, radius)
    elif kind == "offer":
        tip = min(16.0, rect.height() / 2)
        path.addPolygon(QPolygonF([
            QPointF(rect.left() + tip, rect.top()), QPointF(rect.right() - tip, rect.top()),
            QPointF(rect.right(), rect.center().y()), QPointF(rect.right() - tip, rect.bottom()),
            QPointF(rect.left() + tip, rect.bottom()), QPointF(rect.left(), rect.center().y()),
        ]))
        path.closeSubpath()
    else:
        path.addRoundedRect(rect, 9, 9)
    return path


class _LabelText(QGraphicsTextItem):
    """An item's caption, editable in place: Enter keeps the text, Esc restores it.

    An actor's caption is its child; a relation's caption is an item of its own above all
    boxes (``child=False``), on a white ground, so no box ever hides it."""

    def __init__(self, text: str, width: float, owner: QGraphicsItem,
                 on_done: Callable[[str | None], None], *, child: bool = True,
                 ground: QColor | None = None) -> None:
        super().__init__(owner if child else None)
        self.owner = owner
        self._ground = ground
        self._on_done = on_done
        self._before = text
        self._finishing = False
        self.setFont(_label_font())
        option = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.document().setDefaultTextOption(option)
        self.setTextWidth(width)
        self.setPlainText(text)

    @property
    def editing(self) -> bool:
        return bool(self.textInteractionFlags() & Qt.TextInteractionFlag.TextEditorInteraction)

    def start(self) -> None:
        self._before = self.toPlainText()
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        cursor = self.textCursor()
        cursor.select(cursor.SelectionType.Document)
        self.setTextCursor(cursor)

    def finish(self, keep: bool) -> None:
        if not self.editing or self._finishing:
            return
        self._finishing = True  # giving up the focus below calls focusOutEvent again
        try:
            had_focus = self.hasFocus()
            self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            if had_focus:
                self.owner.setFocus(Qt.FocusReason.OtherFocusReason)  # Tab goes on from there
        finally:
            self._finishing = False
        cursor = self.textCursor()
        cursor.clearSelection()
        self.setTextCursor(cursor)
        text = " ".join(self.toPlainText().split())
        if not keep or not text:
            self.setPlainText(self._before)
            self._on_done(None)
            return
        self.setPlainText(text)
        self._on_done(text)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self._ground is not None and (self.toPlainText() or self.editing):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._ground)
            painter.drawRoundedRect(self.boundingRect().adjusted(-2, 0, 2, 0), 4, 4)
        super().paint(painter, option, widget)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish(True)
            return
        if event.key() == Qt.Key.Key_Escape:
            self.finish(False)
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.finish(True)


class ActorItem(QGraphicsObject):
    """One actor: a labelled box whose shape and colour show its kind."""

    def __init__(self, actor_id: str, label: str, kind: str) -> None:
        super().__init__()
        self.actor_id = actor_id
        self.kind = kind if kind in ACTOR_KINDS else "institution"
        self._pressed_at: QPointF | None = None
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsFocusable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setZValue(1)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self._width = BOX_WIDTH
        self.caption = _LabelText(label, BOX_WIDTH - 2 * _PAD, self, self._renamed)
        self._layout_caption()

    # --- data -------------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.caption.toPlainText()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.actor_id, "label": self.label, "kind": self.kind,
                "x": round(float(self.pos().x()), 1), "y": round(float(self.pos().y()), 1)}

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self.update()

    # --- geometry ---------------------------------------------------------------------------

    def _height(self) -> float:
        return max(BOX_MIN_HEIGHT, self.caption.boundingRect().height() + 2 * _PAD)

    def box(self) -> QRectF:
        """The box around the item's position: ``pos()`` is the centre (the JSON's x/y)."""
        height = self._height()
        return QRectF(-self._width / 2, -height / 2, self._width, height)

    def scene_box(self) -> QRectF:
        return self.mapRectToScene(self.box())

    def _layout_caption(self) -> None:
        self.prepareGeometryChange()
        # As wide as the longest word needs ("Integrationsmanagement"), so no word is split.
        metrics = QFontMetricsF(self.caption.font())
        longest = max((metrics.horizontalAdvance(word) for word in self.label.split()),
                      default=0.0)
        text_margin = 2 * self.caption.document().documentMargin() + 2
        self._width = min(max(BOX_WIDTH, longest + text_margin + 2 * _PAD), BOX_MAX_WIDTH)
        self.caption.setTextWidth(self._width - 2 * _PAD)
        text_height = self.caption.boundingRect().height()
        self.caption.setPos(-self._width / 2 + _PAD, -text_height / 2)
        self._moved()

    def boundingRect(self) -> QRectF:
        return self.box().adjusted(-4, -4, 4, 4)

    def shape(self) -> QPainterPath:
        return actor_outline(self.kind, self.box())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        style = ACTOR_KINDS[self.kind]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        painter.setPen(QPen(QColor(style.border), 3.2 if selected else 1.6,
                            Qt.PenStyle.DashLine if style.dashed else Qt.PenStyle.SolidLine))
        painter.setBrush(QBrush(QColor(style.fill)))
        painter.drawPath(actor_outline(self.kind, self.box()))
        if selected:
            painter.setPen(QPen(QColor("#263238"), 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(actor_outline(self.kind, self.box().adjusted(-3.5, -3.5, 3.5, 3.5)))

    # --- interaction ------------------------------------------------------------------------

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            self._moved()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.update()
        return super().itemChange(change, value)

    def _moved(self) -> None:
        scene = self.scene()
        if isinstance(scene, ServiceChainScene):
            scene.actor_moved(self)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._pressed_at = QPointF(self.pos())
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        scene = self.scene()
        if self._pressed_at is not None and self._pressed_at != self.pos() and isinstance(
                scene, ServiceChainScene):
            scene.chain_edited.emit()
        self._pressed_at = None

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.start_rename()
        event.accept()

    def start_rename(self) -> None:
        self.caption.start()

    def _renamed(self, text: str | None) -> None:
        self._layout_caption()
        scene = self.scene()
        if text is not None and isinstance(scene, ServiceChainScene):
            scene.chain_edited.emit()


class RelationItem(QGraphicsObject):
    """An arrow from one actor to another; an obstacle is red, dashed and marked with ✕."""

    def __init__(self, relation_id: str, source: ActorItem, target: ActorItem, kind: str,
                 label: str) -> None:
        super().__init__()
        self.relation_id = relation_id
        self.source = source
        self.target = target
        self.kind = kind if kind in RELATION_KINDS else "cooperation"
        self.bend = 0.0  # sideways offset of the curve's middle when two arrows share a pair
        self._path = QPainterPath()
        self._tip = QPointF()
        self._tip_angle = 0.0
        self._middle = QPointF()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsFocusable)
        self.setZValue(0)
        self.caption = _LabelText(label, 150, self, self._relabelled, child=False,
                                  ground=QColor(255, 255, 255, 235))
        self.caption.setZValue(3)
        self._style_caption()
        self.update_geometry()

    @property
    def label(self) -> str:
        return self.caption.toPlainText()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.relation_id, "source": self.source.actor_id,
                "target": self.target.actor_id, "kind": self.kind, "label": self.label}

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self._style_caption()
        self.update_geometry()

    def _style_caption(self) -> None:
        obstacle = self.kind == OBSTACLE
        font = _label_font()
        font.setPointSizeF(CAPTION_PT)
        font.setBold(obstacle)
        self.caption.setFont(font)
        self.caption.setDefaultTextColor(QColor("#b71c1c" if obstacle else "#37474f"))

    # --- geometry ---------------------------------------------------------------------------

    def update_geometry(self) -> None:
        self.prepareGeometryChange()
        source_box, target_box = self.source.scene_box(), self.target.scene_box()
        start, end = source_box.center(), target_box.center()
        line = QLineF(start, end)
        normal = QPointF(-line.dy(), line.dx()) / max(line.length(), 1.0)
        control = (start + end) / 2 + normal * self.bend
        start = _border_point(self.source, control)
        end = _border_point(self.target, control)
        path = QPainterPath(start)
        if self.bend:
            path.quadTo(control, end)
            self._tip_angle = math.atan2(end.y() - control.y(), end.x() - control.x())
        else:
            path.lineTo(end)
            self._tip_angle = math.atan2(end.y() - start.y(), end.x() - start.x())
        self._path = path
        self._tip = end
        self._middle = path.pointAtPercent(0.5)
        self._place_caption(QLineF(start, end))
        self.update()

    def _place_caption(self, line: QLineF) -> None:
        """Beside the arrow's middle, pushed sideways (upwards, or to the right of a steep
        arrow) just far enough that the text box does not touch the line; the obstacle's ✕
        marker takes the middle itself."""
        self.caption.setTextWidth(-1)
        self.caption.setTextWidth(min(150.0, self.caption.document().idealWidth() + 4))
        rect = self.caption.boundingRect()
        length = max(line.length(), 1.0)
        normal = QPointF(line.dy() / length, -line.dx() / length)
        if normal.y() > 0 or (abs(normal.y()) < 1e-6 and normal.x() < 0):
            normal = -normal  # up, or right for a vertical arrow
        if self.bend:
            # A curved arrow's bulge already leaves its pair's middle; go further that way.
            outward = self._middle - line.center()
            if QPointF.dotProduct(outward, normal) < 0:
                normal = -normal
        gap = 15.0 if self.kind == OBSTACLE else 5.0
        reach = abs(normal.x()) * rect.width() / 2 + abs(normal.y()) * rect.height() / 2 + gap
        # The first place beside the arrow where the text covers no box: the middle on the
        # preferred side, the other side, further along the arrow, further out; where every
        # place covers some box (boxes close together), the one covering least.
        scene = self.scene()
        boxes = [a.scene_box().adjusted(-4, -4, 4, 4) for a in scene.actor_items()] if (
            isinstance(scene, ServiceChainScene)) else []
        candidates = []
        for along in (0.5, 0.35, 0.65, 0.25, 0.75):
            anchor = self._path.pointAtPercent(along)
            candidates += [anchor + normal * reach, anchor - normal * reach]
        for extra in (32.0, 64.0):  # clear of the boxes at either end of a short arrow
            candidates += [self._middle + normal * (reach + extra),
                           self._middle - normal * (reach + extra)]
        best, best_overlap = candidates[0], math.inf
        for centre in candidates:
            placed = rect.translated(centre - rect.center())
            overlap = sum(_area(placed.intersected(box)) for box in boxes)
            if overlap < best_overlap:
                best, best_overlap = centre, overlap
            if overlap == 0:
                break
        top_left = best - rect.center()
        self.caption.setPos(top_left)

    def _caption_rect(self) -> QRectF:
        if not self.label and not self.caption.editing:
            return QRectF()
        return self.caption.sceneBoundingRect()

    def boundingRect(self) -> QRectF:
        rect = self._path.boundingRect().adjusted(-16, -16, 16, 16)
        return rect.united(self._caption_rect())

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        shape = stroker.createStroke(self._path)
        shape.addRect(self._caption_rect())
        return shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        style = RELATION_KINDS[self.kind]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(style.colour)
        width = style.width + (1.5 if self.isSelected() else 0)
        pen = QPen(colour, width, style.dash, Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.kind not in UNDIRECTED:
            self._paint_arrow_head(painter, colour)
        if self.kind == OBSTACLE:
            _draw_obstacle_marker(painter, self._middle)

    def _paint_arrow_head(self, painter: QPainter, colour: QColor) -> None:
        angle = self._tip_angle
        left = self._tip - QPointF(math.cos(angle - 0.45), math.sin(angle - 0.45)) * _ARROW * 1.3
        right = self._tip - QPointF(math.cos(angle + 0.45), math.sin(angle + 0.45)) * _ARROW * 1.3
        painter.setPen(QPen(colour, 1))
        painter.setBrush(QBrush(colour))
        painter.drawPolygon(QPolygonF([self._tip, left, right]))

    # --- interaction ------------------------------------------------------------------------

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.update()
        return super().itemChange(change, value)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.start_rename()
        event.accept()

    def start_rename(self) -> None:
        self.prepareGeometryChange()
        self.caption.start()

    def _relabelled(self, text: str | None) -> None:
        self.update_geometry()
        scene = self.scene()
        if text is not None and isinstance(scene, ServiceChainScene):
            scene.chain_edited.emit()


def _area(rect: QRectF) -> float:
    return rect.width() * rect.height() if rect.isValid() else 0.0


def _draw_obstacle_marker(painter: QPainter, centre: QPointF) -> None:
    """A red disc with a white ✕, drawn (not a font glyph) so it shows on every system."""
    radius = 11.0
    painter.setPen(QPen(QColor("#ffffff"), 2))
    painter.setBrush(QColor("#c62828"))
    painter.drawEllipse(centre, radius, radius)
    arm = radius * 0.45
    painter.setPen(QPen(QColor("#ffffff"), 2.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawLine(centre + QPointF(-arm, -arm), centre + QPointF(arm, arm))
    painter.drawLine(centre + QPointF(-arm, arm), centre + QPointF(arm, -arm))


def _border_point(actor: ActorItem, towards: QPointF) -> QPointF:
    """Where the line from the actor's centre towards ``towards`` leaves its box."""
    box = actor.scene_box()
    centre = box.center()
    dx, dy = towards.x() - centre.x(), towards.y() - centre.y()
    if dx == 0 and dy == 0:
        return centre
    half_w, half_h = box.width() / 2 + 3, box.height() / 2 + 3
    scale = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return QPointF(centre.x() + dx * scale, centre.y() + dy * scale)


class ServiceChainScene(QGraphicsScene):
    """Holds the actors and relations; ``chain_edited`` fires on every change a user makes."""

    chain_edited = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._actors: dict[str, ActorItem] = {}
        self._relations: dict[str, RelationItem] = {}
        self._selection_order: list[str] = []
        self.setBackgroundBrush(QColor("#fbfbfc"))
        self.selectionChanged.connect(self._track_selection)

    # --- the model --------------------------------------------------------------------------

    def set_chain(self, actors: Sequence[dict[str, Any]],
                  relations: Sequence[dict[str, Any]]) -> None:
        """Show ``actors`` and ``relations`` (JSON shapes of a reconstruction); a relation to an
        actor that is not there is left out."""
        self.clear()
        self._actors.clear()
        self._relations.clear()
        self._selection_order.clear()
        for actor in actors:
            item = ActorItem(str(actor["id"]), str(actor.get("label", "")),
                             str(actor.get("kind", "institution")))
            item.setPos(float(actor.get("x", 0.0)), float(actor.get("y", 0.0)))
            self._add_actor_item(item)
        for relation in relations:
            source = self._actors.get(str(relation.get("source")))
            target = self._actors.get(str(relation.get("target")))
            if source is None or target is None or source is target:
                continue
            self._add_relation_item(RelationItem(
                str(relation["id"]), source, target, str(relation.get("kind", "cooperation")),
                str(relation.get("label", ""))))
        self._rebend()
        self.setSceneRect(QRectF())  # start again from the new chain's extent
        self._grow_scene_rect()

    def actors(self) -> list[dict[str, Any]]:
        return [item.to_json() for item in self._actors.values()]

    def relations(self) -> list[dict[str, Any]]:
        return [item.to_json() for item in self._relations.values()]

    def actor_items(self) -> list[ActorItem]:
        return list(self._actors.values())

    def relation_items(self) -> list[RelationItem]:
        return list(self._relations.values())

    def actor(self, actor_id: str) -> ActorItem:
        return self._actors[actor_id]

    def actor_named(self, label: str) -> ActorItem:
        return next(item for item in self._actors.values() if item.label == label)

    # --- editing ----------------------------------------------------------------------------

    def add_actor(self, kind: str, label: str, at: QPointF | None = None) -> ActorItem:
        item = ActorItem(new_id(), label, kind)
        item.setPos(at if at is not None else self.free_spot(item.box()))
        self._add_actor_item(item)
        self.chain_edited.emit()
        return item

    def connect_actors(self, source_id: str, target_id: str, kind: str,
                       label: str = "") -> RelationItem | None:
        """A new arrow; None if it would join an actor to itself or repeat an existing one."""
        if source_id == target_id:
            return None
        if any(r.source.actor_id == source_id and r.target.actor_id == target_id
               and r.kind == kind for r in self._relations.values()):
            return None
        item = RelationItem(new_id(), self._actors[source_id], self._actors[target_id], kind,
                            label)
        self._add_relation_item(item)
        self._rebend()
        self.chain_edited.emit()
        return item

    def remove(self, items: Sequence[QGraphicsItem]) -> int:
        """Delete actors (with their arrows) and arrows; returns how many were deleted."""
        removed = 0
        for item in items:
            if isinstance(item, ActorItem) and item.actor_id in self._actors:
                for relation in [r for r in self._relations.values()
                                 if item in (r.source, r.target)]:
                    self._drop_relation(relation)
                del self._actors[item.actor_id]
                self.removeItem(item)
                removed += 1
            elif isinstance(item, RelationItem) and item.relation_id in self._relations:
                self._drop_relation(item)
                removed += 1
        if removed:
            self._rebend()
            self.chain_edited.emit()
        return removed

    def delete_selection(self) -> int:
        return self.remove(self.selectedItems())

    def reverse(self, relation: RelationItem) -> None:
        relation.source, relation.target = relation.target, relation.source
        relation.update_geometry()
        self.chain_edited.emit()

    def change_kind(self, item: ActorItem | RelationItem, kind: str) -> None:
        item.set_kind(kind)
        self.chain_edited.emit()

    def selected_actors(self) -> list[ActorItem]:
        """The selected actors in the order they were selected (the first is the source)."""
        return [self._actors[i] for i in self._selection_order if i in self._actors]

    def free_spot(self, box: QRectF) -> QPointF:
        """The first grid cell, row by row, where a new box touches no other box."""
        taken = [a.scene_box().adjusted(-24, -24, 24, 24) for a in self._actors.values()]
        index = 0
        while True:
            column, row = index % _GRID_COLUMNS, index // _GRID_COLUMNS
            spot = QPointF(BOX_WIDTH / 2 + column * _GRID[0], BOX_MIN_HEIGHT / 2 + row * _GRID[1])
            if not any(box.translated(spot).intersects(t) for t in taken):
                return spot
            index += 1

    # --- plumbing ---------------------------------------------------------------------------

    def _add_actor_item(self, item: ActorItem) -> None:
        self._actors[item.actor_id] = item
        self.addItem(item)
        self._grow_scene_rect(item.scene_box())

    def _add_relation_item(self, item: RelationItem) -> None:
        self._relations[item.relation_id] = item
        self.addItem(item)
        self.addItem(item.caption)

    def _drop_relation(self, relation: RelationItem) -> None:
        del self._relations[relation.relation_id]
        self.removeItem(relation.caption)
        self.removeItem(relation)

    def _rebend(self) -> None:
        """Arrows between the same two actors curve apart instead of lying on each other."""
        pairs: dict[frozenset[str], list[RelationItem]] = {}
        for relation in self._relations.values():
            key = frozenset((relation.source.actor_id, relation.target.actor_id))
            pairs.setdefault(key, []).append(relation)
        for group in pairs.values():
            for index, relation in enumerate(group):
                offset = (index - (len(group) - 1) / 2) * 46.0
                # A reversed arrow's normal points the other way; keep the sides apart.
                if relation.source.actor_id > relation.target.actor_id:
                    offset = -offset
                relation.bend = offset
                relation.update_geometry()

    def actor_moved(self, actor: ActorItem) -> None:
        for relation in self._relations.values():
            if actor in (relation.source, relation.target):
                relation.update_geometry()
        if actor.scene() is self:
            self._grow_scene_rect(actor.scene_box())

    def _grow_scene_rect(self, box: QRectF | None = None) -> None:
        """Keep a wide margin of free canvas around the chain. A scene that only just holds
        its items grows while a box is dragged outwards, and the view, which centres a small
        scene, would then shift everything under the mouse."""
        needed = (box if box is not None else self.itemsBoundingRect()).adjusted(
            -_SCENE_MARGIN, -_SCENE_MARGIN, _SCENE_MARGIN, _SCENE_MARGIN)
        current = self.sceneRect() if box is not None else QRectF()
        if not current.contains(needed):
            self.setSceneRect(current.united(needed) if not current.isNull() else needed)

    def _track_selection(self) -> None:
        selected = {item.actor_id for item in self.selectedItems() if isinstance(item, ActorItem)}
        self._selection_order = [i for i in self._selection_order if i in selected]
        self._selection_order += [i for i in self._actors if i in selected
                                  and i not in self._selection_order]

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab walks through the actors (in reading order) and leaves the canvas after the
        last one, so the keyboard is never trapped."""
        ordered = sorted(self._actors.values(), key=lambda a: (round(a.y() / 40), a.x()))
        if not ordered:
            return False
        current = self.focusItem()
        if isinstance(current, ActorItem) and current in ordered:
            index = ordered.index(current) + (1 if next else -1)
        else:
            index = 0 if next else len(ordered) - 1
        if not 0 <= index < len(ordered):
            return False
        self.focus_actor(ordered[index])
        return True

    def focus_actor(self, actor: ActorItem) -> None:
        self.clearSelection()
        actor.setSelected(True)
        actor.setFocus(Qt.FocusReason.TabFocusReason)
        for view in self.views():
            view.ensureVisible(actor, 40, 40)


class ServiceChainView(QGraphicsView):
    """The canvas: drag to move, rubber band to select, Strg+Mausrad zooms, keys edit."""

    def __init__(self, scene: ServiceChainScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.chain = scene
        self.setObjectName("service_chain_view")
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(180)
        self.context_menu_requested: Callable[[QPointF], QMenu] | None = None
        # How the view follows its size until the user zooms: "readable" (as opened),
        # "all" (after Einpassen) or None (the user's own zoom).
        self._fit_mode: str | None = "readable"

    def fit_readable(self) -> None:
        """Show the chain as large as fits, but never below ``READABLE_SCALE``; what does
        not fit then scrolls, starting from the chain's top left corner."""
        self._fit_mode = "readable"
        self._fit(READABLE_SCALE)

    def zoom_to_fit(self) -> None:
        """Einpassen: the whole chain, however small that makes it."""
        self._fit_mode = "all"
        self._fit(0.0)

    def _fit(self, smallest: float) -> None:
        items = self.chain.itemsBoundingRect()
        self.resetTransform()
        if items.isEmpty():
            return
        box = items.adjusted(-30, -30, 30, 30)
        port = self.viewport().size()
        scale = min(port.width() / box.width(), port.height() / box.height())
        scale = max(smallest, min(scale, _MAX_FIT_SCALE))
        self.scale(scale, scale)
        shown_width, shown_height = port.width() / scale, port.height() / scale
        self.centerOn(
            box.center().x() if shown_width >= box.width() else box.left() + shown_width / 2,
            box.center().y() if shown_height >= box.height() else box.top() + shown_height / 2)

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.2 <= scale <= 4.0:
            self._fit_mode = None
            self.scale(factor, factor)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode is not None:  # opened before it had its size: fit again
            self._fit(READABLE_SCALE if self._fit_mode == "readable" else 0.0)

    def editing(self) -> bool:
        focus = self.chain.focusItem()
        return isinstance(focus, _LabelText) and focus.editing

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.editing():
            super().keyPressEvent(event)
            return
        key = event.key()
        selected = self.chain.selectedItems()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and selected:
            self.chain.delete_selection()
            return
        if key == Qt.Key.Key_F2 and len(selected) == 1 and isinstance(
                selected[0], (ActorItem, RelationItem)):
            selected[0].start_rename()
            return
        steps = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
                 Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        actors = [item for item in selected if isinstance(item, ActorItem)]
        if key in steps and actors:
            step = 50 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 10
            dx, dy = steps[Qt.Key(key)]
            for actor in actors:
                actor.moveBy(dx * step, dy * step)
            self.chain.chain_edited.emit()
            return
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.15)
            return
        if key == Qt.Key.Key_Minus:
            self.zoom(1 / 1.15)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        # Coming in by Tab selects the first (Shift+Tab: the last) actor, as a list would.
        if event.reason() in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason) \
                and not self.chain.selectedItems():
            ordered = sorted(self.chain.actor_items(), key=lambda a: (round(a.y() / 40), a.x()))
            if ordered:
                first = event.reason() == Qt.FocusReason.TabFocusReason
                self.chain.focus_actor(ordered[0] if first else ordered[-1])

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self.context_menu_requested is None:
            return
        menu = self.context_menu_requested(self.mapToScene(event.pos()))
        menu.exec(event.globalPos())


def _swatch(draw: Callable[[QPainter, QRectF], None], size: QSize) -> QPixmap:
    pixmap = QPixmap(size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw(painter, QRectF(1, 1, size.width() - 2, size.height() - 2))
    painter.end()
    return pixmap


def _actor_swatch(kind: str) -> QPixmap:
    style = ACTOR_KINDS[kind]

    def draw(painter: QPainter, rect: QRectF) -> None:
        painter.setPen(QPen(QColor(style.border), 1.6,
                            Qt.PenStyle.DashLine if style.dashed else Qt.PenStyle.SolidLine))
        painter.setBrush(QColor(style.fill))
        painter.drawPath(actor_outline(kind, rect))

    return _swatch(draw, QSize(38, 20))


def _relation_swatch(kind: str) -> QPixmap:
    style = RELATION_KINDS[kind]

    def draw(painter: QPainter, rect: QRectF) -> None:
        colour = QColor(style.colour)
        y = rect.center().y()
        painter.setPen(QPen(colour, style.width, style.dash, Qt.PenCapStyle.FlatCap))
        directed = kind not in UNDIRECTED
        painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right() - (8 if directed else 0),
                                                          y))
        if directed:
            painter.setPen(QPen(colour, 1))
            painter.setBrush(colour)
            tip = QPointF(rect.right(), y)
            painter.drawPolygon(QPolygonF([tip, tip + QPointF(-10, -5),
                                           tip + QPointF(-10, 5)]))
        if kind == OBSTACLE:
            _draw_obstacle_marker(painter, QPointF(rect.center().x() - 4, y))

    return _swatch(draw, QSize(54, 24))


class Legend(QWidget):
    """What the shapes, colours and line styles mean: actors in one row, relations below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("service_chain_legend")
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        # Flows: where the window is narrow (150 % on 1366×768) an entry moves to the next
        # line instead of widening the screen.
        actors, relations = FlowLayout(spacing=10), FlowLayout(spacing=10)
        for row in (actors, relations):
            rows.addLayout(row)
        actors.addWidget(QLabel("<b>Legende:</b>"))
        for kind, actor_style in ACTOR_KINDS.items():
            actors.addWidget(_legend_entry(_pixmap_label(_actor_swatch(kind),
                                                         f"legend_actor_{kind}"),
                                           actor_style.label))
        for kind, relation_style in RELATION_KINDS.items():
            relations.addWidget(_legend_entry(_pixmap_label(_relation_swatch(kind),
                                                            f"legend_relation_{kind}"),
                                              relation_style.label))


def _legend_entry(swatch: QLabel, text: str) -> QWidget:
    entry = QWidget()
    row = QHBoxLayout(entry)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    row.addWidget(swatch)
    row.addWidget(QLabel(text))
    return entry


def _pixmap_label(pixmap: QPixmap, name: str) -> QLabel:
    label = QLabel(objectName=name)
    label.setPixmap(pixmap)
    return label


class ServiceChainEditor(QWidget):
    """Toolbar, legend and canvas. ``edited`` fires on every change of the chain."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = ServiceChainScene(self)
        self.view = ServiceChainView(self.scene, self)
        self.view.context_menu_requested = self.context_menu
        self.actor_kind = QComboBox(objectName="actor_kind")
        for kind, actor_style in ACTOR_KINDS.items():
            self.actor_kind.addItem(actor_style.label, kind)
        self.add_actor_button = QPushButton("&Akteur hinzufügen", objectName="add_actor")
        self.relation_kind = QComboBox(objectName="relation_kind")
        for kind, relation_style in RELATION_KINDS.items():
            self.relation_kind.addItem(relation_style.label, kind)
        self.connect_button = QPushButton("&Verbinden", objectName="connect_actors")
        self.connect_button.setToolTip(
            "Zwei ausgewählte Akteure verbinden (der zuerst gewählte ist der Ausgangspunkt); "
            "bei einem ausgewählten Akteur wird das Ziel aus einer Liste gewählt.")
        self.delete_button = QPushButton("Löschen", objectName="delete_selection")
        self.delete_button.setToolTip("Ausgewählte Akteure und Beziehungen löschen (Entf)")
        self.fit_button = QPushButton("Einpassen", objectName="zoom_to_fit")
        self.fit_button.setToolTip("Das ganze Schaubild zeigen")
        self.hint = QLabel(objectName="service_chain_hint")
        self.hint.setStyleSheet("color: #555;")
        self.hint.setWordWrap(True)
        self._default_hint = ("Ziehen verschiebt · Doppelklick oder F2 benennt um · Entf löscht · "
                              "Tab wählt den nächsten Akteur, Pfeiltasten verschieben · "
                              "Strg+Mausrad zoomt")
        self.hint.setText(self._default_hint)

        tools = FlowLayout(spacing=16)  # groups of tools wrap where the window is narrow
        for group in ((QLabel("Art:"), self.actor_kind, self.add_actor_button),
                      (QLabel("Beziehung:"), self.relation_kind, self.connect_button),
                      (self.delete_button, self.fit_button)):
            box = QWidget(self)
            row = QHBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            for widget in group:
                row.addWidget(widget)
            tools.addWidget(box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(Legend(self))
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hint)

        self.add_actor_button.clicked.connect(self._add_actor_clicked)
        self.connect_button.clicked.connect(self._connect_clicked)
        self.delete_button.clicked.connect(self.scene.delete_selection)
        self.fit_button.clicked.connect(self.view.zoom_to_fit)
        self.scene.chain_edited.connect(self.edited)

    # --- model ------------------------------------------------------------------------------

    def set_chain(self, actors: Sequence[dict[str, Any]],
                  relations: Sequence[dict[str, Any]]) -> None:
        self.scene.set_chain(actors, relations)
        self.view.fit_readable()

    def actors(self) -> list[dict[str, Any]]:
        return self.scene.actors()

    def relations(self) -> list[dict[str, Any]]:
        return self.scene.relations()

    def texts(self) -> list[str]:
        """Every text the canvas shows (for the privacy checks of the tests and the PDF)."""
        return [item.label for item in self.scene.actor_items()] + [
            item.label for item in self.scene.relation_items()]

    # --- actions ----------------------------------------------------------------------------

    def add_actor(self, kind: str | None = None, label: str = "Neuer Akteur",
                  at: QPointF | None = None, *, rename: bool = True) -> ActorItem:
        """Add an actor at a free spot, select it and (by default) let the user type its name."""
        item = self.scene.add_actor(kind or self.actor_kind.currentData(), label, at)
        self.scene.clearSelection()
        item.setSelected(True)
        self.view.ensureVisible(item, 40, 40)
        if rename:
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)
            item.start_rename()
        return item

    def _add_actor_clicked(self) -> None:
        self.add_actor()

    def connect_selected(self, kind: str | None = None) -> RelationItem | None:
        """Join the two selected actors (in the order they were selected) by an arrow of the
        chosen kind and let the user type its label."""
        chosen = kind or self.relation_kind.currentData()
        actors = self.scene.selected_actors()
        if len(actors) != 2:
            self._say("Zum Verbinden genau zwei Akteure auswählen (Strg+Klick für den zweiten).")
            return None
        return self._connect(actors[0], actors[1], chosen)

    def _connect(self, source: ActorItem, target: ActorItem, kind: str) -> RelationItem | None:
        relation = self.scene.connect_actors(source.actor_id, target.actor_id, kind)
        if relation is None:
            self._say("Diese Beziehung gibt es schon.")
            return None
        self._say(self._default_hint)
        self.scene.clearSelection()
        relation.setSelected(True)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        relation.start_rename()
        return relation

    def _connect_clicked(self) -> None:
        actors = self.scene.selected_actors()
        if len(actors) == 1:
            self.targets_menu(actors[0]).exec(
                self.connect_button.mapToGlobal(self.connect_button.rect().bottomLeft()))
            return
        self.connect_selected()

    def targets_menu(self, source: ActorItem, kind: str | None = None) -> QMenu:
        """A menu of the other actors; choosing one connects ``source`` to it."""
        chosen = kind or self.relation_kind.currentData()
        menu = QMenu(f"{RELATION_KINDS[chosen].label} zu …", self)
        menu.setObjectName("connect_targets")
        for target in self.scene.actor_items():
            if target is source:
                continue
            action = menu.addAction(target.label)
            action.triggered.connect(
                lambda _checked=False, t=target: self._connect(source, t, chosen))
        return menu

    def _say(self, text: str) -> None:
        self.hint.setText(text)

    def context_menu(self, at: QPointF) -> QMenu:
        """The canvas's context menu for what lies at ``at`` (scene coordinates)."""
        menu = QMenu(self)
        menu.setObjectName("service_chain_menu")
        item = self.scene.itemAt(at, self.view.transform())
        if isinstance(item, _LabelText):
            item = item.owner
        while item is not None and not isinstance(item, (ActorItem, RelationItem)):
            item = item.parentItem()
        if isinstance(item, ActorItem):
            if not item.isSelected():
                self.scene.clearSelection()
                item.setSelected(True)
            menu.addAction("Umbenennen (F2)", item.start_rename)
            kinds = menu.addMenu("Art")
            for kind, actor_style in ACTOR_KINDS.items():
                self._kind_action(kinds, actor_style.label, item, kind)
            for kind, relation_style in RELATION_KINDS.items():
                sub = self.targets_menu(item, kind)
                sub.setTitle(f"{relation_style.label} zu …")
                menu.addMenu(sub)
            menu.addSeparator()
            menu.addAction("Löschen (Entf)", lambda: self.scene.remove([item]))
        elif isinstance(item, RelationItem):
            self.scene.clearSelection()
            item.setSelected(True)
            menu.addAction("Beschriftung ändern (F2)", item.start_rename)
            kinds = menu.addMenu("Art der Beziehung")
            for kind, relation_style in RELATION_KINDS.items():
                self._kind_action(kinds, relation_style.label, item, kind)
            menu.addAction("Richtung umkehren", lambda: self.scene.reverse(item))
            menu.addSeparator()
            menu.addAction("Löschen (Entf)", lambda: self.scene.remove([item]))
        else:
            for kind, actor_style in ACTOR_KINDS.items():
                menu.addAction(f"{actor_style.label} hier hinzufügen",
                               lambda k=kind: self.add_actor(k, at=at))
            menu.addSeparator()
            menu.addAction("Einpassen", self.view.zoom_to_fit)
        return menu

    def _kind_action(self, menu: QMenu, text: str, item: ActorItem | RelationItem,
                     kind: str) -> QAction:
        action = menu.addAction(text)
        action.setCheckable(True)
        action.setChecked(item.kind == kind)
        action.triggered.connect(lambda _checked=False: self.scene.change_kind(item, kind))
        return action
