"""This device's membership in a team's sync: enrolment, keys, cursor and the offline lease.

The private keys and team keys live here, inside the encrypted vault, like any other secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Base, utcnow


class SyncDevice(Base):
    """Exactly one row once the device is enrolled with the county server."""

    __tablename__ = "sync_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_url: Mapped[str] = mapped_column(String(300))
    device_id: Mapped[str] = mapped_column(String(32))  # the server's id of this device
    team: Mapped[str] = mapped_column(String(20))
    token: Mapped[str] = mapped_column(String(120))
    coordinator: Mapped[bool] = mapped_column(default=False)
    sign_private: Mapped[bytes] = mapped_column(LargeBinary)  # Ed25519 (raw 32 bytes)
    box_private: Mapped[bytes] = mapped_column(LargeBinary)  # X25519 (raw 32 bytes)
    fingerprint: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, active
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # last server seq applied
    lease_secret: Mapped[bytes] = mapped_column(LargeBinary)
    lease_counter_used: Mapped[int] = mapped_column(Integer, default=0)
    lease_warn_days: Mapped[int] = mapped_column(Integer, default=30)
    lease_lock_days: Mapped[int] = mapped_column(Integer, default=60)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_contact_at: Mapped[datetime] = mapped_column(default=utcnow)  # server reached
    last_sync_at: Mapped[datetime | None]  # last complete push + pull
    lease_unlocked_at: Mapped[datetime | None]  # one-time code from IT accepted
    # The county's root signing key (Ed25519), pinned from the installation profile at enrolment.
    root_public: Mapped[bytes | None] = mapped_column(LargeBinary)


class TeamKey(Base):
    """One epoch of the team key (a new epoch after every revocation)."""

    __tablename__ = "sync_team_keys"

    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrustDocument(Base):
    """A certificate or revocation this device verified itself (see ``kimdesk.sync.trust``)."""

    __tablename__ = "sync_trust"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # certificate | revocation
    fingerprint: Mapped[str] = mapped_column(String(60), index=True)
    role: Mapped[str | None] = mapped_column(String(20))  # coordinator | member (certificates)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarantinedChange(Base):
    """A change from the server this device could not verify or decrypt: kept, never applied,
    shown in the sync status and reported to the county server (``server-admin quarantine``)."""

    __tablename__ = "sync_quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer)  # the server's sequence number
    change_id: Mapped[str] = mapped_column(String(32))
    author_device: Mapped[str] = mapped_column(String(32))  # as the server names it
    record_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    hlc: Mapped[str] = mapped_column(String(100))
    epoch: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))  # German, names no client
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported: Mapped[bool] = mapped_column(default=False)
