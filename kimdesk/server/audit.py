"""The server's own audit log: what it and county IT did (enrolment, keys, revocation …).

Entries hold ids, names of staff and counts, never a record or a payload: the server has no
plaintext of client data, and its log must not become a place where some could collect.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from kimdesk.server.db import as_utc, utcnow
from kimdesk.server.tables import audit_log

# action code → German label for `server-admin audit`
ACTIONS = {
    "team_created": "Team angelegt",
    "code_issued": "Anmeldecode ausgegeben",
    "device_enrolled": "Gerät angemeldet",
    "team_key_created": "Team-Schlüssel angelegt",
    "key_granted": "Team-Schlüssel übergeben (Gerät bestätigt)",
    "key_rotated": "Team-Schlüssel erneuert",
    "rotation_requested": "Erneuerung des Team-Schlüssels angefordert (ohne Sperrung)",
    "device_revoked": "Gerät gesperrt",
    "wipe_requested": "Gesperrtes Gerät meldete sich (Löschauftrag gesendet)",
    "lost_device_report": "Verlustbericht erstellt",
    "lease_code_issued": "Freischaltcode ausgegeben",
    "trust_certificate": "Gerätezertifikat hinterlegt",
    "trust_revocation": "Signierte Sperrung hinterlegt",
    "enrol_refused": "Anmeldung abgelehnt (Code falsch, benutzt, abgelaufen oder fremd)",
    "enrol_blocked": "Anmeldungen gesperrt: zu viele Fehlversuche (Rechner oder Team)",
    "audit_trail_tampered": "Protokoll eines Geräts gekürzt oder verändert (Anker weicht ab)",
}
WIPE_REPEAT = timedelta(hours=1)  # a revoked device retrying is logged once an hour


@dataclass(frozen=True)
class Entry:
    at: datetime
    action: str
    actor: str
    team: str | None
    device_id: str | None
    detail: dict[str, Any]

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "action": self.action, "actor": self.actor,
                "team": self.team, "device_id": self.device_id, "detail": self.detail}


def admin_actor() -> str:
    """Who ran a `server-admin` command: the operating-system account."""
    try:
        return f"admin:{getpass.getuser()}"
    except Exception:  # no user name in a bare container
        return "admin"


def device_actor(device_id: str) -> str:
    return f"device:{device_id}"


def record(conn: Connection, action: str, actor: str, *, team: str | None = None,
           device_id: str | None = None, **detail: Any) -> None:
    """Append one entry inside the caller's transaction (so it commits with the action)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    conn.execute(insert(audit_log).values(
        at=utcnow(), action=action, actor=actor, team=team, device_id=device_id,
        detail=json.dumps(detail, sort_keys=True, ensure_ascii=False)))


def record_wipe_request(conn: Connection, device_id: str, team: str) -> None:
    """Log that a revoked device connected, at most once per hour and device."""
    last = conn.execute(
        select(audit_log.c.at).where(audit_log.c.action == "wipe_requested",
                                     audit_log.c.device_id == device_id)
        .order_by(audit_log.c.id.desc()).limit(1)).scalar()
    last_at = as_utc(last)
    if last_at is not None and utcnow() - last_at < WIPE_REPEAT:
        return
    record(conn, "wipe_requested", device_actor(device_id), team=team, device_id=device_id)


def entries(conn: Connection, limit: int = 50, actions: Sequence[str] = ()) -> list[Entry]:
    """The newest ``limit`` entries (of ``actions`` only, if given), oldest first."""
    query = select(audit_log)
    if actions:
        query = query.where(audit_log.c.action.in_(list(actions)))
    rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit)).all()
    return [Entry(at=as_utc(r.at) or utcnow(), action=r.action, actor=r.actor, team=r.team,
                  device_id=r.device_id, detail=json.loads(r.detail or "{}"))
            for r in reversed(rows)]
