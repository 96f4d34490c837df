"""The county scope over a real server (issue 15), on SQLite and on PostgreSQL: four devices —
coordinator Nord (team vault ``nord`` + Kreis-Tresor), coordinator Süd (team vault ``sued`` +
Kreis-Tresor), case manager Nord and case manager Mitte.

A finding recorded from Frau A.'s case in Nord reaches the Süd coordinator only through a
coordinator's release into the Kreis-Tresor; a Projektgruppe and a Lenkungsgruppe decision made
in Süd's Kreis-Tresor reach Nord's; no client-identifying value is in any county-scope record
(decrypted on the devices) or in any byte of the server database; the county key (the team key
of ``kreis``) is held by the two Kreis-Tresore only.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text

from kimdesk.casework import county
from kimdesk.casework.context import Context
from kimdesk.casework.coordination.findings import FindingInput, finding_rows, record_finding
from kimdesk.casework.coordination.project_groups import (
    FrameworkGoal,
    ProjectGroupInput,
    create_project_group,
    project_group_detail,
)
from kimdesk.casework.coordination.reconstructions import reconstruction_detail, theme_rows
from kimdesk.casework.coordination.steering import (
    DecisionInput,
    MeetingInput,
    create_meeting,
    decision_rows,
    record_decision,
)
from kimdesk.models import Finding, VaultProfile
from kimdesk.models.changelog import LOCAL_ONLY
from kimdesk.models.syncstate import TeamKey
from kimdesk.server.tables import envelopes
from kimdesk.sync import client, trust
from kimdesk.vault import Vault
from tests.coordination_builders import (
    ADDRESS,
    BIRTH_DATE,
    DAUGHTER_BIRTH_DATE,
    DAUGHTER_FIRST_NAME,
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    PHONE,
    Example5Coordination,
    build_example5,
)
from tests.server.support import PostgresCluster
from tests.sync.team import Team, sqlite_url

ROOT_KEY = trust.new_root_key()  # the county's offline root key: one for all teams


@pytest.fixture(params=["sqlite", "postgresql"])
def server_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        folder = tmp_path / "server"
        folder.mkdir()
        yield sqlite_url(folder)
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.new_database()
    try:
        yield url
    finally:
        cluster.drop_database(url)


@pytest.fixture
def teams(server_url: str) -> Iterator[dict[str, Team]]:
    """Teams nord, sued, mitte and kreis on one county server, under one root key."""
    made: dict[str, Team] = {}
    try:
        for code in ("nord", "sued", "mitte", "kreis"):
            team = Team(server_url, code)
            team.root_key, team.root_public = ROOT_KEY, trust.public_key_of(ROOT_KEY)
            made[code] = team
        yield made
    finally:
        for team in made.values():
            team.close()


def _as(ctx: Context, user: str, role: str) -> Context:
    with ctx.vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        profile = session.scalars(select(VaultProfile)).one()
        profile.user_name, profile.role = user, role
    return dataclasses.replace(ctx, user=user)


def _kreis_tresor(team_ctx: Context) -> Context:
    county.create_county_vault(team_ctx, team_ctx.vault.data_dir)
    opened = county.open_county_context(team_ctx, team_ctx.vault.data_dir)
    assert opened is not None
    return opened


def _vault_dump(vault: Vault) -> bytes:
    """Every row of every table of a vault, decrypted, as bytes (UTF-8 text and raw blobs)."""
    parts: list[bytes] = []
    with vault.reading() as session:
        names = session.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'")).scalars().all()
        for name in names:
            for row in session.execute(text(f'SELECT * FROM "{name}"')):
                parts.extend(_value_bytes(value) for value in row)
    return b"\x00".join(parts)


def _value_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8")


def _server_rows(team: Team) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table of the server database (a dump that works on both backends)."""
    metadata = MetaData()
    metadata.reflect(team.db.engine)
    rows: list[tuple[str, dict[str, Any]]] = []
    with team.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows += [(table.name, dict(row)) for row in conn.execute(select(table)).mappings()]
    return rows


