"""Fallrekonstruktion (concept 5.5.1): the list of reconstructions and the editor with title,
Zielsetzung, life areas and their topics, generative themes and the service-chain canvas.

A reconstruction started from a case (:func:`ReconstructionEditor.open_draft`) begins with the
case's pseudonymised people, the kinds of institutions it was referred to and its Handlungsfelder;
texts of the file are offered only as scrubbed suggestions, and every text is checked against the
case's people when it is saved. The reconstruction itself never refers to the case.
Saving goes through :mod:`kimdesk.casework.coordination.reconstructions`; the PDF is made off
the GUI thread and written only where the user saves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.coordination import reconstructions
from kimdesk.casework.coordination.reconstructions import (
    THEME_IN_USE,
    ReconstructionDraft,
    ReconstructionInput,
    ReconstructionRow,
    ThemeEdit,
)
from kimdesk.casework.pseudonymise import FreeTextCandidate
from kimdesk.errors import KimdeskError
from kimdesk.ui import hub as areas
from kimdesk.ui import printing
from kimdesk.ui.coordination import release
from kimdesk.ui.coordination.project_groups_tab import wrap_tree
from kimdesk.ui.coordination.release_dialog import (
    RECONSTRUCTION,
    ReleaseDialog,
    reconstruction_release_text,
)
from kimdesk.ui.coordination.reviews_tab import CasePickerDialog
from kimdesk.ui.coordination.service_chain import ServiceChainEditor
from kimdesk.ui.dialogs import open_dialog
from kimdesk.ui.fields import DateField, FieldErrors, format_date, set_tab_order
from kimdesk.ui.flow_layout import FlowLayout
from kimdesk.ui.phases.base import configure_table
from kimdesk.ui.reloading import ReloadWhenShown
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState

POSITIVE_HINT = ("Generative Themen positiv formulieren, als verbesserten Zustand – "
                 "zukunfts- und ergebnisorientiert (z. B. „Die Vereinbarkeit von Familie und "
                 "Qualifizierung wird … gewährleistet.“).")
_WARNING_STYLE = "color: #8a5300; font-weight: bold;"
_AREA_ROLE = Qt.ItemDataRole.UserRole + 1  # True on a life area, False on a topic


def _editable(item: QTreeWidgetItem | QTableWidgetItem | QListWidgetItem) -> None:
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)


class LifeAreasEditor(QWidget):
    """Lebensbereiche with their Themen: a two-level tree, edited in place (F2), reordered with
    the buttons or Strg+↑/↓, removed with Entf."""

    edited = Signal()

    def __init__(self, area_labels: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget(objectName="life_areas")
        self.tree.setHeaderHidden(True)
        wrap_tree(self.tree)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.area_choice = QComboBox(objectName="life_area_choice")
        self.area_choice.setEditable(True)
        # The vocabulary's long labels must not widen the form: the list pops up wide enough.
        self.area_choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.area_choice.setMinimumContentsLength(14)
        self.area_choice.addItems(area_labels)
        self.area_choice.setCurrentIndex(-1)
        self.area_choice.lineEdit().setPlaceholderText("Lebensbereich wählen oder eingeben")
        self.add_area_button = QPushButton("Lebensbereich hinzufügen", objectName="add_life_area")
        self.topic = QLineEdit(objectName="topic_text")
        self.topic.setPlaceholderText("Thema im gewählten Lebensbereich, Eingabe fügt hinzu")
        self.add_topic_button = QPushButton("Thema hinzufügen", objectName="add_topic")
        self.remove_button = QPushButton("Entfernen", objectName="remove_life_area_item")
        self.up_button = QPushButton("▲", objectName="move_up")
        self.up_button.setToolTip("Nach oben (Strg+↑)")
        self.down_button = QPushButton("▼", objectName="move_down")
        self.down_button.setToolTip("Nach unten (Strg+↓)")
        for button in (self.up_button, self.down_button):
            button.setFixedWidth(34)

        area_row = QHBoxLayout()
        area_row.addWidget(self.area_choice, 1)
        area_row.addWidget(self.add_area_button)
        topic_row = QHBoxLayout()
        topic_row.addWidget(self.topic, 1)
        topic_row.addWidget(self.add_topic_button)
        order_row = QHBoxLayout()
        order_row.addWidget(self.remove_button)
        order_row.addStretch(1)
        order_row.addWidget(self.up_button)
        order_row.addWidget(self.down_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(area_row)
        layout.addLayout(topic_row)
        layout.addWidget(self.tree, 1)
        layout.addLayout(order_row)

        self.add_area_button.clicked.connect(self.add_chosen_area)
        self.area_choice.lineEdit().returnPressed.connect(self.add_chosen_area)
        self.add_topic_button.clicked.connect(self.add_typed_topic)
        self.topic.returnPressed.connect(self.add_typed_topic)
        self.remove_button.clicked.connect(self.remove_current)
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.tree.itemChanged.connect(lambda *_: self.edited.emit())
        for keys, action in (("Delete", self.remove_current),
                             ("Ctrl+Up", lambda: self.move_current(-1)),
                             ("Ctrl+Down", lambda: self.move_current(1))):
            shortcut = QShortcut(QKeySequence(keys), self.tree, activated=action)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

    # --- model ------------------------------------------------------------------------------

    def value(self) -> list[dict[str, Any]]:
        result = []
        for index in range(self.tree.topLevelItemCount()):
            area = self.tree.topLevelItem(index)
            result.append({"area": area.text(0).strip(), "topics": [
                area.child(n).text(0).strip() for n in range(area.childCount())]})
        return result

    def set_value(self, life_areas: list[dict[str, Any]]) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        for entry in life_areas:
            area = self._area_item(str(entry.get("area", "")))
            for topic in entry.get("topics", []):
                self._topic_item(area, str(topic))
        self.tree.expandAll()
        self.tree.blockSignals(False)

    def _area_item(self, text: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([text])
        item.setData(0, _AREA_ROLE, True)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        _editable(item)
        self.tree.addTopLevelItem(item)
        item.setExpanded(True)
        return item

    def _topic_item(self, area: QTreeWidgetItem, text: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([text])
        item.setData(0, _AREA_ROLE, False)
        _editable(item)
        area.addChild(item)
        return item

    # --- actions ----------------------------------------------------------------------------

    def area(self, name: str) -> QTreeWidgetItem | None:
        key = name.strip().casefold()
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if item.text(0).strip().casefold() == key:
                return item
        return None

    def add_area(self, name: str) -> QTreeWidgetItem | None:
        """The life area ``name`` (added at the end unless it is there already), made current."""
        if not name.strip():
            return None
        item = self.area(name)
        if item is None:
            self.tree.blockSignals(True)
            item = self._area_item(name.strip())
            self.tree.blockSignals(False)
            self.edited.emit()
        self.tree.setCurrentItem(item)
        return item

    def add_chosen_area(self) -> None:
        if self.add_area(self.area_choice.currentText()) is not None:
            self.area_choice.setCurrentIndex(-1)
            self.area_choice.clearEditText()
            self.topic.setFocus()

    def add_topic(self, text: str, area_name: str | None = None) -> QTreeWidgetItem | None:
        """Add a topic to ``area_name`` (created if missing) or to the current life area."""
        if not text.strip():
            return None
        area = self.add_area(area_name) if area_name else self._current_area()
        if area is None:
            return None
        self.tree.blockSignals(True)
        item = self._topic_item(area, text.strip())
        self.tree.blockSignals(False)
        area.setExpanded(True)
        self.tree.setCurrentItem(area)
        self.edited.emit()
        return item

    def add_typed_topic(self) -> None:
        if self._current_area() is None:
            self.topic.setToolTip("Bitte zuerst einen Lebensbereich wählen.")
            return
        if self.add_topic(self.topic.text()) is not None:
            self.topic.clear()

    def _current_area(self) -> QTreeWidgetItem | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        return item if item.parent() is None else item.parent()

    def remove_current(self) -> None:
        item = self.tree.currentItem()
        if item is None:
            return
        parent = item.parent()
        if parent is None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        else:
            parent.removeChild(item)
        self.edited.emit()

    def move_current(self, step: int) -> None:
        """Move the current area among the areas, or the current topic within its area."""
        item = self.tree.currentItem()
        if item is None:
            return
        parent = item.parent()
        if parent is None:
            index = self.tree.indexOfTopLevelItem(item)
            target = index + step
            if not 0 <= target < self.tree.topLevelItemCount():
                return
            expanded = item.isExpanded()
            self.tree.takeTopLevelItem(index)
            self.tree.insertTopLevelItem(target, item)
            item.setExpanded(expanded)
        else:
            index = parent.indexOfChild(item)
            target = index + step
            if not 0 <= target < parent.childCount():
                return
            parent.takeChild(index)
            parent.insertChild(target, item)
        self.tree.setCurrentItem(item)
        self.edited.emit()


@dataclass
class _ThemeEntry:
    id: str | None
    statement: str
    mandate: str


class ThemesEditor(QWidget):
    """Generative Themen with their Arbeitsauftrag; a standing hint says they are formulated
    positively, and a second one warns while the typed statement reads like a deficit."""

    edited = Signal()
    COLUMNS = ("Generatives Thema", "Arbeitsauftrag")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.removed_ids: list[str] = []
        self.table = QTableWidget(0, 2, objectName="themes")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 190)
        self.statement = QPlainTextEdit(objectName="theme_statement")
        self.statement.setPlaceholderText(
            "Die Vereinbarkeit von … wird … gewährleistet.")
        self.statement.setTabChangesFocus(True)
        self.statement.setMaximumHeight(58)
        self.mandate = QLineEdit(objectName="theme_mandate")
        self.mandate.setPlaceholderText("Arbeitsauftrag (z. B. Projektgruppe mit …)")
        self.add_button = QPushButton("Thema hinzufügen", objectName="add_theme")
        self.remove_button = QPushButton("Thema entfernen", objectName="remove_theme")
        self.hint = QLabel(POSITIVE_HINT, objectName="theme_hint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #455a64;")
        self.warning = QLabel(objectName="theme_warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(_WARNING_STYLE)
        self.warning.hide()

        buttons = QHBoxLayout()
        buttons.addWidget(self.mandate, 1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.statement)
        layout.addLayout(buttons)
        layout.addWidget(self.warning)

        self.add_button.clicked.connect(self.add_typed_theme)
        self.remove_button.clicked.connect(self.remove_current)
        self.statement.textChanged.connect(self._check_wording)
        self.table.itemChanged.connect(self._table_changed)

    def entries(self) -> list[_ThemeEntry]:
        result = []
        for row in range(self.table.rowCount()):
            statement, mandate = self.table.item(row, 0), self.table.item(row, 1)
            result.append(_ThemeEntry(statement.data(Qt.ItemDataRole.UserRole),
                                      statement.text().strip(), mandate.text().strip()))
        return result

    def set_entries(self, entries: list[_ThemeEntry]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for entry in entries:
            self._append(entry)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()
        self.removed_ids = []

    def restore(self, entry: _ThemeEntry) -> None:
        """Show a stored theme again (its removal was refused)."""
        self.table.blockSignals(True)
        self._append(entry)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()

    def set_id(self, row: int, theme_id: str) -> None:
        self.table.blockSignals(True)
        self.table.item(row, 0).setData(Qt.ItemDataRole.UserRole, theme_id)
        self.table.blockSignals(False)

    def _append(self, entry: _ThemeEntry) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        statement = QTableWidgetItem(entry.statement)
        statement.setData(Qt.ItemDataRole.UserRole, entry.id)
        statement.setToolTip(entry.statement)
        self.table.setItem(row, 0, statement)
        self.table.setItem(row, 1, QTableWidgetItem(entry.mandate))

    def add_typed_theme(self) -> None:
        text = " ".join(self.statement.toPlainText().split())
        if not text:
            self.statement.setFocus()
            return
        self.table.blockSignals(True)
        self._append(_ThemeEntry(None, text, self.mandate.text().strip()))
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()
        self.statement.clear()
        self.mandate.clear()
        self.edited.emit()

    def remove_current(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        theme_id = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        if theme_id:
            self.removed_ids.append(theme_id)
        self.table.removeRow(row)
        self.edited.emit()

    def _check_wording(self) -> None:
        hint = reconstructions.positive_wording_hint(self.statement.toPlainText())
        self.warning.setText(f"Hinweis: Das klingt nach einem Mangel. {hint}" if hint else "")
        self.warning.setVisible(bool(hint))

    def _table_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            hint = reconstructions.positive_wording_hint(item.text())
            item.setToolTip(hint or item.text())
        self.table.resizeRowsToContents()
        self.edited.emit()


class CaseSuggestions(QGroupBox):
    """Scrubbed texts of the case the reconstruction starts from, to take over after reading;
    each is checked against the case's people again when the reconstruction is saved."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Vorschläge aus dem Fall", parent)
        self.setObjectName("case_suggestions_box")
        self._candidates: list[FreeTextCandidate] = []
        self.list = QListWidget(objectName="case_suggestions")
        self.list.setWordWrap(True)
        self.use_as_goal = QPushButton("Als Zielsetzung übernehmen", objectName="use_as_goal")
        self.use_as_topic = QPushButton("Als Thema übernehmen", objectName="use_as_topic")
        note = QLabel("Bereinigte Texte aus der Akte – bitte lesen und bei Bedarf ändern; "
                      "beim Speichern wird jeder Text gegen die Daten des Falls geprüft.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #455a64;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_as_goal)
        buttons.addWidget(self.use_as_topic)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def set_candidates(self, goals: tuple[FreeTextCandidate, ...],
                       topics: tuple[FreeTextCandidate, ...]) -> None:
        self._candidates = [*goals, *topics]
        self.list.clear()
        for candidate in self._candidates:
            item = QListWidgetItem(f"{candidate.source}: {candidate.suggestion}")
            item.setData(Qt.ItemDataRole.UserRole, candidate.key)
            self.list.addItem(item)
        self.setVisible(bool(self._candidates))

    def current(self) -> FreeTextCandidate | None:
        row = self.list.currentRow()
        return self._candidates[row] if 0 <= row < len(self._candidates) else None

    def select(self, key: str) -> FreeTextCandidate:
        row = next(i for i, c in enumerate(self._candidates) if c.key == key)
        self.list.setCurrentRow(row)
        return self._candidates[row]


class ReconstructionEditor(QWidget):
    """One Fallrekonstruktion. ``closed`` fires when the user goes back to the list."""

    closed = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._id: str | None = None
        self._case_id: str | None = None  # only while a reconstruction from a case is edited
        self._clean: tuple[Any, ...] = ()
        self._loading = False
        # Seam for tests: None means the real save dialog.
        self.choose_path: printing.PathChooser | None = None
        self.last_pdf: Path | None = None
        area_labels = [term.label for term in state.reference.terms("life_areas")]

        self.heading = QLabel(objectName="reconstruction_heading")
        self.heading.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.title = QLineEdit(objectName="title")
        self.presented_on = DateField(state.today, self)
        self.presented_on.setObjectName("presented_on")
        self.goal = QPlainTextEdit(objectName="goal")
        self.goal.setPlaceholderText("z. B. erfolgreiche Absolvierung einer Ausbildung")
        self.goal.setTabChangesFocus(True)
        self.goal.setMaximumHeight(70)
        self.life_areas = LifeAreasEditor(area_labels, self)
        self.themes = ThemesEditor(self)
        self.suggestions = CaseSuggestions(self)
        self.suggestions.hide()
        self.chain = ServiceChainEditor(self)
        self.save_button = QPushButton("Speichern", objectName="save")
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.save_button.setToolTip("Speichern (Strg+S)")
        self.pdf_button = QPushButton("PDF speichern …", objectName="save_pdf")
        self.close_button = QPushButton("Zur Liste", objectName="close_editor")
        self.message = QLabel(objectName="reconstruction_message")
        self.message.setWordWrap(True)
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "title": self.title, "goal": self.goal, "presented_on": self.presented_on,
            "life_areas": self.life_areas.tree, "actors": self.chain.view,
            "relations": self.chain.view, "statement": self.themes.table,
            "mandate": self.themes.table})

        form = QFormLayout()
        form.addRow("Titel*", self.title)
        form.addRow("Vorgestellt am", self.presented_on)
        form.addRow("Zielsetzung", self.goal)
        form_box = QGroupBox("Fallrekonstruktion")
        form_column = QVBoxLayout(form_box)
        form_column.addLayout(form)
        form_column.addWidget(self.suggestions, 10)
        form_column.addStretch(1)  # keeps the fields together while there are no suggestions
        areas_box = QGroupBox("Lebensbereiche und Themen")
        QVBoxLayout(areas_box).addWidget(self.life_areas)
        themes_box = QGroupBox("Generative Themen")
        QVBoxLayout(themes_box).addWidget(self.themes)
        top = QWidget(objectName="reconstruction_top")
        # Side by side where they fit; at 150 % on 1366×768 the boxes take lines of their own.
        grid = FlowLayout(top, fill=True)
        grid.addWidget(form_box)
        grid.addWidget(areas_box)
        grid.addWidget(themes_box)
        chain_box = QGroupBox("Dienstleistungskette")
        QVBoxLayout(chain_box).addWidget(self.chain)
        self.splitter = QSplitter(Qt.Orientation.Vertical, objectName="reconstruction_splitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(chain_box)
        self.splitter.setChildrenCollapsible(False)
        self._user_split = False  # once the user drags the splitter, the sizes are theirs
        self.splitter.splitterMoved.connect(self._splitter_moved)

        header = QHBoxLayout()
        header.addWidget(self.heading, 1)
        header.addWidget(self.close_button)
        header.addWidget(self.pdf_button)
        header.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.errors_label)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)
        set_tab_order(self.title, self.presented_on, self.goal, self.life_areas.area_choice,
                      self.life_areas.add_area_button, self.life_areas.topic,
                      self.life_areas.add_topic_button, self.life_areas.tree,
                      self.themes.table, self.themes.statement, self.themes.mandate,
                      self.themes.add_button, self.chain.actor_kind,
                      self.chain.add_actor_button, self.chain.relation_kind,
                      self.chain.connect_button, self.chain.delete_button,
                      self.chain.fit_button, self.chain.view, self.save_button)

        self.save_button.clicked.connect(self.save)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.close_button.clicked.connect(self.request_close)
        self.suggestions.use_as_goal.clicked.connect(self._take_goal)
        self.suggestions.use_as_topic.clicked.connect(self._take_topic)
        for signal in (self.title.textChanged, self.goal.textChanged,
                       self.presented_on.textChanged, self.life_areas.edited,
                       self.themes.edited, self.chain.edited):
            signal.connect(self._changed)

    def _splitter_moved(self, *_args: Any) -> None:
        self._user_split = True

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        if not self._user_split:
            # The diagram gets the larger part; the form keeps what its lists need.
            total = sum(self.splitter.sizes()) or self.splitter.height()
            top = max(190, min(int(total * 0.36), 340))
            self.splitter.setSizes([top, max(total - top, 200)])

    # --- opening ----------------------------------------------------------------------------

    @property
    def reconstruction_id(self) -> str | None:
        return self._id

    def open_new(self) -> None:
        self._fill(None, None, "", "", None, [], [], [], [])

    def open_existing(self, reconstruction_id: str) -> None:
        detail = reconstructions.reconstruction_detail(self._state.ctx, reconstruction_id)
        self._fill(detail.id, None, detail.title, detail.goal, detail.presented_on,
                   detail.life_areas, detail.actors, detail.relations,
                   [_ThemeEntry(t.id, t.statement, t.mandate) for t in detail.themes])

    def open_draft(self, case_id: str) -> None:
        """Start a new reconstruction from a case: pseudonymised, nothing stored yet."""
        draft: ReconstructionDraft = reconstructions.draft_from_case(self._state.ctx, case_id)
        self._fill(None, case_id, draft.title, "", None, draft.life_areas, draft.actors,
                   draft.relations, [])
        self.suggestions.set_candidates(draft.goal_candidates, draft.topic_candidates)
        self._clean = ()  # a draft is not saved yet
        self._show_message(f"Entwurf aus dem Fall ({draft.planning_area}): Personen erscheinen "
                           "nur mit neutraler Bezeichnung. Noch nicht gespeichert.")

    def _fill(self, reconstruction_id: str | None, case_id: str | None, title: str, goal: str,
              presented_on: Any, life_areas: list[dict[str, Any]],
              actors: list[dict[str, Any]], relations: list[dict[str, Any]],
              themes: list[_ThemeEntry]) -> None:
        self._loading = True
        self._id, self._case_id = reconstruction_id, case_id
        self.errors.clear()
        self.message.hide()
        self.title.setText(title)
        self.goal.setPlainText(goal)
        self.presented_on.set_value(presented_on)
        self.life_areas.set_value(life_areas)
        self.themes.set_entries(themes)
        self.suggestions.set_candidates((), ())
        self.chain.set_chain(actors, relations)
        self._loading = False
        self._clean = self._snapshot()
        self._update_heading()

    # --- state ------------------------------------------------------------------------------

    def _snapshot(self) -> tuple[Any, ...]:
        return (self.title.text(), self.goal.toPlainText(), self.presented_on.text(),
                repr(self.life_areas.value()),
                repr([(t.id, t.statement, t.mandate) for t in self.themes.entries()]),
                repr(self.chain.actors()), repr(self.chain.relations()))

    def has_unsaved_changes(self) -> bool:
        return self._snapshot() != self._clean

    def _changed(self, *_args: Any) -> None:
        if not self._loading:
            self._update_heading()

    def _update_heading(self) -> None:
        title = self.title.text().strip() or "Neue Fallrekonstruktion"
        self.heading.setText(title + (" – ungespeichert" if self.has_unsaved_changes() else ""))

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # --- suggestions ------------------------------------------------------------------------

    def _take_goal(self) -> None:
        candidate = self.suggestions.current()
        if candidate is not None:
            self.goal.setPlainText(candidate.suggestion)

    def _take_topic(self) -> None:
        candidate = self.suggestions.current()
        if candidate is None:
            return
        # Into the life area it was assessed under (a topic candidate's section); if that area
        # was removed, into the chosen one, or into a new area of that name.
        area: str | None = candidate.section
        if self.life_areas.area(candidate.section) is None and (
                self.life_areas.tree.currentItem() is not None):
            area = None
        self.life_areas.add_topic(candidate.suggestion, area)

    # --- saving -----------------------------------------------------------------------------

    def save(self) -> bool:
        """Save the reconstruction with its themes in one transaction: all of it, or nothing
        (the typed input stays, with the error at its field)."""
        self.errors.clear()
        ctx = self._state.ctx
        entries = self.themes.entries()
        try:
            data = ReconstructionInput(
                title=self.title.text(), goal=self.goal.toPlainText(),
                presented_on=self.presented_on.checked_value("presented_on"),
                life_areas=self.life_areas.value(), actors=self.chain.actors(),
                relations=self.chain.relations())
            self._id, theme_ids = reconstructions.save_reconstruction(
                ctx, self._id, data,
                [ThemeEdit(entry.id, entry.statement, entry.mandate) for entry in entries],
                removed_theme_ids=tuple(self.themes.removed_ids), case_id=self._case_id)
        except KimdeskError as exc:
            if getattr(exc, "field", None) == THEME_IN_USE:
                self._restore_removed_themes()
            self.errors.show_error(exc)
            return False
        self.themes.removed_ids.clear()
        for row, theme_id in enumerate(theme_ids):
            self.themes.set_id(row, theme_id)
        self._clean = self._snapshot()
        self._update_heading()
        self._show_message("Gespeichert.")
        return True

    def _restore_removed_themes(self) -> None:
        """A theme that findings or decisions build on cannot go: show it again."""
        if self._id is None:
            return
        stored = {t.id: t for t in reconstructions.theme_rows(self._state.ctx, self._id)}
        for theme_id in list(self.themes.removed_ids):
            self.themes.removed_ids.remove(theme_id)
            kept = stored.get(theme_id)
            if kept is not None:
                self.themes.restore(_ThemeEntry(kept.id, kept.statement, kept.mandate))

    def save_pdf(self) -> None:
        """Save first if needed, then make the PDF off the GUI thread and ask where to put it."""
        if (self._id is None or self.has_unsaved_changes()) and not self.save():
            return
        assert self._id is not None
        ctx, reconstruction_id = self._state.ctx, self._id
        self.pdf_button.setEnabled(False)
        self._show_message("PDF wird erstellt …")

        def saved(path: Path) -> None:
            self.last_pdf = path
            self._show_message(f"PDF gespeichert: {path}")

        from kimdesk.reports.reconstruction import reconstruction_pdf  # PDF library: on use

        printing.save_document(
            self, lambda: reconstruction_pdf(ctx, reconstruction_id),
            printing.file_name("Fallrekonstruktion", "", self._state.today()),
            choose_path=self.choose_path, on_saved=saved,
            on_cancelled=lambda: self._show_message("Kein PDF gespeichert."),
            on_failed=self._show_message,
        ).finished.connect(lambda: self.pdf_button.setEnabled(True))

    # --- closing ----------------------------------------------------------------------------

    def request_close(self) -> None:
        if self.has_unsaved_changes():
            answer = QMessageBox.question(
                self, "Ungespeicherte Änderungen",
                "Die Fallrekonstruktion hat ungespeicherte Änderungen. Speichern?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
            if answer == QMessageBox.StandardButton.Cancel:
                return
            if answer == QMessageBox.StandardButton.Save and not self.save():
                return
        self._clean = self._snapshot()
        self._case_id = None
        self.closed.emit()


def _row_columns() -> list[Column[ReconstructionRow]]:
    return [
        Column("Titel", lambda r: r.title, stretch=True),
        Column("Vorgestellt am", lambda r: format_date(r.presented_on)),
        Column("Lebensbereiche", lambda r: str(r.life_areas)),
        Column("Akteure", lambda r: str(r.actors)),
        Column("Hindernisse", lambda r: str(r.obstacles)),
        Column("Generative Themen", lambda r: str(r.themes)),
    ]


class ReconstructionsTab(QWidget):
    """The reconstructions as a list; opening one (or a new one) shows the editor instead."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._reloader = ReloadWhenShown(self, state, self.reload,
                                         areas=(areas.COORDINATION, areas.NETWORK))
        self.model: RowTableModel[ReconstructionRow] = RowTableModel(_row_columns(), self)
        self.table = QTableView(objectName="reconstruction_table")
        self.table.setModel(self.model)
        configure_table(self.table, stretch=(0,), fit=(1, 2, 3, 4, 5))
        self._dialog: QDialog | None = None
        self.new_button = QPushButton("Neue Fallrekonstruktion", objectName="new_reconstruction")
        self.from_case_button = QPushButton("Aus einem Fall …",
                                            objectName="reconstruction_from_case")
        self.from_case_button.setToolTip(
            "Einen eigenen Fall wählen: Personen, beteiligte Stellen und Lebensbereiche werden "
            "pseudonymisiert übernommen.")
        self.open_button = QPushButton("Öffnen", objectName="open_reconstruction")
        self.delete_button = QPushButton("Löschen", objectName="delete_reconstruction")
        self.list_message = QLabel(objectName="reconstruction_list_message")
        self.list_message.setWordWrap(True)
        # Team scope, a coordinator with a Kreis-Tresor: pass the reconstruction (anonymised,
        # with its generative themes) on to the Kreis.
        self.release_button = QPushButton("An den Kreis weitergeben …",
                                          objectName="release_reconstruction")
        self.release_button.setToolTip(
            "Die gewählte Fallrekonstruktion mit ihren generativen Themen in den Kreis-Tresor "
            "kopieren: alle Koordinatorinnen und Koordinatoren des Kreises sehen sie dann.")
        self.release_button.hide()
        self.release_state = QLabel(objectName="reconstruction_release_state")
        self.release_state.setStyleSheet("color: #1b5e20;")
        self.release_state.hide()
        self._released: dict[str, date] = {}
        # The Kreis-Tresor holds no cases: a reconstruction there comes from a team.
        self.from_case_button.setVisible(not state.is_county)
        intro = QLabel(
            "Fallrekonstruktionen, die die Teams an den Kreis gegeben haben: anonymisiert, mit "
            "Dienstleistungskette und generativen Themen (Konzept 5.5.1)." if state.is_county
            else "Anonymisierte und abstrahierte Fallschilderungen mit Dienstleistungskette "
                 "und generativen Themen (Konzept 5.5.1). „Aus einem Fall …“ übernimmt "
                 "einen eigenen Fall pseudonymisiert als Ausgangspunkt.")
        intro.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.list_message, 1)
        buttons.addWidget(self.release_state)
        buttons.addWidget(self.release_button)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.from_case_button)
        buttons.addWidget(self.new_button)
        list_page = QWidget(objectName="reconstruction_list_page")
        list_layout = QVBoxLayout(list_page)
        list_layout.addWidget(intro)
        list_layout.addWidget(self.table, 1)
        list_layout.addLayout(buttons)
        self.editor = ReconstructionEditor(state, self)
        self.stack = QStackedWidget(objectName="reconstruction_stack")
        self.stack.addWidget(list_page)
        self.stack.addWidget(self.editor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.new_button.clicked.connect(self.new_reconstruction)
        self.from_case_button.clicked.connect(self.choose_case)
        self.open_button.clicked.connect(self.open_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(self._update_release)
        self.release_button.clicked.connect(self.release_selected)
        self.editor.closed.connect(self.show_list)
        self._update_release()

    def reload(self) -> None:
        if not self._state.unlocked:
            return
        selected = self._selected()
        self.model.set_rows(reconstructions.reconstruction_rows(self._state.ctx))
        self._reloader.stale = False
        self.release_button.setVisible(self._state.can_release)
        self._released = (release.released_reconstructions(self._state)
                          if self._state.has_county and not self._state.is_county else {})
        if selected is not None:
            for index, row in enumerate(self.model.rows()):
                if row.id == selected.id:
                    self.table.selectRow(index)
        self._update_release()

    def _update_release(self) -> None:
        selected = self._selected()
        self.release_button.setEnabled(selected is not None and self._dialog is None)
        released = self._released.get(selected.id) if selected is not None else None
        self.release_state.setText(release.released_text(released))
        self.release_state.setVisible(released is not None)

    def released_on(self, reconstruction_id: str) -> date | None:
        """When the team reconstruction was last given to the Kreis (None: never)."""
        return self._released.get(reconstruction_id)

    def release_selected(self) -> None:
        """"An den Kreis weitergeben": confirm what leaves the team, then release."""
        row = self._selected()
        if row is None or self._dialog is not None or not self._state.can_release:
            return
        state = self._state
        try:
            detail = reconstructions.reconstruction_detail(state.ctx, row.id)
        except KimdeskError as exc:
            self.list_message.setText(exc.message)
            return
        self._dialog = dialog = ReleaseDialog(
            RECONSTRUCTION, reconstruction_release_text(detail),
            lambda: release.release_reconstruction(state, row.id), parent=self,
            released_on=self._released.get(row.id))

        def finished(result: int) -> None:
            self._dialog = None
            dialog.deleteLater()
            self._update_release()
            if result == QDialog.DialogCode.Accepted and state.unlocked:
                state.hub.status_message.emit("Fallrekonstruktion an den Kreis gegeben.")

        dialog.finished.connect(finished)
        open_dialog(dialog)

    def has_unsaved_changes(self) -> bool:
        return self.stack.currentWidget() is self.editor and self.editor.has_unsaved_changes()

    def _selected(self) -> ReconstructionRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _show_editor(self, action: Callable[[], None]) -> None:
        if self.has_unsaved_changes():
            self.list_message.setText("Bitte zuerst die geöffnete Fallrekonstruktion speichern "
                                      "oder schließen.")
            self.stack.setCurrentWidget(self.editor)
            return
        action()
        self.stack.setCurrentWidget(self.editor)
        self.editor.title.setFocus()

    def new_reconstruction(self) -> None:
        self._show_editor(self.editor.open_new)

    def open_selected(self) -> None:
        row = self._selected()
        if row is not None:
            self._show_editor(lambda: self.editor.open_existing(row.id))

    @property
    def dialog(self) -> QDialog | None:
        """The case picker while it is open."""
        return self._dialog

    def choose_case(self) -> None:
        """Aus einem Fall …: pick one of the own open cases (the same picker as for a
        Fallbesprechung; it is the presenter's own case load), then start the draft."""
        if self._dialog is not None or not self._state.unlocked:
            return
        picker = CasePickerDialog(self._state, self)
        picker.setWindowTitle("Fall für die Fallrekonstruktion wählen")
        self._dialog = picker

        def finished(result: int) -> None:
            # open(), not exec(): an auto-lock hides the dialog and shows it again later.
            self._dialog = None
            # Out of this tab at once: the picker lists names, and until the deferred delete
            # runs it would still be a (hidden) part of the coordination view.
            picker.setParent(None)
            picker.deleteLater()
            if result == QDialog.DialogCode.Accepted and picker.chosen_id is not None and (
                    self._state.unlocked):
                self.open_from_case(picker.chosen_id)

        picker.finished.connect(finished)
        picker.open()

    def open_from_case(self, case_id: str) -> None:
        """A new reconstruction from the case, pseudonymised."""
        try:
            self._show_editor(lambda: self.editor.open_draft(case_id))
        except KimdeskError as exc:
            self.stack.setCurrentIndex(0)
            self.list_message.setText(exc.message)

    def show_list(self) -> None:
        self.stack.setCurrentIndex(0)
        self.reload()

    def delete_selected(self) -> None:
        row = self._selected()
        if row is None:
            return
        answer = QMessageBox.question(self, "Fallrekonstruktion löschen",
                                      f"Die Fallrekonstruktion „{row.title}“ löschen?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            reconstructions.delete_reconstruction(self._state.ctx, row.id)
        except KimdeskError as exc:
            self.list_message.setText(exc.message)
            return
        self.list_message.clear()
