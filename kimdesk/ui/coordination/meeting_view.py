"""Fallbesprechung im Team: the projector view (full screen, large type, high contrast,
pseudonymised only) and the panel where the coordinator records the team's advice and the agreed
next steps, which return to the case as Handlungsschritte and Wiedervorlagen."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.coordination import reviews
from kimdesk.casework.coordination.reviews import (
    NextStepInput,
    NextStepRow,
    ReviewOutcome,
    ReviewPresentation,
)
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.ui.fields import (
    CodeCombo,
    DateField,
    FieldErrors,
    format_date,
    save_cancel_buttons,
    set_tab_order,
)
from kimdesk.ui.state import AppState

# Readable from the back of a meeting room: nothing on the projector below 20 pt.
BODY_PT = 26
HEADING_PT = 40
SMALL_PT = 20
HINTS_MIN_WIDTH = 1700  # below this the footer shows only its buttons
NARROW_WIDTH = 1200  # below this the result panel takes the place of the page (1366 shares)
_INK = "#000000"
_PAPER = "#ffffff"
_BAR = "#0b1f3a"  # navy bars with white type: contrast above 15:1
_ACCENT = "#0b1f3a"
_GROUP_TITLES = {"need": "Bedarfe", "resource": "Ressourcen", "challenge": "Herausforderungen"}


@dataclass(frozen=True)
class Slide:
    key: str
    heading: str
    body: str  # rich text, every value escaped


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _paragraphs(text: str, empty: str = "Nichts vorbereitet.") -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return f"<p><i>{_e(empty)}</i></p>"
    return "".join(f"<p>{_e(line)}</p>" for line in lines)


def step_text(step: NextStepRow) -> str:
    """One agreed next step as the team reads it."""
    parts = [step.description]
    if step.responsible:
        parts.append(f"verantwortlich: {step.responsible}")
    if step.due_on:
        parts.append(f"bis {format_date(step.due_on)}")
    kind = step.kind_label + (f" zu {step.goal_label}" if step.goal_label else "")
    return " – ".join(parts) + f" ({kind})"


def slides_for(p: ReviewPresentation) -> list[Slide]:
    """The pages of the meeting: the case at a glance, the four parts of the fixed schema,
    and the result (advice and next steps)."""
    overview = []
    if p.case_summary:
        overview.append(f"<p><b>Fall:</b> {_e(p.case_summary)}</p>")
    if p.people:
        overview.append("<p><b>Personen</b></p><ul>" + "".join(
            f"<li>{_e(person.label)}: {_e(person.role)}, {_e(person.age_band)}</li>"
            for person in p.people) + "</ul>")
    team = f"<p><b>Team:</b> {_e(p.team_label)}" if p.team_label else "<p>"
    if p.presenter:
        team += f" · vorgestellt von {_e(p.presenter)}"
    overview.append(team + "</p>")
    groups: dict[str, list[str]] = {}
    for tag in p.tags:
        groups.setdefault(tag.group, []).append(tag.label)
    for group, labels in groups.items():
        title = _GROUP_TITLES.get(group, group)
        overview.append(f"<p><b>{_e(title)}:</b> {_e(', '.join(labels))}</p>")
    slides = [Slide("overview", p.title or "Fallbesprechung", "".join(overview))]
    for section in (reviews.OCCASION, reviews.RELEVANT_INFORMATION, reviews.DEVELOPMENT,
                    reviews.NETWORK):
        slides.append(Slide(section, reviews.SECTION_LABELS[section],
                            _paragraphs(getattr(p, section))))
    result = ["<p><b>Empfehlungen des Teams</b></p>",
              _paragraphs(p.advice, "Noch nicht festgehalten.")]
    result.append("<p><b>Vereinbarte nächste Schritte</b></p>")
    if p.next_steps:
        result.append("<ul>" + "".join(f"<li>{_e(step_text(s))}</li>" for s in p.next_steps)
                      + "</ul>")
    else:
        result.append("<p><i>Noch keine.</i></p>")
    slides.append(Slide("result", "Ergebnis der Fallbesprechung", "".join(result)))
    return slides


class OutcomePanel(QWidget):
    """The team's advice and the agreed next steps of one Fallbesprechung.

    Steps are collected in a list and saved together with the advice through
    ``reviews.record_outcome``; a step with a goal becomes a Handlungsschritt of that goal,
    one without a goal a Wiedervorlage of the case (then it needs a date).
    """

    saved = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None, *,
                 with_save_button: bool = True) -> None:
        super().__init__(parent)
        self._state = state
        self._review_id: str | None = None
        self._saved_advice = ""
        self._pending: list[NextStepInput] = []
        self.setObjectName("outcome_panel")
        self.title = _heading("Ergebnis festhalten")
        self.title.setObjectName("outcome_title")
        self.advice = QPlainTextEdit(objectName="advice")
        self.advice.setTabChangesFocus(True)
        self.advice.setPlaceholderText("Was empfiehlt das Team?")
        self.step_description = QLineEdit(objectName="step_description")
        self.step_description.setPlaceholderText("Was ist zu tun?")
        self.step_responsible = QLineEdit(objectName="step_responsible")
        self.step_responsible.setPlaceholderText("z. B. Case Management")
        self.step_due = DateField(state.today, self)
        self.step_due.setObjectName("step_due")
        self.step_due.setMaximumWidth(16777215)
        self.step_goal = CodeCombo((), empty="Wiedervorlage im Fall", parent=self)
        self.step_goal.setObjectName("step_goal")
        # Goal labels are long; the combo must not widen the panel past a small screen.
        self.step_goal.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.step_goal.setMinimumContentsLength(8)
        self.add_button = QPushButton("Hinzufügen", objectName="add_step")
        self.pending_list = QListWidget(objectName="pending_steps")
        self.pending_list.setWordWrap(True)
        self.pending_list.setAccessibleName("Vereinbarte nächste Schritte")
        self.remove_button = QPushButton("Entfernen", objectName="remove_step")
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "advice": self.advice, "next_steps": self.pending_list,
            "step_description": self.step_description, "step_due": self.step_due})
        self.save_button = QPushButton("Ergebnis speichern", objectName="save_outcome")
        self.save_button.setVisible(with_save_button)

        step_form = QFormLayout()
        step_form.addRow("Schritt", self.step_description)
        step_form.addRow("verantwortlich", self.step_responsible)
        step_form.addRow("bis", self.step_due)
        step_form.addRow("als", self.step_goal)
        step_buttons = QHBoxLayout()
        step_buttons.addWidget(self.add_button)
        step_buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(_heading("Empfehlungen des Teams"))
        layout.addWidget(self.advice, 2)
        layout.addWidget(_heading("Vereinbarte nächste Schritte"))
        layout.addLayout(step_form)
        layout.addLayout(step_buttons)
        layout.addWidget(self.pending_list, 1)
        layout.addWidget(self.errors_label)
        layout.addWidget(self.save_button)
        set_tab_order(self.advice, self.step_description, self.step_responsible, self.step_due,
                      self.step_goal, self.add_button, self.pending_list, self.remove_button,
                      self.save_button)

        self.add_button.clicked.connect(self.add_step)
        self.step_description.returnPressed.connect(self.add_step)
        self.remove_button.clicked.connect(self.remove_step)
        self.save_button.clicked.connect(self.save)

    def load(self, presentation: ReviewPresentation, *, keep_input: bool = False) -> None:
        """Show the saved advice and offer the case's open goals; typed input stays when
        ``keep_input`` (a reload while the coordinator is writing)."""
        self._review_id = presentation.review_id
        previous_saved = self._saved_advice
        self._saved_advice = presentation.advice
        if not keep_input or self.advice.toPlainText() == previous_saved:
            self.advice.setPlainText(presentation.advice)
        chosen = self.step_goal.code()
        self.step_goal.clear()
        self.step_goal.addItem("Wiedervorlage im Fall", None)
        for goal in presentation.goal_choices:
            self.step_goal.addItem(f"Handlungsschritt zu {goal.label}", goal.id)
        self.step_goal.set_code(chosen)
        if not keep_input:
            self._pending.clear()
            self.pending_list.clear()
            for widget in (self.step_description, self.step_responsible, self.step_due):
                widget.clear()
        open_case = presentation.case_id is not None
        for widget in (self.step_description, self.step_responsible, self.step_due,
                       self.step_goal, self.add_button, self.remove_button):
            widget.setEnabled(open_case)

    def has_unsaved_changes(self) -> bool:
        return bool(self._pending or self.step_description.text().strip()
                    or self.advice.toPlainText().strip() != self._saved_advice.strip())

    @property
    def pending_steps(self) -> list[NextStepInput]:
        return list(self._pending)

    def add_step(self) -> bool:
        """Put the typed step on the list (it is saved with the result)."""
        self.errors.clear()
        description = self.step_description.text().strip()
        if not description:
            self.errors.show("Bitte den Schritt beschreiben.", "step_description")
            return False
        try:
            due_on = self.step_due.checked_value("step_due")
        except ValidationError as exc:
            self.errors.show_error(exc)
            return False
        goal_id = self.step_goal.code()
        if goal_id is None and due_on is None:
            self.errors.show("Eine Wiedervorlage braucht ein Datum.", "step_due")
            return False
        step = NextStepInput(description, self.step_responsible.text().strip(), due_on,
                             goal_id)
        self._pending.append(step)
        goal_label = self.step_goal.currentText() if goal_id else "Wiedervorlage"
        parts = [description]
        if step.responsible:
            parts.append(f"verantwortlich: {step.responsible}")
        if due_on:
            parts.append(f"bis {format_date(due_on)}")
        self.pending_list.addItem(" – ".join(parts) + f" ({goal_label})")
        for widget in (self.step_description, self.step_responsible, self.step_due):
            widget.clear()
        self.step_description.setFocus()
        return True

    def remove_step(self) -> None:
        row = self.pending_list.currentRow()
        if 0 <= row < len(self._pending):
            del self._pending[row]
            self.pending_list.takeItem(row)

    def save(self) -> bool:
        """Record advice and steps; the steps return to the case in the same transaction."""
        if self._review_id is None:
            return False
        if self.step_description.text().strip() and not self.add_step():
            return False  # a typed step that was not added yet belongs to the result
        self.errors.clear()
        outcome = ReviewOutcome(advice=self.advice.toPlainText().strip(),
                                next_steps=list(self._pending))
        try:
            reviews.record_outcome(self._state.ctx, self._review_id, outcome)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return False
        count = len(self._pending)
        self._saved_advice = outcome.advice
        self._pending.clear()
        self.pending_list.clear()
        self._state.hub.status_message.emit(
            "Ergebnis der Fallbesprechung gespeichert"
            + (f"; {count} Schritt(e) an den Fall übertragen." if count else "."))
        self.saved.emit()
        return True


class OutcomeDialog(QDialog):
    """Ergebnis festhalten outside the meeting view (after the presentation)."""

    def __init__(self, state: AppState, review_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        presentation = reviews.presentation(state.ctx, review_id)
        self.setWindowTitle("Ergebnis der Fallbesprechung festhalten")
        self.resize(720, 640)
        heading = QLabel(presentation.title, objectName="outcome_case")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        self.panel = OutcomePanel(state, self, with_save_button=False)
        self.panel.title.hide()
        self.panel.load(presentation)
        buttons = save_cancel_buttons(self, "Ergebnis speichern", self._save)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.panel, 1)
        layout.addWidget(buttons)

    def _save(self) -> None:
        if self.panel.save():
            self.accept()


class MeetingView(QWidget):
    """The Fallbesprechung on the projector: full screen, one part of the schema per page.

    Keys: → ↓-Bild / Leertaste next page, ← / Bild↑ previous, Pos1/Ende first/last, ↑/↓ scroll
    a long page, F2 shows the panel for the result, Esc leaves (asking once more while the
    result is not saved). Everything shown comes from ``reviews.presentation``, which is
    pseudonymised by the core; the view never reads the client file itself.
    """

    closed = Signal()

    def __init__(self, state: AppState, review_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self._state = state
        self._review_id = review_id
        self._slides: list[Slide] = []
        self._index = 0
        self._presentation: ReviewPresentation | None = None
        self._leave_armed = False
        self._hidden_by_lock = False
        self._panel_shown = False
        self.setObjectName("meeting_view")
        self.setWindowTitle("Fallbesprechung")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        base = QFont(self.font())
        base.setPointSize(BODY_PT)
        self.setFont(base)
        self.setAutoFillBackground(True)
        # Sizes through the style sheet: some platform themes give buttons and inputs a font
        # of their own that a parent's setFont() does not reach.
        view = "QWidget#meeting_view"
        self.setStyleSheet(
            f"{view} {{ background: {_PAPER}; color: {_INK}; }}"
            f"{view} QLabel, {view} QLineEdit, {view} QPlainTextEdit, {view} QComboBox,"
            f" {view} QListWidget, {view} QPushButton {{ font-size: {BODY_PT}pt; }}"
            f"{view} QLabel {{ color: {_INK}; }}"
            f"{view} QLabel#slide_heading {{ color: {_ACCENT}; font-size: {HEADING_PT}pt;"
            " font-weight: bold; }"
            f"{view} QLabel#outcome_title {{ font-size: {HEADING_PT - 8}pt;"
            " font-weight: bold; }"
            f"{view} QFrame#meeting_header, {view} QFrame#meeting_footer"
            f" {{ background: {_BAR}; }}"
            f"{view} QFrame#meeting_header QLabel, {view} QFrame#meeting_footer QLabel"
            f" {{ color: #ffffff; background: {_BAR}; font-size: {SMALL_PT}pt; }}"
            f"{view} QFrame#meeting_footer QPushButton {{ font-size: {SMALL_PT}pt; }}"
            f"{view} QLabel#leave_warning {{ color: #ffd54f; background: {_BAR};"
            " font-weight: bold; }"
            f"{view} QScrollArea#slide_scroll, {view} QWidget#slide_page"
            f" {{ background: {_PAPER}; border: none; }}"
            f"{view} QScrollArea#outcome_scroll, {view} QWidget#outcome_panel"
            " { background: #f2f4f7; }"
            f"{view} QFrame#outcome_frame {{ background: #f2f4f7;"
            f" border-left: 4px solid {_BAR}; }}"
            f"{view} QPushButton {{ padding: 6px 16px; }}")

        # --- header -------------------------------------------------------------------------
        self.header_title = QLabel(objectName="meeting_title")
        self.header_title.setTextFormat(Qt.TextFormat.PlainText)
        self.page_indicator = QLabel(objectName="page_indicator")
        header = QFrame(objectName="meeting_header")
        header_row = QHBoxLayout(header)
        header_row.setContentsMargins(32, 10, 32, 10)
        header_row.addWidget(self.header_title, 1)
        header_row.addWidget(self.page_indicator)

        # --- the page -----------------------------------------------------------------------
        self.heading = QLabel(objectName="slide_heading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        self.body = QLabel(objectName="slide_body")
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        page = QWidget(objectName="slide_page")
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 12, 0)
        page_layout.addWidget(self.body)
        page_layout.addStretch(1)
        self.scroll = QScrollArea(objectName="slide_scroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setWidget(page)
        slide = self.slide_area = QWidget(objectName="slide_area")
        slide_layout = QVBoxLayout(slide)
        slide_layout.setContentsMargins(40, 24, 24, 16)
        slide_layout.setSpacing(20)
        slide_layout.addWidget(self.heading)
        slide_layout.addWidget(self.scroll, 1)

        # --- the result panel ---------------------------------------------------------------
        self.panel = OutcomePanel(state, self)
        self.outcome_frame = QFrame(objectName="outcome_frame")
        # A small projector (1024×768) has less height than the panel at this type size:
        # it scrolls there instead of squeezing the fields.
        panel_scroll = QScrollArea(objectName="outcome_scroll")
        panel_scroll.setWidgetResizable(True)
        panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        panel_scroll.setWidget(self.panel)
        frame_layout = QVBoxLayout(self.outcome_frame)
        frame_layout.setContentsMargins(12, 8, 4, 8)
        frame_layout.addWidget(panel_scroll)
        self.outcome_frame.setMinimumWidth(420)
        self.outcome_frame.hide()
        middle = QHBoxLayout()
        middle.setContentsMargins(0, 0, 0, 0)
        middle.setSpacing(0)
        middle.addWidget(slide, 3)
        middle.addWidget(self.outcome_frame, 2)

        # --- footer -------------------------------------------------------------------------
        self.hints = QLabel("→ / Bild↓ weiter  ·  ← / Bild↑ zurück  ·  F2 Ergebnis  ·  "
                            "Esc beenden", objectName="key_hints")
        # Neither label may widen the window beyond a small projector's screen.
        self.hints.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.warning = QLabel(objectName="leave_warning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        self.previous_button = QPushButton("◀ Zurück", objectName="previous_page")
        self.next_button = QPushButton("Weiter ▶", objectName="next_page")
        self.panel_button = QPushButton("Ergebnis festhalten (F2)", objectName="toggle_outcome")
        self.leave_button = QPushButton("Beenden (Esc)", objectName="leave_meeting")
        footer = QFrame(objectName="meeting_footer")
        footer_rows = QVBoxLayout(footer)
        footer_rows.setContentsMargins(32, 8, 32, 8)
        footer_rows.addWidget(self.warning)  # a line of its own, above the buttons
        footer_row = QHBoxLayout()
        footer_rows.addLayout(footer_row)
        footer_row.addWidget(self.hints, 1)
        for button in (self.previous_button, self.next_button, self.panel_button,
                       self.leave_button):
            # Buttons never take the focus, so the arrow keys always turn the pages.
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            footer_row.addWidget(button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addLayout(middle, 1)
        layout.addWidget(footer)

        self.previous_button.clicked.connect(self.previous_page)
        self.next_button.clicked.connect(self.next_page)
        self.panel_button.clicked.connect(lambda: self.toggle_panel())
        self.leave_button.clicked.connect(self.leave)
        self.panel.saved.connect(self._after_save)
        state.hub.vault_locked.connect(self._on_locked)
        state.hub.vault_unlocked.connect(self._on_unlocked)
        self.reload()

    # --- content ----------------------------------------------------------------------------

    @property
    def review_id(self) -> str:
        return self._review_id

    @property
    def presentation(self) -> ReviewPresentation | None:
        return self._presentation

    @property
    def slides(self) -> list[Slide]:
        return list(self._slides)

    @property
    def page(self) -> int:
        return self._index

    def reload(self) -> None:
        if not self._state.unlocked:
            return
        presentation = reviews.presentation(self._state.ctx, self._review_id)
        keep = self._presentation is not None
        self._presentation = presentation
        self._slides = slides_for(presentation)
        self.header_title.setText("Fallbesprechung"
                                  + (f" · {presentation.team_label}"
                                     if presentation.team_label else "")
                                  + (f" · {format_date(presentation.held_on)}"
                                     if presentation.held_on else ""))
        self.panel.load(presentation, keep_input=keep)
        self.show_page(min(self._index, len(self._slides) - 1))

    def show_page(self, index: int) -> None:
        if not self._slides:
            return
        self._index = max(0, min(index, len(self._slides) - 1))
        slide = self._slides[self._index]
        self.heading.setText(slide.heading)
        self.body.setText(slide.body)
        self.page_indicator.setText(f"{self._index + 1} / {len(self._slides)}")
        self.previous_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(self._index < len(self._slides) - 1)
        self.scroll.verticalScrollBar().setValue(0)
        if slide.key == "result" and not self.narrow and self._presentation is not None \
                and self._presentation.case_id is not None:
            self.toggle_panel(True)  # the result page is where it is written down

    def next_page(self) -> None:
        self.show_page(self._index + 1)

    def previous_page(self) -> None:
        self.show_page(self._index - 1)

    @property
    def narrow(self) -> bool:
        """A small projector: page and result panel take turns instead of sharing the width."""
        return self.width() < NARROW_WIDTH

    @property
    def panel_shown(self) -> bool:
        return self._panel_shown

    def toggle_panel(self, show: bool | None = None) -> None:
        visible = not self._panel_shown if show is None else show
        self._panel_shown = visible
        self._arrange()
        self.panel_button.setText("Ergebnis ausblenden (F2)" if visible
                                  else "Ergebnis festhalten (F2)")
        if visible and show is None:
            self.panel.advice.setFocus()
        elif not visible:
            self.setFocus()

    def _arrange(self, width: int | None = None) -> None:
        narrow = (self.width() if width is None else width) < NARROW_WIDTH
        self.outcome_frame.setVisible(self._panel_shown)
        self.slide_area.setVisible(not (narrow and self._panel_shown))

    def _after_save(self) -> None:
        self._leave_armed = False
        self.warning.hide()
        if self.narrow:
            self.toggle_panel(False)  # the page with the recorded result takes the screen
        self.reload()
        self.show_page(len(self._slides) - 1)
        self.setFocus()

    # --- starting and leaving ---------------------------------------------------------------

    def start(self) -> None:
        """Show full screen on the current screen (the projector in a mirrored setup)."""
        self.showFullScreen()
        self.raise_()
        self.activateWindow()
        self.setFocus()

    def leave(self) -> None:
        """Esc: close; with an unsaved result only on the second Esc, after a warning."""
        if self.panel.has_unsaved_changes() and not self._leave_armed:
            self._leave_armed = True
            self.warning.setText("Ergebnis nicht gespeichert – Esc noch einmal: "
                                 "ohne Speichern beenden.")
            self.warning.show()
            self.toggle_panel(True)
            return
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._leave_armed = False
        self.warning.hide()
        super().closeEvent(event)
        self.closed.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Many projectors show 1024 or 1280 pixels: the key hints give way to the buttons.
        self.hints.setVisible(event.size().width() >= HINTS_MIN_WIDTH)
        self._arrange(event.size().width())
        super().resizeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.leave()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_Space):
            self.next_page()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp, Qt.Key.Key_Backspace):
            self.previous_page()
        elif key == Qt.Key.Key_Home:
            self.show_page(0)
        elif key == Qt.Key.Key_End:
            self.show_page(len(self._slides) - 1)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            bar = self.scroll.verticalScrollBar()
            step = bar.singleStep() * 4 * (1 if key == Qt.Key.Key_Down else -1)
            bar.setValue(bar.value() + step)
        elif key == Qt.Key.Key_F2:
            self.toggle_panel()
        else:
            super().keyPressEvent(event)
            return
        if key != Qt.Key.Key_Escape:
            self._leave_armed = False
            self.warning.hide()
        event.accept()

    # --- auto-lock --------------------------------------------------------------------------

    def _on_locked(self) -> None:
        # The main window hides dialogs on lock; this is a window of its own, so it hides
        # itself (typed input stays in memory until unlock, as in a dialog).
        if self.isVisible():
            self._hidden_by_lock = True
            self.hide()

    def _on_unlocked(self) -> None:
        if self._hidden_by_lock:
            self._hidden_by_lock = False
            self.reload()
            self.start()


def _heading(text: str) -> QLabel:
    """A heading of the panel that never widens it. Not word-wrapped: a height-for-width
    layout would make the scroll area grow the panel to its preferred height."""
    label = QLabel(text)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label
