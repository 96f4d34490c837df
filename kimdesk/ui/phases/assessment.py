"""Assessment (Einschätzung, Erhebung): per Handlungsfeld and person, situation to priority.

Choosing a person and a Handlungsfeld loads what was assessed before (saving updates it). Text
typed for one area is kept as a draft when another area is chosen, so switching loses nothing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import planning
from kimdesk.casework.case_views import AssessmentRow, CaseDetail
from kimdesk.models.enums import Phase
from kimdesk.ui.fields import CodeCombo, FieldErrors, format_date
from kimdesk.ui.flow_layout import ColumnsLayout
from kimdesk.ui.phases.base import (
    InputSnapshot,
    PhaseForm,
    action_row,
    buddy,
    configure_table,
    error_label,
    plain_text,
    set_people,
)
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

NEED_LABELS = {0: "0 – kein Bedarf", 1: "1 – gering", 2: "2 – mittel", 3: "3 – hoch"}
_Key = tuple[str | None, str | None]


class AssessmentForm(PhaseForm):
    phase = Phase.ASSESSMENT

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        ref = state.reference
        self._rows: dict[tuple[str, str], AssessmentRow] = {}
        self._drafts: dict[_Key, tuple[Any, ...]] = {}
        self._key: _Key | None = None

        self.person = CodeCombo([], parent=self)
        self.person.setObjectName("assessment_person")
        self.life_area = CodeCombo(((t.code, t.label) for t in ref.terms("life_areas")),
                                   parent=self)
        self.life_area.setObjectName("assessment_life_area")
        self.situation = plain_text("assessment_situation", 52, "Wie ist die Lage?")
        self.resources = plain_text("assessment_resources", 52, "Was gelingt, wer hilft?")
        self.problems = plain_text("assessment_problems", 52, "Was steht im Weg?")
        self.client_view = plain_text("assessment_client_view", 52,
                                      "Einschätzung, Wünsche und Erwartungen in eigenen Worten")
        self.need = CodeCombo(NEED_LABELS.items(), parent=self)
        self.need.setObjectName("assessment_need")
        self.priority = QSpinBox(objectName="assessment_priority")
        self.priority.setRange(0, 20)
        self.priority.setSpecialValueText("–")
        self.priority.setToolTip("1 = zuerst angehen; – = ohne Priorität")
        self.institutions = QLineEdit(objectName="assessment_institutions")
        self.institutions.setPlaceholderText("z. B. Jobcenter, Jugendamt, Schule")
        self.save_button = QPushButton("Assessment speichern", objectName="assessment_save")
        self.state_label = QLabel(objectName="assessment_state")
        self.state_label.setStyleSheet("color: #555;")
        self.errors_label = error_label("assessment_errors")
        self.errors = FieldErrors(self.errors_label, {
            "life_area": self.life_area, "need": self.need, "priority": self.priority,
            "client_id": self.person,
        })

        editor = QGroupBox("Einschätzung je Handlungsfeld")
        form = QFormLayout(editor)
        form.addRow("&Person", self.person)
        form.addRow("&Handlungsfeld", self.life_area)
        form.addRow("", self.state_label)
        form.addRow("&Situation", self.situation)
        form.addRow("&Ressourcen", self.resources)
        form.addRow("Pro&bleme", self.problems)
        form.addRow("Sicht der/des\nRatsuchenden", self.client_view)
        need_row = QHBoxLayout()
        need_row.addWidget(self.need)
        need_row.addSpacing(12)
        need_row.addWidget(buddy("Priori&tät", self.priority))
        need_row.addWidget(self.priority)
        need_row.addStretch(1)
        form.addRow(buddy("Be&darf", self.need), need_row)
        form.addRow("Beteiligte\n&Institutionen", self.institutions)
        form.addRow(action_row(self.errors_label, self.save_button))

        self.model: RowTableModel[AssessmentRow] = RowTableModel([
            Column("Person", lambda r: r.person_name),
            Column("Handlungsfeld", lambda r: ref.label("life_areas", r.life_area)),
            Column("Bedarf", lambda r: str(r.need)),
            Column("Prio.", lambda r: str(r.priority) if r.priority else "–"),
            Column("Stand", lambda r: format_date(r.assessed_on)),
            Column("Situation / Sicht der Person", lambda r: _one_line(
                r.situation + (f" – Sicht: {r.client_view}" if r.client_view else ""))),
        ], self)
        self.table = QTableView(objectName="assessment_table")
        self.table.setModel(self.model)
        configure_table(self.table, stretch=(1, 5), fit=(2, 3, 4), widths={0: 130})
        overview = QGroupBox("Erhobene Handlungsfelder")
        overview_layout = QVBoxLayout(overview)
        hint = QLabel("Eine Zeile wählen, um die Einschätzung zu öffnen und zu ergänzen.")
        hint.setStyleSheet("color: #555;")
        hint.setWordWrap(True)
        overview_layout.addWidget(hint)
        overview_layout.addWidget(self.table)

        layout = ColumnsLayout(self)  # one under the other where the window is narrow
        editor_column = QVBoxLayout()
        editor_column.addWidget(editor)
        editor_column.addStretch(1)
        layout.addLayout(editor_column, 5)
        layout.addWidget(overview, 6)
        self._editors = [editor]
        self._value_widgets: list[QWidget] = [
            self.situation, self.resources, self.problems, self.client_view, self.need,
            self.priority, self.institutions]
        self._snapshot = InputSnapshot(self._value_widgets)

        self.save_button.clicked.connect(self.save)
        self.person.currentIndexChanged.connect(self._selection_changed)
        self.life_area.currentIndexChanged.connect(self._selection_changed)
        self.table.clicked.connect(self._row_clicked)

    # --- loading ----------------------------------------------------------------------------

    def _load(self, detail: CaseDetail, reset: bool) -> None:
        if reset:
            self._drafts.clear()
            self._key = None
            self.errors.clear()
        self._rows = {(r.client_id, r.life_area): r for r in detail.assessments}
        order = {p.id: n for n, p in enumerate(detail.people)}
        self.model.set_rows(sorted(
            detail.assessments,
            key=lambda r: (order.get(r.client_id, 99), r.priority or 99, r.life_area)))
        set_people(self.person, detail.people)
        if self._current_key() != self._key:
            self._selection_changed()
        elif not self._snapshot.is_dirty():
            self._show(self._current_key())  # shows what was saved, e.g. by another device

    def has_unsaved_changes(self) -> bool:
        return bool(self._drafts) or self._snapshot.is_dirty()

    def _current_key(self) -> _Key:
        return self.person.code(), self.life_area.code()

    def _selection_changed(self) -> None:
        if self._key is not None and self._snapshot.is_dirty():
            self._drafts[self._key] = self._snapshot.values()
        self._show(self._current_key())

    def _show(self, key: _Key) -> None:
        """Put the saved assessment of ``key`` (or a draft typed before) into the editor."""
        self._key = key
        row = self._rows.get(key)  # type: ignore[arg-type]
        if row is None:
            saved: tuple[Any, ...] = ("", "", "", "", 0, 0, "")
            self.state_label.setText("Noch nicht erhoben.")
        else:
            saved = (row.situation, row.resources, row.problems, row.client_view, row.need,
                     row.priority or 0, row.institutions)
            self.state_label.setText(f"Erhoben am {format_date(row.assessed_on)}; "
                                     "Speichern aktualisiert die Einschätzung.")
        self._set_values(saved)
        self._snapshot.mark_clean()
        draft = self._drafts.pop(key, None)
        if draft is not None:
            self._set_values(draft)
        rows = self.model.rows()
        number = next((n for n, r in enumerate(rows) if (r.client_id, r.life_area) == key), None)
        if number is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(number)

    def _set_values(self, values: tuple[Any, ...]) -> None:
        for widget, value in zip(self._value_widgets, values, strict=True):
            if isinstance(widget, QPlainTextEdit):
                widget.setPlainText(value)
            elif isinstance(widget, QLineEdit):
                widget.setText(value)
            elif isinstance(widget, QSpinBox):
                widget.setValue(value)
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findData(value), 0))

    def _row_clicked(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        self.select(row.client_id, row.life_area)

    def select(self, client_id: str, life_area: str) -> None:
        """Open the assessment of this person and Handlungsfeld in the editor."""
        for combo in (self.person, self.life_area):
            combo.blockSignals(True)
        self.person.set_code(client_id)
        self.life_area.set_code(life_area)
        for combo in (self.person, self.life_area):
            combo.blockSignals(False)
        self._selection_changed()

    # --- actions ----------------------------------------------------------------------------

    def save(self) -> None:
        detail = self._detail
        client_id, life_area = self._current_key()
        if detail is None or client_id is None:
            return
        data = planning.AssessmentInput(
            life_area=life_area or "",
            situation=self.situation.toPlainText().strip(),
            resources=self.resources.toPlainText().strip(),
            problems=self.problems.toPlainText().strip(),
            client_view=self.client_view.toPlainText().strip(),
            need=self.need.code() or 0,
            priority=self.priority.value() or None,
            institutions=self.institutions.text().strip(),
        )
        self.act(self.errors,
                 lambda: planning.save_assessment(self._state.ctx, detail.id, client_id, data),
                 message="Assessment gespeichert.",
                 on_success=lambda _row: self._snapshot.mark_clean())


def _one_line(text: str) -> str:
    return " ".join(text.split())
