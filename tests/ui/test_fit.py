"""Fit on a 1366×768 laptop, also at 150 % scaling (issue 14, item 9): the main window and
its screens, the Fall header, "Fallbesprechung bearbeiten" and the projector's result panel;
the Dienstleistungskette opening readable (item 7).

150 % is checked without a second QApplication: the scale factor multiplies every logical
size by 1.5, so a window fits 1366×768 at 150 % exactly when its minimum size hint times 1.5
fits, and what the user then sees is the window at 1366/1.5 × 768/1.5 logical pixels. The
``-150`` screenshots are rendered at that logical size (the fonts at 1 × pixel density).

Screenshots go to ``/tmp/kimdesk-shots`` (or ``KIMDESK_SCREENSHOTS``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QWidget

from kimdesk.casework.coordination import reviews
from kimdesk.casework.coordination.reviews import ReviewDraft
from kimdesk.ui.coordination.meeting_view import MeetingView
from kimdesk.ui.coordination.review_dialog import ReviewDialog
from kimdesk.ui.coordination.service_chain import CAPTION_PT
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from tests.coordination_builders import build_example5, build_example5_case
from tests.ui.support import screenshot

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/kimdesk-shots"))
SCALE = 1.5
# What a 1366×768 screen leaves for a window: a panel/taskbar of ~40 px and a title bar.
SCREEN = (1366, 768)
AVAILABLE_HEIGHT = 768 - 40 - 30
AT_150 = (int(SCREEN[0] / SCALE), int(AVAILABLE_HEIGHT / SCALE))  # 910 × 465 logical


def fits_at_150(widget: QWidget) -> bool:
    hint = widget.minimumSizeHint().expandedTo(widget.minimumSize())
    return hint.width() * SCALE <= SCREEN[0] and hint.height() * SCALE <= AVAILABLE_HEIGHT


def test_the_main_window_fits_1366x768_also_at_150_percent(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    window = MainWindow(app_state)
    qtbot.addWidget(window)
    window.show()
    QApplication.processEvents()  # the start page (Heute) is shown after the unlock
    screens: list[tuple[str, Any]] = [
        (page.lower(), lambda page=page: window.show_page(page))
        for page in MainWindow.NAVIGATION]
    screens += [("akte", lambda: window.open_client(example.client.id)),
                ("fall", lambda: window.open_case(example.case.id))]
    for name, show in screens:
        show()
        window.resize(*SCREEN)
        QApplication.processEvents()
        assert window.pages.currentWidget().isVisible(), name
        if name == "statistik":
            qtbot.waitUntil(lambda: window.stats.statistics is not None
                            and not window.stats.busy, timeout=20000)
            QApplication.processEvents()
            # A wrapped text inside the scrolling page gets the lines it needs.
            overview = window.stats.overview
            assert overview.height() >= overview.heightForWidth(overview.width()) - 1
        # At 100 %: the whole screen in the window, nothing to scroll sideways.
        assert window.size().width() == SCREEN[0], name
        assert not window.page_scroll.horizontalScrollBar().isVisible(), name
        screenshot(window, SHOTS, f"fit-{name}", SCREEN)
        # At 150 %: the window's minimum fits the screen; a screen that needs more scrolls.
        assert fits_at_150(window), (name, window.minimumSizeHint())
        shot = screenshot(window, SHOTS, f"fit-{name}-150", AT_150)
        assert (window.width(), window.height()) == AT_150, name
        assert shot.exists()
    window.discard_and_close()


def test_the_fall_header_gives_title_and_details_the_width(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    window = MainWindow(app_state)
    qtbot.addWidget(window)
    window.show()
    QApplication.processEvents()  # the start page (Heute) is shown after the unlock
    window.open_case(example.case.id)
    window.resize(*SCREEN)
    QApplication.processEvents()
    screen = window.case_screen
    # Before: ~320 px beside seven buttons. Now the buttons have a row of their own.
    assert screen.title.width() >= 900
    assert screen.meta.width() >= 900
    buttons = (screen.record_contact_button, screen.convert_button, screen.close_button,
               screen.goal_agreement_button, screen.case_summary_button,
               screen.finding_button, screen.to_file_button)
    title_bottom = screen.title.mapTo(screen, screen.title.rect().bottomLeft()).y()
    for button in buttons:
        assert button.isVisible()
        assert button.mapTo(screen, button.rect().topLeft()).y() > title_bottom
        assert button.width() >= button.minimumSizeHint().width()  # labels not cut
    window.discard_and_close()


def test_fallbesprechung_bearbeiten_fits_a_768_px_screen(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    preparation = reviews.review_preparation(app_state.ctx, example.case.id)
    review = reviews.prepare_review(app_state.ctx, example.case.id, ReviewDraft(
        occasion="Welche Kinderbetreuung kommt in Frage?",
        relevant_information=preparation.suggestions[reviews.RELEVANT_INFORMATION],
        development=preparation.suggestions[reviews.DEVELOPMENT],
        network=preparation.suggestions[reviews.NETWORK],
        held_on=app_state.today(), tags=["need_childcare"]))
    dialog = ReviewDialog(app_state, review_id=review.id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Fallbesprechung bearbeiten"
    # It opens no larger than the screen it is on (offscreen: 800×800).
    area = dialog.screen().availableGeometry()
    assert dialog.height() <= area.height() and dialog.width() <= area.width()
    assert dialog.minimumSizeHint().height() <= AVAILABLE_HEIGHT
    assert fits_at_150(dialog), dialog.minimumSizeHint()
    for size, name in (((1240, AVAILABLE_HEIGHT), "fit-fallbesprechung"),
                       (AT_150, "fit-fallbesprechung-150")):
        screenshot(dialog, SHOTS, name, size)
        assert (dialog.width(), dialog.height()) == size
        # The buttons stay on the screen; the form scrolls above them.
        save = dialog.findChild(QWidget, "save")
        assert save is not None and save.isVisible()
        bottom = save.mapTo(dialog, save.rect().bottomLeft()).y()
        assert bottom <= dialog.height()
        for editor in dialog.sections.values():
            assert editor.height() >= 3 * editor.fontMetrics().lineSpacing()


def test_the_result_panel_leaves_the_slide_visible_at_1366(
        qtbot: Any, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    preparation = reviews.review_preparation(app_state.ctx, example.case.id)
    review = reviews.prepare_review(app_state.ctx, example.case.id, ReviewDraft(
        occasion="Welche Kinderbetreuung kommt in Frage?",
        relevant_information=preparation.suggestions[reviews.RELEVANT_INFORMATION],
        development="", network="", held_on=app_state.today(), tags=[]))
    view = MeetingView(app_state, review.id)
    qtbot.addWidget(view)
    view.show()
    view.resize(*SCREEN)
    view.show_page(1)
    view.toggle_panel(True)
    QApplication.processEvents()
    assert view.outcome_frame.isVisible() and view.slide_area.isVisible()
    slide = QRect(view.slide_area.mapTo(view, view.slide_area.rect().topLeft()),
                  view.slide_area.size())
    panel = QRect(view.outcome_frame.mapTo(view, view.outcome_frame.rect().topLeft()),
                  view.outcome_frame.size())
    assert not slide.intersects(panel)
    assert slide.width() >= 700
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SHOTS / "fit-projector-1366x768.png"))


def test_the_dienstleistungskette_opens_readable_at_1366(
        qtbot: Any, app_state: AppState) -> None:
    build_example5(app_state.ctx)
    window = MainWindow(app_state)
    qtbot.addWidget(window)
    window.show()
    QApplication.processEvents()
    window.resize(*SCREEN)
    window.show_page("Koordination")
    window.coordination.show_tab("Fallrekonstruktionen")
    tab = window.coordination.reconstructions
    tab.reload()
    tab.table.selectRow(0)
    tab.open_selected()
    QApplication.processEvents()
    view = tab.editor.chain.view
    # Opened at 4 % before (fitted while the canvas had no size yet). Now the labels are
    # at least 9 pt on the screen (relation labels 9.5 pt × scale, actor labels 10.5 pt).
    assert view.transform().m11() * CAPTION_PT >= 9.0 - 1e-6
    assert view.transform().m11() <= 1.25
    # It starts at the chain's top left: the first actors are on the screen.
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    items = tab.editor.chain.scene.actor_items()
    assert any(visible.contains(item.scene_box()) for item in items)
    assert visible.top() <= min(item.scene_box().top() for item in items)
    screenshot(window, SHOTS, "fit-dienstleistungskette", SCREEN)
    # A bigger window shows more of it, still readable; Einpassen shows all of it.
    window.resize(1920, 1080)
    QApplication.processEvents()
    assert view.transform().m11() * CAPTION_PT >= 9.0 - 1e-6
    screenshot(window, SHOTS, "fit-dienstleistungskette", (1920, 1080))
    tab.editor.chain.fit_button.click()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(item.scene_box()) for item in items)
    window.discard_and_close()
