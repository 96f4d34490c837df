"""Einwilligungen and Schweigepflichtentbindungen: specific, separate and revocable.

No blanket consent: a Schweigepflichtentbindung names its recipient, the kinds of information
and the purpose; health data (Art. 9 DSGVO) must be named explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework.common import check_code, check_codes, check_not_future, load, record, stamp
from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.models import Client, Consent, Institution
from kimdesk.models.base import new_id
from kimdesk.models.consent import HEALTH
from kimdesk.models.enums import ConsentKind
from kimdesk.textmatch import fold

CONSENT_FORMS = {"schriftlich": "schriftlich", "elektronisch": "elektronisch",
                 "muendlich": "mündlich (dokumentiert)", "liste": "aus Liste übernommen"}


@dataclass
class ConsentInput:
    kind: str = ConsentKind.DATA_PROCESSING.value
    purpose: str = "Beratung und Begleitung im Kommunalen Integrationsmanagement"
    given_on: date | None = None
    recipient_institution_id: str | None = None
    recipient_type: str = ""
    recipient_text: str = ""
    information_kinds: list[str] = field(default_factory=list)
    special_categories: bool = False
    mutual: bool = False
    form: str = "schriftlich"
    language: str = "Deutsch"
    interpreter: bool = False
    valid_until: date | None = None


def _validate(ctx: Context, session: Session, data: ConsentInput) -> None:
    check_code(ctx, "consent_kinds", data.kind, "kind", "Art der Einwilligung")
    if not data.purpose.strip():
        raise ValidationError("Bitte den Zweck angeben.", "purpose")
    if data.form not in CONSENT_FORMS:
        raise ValidationError("Unbekannte Form der Einwilligung.", "form")
    check_not_future(ctx, data.given_on, "given_on", "Das Datum der Einwilligung")
    if data.valid_until and data.given_on and data.valid_until < data.given_on:
        raise ValidationError("„Gültig bis“ liegt vor dem Datum der Einwilligung.", "valid_until")
    if data.kind == ConsentKind.RELEASE:
        if data.recipient_institution_id:
            institution = load(session, Institution, data.recipient_institution_id, "Die Stelle")
            data.recipient_type = institution.institution_type
        elif data.recipient_type:
            check_code(ctx, "institution_types", data.recipient_type, "recipient_type", "Stelle")
        else:
            raise ValidationError(
                "Eine Schweigepflichtentbindung braucht eine Stelle, gegenüber der sie gilt.",
                "recipient_institution_id",
            )
        if not data.information_kinds:
            raise ValidationError(
                "Bitte angeben, welche Informationen weitergegeben werden dürfen.",
                "information_kinds",
            )
        check_codes(ctx, "information_kinds", data.information_kinds, "information_kinds",
                    "Art der Information")
        if HEALTH in data.information_kinds and not data.special_categories:
            raise ValidationError(
                "Gesundheitsdaten müssen ausdrücklich als besondere Kategorie benannt werden.",
                "special_categories",
            )


def new_consent(ctx: Context, session: Session, client_id: str, data: ConsentInput, *,
                validate: bool = True) -> Consent:
    """A checked, stamped consent with its id, not yet added to the session."""
    if data.given_on is None:
        data.given_on = ctx.today()
    if validate:
        _validate(ctx, session, data)
    consent = Consent(
        id=new_id(),
        client_id=client_id,
        kind=data.kind,
        purpose=data.purpose.strip(),
        given_on=data.given_on,
        recipient_institution_id=data.recipient_institution_id,
        recipient_type=data.recipient_type,
        recipient_text=data.recipient_text,
        information_kinds=list(data.information_kinds),
        special_categories=data.special_categories,
        mutual=data.mutual,
        form=data.form,
        language=data.language,
        interpreter=data.interpreter,
        valid_until=data.valid_until,
    )
    stamp(ctx, consent, created=True)
    return consent


def add_consent(ctx: Context, session: Session, client_id: str, data: ConsentInput) -> Consent:
    """Record a consent inside an open write transaction (used when creating a client)."""
    consent = new_consent(ctx, session, client_id, data)
    session.add(consent)
    session.flush()
    record(ctx, session, "create", client_id, consent, kind=data.kind)
    return consent


def record_consent(ctx: Context, client_id: str, data: ConsentInput) -> Consent:
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        return add_consent(ctx, session, client_id, data)


def revoke_consent(ctx: Context, consent_id: str, revoked_on: date | None = None,
                   note: str = "") -> Consent:
    """Widerruf: effective from ``revoked_on``; what was lawfully done before stays valid."""
    revoked_on = revoked_on or ctx.today()
    with ctx.vault.writing() as session:
        consent = load(session, Consent, consent_id, "Die Einwilligung")
        if consent.revoked_on is not None:
            raise ValidationError("Diese Einwilligung wurde bereits widerrufen.", "revoked_on")
        check_not_future(ctx, revoked_on, "revoked_on", "Das Datum des Widerrufs")
        if revoked_on < consent.given_on:
            raise ValidationError("Der Widerruf liegt vor der Einwilligung.", "revoked_on")
        consent.revoked_on = revoked_on
        consent.revocation_note = note
        stamp(ctx, consent)
        record(ctx, session, "update", consent.client_id, consent, fields=["revoked_on"])
        return consent


def consents_of(ctx: Context, client_id: str) -> list[Consent]:
    with ctx.vault.reading() as session:
        return list(
            session.scalars(
                select(Consent).where(Consent.client_id == client_id).order_by(Consent.given_on)
            )
        )


@dataclass(frozen=True)
class ConsentRow:
    """One line of the Datenschutz overview: whose consent, to whom, for what, which state."""

    id: str
    client_id: str
    client_name: str
    kind: str
    recipient: str
    information_kinds: list[str]
    purpose: str
    special_categories: bool
    given_on: date
    valid_until: date | None
    revoked_on: date | None
    active: bool

    @property
    def status(self) -> str:
        """ACTIVE, REVOKED or EXPIRED (the filter of the Datenschutz overview)."""
        if self.active:
            return ACTIVE
        return REVOKED if self.revoked_on is not None else EXPIRED


ACTIVE, REVOKED, EXPIRED = "active", "revoked", "expired"


@dataclass(frozen=True)
class ConsentFilter:
    """What the Datenschutz overview shows: part of a name (any case, any diacritics),
    a status and a kind; empty values do not filter."""

    name: str = ""
    status: str | None = None
    kind: str | None = None


def filter_consent_rows(rows: list[ConsentRow], flt: ConsentFilter) -> list[ConsentRow]:
    """The rows of :func:`consent_rows` that match ``flt``, in their order (in memory: the
    overview holds the vault's consents already)."""
    words = fold(flt.name).split()
    return [
        r for r in rows
        if all(word in fold(r.client_name) for word in words)
        and (flt.status is None or r.status == flt.status)
        and (flt.kind is None or r.kind == flt.kind)
    ]


def consent_rows(ctx: Context) -> list[ConsentRow]:
    """All Einwilligungen and Schweigepflichtentbindungen of the vault, newest first."""
    today = ctx.today()
    with ctx.vault.reading() as session:
        institutions = {i.id: i.name for i in session.scalars(select(Institution))}
        rows = session.execute(select(Consent, Client).join(Client, Client.id == Consent.client_id)
                               .order_by(Consent.given_on.desc()))
        result = []
        for consent, client in rows:
            if consent.recipient_institution_id:
                recipient = institutions.get(consent.recipient_institution_id, "")
            elif consent.recipient_type:
                recipient = ctx.reference.label("institution_types", consent.recipient_type)
            else:
                recipient = consent.recipient_text or "KIM Kreis Kleve"
            result.append(ConsentRow(
                consent.id, client.id, client.display_name, consent.kind, recipient,
                list(consent.information_kinds), consent.purpose, consent.special_categories,
                consent.given_on, consent.valid_until, consent.revoked_on,
                consent.is_active(today)))
        return result
