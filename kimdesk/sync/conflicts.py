"""Review of sync conflicts: concurrent edits of one field, shown to a person who keeps the
value that won or brings back the one it overwrote (DESIGN.md, "No silent loss").

A restored value is written through casework like a typed change, so it joins the change log
and reaches the team with the next sync. The decision itself is shared too: a
:class:`ConflictResolution` record (synced, named by record, field and the clock of the write
that lost, the same on every device) closes that conflict on every device of the team, and a
device that joins later never lists it (``kimdesk.sync.merge``). The conflict rows with the
losing values stay on each device.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework import clients
from kimdesk.casework.common import record, stamp
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, NotFound
from kimdesk.models import Case, Client, Entity, Goal, Household, VaultProfile, utcnow
from kimdesk.models.base import Base
from kimdesk.models.changelog import (
    Conflict,
    ConflictResolution,
    DeviceAuthor,
    decode_value,
    encode_value,
    field_clock,
    parse_hlc,
    resolution_id,
)
from kimdesk.sync.merge import IDENTITY_FIELDS

# What each kind of record is called on screen.
KIND_LABELS = {
    "households": "Haushalt",
    "clients": "Stammdaten",
    "relations": "Beziehung",
    "residence_records": "Aufenthaltsstatus",
    "checklist_items": "§ 104c-Prüfpunkt",
    "institutions": "Akteur/Einrichtung",
    "cases": "Fall",
    "case_participants": "Fallbeteiligte:r",
    "case_topics": "Thema des Falls",
    "case_kind_changes": "Umwandlung des Falls",
    "phase_changes": "Phasenwechsel",
    "contacts": "Kontakt",
    "assessments": "Assessment",
    "goals": "Ziel",
    "steps": "Handlungsschritt",
    "consents": "Einwilligung",
    "referrals": "Vermittlung",
    "deadlines": "Frist",
    "attachments": "Dokument",
    "generative_themes": "Generatives Thema",
    "case_reconstructions": "Fallrekonstruktion",
    "case_reviews": "Fallbesprechung",
    "findings": "Erkenntnis",
    "project_groups": "Projektgruppe",
    "steering_members": "Mitglied der Lenkungsgruppe",
    "steering_meetings": "Sitzung der Lenkungsgruppe",
    "steering_decisions": "Lenkungsgruppenbeschluss",
    "structural_activities": "Strukturelle Tätigkeit",
    "municipal_agreements": "Kommunale Vereinbarung",
    "appointments": "Termin",
    "case_handovers": "Fallübergabe",
}

# Field labels as the forms show them; a field of one kind only is keyed "kind.field".
FIELD_LABELS = {
    "first_name": "Vorname",
    "last_name": "Nachname",
    "organisation_name": "Name der Organisation",
    "anonymous": "Anonyme Beratung",
    "gender": "Geschlecht",
    "birth_date": "Geburtsdatum",
    "nationality": "Staatsangehörigkeit",
    "languages": "Sprachen",
    "interpreter_language": "Sprachmittlung in",
    "municipality": "Kommune",
    "address": "Anschrift",
    "phone": "Telefon",
    "email": "E-Mail",
    "arrival_date": "Einreisedatum",
    "household_id": "Haushalt",
    "household_role": "Rolle im Haushalt",
    "notes": "Notizen",
    "note": "Notiz",
    "label": "Bezeichnung",
    "name": "Name",
    "institution_type": "Art",
    "legal_domain": "Rechtskreis",
    "contact_person": "Ansprechperson",
    "residence_records.status": "Aufenthaltsstatus",
    "granted_on": "erteilt am",
    "valid_until": "gültig bis",
    "item": "Prüfpunkt",
    "fulfilled": "erfüllt",
    "fulfilled_on": "erfüllt am",
    "cases.kind": "Fallart",
    "phase": "Phase",
    "status": "Status",
    "opened_on": "Fallbeginn",
    "closed_on": "Abschlussdatum",
    "closing_reason": "Abschlussgrund",
    "closing_note": "Abschlussgespräch",
    "access_route": "Zugangsweg",
    "concern": "Anliegen",
    "art13_informed_on": "Information nach Art. 13 am",
    "case_manager": "Case Manager:in",
    "contact_on": "Datum",
    "duration_minutes": "Dauer",
    "mode": "Kontaktart",
    "place": "Ort",
    "interpreter": "Sprach- und Kulturmittlung",
    "client_present": "Ratsuchende:r anwesend",
    "topics": "Themen",
    "situation": "Situation",
    "resources": "Ressourcen",
    "problems": "Probleme",
    "client_view": "Sicht der/des Ratsuchenden",
    "need": "Bedarf",
    "priority": "Priorität",
    "institutions": "Beteiligte Institutionen",
    "life_area": "Handlungsfeld",
    "title": "Titel",
    "detail": "Beschreibung",
    "agreed_on": "vereinbart am",
    "due_on": "fällig am",
    "attainment": "Zielerreichung",
    "evaluated_on": "bewertet am",
    "description": "Beschreibung",
    "responsible": "verantwortlich",
    "done_on": "erledigt am",
    "consents.kind": "Art der Einwilligung",
    "recipient_type": "Art der Stelle",
    "recipient_text": "Ansprechperson",
    "information_kinds": "Informationen",
    "purpose": "Zweck",
    "given_on": "erteilt am",
    "form": "Form",
    "language": "Sprache",
    "revoked_on": "widerrufen am",
    "revocation_note": "Notiz zum Widerruf",
    "referred_on": "vermittelt am",
    "outcome": "Ergebnis",
    "outcome_on": "Ergebnis am",
    "deadlines.kind": "Art",
    "filename": "Datei",
}

# Fields holding codes of a vocabulary of the reference data (shown by their label).
_VOCABULARIES = {
    "gender": "genders",
    "residence_records.status": "residence_statuses",
    "cases.kind": "case_kinds",
    "phase": "phases",
    "access_route": "access_routes",
    "closing_reason": "closing_reasons",
    "mode": "contact_kinds",
    "topics": "topics",
    "topic": "topics",
    "life_area": "topics",
    "attainment": "goal_attainment",
    "consents.kind": "consent_kinds",
    "recipient_type": "institution_types",
    "institution_type": "institution_types",
    "legal_domain": "legal_domains",
    "information_kinds": "information_kinds",
    "outcome": "referral_outcomes",
    "deadlines.kind": "deadline_kinds",
    "tags": "review_tags",
}

# Client fields that the Stammdaten use case changes (everything else is written generically).
_CLIENT_FIELDS = frozenset(clients.ClientInput.__dataclass_fields__) - {"extra", "kind"}


@dataclass(frozen=True)
class ConflictRow:
    """One open conflict as the review shows it; values are already formatted for display."""

    id: int
    kind: str
    record_id: str
    record: str  # the client's name, or the kind of record and whose file it belongs to
    field: str
    field_label: str
    kept: str  # the value the vault holds now
    lost: str  # the value that was overwritten
    kept_by: str  # who wrote it, "" where this device cannot know
    kept_at: datetime | None
    lost_by: str
    lost_at: datetime | None
    detected_at: datetime
    identity: bool  # identity or residence field: never decided silently


def _entity_class(kind: str) -> type[Entity] | None:
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__tablename__", None) == kind and issubclass(cls, Entity):
            return cls
    return None


def _key(kind: str, name: str) -> str:
    qualified = f"{kind}.{name}"
    return qualified if qualified in FIELD_LABELS or qualified in _VOCABULARIES else name


def field_label(kind: str, name: str) -> str:
    return FIELD_LABELS.get(_key(kind, name), name)


def format_value(ctx: Context, kind: str, name: str, value: Any) -> str:
    """A stored value (as the change log encodes it) the way a person reads it."""
    value = decode_value(value)
    if value is None or value == "" or value == []:
        return "(leer)"
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    key = _key(kind, name)
    if isinstance(value, list):
        return ", ".join(format_value(ctx, kind, name, item) for item in value)
    if not isinstance(value, str):
        return str(value)
    reference = ctx.reference
    try:
        if key in _VOCABULARIES:
            return reference.label(_VOCABULARIES[key], value)
        if name == "nationality":
            return reference.nationality(value).name
        if name == "municipality":
            return reference.municipality(value).name
    except KeyError:
        pass  # a code this release does not know: shown as stored
    return value


def _hlc_time(hlc: str) -> datetime | None:
    try:
        wall_ms, _counter = parse_hlc(hlc)
    except ValueError:
        return None
    return datetime.fromtimestamp(wall_ms / 1000, UTC)


def _client_name(session: Session, client_id: str | None) -> str:
    client = session.get(Client, client_id) if client_id else None
    return client.display_name if client is not None else ""


def _owning_client(session: Session, entity: Entity) -> tuple[str | None, str]:
    """(client id, name to show) of the file a record belongs to; a household case shows
    its household's label."""
    client_id = getattr(entity, "client_id", None)
    if client_id is None and getattr(entity, "goal_id", None):
        goal = session.get(Goal, entity.goal_id)  # type: ignore[attr-defined]
        client_id = goal.client_id if goal is not None else None
    if client_id is None and getattr(entity, "case_id", None):
        case = session.get(Case, entity.case_id)  # type: ignore[attr-defined]
        if case is not None:
            client_id = case.client_id
            if client_id is None and case.household_id:
                household = session.get(Household, case.household_id)
                return None, household.label if household is not None else ""
    return client_id, _client_name(session, client_id)


