"""Erasure on request (Art. 17 DSGVO) and what happens to data stored under a revoked consent.

A person may ask for her data to be erased at any time, outside the retention rules. The case
manager either erases the file at once (purged like a file due under the retention rules: the
erasure reaches every device of the team, one audit entry and anonymised counts remain), or
records one of the exceptions Art. 17 Abs. 3 allows with a reason — refused, or postponed to a
day on which the request is proposed again and can then be confirmed without any retention
period having run out.

Revoking an Einwilligung in die Datenverarbeitung (Art. 7 Abs. 3) asks what happens to the
data stored under it (:func:`stored_under`): kept under another legal basis, which is named
with a reason in the audit trail, or erased (the fields that need the consent are emptied on
every device).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework import search
from kimdesk.casework.common import active_consents, load, record, stamp
from kimdesk.casework.consents import revoke_consent
from kimdesk.casework.context import Context
from kimdesk.casework.retention import purge_file
from kimdesk.errors import ValidationError
from kimdesk.models import Case, Client, Consent, Deadline, DeletionProposal, Referral
from kimdesk.models.clients import CONSENT_FIELDS
from kimdesk.models.enums import CaseStatus, ConsentKind, ProposalStatus

# The exceptions of Art. 17 Abs. 3 DSGVO that apply to the KIM's work, with their German text.
EXCEPTIONS = {
    "legal_obligation": "Art. 17 Abs. 3 lit. b DSGVO – rechtliche Verpflichtung "
                        "(z. B. gesetzliche Aufbewahrungspflicht)",
    "public_task": "Art. 17 Abs. 3 lit. b DSGVO – Wahrnehmung einer Aufgabe im öffentlichen "
                   "Interesse",
    "legal_claims": "Art. 17 Abs. 3 lit. e DSGVO – Geltendmachung, Ausübung oder Verteidigung "
                    "von Rechtsansprüchen (z. B. laufendes Widerspruchs- oder Klageverfahren)",
}

# German names of the person's fields that need an Einwilligung (models.clients.CONSENT_FIELDS).
CONSENT_FIELD_LABELS = {
    "birth_date": "Geburtsdatum",
    "nationality": "Staatsangehörigkeit",
    "address": "Anschrift",
    "email": "E-Mail",
    "arrival_date": "Einreisedatum",
    "household_id": "Haushalt",
    "household_role": "Rolle im Haushalt",
    "notes": "Notizen",
}

# What revoking an Einwilligung does to the data stored under it.
KEEP = "keep"
ERASE = "erase"


@dataclass(frozen=True)
class ErasureOutcome:
    """What became of a request: ``erased``, ``refused`` or ``postponed`` (until a day)."""

    decision: str
    cases_kept_as_counts: int = 0
    until: date | None = None
    proposal_id: str = ""


def erasure_hints(ctx: Context, client_id: str) -> list[str]:
    """What the case manager should weigh before erasing (German): open cases, a pending
    Widerspruch/Klage, recipients to be told of the erasure (Art. 19)."""
    today = ctx.today()
    hints: list[str] = []
    with ctx.vault.reading() as session:
        load(session, Client, client_id, "Die Person")
        open_cases = session.scalars(select(Case.id).where(
            Case.client_id == client_id, Case.status == CaseStatus.OPEN)).all()
        if open_cases:
            hints.append(f"{len(open_cases)} Fall/Fälle noch offen: sie enden mit der Löschung.")
        appeals = session.scalars(select(Deadline.due_on).where(
            Deadline.client_id == client_id, Deadline.kind == "appeal",
            Deadline.done_on.is_(None))).all()
        if appeals:
            hints.append("Ein Widerspruchs- oder Klageverfahren ist offen: prüfen, ob die Daten "
                         "zur Verteidigung von Rechtsansprüchen noch gebraucht werden "
                         "(Art. 17 Abs. 3 lit. e DSGVO).")
        shared = session.scalars(select(Referral.institution_id).where(
            Referral.client_id == client_id, Referral.shares_data.is_(True))).all()
        if shared:
            hints.append(f"Daten wurden an {len(set(shared))} Stelle(n) weitergegeben: diese "
                         "über die Löschung informieren (Art. 19 DSGVO).")
        if not active_consents(session, client_id, today) and not hints:
            hints.append("Keine Hinderungsgründe in den Daten erkennbar.")
    return hints


def _check_request_day(ctx: Context, requested_on: date) -> None:
    if requested_on > ctx.today():
        raise ValidationError("Der Antrag kann nicht in der Zukunft liegen.", "requested_on")


def erase_on_request(ctx: Context, client_id: str, requested_on: date) -> ErasureOutcome:
    """Erase the person's file now because she asked for it (Art. 17 Abs. 1)."""
    _check_request_day(ctx, requested_on)
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        proposal = _request_proposal(ctx, session, client_id, requested_on)
        kept, attachment_ids = purge_file(ctx, session, proposal, ground="art17",
                                          requested_on=requested_on.isoformat())
        proposal_id = proposal.id
    for attachment_id in attachment_ids:
        ctx.vault.attachments.delete(attachment_id)
    return ErasureOutcome("erased", kept, proposal_id=proposal_id)


