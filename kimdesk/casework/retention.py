"""Retention: every person's file becomes due for deletion once nothing needs it (DOMAIN.md).

Deletion is proposed, confirmed (or postponed with a reason) by a person, then purges the file
with its attachments. What remains is one audit entry and anonymised counts per case.

When a person's data is still needed (:func:`holds_by_client`) — each of these *holds* keeps the
file until its date; the file is due on the latest one, and never while one has no end:

- **own case** (Fallinhaber:in): open → kept; closed → kept for the retention period of its
  kind after closing (``rules.retention_months``: CM/Begleitung 36, Kurzintervention 12 months);
- **taking part in a case** of another person (``CaseParticipant``): the same, for that case;
- **household**: a case of the household (``Case.household_id``) or an own case of another
  member of the same household, the same — a child stays while the mother's case is open or in
  its retention period, and becomes due with it;
- **relations** (Ehepartner:in, Elternteil, Kind …): an own case of a related person, the same;
- **an open Frist or Wiedervorlage** of the person (not of a closed case): kept until its day.

A *person* none of these applies to (never had a case, or everything that needed her was
purged) is kept for the shortest configured retention period after the last change of her own
data (the person, her consents, residence records, § 104c checklist, Fristen, documents).
Organisations (employers …) without any hold are not proposed: they are not data subjects.
A pending legal claim or a longer duty to keep (e.g. files with children) is not visible in
the data: a person postpones the proposal with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from kimdesk.casework import search
from kimdesk.casework.common import load, record, stamp
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_months
from kimdesk.casework.documents import sweep_orphan_files
from kimdesk.errors import ValidationError
from kimdesk.models import (
    Appointment,
    Assessment,
    Attachment,
    AuditEntry,
    Case,
    CaseHandover,
    CaseKindChange,
    CaseParticipant,
    CaseReview,
    CaseTopic,
    ChecklistItem,
    Client,
    Consent,
    Contact,
    Deadline,
    DeletionProposal,
    Goal,
    Household,
    PhaseChange,
    PurgedCaseCount,
    Referral,
    Relation,
    ResidenceRecord,
    Step,
    changelog,
)
from kimdesk.models.enums import CaseStatus, ClientKind, Phase, ProposalStatus


@dataclass(frozen=True)
class DueForDeletion:
    proposal_id: str
    client_id: str
    display_name: str
    due_since: date
    status: str
    postponed_until: date | None
    reason: str  # why it was postponed (empty unless postponed)
    why: str = ""  # why the file is due: the hold that ran out last (German)


@dataclass(frozen=True)
class Hold:
    """Something that needs a person's data: until a day, or without end (``until`` None)."""

    until: date | None
    why: str


@dataclass(frozen=True)
class Due:
    """A file that needs nothing any more: since when, and the hold that ended last."""

    since: date
    why: str


def _case_hold(ctx: Context, case: Case, what: str) -> Hold:
    kind = ctx.reference.label("case_kinds", case.kind)
    if case.status == CaseStatus.OPEN:
        return Hold(None, f"{what} ({kind}) ist noch offen.")
    months = ctx.reference.rules.retention_months[case.kind]
    closed = case.closed_on or case.opened_on
    until = add_months(closed, months)
    return Hold(until, f"{what} ({kind}) wurde am {closed:%d.%m.%Y} abgeschlossen; die "
                       f"Aufbewahrungsfrist von {months} Monaten endete am {until:%d.%m.%Y}.")


