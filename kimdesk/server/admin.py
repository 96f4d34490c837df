"""What county IT does with the server (``kimdesk server-admin``), as functions over the database.

Teams, one-time enrolment codes, the device list, revocation (which asks the team to rotate its
key), the lost-device report for a notification under Art. 33/34 DSGVO, unlock codes for the
offline lease, and the audit log. Each action that changes something is audited in the same
transaction. Errors are :class:`~kimdesk.errors.KimdeskError` with a German message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from kimdesk.errors import KimdeskError
from kimdesk.server import audit, enrolment
from kimdesk.server.db import Database, as_utc, utcnow
from kimdesk.server.settings import Settings, normalise_db_url
from kimdesk.server.tables import (
    changes,
    compacted_changes,
    device_deliveries,
    device_records,
    devices,
    quarantine_reports,
    teams,
    transfer_chunks,
    transfers,
)
from kimdesk.sync.lease import lease_code

TEAM_CODE = re.compile(r"[a-z0-9][a-z0-9_\-]{0,39}")
STATE_LABELS = {"pending": "wartet auf Bestätigung", "active": "aktiv", "revoked": "gesperrt"}
CLIENT_KIND = "clients"
MIN_ID_PREFIX = 4


def open_database(db_url: str | None, *, must_exist: bool = False) -> Database:
    """The server database (tables created if missing); ``must_exist`` for commands that only
    make sense on a database that is already in use (a typo must not create a new one)."""
    url = normalise_db_url(db_url)
    parsed = make_url(url)
    if must_exist and parsed.get_backend_name() == "sqlite" \
            and not Path(parsed.database or "").is_file():
        raise KimdeskError(f"Keine Server-Datenbank unter {parsed.database} "
                           "(zuerst „server-admin create-team“ oder „serve“).")
    db = Database(Settings.from_env(url))
    db.create_schema()
    return db


@dataclass(frozen=True)
class TeamInfo:
    code: str
    name: str
    epoch: int
    rotation_needed: bool
    head: int
    active_devices: int
    pending_devices: int


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    team: str
    user: str
    device_name: str
    fingerprint: str
    coordinator: bool
    state: str
    enrolled_at: datetime
    last_seen_at: datetime | None

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["enrolled_at"] = self.enrolled_at.isoformat()
        data["last_seen_at"] = self.last_seen_at.isoformat() if self.last_seen_at else None
        return data


UNKNOWN_AFTER_NOTE = ("Änderungen, die auf dem Gerät nach seinem letzten Kontakt mit dem Server "
                      "entstanden sind (offline), kennt der Server nicht; das Gerät kann "
                      "weitere Daten enthalten.")


@dataclass(frozen=True)
class LostDeviceReport:
    device: DeviceInfo
    records: list[tuple[str, str]]  # (kind, record id), sorted
    last_push_at: datetime | None = None  # the last change the server received from it

    @property
    def client_count(self) -> int:
        return len({record_id for kind, record_id in self.records if kind == CLIENT_KIND})

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kind, _record_id in self.records:
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device.to_json(),
            "last_seen_at": self.device.to_json()["last_seen_at"],
            "record_count": len(self.records),
            "client_count": self.client_count,
            "by_kind": self.by_kind(),
            "records": [{"kind": kind, "record_id": record_id}
                        for kind, record_id in self.records],
            "last_push_at": self.last_push_at.isoformat() if self.last_push_at else None,
            "unknown_after": self.device.to_json()["last_seen_at"],
            "note": UNKNOWN_AFTER_NOTE,
        }


def create_team(db: Database, code: str, name: str) -> TeamInfo:
    if not TEAM_CODE.fullmatch(code):
        raise KimdeskError("Der Team-Code besteht aus Kleinbuchstaben, Ziffern, - und _ "
                           "(z. B. nord).")
    name = " ".join(name.split())
    if not name:
        raise KimdeskError("Bitte einen Namen für das Team angeben.")
    try:
        with db.write() as conn:
            conn.execute(insert(teams).values(code=code, name=name, epoch=0,
                                              rotation_needed=False, head=0, compacted_below=0,
                                              created_at=utcnow()))
            audit.record(conn, "team_created", audit.admin_actor(), team=code, name=name)
    except IntegrityError:
        raise KimdeskError(f"Das Team {code} gibt es schon.") from None
    return next(t for t in list_teams(db) if t.code == code)


def list_teams(db: Database) -> list[TeamInfo]:
    with db.read() as conn:
        counts: dict[tuple[str, str], int] = {
            (team, state): n for team, state, n in conn.execute(
                select(devices.c.team, devices.c.state, func.count())
                .group_by(devices.c.team, devices.c.state))}
        rows = conn.execute(select(teams).order_by(teams.c.code)).all()
    return [TeamInfo(code=r.code, name=r.name, epoch=r.epoch,
                     rotation_needed=bool(r.rotation_needed), head=r.head,
                     active_devices=counts.get((r.code, "active"), 0),
                     pending_devices=counts.get((r.code, "pending"), 0)) for r in rows]


def issue_code(db: Database, team: str, user: str, *, coordinator: bool = False,
               valid_days: int | None = None) -> tuple[str, datetime]:
    """A one-time enrolment code for ``user`` in ``team`` and its expiry."""
    return enrolment.issue_code(
        db, team=team, user=user, coordinator=coordinator,
        valid_days=valid_days if valid_days is not None else db.settings.code_valid_days,
        actor=audit.admin_actor())


def _device_info(row: Row[Any]) -> DeviceInfo:
    return DeviceInfo(id=row.id, team=row.team, user=row.user_name,
                      device_name=row.device_name, fingerprint=row.fingerprint,
                      coordinator=bool(row.coordinator), state=row.state,
                      enrolled_at=as_utc(row.enrolled_at) or utcnow(),
                      last_seen_at=as_utc(row.last_seen_at))


def list_devices(db: Database, team: str | None = None) -> list[DeviceInfo]:
    stmt = select(devices).order_by(devices.c.team, devices.c.enrolled_at, devices.c.id)
    if team is not None:
        stmt = stmt.where(devices.c.team == team)
    with db.read() as conn:
        if team is not None and conn.execute(
                select(teams.c.code).where(teams.c.code == team)).first() is None:
            raise KimdeskError(f"Das Team {team} gibt es auf diesem Server nicht.")
        return [_device_info(r) for r in conn.execute(stmt)]


def _find_device(conn: Connection, text: str) -> Row[Any]:
    """The device with this id, or the only one whose id starts with it (≥ 4 characters)."""
    key = text.strip().lower()
    if len(key) < MIN_ID_PREFIX or not re.fullmatch(r"[0-9a-f]+", key):
        raise KimdeskError("Bitte die Geräte-ID angeben (aus „server-admin devices“).")
    rows = conn.execute(select(devices).where(devices.c.id.startswith(key, autoescape=True))
                        .limit(2)).all()
    if not rows:
        raise KimdeskError(f"Ein Gerät {key} gibt es auf diesem Server nicht.")
    if len(rows) > 1 and rows[0].id != key:
        raise KimdeskError(f"Mehrere Geräte beginnen mit {key}; bitte die ganze ID angeben.")
    return rows[0]


def _checked_document(document: Any) -> dict[str, Any]:
    from kimdesk.sync import trust as chain

    try:
        return chain.check_shape(document)
    except chain.TrustError as exc:
        raise KimdeskError(exc.message) from None


def add_trust_document(db: Database, document: Any) -> tuple[str, bool]:
    """Store a certificate from county IT (``kimdesk county-ca certify``) for the devices to
    fetch; returns (its fingerprint, newly stored). The server does not verify it: the devices do.
    """
    from kimdesk.server import trust

    document = _checked_document(document)
    body = document["body"]
    if body["kind"] != "certificate":
        raise KimdeskError("Eine signierte Sperrung wird mit „server-admin revoke GERÄT "
                           "--revocation DATEI“ hinterlegt.")
    with db.write() as conn:
        if conn.execute(select(teams.c.code).where(teams.c.code == body["team"])).first() is None:
            raise KimdeskError(f"Das Team {body['team']} gibt es auf diesem Server nicht.")
        new = trust.insert(conn, document)
        if new:
            audit.record(conn, "trust_certificate", audit.admin_actor(), team=body["team"],
                         fingerprint=body["fingerprint"], role=body["role"])
    return body["fingerprint"], new


def revoke(db: Database, device_id: str, revocation: Any = None) -> tuple[DeviceInfo, bool]:
    """Revoke a device; the team must then rotate its key. Returns (device, newly revoked).

    ``revocation`` is the signed revocation (``kimdesk county-ca revoke``); only with it does the
    device wipe itself when it connects (it believes no unsigned word of the server)."""
    from kimdesk.server import trust

    document = _checked_document(revocation) if revocation is not None else None
    with db.write() as conn:
        row = _find_device(conn, device_id)
        signed_now = False
        if document is not None:
            body = document["body"]
            if body["kind"] != "revocation" or body["fingerprint"] != row.fingerprint \
                    or body["team"] != row.team:
                raise KimdeskError("Die signierte Sperrung gilt nicht für dieses Gerät "
                                   "(Fingerabdruck oder Team passen nicht).")
            if trust.insert(conn, document):
                signed_now = True
                audit.record(conn, "trust_revocation", audit.admin_actor(), team=row.team,
                             device_id=row.id, fingerprint=row.fingerprint)
        if row.state == "revoked":
            if signed_now:
                # The devices learn of the revocation only now and send nothing under a key
                # older than it (kimdesk.sync.client.rotation_owed): one more rotation.
                db.lock_team(conn, row.team)
                conn.execute(update(teams).where(teams.c.code == row.team)
                             .values(rotation_needed=True))
            return _device_info(row), False
        db.lock_team(conn, row.team)
        now = utcnow()
        conn.execute(update(devices).where(devices.c.id == row.id)
                     .values(state="revoked", revoked_at=now))
        conn.execute(update(teams).where(teams.c.code == row.team)
                     .values(rotation_needed=True))
        audit.record(conn, "device_revoked", audit.admin_actor(), team=row.team,
                     device_id=row.id, user=row.user_name, device_name=row.device_name)
        row = conn.execute(select(devices).where(devices.c.id == row.id)).one()
    return _device_info(row), True


def request_rotation(db: Database, team: str) -> TeamInfo:
    """Ask the team's devices for a new team key at their next sync, without a revocation
    (county IT after a suspected loss of a key, e.g. the county coordination key of ``kreis``).
    The server never holds the key: the next active device that syncs makes the new one."""
    with db.write() as conn:
        row = conn.execute(select(teams).where(teams.c.code == team)).first()
        if row is None:
            raise KimdeskError(f"Das Team {team} gibt es auf diesem Server nicht.")
        if row.epoch == 0:
            raise KimdeskError(f"Das Team {team} hat noch keinen Schlüssel.")
        db.lock_team(conn, team)
        conn.execute(update(teams).where(teams.c.code == team).values(rotation_needed=True))
        audit.record(conn, "rotation_requested", audit.admin_actor(), team=team,
                     epoch=row.epoch)
    return next(t for t in list_teams(db) if t.code == team)


def lost_device_report(db: Database, device_id: str) -> LostDeviceReport:
    """Which record ids the device wrote or was sent (what a lost laptop may hold)."""
    with db.write() as conn:
        row = _find_device(conn, device_id)
        records = sorted(_records_held(conn, row.team, row.id))
        last_push = conn.execute(select(func.max(changes.c.received_at)).where(
            changes.c.team == row.team, changes.c.device_id == row.id)).scalar_one()
        report = LostDeviceReport(_device_info(row), records, as_utc(last_push))
        audit.record(conn, "lost_device_report", audit.admin_actor(), team=row.team,
                     device_id=row.id, records=len(records), clients=report.client_count)
    return report


def _records_held(conn: Connection, team: str, device_id: str) -> set[tuple[str, str]]:
    """(kind, record id) of every change of the team's log, present or compacted, that the
    device wrote or whose seq lies in a range it was sent; plus the rows recorded per record
    by servers before the ranges (``device_records``)."""
    held: set[tuple[str, str]] = set()
    ranges = conn.execute(select(device_deliveries.c.first_seq, device_deliveries.c.last_seq)
                          .where(device_deliveries.c.device_id == device_id)).all()
    for log in (changes, compacted_changes):
        own = select(log.c.kind, log.c.record_id).distinct().where(
            log.c.team == team, log.c.device_id == device_id)
        held.update((kind, record_id) for kind, record_id in conn.execute(own))
        for first, last in ranges:
            sent = select(log.c.kind, log.c.record_id).distinct().where(
                log.c.team == team, log.c.seq >= first, log.c.seq <= last)
            held.update((kind, record_id) for kind, record_id in conn.execute(sent))
    held.update((kind, record_id) for kind, record_id in conn.execute(
        select(device_records.c.kind, device_records.c.record_id)
        .where(device_records.c.device_id == device_id)))
    return held


def next_lease_code(db: Database, device_id: str) -> tuple[str, DeviceInfo]:
    """The device's next one-time unlock code for the offline lease (counter + 1)."""
    with db.write() as conn:
        row = _find_device(conn, device_id)
        if row.state == "revoked":
            raise KimdeskError("Das Gerät ist gesperrt; für ein gesperrtes Gerät gibt es keinen "
                               "Freischaltcode.")
        counter = row.lease_counter + 1
        conn.execute(update(devices).where(devices.c.id == row.id)
                     .values(lease_counter=counter))
        audit.record(conn, "lease_code_issued", audit.admin_actor(), team=row.team,
                     device_id=row.id, counter=counter)
    return lease_code(bytes(row.lease_secret), row.id, counter), _device_info(row)


