"""Small helpers every use case shares: loading by id, vocabulary checks, audit, consent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework import audit
from kimdesk.casework.context import Context
from kimdesk.errors import NotFound, ValidationError
from kimdesk.models import AuditEntry, Client, Consent, Entity, utcnow
from kimdesk.models.enums import ConsentKind

E = TypeVar("E", bound=Entity)


def load(session: Session, model: type[E], entity_id: str, what: str) -> E:
    """The entity with ``entity_id``, or NotFound naming ``what`` in German."""
    entity = session.get(model, entity_id)
    if entity is None:
        raise NotFound(f"{what} wurde nicht gefunden (vielleicht schon gelöscht).")
    return entity


def check_code(ctx: Context, vocabulary: str, code: str, field: str, label: str) -> None:
    if code not in ctx.reference.codes(vocabulary):
        raise ValidationError(f"{label}: „{code}“ ist kein gültiger Eintrag.", field)


def check_codes(
    ctx: Context, vocabulary: str, codes: Iterable[str], field: str, label: str
) -> None:
    for code in codes:
        check_code(ctx, vocabulary, code, field, label)


def check_municipality(ctx: Context, code: str, field: str = "municipality") -> None:
    if code not in {m.code for m in ctx.reference.municipalities}:
        raise ValidationError("Bitte eine Kommune des Kreises Kleve wählen.", field)


def check_not_future(ctx: Context, value: date | None, field: str, label: str) -> None:
    if value is not None and value > ctx.today():
        raise ValidationError(f"{label} darf nicht in der Zukunft liegen.", field)


def stamp(ctx: Context, entity: Entity, *, created: bool = False) -> None:
    """Who changed the record; the timestamps are set by the model."""
    entity.updated_by = ctx.user
    if created:
        entity.created_by = ctx.user


def record(
    ctx: Context,
    session: Session,
    action: str,
    client_id: str | None,
    entity: Entity | None = None,
    **detail: Any,
) -> None:
    audit.append(
        session,
        ctx.audit_key,
        actor=ctx.user,
        action=action,
        client_id=client_id,
        entity=entity.__tablename__ if entity is not None else "",
        entity_id=entity.id if entity is not None else "",
        detail=detail,
    )


def add_recorded(ctx: Context, session: Session, entity: E, client_id: str | None = None,
                 **detail: Any) -> E:
    """A new entity: stamped, added, flushed (so it has its id) and audited as created."""
    stamp(ctx, entity, created=True)
    session.add(entity)
    session.flush()
    record(ctx, session, "create", client_id, entity, **detail)
    return entity


def update_recorded(ctx: Context, session: Session, entity: E, values: dict[str, Any],
                    client_id: str | None = None) -> E:
    """Checked values set on an entity, stamped and audited with the fields' names."""
    for name, value in values.items():
        setattr(entity, name, value)
    stamp(ctx, entity)
    record(ctx, session, "update", client_id, entity, fields=sorted(values))
    return entity


# Reloading an open file after each save is one reading, not many: a read of the same file by
# the same person within this window is not recorded again.
READ_AUDIT_WINDOW = timedelta(minutes=10)


def record_read(ctx: Context, session: Session, client: Client, entity: Entity | None = None
                ) -> None:
    """Audit that ``client``'s file (or ``entity`` of it) was opened."""
    last = session.scalar(
        select(AuditEntry.at).where(AuditEntry.client_id == client.id,
                                    AuditEntry.actor == ctx.user, AuditEntry.action == "read")
        .order_by(AuditEntry.seq.desc()).limit(1))
    if last is None or utcnow() - last >= READ_AUDIT_WINDOW:
        record(ctx, session, "read", client.id, entity or client)


def active_consents(session: Session, client_id: str, on: date) -> list[Consent]:
    consents = session.scalars(select(Consent).where(Consent.client_id == client_id))
    return [c for c in consents if c.is_active(on)]


def has_processing_consent(session: Session, client_id: str, on: date) -> bool:
    return any(
        c.kind == ConsentKind.DATA_PROCESSING for c in active_consents(session, client_id, on)
    )


def require_processing_consent(
    ctx: Context, session: Session, client_id: str, what: str, field: str | None = None
) -> None:
    if not has_processing_consent(session, client_id, ctx.today()):
        raise ValidationError(
            f"{what} setzt eine gültige Einwilligung in die Datenverarbeitung voraus. "
            "Bitte zuerst die Einwilligung erfassen.",
            field,
        )
