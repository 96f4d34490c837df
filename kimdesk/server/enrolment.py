"""Enrolment codes, device enrolment and the bearer tokens devices authenticate with.

A code is issued by county IT for one person, team and role; it works once and expires. The
server keeps only a SHA-256 of a code and of a device's token secret, so a copy of its database
lets nobody enrol or act as a device.

A code has 16 symbols of 32, 80 bits: guessing one is hopeless even without a limit. Still every
refused attempt (unknown, used or expired code, another person, another team) is counted in the
database per client address and, if the code is a real one, per team of the code, and written to
the audit log (with a short hash prefix
of what was typed, never the code): after ``Settings.enrol_failures_per_address`` /
``enrol_failures_per_team`` refusals within ``enrol_window_minutes`` every attempt from that
address or for that team is answered 429 — a right code too, and it stays unused — until the
oldest refusal leaves the window. Successful enrolments do not count, so a team enrolling
together behind one county address is not stopped by a few typos. The count lives in the
database, so all worker processes share it (two racing workers may let one or two attempts more
through; the limit is a brake, not a lock).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import Connection, delete, func, insert, select, update

from kimdesk.errors import KimdeskError
from kimdesk.server import audit, errors
from kimdesk.server.db import Database, as_utc, utcnow
from kimdesk.server.tables import (
    audit_log,
    devices,
    enrolment_attempts,
    enrolment_codes,
    teams,
)
from kimdesk.sync import protocol

# 32 symbols without 0/O, 1/I: 16 of them are 80 bits, typed from a letter or read on the phone.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_GROUPS = 4
CODE_GROUP_LENGTH = 4
DEVICE_ID = re.compile(r"[0-9a-f]{32}")
STATES = ("pending", "active", "revoked")
KEEP_ATTEMPTS = timedelta(days=1)  # refused attempts are counted from this table, then dropped
# Why an enrolment was refused (audit detail "reason").
REFUSALS = ("unknown_code", "used_code", "expired_code", "other_person", "other_team")


@dataclass(frozen=True)
class Caller:
    """The authenticated device of a request."""

    id: str
    team: str
    user_name: str
    device_name: str
    coordinator: bool
    state: str
    sign_public: bytes
    last_seen_at: datetime | None

    @property
    def active(self) -> bool:
        return self.state == "active"


def new_code() -> str:
    symbols = "".join(secrets.choice(CODE_ALPHABET)
                      for _ in range(CODE_GROUPS * CODE_GROUP_LENGTH))
    return "-".join(symbols[i:i + CODE_GROUP_LENGTH]
                    for i in range(0, len(symbols), CODE_GROUP_LENGTH))


def normalise_code(text: str) -> str:
    """What a person typed, as stored: no spaces or dashes, upper case."""
    return re.sub(r"[\s\-–—]", "", text).upper()


def code_hash(text: str) -> str:
    return hashlib.sha256(normalise_code(text).encode()).hexdigest()


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def issue_code(db: Database, *, team: str, user: str, coordinator: bool, valid_days: int,
               actor: str) -> tuple[str, datetime]:
    """A new one-time enrolment code and when it expires."""
    user = " ".join(user.split())
    if not user:
        raise KimdeskError("Bitte einen Namen für die Person angeben (--user).")
    if valid_days < 1:
        raise KimdeskError("Ein Anmeldecode muss mindestens einen Tag gültig sein.")
    code = new_code()
    now = utcnow()
    expires = now + timedelta(days=valid_days)
    with db.write() as conn:
        if conn.execute(select(teams.c.code).where(teams.c.code == team)).first() is None:
            raise KimdeskError(f"Das Team {team} gibt es auf diesem Server nicht "
                               "(server-admin teams).")
        conn.execute(insert(enrolment_codes).values(
            code_hash=code_hash(code), team=team, user_name=user, coordinator=coordinator,
            created_at=now, expires_at=expires))
        audit.record(conn, "code_issued", actor, team=team, user=user, coordinator=coordinator,
                     valid_days=valid_days)
    return code, expires


def enrol(db: Database, *, code: str, user: str, device_name: str, sign_public_b64: str,
          box_public_b64: str, team: str | None = None, address: str = "unbekannt"
          ) -> dict[str, Any]:
    """Register a device with its public keys; the code is used up in the same transaction.
    ``team`` is the team of the device's vault: a code of another team is refused unused.
    ``address`` is the client's network address, for the rate limit and the audit log."""
    sign_public = _public_key(sign_public_b64, Ed25519PublicKey, "sign_public_key")
    box_public = _public_key(box_public_b64, X25519PublicKey, "box_public_key")
    address = address[:64]
    hashed = code_hash(code)
    with db.read() as conn:
        known = conn.execute(select(enrolment_codes.c.team, enrolment_codes.c.user_name)
                             .where(enrolment_codes.c.code_hash == hashed)).first()
    # Counted per team only with a real code (used, expired, another person or team): a team
    # named in a request with an unknown code would let anyone block that team's enrolment.
    code_team = known.team if known is not None else None
    _check_rate(db, address, code_team)
    try:
        return _enrol(db, hashed=hashed, user=user, device_name=device_name,
                      sign_public=sign_public, box_public=box_public, team=team)
    except _Refused as refused:
        with db.write() as conn:
            conn.execute(insert(enrolment_attempts).values(
                at=utcnow(), address=address, team=code_team, reason=refused.reason))
            conn.execute(delete(enrolment_attempts).where(
                enrolment_attempts.c.at < utcnow() - KEEP_ATTEMPTS))
            audit.record(conn, "enrol_refused", f"address:{address}", team=code_team,
                         reason=refused.reason, address=address, code_ref=hashed[:8],
                         **({"user": known.user_name} if known is not None else {}),
                         **({"device_team": team} if team is not None else {}))
        raise refused.error from None