def holds_by_client(ctx: Context, session: Session) -> dict[str, list[Hold]]:
    """What keeps each person's data (see the module docstring); one list per client."""
    clients = session.execute(select(Client.id, Client.kind, Client.household_id)).all()
    cases = list(session.scalars(select(Case)))
    by_id = {c.id: c for c in cases}
    own: dict[str, list[Case]] = {}
    of_household: dict[str, list[Case]] = {}
    for case in cases:
        own.setdefault(case.client_id, []).append(case)
        if case.household_id:
            of_household.setdefault(case.household_id, []).append(case)
    members: dict[str, list[str]] = {}
    for client_id, _kind, household_id in clients:
        if household_id:
            members.setdefault(household_id, []).append(client_id)
    taking_part: dict[str, list[Case]] = {}
    for case_id, client_id in session.execute(
            select(CaseParticipant.case_id, CaseParticipant.client_id)):
        if case_id in by_id:
            taking_part.setdefault(client_id, []).append(by_id[case_id])
    related: dict[str, set[str]] = {}
    for one, other in session.execute(select(Relation.client_id, Relation.other_id)):
        related.setdefault(one, set()).add(other)
        related.setdefault(other, set()).add(one)
    open_deadlines: dict[str, date] = {}
    for client_id, deadline_case, due_on in session.execute(
            select(Deadline.client_id, Deadline.case_id, Deadline.due_on)
            .where(Deadline.done_on.is_(None))):
        of_case = by_id.get(deadline_case) if deadline_case else None
        if of_case is not None and of_case.status != CaseStatus.OPEN:
            continue  # the closed case's own retention covers its Wiedervorlagen
        open_deadlines[client_id] = max(due_on, open_deadlines.get(client_id, due_on))
    shortest = min(ctx.reference.rules.retention_months.values())
    last_change = _last_changes(session)

    holds: dict[str, list[Hold]] = {}
    for client_id, kind, household_id in clients:
        found = [_case_hold(ctx, c, "Der eigene Fall") for c in own.get(client_id, [])]
        found += [_case_hold(ctx, c, "Ein Fall, an dem die Person beteiligt ist")
                  for c in taking_part.get(client_id, []) if c.client_id != client_id]
        if household_id:
            household_cases = {c.id: c for c in of_household.get(household_id, [])}
            for member in members.get(household_id, []):
                household_cases.update((c.id, c) for c in own.get(member, []))
            found += [_case_hold(ctx, c, "Ein Fall im Haushalt")
                      for c in household_cases.values() if c.client_id != client_id]
        for other in sorted(related.get(client_id, set()) - {client_id}):
            found += [_case_hold(ctx, c, "Der Fall einer angehörigen Person")
                      for c in own.get(other, [])]
        if client_id in open_deadlines:
            found.append(Hold(open_deadlines[client_id], "Eine Frist oder Wiedervorlage "
                              f"(fällig am {open_deadlines[client_id]:%d.%m.%Y}) ist offen."))
        if not found and kind == ClientKind.PERSON:
            changed = last_change.get(client_id)
            if changed is not None:
                until = add_months(changed, shortest)
                found.append(Hold(until, (
                    "Kein offener Fall, keine Beteiligung an einem Fall, kein Fall im Haushalt "
                    f"oder bei Angehörigen; letzte Änderung der Daten am {changed:%d.%m.%Y}, "
                    f"seit {shortest} Monaten (bis {until:%d.%m.%Y}) nichts mehr.")))
        holds[client_id] = found
    return holds


def due_from(holds: list[Hold]) -> Due | None:
    """The day a file with these holds became due, or None (nothing to go by, or no end)."""
    if not holds or any(h.until is None for h in holds):
        return None
    last = max(holds, key=lambda h: h.until or date.min)
    assert last.until is not None
    return Due(last.until, last.why)


def _last_changes(session: Session) -> dict[str, date]:
    """Per client, the day of the last change to her own data."""
    latest: dict[str, date] = {}
    columns = (
        (Client.id, Client.updated_at), (Consent.client_id, Consent.updated_at),
        (ResidenceRecord.client_id, ResidenceRecord.updated_at),
        (ChecklistItem.client_id, ChecklistItem.updated_at),
        (Deadline.client_id, Deadline.updated_at), (Attachment.client_id, Attachment.updated_at),
    )
    for key, changed in columns:
        for client_id, at in session.execute(select(key, func.max(changed)).group_by(key)):
            if at is None:
                continue
            day = at.date()
            if client_id not in latest or day > latest[client_id]:
                latest[client_id] = day
    return latest


def propose_deletions(ctx: Context) -> list[DeletionProposal]:
    """Create proposals for every file now due; returns the new ones.

    Also removes attachment ciphertexts no record refers to any more.
    """
    sweep_orphan_files(ctx)
    today = ctx.today()
    created: list[DeletionProposal] = []
    with ctx.vault.writing() as session:
        pending = {
            p.client_id: p for p in session.scalars(select(DeletionProposal).where(
                DeletionProposal.status != ProposalStatus.DONE))
        }
        for client_id, holds in holds_by_client(ctx, session).items():
            due = due_from(holds)
            if due is None or due.since > today:
                continue
            proposal = pending.get(client_id)
            if proposal is None:
                proposal = DeletionProposal(client_id=client_id, due_since=due.since)
                stamp(ctx, proposal, created=True)
                session.add(proposal)
                session.flush()
                record(ctx, session, "create", client_id, proposal)
                created.append(proposal)
            elif (proposal.status == ProposalStatus.POSTPONED and proposal.postponed_until
                  and proposal.postponed_until <= today):
                proposal.status = ProposalStatus.PROPOSED.value
                stamp(ctx, proposal)
        # A postponed erasure request comes back on its day, whatever the retention rules say.
        for proposal in pending.values():
            if (proposal.requested_on is not None
                    and proposal.status == ProposalStatus.POSTPONED and proposal.postponed_until
                    and proposal.postponed_until <= today):
                proposal.status = ProposalStatus.PROPOSED.value
                stamp(ctx, proposal)
        return created


