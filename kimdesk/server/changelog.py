"""The encrypted change log of a team: push with idempotency, pull after a cursor, checksum.

Seqs are assigned under the team lock (PostgreSQL: the team row ``FOR UPDATE``; SQLite: the
write transaction), and the lock is held until commit. So the committed seqs of a team are always
1..head without a gap, and a pull that reads ``head`` first and then the changes up to it never
serves a cursor that a later commit could land below.

Test hook: with ``KIMDESK_SERVER_FAULT=push-before-commit`` in its environment the server process
ends itself (``os._exit(70)``) inside a push, after the changes were inserted and before the
commit: the first push of the process, or every push with ``KIMDESK_SERVER_FAULT_EVERY=1``.
Crash tests restart the server without it and sync again; nothing of the batch may be stored.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Integer,
    LargeBinary,
    Row,
    String,
    Table,
    bindparam,
    case,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kimdesk.server.db import Database, utcnow
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import ApiError, not_confirmed
from kimdesk.server.settings import FAULT_ENV, FAULT_EVERY_ENV
from kimdesk.server.tables import (
    changes,
    device_deliveries,
    quarantine_reports,
    record_versions,
    teams,
)
from kimdesk.sync import protocol

FAULT_PUSH_BEFORE_COMMIT = "push-before-commit"
FAULT_EXIT_CODE = 70
_fault_lock = threading.Lock()
_fault_fired = False
# SQLite allows at most 999 (older builds) host parameters in one IN list.
_IN_CHUNK = 400


# The statements of a push, built once; the id lists are bound at execution ("expanding"), so
# no IN list of 500 ids is built as SQL expressions per push.
_KNOWN_IDS = select(changes.c.change_id, changes.c.seq).where(
    changes.c.team == bindparam("team"), changes.c.change_id.in_(bindparam("ids", expanding=True)))
_STORED_VERSIONS = select(
    record_versions.c.record_id, record_versions.c.kind, record_versions.c.max_hlc).where(
    record_versions.c.team == bindparam("team"),
    record_versions.c.record_id.in_(bindparam("ids", expanding=True)))
_SQLITE_NEW_VERSION = sqlite_insert(record_versions)
_SQLITE_RAISE_VERSION = _SQLITE_NEW_VERSION.on_conflict_do_update(  # db.upsert_max's statement
    index_elements=[c.name for c in record_versions.primary_key.columns],
    set_={"max_hlc": case((_SQLITE_NEW_VERSION.excluded.max_hlc > record_versions.c.max_hlc,
                           _SQLITE_NEW_VERSION.excluded.max_hlc),
                          else_=record_versions.c.max_hlc)})
# SQLite: statement text, the row's values in parameter order, and the bind processors of the
# columns that need one, per statement.
_DRIVER_SQL: dict[str, tuple[str, Callable[[dict[str, Any]], Any],
                             list[tuple[str, Callable[[Any], Any]]]]] = {}
_NOTHING = object()


def _insert_many(db: Database, conn: Connection, key: str, stmt: Insert, table: Table,
                 rows: list[dict[str, Any]]) -> None:
    """``conn.execute(stmt, rows)``; on SQLite straight through the driver's executemany.

    SQLAlchemy builds and processes the parameters of every row (a third of a push's database
    time for 500 changes); here only values that need it (dates) go through the column type's
    bind processor, strings, numbers and bytes go to sqlite3 as they are. The rows are the
    caller's to give away: processed values replace theirs."""
    if db.backend != "sqlite" or not rows:
        if rows:
            conn.execute(stmt, rows)
        return
    cached = _DRIVER_SQL.get(key)
    if cached is None:
        compiled = stmt.compile(dialect=conn.dialect)
        names = list(compiled.positiontup or ())
        processed: list[tuple[str, Callable[[Any], Any]]] = []
        for name in names:
            column_type = table.c[name].type
            if not isinstance(column_type, (String, Integer, LargeBinary)):
                bind = column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
                if bind is not None:
                    processed.append((name, bind))
        assert len(names) > 1  # itemgetter of one name gives a value, not a tuple
        cached = (compiled.string, itemgetter(*names), processed)
        _DRIVER_SQL[key] = cached
    sql, values_of, processed = cached
    for name, process in processed:
        before: Any = _NOTHING
        after: Any = None
        for row in rows:  # a batch's rows share their time: processed once
            if row[name] is not before:
                before, after = row[name], process(row[name])
            row[name] = after
    conn.exec_driver_sql(sql, list(map(values_of, rows)))


