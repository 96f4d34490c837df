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

from kimdesk.casework.consents import consents_of
from kimdesk.casework.context import Context
from kimdesk.ui import accessibility
from kimdesk.ui.client_dialog import ClientDialog
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


def _dialog_classes() -> set[type[QDialog]]:
    """Every dialog class the desktop defines (all modules of kimdesk.ui imported)."""
    import importlib
    import pkgutil

    import kimdesk.ui

    for module in pkgutil.walk_packages(kimdesk.ui.__path__, "kimdesk.ui."):
        importlib.import_module(module.name)
    found: set[type[QDialog]] = set()
    pending: list[type[QDialog]] = [QDialog]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("kimdesk.ui."):
                found.add(sub)
    return found


def test_every_dialog_names_its_inputs_and_reaches_them_by_tab(
        qtbot: Any, app_state: AppState, ctx: Context, names: None) -> None:
    """Every dialog reachable from the main window (every QDialog class of kimdesk.ui, so a
    new dialog fails here until it is added), opened with the data it needs."""

    from kimdesk.casework import case_views, documents, network
    from kimdesk.casework.coordination import reviews
    from kimdesk.casework.coordination.reviews import ReviewDraft
    from kimdesk.models.enums import ConsentKind
    from kimdesk.ui.case_dialogs import CloseCaseDialog, ConvertCaseDialog
    from kimdesk.ui.client_file import ClientFileScreen
    from kimdesk.ui.client_file_tabs.consents import RevokeDialog
    from kimdesk.ui.client_file_tabs.documents import DocumentViewer
    from kimdesk.ui.client_file_tabs.household import HouseholdDialog
    from kimdesk.ui.coordination.finding_dialog import FindingDialog
    from kimdesk.ui.coordination.meeting_view import OutcomeDialog
    from kimdesk.ui.coordination.municipal_tab import ActivityDialog, AgreementDialog
    from kimdesk.ui.coordination.project_groups_tab import ProjectGroupDialog
    from kimdesk.ui.coordination.release_dialog import FINDING, ReleaseDialog
    from kimdesk.ui.coordination.review_dialog import ReviewDialog
    from kimdesk.ui.coordination.reviews_tab import CasePickerDialog
    from kimdesk.ui.coordination.steering_tab import (
        DecisionDialog,
        MeetingDialog,
        SteeringMemberDialog,
    )
    from kimdesk.ui.handover_dialog import HandoverDialog
    from kimdesk.ui.lock_screen import RecoveryCodeDialog
    from kimdesk.ui.network_screen import InstitutionDialog as NetworkInstitutionDialog
    from kimdesk.ui.phases.linking import InstitutionDialog as LinkingInstitutionDialog
    from kimdesk.ui.privacy_screen import DateReasonDialog
    from kimdesk.ui.team_transfer_dialog import TeamTransferDialog
    from tests.coordination_builders import build_example5_case

    example = build_example5_case(ctx)
    client, case = example.client, example.case
    detail = case_views.load_case(ctx, case.id)
    review = reviews.prepare_review(ctx, case.id, ReviewDraft(
        occasion="Welche Kinderbetreuung kommt in Frage?", relevant_information="",
        development="", network="", held_on=ctx.today(), tags=[]))
    [consent, *_] = [c for c in consents_of(ctx, client.id)]
    attachment = documents.add_attachment(ctx, client.id, "Notiz.txt", b"Pass mitbringen.")
    akte = ClientFileScreen(app_state)
    qtbot.addWidget(akte)
    akte.resize(1366, 768)
    akte.show()
    akte.show_client(client.id)
    dialogs: list[tuple[str, QDialog]] = [
        ("Neue Person", ClientDialog(app_state)),
        ("Neue Organisation", ClientDialog(app_state, organisation=True)),
        ("Neuer Fall", akte.new_case_dialog()),
        ("Termin", akte.appointment_dialog()),
        ("Brief", akte.letter_dialog()),
        ("Kontakt erfassen", akte.contact_dialog(case.id)),
        ("Einwilligung", akte.consents.consent_dialog(ConsentKind.DATA_PROCESSING.value)),
        ("Schweigepflichtentbindung", akte.consents.consent_dialog(ConsentKind.RELEASE.value)),
        ("Widerruf", RevokeDialog(app_state, consent.id, "Einwilligung", akte)),
        ("Frist", akte.deadlines.deadline_dialog()),
        ("Dokument", akte.documents.add_dialog()),
        ("Dokument ansehen", DocumentViewer(
            attachment, documents.read_attachment(ctx, attachment.id)[1],
            save_copy=lambda: None)),
        ("Haushalt anlegen", HouseholdDialog(app_state, client.id, label="Familie K.",
                                             municipality=client.municipality, address="")),
        ("Haushaltsmitglied", akte.household.add_member_dialog()),
        ("Beziehung", akte.household.relation_dialog()),
        ("Aufenthalt", akte.residence.residence_dialog()),
        ("Fall übergeben", HandoverDialog(app_state, detail)),
        ("Fall an ein anderes Team übergeben", TeamTransferDialog(app_state, detail)),
        ("Umwandeln", ConvertCaseDialog(app_state, detail)),
        ("Fall abschließen", CloseCaseDialog(app_state, detail)),
        ("Erkenntnis", FindingDialog(app_state, case_id=case.id)),
        ("Einrichtung (Vermittlung)", LinkingInstitutionDialog(app_state)),
        ("Einrichtung (Netzwerk)", NetworkInstitutionDialog(
            app_state, network.institutions(ctx, None)[0])),
        ("Widerruf/Zurückstellen", DateReasonDialog(
            app_state, "Löschung zurückstellen", "Aufbewahren bis", "Begründung",
            lambda _on, _text: None, {})),
        ("Fall für die Fallbesprechung", CasePickerDialog(app_state)),
        ("Fallbesprechung vorbereiten", ReviewDialog(app_state, case_id=case.id)),
        ("Fallbesprechung bearbeiten", ReviewDialog(app_state, review_id=review.id)),
        ("Ergebnis der Fallbesprechung", OutcomeDialog(app_state, review.id)),
        ("Projektgruppe", ProjectGroupDialog(app_state)),
        ("Mitglied der Lenkungsgruppe", SteeringMemberDialog(app_state)),
        ("Sitzung", MeetingDialog(app_state)),
        ("Beschluss", DecisionDialog(app_state)),
        ("Vereinbarung", AgreementDialog(app_state)),
        ("Aktivität", ActivityDialog(app_state)),
        ("An den Kreis weitergeben", ReleaseDialog(
            FINDING, "Lebensbereich: Kinderbetreuung\n\nBeschreibung:\nKeine Plätze.",
            lambda: "")),
        ("Wiederherstellungscode", RecoveryCodeDialog("ABCD-EFGH-JKMN-PQRS-TVWX-YZ23-45")),
    ]
    covered = {type(dialog) for _title, dialog in dialogs}
    assert _dialog_classes() - covered == set()
    problems: list[str] = []
    for title, dialog in dialogs:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)  # the viewer's
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
