"""Renders the main window's screens at a real 150 % (QT_SCALE_FACTOR=1.5) on 1366×728 device
pixels and reports what does not fit; run by ``tests/ui/test_render_150.py`` in a subprocess
(the scale factor is read once, when the QApplication starts).

    QT_SCALE_FACTOR=1.5 QT_QPA_PLATFORM=offscreen python -m tests.ui.render_at_150 \\
        VAULT_DIR PASSWORD OUT_DIR CLIENT_ID CASE_ID

Prints one JSON object: for every screen its PNG, the window's logical and device size and
the findings (a visible horizontal scroll bar, a widget reaching past its parent's right
edge, a window that would not shrink to the screen).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QScrollArea,
    QScrollBar,
    QTabBar,
    QWidget,
)

from kimdesk.models.enums import Phase
from kimdesk.ui.hub import Hub
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.operations import GuiThreadGarbageCollector
from kimdesk.ui.start import application
from kimdesk.ui.state import AppState

DEVICE = (1366, 728)  # a 1366×768 screen less its panel


def settle(seconds: float = 0.2) -> None:
    """Let the event loop run for a while (layouts, reloads, a worker's answer)."""
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def _scrolled(widget: QWidget) -> bool:
    """Inside a scroll area's viewport (its content may reach past the edge on purpose; the
    area's own scroll bar is checked instead)."""
    parent = widget.parentWidget()
    while parent is not None:
        grand = parent.parentWidget()
        if isinstance(grand, QAbstractScrollArea) and grand.viewport() is parent \
                and grand.objectName() != "page_scroll":
            return True
        parent = grand
    return False


def findings(window: MainWindow) -> list[str]:
    found: list[str] = []
    page = window.pages.currentWidget()
    bar = window.page_scroll.horizontalScrollBar()
    if bar.isVisible():
        found.append(f"the screen scrolls sideways: page {window.pages.width()} px in a "
                     f"viewport of {window.page_scroll.viewport().width()} px")
    for area in page.findChildren(QScrollArea):
        inner = area.widget()
        if area.isVisible() and inner is not None \
                and inner.width() > area.viewport().width() + 1 \
                and not area.horizontalScrollBar().isVisible():
            found.append(f"{area.objectName() or 'QScrollArea'} cuts its content off at the "
                         f"right ({inner.width()} px in {area.viewport().width()} px)")
    for widget in page.findChildren(QWidget):
        if not widget.isVisible():
            continue
        name = widget.objectName() or type(widget).__name__
        if isinstance(widget, QScrollBar) and widget.orientation().name == "Horizontal" \
                and not _scrolled(widget):
            found.append(f"horizontal scroll bar visible in {_owner(widget)}")
            continue
        parent = widget.parentWidget()
        if parent is None or isinstance(parent, QTabBar) or _scrolled(widget):
            continue
        if isinstance(parent, QAbstractScrollArea):
            continue  # scroll bars and corners of an area are laid out by it
        right = widget.geometry().right()
        if right > parent.width() + 1:
            found.append(f"{name} ({type(widget).__name__}) reaches {right - parent.width()} px "
                         f"past the right edge of {parent.objectName() or type(parent).__name__}")
    return found


def _owner(bar: QWidget) -> str:
    parent = bar.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return (parent.objectName() or type(parent).__name__) if parent is not None else "?"


def _view_phase(window: MainWindow, case_id: str, phase: Phase) -> None:
    window.open_case(case_id)
    window.case_screen.stepper.buttons[phase].click()


def _coordination_tab(window: MainWindow, tab: str) -> None:
    window.show_page("Koordination")
    window.coordination.show_tab(tab)


def _county_tab(window: MainWindow, tab: str) -> None:
    window.show_page("Koordination")
    window.coordination.show_scope("kreis")
    county = window.coordination.county
    assert county is not None
    county.show_tab(tab)


def main(argv: list[str]) -> int:
    vault_dir, password, out_dir, client_id, case_id = argv
    app = application()  # as `kimdesk gui` starts: palette, German Qt texts, names
    collector = GuiThreadGarbageCollector()  # as the app: no collection on a pool thread
    ratio = app.devicePixelRatio()
    state = AppState(Path(vault_dir), Hub())
    state.unlock(password)
    window = MainWindow(state)
    window.show()
    settle()
    logical = (int(DEVICE[0] / ratio), int(DEVICE[1] / ratio))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    screens: list[tuple[str, Callable[[], None]]] = [
        (page.lower(), lambda page=page: window.show_page(page))  # type: ignore[misc]
        for page in MainWindow.NAVIGATION]
    screens += [("akte", lambda: window.open_client(client_id)),
                ("fall", lambda: window.open_case(case_id))]
    # The Fall's earlier phases (Beispiel 5 is in Monitoring) and Koordination's other tabs.
    for phase in (Phase.INTAKE, Phase.ASSESSMENT, Phase.PLANNING, Phase.LINKING):
        screens.append((f"fall-{phase.value}",
                        lambda phase=phase: _view_phase(window, case_id, phase)))  # type: ignore[misc]
    for tab in ("Erkenntnisse", "Fallrekonstruktionen", "Projektgruppen", "Lenkungsgruppe",
                "Kommunen"):
        screens.append((f"koordination-{tab.lower()}",
                        lambda tab=tab: _coordination_tab(window, tab)))  # type: ignore[misc]
    if state.has_county:  # a coordinator's laptop with a Kreis-Tresor: the Kreis scope too
        for tab in ("Erkenntnisse", "Fallrekonstruktionen", "Projektgruppen", "Lenkungsgruppe"):
            screens.append((f"kreis-{tab.lower()}",
                            lambda tab=tab: _county_tab(window, tab)))  # type: ignore[misc]
    report: dict[str, object] = {"ratio": ratio, "logical": logical, "screens": {}}
    for name, show in screens:
        show()
        window.resize(*logical)
        settle()
        if name == "statistik":
            deadline = time.monotonic() + 30
            while (window.stats.statistics is None or window.stats.busy) \
                    and time.monotonic() < deadline:
                settle(0.1)
            settle()
        found = findings(window)
        if (window.width(), window.height()) != logical:
            found.append(f"the window stays {window.width()}×{window.height()} (minimum "
                         f"{window.minimumSizeHint().width()}×"
                         f"{window.minimumSizeHint().height()})")
        shot = window.grab()
        path = out / f"render150-{name}.png"
        shot.save(str(path))
        report["screens"][name] = {  # type: ignore[index]
            "png": str(path), "device": [shot.width(), shot.height()], "findings": found}
    window.discard_and_close()
    collector.stop()
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    # The vault is closed (the window locked it); leave without the interpreter's final
    # collection, which PySide6 6.x now and then crashes on (none_dealloc).
    os._exit(main(sys.argv[1:]))
