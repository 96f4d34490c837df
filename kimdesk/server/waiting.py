"""What a pending device (enrolled, not yet confirmed) may see: only what it needs to wait.

A waiting device learns from ``/status`` whether it was confirmed and fetches the envelopes
addressed to it. To open one it checks the granter against the county's chain of trust, so it
needs the granter's keys and certificate and the keys and certificate of whoever certified the
granter — and, before any key exists, its own certificate (a coordinator's device makes the
team's first key). Nothing more: not the rest of the team (names, devices, when each was last
seen), not the team's documents. Every other endpoint refuses a pending device
(``auth.confirmed_device``).
"""

from __future__ import annotations

from sqlalchemy import select

from kimdesk.server.db import Database
from kimdesk.server.enrolment import Caller
from kimdesk.server.tables import devices, envelopes, trust_documents


def visible_fingerprints(db: Database, caller: Caller) -> set[str]:
    """The caller, the granters of its envelopes and the issuers of their certificates."""
    with db.read() as conn:
        own = conn.execute(select(devices.c.fingerprint)
                           .where(devices.c.id == caller.id)).scalar_one()
        granters = set(conn.execute(
            select(devices.c.fingerprint).join(envelopes, envelopes.c.granter_id == devices.c.id)
            .where(envelopes.c.recipient_id == caller.id, devices.c.team == caller.team)
        ).scalars())
        issuers: set[str] = set()
        if granters:
            issuers = set(conn.execute(
                select(trust_documents.c.issuer).where(
                    trust_documents.c.team == caller.team,
                    trust_documents.c.kind == "certificate",
                    trust_documents.c.fingerprint.in_(sorted(granters)))).scalars())
    return {own} | granters | issuers


def visible_device_ids(db: Database, caller: Caller, fingerprints: set[str]) -> set[str]:
    """The team's devices with one of ``fingerprints`` (a fingerprint is the device's keys)."""
    with db.read() as conn:
        return set(conn.execute(select(devices.c.id).where(
            devices.c.team == caller.team,
            devices.c.fingerprint.in_(sorted(fingerprints)))).scalars())
