"""The change log: every write to a synced entity appends field-level changes to the outbox.

A SQLAlchemy ``after_flush`` listener records, in the same transaction as the domain write, one
outbox row per written record: the new values of the fields that changed, the clock each field
had before (its *base*, so a receiver can tell a fast-forward from a concurrent edit), the
record's causal length (odd alive, even deleted; cr-sqlite) and a hybrid logical clock (HLC)
timestamp. Per record, ``sync_records`` keeps the causal length, the newest HLC and, per field,
the clock of the write whose value the vault holds; last-writer-wins compares ``(hlc, origin)``,
so every device decides the same way whatever order changes arrive in.

Nothing here knows about keys or the network: ``kimdesk.sync`` encrypts and sends the outbox
and applies what it receives with ``session.info[APPLYING] = True`` (which this listener skips).
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import JSON, Index, Integer, String, Table, event, inspect, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column

from kimdesk.models.base import Base, Entity, table_of, utcnow

# Set on a session while it applies received changes: those are not new local changes.
APPLYING = "kimdesk_sync_applying"
# Set on a session to keep its writes out of the outbox (device-local bookkeeping only).
LOCAL_ONLY = "kimdesk_sync_local_only"

# Tables whose records a team shares. Everything else (audit trail, vault profile, deletion
# proposals, sync bookkeeping) stays on the device.
SYNCED_TABLES: tuple[str, ...] = (
    "households", "clients", "relations", "residence_records", "checklist_items",
    "institutions", "cases", "case_participants", "case_topics", "case_kind_changes",
    "phase_changes", "contacts", "assessments", "goals", "steps", "consents", "referrals",
    "deadlines", "attachments", "generative_themes", "case_reconstructions", "case_reviews",
    "findings", "project_groups", "steering_members", "steering_meetings",
    "steering_decisions", "municipal_agreements", "structural_activities", "appointments",
    "case_handovers", "conflict_resolutions",
)
# Bookkeeping fields: merged last-writer-wins like the rest, but never reported as a conflict.
META_FIELDS = frozenset({"created_at", "created_by", "updated_at", "updated_by"})
ALIVE = 1
# Causal length of an erasure under retention rules: even (deleted) and higher than any
# ordinary delete/undelete count, so it always wins and purges.
ERASED = 1_000_000


class OutboxChange(Base):
    """A local change not yet acknowledged by the county server."""

    __tablename__ = "sync_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(32))
    hlc: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class RecordState(Base):
    """Per record: its causal length, the newest HLC seen for it (the team checksum) and the
    field clocks ``{field: [hlc, origin]}`` (one row per record keeps merging fast)."""

    __tablename__ = "sync_records"
    # Every sync's checksum and consistency check read these columns of every record; the
    # rows are mostly the clocks (migration 0019).
    __table_args__ = (Index("ix_sync_records_verify", "kind", "cl", "record_id", "max_hlc"),)

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    cl: Mapped[int] = mapped_column(Integer, default=ALIVE)
    max_hlc: Mapped[str] = mapped_column(String(24))
    clocks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WaitingRecord(Base):
    """Received values the merge holds back until what they depend on has arrived.

    A server may serve its log out of causal order (a hostile one on purpose): an edit before
    the create, a case before its client. The merge keeps the values whose clocks won but that
    cannot be written yet, per field with that clock (``{field: [value, hlc, origin]}``), and
    writes them once the record is whole and the record named by ``awaits`` (its parent, or
    the record itself while it is incomplete) has arrived. Device-local; an erasure removes it.
    """

    __tablename__ = "sync_waiting"

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    awaits: Mapped[str] = mapped_column(String(32), index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FieldClock(NamedTuple):
    """The clock of the write whose value a field holds."""

    hlc: str
    origin: str


def field_clock(session: Session, record_id: str, name: str) -> FieldClock | None:
    """The clock of a field's current value; None if it never went through the change log."""
    state = session.get(RecordState, record_id)
    clock = state.clocks.get(name) if state is not None else None
    return FieldClock(clock[0], clock[1]) if clock else None


