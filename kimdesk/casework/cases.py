"""Fälle: open, convert between the three kinds, move through the CM phases, close; contacts.

Rules (concept 5.1, DESIGN.md): a Kurzintervention may be anonymous and warns at its 5th
session, and a 6th needs a conversion; conversions only go to a more intensive kind and keep
their history; case management needs consent; CM phases run in order and may be revisited,
every change recorded with date and author.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kimdesk.casework.common import (
    check_code,
    check_codes,
    check_municipality,
    check_not_future,
    load,
    record,
    require_processing_consent,
    stamp,
)
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import (
    Case,
    CaseKindChange,
    CaseParticipant,
    CaseTopic,
    Client,
    Contact,
    Deadline,
    PhaseChange,
)
from kimdesk.models.enums import CaseKind, CaseStatus, Phase

MAX_CONTACT_MINUTES = 12 * 60
MAX_SUBJECT = 300  # Deadline.title


class ConversionRequired(KimdeskError):
    """The next session would exceed what a Kurzintervention allows."""

    def __init__(self, case_id: str, session_number: int) -> None:
        super().__init__(
            f"Dies wäre die {session_number}. Sitzung. Eine Kurzintervention umfasst höchstens "
            f"{session_number - 1} Sitzungen: bitte den Fall in eine prozesshafte Begleitung "
            "oder ein Case Management umwandeln."
        )
        self.case_id = case_id
        self.session_number = session_number


@dataclass
class CaseInput:
    kind: str
    opened_on: date | None = None
    access_route: str = ""
    concern: str = ""
    topics: list[str] = field(default_factory=list)
    municipality: str = ""  # defaults to the client's Kommune
    household_id: str | None = None


@dataclass
class ContactInput:
    contact_on: date
    mode: str
    duration_minutes: int = 0
    place: str = ""
    interpreter: bool = False
    interpreter_language: str = ""
    client_present: bool = True
    topics: list[str] = field(default_factory=list)
    note: str = ""
    follow_up_on: date | None = None  # next Wiedervorlage
    follow_up_subject: str = ""  # its Betreff; derived from the contact when left empty
    client_id: str | None = None  # a household member; defaults to the case's client


@dataclass(frozen=True)
class ContactRecorded:
    contact: Contact
    session_number: int
    warning: str = ""


def _kind(value: str) -> CaseKind:
    try:
        return CaseKind(value)
    except ValueError:
        raise ValidationError("Bitte eine Fallart wählen.", "kind") from None


def open_case(ctx: Context, client_id: str, data: CaseInput) -> Case:
    kind = _kind(data.kind)
    opened_on = data.opened_on or ctx.today()
    check_not_future(ctx, opened_on, "opened_on", "Der Fallbeginn")
    if data.access_route:
        check_code(ctx, "access_routes", data.access_route, "access_route", "Zugangsweg")
    check_codes(ctx, "topics", data.topics, "topics", "Thema")
    with ctx.vault.writing() as session:
        client = load(session, Client, client_id, "Die Person")
        if kind == CaseKind.CASE_MANAGEMENT:
            require_processing_consent(ctx, session, client_id, "Ein Case Management", "kind")
        municipality = data.municipality or client.municipality
        check_municipality(ctx, municipality)
        case = Case(
            client_id=client_id,
            household_id=data.household_id or client.household_id,
            kind=kind.value,
            phase=Phase.INTAKE.value if kind == CaseKind.CASE_MANAGEMENT else None,
            status=CaseStatus.OPEN.value,
            opened_on=opened_on,
            access_route=data.access_route,
            concern=data.concern.strip(),
            team=_team_for(ctx, municipality),
            municipality=municipality,
            case_manager=ctx.user,
        )
        stamp(ctx, case, created=True)
        session.add(case)
        session.flush()
        for topic in dict.fromkeys(data.topics):
            session.add(CaseTopic(case_id=case.id, topic=topic, created_by=ctx.user))
        session.add(CaseKindChange(case_id=case.id, from_kind=None, to_kind=kind.value,
                                   changed_on=opened_on, created_by=ctx.user))
        if case.phase:
            session.add(PhaseChange(case_id=case.id, from_phase=None, to_phase=case.phase,
                                    changed_on=opened_on, created_by=ctx.user))
        record(ctx, session, "create", client_id, case, kind=kind.value)
        return case


def _team_for(ctx: Context, municipality: str) -> str:
    """The county-wide Welcome-Center keeps its cases; regional cases go to the Kommune's team."""
    if ctx.reference.team(ctx.team).countywide:
        return ctx.team
    return ctx.reference.team_for_municipality(municipality).code


