"""Projektgruppen (concept 5.5.2): the list with the selected group's Zielschema, and the dialog
that edits name, status, period, the Zielschema Grundsatzziel → Rahmenziele →
Handlungsstrategien, the member institutions of the Netzwerk and the linked generative themes
and findings. Everything is saved through :mod:`kimdesk.casework.coordination.project_groups`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework import network
from kimdesk.casework.coordination import findings, project_groups, reconstructions
from kimdesk.casework.coordination.findings import FindingRow
from kimdesk.casework.coordination.project_groups import (
    FrameworkGoal,
    ProjectGroupDetail,
    ProjectGroupInput,
    ProjectGroupRow,
)
from kimdesk.errors import KimdeskError
from kimdesk.ui import hub as areas
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

_RELOAD_ON = (areas.COORDINATION, areas.NETWORK)
_LEVEL, _TEXT = 0, 1  # columns of the Zielschema tree


class _WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their wrapped text: QTreeView sizes rows before it knows the column
    width, so long Ziele and Erkenntnisse would be cut to one line."""

    def __init__(self, view: QTreeWidget) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
                 ) -> QSize:
        size = super().sizeHint(option, index)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        fitted = self._view.header().sectionResizeMode(index.column()) == (
            QHeaderView.ResizeMode.ResizeToContents)
        if not isinstance(text, str) or not text or fitted:
            return size  # a column sized to its contents never wraps
        width = self._view.columnWidth(index.column()) - 12
        if index.column() == 0:
            depth, parent = 0, index.parent()
            while parent.isValid():
                depth, parent = depth + 1, parent.parent()
            width -= self._view.indentation() * (depth + 1)
        bounds = option.fontMetrics.boundingRect(QRect(0, 0, max(width, 60), 100_000),
                                                 int(Qt.TextFlag.TextWordWrap), text)
        return QSize(size.width(), max(size.height(), bounds.height() + 6))


def wrap_tree(view: QTreeWidget) -> None:
    """Let ``view`` wrap long texts into taller rows, also after a column is resized."""
    view.setWordWrap(True)
    view.setUniformRowHeights(False)
    view.setTextElideMode(Qt.TextElideMode.ElideNone)
    view.setItemDelegate(_WrappingDelegate(view))
    view.header().sectionResized.connect(lambda *_: view.doItemsLayout())


def finding_label(row: FindingRow) -> str:
    """One line per Erkenntnis: when, where in life, what kind of barrier, what."""
    return (f"{format_date(row.noted_on)} · {row.life_area_label} · {row.barrier_label} · "
            f"{row.municipality_label}: {row.description}")


class CheckList(QWidget):
    """A filterable list of things to link, each with a checkbox; ``checked()`` gives ids."""

    def __init__(self, name: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit(objectName=f"{name}_filter")
        self.filter.setPlaceholderText(placeholder)
        self.list = QListWidget(objectName=name)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        self.filter.textChanged.connect(self._apply_filter)

    def set_items(self, items: Iterable[tuple[str, str]], checked: Iterable[str] = ()) -> None:
        chosen = set(checked)
        self.list.clear()
        for item_id, text in items:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, item_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if item_id in chosen
                               else Qt.CheckState.Unchecked)
            item.setToolTip(text)
            self.list.addItem(item)
        self._apply_filter(self.filter.text())

    def checked(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, item_id: str, checked: bool = True) -> None:
        for index in range(self.list.count()):
            item = self.list.item(index)
            if item.data(Qt.ItemDataRole.UserRole) == item_id:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                return
        raise KeyError(item_id)

    def texts(self, only_checked: bool = False) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())
                if not only_checked or self.list.item(i).checkState() == Qt.CheckState.Checked]

    def _apply_filter(self, text: str) -> None:
        needle = text.casefold().strip()
        for index in range(self.list.count()):
            item = self.list.item(index)
            item.setHidden(bool(needle) and needle not in item.text().casefold())


