"""Fallbesprechungen: the list, preparing one from an own case, the meeting view on the
projector, the result (advice and next steps) and findings taken from a review."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from kimdesk.casework import caseload
from kimdesk.casework.caseload import OwnCase
from kimdesk.casework.context import Context
from kimdesk.casework.coordination import reviews
from kimdesk.casework.coordination.reviews import ReviewRow
from kimdesk.errors import KimdeskError
from kimdesk.models.enums import CaseKind
from kimdesk.ui import hub as areas
from kimdesk.ui.coordination.finding_dialog import FindingDialog
from kimdesk.ui.coordination.meeting_view import MeetingView, OutcomeDialog
from kimdesk.ui.coordination.review_dialog import ReviewDialog
from kimdesk.ui.fields import CodeCombo, format_date, save_cancel_buttons
from kimdesk.ui.operations import run_in_background
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

_RELOAD_ON = (areas.COORDINATION, areas.CASES)


def own_open_cases(ctx: Context) -> list[OwnCase]:
    """The open cases the user is responsible for, by client name. The picker is the
    presenter's own view of her case load, so it shows names; nothing of it goes further."""
    return caseload.open_cases_of(ctx, ctx.user)


class CasePickerDialog(QDialog):
    """Choose one of the own open cases; ``chosen_id`` is set on accept."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chosen_id: str | None = None
        self.setWindowTitle("Fall für die Fallbesprechung wählen")
        self.resize(760, 480)
        ref = state.reference
        self.filter = QLineEdit(objectName="case_filter")
        self.filter.setPlaceholderText("Nach Name filtern …")
        self.model: RowTableModel[OwnCase] = RowTableModel([
            Column("Ratsuchende", lambda r: r.client_name, stretch=True),
            Column("Fallart", lambda r: CaseKind(r.kind).label),
            Column("Phase", lambda r: ref.label("phases", r.phase) if r.phase else "–"),
            Column("eröffnet", lambda r: format_date(r.opened_on)),
        ], self)
        self.loaded = False
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView(objectName="case_choices")
        self.table.setModel(self.proxy)
        _configure(self.table)
        self.table.setAccessibleName("Eigene offene Fälle")
        self.table.setTabKeyNavigation(False)  # Tab goes on to the buttons; arrows choose
        self.empty = QLabel("Die eigenen Fälle werden geladen …", objectName="no_cases")
        self.errors_label = QLabel(objectName="errors")
        self.errors_label.setStyleSheet("color: #b71c1c; font-weight: bold;")
        buttons = save_cancel_buttons(self, "Weiter …", self._choose, saves=False)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Einen eigenen offenen Fall wählen. In der Koordination "
                                "erscheint er nur pseudonymisiert."))
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table.doubleClicked.connect(lambda _index: self._choose())
        # Reading every client's cases takes a moment in a large vault: off the GUI thread.
        # The operation belongs to the opener, which outlives the dialog: a dialog cancelled
        # (and deleted) before the read finished must not delete an operation the pool runs.
        ctx = state.ctx
        self._operation = run_in_background(parent if parent is not None else self,
                                            lambda: own_open_cases(ctx), self._loaded,
                                            self._failed)

    def _loaded(self, rows: list[OwnCase]) -> None:
        if not isValid(self):
            return  # cancelled and deleted meanwhile
        self.model.set_rows(rows)
        self.loaded = True
        self.empty.setText("Sie haben keine offenen Fälle.")
        self.empty.setVisible(not rows)
        if self.proxy.rowCount():
            self.table.selectRow(0)
        self.filter.setFocus()

    def _failed(self, error: Exception) -> None:
        if not isValid(self):
            return
        self.loaded = True
        self.empty.setText(error.message if isinstance(error, KimdeskError)
                           else "Die Fälle konnten nicht geladen werden.")

    def choose(self, case_id: str) -> None:
        """Select the row of ``case_id`` (tests and keyboard users)."""
        for row in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(row, 0))
            if self.model.row_at(source.row()).id == case_id:
                self.table.selectRow(row)
                return
        raise KeyError(case_id)

    def _choose(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.errors_label.setText("Bitte einen Fall wählen.")
            return
        self.chosen_id = self.model.row_at(self.proxy.mapToSource(rows[0]).row()).id
        self.accept()


class ReviewsTab(QWidget):
    """The list of Fallbesprechungen with its actions (the Koordination screen embeds it)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._dialog: QDialog | None = None
        self.meeting_view: MeetingView | None = None
        ref = state.reference
        self.team = CodeCombo(((t.code, t.name) for t in ref.teams), empty="Alle Teams",
                              parent=self)
        self.team.setObjectName("review_team")
        self.model: RowTableModel[ReviewRow] = RowTableModel([
            Column("Datum", lambda r: format_date(r.held_on) or "offen"),
            Column("Fallbesprechung", lambda r: r.title, stretch=True),
            Column("Team", lambda r: _team_name(state, r.team)),
            Column("vorgestellt von", lambda r: r.presenter),
            Column("Stand", lambda r: "durchgeführt" if r.held else "vorbereitet"),
            Column("Schlagworte", lambda r: ", ".join(r.tags)),
        ], self)
        self.table = QTableView(objectName="review_table")
        self.table.setModel(self.model)
        _configure(self.table)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(5, 320)
        self.empty = QLabel("Noch keine Fallbesprechungen. „Fallbesprechung vorbereiten …“ "
                            "wählt einen eigenen Fall.", objectName="reviews_empty")
        self.empty.setWordWrap(True)
        self.message = QLabel(objectName="reviews_message")
        self.message.setWordWrap(True)
        self.message.hide()

        self.prepare_button = QPushButton("Fallbesprechung vorbereiten …",
                                          objectName="prepare_review")
        self.edit_button = QPushButton("Bearbeiten …", objectName="edit_review")
        self.meeting_button = QPushButton("Besprechung zeigen (Vollbild)",
                                          objectName="start_meeting")
        self.meeting_button.setToolTip("Die pseudonymisierte Fallbesprechung im Vollbild für "
                                       "den Beamer; Esc beendet.")
        self.outcome_button = QPushButton("Ergebnis festhalten …", objectName="record_outcome")
        self.finding_button = QPushButton("Erkenntnis festhalten …",
                                          objectName="finding_from_review")
        self.delete_button = QPushButton("Löschen", objectName="delete_review")

        top = QHBoxLayout()
        top.addWidget(QLabel("Team"))
        top.addWidget(self.team)
        top.addStretch(1)
        top.addWidget(self.prepare_button)
        actions = QHBoxLayout()
        for button in (self.meeting_button, self.outcome_button, self.finding_button,
                       self.edit_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(actions)

        self.team.currentIndexChanged.connect(self.reload)
        self.prepare_button.clicked.connect(self.prepare)
        self.edit_button.clicked.connect(self.edit)
        self.meeting_button.clicked.connect(self.start_meeting)
        self.outcome_button.clicked.connect(self.record_outcome)
        self.finding_button.clicked.connect(self.record_finding)
        self.delete_button.clicked.connect(self.delete)
        self.table.doubleClicked.connect(lambda _index: self.start_meeting())
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._reloader = ReloadWhenShown(self, state, self.reload, areas=_RELOAD_ON)
        self._update_buttons()

    def has_unsaved_changes(self) -> bool:
        """A result typed in the open meeting view but not saved yet."""
        view = self.meeting_view
        return view is not None and view.panel.has_unsaved_changes()

    # --- loading ----------------------------------------------------------------------------

    def reload(self) -> None:
        if not self._state.unlocked:
            return
        self._reloader.stale = False
        selected = self.selected()
        self.model.set_rows(reviews.review_rows(self._state.ctx, team=self.team.code()))
        self.empty.setVisible(self.model.rowCount() == 0)
        if selected is not None:
            self.select(selected.id)
        self._update_buttons()

    def selected(self) -> ReviewRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, review_id: str) -> None:
        for row, review in enumerate(self.model.rows()):
            if review.id == review_id:
                self.table.selectRow(row)
                return

    def _update_buttons(self) -> None:
        review = self.selected()
        for button in (self.meeting_button, self.outcome_button, self.finding_button):
            button.setEnabled(review is not None)
        for button in (self.edit_button, self.delete_button):
            button.setEnabled(review is not None and not review.held)

    def _show_message(self, text: str, error: bool = True) -> None:
        self.message.setStyleSheet("color: #b71c1c; font-weight: bold;" if error
                                   else "color: #1b5e20;")
        self.message.setText(text)
        self.message.show()

    # --- dialogs ----------------------------------------------------------------------------

    @property
    def dialog(self) -> QDialog | None:
        """The dialog this tab has open, if any."""
        return self._dialog

    def _open(self, dialog: QDialog, on_accepted: Callable[[], None]) -> None:
        # open(), not exec(): an auto-lock hides dialogs and shows them again after unlock,
        # which would end an exec() loop early.
        self.message.hide()
        self._dialog = dialog

        def finished(result: int) -> None:
            self._dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted and self._state.unlocked:
                on_accepted()

        dialog.finished.connect(finished)
        dialog.open()

    def prepare(self) -> None:
        """Fallbesprechung vorbereiten: choose an own case, then fill the schema."""
        if self._dialog is not None or not self._state.unlocked:
            return
        picker = CasePickerDialog(self._state, self)
        self._open(picker, lambda: self._prepare_for(picker.chosen_id))

    def _prepare_for(self, case_id: str | None) -> None:
        if case_id is None:
            return
        self.prepare_case(case_id)

    def prepare_case(self, case_id: str) -> None:
        """The preparation form for ``case_id`` (also reachable from elsewhere)."""
        try:
            dialog = ReviewDialog(self._state, case_id=case_id, parent=self)
        except KimdeskError as exc:
            self._show_message(exc.message)
            return
        self._open(dialog, lambda: self._saved(dialog.saved_id, "Fallbesprechung vorbereitet."))

    def edit(self) -> None:
        review = self.selected()
        if review is None or review.held or self._dialog is not None:
            return
        try:
            dialog = ReviewDialog(self._state, review_id=review.id, parent=self)
        except KimdeskError as exc:
            self._show_message(exc.message)
            return
        self._open(dialog, lambda: self._saved(dialog.saved_id, "Fallbesprechung gespeichert."))

    def _saved(self, review_id: str | None, text: str) -> None:
        self._state.hub.status_message.emit(text)
        if review_id:
            self.select(review_id)

    def record_outcome(self) -> None:
        """Ergebnis festhalten after the meeting (the meeting view has the same panel)."""
        review = self.selected()
        if review is None or self._dialog is not None:
            return
        try:
            dialog = OutcomeDialog(self._state, review.id, self)
        except KimdeskError as exc:
            self._show_message(exc.message)
            return
        self._open(dialog, self.reload)

    def record_finding(self) -> None:
        """An Erkenntnis that came up in the selected Fallbesprechung."""
        review = self.selected()
        if review is None or self._dialog is not None:
            return
        dialog = FindingDialog(self._state, source="review", review_id=review.id, parent=self)

        def accepted() -> None:
            self._state.hub.status_message.emit("Erkenntnis gespeichert.")

        self._open(dialog, accepted)

    def delete(self) -> None:
        review = self.selected()
        if review is None or review.held:
            return
        answer = QMessageBox.question(
            self, "Fallbesprechung löschen",
            "Die vorbereitete Fallbesprechung löschen? Das lässt sich nicht rückgängig machen.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            reviews.delete_review(self._state.ctx, review.id)
        except KimdeskError as exc:
            self._show_message(exc.message)
            return

    # --- meeting ----------------------------------------------------------------------------

    def start_meeting(self) -> MeetingView | None:
        """Show the selected Fallbesprechung full screen (Esc leaves)."""
        review = self.selected()
        if review is None or not self._state.unlocked:
            return None
        if self.meeting_view is not None:
            self.meeting_view.close()
        try:
            view = MeetingView(self._state, review.id, self)
        except KimdeskError as exc:
            self._show_message(exc.message)
            return None
        self.meeting_view = view
        view.closed.connect(lambda: self._meeting_closed(view))
        view.start()
        return view

    def _meeting_closed(self, view: MeetingView) -> None:
        if self.meeting_view is view:
            self.meeting_view = None
        view.deleteLater()
        self.reload()


def _team_name(state: AppState, code: str) -> str:
    try:
        return state.reference.team(code).name
    except KeyError:
        return code


def _configure(table: QTableView) -> None:
    table.verticalHeader().hide()
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    model = table.model()
    source = model.sourceModel() if isinstance(model, QSortFilterProxyModel) else model
    if isinstance(source, RowTableModel):
        for column, definition in enumerate(source.columns):
            if definition.stretch:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
