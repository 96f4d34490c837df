"""Fallbesprechungen: preparing one from an own case in the fixed schema, the texts of the file
only after the presenter confirmed them, the list with its actions, and findings taken from a
review. Driven through the real widgets on a real vault (Beispiel 5, Frau A.).

Screenshots of the list and the preparation form go to ``/tmp/shots`` (or
``KIMDESK_SCREENSHOT_DIR``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QThreadPool
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from kimdesk.casework import cases
from kimdesk.casework.coordination import findings, reviews
from kimdesk.casework.coordination.reviews import ReviewDraft, ReviewOutcome
from kimdesk.ui import hub as areas
from kimdesk.ui.coordination.finding_dialog import FindingDialog
from kimdesk.ui.coordination.review_dialog import ReviewDialog
from kimdesk.ui.coordination.reviews_tab import CasePickerDialog, ReviewsTab, own_open_cases
from kimdesk.ui.state import AppState
from tests.coordination_builders import (
    ADDRESS,
    BIRTH_DATE,
    LAST_NAME,
    Example5,
    build_example5_case,
)
from tests.factories import CM, SUPPORT, make_case, make_person
from tests.ui.coordination.widget_texts import leaked, visible_texts
from tests.ui.support import choose, type_text

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOT_DIR", "/tmp/shots"))
QUESTION = "Welche Kinderbetreuung kommt für eine Teilnahme an einer Maßnahme in Frage?"


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def secrets(example: Example5) -> tuple[str, ...]:
    return (*example.secrets, ADDRESS)


def contact_note_key(app_state: AppState, example: Example5) -> str:
    """The first contact note: it names her, her daughter, her birth date and her phone."""
    first = cases.contacts_of(app_state.ctx, example.case.id)[0]
    return f"contact:{first.id}:note"


def test_the_form_shows_the_case_pseudonymised_and_takes_file_texts_only_when_confirmed(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    dialog = ReviewDialog(app_state, case_id=example.case.id)
    qtbot.addWidget(dialog)
    dialog.show()

    # The portrait and every offered text: neutral labels, age bands, the Planungsraum.
    assert dialog.portrait.text().startswith("Frau A. (Ratsuchende, 18–26 Jahre)")
    assert "Kind 1 (Tochter, 0–13 Jahre)" in dialog.portrait.text()
    assert not leaked(visible_texts(dialog), secrets(example))
    # Generated parts (codes, counts, relative dates) are filled in; the question is not.
    assert dialog.sections[reviews.OCCASION].toPlainText() == ""
    assert "Kinderbetreuung (Frau A.): hoher Bedarf" in dialog.sections[
        reviews.RELEVANT_INFORMATION].toPlainText()
    assert "Kita: Vermittlung" in dialog.sections[reviews.NETWORK].toPlainText()
    development_before = dialog.sections[reviews.DEVELOPMENT].toPlainText()

    # A contact note arrives scrubbed; putting the birth date back in is refused.
    candidate = dialog.select_candidate(contact_note_key(app_state, example))
    assert "Geburtsdatum" in dialog.candidate_source.text()
    assert dialog.candidate_text.toPlainText() == candidate.suggestion
    assert "[Geburtsdatum]" in candidate.suggestion
    type_text(qtbot, dialog.candidate_text,
              f"Frau A. (geb. {BIRTH_DATE:%d.%m.%Y}) kam mit Kind 1 ins Büro.")
    click(qtbot, dialog.confirm_button)
    assert "Geburtsdatum" in dialog.candidate_errors.message
    assert f"{BIRTH_DATE:%d.%m.%Y}" not in dialog.candidate_errors.message
    assert dialog.sections[reviews.DEVELOPMENT].toPlainText() == development_before
    # Edited to what the team needs, it is taken over into the chosen part.
    type_text(qtbot, dialog.candidate_text, "Frau A. kam mit Kind 1 ins Büro.")
    choose(dialog.candidate_section, reviews.DEVELOPMENT)
    click(qtbot, dialog.confirm_button)
    assert dialog.candidate_errors.message == ""
    assert dialog.sections[reviews.DEVELOPMENT].toPlainText() == (
        development_before + "\nFrau A. kam mit Kind 1 ins Büro.")
    assert dialog.candidate_list.currentItem().text().startswith("✓ ")

    # Without the question to the team nothing is saved, and nothing typed is lost.
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert dialog.errors.message == "Bitte Anlass und Fragestellung an das Team angeben."
    assert dialog.isVisible()
    # A name typed straight into the schema is refused when saving.
    type_text(qtbot, dialog.sections[reviews.OCCASION], f"Wie geht es mit {LAST_NAME} weiter?")
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert "Name" in dialog.errors.message and LAST_NAME not in dialog.errors.message
    assert dialog.sections[reviews.OCCASION].toPlainText() == f"Wie geht es mit {LAST_NAME} " \
                                                              "weiter?"
    type_text(qtbot, dialog.sections[reviews.OCCASION], QUESTION)
    dialog.set_tags(["need_childcare", "resource_motivation", "challenge_single_parent"])
    type_text(qtbot, dialog.held_on, "+7")
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert dialog.result() == dialog.DialogCode.Accepted, dialog.errors.message

    saved = reviews.presentation(app_state.ctx, dialog.saved_id or "")
    assert saved.occasion == QUESTION
    assert saved.development.endswith("Frau A. kam mit Kind 1 ins Büro.")
    assert [t.code for t in saved.tags] == ["need_childcare", "resource_motivation",
                                            "challenge_single_parent"]
    assert saved.held_on is not None and not saved.held


def test_the_picker_offers_only_the_users_own_open_cases(
        qtbot: Any, app_state: AppState) -> None:
    ctx = app_state.ctx
    own = make_case(ctx, make_person(ctx, consent=True), CM, phase="planning")
    closed = make_case(ctx, make_person(ctx), SUPPORT)
    cases.close_case(ctx, closed.id, "goals_achieved")
    colleague = dataclasses.replace(ctx, user="Jonas Peters")
    theirs = make_case(colleague, make_person(ctx), SUPPORT)
    assert [c.id for c in own_open_cases(ctx)] == [own.id]

    picker = CasePickerDialog(app_state)
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitUntil(lambda: picker.loaded)
    assert picker.model.rowCount() == 1
    with_names = visible_texts(picker)
    assert any("Haddad" in text for text in with_names)  # her own case load, by name
    type_text(qtbot, picker.filter, "zzz")
    assert picker.proxy.rowCount() == 0
    click(qtbot, picker.findChild(QPushButton, "save"))
    assert picker.isVisible() and picker.chosen_id is None
    type_text(qtbot, picker.filter, "hadd")
    picker.choose(own.id)
    click(qtbot, picker.findChild(QPushButton, "save"))
    assert picker.chosen_id == own.id
    assert theirs.id != own.id


def test_the_list_edits_and_deletes_prepared_reviews_but_keeps_held_ones(
        qtbot: Any, app_state: AppState, monkeypatch: Any) -> None:
    example = build_example5_case(app_state.ctx)
    ctx = app_state.ctx
    first = reviews.prepare_review(ctx, example.case.id, ReviewDraft(
        occasion=QUESTION, tags=["need_childcare"]))
    second = reviews.prepare_review(ctx, example.case.id, ReviewDraft(
        occasion="Wie lässt sich die Schuldenregulierung beschleunigen?"))
    reviews.record_outcome(ctx, second.id, ReviewOutcome(advice="Schuldnerberatung anfragen."))
    tab = ReviewsTab(app_state)
    qtbot.addWidget(tab)
    tab.resize(1366, 600)
    tab.show()
    rows = {r.id: r for r in tab.model.rows()}
    assert set(rows) == {first.id, second.id}
    assert rows[first.id].tags == ("Kinderbetreuung",)
    assert not leaked(visible_texts(tab), secrets(example))

    tab.select(second.id)
    assert not tab.edit_button.isEnabled() and not tab.delete_button.isEnabled()
    assert tab.meeting_button.isEnabled() and tab.outcome_button.isEnabled()

    tab.select(first.id)
    click(qtbot, tab.edit_button)
    dialog = tab.dialog
    assert isinstance(dialog, ReviewDialog)
    assert dialog.sections[reviews.OCCASION].toPlainText() == QUESTION
    assert dialog.chosen_tags() == ["need_childcare"]
    type_text(qtbot, dialog.sections[reviews.NETWORK], "Jobcenter und Kita beteiligt.")
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert tab.dialog is None
    assert reviews.presentation(ctx, first.id).network == "Jobcenter und Kita beteiligt."

    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.resize(1920, 1080)
    QApplication.processEvents()
    assert tab.grab().save(str(SHOTS / "reviews_tab.png"))

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_args, **_kwargs: QMessageBox.StandardButton.Yes)
    tab.select(first.id)
    click(qtbot, tab.delete_button)
    assert [r.id for r in tab.model.rows()] == [second.id]


def test_the_list_reloads_when_a_review_is_prepared_elsewhere(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    tab = ReviewsTab(app_state)
    qtbot.addWidget(tab)
    tab.show()
    assert tab.model.rowCount() == 0 and tab.empty.isVisible()
    reviews.prepare_review(app_state.ctx, example.case.id, ReviewDraft(occasion=QUESTION))
    app_state.hub.data_changed.emit(areas.COORDINATION)
    assert tab.model.rowCount() == 1 and not tab.empty.isVisible()


def test_a_finding_from_a_review_remembers_the_review_and_is_checked_against_the_case(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    review = reviews.prepare_review(app_state.ctx, example.case.id,
                                    ReviewDraft(occasion=QUESTION))
    tab = ReviewsTab(app_state)
    qtbot.addWidget(tab)
    tab.show()
    tab.select(review.id)
    click(qtbot, tab.finding_button)
    dialog = tab.dialog
    assert isinstance(dialog, FindingDialog)
    assert dialog.source_label.text() == "Fallbesprechung"
    choose(dialog.life_area, "childcare")
    choose(dialog.barrier, "compatibility")
    type_text(qtbot, dialog.description,
              f"Frau {LAST_NAME} findet keine Betreuung während der Maßnahme.")
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert "Name" in dialog.errors.message and LAST_NAME not in dialog.errors.message
    type_text(qtbot, dialog.description,
              "Maßnahmen der Berufsvorbereitung ohne Kinderbetreuung.")
    click(qtbot, dialog.findChild(QPushButton, "save"))
    assert tab.dialog is None, dialog.errors.message
    [row] = findings.finding_rows(app_state.ctx)
    assert (row.source, row.review_id, row.municipality) == ("review", review.id, "kleve")


def test_screenshot_of_the_preparation_form(qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    dialog = ReviewDialog(app_state, case_id=example.case.id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select_candidate(contact_note_key(app_state, example))
    for size, name in (((1366, 768), "review_dialog-1366.png"),
                       ((1920, 1080), "review_dialog.png")):
        dialog.resize(*size)
        QApplication.processEvents()
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert dialog.grab().save(str(SHOTS / name))
    dialog.side.setCurrentIndex(1)
    QApplication.processEvents()
    assert dialog.grab().save(str(SHOTS / "review_dialog_tags.png"))


def test_a_picker_cancelled_before_its_cases_arrived_leaves_nothing_behind(
        qtbot: Any, app_state: AppState) -> None:
    make_case(app_state.ctx, make_person(app_state.ctx), SUPPORT)
    tab = ReviewsTab(app_state)
    qtbot.addWidget(tab)
    tab.show()
    click(qtbot, tab.prepare_button)
    picker = tab.dialog
    assert isinstance(picker, CasePickerDialog)
    picker.reject()  # at once: the read may still be running
    qtbot.waitUntil(lambda: tab.dialog is None)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the picker is gone
    assert QThreadPool.globalInstance().waitForDone(5000)
    QApplication.processEvents()  # the read's result arrives for a deleted picker: ignored
    assert tab.dialog is None and tab.isVisible()