def _open_case_for_write(session: Session, case_id: str) -> Case:
    case = load(session, Case, case_id, "Der Fall")
    if case.status != CaseStatus.OPEN:
        raise ValidationError("Der Fall ist abgeschlossen und kann nicht mehr geändert werden.")
    return case


def convert_case(ctx: Context, case_id: str, to_kind: str, reason: str = "",
                 on: date | None = None) -> Case:
    """Convert to a more intensive kind; the history of kinds is kept."""
    target = _kind(to_kind)
    on = on or ctx.today()
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        current = case.case_kind
        if target.intensity <= current.intensity:
            raise ValidationError(
                f"Ein Fall kann nur in eine intensivere Fallart umgewandelt werden "
                f"(derzeit: {current.label}).",
                "kind",
            )
        if target == CaseKind.CASE_MANAGEMENT:
            require_processing_consent(ctx, session, case.client_id, "Ein Case Management", "kind")
        client = session.get(Client, case.client_id)
        if client is not None and client.anonymous:
            raise ValidationError(
                "Eine anonyme Kurzintervention kann nicht umgewandelt werden: bitte zuerst die "
                "Person mit Namen erfassen.",
                "kind",
            )
        session.add(CaseKindChange(case_id=case.id, from_kind=current.value,
                                   to_kind=target.value, changed_on=on, reason=reason,
                                   created_by=ctx.user))
        case.kind = target.value
        if target == CaseKind.CASE_MANAGEMENT:
            case.phase = Phase.INTAKE.value
            session.add(PhaseChange(case_id=case.id, from_phase=None, to_phase=case.phase,
                                    changed_on=on, note="Umwandlung", created_by=ctx.user))
        stamp(ctx, case)
        record(ctx, session, "update", case.client_id, case, fields=["kind"],
               kind=target.value)
        return case


def change_phase(ctx: Context, case_id: str, to_phase: str, note: str = "",
                 on: date | None = None) -> Case:
    """Step to the next phase, or back to any earlier one (a revisit); never skip ahead."""
    try:
        target = Phase(to_phase)
    except ValueError:
        raise ValidationError("Unbekannte Phase.", "phase") from None
    on = on or ctx.today()
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        if case.case_kind != CaseKind.CASE_MANAGEMENT or case.case_phase is None:
            raise ValidationError("Nur ein Case Management hat Phasen.", "phase")
        current = case.case_phase
        if target == current:
            raise ValidationError(f"Der Fall ist bereits in der Phase {current.label}.", "phase")
        if target.index > current.index + 1:
            nxt = list(Phase)[current.index + 1]
            raise ValidationError(
                f"Die Phasen laufen der Reihe nach: als Nächstes folgt {nxt.label}.", "phase"
            )
        if target == Phase.ASSESSMENT and case.cm_indicated is False:
            raise ValidationError(
                "Im Intake wurde festgestellt, dass Case Management nicht passt.", "cm_indicated"
            )
        session.add(PhaseChange(case_id=case.id, from_phase=current.value, to_phase=target.value,
                                changed_on=on, note=note, created_by=ctx.user))
        case.phase = target.value
        stamp(ctx, case)
        record(ctx, session, "update", case.client_id, case, fields=["phase"])
        return case


def record_intake(ctx: Context, case_id: str, *, concern: str, access_route: str,
                  cm_indicated: bool, art13_informed_on: date | None) -> Case:
    """The Intake document: Anliegen, Zugangsweg, indication check, Art. 13 information."""
    if access_route:
        check_code(ctx, "access_routes", access_route, "access_route", "Zugangsweg")
    check_not_future(ctx, art13_informed_on, "art13_informed_on", "Die Information nach Art. 13")
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        case.concern = concern.strip()
        case.access_route = access_route
        case.cm_indicated = cm_indicated
        case.art13_informed_on = art13_informed_on
        stamp(ctx, case)
        record(ctx, session, "update", case.client_id, case,
               fields=["concern", "access_route", "cm_indicated", "art13_informed_on"])
        return case


