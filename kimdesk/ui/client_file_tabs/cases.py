"""The cases of a client file in its header ("Öffnen", "Kontakt erfassen …") and "Neuer Fall …"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import cases
from kimdesk.casework.records import CaseRecord
from kimdesk.errors import KimdeskError
from kimdesk.models.enums import CaseKind, CaseStatus, Phase
from kimdesk.ui.client_file_tabs.rows import hint_label
from kimdesk.ui.fields import (
    CodeCombo,
    DateField,
    FieldErrors,
    format_date,
    save_cancel_buttons,
    save_on_ctrl_enter,
)
from kimdesk.ui.state import AppState

ROW_HEIGHT = 28  # the empty line


def case_summary(case: CaseRecord) -> str:
    """"Case Management · Intake · seit 01.10.2026" as a header line shows it."""
    parts = [CaseKind(case.kind).label]
    if case.phase and case.status == CaseStatus.OPEN:
        parts.append("Phase " + Phase(case.phase).label.split(" (")[0])
    if case.status == CaseStatus.CLOSED:
        parts.append(f"{format_date(case.opened_on)} – {format_date(case.closed_on)}, "
                     "abgeschlossen")
    else:
        parts.append(f"seit {format_date(case.opened_on)}")
    return " · ".join(parts)


class NewCaseDialog(QDialog):
    """Neuer Fall: Fallart, Fallbeginn, Zugangsweg, Anliegen, Themen."""

    def __init__(self, state: AppState, client_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._client_id = client_id
        self.created: CaseRecord | None = None
        ref = state.reference
        self.setWindowTitle("Neuer Fall")
        self.setMinimumWidth(560)
        self.kind = CodeCombo(((k.value, k.label) for k in CaseKind), parent=self)
        self.kind.setObjectName("case_kind")
        self.opened_on = DateField(state.today, self)
        self.opened_on.setObjectName("case_opened_on")
        self.opened_on.set_value(state.today())
        self.access_route = CodeCombo(((t.code, t.label) for t in ref.terms("access_routes")),
                                      empty="– keine Angabe –", parent=self)
        self.access_route.setObjectName("access_route")
        self.concern = QPlainTextEdit(objectName="concern")
        self.concern.setTabChangesFocus(True)
        self.concern.setMaximumHeight(80)
        self.concern.setPlaceholderText("Worum geht es? In den Worten der Ratsuchenden.")
        self.topics = QListWidget(objectName="case_topics")
        for term in ref.terms("topics"):
            item = QListWidgetItem(term.label)
            item.setData(Qt.ItemDataRole.UserRole, term.code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.topics.addItem(item)
        self.topics.setMinimumHeight(150)
        form = QFormLayout()
        form.addRow("&Fallart*", self.kind)
        form.addRow("Fall&beginn", self.opened_on)
        form.addRow("&Zugangsweg", self.access_route)
        form.addRow("&Anliegen", self.concern)
        form.addRow("&Themen", self.topics)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "kind": self.kind, "opened_on": self.opened_on, "access_route": self.access_route,
            "topics": self.topics, "municipality": self.kind})
        buttons = save_cancel_buttons(self, "Fall anlegen", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint_label(
            "Ein Case Management setzt eine Einwilligung in die Datenverarbeitung voraus; "
            "eine Kurzintervention kann später in eine intensivere Fallart umgewandelt werden.",
            "case_kind_hint"))
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        save_on_ctrl_enter(self, self.save)
        self.kind.setFocus()

    def set_topics(self, codes: list[str]) -> None:
        for row in range(self.topics.count()):
            item = self.topics.item(row)
            checked = item.data(Qt.ItemDataRole.UserRole) in codes
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def checked_topics(self) -> list[str]:
        return [self.topics.item(row).data(Qt.ItemDataRole.UserRole)
                for row in range(self.topics.count())
                if self.topics.item(row).checkState() == Qt.CheckState.Checked]

    def save(self) -> None:
        self.errors.clear()
        try:
            data = cases.CaseInput(
                kind=self.kind.code() or "",
                opened_on=self.opened_on.checked_value("opened_on"),
                access_route=self.access_route.code() or "",
                concern=self.concern.toPlainText(),
                topics=self.checked_topics(),
            )
            self.created = CaseRecord.of(cases.open_case(self._state.ctx, self._client_id, data))
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.accept()


class CasesPanel(QWidget):
    """One line per case with "Öffnen" and, for open cases, "Kontakt erfassen …".

    The buttons carry the case id in their ``case_id`` property; the panel re-emits clicks.
    """

    open_requested = Signal(str)
    contact_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("case_list")
        self._family: dict[str, str] = {}
        self._inner = QWidget()
        self._rows = QVBoxLayout(self._inner)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(2)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setWidget(self._inner)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll)

    def set_cases(self, items: list[CaseRecord], family_cases: list[CaseRecord] | None = None,
                  family_clients: dict[str, str] | None = None) -> None:
        """The person's own cases and the family cases she takes part in (a household
        member's case, ``family_clients`` naming its client)."""
        while self._rows.count():
            child = self._rows.takeAt(0)
            if child.widget() is not None:
                child.widget().deleteLater()
        self._family = dict(family_clients or {})
        # Open cases first, newest first; then the closed ones.
        ordered = sorted([*items, *(family_cases or [])],
                         key=lambda c: (c.status == CaseStatus.OPEN, c.opened_on),
                         reverse=True)
        if not ordered:
            empty = QLabel("Noch kein Fall. Mit „Neuer Fall …“ beginnt die Beratung.",
                           objectName="no_cases")
            empty.setStyleSheet("color: #555;")
            self._rows.addWidget(empty)
        rows = [self._row(case) for case in ordered]
        for row in rows:
            self._rows.addWidget(row)
        self._rows.addStretch(1)
        # Up to three cases without scrolling; more scroll inside the header.
        shown = rows[:3]
        height = (sum(r.sizeHint().height() for r in shown)
                  + self._rows.spacing() * max(len(shown) - 1, 0)) if shown else ROW_HEIGHT
        self._scroll.setFixedHeight(height + 2)

    def _row(self, case: CaseRecord) -> QWidget:
        row = QWidget(objectName="case_row")
        row.setProperty("case_id", case.id)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        summary = case_summary(case)
        if case.id in self._family:
            summary = f"Familienfall von {self._family[case.id]}: {summary}"
        label = QLabel(summary, objectName="case_summary")
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setToolTip(case.concern or "")
        label.setWordWrap(True)  # wraps beside its buttons where the window is narrow
        if case.status != CaseStatus.OPEN:
            label.setStyleSheet("color: #6b6b6b;")
        layout.addWidget(label, 1)
        if case.status == CaseStatus.OPEN:
            contact = QPushButton("Kontakt erfassen …", objectName="record_contact")
            contact.setProperty("case_id", case.id)
            contact.clicked.connect(lambda: self.contact_requested.emit(case.id))
            layout.addWidget(contact)
        open_button = QPushButton("Öffnen", objectName="open_case")
        open_button.setProperty("case_id", case.id)
        open_button.clicked.connect(lambda: self.open_requested.emit(case.id))
        layout.addWidget(open_button)
        return row
