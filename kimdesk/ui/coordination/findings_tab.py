"""Erkenntnisse: the register of Versorgungslücken and defizitäre Schnittstellen with its filters
and the counts per month or quarter (findings are about structures, so nothing is suppressed)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QValueAxis
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.coordination import findings
from kimdesk.casework.coordination.findings import FindingFilter, FindingRow, PeriodCount
from kimdesk.casework.coordination.reconstructions import theme_rows
from kimdesk.casework.pseudonymise import MONTH_NAMES
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.ui import hub as areas
from kimdesk.ui.columns import FitColumns
from kimdesk.ui.coordination import release
from kimdesk.ui.coordination.finding_dialog import FindingDialog
from kimdesk.ui.coordination.release_dialog import FINDING, ReleaseDialog, finding_release_text
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import CodeCombo, DateField, format_date
from kimdesk.ui.flow_layout import FlowLayout, labelled
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

LAST_12_MONTHS = "last12"
THIS_YEAR = "this_year"
LAST_YEAR = "last_year"
ALL = "all"
CUSTOM = "custom"
PERIODS = ((LAST_12_MONTHS, "letzte 12 Monate"), (THIS_YEAR, "laufendes Jahr"),
           (LAST_YEAR, "Vorjahr"), (ALL, "gesamter Zeitraum"), (CUSTOM, "frei wählen"))
_BAR_COLOUR = QColor("#1f5f99")


def period_bounds(period: str, today: date) -> tuple[date | None, date | None]:
    """First and last day (inclusive) of a preset period; (None, None) for all."""
    if period == LAST_12_MONTHS:
        month_index = today.year * 12 + today.month - 1 - 11
        return date(month_index // 12, month_index % 12 + 1, 1), today
    if period == THIS_YEAR:
        return date(today.year, 1, 1), today
    if period == LAST_YEAR:
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return None, None


def short_period_label(count: PeriodCount, granularity: str) -> str:
    """"Mär 26" or "Q1 26": short enough for a bar chart's axis."""
    year = f"{count.start.year % 100:02d}"
    if granularity == findings.QUARTER:
        return f"Q{(count.start.month - 1) // 3 + 1} {year}"
    return f"{MONTH_NAMES[count.start.month - 1][:3]} {year}"


