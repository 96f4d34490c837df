"""PDFs from the app: made off the GUI thread, written only where the user chooses."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool

from kimdesk.ui import printing
from kimdesk.ui.case_screen import CaseScreen
from kimdesk.ui.client_file import ClientFileScreen
from kimdesk.ui.state import AppState
from tests.reports.pdftext import text
from tests.reports.report_builders import (
    CLIENT_FIRST,
    CLIENT_LAST,
    MEMBER_FIRST,
    MEMBER_LAST,
    CaseFile,
    build_case_file,
)


@pytest.fixture(autouse=True)
def _workers_done(qtbot: Any) -> Any:
    """Let the pool's threads return before the screens go: a worker may still be unwinding
    from its last signal when the test has already seen the result."""
    yield
    QThreadPool.globalInstance().waitForDone(10000)
    qtbot.wait(10)


class Chooser:
    """Stands in for the save dialog: records the suggested name, answers with a path."""

    def __init__(self, target: Path | None) -> None:
        self.target = target
        self.asked: list[str] = []

    def __call__(self, suggested: str) -> str | None:
        self.asked.append(suggested)
        return str(self.target) if self.target is not None else None


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _new_files(root: Path, before: set[Path]) -> set[Path]:
    """Files that appeared under ``root`` (the vault's own journal files aside)."""
    return {p for p in _files(root) - before if "vault" not in p.relative_to(root).parts}


def _case_screen(qtbot: Any, app_state: AppState) -> tuple[CaseScreen, CaseFile]:
    case_file = build_case_file(app_state.ctx)
    screen = CaseScreen(app_state)
    qtbot.addWidget(screen)
    screen.show_case(case_file.case_id)
    return screen, case_file


def test_file_names_keep_diacritics_and_drop_unsafe_characters() -> None:
    day = date(2026, 11, 25)
    assert printing.file_name("Zielvereinbarung", "Wiśniewska-Ștefănescu", day) == \
        "Zielvereinbarung-Wiśniewska-Ștefănescu-2026-11-25.pdf"
    assert printing.file_name("Auskunft", 'A/B: "C" d', day) == "Auskunft-A-B-C-d-2026-11-25.pdf"
    assert printing.file_name("Statistik", "", day, "csv") == "Statistik-2026-11-25.csv"
    assert printing.last_name("Yılmaz, Mehmet") == "Yılmaz"


def test_goal_agreement_is_written_to_the_chosen_path(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    screen, case_file = _case_screen(qtbot, app_state)
    target = tmp_path / "out" / "ziel.pdf"
    target.parent.mkdir()  # tmp_path also holds the test's vault
    chooser = Chooser(target)
    people: list[list[tuple[str, str]]] = []

    def choose_person(offered: list[tuple[str, str]]) -> str:
        people.append(offered)
        return case_file.client_id

    screen.choose_path, screen.choose_person = chooser, choose_person
    qtbot.mouseClick(screen.goal_agreement_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and screen.goal_agreement_button.isEnabled(),
                    timeout=15000)

    assert [pid for pid, _ in people[0]] == [case_file.client_id, case_file.member_id]
    assert chooser.asked == [f"Zielvereinbarung-{CLIENT_LAST}-2026-11-25.pdf"]
    content = text(target.read_bytes())
    assert "Berufsabschluss als Lehrerin anerkennen lassen" in content
    assert f"{CLIENT_FIRST} {CLIENT_LAST}" in content
    assert "Sprachkurs B1 abschließen" not in content  # Mehmet's goal, not hers
    assert [p.name for p in target.parent.iterdir()] == ["ziel.pdf"]


def test_goal_agreement_of_the_other_person(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    screen, case_file = _case_screen(qtbot, app_state)
    target = tmp_path / "mehmet.pdf"
    screen.choose_path = Chooser(target)
    screen.choose_person = lambda offered: case_file.member_id
    screen.print_goal_agreement()
    qtbot.waitUntil(target.exists, timeout=15000)
    content = text(target.read_bytes())
    assert "Sprachkurs B1 abschließen" in content
    assert f"{MEMBER_FIRST} {MEMBER_LAST}" in content


def test_cancelling_the_person_or_the_save_dialog_writes_nothing(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    screen, case_file = _case_screen(qtbot, app_state)
    before = _files(tmp_path)
    screen.choose_path = chooser = Chooser(None)
    screen.choose_person = lambda offered: None
    screen.print_goal_agreement()
    assert chooser.asked == []  # no person chosen: nothing is produced

    screen.choose_person = lambda offered: case_file.client_id
    screen.print_goal_agreement()
    qtbot.waitUntil(lambda: bool(chooser.asked) and screen.goal_agreement_button.isEnabled(),
                    timeout=15000)
    assert _new_files(tmp_path, before) == set()
    assert screen.message.text() == ""


def test_case_summary(qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    screen, _case_file = _case_screen(qtbot, app_state)
    target = tmp_path / "fall.pdf"
    screen.choose_path = chooser = Chooser(target)
    qtbot.mouseClick(screen.case_summary_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(target.exists, timeout=15000)
    assert chooser.asked == [f"Fallübersicht-{CLIENT_LAST}-2026-11-25.pdf"]
    assert CLIENT_LAST in text(target.read_bytes())


def test_a_refusal_is_shown_and_nothing_is_asked(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    from tests.factories import make_case, make_person

    client = make_person(app_state.ctx, consent=True)
    case = make_case(app_state.ctx, client, "case_management")
    screen = CaseScreen(app_state)
    qtbot.addWidget(screen)
    screen.show_case(case.id)
    screen.choose_path = chooser = Chooser(tmp_path / "x.pdf")
    screen.print_goal_agreement()
    qtbot.waitUntil(lambda: screen.message.text() != "", timeout=15000)
    assert "noch keine Ziele" in screen.message.text()
    assert chooser.asked == []
    assert not (tmp_path / "x.pdf").exists()


def test_access_report_from_the_client_file(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    case_file = build_case_file(app_state.ctx)
    screen = ClientFileScreen(app_state)
    qtbot.addWidget(screen)
    screen.show_client(case_file.client_id)
    target = tmp_path / "auskunft.pdf"
    screen.choose_path = chooser = Chooser(target)
    qtbot.mouseClick(screen.access_report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and screen.access_report_button.isEnabled(),
                    timeout=15000)
    assert chooser.asked == [f"Auskunft-Art15-{CLIENT_LAST}-2026-11-25.pdf"]
    content = text(target.read_bytes())
    assert CLIENT_LAST in content and CLIENT_FIRST in content
    assert screen.status.text() == "Auskunft gespeichert."


def test_access_report_cancelled_writes_nothing(
        qtbot: Any, app_state: AppState, tmp_path: Path) -> None:
    case_file = build_case_file(app_state.ctx)
    screen = ClientFileScreen(app_state)
    qtbot.addWidget(screen)
    screen.show_client(case_file.client_id)
    before = _files(tmp_path)
    screen.choose_path = chooser = Chooser(None)
    screen.print_access_report()
    qtbot.waitUntil(lambda: bool(chooser.asked) and screen.access_report_button.isEnabled(),
                    timeout=15000)
    assert _new_files(tmp_path, before) == set()
    assert screen.status.text() == ""
