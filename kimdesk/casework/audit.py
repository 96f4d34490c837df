"""Append to and verify the hash-chained audit trail of client files.

Each entry's MAC covers its own fields and the previous entry's MAC under a key derived from the
vault key, so removing, altering or reordering an entry breaks the chain at that point. Entries
name fields and ids, never values: the trail must not become a second copy of the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from kimdesk.models import AuditEntry, utcnow
from kimdesk.models.base import table_of

GENESIS = "0" * 64

# What a person sees in the audit view of a client file.
ACTION_LABELS = {
    "read": "geöffnet",
    "create": "angelegt",
    "update": "geändert",
    "delete": "gelöscht",
    "purge": "endgültig gelöscht (Aufbewahrungsfrist)",
    "export": "exportiert",
    "import": "importiert",
    "conflict_kept": "Abgleichskonflikt geprüft: geltende Fassung behalten",
    "conflict_restored": "Abgleichskonflikt geprüft: andere Fassung übernommen",
    "erasure_refused": "Antrag auf Löschung abgelehnt (Art. 17 Abs. 3 DSGVO)",
    "erasure_postponed": "Antrag auf Löschung zurückgestellt (Art. 17 Abs. 3 DSGVO)",
    "consent_data_kept": "nach Widerruf auf anderer Rechtsgrundlage aufbewahrt",
    "consent_data_erased": "nach Widerruf gelöscht (Daten der Einwilligung)",
    "transfer_requested": "Übergabe an ein anderes Team angefragt",
    "transfer_kept": "Übergabe bestätigt, hier nach dem Versand geändert: nicht gelöscht",
}


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def _canonical_fields(seq: int, at: datetime, actor: str, action: str, client_id: str | None,
                      entity: str, entity_id: str, detail: dict[str, Any], prev: str) -> bytes:
    body = {
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "client_id": client_id,
        "entity": entity,
        "entity_id": entity_id,
        "detail": detail,
        "prev": prev,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _canonical(entry: AuditEntry, at: datetime) -> bytes:
    return _canonical_fields(entry.seq, at, entry.actor, entry.action, entry.client_id,
                             entry.entity, entry.entity_id, entry.detail, entry.prev_mac)


def _mac(key: bytes, entry: AuditEntry, at: datetime) -> str:
    return hmac.new(key, _canonical(entry, at), hashlib.sha256).hexdigest()


# --- the chain's end, kept per transaction ---------------------------------------------------
#
# Appending used to read the chain's end and flush one entry at a time: two statements and a
# unit of work per audited use case, 40 % of a demo. Now a write transaction reads the end once,
# keeps the entries it appends in a journal on its session and inserts them in one statement
# before it commits, or before anything in the same transaction reads or changes the trail
# (an ORM statement on AuditEntry, or the reading functions of this module). Seq, time, prev
# and MAC are computed when an entry is appended, exactly as before, so the chain is the same.
# A savepoint that rolls back takes its entries back out of the journal (and the database).

_JOURNAL = "kimdesk_audit_journal"


@dataclass
class _Journal:
    rows: list[dict[str, Any]] = field(default_factory=list)  # this transaction's, in order
    written: int = 0  # how many of ``rows`` are in the database
    head: tuple[int, str] | None = None  # seq and MAC of the chain's end; None: read it
    # savepoint (its id) → (len(rows), written, head) when it began
    marks: dict[int, tuple[int, int, tuple[int, str] | None]] = field(default_factory=dict)


def _journal(session: Session) -> _Journal:
    journal = session.info.get(_JOURNAL)
    if journal is None:
        journal = session.info[_JOURNAL] = _Journal()
    assert isinstance(journal, _Journal)
    return journal


def write_pending(session: Session) -> None:
    """Insert the entries appended in this transaction that are not in the database yet."""
    journal = session.info.get(_JOURNAL)
    if journal is None or journal.written == len(journal.rows):
        return
    rows = journal.rows[journal.written:]
    journal.written = len(journal.rows)
    session.connection().execute(table_of(AuditEntry).insert(), rows)


def _chain_end(session: Session, journal: _Journal) -> tuple[int, str]:
    if journal.head is None:
        write_pending(session)
        last = session.execute(
            select(AuditEntry.seq, AuditEntry.mac).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        journal.head = (last[0], last[1]) if last else (0, GENESIS)
    return journal.head


def _append_rows(session: Session, key: bytes, actor: str, entries: list[NewEntry]
                 ) -> list[dict[str, Any]]:
    journal = _journal(session)
    seq, prev = _chain_end(session, journal)
    rows: list[dict[str, Any]] = []
    at = utcnow()
    for new in entries:
        seq += 1
        detail = new.detail or {}
        body = _canonical_fields(seq, at, actor, new.action, new.client_id, new.entity,
                                 new.entity_id, detail, prev)
        mac = hmac.new(key, body, hashlib.sha256).hexdigest()
        rows.append({"seq": seq, "at": at, "actor": actor, "action": new.action,
                     "client_id": new.client_id, "entity": new.entity,
                     "entity_id": new.entity_id, "detail": detail, "prev_mac": prev,
                     "mac": mac})
        prev = mac
    journal.rows.extend(rows)
    journal.head = (seq, prev)
    return rows


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    journal = session.info.get(_JOURNAL)
    if journal is not None and transaction.nested:
        journal.marks[id(transaction)] = (len(journal.rows), journal.written, journal.head)


@event.listens_for(Session, "after_soft_rollback")
def _roll_back(session: Session, previous_transaction: SessionTransaction) -> None:
    journal = session.info.get(_JOURNAL)
    if journal is None:
        return
    # What the database rolled back to: a flush's failure rolls back its enclosing savepoint
    # or the whole transaction (and that savepoint's own rollback follows: restoring the same
    # mark twice changes nothing, so a mark is kept until the transaction ends).
    boundary = previous_transaction
    while not boundary.nested and boundary.parent is not None:
        boundary = boundary.parent
    mark = journal.marks.get(id(boundary)) if boundary.nested else None
    if mark is None:
        # The whole transaction, or a savepoint older than the journal: start over.
        session.info.pop(_JOURNAL, None)
        return
    length, written, head = mark
    del journal.rows[length:]
    journal.written = min(journal.written, written)
    journal.head = head


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction: SessionTransaction) -> None:
    journal = session.info.get(_JOURNAL)
    if journal is None:
        return
    # A savepoint's mark stays until the transaction ends: this event comes before
    # after_soft_rollback, which needs it (a later savepoint with the same id replaces it).
    if not transaction.nested and transaction.parent is None:
        session.info.pop(_JOURNAL, None)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _before_audit_statement(state: ORMExecuteState) -> None:
    journal = state.session.info.get(_JOURNAL)
    if journal is None:
        return
    mapper = state.bind_mapper  # cheap, unlike all_mappers; the readers here write first anyway
    if mapper is None or mapper.class_ is not AuditEntry:
        return
    write_pending(state.session)
    if not state.is_select:
        journal.head = None  # a purge removed entries (or a test altered them): read it again


def append(
    session: Session,
    key: bytes,
    *,
    actor: str,
    action: str,
    client_id: str | None,
    entity: str = "",
    entity_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry at the end of the chain, inside the caller's write transaction.

    The entry reaches the database before the transaction commits (see above); the returned
    object is a copy of it, not attached to the session."""
    (row,) = _append_rows(session, key, actor,
                          [NewEntry(action, client_id, entity, entity_id, detail)])
    return AuditEntry(**row)