def due_for_deletion(ctx: Context) -> list[DueForDeletion]:
    """Open and postponed proposals, each with the German explanation why the file is due."""
    with ctx.vault.reading() as session:
        rows = session.execute(
            select(DeletionProposal, Client).join(Client, Client.id == DeletionProposal.client_id)
            .where(DeletionProposal.status != ProposalStatus.DONE)
            .order_by(DeletionProposal.due_since)
        ).all()
        holds = holds_by_client(ctx, session) if rows else {}
        result = []
        for p, c in rows:
            due = due_from(holds.get(c.id, []))
            if p.requested_on is not None:
                why = f"Antrag auf Löschung (Art. 17 DSGVO) vom {p.requested_on:%d.%m.%Y}."
            elif due is not None:
                why = due.why
            else:
                why = "Nicht mehr fällig: " + "; ".join(
                    h.why for h in holds.get(c.id, []) if h.until is None)
            result.append(DueForDeletion(p.id, p.client_id, c.display_name, p.due_since,
                                         p.status, p.postponed_until, p.reason, why))
        return result


def postpone_deletion(ctx: Context, proposal_id: str, until: date, reason: str
                      ) -> DeletionProposal:
    """Keep a file longer (e.g. children involved, pending proceedings): needs a reason."""
    if not reason.strip():
        raise ValidationError("Bitte begründen, warum die Akte länger aufbewahrt wird.", "reason")
    if until <= ctx.today():
        raise ValidationError("Das neue Datum muss in der Zukunft liegen.", "until")
    with ctx.vault.writing() as session:
        proposal = load(session, DeletionProposal, proposal_id, "Der Löschvorschlag")
        if proposal.status == ProposalStatus.DONE:
            raise ValidationError("Diese Akte wurde bereits gelöscht.")
        proposal.status = ProposalStatus.POSTPONED.value
        proposal.postponed_until = until
        proposal.reason = reason.strip()
        proposal.decided_by = ctx.user
        proposal.decided_on = ctx.today()
        stamp(ctx, proposal)
        record(ctx, session, "update", proposal.client_id, proposal, fields=["postponed_until"])
        return proposal


def confirm_deletion(ctx: Context, proposal_id: str) -> int:
    """Purge the file; returns how many cases were kept as anonymised counts.

    A proposal from an erasure request (Art. 17, ``requested_on``) needs no retention period
    to have run out: its exceptions were weighed when it was postponed.
    """
    with ctx.vault.writing() as session:
        proposal = load(session, DeletionProposal, proposal_id, "Der Löschvorschlag")
        if proposal.status != ProposalStatus.PROPOSED:
            raise ValidationError(
                "Nur ein offener Löschvorschlag kann bestätigt werden "
                "(zurückgestellt oder bereits erledigt).")
        if proposal.requested_on is None:
            due = due_from(holds_by_client(ctx, session).get(proposal.client_id, []))
            if due is None or due.since > ctx.today():
                raise ValidationError("Die Akte ist nicht mehr zur Löschung fällig "
                                      "(z. B. wurde ein neuer Fall eröffnet).")
        kept, attachment_ids = purge_file(ctx, session, proposal)
    for attachment_id in attachment_ids:
        ctx.vault.attachments.delete(attachment_id)
    return kept


def purge_file(ctx: Context, session: Session, proposal: DeletionProposal, **detail: Any
               ) -> tuple[int, list[str]]:
    """Purge the proposal's client inside the transaction, keep anonymised counts of her
    cases, mark the proposal done and leave the one audit entry; returns the number of cases
    kept as counts and the attachment ids whose ciphertexts the caller deletes after commit."""
    client_id = proposal.client_id
    cases = list(session.scalars(select(Case).where(Case.client_id == client_id)))
    client = load(session, Client, client_id, "Die Person")
    kept = [_anonymised(ctx, session, client, case) for case in cases]
    session.add_all(kept)
    attachment_ids = purge_client(session, client_id)
    proposal.status = ProposalStatus.DONE.value
    proposal.decided_by = ctx.user
    proposal.decided_on = ctx.today()
    removed = list(session.scalars(select(AuditEntry.seq).where(
        AuditEntry.client_id == client_id)))
    # The purge entry is chained before the client's entries go: appended afterwards, it
    # would reuse the number of a removed last entry, and later entries would fall into
    # the range of numbers verify() accepts as missing.
    record(ctx, session, "purge", None, proposal, cases=len(cases), removed_seqs=removed,
           **detail)
    session.execute(delete(AuditEntry).where(AuditEntry.client_id == client_id))
    return len(kept), attachment_ids


