"""A case that moves from Team Nord to Team Mitte over the county server (issue 15).

Real parts throughout: the server app (in-process, and ``kimdesk serve`` as a subprocess for
the kill tests), real enrolment with certificates of one county root, real vaults, real
documents. Mitte's two devices end up with the file (contents, history, document bytes), Nord's
two devices without it; a kill -9 at each step loses nothing and leaves no copy; the
statistics count the case once; without consent, with a tampered bundle or one signed by an
unknown device nothing moves."""

from __future__ import annotations

import hashlib
import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from kimdesk.casework import audit
from kimdesk.casework import transfer as casework
from kimdesk.casework.cases import add_participant
from kimdesk.casework.clients import add_to_household, create_household
from kimdesk.casework.context import Context
from kimdesk.casework.documents import add_attachment, read_attachment
from kimdesk.casework.transfer import TransferRefused, request_transfer
from kimdesk.models import (
    Attachment,
    Case,
    CaseTransfer,
    Client,
    Contact,
    Household,
    Institution,
    PhaseChange,
)
from kimdesk.models.transfer import ACKNOWLEDGED, CLOSED, KEPT_CLOSED, QUARANTINED
from kimdesk.server import admin
from kimdesk.server.tables import blobs as server_blobs
from kimdesk.server.tables import team_stat_cells, transfer_chunks, transfers
from kimdesk.stats import figures
from kimdesk.stats.cellkey import Tally, perturb
from kimdesk.stats.county import build_county
from kimdesk.stats.scope import Period, Scope, ScopeKind
from kimdesk.sync import client, statistics, trust
from kimdesk.sync import transfer as sync_transfer
from kimdesk.sync.client import SyncClient
from kimdesk.sync.statistics import fetch_county
from tests.cli_support import run_kimdesk
from tests.factories import CM, make_case, make_contact, make_person
from tests.server.support import PostgresCluster, ServerProcess
from tests.sync.team import Team, sqlite_url
from tests.sync.test_blobs import MARKER, _document, _files_contain
from tests.sync.test_crash import _kimdesk_sync, _reopen

NOVEMBER = "2026-11"
SURNAME = "Wiśniewska-Transfer"


class County:
    """Teams Nord and Mitte on one server, both certified by the same county root."""

    def __init__(self, url: str) -> None:
        self.nord = Team(url, "nord")
        self.mitte = Team(url, "mitte")
        self.mitte.root_key, self.mitte.root_public = self.nord.root_key, self.nord.root_public

    def close(self) -> None:
        self.nord.close()
        self.mitte.close()


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    made = County(sqlite_url(tmp_path))
    yield made
    made.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_county(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[County]:
    """Nord and Mitte on a SQLite file or on a new PostgreSQL database."""
    if request.param == "sqlite":
        made = County(sqlite_url(tmp_path))
        yield made
        made.close()
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.new_database()
    made = County(url)
    try:
        yield made
    finally:
        made.close()
        cluster.drop_database(url)


def _file(ctx: Context, *, content: bytes, member: bool = False
          ) -> tuple[Client, Case, Attachment]:
    person = make_person(ctx, consent=True, last_name=SURNAME)
    case = make_case(ctx, person, CM, phase="planning")
    if member:  # her husband, in her household and in her case
        husband = make_person(ctx, consent=True, last_name=SURNAME, first_name="Piotr",
                              allow_duplicate=True)
        household = create_household(ctx, "Familie W.", person.municipality,
                                     first_member=person.id)
        add_to_household(ctx, household.id, husband.id, "")
        add_participant(ctx, case.id, husband.id)
    make_contact(ctx, case, note="Gespräch zur Wohnungssuche in Goch")
    document = add_attachment(ctx, person.id, "Bescheid.pdf", content, case_id=case.id)
    return person, case, document


def _file_rows(ctx: Context, client_id: str, *, moved_by: str | None = None
               ) -> dict[str, list[tuple[Any, ...]]]:
    """Every record of the client's file (as the bundle selects them), comparable across
    devices; the moved case's team and Kommune are left out (they change on purpose). With
    ``moved_by`` (a transfer id) the ids are those the records get in the receiving team."""
    with ctx.vault.reading() as session:
        chosen = casework._selection(session, client_id)
        renamed = {i for model, ids in chosen.items() if model is not Institution for i in ids}

        def new(value: Any) -> Any:
            if moved_by is None or not isinstance(value, str) or value not in renamed:
                return value
            return casework.moved_id(moved_by, value)

        rows = {}
        for model, ids in chosen.items():
            found = []
            for entity in session.scalars(select(model).where(model.id.in_(ids))):
                row = casework._row(model, entity)
                if model in (Case, Client):
                    row.pop("team", None)
                    row.pop("municipality", None)
                found.append(tuple(sorted((k, json.dumps(new(v), default=str))
                                          for k, v in row.items())))
            rows[model.__tablename__] = sorted(found)
    return rows


def _transfer_id(ctx: Context) -> str:
    [row] = casework.transfers(ctx, direction="out")
    return row.id


def _count(ctx: Context, model: Any, **where: Any) -> int:
    with ctx.vault.reading() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def _server_count(db_url: str, table: Any, *conditions: Any) -> int:
    db = admin.open_database(db_url)
    try:
        with db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)
                                    .where(*conditions)).scalar_one())
    finally:
        db.dispose()