@dataclass(frozen=True)
class NewEntry:
    """One entry for :func:`append_many`."""

    action: str
    client_id: str | None
    entity: str = ""
    entity_id: str = ""
    detail: dict[str, Any] | None = None


def append_many(session: Session, key: bytes, actor: str, entries: list[NewEntry]) -> None:
    """:func:`append` for many entries (an import), written with the transaction's others."""
    if entries:
        _append_rows(session, key, actor, entries)


def verify(session: Session, key: bytes) -> list[ChainProblem]:
    """Every break in the chain: altered, removed, inserted or reordered entries.

    The only allowed gaps are entries a purge removed under retention rules: the purge entry
    (itself chained and MAC'd) lists their numbers, so a file deleted by the rules does not
    look like tampering while an entry removed by anyone else does.
    """
    write_pending(session)
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    purged: set[int] = set()
    for entry in entries:
        if entry.action == "purge" and hmac.compare_digest(entry.mac, _mac(key, entry, entry.at)):
            purged.update(int(seq) for seq in entry.detail.get("removed_seqs", []))
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    expected_seq = 1
    for entry in entries:
        missing = set(range(expected_seq, entry.seq))
        authorised_gap = bool(missing) and missing <= purged
        if missing and not authorised_gap:
            problems.append(
                ChainProblem(entry.seq, f"Einträge {expected_seq} bis {entry.seq - 1} fehlen")
            )
        if entry.prev_mac != expected_prev and not authorised_gap:
            problems.append(ChainProblem(entry.seq, "Verkettung zum vorigen Eintrag unterbrochen"))
        if not hmac.compare_digest(entry.mac, _mac(key, entry, entry.at)):
            problems.append(ChainProblem(entry.seq, "Eintrag wurde verändert"))
        expected_prev = entry.mac
        expected_seq = entry.seq + 1
    return problems


def head(session: Session) -> tuple[int, str] | None:
    """Number and MAC of the newest entry: what a sync anchors outside the vault."""
    write_pending(session)
    row = session.execute(select(AuditEntry.seq, AuditEntry.mac)
                          .order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def check_anchors(session: Session, key: bytes, anchors: Iterable[tuple[int, str]]
                  ) -> list[str]:
    """Compare the trail with anchors the server kept of it: ``truncated:<seq>`` when an
    anchored entry is gone (cut off, or removed and the rest renumbered), ``altered:<seq>``
    when it is there with another MAC (rewritten and re-chained by someone with the password).
    Entries a verified purge removed under the retention rules are no finding."""
    write_pending(session)
    purged: set[int] = set()
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")):
        if hmac.compare_digest(entry.mac, _mac(key, entry, entry.at)):
            purged.update(int(seq) for seq in entry.detail.get("removed_seqs", []))
    wanted = {seq: mac for seq, mac in anchors if seq > 0}  # 0: anchored an empty trail
    macs: dict[int, str] = {seq: mac for seq, mac in session.execute(
        select(AuditEntry.seq, AuditEntry.mac).where(AuditEntry.seq.in_(list(wanted))))}
    problems: list[str] = []
    for seq in sorted(wanted):
        if seq in purged:
            continue
        if seq not in macs:
            problems.append(f"truncated:{seq}")
        elif not hmac.compare_digest(macs[seq], wanted[seq]):
            problems.append(f"altered:{seq}")
    return problems


def entries_for_client(session: Session, client_id: str) -> list[AuditEntry]:
    write_pending(session)
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.client_id == client_id).order_by(AuditEntry.seq)
        )
    )


def count(session: Session) -> int:
    write_pending(session)
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Names of the fields whose value differs; the values themselves stay out of the trail."""
    return sorted(name for name in after if before.get(name) != after[name])

