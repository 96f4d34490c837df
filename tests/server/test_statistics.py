"""Anonymised statistics on the server: replace-not-add, and no small cell ever leaves it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kimdesk.server.statistics import protect_group
from tests.server.conftest import grant
from tests.server.support import Device

Enrol = Callable[..., Device]


def _cells(*rows: tuple[str, str, str, int]) -> dict[str, Any]:
    return {"cells": [{"municipality": m, "dimension": d, "value": v, "count": c}
                      for m, d, v, c in rows]}


def _put(client: TestClient, device: Device, period: str, body: dict[str, Any],
         expect: int = 200) -> dict[str, Any]:
    response = client.put(f"/v1/stats/{period}", headers=device.headers, json=body)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def _get(client: TestClient, device: Device, expect: int = 200, **params: str
         ) -> dict[str, Any]:
    response = client.get("/v1/stats", headers=device.headers, params=params)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def _counts(body: dict[str, Any]) -> dict[tuple[str, str, str, str], int | None]:
    return {(c["team"], c["municipality"], c["dimension"], c["value"]): c["count"]
            for c in body["cells"]}


def test_resending_a_period_replaces_the_devices_counts(
        client: TestClient, active_team: tuple[Device, Device]) -> None:
    coordinator, member = active_team
    first = _cells(("kleve", "case_kind", "case_management", 20),
                   ("kleve", "case_kind", "short_intervention", 30))
    assert _put(client, member, "2026-Q2", first) == {"stored": 2}
    assert _put(client, member, "2026-Q2", first) == {"stored": 2}
    _put(client, coordinator, "2026-Q2", _cells(("kleve", "case_kind", "case_management", 7)))

    assert _counts(_get(client, member, period="2026-Q2")) == {
        ("nord", "kleve", "case_kind", "case_management"): 27,
        ("nord", "kleve", "case_kind", "short_intervention"): 30}
    # The new report of a device replaces all its cells of that period, nothing else.
    _put(client, member, "2026-Q2", _cells(("kleve", "case_kind", "case_management", 21)))
    _put(client, member, "2026-05", _cells(("kleve", "case_kind", "case_management", 9)))
    assert _counts(_get(client, member, period="2026-Q2")) == {
        ("nord", "kleve", "case_kind", "case_management"): 28}
    assert _put(client, member, "2026-Q2", {"cells": []}) == {"stored": 0}
    assert _counts(_get(client, member, period="2026-Q2")) == {
        ("nord", "kleve", "case_kind", "case_management"): 7}


def test_a_replacement_laptop_replaces_the_counts_of_the_same_person(
        client: TestClient, active_team: tuple[Device, Device],
        enrolled_device: Enrol) -> None:
    coordinator, old_laptop = active_team
    _put(client, old_laptop, "2026-11", _cells(("kleve", "case_kind", "case_management", 20)))
    new_laptop = enrolled_device("nord", "Anna Becker", device_name="Neuer Laptop")
    grant(client, coordinator, new_laptop, epoch=1)

    _put(client, new_laptop, "2026-11", _cells(("kleve", "case_kind", "case_management", 21)))

    assert _counts(_get(client, new_laptop, period="2026-11")) == {
        ("nord", "kleve", "case_kind", "case_management"): 21}


def test_small_cells_are_hidden_with_a_second_cell_beside_them(
        client: TestClient, active_team: tuple[Device, Device]) -> None:
    _, member = active_team
    _put(client, member, "2026", _cells(
        ("kleve", "gender", "female", 3), ("kleve", "gender", "male", 12),
        ("kleve", "gender", "diverse", 0), ("kleve", "gender", "none", 40),
        ("goch", "gender", "female", 6), ("goch", "gender", "male", 8)))

    body = _get(client, member, period="2026")

    cells = {(c["municipality"], c["value"]): c for c in body["cells"]}
    assert ("kleve", "diverse") not in cells  # zero cells are left out
    assert cells[("kleve", "female")] == {
        "team": "nord", "municipality": "kleve", "dimension": "gender", "value": "female",
        "count": None, "suppressed": True}
    # The smallest other cell goes too, or 55 − 12 − 40 would give the hidden 3 away.
    assert cells[("kleve", "male")]["count"] is None
    assert cells[("kleve", "none")]["count"] == 40
    assert cells[("goch", "female")]["count"] == 6 and cells[("goch", "male")]["count"] == 8


def test_filters_and_who_sees_which_team(
        client: TestClient, active_team: tuple[Device, Device], enrolled_device: Enrol) -> None:
    coordinator, member = active_team
    south = enrolled_device("sued", "Eva Schmitz", first_key=True)
    _put(client, member, "2026", _cells(("kleve", "topic", "language", 11),
                                        ("kleve", "phase", "planning", 13),
                                        ("kranenburg", "topic", "language", 17)))
    _put(client, south, "2026", _cells(("geldern", "topic", "language", 19)))

    assert set(_counts(_get(client, coordinator, period="2026")).values()) == {11, 13, 17, 19}
    assert _counts(_get(client, coordinator, period="2026", team="sued")) == {
        ("sued", "geldern", "topic", "language"): 19}
    assert _counts(_get(client, member, period="2026", municipality="kleve",
                        dimension="topic")) == {("nord", "kleve", "topic", "language"): 11}
    # A case manager sees the own team only.
    assert {k[0] for k in _counts(_get(client, member, period="2026"))} == {"nord"}
    _get(client, member, 403, period="2026", team="sued")
    assert _get(client, coordinator, period="2025") == {"period": "2025", "cells": []}


def test_a_pending_device_cannot_read_statistics(client: TestClient,
                                                 enrolled_device: Enrol) -> None:
    enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    pending = enrolled_device("nord", "Neu im Team")

    _get(client, pending, 409, period="2026")


@pytest.mark.parametrize("period, body", [
    ("2026-13", _cells(("kleve", "topic", "language", 1))),
    ("2026-Q5", _cells(("kleve", "topic", "language", 1))),
    ("26", _cells(("kleve", "topic", "language", 1))),
    ("2026", _cells(("kleve", "name", "language", 1))),
    ("2026", _cells(("kleve", "topic", "Mohammed Al-Hassan", 1))),
    ("2026", _cells(("Kleve am Rhein", "topic", "language", 1))),
    ("2026", _cells(("kleve", "topic", "language", -1))),
    ("2026", _cells(("kleve", "topic", "x" * 61, 1))),
    ("2026", _cells(("kleve", "topic", "language", 1), ("kleve", "topic", "language", 2))),
])
def test_malformed_statistics_are_422(client: TestClient, active_team: tuple[Device, Device],
                                      period: str, body: dict[str, Any]) -> None:
    _, member = active_team

    _put(client, member, period, body, expect=422)

    assert _get(client, member, period="2026")["cells"] == []


cell_counts = st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8)


@settings(max_examples=300)
@given(cell_counts)
def test_no_count_of_one_to_four_is_shown_and_hidden_cells_cannot_be_recomputed(
        counts: list[int]) -> None:
    members = [(f"v{i}", count) for i, count in enumerate(counts)]

    shown = protect_group(members)

    assert len(shown) == sum(1 for c in counts if c)
    assert all(count is None or count >= 5 for _value, count in shown)
    hidden = [value for value, count in shown if count is None]
    originals = dict(members)
    assert all(count is None or count == originals[value] for value, count in shown)
    if hidden and len(shown) > 1:
        # The group total is known elsewhere: a lone hidden cell would follow from it, and so
        # would hidden cells that add up to less than 5 beside shown ones.
        assert len(hidden) >= 2, (counts, shown)
        assert sum(originals[v] for v in hidden) >= 5 or len(hidden) == len(shown)
