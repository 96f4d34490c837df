"""Applying received changes: last-writer-wins per field, causal length per record, conflicts.

Every device applies the same rules to the same set of changes and so ends in the same state,
whatever order the changes arrived in:

- a field takes the value of the write with the greatest ``(hlc, origin)``;
- a record's causal length is the maximum seen (odd alive, even deleted; an erasure under
  retention rules is the largest even number and always wins); a dead record's row is removed
  with everything that depends on it, and a row whose parent is dead is not created;
- a change that arrives before what it depends on (an edit before the create, a case before
  its client: a server may serve its log out of causal order, a hostile one on purpose) is not
  lost: its values wait, with their field clocks, in ``sync_waiting`` until the record is whole
  and its parents have arrived, and are written then (or die with a parent that died), so the
  same set of changes gives the same vault whatever order and pages it came in;
- a write that overwrote a value its author had not seen (its *base* differs from the field's
  clock) is a concurrent edit: the value that lost is kept as a :class:`Conflict` for review,
  unless the team already decided it: a :class:`ConflictResolution` (a synced record) names
  the conflict by record, field and the clock of the write that lost, and a device that
  receives one closes its copy of that conflict and never opens it again.

Applying goes through the models' tables and the casework functions that keep derived state
(search index, purge of an erased client), never around them; the flush listener of
``kimdesk.models.changelog`` is switched off for it, so a received change is not sent back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Table, Text, delete, func, select, type_coerce, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kimdesk.casework import search
from kimdesk.models import Client
from kimdesk.models.base import Base, table_of
from kimdesk.models.changelog import (
    ALIVE,
    APPLYING,
    ERASED,
    META_FIELDS,
    Conflict,
    ConflictResolution,
    DeviceAuthor,
    LocalChange,
    OutboxChange,
    RecordState,
    WaitingRecord,
    append_changes,
    decode_value,
    encode_value,
    forget_values,
    record_fields,
    synced_tables,
    tick,
)
from kimdesk.sync import blobs, protocol
from kimdesk.vault import Vault

# Fields whose concurrent edits are flagged for review before anything else (never silent).
IDENTITY_FIELDS = frozenset({
    ("clients", "first_name"), ("clients", "last_name"), ("clients", "birth_date"),
    ("clients", "nationality"), ("residence_records", "status"),
    ("residence_records", "granted_on"), ("residence_records", "valid_until"),
})


@dataclass
class Received:
    """One decrypted change from the server."""

    kind: str
    record_id: str
    hlc: str
    payload: dict[str, Any]  # {"origin", "cl", "fields": {...}, "base": {...}}
    signer: str | None = None  # server id of the device whose signature was verified
    change_id: str = ""  # the server's change id, sequence number and key epoch (for a
    seq: int = 0  # document content that fails its check later: quarantined as this change)
    epoch: int = 0


@dataclass
class ApplyResult:
    applied: int = 0
    conflicts: int = 0
    removed_attachments: list[str] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    # Documents created whose content comes as a blob: (change, content reference).
    contents: list[tuple[Received, Any]] = field(default_factory=list)


@cache
def _references(table: Table) -> list[tuple[Table, Any]]:
    """(child table, FK column) pairs of every table pointing at ``table``'s id (computed
    once per table: a cascade asks for every record it removes)."""
    found = []
    for child in Base.metadata.sorted_tables:
        for column in child.columns:
            for fk in column.foreign_keys:
                if fk.column.table is table:
                    found.append((child, column))
    return found


@dataclass(frozen=True)
class _Shape:
    """What the merge asks of a table for every change, worked out once per table."""

    names: frozenset[str]  # column names
    required: tuple[str, ...]  # NOT NULL columns without a default: a whole record has them
    references: tuple[tuple[str, bool, tuple[Table, ...]], ...]  # (column, nullable, parents)


@cache
def _shape(table: Table) -> _Shape:
    return _Shape(
        names=frozenset(c.name for c in table.columns),
        required=tuple(c.name for c in table.columns if not c.nullable and c.default is None
                       and c.server_default is None),
        references=tuple((c.name, bool(c.nullable), tuple(fk.column.table
                                                           for fk in c.foreign_keys))
                         for c in table.columns if c.foreign_keys))


def _remove_rows(conn: Connection, table: Table, ids: list[str], result: ApplyResult,
                 removed: set[str]) -> None:
    """Delete rows and what depends on them: nullable references are cleared, others removed
    (their ids are added to ``removed``)."""
    if not ids:
        return
    removed.update(ids)
    for child, column in _references(table):
        if column.nullable:
            conn.execute(update(child).where(column.in_(ids))
                         .values({column.name: None, **_unstamped(child)}))
        else:
            child_ids = list(conn.execute(select(child.c.id).where(column.in_(ids))).scalars())
            _remove_rows(conn, child, child_ids, result, removed)
    if table.name == "clients":
        session = Session(bind=conn)
        for client_id in ids:
            search.unindex(session, client_id)
    _bury(conn, table, ids)
    if table.name == "attachments":
        result.removed_attachments.extend(ids)
    conn.execute(delete(table).where(table.c.id.in_(ids)))


def _unstamped(table: Table) -> dict[str, Any]:
    """Keeps the columns a model stamps on every UPDATE (``updated_at``) as they are: a merge
    happens at a different moment on every device, so its own time must not enter a row."""
    return {column.name: column for column in table.columns if column.onupdate is not None}


def _bury(conn: Connection, table: Table, ids: list[str]) -> None:
    """Records removed because a record they depend on died are dead too (on every device)."""
    if table.name not in synced_tables():
        return
    states = table_of(RecordState)
    conn.execute(update(states).where(states.c.record_id.in_(ids), states.c.cl % 2 == 1)
                 .values(cl=states.c.cl + 1))


# How a record a change refers to stands in this vault.
_EXISTS, _DEAD, _UNKNOWN = "exists", "dead", "unknown"


class _Merger:
    """Applies a batch of received changes with a handful of statements, not dozens per change.

    States, field clocks and rows of the batch's records are read once; the merge is decided in
    memory, change by change, in arrival order; the outcome is written at the end (new rows per
    table in one statement, parents first). A delete is rare: it writes what is pending, removes
    rows through the database (cascade, purge) and then reads afresh.

    Values that cannot be written yet wait in ``held`` (``{record id: {field: [value, hlc,
    origin]}}``, stored in ``sync_waiting``): the fields of a record that is not whole yet or
    whose parent has not arrived, and a reference to a parent that has not arrived. Before
    anything is written, :meth:`_settle` writes what has become possible: the batch's own
    waiting records and those waiting for a record of the batch, parents first, until nothing
    more moves. Every held value carries the clock it won with, so a later write of the field
    supersedes it whatever order the two arrive in.
    """

    def __init__(self, session: Session, received: list[Received], result: ApplyResult) -> None:
        self.session = session
        self.conn = session.connection()
        self.result = result
        self.tables = synced_tables()
        self.order = {name: index for index, name in enumerate(self.tables)}
        self.received = [c for c in received if c.kind in self.tables]
        self.ids = sorted({c.record_id for c in self.received})
        self.kinds: dict[str, str] = {}
        self.authors: dict[str, tuple[str, str | None]] = {}
        self.removed: set[str] = set()  # rows a cascade removed (their waiting children die)
        self._load()

    # --- reading --------------------------------------------------------------------------

    def _load(self) -> None:
        conn, ids = self.conn, self.ids
        self.states: dict[str, list[Any]] = {}
        self.clocks: dict[str, dict[str, tuple[str, str]]] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.parents: dict[str, set[str]] = {}
        self.absent: dict[str, set[str]] = {}  # ids looked for in a table and not found
        self.other_cls: dict[str, int | None] = {}  # causal lengths of records outside the batch
        self._read_states(ids)
        for kind in {c.kind for c in self.received}:
            self._read_rows(kind, sorted({c.record_id for c in self.received if c.kind == kind}))
        self.held: dict[str, dict[str, list[Any]]] = {}
        self.held_kinds: dict[str, str] = {}
        self.awaits: dict[str, str] = {}
        self.held_dirty: set[str] = set()
        self.stored: set[str] = set()  # ids with a row in sync_waiting
        self.looked: set[str] = set()  # ids whose waiting dependants were read
        waiting = table_of(WaitingRecord)
        for chunk in _chunks(ids):
            self._take_waiting(conn.execute(select(
                waiting.c.record_id, waiting.c.kind, waiting.c.awaits, waiting.c.fields)
                .where(waiting.c.record_id.in_(chunk))))
        self.new_rows: dict[str, dict[str, dict[str, Any]]] = {}
        self.updates: dict[str, dict[str, dict[str, Any]]] = {}
        self.dirty_states: set[str] = set()
        self.conflicts: list[dict[str, Any]] = []
        self.known_conflicts: set[tuple[str, str, str, str]] | None = None
        self.resolved: set[tuple[str, str, str, str]] | None = None
        self.reindex: set[str] = set()

    def _read_states(self, ids: list[str]) -> None:
        states = table_of(RecordState)
        for chunk in _chunks(ids):
            for record_id, cl, max_hlc, clocks in self.conn.execute(select(
                    states.c.record_id, states.c.cl, states.c.max_hlc, states.c.clocks)
                    .where(states.c.record_id.in_(chunk))):
                self.states[record_id] = [cl, max_hlc]
                self.clocks[record_id] = {name: (c[0], c[1]) for name, c in clocks.items()}

    def _read_rows(self, kind: str, ids: list[str]) -> None:
        table = self.tables[kind]
        for chunk in _chunks(ids):
            for row in self.conn.execute(select(table).where(table.c.id.in_(chunk))).mappings():
                self.rows[row["id"]] = dict(row)

    def _take_waiting(self, found: Iterable[Any]) -> list[str]:
        """Adopt waiting records read from ``sync_waiting``; returns the new ones' ids."""
        taken = []
        for record_id, kind, awaits, fields in found:
            if record_id in self.held or kind not in self.tables:
                continue
            self.held[record_id] = {name: list(entry) for name, entry in fields.items()}
            self.held_kinds[record_id] = kind
            self.awaits[record_id] = awaits
            self.stored.add(record_id)
            taken.append(record_id)
        return taken

    def _read_dependants(self, ids: set[str]) -> list[str]:
        """The waiting records that wait for one of ``ids``, with their states and rows."""
        waiting = table_of(WaitingRecord)
        taken: list[str] = []
        for chunk in _chunks(sorted(ids - self.looked)):
            taken.extend(self._take_waiting(self.conn.execute(select(
                waiting.c.record_id, waiting.c.kind, waiting.c.awaits, waiting.c.fields)
                .where(waiting.c.awaits.in_(chunk)))))
        self.looked |= ids
        fresh = [record_id for record_id in taken if record_id not in self.states]
        self._read_states(fresh)
        by_kind: dict[str, list[str]] = {}
        for record_id in fresh:
            by_kind.setdefault(self.held_kinds[record_id], []).append(record_id)
        for kind, kind_ids in by_kind.items():
            self._read_rows(kind, kind_ids)
        return taken

    def _parent_exists(self, table: Table, record_id: str) -> bool:
        if record_id in self.new_rows.get(table.name, {}):
            return True
        known = self.parents.setdefault(table.name, set())
        if record_id in known:
            return True
        absent = self.absent.setdefault(table.name, set())
        if record_id in absent:
            return False
        # Read every id the batch refers to in this table at once.
        wanted = {value for change in self.received
                  for name, value in change.payload.get("fields", {}).items()
                  if isinstance(value, str) and self._refers_to(change.kind, name, table)}
        wanted.add(record_id)
        wanted -= known | absent
        for chunk in _chunks(sorted(wanted)):
            known.update(self.conn.execute(
                select(table.c.id).where(table.c.id.in_(chunk))).scalars())
        absent.update(wanted - known)
        return record_id in known

    def _refers_to(self, kind: str, name: str, parent: Table) -> bool:
        column = self.tables[kind].c.get(name)
        return column is not None and any(fk.column.table is parent
                                          for fk in column.foreign_keys)

    def _status(self, parents: tuple[Table, ...], record_id: str) -> str:
        """Whether the record a reference names is there, dead, or still to come."""
        for parent in parents:
            if not self._parent_exists(parent, record_id):
                break
        else:
            return _EXISTS
        if record_id in self.states:
            cl: int | None = self.states[record_id][0]
        elif record_id in self.other_cls:
            cl = self.other_cls[record_id]
        else:
            states = table_of(RecordState)
            cl = self.conn.execute(select(states.c.cl).where(
                states.c.record_id == record_id)).scalar()
            self.other_cls[record_id] = cl
        return _DEAD if cl is not None and cl % 2 == 0 else _UNKNOWN

    def _current(self, kind: str, record_id: str) -> dict[str, Any] | None:
        row = self.new_rows.get(kind, {}).get(record_id) or self.rows.get(record_id)
        if row is None:
            return None
        pending = self.updates.get(kind, {}).get(record_id)
        return {**row, **pending} if pending else row

    # --- deciding -------------------------------------------------------------------------

    def apply(self, change: Received) -> None:
        payload = change.payload
        origin: str = payload["origin"]
        remote = (change.hlc, origin)
        state = self.states.get(change.record_id)
        cl = max(int(payload.get("cl", ALIVE)), state[0] if state else 0)
        newest = max(change.hlc, state[1]) if state else change.hlc
        self.states[change.record_id] = [cl, newest]
        self.kinds[change.record_id] = change.kind
        self.dirty_states.add(change.record_id)
        self.result.applied += 1
        if payload.get("author"):
            self.authors[origin] = (payload["author"], change.signer)
        table = self.tables[change.kind]
        shape = _shape(table)
        if cl % 2 == 0:
            if self._current(change.kind, change.record_id) is not None:
                self._delete(change, cl)
            elif cl >= ERASED:
                self.flush()
                forget_values(self.conn, [change.record_id])
            return

        row = self._current(change.kind, change.record_id)
        base: dict[str, Any] = payload.get("base", {})
        winners: dict[str, Any] = {}
        for name, value in payload.get("fields", {}).items():
            if name not in shape.names or name == "id":
                continue
            mine = self.clocks.get(change.record_id, {}).get(name)
            if mine == remote:
                continue
            current = encode_value(row[name]) if row is not None else None
            # Two devices deciding one conflict write the same resolution record: whichever
            # decision wins, there is nothing further to review about it.
            concurrent = name not in META_FIELDS and row is not None and current != value \
                and change.kind != RESOLUTIONS
            if mine is None or remote > mine:
                winners[name] = value
                overwrote_unseen = mine is not None and list(mine) != base.get(name)
                if concurrent and overwrote_unseen and mine is not None:
                    self._conflict(change, name, kept=(value, *remote), lost=(current, *mine))
            elif concurrent:
                self._conflict(change, name, kept=(current, *mine), lost=(value, *remote))
        if not winners:
            return
        record_clocks = self.clocks.setdefault(change.record_id, {})
        for name in winners:
            record_clocks[name] = remote
        if row is None:
            blob = payload.get("blob")  # the file inline: changes of older versions
            if change.kind == "attachments" and blob is not None:
                self.result.blobs[change.record_id] = protocol.b64d(blob)
            elif change.kind == "attachments" and payload.get("content") is not None:
                self.result.contents.append((change, payload["content"]))
        if change.record_id in self.held:
            # Values that waited for this change (or that it supersedes) join it.
            self._hold(change.kind, change.record_id,
                       {name: [value, *remote] for name, value in winners.items()})
            self._settle_record(change.record_id)
            return
        values = {name: decode_value(value) for name, value in winners.items()}
        awaits, waiting = self._place(change.kind, change.record_id, values, row)
        if awaits is not None:
            self._hold(change.kind, change.record_id,
                       {name: [winners[name], *remote] for name in waiting or winners},
                       awaits=awaits)

    def _place(self, kind: str, record_id: str, values: dict[str, Any],
               row: dict[str, Any] | None) -> tuple[str | None, list[str]]:
        """Write ``values`` (decoded, their clocks won) of an alive record as far as they can
        be written now. Returns what they wait for (None: nothing) and which of them wait
        (empty: all of them, nothing was written)."""
        table = self.tables[kind]
        shape = _shape(table)
        if row is None:
            values["id"] = record_id
            if any(name not in values for name in shape.required):
                return record_id, []  # not whole: its create is still to come
        waiting: list[str] = []
        awaits: str | None = None
        for name, nullable, parents in shape.references:
            target = values.get(name)
            if target is None:
                continue
            status = self._status(parents, target)
            if status == _EXISTS:
                continue
            if status == _DEAD:
                if nullable:
                    values[name] = None  # as the cascade clears it where the row already was
                elif row is None:
                    self.states[record_id][0] += 1  # dies with its parent, on every device
                    self.kinds[record_id] = kind
                    self.dirty_states.add(record_id)
                    return None, []
                else:
                    del values[name]
            elif row is None and not nullable:
                return target, []  # written when its parent arrives
            else:  # the reference is written when the record it names arrives
                waiting.append(name)
                awaits = awaits or target
                if row is None:
                    values[name] = None
                else:
                    del values[name]
        if row is None:
            self.new_rows.setdefault(kind, {})[record_id] = {
                column.name: values[column.name] if column.name in values else _default(column)
                for column in table.columns}
            if kind == "clients":
                self.reindex.add(record_id)
        else:
            self._write(kind, record_id, values)
        return awaits, waiting

    def _write(self, kind: str, record_id: str, values: dict[str, Any]) -> None:
        if not values:
            return
        if record_id in self.new_rows.get(kind, {}):
            self.new_rows[kind][record_id].update(values)
        else:
            self.updates.setdefault(kind, {}).setdefault(record_id, {}).update(values)
        if kind == "clients":
            self.reindex.add(record_id)

    def _hold(self, kind: str, record_id: str, fields: dict[str, list[Any]], *,
              awaits: str | None = None) -> None:
        self.held.setdefault(record_id, {}).update(fields)
        self.held_kinds[record_id] = kind
        self.awaits[record_id] = awaits or self.awaits.get(record_id) or record_id
        self.held_dirty.add(record_id)

    def _release(self, record_id: str) -> None:
        if self.held.pop(record_id, None) is not None:
            self.held_dirty.add(record_id)

    def _settle_record(self, record_id: str) -> bool:
        """Write what of a waiting record can be written now; True if it got a row or died
        (records waiting for it may move then)."""
        kind = self.held_kinds[record_id]
        state = self.states.get(record_id)
        row = self._current(kind, record_id)
        if state is None or state[0] % 2 == 0:
            self._release(record_id)
            return row is None
        clocks = self.clocks.get(record_id, {})
        valid = {name: entry for name, entry in self.held[record_id].items()
                 if clocks.get(name) == (entry[1], entry[2])}
        values = {name: decode_value(entry[0]) for name, entry in valid.items()}
        awaits, waiting = self._place(kind, record_id, values, row)
        if awaits is None:
            self._release(record_id)
        else:
            self.held[record_id] = {name: valid[name] for name in waiting or valid}
            self.awaits[record_id] = awaits
            self.held_dirty.add(record_id)
        return row is None and (awaits is None or bool(waiting))

    def _settle(self) -> None:
        """Write the waiting records that can be written now: this batch's, and those waiting
        for a record that got a row or died here, parents first, until nothing moves."""
        moved = set(self.ids) | self.removed
        self.removed = set()
        todo = set(self.held)
        while True:
            todo.update(self._read_dependants(moved))
            moved = set()
            for record_id in sorted(todo, key=lambda r: (self.order[self.held_kinds[r]], r)):
                if record_id in self.held and self._settle_record(record_id):
                    moved.add(record_id)
            todo = {record_id for record_id in self.held if record_id not in moved}
            if not moved - self.looked:
                return

    def _conflict(self, change: Received, name: str, *, kept: tuple[Any, str, str],
                  lost: tuple[Any, str, str]) -> None:
        if self.known_conflicts is None:
            table = table_of(Conflict)
            self.known_conflicts = set()
            for chunk in _chunks(self.ids):
                self.known_conflicts.update(
                    (r, f, h, o) for r, f, h, o in self.conn.execute(select(
                        table.c.record_id, table.c.field, table.c.lost_hlc, table.c.lost_origin)
                        .where(table.c.record_id.in_(chunk))))
        key = (change.record_id, name, lost[1], lost[2])
        if key in self.known_conflicts or key in self._resolved():
            return
        self.known_conflicts.add(key)
        self.conflicts.append({
            "kind": change.kind, "record_id": change.record_id, "field": name,
            "kept_value": {"v": kept[0]}, "kept_hlc": kept[1], "kept_origin": kept[2],
            "lost_value": {"v": lost[0]}, "lost_hlc": lost[1], "lost_origin": lost[2],
            "resolved_by": "", "resolution": ""})
        self.result.conflicts += 1

    def _resolved(self) -> set[tuple[str, str, str, str]]:
        """The conflicts of this batch's records the team has decided: (record id, field,
        lost HLC, lost origin), from the vault and from resolutions earlier in this batch."""
        if self.resolved is None:
            table = self.tables[RESOLUTIONS]
            self.resolved = set()
            for chunk in _chunks(self.ids):
                self.resolved.update(
                    (r, f, h, o) for r, f, h, o in self.conn.execute(select(
                        table.c.record_id, table.c.field, table.c.lost_hlc, table.c.lost_origin)
                        .where(table.c.record_id.in_(chunk))))
        for row in self.new_rows.get(RESOLUTIONS, {}).values():
            self.resolved.add(_resolution_key(row))
        return self.resolved

    def _close_resolved(self, resolutions: list[dict[str, Any]]) -> None:
        """Conflicts the team decided on another device are closed here too, as decided there
        (the losing value stays readable in ``sync_conflicts``: no silent loss)."""
        table = table_of(Conflict)
        for row in resolutions:
            record_id, name, lost_hlc, lost_origin = _resolution_key(row)
            self.conn.execute(update(table).where(
                table.c.record_id == record_id, table.c.field == name,
                table.c.lost_hlc == lost_hlc, table.c.lost_origin == lost_origin,
                table.c.resolved_at.is_(None)).values(
                resolved_at=row["created_at"], resolved_by=row["created_by"],
                resolution=row["resolution"]))

    def _delete(self, change: Received, cl: int) -> None:
        self.flush()
        table = self.tables[change.kind]
        if cl >= ERASED and change.kind == "clients":
            from kimdesk.casework.retention import purge_client

            self.result.removed_attachments.extend(purge_client(self.session, change.record_id))
        else:
            _remove_rows(self.conn, table, [change.record_id], self.result, self.removed)
        if cl >= ERASED:
            forget_values(self.conn, [change.record_id])
        self.reindex.discard(change.record_id)
        self._load()  # the cascade changed rows and states of this batch's records

    # --- writing --------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what was decided so far (parents before children)."""
        conn = self.conn
        self._settle()
        if self.dirty_states:
            states = table_of(RecordState)
            stmt = sqlite_insert(states)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["record_id"],
                set_={"cl": stmt.excluded.cl, "max_hlc": stmt.excluded.max_hlc,
                      "clocks": stmt.excluded.clocks}),
                [{"record_id": rid, "kind": self.kinds[rid], "cl": self.states[rid][0],
                  "max_hlc": self.states[rid][1],
                  "clocks": {n: list(c) for n, c in self.clocks.get(rid, {}).items()}}
                 for rid in sorted(self.dirty_states)])
        self._fresh_clients = set(self.new_rows.get("clients", {}))
        resolutions = list(self.new_rows.get(RESOLUTIONS, {}).values())
        for name, table in self.tables.items():
            rows = self.new_rows.get(name)
            if rows:
                conn.execute(table.insert(), list(rows.values()))
                self.rows.update(rows)
                self.parents.setdefault(name, set()).update(rows)
                self.absent.get(name, set()).difference_update(rows)
        for name, table in self.tables.items():
            for record_id, values in self.updates.get(name, {}).items():
                conn.execute(update(table).where(table.c.id == record_id)
                             .values({**_unstamped(table), **values}))
                self.rows.setdefault(record_id, {}).update(values)
                if name == RESOLUTIONS:
                    resolutions.append(self.rows[record_id])
        if self.conflicts:
            conn.execute(table_of(Conflict).insert(), self.conflicts)
        if self.held_dirty:
            self._write_waiting(conn)
        if resolutions:
            self._close_resolved([r for r in resolutions if _complete_resolution(r)])
        if self.authors:
            stmt = sqlite_insert(table_of(DeviceAuthor))
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["origin"],
                set_={"user_name": stmt.excluded.user_name,
                      "device_id": func.coalesce(table_of(DeviceAuthor).c.device_id,
                                                 stmt.excluded.device_id)}),
                [{"origin": o, "user_name": n, "device_id": d}
                 for o, (n, d) in sorted(self.authors.items())])
            self.authors = {}
        if self.reindex:
            self._reindex(conn)
        self.new_rows, self.updates, self.conflicts = {}, {}, []
        self.dirty_states, self.reindex = set(), set()

    def _write_waiting(self, conn: Connection) -> None:
        waiting = table_of(WaitingRecord)
        keep = sorted(r for r in self.held_dirty if self.held.get(r))
        gone = sorted(r for r in self.held_dirty if not self.held.get(r) and r in self.stored)
        for chunk in _chunks(gone):
            conn.execute(delete(waiting).where(waiting.c.record_id.in_(chunk)))
        if keep:
            stmt = sqlite_insert(waiting)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["record_id"],
                set_={"awaits": stmt.excluded.awaits, "fields": stmt.excluded.fields}),
                [{"record_id": r, "kind": self.held_kinds[r], "awaits": self.awaits[r],
                  "fields": self.held[r]} for r in keep])
        for record_id in gone:
            self.held.pop(record_id, None)
        self.stored.difference_update(gone)
        self.stored.update(keep)
        self.held_dirty = set()

    def _reindex(self, conn: Connection) -> None:
        """The search index of the clients this batch wrote, from their rows (no ORM load)."""
        table = self.tables["clients"]
        fresh = self._fresh_clients
        for new in (True, False):
            ids = sorted(i for i in self.reindex if (i in fresh) == new)
            clients = []
            for chunk in _chunks(ids):
                for row in conn.execute(select(table).where(table.c.id.in_(chunk))).mappings():
                    clients.append(Client(**row))
            search.reindex_many(self.session, clients, new=new)