def purge_client(session: Session, client_id: str) -> list[str]:
    """Delete every record of one client inside the transaction; returns attachment ids."""
    case_ids = list(session.scalars(select(Case.id).where(Case.client_id == client_id)))
    goal_ids = list(session.scalars(select(Goal.id).where(
        or_(Goal.client_id == client_id, Goal.case_id.in_(case_ids)))))
    attachment_ids = list(session.scalars(select(Attachment.id).where(
        or_(Attachment.client_id == client_id, Attachment.case_id.in_(case_ids)))))
    # The updated_at stamps stay: a purge reaches every device at another moment, and its own
    # time must not make their copies differ.
    session.execute(update(CaseReview).where(CaseReview.case_id.in_(case_ids))
                    .values(case_id=None, updated_at=CaseReview.updated_at))
    session.execute(update(Contact).where(Contact.client_id == client_id)
                    .values(supersedes_id=None, updated_at=Contact.updated_at))
    session.execute(update(Referral).where(Referral.client_id == client_id)
                    .values(consent_id=None, updated_at=Referral.updated_at))
    household_ids = {
        *session.scalars(select(Client.household_id).where(Client.id == client_id)),
        *session.scalars(select(Case.household_id).where(Case.id.in_(case_ids))),
    } - {None}
    for model, condition in (
        (Step, Step.goal_id.in_(goal_ids)),
        (Goal, Goal.id.in_(goal_ids)),
        (Contact, or_(Contact.client_id == client_id, Contact.case_id.in_(case_ids))),
        (Assessment, or_(Assessment.client_id == client_id, Assessment.case_id.in_(case_ids))),
        (Referral, or_(Referral.client_id == client_id, Referral.case_id.in_(case_ids))),
        (Deadline, or_(Deadline.client_id == client_id, Deadline.case_id.in_(case_ids))),
        (Appointment, or_(Appointment.client_id == client_id,
                          Appointment.case_id.in_(case_ids))),
        (CaseHandover, CaseHandover.case_id.in_(case_ids)),
        (Attachment, Attachment.id.in_(attachment_ids)),
        (CaseTopic, CaseTopic.case_id.in_(case_ids)),
        (CaseKindChange, CaseKindChange.case_id.in_(case_ids)),
        (PhaseChange, PhaseChange.case_id.in_(case_ids)),
        (CaseParticipant, or_(CaseParticipant.case_id.in_(case_ids),
                              CaseParticipant.client_id == client_id)),
        (Case, Case.id.in_(case_ids)),
        (Consent, Consent.client_id == client_id),
        (ChecklistItem, ChecklistItem.client_id == client_id),
        (ResidenceRecord, ResidenceRecord.client_id == client_id),
        (Relation, or_(Relation.client_id == client_id, Relation.other_id == client_id)),
        (Client, Client.id == client_id),
    ):
        # Bulk deletes bypass the change capture: the erasure is entered explicitly, and as
        # an erasure it wins over any edit elsewhere and purges the record on every device.
        ids = list(session.scalars(select(model.id).where(condition)))
        changelog.record_erasure(session, model.__tablename__, ids)
        session.execute(delete(model).where(condition))
    # A household (label, address) goes with its last member and its last case.
    for household_id in household_ids:
        in_use = session.scalar(select(Client.id).where(Client.household_id == household_id)
                                .limit(1)) or session.scalar(
            select(Case.id).where(Case.household_id == household_id).limit(1))
        if in_use is None:
            changelog.record_erasure(session, Household.__tablename__, [household_id])
            session.execute(delete(Household).where(Household.id == household_id))
    search.unindex(session, client_id)
    return attachment_ids


def _anonymised(ctx: Context, session: Session, client: Client, case: Case) -> PurgedCaseCount:
    ref = ctx.reference
    phases = set(session.scalars(select(PhaseChange.to_phase).where(
        PhaseChange.case_id == case.id)))
    highest = max((Phase(p) for p in phases), key=lambda p: p.index, default=None)
    contacts, minutes = session.execute(
        select(func.count(), func.coalesce(func.sum(Contact.duration_minutes), 0))
        .where(Contact.case_id == case.id, Contact.superseded.is_(False))
    ).one()
    age_band = ""
    if client.birth_date:
        born = client.birth_date
        at = case.opened_on
        age = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
        age_band = ref.age_band_for(max(age, 0)).code
    topics = sorted(set(session.scalars(select(CaseTopic.topic).where(
        CaseTopic.case_id == case.id))))
    return PurgedCaseCount(
        opened_month=f"{case.opened_on:%Y-%m}",
        closed_month=f"{case.closed_on:%Y-%m}" if case.closed_on else "",
        team=case.team, municipality=case.municipality, kind=case.kind,
        highest_phase=highest.value if highest else "", closing_reason=case.closing_reason,
        age_band=age_band, gender=client.gender,
        nationality_group=ref.nationality_group(client.nationality) if client.nationality else "",
        contacts=contacts, contact_minutes=minutes, topics=topics,
        created_by=ctx.user, updated_by=ctx.user,
    )
