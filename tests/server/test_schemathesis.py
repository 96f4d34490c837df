"""Schemathesis against the server's own OpenAPI schema: whatever is sent, never a 5xx.

Runs in-process (ASGI) with the token of an active coordinator, so generated requests get past
authentication and reach the endpoints' rules; valid and invalid data (positive and negative
generation) for every operation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient

from kimdesk.server import admin
from kimdesk.server.app import create_app
from tests.server.support import Device

EXAMPLES = 25  # per operation and generation mode


@pytest.fixture
def fuzzed_app(server_db_url: str) -> Iterator[tuple[FastAPI, Device]]:
    app = create_app(server_db_url)
    db = app.state.db
    try:
        admin.create_team(db, "nord", "Team Nord")
        code, _ = admin.issue_code(db, "nord", "Koordination", coordinator=True)
        device = Device(coordinator=True)
        with TestClient(app) as client:
            body = client.post("/v1/enrol", json=device.enrol_body(code, "Koordination")).json()
            device.device_id, device.team, device.token = (body["device_id"], "nord",
                                                           body["token"])
            envelope = device.seal(device, 1, os.urandom(32))
            assert client.post("/v1/envelopes", headers=device.headers,
                               json={"envelopes": [envelope]}).status_code == 200
        yield app, device
    finally:
        db.dispose()


def test_no_request_makes_the_server_fail(fuzzed_app: tuple[FastAPI, Device]) -> None:
    app, device = fuzzed_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 30  # with /v1/erasures, /v1/trust, /v1/quarantine, /v1/blobs,
    # /v1/transfers (8 operations) and /v1/teams/{team}/members …

    failures: list[str] = []
    positive_only: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(data=st.data())
            def run(data: st.DataObject) -> None:
                case = data.draw(operation.as_strategy(generation_mode=mode))  # noqa: B023
                response = case.call(headers=device.headers)
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except AssertionError as exc:
                    failures.append(f"{case.method} {case.path}: {exc}"[:500])
                    raise

            try:
                run()
            except AssertionError:
                continue
            except Unsatisfiable:
                # Nothing to make invalid (no parameters, no body): positive data only.
                assert mode is GenerationMode.NEGATIVE
                positive_only.append(f"{operation.method.upper()} {operation.path}")
    assert not failures, "\n\n".join(failures)
    assert len(positive_only) <= 4, positive_only