def _fault_point() -> None:
    global _fault_fired
    if os.environ.get(FAULT_ENV) != FAULT_PUSH_BEFORE_COMMIT:
        return
    with _fault_lock:
        if _fault_fired and os.environ.get(FAULT_EVERY_ENV) != "1":
            return
        _fault_fired = True
    os._exit(FAULT_EXIT_CODE)


def push(db: Database, caller: Caller, items: list[dict[str, Any]]) -> list[int]:
    """Store the changes not stored yet; the seq of every change, in request order.

    ``items`` carry ``nonce``/``ciphertext`` as bytes. A change id already stored for the team
    gets its original seq back and is not stored again; any new change of another epoch than
    the team's current one refuses the whole batch (409, nothing stored).
    """
    if not caller.active:
        raise not_confirmed()
    check_signed(caller, items)
    ids = list(dict.fromkeys(i["change_id"] for i in items))
    with db.write() as conn:
        team = db.lock_team(conn, caller.team)
        assert team is not None
        known: dict[str, int] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            known.update(conn.execute(_KNOWN_IDS, {"team": caller.team,
                                                   "ids": ids[start:start + _IN_CHUNK]}).all())
        fresh: dict[str, dict[str, Any]] = {}
        for item in items:
            if item["change_id"] not in known and item["change_id"] not in fresh:
                fresh[item["change_id"]] = item
        if any(i["epoch"] != team.epoch for i in fresh.values()):
            raise ApiError(409, "Die Änderungen sind mit einer veralteten Schlüsselversion "
                                "verschlüsselt; bitte den aktuellen Team-Schlüssel holen.",
                           epoch=team.epoch)
        if fresh:
            now = utcnow()
            seq = team.head
            rows = []
            for item in fresh.values():
                seq += 1
                known[item["change_id"]] = seq
                rows.append({"team": caller.team, "seq": seq, "change_id": item["change_id"],
                             "device_id": caller.id, "record_id": item["record_id"],
                             "kind": item["kind"], "hlc": item["hlc"], "epoch": item["epoch"],
                             "nonce": item["nonce"], "ciphertext": item["ciphertext"],
                             "signature": item["signature"], "received_at": now})
            _insert_many(db, conn, "changes", insert(changes), changes, rows)
            highest: dict[tuple[str, str], str] = {}
            for item in fresh.values():
                key = (item["record_id"], item["kind"])
                if key not in highest or item["hlc"] > highest[key]:
                    highest[key] = item["hlc"]
            total = _checksum_of(conn, team)
            stored = _stored_versions(conn, caller.team, highest)
            raised: list[dict[str, Any]] = []
            for (record_id, kind), hlc in highest.items():
                old = stored.get((record_id, kind))
                if old is not None and old >= hlc:
                    continue
                if old is not None:
                    total -= protocol.record_digest(record_id, old)
                total += protocol.record_digest(record_id, hlc)
                raised.append({"team": caller.team, "record_id": record_id, "kind": kind,
                               "max_hlc": hlc})
            if db.backend == "sqlite":
                raised.sort(key=lambda r: (r["record_id"], r["kind"]))
                _insert_many(db, conn, "record_versions", _SQLITE_RAISE_VERSION,
                             record_versions, raised)
            else:
                db.upsert_max(conn, record_versions, raised, "max_hlc")
            conn.execute(update(teams).where(teams.c.code == caller.team).values(
                head=seq, checksum=protocol.checksum_text(total), checksum_head=seq))
            _fault_point()
    return [known[i["change_id"]] for i in items]