class DeviceAuthor(Base):
    """Whose device an origin id is (from the changes received), so a conflict can say who
    wrote the value that lost. ``device_id`` is the server id of the device whose verified
    signature first carried this origin (in the team log's order): from then on only that
    device may write under the origin (``kimdesk.sync.client``), and ``user_name`` is the name
    that device enrolled with, not what a payload claims."""

    __tablename__ = "sync_authors"

    origin: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(120))
    device_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ClockState(Base):
    """The last HLC this device issued or saw (one row), so clocks never run backwards."""

    __tablename__ = "sync_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hlc: Mapped[str] = mapped_column(String(24))


class Conflict(Base):
    """Two concurrent writes of one field: the value that won and the one it overwrote.

    Kept until a person reviewed it; the losing value stays readable here (no silent loss).
    """

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    field: Mapped[str] = mapped_column(String(60))
    kept_value: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"v": value}
    kept_hlc: Mapped[str] = mapped_column(String(24))
    kept_origin: Mapped[str] = mapped_column(String(32))
    lost_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    lost_hlc: Mapped[str] = mapped_column(String(24))
    lost_origin: Mapped[str] = mapped_column(String(32))
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str] = mapped_column(String(120), default="")
    resolution: Mapped[str] = mapped_column(String(20), default="")  # "kept", "restored"


class ConflictResolution(Entity):
    """A person's decision on a concurrent edit, shared with the team: resolved once, resolved
    everywhere (a synced record like any other, so it is encrypted, signed and merged).

    It names the conflict by what every device that detects it agrees on: the record, the
    field and the clock of the write that lost (``lost_hlc``, ``lost_origin``). Which value
    was kept is not part of it: with three or more concurrent writes the winner a device sees
    at the moment it detects the conflict depends on the order changes arrived in, the write
    that lost does not. The id is derived from the same four values (:func:`resolution_id`),
    so two devices resolving the same conflict write the same record. ``created_by`` and
    ``created_at`` say who decided and when."""

    __tablename__ = "conflict_resolutions"

    kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    field: Mapped[str] = mapped_column(String(60))
    lost_hlc: Mapped[str] = mapped_column(String(24))
    lost_origin: Mapped[str] = mapped_column(String(32))
    resolution: Mapped[str] = mapped_column(String(20))  # "kept", "restored"


def resolution_id(record_id: str, field: str, lost_hlc: str, lost_origin: str) -> str:
    """The id of the resolution of a conflict: the same on every device (32 hex digits)."""
    text = "\x1f".join(("kimdesk conflict v1", record_id, field, lost_hlc, lost_origin))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- hybrid logical clock ---------------------------------------------------------------------


def format_hlc(wall_ms: int, counter: int) -> str:
    """Fixed width, so string order is clock order."""
    return f"{wall_ms:013d}.{counter:05d}"


def parse_hlc(value: str) -> tuple[int, int]:
    wall, _, counter = value.partition(".")
    return int(wall), int(counter)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def tick(conn: Connection, *, seen: str | None = None, count: int = 1) -> list[str]:
    """The next ``count`` HLCs of this device, after every HLC it issued and after ``seen``
    (a received one); the last of them is stored, so clocks never run backwards."""
    table = table_of(ClockState)
    last = conn.execute(select(table.c.last_hlc).where(table.c.id == 1)).scalar()
    candidates = [parse_hlc(last)] if last else []
    if seen:
        candidates.append(parse_hlc(seen))
    wall = _now_ms()
    newest = max(candidates, default=(0, 0))
    start = (wall, 0) if wall > newest[0] else (newest[0], newest[1] + 1)
    values = [format_hlc(start[0], start[1] + offset) for offset in range(count)]
    if values:
        conn.execute(
            sqlite_insert(table).values(id=1, last_hlc=values[-1])
            .on_conflict_do_update(index_elements=["id"], set_={"last_hlc": values[-1]}))
    return values


# --- values -----------------------------------------------------------------------------------


_PLAIN = frozenset({str, int, float, bool, type(None)})


