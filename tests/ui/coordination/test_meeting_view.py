"""The Fallbesprechung of Beispiel 5 (Frau A.) from preparation to the meeting on the projector
and back: the agreed next steps arrive in her case as Handlungsschritte and Wiedervorlagen, and
no name, birth date or address of hers is ever in the meeting view.

The screenshot of the meeting view at 1920×1080 goes to ``/tmp/shots/meeting_view.png`` (or the
directory in ``KIMDESK_SCREENSHOT_DIR``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from kimdesk.casework import case_views
from kimdesk.casework.coordination import reviews
from kimdesk.casework.coordination.reviews import NextStepInput, ReviewDraft, ReviewOutcome
from kimdesk.ui.coordination.meeting_view import (
    BODY_PT,
    HEADING_PT,
    MeetingView,
    OutcomeDialog,
)
from kimdesk.ui.coordination.review_dialog import ReviewDialog
from kimdesk.ui.coordination.reviews_tab import CasePickerDialog, ReviewsTab
from kimdesk.ui.state import AppState
from tests.coordination_builders import (
    ADDRESS,
    Example5,
    build_example5_case,
)
from tests.factories import PASSWORD
from tests.ui.coordination.widget_texts import leaked, visible_texts
from tests.ui.support import choose, type_text

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOT_DIR", "/tmp/shots"))
QUESTION = ("Wie kann Frau A. eine berufsvorbereitende Maßnahme beginnen, solange für Kind 1 "
            "keine Kinderbetreuung gesichert ist?")


def secrets(example: Example5) -> tuple[str, ...]:
    """Everything that identifies Frau A. or her daughter, the address line included."""
    return (*example.secrets, ADDRESS, "Kleve, Lindenallee")


def assert_nothing_identifying(view: QWidget, example: Example5) -> None:
    """On every page: no name, birth date, address, phone number or e-mail."""
    assert isinstance(view, MeetingView)
    for page in range(len(view.slides)):
        view.show_page(page)
        found = leaked(visible_texts(view), secrets(example))
        assert not found, f"page {page + 1}: {found}"


def press(qtbot: Any, widget: QWidget, key: Qt.Key) -> None:
    qtbot.keyClick(widget, key)


def prepared_review(app_state: AppState, example: Example5) -> str:
    """A Fallbesprechung prepared through the use case (for the tests that start later)."""
    preparation = reviews.review_preparation(app_state.ctx, example.case.id)
    review = reviews.prepare_review(app_state.ctx, example.case.id, ReviewDraft(
        occasion=QUESTION,
        relevant_information=preparation.suggestions[reviews.RELEVANT_INFORMATION],
        development=preparation.suggestions[reviews.DEVELOPMENT],
        network=preparation.suggestions[reviews.NETWORK],
        held_on=app_state.today(), tags=["need_childcare", "challenge_single_parent",
                                         "resource_school_degree"]))
    return review.id


def test_example5_from_preparation_to_the_steps_in_her_case(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    tab = ReviewsTab(app_state)
    qtbot.addWidget(tab)
    tab.resize(1366, 700)
    tab.show()

    # The case manager prepares: her own case, then the fixed schema.
    qtbot.mouseClick(tab.prepare_button, Qt.MouseButton.LeftButton)
    picker = tab.dialog
    assert isinstance(picker, CasePickerDialog)
    qtbot.waitUntil(lambda: picker.loaded)
    picker.choose(example.case.id)
    qtbot.mouseClick(picker.findChild(QPushButton, "save"), Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, ReviewDialog)
    type_text(qtbot, dialog.sections[reviews.OCCASION], QUESTION)
    concern = dialog.select_candidate("case:concern")
    assert "Kind 1" in concern.suggestion
    choose(dialog.candidate_section, reviews.RELEVANT_INFORMATION)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert concern.suggestion in dialog.sections[reviews.RELEVANT_INFORMATION].toPlainText()
    dialog.set_tags(["need_childcare", "challenge_single_parent", "challenge_compatibility"])
    qtbot.mouseClick(dialog.findChild(QPushButton, "save"), Qt.MouseButton.LeftButton)
    assert tab.dialog is None, dialog.errors.message
    assert len(tab.model.rows()) == 1
    assert not tab.model.rows()[0].held

    # The coordinator shows it on the projector: full screen, pages turned by keys.
    tab.table.selectRow(0)
    qtbot.mouseClick(tab.meeting_button, Qt.MouseButton.LeftButton)
    view = tab.meeting_view
    assert view is not None
    qtbot.waitExposed(view)
    assert view.isFullScreen()
    assert view.heading.text().startswith("Frau A.")
    press(qtbot, view, Qt.Key.Key_Right)
    assert view.heading.text() == "Anlass und Fragestellung an das Team"
    assert QUESTION in view.body.text()
    press(qtbot, view, Qt.Key.Key_PageDown)
    assert view.heading.text() == "Relevante Informationen"
    assert "Kinderbetreuung für Kind 1 fehlt" in view.body.text()
    press(qtbot, view, Qt.Key.Key_PageUp)
    assert view.page == 1
    press(qtbot, view, Qt.Key.Key_End)
    assert view.heading.text() == "Ergebnis der Fallbesprechung"
    press(qtbot, view, Qt.Key.Key_Home)
    assert view.page == 0
    assert_nothing_identifying(view, example)

    # The team's advice and two next steps: one for her goal, one Wiedervorlage.
    press(qtbot, view, Qt.Key.Key_Right)
    view.toggle_panel(False)
    press(qtbot, view, Qt.Key.Key_F2)
    assert view.panel_shown and view.outcome_frame.isVisible()
    panel = view.panel
    type_text(qtbot, panel.advice, "Kindertagespflege über das Jugendamt anfragen; "
                                   "Teilzeitmaßnahme beim Jobcenter prüfen.")
    type_text(qtbot, panel.step_description, "Kindertagespflege beim Jugendamt anfragen")
    type_text(qtbot, panel.step_responsible, "Case Management")
    type_text(qtbot, panel.step_due, "+14")
    goal_index = panel.step_goal.findData(example.goal.id)
    assert goal_index > 0
    panel.step_goal.setCurrentIndex(goal_index)
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert len(panel.pending_steps) == 1
    type_text(qtbot, panel.step_description, "Teilzeitmaßnahme mit dem Jobcenter klären")
    type_text(qtbot, panel.step_responsible, "Case Managerin B")
    type_text(qtbot, panel.step_due, "+28")
    panel.step_goal.setCurrentIndex(0)  # Wiedervorlage im Fall
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert len(panel.pending_steps) == 2
    assert panel.has_unsaved_changes()

    # Esc with an unsaved result warns first and keeps the view open.
    view.setFocus()
    press(qtbot, view, Qt.Key.Key_Escape)
    assert view.isVisible()
    assert view.warning.isVisible()

    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.errors.message == ""
    assert not panel.has_unsaved_changes()
    assert view.heading.text() == "Ergebnis der Fallbesprechung"
    assert "Kindertagespflege beim Jugendamt anfragen" in view.body.text()
    assert "Wiedervorlage" in view.body.text()
    assert_nothing_identifying(view, example)

    # Read back through casework: the steps are in her case.
    today = app_state.today()
    detail = case_views.load_case(app_state.ctx, example.case.id)
    goal = next(g for g in detail.goals if g.id == example.goal.id)
    step = next(s for s in goal.steps if s.description == "Kindertagespflege beim Jugendamt "
                                                           "anfragen")
    assert (step.responsible, step.due_on) == ("Case Management", today + timedelta(days=14))
    follow_ups = [d for d in detail.deadlines if d.kind == "follow_up"]
    assert [(d.due_on, d.title) for d in follow_ups] == [
        (today + timedelta(days=28),
         "Fallbesprechung: Teilzeitmaßnahme mit dem Jobcenter klären")]
    assert any(d.kind == "plan_review" and d.due_on == today + timedelta(days=14)
               for d in detail.deadlines)  # the Handlungsschritt's own Wiedervorlage
    held = reviews.presentation(app_state.ctx, view.review_id)
    assert held.held and len(held.next_steps) == 2

    # Esc leaves the full screen view; the list shows the review as held.
    view.setFocus()
    press(qtbot, view, Qt.Key.Key_Escape)
    assert not view.isVisible()
    assert tab.meeting_view is None
    assert tab.model.rows()[0].held


def test_the_projector_view_is_large_high_contrast_and_screenshot(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    view = MeetingView(app_state, prepared_review(app_state, example))
    qtbot.addWidget(view)
    view.show()
    view.resize(1920, 1080)
    view.show_page(1)
    view.toggle_panel(True)
    QApplication.processEvents()

    for widget in [view, *view.findChildren(QWidget)]:
        if isinstance(widget, QLabel | QLineEdit | QPlainTextEdit | QAbstractButton
                      | QComboBox | QListWidget) and widget.isVisible():
            assert widget.font().pointSizeF() >= 20, widget.objectName()
    assert view.body.font().pointSizeF() >= BODY_PT >= 20
    assert view.heading.font().pointSizeF() >= HEADING_PT >= 32
    assert view.heading.font().bold()
    # Black on white, white on a dark bar: the projector in a lit room still reads it.
    assert view.palette().color(view.backgroundRole()).name() == "#ffffff"

    SHOTS.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SHOTS / "meeting_view.png"))
    view.toggle_panel(False)
    view.show_page(2)
    QApplication.processEvents()
    assert view.grab().save(str(SHOTS / "meeting_view_page.png"))

    # The overview and the result page once the team agreed on something.
    today = app_state.today()
    reviews.record_outcome(app_state.ctx, view.review_id, ReviewOutcome(
        advice="Kindertagespflege über das Jugendamt anfragen.\nTeilzeitmaßnahme prüfen.",
        next_steps=[NextStepInput("Kindertagespflege anfragen", "Case Management",
                                  today + timedelta(days=14), example.goal.id),
                    NextStepInput("Rückmeldung des Jobcenters", "Frau A.",
                                  today + timedelta(days=21))]))
    view.reload()
    view.show_page(0)
    QApplication.processEvents()
    assert view.grab().save(str(SHOTS / "meeting_view_overview.png"))
    view.show_page(len(view.slides) - 1)
    view.toggle_panel(False)
    QApplication.processEvents()
    assert view.grab().save(str(SHOTS / "meeting_view_result.png"))
    assert_nothing_identifying(view, example)


def test_a_name_typed_into_the_result_is_refused_and_kept(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    view = MeetingView(app_state, prepared_review(app_state, example))
    qtbot.addWidget(view)
    view.show()
    view.toggle_panel(True)
    advice = f"{example.client.first_name} soll sich beim Jugendamt melden."
    type_text(qtbot, view.panel.advice, advice)
    qtbot.mouseClick(view.panel.save_button, Qt.MouseButton.LeftButton)
    assert "Name" in view.panel.errors.message
    assert example.client.first_name not in view.panel.errors.message
    assert view.panel.advice.toPlainText() == advice  # typed input is never cleared
    assert not reviews.presentation(app_state.ctx, view.review_id).held


def test_a_wiedervorlage_needs_a_date_before_it_goes_on_the_list(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    view = MeetingView(app_state, prepared_review(app_state, example))
    qtbot.addWidget(view)
    view.show()
    view.toggle_panel(True)
    panel = view.panel
    type_text(qtbot, panel.step_description, "Rückmeldung der Kita abwarten")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert panel.errors.message == "Eine Wiedervorlage braucht ein Datum."
    assert panel.pending_steps == []
    type_text(qtbot, panel.step_due, "31.02.2027")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert panel.errors.message == "Dieses Datum gibt es nicht."
    assert panel.step_description.text() == "Rückmeldung der Kita abwarten"


def test_the_outcome_can_be_recorded_after_the_meeting(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    review_id = prepared_review(app_state, example)
    dialog = OutcomeDialog(app_state, review_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not leaked(visible_texts(dialog), secrets(example))
    type_text(qtbot, dialog.panel.advice, "Anfrage an die Kindertagespflege stellen.")
    type_text(qtbot, dialog.panel.step_description, "Stand der Anfrage prüfen")
    type_text(qtbot, dialog.panel.step_due, "+7")
    qtbot.mouseClick(dialog.findChild(QPushButton, "save"), Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted, dialog.panel.errors.message
    detail = case_views.load_case(app_state.ctx, example.case.id)
    assert [d.title for d in detail.deadlines if d.kind == "follow_up"] == [
        "Fallbesprechung: Stand der Anfrage prüfen"]


def test_auto_lock_hides_the_meeting_view_and_unlocking_shows_it_again(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    view = MeetingView(app_state, prepared_review(app_state, example))
    qtbot.addWidget(view)
    view.start()
    qtbot.waitExposed(view)
    view.toggle_panel(True)
    type_text(qtbot, view.panel.advice, "Noch nicht gespeichert")
    app_state.lock()
    assert not view.isVisible()
    app_state.unlock(PASSWORD)
    try:
        assert view.isVisible() and view.isFullScreen()
        assert view.panel.advice.toPlainText() == "Noch nicht gespeichert"
    finally:
        app_state.lock()


def test_on_a_small_projector_page_and_panel_take_turns(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    view = MeetingView(app_state, prepared_review(app_state, example))
    qtbot.addWidget(view)
    view.show()
    view.resize(1024, 768)
    QApplication.processEvents()
    assert view.minimumSizeHint().width() <= 1024
    assert view.minimumSizeHint().height() <= 768
    assert view.size().width() == 1024  # nothing forces the window wider than the screen
    view.show_page(len(view.slides) - 1)
    assert not view.panel_shown  # the result page stays readable
    press(qtbot, view, Qt.Key.Key_F2)
    assert view.outcome_frame.isVisible() and not view.slide_area.isVisible()
    view.resize(1920, 1080)
    QApplication.processEvents()
    assert view.outcome_frame.isVisible() and view.slide_area.isVisible()
    view.resize(1280, 800)
    QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SHOTS / "meeting_view-1280.png"))
    press(qtbot, view, Qt.Key.Key_F2)
    assert not view.outcome_frame.isVisible() and view.slide_area.isVisible()