RESOLUTIONS = table_of(ConflictResolution).name


def _resolution_key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return (row.get("record_id") or "", row.get("field") or "", row.get("lost_hlc") or "",
            row.get("lost_origin") or "")


def _complete_resolution(row: dict[str, Any]) -> bool:
    """A decision that names a conflict and says when (a malformed one closes nothing)."""
    return all(isinstance(row.get(name), str) and row[name] for name in (
        "record_id", "field", "lost_hlc", "lost_origin", "resolution")) and isinstance(
        row.get("created_at"), datetime) and isinstance(row.get("created_by"), str)


def _default(column: Any) -> Any:
    """A column's Python-side default for a row created from a partial change."""
    default = column.default
    if default is None or column.primary_key:
        return None
    if default.is_callable:
        return default.arg(None)
    return default.arg


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def apply_batch(vault: Vault, received: list[Received], *,
                within: Callable[[Session, int], None] | None = None) -> ApplyResult:
    """Apply received changes in one transaction; ``within(session, index)`` runs after each
    change inside it (the client moves its cursor there, so both commit together).

    Document files arrive with their record: written before the commit (a crash leaves at
    most an orphan file for ``sweep_orphan_files``), removed only after it."""
    result = ApplyResult()
    with vault.writing() as session:
        session.info[APPLYING] = True
        if received:
            tick(session.connection(), seen=max(change.hlc for change in received))
        merger = _Merger(session, received, result)
        for index, change in enumerate(received):
            if change.kind in merger.tables:
                merger.apply(change)
            if within is not None:
                within(session, index)
        merger.flush()
        if result.contents:  # fetched after the commit, from the blob store (sync.blobs)
            blobs.note_downloads(session, result.contents)
        for attachment_id, content in result.blobs.items():
            vault.attachments.put(attachment_id, content)
    for attachment_id in result.removed_attachments:
        vault.attachments.delete(attachment_id)
    return result


