"""Intake (Klärungsphase): Anliegen, Zugangsweg, does case management fit, Art. 13 DSGVO.

Also the people the case works with: further household members join the case here (each gets
an own Assessment and Zielvereinbarung).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import cases
from kimdesk.casework.case_views import CaseDetail
from kimdesk.errors import ValidationError
from kimdesk.models.enums import Phase
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, format_date
from kimdesk.ui.flow_layout import ColumnsLayout
from kimdesk.ui.phases.base import (
    InputSnapshot,
    PhaseForm,
    action_row,
    buddy,
    column,
    error_label,
    plain_text,
    refill,
)
from kimdesk.ui.state import AppState


class IntakeForm(PhaseForm):
    phase = Phase.INTAKE

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        ref = state.reference
        self.concern = plain_text("intake_concern", 90,
                                  "Worum geht es? Fragen und Themen aus dem Erstgespräch")
        self.access_route = CodeCombo(((t.code, t.label) for t in ref.terms("access_routes")),
                                      empty="– bitte wählen –", parent=self)
        self.access_route.setObjectName("intake_access_route")
        self.cm_yes = QRadioButton("ja, Case Management ist angezeigt", objectName="intake_cm_yes")
        self.cm_no = QRadioButton("nein, Case Management passt nicht", objectName="intake_cm_no")
        self._cm_group = QButtonGroup(self)
        self._cm_group.addButton(self.cm_yes)
        self._cm_group.addButton(self.cm_no)
        self.cm_hint = QLabel(objectName="intake_cm_hint")
        self.cm_hint.setWordWrap(True)
        self.cm_hint.setStyleSheet("color: #735b00;")
        self.art13_on = DateField(state.today, self)
        self.art13_on.setObjectName("intake_art13_on")
        self.art13_on.setToolTip("Datum, an dem die Information nach Art. 13 DSGVO gegeben "
                                 "wurde („heute“ oder TT.MM.JJJJ)")
        self.save_button = QPushButton("Intake speichern", objectName="intake_save")
        self.errors_label = error_label("intake_errors")
        self.errors = FieldErrors(self.errors_label, {
            "concern": self.concern, "access_route": self.access_route,
            "cm_indicated": self.cm_yes, "art13_informed_on": self.art13_on,
        })

        cm_choice = QVBoxLayout()
        cm_choice.setSpacing(2)
        cm_choice.addWidget(self.cm_yes)
        cm_choice.addWidget(self.cm_no)
        editor = QGroupBox("Klärung")
        form = QFormLayout(editor)
        form.addRow("&Anliegen", self.concern)
        form.addRow("&Zugangsweg", self.access_route)
        form.addRow(buddy("Passt &Case\nManagement?", self.cm_yes), cm_choice)
        form.addRow("", self.cm_hint)
        form.addRow("Information nach\nArt. 13 DSGVO &am", self.art13_on)
        form.addRow(action_row(self.errors_label, self.save_button))

        self.people_label = QLabel(objectName="intake_people")
        self.people_label.setWordWrap(True)
        self.participant = CodeCombo([], parent=self)
        self.participant.setObjectName("intake_participant")
        self.add_participant_button = QPushButton("In den Fall aufnehmen",
                                                  objectName="intake_add_participant")
        self.participant_hint = QLabel(objectName="intake_participant_hint")
        self.participant_hint.setWordWrap(True)
        self.participant_hint.setStyleSheet("color: #555;")
        self.participant_errors_label = error_label("intake_participant_errors")
        self.participant_errors = FieldErrors(self.participant_errors_label,
                                              {"client_id": self.participant})
        people = QGroupBox("Beteiligte Personen und Einwilligungen")
        people_layout = QVBoxLayout(people)
        people_layout.addWidget(self.people_label)
        people_layout.addWidget(buddy("Weitere Person aus dem &Haushalt:", self.participant))
        add_row = QHBoxLayout()
        add_row.addWidget(self.participant, 1)
        add_row.addWidget(self.add_participant_button)
        people_layout.addLayout(add_row)
        people_layout.addWidget(self.participant_hint)
        people_layout.addWidget(self.participant_errors_label)
        self.people_box = people

        layout = ColumnsLayout(self)  # one under the other where the window is narrow
        layout.addLayout(column(editor), 3)
        layout.addLayout(column(people), 2)
        self._editors = [editor, people]
        self._snapshot = InputSnapshot([self.concern, self.access_route, self.cm_yes,
                                        self.cm_no, self.art13_on])

        self.save_button.clicked.connect(self.save)
        self.add_participant_button.clicked.connect(self.add_participant)
        self.cm_no.toggled.connect(self._cm_toggled)

    # --- loading ----------------------------------------------------------------------------

    def _load(self, detail: CaseDetail, reset: bool) -> None:
        if reset or not self._snapshot.is_dirty():
            self.concern.setPlainText(detail.concern)
            self.access_route.set_code(detail.access_route or None)
            self._cm_group.setExclusive(False)  # lets both be unchecked for "not decided yet"
            self.cm_yes.setChecked(detail.cm_indicated is True)
            self.cm_no.setChecked(detail.cm_indicated is False)
            self._cm_group.setExclusive(True)
            self.art13_on.set_value(detail.art13_informed_on)
            self._snapshot.mark_clean()
            self.errors.clear()
        lines = []
        for number, person in enumerate(detail.people):
            role = "Ratsuchende:r" if number == 0 else "beteiligt"
            consent = (f"Einwilligung vom {format_date(person.consent_since)}"
                       if person.consent_since else "keine gültige Einwilligung")
            lines.append(f"• <b>{_escape(person.name)}</b> ({role}) – {consent}")
        self.people_label.setText("<br>".join(lines))
        refill(self.participant, ((p.name, p.id) for p in detail.household_candidates))
        has_candidates = bool(detail.household_candidates)
        self.participant.setEnabled(has_candidates)
        self.add_participant_button.setEnabled(has_candidates)
        self.participant_hint.setText(
            "" if has_candidates else
            "Keine weiteren Personen im Haushalt. Haushaltsmitglieder werden in der Akte "
            "zugeordnet.")
        self._cm_toggled(self.cm_no.isChecked())

    def has_unsaved_changes(self) -> bool:
        return self._snapshot.is_dirty()

    def _cm_toggled(self, no: bool) -> None:
        self.cm_hint.setText(
            "Dann geht es nicht ins Assessment: den Fall abschließen (z. B. Übergabe an eine "
            "andere Stelle) und die Person dorthin vermitteln." if no else "")
        self.cm_hint.setVisible(no)

    # --- actions ----------------------------------------------------------------------------

    def save(self) -> None:
        detail = self._detail
        if detail is None:
            return

        def action() -> object:
            if not (self.cm_yes.isChecked() or self.cm_no.isChecked()):
                raise ValidationError("Bitte festhalten, ob Case Management passt (ja oder nein).",
                                      "cm_indicated")
            return cases.record_intake(
                self._state.ctx, detail.id, concern=self.concern.toPlainText(),
                access_route=self.access_route.code() or "",
                cm_indicated=self.cm_yes.isChecked(),
                art13_informed_on=self.art13_on.checked_value("art13_informed_on"))

        self.act(self.errors, action, message="Intake gespeichert.",
                 on_success=lambda _case: self._snapshot.mark_clean())

    def add_participant(self) -> None:
        detail = self._detail
        client_id = self.participant.code()
        if detail is None or client_id is None:
            return
        self.act(self.participant_errors,
                 lambda: cases.add_participant(self._state.ctx, detail.id, client_id),
                 message="Person in den Fall aufgenommen.")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