def add_participant(ctx: Context, case_id: str, client_id: str) -> None:
    """A further household member the case works with (each gets a Zielvereinbarung)."""
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        load(session, Client, client_id, "Die Person")
        if client_id == case.client_id:
            return
        if case.case_kind != CaseKind.SHORT_INTERVENTION:
            require_processing_consent(ctx, session, client_id,
                                       "Die Beteiligung an einer Begleitung oder einem Case "
                                       "Management", "client_id")
        exists = session.scalar(select(CaseParticipant).where(
            CaseParticipant.case_id == case_id, CaseParticipant.client_id == client_id))
        if exists is None:
            participant = CaseParticipant(case_id=case_id, client_id=client_id,
                                          created_by=ctx.user)
            session.add(participant)
            session.flush()
            record(ctx, session, "create", client_id, participant)


def case_people(session: Session, case: Case) -> list[str]:
    ids = [case.client_id]
    ids += session.scalars(
        select(CaseParticipant.client_id).where(CaseParticipant.case_id == case.id)
        .order_by(CaseParticipant.created_at)
    ).all()
    return ids


def close_case(ctx: Context, case_id: str, reason: str, note: str = "",
               on: date | None = None) -> Case:
    """Close a case; open Wiedervorlagen of the case are closed with it."""
    on = on or ctx.today()
    check_code(ctx, "closing_reasons", reason, "closing_reason", "Abschlussgrund")
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        check_not_future(ctx, on, "closed_on", "Das Abschlussdatum")
        if on < case.opened_on:
            raise ValidationError("Der Abschluss liegt vor dem Fallbeginn.", "closed_on")
        if (
            case.case_kind == CaseKind.CASE_MANAGEMENT
            and case.phase != Phase.EVALUATION
            and reason in ("goals_achieved", "goals_partly_achieved", "no_further_need")
        ):
            raise ValidationError(
                "Ein Case Management mit diesem Abschlussgrund endet mit der Evaluation: "
                "bitte zuerst in die Phase Evaluation wechseln.",
                "closing_reason",
            )
        case.status = CaseStatus.CLOSED.value
        case.closed_on = on
        case.closing_reason = reason
        case.closing_note = note
        for deadline in session.scalars(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.done_on.is_(None))
        ):
            deadline.done_on = on
            deadline.note = (deadline.note + "\n" if deadline.note else "") + "Fall abgeschlossen"
        stamp(ctx, case)
        record(ctx, session, "update", case.client_id, case, fields=["status"])
        return case


def _sessions(session: Session, case_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(Contact).where(
            Contact.case_id == case_id, Contact.superseded.is_(False)
        )
    ) or 0


def _validate_contact(ctx: Context, data: ContactInput) -> None:
    check_code(ctx, "contact_kinds", data.mode, "mode", "Kontaktart")
    check_codes(ctx, "topics", data.topics, "topics", "Thema")
    check_not_future(ctx, data.contact_on, "contact_on", "Das Datum des Kontakts")
    if not 0 <= data.duration_minutes <= MAX_CONTACT_MINUTES:
        raise ValidationError("Die Dauer muss zwischen 0 und 720 Minuten liegen.",
                              "duration_minutes")
    if data.interpreter and not data.interpreter_language.strip():
        raise ValidationError("Bitte die Sprache der Sprachmittlung angeben.",
                              "interpreter_language")
    if data.follow_up_on is not None and data.follow_up_on < data.contact_on:
        raise ValidationError("Die Wiedervorlage liegt vor dem Kontakt.", "follow_up_on")
    if len(data.follow_up_subject.strip()) > MAX_SUBJECT:
        raise ValidationError(
            f"Der Betreff der Wiedervorlage ist zu lang (höchstens {MAX_SUBJECT} Zeichen).",
            "follow_up_subject")


def follow_up_subject(ctx: Context, data: ContactInput) -> str:
    """The Betreff of the Wiedervorlage a contact sets: as typed, else what the contact was
    about (its topics), so Heute never shows a bare "Wiedervorlage"."""
    typed = " ".join(data.follow_up_subject.split())
    if typed:
        return typed
    topics = [ctx.reference.label("topics", t) for t in dict.fromkeys(data.topics)]
    subject = f"Nachfassen zum Kontakt vom {data.contact_on:%d.%m.%Y}"
    if topics:
        subject += f": {', '.join(topics)}"
    return subject[:MAX_SUBJECT]


