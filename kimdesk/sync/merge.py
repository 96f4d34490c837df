"""Applying received changes: last-writer-wins per field, causal length per record, conflicts.

Every device applies the same rules to the same set of changes and so ends in the same state,
whatever order the changes arrived in:

- a field takes the value of the write with the greatest ``(hlc, origin)``;
- a record's causal length is the maximum seen (odd alive, even deleted; an erasure under
  retention rules is the largest even number and always wins); a dead record's row is removed
  with everything that depends on it, and a row whose parent is dead is not created;
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


def _remove_rows(conn: Connection, table: Table, ids: list[str], result: ApplyResult) -> None:
    """Delete rows and what depends on them: nullable references are cleared, others removed."""
    if not ids:
        return
    for child, column in _references(table):
        if column.nullable:
            conn.execute(update(child).where(column.in_(ids))
                         .values({column.name: None, **_unstamped(child)}))
        else:
            child_ids = list(conn.execute(select(child.c.id).where(column.in_(ids))).scalars())
            _remove_rows(conn, child, child_ids, result)
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


class _Merger:
    """Applies a batch of received changes with a handful of statements, not dozens per change.

    States, field clocks and rows of the batch's records are read once; the merge is decided in
    memory, change by change, in arrival order; the outcome is written at the end (new rows per
    table in one statement, parents first). A delete is rare: it writes what is pending, removes
    rows through the database (cascade, purge) and then reads afresh.
    """

    def __init__(self, session: Session, received: list[Received], result: ApplyResult) -> None:
        self.session = session
        self.conn = session.connection()
        self.result = result
        self.tables = synced_tables()
        self.received = [c for c in received if c.kind in self.tables]
        self.ids = sorted({c.record_id for c in self.received})
        self.kinds: dict[str, str] = {}
        self.authors: dict[str, tuple[str, str | None]] = {}
        self._load()

    # --- reading --------------------------------------------------------------------------

    def _load(self) -> None:
        conn, ids = self.conn, self.ids
        states = table_of(RecordState)
        self.states: dict[str, list[Any]] = {}
        self.clocks: dict[str, dict[str, tuple[str, str]]] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.parents: dict[str, set[str]] = {}
        for chunk in _chunks(ids):
            for record_id, cl, max_hlc, clocks in conn.execute(select(
                    states.c.record_id, states.c.cl, states.c.max_hlc, states.c.clocks)
                    .where(states.c.record_id.in_(chunk))):
                self.states[record_id] = [cl, max_hlc]
                self.clocks[record_id] = {name: (c[0], c[1]) for name, c in clocks.items()}
        for kind in {c.kind for c in self.received}:
            table = self.tables[kind]
            kind_ids = sorted({c.record_id for c in self.received if c.kind == kind})
            for chunk in _chunks(kind_ids):
                for row in conn.execute(select(table).where(table.c.id.in_(chunk))).mappings():
                    self.rows[row["id"]] = dict(row)
        self.new_rows: dict[str, dict[str, dict[str, Any]]] = {}
        self.updates: dict[str, dict[str, dict[str, Any]]] = {}
        self.dirty_states: set[str] = set()
        self.conflicts: list[dict[str, Any]] = []
        self.known_conflicts: set[tuple[str, str, str, str]] | None = None
        self.resolved: set[tuple[str, str, str, str]] | None = None
        self.reindex: set[str] = set()

    def _parent_exists(self, table: Table, record_id: str) -> bool:
        if record_id in self.new_rows.get(table.name, {}):
            return True
        known = self.parents.setdefault(table.name, set())
        if record_id in known:
            return True
        # Read every id the batch refers to in this table at once.
        wanted = {value for change in self.received
                  for name, value in change.payload.get("fields", {}).items()
                  if isinstance(value, str) and self._refers_to(change.kind, name, table)}
        wanted.add(record_id)
        for chunk in _chunks(sorted(wanted - known)):
            known.update(self.conn.execute(
                select(table.c.id).where(table.c.id.in_(chunk))).scalars())
        return record_id in known

    def _refers_to(self, kind: str, name: str, parent: Table) -> bool:
        column = self.tables[kind].c.get(name)
        return column is not None and any(fk.column.table is parent
                                          for fk in column.foreign_keys)

    def _parents_alive(self, table: Table, values: dict[str, Any]) -> bool:
        for name, _nullable, parents in _shape(table).references:
            value = values.get(name)
            if value is None:
                continue
            for parent in parents:
                if not self._parent_exists(parent, value):
                    return False
        return True

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
        values = {name: decode_value(value) for name, value in winners.items()}
        if row is None:
            values["id"] = change.record_id
            if any(name not in values for name in shape.required):
                return  # not a whole record: the change that creates it is still to come
            for name, nullable, _parents in shape.references:
                # A reference to a dead record is cleared, as the cascade clears it where the
                # row already was; without the referenced record the row cannot be.
                target = values.get(name)
                if nullable and target is not None and \
                        not self._parents_alive(table, {name: target}):
                    values[name] = None
            if not self._parents_alive(table, values):
                self.states[change.record_id][0] = cl + 1  # dies with its parent, everywhere
                return
            self.new_rows.setdefault(change.kind, {})[change.record_id] = {
                column.name: values[column.name] if column.name in values else _default(column)
                for column in table.columns}
            blob = payload.get("blob")  # the file inline: changes of older versions
            if change.kind == "attachments" and blob is not None:
                self.result.blobs[change.record_id] = protocol.b64d(blob)
            elif change.kind == "attachments" and payload.get("content") is not None:
                self.result.contents.append((change, payload["content"]))
        else:
            for name, nullable, _parents in shape.references:
                target = values.get(name)
                if target is not None and not self._parents_alive(table, {name: target}):
                    values[name] = None if nullable else row[name]
            if change.record_id in self.new_rows.get(change.kind, {}):
                self.new_rows[change.kind][change.record_id].update(values)
            else:
                self.updates.setdefault(change.kind, {}).setdefault(
                    change.record_id, {}).update(values)
        if change.kind == "clients":
            self.reindex.add(change.record_id)

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
            _remove_rows(self.conn, table, [change.record_id], self.result)
        if cl >= ERASED:
            forget_values(self.conn, [change.record_id])
        self.reindex.discard(change.record_id)
        self._load()  # the cascade changed rows and states of this batch's records

    # --- writing --------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what was decided so far (parents before children)."""
        conn = self.conn
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
        for name, table in self.tables.items():
            for record_id, values in self.updates.get(name, {}).items():
                conn.execute(update(table).where(table.c.id == record_id)
                             .values({**_unstamped(table), **values}))
                self.rows.setdefault(record_id, {}).update(values)
                if name == RESOLUTIONS:
                    resolutions.append(self.rows[record_id])
        if self.conflicts:
            conn.execute(table_of(Conflict).insert(), self.conflicts)
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
    """Local damage the checksum cannot see: alive records missing from their tables."""
    conn = session.connection()
    states = table_of(RecordState)
    problems = []
    for name, table in synced_tables().items():
        alive = conn.execute(select(func.count()).select_from(states).where(
            states.c.kind == name, states.c.cl % 2 == 1)).scalar_one()
        rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if rows < alive:
            problems.append(name)
    return problems


def forget_merge_state(session: Session) -> None:
    """Before a full resync: the clocks are rebuilt from the server's log; the outbox stays."""
    conn = session.connection()
    conn.execute(delete(table_of(RecordState)))


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