def restrict_erasure(ctx: Context, client_id: str, requested_on: date, exception: str,
                     reason: str, until: date | None = None) -> ErasureOutcome:
    """Refuse the request (``until`` None) or postpone it to ``until``, under one of the
    exceptions of Art. 17 Abs. 3 with a reason; both go into the file's audit trail."""
    _check_request_day(ctx, requested_on)
    if exception not in EXCEPTIONS:
        raise ValidationError("Bitte eine der Ausnahmen nach Art. 17 Abs. 3 DSGVO wählen.",
                              "exception")
    if not reason.strip():
        raise ValidationError("Bitte begründen, warum die Daten nicht gelöscht werden.",
                              "reason")
    if until is not None and until <= ctx.today():
        raise ValidationError("Das Datum muss in der Zukunft liegen.", "until")
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        detail = {"requested_on": requested_on.isoformat(), "exception": exception,
                  "reason": reason.strip()}
        if until is None:
            record(ctx, session, "erasure_refused", client_id, None, **detail)
            return ErasureOutcome("refused")
        proposal = _request_proposal(ctx, session, client_id, requested_on)
        proposal.status = ProposalStatus.POSTPONED.value
        proposal.postponed_until = until
        proposal.reason = f"{EXCEPTIONS[exception]}: {reason.strip()}"
        proposal.decided_by = ctx.user
        proposal.decided_on = ctx.today()
        stamp(ctx, proposal)
        session.flush()
        record(ctx, session, "erasure_postponed", client_id, proposal,
               until=until.isoformat(), **detail)
        return ErasureOutcome("postponed", until=until, proposal_id=proposal.id)


def _request_proposal(ctx: Context, session: Session, client_id: str, requested_on: date
                      ) -> DeletionProposal:
    """The open proposal of this person, now marked as requested, or a new one."""
    proposal = session.scalars(select(DeletionProposal).where(
        DeletionProposal.client_id == client_id,
        DeletionProposal.status != ProposalStatus.DONE)).first()
    if proposal is None:
        proposal = DeletionProposal(client_id=client_id, due_since=requested_on)
        stamp(ctx, proposal, created=True)
        session.add(proposal)
        session.flush()
    proposal.requested_on = requested_on
    return proposal


# --- revoking an Einwilligung -------------------------------------------------------------------


def stored_under(ctx: Context, consent_id: str) -> list[str]:
    """The German names of the data stored only because of this Einwilligung (empty if none,
    e.g. for a Schweigepflichtentbindung or while another Einwilligung covers the data)."""
    with ctx.vault.reading() as session:
        consent = load(session, Consent, consent_id, "Die Einwilligung")
        return _stored_under(ctx, session, consent)


def _stored_under(ctx: Context, session: Session, consent: Consent) -> list[str]:
    if consent.kind != ConsentKind.DATA_PROCESSING:
        return []
    others = [c for c in active_consents(session, consent.client_id, ctx.today())
              if c.id != consent.id and c.kind == ConsentKind.DATA_PROCESSING]
    if others:
        return []
    client = load(session, Client, consent.client_id, "Die Person")
    return [CONSENT_FIELD_LABELS[name] for name in sorted(CONSENT_FIELDS)
            if getattr(client, name) not in (None, "")]


def revoke_with_decision(ctx: Context, consent_id: str, revoked_on: date | None, note: str,
                         data: str, legal_basis: str = "") -> list[str]:
    """Record the Widerruf and decide about the data stored under the consent: ``KEEP`` it
    under another legal basis (``legal_basis`` names it, required) or ``ERASE`` it.

    Returns the German names of the fields emptied (empty when kept or nothing was stored).
    """
    if data not in (KEEP, ERASE):
        raise ValidationError("Bitte entscheiden, was mit den gespeicherten Daten geschieht.",
                              "data")
    if data == KEEP and not legal_basis.strip():
        raise ValidationError("Bitte die Rechtsgrundlage nennen, auf der die Daten weiter "
                              "gespeichert werden.", "legal_basis")
    with ctx.vault.writing() as session:
        consent = revoke_consent(ctx, consent_id, revoked_on, note)
        session.flush()
        stored = _stored_under(ctx, session, consent)
        if data == KEEP:
            record(ctx, session, "consent_data_kept", consent.client_id, consent,
                   legal_basis=legal_basis.strip(), fields=stored)
            return []
        if not stored:
            return []
        client = load(session, Client, consent.client_id, "Die Person")
        names = [n for n in sorted(CONSENT_FIELDS) if getattr(client, n) not in (None, "")]
        for name in names:
            setattr(client, name, None if name in _NULLABLE else "")
        stamp(ctx, client)
        search.reindex(session, client)
        record(ctx, session, "consent_data_erased", client.id, client, fields=names)
        return stored


_NULLABLE = frozenset({"birth_date", "nationality", "arrival_date", "household_id"})