def _stored_versions(conn: Connection, team: str, keys: Iterable[tuple[str, str]]
                     ) -> dict[tuple[str, str], str]:
    """The stored highest HLC of these (record id, kind) pairs, where there is one."""
    wanted = set(keys)
    record_ids = sorted({record_id for record_id, _kind in wanted})
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(record_ids), _IN_CHUNK):
        chunk = record_ids[start:start + _IN_CHUNK]
        for record_id, kind, max_hlc in conn.execute(_STORED_VERSIONS,
                                                     {"team": team, "ids": chunk}):
            if (record_id, kind) in wanted:
                found[(record_id, kind)] = max_hlc
    return found


def _checksum_of(conn: Connection, team: Row[Any]) -> int:
    """The team's running checksum as a number: the stored one where it belongs to the team's
    head, else summed over ``record_versions`` (a database from before the running checksum,
    after a compaction, or after anything else wrote the log)."""
    if team.checksum is not None and team.checksum_head == team.head:
        return int(team.checksum, 16)
    return sum(protocol.record_digest(record_id, max_hlc) for record_id, max_hlc in
               conn.execute(select(record_versions.c.record_id, record_versions.c.max_hlc)
                            .where(record_versions.c.team == team.code)))


def check_signed(caller: Caller, items: list[dict[str, Any]]) -> None:
    """Every change has a change's shape, a clock at most ``protocol.MAX_CLOCK_AHEAD_MS``
    ahead of the server's, and the Ed25519 signature of the pushing device (the key it enrolled
    with; devices check it again against the certificate they verified). Otherwise 422 with a
    machine code and the index of the first change that fails, and nothing of the batch is
    stored. No database read: the caller's key came with its authentication. The signatures
    of well-formed changes are verified together (``protocol.change_signatures_valid``)."""
    now_ms = time.time_ns() // 1_000_000
    key = caller.sign_public
    problems: list[str | None] = []
    checks: list[tuple[bytes, bytes, bytes]] = []
    for item in items:
        problem = protocol.change_shape_problem(
            change_id=item["change_id"], record_id=item["record_id"], kind=item["kind"],
            hlc=item["hlc"], epoch=item["epoch"], nonce=item["nonce"],
            signature=item["signature"], now_ms=now_ms)
        problems.append(problem)
        if problem is None:
            checks.append((key, item["signature"], protocol.change_signing_bytes(
                team=caller.team, device_id=caller.id, change_id=item["change_id"],
                record_id=item["record_id"], kind=item["kind"], hlc=item["hlc"],
                epoch=item["epoch"], nonce=item["nonce"], ciphertext=item["ciphertext"])))
    valid = iter(protocol.change_signatures_valid(checks))
    for index, problem in enumerate(problems):
        if problem is None and not next(valid):
            problem = "signature_invalid"
        if problem is not None:
            raise ApiError(422, f"change rejected: {problem}", error=problem, index=index)


def pull(db: Database, caller: Caller, after: int, limit: int) -> dict[str, Any]:
    """The team's changes with seq > ``after``, at most ``limit``, in seq order."""
    if not caller.active:
        raise not_confirmed()
    with db.read(snapshot=True) as conn:
        head, compacted_below = conn.execute(
            select(teams.c.head, teams.c.compacted_below)
            .where(teams.c.code == caller.team)).one()
        if after < compacted_below:
            raise ApiError(410, "Der Stand dieses Geräts ist zu alt; die Daten des Teams "
                                "werden vollständig neu geladen.")
        rows = conn.execute(
            select(changes).where(changes.c.team == caller.team, changes.c.seq > after,
                                  changes.c.seq <= head)
            .order_by(changes.c.seq).limit(limit)).all()
    # What this device has been sent, the basis of a lost-device report: the range of seqs,
    # recorded before the answer leaves (its own changes are known by their author).
    if rows:
        _record_delivery(db, caller, after + 1, int(rows[-1].seq))
    return {
        "changes": [{"seq": r.seq, "change_id": r.change_id, "device_id": r.device_id,
                     "record_id": r.record_id, "kind": r.kind, "hlc": r.hlc,
                     "epoch": r.epoch, "nonce": protocol.b64e(bytes(r.nonce)),
                     "ciphertext": protocol.b64e(bytes(r.ciphertext)),
                     "signature": None if r.signature is None
                     else protocol.b64e(bytes(r.signature))} for r in rows],
        "head": head,
        "more": bool(rows) and rows[-1].seq < head,
    }


