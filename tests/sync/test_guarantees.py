"""What sync guarantees beyond merging: replays are harmless, damage is found and repaired,
ciphertexts are bound to their record, a removed device reads nothing new, and the county
server holds no client name and shows no small statistics cell."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, text, update

from kimdesk import demo
from kimdesk.casework import county
from kimdesk.casework.clients import find_clients
from kimdesk.models import Client, Contact, SyncDevice, TeamKey, VaultProfile
from kimdesk.models.changelog import LOCAL_ONLY, Conflict, RecordState
from kimdesk.server import admin
from kimdesk.server.tables import changes as server_changes
from kimdesk.sync import client, crypto, protocol
from kimdesk.sync.client import SyncClient
from kimdesk.vault.store import vault_exists
from tests.factories import CM, TODAY, make_case, make_contact, make_person
from tests.server.support import ServerProcess
from tests.sync.devices import snapshot
from tests.sync.team import ROOT_PUBLIC, Team, certify_coordinator, sqlite_url


class Recording:
    """The team's HTTP client, remembering every push body and every pull answer."""

    def __init__(self, http: Any) -> None:
        self._http = http
        self.pushes: list[dict[str, Any]] = []
        self.pulls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, url, **kwargs)
        if url.endswith("/push"):
            body = json.loads(kwargs["content"]) if "content" in kwargs else kwargs["json"]
            self.pushes.append({"body": body, "seqs": response.json()["seqs"],
                                "headers": kwargs["headers"]})
        if url.endswith("/pull") and response.status_code == 200:
            self.pulls.append(response.json())
        return response


def _server_change_count(team: Team) -> int:
    with team.db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(server_changes)).scalar_one()


def _conflicts(ctx) -> list[tuple]:
    with ctx.vault.reading() as session:
        return [(c.record_id, c.field, c.lost_hlc) for c in session.scalars(select(Conflict))]


