"""Erkenntnis festhalten: the standard form of a Versorgungslücke or defizitäre Schnittstelle,
from the register, a case, a contact or a Fallbesprechung. It holds no personal data."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from kimdesk.casework.coordination import findings
from kimdesk.casework.coordination.findings import FindingInput, FindingRow
from kimdesk.casework.coordination.reconstructions import theme_rows
from kimdesk.errors import KimdeskError
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, save_cancel_buttons, set_tab_order
from kimdesk.ui.state import AppState

_THEME_CHARS = 90


def _short(text: str, limit: int = _THEME_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FindingDialog(QDialog):
    """New Erkenntnis (``finding`` None) or a correction of one.

    ``source`` is where it came from: ``team_meeting`` (the register), ``case`` (with
    ``case_id``), ``contact`` (with ``contact_id``) or ``review`` (with ``review_id``). From a
    case, contact or review the description is checked against that case's people when saved.
    ``municipality`` proposes the Kommune (the case's). Saves through casework itself.
    """

    def __init__(self, state: AppState, *, finding: FindingRow | None = None,
                 source: str = "team_meeting", case_id: str | None = None,
                 contact_id: str | None = None, review_id: str | None = None,
                 municipality: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._finding = finding
        self._source = finding.source if finding else source
        self._case_id = case_id
        self._contact_id = contact_id
        self._review_id = review_id
        self.saved_id: str | None = None
        ref = state.reference
        self.setWindowTitle("Erkenntnis bearbeiten" if finding else "Erkenntnis festhalten")
        self.setMinimumWidth(620)

        self.noted_on = DateField(state.today, self)
        self.noted_on.setObjectName("noted_on")
        self.source_label = QLabel(ref.label("finding_sources", self._source),
                                   objectName="source")
        self.life_area = CodeCombo(((t.code, t.label) for t in ref.terms("life_areas")),
                                   empty="– bitte wählen –", parent=self)
        self.life_area.setObjectName("life_area")
        self.barrier = CodeCombo(((t.code, t.label) for t in ref.terms("barrier_kinds")),
                                 empty="– bitte wählen –", parent=self)
        self.barrier.setObjectName("barrier")
        self.institution_type = CodeCombo(
            ((t.code, t.label) for t in ref.terms("institution_types")),
            empty="keine bestimmte Stelle", parent=self)
        self.institution_type.setObjectName("institution_type")
        self.municipality = CodeCombo(((m.code, m.name) for m in ref.municipalities),
                                      empty="kreisweit", parent=self)
        self.municipality.setObjectName("municipality")
        self.theme = CodeCombo(((t.id, _short(t.statement)) for t in theme_rows(state.ctx)),
                               empty="kein generatives Thema", parent=self)
        self.theme.setObjectName("theme")
        self.description = QPlainTextEdit(objectName="description")
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText(
            "Was fehlt oder hakt, bei welcher Stelle, für wen (als Gruppe beschrieben)?")
        self.description.setMinimumHeight(140)
        privacy = QLabel("Eine Erkenntnis ist strukturell und nie über eine Person: keine "
                         "Namen, Geburtsdaten, Adressen, Telefon- oder Aktennummern.",
                         objectName="privacy_note")
        privacy.setWordWrap(True)
        privacy.setStyleSheet("color: #5d4037;")

        if finding is not None:
            self.noted_on.set_value(finding.noted_on)
            self.life_area.set_code(finding.life_area)
            self.barrier.set_code(finding.barrier)
            self.institution_type.set_code(finding.institution_type or None)
            self.municipality.set_code(finding.municipality or None)
            self.theme.set_code(finding.theme_id)
            self.description.setPlainText(finding.description)
        else:
            self.noted_on.set_value(state.today())
            self.municipality.set_code(municipality or None)

        form = QFormLayout()
        form.addRow("Festgehalten am", self.noted_on)
        form.addRow("Quelle", self.source_label)
        form.addRow("Lebensbereich*", self.life_area)
        form.addRow("Art der Barriere*", self.barrier)
        form.addRow("Institutionsart", self.institution_type)
        form.addRow("Kommune", self.municipality)
        form.addRow("Generatives Thema", self.theme)
        form.addRow("Beschreibung*", self.description)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "noted_on": self.noted_on, "life_area": self.life_area, "barrier": self.barrier,
            "institution_type": self.institution_type, "municipality": self.municipality,
            "description": self.description, "theme_id": self.theme})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(privacy)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        set_tab_order(self.noted_on, self.life_area, self.barrier, self.institution_type,
                      self.municipality, self.theme, self.description, buttons)
        self.life_area.setFocus()

    def save(self) -> None:
        self.errors.clear()
        # The form asks for the two required choices itself; the use case would only say
        # that an empty code is not valid.
        for combo, field, text in ((self.life_area, "life_area", "den Lebensbereich"),
                                   (self.barrier, "barrier", "die Art der Barriere")):
            if combo.code() is None:
                self.errors.show(f"Bitte {text} wählen.", field)
                return
        try:
            data = FindingInput(
                life_area=self.life_area.code() or "", barrier=self.barrier.code() or "",
                description=self.description.toPlainText().strip(), source=self._source,
                institution_type=self.institution_type.code() or "",
                municipality=self.municipality.code() or "",
                noted_on=self.noted_on.checked_value("noted_on"), theme_id=self.theme.code())
            if self._finding is None:
                saved = findings.record_finding(
                    self._state.ctx, data, case_id=self._case_id, contact_id=self._contact_id,
                    review_id=self._review_id)
            else:
                saved = findings.update_finding(self._state.ctx, self._finding.id, data,
                                                case_id=self._case_id)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()
