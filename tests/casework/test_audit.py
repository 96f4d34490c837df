"""The audit trail: every read and write of a client file with its actor, hash-chained so that
an altered, removed or reordered entry is detected; entries never hold a client's data."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from kimdesk.casework import audit
from kimdesk.casework.cases import close_case, record_intake
from kimdesk.casework.clients import read_client, update_client
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import record_residence
from kimdesk.casework.documents import add_attachment, read_attachment
from kimdesk.casework.network import ReferralInput, refer
from kimdesk.errors import ValidationError
from kimdesk.models import AuditEntry, Client
from tests.factories import (
    CM,
    SUPPORT,
    make_case,
    make_contact,
    make_institution,
    make_person,
    make_waiver,
)


def _entries(ctx: Context, client: Client | None = None) -> list[AuditEntry]:
    with ctx.vault.reading() as session:
        if client is not None:
            return audit.entries_for_client(session, client.id)
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _verify(ctx: Context) -> list[audit.ChainProblem]:
    with ctx.vault.reading() as session:
        return audit.verify(session, ctx.audit_key)


def _raw(ctx: Context, sql: str, **params: object) -> None:
    """Change the database behind the application's back, as an attacker with the key could."""
    with ctx.vault.writing() as session:
        session.execute(text(sql), params)


def _busy_file(ctx: Context) -> Client:
    client = make_person(ctx, consent=True, first_name="Zofia", last_name="Wiśniewska",
                         birth_date=date(1979, 1, 23),
                         address="Steinstraße 20, 46446 Emmerich am Rhein")
    case = make_case(ctx, client, CM)
    record_intake(ctx, case.id, concern="Zofia Wiśniewska sucht Arbeit als Pflegehelferin",
                  access_route="jobcenter", cm_indicated=True, art13_informed_on=ctx.today())
    make_contact(ctx, case, note="Frau Wiśniewska bringt den Pass mit",
                 follow_up_on=ctx.today() + timedelta(days=7))
    update_client(ctx, client.id, {"notes": "Zofia spricht gut Deutsch",
                                   "email": "zofia.wisniewska@example.org"})
    record_residence(ctx, client.id, "eu_free_movement")
    jobcenter = make_institution(ctx)
    make_waiver(ctx, client, jobcenter)
    refer(ctx, case.id, ReferralInput(institution_id=jobcenter.id, shares_data=True,
                                      purpose="Bewerbung von Zofia Wiśniewska",
                                      information_kinds=["master_data"]))
    attachment = add_attachment(ctx, client.id, "Wiśniewska_Lebenslauf.pdf", b"%PDF Zofia")
    read_attachment(ctx, attachment.id)
    read_client(ctx, client.id)
    return client


# --- what is recorded -------------------------------------------------------------------------


def test_create_update_and_read_of_a_client_file_are_recorded_with_the_actor(
    ctx: Context
) -> None:
    client = make_person(ctx, consent=True)
    colleague = dataclasses.replace(ctx, user="Jonas Wagner")

    update_client(ctx, client.id, {"phone": "02821 1234"})
    read_client(colleague, client.id)

    trail = [(e.action, e.entity, e.actor) for e in _entries(ctx, client)]
    assert trail == [
        ("create", "clients", "Anna Becker"),
        ("create", "consents", "Anna Becker"),
        ("update", "clients", "Anna Becker"),
        ("read", "clients", "Jonas Wagner"),
    ]
    assert all(e.entity_id for e in _entries(ctx, client))


def test_work_on_a_case_is_recorded_in_the_clients_trail(ctx: Context) -> None:
    client = make_person(ctx)
    case = make_case(ctx, client, SUPPORT)
    make_contact(ctx, case)
    close_case(ctx, case.id, "no_further_need")

    trail = [(e.action, e.entity) for e in _entries(ctx, client)]

    assert trail[1:] == [("create", "cases"), ("create", "contacts"), ("update", "cases")]


def test_a_refused_change_leaves_no_entry(ctx: Context) -> None:
    client = make_person(ctx)
    before = len(_entries(ctx))

    with pytest.raises(ValidationError, match="Einwilligung"):
        update_client(ctx, client.id, {"birth_date": date(1990, 1, 1)})

    assert len(_entries(ctx)) == before


