"""Fixtures of the server tests: every test runs on SQLite and on a real PostgreSQL.

The PostgreSQL server is started once per session (the ``postgres`` fixture of tests/conftest.py);
each test gets a fresh database copied from a template that already has the schema. Missing
PostgreSQL binaries fail the tests with a hint instead of skipping them: CI must test both.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from kimdesk.server import admin
from kimdesk.server.app import create_app
from kimdesk.server.db import Database
from tests.server.support import Device, PostgresCluster

with warnings.catch_warnings():
    # Starlette prefers httpx2; the pinned httpx works and is what the client uses.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

TEAM_KEY = os.urandom(32)


@pytest.fixture(params=["sqlite", "postgresql"])
def server_db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty server database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.new_database()
    try:
        yield url
    finally:
        cluster.drop_database(url)


@pytest.fixture
def app(server_db_url: str) -> FastAPI:
    return create_app(server_db_url)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # the lifespan disposes the engine at the end
        yield test_client


@pytest.fixture
def db(app: FastAPI, client: TestClient) -> Database:
    database: Database = app.state.db
    return database


@pytest.fixture
def enrolled_device(client: TestClient, db: Database) -> Callable[..., Device]:
    """``enrol(team="nord", user=…, coordinator=False, first_key=False)``: a team (created if
    missing), a code from `server-admin`, and a device with real keys enrolled with it.
    ``first_key`` lets the device create the team key (epoch 1) and so become active; it makes
    the device a coordinator's (only those create a team's first key)."""
    teams = {t.code for t in admin.list_teams(db)}
    counter = iter(range(1, 10_000))

    def enrol(team: str = "nord", user: str | None = None, *, coordinator: bool = False,
              first_key: bool = False, device_name: str = "Laptop") -> Device:
        if team not in teams:
            admin.create_team(db, team, f"Team {team.title()}")
            teams.add(team)
        user = user or f"Case Managerin {next(counter)}"
        coordinator = coordinator or first_key  # only the coordination makes the first key
        code, _expires = admin.issue_code(db, team, user, coordinator=coordinator)
        device = Device(coordinator=coordinator)
        response = client.post("/v1/enrol", json=device.enrol_body(code, user, device_name))
        assert response.status_code == 201, response.text
        body = response.json()
        device.device_id, device.team, device.token = body["device_id"], team, body["token"]
        device.enrolment = body
        if first_key:
            grant(client, device, device, epoch=1)
        return device

    return enrol


def grant(client: TestClient, granter: Device, recipient: Device, *, epoch: int = 1,
          team_key: bytes = TEAM_KEY, expect: int = 200) -> dict[str, Any]:
    """POST one envelope from ``granter`` for ``recipient``; asserts the status."""
    response = client.post("/v1/envelopes", headers=granter.headers,
                           json={"envelopes": [granter.seal(recipient, epoch, team_key)]})
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def active_team(enrolled_device: Callable[..., Device], client: TestClient
                ) -> tuple[Device, Device]:
    """Team nord with a key: an active coordinator and an active case manager's device."""
    coordinator = enrolled_device("nord", "Koordination Nord", coordinator=True, first_key=True)
    member = enrolled_device("nord", "Anna Becker")
    grant(client, coordinator, member, epoch=1)
    return coordinator, member
