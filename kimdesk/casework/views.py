"""Read models for the screens: list rows of Ratsuchende and the whole client file.

List rows are plain dataclasses. The ClientFile carries frozen records of what it loaded
(``kimdesk/casework/records.py``), never ORM entities, so screens can keep and pass them on
without touching the database again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute

from kimdesk.casework import appointments, search
from kimdesk.casework.common import load, record_read
from kimdesk.casework.context import Context
from kimdesk.casework.records import (
    AppointmentRecord,
    AttachmentRecord,
    CaseRecord,
    ChecklistEntry,
    ClientRecord,
    ConsentRecord,
    ContactRecord,
    DeadlineRecord,
    HouseholdRecord,
    RelationRecord,
    ResidenceEntry,
)
from kimdesk.models import (
    Appointment,
    Attachment,
    AuditEntry,
    Case,
    CaseHandover,
    CaseKindChange,
    CaseParticipant,
    ChecklistItem,
    Client,
    Consent,
    Contact,
    Deadline,
    Entity,
    Household,
    PhaseChange,
    Referral,
    Relation,
    ResidenceRecord,
)
from kimdesk.models.enums import CaseKind, CaseStatus, Phase

E = TypeVar("E", bound=Entity)


@dataclass(frozen=True)
class ClientRow:
    """One line of the Ratsuchende list."""

    id: str
    display_name: str
    kind: str
    birth_date: date | None
    municipality: str
    nationality: str | None
    case_kind: str | None  # of the newest case
    phase: str | None
    case_status: str | None  # open / closed / None (no case yet)
    next_due: date | None
    # The newest case is a household member's case the person takes part in (a family case).
    family_case: bool = False


@dataclass(frozen=True)
class ClientFilter:
    query: str = ""
    municipality: str | None = None
    case_kind: str | None = None
    phase: str | None = None
    case_status: str | None = None  # "open", "closed"


def client_rows(ctx: Context) -> list[ClientRow]:
    """All clients with their newest case and next open deadline, sorted by name.

    A person's cases are her own and those of household members she takes part in (a child in
    her mother's open case is not "ohne Fall"); open cases come first, then the newest."""
    with ctx.vault.reading() as session:
        own = select(Case.client_id.label("person_id"), Case.kind, Case.phase, Case.status,
                     Case.opened_on, literal(0).label("family"))
        joined = (select(CaseParticipant.client_id.label("person_id"), Case.kind, Case.phase,
                         Case.status, Case.opened_on, literal(1).label("family"))
                  .join(Case, Case.id == CaseParticipant.case_id))
        involved = union_all(own, joined).subquery()
        newest = (
            select(involved.c.person_id.label("client_id"), involved.c.kind, involved.c.phase,
                   involved.c.status, involved.c.family,
                   func.row_number().over(partition_by=involved.c.person_id,
                                          order_by=(involved.c.status.desc(),
                                                    involved.c.opened_on.desc(),
                                                    involved.c.family)
                                          ).label("n"))
            .subquery()
        )
        due = (
            select(Deadline.client_id, func.min(Deadline.due_on).label("next_due"))
            .where(Deadline.done_on.is_(None)).group_by(Deadline.client_id).subquery()
        )
        rows = session.execute(
            select(Client, newest.c.kind, newest.c.phase, newest.c.status, due.c.next_due,
                   newest.c.family)
            .outerjoin(newest, (newest.c.client_id == Client.id) & (newest.c.n == 1))
            .outerjoin(due, due.c.client_id == Client.id)
        )
        result = [
            ClientRow(c.id, c.display_name, c.kind, c.birth_date, c.municipality, c.nationality,
                      kind, phase, status, next_due, bool(family))
            for c, kind, phase, status, next_due, family in rows
        ]
    result.sort(key=lambda r: r.display_name.casefold())
    return result


def matching_client_ids(ctx: Context, query: str, limit: int = 100_000) -> set[str] | None:
    """Ids matching a typed query (FTS), or None when the query is empty (no text filter)."""
    if not query.strip():
        return None
    with ctx.vault.reading() as session:
        return set(search.matching_ids(session, query, limit, ranked=False))


def filter_rows(rows: list[ClientRow], flt: ClientFilter, ids: set[str] | None
                ) -> list[ClientRow]:
    """Apply the list filters in memory; ``ids`` from :func:`matching_client_ids`."""
    return [
        r for r in rows
        if (ids is None or r.id in ids)
        and (flt.municipality is None or r.municipality == flt.municipality)
        and (flt.case_kind is None or r.case_kind == flt.case_kind)
        and (flt.phase is None or r.phase == flt.phase)
        and (flt.case_status is None or r.case_status == flt.case_status)
    ]


@dataclass(frozen=True)
class TimelineEntry:
    """One event in the Verlauf of a client file."""

    on: date
    kind: str  # contact, phase, case_kind, referral, deadline, consent, residence, handover,
    # appointment
    title: str
    detail: str = ""
    case_id: str | None = None


