"""The Fallrekonstruktion as PDF (title, goal, life areas and topics, the service-chain diagram
with obstacles marked, legend, generative themes) and the protocol of a Fallbesprechung.

Both hold no personal data: a reconstruction is anonymised by construction and a review shows
only what its presenter confirmed and the pseudonymised labels. Built in memory, as all reports.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.reconstructions import (
    ACTOR_KINDS,
    RELATION_KINDS,
    ReconstructionDetail,
    reconstruction_detail,
)
from kimdesk.casework.coordination.reviews import SECTION_LABELS, presentation
from kimdesk.reports.layout import (
    BOLD,
    REGULAR,
    DocumentInfo,
    content_height,
    content_width,
    fields,
    german_date,
    para,
    register_fonts,
    render,
    styles,
    table,
)

NODE_FONT_SIZE = 10.5
NODE_MAX_TEXT = 130.0  # points of text per line inside a node
NODE_PADDING = 6.0
EDGE_FONT_SIZE = 9.0
MIN_LABEL_SIZE = 8.0  # no label of the diagram prints smaller (points)
MAX_DIAGRAM_HEIGHT = 108 * mm
ARROW = 8.0
_CANVAS_GRID = (236.0, 128.0)  # the editor's grid for new actors (canvas units)

# Fill and border per actor kind; obstacles in red so they stand out also in grey print
# (thicker line, a marked "!" and a bold label).
NODE_STYLE = {
    "institution": (colors.HexColor("#dce9f5"), colors.HexColor("#2b5d8a")),
    "person": (colors.HexColor("#fbeed5"), colors.HexColor("#a06a12")),
    "offer": (colors.HexColor("#e3f1df"), colors.HexColor("#3d7a34")),
}
OBSTACLE_RED = colors.HexColor("#c0271d")
EDGE_STYLE: dict[str, tuple[Any, float, tuple[float, ...] | None]] = {
    "cooperation": (colors.HexColor("#4a4a4a"), 0.9, None),
    "precondition": (colors.HexColor("#2b5d8a"), 1.1, None),
    "influence": (colors.HexColor("#7a5a9a"), 0.9, (3.0, 2.0)),
    "obstacle": (OBSTACLE_RED, 2.2, (5.0, 3.0)),  # dashed with a ✕, as on the canvas
}
# Directed relations get an arrow head at their target.
DIRECTED = ("precondition", "influence", "obstacle")


def _drawing(width: float, height: float) -> Drawing:
    """A drawing that starts in the embedded font (reportlab would start in Helvetica)."""
    drawing = Drawing(width, height)
    drawing.initialFontName = REGULAR
    drawing.initialFontSize = NODE_FONT_SIZE
    return drawing


def _team_label(ctx: Context) -> str:
    try:
        return ctx.reference.team(ctx.team).name
    except KeyError:
        return ctx.team


# --- the diagram ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    id: str
    kind: str
    lines: tuple[str, ...]
    x: float  # centre, scene coordinates (y grows downwards, as on the canvas)
    y: float
    width: float
    height: float


def _wrap(label: str, font: str, size: float, width: float) -> tuple[str, ...]:
    lines: list[str] = []
    current = ""
    for word in label.split():
        candidate = f"{current} {word}".strip()
        if current and pdfmetrics.stringWidth(candidate, font, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return tuple(lines) or ("",)


def _nodes(actors: Sequence[dict[str, Any]], size: float = 1.0) -> dict[str, _Node]:
    """The actors as boxes; ``size`` scales their type and boxes (1.0: NODE_FONT_SIZE)."""
    nodes = {}
    font_size = NODE_FONT_SIZE * size
    for actor in actors:
        font = BOLD if actor["kind"] == "person" else REGULAR
        lines = _wrap(actor["label"], font, font_size, NODE_MAX_TEXT * size)
        text_width = max(pdfmetrics.stringWidth(line, font, font_size) for line in lines)
        nodes[actor["id"]] = _Node(
            actor["id"], actor["kind"], lines, float(actor["x"]), float(actor["y"]),
            max(text_width + 2 * NODE_PADDING * size, 48.0 * size),
            len(lines) * (font_size + 2 * size) + 2 * NODE_PADDING * size)
    return nodes


def _compressed(values: Sequence[float], widest: float) -> dict[float, float]:
    """Positions along one axis with every empty stretch wider than ``widest`` cut down to
    it; the order and the smaller distances stay as drawn."""
    ordered = sorted(set(values))
    moved = {ordered[0]: ordered[0]} if ordered else {}
    for before, after in itertools.pairwise(ordered):
        moved[after] = moved[before] + min(after - before, widest)
    return moved


def _close_gaps(nodes: dict[str, _Node]) -> dict[str, _Node]:
    """One box dragged far away on the canvas would shrink the whole print to a corner:
    empty space wider than one and a half grid cells between boxes is left out."""
    xs = _compressed([n.x for n in nodes.values()], 1.5 * _CANVAS_GRID[0])
    ys = _compressed([n.y for n in nodes.values()], 1.5 * _CANVAS_GRID[1])
    return {key: dataclasses.replace(node, x=xs[node.x], y=ys[node.y])
            for key, node in nodes.items()}


def _border_point(node: _Node, toward_x: float, toward_y: float, margin: float = 2.0
                  ) -> tuple[float, float]:
    """Where the line from the node's centre toward a point leaves its box (scene coords)."""
    dx, dy = toward_x - node.x, toward_y - node.y
    if dx == 0 and dy == 0:
        return node.x, node.y
    half_w, half_h = node.width / 2 + margin, node.height / 2 + margin
    t = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return node.x + dx * t, node.y + dy * t