def _sync(team: Team, ctx: Context) -> client.SyncReport:
    return SyncClient(ctx, team.http).run()


def test_a_case_with_documents_moves_from_nord_to_mitte(any_county: County, devices) -> None:
    county = any_county
    anna, ewa = devices(2)
    mehmet, jonas = devices(2, team="mitte")
    county.nord.join(anna)
    county.nord.join(ewa)
    county.mitte.join(mehmet)
    county.mitte.join(jonas)
    content = _document(300_000)
    person, case, document = _file(anna, content=content, member=True)
    county.nord.sync_all()
    assert _file_rows(anna, person.id) == _file_rows(ewa, person.id)
    request_transfer(anna, case.id, "mitte", "goch")
    moved_by = _transfer_id(anna)
    before = _file_rows(anna, person.id, moved_by=moved_by)
    assert before["contacts"] and before["phase_changes"] and before["consents"]
    assert len(before["clients"]) == 2 and len(before["households"]) == 1
    assert before["case_participants"]

    def moved(record_id: str) -> str:
        return casework.moved_id(moved_by, record_id)

    sent = _sync(county.nord, anna)
    assert any("übermittelt" in note for note in sent.notes), sent.notes
    assert _count(anna, Client, id=person.id) == 1  # stays until Mitte acknowledged
    received = _sync(county.mitte, mehmet)
    assert any("übernommen" in note for note in received.notes), received.notes
    assert _server_count(county.nord.db_url, transfer_chunks) == 0  # dropped on the ack
    _sync(county.nord, anna)  # the acknowledgement: erased in Nord, the erasure pushed
    _sync(county.nord, ewa)
    _sync(county.mitte, jonas)
    last = _sync(county.nord, anna)
    assert last.audit_problems == []  # the removed entries are a recorded purge, no gap
    with anna.vault.reading() as session:
        assert audit.verify(session, anna.audit_key) == []

    for ctx in (mehmet, jonas):
        assert _file_rows(ctx, moved(person.id)) == before
        assert read_attachment(ctx, moved(document.id))[1] == content
        with ctx.vault.reading() as session:
            there = session.get(Case, moved(case.id))
            assert (there.team, there.municipality) == ("mitte", "goch")
            assert session.scalar(select(func.count()).select_from(PhaseChange).where(
                PhaseChange.case_id == there.id)) == len(before["phase_changes"])
            assert session.scalar(select(func.count()).select_from(Contact).where(
                Contact.case_id == there.id)) == len(before["contacts"])
    for ctx in (anna, ewa):
        assert _count(ctx, Client) == 0  # she and her husband
        assert _count(ctx, Household) == 0
        assert _count(ctx, Case, id=case.id) == 0
        assert _count(ctx, Attachment, id=document.id) == 0
        assert not ctx.vault.attachments.exists(document.id)
    assert casework.transfer_note(anna, case.id) == "übergeben an Team 3 Mitte am 25.11.2026"
    assert [t.state for t in casework.transfers(anna)] == [CLOSED]
    assert [t.state for t in casework.transfers(mehmet)] == [ACKNOWLEDGED]
    url = county.nord.db_url
    assert _server_count(url, transfers) == 0
    assert _server_count(url, server_blobs, server_blobs.c.team == "nord") == 0
    assert _server_count(url, server_blobs, server_blobs.c.team == "mitte") == 1
    for ctx in (anna, ewa):
        assert _files_contain(ctx.vault.data_dir, MARKER) == []
        assert _files_contain(ctx.vault.data_dir, SURNAME.encode()) == []


