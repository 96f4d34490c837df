"""The Fall screen, driven through its real widgets and checked in the vault afterwards.

Beispiel 4 of the concept (Familie H.) runs through all six phases to a closed case; the phase
order, a Kurzintervention's 6th session, conversions, the closing rule and unsaved input are
checked on smaller cases. The screen opens its dialogs with open(), so a test fills them
directly; a message box a dialog shows with exec() is answered from a polling timer, never
left waiting.

Set ``KIMDESK_SCREENSHOT_DIR`` to a directory to keep screenshots of every phase form.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QWidget,
)

from kimdesk.casework import case_views, cases, clients, deadlines, network, planning
from kimdesk.casework.case_views import CaseDetail, GoalRow, PersonRef, StepRow
from kimdesk.casework.consents import record_consent
from kimdesk.casework.context import Context
from kimdesk.models import Case, Client
from kimdesk.models.enums import CaseKind, CaseStatus, Phase
from kimdesk.ui import hub as areas
from kimdesk.ui.case_dialogs import CloseCaseDialog, ConvertCaseDialog
from kimdesk.ui.case_models import GoalTreeModel
from kimdesk.ui.case_screen import CaseScreen
from kimdesk.ui.contact_dialog import ContactDialog
from kimdesk.ui.phases.linking import InstitutionDialog
from kimdesk.ui.row_model import Column, RowTableModel
from kimdesk.ui.state import AppState
from tests.factories import (
    CM,
    SHORT,
    SUPPORT,
    data_processing_consent,
    make_case,
    make_contact,
    make_institution,
    make_person,
    make_waiver,
)
from tests.ui.support import choose, type_text

SCREENSHOT_DIR = os.environ.get("KIMDESK_SCREENSHOT_DIR")
# The main window gives its screens the window minus the navigation column and the status bar.
EMBEDDED = (1366 - 180, 768 - 40)


# --- helpers ----------------------------------------------------------------------------------


def click(qtbot: Any, button: QAbstractButton) -> None:
    assert button.isVisible(), f"{button.objectName()} is not visible"
    assert button.isEnabled(), f"{button.objectName()} is disabled"
    if isinstance(button, QCheckBox | QRadioButton):
        # On the box itself: a check box stretched by its layout reacts only near its label.
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))
    else:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def when_modal(kind: type[QWidget], action: Callable[[Any], None],
               errors: list[BaseException], timeout: float = 10.0) -> None:
    """Run ``action`` on the next modal widget of ``kind`` once it is shown (polled).

    If the action fails, the modal is closed so that no ``exec()`` is left waiting; the error
    is collected in ``errors`` for the test to raise.
    """
    give_up = time.monotonic() + timeout

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, kind) and widget.isVisible():
            try:
                action(widget)
            except BaseException as exc:
                errors.append(exc)
                widget.close()
        elif time.monotonic() < give_up:
            QTimer.singleShot(20, poll)
        else:
            errors.append(TimeoutError(f"no {kind.__name__} appeared"))

    QTimer.singleShot(0, poll)


def raise_collected(errors: list[BaseException]) -> None:
    if errors:
        raise errors[0]


def shot(screen: QWidget, name: str,
         sizes: tuple[tuple[int, int], ...] = ((1366, 768), EMBEDDED)) -> None:
    """Render the screen at each size (the first named ``case_<name>.png``, the others with
    their size); keep the images when a screenshot directory is set."""
    previous = screen.size()
    for number, size in enumerate(sizes):
        screen.resize(*size)
        QApplication.processEvents()
        image = screen.grab()
        assert not image.isNull()
        if SCREENSHOT_DIR:
            Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
            suffix = "" if number == 0 else f"_{size[0]}x{size[1]}"
            image.save(str(Path(SCREENSHOT_DIR) / f"case_{name}{suffix}.png"))
    screen.resize(previous)
    QApplication.processEvents()


def dialog_shot(dialog: QWidget, name: str) -> None:
    """Render a dialog at the size it opened with."""
    QApplication.processEvents()
    image = dialog.grab()
    assert not image.isNull()
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        image.save(str(Path(SCREENSHOT_DIR) / f"case_dialog_{name}.png"))


def button_in(widget: QWidget, text_part: str) -> QPushButton:
    for button in widget.findChildren(QPushButton):
        if text_part in button.text():
            return button
    raise AssertionError(f"no button with {text_part!r}")


@pytest.fixture
def screen(qtbot: Any, app_state: AppState) -> CaseScreen:
    widget = CaseScreen(app_state)
    qtbot.addWidget(widget)
    widget.resize(*EMBEDDED)
    widget.show()
    return widget


def detail_of(ctx: Context, case: Case) -> CaseDetail:
    return case_views.load_case(ctx, case.id)


# --- Beispiel 4: Familie H. -------------------------------------------------------------------


def test_beispiel_4_familie_h_through_all_six_phases(
        qtbot: Any, app_state: AppState, clock: Any, screen: CaseScreen) -> None:
    # The Ordnungsbehörde introduces the family two weeks after their assignment to the Kommune.
    clock.today = date(2025, 5, 12)
    ctx = app_state.ctx
    frau = make_person(ctx, consent=True, first_name="Mariam", last_name="Hosseini",
                       gender="female", birth_date=date(1990, 3, 2), nationality="AF",
                       municipality="kleve", languages="Dari, Englisch")
    herr = make_person(ctx, consent=True, allow_duplicate=True, first_name="Ahmad",
                       last_name="Hosseini", gender="male", birth_date=date(1986, 8, 19),
                       nationality="AF", municipality="kleve", languages="Dari, etwas Deutsch")
    household = clients.create_household(ctx, "Familie H.", "kleve")
    clients.add_to_household(ctx, household.id, frau.id, "Ehepartner:in")
    clients.add_to_household(ctx, household.id, herr.id, "Ehepartner:in")
    case = cases.open_case(ctx, frau.id, cases.CaseInput(kind=CM))
    jobcenter = make_institution(ctx, "jobcenter")
    # Herr H. releases the Jobcenter from confidentiality for his master data and his
    # education and work, so the case manager may introduce him there.
    waiver = make_waiver(ctx, herr, jobcenter,
                         information_kinds=("master_data", "education_work"),
                         purpose="Vermittlung in ein Coaching")

    screen.show_case(case.id)
    assert screen.case_id == case.id
    assert "Hosseini, Mariam" in screen.title.text()
    assert screen.tabs.isTabVisible(0)
    assert screen.stepper.state_of(Phase.INTAKE) == "current"
    assert all(screen.stepper.state_of(p) == "ahead" for p in list(Phase)[1:])

    # --- Intake: Anliegen, Zugangsweg, indication, Art. 13; Herr H. joins the case
    intake = screen.intake
    type_text(qtbot, intake.concern,
              "Kita-Platz für Tochter S., Schulanmeldung für K. und P., Sprachkurs für beide, "
              "Anträge SGB II, Kleidung, Schwimmkurs für K.")
    choose(intake.access_route, "public_order_office")
    click(qtbot, intake.cm_yes)
    type_text(qtbot, intake.art13_on, "heute")
    assert screen.has_unsaved_changes()
    click(qtbot, intake.save_button)
    assert intake.errors.message == ""
    assert not screen.has_unsaved_changes()
    choose(intake.participant, herr.id)
    click(qtbot, intake.add_participant_button)
    saved = detail_of(ctx, case)
    assert saved.access_route == "public_order_office"
    assert saved.cm_indicated is True
    assert saved.art13_informed_on == date(2025, 5, 12)
    assert "Schwimmkurs" in saved.concern
    assert [p.id for p in saved.people] == [frau.id, herr.id]
    assert "Hosseini, Ahmad" in intake.people_label.text()
    shot(screen, "intake")

    # --- Assessment: several life areas, for both spouses
    clock.advance(7)
    click(qtbot, screen.next_button)
    assert screen.stepper.state_of(Phase.ASSESSMENT) == "current"
    assert screen.phase_stack.currentIndex() == Phase.ASSESSMENT.index
    form = screen.assessment
    assessments = [
        (frau.id, "language", "Kaum Deutschkenntnisse, spricht sehr gut Englisch.",
         "Hoch motiviert, Nachbarin kann S. stundenweise betreuen.",
         "Kein Kita-Platz für S. vor dem nächsten Jahr.",
         "Möchte schnell Deutsch lernen.", 3, 1, "Integrationskursträger"),
        (frau.id, "childcare", "Tochter S. (4) ohne Betreuungsplatz.", "Nachbarin hilft.",
         "Kita erst im kommenden Jahr.", "Braucht Betreuung für den Sprachkurs.", 2, 2,
         "Jugendamt (Tagespflege)"),
        (herr.id, "work", "Grundlegende Deutschkenntnisse, Zeugnisse aus Afghanistan.",
         "Berufserfahrung, alle Dokumente vorhanden.", "Keine Anerkennung der Abschlüsse.",
         "Möchte eine berufliche Perspektive entwickeln.", 3, 1, "Jobcenter"),
        (herr.id, "livelihood", "Anträge auf Leistungen nach dem SGB II liegen vor.",
         "Kann mit Unterstützung ausfüllen.", "Formulare unverständlich.",
         "Will die Familie absichern.", 2, 3, "Jobcenter"),
    ]
    for (person, area, situation, resources, problems, view, need, priority,
         institutions) in assessments:
        choose(form.person, person)
        choose(form.life_area, area)
        type_text(qtbot, form.situation, situation)
        type_text(qtbot, form.resources, resources)
        type_text(qtbot, form.problems, problems)
        type_text(qtbot, form.client_view, view)
        choose(form.need, need)
        form.priority.setValue(priority)
        type_text(qtbot, form.institutions, institutions)
        click(qtbot, form.save_button)
        assert form.errors.message == ""
    stored = {(a.client_id, a.life_area): a for a in planning.assessments_of(ctx, case.id)}
    assert set(stored) == {(p, a) for p, a, *_ in assessments}
    assert stored[(herr.id, "work")].client_view == "Möchte eine berufliche Perspektive " \
                                                    "entwickeln."
    assert stored[(frau.id, "language")].need == 3
    assert stored[(frau.id, "language")].priority == 1
    assert form.model.rowCount() == 4
    shot(screen, "assessment")

    # --- Planning: a Zielvereinbarung for each spouse, with Handlungsschritte
    clock.advance(60)
    click(qtbot, screen.next_button)
    form = screen.planning
    plans = {
        frau.id: ("Einen Sprachkurs besuchen und schnell Deutsch lernen", "language", [
            ("Sprachkurs mit passenden Zeiten suchen", "Case Manager", "+14"),
            ("Betreuung von S. durch die Nachbarin absprechen", "Frau H.", "+14"),
        ]),
        herr.id: ("Berufliche Perspektive entwickeln (Coaching)", "work", [
            ("Termin bei der Fallmanagerin des Jobcenters vereinbaren", "Case Manager", "+7"),
            ("Zeugnisse zur Anerkennungsberatung mitnehmen", "Herr H.", "+30"),
        ]),
    }
    for person, (title, area, steps) in plans.items():
        choose(form.person, person)
        type_text(qtbot, form.goal_title, title)
        choose(form.goal_life_area, area)
        type_text(qtbot, form.goal_due, "+365")
        type_text(qtbot, form.goal_agreed, "heute")
        click(qtbot, form.add_goal_button)
        assert form.goal_errors.message == ""
        # The new goal is offered for its steps right away.
        assert form.step_goal.currentText().endswith(title)
        for description, responsible, due in steps:
            type_text(qtbot, form.step_description, description)
            type_text(qtbot, form.step_responsible, responsible)
            type_text(qtbot, form.step_due, due)
            click(qtbot, form.add_step_button)
            assert form.step_errors.message == ""
    goal_frau, = planning.goals_of(ctx, case.id, frau.id)
    goal_herr, = planning.goals_of(ctx, case.id, herr.id)
    assert goal_frau.title.startswith("Einen Sprachkurs")
    assert goal_herr.life_area == "work"
    assert goal_herr.agreed_on == clock.today
    steps_herr = planning.steps_of(ctx, goal_herr.id)
    assert [s.responsible for s in steps_herr] == ["Case Manager", "Herr H."]
    assert steps_herr[0].due_on == date.fromordinal(clock.today.toordinal() + 7)
    # The tree shows one Zielvereinbarung per person: person → goal → steps.
    tree = form.model
    assert tree.rowCount() == 2
    first_person = tree.index(0, 0)
    assert first_person.data() == "Zielvereinbarung Hosseini, Mariam"
    assert tree.rowCount(tree.index(0, 0, first_person)) == 2
    shot(screen, "planning")

    # --- Linking: a course provider (created here) and the Jobcenter, with outcomes
    clock.advance(14)
    click(qtbot, screen.next_button)
    form = screen.linking
    click(qtbot, form.new_institution_button)
    dialog = form.dialog
    assert isinstance(dialog, InstitutionDialog)
    type_text(qtbot, dialog.name, "Sprachschule Niederrhein, Integrationskurse")
    choose(dialog.institution_type, "integration_course_provider")
    assert dialog.legal_domain.code() == "aufenthg"  # proposed by the type (§ 44 AufenthG)
    choose(dialog.municipality, "kleve")
    dialog_shot(dialog, "institution")
    click(qtbot, dialog.save_button)
    assert form.dialog is None
    provider = next(i for i in network.institutions(ctx) if i.name.startswith("Sprachschule"))
    assert form.institution.code() == provider.id
    choose(form.person, frau.id)
    type_text(qtbot, form.purpose, "Integrationskurs in Teilzeit, Start in wenigen Wochen")
    click(qtbot, form.refer_button)
    assert form.errors.message == ""

    # Frau H. has released no one: passing her data to the Jobcenter is refused.
    choose(form.institution, jobcenter.id)
    type_text(qtbot, form.purpose, "Coaching mit Deutschunterricht")
    click(qtbot, form.shares_data)
    click(qtbot, form.information_kinds["master_data"])
    click(qtbot, form.information_kinds["education_work"])
    assert "Keine gültige Schweigepflichtentbindung" in form.release_hint.text()
    click(qtbot, form.refer_button)
    assert "keine passende Schweigepflichtentbindung" in form.errors.message
    assert len(network.referrals_of(ctx, case.id)) == 1
    assert form.purpose.text() == "Coaching mit Deutschunterricht"  # nothing typed is lost
    # For Herr H. it is covered by his Schweigepflichtentbindung.
    choose(form.person, herr.id)
    assert "Schweigepflichtentbindung vom 12.05.2025" in form.release_hint.text()
    click(qtbot, form.refer_button)
    assert form.errors.message == ""
    referral = next(r for r in network.referrals_of(ctx, case.id)
                    if r.institution_id == jobcenter.id)
    assert referral.client_id == herr.id
    assert referral.shares_data
    assert referral.information_kinds == ["master_data", "education_work"]
    assert referral.consent_id == waiver.id
    assert form.selected_referral() is not None
    assert form.selected_referral().id == referral.id  # type: ignore[union-attr]
    choose(form.outcome, "appointment_made")
    click(qtbot, form.save_outcome_button)
    assert form.outcome_errors.message == ""
    assert network.referrals_of(ctx, case.id)[-1].outcome == "appointment_made"
    shot(screen, "linking")

    # --- Monitoring: a step done, a Wiedervorlage, a Verlaufsnotiz; the referral's result
    clock.advance(21)
    click(qtbot, screen.next_button)
    form = screen.monitoring
    course_step = planning.steps_of(ctx, goal_frau.id)[0]
    form.select_step(course_step.id)
    click(qtbot, form.complete_step_button)
    jobcenter_step = planning.steps_of(ctx, goal_herr.id)[0]
    form.select_step(jobcenter_step.id)
    type_text(qtbot, form.done_on, "gestern")
    click(qtbot, form.complete_step_button)
    assert form.step_errors.message == ""
    assert planning.steps_of(ctx, goal_herr.id)[0].done_on == date.fromordinal(
        clock.today.toordinal() - 1)
    choose(form.deadline_kind, "follow_up")
    type_text(qtbot, form.deadline_due, "+7")
    type_text(qtbot, form.deadline_title, "Wöchentliches Telefonat mit Familie H.")
    click(qtbot, form.add_deadline_button)
    assert form.deadline_errors.message == ""
    due = [d for d in deadlines.due_items(ctx, 14) if d.case_id == case.id]
    assert any(d.title == "Wöchentliches Telefonat mit Familie H." for d in due)

    click(qtbot, form.add_note_button)
    note = screen.dialog
    assert isinstance(note, ContactDialog)
    choose(note.mode, "phone")
    type_text(qtbot, note.note, "Coaching beginnt in zwei Wochen; Hinweis auf die "
                                "Anerkennungsberatung gegeben.")
    choose(note.person, herr.id)
    click(qtbot, note.save_button)
    assert screen.dialog is None
    contact, = cases.contacts_of(ctx, case.id)
    assert contact.mode == "phone"
    assert contact.client_id == herr.id
    assert form.contact_model.rowCount() == 1
    # The Jobcenter appointment was kept: its result is recorded in the (earlier) Linking form.
    click(qtbot, screen.stepper.buttons[Phase.LINKING])
    assert screen.phase_stack.currentIndex() == Phase.LINKING.index
    assert screen.revisit_button.isVisible()
    screen.linking.select_referral(referral.id)
    choose(screen.linking.outcome, "attended")
    click(qtbot, screen.linking.save_outcome_button)
    assert network.referrals_of(ctx, case.id)[-1].outcome == "attended"
    click(qtbot, screen.stepper.buttons[Phase.MONITORING])
    assert screen.phase_stack.currentIndex() == Phase.MONITORING.index
    shot(screen, "monitoring")

    # --- Evaluation after about one and a half years: both goals reached, closing talk
    clock.today = date(2026, 11, 20)
    click(qtbot, screen.next_button)
    form = screen.evaluation
    assert screen.stepper.state_of(Phase.EVALUATION) == "current"
    assert not screen.next_button.isVisible()
    choose(form.attainment_combos[goal_frau.id], "full")
    choose(form.attainment_combos[goal_herr.id], "full")
    assert screen.has_unsaved_changes()
    click(qtbot, form.save_button)
    assert form.errors.message == ""
    assert not screen.has_unsaved_changes()
    shot(screen, "evaluation")

    click(qtbot, form.close_button)
    closing = screen.dialog
    assert isinstance(closing, CloseCaseDialog)
    assert closing.reason.code() == "goals_achieved"  # proposed from the evaluation
    type_text(qtbot, closing.note, "Gemeinsamer Rückblick auf eineinhalb Jahre; die Familie "
                                   "braucht derzeit keine Unterstützung mehr. Kontaktdaten "
                                   "von Beratungsstellen mitgegeben.")
    dialog_shot(closing, "close")
    click(qtbot, closing.findChild(QPushButton, "save"))
    assert screen.dialog is None

    # What the vault holds now.
    history = cases.phase_history(ctx, case.id)
    assert [h.to_phase for h in history] == [p.value for p in Phase]
    assert all(h.created_by == "Anna Becker" for h in history)
    goals = {g.client_id: g for g in planning.goals_of(ctx, case.id)}
    assert goals[frau.id].attainment == "full"
    assert goals[herr.id].attainment == "full"
    assert goals[herr.id].evaluated_on == date(2026, 11, 20)
    closed = detail_of(ctx, case)
    assert closed.status == CaseStatus.CLOSED
    assert closed.closing_reason == "goals_achieved"
    assert closed.closed_on == date(2026, 11, 20)
    assert "Kontaktdaten von Beratungsstellen" in closed.closing_note
    assert all(d.done_on is not None for d in closed.deadlines)
    # The screen now only shows the case.
    assert "abgeschlossen am 20.11.2026 (Ziele erreicht)" in screen.meta.text()
    assert not screen.record_contact_button.isEnabled()
    assert not screen.close_button.isEnabled()
    assert not screen.next_button.isVisible()
    assert not screen.evaluation.save_button.isEnabled()
    assert "Abschlussgespräch" in screen.evaluation.summary.text()
    assert screen.phase_history_model.rowCount() == 6
    shot(screen, "closed")
    for phase in Phase:
        click(qtbot, screen.stepper.buttons[phase])
        shot(screen, f"closed_{phase.value}", ((1920, 1080),))
    screen.tabs.setCurrentIndex(1)
    shot(screen, "contacts")
    screen.tabs.setCurrentIndex(2)
    shot(screen, "history")


# --- phase order ------------------------------------------------------------------------------


def test_a_phase_cannot_be_skipped_but_an_earlier_one_revisited(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    screen.show_case(case.id)

    # Phases ahead are not offered ...
    for phase in list(Phase)[1:]:
        assert not screen.stepper.buttons[phase].isEnabled()
    assert screen.next_button.text() == "Weiter zu Assessment ▸"
    # ... and a skip is refused with casework's message.
    assert not screen.request_phase(Phase.PLANNING.value)
    assert screen.message_text.startswith("Die Phasen laufen der Reihe nach: als Nächstes "
                                          "folgt Assessment")
    assert detail_of(ctx, case).phase == Phase.INTAKE

    click(qtbot, screen.next_button)
    click(qtbot, screen.next_button)
    assert detail_of(ctx, case).phase == Phase.PLANNING
    assert screen.message_text == ""

    # Back to the Assessment: view it, then change into it with a note.
    click(qtbot, screen.stepper.buttons[Phase.ASSESSMENT])
    assert screen.phase_stack.currentIndex() == Phase.ASSESSMENT.index
    assert not screen.next_button.isVisible()
    type_text(qtbot, screen.phase_note, "Neue Lage nach Umzug: Assessment ergänzen")
    click(qtbot, screen.revisit_button)
    history = cases.phase_history(ctx, case.id)
    assert [(h.from_phase, h.to_phase) for h in history][-1] == ("planning", "assessment")
    assert history[-1].note == "Neue Lage nach Umzug: Assessment ergänzen"
    assert history[-1].created_by == "Anna Becker"
    assert screen.stepper.state_of(Phase.ASSESSMENT) == "current"
    assert screen.stepper.state_of(Phase.PLANNING) == "ahead"
    assert screen.phase_history_model.rowCount() == 4
    assert screen.phase_history_model.index(3, 4).data() == history[-1].note


def test_intake_that_finds_case_management_unfit_blocks_the_assessment(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    case = make_case(ctx, make_person(ctx, consent=True), CM)
    screen.show_case(case.id)

    click(qtbot, screen.intake.save_button)  # no decision yet
    assert "ob Case Management passt" in screen.intake.errors.message
    click(qtbot, screen.intake.cm_no)
    assert screen.intake.cm_hint.isVisible()
    click(qtbot, screen.intake.save_button)
    click(qtbot, screen.next_button)
    assert screen.message_text == ("Im Intake wurde festgestellt, dass Case Management nicht "
                                   "passt.")
    assert detail_of(ctx, case).phase == Phase.INTAKE


# --- Kurzintervention, conversion, closing ----------------------------------------------------


def test_fifth_session_of_a_short_intervention_warns(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    case = make_case(ctx, make_person(ctx), SHORT)
    for _ in range(4):
        make_contact(ctx, case)
    screen.show_case(case.id)
    assert screen.session_count.text() == "Sitzung 4 von 5"

    click(qtbot, screen.record_contact_button)
    dialog = screen.dialog
    assert isinstance(dialog, ContactDialog)
    type_text(qtbot, dialog.note, "Kursbeginn und Unterrichtsmaterial erklärt.")
    type_text(qtbot, dialog.follow_up, "+14")
    click(qtbot, dialog.save_button)

    assert screen.dialog is None
    assert screen.session_count.text() == "Sitzung 5 von 5"
    assert screen.message_text.startswith("Dies ist die 5. Sitzung")
    assert detail_of(ctx, case).deadlines[0].title.startswith("Nachfassen zum Kontakt vom ")


def test_sixth_session_of_a_short_intervention_converts_it(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    client = make_person(ctx)
    case = make_case(ctx, client, SHORT)
    for _ in range(5):
        make_contact(ctx, case)
    screen.show_case(case.id)
    assert screen.session_count.text() == "Sitzung 5 von 5"
    assert not screen.tabs.isTabVisible(0)  # no phases outside case management
    assert screen.tabs.tabText(1) == "Kontakte (5)"
    assert screen.contacts_model.rowCount() == 5
    shot(screen, "short_intervention")

    errors: list[BaseException] = []

    def choose_process_support(box: QMessageBox) -> None:
        assert "6. Sitzung" in box.text()
        click(qtbot, button_in(box, "prozesshafte Begleitung"))

    click(qtbot, screen.record_contact_button)
    dialog = screen.dialog
    assert isinstance(dialog, ContactDialog)
    type_text(qtbot, dialog.note, "Anmeldeunterlagen gemeinsam ausgefüllt.")
    # Saving asks in a message box (its own exec()); the timer answers it.
    when_modal(QMessageBox, choose_process_support, errors)
    click(qtbot, dialog.save_button)
    raise_collected(errors)
    assert screen.dialog is None

    detail = detail_of(ctx, case)
    assert detail.kind == CaseKind.PROCESS_SUPPORT
    assert detail.session_count == 6
    assert detail.contacts[-1].note == "Anmeldeunterlagen gemeinsam ausgefüllt."
    history = cases.kind_history(ctx, case.id)
    assert [(h.from_kind, h.to_kind) for h in history] == [
        (None, SHORT), (SHORT, SUPPORT)]
    assert history[-1].reason == "6. Sitzung"
    assert "Prozesshafte Begleitung" in screen.title.text()
    assert not screen.session_count.isVisible()
    assert "umgewandelt" in screen.message_text
    assert screen.kind_history_model.rowCount() == 2


def test_conversion_to_case_management_needs_consent_then_starts_with_intake(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    client = make_person(ctx)
    case = make_case(ctx, client, SUPPORT)
    screen.show_case(case.id)
    assert screen.convert_button.isEnabled()

    click(qtbot, screen.convert_button)
    dialog = screen.dialog
    assert isinstance(dialog, ConvertCaseDialog)
    assert [dialog.target.itemData(i) for i in range(dialog.target.count())] == [CM]
    type_text(qtbot, dialog.reason, "Mehrere Stellen und Rechtskreise beteiligt")
    dialog.save()
    dialog_shot(dialog, "convert")
    assert "Einwilligung in die Datenverarbeitung" in dialog.errors.message
    assert dialog.result() == 0

    record_consent(ctx, client.id, data_processing_consent(ctx))
    dialog.save()
    assert screen.dialog is None
    assert detail_of(ctx, case).phase == Phase.INTAKE
    assert screen.tabs.isTabVisible(0)
    assert screen.tabs.currentIndex() == 0
    assert screen.stepper.state_of(Phase.INTAKE) == "current"
    assert not screen.convert_button.isEnabled()


def test_closing_case_management_as_achieved_needs_the_evaluation(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    case = make_case(ctx, make_person(ctx, consent=True), CM, phase="monitoring")
    screen.show_case(case.id)

    click(qtbot, screen.close_button)
    dialog = screen.dialog
    assert isinstance(dialog, CloseCaseDialog)
    dialog.save()
    assert dialog.errors.message == "Bitte den Abschlussgrund wählen."
    choose(dialog.reason, "goals_achieved")
    type_text(qtbot, dialog.note, "Abschlussgespräch geführt.")
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert "endet mit der Evaluation" in dialog.errors.message
    assert dialog.note.toPlainText() == "Abschlussgespräch geführt."
    assert detail_of(ctx, case).status == CaseStatus.OPEN
    # Another reason closes it at once.
    choose(dialog.reason, "moved_away")
    dialog.save()
    assert screen.dialog is None
    assert detail_of(ctx, case).closing_reason == "moved_away"
    assert "abgeschlossen" in screen.meta.text()


def test_zur_akte_opens_the_client_file(qtbot: Any, app_state: AppState,
                                        screen: CaseScreen) -> None:
    ctx = app_state.ctx
    client = make_person(ctx)
    screen.show_case(make_case(ctx, client, SHORT).id)
    with qtbot.waitSignal(app_state.hub.client_opened) as opened:
        click(qtbot, screen.to_file_button)
    assert opened.args == [client.id]


# --- unsaved input ----------------------------------------------------------------------------


def test_typed_input_survives_a_reload_and_is_reported_unsaved(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM, phase="assessment")
    screen.show_case(case.id)
    assert not screen.has_unsaved_changes()

    form = screen.assessment
    choose(form.life_area, "housing")
    type_text(qtbot, form.situation, "Wohnt beengt in einer Übergangswohnung.")
    # Another area is chosen: the text waits as a draft and comes back.
    choose(form.life_area, "health")
    assert form.situation.toPlainText() == ""
    assert screen.has_unsaved_changes()
    app_state.hub.data_changed.emit(areas.CASES)  # e.g. a contact saved elsewhere
    choose(form.life_area, "housing")
    assert form.situation.toPlainText() == "Wohnt beengt in einer Übergangswohnung."
    click(qtbot, form.save_button)
    assert not screen.has_unsaved_changes()
    saved, = planning.assessments_of(ctx, case.id)
    assert saved.life_area == "housing"
    # A saved area opens with its values from the table.
    choose(form.life_area, "work")
    form.table.clicked.emit(form.model.index(0, 0))
    assert form.life_area.code() == "housing"
    assert form.situation.toPlainText() == "Wohnt beengt in einer Übergangswohnung."
    assert "Erhoben am" in form.state_label.text()

    type_text(qtbot, screen.intake.concern, "Noch nicht gespeichert")
    app_state.hub.data_changed.emit(areas.CASES)
    assert screen.intake.concern.toPlainText() == "Noch nicht gespeichert"
    assert screen.has_unsaved_changes()
    # Showing another case starts afresh.
    screen.show_case(make_case(ctx, make_person(ctx, consent=True), CM).id)
    assert not screen.has_unsaved_changes()
    assert screen.intake.concern.toPlainText() != "Noch nicht gespeichert"


def test_validation_errors_are_shown_at_the_field(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    case = make_case(ctx, make_person(ctx, consent=True), CM, phase="planning")
    screen.show_case(case.id)
    form = screen.planning
    type_text(qtbot, form.goal_due, "31.02.2026")
    type_text(qtbot, form.goal_title, "Wohnung finden")
    click(qtbot, form.add_goal_button)
    assert form.goal_errors.message == "Dieses Datum gibt es nicht."
    assert form.goal_due.styleSheet() != ""
    assert form.goal_title.text() == "Wohnung finden"
    click(qtbot, form.add_step_button)
    assert form.step_errors.message.startswith("Bitte das Ziel wählen")
    assert planning.goals_of(ctx, case.id) == []


# --- layout -----------------------------------------------------------------------------------


def test_every_phase_form_fits_the_small_laptop_screen(
        qtbot: Any, app_state: AppState, screen: CaseScreen) -> None:
    ctx = app_state.ctx
    case = make_case(ctx, make_person(ctx, consent=True), CM, phase="evaluation")
    screen.show_case(case.id)
    for phase in Phase:
        screen.view_phase(phase)
        QApplication.processEvents()
        # Without horizontal scrolling, and the header keeps its buttons whole.
        scroll = screen.phase_stack.currentWidget()
        assert not scroll.horizontalScrollBar().isVisible(), phase  # type: ignore[attr-defined]
    assert screen.minimumSizeHint().width() <= EMBEDDED[0]
    assert screen.minimumSizeHint().height() <= EMBEDDED[1]
    for widget in screen.findChildren(QPushButton) + screen.findChildren(QLabel):
        if widget.isVisible() and not (isinstance(widget, QLabel) and widget.wordWrap()):
            assert widget.width() >= widget.minimumSizeHint().width(), widget.objectName()


# --- item models ------------------------------------------------------------------------------


def test_item_models_follow_the_qt_contract(qtmodeltester: Any, app_state: AppState) -> None:
    today = date(2026, 11, 25)
    people = [PersonRef("p1", "Hosseini, Mariam"), PersonRef("p2", "Hosseini, Ahmad")]
    goals = [
        GoalRow("g1", "p1", "Hosseini, Mariam", "Sprachkurs besuchen", "", "language", None,
                None, "in_progress", "", None, (
                    StepRow("s1", "g1", "Kurs suchen", "Case Manager", date(2026, 1, 1), None),
                    StepRow("s2", "g1", "Anmelden", "Frau H.", None, date(2026, 2, 1)))),
        GoalRow("g2", "p2", "Hosseini, Ahmad", "Coaching", "", "work", None, None, "done",
                "full", today),
    ]
    tree = GoalTreeModel(app_state.reference, lambda: today)
    tree.set_goals(people, goals)
    qtmodeltester.check(tree)
    assert tree.rowCount(QModelIndex()) == 2
    step = tree.index(0, 4, tree.index(0, 0, tree.index(0, 0)))
    assert step.data() == "überfällig"

    table: RowTableModel[PersonRef] = RowTableModel([Column("Name", lambda r: r.name)])
    table.set_rows(people)
    qtmodeltester.check(table)


def test_reference_rows_of_the_case_view(ctx: Context) -> None:
    client: Client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM, phase="linking")
    jobcenter = make_institution(ctx)
    make_waiver(ctx, client, jobcenter)
    agency = make_institution(ctx, "employment_agency")
    assert [r.id for r in case_views.releases_towards(ctx, client.id, jobcenter.id)]
    assert case_views.releases_towards(ctx, client.id, agency.id) == []
    names = [row.name for row in case_views.institution_rows(ctx)]
    assert names == sorted(names)
    detail = case_views.load_case(ctx, case.id)
    assert detail.people[0].consent_since == ctx.today()
    assert detail.household_candidates == ()