def test_replaying_every_push_three_times_and_every_pull_twice_changes_nothing(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    recording = Recording(team.http)
    person = make_person(anna, consent=True)
    make_contact(anna, make_case(anna, person, CM))
    SyncClient(anna, recording).run()
    make_person(ewa, consent=True, last_name="Öztürk")
    SyncClient(ewa, recording).run()
    SyncClient(anna, recording).run()
    assert recording.pushes and recording.pulls
    stored = _server_change_count(team)
    before = {ctx.user: (snapshot(ctx.vault), _conflicts(ctx)) for ctx in (anna, ewa)}

    for push in recording.pushes:
        for _ in range(3):
            again = team.http.post("/v1/push", json=push["body"], headers=push["headers"])
            assert again.json()["seqs"] == push["seqs"]
    assert _server_change_count(team) == stored

    for ctx in (anna, ewa):  # every pull again, twice: from the start of the log
        for _ in range(2):
            with ctx.vault.writing() as session:
                session.get(SyncDevice, 1).cursor = 0
            SyncClient(ctx, team.http, statistics=False).run()
        assert (snapshot(ctx.vault), _conflicts(ctx)) == before[ctx.user]


@pytest.mark.parametrize("damage", ["lost row", "lost history"])
def test_a_damaged_device_notices_by_the_team_checksum_and_repairs_itself(devices, team, damage):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    person = make_person(anna, consent=True, last_name="Haddad")
    contact = make_contact(anna, make_case(anna, person, CM)).contact
    team.sync_all()
    healthy = snapshot(anna.vault)

    with ewa.vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        if damage == "lost row":
            session.execute(delete(Contact).where(Contact.id == contact.id))
        else:  # a vault restored from an old copy: a record's history is gone
            session.execute(delete(RecordState).where(RecordState.record_id == person.id))

    report = team.sync(ewa)

    assert report.repaired
    assert snapshot(ewa.vault) == healthy
    assert [hit.id for hit in find_clients(ewa, "Haddad")] == [person.id]


def test_a_ciphertext_moved_to_another_record_does_not_decrypt(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    first = make_person(anna, consent=True, last_name="Kowalczyk")
    second = make_person(anna, consent=True, last_name="Nasser")
    team.sync(anna)
    with team.db.engine.begin() as conn:  # a malicious or broken server swaps two records
        rows = {row.record_id: row for row in conn.execute(select(server_changes).where(
            server_changes.c.record_id.in_([first.id, second.id]),
            server_changes.c.kind == "clients"))}
        conn.execute(update(server_changes).where(server_changes.c.seq == rows[first.id].seq)
                     .values(nonce=rows[second.id].nonce,
                             ciphertext=rows[second.id].ciphertext))

    report = team.sync(ewa)  # the moved change is quarantined; the sync goes on

    assert report.quarantined == 1
    assert [q.record_id for q in SyncClient(ewa, team.http).quarantined()] == [first.id]
    with ewa.vault.reading() as session:
        assert [c.id for c in session.scalars(select(Client))] == [second.id]

    # The same holds for the cipher itself: right key, other record id → refused.
    with anna.vault.reading() as session:
        key = session.get(TeamKey, 1).key
    nonce, ciphertext = crypto.encrypt_change(key, team="nord", record_id=first.id,
                                              kind="clients", hlc="1", epoch=1,
                                              payload={"fields": {}})
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_change(key, team="nord", record_id=second.id, kind="clients", hlc="1",
                              epoch=1, nonce=nonce, ciphertext=ciphertext)


def test_a_removed_device_is_wiped_and_cannot_read_what_is_written_after_the_rotation(
        devices, team):
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(ewa)
    team.join(jonas)
    team.sync_all()
    with ewa.vault.reading() as session:
        ewas_old_key = session.get(TeamKey, 1).key
    ewa_dir = ewa.vault.data_dir

    team.revoke(ewa)
    with pytest.raises(client.DeviceRevoked):
        team.sync(ewa)
    assert not vault_exists(ewa_dir)
    assert not (ewa_dir / "vault.db").exists()

    team.sync(anna)  # rotates the team key
    secret = make_person(anna, consent=True, last_name="Shevchenko")
    team.sync(anna)
    team.sync(jonas)
    assert [hit.id for hit in find_clients(jonas, "Shevchenko")] == [secret.id]

    with team.db.engine.connect() as conn:
        row = conn.execute(select(server_changes).where(
            server_changes.c.record_id == secret.id)).first()
    assert row.epoch == 2
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_change(ewas_old_key, team="nord", record_id=secret.id,
                              kind="clients", hlc=row.hlc, epoch=row.epoch,
                              nonce=protocol.b64e(row.nonce),
                              ciphertext=protocol.b64e(row.ciphertext))


def test_a_revoked_coordinator_laptop_loses_its_kreis_tresor_with_its_team_vault(
        devices, team):
    anna, jonas = devices(2)
    team.join(anna)
    team.join(jonas)
    team.certify(jonas)
    with jonas.vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        session.scalars(select(VaultProfile)).one().role = "coordinator"
    county.create_county_vault(jonas, jonas.vault.data_dir)
    kreis = county.county_vault_dir(jonas.vault.data_dir)
    assert vault_exists(kreis)

    team.revoke(jonas)
    with pytest.raises(client.DeviceRevoked):
        team.sync(jonas)

    assert not vault_exists(jonas.vault.data_dir)
    assert not kreis.exists()  # unreadable without the team vault's key, and the county's


@pytest.mark.slow
def test_the_county_server_never_holds_a_client_name(devices, tmp_path):
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    db = admin.open_database(url)
    admin.create_team(db, "nord", "Team 1 Nord")
    db.dispose()
    server = ServerProcess(url, log_path=tmp_path / "serve.log").start()
    anna, ewa = devices(2)
    try:
        demo.fill(anna.vault, clients=40, today=TODAY)
        # Enough cases of the team this month that its protected counts are not all 0.
        for _ in range(12):
            # one Kommune: a dozen cases there is a count the protection never turns into 0
            make_case(anna, make_person(anna, allow_duplicate=True, first_name="Bogdănel",
                                        last_name="Popescuțiu", municipality="kleve"))
        for ctx, coordinator in ((anna, True), (ewa, False)):
            db = admin.open_database(url)
            code, _ = admin.issue_code(db, "nord", ctx.user, coordinator=coordinator)
            with httpx.Client(base_url=server.url, timeout=60) as http:
                client.enrol(ctx, http, server_url=server.url, code=code, device_name="Laptop",
                             root_public=ROOT_PUBLIC)
            if coordinator:
                certify_coordinator(db, ctx)
            db.dispose()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            SyncClient(anna, http).run()
            SyncClient(anna, http).confirm_device(client.enrolled_device(ewa).fingerprint)
            SyncClient(ewa, http).run()
            SyncClient(anna, http).run()
            token = client.enrolled_device(anna).token
            stats = http.get("/v1/stats", params={"period": "2026-11"},
                             headers={"Authorization": f"Bearer {token}"}).json()
    finally:
        server.stop()
    assert snapshot(ewa.vault) == snapshot(anna.vault)

    with anna.vault.reading() as session:
        names = {part for c in session.scalars(select(Client))
                 for part in (c.first_name, c.last_name, c.organisation_name) if len(part) >= 4}
        assert session.execute(text("SELECT count(*) FROM clients")).scalar_one() >= 40
    stored = b"".join(path.read_bytes() for path in folder.iterdir())
    log = (tmp_path / "serve.log").read_bytes()
    assert len(names) > 30
    for name in names:
        encoded = name.encode("utf-8")
        assert encoded not in stored, "a client name is in the server database"
        assert encoded not in log, "a client name is in the server log"

    counts = [cell["count"] for cell in stats["cells"]]
    assert counts, "the devices reported statistics"
    assert all(count >= 5 for count in counts)
    assert [u["team"] for u in stats["uploads"]] == ["nord"]

    # The server's database itself: statistics rows name no device, user or case, and hold
    # only protected counts (0 is not stored, 1–4 never).
    database = sqlite3.connect(next(folder.glob("*.db")))
    try:
        tables = {row[0] for row in database.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        statistics_tables = {t for t in tables if "stat" in t}
        assert statistics_tables == {"team_stat_cells", "team_stat_uploads"}
        for table in statistics_tables:
            columns = {row[1] for row in database.execute(f"PRAGMA table_info({table})")}
            assert not columns & {"device_id", "user_name", "user", "case_id", "client_id"}
        stored_counts = [row[0] for row in database.execute(
            "SELECT count FROM team_stat_cells")]
        device_ids = {row[0] for row in database.execute("SELECT id FROM devices")}
        values = {v for row in database.execute(
            "SELECT team, month, municipality, dimension, value, measure FROM team_stat_cells")
            for v in row}
    finally:
        database.close()
    assert stored_counts and all(count >= 5 for count in stored_counts)
    assert not values & device_ids