def encode_value(value: Any) -> Any:
    """A column value as JSON (dates, datetimes and bytes tagged, so they come back typed)."""
    if type(value) in _PLAIN:  # most values; the checks below cost per field of every change
        return value
    if isinstance(value, datetime):
        return {"$dt": value.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag == "$dt":
            return datetime.fromisoformat(raw)
        if tag == "$d":
            return date.fromisoformat(raw)
        if tag == "$b":
            return base64.b64decode(raw)
    return value


@cache
def synced_tables() -> dict[str, Any]:
    """Table name → Table of every synced entity, parents before children (computed once;
    the schema does not change while the program runs — read it, don't modify it)."""
    return {t.name: t for t in Base.metadata.sorted_tables if t.name in SYNCED_TABLES}


def record_fields(table: Any) -> list[str]:
    return [column.name for column in table.columns if column.name != "id"]


# --- capture ----------------------------------------------------------------------------------


def _origin(conn: Connection) -> tuple[str, str]:
    """This vault's device id and its user, the origin and author of its changes."""
    row = conn.exec_driver_sql("SELECT device_id, user_name FROM vault_profile LIMIT 1").first()
    return (row[0], row[1]) if row else ("0" * 32, "")


@dataclass(frozen=True)
class LocalChange:
    """A write of this device to one record: encoded new values, or a delete/erasure."""

    kind: str
    record_id: str
    fields: dict[str, Any]
    deleted: bool = False
    cl: int | None = None  # set outright: an erasure


_ORIGIN = "kimdesk_sync_origin"
_LAST_HLC = "kimdesk_sync_last_hlc"


def _next_hlcs(session: Session, conn: Connection, count: int) -> list[str]:
    """HLCs for a flush: the transaction keeps its high-water mark in memory and stores it
    once, before it commits (a flush is frequent; a statement costs under SQLCipher)."""
    last = session.info.get(_LAST_HLC)
    if last is None:
        table = table_of(ClockState)
        last = conn.execute(select(table.c.last_hlc).where(table.c.id == 1)).scalar() or ""
    newest = parse_hlc(last) if last else (0, 0)
    wall = _now_ms()
    start = (wall, 0) if wall > newest[0] else (newest[0], newest[1] + 1)
    values = [format_hlc(start[0], start[1] + offset) for offset in range(count)]
    session.info[_LAST_HLC] = values[-1]
    return values


@event.listens_for(Session, "before_commit")
def _store_clock(session: Session) -> None:
    last = session.info.pop(_LAST_HLC, None)
    session.info.pop(_ORIGIN, None)
    if last is not None:
        table = table_of(ClockState)
        session.connection().execute(
            sqlite_insert(table).values(id=1, last_hlc=last)
            .on_conflict_do_update(index_elements=["id"], set_={"last_hlc": last}))


def append_changes(session: Session, changes: list[LocalChange]) -> None:
    """Enter local changes into the outbox and the record states, in the session's
    transaction, with three statements however many there are (a demo or an import writes
    many)."""
    if not changes:
        return
    conn = session.connection()
    if _ORIGIN not in session.info:
        session.info[_ORIGIN] = _origin(conn)
    device, author = session.info[_ORIGIN]
    hlcs = _next_hlcs(session, conn, len(changes))
    states_table = table_of(RecordState)
    ids = sorted({change.record_id for change in changes})
    states: dict[str, tuple[int, dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):
        for record_id, cl, clocks in conn.execute(
                select(states_table.c.record_id, states_table.c.cl, states_table.c.clocks)
                .where(states_table.c.record_id.in_(ids[start:start + 500]))):
            states[record_id] = (cl, dict(clocks))
    outbox: list[dict[str, Any]] = []
    written: dict[str, dict[str, Any]] = {}
    for change, hlc in zip(changes, hlcs, strict=True):
        cl, clocks = states.get(change.record_id, (ALIVE, {}))
        if change.cl is not None:
            cl = change.cl
        elif change.deleted and cl % 2:
            cl += 1
        base = {name: clocks.get(name) for name in change.fields}
        clocks = {**clocks, **{name: [hlc, device] for name in change.fields}}
        states[change.record_id] = (cl, clocks)
        written[change.record_id] = {"record_id": change.record_id, "kind": change.kind,
                                     "cl": cl, "max_hlc": hlc, "clocks": clocks}
        outbox.append({"change_id": uuid.uuid4().hex, "kind": change.kind,
                       "record_id": change.record_id, "hlc": hlc,
                       "payload": {"origin": device, "author": author, "cl": cl,
                                   "fields": change.fields, "base": base}})
    stmt = sqlite_insert(states_table)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["record_id"], set_={"cl": stmt.excluded.cl,
                                            "max_hlc": stmt.excluded.max_hlc,
                                            "clocks": stmt.excluded.clocks}),
        list(written.values()))
    conn.execute(table_of(OutboxChange).insert(), outbox)


