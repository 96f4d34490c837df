"""The fast paths of sync (issue 17) change no byte and lose no change: hand-written canonical
JSON of the signed and authenticated structures, the stored payload text encrypted as it is,
pipelined batches and pages, a cursor that skips a device's own pushed changes, and the
sync's closing reads made during a long push (``kimdesk/sync/closing.py``)."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from kimdesk.casework.context import Context
from kimdesk.models import Client, SyncDevice
from kimdesk.models.changelog import LOCAL_ONLY, OutboxChange
from kimdesk.server.tables import changes as server_changes
from kimdesk.server.tables import team_stat_cells
from kimdesk.sync import client, crypto, protocol, statistics
from kimdesk.sync.client import SyncClient, SyncError
from kimdesk.vault import open_vault
from tests.factories import PASSWORD, make_person
from tests.stats.stats_builders import CaseSpec, populate

_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(team=_TEXT, device_id=_TEXT, change_id=_TEXT, record_id=_TEXT, kind=_TEXT, hlc=_TEXT,
       epoch=st.integers(min_value=-(2**40), max_value=2**40), nonce=st.binary(max_size=16),
       ciphertext=st.binary(max_size=64))
def test_signed_and_authenticated_bytes_are_canonical_json(
        team, device_id, change_id, record_id, kind, hlc, epoch, nonce, ciphertext):
    assert protocol.change_signing_bytes(
        team=team, device_id=device_id, change_id=change_id, record_id=record_id, kind=kind,
        hlc=hlc, epoch=epoch, nonce=nonce, ciphertext=ciphertext,
    ) == protocol.CHANGE_DOMAIN + json.dumps(
        {"v": protocol.PROTOCOL_VERSION, "team": team, "device_id": device_id,
         "change_id": change_id, "record_id": record_id, "kind": kind, "hlc": hlc,
         "epoch": epoch, "nonce": protocol.b64e(nonce),
         "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest()},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert protocol.record_aad(team, record_id, kind, hlc, epoch) == json.dumps(
        {"team": team, "record_id": record_id, "kind": kind, "hlc": hlc, "epoch": epoch},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def test_a_bool_epoch_takes_the_general_path():
    assert protocol.record_aad("nord", "r", "clients", "1", True) == \
        b'{"epoch":true,"hlc":"1","kind":"clients","record_id":"r","team":"nord"}'


def test_one_record_cipher_opens_what_it_sealed_and_nothing_moved():
    key = crypto.new_team_key()
    cipher = crypto.RecordCipher(key, "nord")
    nonce, sealed = cipher.encrypt(record_id="a" * 32, kind="clients", hlc="1", epoch=1,
                                   plaintext=b'{"origin": "x", "fields": {}}')
    assert cipher.decrypt(record_id="a" * 32, kind="clients", hlc="1", epoch=1, nonce=nonce,
                          ciphertext=sealed) == {"origin": "x", "fields": {}}
    # The per-change functions and the cipher object agree both ways.
    assert crypto.decrypt_change_bytes(key, team="nord", record_id="a" * 32, kind="clients",
                                       hlc="1", epoch=1, nonce=nonce, ciphertext=sealed)
    for moved in ({"record_id": "b" * 32, "kind": "clients", "epoch": 1},
                  {"record_id": "a" * 32, "kind": "cases", "epoch": 1},
                  {"record_id": "a" * 32, "kind": "clients", "epoch": 2}):
        try:
            cipher.decrypt(hlc="1", nonce=nonce, ciphertext=sealed, **moved)
        except crypto.DecryptionFailed:
            continue
        raise AssertionError(f"opened under {moved}")
    try:
        crypto.RecordCipher(key, "ost").decrypt(record_id="a" * 32, kind="clients", hlc="1",
                                                epoch=1, nonce=nonce, ciphertext=sealed)
    except crypto.DecryptionFailed:
        pass
    else:
        raise AssertionError("opened for another team")


def _cursor(ctx):
    with ctx.vault.reading() as session:
        return session.get(SyncDevice, 1).cursor


def _outbox(ctx):
    with ctx.vault.reading() as session:
        return session.scalar(select(func.count()).select_from(OutboxChange))


def test_batches_in_flight_arrive_complete_and_own_changes_are_not_pulled_back(
        devices, team, monkeypatch):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    team.sync_all()
    monkeypatch.setenv(client.BATCH_ENV, "3")  # several batches and pages in flight
    people = [make_person(anna, consent=True) for _ in range(4)]
    waiting = _outbox(anna)
    assert waiting > 6

    before = _cursor(anna)
    report = team.sync(anna)

    assert report.pushed == waiting and _outbox(anna) == 0
    # Stored right after Anna's cursor: she moves past them instead of pulling them back.
    assert report.pulled == 0
    assert _cursor(anna) == before + waiting

    pulled = team.sync(ewa)
    assert pulled.pulled == waiting
    with ewa.vault.reading() as session:
        assert {c.id for c in session.scalars(select(Client))} >= {p.id for p in people}


def test_changes_of_others_between_a_cursor_and_a_push_are_still_pulled(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    team.sync_all()
    hers = make_person(ewa, consent=True)
    team.sync(ewa)  # on the server after Anna's cursor
    mine = make_person(anna, consent=True)

    report = team.sync(anna)  # pushes (not right after her cursor), then pulls

    assert report.pulled > 0
    with anna.vault.reading() as session:
        assert session.get(Client, hers.id) is not None
        assert session.get(Client, mine.id) is not None
    assert SyncClient(anna, team.http).verify()


def _server_changes(team) -> int:
    with team.db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(server_changes)).scalar_one()


def test_no_batch_goes_out_after_one_the_server_refused(devices, team, monkeypatch):
    (anna,) = devices(1)
    team.join(anna)
    team.sync(anna)
    monkeypatch.setenv(client.BATCH_ENV, "3")
    for _ in range(4):
        make_person(anna, consent=True)
    with anna.vault.reading() as session:
        seqs = sorted(session.scalars(select(OutboxChange.seq)))
    assert len(seqs) > 6
    # A change of the second batch claims a clock far ahead of the server's: refused (422).
    with anna.vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        session.execute(update(OutboxChange).where(OutboxChange.seq == seqs[4])
                        .values(hlc="9999999999999.00000"))
    stored = _server_changes(team)

    with pytest.raises(SyncError):
        team.sync(anna)

    # The first batch is stored and acknowledged; the third, queued behind the refused one,
    # never went out.
    assert _server_changes(team) == stored + 3
    assert _outbox(anna) == len(seqs) - 3


def _stored_cells(team, month: str) -> dict[tuple[str, str, str, str], int]:
    with team.db.engine.connect() as conn:
        rows = conn.execute(select(team_stat_cells).where(
            team_stat_cells.c.team == team.team, team_stat_cells.c.month == month))
        return {(r.municipality, r.dimension, r.value, r.measure): r.count for r in rows}


def _cells(ctx: Context, month: str) -> dict[tuple[str, str, str, str], int]:
    return {(c["municipality"], c["dimension"], c["value"], c["measure"]): c["count"]
            for c in statistics.month_cells(ctx, month)}


NOVEMBER_2026 = 22  # the devices' month (25 November 2026) as a month offset of stats_builders


@pytest.mark.parametrize("editor", ["this process", "another process"])
def test_an_edit_during_a_long_push_is_in_the_checksum_and_statistics_of_that_sync(
        devices, team, monkeypatch, editor):
    """The closing reads start with the push; cases opened meanwhile (in the desktop app, or
    by a ``kimdesk`` command on the same vault: another vault handle, whose commits this
    one's change feed never sees) make them stale, and the sync reads again."""
    (anna,) = devices(1)
    team.join(anna)
    team.sync(anna)
    monkeypatch.setenv(client.BATCH_ENV, "3")  # a push of several batches
    cases = [CaseSpec(municipality="kleve", opened=NOVEMBER_2026)] * 8
    populate(anna.vault, anna.reference, cases)
    month = statistics.months_to_report(anna.today())[-1]
    before = _cells(anna, month)
    other = None
    if editor == "another process":
        other = dataclasses.replace(anna, vault=open_vault(anna.vault.data_dir, PASSWORD))
    opened = []

    def open_cases(_text: str) -> None:
        if not opened:  # after the first batch was stored
            by = other or anna
            # Enough that no cell of the month can stay the same (the cell key method moves a
            # count by at most 4).
            opened.extend(populate(by.vault, by.reference, cases + cases[:4]))

    try:
        report = SyncClient(anna, team.http, progress=open_cases).run()
    finally:
        if other is not None:
            other.vault.close()

    assert opened and not report.repaired
    assert _outbox(anna) == 0  # the new cases went out with the push
    assert SyncClient(anna, team.http).verify()
    after = _cells(anna, month)
    assert after != before  # the new cases show in the month's cells
    assert _stored_cells(team, month) == after