def test_an_entry_made_after_the_bundle_was_sealed_is_not_erased_with_the_file(
        county: County, devices) -> None:
    (anna,) = devices(1)
    (mehmet,) = devices(1, team="mitte")
    county.nord.join(anna)
    county.mitte.join(mehmet)
    person, case, _document_row = _file(anna, content=_document(2_000))
    request_transfer(anna, case.id, "mitte", "goch")
    moved_by = _transfer_id(anna)
    _sync(county.nord, anna)  # sealed and uploaded
    late = make_contact(anna, case, note="Nachtrag: Termin beim Jobcenter verschoben").contact
    _sync(county.mitte, mehmet)  # imported and acknowledged

    report = _sync(county.nord, anna)

    assert any("nach dem Versand noch geändert" in note for note in report.notes), report.notes
    # Nothing lost: the file stays in Nord with the late entry; Mitte holds it as sealed.
    assert _count(anna, Client, id=person.id) == 1
    assert _count(anna, Contact, id=late.id) == 1
    assert _count(mehmet, Client, id=casework.moved_id(moved_by, person.id)) == 1
    assert _count(mehmet, Contact, id=casework.moved_id(moved_by, late.id)) == 0
    [row] = casework.transfers(anna)
    assert row.state == KEPT_CLOSED  # the server's copy is deleted all the same
    assert "nicht gelöscht" in casework.transfer_note(anna, case.id)
    assert "bleibt auch in diesem Team" in casework.transfer_status(anna, case.id)
    assert _server_count(county.nord.db_url, transfers) == 0
    assert not _sync(county.nord, anna).notes  # said once


def test_a_colleague_s_entry_pushed_after_the_seal_keeps_the_file_in_the_team(
        county: County, devices) -> None:
    """Ewa (Nord) adds an entry after Anna's laptop sealed the bundle and syncs it; when Anna's
    laptop takes Mitte's acknowledgement it has pulled the entry first: the file stays."""
    anna, ewa = devices(2)
    (mehmet,) = devices(1, team="mitte")
    county.nord.join(anna)
    county.nord.join(ewa)
    county.mitte.join(mehmet)
    person, case, _document_row = _file(anna, content=_document(2_000))
    county.nord.sync_all()
    request_transfer(anna, case.id, "mitte", "goch")
    _sync(county.nord, anna)  # sealed and uploaded
    late = make_contact(ewa, case, note="Rückruf der Ausländerbehörde notiert").contact
    _sync(county.nord, ewa)
    _sync(county.mitte, mehmet)  # imported and acknowledged

    report = _sync(county.nord, anna)
    _sync(county.nord, ewa)

    assert any("nach dem Versand noch geändert" in note for note in report.notes), report.notes
    for ctx in (anna, ewa):
        assert _count(ctx, Client, id=person.id) == 1
        assert _count(ctx, Contact, id=late.id) == 1


