"""Retention: closed files become due for deletion after the configured periods (DOMAIN.md).

Deletion is proposed, confirmed (or postponed with a reason) by a person, then purges the file
with its attachments. What remains is one audit entry and anonymised counts per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from kimdesk.casework import search
from kimdesk.casework.common import load, record, stamp
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_months
from kimdesk.casework.documents import sweep_orphan_files
from kimdesk.errors import ValidationError
from kimdesk.models import (
    Assessment,
    Attachment,
    AuditEntry,
    Case,
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
from kimdesk.models.enums import CaseStatus, Phase, ProposalStatus


@dataclass(frozen=True)
class DueForDeletion:
    proposal_id: str
    client_id: str
    display_name: str
    due_since: date
    status: str
    postponed_until: date | None
    reason: str


def due_date(ctx: Context, cases: list[Case]) -> date | None:
    """When the file of a client with these cases becomes due; None while a case is open."""
    if not cases or any(c.status == CaseStatus.OPEN for c in cases):
        return None
    months = ctx.reference.rules.retention_months
    return max(add_months(c.closed_on or c.opened_on, months[c.kind]) for c in cases)


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
        cases_by_client: dict[str, list[Case]] = {}
        for case in session.scalars(select(Case)):
            cases_by_client.setdefault(case.client_id, []).append(case)
        for client_id, cases in cases_by_client.items():
            due = due_date(ctx, cases)
            if due is None or due > today:
                continue
            proposal = pending.get(client_id)
            if proposal is None:
                proposal = DeletionProposal(client_id=client_id, due_since=due)
                stamp(ctx, proposal, created=True)
                session.add(proposal)
                session.flush()
                record(ctx, session, "create", client_id, proposal)
                created.append(proposal)
            elif (proposal.status == ProposalStatus.POSTPONED and proposal.postponed_until
                  and proposal.postponed_until <= today):
                proposal.status = ProposalStatus.PROPOSED.value
                stamp(ctx, proposal)
        return created


def due_for_deletion(ctx: Context) -> list[DueForDeletion]:
    with ctx.vault.reading() as session:
        rows = session.execute(
            select(DeletionProposal, Client).join(Client, Client.id == DeletionProposal.client_id)
            .where(DeletionProposal.status != ProposalStatus.DONE)
            .order_by(DeletionProposal.due_since)
        )
        return [
            DueForDeletion(p.id, p.client_id, c.display_name, p.due_since, p.status,
                           p.postponed_until, p.reason)
            for p, c in rows
        ]


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
    """Purge the file; returns how many cases were kept as anonymised counts."""
    with ctx.vault.writing() as session:
        proposal = load(session, DeletionProposal, proposal_id, "Der Löschvorschlag")
        if proposal.status != ProposalStatus.PROPOSED:
            raise ValidationError(
                "Nur ein offener Löschvorschlag kann bestätigt werden "
                "(zurückgestellt oder bereits erledigt).")
        client_id = proposal.client_id
        cases = list(session.scalars(select(Case).where(Case.client_id == client_id)))
        due = due_date(ctx, cases)
        if due is None or due > ctx.today():
            raise ValidationError("Die Akte ist nicht mehr zur Löschung fällig "
                                  "(z. B. wurde ein neuer Fall eröffnet).")
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
        record(ctx, session, "purge", None, proposal, cases=len(cases), removed_seqs=removed)
        session.execute(delete(AuditEntry).where(AuditEntry.client_id == client_id))
    for attachment_id in attachment_ids:
        ctx.vault.attachments.delete(attachment_id)
    return len(kept)


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