def outgoing_payload(vault: Vault, change: OutboxChange, *,
                     content: dict[str, Any] | None = None,
                     inline: bool = True) -> dict[str, Any]:
    """What is encrypted and sent for an outbox change. A new document carries a reference to
    its content (``content``, uploaded as a blob by ``sync.blobs``); with ``inline`` and no
    reference it carries the file itself (the form of older versions, still read)."""
    payload = dict(change.payload)
    if content is not None:
        payload["content"] = content
    elif inline and change.kind == "attachments" and "filename" in payload.get("fields", {}) \
            and vault.attachments.exists(change.record_id):
        payload["blob"] = protocol.b64e(vault.attachments.get(change.record_id))
    return payload


# --- bookkeeping ----------------------------------------------------------------------------


def seed_change_log(session: Session) -> int:
    """Enter every record that has no change yet into the outbox (a vault from before sync,
    or records written while sync was off). Returns how many records were entered."""
    conn = session.connection()
    states = table_of(RecordState)
    known = set(conn.execute(select(states.c.record_id)).scalars())
    changes = []
    for name, table in synced_tables().items():
        for row in conn.execute(select(table)).mappings():
            if row["id"] not in known:
                fields = {column: encode_value(row[column]) for column in record_fields(table)}
                changes.append(LocalChange(name, row["id"], fields))
    append_changes(session, changes)
    return len(changes)