# Records without a client: what names them on screen.
_TITLES = {"households": "label", "institutions": "name", "project_groups": "name",
           "case_reconstructions": "title", "steering_decisions": "title"}


def _record_label(session: Session, kind: str, entity: Entity) -> str:
    if isinstance(entity, Client):
        return entity.display_name
    label = KIND_LABELS.get(kind, kind)
    _client_id, owner = _owning_client(session, entity)
    if not owner and kind in _TITLES:
        owner = str(getattr(entity, _TITLES[kind], "") or "")
    return f"{label} – {owner}" if owner else label


class _Authors:
    """Who wrote a value: this device's user, the user of the device the change came from
    (every change names its author), or the author of the record's last change when that
    change wrote the field too."""

    def __init__(self, session: Session) -> None:
        profile = session.scalars(select(VaultProfile)).first()
        self._own = (profile.device_id, profile.user_name) if profile else ("", "")
        self._session = session

    def name(self, entity: Entity, hlc: str, origin: str) -> str:
        if origin == self._own[0]:
            return self._own[1]
        author = self._session.get(DeviceAuthor, origin)
        if author is not None:
            return author.user_name
        clock = field_clock(self._session, entity.id, "updated_by")
        if clock is not None and (clock.hlc, clock.origin) == (hlc, origin):
            return entity.updated_by
        return ""