class _Refused(Exception):
    def __init__(self, reason: str, error: errors.ApiError) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


def _enrol(db: Database, *, hashed: str, user: str, device_name: str, sign_public: bytes,
           box_public: bytes, team: str | None) -> dict[str, Any]:
    refused = errors.ApiError(403, "Der Anmeldecode ist unbekannt, schon benutzt oder "
                                   "abgelaufen (neuen Code bei der Kreis-IT anfordern).")
    device_id = uuid.uuid4().hex
    secret = secrets.token_urlsafe(32)
    lease_secret = secrets.token_bytes(32)
    now = utcnow()
    settings = db.settings
    with db.write() as conn:
        row = conn.execute(select(enrolment_codes).where(
            enrolment_codes.c.code_hash == hashed)).first()
        if row is None:
            raise _Refused("unknown_code", refused)
        if row.used_at is not None:
            raise _Refused("used_code", refused)
        if (as_utc(row.expires_at) or now) <= now:
            raise _Refused("expired_code", refused)
        if not _same_person(row.user_name, user):
            raise _Refused("other_person", errors.ApiError(
                403, "Der Anmeldecode wurde für eine andere Person ausgegeben."))
        if team is not None and team != row.team:
            raise _Refused("other_team", errors.ApiError(
                409, f"Der Anmeldecode gilt für Team {row.team}, dieser Datentresor gehört zu "
                     f"Team {team}. Bitte einen Code für das eigene Team bei der Kreis-IT "
                     "anfordern."))
        # Conditional update: of two devices racing with one code, only one gets a row.
        used = conn.execute(update(enrolment_codes).where(
            enrolment_codes.c.code_hash == row.code_hash,
            enrolment_codes.c.used_at.is_(None)).values(used_at=now, device_id=device_id))
        if used.rowcount != 1:
            raise _Refused("used_code", refused)
        team_row = conn.execute(select(teams).where(teams.c.code == row.team)).one()
        fingerprint = protocol.fingerprint(sign_public, box_public)
        conn.execute(insert(devices).values(
            id=device_id, team=row.team, user_name=row.user_name, device_name=device_name,
            coordinator=row.coordinator, state="pending", sign_public=sign_public,
            box_public=box_public, fingerprint=fingerprint,
            token_hash=_secret_hash(secret), lease_secret=lease_secret, lease_counter=0,
            enrolled_at=now, last_seen_at=now))
        audit.record(conn, "device_enrolled", audit.device_actor(device_id), team=row.team,
                     device_id=device_id, user=row.user_name, device_name=device_name,
                     coordinator=row.coordinator, fingerprint=fingerprint)
    return {
        "device_id": device_id,
        "team": row.team,
        "token": f"{device_id}.{secret}",
        "fingerprint": fingerprint,
        "coordinator": bool(row.coordinator),
        "team_has_key": team_row.epoch > 0,
        "lease_secret": protocol.b64e(lease_secret),
        "lease_warn_days": settings.lease_warn_days,
        "lease_lock_days": settings.lease_lock_days,
    }