def test_county_it_lists_the_transfers_the_server_holds_at_each_step(
        county: County, devices) -> None:
    (anna,) = devices(1)
    (mehmet,) = devices(1, team="mitte")
    county.nord.join(anna)
    county.mitte.join(mehmet)
    person, case, _document_row = _file(anna, content=_document(50_000))
    url = county.nord.db_url

    def listed(*extra: str) -> str:
        done = run_kimdesk("server-admin", "--db", url, "transfers", *extra)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert listed().strip() == "Keine offenen Übergaben."
    request_transfer(anna, case.id, "mitte", "goch")
    moved_by = _transfer_id(anna)
    _sync(county.nord, anna)
    [held] = json.loads(listed("--json"))
    assert (held["transfer_id"], held["from_team"], held["to_team"], held["step"]) == (
        moved_by, "nord", "mitte", "waiting")
    assert held["stored_bytes"] > 50_000  # the document, encrypted
    text = listed()
    assert "wartet auf ein Gerät des Zielteams" in text and moved_by[:8] in text
    assert SURNAME not in text and person.id not in text  # nothing of the file itself
    assert json.loads(listed("--json", "--team", "sued")) == []

    _sync(county.mitte, mehmet)
    [held] = json.loads(listed("--json", "--team", "mitte"))
    assert held["step"] == "acknowledged" and held["stored_bytes"] == 0
    _sync(county.nord, anna)  # erased in Nord, the server's remains deleted
    assert json.loads(listed("--json")) == []


def test_a_file_that_moves_back_arrives_whole_in_the_team_it_once_left(
        county: County, devices) -> None:
    """Nord → Mitte → Nord: Nord's log holds the erasures of the file's first ids; the file
    that comes back must not meet them (on both Nord devices, with its document)."""
    anna, ewa = devices(2)
    (mehmet,) = devices(1, team="mitte")
    county.nord.join(anna)
    county.nord.join(ewa)
    county.mitte.join(mehmet)
    content = _document(50_000)
    person, case, document = _file(anna, content=content)
    request_transfer(anna, case.id, "mitte", "goch")
    first = _transfer_id(anna)
    for team, ctx in ((county.nord, anna), (county.mitte, mehmet), (county.nord, anna),
                      (county.nord, ewa)):
        _sync(team, ctx)
    assert _count(ewa, Client) == 0

    def there(record_id: str) -> str:
        return casework.moved_id(first, record_id)

    request_transfer(mehmet, there(case.id), "nord", "kleve")
    second = _transfer_id(mehmet)

    def back(record_id: str) -> str:
        return casework.moved_id(second, there(record_id))

    for team, ctx in ((county.mitte, mehmet), (county.nord, anna), (county.mitte, mehmet),
                      (county.nord, anna), (county.nord, ewa), (county.mitte, mehmet)):
        _sync(team, ctx)
    for ctx in (anna, ewa):
        assert read_attachment(ctx, back(document.id))[1] == content
        with ctx.vault.reading() as session:
            returned = session.get(Case, back(case.id))
            assert (returned.team, returned.municipality) == ("nord", "kleve")
            assert session.get(Client, back(person.id)) is not None
    assert _file_rows(anna, back(person.id)) == _file_rows(ewa, back(person.id))
    assert _count(mehmet, Client) == 0 and _count(mehmet, Case) == 0