def service_chain_drawing(actors: Sequence[dict[str, Any]], relations: Sequence[dict[str, Any]],
                          max_width: float, max_height: float = MAX_DIAGRAM_HEIGHT) -> Drawing:
    """The service chain as a reportlab drawing, positions as on the canvas, fitted into
    ``max_width`` × ``max_height``.

    The distances shrink as far as needed, the type only down to MIN_LABEL_SIZE: scaling
    the whole drawing printed a wide chain with labels of ~4 pt (issue 14, item 7)."""
    register_fonts()
    full = _close_gaps(_nodes(actors))
    if not full:
        drawing = _drawing(max_width, 20)
        drawing.add(String(0, 6, "Keine Akteure erfasst.", fontName=REGULAR, fontSize=9))
        return drawing
    margin = 16.0
    # Room for the largest box at full size around the centres (an upper bound: the boxes
    # never grow when the type shrinks).
    box_width = max(n.width for n in full.values())
    box_height = max(n.height for n in full.values())
    min_x, max_x = min(n.x for n in full.values()), max(n.x for n in full.values())
    min_y, max_y = min(n.y for n in full.values()), max(n.y for n in full.values())
    scale = 1.0
    if max_x > min_x:
        scale = min(scale, max(max_width - box_width - 2 * margin, 1.0) / (max_x - min_x))
    if max_y > min_y:
        scale = min(scale, max(max_height - box_height - 2 * margin, 1.0) / (max_y - min_y))
    size = min(1.0, max(scale, MIN_LABEL_SIZE / EDGE_FONT_SIZE))
    offset_x, offset_y = margin + box_width / 2, margin + box_height / 2
    nodes = {key: dataclasses.replace(
        node, x=offset_x + (full[key].x - min_x) * scale,
        y=offset_y + (full[key].y - min_y) * scale)
        for key, node in _nodes(actors, size).items()}
    width = (max_x - min_x) * scale + box_width + 2 * margin
    height = (max_y - min_y) * scale + box_height + 2 * margin
    drawing = _drawing(width, height)

    def point(x: float, y: float) -> tuple[float, float]:
        return x, height - y  # flip: PDF y grows upwards

    for relation in relations:
        source, target = nodes.get(relation["source"]), nodes.get(relation["target"])
        if source is None or target is None:
            continue
        _edge(drawing, relation, source, target, point, size)
    for node in nodes.values():
        _node(drawing, node, point, size)
    return drawing


def _edge(group: Any, relation: dict[str, Any], source: _Node, target: _Node,
          point: Any, size: float = 1.0) -> None:
    kind = relation["kind"]
    colour, width, dash = EDGE_STYLE.get(kind, EDGE_STYLE["cooperation"])
    font_size = EDGE_FONT_SIZE * size
    x1, y1 = point(*_border_point(source, target.x, target.y))
    x2, y2 = point(*_border_point(target, source.x, source.y, margin=3.0))
    group.add(Line(x1, y1, x2, y2, strokeColor=colour, strokeWidth=width,
                   strokeDashArray=list(dash) if dash else None))
    if kind in DIRECTED:
        angle = math.atan2(y2 - y1, x2 - x1)
        head = (ARROW + (2 if kind == "obstacle" else 0)) * size
        left = (x2 - head * math.cos(angle - 0.42), y2 - head * math.sin(angle - 0.42))
        right = (x2 - head * math.cos(angle + 0.42), y2 - head * math.sin(angle + 0.42))
        group.add(Polygon([x2, y2, *left, *right], fillColor=colour, strokeColor=colour,
                          strokeWidth=0.5))
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    label = relation.get("label", "")
    if kind == "obstacle":
        # The obstacle mark: a red disc with a cross on the line (as the canvas draws it),
        # label in bold red beside it.
        group.add(Circle(mx, my, 6.5 * size, fillColor=OBSTACLE_RED, strokeColor=colors.white,
                         strokeWidth=1))
        _cross(group, mx, my, 2.8 * size)
    if label:
        font = BOLD if kind == "obstacle" else REGULAR
        text_width = pdfmetrics.stringWidth(label, font, font_size)
        ly = my + (9 if kind == "obstacle" else 2) * size
        if text_width + 4 > math.hypot(x2 - x1, y2 - y1) and abs(y2 - y1) < abs(x2 - x1):
            # Longer than the gap between two boxes side by side: above the boxes.
            ly = my + max(source.height, target.height) / 2 + 3 * size
        group.add(Rect(mx - text_width / 2 - 2, ly - 2, text_width + 4, font_size + 3,
                       fillColor=colors.white, strokeColor=None))
        group.add(String(mx, ly, label, fontName=font, fontSize=font_size,
                         fillColor=OBSTACLE_RED if kind == "obstacle" else colors.black,
                         textAnchor="middle"))


