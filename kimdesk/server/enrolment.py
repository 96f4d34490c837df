"""Enrolment codes, device enrolment and the bearer tokens devices authenticate with.

A code is issued by county IT for one person, team and role; it works once and expires. The
server keeps only a SHA-256 of a code and of a device's token secret, so a copy of its database
lets nobody enrol or act as a device.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import insert, select, update

from kimdesk.errors import KimdeskError
from kimdesk.server import audit, errors
from kimdesk.server.db import Database, as_utc, utcnow
from kimdesk.server.tables import devices, enrolment_codes, teams
from kimdesk.sync import protocol

# 32 symbols without 0/O, 1/I: 16 of them are 80 bits, typed from a letter or read on the phone.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_GROUPS = 4
CODE_GROUP_LENGTH = 4
DEVICE_ID = re.compile(r"[0-9a-f]{32}")
STATES = ("pending", "active", "revoked")


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
          box_public_b64: str, team: str | None = None) -> dict[str, Any]:
    """Register a device with its public keys; the code is used up in the same transaction.
    ``team`` is the team of the device's vault: a code of another team is refused unused."""
    sign_public = _public_key(sign_public_b64, Ed25519PublicKey, "sign_public_key")
    box_public = _public_key(box_public_b64, X25519PublicKey, "box_public_key")
    refused = errors.ApiError(403, "Der Anmeldecode ist unbekannt, schon benutzt oder "
                                   "abgelaufen (neuen Code bei der Kreis-IT anfordern).")
    device_id = uuid.uuid4().hex
    secret = secrets.token_urlsafe(32)
    lease_secret = secrets.token_bytes(32)
    now = utcnow()
    settings = db.settings
    with db.write() as conn:
        row = conn.execute(select(enrolment_codes).where(
            enrolment_codes.c.code_hash == code_hash(code))).first()
        if row is None or row.used_at is not None or (as_utc(row.expires_at) or now) <= now:
            raise refused
        if not _same_person(row.user_name, user):
            raise errors.ApiError(403, "Der Anmeldecode wurde für eine andere Person "
                                       "ausgegeben.")
        if team is not None and team != row.team:
            raise errors.ApiError(409, f"Der Anmeldecode gilt für Team {row.team}, dieser "
                                       f"Datentresor gehört zu Team {team}. Bitte einen Code "
                                       "für das eigene Team bei der Kreis-IT anfordern.")
        # Conditional update: of two devices racing with one code, only one gets a row.
        used = conn.execute(update(enrolment_codes).where(
            enrolment_codes.c.code_hash == row.code_hash,
            enrolment_codes.c.used_at.is_(None)).values(used_at=now, device_id=device_id))
        if used.rowcount != 1:
            raise refused
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
