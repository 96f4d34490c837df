"""Anchors of the devices' audit trails: the head of each device's hash-chained Protokoll after
a sync, kept outside the vault.

Whoever knows a vault's password can rewrite its audit trail and re-chain the MACs, or cut off
its newest entries; inside the vault nothing can tell. So after every sync the device sends the
number and MAC of its newest entry (a keyed hash: no content, nothing about any client), and
before that it fetches its earlier anchors and checks its trail against them: a missing anchored
entry means the trail was cut off, a different MAC that it was rewritten. A device that finds
either reports it with its next anchor, and the server records that for county IT.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, select

from kimdesk.server import audit
from kimdesk.server.db import Database, utcnow
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import not_confirmed
from kimdesk.server.tables import audit_anchors

KEEP = 50  # anchors kept per device: the newest, enough to span many syncs of history
_PROBLEM = r"^(truncated|altered):[0-9]{1,12}$"


class AnchorIn(BaseModel):
    # strict: a sequence number sent as text or 1.0 is refused, not converted.
    model_config = ConfigDict(extra="forbid", strict=True)

    seq: int = Field(ge=0, le=10**12)
    mac: str = Field(pattern=r"^[0-9a-f]{64}$")
    # What the device found against its earlier anchors: "truncated:<seq>", "altered:<seq>".
    problems: list[str] = Field(default_factory=list, max_length=KEEP)


class AnchorOut(BaseModel):
    seq: int
    mac: str


class AnchorsOut(BaseModel):
    anchors: list[AnchorOut]


def anchors_of(db: Database, caller: Caller) -> dict[str, Any]:
    """The device's own anchors, oldest first."""
    if not caller.active:
        raise not_confirmed()
    with db.read() as conn:
        rows = conn.execute(select(audit_anchors.c.seq, audit_anchors.c.mac)
                            .where(audit_anchors.c.device_id == caller.id)
                            .order_by(audit_anchors.c.id)).all()
    return {"anchors": [{"seq": seq, "mac": mac} for seq, mac in rows]}


def store_anchor(db: Database, caller: Caller, anchor: AnchorIn) -> dict[str, Any]:
    """Keep the new head; record what the device reported; drop anchors beyond ``KEEP``."""
    if not caller.active:
        raise not_confirmed()
    problems = [p for p in anchor.problems if re.fullmatch(_PROBLEM, p)]
    with db.write() as conn:
        if problems:
            audit.record(conn, "audit_trail_tampered", audit.device_actor(caller.id),
                         team=caller.team, device_id=caller.id, problems=problems)
        conn.execute(insert(audit_anchors).values(device_id=caller.id, seq=anchor.seq,
                                                  mac=anchor.mac, created_at=utcnow()))
        old = [row_id for (row_id,) in conn.execute(
            select(audit_anchors.c.id).where(audit_anchors.c.device_id == caller.id)
            .order_by(audit_anchors.c.id.desc()).offset(KEEP))]
        if old:
            conn.execute(delete(audit_anchors).where(audit_anchors.c.id.in_(old)))
    return anchors_of(db, caller)