def _cross(group: Any, x: float, y: float, size: float) -> None:
    for dx in (size, -size):
        group.add(Line(x - dx, y - size, x + dx, y + size, strokeColor=colors.white,
                       strokeWidth=1.4))


def _node(group: Any, node: _Node, point: Any, size: float = 1.0) -> None:
    fill, border = NODE_STYLE.get(node.kind, NODE_STYLE["institution"])
    cx, cy = point(node.x, node.y)
    x, y = cx - node.width / 2, cy - node.height / 2
    radius = node.height / 2 if node.kind == "person" else (2.0 if node.kind == "offer" else 6)
    group.add(Rect(x, y, node.width, node.height, rx=radius, ry=radius, fillColor=fill,
                   strokeColor=border, strokeWidth=1.1,
                   strokeDashArray=[3, 2] if node.kind == "offer" else None))
    font = BOLD if node.kind == "person" else REGULAR
    font_size = NODE_FONT_SIZE * size
    line_height = font_size + 2 * size
    first = cy + (len(node.lines) - 1) * line_height / 2 - font_size / 2 + size
    for index, line in enumerate(node.lines):
        group.add(String(cx, first - index * line_height, line, fontName=font,
                         fontSize=font_size, textAnchor="middle"))


def legend_drawing(width: float) -> Drawing:
    """Node kinds and relation kinds, as the diagram draws them."""
    register_fonts()
    drawing = _drawing(width, 44)
    x = 0.0
    for kind, label in ACTOR_KINDS.items():
        fill, border = NODE_STYLE[kind]
        radius = 7.0 if kind == "person" else (2.0 if kind == "offer" else 4.0)
        drawing.add(Rect(x, 28, 22, 14, rx=radius, ry=radius, fillColor=fill,
                         strokeColor=border, strokeWidth=1,
                         strokeDashArray=[3, 2] if kind == "offer" else None))
        drawing.add(String(x + 27, 31, label, fontName=REGULAR, fontSize=8))
        x += 32 + pdfmetrics.stringWidth(label, REGULAR, 8) + 14
    x = 0.0
    for kind, label in RELATION_KINDS.items():
        colour, line_width, dash = EDGE_STYLE[kind]
        drawing.add(Line(x, 8, x + 30, 8, strokeColor=colour, strokeWidth=line_width,
                         strokeDashArray=list(dash) if dash else None))
        if kind in DIRECTED:
            drawing.add(Polygon([x + 34, 8, x + 28, 11, x + 28, 5], fillColor=colour,
                                strokeColor=colour))
        if kind == "obstacle":
            drawing.add(Circle(x + 15, 8, 5, fillColor=OBSTACLE_RED, strokeColor=colors.white))
            _cross(drawing, x + 15, 8, 2.2)
        drawing.add(String(x + 40, 5, label, fontName=BOLD if kind == "obstacle" else REGULAR,
                           fontSize=8))
        x += 50 + pdfmetrics.stringWidth(label, REGULAR, 8) + 14
    return drawing


# --- documents --------------------------------------------------------------------------------


def reconstruction_pdf(ctx: Context, reconstruction_id: str) -> bytes:
    """The whole Fallrekonstruktion as PDF bytes (landscape, for the diagram)."""
    return reconstruction_report(ctx, reconstruction_detail(ctx, reconstruction_id))


