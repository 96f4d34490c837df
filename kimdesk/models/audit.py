"""The audit trail: every read and write of a client file, hash-chained against tampering.

Entries hold ids, actions and field names, never names or free text of a client, so the trail
may outlive a purged file (deletion leaves exactly one audit entry behind).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    # A dense sequence: a removed entry leaves a gap, an inserted one breaks the chain.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))  # "read", "create", "update", "purge" ...
    client_id: Mapped[str | None] = mapped_column(String(32), index=True)
    entity: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
