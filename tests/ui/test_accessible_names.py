"""BITV 2.0 / EN 301 549: every visible input, list and table of every screen and tab (and the
most used dialogs) has an accessible name that is not its value, and every interactive element
is reachable by Tab. The app names widgets from their labels (kimdesk/ui/accessibility.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QHeaderView,
    QLineEdit,
    QTabWidget,
    QWidget,
)

from kimdesk.casework.context import Context
from kimdesk.ui import accessibility
from kimdesk.ui.client_dialog import ClientDialog
from kimdesk.ui.client_file_tabs.cases import NewCaseDialog
from kimdesk.ui.contact_dialog import ContactDialog
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from tests.factories import CM, make_case, make_contact, make_person


@pytest.fixture
def names(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """As the app does at start (kimdesk.ui.start.application)."""
    installed = accessibility.install(qapp)
    yield
    qapp.removeEventFilter(installed)


@pytest.fixture
def window(qtbot: Any, app_state: AppState, names: None) -> Iterator[MainWindow]:
    main = MainWindow(app_state)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    yield main
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    main.discard_and_close()


def _value(widget: QWidget) -> str:
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QLineEdit):
        return widget.text()
    return ""


def unnamed(root: QWidget, where: str) -> list[str]:
    """Visible inputs, lists and tables without a name, or announced by their value."""
    QApplication.processEvents()
    problems = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, accessibility.INPUTS) or not widget.isVisible():
            continue
        if isinstance(widget, QHeaderView) or (
                isinstance(widget, QLineEdit)
                and isinstance(widget.parentWidget(), (QComboBox, QAbstractSpinBox))):
            continue  # part of a table, combo or spin box, which carries the name
        name = widget.accessibleName().strip()
        value = _value(widget).strip()
        if not name or (value and name == value):
            problems.append(f"{where}: {type(widget).__name__} {widget.objectName()!r} "
                            f"name={name!r} value={value!r}")
    return problems


def unreachable(qtbot: Any, root: QWidget, where: str) -> list[str]:
    """Interactive widgets Tab never reaches (Tab pressed around the window's focus chain)."""
    QApplication.processEvents()
    wanted = {
        w for w in root.findChildren(QWidget)
        if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus
        and isinstance(w, (accessibility.INPUTS, QAbstractButton, QTabWidget))
        and not isinstance(w, QHeaderView)
        and not (isinstance(w, QLineEdit)
                 and isinstance(w.parentWidget(), (QComboBox, QAbstractSpinBox)))
    }
    if not wanted:
        return []
    root.window().activateWindow()
    first = next(iter(wanted))
    first.setFocus(Qt.FocusReason.TabFocusReason)
    reached: set[QWidget] = set()
    for _ in range(4 * len(wanted) + 40):
        current = QApplication.focusWidget()
        if current is not None:
            reached.add(current)
            if isinstance(current.parentWidget(), (QComboBox, QAbstractSpinBox)):
                reached.add(current.parentWidget())
        focus = QApplication.focusWidget() or root
        qtbot.keyClick(focus, Qt.Key.Key_Tab)
    return [f"{where}: {type(w).__name__} {w.objectName()!r} not reachable by Tab"
            for w in wanted - reached if not isinstance(w, QTabWidget)]


def test_every_screen_and_tab_names_its_inputs(qtbot: Any, window: MainWindow,
                                               ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    make_contact(ctx, case)
    problems: list[str] = []
    for row, label in enumerate(window.NAVIGATION):
        window.navigation.setCurrentRow(row)
        page = window.pages.currentWidget()
        problems += unnamed(page, label)
        for tabs in page.findChildren(QTabWidget):
            for index in range(tabs.count()):
                if tabs.isVisible() and tabs.isTabEnabled(index):
                    tabs.setCurrentIndex(index)
                    problems += unnamed(tabs.widget(index), f"{label}/{tabs.tabText(index)}")
    window.open_client(client.id)
    for tabs in window.client_file.findChildren(QTabWidget):
        for index in range(tabs.count()):
            if tabs.isVisible() and tabs.isTabEnabled(index):
                tabs.setCurrentIndex(index)
                problems += unnamed(tabs.widget(index), f"Akte/{tabs.tabText(index)}")
    window.open_case(case.id)
    problems += unnamed(window.case_screen, "Fall")
    for tabs in window.case_screen.findChildren(QTabWidget):
        for index in range(tabs.count()):
            if tabs.isVisible() and tabs.isTabEnabled(index):
                tabs.setCurrentIndex(index)
                problems += unnamed(tabs.widget(index), f"Fall/{tabs.tabText(index)}")
    assert problems == [], "\n".join(problems)


def test_the_most_used_dialogs_name_their_inputs_and_reach_them_by_tab(
        qtbot: Any, app_state: AppState, ctx: Context, names: None) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    dialogs: list[tuple[str, QDialog]] = [
        ("Neue Person", ClientDialog(app_state)),
        ("Kontakt erfassen", ContactDialog(app_state, case.id,
                                           people=[(client.id, client.display_name)])),
        ("Neuer Fall", NewCaseDialog(app_state, client.id)),
    ]
    problems: list[str] = []
    for title, dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        problems += unnamed(dialog, title)
        problems += unreachable(qtbot, dialog, title)
        dialog.reject()
    assert problems == [], "\n".join(problems)


def test_form_fields_are_named_by_their_own_label_not_the_group(
        qtbot: Any, app_state: AppState, names: None) -> None:
    dialog = ClientDialog(app_state)
    qtbot.addWidget(dialog)
    dialog.show()
    QApplication.processEvents()
    assert dialog.first_name.accessibleName() == "Vorname"
    assert dialog.last_name.accessibleName() == "Nachname"
    assert dialog.municipality.accessibleName() == "Kommune"


def test_unlabelled_inputs_are_named_from_their_context(qtbot: Any, names: None) -> None:
    from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QTableWidget, QVBoxLayout

    page = QWidget()
    row = QHBoxLayout()
    since, search, table = QComboBox(), QLineEdit(), QTableWidget(2, 2)
    since.addItems(["Januar", "Februar"])
    search.setPlaceholderText("Suche nach Name …")
    row.addWidget(QLabel("Von:"))
    row.addWidget(since)
    row.addWidget(search)
    group = QGroupBox("Wiedervorlagen und Fristen")
    QVBoxLayout(group).addWidget(table)
    own = QComboBox()
    own.setAccessibleName("Eigener Name")
    column = QVBoxLayout(page)
    column.addLayout(row)
    column.addWidget(group)
    column.addWidget(own)
    qtbot.addWidget(page)
    page.show()
    QApplication.processEvents()
    assert since.accessibleName() == "Von"  # not "Januar"
    assert search.accessibleName() == "Suche nach Name"
    assert table.accessibleName() == "Wiedervorlagen und Fristen"
    assert own.accessibleName() == "Eigener Name"  # a name set by the code stays