def test_entries_are_numbered_without_gaps_and_chained(ctx: Context) -> None:
    _busy_file(ctx)

    entries = _entries(ctx)

    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_mac == audit.GENESIS
    assert all(b.prev_mac == a.mac for a, b in itertools.pairwise(entries))


def test_audit_details_never_contain_client_data(ctx: Context) -> None:
    client = _busy_file(ctx)

    for entry in _entries(ctx):
        # Ids are random hex and may contain "1979" by chance; they are checked for their form.
        assert entry.entity_id == "" or re.fullmatch(r"[0-9a-f]{32}", entry.entity_id)
        stored = json.dumps([entry.detail, entry.entity, entry.action], ensure_ascii=False)
        for secret in ("Zofia", "Wiśniewska", "wisniewska", "1979", "Steinstraße",
                       "Pflegehelferin", "Lebenslauf"):
            assert secret not in stored, (entry.seq, secret)
    fields = [e.detail.get("fields") for e in _entries(ctx, client) if e.action == "update"]
    assert ["email", "notes"] in fields  # the names of the fields, never their values


# --- tamper detection -------------------------------------------------------------------------


def test_an_intact_chain_verifies(ctx: Context) -> None:
    _busy_file(ctx)

    assert _verify(ctx) == []


def test_an_empty_trail_verifies(ctx: Context) -> None:
    assert _verify(ctx) == []


@pytest.mark.parametrize(("column", "value"), [
    ("detail", '{"fields": []}'),
    ("actor", "Jonas Wagner"),
    ("action", "read"),
    ("client_id", None),
    ("at", "2026-01-01 09:00:00.000000"),
])
def test_an_altered_entry_is_detected(ctx: Context, column: str, value: object) -> None:
    _busy_file(ctx)
    victim = _entries(ctx)[5].seq

    _raw(ctx, f"UPDATE audit_entries SET {column} = :value WHERE seq = :seq",
         value=value, seq=victim)

    problems = _verify(ctx)
    assert [(p.seq, p.message) for p in problems] == [(victim, "Eintrag wurde verändert")]


def test_a_deleted_entry_in_the_middle_is_detected(ctx: Context) -> None:
    _busy_file(ctx)
    victim = _entries(ctx)[4].seq

    _raw(ctx, "DELETE FROM audit_entries WHERE seq = :seq", seq=victim)

    problems = _verify(ctx)
    assert problems
    assert problems[0].seq == victim + 1
    assert "fehlen" in problems[0].message


def test_swapped_entries_are_detected(ctx: Context) -> None:
    _busy_file(ctx)
    first, second = _entries(ctx)[3].seq, _entries(ctx)[7].seq

    _raw(ctx, "UPDATE audit_entries SET seq = -1 WHERE seq = :a", a=first)
    _raw(ctx, "UPDATE audit_entries SET seq = :a WHERE seq = :b", a=first, b=second)
    _raw(ctx, "UPDATE audit_entries SET seq = :b WHERE seq = -1", b=second)

    assert {p.seq for p in _verify(ctx)} >= {first, second}


def test_an_inserted_entry_is_detected(ctx: Context) -> None:
    _busy_file(ctx)
    last = _entries(ctx)[-1]

    # A forged entry: without the vault's audit key its MAC cannot be right.
    _raw(ctx, "INSERT INTO audit_entries (seq, at, actor, action, client_id, entity, "
              "entity_id, detail, prev_mac, mac) VALUES (:seq, '2026-11-25 10:00:00.000000', "
              "'Anna Becker', 'read', NULL, '', '', '{}', :prev, :mac)",
         seq=last.seq + 1, prev=last.mac, mac="0" * 64)

    assert [p.seq for p in _verify(ctx)] == [last.seq + 1]


def test_a_renumbered_entry_is_detected(ctx: Context) -> None:
    _busy_file(ctx)
    entries = _entries(ctx)

    # Closing the gap of a deleted entry by moving the next one down.
    _raw(ctx, "DELETE FROM audit_entries WHERE seq = :seq", seq=entries[4].seq)
    _raw(ctx, "UPDATE audit_entries SET seq = :new WHERE seq = :old", new=entries[4].seq,
         old=entries[5].seq)

    assert _verify(ctx)
