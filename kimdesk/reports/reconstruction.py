"""The Fallrekonstruktion as PDF (title, goal, life areas and topics, the service-chain diagram
with obstacles marked, legend, generative themes) and the protocol of a Fallbesprechung.

Both hold no personal data: a reconstruction is anonymised by construction and a review shows
only what its presenter confirmed and the pseudonymised labels. Built in memory, as all reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

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
MAX_DIAGRAM_HEIGHT = 108 * mm
ARROW = 8.0

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


def _nodes(actors: Sequence[dict[str, Any]]) -> dict[str, _Node]:
    nodes = {}
    for actor in actors:
        font = BOLD if actor["kind"] == "person" else REGULAR
        lines = _wrap(actor["label"], font, NODE_FONT_SIZE, NODE_MAX_TEXT)
        text_width = max(pdfmetrics.stringWidth(line, font, NODE_FONT_SIZE) for line in lines)
        nodes[actor["id"]] = _Node(
            actor["id"], actor["kind"], lines, float(actor["x"]), float(actor["y"]),
            max(text_width + 2 * NODE_PADDING, 48.0),
            len(lines) * (NODE_FONT_SIZE + 2) + 2 * NODE_PADDING)
    return nodes


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
    """The service chain as a reportlab drawing, scaled to fit, positions as on the canvas."""
    register_fonts()
    nodes = _nodes(actors)
    if not nodes:
        drawing = _drawing(max_width, 20)
        drawing.add(String(0, 6, "Keine Akteure erfasst.", fontName=REGULAR, fontSize=9))
        return drawing
    margin = 16.0
    left = min(n.x - n.width / 2 for n in nodes.values()) - margin
    right = max(n.x + n.width / 2 for n in nodes.values()) + margin
    top = min(n.y - n.height / 2 for n in nodes.values()) - margin
    bottom = max(n.y + n.height / 2 for n in nodes.values()) + margin
    scale = min(1.0, max_width / (right - left), max_height / (bottom - top))
    width, height = (right - left) * scale, (bottom - top) * scale
    drawing = _drawing(width, height)
    content = Group()

    def point(x: float, y: float) -> tuple[float, float]:
        return x - left, (bottom - top) - (y - top)  # flip: PDF y grows upwards

    for relation in relations:
        source, target = nodes.get(relation["source"]), nodes.get(relation["target"])
        if source is None or target is None:
            continue
        _edge(content, relation, source, target, point)
    for node in nodes.values():
        _node(content, node, point)
    content.transform = (scale, 0, 0, scale, 0, 0)
    drawing.add(content)
    return drawing


def _edge(group: Group, relation: dict[str, Any], source: _Node, target: _Node,
          point: Any) -> None:
    kind = relation["kind"]
    colour, width, dash = EDGE_STYLE.get(kind, EDGE_STYLE["cooperation"])
    x1, y1 = point(*_border_point(source, target.x, target.y))
    x2, y2 = point(*_border_point(target, source.x, source.y, margin=3.0))
    group.add(Line(x1, y1, x2, y2, strokeColor=colour, strokeWidth=width,
                   strokeDashArray=list(dash) if dash else None))
    if kind in DIRECTED:
        angle = math.atan2(y2 - y1, x2 - x1)
        size = ARROW + (2 if kind == "obstacle" else 0)
        left = (x2 - size * math.cos(angle - 0.42), y2 - size * math.sin(angle - 0.42))
        right = (x2 - size * math.cos(angle + 0.42), y2 - size * math.sin(angle + 0.42))
        group.add(Polygon([x2, y2, *left, *right], fillColor=colour, strokeColor=colour,
                          strokeWidth=0.5))
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    label = relation.get("label", "")
    if kind == "obstacle":
        # The obstacle mark: a red disc with a cross on the line (as the canvas draws it),
        # label in bold red beside it.
        group.add(Circle(mx, my, 6.5, fillColor=OBSTACLE_RED, strokeColor=colors.white,
                         strokeWidth=1))
        _cross(group, mx, my, 2.8)
    if label:
        font = BOLD if kind == "obstacle" else REGULAR
        text_width = pdfmetrics.stringWidth(label, font, EDGE_FONT_SIZE)
        ly = my + (9 if kind == "obstacle" else 2)
        group.add(Rect(mx - text_width / 2 - 2, ly - 2, text_width + 4, EDGE_FONT_SIZE + 3,
                       fillColor=colors.white, strokeColor=None))
        group.add(String(mx, ly, label, fontName=font, fontSize=EDGE_FONT_SIZE,
                         fillColor=OBSTACLE_RED if kind == "obstacle" else colors.black,
                         textAnchor="middle"))


def _cross(group: Any, x: float, y: float, size: float) -> None:
    for dx in (size, -size):
        group.add(Line(x - dx, y - size, x + dx, y + size, strokeColor=colors.white,
                       strokeWidth=1.4))


def _node(group: Group, node: _Node, point: Any) -> None:
    fill, border = NODE_STYLE.get(node.kind, NODE_STYLE["institution"])
    cx, cy = point(node.x, node.y)
    x, y = cx - node.width / 2, cy - node.height / 2
    radius = node.height / 2 if node.kind == "person" else (2.0 if node.kind == "offer" else 6)
    group.add(Rect(x, y, node.width, node.height, rx=radius, ry=radius, fillColor=fill,
                   strokeColor=border, strokeWidth=1.1,
                   strokeDashArray=[3, 2] if node.kind == "offer" else None))
    font = BOLD if node.kind == "person" else REGULAR
    line_height = NODE_FONT_SIZE + 2
    first = cy + (len(node.lines) - 1) * line_height / 2 - NODE_FONT_SIZE / 2 + 1
    for index, line in enumerate(node.lines):
        group.add(String(cx, first - index * line_height, line, fontName=font,
                         fontSize=NODE_FONT_SIZE, textAnchor="middle"))


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
        CondPageBreak(MAX_DIAGRAM_HEIGHT + 30 * mm),
        para("Dienstleistungskette", st.heading),
        para(f"Unter der Zielsetzung „{detail.goal}“: beteiligte Akteure, ihre Beziehungen und "
             "die Stellen, an denen es hakt." if detail.goal else
             "Beteiligte Akteure, ihre Beziehungen und die Stellen, an denen es hakt.",
             st.small),
        Spacer(1, 2 * mm),
        service_chain_drawing(detail.actors, detail.relations, width),
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
