"""Fallbesprechung vorbereiten: the fixed schema of concept 5.5.3, filled from a pseudonymised
portrait of the case; texts of the file enter only after the presenter confirmed them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import pseudonymise
from kimdesk.casework.coordination import reviews
from kimdesk.casework.coordination.reviews import (
    ReviewDraft,
    ReviewPreparation,
    ReviewPresentation,
    TagRow,
)
from kimdesk.casework.pseudonymise import FreeTextCandidate, PersonLabel
from kimdesk.errors import KimdeskError
from kimdesk.ui.dialogs import fit_to_screen
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, save_cancel_buttons, set_tab_order
from kimdesk.ui.state import AppState

SECTIONS = (pseudonymise.OCCASION, pseudonymise.RELEVANT_INFORMATION,
            pseudonymise.DEVELOPMENT, pseudonymise.NETWORK)
_HINTS = {
    pseudonymise.OCCASION: "Was soll das Team beraten? Eine konkrete Frage an das Team.",
    pseudonymise.RELEVANT_INFORMATION: "Was das Team für die Frage wissen muss.",
    pseudonymise.DEVELOPMENT: "Wie sich der Fall bisher entwickelt hat.",
    pseudonymise.NETWORK: "Welche Stellen beteiligt sind und wie die Zusammenarbeit läuft.",
}
TAG_GROUPS = ("need", "resource", "challenge")
_CONFIRMED = QColor("#2e7d32")


def portrait_text(title: str, case_summary: str, people: tuple[PersonLabel, ...],
                  planning_area: str) -> str:
    """The case as coordination may see it: neutral labels, age bands, the Planungsraum."""
    lines = [title]
    if case_summary:
        lines.append(case_summary)
    if people:
        lines.append("Personen: " + "; ".join(person.description for person in people))
    if planning_area and planning_area not in title:
        lines.append(planning_area)
    return "\n".join(lines)


class ReviewDialog(QDialog):
    """Prepare a Fallbesprechung of a case (``case_id``) or change a prepared one
    (``review_id``). Saves through casework itself; ``saved_id`` is set on success."""

    def __init__(self, state: AppState, *, case_id: str | None = None,
                 review_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if (case_id is None) == (review_id is None):
            raise ValueError("either case_id or review_id")
        self._state = state
        self._review_id = review_id
        self.saved_id: str | None = None
        existing: ReviewPresentation | None = None
        if review_id is not None:
            existing = reviews.presentation(state.ctx, review_id)
            case_id = existing.case_id
        self._case_id = case_id
        preparation: ReviewPreparation | None = (
            reviews.review_preparation(state.ctx, case_id) if case_id else None)
        self._candidates: list[FreeTextCandidate] = list(
            preparation.candidates if preparation else ())
        self.setWindowTitle("Fallbesprechung bearbeiten" if existing
                            else "Fallbesprechung vorbereiten")

        # --- portrait -----------------------------------------------------------------------
        if preparation is not None:
            text = portrait_text(preparation.title, preparation.case_summary,
                                 preparation.people, preparation.planning_area)
        else:
            assert existing is not None
            text = portrait_text(existing.title, existing.case_summary, existing.people,
                                 existing.planning_area)
        self.portrait = QLabel(text, objectName="portrait")
        self.portrait.setTextFormat(Qt.TextFormat.PlainText)
        self.portrait.setWordWrap(True)
        portrait_box = QGroupBox("Der Fall, pseudonymisiert")
        QVBoxLayout(portrait_box).addWidget(self.portrait)

        # --- the fixed schema ---------------------------------------------------------------
        self.sections: dict[str, QPlainTextEdit] = {}
        schema = QWidget()
        schema_layout = QVBoxLayout(schema)
        schema_layout.setContentsMargins(0, 0, 0, 0)
        for section in SECTIONS:
            editor = QPlainTextEdit(objectName=section)
            editor.setPlaceholderText(_HINTS[section])
            editor.setTabChangesFocus(True)
            self.sections[section] = editor
            star = "*" if section == pseudonymise.OCCASION else ""
            label = QLabel(f"<b>{reviews.SECTION_LABELS[section]}{star}</b>")
            label.setBuddy(editor)
            schema_layout.addWidget(label)
            schema_layout.addWidget(editor, 1)
        self.held_on = DateField(state.today, self)
        self.held_on.setObjectName("held_on")
        date_row = QFormLayout()
        date_row.addRow("Termin der Fallbesprechung", self.held_on)
        schema_layout.addLayout(date_row)
        if existing is not None:
            for section in SECTIONS:
                self.sections[section].setPlainText(getattr(existing, section))
            self.held_on.set_value(existing.held_on)
        elif preparation is not None:
            # Generated from codes, counts and relative dates only: nothing to confirm.
            for section in SECTIONS:
                self.sections[section].setPlainText(preparation.suggestions.get(section, ""))

        # --- candidates from the file -------------------------------------------------------
        self.candidate_list = QListWidget(objectName="candidates")
        self.candidate_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.candidate_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for candidate in self._candidates:
            item = QListWidgetItem(f"{candidate.source}: {_first_line(candidate.suggestion)}")
            item.setToolTip(candidate.suggestion)
            self.candidate_list.addItem(item)
        self.candidate_source = QLabel(objectName="candidate_source")
        self.candidate_source.setWordWrap(True)
        self.candidate_source.setTextFormat(Qt.TextFormat.PlainText)
        self.candidate_text = QPlainTextEdit(objectName="candidate_text")
        self.candidate_text.setTabChangesFocus(True)
        self.candidate_text.setPlaceholderText("Einen Text links auswählen, prüfen und "
                                               "bearbeiten.")
        self.candidate_section = CodeCombo(
            ((s, reviews.SECTION_LABELS[s]) for s in SECTIONS), parent=self)
        self.candidate_section.setObjectName("candidate_section")
        self.confirm_button = QPushButton("Geprüft – übernehmen", objectName="confirm_candidate")
        self.confirm_button.setToolTip(
            "Bestätigt, dass der Text keine Namen, Geburtsdaten, Adressen oder Kontaktdaten "
            "enthält, und fügt ihn dem gewählten Abschnitt an.")
        self.candidate_errors_label = QLabel(objectName="candidate_errors")
        self.candidate_errors = FieldErrors(self.candidate_errors_label,
                                            {"candidate_text": self.candidate_text})
        explanation = QLabel(
            "Texte aus der Akte erscheinen hier mit einem Vorschlag, in dem Namen und "
            "Kontaktdaten ersetzt sind. Sie gelangen erst in die Fallbesprechung, wenn Sie sie "
            "gelesen, wo nötig bearbeitet und bestätigt haben.")
        explanation.setWordWrap(True)
        confirm_row = QHBoxLayout()
        confirm_row.addWidget(QLabel("in Abschnitt"))
        confirm_row.addWidget(self.candidate_section, 1)
        confirm_row.addWidget(self.confirm_button)
        candidates_page = QWidget(objectName="candidates_page")
        candidates_layout = QVBoxLayout(candidates_page)
        candidates_layout.addWidget(explanation)
        candidates_layout.addWidget(self.candidate_list, 2)
        candidates_layout.addWidget(self.candidate_source)
        candidates_layout.addWidget(self.candidate_text, 1)
        candidates_layout.addLayout(confirm_row)
        candidates_layout.addWidget(self.candidate_errors_label)
        if not self._candidates:
            self.candidate_list.addItem(QListWidgetItem("Keine Texte in der Akte."))
            self.candidate_list.setEnabled(False)
        self._enable_candidate(False)

        # --- tags ---------------------------------------------------------------------------
        self.tag_lists: dict[str, QListWidget] = {}
        tags_page = QWidget(objectName="tags_page")
        tags_layout = QGridLayout(tags_page)
        rows = reviews.tag_rows(state.ctx)
        chosen = {t.code for t in existing.tags} if existing else set()
        for column, group in enumerate(TAG_GROUPS):
            members = [t for t in rows if t.group == group]
            tag_list = QListWidget(objectName=f"tags_{group}")
            tag_list.setTextElideMode(Qt.TextElideMode.ElideRight)
            tag_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            for tag in members:
                item = QListWidgetItem(tag.label)
                item.setData(Qt.ItemDataRole.UserRole, tag.code)
                item.setToolTip(f"{tag.group_label}: {tag.label}")
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if tag.code in chosen
                                   else Qt.CheckState.Unchecked)
                tag_list.addItem(item)
            self.tag_lists[group] = tag_list
            tags_layout.addWidget(QLabel(f"<b>{_group_title(group, members)}</b>"), 0, column)
            tags_layout.addWidget(tag_list, 1, column)

        self.side = QTabWidget(objectName="review_side")
        self.side.addTab(candidates_page, f"Texte aus der Akte ({len(self._candidates)})")
        self.side.addTab(tags_page, "Bedarfe, Ressourcen, Herausforderungen")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(schema)
        splitter.addWidget(self.side)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([550, 450])  # scaled to the width: the schema gets the larger part

        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            **self.sections, "held_on": self.held_on, "tags": self.side})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        # Portrait and schema scroll inside the dialog; the buttons stay visible. The dialog
        # was 785 px tall and did not fit a 768 px screen (issue 14, item 9).
        body = QWidget(objectName="review_body")
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(portrait_box)
        body_layout.addWidget(splitter, 1)
        for editor in self.sections.values():
            editor.setMinimumHeight(editor.fontMetrics().lineSpacing() * 3 + 12)
        self.body_scroll = QScrollArea(objectName="review_scroll")
        self.body_scroll.setWidgetResizable(True)
        self.body_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body_scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.body_scroll, 1)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        fit_to_screen(self, 1240, 760)
        set_tab_order(*self.sections.values(), self.held_on, self.side, self.candidate_list,
                      self.candidate_text, self.candidate_section, self.confirm_button,
                      buttons)

        self.candidate_list.currentRowChanged.connect(self._show_candidate)
        self.confirm_button.clicked.connect(self.confirm_candidate)
        self.sections[pseudonymise.OCCASION].setFocus()

    # --- candidates -------------------------------------------------------------------------

    @property
    def candidates(self) -> list[FreeTextCandidate]:
        return list(self._candidates)

    def _enable_candidate(self, enabled: bool) -> None:
        for widget in (self.candidate_text, self.candidate_section, self.confirm_button):
            widget.setEnabled(enabled)

    def _show_candidate(self, row: int) -> None:
        self.candidate_errors.clear()
        if not 0 <= row < len(self._candidates):
            self._enable_candidate(False)
            return
        candidate = self._candidates[row]
        source = f"Aus der Akte: {candidate.source}"
        if candidate.replaced:
            source += (" – ersetzt: " + ", ".join(candidate.replaced)
                       + ". Bitte prüfen, ob noch etwas auf die Person hinweist.")
        self.candidate_source.setText(source)
        self.candidate_text.setPlainText(candidate.suggestion)
        self.candidate_section.set_code(candidate.section)
        self._enable_candidate(True)

    def select_candidate(self, key: str) -> FreeTextCandidate:
        """Show the candidate with ``key`` in the editor (tests and keyboard users)."""
        for row, candidate in enumerate(self._candidates):
            if candidate.key == key:
                self.candidate_list.setCurrentRow(row)
                return candidate
        raise KeyError(key)

    def confirm_candidate(self) -> bool:
        """The presenter confirms the (edited) text: the core checks it against the case's
        people and refuses it while a name, birth date, address or contact detail remains."""
        row = self.candidate_list.currentRow()
        if self._case_id is None or not 0 <= row < len(self._candidates):
            return False
        self.candidate_errors.clear()
        try:
            text = pseudonymise.confirm_free_text(
                self._state.ctx, self._case_id, self.candidate_text.toPlainText().strip(),
                "candidate_text", "Der Text")
        except KimdeskError as exc:
            self.candidate_errors.show_error(exc)
            return False
        if not text:
            return False
        editor = self.sections[self.candidate_section.code() or pseudonymise.DEVELOPMENT]
        current = editor.toPlainText().rstrip()
        editor.setPlainText(f"{current}\n{text}" if current else text)
        item = self.candidate_list.item(row)
        if not item.text().startswith("✓ "):
            item.setText("✓ " + item.text())
        item.setForeground(QBrush(_CONFIRMED))
        item.setToolTip(f"Übernommen: {text}")
        return True

    # --- tags and saving --------------------------------------------------------------------

    def chosen_tags(self) -> list[str]:
        codes = []
        for tag_list in self.tag_lists.values():
            for index in range(tag_list.count()):
                item = tag_list.item(index)
                if item.checkState() == Qt.CheckState.Checked:
                    codes.append(item.data(Qt.ItemDataRole.UserRole))
        return codes

    def set_tags(self, codes: list[str]) -> None:
        for tag_list in self.tag_lists.values():
            for index in range(tag_list.count()):
                item = tag_list.item(index)
                item.setCheckState(Qt.CheckState.Checked
                                   if item.data(Qt.ItemDataRole.UserRole) in codes
                                   else Qt.CheckState.Unchecked)

    def save(self) -> None:
        self.errors.clear()
        try:
            draft = ReviewDraft(
                occasion=self.sections[pseudonymise.OCCASION].toPlainText().strip(),
                relevant_information=self.sections[
                    pseudonymise.RELEVANT_INFORMATION].toPlainText().strip(),
                development=self.sections[pseudonymise.DEVELOPMENT].toPlainText().strip(),
                network=self.sections[pseudonymise.NETWORK].toPlainText().strip(),
                held_on=self.held_on.checked_value("held_on"), tags=self.chosen_tags())
            if self._review_id is None:
                assert self._case_id is not None
                saved = reviews.prepare_review(self._state.ctx, self._case_id, draft)
            else:
                saved = reviews.update_review(self._state.ctx, self._review_id, draft)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()


def _first_line(text: str, limit: int = 90) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _group_title(group: str, members: list[TagRow]) -> str:
    label = members[0].group_label if members else group
    return {"Bedarf": "Bedarfe", "Ressource": "Ressourcen",
            "Herausforderung": "Herausforderungen"}.get(label, label)
