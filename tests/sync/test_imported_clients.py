"""An imported list reaches the team like clients entered one by one (issue 17).

The import writes its rows with Core statements, past the ORM's flush listener; these tests
hold it to what the ORM path (:func:`create_clients`) writes for the same list — rows, change
log, audit entries, search index — and deliver the import to a colleague's device."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kimdesk.casework import audit
from kimdesk.casework.clients import ClientInput, create_client, create_clients, find_clients
from kimdesk.casework.consents import ConsentInput
from kimdesk.casework.context import Context
from kimdesk.casework.import_files import read_client_rows
from kimdesk.casework.importing import import_clients
from kimdesk.models import AuditEntry, Client, Consent
from kimdesk.models.changelog import OutboxChange, RecordState
from tests.sync.devices import deliver, outbox, snapshot

ROWS = [
    "Nachname;Vorname;Geburtsdatum;Staatsangehörigkeit;Kommune",
    "Wiśniewska;Zofia;23.01.1979;polnisch;Emmerich",
    "Popescu;Ștefan;30.06.1995;RO;47608 Geldern",
    "Haddad;Amina;17.04.1991;Syrien;Kleve",
    "Al-Hassan;Mohammed;;;Goch",  # already in the vault: skipped
    "Rahimi;Farid;;;Kranenburg",
    "Haddad;Amina;17.04.1991;Syrien;Kleve",  # listed twice: imported once
]


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "liste.csv"
    path.write_text("\r\n".join(ROWS) + "\r\n", encoding="utf-8")
    return path


def _existing(ctx: Context) -> None:
    create_client(ctx, ClientInput(first_name="Mohammed", last_name="Al-Hassan",
                                   municipality="goch"))


def _written(ctx: Context) -> dict[str, Any]:
    """What a write left in the vault, ids replaced by the person's name and kind, clocks and
    timestamps by placeholders: comparable between two vaults."""
    with ctx.vault.reading() as session:
        clients = session.scalars(select(Client)).all()
        consents = session.scalars(select(Consent)).all()
        device = session.connection().exec_driver_sql(
            "SELECT device_id FROM vault_profile").scalar()
        names = {client.id: f"{client.last_name}/{client.first_name}" for client in clients}
        names |= {consent.id: f"consent of {names[consent.client_id]}" for consent in consents}
        names[device] = "device"

        def plain(value: Any) -> Any:
            if isinstance(value, str):
                return names.get(value, value)
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()
                        if key not in ("created_at", "updated_at")}
            if isinstance(value, list):
                return [plain(item) for item in value]
            return value

        changes = session.scalars(select(OutboxChange).order_by(OutboxChange.seq)).all()
        hlcs = [change.hlc for change in changes]
        states = {state.record_id: state for state in session.scalars(select(RecordState))}
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        return {
            "hlcs ascend": hlcs == sorted(set(hlcs)),
            "change kinds": [change.kind for change in changes],
            "changes": sorted((change.kind, plain(change.record_id),
                               json.dumps(plain(change.payload), sort_keys=True))
                              for change in changes),
            "clocks are the changes'": all(
                states[change.record_id].max_hlc == change.hlc
                and all(clock == [change.hlc, device]
                        for clock in states[change.record_id].clocks.values())
                for change in changes),
            "states": sorted((state.kind, plain(state.record_id), state.cl,
                              sorted(state.clocks)) for state in states.values()),
            "clients": sorted(repr(plain({column.name: getattr(client, column.name)
                                          for column in Client.__table__.columns}))
                              for client in clients),
            "consents": sorted(repr(plain({column.name: getattr(consent, column.name)
                                           for column in Consent.__table__.columns}))
                               for consent in consents),
            "audit": [(entry.action, entry.actor, plain(entry.client_id), entry.entity,
                       plain(entry.entity_id), entry.detail) for entry in entries],
            "audit intact": audit.verify(session, ctx.audit_key) == [],
            "search": [hit.display_name for query in ("Haddad", "Wisniewska", "Stefan",
                                                      "Rahimi", "Al Hassan", "1991")
                       for hit in find_clients(ctx, query)],
        }


def test_an_import_writes_what_the_orm_path_writes(
        devices: Callable[[int], list[Context]], tmp_path: Path) -> None:
    [imported], [entered] = devices(1), devices(1)  # two devices of one user
    for ctx in (imported, entered):
        _existing(ctx)
    path = _csv(tmp_path)

    result = import_clients(imported, path, consent_on_file=True)

    # The same list through the ORM (the flush listener captures the change log), with the
    # audit entries import_clients adds around it.
    rows = read_client_rows(path, entered.reference)
    with entered.vault.writing() as session:
        outcomes = create_clients(
            entered, session,
            [ClientInput(first_name=row.first_name, last_name=row.last_name,
                         birth_date=row.birth_date, nationality=row.nationality,
                         municipality=row.municipality) for row in rows],
            consent=ConsentInput(form="liste"))
        created = [outcome for outcome in outcomes if isinstance(outcome, Client)]
        audit.append_many(session, entered.audit_key, entered.user,
                          [audit.NewEntry("import", client.id, "clients", client.id,
                                          {"file_type": ".csv"}) for client in created])
        audit.append(session, entered.audit_key, actor=entered.user, action="import",
                     client_id=None, detail={"rows": len(created), "file_type": ".csv"})
    assert (result.imported, result.skipped_duplicates) == (len(created), [5, 7]) == (4, [5, 7])

    ours, orm = _written(imported), _written(entered)
    assert ours["change kinds"] == ["clients"] * 5 + ["consents"] * 4
    assert ours["hlcs ascend"] and ours["clocks are the changes'"] and ours["audit intact"]
    assert ours == orm


def test_a_colleague_receives_the_imported_clients(
        devices: Callable[[int], list[Context]], tmp_path: Path) -> None:
    importer, colleague = devices(2)

    import_clients(importer, _csv(tmp_path), consent_on_file=True)
    deliver(outbox(importer.vault), colleague.vault)

    assert snapshot(colleague.vault) == snapshot(importer.vault)
    assert [hit.display_name for hit in find_clients(colleague, "Wisniewska")] == [
        "Wiśniewska, Zofia"]
    with colleague.vault.reading() as session:
        assert session.scalar(select(func.count()).select_from(Consent)) == 5


def test_a_cancelled_import_writes_nothing(
        devices: Callable[[int], list[Context]], tmp_path: Path) -> None:
    [ctx] = devices(1)
    before = _written(ctx)
    lines = [ROWS[0], *(f"Name{chr(97 + i // 26)}{chr(97 + i % 26)};Jana;;;Kleve"
                        for i in range(600))]
    path = tmp_path / "lang.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        if done >= 500:
            raise Cancelled

    with pytest.raises(Cancelled):
        import_clients(ctx, path, progress=cancel)

    assert _written(ctx) == before
