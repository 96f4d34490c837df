"""Fall an ein anderes Team übergeben: the client moved (e.g. from Kleve to Goch), her file goes
to the team responsible there. The dialog says at once whether a consent covers passing the
file within the KIM, and what is needed if not; the case manager confirms that the file leaves
this team once the other team has taken it over. The next sync carries it out
(kimdesk/sync/transfer.py)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import transfer
from kimdesk.casework.case_views import CaseDetail
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.ui.fields import FieldErrors, save_cancel_buttons, save_on_ctrl_enter, set_tab_order
from kimdesk.ui.state import AppState


class TeamTransferDialog(QDialog):
    def __init__(self, state: AppState, detail: CaseDetail,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._case_id = detail.id
        self.setWindowTitle("Fall an ein anderes Team übergeben")
        self.setMinimumWidth(520)
        intro = QLabel(f"Die Akte von {detail.client_name} geht mit allen Fällen, dem Verlauf, "
                       "den Dokumenten und den Einwilligungen an das Team, das am neuen Wohnort "
                       "zuständig ist.", objectName="team_transfer_intro")
        intro.setWordWrap(True)
        self.to_team = QComboBox(objectName="team_transfer_team")
        for code, name in transfer.receiving_teams(state.ctx):
            self.to_team.addItem(name, code)
        self.to_team.setCurrentIndex(-1)
        self.municipality = QComboBox(objectName="team_transfer_municipality")
        self.consent = QLabel(objectName="team_transfer_consent")
        self.consent.setWordWrap(True)
        self.confirm = QCheckBox("Nach der Bestätigung durch das andere Team wird die Akte in "
                                 "diesem Team gelöscht; hier bleibt nur der Vermerk der "
                                 "Übergabe.", objectName="team_transfer_confirm")
        form = QFormLayout()
        form.addRow("", intro)
        form.addRow("An &Team", self.to_team)
        form.addRow("Neue &Kommune", self.municipality)
        form.addRow("Einwilligung", self.consent)
        form.addRow("", self.confirm)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "to_team": self.to_team, "municipality": self.municipality,
            "consent": self.to_team, "confirm": self.confirm})
        buttons = save_cancel_buttons(self, "Fall übergeben", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        set_tab_order(self.to_team, self.municipality, self.confirm)
        save_on_ctrl_enter(self, self.save)
        self.to_team.currentIndexChanged.connect(self._team_chosen)
        self._team_chosen()
        self.to_team.setFocus()

    def _team_chosen(self) -> None:
        code = self.to_team.currentData()
        self.municipality.clear()
        if not code:
            self.consent.setText("Bitte zuerst das Team wählen.")
            return
        for municipality, name in transfer.municipalities_of(self._state.ctx, code):
            self.municipality.addItem(name, municipality)
        self.municipality.setCurrentIndex(-1)
        problem = transfer.consent_message(self._state.ctx, self._case_id, code)
        self.consent.setText(problem or "Eine gültige Einwilligung deckt die Weitergabe "
                                        "innerhalb des KIM ab.")

    def save(self) -> None:
        self.errors.clear()
        try:
            code = self.to_team.currentData()
            if not code:
                raise ValidationError("Bitte das Team wählen, das den Fall übernimmt.",
                                      "to_team")
            municipality = self.municipality.currentData()
            if not municipality:
                raise ValidationError("Bitte die Kommune wählen, in die die Person gezogen "
                                      "ist.", "municipality")
            transfer.check_transfer(self._state.ctx, self._case_id, code, municipality)
            if not self.confirm.isChecked():
                raise ValidationError("Bitte bestätigen, dass die Akte nach der Übergabe in "
                                      "diesem Team gelöscht wird.", "confirm")
            transfer.request_transfer(self._state.ctx, self._case_id, code, municipality)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()