def _record_delivery(db: Database, caller: Caller, first: int, last: int) -> None:
    """Remember that seqs ``first``..``last`` went to the device: it joins the ranges it
    continues or overlaps into one (a device pulling page after page keeps one row, a device
    that pulls from an older cursor again merges back into it), else a new range starts."""
    mine = device_deliveries.c.device_id == caller.id
    with db.write() as conn:
        # Two pulls of one device at once (PostgreSQL) must not both read the old range and
        # the later write lose the earlier one's extension: the device row orders them.
        db.lock_device(conn, caller.id)
        while True:
            joining = conn.execute(
                select(device_deliveries.c.first_seq, device_deliveries.c.last_seq)
                .where(mine, device_deliveries.c.first_seq <= last + 1,
                       device_deliveries.c.last_seq >= first - 1)
                .order_by(device_deliveries.c.first_seq)).all()
            if len(joining) == 1 and joining[0].first_seq <= first \
                    and joining[0].last_seq >= last:
                return  # nothing new
            low = min([first, *(r.first_seq for r in joining)])
            high = max([last, *(r.last_seq for r in joining)])
            if (low, high) == (first, last):
                break
            first, last = low, high  # the union may touch a further range
        if len(joining) == 1:  # the usual case: the next page of the same range
            conn.execute(update(device_deliveries).where(
                mine, device_deliveries.c.first_seq == joining[0].first_seq).values(
                first_seq=first, last_seq=last))
            return
        if joining:
            conn.execute(delete(device_deliveries).where(
                mine, device_deliveries.c.first_seq.in_([r.first_seq for r in joining])))
        conn.execute(insert(device_deliveries).values(
            device_id=caller.id, first_seq=first, last_seq=last, team=caller.team))


def checksum(db: Database, caller: Caller) -> dict[str, Any]:
    """The team checksum over (record id, highest HLC), with the head it belongs to: the
    running sum the pushes keep (one row read); summed and stored once where it is missing."""
    with db.read(snapshot=True) as conn:
        head, stored, stored_head = conn.execute(
            select(teams.c.head, teams.c.checksum, teams.c.checksum_head)
            .where(teams.c.code == caller.team)).one()
    if stored is None or stored_head != head:
        with db.write() as conn:
            team = db.lock_team(conn, caller.team)
            assert team is not None
            head = team.head
            stored = protocol.checksum_text(_checksum_of(conn, team))
            conn.execute(update(teams).where(teams.c.code == caller.team)
                         .values(checksum=stored, checksum_head=head))
    return {"head": head, "checksum": stored}


def report_quarantine(db: Database, caller: Caller, items: list[dict[str, Any]]) -> int:
    """A device set these changes of its team aside; kept for ``server-admin quarantine``.
    Items naming no change of the team are ignored; a repeated report is stored once."""
    if not caller.active:
        raise not_confirmed()
    wanted = {i["change_id"]: i for i in items}
    with db.write() as conn:
        found = conn.execute(select(changes.c.change_id, changes.c.seq, changes.c.device_id)
                             .where(changes.c.team == caller.team,
                                    changes.c.change_id.in_(list(wanted)))).all()
        rows = [{"team": caller.team, "seq": seq, "change_id": change_id, "author_id": author,
                 "reporter_id": caller.id, "reason": wanted[change_id]["reason"][:200],
                 "reported_at": utcnow()} for change_id, seq, author in found]
        db.insert_ignore(conn, quarantine_reports, rows)
    return len(items)