def audit_entries(db: Database, limit: int = 50, actions: Sequence[str] = ()
                  ) -> list[audit.Entry]:
    """The newest ``limit`` entries (of ``actions`` only, if given), oldest first."""
    with db.read() as conn:
        return audit.entries(conn, limit, actions)


@dataclass(frozen=True)
class OpenTransfer:
    """A case transfer the server still holds: its teams and step, never the file (only
    ciphertext is stored); the sending device by id."""

    transfer_id: str
    from_team: str
    to_team: str
    sender_id: str
    step: str  # uploading | waiting | acknowledged
    created_at: datetime
    acked_at: datetime | None
    stored_bytes: int

    @property
    def step_label(self) -> str:
        return _TRANSFER_STEPS[self.step]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat(),
                "acked_at": self.acked_at.isoformat() if self.acked_at else None}


_TRANSFER_STEPS = {
    "uploading": "wird hochgeladen",
    "waiting": "wartet auf ein Gerät des Zielteams",
    "acknowledged": "bestätigt, wartet auf das sendende Gerät",
}


def open_transfers(db: Database, team: str | None = None) -> list[OpenTransfer]:
    """The case transfers the server holds, oldest first (county IT: one that waits for
    weeks has no certified device in the receiving team, or a sending laptop that no longer
    syncs; docs/sync.md). With ``team``: those from or to it."""
    stored = (select(transfer_chunks.c.transfer_id,
                     func.sum(func.length(transfer_chunks.c.data)).label("size"))
              .group_by(transfer_chunks.c.transfer_id).subquery())
    stmt = (select(transfers, stored.c.size)
            .outerjoin(stored, stored.c.transfer_id == transfers.c.id)
            .order_by(transfers.c.created_at, transfers.c.id))
    if team is not None:
        stmt = stmt.where((transfers.c.from_team == team) | (transfers.c.to_team == team))
    with db.read() as conn:
        return [OpenTransfer(
            transfer_id=r.id, from_team=r.from_team, to_team=r.to_team, sender_id=r.sender_id,
            step=("acknowledged" if r.ack else "waiting" if r.sealed else "uploading"),
            created_at=as_utc(r.created_at) or utcnow(), acked_at=as_utc(r.acked_at),
            stored_bytes=int(r.size or 0)) for r in conn.execute(stmt)]


@dataclass(frozen=True)
class QuarantineReport:
    """A change a device refused to apply: which, from whom, why, reported by whom."""

    team: str
    seq: int
    change_id: str
    author_id: str
    reporter_id: str
    reason: str
    reported_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "reported_at": self.reported_at.isoformat()}


def quarantine_reports_of(db: Database, team: str | None = None) -> list[QuarantineReport]:
    """Changes the devices quarantined, newest first (county IT: see docs/it/trust.md)."""
    stmt = select(quarantine_reports).order_by(quarantine_reports.c.reported_at.desc(),
                                               quarantine_reports.c.seq)
    if team is not None:
        stmt = stmt.where(quarantine_reports.c.team == team)
    with db.read() as conn:
        return [QuarantineReport(team=r.team, seq=r.seq, change_id=r.change_id,
                                 author_id=r.author_id, reporter_id=r.reporter_id,
                                 reason=r.reason,
                                 reported_at=as_utc(r.reported_at) or utcnow())
                for r in conn.execute(stmt)]