def _check_rate(db: Database, address: str, team: str | None) -> None:
    """429 if too many attempts from ``address`` or for ``team`` were refused lately; the
    first blocked attempt of a window is audited (not every one: a flood must not fill the
    log)."""
    settings = db.settings
    window = timedelta(minutes=settings.enrol_window_minutes)
    since = utcnow() - window
    limits = [("address", enrolment_attempts.c.address == address,
               settings.enrol_failures_per_address)]
    if team is not None:
        limits.append(("team", enrolment_attempts.c.team == team,
                       settings.enrol_failures_per_team))
    blocked: tuple[str, int] | None = None
    with db.read() as conn:
        for scope, condition, limit in limits:
            count, oldest = conn.execute(
                select(func.count(), func.min(enrolment_attempts.c.at))
                .where(condition, enrolment_attempts.c.at >= since)).one()
            if count >= limit:
                free_at = (as_utc(oldest) or utcnow()) + window
                blocked = scope, max(1, int((free_at - utcnow()).total_seconds()) + 1)
                break
    if blocked is None:
        return
    scope, retry = blocked
    with db.write() as conn:
        _audit_block_once(conn, since, scope=scope, address=address, team=team)
    where = "von diesem Rechner" if scope == "address" else f"für Team {team}"
    raise errors.ApiError(429, f"Zu viele fehlgeschlagene Anmeldeversuche {where}; bitte in "
                               f"{(retry + 59) // 60} Minuten erneut versuchen oder die "
                               "Kreis-IT fragen.", retry_after=retry)


def _audit_block_once(conn: Connection, since: datetime, *, scope: str, address: str,
                      team: str | None) -> None:
    recent = conn.execute(select(audit_log.c.team, audit_log.c.detail).where(
        audit_log.c.action == "enrol_blocked", audit_log.c.at >= since)
        .order_by(audit_log.c.id.desc()).limit(200)).all()
    for row_team, detail in recent:
        found = json.loads(detail or "{}")
        if found.get("scope") == scope and (found.get("address") == address
                                            if scope == "address" else row_team == team):
            return
    audit.record(conn, "enrol_blocked", f"address:{address}", team=team, scope=scope,
                 address=address)


def _public_key(text: str, kind: Any, field: str) -> bytes:
    try:
        raw = protocol.b64d(text)
        if len(raw) != protocol.KEY_BYTES:
            raise ValueError("length")
        kind.from_public_bytes(raw)
    except ValueError:
        raise errors.ApiError(422, f"{field}: kein gültiger öffentlicher Schlüssel "
                                   "(32 Byte, Base64).") from None
    return raw


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# A hash to compare against when the device is unknown, so both paths take the same time.
_DUMMY_HASH = _secret_hash(secrets.token_urlsafe(32))


def authenticate(db: Database, authorization: str | None, *, always_touch: bool = False
                 ) -> Caller:
    """The device of ``Authorization: Bearer <device_id>.<secret>``; 401 or 403 (wipe) else.

    Records the device as seen (at most once a minute, or now with ``always_touch``).
    """
    if not authorization:
        raise errors.unauthorised()
    scheme, _, token = authorization.partition(" ")
    device_id, dot, secret = token.strip().partition(".")
    if scheme.lower() != "bearer" or not dot or not DEVICE_ID.fullmatch(device_id) \
            or not secret or len(secret) > 200:
        raise errors.unauthorised()
    try:
        offered = _secret_hash(secret)
    except UnicodeEncodeError:
        raise errors.unauthorised() from None
    with db.read() as conn:
        row = conn.execute(select(devices).where(devices.c.id == device_id)).first()
    expected = row.token_hash if row is not None else _DUMMY_HASH
    if not hmac.compare_digest(offered, expected) or row is None:
        raise errors.unauthorised()
    if row.state == "revoked":
        with db.write() as conn:
            audit.record_wipe_request(conn, row.id, row.team)
        from kimdesk.server import trust  # trust imports Caller from here

        raise errors.revoked(**trust.revocation_evidence(db, row.team, row.fingerprint))
    caller = Caller(id=row.id, team=row.team, user_name=row.user_name,
                    device_name=row.device_name, coordinator=bool(row.coordinator),
                    state=row.state, sign_public=bytes(row.sign_public),
                    last_seen_at=as_utc(row.last_seen_at))
    last = caller.last_seen_at
    if always_touch or last is None \
            or (utcnow() - last).total_seconds() >= db.settings.touch_interval_seconds:
        touch(db, caller.id)
    return caller


def touch(db: Database, device_id: str) -> None:
    """Remember that the device was here (the lost-device report and `devices` show it)."""
    with db.write() as conn:
        conn.execute(update(devices).where(devices.c.id == device_id)
                     .values(last_seen_at=utcnow()))