def record_inserts(session: Session, inserted: list[tuple[Table, list[dict[str, Any]]]]) -> None:
    """The change-log entries of new records written with Core ``INSERT`` statements (bulk
    statements bypass the flush listener): per record every field but its id, as the listener
    enters a new record, in one :func:`append_changes` for all the tables. Each row must hold
    every column (defaults included)."""
    if session.info.get(APPLYING) or session.info.get(LOCAL_ONLY):
        return
    changes: list[LocalChange] = []
    for table, rows in inserted:
        if table.name not in SYNCED_TABLES:
            continue
        names = record_fields(table)
        changes.extend(LocalChange(table.name, row["id"],
                                   {name: encode_value(row[name]) for name in names})
                       for row in rows)
    append_changes(session, changes)


_OWN_COLUMNS: dict[type, tuple[tuple[str, str], ...]] = {}


def _own_columns(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, column name) of the columns of a class's own table but its id (computed
    once per class: the mapping does not change while the program runs)."""
    columns = _OWN_COLUMNS.get(cls)
    if columns is None:
        table = getattr(cls, "__table__", None)
        mapper: Mapper[Any] = inspect(cls)
        pairs: list[tuple[str, str]] = []
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            if column.table is table and column.name != "id":
                pairs.append((attr.key, str(column.name)))
        columns = _OWN_COLUMNS[cls] = tuple(pairs)
    return columns


def _changed_fields(obj: Any, table: Any, *, new: bool) -> dict[str, Any]:
    state = inspect(obj)
    fields: dict[str, Any] = {}
    if new:
        # A new record: every field. After its INSERT the values (defaults included) are in
        # the instance's dict; one that is not (a server default) is loaded as before.
        values = state.dict
        for key, name in _own_columns(type(obj)):
            fields[name] = encode_value(values[key] if key in values else getattr(obj, key))
        return fields
    for key, name in _own_columns(type(obj)):
        if state.attrs[key].history.has_changes():
            fields[name] = encode_value(getattr(obj, key))
    if fields and not new:
        # The model sets updated_at itself (onupdate), so it has no history of its own.
        for name in ("updated_at", "updated_by"):
            if name in table.c and name not in fields:
                fields[name] = encode_value(getattr(obj, name))
    return fields


@event.listens_for(Session, "after_flush")
def _capture(session: Session, _flush_context: Any) -> None:
    if session.info.get(APPLYING) or session.info.get(LOCAL_ONLY):
        return
    work: list[tuple[Any, str]] = []
    for bucket, objects in (("new", session.new), ("dirty", session.dirty),
                            ("deleted", session.deleted)):
        for obj in objects:
            table = getattr(type(obj), "__table__", None)
            if table is not None and table.name in SYNCED_TABLES:
                work.append((obj, bucket))
    if not work:
        return
    changes = []
    for obj, bucket in work:
        table = type(obj).__table__
        fields = {} if bucket == "deleted" else _changed_fields(obj, table, new=bucket == "new")
        if fields or bucket == "deleted":
            changes.append(LocalChange(table.name, obj.id, fields, deleted=bucket == "deleted"))
    append_changes(session, changes)


def record_erasure(session: Session, kind: str, record_ids: list[str]) -> None:
    """Tombstones that always win: a purge under retention rules reaches every device.

    Call before the bulk delete of a purge (bulk statements bypass the flush listener)."""
    if session.info.get(APPLYING) or session.info.get(LOCAL_ONLY):
        return
    conn = session.connection()
    forget_values(conn, record_ids)
    append_changes(session, [LocalChange(kind, record_id, {}, cl=ERASED)
                             for record_id in record_ids])


def forget_values(conn: Connection, record_ids: list[str]) -> None:
    """An erased record's values leave the sync bookkeeping too: unsent changes, field clocks,
    conflicts and values held back by the merge (its id stays in the tombstone, which carries
    no data)."""
    if not record_ids:
        return
    for table in (table_of(OutboxChange), table_of(Conflict), table_of(WaitingRecord)):
        conn.execute(table.delete().where(table.c.record_id.in_(record_ids)))
