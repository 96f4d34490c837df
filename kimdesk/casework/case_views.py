"""Read models for the Fall screen: one case with everything its forms show, as dataclasses.

Reads only. Plain frozen dataclasses out, no ORM objects, so the UI holds nothing that could
lazily hit the database from the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kimdesk.casework.appointments import AppointmentRow, appointment_row
from kimdesk.casework.cases import case_people
from kimdesk.casework.common import active_consents, load, record_read
from kimdesk.casework.context import Context
from kimdesk.casework.handover import HandoverRow
from kimdesk.casework.records import CaseRecord
from kimdesk.models import (
    Appointment,
    Assessment,
    Case,
    CaseHandover,
    CaseKindChange,
    Client,
    Contact,
    Deadline,
    Entity,
    Goal,
    Institution,
    PhaseChange,
    Referral,
    Step,
)
from kimdesk.models.enums import CaseKind, ConsentKind

E = TypeVar("E", bound=Entity)


@dataclass(frozen=True)
class PersonRef:
    """A person of the case (the client or a participant) or a household member."""

    id: str
    name: str
    consent_since: date | None = None  # active Einwilligung in die Datenverarbeitung


@dataclass(frozen=True)
class ContactRow:
    id: str
    client_id: str
    person_name: str
    contact_on: date
    mode: str
    duration_minutes: int
    place: str
    interpreter_language: str  # empty without Sprach- und Kulturmittlung
    topics: tuple[str, ...]
    note: str
    client_present: bool = True


@dataclass(frozen=True)
class PhaseChangeRow:
    changed_on: date
    from_phase: str | None
    to_phase: str
    note: str
    author: str


@dataclass(frozen=True)
class KindChangeRow:
    changed_on: date
    from_kind: str | None
    to_kind: str
    reason: str
    author: str


@dataclass(frozen=True)
class AssessmentRow:
    id: str
    client_id: str
    person_name: str
    life_area: str
    situation: str
    resources: str
    problems: str
    client_view: str
    need: int
    priority: int | None
    institutions: str
    assessed_on: date


@dataclass(frozen=True)
class StepRow:
    id: str
    goal_id: str
    description: str
    responsible: str
    due_on: date | None
    done_on: date | None


@dataclass(frozen=True)
class GoalRow:
    id: str
    client_id: str
    person_name: str
    title: str
    detail: str
    life_area: str
    agreed_on: date | None
    due_on: date | None
    status: str
    attainment: str
    evaluated_on: date | None
    steps: tuple[StepRow, ...] = ()


@dataclass(frozen=True)
class ReferralRow:
    id: str
    client_id: str
    person_name: str
    institution_id: str
    institution_name: str
    referred_on: date
    purpose: str
    outcome: str
    outcome_on: date | None
    shares_data: bool
    information_kinds: tuple[str, ...]


@dataclass(frozen=True)
class DeadlineRow:
    id: str
    client_id: str
    person_name: str
    kind: str
    title: str
    due_on: date
    done_on: date | None
    note: str


@dataclass(frozen=True)
class InstitutionRow:
    id: str
    name: str
    institution_type: str
    legal_domain: str
    municipality: str


@dataclass(frozen=True)
class ReleaseRow:
    """An active Schweigepflichtentbindung of a person towards an institution."""

    id: str
    client_id: str
    given_on: date
    valid_until: date | None
    information_kinds: tuple[str, ...]
    special_categories: bool
    purpose: str


@dataclass(frozen=True)
class CaseDetail(CaseRecord):
    """One case as the Fall screen shows it: its columns and everything the screen lists."""

    client_name: str
    people: tuple[PersonRef, ...]  # the client first, then the participants
    household_candidates: tuple[PersonRef, ...]  # household members not yet in the case
    contacts: tuple[ContactRow, ...]
    phase_changes: tuple[PhaseChangeRow, ...]
    kind_changes: tuple[KindChangeRow, ...]
    assessments: tuple[AssessmentRow, ...]
    goals: tuple[GoalRow, ...]
    referrals: tuple[ReferralRow, ...]
    deadlines: tuple[DeadlineRow, ...]
    handovers: tuple[HandoverRow, ...] = ()  # changes of the responsible case manager
    appointments: tuple[AppointmentRow, ...] = ()  # Termine with a time, not cancelled

    @property
    def is_case_management(self) -> bool:
        return self.kind == CaseKind.CASE_MANAGEMENT

    @property
    def session_count(self) -> int:
        return len(self.contacts)

    def person_name(self, client_id: str) -> str:
        for person in self.people:
            if person.id == client_id:
                return person.name
        return ""


def _consent_since(session: Session, client_id: str, on: date) -> date | None:
    dates = [c.given_on for c in active_consents(session, client_id, on)
             if c.kind == ConsentKind.DATA_PROCESSING]
    return min(dates) if dates else None


def load_case(ctx: Context, case_id: str) -> CaseDetail:
    """The case with its people, contacts, histories, assessment, goals, referrals, Fristen."""
    today = ctx.today()
    with ctx.vault.writing() as session:
        case = load(session, Case, case_id, "Der Fall")
        client = load(session, Client, case.client_id, "Die Person")
        record_read(ctx, session, client, case)
        people_ids = case_people(session, case)
        clients = {c.id: c for c in session.scalars(select(Client).where(
            Client.id.in_(people_ids)))}
        people = tuple(
            PersonRef(pid, clients[pid].display_name, _consent_since(session, pid, today))
            for pid in people_ids if pid in clients)
        names = {p.id: p.name for p in people}
        candidates: tuple[PersonRef, ...] = ()
        household_id = case.household_id or client.household_id
        if household_id:
            members = session.scalars(select(Client).where(
                Client.household_id == household_id, Client.id.not_in(people_ids))
                .order_by(Client.created_at))
            candidates = tuple(PersonRef(m.id, m.display_name, _consent_since(session, m.id,
                                                                              today))
                               for m in members)

        def all_of(model: type[E], *where: ColumnElement[bool],
                   order: tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]
                   ) -> list[E]:
            return list(session.scalars(select(model).where(*where).order_by(*order)))

        contacts = tuple(
            ContactRow(c.id, c.client_id, names.get(c.client_id, ""), c.contact_on, c.mode,
                       c.duration_minutes, c.place,
                       c.interpreter_language if c.interpreter else "", tuple(c.topics), c.note,
                       c.client_present)
            for c in all_of(Contact, Contact.case_id == case_id, Contact.superseded.is_(False),
                            order=(Contact.contact_on, Contact.created_at)))
        phase_changes = tuple(
            PhaseChangeRow(p.changed_on, p.from_phase, p.to_phase, p.note, p.created_by)
            for p in all_of(PhaseChange, PhaseChange.case_id == case_id,
                            order=(PhaseChange.created_at,)))
        kind_changes = tuple(
            KindChangeRow(k.changed_on, k.from_kind, k.to_kind, k.reason, k.created_by)
            for k in all_of(CaseKindChange, CaseKindChange.case_id == case_id,
                            order=(CaseKindChange.created_at,)))
        assessments = tuple(
            AssessmentRow(a.id, a.client_id, names.get(a.client_id, ""), a.life_area,
                          a.situation, a.resources, a.problems, a.client_view, a.need,
                          a.priority, a.institutions, a.assessed_on)
            for a in all_of(Assessment, Assessment.case_id == case_id,
                            order=(Assessment.created_at,)))
        goal_entities = all_of(Goal, Goal.case_id == case_id, order=(Goal.created_at,))
        steps: dict[str, list[StepRow]] = {}
        for s in all_of(Step, Step.goal_id.in_([g.id for g in goal_entities]),
                        order=(Step.created_at,)):
            steps.setdefault(s.goal_id, []).append(
                StepRow(s.id, s.goal_id, s.description, s.responsible, s.due_on, s.done_on))
        goals = tuple(
            GoalRow(g.id, g.client_id, names.get(g.client_id, ""), g.title, g.detail,
                    g.life_area, g.agreed_on, g.due_on, g.status, g.attainment, g.evaluated_on,
                    tuple(steps.get(g.id, ())))
            for g in goal_entities)
        referral_entities = all_of(Referral, Referral.case_id == case_id,
                                   order=(Referral.referred_on, Referral.created_at))
        institution_names: dict[str, str] = {
            row.id: row.name for row in session.execute(
                select(Institution.id, Institution.name).where(
                    Institution.id.in_([r.institution_id for r in referral_entities])))}
        referrals = tuple(
            ReferralRow(r.id, r.client_id, names.get(r.client_id, ""), r.institution_id,
                        institution_names.get(r.institution_id, ""), r.referred_on, r.purpose,
                        r.outcome, r.outcome_on, r.shares_data, tuple(r.information_kinds))
            for r in referral_entities)
        deadlines = tuple(
            DeadlineRow(d.id, d.client_id, names.get(d.client_id, ""), d.kind, d.title,
                        d.due_on, d.done_on, d.note)
            for d in all_of(Deadline, Deadline.case_id == case_id,
                            order=(Deadline.due_on, Deadline.created_at)))
        return CaseDetail(
            **CaseRecord.columns_of(case), client_name=client.display_name, people=people,
            household_candidates=candidates, contacts=contacts, phase_changes=phase_changes,
            kind_changes=kind_changes, assessments=assessments, goals=goals,
            referrals=referrals, deadlines=deadlines,
            handovers=tuple(
                HandoverRow(h.handed_over_on, h.from_manager, h.to_manager, h.reason,
                            h.created_by)
                for h in all_of(CaseHandover, CaseHandover.case_id == case_id,
                                order=(CaseHandover.handed_over_on, CaseHandover.created_at))),
            appointments=tuple(
                appointment_row(a)
                for a in all_of(Appointment, Appointment.case_id == case_id,
                                Appointment.cancelled.is_(False),
                                order=(Appointment.day, Appointment.start_minute))),
        )


def institution_rows(ctx: Context) -> list[InstitutionRow]:
    """All institutions of the network, by name (the Linking form's picker)."""
    with ctx.vault.reading() as session:
        return [
            InstitutionRow(i.id, i.name, i.institution_type, i.legal_domain, i.municipality)
            for i in session.scalars(select(Institution).order_by(Institution.name))
        ]


def releases_towards(ctx: Context, client_id: str, institution_id: str) -> list[ReleaseRow]:
    """Active Schweigepflichtentbindungen of a person naming this institution (or its type)."""
    today = ctx.today()
    with ctx.vault.reading() as session:
        institution = load(session, Institution, institution_id, "Die Einrichtung")
        return [
            ReleaseRow(c.id, c.client_id, c.given_on, c.valid_until,
                       tuple(c.information_kinds), c.special_categories, c.purpose)
            for c in active_consents(session, client_id, today)
            # No kinds asked for: this checks the recipient only, with the model's own rule.
            if c.covers(institution.id, institution.institution_type, [])
        ]