def test_a_transfer_another_device_of_the_team_took_over_meanwhile_is_left_to_it(
        county: County, devices) -> None:
    """Mitte's two devices list the same waiting transfer; the first imports and acknowledges
    (the server drops the chunks); the second, still holding the listing, imports nothing, does
    not fail, and gets the file through Mitte's sync."""
    (anna,) = devices(1)
    mehmet, jonas = devices(2, team="mitte")
    county.nord.join(anna)
    county.mitte.join(mehmet)
    county.mitte.join(jonas)
    person, case, _document_row = _file(anna, content=_document(5_000))
    request_transfer(anna, case.id, "mitte", "goch")
    _sync(county.nord, anna)
    late = SyncClient(jonas, county.mitte.http)
    [waiting] = late._get("/transfers")["incoming"]
    _sync(county.mitte, mehmet)
    assert sync_transfer._receive(late, waiting) == []
    assert casework.transfers(jonas) == [] and _count(jonas, Client) == 0
    _sync(county.mitte, jonas)
    assert _count(jonas, Client, id=casework.moved_id(_transfer_id(anna), person.id)) == 1


def test_a_transfer_to_a_team_without_certified_devices_waits(county: County, devices
                                                                ) -> None:
    (anna,) = devices(1)
    county.nord.join(anna)
    person, case, _document_row = _file(anna, content=_document(5_000))
    request_transfer(anna, case.id, "sued", "geldern")  # Süd is not on the server yet
    report = _sync(county.nord, anna)
    assert any("wartet" in note for note in report.notes), report.notes
    assert [t.state for t in casework.transfers(anna)] == ["requested"]
    assert _count(anna, Client, id=person.id) == 1
    assert _server_count(county.nord.db_url, transfers) == 0


def test_without_a_consent_for_the_kim_the_transfer_is_refused_and_nothing_changes(
        devices) -> None:
    (anna,) = devices(1)
    person = make_person(anna)  # a Kurzintervention without an Einwilligung
    case = make_case(anna, person)
    with pytest.raises(TransferRefused) as refused:
        request_transfer(anna, case.id, "mitte", "goch")
    assert "Einwilligung" in refused.value.message and "Team 3 Mitte" in refused.value.message
    assert _count(anna, CaseTransfer) == 0
    with pytest.raises(TransferRefused):
        request_transfer(anna, case.id, "nord", "kleve")  # not to the own team
    assert _count(anna, CaseTransfer) == 0


