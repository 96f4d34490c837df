"""An den Kreis weitergeben: the confirmation before a team finding or a team Fallrekonstruktion
leaves the team for the Kreis-Tresor (``kimdesk/casework/county.py``).

The dialog shows exactly what the release copies, as text, so the coordinator sees what every
coordinator of the county will read. The release itself checks again for anything that
identifies a person; a refusal is shown here with the field to rewrite, and nothing is released.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from kimdesk.casework.coordination.findings import FindingRow
from kimdesk.casework.coordination.reconstructions import ReconstructionDetail
from kimdesk.errors import KimdeskError
from kimdesk.ui.dialogs import fit_to_screen
from kimdesk.ui.fields import FieldErrors, format_date, save_cancel_buttons

FINDING, RECONSTRUCTION = "finding", "reconstruction"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def finding_release_text(finding: FindingRow) -> str:
    """What a released finding carries into the county scope."""
    lines = [
        f"Festgehalten am: {format_date(finding.noted_on)}",
        f"Lebensbereich: {finding.life_area_label}",
        f"Art der Barriere: {finding.barrier_label}",
        f"Institutionsart: {finding.institution_type_label or '–'}",
        f"Kommune: {finding.municipality_label}",
        f"Quelle: {finding.source_label}",
        "",
        "Beschreibung:",
        finding.description.strip(),
    ]
    if finding.theme_statement:
        lines += ["", f"Generatives Thema: {_one_line(finding.theme_statement)}"]
    return "\n".join(lines)


def reconstruction_release_text(detail: ReconstructionDetail) -> str:
    """What a released Fallrekonstruktion carries into the county scope: the text of the
    reconstruction, its service chain and its generative themes."""
    lines = [f"Titel: {_one_line(detail.title)}"]
    if detail.presented_on is not None:
        lines.append(f"Vorgestellt am: {format_date(detail.presented_on)}")
    if detail.goal.strip():
        lines += ["", "Ziel:", detail.goal.strip()]
    areas = [area for area in detail.life_areas if area.get("topics")]
    if areas:
        lines += ["", "Lebensbereiche:"]
        for area in areas:
            topics = "; ".join(_one_line(str(t)) for t in area.get("topics", []))
            lines.append(f"• {area.get('area', '')}: {topics}")
    if detail.actors:
        names = {actor["id"]: _one_line(str(actor.get("label", ""))) for actor in detail.actors}
        lines += ["", "Dienstleistungskette – Beteiligte:"]
        lines += [f"• {name}" for name in sorted(names.values())]
        if detail.relations:
            lines += ["", "Dienstleistungskette – Beziehungen:"]
            for relation in detail.relations:
                label = _one_line(str(relation.get("label", "")))
                lines.append(f"• {names.get(relation['source'], '?')} → "
                             f"{names.get(relation['target'], '?')}"
                             + (f": {label}" if label else ""))
    for theme in detail.themes:
        lines += ["", f"Generatives Thema: {_one_line(theme.statement)}"]
        if theme.mandate.strip():
            lines.append(f"Arbeitsauftrag: {_one_line(theme.mandate)}")
    return "\n".join(lines)


class ReleaseDialog(QDialog):
    """Confirm, then release: ``release()`` does it (through casework) and returns the new
    county id; a ``KimdeskError`` is shown in the dialog, which stays open."""

    def __init__(self, kind: str, text: str, release: Callable[[], str],
                 parent: QWidget | None = None, *, released_on: date | None = None) -> None:
        super().__init__(parent)
        self._release = release
        self.released_id: str | None = None
        what = "Erkenntnis" if kind == FINDING else "Fallrekonstruktion"
        self.setWindowTitle(f"{what} an den Kreis weitergeben")
        intro = QLabel(
            f"Diese Angaben verlassen das Team: Die {what} wird in den Kreis-Tresor kopiert und "
            "ist dann für alle Koordinatorinnen und Koordinatoren des Kreises sichtbar. Spätere "
            "Änderungen im Team ändern die Kopie des Kreises nicht.", objectName="release_intro")
        intro.setWordWrap(True)
        again = QLabel(objectName="release_again")
        again.setWordWrap(True)
        if released_on is not None:
            again.setText(f"Bereits am {format_date(released_on)} an den Kreis gegeben: Die "
                          "Kopie des Kreises wird durch diesen Stand ersetzt.")
        again.setVisible(released_on is not None)
        self.content = QPlainTextEdit(objectName="release_content")
        self.content.setReadOnly(True)
        self.content.setPlainText(text)
        self.content.setAccessibleName("Was an den Kreis geht")
        self.content.setTabChangesFocus(True)
        privacy = QLabel("Vor der Weitergabe wird erneut geprüft, dass nichts eine Person "
                         "erkennbar macht (Namen, Geburtsdaten, Adressen, Telefon- oder "
                         "Aktennummern).", objectName="privacy_note")
        privacy.setWordWrap(True)
        privacy.setStyleSheet("color: #5d4037;")
        self.errors_label = QLabel(objectName="errors")
        self.errors_label.setWordWrap(True)
        self.errors = FieldErrors(self.errors_label, {})
        buttons = save_cancel_buttons(self, "An den Kreis weitergeben", self.save, saves=False)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(again)
        layout.addWidget(self.content, 1)
        layout.addWidget(privacy)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        fit_to_screen(self, 640, 560)

    @property
    def text(self) -> str:
        return self.content.toPlainText()

    def save(self) -> None:
        self.errors.clear()
        try:
            self.released_id = self._release()
        except KimdeskError as exc:
            self.errors.show(exc.message)
            return
        self.accept()
