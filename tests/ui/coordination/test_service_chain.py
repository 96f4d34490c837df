"""The service-chain canvas: the JSON shapes round trip, and actors and relations are added,
moved, connected, renamed and deleted with mouse and keyboard as a coordinator would."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPainter
from PySide6.QtWidgets import QApplication

from kimdesk.ui.coordination.service_chain import ServiceChainEditor
from tests.ui.coordination.canvas import click, double_click, drag, item_centre, view_point

ACTORS = [
    {"id": "a1", "label": "Frau A.", "kind": "person", "x": 430.0, "y": 230.0},
    {"id": "a2", "label": "Jobcenter", "kind": "institution", "x": 0.0, "y": 0.0},
    {"id": "a3", "label": "berufsvorbereitende Maßnahme", "kind": "offer", "x": 430.0, "y": 0.0},
]
RELATIONS = [
    {"id": "r1", "source": "a2", "target": "a3", "kind": "cooperation", "label": "schlägt vor"},
    {"id": "r2", "source": "a1", "target": "a3", "kind": "obstacle",
     "label": "keine Kinderbetreuung"},
]


def type_into(qtbot: Any, widget: Any, text: str) -> None:
    """Type ``text`` into the focused canvas item (umlauts as key events carrying text)."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
            continue
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier,
                                                     char))


@pytest.fixture
def editor(qtbot: Any) -> ServiceChainEditor:
    widget = ServiceChainEditor()
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.scene.isActive)
    return widget


