"""Anonymised statistics on the server: one protected table per team and month, replaced by
each upload, nothing linked to a device or user, no count of 1–4 accepted or shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import inspect, select
from starlette.testclient import TestClient

from kimdesk.server.db import Database
from kimdesk.server.tables import team_stat_cells, team_stat_uploads
from tests.server.support import Device

Enrol = Callable[..., Device]


def _cells(*rows: tuple[str, str, str, int] | tuple[str, str, str, int, str]
           ) -> dict[str, Any]:
    return {"cells": [{"municipality": r[0], "dimension": r[1], "value": r[2], "count": r[3],
                       "measure": r[4] if len(r) > 4 else "new"}  # type: ignore[misc]
                      for r in rows]}


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


def _counts(body: dict[str, Any]) -> dict[tuple[str, str, str, str, str], int]:
    return {(c["team"], c["municipality"], c["dimension"], c["value"], c["measure"]):
            c["count"] for c in body["cells"]}


def test_an_upload_replaces_the_teams_month_whoever_sends_it(
        client: TestClient, active_team: tuple[Device, Device], db: Database) -> None:
    coordinator, member = active_team
    first = _cells(("kleve", "case_kind", "case_management", 20),
                   ("kleve", "case_kind", "short_intervention", 30))
    assert _put(client, member, "2026-05", first) == {"stored": 2}
    assert _put(client, member, "2026-05", first) == {"stored": 2}
    # Another device of the team computes the same team table: it replaces, never adds.
    assert _put(client, coordinator, "2026-05", first) == {"stored": 2}
    assert _counts(_get(client, member, period="2026-05")) == {
        ("nord", "kleve", "case_kind", "case_management", "new"): 20,
        ("nord", "kleve", "case_kind", "short_intervention", "new"): 30}
    _put(client, member, "2026-05", _cells(("kleve", "case_kind", "case_management", 21)))
    _put(client, member, "2026-06", _cells(("kleve", "case_kind", "case_management", 9)))
    # New cases add up over the months of a quarter.
    assert _counts(_get(client, member, period="2026-Q2")) == {
        ("nord", "kleve", "case_kind", "case_management", "new"): 30}
    assert _put(client, member, "2026-05", {"cells": []}) == {"stored": 0}
    assert _counts(_get(client, member, period="2026-Q2")) == {
        ("nord", "kleve", "case_kind", "case_management", "new"): 9}
    with db.read() as conn:
        columns = set(team_stat_cells.c.keys()) | set(team_stat_uploads.c.keys())
        months = {row.month for row in conn.execute(select(team_stat_uploads))}
    assert not columns & {"device_id", "user_name"}
    assert months == {"2026-05", "2026-06"}


def test_open_cases_are_those_at_the_end_of_the_last_uploaded_month(
        client: TestClient, active_team: tuple[Device, Device]) -> None:
    _, member = active_team
    _put(client, member, "2026-04", _cells(("kleve", "gender", "female", 40, "open_at_end"),
                                           ("kleve", "gender", "female", 6, "closed")))
    _put(client, member, "2026-05", _cells(("kleve", "gender", "female", 35, "open_at_end"),
                                           ("kleve", "gender", "female", 5, "closed")))
    body = _get(client, member, period="2026")
    assert _counts(body) == {("nord", "kleve", "gender", "female", "open_at_end"): 35,
                             ("nord", "kleve", "gender", "female", "closed"): 11}
    assert body["first_month"] == "2026-01" and body["last_month"] == "2026-12"
    [upload] = body["uploads"]
    assert upload["team"] == "nord" and upload["as_of_month"] == "2026-05"
    assert upload["last_upload"]


def test_unprotected_small_counts_are_refused(
        client: TestClient, active_team: tuple[Device, Device]) -> None:
    _, member = active_team
    for count in (1, 2, 3, 4):
        _put(client, member, "2026-05", _cells(("kleve", "gender", "female", count)),
             expect=422)
    _put(client, member, "2026-05", _cells(("kleve", "gender", "female", 5),
                                           ("kleve", "gender", "male", 0)))
    assert _counts(_get(client, member, period="2026-05")) == {
        ("nord", "kleve", "gender", "female", "new"): 5}  # zeros are not stored


def test_filters_and_who_sees_which_team(
        client: TestClient, active_team: tuple[Device, Device], enrolled_device: Enrol) -> None:
    coordinator, member = active_team
    south = enrolled_device("sued", "Eva Schmitz", first_key=True)
    _put(client, member, "2026-03", _cells(("kleve", "topic", "language", 11),
                                           ("kleve", "phase", "planning", 13),
                                           ("kranenburg", "topic", "language", 17)))
    _put(client, south, "2026-03", _cells(("geldern", "topic", "language", 19)))

    county = _get(client, coordinator, period="2026")
    assert set(_counts(county).values()) == {11, 13, 17, 19}
    assert [u["team"] for u in county["uploads"]] == ["nord", "sued"]
    assert _counts(_get(client, coordinator, period="2026", team="sued")) == {
        ("sued", "geldern", "topic", "language", "new"): 19}
    assert _counts(_get(client, member, period="2026", municipality="kleve",
                        dimension="topic")) == {("nord", "kleve", "topic", "language", "new"): 11}
    # A case manager sees the own team only.
    own = _get(client, member, period="2026")
    assert {k[0] for k in _counts(own)} == {"nord"}
    assert [u["team"] for u in own["uploads"]] == ["nord"]
    _get(client, member, 403, period="2026", team="sued")
    assert _get(client, coordinator, period="2025")["cells"] == []


def test_a_pending_device_can_neither_read_nor_write_statistics(
        client: TestClient, enrolled_device: Enrol) -> None:
    enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    pending = enrolled_device("nord", "Neu im Team")

    _get(client, pending, 409, period="2026")
    _put(client, pending, "2026-05", _cells(("kleve", "gender", "female", 7)), expect=409)


@pytest.mark.parametrize("period, body", [
    ("2026-13", _cells(("kleve", "topic", "language", 5))),
    ("2026-Q2", _cells(("kleve", "topic", "language", 5))),  # uploads are per month
    ("2026", _cells(("kleve", "topic", "language", 5))),
    ("26", _cells(("kleve", "topic", "language", 5))),
    ("2026-05", _cells(("kleve", "name", "language", 5))),
    ("2026-05", _cells(("kleve", "topic", "Mohammed Al-Hassan", 5))),
    ("2026-05", _cells(("Kleve am Rhein", "topic", "language", 5))),
    ("2026-05", _cells(("kleve", "topic", "language", -1))),
    ("2026-05", _cells(("kleve", "topic", "x" * 61, 5))),
    ("2026-05", _cells(("kleve", "topic", "language", 5, "active_per_person"))),
    ("2026-05", _cells(("kleve", "topic", "language", 5), ("kleve", "topic", "language", 6))),
])
def test_malformed_statistics_are_422(client: TestClient, active_team: tuple[Device, Device],
                                      period: str, body: dict[str, Any]) -> None:
    _, member = active_team

    _put(client, member, period, body, expect=422)

    assert _get(client, member, period="2026")["cells"] == []


def test_an_upgraded_server_drops_the_old_statistics_per_device(db: Database) -> None:
    """Servers before the protected team tables kept counts per device (``stat_cells``): the
    upgrade removes them rather than keeping small counts linked to a device forever."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE stat_cells (device_id VARCHAR(32), period VARCHAR(7), "
            "municipality VARCHAR(60), dimension VARCHAR(40), value VARCHAR(60), "
            "team VARCHAR(20), count BIGINT)")
        conn.exec_driver_sql(
            "INSERT INTO stat_cells VALUES ('d1', '2026-05', 'kleve', 'case_kind', "
            "'case_management', 'nord', 2)")
    db.create_schema()
    assert not inspect(db.engine).has_table("stat_cells")
    assert inspect(db.engine).has_table("team_stat_cells")
