"""The Ratsuchende list: search as you type, filters, sorting, opening a file."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from kimdesk.casework.context import Context
from kimdesk.ui.clients_screen import ClientsScreen
from kimdesk.ui.state import AppState
from tests.factories import CM, SHORT, make_case, make_person
from tests.ui.support import choose, type_text


def _names(screen: ClientsScreen) -> list[str]:
    model = screen.model
    return [model.row_at(row).display_name for row in range(model.rowCount())]


def test_typing_filters_by_name_regardless_of_diacritics(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    make_person(ctx, first_name="Zofia", last_name="Wiśniewska", municipality="goch")
    make_person(ctx, first_name="Mehmet", last_name="Yılmaz", municipality="kleve")
    screen = ClientsScreen(app_state)
    qtbot.addWidget(screen)
    screen.show()
    assert len(_names(screen)) == 2

    type_text(qtbot, screen.search, "wisn")
    qtbot.waitUntil(lambda: _names(screen) == ["Wiśniewska, Zofia"], timeout=2000)
    assert screen.count.text() == "1 von 2 Ratsuchenden"
    screen.search.clear()
    type_text(qtbot, screen.search, "Yilmaz")
    qtbot.waitUntil(lambda: _names(screen) == ["Yılmaz, Mehmet"], timeout=2000)


def test_filters_by_kommune_case_kind_and_status(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    goch = make_person(ctx, municipality="goch", consent=True)
    kleve = make_person(ctx, municipality="kleve", consent=True)
    make_case(ctx, goch, CM)
    make_case(ctx, kleve, SHORT)
    screen = ClientsScreen(app_state)
    qtbot.addWidget(screen)
    screen.show()

    choose(screen.municipality, "goch")
    assert _names(screen) == [goch.display_name]
    choose(screen.municipality, None)
    choose(screen.case_kind, SHORT)
    assert _names(screen) == [kleve.display_name]
    choose(screen.case_kind, None)
    choose(screen.phase, "intake")
    assert _names(screen) == [goch.display_name]


def test_sorting_and_the_model_contract(qtbot: Any, qtmodeltester: Any, app_state: AppState,
                                        ctx: Context) -> None:
    for _ in range(3):
        make_person(ctx)
    screen = ClientsScreen(app_state)
    qtbot.addWidget(screen)
    screen.show()
    ascending = _names(screen)
    assert ascending == sorted(ascending, key=str.casefold)
    screen.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert _names(screen) == list(reversed(ascending))
    qtmodeltester.check(screen.model)


def test_enter_in_the_search_opens_the_first_file(
        qtbot: Any, app_state: AppState, ctx: Context) -> None:
    client = make_person(ctx, first_name="Olena", last_name="Kovalenko")
    screen = ClientsScreen(app_state)
    qtbot.addWidget(screen)
    screen.show()
    type_text(qtbot, screen.search, "Kowalenko")
    with qtbot.waitSignal(app_state.hub.client_opened, timeout=2000) as opened:
        qtbot.keyClick(screen.search, Qt.Key.Key_Return)
    assert opened.args == [client.id]
