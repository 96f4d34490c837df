"""The audit trail as the Datenschutz screen and the Art. 15 report show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kimdesk.casework import audit
from kimdesk.casework.context import Context


@dataclass(frozen=True)
class TrailRow:
    seq: int
    at: datetime
    actor: str
    action: str  # German label
    what: str


def client_trail(ctx: Context, client_id: str) -> list[TrailRow]:
    """Who opened or changed this client file, and when."""
    with ctx.vault.reading() as session:
        entries = audit.entries_for_client(session, client_id)
    return [
        TrailRow(e.seq, e.at, e.actor, audit.ACTION_LABELS.get(e.action, e.action),
                 _describe(e.entity, e.detail))
        for e in entries
    ]


_ENTITY_LABELS = {
    "clients": "Stammdaten", "cases": "Fall", "contacts": "Kontakt", "consents": "Einwilligung",
    "assessments": "Assessment", "goals": "Ziel", "steps": "Handlungsschritt",
    "referrals": "Vermittlung", "deadlines": "Frist", "attachments": "Dokument",
    "residence_records": "Aufenthaltsstatus", "checklist_items": "§ 104c-Prüfpunkt",
    "relations": "Beziehung", "case_participants": "Fallbeteiligte:r",
    "deletion_proposals": "Löschvorschlag",
}


def _describe(entity: str, detail: dict[str, object]) -> str:
    label = _ENTITY_LABELS.get(entity, entity)
    fields = detail.get("fields")
    if isinstance(fields, list) and fields:
        return f"{label} ({', '.join(str(f) for f in fields)})"
    return label


def verify_trail(ctx: Context) -> list[audit.ChainProblem]:
    """Problems in the hash chain; empty when no entry was removed or altered."""
    with ctx.vault.reading() as session:
        return audit.verify(session, ctx.audit_key)
