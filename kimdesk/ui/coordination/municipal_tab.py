"""Kommunen (concept 4.5, 5.6–5.8): the kommunale Vereinbarungen, and the structural work that
is not a case — Gremienarbeit, Planungsraum meetings, formats with a Kommune, work with the
Träger der Freien Wohlfahrt, Prozessberatung — with its hours per kind for Controlling.
Dialogs save through :mod:`kimdesk.casework.coordination.municipal` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.coordination import municipal
from kimdesk.casework.coordination.municipal import (
    ActivityInput,
    ActivityRow,
    AgreementInput,
    AgreementRow,
    HoursByKind,
)
from kimdesk.errors import KimdeskError
from kimdesk.ui import hub as areas
from kimdesk.ui.coordination.project_groups_tab import CheckList
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import (
    CodeCombo,
    DateField,
    FieldErrors,
    format_date,
    save_cancel_buttons,
    set_tab_order,
)
from kimdesk.ui.phases.base import configure_table
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

_RELOAD_ON = (areas.COORDINATION,)
_NOT_IN_FORCE = QColor("#6d6d6d")
_PRIVACY = ("Strukturelle Arbeit, kein Fall: Beteiligte sind Organisationen. Keine Namen von "
            "Ratsuchenden, keine Telefon- oder Aktennummern.")


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".").replace(".", ",") + " Std."


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _add_row(form: QFormLayout, label: str, widget: QWidget) -> None:
    """A form row whose widget a screen reader names like its label."""
    widget.setAccessibleName(label.rstrip("*"))
    form.addRow(label, widget)


# --- dialogs ----------------------------------------------------------------------------------


class AgreementDialog(QDialog):
    """A kommunale Vereinbarung: Kommune, Gegenstand, Vertragsparteien, Unterzeichnung,
    Gültigkeit, Fallzusteuerung (ja/nein und wie), weiterer Inhalt."""

    def __init__(self, state: AppState, agreement: AgreementRow | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._agreement = agreement
        self.saved_id: str | None = None
        self.setWindowTitle("Vereinbarung bearbeiten" if agreement
                            else "Neue kommunale Vereinbarung")
        self.setMinimumWidth(720)
        self.municipality = CodeCombo(((m.code, m.name) for m in state.reference.municipalities),
                                      empty="– bitte wählen –", parent=self)
        self.municipality.setObjectName("municipality")
        self.subject = QLineEdit(objectName="subject")
        self.subject.setPlaceholderText("z. B. Kommunale Vereinbarung KIM – Einsatz und "
                                        "Fallzusteuerung")
        self.parties = QPlainTextEdit(objectName="parties")
        self.parties.setTabChangesFocus(True)
        self.parties.setPlaceholderText("Eine Organisation je Zeile, z. B. Stadt Goch")
        self.parties.setMaximumHeight(80)
        self.signed_on = DateField(state.today, self)
        self.signed_on.setObjectName("signed_on")
        self.valid_from = DateField(state.today, self)
        self.valid_from.setObjectName("valid_from")
        self.valid_until = DateField(state.today, self)
        self.valid_until.setObjectName("valid_until")
        self.allocates_cases = QCheckBox("Die Kommune steuert Fälle zu (Fallzusteuerung)",
                                        objectName="allocates_cases")
        self.case_allocation = QPlainTextEdit(objectName="case_allocation")
        self.case_allocation.setTabChangesFocus(True)
        self.case_allocation.setPlaceholderText("Wie: wer meldet, auf welchem Weg, an wen")
        self.case_allocation.setMaximumHeight(90)
        self.content = QPlainTextEdit(objectName="content")
        self.content.setTabChangesFocus(True)
        self.content.setPlaceholderText("Einsatzmanagement, Kommunikationsstrukturen, "
                                        "strukturelle Zusammenarbeit …")
        if agreement is not None:
            self.municipality.set_code(agreement.municipality)
            self.subject.setText(agreement.subject)
            self.parties.setPlainText("\n".join(agreement.parties))
            self.signed_on.set_value(agreement.signed_on)
            self.valid_from.set_value(agreement.valid_from)
            self.valid_until.set_value(agreement.valid_until)
            self.allocates_cases.setChecked(agreement.allocates_cases)
            self.case_allocation.setPlainText(agreement.case_allocation)
            self.content.setPlainText(agreement.content)
        form = QFormLayout()
        _add_row(form, "Kommune*", self.municipality)
        _add_row(form, "Gegenstand*", self.subject)
        _add_row(form, "Vertragsparteien", self.parties)
        _add_row(form, "Unterzeichnet am", self.signed_on)
        _add_row(form, "Gültig ab", self.valid_from)
        _add_row(form, "Gültig bis", self.valid_until)
        _add_row(form, "Fallzusteuerung", self.allocates_cases)
        _add_row(form, "Wie Fälle zugesteuert werden", self.case_allocation)
        _add_row(form, "Weiterer Inhalt", self.content)
        hint = QLabel("Ohne „Gültig ab“ gilt die Vereinbarung ab der Unterzeichnung, ohne "
                      "„Gültig bis“ unbefristet. Ohne Datum der Unterzeichnung ist sie ein "
                      "Entwurf und zählt im Zielsystem nicht.", objectName="draft_note")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #455a64;")
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "municipality": self.municipality, "subject": self.subject,
            "parties": self.parties, "signed_on": self.signed_on,
            "valid_from": self.valid_from, "valid_until": self.valid_until,
            "case_allocation": self.case_allocation, "content": self.content})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        set_tab_order(self.municipality, self.subject, self.parties, self.signed_on,
                      self.valid_from, self.valid_until, self.allocates_cases,
                      self.case_allocation, self.content, buttons)
        self.allocates_cases.toggled.connect(self._allocation_toggled)
        self._allocation_toggled(self.allocates_cases.isChecked())

    def _allocation_toggled(self, checked: bool) -> None:
        self.case_allocation.setEnabled(checked)
        if not checked:
            self.case_allocation.clear()

    def save(self) -> None:
        self.errors.clear()
        if self.municipality.code() is None:
            self.errors.show("Bitte die Kommune wählen.", "municipality")
            return
        try:
            data = AgreementInput(
                municipality=self.municipality.code() or "", subject=self.subject.text(),
                parties=_lines(self.parties.toPlainText()),
                signed_on=self.signed_on.checked_value("signed_on"),
                valid_from=self.valid_from.checked_value("valid_from"),
                valid_until=self.valid_until.checked_value("valid_until"),
                allocates_cases=self.allocates_cases.isChecked(),
                case_allocation=self.case_allocation.toPlainText(),
                content=self.content.toPlainText())
            if self._agreement is None:
                saved = municipal.record_agreement(self._state.ctx, data)
            else:
                saved = municipal.update_agreement(self._state.ctx, self._agreement.id, data)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()


class ActivityDialog(QDialog):
    """A structural activity: day, kind, title, Kommune(s) or Planungsraum, hours,
    participating organisations, short note."""

    def __init__(self, state: AppState, activity: ActivityRow | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._activity = activity
        self.saved_id: str | None = None
        ref = state.reference
        self.setWindowTitle("Tätigkeit bearbeiten" if activity
                            else "Strukturelle Tätigkeit erfassen")
        self.resize(900, 600)
        self.held_on = DateField(state.today, self)
        self.held_on.setObjectName("held_on")
        self.kind = CodeCombo(((t.code, t.label) for t in ref.terms("structural_activity_kinds")),
                              empty="– bitte wählen –", parent=self)
        self.kind.setObjectName("kind")
        self.title = QLineEdit(objectName="title")
        self.title.setPlaceholderText("z. B. Integrationsrat Goch, Austausch der Sozialämter")
        self.planning_area = QComboBox(objectName="planning_area")
        self.planning_area.addItem("kein bestimmter Planungsraum", "")
        for area in municipal.planning_areas(state.ctx):
            self.planning_area.addItem(area, area)
        self.hours = QDoubleSpinBox(objectName="hours")
        self.hours.setRange(0, 24)
        self.hours.setSingleStep(0.25)
        self.hours.setDecimals(2)
        self.hours.setSuffix(" Std.")
        self.hours.setLocale(QLocale(QLocale.Language.German, QLocale.Country.Germany))
        self.participants = QPlainTextEdit(objectName="participants")
        self.participants.setTabChangesFocus(True)
        self.participants.setPlaceholderText("Beteiligte Organisationen, eine je Zeile")
        self.participants.setMaximumHeight(90)
        self.note = QPlainTextEdit(objectName="note")
        self.note.setTabChangesFocus(True)
        self.note.setPlaceholderText("Kurz: Thema, Ergebnis, nächste Schritte")
        self.municipalities = CheckList("activity_municipalities", "Kommune filtern …", self)
        self.municipalities.set_items(((m.code, m.name) for m in ref.municipalities),
                                      activity.municipalities if activity else ())
        self.municipalities.list.setAccessibleName("Kommunen")
        if activity is not None:
            self.held_on.set_value(activity.held_on)
            self.kind.set_code(activity.kind)
            self.title.setText(activity.title)
            self.planning_area.setCurrentIndex(max(0, self.planning_area.findData(
                activity.planning_area)))
            self.hours.setValue(activity.minutes / 60)
            self.participants.setPlainText("\n".join(activity.participants))
            self.note.setPlainText(activity.note)
        else:
            self.held_on.set_value(state.today())
        form = QFormLayout()
        _add_row(form, "Datum*", self.held_on)
        _add_row(form, "Art*", self.kind)
        _add_row(form, "Titel", self.title)
        _add_row(form, "Planungsraum", self.planning_area)
        _add_row(form, "Stunden*", self.hours)
        _add_row(form, "Beteiligte Organisationen", self.participants)
        _add_row(form, "Notiz", self.note)
        where = QGroupBox("Kommunen (keine: kreisweit)")
        QVBoxLayout(where).addWidget(self.municipalities)
        body = QHBoxLayout()
        body.addLayout(form, 3)
        body.addWidget(where, 2)
        privacy = QLabel(_PRIVACY, objectName="privacy_note")
        privacy.setWordWrap(True)
        privacy.setStyleSheet("color: #5d4037;")
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "held_on": self.held_on, "kind": self.kind, "title": self.title,
            "planning_area": self.planning_area, "hours": self.hours,
            "participants": self.participants, "note": self.note,
            "municipalities": self.municipalities.list})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(privacy)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        set_tab_order(self.held_on, self.kind, self.title, self.planning_area, self.hours,
                      self.participants, self.note, self.municipalities.filter,
                      self.municipalities.list, buttons)

    def save(self) -> None:
        self.errors.clear()
        if self.kind.code() is None:
            self.errors.show("Bitte die Art der Tätigkeit wählen.", "kind")
            return
        try:
            held_on = self.held_on.checked_value("held_on")
            if held_on is None:
                self.errors.show("Bitte das Datum angeben.", "held_on")
                return
            data = ActivityInput(
                held_on=held_on, kind=self.kind.code() or "", hours=self.hours.value(),
                title=self.title.text(), municipalities=self.municipalities.checked(),
                planning_area=self.planning_area.currentData() or "",
                participants=_lines(self.participants.toPlainText()),
                note=self.note.toPlainText())
            if self._activity is None:
                saved = municipal.record_activity(self._state.ctx, data)
            else:
                saved = municipal.update_activity(self._state.ctx, self._activity.id, data)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()


# --- the tab ----------------------------------------------------------------------------------


def _agreement_columns() -> list[Column[AgreementRow]]:
    return [
        Column("Kommune", lambda r: r.municipality_name),
        Column("Gegenstand", lambda r: r.subject, stretch=True),
        Column("Unterzeichnet", lambda r: format_date(r.signed_on)),
        Column("Gültig ab", lambda r: format_date(r.valid_from or r.signed_on)),
        Column("Gültig bis", lambda r: format_date(r.valid_until) or "unbefristet"),
        Column("Fallzusteuerung", lambda r: "ja" if r.allocates_cases else "nein"),
        Column("Status", lambda r: r.status),
    ]


def _activity_columns() -> list[Column[ActivityRow]]:
    return [
        Column("Datum", lambda r: format_date(r.held_on)),
        Column("Art", lambda r: r.kind_label),
        Column("Titel", lambda r: r.title, stretch=True),
        Column("Kommune/Planungsraum", lambda r: r.where),
        Column("Stunden", lambda r: _hours(r.minutes)),
    ]


class MunicipalTab(QWidget):
    """Vereinbarungen with the Kommunen and the structural work, one page each."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._reloader = ReloadWhenShown(self, state, self.reload, areas=_RELOAD_ON)
        self.dialog: QDialog | None = None

        # --- agreements ---------------------------------------------------------------------
        self.agreements_summary = QLabel(objectName="agreements_summary")
        self.agreements_summary.setStyleSheet("font-weight: bold;")
        self.without_agreement = QLabel(objectName="without_agreement")
        self.without_agreement.setWordWrap(True)
        self.agreements_model: RowTableModel[AgreementRow] = RowTableModel(
            _agreement_columns(), self,
            foreground=lambda r: None if r.in_force else _NOT_IN_FORCE)
        self.agreements = QTableView(objectName="agreement_table")
        self.agreements.setAccessibleName("Kommunale Vereinbarungen")
        self.agreements.setModel(self.agreements_model)
        configure_table(self.agreements, stretch=(1,), fit=(0, 2, 3, 4, 5, 6))
        self.agreement_detail = QPlainTextEdit(objectName="agreement_detail")
        self.agreement_detail.setAccessibleName("Inhalt der Vereinbarung")
        self.agreement_detail.setReadOnly(True)
        self.new_agreement_button = QPushButton("Neue Vereinbarung …",
                                                objectName="new_agreement")
        self.edit_agreement_button = QPushButton("Bearbeiten …", objectName="edit_agreement")
        self.delete_agreement_button = QPushButton("Löschen", objectName="delete_agreement")
        agreements_page = QWidget(objectName="agreements_page")
        agreements_layout = QVBoxLayout(agreements_page)
        agreements_layout.addWidget(self.agreements_summary)
        agreements_layout.addWidget(self.without_agreement)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.agreements)
        split.addWidget(self.agreement_detail)
        split.setSizes([380, 200])
        agreements_layout.addWidget(split, 1)
        agreement_buttons = QHBoxLayout()
        agreement_buttons.addStretch(1)
        agreement_buttons.addWidget(self.delete_agreement_button)
        agreement_buttons.addWidget(self.edit_agreement_button)
        agreement_buttons.addWidget(self.new_agreement_button)
        agreements_layout.addLayout(agreement_buttons)

        # --- structural activities ----------------------------------------------------------
        self.year = QSpinBox(objectName="activity_year")
        self.year.setAccessibleName("Jahr")
        self.year.setRange(2020, 2100)
        self.year.setValue(state.today().year)
        self.activities_model: RowTableModel[ActivityRow] = RowTableModel(
            _activity_columns(), self)
        self.activities = QTableView(objectName="activity_table")
        self.activities.setAccessibleName("Strukturelle Tätigkeiten")
        self.activities.setModel(self.activities_model)
        configure_table(self.activities, stretch=(2,), fit=(0, 1, 4), widths={3: 230})
        self.hours_model: RowTableModel[HoursByKind] = RowTableModel([
            Column("Art", lambda r: r.label, stretch=True),
            Column("Anzahl", lambda r: str(r.activities)),
            Column("Stunden", lambda r: _hours(r.minutes)),
        ], self)
        self.hours_table = QTableView(objectName="hours_by_kind")
        self.hours_table.setAccessibleName("Stunden je Art")
        self.hours_table.setModel(self.hours_model)
        configure_table(self.hours_table, stretch=(0,), fit=(1, 2))
        self.hours_total = QLabel(objectName="hours_total")
        self.hours_total.setStyleSheet("font-weight: bold;")
        self.activity_detail = QPlainTextEdit(objectName="activity_detail")
        self.activity_detail.setAccessibleName("Einzelheiten der Tätigkeit")
        self.activity_detail.setReadOnly(True)
        self.new_activity_button = QPushButton("Tätigkeit erfassen …", objectName="new_activity")
        self.edit_activity_button = QPushButton("Bearbeiten …", objectName="edit_activity")
        self.delete_activity_button = QPushButton("Löschen", objectName="delete_activity")
        activities_page = QWidget(objectName="activities_page")
        activities_layout = QVBoxLayout(activities_page)
        year_row = QHBoxLayout()
        year_label = QLabel("Jahr")
        year_label.setBuddy(self.year)
        year_row.addWidget(year_label)
        year_row.addWidget(self.year)
        year_row.addStretch(1)
        activities_layout.addLayout(year_row)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        hours_box = QGroupBox("Stunden je Art (für das Controlling)")
        hours_layout = QVBoxLayout(hours_box)
        hours_layout.addWidget(self.hours_table, 1)
        hours_layout.addWidget(self.hours_total)
        right_layout.addWidget(hours_box, 3)
        right_layout.addWidget(self.activity_detail, 2)
        activities_split = QSplitter(Qt.Orientation.Horizontal)
        activities_split.addWidget(self.activities)
        activities_split.addWidget(right)
        activities_split.setSizes([940, 400])
        activities_layout.addWidget(activities_split, 1)
        activity_buttons = QHBoxLayout()
        activity_buttons.addStretch(1)
        activity_buttons.addWidget(self.delete_activity_button)
        activity_buttons.addWidget(self.edit_activity_button)
        activity_buttons.addWidget(self.new_activity_button)
        activities_layout.addLayout(activity_buttons)

        self.pages = QTabWidget(objectName="municipal_pages")
        self.pages.addTab(agreements_page, "Kommunale Vereinbarungen")
        self.pages.addTab(activities_page, "Strukturelle Arbeit")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages, 1)

        self.agreements.selectionModel().selectionChanged.connect(
            lambda *_: self._show_agreement())
        self.agreements.doubleClicked.connect(lambda _index: self.edit_agreement())
        self.new_agreement_button.clicked.connect(self.new_agreement)
        self.edit_agreement_button.clicked.connect(self.edit_agreement)
        self.delete_agreement_button.clicked.connect(self.delete_agreement)
        self.activities.selectionModel().selectionChanged.connect(
            lambda *_: self._show_activity())
        self.activities.doubleClicked.connect(lambda _index: self.edit_activity())
        self.new_activity_button.clicked.connect(self.new_activity)
        self.edit_activity_button.clicked.connect(self.edit_activity)
        self.delete_activity_button.clicked.connect(self.delete_activity)
        self.year.valueChanged.connect(lambda _value: self.reload())
        self._update_buttons()

    # --- loading ----------------------------------------------------------------------------

    def reload(self) -> None:
        if not self._state.unlocked:
            return
        ctx = self._state.ctx
        agreement = self.selected_agreement()
        activity = self.selected_activity()
        rows = municipal.agreement_rows(ctx)
        self.agreements_model.set_rows(rows)
        in_force = {r.municipality for r in rows if r.in_force}
        total = len(self._state.reference.municipalities)
        self.agreements_summary.setText(
            f"{len(in_force)} von {total} Kommunen mit gültiger Vereinbarung "
            f"(Stand {format_date(ctx.today())})")
        missing = [m.name for m in self._state.reference.municipalities
                   if m.code not in in_force]
        self.without_agreement.setText(
            f"Ohne gültige Vereinbarung: {', '.join(missing)}" if missing else "")
        first, last = date(self.year.value(), 1, 1), date(self.year.value(), 12, 31)
        self.activities_model.set_rows(municipal.activity_rows(ctx, first, last))
        summary = municipal.hours_by_kind(ctx, first, last)
        self.hours_model.set_rows(summary)
        self.hours_total.setText(
            f"Zusammen {_hours(sum(s.minutes for s in summary))} in "
            f"{sum(s.activities for s in summary)} Tätigkeiten {self.year.value()}")
        self._reloader.stale = False
        if agreement is not None:
            self.select_agreement(agreement.id)
        if activity is not None:
            self.select_activity(activity.id)
        self._show_agreement()
        self._show_activity()

    # --- selection --------------------------------------------------------------------------

    def selected_agreement(self) -> AgreementRow | None:
        rows = self.agreements.selectionModel().selectedRows()
        return self.agreements_model.row_at(rows[0].row()) if rows else None

    def select_agreement(self, agreement_id: str) -> None:
        for index, row in enumerate(self.agreements_model.rows()):
            if row.id == agreement_id:
                self.agreements.selectRow(index)
                return

    def selected_activity(self) -> ActivityRow | None:
        rows = self.activities.selectionModel().selectedRows()
        return self.activities_model.row_at(rows[0].row()) if rows else None

    def select_activity(self, activity_id: str) -> None:
        for index, row in enumerate(self.activities_model.rows()):
            if row.id == activity_id:
                self.activities.selectRow(index)
                return

    def _update_buttons(self) -> None:
        agreement = self.selected_agreement() is not None
        self.edit_agreement_button.setEnabled(agreement)
        self.delete_agreement_button.setEnabled(agreement)
        activity = self.selected_activity() is not None
        self.edit_activity_button.setEnabled(activity)
        self.delete_activity_button.setEnabled(activity)

    def _show_agreement(self) -> None:
        self._update_buttons()
        row = self.selected_agreement()
        if row is None:
            self.agreement_detail.clear()
            return
        allocation = (f"ja – {row.case_allocation}" if row.allocates_cases else "nein")
        self.agreement_detail.setPlainText(
            f"{row.subject}\nKommune: {row.municipality_name} · {row.status}\n"
            f"Vertragsparteien: {', '.join(row.parties) or '–'}\n"
            f"Fallzusteuerung: {allocation}\n\n{row.content or ''}".rstrip())

    def _show_activity(self) -> None:
        self._update_buttons()
        row = self.selected_activity()
        if row is None:
            self.activity_detail.clear()
            return
        self.activity_detail.setPlainText(
            f"{row.kind_label} am {format_date(row.held_on)} ({_hours(row.minutes)})\n"
            f"{row.title}\n{row.where}\n"
            f"Beteiligt: {', '.join(row.participants) or '–'}\n\n{row.note}".rstrip())

    # --- dialogs ----------------------------------------------------------------------------

    def _open(self, dialog: QDialog, select: Callable[[str], None], text: str) -> None:
        self.dialog = dialog

        def finished(_result: int) -> None:
            self.dialog = None
            dialog.deleteLater()

        def accepted(done: QDialog) -> None:
            saved_id = getattr(done, "saved_id", None)
            if saved_id and self._state.unlocked:
                # The vault's change report has reloaded this tab; select the saved row.
                select(saved_id)
                self._state.hub.status_message.emit(text)

        dialog.finished.connect(finished)
        open_dialog(dialog, accepted)

    def new_agreement(self) -> None:
        if self.dialog is None and self._state.unlocked:
            self._open(AgreementDialog(self._state, parent=self), self.select_agreement,
                       "Vereinbarung gespeichert.")

    def edit_agreement(self) -> None:
        row = self.selected_agreement()
        if row is not None and self.dialog is None:
            self._open(AgreementDialog(self._state, row, self), self.select_agreement,
                       "Vereinbarung gespeichert.")

    def new_activity(self) -> None:
        if self.dialog is None and self._state.unlocked:
            self._open(ActivityDialog(self._state, parent=self), self._select_activity_year,
                       "Tätigkeit gespeichert.")

    def edit_activity(self) -> None:
        row = self.selected_activity()
        if row is not None and self.dialog is None:
            self._open(ActivityDialog(self._state, row, self), self._select_activity_year,
                       "Tätigkeit gespeichert.")

    def _select_activity_year(self, activity_id: str) -> None:
        """Select the saved activity, turning to its year if it lies in another one."""
        if not any(r.id == activity_id for r in self.activities_model.rows()):
            for row in municipal.activity_rows(self._state.ctx):
                if row.id == activity_id:
                    self.year.setValue(row.held_on.year)  # reloads
        self.select_activity(activity_id)

    def _confirmed(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(
            self, title, question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def delete_agreement(self) -> None:
        row = self.selected_agreement()
        if row is None or not self._confirmed(
                "Vereinbarung löschen",
                f"Die Vereinbarung „{row.subject}“ ({row.municipality_name}) löschen? Eine "
                "ausgelaufene Vereinbarung bitte nicht löschen, sondern „Gültig bis“ setzen."):
            return
        self._delete(municipal.delete_agreement, row.id, "Vereinbarung gelöscht.")

    def delete_activity(self) -> None:
        row = self.selected_activity()
        if row is None or not self._confirmed(
                "Tätigkeit löschen",
                f"„{row.kind_label}“ vom {format_date(row.held_on)} löschen? Ihre Stunden "
                "zählen dann im Controlling nicht mehr."):
            return
        self._delete(municipal.delete_activity, row.id, "Tätigkeit gelöscht.")

    def _delete(self, delete: Callable[..., None], row_id: str, text: str) -> None:
        try:
            delete(self._state.ctx, row_id)
        except KimdeskError as exc:
            QMessageBox.warning(self, "Nicht gelöscht", exc.message)
            return
        self._state.hub.status_message.emit(text)
