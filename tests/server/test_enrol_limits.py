"""Enrolment attempts are rate-limited per client address and per team, and refusals audited.

The limit must stop guessing (and a stolen code tried with names) but not a team of 15 that
enrols on one morning behind one county address with a few typos. The count is in the database:
two app instances over one database (as two worker processes) count together.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from kimdesk.server import admin
from kimdesk.server.app import create_app
from kimdesk.server.db import Database
from kimdesk.server.enrolment import code_hash
from kimdesk.server.settings import Settings
from kimdesk.server.tables import audit_log, devices, enrolment_attempts, enrolment_codes
from tests.server.support import Device
from tests.server.test_cli import kimdesk, ok

WRONG = "2345-6789-ABCD-EFGH"


@pytest.fixture
def server(server_db_url: str) -> Iterator[tuple[Database, Any]]:
    """The database and ``client(address)``: a TestClient whose requests come from there; a
    second app instance over the same database serves every other client (a second worker)."""
    apps = [create_app(server_db_url), create_app(server_db_url)]
    clients: dict[str, TestClient] = {}

    def client(address: str) -> TestClient:
        if address not in clients:
            app = apps[len(clients) % 2]
            clients[address] = TestClient(app, client=(address, 40000)).__enter__()
        return clients[address]

    db: Database = apps[0].state.db
    admin.create_team(db, "nord", "Team Nord")
    admin.create_team(db, "ost", "Team Ost")
    try:
        yield db, client
    finally:
        for test_client in clients.values():
            test_client.__exit__(None, None, None)
        for app in apps:
            app.state.db.dispose()


def _enrol(client: TestClient, code: str, user: str, team: str | None = None) -> Any:
    body = Device().enrol_body(code, user)
    if team is not None:
        body["team"] = team
    return client.post("/v1/enrol", json=body)


def _audit(db: Database, action: str) -> list[Any]:
    with db.read() as conn:
        return conn.execute(select(audit_log).where(audit_log.c.action == action)
                            .order_by(audit_log.c.id)).all()


def _code_unused(db: Database, code: str) -> bool:
    with db.read() as conn:
        return conn.execute(select(enrolment_codes.c.used_at).where(
            enrolment_codes.c.code_hash == code_hash(code))).scalar_one() is None


def test_guessing_from_one_address_is_stopped(server: tuple[Database, Any]) -> None:
    db, client = server
    limit = Settings(db_url="").enrol_failures_per_address
    code, _ = admin.issue_code(db, "nord", "Anna Becker")
    guesser = client("203.0.113.7")

    answers = [_enrol(guesser, f"ZZZZ-ZZZZ-ZZZZ-{n:04d}".replace("0", "A").replace("1", "B"),
                      "Anna Becker").status_code for n in range(limit + 3)]
    right_code = _enrol(guesser, code, "Anna Becker")

    # Before: every guess answered 403 and the right code still enrolled the guesser.
    assert answers == [403] * limit + [429] * 3
    assert right_code.status_code == 429, right_code.text
    assert "Zu viele fehlgeschlagene Anmeldeversuche von diesem Rechner" in right_code.json()[
        "detail"]
    retry = int(right_code.headers["Retry-After"])
    assert 0 < retry <= 15 * 60 + 1 and right_code.json()["retry_after"] == retry
    assert _code_unused(db, code)
    # A colleague at another address is not affected.
    assert _enrol(client("198.51.100.20"), code, "Anna Becker").status_code == 201


def test_the_limit_ends_with_its_window(server: tuple[Database, Any]) -> None:
    db, client = server
    limit = Settings(db_url="").enrol_failures_per_address
    code, _ = admin.issue_code(db, "nord", "Anna Becker")
    here = client("203.0.113.7")
    for _ in range(limit):
        assert _enrol(here, WRONG, "Anna Becker").status_code == 403
    assert _enrol(here, code, "Anna Becker").status_code == 429

    with db.write() as conn:  # 16 minutes later
        conn.execute(update(enrolment_attempts).values(
            at=enrolment_attempts.c.at - timedelta(minutes=16)))

    assert _enrol(here, code, "Anna Becker").status_code == 201


def test_a_team_of_fifteen_enrols_on_one_morning_behind_one_address(
        server: tuple[Database, Any]) -> None:
    db, client = server
    county = client("10.20.0.1")  # the county network's NAT address
    people = [f"Case Managerin {n}" for n in range(1, 16)]
    codes = {p: admin.issue_code(db, "nord", p)[0] for p in people}

    for person in people:  # each types the code wrong once, then right
        typo = codes[person][:-1] + ("2" if codes[person][-1] != "2" else "3")
        assert _enrol(county, typo, person, team="nord").status_code == 403
        answer = _enrol(county, codes[person], person, team="nord")
        assert answer.status_code == 201, answer.text

    with db.read() as conn:
        assert len(conn.execute(select(devices.c.id)).all()) == 15


def test_a_stolen_code_tried_with_names_blocks_its_team_not_others(
        server: tuple[Database, Any]) -> None:
    """Wrong-person attempts with a real code of team nord, from ever new addresses (the request
    names no team): counted against nord; team ost enrols on."""
    db, client = server
    limit = Settings(db_url="").enrol_failures_per_team
    stolen, _ = admin.issue_code(db, "nord", "Anna Becker")
    other, _ = admin.issue_code(db, "nord", "Jan Peters")
    east, _ = admin.issue_code(db, "ost", "Eva Ost")

    answers = [_enrol(client(f"192.0.2.{n}"), stolen, f"Name {n}").status_code
               for n in range(1, limit + 2)]
    blocked = _enrol(client("198.51.100.9"), other, "Jan Peters")

    assert answers == [403] * limit + [429]
    assert blocked.status_code == 429 and "für Team nord" in blocked.json()["detail"]
    assert _code_unused(db, stolen) and _code_unused(db, other)
    assert _enrol(client("198.51.100.9"), east, "Eva Ost").status_code == 201
    assert len(_audit(db, "enrol_blocked")) == 1  # once for nord, not once per attempt


def test_unknown_codes_naming_a_team_do_not_block_it(server: tuple[Database, Any]) -> None:
    """Only a real code counts against its team: anyone could name a team with made-up codes."""
    db, client = server
    limit = Settings(db_url="").enrol_failures_per_team
    code, _ = admin.issue_code(db, "nord", "Anna Becker")

    answers = {_enrol(client(f"192.0.2.{n}"), WRONG, "Anna Becker", team="nord").status_code
               for n in range(1, limit + 3)}

    assert answers == {403}
    assert _enrol(client("198.51.100.9"), code, "Anna Becker", team="nord").status_code == 201


def test_refusals_are_audited_without_the_code(server: tuple[Database, Any]) -> None:
    db, client = server
    here = client("203.0.113.50")
    used, _ = admin.issue_code(db, "nord", "Anna Becker")
    assert _enrol(here, used, "Anna Becker").status_code == 201
    expired, _ = admin.issue_code(db, "nord", "Jan Peters")
    with db.write() as conn:
        conn.execute(update(enrolment_codes).where(
            enrolment_codes.c.code_hash == code_hash(expired)).values(
            expires_at=enrolment_codes.c.created_at))
    foreign, _ = admin.issue_code(db, "ost", "Eva Ost")
    person, _ = admin.issue_code(db, "nord", "Lena Wolf")

    answers = [_enrol(here, WRONG, "Irgendwer").status_code,
               _enrol(here, used, "Anna Becker").status_code,
               _enrol(here, expired, "Jan Peters").status_code,
               _enrol(here, foreign, "Eva Ost", team="nord").status_code,
               _enrol(here, person, "Jemand Anderes").status_code]

    assert answers == [403, 403, 403, 409, 403]
    entries = _audit(db, "enrol_refused")
    details = [json.loads(e.detail) for e in entries]
    assert [d["reason"] for d in details] == ["unknown_code", "used_code", "expired_code",
                                             "other_team", "other_person"]
    assert {e.actor for e in entries} == {"address:203.0.113.50"}
    assert [e.team for e in entries] == [None, "nord", "nord", "ost", "nord"]
    assert details[4]["user"] == "Lena Wolf" and "Jemand" not in json.dumps(details)
    text = json.dumps([[*e] for e in entries], default=str)
    for code in (WRONG, used, expired, foreign, person):
        for form in (code, code.replace("-", ""), code.replace("-", "").lower()):
            assert form not in text
    assert all(len(d["code_ref"]) == 8 for d in details)
    # The codes refused for another team or person stay usable by the right one.
    assert _enrol(here, foreign, "Eva Ost", team="ost").status_code == 201
    assert _enrol(here, person, "Lena Wolf").status_code == 201


def test_server_admin_audit_shows_refusals(server_db_url: str,
                                           server: tuple[Database, Any]) -> None:
    _db, client = server
    assert _enrol(client("203.0.113.9"), WRONG, "Anna Becker").status_code == 403

    shown = ok(kimdesk("server-admin", "--db", server_db_url, "audit"))
    only = ok(kimdesk("server-admin", "--db", server_db_url, "audit", "--action",
                      "enrol_refused", "--action", "enrol_blocked"))

    line = shown.strip().splitlines()[-1]
    assert "Anmeldung abgelehnt" in line and "address:203.0.113.9" in line
    assert "reason=unknown_code" in line and "code_ref=" in line
    assert WRONG not in shown and WRONG.replace("-", "") not in shown
    assert "Team angelegt" in shown and "Team angelegt" not in only
    assert only.strip().splitlines()[-1] == line
