"""Schemathesis, all phases and stateful, with a real device's token: the team syncs on after.

Issue 16: a schemathesis run with a confirmed device's token once left garbage changes and
statistics on the server, and both real devices could no longer sync. Here a real team (two
devices with real vaults and data) runs on the in-process server; schemathesis' engine runs every
phase (examples, coverage, fuzzing, stateful along the OpenAPI links of ``server/app.py``) with
the coordinator device's own token; then both devices keep working, sync, and hold the same
data with the same checksum as the server.
"""

from __future__ import annotations

import collections
import warnings
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.run import PhaseName
from sqlalchemy import select

from kimdesk.casework.clients import find_clients, update_client
from kimdesk.casework.retention import purge_client
from kimdesk.server.tables import changes
from kimdesk.sync import client, merge
from kimdesk.sync.client import SyncClient
from tests.factories import CM, make_case, make_contact, make_person
from tests.sync.devices import snapshot

EXAMPLES = 6  # per operation and phase: the run stays well under a minute
# What must hold for every request. Left out: positive_data_acceptance (the server refuses
# schema-valid data for reasons a schema cannot say: signatures, key versions, rights) and
# allow_header_conformance (405 of a path with a GET and a POST route names one method).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance",
          "negative_data_rejection", "ignored_auth", "use_after_free",
          "ensure_resource_availability")


def run_schemathesis(app: Any, token: str
                     ) -> tuple[collections.Counter[str], int, list[str]]:
    """All phases against ``app`` with ``token``; (scenarios per phase, links the stateful phase
    follows, failures)."""
    config = SchemathesisConfig.from_dict({
        "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "phases": {"stateful": {"max-steps": 8}},
        "checks": {name: {"enabled": name in CHECKS} for name in (
            *CHECKS, "positive_data_acceptance", "allow_header_conformance")},
        "seed": 16,
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
        phases: collections.Counter[str] = collections.Counter()
        failures: list[str] = []
        links = 0
        for event in from_schema(schema).execute():
            if isinstance(event, events.PhaseStarted) and event.payload is not None:
                links = event.payload.transitions_total
            elif isinstance(event, events.ScenarioFinished) and event.status != Status.SKIP:
                phases[event.phase.value] += 1
                for checks in event.recorder.checks.values():
                    failures.extend(
                        f"{event.phase.value} {event.label}: {check.name}: "
                        f"{check.failure_info.failure if check.failure_info else ''}"[:400]
                        for check in checks if check.status == Status.FAILURE)
            elif isinstance(event, events.NonFatalError | events.FatalError):
                failures.append(f"error: {event.label}: {event.value!r}"[:400])
    return phases, links, sorted(set(failures))


def test_a_fuzzed_server_leaves_the_team_in_sync(devices, team):
    anna, ewa = devices(2)
    team.join(anna)  # the coordinator's device
    person = make_person(anna, first_name="Zoë", last_name="Wiśniewska-Öztürk", consent=True)
    make_contact(anna, make_case(anna, person, CM))
    team.join(ewa)
    team.sync_all()
    update_client(ewa, person.id, {"phone": "0151 1234567"})  # history by two authors
    team.sync_all()
    token = client.enrolled_device(anna).token

    phases, links, failures = run_schemathesis(team.http.app, token)

    assert not failures, "\n".join(failures)
    assert {PhaseName.EXAMPLES.value, PhaseName.COVERAGE.value, PhaseName.FUZZING.value,
            PhaseName.STATEFUL_TESTING.value} <= set(phases), phases
    assert links >= 9, links  # the links of server/app.py (_LINKS), maybe some inferred
    # The team works on: an edit on each device, a sync round, and both hold the same.
    update_client(ewa, person.id, {"email": "zoe@example.org"})
    second = make_person(anna, first_name="Ąžuolas", last_name="Jankūnas", consent=True)
    team.sync_all()
    for ctx in (anna, ewa):
        assert SyncClient(ctx, team.http).verify()
    assert snapshot(anna.vault) == snapshot(ewa.vault)
    assert [hit.id for hit in find_clients(ewa, "Jankūnas")] == [second.id]
    checksums = set()
    for ctx in (anna, ewa):
        with ctx.vault.reading() as session:
            checksums.add(merge.local_checksum(session))
    server = team.http.get("/v1/checksum", headers={"Authorization": f"Bearer {token}"})
    assert checksums == {server.json()["checksum"]}


def test_a_purge_is_still_compacted_with_the_signed_report(devices, team):
    """The compaction the fuzzer could trigger with a token alone now needs the device's
    signature; the real client signs its reports, so a purge still leaves only tombstones."""
    (anna,) = devices(1)
    team.join(anna)
    person = make_person(anna, first_name="Zoë", last_name="Wiśniewska-Öztürk", consent=True)
    team.sync(anna)
    update_client(anna, person.id, {"phone": "0151 1234567"})
    team.sync(anna)
    with anna.vault.writing() as session:
        purge_client(session, person.id)

    team.sync(anna)

    with team.db.read() as conn:
        left = conn.execute(select(changes.c.change_id).where(
            changes.c.record_id == person.id, changes.c.kind == "clients")).all()
    assert len(left) == 1  # the tombstone; creation and edit are gone
    assert SyncClient(anna, team.http).verify()