def _variants(value: str) -> list[bytes]:
    """How a value could appear in bytes: UTF-8, JSON-escaped, and as UTF-16."""
    found = {value.encode("utf-8"), json.dumps(value)[1:-1].encode("ascii"),
             value.encode("utf-16-le")}
    return sorted(found)


def _hits(data: bytes, values: list[str]) -> list[str]:
    return [value for value in values if any(v in data for v in _variants(value))]


def _client_values(example: Example5Coordination) -> list[str]:
    """The builders' client-identifying values that are not record ids."""
    return [FIRST_NAME, LAST_NAME, DAUGHTER_FIRST_NAME, ADDRESS, "Lindenallee", "47533 Kleve",
            PHONE, PHONE.replace(" ", ""), EMAIL, f"{BIRTH_DATE:%d.%m.%Y}",
            BIRTH_DATE.isoformat(), f"{DAUGHTER_BIRTH_DATE:%d.%m.%Y}",
            DAUGHTER_BIRTH_DATE.isoformat()]


def _record_ids(example: Example5Coordination) -> list[str]:
    case = example.example.case
    ids = [example.example.client.id, example.example.daughter.id, case.id]
    return ids + ([case.household_id] if case.household_id else [])


def test_four_devices_share_the_county_scope_and_nothing_of_a_case(
        devices: Callable[..., list[Context]], teams: dict[str, Team], server_url: str) -> None:
    coordinator_nord = _as(devices(1, team="nord")[0], "Anna Becker", "coordinator")
    manager_nord = _as(devices(1, team="nord")[0], "Jonas Hendricks", "case_manager")
    coordinator_sued = _as(devices(1, team="sued")[0], "Ewa Nowak", "coordinator")
    manager_mitte = _as(devices(1, team="mitte")[0], "Fatima Haddad", "case_manager")
    teams["nord"].join(coordinator_nord)
    teams["nord"].join(manager_nord, coordinator=False)
    teams["sued"].join(coordinator_sued)
    # The first device of a team creates its key: Mitte's case manager stands in for the team.
    teams["mitte"].join(manager_mitte)

    # County IT certifies both Kreis-Tresore for the team kreis (county-ca certify --team kreis).
    kreis_nord = _kreis_tresor(coordinator_nord)
    kreis_sued = _kreis_tresor(coordinator_sued)
    opened = [kreis_nord, kreis_sued]
    try:
        teams["kreis"].join(kreis_nord)
        teams["kreis"].join(kreis_sued, coordinator=True)
        assert client.enrolled_device(kreis_nord).team == "kreis"

        # 1. Case manager Nord records findings from Frau A.'s case (Beispiel 5) and syncs.
        example = build_example5(manager_nord)
        teams["nord"].sync(manager_nord)
        teams["nord"].sync(coordinator_nord)
        finding = example.findings[0]
        assert finding.id in {r.id for r in finding_rows(coordinator_nord)}
        county_finding = county.release_finding(coordinator_nord, kreis_nord, finding.id)
        county_reconstruction = county.release_reconstruction(coordinator_nord, kreis_nord,
                                                              example.reconstruction.id)
        teams["kreis"].sync(kreis_nord)
        teams["kreis"].sync(kreis_sued)
        rows = {r.id: r for r in finding_rows(kreis_sued)}
        assert set(rows) == {county_finding}
        assert rows[county_finding].description == finding.description
        assert rows[county_finding].life_area == "childcare"
        assert rows[county_finding].life_area_label == "Kinderbetreuung"
        with kreis_sued.vault.reading() as session:
            copy = session.get(Finding, county_finding)
            assert copy is not None
            assert (copy.released_from, copy.released_team, copy.created_by) == (
                finding.id, "nord", "Anna Becker")
        assert reconstruction_detail(kreis_sued, county_reconstruction).relations
        assert [t.statement for t in theme_rows(kreis_sued)] == [example.theme.statement]
        # Süd's team vault has none of it: the county scope is the Kreis-Tresor.
        assert finding_rows(coordinator_sued) == []

        # 2. Süd's coordinator starts a Projektgruppe and records a decision, county-wide.
        today = kreis_sued.today()
        group = create_project_group(kreis_sued, ProjectGroupInput(
            name="Kinderbetreuung in Qualifizierungsmaßnahmen (kreisweit)",
            principal_goal=example.theme.statement,
            framework_goals=[FrameworkGoal("Maßnahmen der Berufsvorbereitung bieten "
                                           "Kinderbetreuung an.",
                                           ["Kooperation mit der Kindertagespflege"])],
            theme_ids=[t.id for t in theme_rows(kreis_sued)], finding_ids=[county_finding],
            started_on=today - timedelta(days=7)))
        meeting = create_meeting(kreis_sued, MeetingInput(held_on=today,
                                                          title="Lenkungsgruppe, 5. Sitzung"))
        record_decision(kreis_sued, DecisionInput(
            title="Kontingent an Betreuungsplätzen für Teilnehmende", decided_on=today,
            finding_ids=[county_finding], project_group_id=group.id, meeting_id=meeting.id))
        teams["kreis"].sync(kreis_sued)
        teams["kreis"].sync(kreis_nord)
        seen = project_group_detail(kreis_nord, group.id)
        assert seen.principal_goal == example.theme.statement
        assert [g.goal for g in seen.framework_goals] == [
            "Maßnahmen der Berufsvorbereitung bieten Kinderbetreuung an."]
        assert [d.title for d in decision_rows(kreis_nord)] == [
            "Kontingent an Betreuungsplätzen für Teilnehmende"]

        # 4. A release naming the client (a team-meeting finding is not checked against a
        #    case) is refused, naming the field; nothing reaches the county.
        named = record_finding(coordinator_nord, FindingInput(
            life_area="childcare", barrier="capacity", source="team_meeting",
            description=f"Frau {LAST_NAME} (geb. {BIRTH_DATE:%d.%m.%Y}) wartet auf die Kita."))
        with pytest.raises(county.ReleaseRefused) as refused:
            county.release_finding(coordinator_nord, kreis_nord, named.id)
        assert refused.value.field == "description"
        assert "Beschreibung" in refused.value.message and "Name" in refused.value.message
        teams["kreis"].sync_all()
        assert {r.id for r in finding_rows(kreis_sued)} == {county_finding}

        # Case managers of Nord and Mitte hold no county data.
        county_ids = [county_finding, county_reconstruction, group.id, meeting.id]
        for manager in (manager_nord, manager_mitte):
            teams[manager.team].sync(manager)
            assert not county.has_county_vault(manager.vault.data_dir)
            assert _hits(_vault_dump(manager.vault), county_ids) == []

        # 3. Byte search: no client-identifying value in a county-scope record ...
        values = _client_values(example)
        ids = _record_ids(example)
        for kreis in (kreis_nord, kreis_sued):
            dump = _vault_dump(kreis.vault)
            assert county_finding.encode() in dump  # the dump does see the county's records
            assert _hits(dump, values + ids) == []
        # ... nor in any byte of the server database. The team's own log keeps its records'
        # random ids in the clear (docs/sync.md); they occur in no row of the county team.
        rows = _server_rows(teams["kreis"])
        server_bytes = b"\x00".join(_value_bytes(v) for _t, row in rows for v in row.values())
        assert _hits(server_bytes, values) == []
        assert _hits(server_bytes, ["Jonas Hendricks"])  # the search sees plaintext it meets
        nord_devices = {d.id for d in client_devices(teams["nord"])}
        for table, row in rows:
            row_bytes = b"\x00".join(_value_bytes(v) for v in row.values())
            if _hits(row_bytes, ids):
                assert row.get("team") == "nord" or row.get("device_id") in nord_devices, table
        if server_url.startswith("sqlite:///"):
            database = Path(server_url.removeprefix("sqlite:///"))
            raw = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
            assert _hits(raw, values) == []
            assert _hits(raw, ["Jonas Hendricks"])

        # A Kreis-Tresor has no cases and sends no statistics (its sync would fail otherwise:
        # "kreis" is no team of the reference data).
        assert not [row for table, row in rows
                    if table == "team_stat_cells" and row["team"] == "kreis"]

        # 5. The county key: envelopes for the two Kreis-Tresore only, none for case managers;
        #    not in the server database in the clear.
        county_keys = _team_keys(kreis_nord)
        assert county_keys and county_keys == _team_keys(kreis_sued)
        kreis_members = {client.enrolled_device(k).device_id for k in (kreis_nord, kreis_sued)}
        with teams["kreis"].db.engine.connect() as conn:
            recipients = set(conn.execute(select(envelopes.c.recipient_id).where(
                envelopes.c.team == "kreis")).scalars())
        assert recipients == kreis_members
        for manager in (manager_nord, manager_mitte):
            assert client.enrolled_device(manager).device_id not in recipients
            assert not set(_team_keys(manager).values()) & set(county_keys.values())
            answer = teams[manager.team].http.get(
                "/v1/envelopes", headers={"Authorization": f"Bearer "
                                          f"{client.enrolled_device(manager).token}"})
            assert answer.status_code == 200, answer.text
            received = answer.json()["envelopes"]
            assert received and {e["recipient_id"] for e in received} == {
                client.enrolled_device(manager).device_id}
            assert not {e["granter_id"] for e in received} & kreis_members
        for key in county_keys.values():
            for form in (key, key.hex().encode(), base64.b64encode(key),
                         base64.urlsafe_b64encode(key).rstrip(b"=")):
                assert form not in server_bytes
                if server_url.startswith("sqlite:///"):
                    assert form not in raw
    finally:
        for ctx in opened:
            ctx.vault.close()