def record_contact(ctx: Context, case_id: str, data: ContactInput) -> ContactRecorded:
    """Kontakt erfassen. A Kurzintervention refuses the session after its limit."""
    _validate_contact(ctx, data)
    rules = ctx.reference.rules
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        if data.contact_on < case.opened_on:
            raise ValidationError("Der Kontakt liegt vor dem Fallbeginn.", "contact_on")
        number = _sessions(session, case_id) + 1
        warning = ""
        if case.case_kind == CaseKind.SHORT_INTERVENTION:
            if number >= rules.short_intervention_offer_conversion_at:
                raise ConversionRequired(case_id, number)
            if number >= rules.short_intervention_warn_at:
                warning = (f"Dies ist die {number}. Sitzung dieser Kurzintervention; "
                           "danach ist eine Umwandlung nötig.")
        client_id = data.client_id or case.client_id
        if client_id not in case_people(session, case):
            raise ValidationError("Die Person gehört nicht zu diesem Fall.", "client_id")
        contact = Contact(
            case_id=case_id,
            client_id=client_id,
            contact_on=data.contact_on,
            duration_minutes=data.duration_minutes,
            mode=data.mode,
            place=data.place.strip(),
            interpreter=data.interpreter,
            interpreter_language=data.interpreter_language.strip(),
            client_present=data.client_present,
            topics=list(dict.fromkeys(data.topics)),
            note=data.note,
        )
        stamp(ctx, contact, created=True)
        session.add(contact)
        session.flush()
        for topic in contact.topics:
            known = session.scalar(select(CaseTopic).where(
                CaseTopic.case_id == case_id, CaseTopic.topic == topic))
            if known is None:
                session.add(CaseTopic(case_id=case_id, topic=topic, created_by=ctx.user))
        if data.follow_up_on is not None:
            follow_up = Deadline(client_id=client_id, case_id=case_id, kind="follow_up",
                                 due_on=data.follow_up_on,
                                 title=follow_up_subject(ctx, data),
                                 source=f"contact:{contact.id}", created_by=ctx.user)
            session.add(follow_up)
        record(ctx, session, "create", client_id, contact)
        return ContactRecorded(contact, number, warning)


def correct_contact(ctx: Context, contact_id: str, data: ContactInput) -> Contact:
    """Contacts are append-only: the correction is a new record that supersedes the old."""
    _validate_contact(ctx, data)
    with ctx.vault.writing() as session:
        old = load(session, Contact, contact_id, "Der Kontakt")
        if old.superseded:
            raise ValidationError("Dieser Kontakt wurde bereits korrigiert.")
        case = _open_case_for_write(session, old.case_id)
        if data.contact_on < case.opened_on:
            raise ValidationError("Der Kontakt liegt vor dem Fallbeginn.", "contact_on")
        if (data.client_id or old.client_id) not in case_people(session, case):
            raise ValidationError("Die Person gehört nicht zu diesem Fall.", "client_id")
        new = Contact(
            case_id=old.case_id, client_id=data.client_id or old.client_id,
            contact_on=data.contact_on, duration_minutes=data.duration_minutes, mode=data.mode,
            place=data.place.strip(), interpreter=data.interpreter,
            interpreter_language=data.interpreter_language.strip(),
            client_present=data.client_present, topics=list(dict.fromkeys(data.topics)),
            note=data.note, supersedes_id=old.id,
        )
        stamp(ctx, new, created=True)
        old.superseded = True
        session.add(new)
        session.flush()
        record(ctx, session, "update", old.client_id, new, supersedes=old.id)
        return new


def cases_of(ctx: Context, client_id: str) -> list[Case]:
    with ctx.vault.reading() as session:
        return list(session.scalars(
            select(Case).where(Case.client_id == client_id).order_by(Case.opened_on)))


def contacts_of(ctx: Context, case_id: str) -> list[Contact]:
    with ctx.vault.reading() as session:
        return list(session.scalars(
            select(Contact).where(Contact.case_id == case_id, Contact.superseded.is_(False))
            .order_by(Contact.contact_on, Contact.created_at)))


def phase_history(ctx: Context, case_id: str) -> list[PhaseChange]:
    with ctx.vault.reading() as session:
        return list(session.scalars(
            select(PhaseChange).where(PhaseChange.case_id == case_id)
            .order_by(PhaseChange.created_at)))


def kind_history(ctx: Context, case_id: str) -> list[CaseKindChange]:
    with ctx.vault.reading() as session:
        return list(session.scalars(
            select(CaseKindChange).where(CaseKindChange.case_id == case_id)
            .order_by(CaseKindChange.created_at)))