def local_checksum(session: Session, quarantined: Iterable[tuple[str, str]] = ()) -> str:
    """The team checksum of this vault; ``quarantined`` (record id, HLC) pairs count as held
    (the server's log has them, and this device kept them aside on purpose)."""
    states = table_of(RecordState)
    pairs: dict[str, str] = {
        record_id: hlc for record_id, hlc in
        session.connection().execute(select(states.c.record_id, states.c.max_hlc))}
    for record_id, hlc in quarantined:
        if record_id not in pairs or hlc > pairs[record_id]:
            pairs[record_id] = hlc
    return protocol.team_checksum(pairs.items())


def consistency_problems(session: Session) -> list[str]:
    """Local damage the checksum cannot see: alive records missing from their tables.

    A record that waits for a parent is none: if the log holds the parent and this device
    missed it, the checksum differs (the parent's record is missing from it) and a repair
    pulls it; if the server withholds it, a repair cannot bring it. A record that waits for
    its own create is: the checksum cannot see the missing create (a later change of the
    record carries its newest clock), and a repair pulls the log again."""
    conn = session.connection()
    states = table_of(RecordState)
    waiting = table_of(WaitingRecord)
    problems = []
    for name, table in synced_tables().items():
        alive = conn.execute(select(func.count()).select_from(states).where(
            states.c.kind == name, states.c.cl % 2 == 1)).scalar_one()
        rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if rows < alive:
            rows += conn.execute(select(func.count()).select_from(waiting).where(
                waiting.c.kind == name, waiting.c.awaits != waiting.c.record_id,
                waiting.c.record_id.not_in(select(table.c.id)))).scalar_one()
        if rows < alive:
            problems.append(name)
    return problems


