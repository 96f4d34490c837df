"""Evaluation (Auswertung): Zielerreichung per goal, then closing the case with its reason and
the Abschlussgespräch (the closing dialog of the screen, with a reason proposed from the goals)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import planning
from kimdesk.casework.case_views import CaseDetail, GoalRow
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models.enums import Phase
from kimdesk.ui.fields import CodeCombo, FieldErrors, format_date
from kimdesk.ui.flow_layout import ColumnsLayout
from kimdesk.ui.phases.base import PhaseForm, action_row, error_label
from kimdesk.ui.state import AppState


def proposed_closing_reason(goals: tuple[GoalRow, ...]) -> str | None:
    """The closing reason the evaluated goals suggest, or None when they suggest none."""
    rated = [g.attainment for g in goals if g.attainment and g.attainment != "not_assessable"]
    if not rated:
        return None
    if all(a == "full" for a in rated):
        return "goals_achieved"
    if any(a in ("full", "partial") for a in rated):
        return "goals_partly_achieved"
    return None


class EvaluationForm(PhaseForm):
    phase = Phase.EVALUATION
    close_requested = Signal(str)  # proposed closing reason ("" for none)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.attainment_combos: dict[str, CodeCombo] = {}
        self._goals: tuple[GoalRow, ...] = ()

        self.goals_widget = QWidget(objectName="evaluation_goals")
        self.grid = QGridLayout(self.goals_widget)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(12)
        self.grid.setColumnStretch(1, 1)
        self.empty_label = QLabel("Im Fall sind keine Ziele vereinbart.",
                                  objectName="evaluation_no_goals")
        self.save_button = QPushButton("Zielerreichung speichern", objectName="evaluation_save")
        self.errors_label = error_label("evaluation_errors")
        self.errors = FieldErrors(self.errors_label, {})
        goals_box = QGroupBox("Zielerreichung je Ziel")
        goals_layout = QVBoxLayout(goals_box)
        goals_layout.addWidget(self.goals_widget)
        goals_layout.addWidget(self.empty_label)
        goals_layout.addLayout(action_row(self.errors_label, self.save_button))

        self.summary = QLabel(objectName="evaluation_summary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.close_button = QPushButton("Fall abschließen …", objectName="evaluation_close")
        closing_box = QGroupBox("Abschluss")
        closing_layout = QVBoxLayout(closing_box)
        closing_layout.addWidget(self.summary)
        hint = QLabel("Zum Abschluss werden der Abschlussgrund und das Abschlussgespräch "
                      "festgehalten; danach ist der Fall nicht mehr änderbar.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        closing_layout.addWidget(hint)
        close_row = QHBoxLayout()
        close_row.addStretch(1)
        close_row.addWidget(self.close_button)
        closing_layout.addLayout(close_row)

        layout = ColumnsLayout(self)  # one under the other where the window is narrow
        left = QVBoxLayout()
        left.addWidget(goals_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(closing_box)
        right.addStretch(1)
        layout.addLayout(left, 7)
        layout.addLayout(right, 4)
        self._editors = [self.goals_widget, self.save_button, self.close_button]

        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(
            lambda: self.close_requested.emit(proposed_closing_reason(self._goals) or ""))

    # --- loading ----------------------------------------------------------------------------

    def _load(self, detail: CaseDetail, reset: bool) -> None:
        pending = {} if reset else self.pending_attainments()
        if reset:
            self.errors.clear()
        self._goals = detail.goals
        self._rebuild(detail.goals, pending)
        self._update_summary(detail)

    def _rebuild(self, goals: tuple[GoalRow, ...], pending: dict[str, str]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # deleteLater() waits for the event loop; hide it right away
                widget.deleteLater()
        self.attainment_combos = {}
        ref = self._state.reference
        for column, title in enumerate(("Person", "Ziel", "Schritte", "Zielerreichung")):
            header = QLabel(f"<b>{title}</b>")
            self.grid.addWidget(header, 0, column)
        for number, goal in enumerate(goals, start=1):
            person = QLabel(goal.person_name)
            title = QLabel(goal.title)
            for label in (person, title):
                label.setTextFormat(Qt.TextFormat.PlainText)
            title.setWordWrap(True)
            title.setToolTip(goal.detail)
            done = sum(1 for s in goal.steps if s.done_on)
            steps = QLabel(f"{done} von {len(goal.steps)} erledigt")
            combo = CodeCombo(((t.code, t.label) for t in ref.terms("goal_attainment")),
                              empty="– noch nicht bewertet –", parent=self.goals_widget)
            combo.setObjectName(f"evaluation_attainment_{number}")
            combo.setProperty("goal_id", goal.id)
            combo.set_code(pending.get(goal.id, goal.attainment or None))
            if goal.evaluated_on:
                combo.setToolTip(f"bewertet am {format_date(goal.evaluated_on)}")
            self.attainment_combos[goal.id] = combo
            for column, widget in enumerate((person, title, steps, combo)):
                self.grid.addWidget(widget, number, column,
                                    Qt.AlignmentFlag.AlignVCenter)
        self.goals_widget.setVisible(bool(goals))
        self.empty_label.setVisible(not goals)

    def _update_summary(self, detail: CaseDetail) -> None:
        ref = self._state.reference
        if not detail.is_open:
            self.summary.setText(
                f"Abgeschlossen am {format_date(detail.closed_on)}: "
                f"{ref.label('closing_reasons', detail.closing_reason)}."
                + (f"\nAbschlussgespräch: {detail.closing_note}" if detail.closing_note else ""))
            return
        rated = [g for g in detail.goals if g.attainment]
        counts: dict[str, int] = {}
        for goal in rated:
            counts[goal.attainment] = counts.get(goal.attainment, 0) + 1
        parts = [f"{n} {ref.label('goal_attainment', code)}" for code, n in counts.items()]
        text = f"{len(rated)} von {len(detail.goals)} Zielen bewertet"
        self.summary.setText(text + (f" ({', '.join(parts)})." if parts else "."))

    def pending_attainments(self) -> dict[str, str]:
        """Choices made in the grid but not saved yet, by goal id."""
        saved = {g.id: g.attainment for g in self._goals}
        return {goal_id: combo.code() or "" for goal_id, combo in self.attainment_combos.items()
                if (combo.code() or "") != saved.get(goal_id, "")}

    def has_unsaved_changes(self) -> bool:
        return bool(self.pending_attainments())

    # --- actions ----------------------------------------------------------------------------

    def save(self) -> None:
        self.errors.clear()
        pending = self.pending_attainments()
        if not pending:
            self.errors.show("Keine neue Bewertung: bitte je Ziel die Zielerreichung wählen.")
            return
        saved = 0
        try:
            for goal_id, attainment in pending.items():
                if not attainment:
                    raise ValidationError(
                        "Eine Bewertung lässt sich nicht zurücknehmen; bitte „nicht bewertbar“ "
                        "wählen.", "attainment")
                planning.evaluate_goal(self._state.ctx, goal_id, attainment)
                saved += 1
        except KimdeskError as exc:
            self.errors.show(exc.message)
        if saved:
            self._state.hub.status_message.emit("Zielerreichung gespeichert.")
