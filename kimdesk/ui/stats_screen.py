"""Statistik: the Controlling figures of a period and area as bar charts, with exports.

The figures come from :mod:`kimdesk.stats.figures`, computed off the GUI thread, and are shown
only as that module lets them out: counts as published by the cell key method; a share that is
not shown (".") gets no bar and is listed under its chart with its marker. Exports (CSV, XLSX)
and the Statistikbericht (PDF) are made in memory and written only where the user chooses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QMargins, Qt
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError
from kimdesk.stats.figures import TOTAL, Cell, Figure, Statistics, build, load
from kimdesk.stats.scope import Period, Scope, ScopeKind, month_of
from kimdesk.stats.zielsystem import measure, zielsystem_for
from kimdesk.ui import hub as areas
from kimdesk.ui import printing
from kimdesk.ui.flow_layout import FlowLayout, labelled
from kimdesk.ui.operations import run_in_background
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.state import AppState

_RELOAD_ON = (areas.CASES, areas.CLIENTS, areas.NETWORK)
_HIDDEN_NOTE = ("Zum Schutz der Personen sind alle Anzahlen nach dem Cell-Key-Verfahren um "
                "höchstens 4 verändert; 1 bis 4 erscheint nie.")


@dataclass(frozen=True)
class ChartSpec:
    """Which figure a chart shows: its rows (categories) against some of its columns."""

    code: str  # the chart's objectName
    title: str
    figure: str
    columns: tuple[str, ...]
    rows_from_total: bool = False  # one bar per column of the total row (e.g. outcomes)
    skip_rows: tuple[str, ...] = (TOTAL,)


CHARTS = (
    ChartSpec("chart_cases_by_kind", "Fälle nach Fallart", "cases_by_kind",
              ("active", "new", "closed")),
    ChartSpec("chart_cm_by_phase", "Case Management nach Phase", "cm_by_phase",
              ("highest", "at_end")),
    ChartSpec("chart_new_closed", "Neu aufgenommen und abgeschlossen nach Team",
              "cases_by_team", ("new", "closed")),
    ChartSpec("chart_contacts", "Kontakte und Beratungsstunden nach Kontaktart",
              "contacts_by_kind", (TOTAL, "hours")),
    ChartSpec("chart_topics", "Handlungsfelder nach Häufigkeit", "topics", ("cases",),
              skip_rows=(TOTAL, "cases_total")),
    ChartSpec("chart_referrals", "Vermittlungen nach Ergebnis", "referrals", (),
              rows_from_total=True),
)


@dataclass(frozen=True)
class BarText:
    """One value as the screen writes it (tooltip or note): never a number for a hidden cell."""

    chart: str
    label: str
    value: str


def shown(value: Cell) -> str:
    """A cell as text: markers stay markers; numbers in German notation."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


def _bar_value(value: Cell) -> float:
    """The length of a bar: hidden cells (markers) get none."""
    return float(value) if isinstance(value, (int, float)) else 0.0


# In the county view (source "Kreis"), the charts show the server's figures instead.
_COUNTY_CHARTS = {
    "chart_cases_by_kind": ("kreis_cases_by_case_kind", ("new", "closed", "open_at_end")),
    "chart_cm_by_phase": ("kreis_cases_by_phase", ("open_at_end",)),
    "chart_new_closed": ("kreis_cases_by_team", ("new", "closed")),
    "chart_topics": ("kreis_cases_by_topic", ("new", "open_at_end")),
}
CountySource = Callable[[Context, Period, Scope], Statistics]


def compute(ctx: Context, period: Period, scope: Scope) -> Statistics:
    """Worker thread: the figures of ``period`` and ``scope``."""
    return build(load(ctx, period, scope), ctx.reference, ctx.today())


def county_source(ctx: Context, period: Period, scope: Scope) -> Statistics:
    """Worker thread: the county figures from the county server."""
    from kimdesk.sync.statistics import county_view

    return county_view(ctx, period, scope)


