"""The fast paths of sync (issue 17) change no byte and lose no change: hand-written canonical
JSON of the signed and authenticated structures, the stored payload text encrypted as it is,
pipelined batches and pages, and a cursor that skips a device's own pushed changes."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kimdesk.models import Client, SyncDevice
from kimdesk.models.changelog import OutboxChange
from kimdesk.sync import client, crypto, protocol
from kimdesk.sync.client import SyncClient
from tests.factories import make_person

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
