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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from kimdesk.models import AuditEntry, utcnow

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
    """Add one entry at the end of the chain, inside the caller's write transaction."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.mac).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        client_id=client_id,
        entity=entity,
        entity_id=entity_id,
        detail=detail or {},
        prev_mac=prev,
        mac="",
    )
    entry.mac = _mac(key, entry, at)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class NewEntry:
    """One entry for :func:`append_many`."""

    action: str
    client_id: str | None
    entity: str = ""
    entity_id: str = ""
    detail: dict[str, Any] | None = None


def append_many(session: Session, key: bytes, actor: str, entries: list[NewEntry]) -> None:
    """:func:`append` for many entries (an import): one read of the chain's end, one insert."""
    if not entries:
        return
    session.flush()
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.mac).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    rows: list[dict[str, Any]] = []
    for offset, new in enumerate(entries):
        detail = new.detail or {}
        body = _canonical_fields(seq + offset, at, actor, new.action, new.client_id, new.entity,
                                 new.entity_id, detail, prev)
        mac = hmac.new(key, body, hashlib.sha256).hexdigest()
        rows.append({"seq": seq + offset, "at": at, "actor": actor, "action": new.action,
                     "client_id": new.client_id, "entity": new.entity,
                     "entity_id": new.entity_id, "detail": detail, "prev_mac": prev, "mac": mac})
        prev = mac
    session.execute(insert(AuditEntry), rows)


def verify(session: Session, key: bytes) -> list[ChainProblem]:
    """Every break in the chain: altered, removed, inserted or reordered entries.

    The only allowed gaps are entries a purge removed under retention rules: the purge entry
    (itself chained and MAC'd) lists their numbers, so a file deleted by the rules does not
    look like tampering while an entry removed by anyone else does.
    """
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
    row = session.execute(select(AuditEntry.seq, AuditEntry.mac)
                          .order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def check_anchors(session: Session, key: bytes, anchors: Iterable[tuple[int, str]]
                  ) -> list[str]:
    """Compare the trail with anchors the server kept of it: ``truncated:<seq>`` when an
    anchored entry is gone (cut off, or removed and the rest renumbered), ``altered:<seq>``
    when it is there with another MAC (rewritten and re-chained by someone with the password).
    Entries a verified purge removed under the retention rules are no finding."""
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
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.client_id == client_id).order_by(AuditEntry.seq)
        )
    )


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Names of the fields whose value differs; the values themselves stay out of the trail."""
    return sorted(name for name in after if before.get(name) != after[name])