def _row(ctx: Context, session: Session, conflict: Conflict, entity: Entity,
         authors: _Authors) -> ConflictRow | None:
    table = type(entity).__table__
    if conflict.field not in table.c:
        return None
    attribute = type(entity).__mapper__.get_property_by_column(table.c[conflict.field]).key
    current = encode_value(getattr(entity, attribute))
    if current == conflict.lost_value.get("v"):
        return None  # the overwritten value is back (restored here or on another device)
    clock = field_clock(session, conflict.record_id, conflict.field)
    kept_hlc, kept_origin = ((clock.hlc, clock.origin) if clock is not None
                             else (conflict.kept_hlc, conflict.kept_origin))
    kind, name = conflict.kind, conflict.field
    return ConflictRow(
        id=conflict.id, kind=kind, record_id=conflict.record_id,
        record=_record_label(session, kind, entity), field=name,
        field_label=field_label(kind, name),
        kept=format_value(ctx, kind, name, current),
        lost=format_value(ctx, kind, name, conflict.lost_value.get("v")),
        kept_by=authors.name(entity, kept_hlc, kept_origin), kept_at=_hlc_time(kept_hlc),
        lost_by=authors.name(entity, conflict.lost_hlc, conflict.lost_origin),
        lost_at=_hlc_time(conflict.lost_hlc), detected_at=conflict.detected_at,
        identity=(kind, name) in IDENTITY_FIELDS)