def client_devices(team: Team) -> list[Any]:
    from kimdesk.server import admin
    return admin.list_devices(team.db, team.team)


def _team_keys(ctx: Context) -> dict[int, bytes]:
    with ctx.vault.reading() as session:
        return {k.epoch: k.key for k in session.scalars(select(TeamKey))}


def test_county_it_and_a_coordinator_set_up_the_kreis_tresor_from_the_command_line(
        template_vault: Path, tmp_path: Path, clock: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from kimdesk.cli import main
    from kimdesk.reference import load_reference
    from kimdesk.server import admin
    from kimdesk.server.tables import changes
    from tests.factories import PASSWORD, make_person
    from tests.server.support import ServerProcess
    from tests.sync.devices import open_device

    def kimdesk(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    for name in ("KIMDESK_DATA_DIR", "KIMDESK_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KIMDESK_PASSWORD", PASSWORD)
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    server_admin = ("server-admin", "--db", url)
    assert kimdesk(*server_admin, "create-team", "kreis", "Kreis Kleve – Koordination")[0] == 0
    anna = _as(open_device(template_vault, tmp_path / "anna", "Anna Becker", load_reference(),
                           clock), "Anna Becker", "coordinator")
    person = make_person(anna, consent=True, first_name="Ilse", last_name="Quandtmeyer")
    clean = record_finding(anna, FindingInput(
        life_area="childcare", barrier="capacity", source="team_meeting",
        description="Wartezeit auf einen Kita-Platz länger als ein Jahr."))
    named = record_finding(anna, FindingInput(
        life_area="childcare", barrier="capacity", source="team_meeting",
        description="Frau Quandtmeyer wartet seit einem Jahr auf die Kita."))
    data_dir = str(anna.vault.data_dir)
    anna.vault.close()
    server = ServerProcess(url, log_path=tmp_path / "serve.log").start()
    try:
        code, out, err = kimdesk("kreis", "einrichten", "--data-dir", data_dir)
        assert code == 0, err
        assert "Kreis-Tresor eingerichtet" in out and "enrol --kreis" in out
        code, out, _err = kimdesk(*server_admin, "issue-code", "--team", "kreis", "--user",
                                  "Anna Becker", "--coordinator", "--json")
        enrol_code = json.loads(out)["code"]
        root_file = tmp_path / "root.key"
        code, out, err = kimdesk("county-ca", "keygen", "--out", str(root_file))
        assert code == 0, err
        monkeypatch.setenv("KIMDESK_COUNTY_ROOT_KEY",
                           out.split('county_root_key = "')[1].split('"')[0])
        code, out, err = kimdesk("enrol", "--kreis", "--data-dir", data_dir, "--server",
                                 server.url, "--insecure-local", "--code", enrol_code,
                                 "--name", "Laptop Anna")
        assert code == 0, err
        assert "(Team kreis)" in out
        fingerprint = out.split("Fingerabdruck: ")[1].split()[0]
        code, _out, err = kimdesk("county-ca", "certify", "--root-key-file", str(root_file),
                                  "--fingerprint", fingerprint, "--team", "kreis", "--role",
                                  "coordinator", "--out", str(tmp_path / "anna-kreis.json"))
        assert code == 0, err
        assert kimdesk(*server_admin, "certificate", str(tmp_path / "anna-kreis.json"))[0] == 0
        code, out, err = kimdesk("sync", "--kreis", "--data-dir", data_dir)
        assert code == 0 and "Synchronisiert" in out, err

        code, out, err = kimdesk("kreis", "weitergeben", "erkenntnis", clean.id,
                                 "--data-dir", data_dir)
        assert code == 0 and "an den Kreis weitergegeben" in out, err
        code, out, err = kimdesk("kreis", "weitergeben", "erkenntnis", named.id,
                                 "--data-dir", data_dir)
        assert code == 1
        assert err.startswith("Fehler: Nicht an den Kreis weitergegeben: Die Beschreibung")
        assert "Quandtmeyer" not in err and person.id not in err
        code, out, err = kimdesk("sync", "--kreis", "--data-dir", data_dir)
        assert code == 0 and "1 gesendet" in out, err
        # The team vault itself is not enrolled: without --kreis there is nothing to sync.
        assert kimdesk("sync", "--data-dir", data_dir)[0] == 1

        db = admin.open_database(url)
        try:
            with db.engine.connect() as conn:
                kinds = list(conn.execute(select(changes.c.kind).where(
                    changes.c.team == "kreis")).scalars())
            assert kinds == ["findings"]
        finally:
            db.dispose()

        # County IT renews the county key after a suspected loss; the next sync makes it.
        code, out, err = kimdesk(*server_admin, "rotate-key", "kreis")
        assert code == 0 and "erneuert" in out, err
        assert kimdesk("sync", "--kreis", "--data-dir", data_dir)[0] == 0
        code, out, _err = kimdesk(*server_admin, "teams", "--json")
        kreis = next(t for t in json.loads(out) if t["code"] == "kreis")
        assert (kreis["epoch"], kreis["rotation_needed"]) == (2, False)
    finally:
        server.stop()


def test_case_data_pushed_under_the_county_key_is_quarantined(
        devices: Callable[..., list[Context]], tmp_path: Path) -> None:
    """The attack: a compromised Kreis-Tresor (guard removed) pushes a client's record into the
    team kreis. The other Kreis-Tresor quarantines it, applies nothing and keeps syncing."""
    from sqlalchemy import event

    from kimdesk.models import Client, QuarantinedChange
    from tests.factories import make_person

    folder = tmp_path / "server"
    folder.mkdir()
    kreis = Team(sqlite_url(folder), "kreis")
    nord = _as(devices(1, team="nord")[0], "Anna Becker", "coordinator")
    sued = _as(devices(1, team="sued")[0], "Ewa Nowak", "coordinator")
    kreis_nord, kreis_sued = _kreis_tresor(nord), _kreis_tresor(sued)
    try:
        kreis.join(kreis_nord)
        kreis.join(kreis_sued, coordinator=True)
        event.remove(kreis_nord.vault.engine, "before_cursor_execute",
                     county._refuse_case_writes)
        person = make_person(kreis_nord, consent=True, first_name="Ilse",
                             last_name="Quandtmeyer")
        assert kreis.sync(kreis_nord).pushed >= 2
        record_finding(kreis_nord, FindingInput(life_area="childcare", barrier="capacity",
                                                description="Wartezeit auf Kita-Plätze."))
        kreis.sync(kreis_nord)
        report = kreis.sync(kreis_sued)
        assert report.quarantined >= 2
        assert len(finding_rows(kreis_sued)) == 1  # the county's own records still arrive
        with kreis_sued.vault.reading() as session:
            assert session.get(Client, person.id) is None
            reasons = {q.reason for q in session.scalars(select(QuarantinedChange))}
        assert any("Kreis-Tresor" in reason for reason in reasons)
    finally:
        kreis_nord.vault.close()
        kreis_sued.vault.close()
        kreis.close()