def forget_merge_state(session: Session) -> None:
    """Before a full resync: the clocks and the values waiting for a change they depend on
    are rebuilt from the server's log; the outbox stays."""
    conn = session.connection()
    conn.execute(delete(table_of(RecordState)))
    conn.execute(delete(table_of(WaitingRecord)))


class Outgoing(NamedTuple):
    """An outbox change as it is sent: its payload is the JSON text stored in the vault."""

    seq: int
    change_id: str
    kind: str
    record_id: str
    hlc: str
    payload_json: str


def outgoing(session: Session, after: int, limit: int) -> list[Outgoing]:
    """The next ``limit`` outbox changes after outbox seq ``after``, without loading them as
    entities or decoding their payloads (a first push sends tens of thousands)."""
    outbox = table_of(OutboxChange)
    rows = session.connection().execute(
        select(outbox.c.seq, outbox.c.change_id, outbox.c.kind, outbox.c.record_id,
               outbox.c.hlc, type_coerce(outbox.c.payload, Text))
        .where(outbox.c.seq > after).order_by(outbox.c.seq).limit(limit))
    return [Outgoing(*row) for row in rows]


def pending(session: Session, limit: int, exclude: Collection[str] = ()) -> list[OutboxChange]:
    """The oldest outbox changes, without the change ids in ``exclude`` (held back)."""
    query = select(OutboxChange)
    if exclude:
        query = query.where(OutboxChange.change_id.not_in(list(exclude)))
    return list(session.scalars(query.order_by(OutboxChange.seq).limit(limit)))


def acknowledge(session: Session, change_ids: Iterable[str]) -> None:
    session.execute(delete(OutboxChange).where(OutboxChange.change_id.in_(list(change_ids))))
