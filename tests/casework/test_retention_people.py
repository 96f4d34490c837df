"""Retention for every person: household members, related persons, participants and people who
never had a case become due once nothing needs them any more, with a German reason; the purge
after confirmation reaches the colleague's device through the county server."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from kimdesk.casework.cases import close_case
from kimdesk.casework.clients import (
    add_relation,
    add_to_household,
    create_household,
    find_clients,
    read_client,
)
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_deadline, add_months
from kimdesk.casework.retention import (
    confirm_deletion,
    due_for_deletion,
    propose_deletions,
)
from kimdesk.errors import NotFound, ValidationError
from kimdesk.models import Client, DeletionProposal
from kimdesk.server.tables import changes
from kimdesk.sync.client import SyncClient
from tests.casework.vault_text import every_text_in_the_vault
from tests.factories import SHORT, Clock, make_case, make_organisation, make_person
from tests.sync.devices import snapshot
from tests.sync.team import Team

# Stamps (updated_at) come from the wall clock, the use cases' day from the test clock: the
# test days are placed relative to the real day so that "12 months after the last change"
# means the same whenever the tests run.
NOW = date.today()
CLOSED = add_months(NOW, 6)  # the mother's Kurzintervention is closed then
WITHIN = add_months(NOW, 11)  # within every retention period
LATER = add_months(NOW, 19)  # past the mother's 12 months and 12 months since the last change


def _family(ctx: Context, clock: Clock) -> tuple[Client, Client, Client]:
    """Mother (a Kurzintervention, closed at CLOSED), her child in her household without a
    case, and a neighbour who never had a case."""
    mother = make_person(ctx, consent=True, first_name="Oksana", last_name="Melnyk")
    child = make_person(ctx, consent=True, first_name="Sofiia", last_name="Melnyk")
    loner = make_person(ctx, first_name="Dariusz", last_name="Zielonka")
    household = create_household(ctx, "Familie Melnyk", "kleve", "Hoffmannallee 9, 47533 Kleve")
    add_to_household(ctx, household.id, mother.id, "Elternteil")
    add_to_household(ctx, household.id, child.id, "Kind")
    add_relation(ctx, mother.id, child.id, "parent_of")
    clock.today = add_months(NOW, 1)
    case = make_case(ctx, mother, SHORT)
    clock.today = CLOSED
    close_case(ctx, case.id, "moved_away")
    return mother, child, loner


def _proposed(ctx: Context) -> dict[str, DeletionProposal]:
    propose_deletions(ctx)
    with ctx.vault.reading() as session:
        return {p.client_id: p for p in session.scalars(select(DeletionProposal))}


def test_nobody_is_due_while_the_mothers_case_is_kept(ctx: Context, clock: Clock) -> None:
    _family(ctx, clock)
    clock.today = WITHIN

    assert _proposed(ctx) == {}


def test_child_and_loner_become_due_with_a_reason(ctx: Context, clock: Clock) -> None:
    mother, child, loner = _family(ctx, clock)
    clock.today = LATER

    assert set(_proposed(ctx)) == {mother.id, child.id, loner.id}

    why = {d.client_id: d.why for d in due_for_deletion(ctx)}
    assert why[mother.id].startswith("Der eigene Fall (Kurzintervention) wurde am "
                                     f"{CLOSED:%d.%m.%Y} abgeschlossen")
    assert why[child.id].startswith("Ein Fall im Haushalt (Kurzintervention)")
    assert "Aufbewahrungsfrist von 12 Monaten" in why[child.id]
    assert why[loner.id].startswith("Kein offener Fall, keine Beteiligung an einem Fall")
    assert f"letzte Änderung der Daten am {NOW:%d.%m.%Y}" in why[loner.id]


def test_a_child_becomes_due_only_with_the_mothers_case(ctx: Context, clock: Clock) -> None:
    """The child's own data is old, but the mother's new case needs it."""
    mother, _child, loner = _family(ctx, clock)
    clock.today = LATER
    make_case(ctx, mother, SHORT)  # she comes back

    assert set(_proposed(ctx)) == {loner.id}
    [due] = due_for_deletion(ctx)
    assert due.client_id == loner.id


def test_an_open_deadline_keeps_a_person_until_its_day(ctx: Context, clock: Clock) -> None:
    person = make_person(ctx, consent=True)
    add_deadline(ctx, person.id, "permit_expiry", add_months(NOW, 30), "Titel läuft ab")
    clock.today = LATER

    assert _proposed(ctx) == {}

    clock.today = add_months(NOW, 30)
    assert set(_proposed(ctx)) == {person.id}
    assert due_for_deletion(ctx)[0].why.startswith("Eine Frist oder Wiedervorlage")


def test_an_organisation_without_a_case_is_not_proposed(ctx: Context, clock: Clock) -> None:
    make_organisation(ctx)
    clock.today = LATER

    assert _proposed(ctx) == {}


def test_confirming_a_person_who_is_needed_again_is_refused(ctx: Context,
                                                            clock: Clock) -> None:
    _mother, child, _loner = _family(ctx, clock)
    clock.today = LATER
    proposal = _proposed(ctx)[child.id]
    clock.today = add_months(NOW, 20)
    make_case(ctx, child, SHORT)  # the child now has an open case of her own

    with pytest.raises(ValidationError, match="nicht mehr zur Löschung fällig"):
        confirm_deletion(ctx, proposal.id)
    assert read_client(ctx, child.id).id == child.id
    why = {d.client_id: d.why for d in due_for_deletion(ctx)}
    assert why[child.id] == ("Nicht mehr fällig: Der eigene Fall (Kurzintervention) "
                             "ist noch offen.")


# --- two synced devices -----------------------------------------------------------------------

NAMES = ("Oksana", "Sofiia", "Melnyk", "Dariusz", "Zielonka", "Familie Melnyk", "Hoffmannallee")


def test_child_of_a_purged_mother_and_a_loner_are_purged_on_both_devices(
        pair: tuple[Team, Context, Context], clock: Clock) -> None:
    team, anna, ewa = pair
    mother, child, loner = _family(anna, clock)
    team.sync_all()
    assert {c.id for c in find_clients(ewa, "Melnyk")} == {mother.id, child.id}
    clock.today = LATER

    # Anna deletes the mother's file; the erasure reaches Ewa.
    confirm_deletion(anna, _proposed(anna)[mother.id].id)
    team.sync_all()
    with ewa.vault.reading() as session:
        assert session.get(Client, mother.id) is None

    # On Ewa's laptop the child (whose only link was the mother) and the loner are due.
    proposals = _proposed(ewa)
    assert {child.id, loner.id} <= set(proposals)
    confirm_deletion(ewa, proposals[child.id].id)
    confirm_deletion(ewa, proposals[loner.id].id)
    team.sync_all()

    for device in (anna, ewa):
        everything = every_text_in_the_vault(device)
        for name in NAMES:
            assert name not in everything, (device.user, name)
        for person in (mother, child, loner):
            with pytest.raises(NotFound):
                read_client(device, person.id)
        assert find_clients(device, "Melnyk") == []
    assert snapshot(anna.vault) == snapshot(ewa.vault)
    _nothing_left_on_the_server(team, anna, (mother.id, child.id, loner.id))


def _nothing_left_on_the_server(team: Team, reader: Context, purged: tuple[str, ...]) -> None:
    """After compaction each purged record keeps only its tombstone in the server's log, and
    nothing a team device can decrypt there names the purged people."""
    with team.db.read() as conn:
        rows = conn.execute(select(changes.c.record_id, changes.c.kind)).all()
    per_record = Counter(rows)
    for person_id in purged:
        assert per_record[(person_id, "clients")] == 1  # the tombstone alone
    http = SyncClient(reader, team.http)
    pulled = http._get("/pull", params={"after": 0, "limit": 500})["changes"]
    assert len(pulled) == len(rows)
    now_ms = int(time.time() * 1000)
    readable = json.dumps([http.opened(c, now_ms).payload for c in pulled], ensure_ascii=False,
                          default=str)
    for name in NAMES:
        assert name not in readable, name