def reconstruction_report(ctx: Context, detail: ReconstructionDetail) -> bytes:
    info = DocumentInfo(title="Fallrekonstruktion", team=_team_label(ctx),
                        printed_on=ctx.today(), confidential=False, wide=True)
    width = content_width(info)
    st = styles()
    obstacles = [r for r in detail.relations if r.get("kind") == "obstacle"]
    story: list[Flowable] = [
        para("Fallrekonstruktion", st.title),
        para(detail.title, st.subheading),
        fields([("Zielsetzung", detail.goal or "–"),
                ("Vorgestellt am", german_date(detail.presented_on)),
                ("Hinweis", "anonymisierte und abstrahierte Fallschilderung "
                            "(Konzept 5.5.1); enthält keine personenbezogenen Daten")],
               min(width, 200 * mm), 36 * mm),
        para("Lebensbereiche und Themen", st.heading),
    ]
    if detail.life_areas:
        rows: list[list[Any]] = [["Lebensbereich", "Themen"]]
        rows += [[area["area"], "\n".join(f"• {topic}" for topic in area["topics"]) or "–"]
                 for area in detail.life_areas]
        story.append(table(rows, [70 * mm, width - 70 * mm]))
    else:
        story.append(para("Keine Lebensbereiche erfasst.", st.small))
    story += [
        # The diagram gets a landscape page of its own, all of its height but what the
        # heading, the sentence and the legend need.
        PageBreak(),
        para("Dienstleistungskette", st.heading),
        para(f"Unter der Zielsetzung „{detail.goal}“: beteiligte Akteure, ihre Beziehungen und "
             "die Stellen, an denen es hakt." if detail.goal else
             "Beteiligte Akteure, ihre Beziehungen und die Stellen, an denen es hakt.",
             st.small),
        Spacer(1, 2 * mm),
        service_chain_drawing(detail.actors, detail.relations, width,
                              content_height(info) - 42 * mm),
        Spacer(1, 3 * mm),
        KeepTogether([para("Legende", st.label), legend_drawing(width)]),
    ]
    if obstacles:
        names = {a["id"]: a["label"] for a in detail.actors}
        rows = [["Hindernis", "zwischen", "und"]]
        rows += [[r["label"], names.get(r["source"], ""), names.get(r["target"], "")]
                 for r in obstacles]
        story += [para("Hindernisse", st.subheading),
                  table(rows, [width * 0.4, width * 0.3, width * 0.3])]
    story.append(para("Generative Themen", st.heading))
    if detail.themes:
        for number, theme in enumerate(detail.themes, start=1):
            block: list[Flowable] = [para(f"{number}. {theme.statement}", st.body)]
            if theme.mandate:
                block.append(para(f"Arbeitsauftrag: {theme.mandate}", st.small))
            story.append(KeepTogether(block))
    else:
        story.append(para("Noch keine generativen Themen formuliert.", st.small))
    return render(info, story)


def review_protocol_pdf(ctx: Context, review_id: str) -> bytes:
    """Protocol of a Fallbesprechung: the fixed schema, advice, next steps, tags (portrait)."""
    shown = presentation(ctx, review_id)
    info = DocumentInfo(title="Protokoll Fallbesprechung", team=shown.team_label or
                        _team_label(ctx), printed_on=ctx.today(), confidential=False)
    width = content_width(info)
    st = styles()
    story: list[Flowable] = [
        para("Protokoll der Fallbesprechung", st.title),
        para(shown.title, st.subheading),
        fields([("Datum", german_date(shown.held_on)), ("Fachteam", shown.team_label),
                ("Vorgestellt von", shown.presenter), ("Fall", shown.case_summary or "–"),
                ("Personen", "; ".join(p.description for p in shown.people) or "–"),
                ("Schlagworte", "; ".join(f"{t.group_label}: {t.label}" for t in shown.tags)
                 or "–")],
               width, 36 * mm),
    ]
    for key, value in (("occasion", shown.occasion),
                       ("relevant_information", shown.relevant_information),
                       ("development", shown.development), ("network", shown.network)):
        story += [para(SECTION_LABELS[key], st.heading), para(value or "–")]
    story += [para("Empfehlungen des Teams", st.heading), para(shown.advice or "–")]
    story.append(para("Vereinbarte nächste Schritte", st.heading))
    if shown.next_steps:
        rows: list[list[Any]] = [["Art", "Schritt", "verantwortlich", "bis", "Ziel"]]
        rows += [[s.kind_label, s.description, s.responsible or "–", german_date(s.due_on),
                  s.goal_label or "–"] for s in shown.next_steps]
        story.append(table(rows, [28 * mm, width - 118 * mm, 36 * mm, 20 * mm, 34 * mm]))
    else:
        story.append(para("Keine.", st.small))
    return render(info, story)