def test_the_json_shapes_round_trip_unchanged(editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    assert editor.actors() == ACTORS
    assert editor.relations() == RELATIONS
    # Relations to an actor that is not there are left out instead of breaking the canvas.
    editor.set_chain(ACTORS, [*RELATIONS, {"id": "r9", "source": "a1", "target": "gone",
                                           "kind": "influence", "label": ""}])
    assert [r["id"] for r in editor.relations()] == ["r1", "r2"]


def test_adding_actors_by_toolbar_names_them_in_place_without_overlap(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    editor.actor_kind.setCurrentIndex(editor.actor_kind.findData("offer"))
    qtbot.mouseClick(editor.add_actor_button, Qt.MouseButton.LeftButton)
    type_into(qtbot, editor.view, "Sprachkurs")
    qtbot.keyClick(editor.view, Qt.Key.Key_Return)
    editor.actor_kind.setCurrentIndex(editor.actor_kind.findData("institution"))
    qtbot.mouseClick(editor.add_actor_button, Qt.MouseButton.LeftButton)
    type_into(qtbot, editor.view, "Kinderärztin")
    qtbot.keyClick(editor.view, Qt.Key.Key_Return)

    added = editor.actors()[3:]
    assert [(a["label"], a["kind"]) for a in added] == [
        ("Sprachkurs", "offer"), ("Kinderärztin", "institution")]
    boxes = [item.scene_box() for item in editor.scene.actor_items()]
    assert not any(first.intersects(second) for i, first in enumerate(boxes)
                   for second in boxes[i + 1:]), "new actors never land on another box"


def test_escape_or_an_empty_name_keeps_the_old_name(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    jobcenter = editor.scene.actor("a2")
    double_click(qtbot, editor.view, item_centre(editor.view, jobcenter))
    type_into(qtbot, editor.view, "Agentur")
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
    assert jobcenter.label == "Jobcenter"
    double_click(qtbot, editor.view, item_centre(editor.view, jobcenter))
    qtbot.keyClick(editor.view, Qt.Key.Key_Delete)
    qtbot.keyClick(editor.view, Qt.Key.Key_Return)
    assert jobcenter.label == "Jobcenter"
    assert len(editor.actors()) == 3, "Entf while typing edits the text, not the chain"


def test_double_click_renames_an_actor_and_a_relation(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    edits: list[bool] = []
    editor.edited.connect(lambda: edits.append(True))
    double_click(qtbot, editor.view, item_centre(editor.view, editor.scene.actor("a2")))
    type_into(qtbot, editor.view, "Jobcenter – Fallmanagement")
    qtbot.keyClick(editor.view, Qt.Key.Key_Return)
    relation = editor.scene.relation_items()[0]
    caption = relation.caption
    double_click(qtbot, editor.view, view_point(
        editor.view, caption.mapToScene(caption.boundingRect().center())))
    type_into(qtbot, editor.view, "schlägt Maßnahme vor")
    qtbot.keyClick(editor.view, Qt.Key.Key_Return)

    assert editor.actors()[1]["label"] == "Jobcenter – Fallmanagement"
    assert editor.relations()[0]["label"] == "schlägt Maßnahme vor"
    assert len(edits) == 2


def test_dragging_an_actor_saves_its_position_and_the_arrows_follow(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    editor.view.resetTransform()
    jobcenter = editor.scene.actor("a2")
    arrow = editor.scene.relation_items()[0]
    start_before = arrow.mapToScene(arrow.boundingRect()).boundingRect()
    edits: list[bool] = []
    editor.edited.connect(lambda: edits.append(True))

    begin = item_centre(editor.view, jobcenter)
    drag(qtbot, editor.view, begin, begin + QPoint(120, 300))

    moved = editor.actors()[1]
    assert (moved["x"], moved["y"]) == (120.0, 300.0)
    assert edits == [True]
    after = arrow.mapToScene(arrow.boundingRect()).boundingRect()
    assert after != start_before
    assert after.intersects(jobcenter.scene_box().adjusted(-20, -20, 20, 20)), \
        "the arrow still starts at the moved box"


def test_connecting_two_selected_actors_in_the_order_they_were_chosen(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, [])
    view = editor.view
    click(qtbot, view, item_centre(view, editor.scene.actor("a3")))
    click(qtbot, view, item_centre(view, editor.scene.actor("a1")), control=True)
    editor.relation_kind.setCurrentIndex(editor.relation_kind.findData("precondition"))
    qtbot.mouseClick(editor.connect_button, Qt.MouseButton.LeftButton)
    type_into(qtbot, view, "Teilnahme nötig")
    qtbot.keyClick(view, Qt.Key.Key_Return)

    [relation] = editor.relations()
    assert (relation["source"], relation["target"], relation["kind"], relation["label"]) == (
        "a3", "a1", "precondition", "Teilnahme nötig")

    # The same arrow twice is refused with a hint; one actor alone cannot be connected.
    click(qtbot, view, item_centre(view, editor.scene.actor("a3")))
    click(qtbot, view, item_centre(view, editor.scene.actor("a1")), control=True)
    assert editor.connect_selected() is None
    assert "gibt es schon" in editor.hint.text()
    click(qtbot, view, QPoint(5, 5))
    assert editor.connect_selected() is None
    assert "genau zwei" in editor.hint.text()
    assert len(editor.relations()) == 1


def test_one_selected_actor_offers_the_targets_as_a_menu(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, [])
    source = editor.scene.actor("a2")
    menu = editor.targets_menu(source, "influence")
    assert [a.text() for a in menu.actions()] == ["Frau A.", "berufsvorbereitende Maßnahme"]
    menu.actions()[0].trigger()
    qtbot.keyClick(editor.view, Qt.Key.Key_Return)
    [relation] = editor.relations()
    assert (relation["source"], relation["target"], relation["kind"]) == ("a2", "a1", "influence")


def _render(editor: ServiceChainEditor) -> QImage:
    rect = editor.scene.itemsBoundingRect()
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    editor.scene.render(painter, source=rect)
    painter.end()
    return image


def _has_colour_near(image: QImage, centre: QPointF, colour: str, radius: int = 8) -> bool:
    wanted = QColor(colour)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            pixel = image.pixelColor(int(centre.x()) + dx, int(centre.y()) + dy)
            if max(abs(pixel.red() - wanted.red()), abs(pixel.green() - wanted.green()),
                   abs(pixel.blue() - wanted.blue())) < 30:
                return True
    return False


def test_an_obstacle_is_drawn_red_with_a_marker_and_a_cooperation_is_not(
        editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    image = _render(editor)
    origin = editor.scene.itemsBoundingRect().topLeft()
    cooperation, obstacle = editor.scene.relation_items()
    red = "#c62828"
    obstacle_middle = obstacle.mapToScene(obstacle._middle) - origin
    cooperation_middle = cooperation.mapToScene(cooperation._middle) - origin
    assert _has_colour_near(image, obstacle_middle, red)
    assert _has_colour_near(image, obstacle_middle, "#ffffff", 3), "the ✕ inside the marker"
    assert not _has_colour_near(image, cooperation_middle, red)
    assert obstacle.caption.defaultTextColor().name() == "#b71c1c"


def test_delete_key_removes_the_selected_actor_with_its_arrows(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    click(qtbot, editor.view, item_centre(editor.view, editor.scene.actor("a3")))
    qtbot.keyClick(editor.view, Qt.Key.Key_Delete)
    assert [a["id"] for a in editor.actors()] == ["a1", "a2"]
    assert editor.relations() == []


def test_a_relation_can_be_reversed_retyped_and_deleted_from_its_menu(
        editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    relation = editor.scene.relation_items()[0]
    middle = relation.mapToScene(relation._middle)
    menu = editor.context_menu(middle)
    actions = {a.text(): a for a in menu.actions()}
    actions["Richtung umkehren"].trigger()
    kinds = {a.text(): a for a in actions["Art der Beziehung"].menu().actions()}
    kinds["Wechselwirkung"].trigger()
    assert editor.relations()[0] | {} == {"id": "r1", "source": "a3", "target": "a2",
                                          "kind": "influence", "label": "schlägt vor"}
    {a.text(): a for a in editor.context_menu(middle).actions()}["Löschen (Entf)"].trigger()
    assert [r["id"] for r in editor.relations()] == ["r2"]


def test_the_empty_canvas_menu_adds_an_actor_where_it_was_opened(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    at = QPointF(900, 500)
    menu = editor.context_menu(at)
    {a.text(): a for a in menu.actions()}["Person hier hinzufügen"].trigger()
    type_into(qtbot, editor.view, "Tochter")
    qtbot.keyClick(editor.view, Qt.Key.Key_Return)
    added = editor.actors()[-1]
    assert (added["label"], added["kind"], added["x"], added["y"]) == ("Tochter", "person",
                                                                       900.0, 500.0)


def test_keyboard_only_tab_walks_the_actors_arrows_move_f2_renames(
        qtbot: Any, editor: ServiceChainEditor) -> None:
    editor.set_chain(ACTORS, RELATIONS)
    editor.fit_button.setFocus()
    qtbot.keyClick(editor.fit_button, Qt.Key.Key_Tab)
    assert editor.view.hasFocus()
    # Reading order: Jobcenter (0,0), Maßnahme (430,0), Frau A. (430,230).
    assert [a.actor_id for a in editor.scene.selected_actors()] == ["a2"]
    qtbot.keyClick(editor.view, Qt.Key.Key_Tab)
    assert [a.actor_id for a in editor.scene.selected_actors()] == ["a3"]
    qtbot.keyClick(editor.view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(editor.view, Qt.Key.Key_Down)
    assert (editor.actors()[2]["x"], editor.actors()[2]["y"]) == (480.0, 10.0)
    qtbot.keyClick(editor.view, Qt.Key.Key_F2)
    type_into(qtbot, editor.view, "BvB-Maßnahme")
    qtbot.keyClick(editor.view, Qt.Key.Key_Return)
    assert editor.actors()[2]["label"] == "BvB-Maßnahme"
    qtbot.keyClick(editor.view, Qt.Key.Key_Tab)
    assert [a.actor_id for a in editor.scene.selected_actors()] == ["a1"]
    qtbot.keyClick(editor.view, Qt.Key.Key_Tab)
    assert not editor.view.hasFocus(), "after the last actor Tab leaves the canvas"


def test_zoom_to_fit_shows_every_actor(editor: ServiceChainEditor) -> None:
    far = [*ACTORS, {"id": "a4", "label": "Kita", "kind": "offer", "x": 3000.0, "y": 2000.0}]
    editor.set_chain(far, RELATIONS)
    editor.view.zoom_to_fit()
    visible = editor.view.mapToScene(editor.view.viewport().rect()).boundingRect()
    for item in editor.scene.actor_items():
        assert visible.contains(item.scene_box()), item.label
