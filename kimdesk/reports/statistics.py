"""The statistics report for Controlling and the Lenkungsgruppe: the figures of a period and
area protected by the cell key method, and the Zielsystem with measured values beside the targets.

Landscape A4, so that wide tables (referrals by institution and outcome) fit and the pages
work on a projector. It holds no personal data: only what :mod:`kimdesk.stats` lets out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer

from kimdesk.casework.clients import without_cyclic_gc
from kimdesk.casework.context import Context
from kimdesk.reports.layout import (
    DocumentInfo,
    content_width,
    fields,
    longest_word_width,
    number,
    para,
    render,
    styles,
    table,
    text,
    text_width,
)
from kimdesk.stats.exports import LEGEND, PROTECTION_TEXT
from kimdesk.stats.figures import COUNT, Figure, Statistics, build, load
from kimdesk.stats.scope import Period, Scope
from kimdesk.stats.zielsystem import Measurement, Zielsystem, measure, zielsystem_for

LABEL_WIDTH = 70 * mm
MIN_LABEL_WIDTH = 35 * mm
MIN_NUMBER_WIDTH = 18 * mm


def statistics_pdf(ctx: Context, period: Period, scope: Scope | None = None) -> bytes:
    """Compute the figures (and the Zielsystem covering the end of the period) and print them."""
    scope = scope or Scope.county()
    # Many short-lived objects (rows, tallies, flowables) and no cycles worth collecting
    # meanwhile: the cyclic collector would only walk them again and again.
    with without_cyclic_gc():
        data = load(ctx, period, scope)
        stats = build(data, ctx.reference, ctx.today())
        system = zielsystem_for(ctx.reference, period.end)
        measured = (system, measure(ctx, system, period.end, stats, data)) if system else None
        return statistics_report(ctx, stats, measured)


def statistics_report(ctx: Context, stats: Statistics,
                      zielsystem: tuple[Zielsystem, Sequence[Measurement]] | None = None,
                      *, basis: str | None = None) -> bytes:
    """The report as PDF bytes. ``basis``: where the figures come from, if not this vault
    (the county view: the county server)."""
    try:
        team = ctx.reference.team(ctx.team).name
    except KeyError:
        team = ctx.team
    info = DocumentInfo(title="Statistikbericht", team=team, printed_on=ctx.today(),
                        confidential=False, wide=True)
    width = content_width(info)
    st = styles()
    story: list[Flowable] = [
        para("Statistikbericht", st.title),
        para("Programmcontrolling des Kommunalen Integrationsmanagements"),
        Spacer(1, 2 * mm),
        fields([
            ("Zeitraum", stats.period.label),
            ("Gebiet", stats.scope_label),
            ("Stand", f"{stats.created_on:%d.%m.%Y}"),
            ("Datengrundlage", basis or f"die in diesem KIMdesk gespeicherten Fälle ({team}), "
                                        "einschließlich anonymisiert gezählter gelöschter "
                                        "Akten"),
        ], min(width, 200 * mm), 40 * mm),
        Spacer(1, 3 * mm),
        para("Zeichenerklärung", st.subheading),
        *[para(line, st.small) for line in LEGEND],
        para("Schutz der Personen", st.subheading),
        para(PROTECTION_TEXT, st.small),
    ]
    if stats.notes:
        story.append(para("Hinweise", st.subheading))
        story += [para(note, st.small) for note in stats.notes]

    figures = list(stats.figures)
    overview = next((f for f in figures if f.code == "overview"), None)
    if overview is not None:
        story += _figure(overview, width)
        figures.remove(overview)
    if zielsystem is not None:
        story += _zielsystem(*zielsystem, width)
    for figure in figures:
        story += _figure(figure, width)
    return render(info, story)


def _figure(figure: Figure, width: float) -> list[Flowable]:
    st = styles()
    rows, columns = _visible(figure)
    labels = [figure.columns[c].label for c in columns]
    values = [[_cell(figure, r, c) for c in columns] for r in rows]
    label_width, number_widths = _widths(figure, rows, labels, values, width)
    body: list[list[Any]] = [[Paragraph(text(figure.row_heading), st.header),
                              *[Paragraph(text(label), st.header_number) for label in labels]]]
    totals: list[int] = []
    for r, line in zip(rows, values, strict=True):
        row = figure.rows[r]
        body.append([row.label, *(_Number(value, bold=row.total) for value in line)])
        if row.total:
            totals.append(len(body) - 1)
    flowables: list[Flowable] = [
        CondPageBreak(40 * mm),
        para(figure.title, st.heading),
        table(body, [label_width, *number_widths], total_rows=totals, numeric_from=1),
    ]
    hidden_rows = len(figure.rows) - len(rows)
    notes = list(figure.notes)
    if hidden_rows:
        notes.append(f"{hidden_rows} Zeile(n) ohne Werte sind ausgeblendet.")
    if len(columns) < len(figure.columns):
        notes.append("Spalten ohne Werte sind ausgeblendet.")
    flowables += [para(note, st.small) for note in notes]
    return flowables


class _Number(Flowable):  # type: ignore[misc]  # reportlab has no type information
    """A number in a table cell as a one-line Paragraph in the number style draws it (right
    aligned, first baseline one font size below the top), without parsing markup and
    breaking lines: a report has about a thousand of them, and they never wrap."""

    def __init__(self, value: str, *, bold: bool) -> None:
        super().__init__()
        self.value = value
        self.style = styles().number_bold if bold else styles().number

    def wrap(self, available_width: float, _available_height: float) -> tuple[float, float]:
        self.width, self.height = available_width, self.style.leading
        return self.width, self.height

    def draw(self) -> None:
        canvas, style = self.canv, self.style
        canvas.setFillColor(style.textColor)
        canvas.setFont(style.fontName, style.fontSize, style.leading)
        canvas.drawRightString(self.width, self.height - style.fontSize, self.value)


def _widths(figure: Figure, rows: Sequence[int], labels: Sequence[str],
            values: Sequence[Sequence[str]], width: float) -> tuple[float, list[float]]:
    """Column widths: every number column as wide as its longest header word or value, the
    label column what remains (at most LABEL_WIDTH); equal shares if that does not fit."""
    st = styles()
    padding = 8
    numbers = []
    for c, label in enumerate(labels):
        widest_value = max((text_width(line[c], st.number_bold) for line in values), default=0)
        numbers.append(max(MIN_NUMBER_WIDTH, longest_word_width(label, st.header_number)
                           + padding, widest_value + padding))
    longest_label = max([longest_word_width(figure.rows[r].label, st.cell_bold) for r in rows]
                        + [longest_word_width(figure.row_heading, st.header)])
    least_label = max(MIN_LABEL_WIDTH, longest_label + padding)
    if sum(numbers) + least_label > width:
        share = (width - least_label) / len(numbers)
        return least_label, [share] * len(numbers)
    label_width = min(LABEL_WIDTH if len(labels) > 1 else 90 * mm, width - sum(numbers))
    return max(label_width, least_label), numbers


def _cell(figure: Figure, row: int, column: int) -> str:
    value = figure.cells[row][column]
    measure = figure.measure(figure.rows[row], figure.columns[column])
    if isinstance(value, float) and measure != COUNT:
        return number(round(value, 1))
    return number(value)


def _visible(figure: Figure) -> tuple[list[int], list[int]]:
    """Rows and count columns that hold anything but zeros (totals always stay)."""

    def empty(value: object) -> bool:
        return value == 0

    rows = [r for r, row in enumerate(figure.rows)
            if row.total or not all(empty(v) for v in figure.cells[r])]
    columns = [c for c, column in enumerate(figure.columns)
               if column.code == "total" or column.measure != COUNT
               or not all(empty(figure.cells[r][c]) for r in range(len(figure.rows)))]
    if not columns:
        columns = list(range(len(figure.columns)))
    return rows, columns


def _zielsystem(system: Zielsystem, measurements: Sequence[Measurement], width: float
                ) -> list[Flowable]:
    st = styles()
    title = f"{system.title}: Zielwerte und Messwerte"
    head = [f"Zeitraum des Zielsystems: {system.period.label}."]
    if system.adopted_on:
        head.append(f"Beschlossen am {system.adopted_on:%d.%m.%Y}"
                    + (f" ({system.adopted_by})." if system.adopted_by else "."))
    if system.note:
        head.append(system.note)
    over = next((m.measured_over for m in measurements if m.measured_over), None)
    if over is not None:
        head.append(f"Gemessen über {over.label}; „Soll anteilig“ ist der Zielwert, anteilig "
                    "auf die bisher vergangenen Monate umgerechnet.")
    flowables: list[Flowable] = [CondPageBreak(60 * mm), para(title, st.heading),
                                 para(" ".join(head), st.small)]
    header = ["Indikator", "Einheit", "Zielwert", "Soll anteilig", "Messwert", "Stand"]
    widths = [width - 146 * mm, 36 * mm, 20 * mm, 22 * mm, 22 * mm, 46 * mm]
    # One table per goal keeps each goal's heading next to its indicators.
    for objective in system.objectives:
        rows: list[list[Any]] = [header]
        for m in measurements:
            if m.objective.code != objective.code:
                continue
            label = m.indicator.label
            if m.indicator.direction == "at_most":
                label += " (höchstens)"
            if m.indicator.source:
                label += f" – Quelle: {m.indicator.source}"
            rows.append([label, m.indicator.unit, m.indicator.target, m.expected_to_date,
                         m.value, m.status])
        if len(rows) > 1:
            flowables.append(KeepTogether([
                para(f"Ziel: {objective.title}", st.subheading),
                table(rows, widths, numeric=(2, 3, 4)),
            ]))
    return flowables