def open_conflicts(ctx: Context) -> list[ConflictRow]:
    """Conflicts still to review: identity and residence fields first, then the newest.

    A conflict whose record was deleted since, or whose overwritten value is the current one
    again, leaves nothing to decide and is not listed.
    """
    rows: list[ConflictRow] = []
    with ctx.vault.reading() as session:
        authors = _Authors(session)
        decided = {(r, f, h, o) for r, f, h, o in session.execute(select(
            ConflictResolution.record_id, ConflictResolution.field,
            ConflictResolution.lost_hlc, ConflictResolution.lost_origin))}
        for conflict in session.scalars(select(Conflict).where(Conflict.resolved_at.is_(None))
                                        .order_by(Conflict.detected_at.desc(), Conflict.id)):
            if (conflict.record_id, conflict.field, conflict.lost_hlc,
                    conflict.lost_origin) in decided:
                continue  # decided on another device; closed at the next merge anyway
            cls = _entity_class(conflict.kind)
            entity = session.get(cls, conflict.record_id) if cls is not None else None
            if entity is None:
                continue
            row = _row(ctx, session, conflict, entity, authors)
            if row is not None:
                rows.append(row)
    rows.sort(key=lambda r: not r.identity)  # stable: keeps the newest-first order within
    return rows


def _load_open(session: Session, conflict_id: int) -> Conflict:
    conflict = session.get(Conflict, conflict_id)
    if conflict is None:
        raise NotFound("Dieser Konflikt wurde nicht gefunden.")
    if conflict.resolved_at is not None:
        raise KimdeskError("Dieser Konflikt wurde bereits entschieden.")
    decided = session.get(ConflictResolution, resolution_id(
        conflict.record_id, conflict.field, conflict.lost_hlc, conflict.lost_origin))
    if decided is not None:
        raise KimdeskError("Dieser Konflikt wurde bereits auf einem anderen Gerät entschieden.")
    return conflict


def _resolve(ctx: Context, session: Session, conflict: Conflict, resolution: str,
             entity: Entity | None) -> None:
    conflict.resolved_at = utcnow()
    conflict.resolved_by = ctx.user
    conflict.resolution = resolution
    # The decision is a synced record: it closes this conflict on every device of the team.
    decision = ConflictResolution(
        id=resolution_id(conflict.record_id, conflict.field, conflict.lost_hlc,
                         conflict.lost_origin),
        kind=conflict.kind, record_id=conflict.record_id, field=conflict.field,
        lost_hlc=conflict.lost_hlc, lost_origin=conflict.lost_origin, resolution=resolution)
    stamp(ctx, decision, created=True)
    session.add(decision)
    client_id = None
    if entity is not None:
        client_id = entity.id if isinstance(entity, Client) else _owning_client(session,
                                                                                  entity)[0]
    record(ctx, session, f"conflict_{resolution}", client_id, entity,
           fields=[conflict.field], conflict=conflict.id)


def keep(ctx: Context, conflict_id: int) -> None:
    """The value that won stays; the conflict is marked as reviewed."""
    with ctx.vault.writing() as session:
        conflict = _load_open(session, conflict_id)
        cls = _entity_class(conflict.kind)
        entity = session.get(cls, conflict.record_id) if cls is not None else None
        _resolve(ctx, session, conflict, "kept", entity)


def restore(ctx: Context, conflict_id: int) -> None:
    """Write the overwritten value back as a new change (it reaches the team with the next
    sync), then mark the conflict as reviewed. Rules of the use case apply: a value the
    record may no longer hold is refused with a ValidationError and nothing changes."""
    with ctx.vault.writing() as session:
        conflict = _load_open(session, conflict_id)
        value = decode_value(conflict.lost_value.get("v"))
        cls = _entity_class(conflict.kind)
        entity = session.get(cls, conflict.record_id) if cls is not None else None
        if cls is None or entity is None:
            raise NotFound("Der Datensatz wurde inzwischen gelöscht.")
        if conflict.kind == "clients" and conflict.field in _CLIENT_FIELDS:
            entity = clients.update_client(ctx, conflict.record_id, {conflict.field: value})
        else:
            table = cls.__table__
            if conflict.field not in table.c:
                raise KimdeskError("Dieses Feld gibt es in dieser Version nicht mehr.")
            attribute = cls.__mapper__.get_property_by_column(table.c[conflict.field]).key
            setattr(entity, attribute, value)
            stamp(ctx, entity)
            client_id = entity.id if isinstance(entity, Client) else _owning_client(
                session, entity)[0]
            record(ctx, session, "update", client_id, entity, fields=[conflict.field])
        _resolve(ctx, session, conflict, "restored", entity)
