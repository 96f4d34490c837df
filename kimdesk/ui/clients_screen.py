"""Ratsuchende: the list with search as you type (FTS), filters, and creating persons."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import views
from kimdesk.errors import KimdeskError
from kimdesk.models.enums import CaseKind, Phase
from kimdesk.ui import hub as areas
from kimdesk.ui.client_dialog import ClientDialog
from kimdesk.ui.client_table import ClientTableModel
from kimdesk.ui.columns import FitColumns
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import CodeCombo
from kimdesk.ui.operations import run_in_background
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.state import AppState


class ClientsScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._all_rows: list[views.ClientRow] = []
        # The name search runs off the GUI thread; only the newest query's answer is shown.
        self._generation = 0
        self._searching = False
        self._open_when_found = False
        ref = state.reference

        self.search = QLineEdit(objectName="client_search")
        self.search.setPlaceholderText("Suchen: Name, Teil des Namens oder Geburtsdatum …")
        self.search.setClearButtonEnabled(True)
        self.municipality = CodeCombo(((m.code, m.name) for m in ref.municipalities),
                                      empty="Alle Kommunen", parent=self)
        self.municipality.setObjectName("filter_municipality")
        # Filters are announced by their purpose, not by their value ("Alle Kommunen").
        self.municipality.setAccessibleName("Filter Kommune")
        self.case_kind = CodeCombo(((k.value, k.label) for k in CaseKind), empty="Alle Fallarten",
                                   parent=self)
        self.case_kind.setObjectName("filter_case_kind")
        self.case_kind.setAccessibleName("Filter Fallart")
        self.phase = CodeCombo(((p.value, p.label) for p in Phase), empty="Alle Phasen",
                               parent=self)
        self.phase.setObjectName("filter_phase")
        self.phase.setAccessibleName("Filter Phase")
        self.status = CodeCombo((("open", "laufende Fälle"), ("closed", "abgeschlossene Fälle")),
                                empty="Alle", parent=self)
        self.status.setObjectName("filter_status")
        self.status.setAccessibleName("Filter Fallstatus")

        self.new_person = QPushButton("Neue Person …", objectName="new_person")
        self.new_person.setToolTip("Neue Person anlegen (Strg+N)")
        self.new_organisation = QPushButton("Neue Organisation …", objectName="new_organisation")
        self.count = QLabel(objectName="client_count")

        self.model = ClientTableModel(ref, state.today(), self)
        self.table = QTableView(objectName="client_table")
        self.table.setAccessibleName("Ratsuchende")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        # Measuring every row of thousands on each keystroke costs more than the search;
        # the first rows show the widths well enough.
        header.setResizeContentsPrecision(200)
        # The name takes the rest; narrow (150 %), the long columns give way, no sideways
        # scrolling.
        self._columns = FitColumns(self.table, 0)

        # The search has a row of its own, at least as wide as its placeholder (beside four
        # combo boxes it was cut to "Suchen: Name, Teil des N" at 1366 and to nothing at 150 %).
        margins = self.search.textMargins()
        self.search.setMinimumWidth(
            self.search.fontMetrics().horizontalAdvance(self.search.placeholderText())
            + margins.left() + margins.right() + 3 * self.search.fontMetrics().height())
        filters = QHBoxLayout()
        for combo in (self.municipality, self.case_kind, self.phase, self.status):
            # Long labels ("rechtskreisübergreifendes Case Management") must not set the width.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
            filters.addWidget(combo, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count)
        buttons.addStretch(1)
        buttons.addWidget(self.new_person)
        buttons.addWidget(self.new_organisation)
        layout = QVBoxLayout(self)
        title = QLabel("<h2>Ratsuchende</h2>")
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        # A short debounce keeps typing smooth; the filter itself takes a few milliseconds.
        self._debounce = QTimer(self, singleShot=True, interval=120)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self._open_first)
        for combo in (self.municipality, self.case_kind, self.phase, self.status):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.table.activated.connect(self._open_index)
        self.new_person.clicked.connect(lambda: self._create(organisation=False))
        self.new_organisation.clicked.connect(lambda: self._create(organisation=True))
        self._reloader = ReloadWhenShown(
            self, state, self.reload, areas=(areas.CLIENTS, areas.CASES, areas.DEADLINES))

    # --- data -------------------------------------------------------------------------------

    def reload(self) -> None:
        self._all_rows = views.client_rows(self._state.ctx)
        self.apply_filter()

    def current_filter(self) -> views.ClientFilter:
        return views.ClientFilter(
            query=self.search.text(),
            municipality=self.municipality.code(),
            case_kind=self.case_kind.code(),
            phase=self.phase.code(),
            case_status=self.status.code(),
        )

    def apply_filter(self) -> None:
        """Show the rows that match the search and the filters. The filters alone are applied
        at once (in memory); a name search asks the register on a worker thread."""
        if not self._state.unlocked:
            return
        self._debounce.stop()
        flt = self.current_filter()
        self._generation += 1
        generation = self._generation
        if not flt.query.strip():
            self._searching = False
            self._show(generation, flt, None)
            return
        ctx = self._state.ctx
        self._searching = True
        run_in_background(self, lambda: views.matching_client_ids(ctx, flt.query),
                          lambda ids: self._show(generation, flt, ids), self._search_failed)

    def _show(self, generation: int, flt: views.ClientFilter, ids: set[str] | None) -> None:
        if generation != self._generation or not self._state.unlocked:
            return  # an older query, or locked meanwhile
        self._searching = False
        rows = views.filter_rows(self._all_rows, flt, ids)
        self.model.set_rows(rows, self._state.today())
        self.count.setText(f"{len(rows)} von {len(self._all_rows)} Ratsuchenden")
        if self._open_when_found:
            self._open_when_found = False
            self._open_first_row()

    def _search_failed(self, exc: Exception) -> None:
        self._searching = False
        self._open_when_found = False
        message = exc.message if isinstance(exc, KimdeskError) else "Die Suche ist fehlgeschlagen."
        self.count.setText(message)

    # --- actions ----------------------------------------------------------------------------

    def _open_index(self, index) -> None:  # type: ignore[no-untyped-def]
        client_id = index.data(Qt.ItemDataRole.UserRole)
        if client_id:
            self._state.hub.client_opened.emit(client_id)

    def _open_first(self) -> None:
        """Enter in the search: open the first hit once the search has answered."""
        self._open_when_found = True
        self.apply_filter()

    def _open_first_row(self) -> None:
        if self.table.model().rowCount() > 0:
            self._open_index(self.table.model().index(0, 0))

    def _create(self, organisation: bool) -> None:
        dialog = ClientDialog(self._state, organisation=organisation, parent=self)
        if self.search.text().strip() and not organisation:
            dialog.prefill_name(self.search.text())
        open_dialog(dialog, self._open_created)

    def _open_created(self, dialog: ClientDialog) -> None:
        if dialog.created_id:
            self._state.hub.client_opened.emit(dialog.created_id)