def _tamper_chunk(db_url: str) -> None:
    db = admin.open_database(db_url)
    try:
        with db.engine.begin() as conn:
            row = conn.execute(select(transfer_chunks)).first()
            data = bytearray(row.data)
            data[len(data) // 2] ^= 0x01
            conn.execute(update(transfer_chunks).where(
                transfer_chunks.c.transfer_id == row.transfer_id,
                transfer_chunks.c.idx == row.idx).values(data=bytes(data)))
    finally:
        db.dispose()


def _resign_as(db_url: str, ctx: Context) -> None:
    """A hostile server (or an uncertified device) puts its own device in as the sender and
    signs the header with that device's real key."""
    device = client.enrolled_device(ctx)
    db = admin.open_database(db_url)
    try:
        with db.engine.begin() as conn:
            row = conn.execute(select(transfers)).first()
            header = json.loads(row.header)
            header["sender_id"] = device.device_id
            header["sender_fingerprint"] = device.fingerprint
            text = json.dumps(header, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False)
            signer = trust.Ed25519PrivateKey.from_private_bytes(device.sign_private)
            signature = signer.sign(b"kimdesk case transfer v1\n" + text.encode())
            conn.execute(update(transfers).values(
                header=text, signature=client.protocol.b64e(signature),
                sender_id=device.device_id))
    finally:
        db.dispose()


@pytest.mark.parametrize("attack", ["tampered", "unknown_signer"])
def test_a_tampered_bundle_or_one_from_an_unknown_device_is_quarantined(
        county: County, devices, attack: str) -> None:
    anna, stranger = devices(2)
    (mehmet,) = devices(1, team="mitte")
    county.nord.join(anna)
    county.nord.join(stranger, confirm=False)  # enrolled, never certified
    county.mitte.join(mehmet)
    person, case, _document_row = _file(anna, content=_document(20_000))
    request_transfer(anna, case.id, "mitte", "goch")
    _sync(county.nord, anna)
    if attack == "tampered":
        _tamper_chunk(county.nord.db_url)
    else:
        _resign_as(county.nord.db_url, stranger)

    report = _sync(county.mitte, mehmet)
    assert any("Quarantäne" in note for note in report.notes), report.notes
    assert _count(mehmet, Client, id=person.id) == 0
    assert _count(mehmet, Case) == 0
    [row] = casework.transfers(mehmet)
    assert row.state == QUARANTINED
    assert ("verändert" if attack == "tampered" else "zertifizierten") in row.note
    _sync(county.mitte, mehmet)  # not tried again, never acknowledged
    _sync(county.nord, anna)
    assert _count(anna, Client, id=person.id) == 1  # Nord keeps the file
    assert [t.state for t in casework.transfers(anna)] in (["uploaded"], ["requested"])


def test_an_acknowledgement_the_server_forged_does_not_erase_the_file(
        county: County, devices) -> None:
    """The attack: a hostile server (or anyone writing its database) claims Mitte took the file
    over, to make Nord erase it. The acknowledgement must be signed by a certified Mitte
    device, so Nord keeps the file."""
    (anna,) = devices(1)
    (mehmet,) = devices(1, team="mitte")
    county.nord.join(anna)
    county.mitte.join(mehmet)
    person, case, _document_row = _file(anna, content=_document(5_000))
    request_transfer(anna, case.id, "mitte", "goch")
    _sync(county.nord, anna)
    mitte_device = client.enrolled_device(mehmet)
    db = admin.open_database(county.nord.db_url)
    try:
        with db.engine.begin() as conn:
            row = conn.execute(select(transfers)).first()
            ack = json.dumps({
                "purpose": sync_transfer.ACK_PURPOSE, "transfer_id": row.id, "team": "mitte",
                "device_id": mitte_device.device_id, "fingerprint": mitte_device.fingerprint,
                "header_sha256": hashlib.sha256(row.header.encode()).hexdigest()},
                sort_keys=True, separators=(",", ":"))
            forger = trust.Ed25519PrivateKey.from_private_bytes(trust.new_root_key())
            conn.execute(update(transfers).values(ack=ack, ack_signature=client.protocol.b64e(
                forger.sign(b"kimdesk case transfer ack v1\n" + ack.encode()))))
    finally:
        db.dispose()
    report = _sync(county.nord, anna)
    assert any("nicht gültig signiert" in note for note in report.notes), report.notes
    assert _count(anna, Client, id=person.id) == 1
    assert [t.state for t in casework.transfers(anna)] == ["uploaded"]


def _cells(db_url: str, team: str) -> dict[tuple[str, str, str, str], int]:
    db = admin.open_database(db_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(select(team_stat_cells).where(
                team_stat_cells.c.team == team, team_stat_cells.c.month == NOVEMBER)).all()
    finally:
        db.dispose()
    return {(r.municipality, r.dimension, r.value, r.measure): r.count for r in rows}


def test_the_statistics_count_the_moved_case_once(county: County, devices) -> None:
    (anna,) = devices(1)
    (mehmet,) = devices(1, team="mitte")
    county.nord.join(anna)
    county.mitte.join(mehmet)
    staying: dict[str, list[str]] = {"nord": [], "mitte": []}
    for _ in range(5):  # cases that stay, so the figures are above the small counts
        staying["nord"].append(make_case(anna, make_person(
            anna, consent=True, allow_duplicate=True, municipality="kleve"), CM).id)
        staying["mitte"].append(make_case(mehmet, make_person(
            mehmet, consent=True, allow_duplicate=True, municipality="goch"), CM).id)
    _person, case, _doc = _file(anna, content=_document(10_000))
    _sync(county.nord, anna)
    _sync(county.mitte, mehmet)
    assert _cells(county.nord.db_url, "nord") == {
        (c["municipality"], c["dimension"], c["value"], c["measure"]): c["count"]
        for c in statistics.month_cells(anna, NOVEMBER)}

    request_transfer(anna, case.id, "mitte", "goch")
    for team, ctx in ((county.nord, anna), (county.mitte, mehmet), (county.nord, anna),
                      (county.mitte, mehmet)):
        _sync(team, ctx)

    def facts(ctx: Context, team: str) -> list[figures.CaseFacts]:
        return figures.load(ctx, Period(NOVEMBER, NOVEMBER), Scope(ScopeKind.TEAM, team)).cases

    nord_facts, mitte_facts = facts(anna, "nord"), facts(mehmet, "mitte")
    assert len(nord_facts) == 5 and len(mitte_facts) == 6  # once, in Mitte, in Goch
    assert all(f.municipality == "kleve" for f in nord_facts)
    assert all(f.municipality == "goch" for f in mitte_facts)
    for team, ctx in (("nord", anna), ("mitte", mehmet)):  # what the county sums
        assert _cells(county.nord.db_url, team) == {
            (c["municipality"], c["dimension"], c["value"], c["measure"]): c["count"]
            for c in statistics.month_cells(ctx, NOVEMBER)}
    assert _count(anna, Case) == 5 and _count(mehmet, Case) == 6
    # The county figures from the teams' uploads: Nord without the case, Mitte with it.
    by_team = build_county(
        fetch_county(anna, county.nord.http, Period(NOVEMBER, NOVEMBER), Scope.county()),
        anna.reference, Scope.county(), anna.today()).figure("kreis_cases_by_team")
    assert by_team.cell("nord", "new") == perturb(Tally.of(staying["nord"]))
    assert by_team.cell("mitte", "new") == perturb(Tally.of(
        [*staying["mitte"], casework.moved_id(_transfer_id(anna), case.id)]))
    assert by_team.cell("total", "new") == by_team.cell("nord", "new") + by_team.cell(
        "mitte", "new")


# --- kill -9 at each step (separate processes, `kimdesk serve`) ------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerProcess, County]]:
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    made = County(url)
    process = ServerProcess(url, log_path=tmp_path / "serve.log").start()
    yield process, made
    process.stop()
    made.close()


def _in_process(ctx: Context, server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        SyncClient(ctx, http).run()


def _cli(ctx: Context, fault: str | None = None) -> None:
    """`kimdesk sync` in its own process; with ``fault`` it must die by SIGKILL there."""
    result = _kimdesk_sync(ctx, fault)
    expected = -signal.SIGKILL if fault else 0
    assert result.returncode == expected, result.stderr[-2000:]


@pytest.mark.slow
def test_a_transfer_killed_at_every_step_loses_nothing_and_leaves_no_copy(
        served: tuple[ServerProcess, County], devices) -> None:
    """One transfer, killed (SIGKILL of `kimdesk sync`) at each of its steps in turn: after
    the upload (sealed, not yet noted), in the middle of the import's transaction, after the
    import before the acknowledgement, after the acknowledgement before the erasure."""
    server, county = served
    (anna,) = devices(1)
    (mehmet,) = devices(1, team="mitte")
    for team, ctx in ((county.nord, anna), (county.mitte, mehmet)):
        code, _ = admin.issue_code(team.db, team.team, ctx.user, coordinator=True)
        with httpx.Client(base_url=server.url) as http:
            client.enrol(ctx, http, server_url=server.url, code=code, device_name="Laptop",
                         root_public=county.nord.root_public)
        team.certify(ctx)
        _in_process(ctx, server)
    content = _document(200_000)
    person, case, document = _file(anna, content=content)
    request_transfer(anna, case.id, "mitte", "goch")
    moved_by = _transfer_id(anna)
    before = _file_rows(anna, person.id, moved_by=moved_by)
    anna_dir, mehmet_dir = anna.vault.data_dir, mehmet.vault.data_dir
    anna.vault.close()
    mehmet.vault.close()

    def holds(data_dir: Path, ctx: Context) -> tuple[int, list[str]]:
        reopened = _reopen(ctx, data_dir)
        try:
            return (_count(reopened, Client, id=person.id) + _count(
                        reopened, Client, id=casework.moved_id(moved_by, person.id)),
                    [t.state for t in casework.transfers(reopened)])
        finally:
            reopened.vault.close()

    _cli(anna, sync_transfer.FAULT_AFTER_UPLOAD)
    assert holds(anna_dir, anna) == (1, ["requested"])  # sealed on the server, not noted
    assert _server_count(server.db_url, transfers, transfers.c.sealed.is_(True)) == 1
    chunks = _server_count(server.db_url, transfer_chunks)
    _cli(anna)  # finds the sealed transfer: nothing uploaded again
    assert holds(anna_dir, anna) == (1, ["uploaded"])
    assert len(re.findall(r'"PUT /v1/transfers/[0-9a-f]{32}/chunks/', server.log_text())) \
        == chunks
    _cli(mehmet, sync_transfer.FAULT_MID_IMPORT)
    assert holds(mehmet_dir, mehmet) == (0, [])  # the transaction died whole
    _cli(mehmet, sync_transfer.FAULT_AFTER_IMPORT)
    assert holds(mehmet_dir, mehmet) == (1, ["imported"])
    assert _server_count(server.db_url, transfers, transfers.c.ack.is_not(None)) == 0
    _cli(mehmet)  # acknowledges what it imported; imports nothing twice
    assert holds(mehmet_dir, mehmet) == (1, ["acknowledged"])
    _cli(anna, sync_transfer.FAULT_AFTER_ACK)
    assert holds(anna_dir, anna) == (1, ["uploaded"])  # nothing lost before the erasure
    _cli(anna)
    _cli(anna)
    _cli(mehmet)

    anna = _reopen(anna, anna_dir)
    mehmet = _reopen(mehmet, mehmet_dir)
    try:
        assert _file_rows(mehmet, casework.moved_id(moved_by, person.id)) == before
        assert read_attachment(mehmet, casework.moved_id(moved_by, document.id))[1] == content
        assert _count(mehmet, Client) == 1 and _count(mehmet, Case) == 1
        assert _count(anna, Client, id=person.id) == 0 and _count(anna, Case) == 0
        assert [t.state for t in casework.transfers(anna)] == [CLOSED]
        assert _files_contain(anna_dir, MARKER) == []
        assert _server_count(server.db_url, transfers) == 0
        assert _server_count(server.db_url, transfer_chunks) == 0
        assert _server_count(server.db_url, server_blobs, server_blobs.c.team == "nord") == 0
    finally:
        anna.vault.close()
        mehmet.vault.close()


def test_the_command_line_requests_a_transfer_or_says_which_consent_is_missing(
        devices) -> None:
    from tests.sync.test_commands import kimdesk

    (anna,) = devices(1)
    without = make_case(anna, make_person(anna))
    with_consent = make_case(anna, make_person(anna, consent=True), CM)
    data_dir = anna.vault.data_dir
    anna.vault.close()
    refused = kimdesk("fall-uebergeben", without.id, "--team", "mitte", "--kommune", "goch",
                      "--data-dir", str(data_dir))
    assert refused.returncode == 1
    assert "fehlt eine Einwilligung" in refused.stderr and "Team 3 Mitte" in refused.stderr
    done = kimdesk("fall-uebergeben", with_consent.id, "--team", "mitte", "--kommune", "goch",
                   "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    assert "Übergabe an Team 3 Mitte angefordert" in done.stdout
    anna = _reopen(anna, data_dir)
    try:
        assert [(t.case_id, t.state) for t in casework.transfers(anna)] == [
            (with_consent.id, "requested")]
    finally:
        anna.vault.close()
