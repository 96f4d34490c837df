"""Netzwerk: institutions with their Rechtskreis, and Vermittlungen (referrals) to them.

A referral that passes data on needs a matching, active Schweigepflichtentbindung.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from kimdesk.casework.cases import _open_case_for_write, case_people
from kimdesk.casework.common import (
    active_consents,
    check_code,
    check_codes,
    check_not_future,
    load,
    record,
    stamp,
)
from kimdesk.casework.context import Context
from kimdesk.casework.records import InstitutionRecord
from kimdesk.errors import ValidationError
from kimdesk.models import Institution, Referral
from kimdesk.reference import InstitutionType


@dataclass
class InstitutionInput:
    name: str
    institution_type: str
    legal_domain: str = ""  # defaults to the type's Rechtskreis
    municipality: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    contact_person: str = ""
    notes: str = ""


@dataclass
class ReferralInput:
    institution_id: str
    purpose: str
    referred_on: date | None = None
    shares_data: bool = False
    information_kinds: list[str] = field(default_factory=list)
    client_id: str | None = None


def create_institution(ctx: Context, data: InstitutionInput) -> Institution:
    if not data.name.strip():
        raise ValidationError("Bitte den Namen der Einrichtung angeben.", "name")
    check_code(ctx, "institution_types", data.institution_type, "institution_type",
               "Art der Einrichtung")
    term = ctx.reference.term("institution_types", data.institution_type)
    assert isinstance(term, InstitutionType)
    legal_domain = data.legal_domain or term.legal_domain
    check_code(ctx, "legal_domains", legal_domain, "legal_domain", "Rechtskreis")
    if data.municipality and data.municipality not in {
        m.code for m in ctx.reference.municipalities
    }:
        raise ValidationError("Bitte eine Kommune des Kreises Kleve wählen.", "municipality")
    with ctx.vault.writing() as session:
        institution = Institution(
            name=data.name.strip(), institution_type=data.institution_type,
            legal_domain=legal_domain, municipality=data.municipality, address=data.address,
            phone=data.phone, email=data.email, contact_person=data.contact_person,
            notes=data.notes,
        )
        stamp(ctx, institution, created=True)
        session.add(institution)
        session.flush()
        record(ctx, session, "create", None, institution)
        return institution


def institutions(ctx: Context, municipality: str | None = None) -> list[InstitutionRecord]:
    """The network's institutions (of one Kommune and the county-wide ones), by name."""
    with ctx.vault.reading() as session:
        query = select(Institution).order_by(Institution.name)
        if municipality:
            query = query.where(Institution.municipality.in_((municipality, "")))
        return [InstitutionRecord.of(i) for i in session.scalars(query)]


def refer(ctx: Context, case_id: str, data: ReferralInput) -> Referral:
    """Vermittlung. Passing data needs a Schweigepflichtentbindung covering it."""
    referred_on = data.referred_on or ctx.today()
    check_not_future(ctx, referred_on, "referred_on", "Das Datum der Vermittlung")
    if not data.purpose.strip():
        raise ValidationError("Bitte den Zweck der Vermittlung angeben.", "purpose")
    if data.shares_data and not data.information_kinds:
        raise ValidationError("Bitte angeben, welche Informationen weitergegeben werden.",
                              "information_kinds")
    check_codes(ctx, "information_kinds", data.information_kinds, "information_kinds",
                "Art der Information")
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        institution = load(session, Institution, data.institution_id, "Die Einrichtung")
        client_id = data.client_id or case.client_id
        if client_id not in case_people(session, case):
            raise ValidationError("Die Person gehört nicht zu diesem Fall.", "client_id")
        consent_id = None
        if data.shares_data:
            covering = [
                c for c in active_consents(session, client_id, referred_on)
                if c.covers(institution.id, institution.institution_type, data.information_kinds)
            ]
            if not covering:
                raise ValidationError(
                    "Für diese Weitergabe liegt keine passende Schweigepflichtentbindung vor "
                    "(Stelle, Art der Informationen und Gültigkeit müssen passen).",
                    "shares_data",
                )
            consent_id = covering[0].id
        referral = Referral(
            case_id=case_id, client_id=client_id, institution_id=institution.id,
            referred_on=referred_on, purpose=data.purpose.strip(), outcome="requested",
            shares_data=data.shares_data, information_kinds=list(data.information_kinds),
            consent_id=consent_id,
        )
        stamp(ctx, referral, created=True)
        session.add(referral)
        session.flush()
        record(ctx, session, "create", client_id, referral, shares_data=data.shares_data)
        return referral


def set_referral_outcome(ctx: Context, referral_id: str, outcome: str,
                         on: date | None = None) -> Referral:
    check_code(ctx, "referral_outcomes", outcome, "outcome", "Ergebnis der Vermittlung")
    on = on or ctx.today()
    check_not_future(ctx, on, "outcome_on", "Das Datum des Ergebnisses")
    with ctx.vault.writing() as session:
        referral = load(session, Referral, referral_id, "Die Vermittlung")
        _open_case_for_write(session, referral.case_id)
        if on < referral.referred_on:
            raise ValidationError("Das Ergebnis liegt vor der Vermittlung.", "outcome_on")
        referral.outcome = outcome
        referral.outcome_on = on
        stamp(ctx, referral)
        record(ctx, session, "update", referral.client_id, referral, fields=["outcome"])
        return referral


def referrals_of(ctx: Context, case_id: str) -> list[Referral]:
    with ctx.vault.reading() as session:
        return list(session.scalars(
            select(Referral).where(Referral.case_id == case_id).order_by(Referral.referred_on)))


def update_institution(ctx: Context, institution_id: str, data: InstitutionInput) -> Institution:
    if not data.name.strip():
        raise ValidationError("Bitte den Namen der Einrichtung angeben.", "name")
    check_code(ctx, "institution_types", data.institution_type, "institution_type",
               "Art der Einrichtung")
    legal_domain = data.legal_domain or ctx.reference.term(
        "institution_types", data.institution_type).legal_domain  # type: ignore[attr-defined]
    check_code(ctx, "legal_domains", legal_domain, "legal_domain", "Rechtskreis")
    with ctx.vault.writing() as session:
        institution = load(session, Institution, institution_id, "Die Einrichtung")
        for name in ("institution_type", "municipality", "address", "phone", "email",
                     "contact_person", "notes"):
            setattr(institution, name, getattr(data, name))
        institution.name = data.name.strip()
        institution.legal_domain = legal_domain
        stamp(ctx, institution)
        record(ctx, session, "update", None, institution)
        return institution
