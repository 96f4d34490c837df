"""The phase stepper: Intake → Assessment → Planning → Linking → Monitoring → Evaluation.

Six buttons show which phases are done, which one is current and which lie ahead. Done and
current phases can be opened to view (and revisit); phases ahead are not offered, because the
phases run in order (casework refuses a skip as well).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from kimdesk.models.enums import Phase
from kimdesk.reference import Reference

_STYLE = """
QPushButton[phase_state="done"] { background: #e8f5e9; color: #1b5e20;
    border: 1px solid #81c784; border-radius: 4px; padding: 4px 6px; }
QPushButton[phase_state="current"] { background: #1565c0; color: white; font-weight: bold;
    border: 1px solid #0d47a1; border-radius: 4px; padding: 4px 6px; }
QPushButton[phase_state="ahead"] { background: #f5f5f5; color: #616161;
    border: 1px dashed #bdbdbd; border-radius: 4px; padding: 4px 6px; }
QPushButton:checked { border: 3px solid #ff8f00; }
"""


def phase_title(reference: Reference, phase: Phase) -> tuple[str, str]:
    """("Linking", "Durchführung, Verknüpfung") from the county's phase vocabulary."""
    label = reference.label("phases", phase.value)
    name, _, rest = label.partition(" (")
    return name, rest.rstrip(")")


class PhaseStepper(QWidget):
    phase_selected = Signal(str)  # the user opened this phase's form to view it

    def __init__(self, reference: Reference, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("phase_stepper")
        self.setStyleSheet(_STYLE)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[Phase, QPushButton] = {}
        self._titles = {phase: phase_title(reference, phase) for phase in Phase}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for phase in Phase:
            name, subtitle = self._titles[phase]
            button = QPushButton(objectName=f"step_{phase.value}")
            button.setCheckable(True)
            button.setText(f"{phase.index + 1}  {name}\n{subtitle}")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            button.setMinimumWidth(90)
            button.clicked.connect(
                lambda _checked=False, p=phase: self.phase_selected.emit(p.value))
            self._group.addButton(button)
            layout.addWidget(button)
            self.buttons[phase] = button

    def show_state(self, current: Phase, viewed: Phase) -> None:
        """Mark phases before ``current`` done, ``current`` current, the rest ahead."""
        for phase, button in self.buttons.items():
            name, subtitle = self._titles[phase]
            if phase.index < current.index:
                state, mark = "done", "✓ "
                tip = "Abgeschlossene Phase: ansehen und bei Bedarf dorthin zurückkehren."
            elif phase == current:
                state, mark, tip = "current", "", "Aktuelle Phase"
            else:
                state, mark = "ahead", ""
                tip = "Noch nicht erreicht: die Phasen laufen der Reihe nach."
            button.setProperty("full_text", f"{phase.index + 1}  {mark}{name}\n{subtitle}")
            button.setProperty("short_text", f"{phase.index + 1}  {mark}{name}")
            button.setProperty("phase_state", state)
            button.setToolTip(f"{name} ({subtitle}): {tip}")
            button.setEnabled(state != "ahead")
            button.setChecked(phase == viewed)
            # Re-polish so the style sheet sees the changed property.
            button.style().unpolish(button)
            button.style().polish(button)
        self._fit_texts()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_texts()

    def _fit_texts(self) -> None:
        """Name and German subtitle where every button is wide enough; where one is not
        (150 % on 1366×768), all show the name alone (the tooltip keeps the subtitle)."""
        fits = True
        for button in self.buttons.values():
            full = str(button.property("full_text") or button.text())
            font = button.font()
            font.setBold(button.property("phase_state") == "current")  # drawn bold
            metrics = QFontMetrics(font)
            room = button.width() - 14  # padding 6 px and the border on each side
            fits = fits and all(metrics.horizontalAdvance(line) <= room
                                for line in full.split("\n"))
        for button in self.buttons.values():
            full = str(button.property("full_text") or button.text())
            text = full if fits else str(button.property("short_text") or full)
            if button.text() != text:
                button.setText(text)

    def state_of(self, phase: Phase) -> str:
        return str(self.buttons[phase].property("phase_state") or "")