class FindingsTab(QWidget):
    """The register of findings (the Koordination screen embeds it)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._dialog: QDialog | None = None
        self._counts: list[PeriodCount] = []
        self._filling = False
        ref = state.reference

        # --- filters ------------------------------------------------------------------------
        self.period = CodeCombo(PERIODS, parent=self)
        self.period.setObjectName("finding_period")
        self.start = DateField(state.today, self)
        self.start.setObjectName("finding_start")
        self.start.setPlaceholderText("von")
        self.end = DateField(state.today, self)
        self.end.setObjectName("finding_end")
        self.end.setPlaceholderText("bis")
        self.life_area = CodeCombo(((t.code, t.label) for t in ref.terms("life_areas")),
                                   empty="Alle Lebensbereiche", parent=self)
        self.life_area.setObjectName("finding_life_area")
        self.barrier = CodeCombo(((t.code, t.label) for t in ref.terms("barrier_kinds")),
                                 empty="Alle Arten von Barrieren", parent=self)
        self.barrier.setObjectName("finding_barrier")
        self.municipality = CodeCombo(((m.code, m.name) for m in ref.municipalities),
                                      empty="Alle Kommunen", parent=self)
        self.municipality.setObjectName("finding_municipality")
        self.institution_type = CodeCombo(
            ((t.code, t.label) for t in ref.terms("institution_types")),
            empty="Alle Institutionsarten", parent=self)
        self.institution_type.setObjectName("finding_institution_type")
        self.theme = CodeCombo((), empty="Alle Themen", parent=self)
        self.theme.setObjectName("finding_theme")
        for combo in (self.life_area, self.barrier, self.institution_type, self.theme):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(18)
        self.granularity = CodeCombo(((findings.MONTH, "je Monat"),
                                      (findings.QUARTER, "je Quartal")), parent=self)
        self.granularity.setObjectName("finding_granularity")

        # A flow of label–field pairs: two lines at 1366, more at 150 % (a grid of three pairs
        # a line made the Koordination screen wider than the window there).
        period = QWidget(self)
        period_row = QHBoxLayout(period)
        period_row.setContentsMargins(0, 0, 0, 0)
        period_label = QLabel("Zeitraum", period)
        period_label.setBuddy(self.period)
        period_row.addWidget(period_label)
        period_row.addWidget(self.period)
        period_row.addWidget(self.start)
        period_row.addWidget(QLabel("–", period))
        period_row.addWidget(self.end)
        period_row.addStretch(1)
        filters = FlowLayout(fill=True)
        filters.addWidget(period)
        for text, combo in (("Lebensbereich", self.life_area), ("Barriere", self.barrier),
                            ("Kommune", self.municipality),
                            ("Institutionsart", self.institution_type), ("Thema", self.theme)):
            filters.addWidget(labelled(text, combo, self))

        # --- register -----------------------------------------------------------------------
        self.model: RowTableModel[FindingRow] = RowTableModel([
            Column("Datum", lambda r: format_date(r.noted_on)),
            Column("Lebensbereich", lambda r: r.life_area_label),
            Column("Art der Barriere", lambda r: r.barrier_label),
            Column("Institutionsart", lambda r: r.institution_type_label or "–"),
            Column("Kommune", lambda r: r.municipality_label),
            Column("Quelle", lambda r: r.source_label),
            Column("Beschreibung", lambda r: " ".join(r.description.split()), stretch=True),
            Column("Thema", lambda r: " ".join(r.theme_statement.split()) or "–"),
        ], self)
        self.table = QTableView(objectName="finding_table")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        # Long vocabulary labels are cut (the tooltip shows them whole), so the description
        # keeps the room; narrow (150 %), the widest columns give way first.
        self._columns = FitColumns(self.table, 6, widths={7: 200}, widest=200)
        self.total = QLabel(objectName="finding_total")

        # --- counts over time ---------------------------------------------------------------
        self.chart_view = QChartView(objectName="finding_chart")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(220)
        chart_box = QWidget()
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_head = QHBoxLayout()
        chart_head.addWidget(QLabel("<b>Erkenntnisse im Zeitverlauf</b>"))
        chart_head.addWidget(self.granularity)
        chart_head.addStretch(1)
        chart_layout.addLayout(chart_head)
        chart_layout.addWidget(self.chart_view, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(chart_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        self.message = QLabel(objectName="findings_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b71c1c; font-weight: bold;")
        self.message.hide()
        self.new_button = QPushButton("Neue Erkenntnis …", objectName="new_finding")
        self.edit_button = QPushButton("Bearbeiten …", objectName="edit_finding")
        self.delete_button = QPushButton("Löschen", objectName="delete_finding")
        # Team scope, a coordinator with a Kreis-Tresor: pass the finding on to the Kreis.
        self.release_button = QPushButton("An den Kreis weitergeben …",
                                          objectName="release_finding")
        self.release_button.setToolTip(
            "Die gewählte Erkenntnis in den Kreis-Tresor kopieren: alle Koordinatorinnen und "
            "Koordinatoren des Kreises sehen sie dann.")
        self.release_button.hide()
        self.release_state = QLabel(objectName="finding_release_state")
        self.release_state.setStyleSheet("color: #1b5e20;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.total)
        buttons.addSpacing(12)
        buttons.addWidget(self.release_state)
        buttons.addStretch(1)
        for button in (self.release_button, self.edit_button, self.delete_button,
                       self.new_button):
            buttons.addWidget(button)
        # In the Kreis scope findings arrive only as releases of the teams.
        self.new_button.setVisible(not state.is_county)
        self._released: dict[str, date] = {}
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        self.period.set_code(LAST_12_MONTHS)
        self._apply_period()
        self.period.currentIndexChanged.connect(self._period_chosen)
        for field in (self.start, self.end):
            field.editingFinished.connect(self._dates_typed)
        for combo in (self.life_area, self.barrier, self.municipality, self.institution_type,
                      self.theme, self.granularity):
            combo.currentIndexChanged.connect(self._filter_changed)
        self.new_button.clicked.connect(self.new_finding)
        self.edit_button.clicked.connect(self.edit_finding)
        self.delete_button.clicked.connect(self.delete_finding)
        self.release_button.clicked.connect(self.release_finding)
        self.table.doubleClicked.connect(lambda _index: self.edit_finding())
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._reloader = ReloadWhenShown(self, state, self.reload, areas=(areas.COORDINATION,))
        self._update_buttons()

    # --- filters ----------------------------------------------------------------------------

    def _apply_period(self) -> None:
        start, end = period_bounds(self.period.code() or ALL, self._state.today())
        self._filling = True
        self.start.set_value(start)
        self.end.set_value(end)
        self._filling = False

    def _period_chosen(self) -> None:
        if self.period.code() != CUSTOM:
            self._apply_period()
        self._filter_changed()

    def _dates_typed(self) -> None:
        if self._filling:
            return
        if self.period.code() != CUSTOM:
            expected = period_bounds(self.period.code() or ALL, self._state.today())
            try:
                typed = (self.start.value(), self.end.value())
            except ValueError:
                typed = (None, None)
            if typed == expected:
                return
            self.period.blockSignals(True)
            self.period.set_code(CUSTOM)
            self.period.blockSignals(False)
        self._filter_changed()

    def _filter_changed(self) -> None:
        if self._filling:
            return
        self.reload()

    def current_filter(self) -> FindingFilter:
        """The filter as chosen; a ValidationError for a date that cannot be read."""
        start = self.start.checked_value("start")
        end = self.end.checked_value("end")
        if start and end and end < start:
            raise ValidationError("Das Ende des Zeitraums liegt vor seinem Anfang.", "end")
        return FindingFilter(
            start=start, end=end, life_area=self.life_area.code() or "",
            barrier=self.barrier.code() or "", municipality=self.municipality.code() or "",
            institution_type=self.institution_type.code() or "",
            theme_id=self.theme.code() or "")

    def set_filter(self, *, period: str | None = None, life_area: str | None = None,
                   barrier: str | None = None, municipality: str | None = None,
                   institution_type: str | None = None, theme_id: str | None = None) -> None:
        """Choose several filters at once and reload once (other screens link here)."""
        self._filling = True
        try:
            if period is not None:
                self.period.set_code(period)
                if period != CUSTOM:
                    self._apply_period()
                    self._filling = True
            for combo, code in ((self.life_area, life_area), (self.barrier, barrier),
                                (self.municipality, municipality),
                                (self.institution_type, institution_type),
                                (self.theme, theme_id)):
                if code is not None:
                    combo.set_code(code or None)
        finally:
            self._filling = False
        self.reload()

    # --- loading ----------------------------------------------------------------------------

    def reload(self) -> None:
        if not self._state.unlocked:
            return
        self._reloader.stale = False
        self.message.hide()
        self._fill_themes()
        try:
            flt = self.current_filter()
        except ValidationError as exc:
            self.message.setText(exc.message)
            self.message.show()
            return
        ctx = self._state.ctx
        selected = self.selected()
        rows = findings.finding_rows(ctx, flt)
        self.model.set_rows(rows)
        self.total.setText(f"{len(rows)} Erkenntnis" + ("" if len(rows) == 1 else "se"))
        granularity = self.granularity.code() or findings.MONTH
        self._counts = findings.finding_counts(ctx, flt, granularity)
        self._draw(self._counts, granularity)
        self.release_button.setVisible(self._state.can_release)
        self._released = (release.released_findings(self._state)
                          if self._state.has_county and not self._state.is_county else {})
        if selected is not None:
            for row, finding in enumerate(rows):
                if finding.id == selected.id:
                    self.table.selectRow(row)
        self._update_buttons()

    def _fill_themes(self) -> None:
        chosen = self.theme.code()
        themes = theme_rows(self._state.ctx)
        self.theme.blockSignals(True)
        self.theme.clear()
        self.theme.addItem("Alle Themen", None)
        self.theme.addItem("ohne generatives Thema", "none")
        for theme in themes:
            text = " ".join(theme.statement.split())
            self.theme.addItem(text if len(text) <= 70 else text[:69] + "…", theme.id)
            self.theme.setItemData(self.theme.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.theme.set_code(chosen)
        self.theme.blockSignals(False)

    @property
    def counts(self) -> list[PeriodCount]:
        """The counts the chart shows (per month or quarter, empty periods included)."""
        return list(self._counts)

    def _draw(self, counts: list[PeriodCount], granularity: str) -> None:
        chart = QChart()
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(0)
        chart.legend().setVisible(False)
        bars = QBarSet("Erkenntnisse")
        bars.setColor(_BAR_COLOUR)
        bars.setLabelColor(QColor("#000000"))
        largest = 0
        for count in counts:
            bars.append(count.count)
            largest = max(largest, count.count)
        series = QBarSeries()
        series.append(bars)
        series.setLabelsVisible(True)
        series.setLabelsPosition(QBarSeries.LabelsPosition.LabelsOutsideEnd)
        chart.addSeries(series)
        font = QFont()
        font.setPointSizeF(8.5)
        axis_x = QBarCategoryAxis()
        axis_x.append([short_period_label(c, granularity) for c in counts] or ["–"])
        axis_x.setLabelsFont(font)
        axis_y = QValueAxis()
        axis_y.setLabelFormat("%d")
        top = max(4, largest + 1)  # one step of room for the count above the highest bar
        axis_y.setRange(0, top)
        if top <= 10:
            axis_y.setTickCount(top + 1)  # a tick per finding: counts are whole numbers
        else:
            axis_y.applyNiceNumbers()
        axis_y.setLabelsFont(font)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(axis_x)
        series.attachAxis(axis_y)
        old = self.chart_view.chart()
        self.chart_view.setChart(chart)
        if old is not None:
            old.deleteLater()

    def selected(self) -> FindingRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        selected = self.selected()
        chosen = selected is not None
        self.edit_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)
        self.release_button.setEnabled(chosen and self._dialog is None)
        released = self._released.get(selected.id) if selected is not None else None
        self.release_state.setText(release.released_text(released))
        self.release_state.setVisible(released is not None)

    def released_on(self, finding_id: str) -> date | None:
        """When the team finding was last given to the Kreis (None: never)."""
        return self._released.get(finding_id)

    # --- actions ----------------------------------------------------------------------------

    @property
    def dialog(self) -> QDialog | None:
        return self._dialog

    def _open(self, dialog: QDialog) -> None:
        # open(), not exec(): see CONTRIBUTING (auto-lock hides and re-shows dialogs).
        self._dialog = dialog

        def finished(result: int) -> None:
            self._dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted and self._state.unlocked:
                self._state.hub.status_message.emit("Erkenntnis gespeichert.")

        dialog.finished.connect(finished)
        dialog.open()

    def new_finding(self) -> None:
        """A finding from a team meeting (from a case or contact it starts on the Fall)."""
        if self._dialog is None and self._state.unlocked:
            self._open(FindingDialog(self._state, source="team_meeting", parent=self))

    def edit_finding(self) -> None:
        finding = self.selected()
        if finding is not None and self._dialog is None:
            self._open(FindingDialog(self._state, finding=finding, parent=self))

    def release_finding(self) -> None:
        """"An den Kreis weitergeben": confirm what leaves the team, then release."""
        finding = self.selected()
        if finding is None or self._dialog is not None or not self._state.can_release:
            return
        state = self._state
        self._dialog = dialog = ReleaseDialog(
            FINDING, finding_release_text(finding),
            lambda: release.release_finding(state, finding.id), parent=self,
            released_on=self._released.get(finding.id))

        def finished(result: int) -> None:
            self._dialog = None
            dialog.deleteLater()
            self._update_buttons()
            if result == QDialog.DialogCode.Accepted and state.unlocked:
                state.hub.status_message.emit("Erkenntnis an den Kreis gegeben.")

        dialog.finished.connect(finished)
        open_dialog(dialog)

    def delete_finding(self) -> None:
        finding = self.selected()
        if finding is None:
            return
        answer = QMessageBox.question(
            self, "Erkenntnis löschen", "Die Erkenntnis aus dem Register löschen?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            findings.delete_finding(self._state.ctx, finding.id)
        except KimdeskError as exc:
            self.message.setText(exc.message)
            self.message.show()
            return
