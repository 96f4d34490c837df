"""Where a person's data came from and which colleagues changed it: the Auskunft's provenance.

Art. 15 Abs. 1 lit. g DSGVO asks for "alle verfügbaren Informationen über die Herkunft der
Daten". KIMdesk knows them from what it stored itself:

- **list import**: the person was created by a list import (the import's audit entry on her
  file, or an Einwilligung recorded with the form "aus Liste übernommen");
- **colleague**: the file was created by another person of the team (``created_by``), or
  fields hold values a colleague's device wrote (the synced field clocks name the device, the
  received changes name its user, ``sync_authors``);
- **institution**: a case came through an office (Zugangsweg Jobcenter, Ausländerbehörde …),
  or a mutual Schweigepflichtentbindung allows an office to pass information to the KIM;
- **self**: what the person said herself in the conversations (always, unless the file holds
  nothing but imported data).

Only ids, codes and names of colleagues are returned; the reports turn them into German text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kimdesk.casework.context import Context
from kimdesk.models import (
    Assessment,
    Attachment,
    AuditEntry,
    Case,
    CaseParticipant,
    ChecklistItem,
    Client,
    Consent,
    Contact,
    Deadline,
    Goal,
    Referral,
    Relation,
    ResidenceRecord,
    Step,
    VaultProfile,
)
from kimdesk.models.changelog import META_FIELDS, DeviceAuthor, RecordState, parse_hlc
from kimdesk.models.enums import ConsentKind

SELF = "self"
LIST_IMPORT = "list_import"
COLLEAGUE = "colleague"
INSTITUTION = "institution"

# Zugangswege that mean an office or service brought the person (and what it knew) to the KIM.
INSTITUTION_ROUTES = frozenset({
    "public_order_office", "social_welfare_office", "accommodation", "jobcenter",
    "immigration_office", "counselling_service", "school_daycare",
})
# References between records: not data about the person, never listed as changed fields.
_REFERENCE_FIELDS = frozenset({"client_id", "case_id", "goal_id", "other_id", "household_id",
                               "institution_id", "consent_id", "supersedes_id",
                               "recipient_institution_id"})


@dataclass(frozen=True)
class Source:
    """One origin of the data: ``kind`` (SELF, LIST_IMPORT, COLLEAGUE, INSTITUTION), who or
    what (a colleague's name, an office's label code or name) and since when, if known."""

    kind: str
    who: str = ""
    on: date | None = None
    route: str = ""  # Zugangsweg code, for INSTITUTION via a case


@dataclass(frozen=True)
class ColleagueEdit:
    """Fields of one record a colleague's device wrote, known from the synced change log."""

    at: datetime
    author: str
    table: str
    record_id: str
    fields: list[str] = field(default_factory=list)


def records_of(session: Session, client_id: str) -> dict[str, list[str]]:
    """The ids of every record about this person, per table."""
    goal_ids = list(session.scalars(select(Goal.id).where(Goal.client_id == client_id)))
    ids: dict[str, list[str]] = {"clients": [client_id], "goals": goal_ids}
    for model in (Consent, ResidenceRecord, ChecklistItem, Deadline, Attachment, Contact,
                  Assessment, Referral, Case, CaseParticipant):
        ids[model.__tablename__] = list(session.scalars(
            select(model.id).where(model.client_id == client_id)))
    ids["steps"] = list(session.scalars(select(Step.id).where(Step.goal_id.in_(goal_ids))))
    ids["relations"] = list(session.scalars(select(Relation.id).where(
        or_(Relation.client_id == client_id, Relation.other_id == client_id))))
    return ids


def colleague_edits(session: Session, client_id: str) -> list[ColleagueEdit]:
    """Changes to this person's records written on colleagues' devices, oldest first."""
    own_device = session.scalar(select(VaultProfile.device_id)) or ""
    authors = dict(session.execute(select(DeviceAuthor.origin, DeviceAuthor.user_name)).all())
    edits: list[ColleagueEdit] = []
    for table, ids in records_of(session, client_id).items():
        if not ids:
            continue
        for state in session.scalars(select(RecordState).where(RecordState.record_id.in_(ids))):
            by_write: dict[tuple[str, str], list[str]] = defaultdict(list)
            for name, clock in (state.clocks or {}).items():
                if (not clock or name in META_FIELDS or name in _REFERENCE_FIELDS
                        or clock[1] == own_device):
                    continue
                by_write[(str(clock[0]), str(clock[1]))].append(name)
            for (hlc, origin), names in by_write.items():
                wall_ms, _counter = parse_hlc(hlc)
                edits.append(ColleagueEdit(
                    at=datetime.fromtimestamp(wall_ms / 1000, UTC),
                    author=authors.get(origin, ""), table=table, record_id=state.record_id,
                    fields=sorted(names)))
    return sorted(edits, key=lambda e: (e.at, e.table, e.record_id))


def data_sources(ctx: Context, session: Session, client_id: str) -> list[Source]:
    """Where this person's data came from (see the module docstring), most specific first."""
    client = session.get(Client, client_id)
    if client is None:
        return []
    sources: list[Source] = []
    imported = session.scalar(select(AuditEntry.seq).where(
        AuditEntry.client_id == client_id, AuditEntry.action == "import").limit(1))
    consents = list(session.scalars(select(Consent).where(Consent.client_id == client_id)))
    listed = [c for c in consents if c.form == "liste"]
    if imported is not None or listed:
        sources.append(Source(LIST_IMPORT, client.created_by, client.created_at.date()))
    colleagues = {client.created_by} - {ctx.user, ""}
    colleagues |= {e.author for e in colleague_edits(session, client_id)} - {ctx.user, ""}
    sources += [Source(COLLEAGUE, name) for name in sorted(colleagues)]
    for route, opened in session.execute(
            select(Case.access_route, Case.opened_on).where(Case.client_id == client_id)
            .order_by(Case.opened_on)):
        if route in INSTITUTION_ROUTES:
            sources.append(Source(INSTITUTION, route=route, on=opened))
    for consent in consents:
        if consent.kind == ConsentKind.RELEASE and consent.mutual:
            sources.append(Source(INSTITUTION, who=consent.recipient_institution_id
                                  or consent.recipient_type or consent.recipient_text,
                                  on=consent.given_on))
    conversations = session.scalar(select(Contact.id).where(
        Contact.client_id == client_id).limit(1))
    if conversations is not None or not sources or sources[0].kind != LIST_IMPORT:
        sources.append(Source(SELF))
    return sources