@dataclass
class ClientFile:
    client: ClientRecord
    household: HouseholdRecord | None
    members: list[ClientRecord]
    relations: list[RelationRecord]
    consents: list[ConsentRecord]
    residence: list[ResidenceEntry]
    checklist: list[ChecklistEntry]
    attachments: list[AttachmentRecord]
    cases: list[CaseRecord]
    contacts: list[ContactRecord]
    open_deadlines: list[DeadlineRecord]
    timeline: list[TimelineEntry] = field(default_factory=list)
    # Cases of household members the person takes part in (with her own goals), and the name
    # of each such case's client; ``contacts`` holds their contacts, too (the family's Verlauf).
    family_cases: list[CaseRecord] = field(default_factory=list)
    family_case_clients: dict[str, str] = field(default_factory=dict)
    appointments: list[AppointmentRecord] = field(default_factory=list)  # her Termine, by time

    @property
    def has_any_case(self) -> bool:
        """Her own cases or a family case she takes part in."""
        return bool(self.cases or self.family_cases)

    def has_processing_consent(self, on: date) -> bool:
        """Whether an Einwilligung in die Datenverarbeitung is active on ``on``."""
        return any(c.kind == "data_processing" and c.is_active(on) for c in self.consents)


def open_client_file(ctx: Context, client_id: str) -> ClientFile:
    """Everything shown in a client file, loaded at once; the read is audited."""
    ref = ctx.reference
    with ctx.vault.writing() as session:
        client = load(session, Client, client_id, "Die Person")
        record_read(ctx, session, client)

        def all_of(model: type[E], *where: ColumnElement[bool],
                   order: ColumnElement[Any] | InstrumentedAttribute[Any] | None = None
                   ) -> list[E]:
            query = select(model).where(*where)
            return list(session.scalars(query.order_by(order) if order is not None else query))

        household = session.get(Household, client.household_id) if client.household_id else None
        members = (all_of(Client, Client.household_id == household.id, Client.id != client.id,
                          order=Client.created_at) if household else [])
        cases = all_of(Case, Case.client_id == client_id, order=Case.opened_on)
        family_cases = all_of(Case, Case.id.in_(
            select(CaseParticipant.case_id).where(CaseParticipant.client_id == client_id)),
            Case.client_id != client_id, order=Case.opened_on)
        main_clients = {c.id: c for c in all_of(Client, Client.id.in_(
            [case.client_id for case in family_cases]))}
        family_case_clients = {case.id: main_clients[case.client_id].display_name
                               for case in family_cases}
        case_ids = [c.id for c in cases]
        all_case_ids = case_ids + [c.id for c in family_cases]
        contacts = all_of(Contact, Contact.case_id.in_(all_case_ids),
                          Contact.superseded.is_(False), order=Contact.contact_on)
        people = {client.id: client.display_name, **{m.id: m.display_name for m in members},
                  **{c.client_id: family_case_clients[c.id] for c in family_cases}}
        missing = {c.client_id for c in contacts} - people.keys()
        people.update({c.id: c.display_name for c in all_of(Client, Client.id.in_(missing))})
        phases = all_of(PhaseChange, PhaseChange.case_id.in_(case_ids))
        kinds = all_of(CaseKindChange, CaseKindChange.case_id.in_(case_ids))
        handovers = all_of(CaseHandover, CaseHandover.case_id.in_(all_case_ids))
        termine = [a for a in all_of(Appointment, Appointment.client_id == client_id)
                   if not a.cancelled]
        termine.sort(key=lambda a: (a.day, a.start_minute))
        referrals = all_of(Referral, Referral.client_id == client_id)
        consents = all_of(Consent, Consent.client_id == client_id, order=Consent.given_on)
        residence = all_of(ResidenceRecord, ResidenceRecord.client_id == client_id,
                           order=ResidenceRecord.created_at)
        deadlines = all_of(Deadline, Deadline.client_id == client_id, order=Deadline.due_on)
        file = ClientFile(
            client=ClientRecord.of(client),
            household=HouseholdRecord.of(household) if household else None,
            members=[ClientRecord.of(m) for m in members],
            relations=[RelationRecord.of(r) for r in all_of(
                Relation, (Relation.client_id == client_id) | (Relation.other_id == client_id))],
            consents=[ConsentRecord.of(c) for c in consents],
            residence=[ResidenceEntry.of(r) for r in residence],
            checklist=[ChecklistEntry.of(c) for c in all_of(
                ChecklistItem, ChecklistItem.client_id == client_id)],
            attachments=[AttachmentRecord.of(a) for a in all_of(
                Attachment, Attachment.client_id == client_id, order=Attachment.created_at)],
            cases=[CaseRecord.of(c) for c in cases],
            contacts=[ContactRecord.of(c) for c in contacts],
            open_deadlines=[DeadlineRecord.of(d) for d in deadlines if d.done_on is None],
            family_cases=[CaseRecord.of(c) for c in family_cases],
            family_case_clients=family_case_clients,
            appointments=[AppointmentRecord.of(a) for a in termine],
        )
    timeline: list[TimelineEntry] = []
    family_ids = set(family_case_clients)
    for contact in contacts:
        topics = ", ".join(ref.label("topics", t) for t in contact.topics if t in
                           ref.codes("topics"))
        title = (f"Kontakt: {ref.label('contact_kinds', contact.mode)}"
                 f" ({contact.duration_minutes} Min.)")
        if contact.case_id in family_ids:
            title += f" – Familienfall von {family_case_clients[contact.case_id]}"
        if contact.client_id != client_id:
            title += f", mit {people.get(contact.client_id, 'einem Familienmitglied')}"
        detail = "\n".join(part for part in (topics, contact.note.strip()) if part)
        timeline.append(TimelineEntry(contact.contact_on, "contact", title, detail,
                                      contact.case_id))
    for family_case in family_cases:
        timeline.append(TimelineEntry(
            family_case.opened_on, "case_kind",
            f"Beteiligt am Fall von {family_case_clients[family_case.id]}",
            CaseKind(family_case.kind).label, family_case.id))
    for termin in termine:
        label = appointments.KINDS.get(termin.kind, termin.kind)
        timeline.append(TimelineEntry(
            termin.day, "appointment", f"{label} um {termin.starts_at:%H:%M} Uhr: {termin.title}",
            termin.place, termin.case_id))
    for handover in handovers:
        timeline.append(TimelineEntry(
            handover.handed_over_on, "handover",
            f"Fall übergeben: {handover.from_manager} → {handover.to_manager}", handover.reason,
            handover.case_id))
    for change in kinds:
        label = CaseKind(change.to_kind).label
        title = f"Fall eröffnet: {label}" if change.from_kind is None else f"Umgewandelt in {label}"
        timeline.append(TimelineEntry(change.changed_on, "case_kind", title, change.reason,
                                      change.case_id))
    for phase_change in phases:
        timeline.append(TimelineEntry(phase_change.changed_on, "phase",
                                      f"Phase: {Phase(phase_change.to_phase).label}",
                                      phase_change.note, phase_change.case_id))
    for referral in referrals:
        timeline.append(TimelineEntry(
            referral.referred_on, "referral", "Vermittlung",
            f"{referral.purpose} – {ref.label('referral_outcomes', referral.outcome)}",
            referral.case_id))
    for case in cases:
        if case.status == CaseStatus.CLOSED and case.closed_on:
            timeline.append(TimelineEntry(
                case.closed_on, "case_kind", "Fall abgeschlossen",
                ref.label("closing_reasons", case.closing_reason), case.id))
    for consent in consents:
        timeline.append(TimelineEntry(consent.given_on, "consent",
                                      ref.label("consent_kinds", consent.kind), consent.purpose))
        if consent.revoked_on:
            timeline.append(TimelineEntry(consent.revoked_on, "consent", "Widerruf",
                                          ref.label("consent_kinds", consent.kind)))
    for entry in residence:
        timeline.append(TimelineEntry(entry.granted_on or entry.created_at.date(), "residence",
                                      ref.label("residence_statuses", entry.status)))
    for deadline in deadlines:
        timeline.append(TimelineEntry(deadline.due_on, "deadline", deadline.title,
                                      "erledigt" if deadline.done_on else "offen",
                                      deadline.case_id))
    timeline.sort(key=lambda e: e.on, reverse=True)
    file.timeline = timeline
    return file


@dataclass(frozen=True)
class RecentFile:
    """An Akte the user opened lately (Heute's "Zuletzt geöffnete Akten")."""

    client_id: str
    display_name: str


def recent_files(ctx: Context, limit: int = 8) -> list[RecentFile]:
    """The Akten the user opened last on this device, newest first, from the audit trail's
    reads (so the list survives a restart and holds nothing the vault does not already keep);
    purged people drop out."""
    with ctx.vault.reading() as session:
        # Reads are recorded at most once per file and 10 minutes: a few hundred entries
        # reach far enough back.
        ids = session.scalars(
            select(AuditEntry.client_id).where(
                AuditEntry.action == "read", AuditEntry.actor == ctx.user,
                AuditEntry.client_id.is_not(None))
            .order_by(AuditEntry.seq.desc()).limit(50 * limit))
        newest = [cid for cid in dict.fromkeys(ids) if cid is not None]
        names = {c.id: c.display_name for c in session.scalars(select(Client).where(
            Client.id.in_(newest)))}
    return [RecentFile(cid, names[cid]) for cid in newest if cid in names][:limit]
