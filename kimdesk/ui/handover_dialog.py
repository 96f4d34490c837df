"""Fall übergeben: another case manager of the team takes over the case, with the reason. The
handover is kept in the case's history and synced; the team's Vertretung is unchanged."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import handover
from kimdesk.casework.case_views import CaseDetail
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.ui.fields import (
    DateField,
    FieldErrors,
    save_cancel_buttons,
    save_on_ctrl_enter,
    set_tab_order,
)
from kimdesk.ui.state import AppState


class HandoverDialog(QDialog):
    def __init__(self, state: AppState, detail: CaseDetail,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._case_id = detail.id
        self.setWindowTitle("Fall übergeben")
        self.setMinimumWidth(480)
        current = QLabel(f"Zuständig: {detail.case_manager}", objectName="handover_current")
        self.to_manager = QComboBox(objectName="handover_to")
        self.to_manager.setEditable(True)  # a new colleague not yet known on this device
        self.to_manager.addItems([name for name in handover.known_case_managers(state.ctx)
                                  if name != detail.case_manager])
        self.to_manager.setCurrentIndex(-1)
        self.to_manager.lineEdit().setPlaceholderText("Name der Kollegin / des Kollegen")
        self.on = DateField(state.today, self)
        self.on.setObjectName("handover_on")
        self.on.set_value(state.today())
        self.reason = QPlainTextEdit(objectName="handover_reason")
        self.reason.setTabChangesFocus(True)
        self.reason.setMaximumHeight(80)
        self.reason.setPlaceholderText("z. B. Umzug nach Goch, Wechsel der Kollegin")
        form = QFormLayout()
        form.addRow("", current)
        form.addRow("Ü&bernimmt", self.to_manager)
        form.addRow("&Datum", self.on)
        form.addRow("&Grund", self.reason)
        hint = QLabel("Die Übergabe steht im Verlauf des Falls; Fallzahl und Heute gehen auf die "
                      "neue Case Managerin / den neuen Case Manager über. Die Vertretung im "
                      "Team bleibt wie bisher.", objectName="handover_hint")
        hint.setWordWrap(True)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "to_manager": self.to_manager, "reason": self.reason, "handed_over_on": self.on})
        buttons = save_cancel_buttons(self, "Fall übergeben", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        set_tab_order(self.to_manager, self.on, self.reason)
        save_on_ctrl_enter(self, self.save)
        self.to_manager.setFocus()

    def save(self) -> None:
        self.errors.clear()
        try:
            on = self.on.checked_value("handed_over_on")
            if on is None:
                raise ValidationError("Bitte das Datum der Übergabe angeben.", "handed_over_on")
            handover.hand_over_case(self._state.ctx, self._case_id,
                                    self.to_manager.currentText(),
                                    self.reason.toPlainText(), on)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()
