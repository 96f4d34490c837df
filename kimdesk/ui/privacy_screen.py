"""Datenschutz: Einwilligungen and Schweigepflichtentbindungen with revocation, the files due
for deletion (confirm or postpone with a reason), the audit trail of a client file, and the
review of concurrent edits from sync (Abgleich)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import clients, consents, erasure, retention, trail
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.ui import hub as areas
from kimdesk.ui.columns import FitColumns
from kimdesk.ui.conflicts_screen import ConflictsView
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import CodeCombo, DateField, FieldErrors, format_date
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.state import AppState


def _table(columns: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(columns), objectName=name)
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, list[str]]]) -> None:
    table.setRowCount(len(rows))
    for row, (key, cells) in enumerate(rows):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)  # whole, where a narrow column elides it
            item.setData(Qt.ItemDataRole.UserRole, key)
            table.setItem(row, column, item)


def _selected_key(table: QTableWidget) -> str | None:
    items = table.selectedItems()
    return items[0].data(Qt.ItemDataRole.UserRole) if items else None


class DateReasonDialog(QDialog):
    """Asks for a date and a note: Widerruf (date, note) or Zurückstellen (until, reason)."""

    def __init__(self, state: AppState, title: str, date_label: str, text_label: str,
                 save: Callable[[date | None, str], None], fields: dict[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._save_through = save
        self._fields = fields  # the use case's field names → "on" / "text"
        self.setWindowTitle(title)
        self.on = DateField(state.today, self)
        self.on.setObjectName("on")
        self.text = QLineEdit(objectName="text")
        form = QFormLayout()
        form.addRow(date_label, self.on)
        form.addRow(text_label, self.text)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {"on": self.on, "text": self.text})
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setObjectName("ok")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Abbrechen")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)

    def save(self) -> None:
        """Save through the use case; a refusal is shown at its field and the dialog stays."""
        try:
            self._save_through(self.on.checked_value("on"), self.text.text())
        except ValidationError as exc:
            self.errors.show(exc.message, self._fields.get(exc.field or "", exc.field))
            return
        self.accept()


class PrivacyScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.tabs = QTabWidget(objectName="privacy_tabs")

        self.consent_table = _table(("Ratsuchende:r", "Art", "Gegenüber", "Informationen",
                                     "Zweck", "erteilt", "gültig bis", "Status"), "consent_table")
        self.consent_table.setAccessibleName("Einwilligungen und Schweigepflichtentbindungen")
        self._consent_columns = FitColumns(self.consent_table, 0, stretch_share=0.2)
        self._consent_rows: list[consents.ConsentRow] = []
        self.consent_search = QLineEdit(objectName="consent_search")
        self.consent_search.setPlaceholderText("Nach Name filtern …")
        self.consent_search.setAccessibleName("Einwilligungen nach Name filtern")
        self.consent_search.setClearButtonEnabled(True)
        self.consent_status = CodeCombo(
            ((consents.ACTIVE, "aktiv"), (consents.REVOKED, "widerrufen"),
             (consents.EXPIRED, "abgelaufen")), empty="Alle Status", parent=self)
        self.consent_status.setObjectName("consent_status_filter")
        self.consent_status.setAccessibleName("Filter Status")
        self.consent_kind = CodeCombo(
            ((t.code, t.label) for t in state.reference.terms("consent_kinds")),
            empty="Alle Arten", parent=self)
        self.consent_kind.setObjectName("consent_kind_filter")
        self.consent_kind.setAccessibleName("Filter Art")
        self.consent_count = QLabel(objectName="consent_count")
        self.revoke_button = QPushButton("Widerrufen …", objectName="revoke")
        consent_page = QWidget()
        layout = QVBoxLayout(consent_page)
        filters = QHBoxLayout()
        filters.addWidget(self.consent_search, 2)
        filters.addWidget(self.consent_status, 1)
        filters.addWidget(self.consent_kind, 1)
        layout.addLayout(filters)
        layout.addWidget(self.consent_table, 1)
        layout.addWidget(self.consent_count)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.revoke_button)
        layout.addLayout(row)
        self.tabs.addTab(consent_page, "Einwilligungen und Entbindungen")

        self.deletion_table = _table(("Ratsuchende:r", "fällig seit", "Status",
                                      "zurückgestellt bis", "Begründung"), "deletion_table")
        self.check_button = QPushButton("Fristen jetzt prüfen", objectName="check_retention")
        self.postpone_button = QPushButton("Zurückstellen …", objectName="postpone")
        self.confirm_button = QPushButton("Löschung bestätigen …", objectName="confirm_deletion")
        deletion_page = QWidget()
        layout = QVBoxLayout(deletion_page)
        deletion_hint = QLabel(
            "Abgeschlossene Akten werden nach Ablauf der Aufbewahrungsfrist zur Löschung "
            "vorgeschlagen. Gelöscht wird erst nach Ihrer Bestätigung; übrig bleiben nur ein "
            "Protokolleintrag und anonyme Zahlen für die Statistik.")
        deletion_hint.setWordWrap(True)  # unwrapped it made the window wider than 1366 px
        layout.addWidget(deletion_hint)
        layout.addWidget(self.deletion_table, 1)
        row = QHBoxLayout()
        row.addWidget(self.check_button)
        row.addStretch(1)
        row.addWidget(self.postpone_button)
        row.addWidget(self.confirm_button)
        layout.addLayout(row)
        self.tabs.addTab(deletion_page, "Löschfristen")

        self.trail_search = QLineEdit(objectName="trail_search")
        self.trail_search.setPlaceholderText("Akte suchen (Name) und Enter drücken …")
        self.trail_table = _table(("Nr.", "Zeitpunkt", "Wer", "Aktion", "Was"), "trail_table")
        self.trail_status = QLabel(objectName="trail_status")
        self.verify_button = QPushButton("Protokollkette prüfen", objectName="verify_trail")
        self.erase_button = QPushButton("Löschung auf Antrag …", objectName="erase_on_request")
        self.erase_button.setToolTip("Die Person verlangt die Löschung ihrer Daten "
                                     "(Art. 17 DSGVO): die gezeigte Akte jetzt löschen.")
        self.erase_button.setEnabled(False)
        self._trail_client: str | None = None
        trail_page = QWidget()
        layout = QVBoxLayout(trail_page)
        layout.addWidget(self.trail_search)
        layout.addWidget(self.trail_table, 1)
        row = QHBoxLayout()
        row.addWidget(self.trail_status, 1)
        row.addWidget(self.erase_button)
        row.addWidget(self.verify_button)
        layout.addLayout(row)
        self.tabs.addTab(trail_page, "Protokoll einer Akte")
        self.conflicts = ConflictsView(state)  # concurrent edits from sync, to review
        self.tabs.addTab(self.conflicts, "Abgleich")

        outer = QVBoxLayout(self)
        outer.addWidget(QLabel("<h2>Datenschutz</h2>"))
        outer.addWidget(self.tabs, 1)

        self.revoke_button.clicked.connect(self._revoke)
        self.consent_search.textChanged.connect(self._show_consents)
        self.consent_status.currentIndexChanged.connect(self._show_consents)
        self.consent_kind.currentIndexChanged.connect(self._show_consents)
        self.check_button.clicked.connect(self._check)
        self.postpone_button.clicked.connect(self._postpone)
        self.confirm_button.clicked.connect(self._confirm)
        self.trail_search.returnPressed.connect(self._find_trail)
        self.verify_button.clicked.connect(self._verify)
        self.erase_button.clicked.connect(self._erase_on_request)
        self._reloader = ReloadWhenShown(
            self, state, self.reload, areas=(areas.CONSENTS, areas.RETENTION, areas.CLIENTS))

    def reload(self) -> None:
        ctx = self._state.ctx
        self._consent_rows = consents.consent_rows(ctx)
        self._show_consents()
        due = retention.due_for_deletion(ctx)
        status = {"proposed": "vorgeschlagen", "postponed": "zurückgestellt"}
        _fill(self.deletion_table, [(d.proposal_id, [
            d.display_name, format_date(d.due_since), status.get(d.status, d.status),
            format_date(d.postponed_until), d.reason or d.why]) for d in due])

    def consent_filter(self) -> consents.ConsentFilter:
        return consents.ConsentFilter(name=self.consent_search.text(),
                                      status=self.consent_status.code(),
                                      kind=self.consent_kind.code())

    def _show_consents(self) -> None:
        """The consents that match the name and the filters (in memory, as loaded)."""
        ref = self._state.reference
        rows = consents.filter_consent_rows(self._consent_rows, self.consent_filter())
        _fill(self.consent_table, [(r.id, [
            r.client_name, ref.label("consent_kinds", r.kind), r.recipient,
            ", ".join(ref.label("information_kinds", k) for k in r.information_kinds),
            r.purpose, format_date(r.given_on), format_date(r.valid_until),
            "aktiv" if r.active else (f"widerrufen am {format_date(r.revoked_on)}"
                                      if r.revoked_on else "abgelaufen"),
        ]) for r in rows])
        self.consent_count.setText(f"{len(rows)} von {len(self._consent_rows)} Einträgen")

    def _revoke(self) -> None:
        consent_id = _selected_key(self.consent_table)
        if consent_id is None:
            return

        def revoke(on: date | None, note: str) -> None:
            stored = erasure.stored_under(self._state.ctx, consent_id)
            if not stored:
                consents.revoke_consent(self._state.ctx, consent_id, on, note)
                return
            decision = self._ask_about_stored_data(stored)
            if decision is None:
                raise ValidationError("Der Widerruf ist noch nicht gespeichert: bitte wählen, "
                                      "was mit den gespeicherten Daten geschieht.")
            erasure.revoke_with_decision(self._state.ctx, consent_id, on, note, *decision)

        dialog = DateReasonDialog(self._state, "Widerruf erfassen", "Widerrufen am", "Notiz",
                                  revoke, {"revoked_on": "on"}, self)
        dialog.on.set_value(self._state.today())
        open_dialog(dialog)

    def _ask_about_stored_data(self, stored: list[str]) -> tuple[str, str] | None:
        """What happens to the data stored under a revoked Einwilligung: (decision, legal
        basis), or None if the user cancels."""
        box = QMessageBox(QMessageBox.Icon.Question, "Daten aus der Einwilligung",
                          "Unter dieser Einwilligung sind gespeichert: " + ", ".join(stored)
                          + ". Was soll mit diesen Daten geschehen?", parent=self)
        box.setObjectName("stored_data_question")
        erase = box.addButton("Daten löschen", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Aufbewahren (andere Rechtsgrundlage) …",
                             QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Abbrechen", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is erase:
            return erasure.ERASE, ""
        if box.clickedButton() is keep:
            basis, ok = QInputDialog.getText(
                self, "Rechtsgrundlage", "Auf welcher Rechtsgrundlage werden die Daten weiter "
                "gespeichert (z. B. § 67b SGB X, laufende Leistung)?")
            return (erasure.KEEP, basis) if ok else None
        return None

    def _erase_on_request(self) -> None:
        client_id = self._trail_client
        if client_id is None:
            return
        hints = erasure.erasure_hints(self._state.ctx, client_id)
        answer = QMessageBox.warning(
            self, "Löschung auf Antrag (Art. 17 DSGVO)",
            "Die Person verlangt die Löschung ihrer Daten. Vor der Löschung prüfen:\n• "
            + "\n• ".join(hints) + "\n\nDie Akte wird mit allen Fällen, Kontakten und "
            "Dokumenten jetzt auf allen Geräten des Teams gelöscht. Steht eine Ausnahme nach "
            "Art. 17 Abs. 3 DSGVO entgegen (z. B. ein laufendes Klageverfahren), bitte "
            "„Nein“ wählen und die Ablehnung mit Begründung erfassen.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            erasure.erase_on_request(self._state.ctx, client_id, self._state.today())
        except KimdeskError as exc:
            QMessageBox.information(self, "Nicht gelöscht", exc.message)
            return
        self._trail_client = None
        self.erase_button.setEnabled(False)
        self.trail_table.setRowCount(0)
        self.trail_status.setText("Akte auf Antrag gelöscht.")

    def _check(self) -> None:
        created = retention.propose_deletions(self._state.ctx)
        self._state.hub.status_message.emit(
            f"{len(created)} Akte(n) neu zur Löschung vorgeschlagen.")

    def _postpone(self) -> None:
        proposal_id = _selected_key(self.deletion_table)
        if proposal_id is None:
            return

        def postpone(until: date | None, reason: str) -> None:
            if until is None:
                raise ValidationError("Bitte ein Datum angeben.", "on")
            retention.postpone_deletion(self._state.ctx, proposal_id, until, reason)

        open_dialog(DateReasonDialog(self._state, "Löschung zurückstellen", "Aufbewahren bis",
                                     "Begründung", postpone, {"until": "on", "reason": "text"},
                                     self))

    def _confirm(self) -> None:
        proposal_id = _selected_key(self.deletion_table)
        if proposal_id is None:
            return
        answer = QMessageBox.warning(
            self, "Akte endgültig löschen?",
            "Die Akte wird mit allen Fällen, Kontakten und Dokumenten endgültig gelöscht. "
            "Das kann nicht rückgängig gemacht werden.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.confirm(proposal_id)

    def confirm(self, proposal_id: str) -> None:
        try:
            retention.confirm_deletion(self._state.ctx, proposal_id)
        except KimdeskError as exc:
            QMessageBox.information(self, "Nicht gelöscht", exc.message)

    def _find_trail(self) -> None:
        hits = clients.find_clients(self._state.ctx, self.trail_search.text(), limit=1)
        if not hits:
            self.trail_status.setText("Keine passende Akte gefunden.")
            self.trail_table.setRowCount(0)
            self._trail_client = None
            self.erase_button.setEnabled(False)
            return
        self.show_trail(hits[0].id)

    def show_trail(self, client_id: str) -> None:
        rows = trail.client_trail(self._state.ctx, client_id)
        _fill(self.trail_table, [(str(r.seq), [
            str(r.seq), r.at.astimezone().strftime("%d.%m.%Y %H:%M"), r.actor, r.action, r.what,
        ]) for r in rows])
        self.trail_status.setText(f"{len(rows)} Einträge.")
        self._trail_client = client_id
        self.erase_button.setEnabled(True)
        self.tabs.setCurrentIndex(2)

    def _verify(self) -> None:
        problems = trail.verify_trail(self._state.ctx)
        if problems:
            listed = "; ".join(f"Nr. {p.seq}: {p.message}" for p in problems[:5])
            self.trail_status.setText(f"Protokoll beschädigt oder verändert: {listed}")
            self.trail_status.setStyleSheet("color: #b71c1c; font-weight: bold;")
        else:
            self.trail_status.setText("Protokollkette vollständig und unverändert.")
            self.trail_status.setStyleSheet("color: #1b5e20;")