class ZielschemaEditor(QWidget):
    """Grundsatzziel → Rahmenziele → Handlungsstrategien as an editable tree (concept Abb. 10).

    Text typed in the field above goes in with the buttons; F2 or a double click changes an
    entry in place, Entf removes one, Strg+↑/↓ reorders."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget(objectName="zielschema")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(("Ebene", "Formulierung"))
        wrap_tree(self.tree)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(_LEVEL, QHeaderView.ResizeMode.ResizeToContents)
        self.root = QTreeWidgetItem(["Grundsatzziel", ""])
        self.root.setFlags(self.root.flags() | Qt.ItemFlag.ItemIsEditable)
        font = self.root.font(_LEVEL)
        font.setBold(True)
        self.root.setFont(_LEVEL, font)
        self.tree.addTopLevelItem(self.root)
        self.text = QLineEdit(objectName="schema_text")
        self.text.setPlaceholderText("Formulierung eingeben, dann Ebene wählen …")
        self.principal_button = QPushButton("Als Grundsatzziel", objectName="set_principal_goal")
        self.goal_button = QPushButton("Rahmenziel hinzufügen", objectName="add_framework_goal")
        self.strategy_button = QPushButton("Handlungsstrategie hinzufügen",
                                           objectName="add_strategy")
        self.strategy_button.setToolTip("Zum gewählten Rahmenziel")
        self.remove_button = QPushButton("Entfernen", objectName="remove_schema_item")
        self.up_button = QPushButton("▲", objectName="schema_up")
        self.down_button = QPushButton("▼", objectName="schema_down")
        for button in (self.up_button, self.down_button):
            button.setFixedWidth(34)
        hint = QLabel("Das Grundsatzziel positiv und als zu erreichenden Zustand formulieren; "
                      "daraus Rahmenziele ableiten, zu jedem Rahmenziel Handlungsstrategien.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #455a64;")
        buttons = QHBoxLayout()
        for button in (self.principal_button, self.goal_button, self.strategy_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        order = QHBoxLayout()
        order.addWidget(self.remove_button)
        order.addStretch(1)
        order.addWidget(self.up_button)
        order.addWidget(self.down_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hint)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        layout.addWidget(self.tree, 1)
        layout.addLayout(order)

        self.principal_button.clicked.connect(lambda: self.set_principal(self.text.text(),
                                                                         clear=True))
        self.goal_button.clicked.connect(self._add_typed_goal)
        self.strategy_button.clicked.connect(self._add_typed_strategy)
        self.remove_button.clicked.connect(self.remove_current)
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.tree.itemDoubleClicked.connect(lambda item, _column: self.edit(item))
        for keys, action in (("F2", lambda: self.edit(self.tree.currentItem())),
                             ("Delete", self.remove_current),
                             ("Ctrl+Up", lambda: self.move_current(-1)),
                             ("Ctrl+Down", lambda: self.move_current(1))):
            shortcut = QShortcut(QKeySequence(keys), self.tree, activated=action)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

    # --- model ------------------------------------------------------------------------------

    def principal_goal(self) -> str:
        return self.root.text(_TEXT).strip()

    def framework_goals(self) -> list[FrameworkGoal]:
        return [FrameworkGoal(goal.text(_TEXT).strip(),
                              [goal.child(n).text(_TEXT).strip()
                               for n in range(goal.childCount())])
                for goal in (self.root.child(i) for i in range(self.root.childCount()))]

    def set_schema(self, principal: str, goals: Iterable[FrameworkGoal]) -> None:
        self.root.setText(_TEXT, principal)
        self.root.takeChildren()
        for goal in goals:
            item = self._add(self.root, goal.goal)
            for strategy in goal.strategies:
                self._add(item, strategy)
        self.tree.expandAll()
        self._renumber()

    # --- editing ----------------------------------------------------------------------------

    def set_principal(self, text: str, *, clear: bool = False) -> None:
        if text.strip():
            self.root.setText(_TEXT, " ".join(text.split()))
            if clear:
                self.text.clear()

    def add_goal(self, text: str) -> QTreeWidgetItem | None:
        if not text.strip():
            return None
        item = self._add(self.root, text)
        self.root.setExpanded(True)
        self._renumber()
        self.tree.setCurrentItem(item)
        return item

    def add_strategy(self, text: str) -> QTreeWidgetItem | None:
        """A Handlungsstrategie under the current Rahmenziel (or the one of the current
        strategy); None when no Rahmenziel is chosen."""
        goal = self._current_goal()
        if goal is None or not text.strip():
            return None
        item = self._add(goal, text)
        goal.setExpanded(True)
        self._renumber()
        self.tree.setCurrentItem(goal)
        return item

    def _add_typed_goal(self) -> None:
        if self.add_goal(self.text.text()) is not None:
            self.text.clear()
            self.text.setFocus()

    def _add_typed_strategy(self) -> None:
        if self.add_strategy(self.text.text()) is not None:
            self.text.clear()
            self.text.setFocus()
        elif self._current_goal() is None:
            self.text.setToolTip("Bitte zuerst ein Rahmenziel wählen.")

    def _current_goal(self) -> QTreeWidgetItem | None:
        item = self.tree.currentItem()
        if item is None or item is self.root:
            return None
        return item if item.parent() is self.root else item.parent()

    def _add(self, parent: QTreeWidgetItem, text: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(["", " ".join(text.split())])
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        parent.addChild(item)
        return item

    def edit(self, item: QTreeWidgetItem | None) -> None:
        if item is not None:
            self.tree.setCurrentItem(item, _TEXT)
            self.tree.editItem(item, _TEXT)

    def remove_current(self) -> None:
        item = self.tree.currentItem()
        if item is None:
            return
        if item is self.root:
            self.root.setText(_TEXT, "")
            return
        item.parent().removeChild(item)
        self._renumber()

    def move_current(self, step: int) -> None:
        item = self.tree.currentItem()
        if item is None or item is self.root:
            return
        parent = item.parent()
        index = parent.indexOfChild(item)
        target = index + step
        if not 0 <= target < parent.childCount():
            return
        expanded = item.isExpanded()
        parent.takeChild(index)
        parent.insertChild(target, item)
        item.setExpanded(expanded)
        self._renumber()
        self.tree.setCurrentItem(item)

    def _renumber(self) -> None:
        for i in range(self.root.childCount()):
            goal = self.root.child(i)
            goal.setText(_LEVEL, f"Rahmenziel {i + 1}")
            for n in range(goal.childCount()):
                goal.child(n).setText(_LEVEL, f"Handlungsstrategie {i + 1}.{n + 1}")


class ProjectGroupDialog(QDialog):
    """Create or change a Projektgruppe; saves through casework itself (``saved_id``)."""

    def __init__(self, state: AppState, group: ProjectGroupDetail | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._group = group
        self.saved_id: str | None = None
        ctx = state.ctx
        ref = state.reference
        self.setWindowTitle("Projektgruppe bearbeiten" if group else "Neue Projektgruppe")
        self.resize(1240, 780)
        self.name = QLineEdit(objectName="name")
        self.status = CodeCombo(((t.code, t.label) for t in ref.terms("project_group_statuses")),
                                parent=self)
        self.status.setObjectName("status")
        self.started_on = DateField(state.today, self)
        self.started_on.setObjectName("started_on")
        self.ends_on = DateField(state.today, self)
        self.ends_on.setObjectName("ends_on")
        self.schema = ZielschemaEditor(self)
        self.members = CheckList("members", "Einrichtung filtern …", self)
        self.themes = CheckList("linked_themes", "Thema filtern …", self)
        self.findings = CheckList("linked_findings", "Erkenntnis filtern …", self)
        self.theme_to_principal = QPushButton("Gewähltes Thema als Grundsatzziel",
                                              objectName="principal_from_theme")
        self.theme_to_principal.setToolTip("Das erste angehakte generative Thema als "
                                           "Grundsatzziel übernehmen (Konzept 5.5.2).")

        municipalities = {m.code: m.name for m in ref.municipalities}
        self.members.set_items(
            ((i.id, f"{i.name} – {ref.label('institution_types', i.institution_type)}, "
                    f"{municipalities.get(i.municipality, 'kreisweit')}")
             for i in network.institutions(ctx)),
            [m.id for m in group.members] if group else ())
        self.themes.set_items(((t.id, t.statement) for t in reconstructions.theme_rows(ctx)),
                              [t.id for t in group.themes] if group else ())
        self.findings.set_items(((f.id, finding_label(f)) for f in findings.finding_rows(ctx)),
                                [f.id for f in group.findings] if group else ())
        if group is not None:
            self.name.setText(group.name)
            self.status.set_code(group.status)
            self.started_on.set_value(group.started_on)
            self.ends_on.set_value(group.ends_on)
            self.schema.set_schema(group.principal_goal, group.framework_goals)
        else:
            self.status.set_code("planned")

        form = QFormLayout()
        form.addRow("Name*", self.name)
        form.addRow("Status", self.status)
        period = QHBoxLayout()
        period.addWidget(self.started_on)
        period.addWidget(QLabel("bis"))
        period.addWidget(self.ends_on)
        period.addStretch(1)
        form.addRow("Zeitraum", period)
        schema_box = QGroupBox("Zielschema")
        QVBoxLayout(schema_box).addWidget(self.schema)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(form)
        left_layout.addWidget(schema_box, 1)
        themes_page = QWidget()
        themes_layout = QVBoxLayout(themes_page)
        themes_layout.addWidget(self.themes, 1)
        themes_layout.addWidget(self.theme_to_principal)
        self.links = QTabWidget(objectName="group_links")
        self.links.addTab(self.members, "Mitglieder (Netzwerk)")
        self.links.addTab(themes_page, "Generative Themen")
        self.links.addTab(self.findings, "Erkenntnisse")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.links)
        splitter.setSizes([700, 520])
        self.errors_label = QLabel(objectName="errors")
        self.errors = FieldErrors(self.errors_label, {
            "name": self.name, "status": self.status, "started_on": self.started_on,
            "ends_on": self.ends_on, "principal_goal": self.schema.tree,
            "framework_goals": self.schema.tree, "members": self.members.list,
            "theme_ids": self.themes.list, "finding_ids": self.findings.list})
        buttons = save_cancel_buttons(self, "Speichern", self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.errors_label)
        layout.addWidget(buttons)
        set_tab_order(self.name, self.status, self.started_on, self.ends_on, self.schema.text,
                      self.schema.principal_button, self.schema.goal_button,
                      self.schema.strategy_button, self.schema.tree, self.links)
        self.theme_to_principal.clicked.connect(self._principal_from_theme)

    def _principal_from_theme(self) -> None:
        chosen = self.themes.checked()
        if not chosen:
            self.errors.show("Bitte zuerst ein generatives Thema anhaken.", "theme_ids")
            return
        index = next(i for i in range(self.themes.list.count())
                     if self.themes.list.item(i).data(Qt.ItemDataRole.UserRole) == chosen[0])
        self.schema.set_principal(self.themes.list.item(index).text())

    def value(self) -> ProjectGroupInput:
        return ProjectGroupInput(
            name=self.name.text(), principal_goal=self.schema.principal_goal(),
            framework_goals=self.schema.framework_goals(), members=self.members.checked(),
            theme_ids=self.themes.checked(), finding_ids=self.findings.checked(),
            status=self.status.code() or "planned",
            started_on=self.started_on.checked_value("started_on"),
            ends_on=self.ends_on.checked_value("ends_on"))

    def save(self) -> None:
        self.errors.clear()
        ctx = self._state.ctx
        try:
            data = self.value()
            if self._group is None:
                saved = project_groups.create_project_group(ctx, data)
            else:
                saved = project_groups.update_project_group(ctx, self._group.id, data)
        except KimdeskError as exc:
            self.errors.show_error(exc)
            return
        self.saved_id = saved.id
        self.accept()


def _columns() -> list[Column[ProjectGroupRow]]:
    return [
        Column("Projektgruppe", lambda r: r.name, stretch=True),
        Column("Status", lambda r: r.status_label),
        Column("Beginn", lambda r: format_date(r.started_on)),
        Column("Ende", lambda r: format_date(r.ends_on)),
        Column("Mitglieder", lambda r: str(r.members)),
        Column("Rahmenziele", lambda r: str(r.framework_goals)),
        Column("Strategien", lambda r: str(r.strategies)),
        Column("Themen", lambda r: str(r.themes)),
    ]


class ProjectGroupsTab(QWidget):
    """Projektgruppen with the Zielschema, members and links of the selected one."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._reloader = ReloadWhenShown(self, state, self.reload,
                                         areas=_RELOAD_ON)
        self._dialog: QDialog | None = None
        self.model: RowTableModel[ProjectGroupRow] = RowTableModel(_columns(), self)
        self.table = QTableView(objectName="project_group_table")
        self.table.setModel(self.model)
        configure_table(self.table, stretch=(0,), fit=(1, 2, 3, 4, 5, 6, 7))
        self.new_button = QPushButton("Neue Projektgruppe …", objectName="new_project_group")
        self.edit_button = QPushButton("Bearbeiten …", objectName="edit_project_group")
        self.message = QLabel(objectName="project_groups_message")
        self.message.setWordWrap(True)

        self.detail_title = QLabel(objectName="project_group_title")
        self.detail_title.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.detail_title.setWordWrap(True)
        self.detail_title.setTextFormat(Qt.TextFormat.PlainText)
        self.schema_view = QTreeWidget(objectName="project_group_schema")
        self.schema_view.setHeaderLabels(("Ebene", "Formulierung"))
        wrap_tree(self.schema_view)
        self.schema_view.header().setSectionResizeMode(0,
                                                       QHeaderView.ResizeMode.ResizeToContents)
        self.links_view = QTreeWidget(objectName="project_group_links")
        self.links_view.setHeaderHidden(True)
        wrap_tree(self.links_view)
        detail = QWidget(objectName="project_group_detail")
        detail_layout = QVBoxLayout(detail)
        detail_layout.addWidget(self.detail_title)
        detail_layout.addWidget(QLabel("<b>Zielschema</b>"))
        detail_layout.addWidget(self.schema_view, 3)
        detail_layout.addWidget(QLabel("<b>Mitglieder und Verknüpfungen</b>"))
        detail_layout.addWidget(self.links_view, 2)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel("Zeitlich und thematisch befristete Arbeitsformate zu generativen "
                       "Themen; ihre Ergebnisse gehen an die Lenkungsgruppe (Konzept 5.5.2).")
        intro.setWordWrap(True)
        left_layout.addWidget(intro)
        left_layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.new_button)
        left_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(detail)
        splitter.setSizes([640, 620])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.new_button.clicked.connect(self.new_group)
        self.edit_button.clicked.connect(self.edit_selected)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())
        self._show_selected()

    # --- loading ----------------------------------------------------------------------------

    def reload(self) -> None:
        if not self._state.unlocked:
            return
        selected = self.selected()
        self.model.set_rows(project_groups.project_group_rows(self._state.ctx))
        self._reloader.stale = False
        if selected is not None:
            self.select(selected.id)
        self._show_selected()

    def selected(self) -> ProjectGroupRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, group_id: str) -> None:
        for row, group in enumerate(self.model.rows()):
            if group.id == group_id:
                self.table.selectRow(row)
                return

    def _show_selected(self) -> None:
        row = self.selected()
        self.edit_button.setEnabled(row is not None)
        self.schema_view.clear()
        self.links_view.clear()
        if row is None or not self._state.unlocked:
            self.detail_title.setText("Keine Projektgruppe gewählt.")
            return
        detail = project_groups.project_group_detail(self._state.ctx, row.id)
        period = " – ".join(filter(None, (format_date(detail.started_on),
                                          format_date(detail.ends_on))))
        self.detail_title.setText(f"{detail.name} ({detail.status_label}"
                                  + (f", {period}" if period else "") + ")")
        root = QTreeWidgetItem(["Grundsatzziel", detail.principal_goal or "–"])
        self.schema_view.addTopLevelItem(root)
        for i, goal in enumerate(detail.framework_goals, start=1):
            item = QTreeWidgetItem([f"Rahmenziel {i}", goal.goal])
            root.addChild(item)
            for n, strategy in enumerate(goal.strategies, start=1):
                item.addChild(QTreeWidgetItem([f"Handlungsstrategie {i}.{n}", strategy]))
        self.schema_view.expandAll()
        for title, texts in (
                ("Mitglieder", [f"{m.name} ({m.institution_type_label})" for m in detail.members]),
                ("Generative Themen", [t.label for t in detail.themes]),
                ("Erkenntnisse", [finding_label(f) for f in detail.findings]),
                ("Beschlüsse der Lenkungsgruppe", [d.label for d in detail.decisions])):
            branch = QTreeWidgetItem([f"{title} ({len(texts)})"])
            self.links_view.addTopLevelItem(branch)
            for text in texts:
                child = QTreeWidgetItem([text])
                child.setToolTip(0, text)
                branch.addChild(child)
        self.links_view.expandAll()

    # --- dialogs ----------------------------------------------------------------------------

    @property
    def dialog(self) -> QDialog | None:
        return self._dialog

    def _open(self, dialog: ProjectGroupDialog, after: Callable[[str], None]) -> None:
        # open(), not exec(): an auto-lock hides dialogs and shows them again after unlock.
        self._dialog = dialog

        def finished(result: int) -> None:
            self._dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted and dialog.saved_id and (
                    self._state.unlocked):
                after(dialog.saved_id)

        dialog.finished.connect(finished)
        dialog.open()

    def new_group(self) -> None:
        if self._dialog is None and self._state.unlocked:
            self._open(ProjectGroupDialog(self._state, parent=self), self._saved)

    def edit_selected(self) -> None:
        row = self.selected()
        if row is None or self._dialog is not None:
            return
        detail = project_groups.project_group_detail(self._state.ctx, row.id)
        self._open(ProjectGroupDialog(self._state, detail, self), self._saved)

    def _saved(self, group_id: str) -> None:
        self.select(group_id)
        self.message.setText("Projektgruppe gespeichert.")