def county_bytes(ctx: Context, stats: Statistics, fmt: str) -> bytes:
    """Worker thread: the county view as CSV, XLSX or Statistikbericht (PDF)."""
    if fmt == "pdf":
        from kimdesk.reports.statistics import statistics_report
        from kimdesk.stats.county import BASIS

        return statistics_report(ctx, stats, basis=BASIS)
    from kimdesk.stats import exports  # the XLSX library loads on export, not at start

    return (exports.to_csv if fmt == "csv" else exports.to_xlsx)(stats)


def export_bytes(ctx: Context, period: Period, scope: Scope, fmt: str) -> bytes:
    """Worker thread: CSV or XLSX of the figures with the Zielsystem, as the CLI exports it."""
    data = load(ctx, period, scope)
    stats = build(data, ctx.reference, ctx.today())
    system = zielsystem_for(ctx.reference, period.end)
    measured = (system, measure(ctx, system, period.end, stats, data)) if system else None
    from kimdesk.stats import exports  # the XLSX library loads on export, not at start

    return (exports.to_csv if fmt == "csv" else exports.to_xlsx)(stats, measured)


def _axis_labels(categories: Sequence[str]) -> list[str]:
    """Category labels short enough for the axis beside the bars: the explanation in
    parentheses goes (it stays in the tooltip and the notes), e.g. "Gesundheit (inkl.
    psychische Gesundheit, Behinderung)" → "Gesundheit". Qt Charts otherwise cuts such
    labels to "…" (issue 14, item 8). Labels that would then coincide stay in full."""
    short = [label.split(" (", 1)[0] if " (" in label else label for label in categories]
    return short if len(set(short)) == len(short) else list(categories)


class StatsScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._statistics: Statistics | None = None
        self._generation = 0
        self.choose_path: printing.PathChooser | None = None  # test seam; None: save dialog
        self.bar_texts: list[BarText] = []
        self.chart_views: dict[str, QChartView] = {}
        self.county_source: CountySource = county_source  # test seam: the server's figures

        title = QLabel("Statistik", objectName="stats_title")
        title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        today = state.today()
        self.start = self._month_edit("stats_from", date(today.year, 1, 1))
        self.end = self._month_edit("stats_to", today)
        self.scope = QComboBox(objectName="stats_scope")
        self._fill_scopes()
        self.source = QComboBox(objectName="stats_source")
        self.source.addItem("Eigener Datentresor", "tresor")
        self.source.addItem("Kreis (Kreisserver)", "kreis")
        self.source.setToolTip("Kreis: die von allen Teams an den Kreisserver übermittelten, "
                               "geschützten Zahlen (Koordination; Case-Manager: eigenes Team)")
        self.refresh_button = QPushButton("Aktualisieren", objectName="stats_refresh")
        self.csv_button = QPushButton("Export CSV …", objectName="export_csv")
        self.xlsx_button = QPushButton("Export XLSX …", objectName="export_xlsx")
        self.pdf_button = QPushButton("Statistikbericht (PDF) …", objectName="export_pdf")
        # Filters and exports in two rows: in one they made the window wider than 1366 px.
        for combo in (self.scope, self.source):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(18)
        # A flow: at 150 % on 1366×768 the filters take two lines instead of widening the page.
        filters = FlowLayout()
        for text, widget in (("Quelle", self.source), ("Von", self.start), ("bis", self.end),
                             ("Gebiet", self.scope)):
            filters.addWidget(labelled(text, widget, self))
        filters.addWidget(self.refresh_button)
        exports = QHBoxLayout()
        exports.addStretch(1)
        for button in (self.csv_button, self.xlsx_button, self.pdf_button):
            exports.addWidget(button)

        self.status = QLabel(objectName="stats_status")
        self.status.setWordWrap(True)
        self.overview = QLabel(objectName="stats_overview")
        self.overview.setWordWrap(True)
        self.overview.setTextFormat(Qt.TextFormat.RichText)
        self.overview.setStyleSheet("font-size: 10.5pt;")
        note = QLabel(_HIDDEN_NOTE, objectName="stats_note")
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")

        grid_host = QWidget(objectName="stats_charts")
        self._grid = QGridLayout(grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._boxes: dict[str, tuple[QGroupBox, QLabel]] = {}
        for number, spec in enumerate(CHARTS):
            view = QChartView(objectName=spec.code)
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumHeight(300)
            hidden = QLabel(objectName=f"{spec.code}_hidden")
            hidden.setWordWrap(True)
            hidden.setStyleSheet("color: #555;")
            box = QGroupBox(spec.title)
            box_layout = QVBoxLayout(box)
            box_layout.addWidget(view, 1)
            box_layout.addWidget(hidden)
            self._grid.addWidget(box, number // 2, number % 2)
            self.chart_views[spec.code] = view
            self._boxes[spec.code] = (box, hidden)
        for column in range(2):
            self._grid.setColumnStretch(column, 1)
        scroll = QScrollArea(objectName="stats_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_host)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(filters)
        layout.addLayout(exports)
        layout.addWidget(self.status)
        layout.addWidget(self.overview)
        layout.addWidget(note)
        layout.addWidget(scroll, 1)

        self.refresh_button.clicked.connect(self.refresh)
        self.csv_button.clicked.connect(lambda: self.export("csv"))
        self.xlsx_button.clicked.connect(lambda: self.export("xlsx"))
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self._reloader = ReloadWhenShown(self, state, self.refresh, areas=_RELOAD_ON)

    # --- filters ----------------------------------------------------------------------------

    def _month_edit(self, name: str, day: date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, 1), objectName=name)
        edit.setDisplayFormat("MM.yyyy")
        edit.setMinimumDate(QDate(2000, 1, 1))
        return edit

    def _fill_scopes(self) -> None:
        ref = self._state.reference
        self.scope.addItem("Kreis Kleve (alle Teams)", Scope.county())
        for team in ref.teams:
            self.scope.addItem(f"Team: {team.name}", Scope(ScopeKind.TEAM, team.code))
        for team in ref.regional_teams:
            if team.planning_area:
                self.scope.addItem(f"Planungsraum: {team.planning_area}",
                                   Scope(ScopeKind.PLANNING_AREA, team.code))
        for municipality in ref.municipalities:
            self.scope.addItem(f"Kommune: {municipality.name}",
                               Scope(ScopeKind.MUNICIPALITY, municipality.code))

    def set_period(self, start: date, end: date) -> None:
        self.start.setDate(QDate(start.year, start.month, 1))
        self.end.setDate(QDate(end.year, end.month, 1))

    def period(self) -> Period:
        """The chosen months; KimdeskError (German) if they do not make a period."""
        start, end = self.start.date(), self.end.date()
        return Period(month_of(date(start.year(), start.month(), 1)),
                      month_of(date(end.year(), end.month(), 1)))

    def selected_scope(self) -> Scope:
        scope = self.scope.currentData()
        return scope if isinstance(scope, Scope) else Scope.county()

    # --- computing --------------------------------------------------------------------------

    @property
    def statistics(self) -> Statistics | None:
        return self._statistics

    @property
    def busy(self) -> bool:
        return not self.refresh_button.isEnabled()

    def refresh(self) -> None:
        """Compute the figures of the chosen period and area off the GUI thread."""
        if not self._state.unlocked:
            return
        try:
            period, scope = self.period(), self.selected_scope()
        except KimdeskError as exc:
            self._show_error(exc.message)
            return
        self._reloader.stale = False
        self._generation += 1
        generation, ctx = self._generation, self._state.ctx
        self.refresh_button.setEnabled(False)
        self.status.setStyleSheet("color: #555;")
        self.status.setText("Kennzahlen werden berechnet …")
        source = (self.county_source if self.source.currentData() == "kreis"
                  else compute)
        run_in_background(self, lambda: source(ctx, period, scope),
                          lambda stats: self._computed(generation, stats),
                          lambda exc: self._failed(generation, exc))

    def _computed(self, generation: int, stats: Statistics) -> None:
        if generation != self._generation:
            return  # a newer request is on its way
        self.refresh_button.setEnabled(True)
        self.show_statistics(stats)

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation == self._generation:
            self.refresh_button.setEnabled(True)
            self._show_error(printing.error_text(exc))

    def _show_error(self, message: str) -> None:
        self.status.setStyleSheet("color: #b71c1c; font-weight: bold;")
        self.status.setText(message)

    # --- showing ----------------------------------------------------------------------------

    def show_statistics(self, stats: Statistics) -> None:
        self._statistics = stats
        self.bar_texts = []
        self.status.setStyleSheet("color: #555;")
        self.status.setText(f"{stats.period.label} · {stats.scope_label} · Stand "
                            f"{stats.created_on:%d.%m.%Y}")
        codes = {figure.code for figure in stats.figures}
        if "overview" in codes:
            parts = [f"{row.label}: <b>{shown(value)}</b>" for row, _column, value
                     in stats.figure("overview").iter_cells()]
            self.overview.setText(" · ".join(parts))
        else:  # the county view: its data basis and the teams' last uploads
            self.overview.setText("<br>".join(stats.notes))
        for spec in CHARTS:
            if spec.code in _COUNTY_CHARTS and _COUNTY_CHARTS[spec.code][0] in codes:
                figure_code, columns = _COUNTY_CHARTS[spec.code]
                spec = dataclasses.replace(spec, figure=figure_code, columns=columns)
            box, hidden = self._boxes[spec.code]
            figure_code = spec.figure
            if figure_code.endswith("cases_by_team") and figure_code not in codes:
                figure_code = figure_code.replace("cases_by_team", "cases_by_municipality")
            if figure_code not in codes:
                box.hide()
                continue
            figure = stats.figure(figure_code)
            box.setTitle(spec.title if figure_code == spec.figure
                         else "Neu aufgenommen und abgeschlossen nach Kommune")
            spec = dataclasses.replace(spec, figure=figure_code)
            box.show()
            notes = self._draw(spec, figure)
            hidden.setText("Ohne Balken: " + "; ".join(notes) if notes else "")
            hidden.setVisible(bool(notes))

    def _series_data(self, spec: ChartSpec, figure: Figure
                     ) -> tuple[list[str], list[tuple[str, list[Cell]]]]:
        """Categories and, per bar set, its cells (shown values or markers)."""
        columns = {column.code: i for i, column in enumerate(figure.columns)}
        if spec.rows_from_total:
            total = next(i for i, row in enumerate(figure.rows) if row.code == TOTAL)
            parts = [(i, c) for i, c in enumerate(figure.columns) if c.code != TOTAL]
            return ([c.label for _, c in parts],
                    [("Vermittlungen", [figure.cells[total][i] for i, _ in parts])])
        rows = [(i, row) for i, row in enumerate(figure.rows) if row.code not in spec.skip_rows]
        # Rows that are empty in every charted column say nothing: leave them out.
        wanted = [columns[code] for code in spec.columns if code in columns]
        rows = [(i, row) for i, row in rows
                if any(figure.cells[i][c] not in (0, 0.0, None) for c in wanted)]
        sets = [(figure.columns[c].label, [figure.cells[i][c] for i, _ in rows])
                for c in wanted]
        return [row.label for _, row in rows], sets

    def _draw(self, spec: ChartSpec, figure: Figure) -> list[str]:
        categories, sets = self._series_data(spec, figure)
        # Horizontal bars list the first category at the bottom; reverse to read top-down.
        categories = categories[::-1]
        sets = [(label, cells[::-1]) for label, cells in sets]
        chart = QChart()
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(0)
        series = QHorizontalBarSeries()
        notes: list[str] = []
        largest = 0.0
        for label, cells in sets:
            bar_set = QBarSet(label)
            for category, cell in zip(categories, cells, strict=True):
                bar_set.append(_bar_value(cell))
                largest = max(largest, _bar_value(cell))
                self.bar_texts.append(BarText(spec.code, f"{category} – {label}", shown(cell)))
                if isinstance(cell, str):
                    notes.append(f"{category}"
                                 + (f" ({label})" if len(sets) > 1 else "") + f": {cell}")
            bar_set.hovered.connect(self._hover_handler(categories, label, cells))
            series.append(bar_set)
        chart.addSeries(series)
        axis_y = QBarCategoryAxis()
        axis_y.append(_axis_labels(categories) or ["keine Daten"])
        font = QFont(axis_y.labelsFont())
        font.setPointSizeF(8.5)
        axis_y.setLabelsFont(font)
        axis_x = QValueAxis()
        axis_x.setLabelFormat("%d")
        axis_x.setRange(0, max(5.0, largest * 1.1))
        axis_x.applyNiceNumbers()  # ticks at 0, 10, 20 … rather than 0, 11, 22 …
        axis_x.setLabelsFont(font)
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(axis_y)
        series.attachAxis(axis_x)
        chart.legend().setVisible(len(sets) > 1)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.legend().setFont(font)
        view = self.chart_views[spec.code]
        old = view.chart()
        view.setChart(chart)
        view.setMinimumHeight(max(260, 80 + 30 * len(categories) * max(1, len(sets) // 2 + 1)))
        if old is not None:
            old.deleteLater()
        return notes

    def _hover_handler(self, categories: Sequence[str], label: str, cells: Sequence[Cell]
                       ) -> Callable[[bool, int], None]:
        def hovered(inside: bool, index: int) -> None:
            if inside and 0 <= index < len(cells):
                QToolTip.showText(self.cursor().pos(),
                                  f"{categories[index]} – {label}: {shown(cells[index])}")
            else:
                QToolTip.hideText()

        return hovered

    # --- exports ----------------------------------------------------------------------------

    def export(self, fmt: str) -> None:
        """Export CSV/XLSX or the Statistikbericht (PDF) of the chosen period and area."""
        if not self._state.unlocked:
            return
        try:
            period, scope = self.period(), self.selected_scope()
        except KimdeskError as exc:
            self._show_error(exc.message)
            return
        from kimdesk.reports.statistics import statistics_pdf

        ctx = self._state.ctx
        area = "Kreis" if scope.kind == ScopeKind.COUNTY else scope.code
        stem = f"{'Statistikbericht' if fmt == 'pdf' else 'Statistik'}-{area}"
        name = printing.file_name(stem, f"{period.start} bis {period.end}",
                                  self._state.today(), fmt)
        produce: Callable[[], bytes]
        if self.source.currentData() == "kreis":
            source = self.county_source
            produce = lambda: county_bytes(ctx, source(ctx, period, scope), fmt)  # noqa: E731
            title = ("Statistikbericht speichern" if fmt == "pdf"
                     else f"Statistik als {fmt.upper()} exportieren")
            file_filter = {"pdf": printing.PDF_FILTER, "csv": printing.CSV_FILTER}.get(
                fmt, printing.XLSX_FILTER)
            name = name.replace(f"-{area}-", f"-{area}-Kreisserver-", 1)
        elif fmt == "pdf":
            produce, title, file_filter = (lambda: statistics_pdf(ctx, period, scope),
                                           "Statistikbericht speichern", printing.PDF_FILTER)
        else:
            produce = lambda: export_bytes(ctx, period, scope, fmt)  # noqa: E731
            title = f"Statistik als {fmt.upper()} exportieren"
            file_filter = printing.CSV_FILTER if fmt == "csv" else printing.XLSX_FILTER
        buttons = (self.csv_button, self.xlsx_button, self.pdf_button)
        for button in buttons:
            button.setEnabled(False)
        self.status.setStyleSheet("color: #555;")
        self.status.setText("Export wird erstellt …")

        def saved(path: object) -> None:
            self.status.setStyleSheet("color: #1b5e20;")
            self.status.setText(f"Gespeichert: {path}")
            self._state.hub.status_message.emit(f"Statistik gespeichert: {path}")

        operation = printing.save_document(
            self, produce, name, title=title, file_filter=file_filter,
            choose_path=self.choose_path, on_saved=saved,
            on_cancelled=lambda: self.status.setText("Export abgebrochen."),
            on_failed=self._show_error)
        operation.finished.connect(lambda: [b.setEnabled(True) for b in buttons])
