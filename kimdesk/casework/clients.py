"""Ratsuchende: create and change persons and organisations, households and relations.

What may be stored depends on consent: without an active Einwilligung in die Datenverarbeitung
only what a Kurzintervention needs (``MINIMAL_FIELDS``) is kept.
"""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk import textmatch
from kimdesk.casework import audit, search
from kimdesk.casework.common import (
    check_code,
    check_municipality,
    check_not_future,
    has_processing_consent,
    load,
    record,
    stamp,
)
from kimdesk.casework.consents import ConsentInput, add_consent, new_consent
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import Client, Consent, Household, Relation
from kimdesk.models.base import new_id
from kimdesk.models.clients import CONSENT_FIELDS
from kimdesk.models.enums import ClientKind, ConsentKind
from kimdesk.reference import Reference

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
RELATION_KINDS = {
    "spouse": "Ehepartner:in",
    "parent_of": "Elternteil von",
    "sibling": "Geschwister",
    "other": "sonstige Beziehung",
}
HOUSEHOLD_ROLES = ("Haushaltsvorstand", "Ehepartner:in", "Partner:in", "Kind", "Elternteil",
                   "Geschwister", "sonstige Person")
_IDENTIFYING_FIELDS = ("first_name", "last_name", "birth_date", "phone", "email", "address")
_FIELD_LABELS = {
    "birth_date": "Geburtsdatum",
    "nationality": "Staatsangehörigkeit",
    "address": "Anschrift",
    "email": "E-Mail",
    "arrival_date": "Einreisedatum",
    "household_id": "Haushalt",
    "household_role": "Rolle im Haushalt",
    "notes": "Notizen",
}


class LikelyDuplicate(KimdeskError):
    """A client with this name (and birth date) probably exists already."""

    def __init__(self, candidates: list[search.ClientHit]) -> None:
        count = len(candidates)
        super().__init__(
            "Es gibt bereits "
            + ("eine ähnliche Person" if count == 1 else f"{count} ähnliche Personen")
            + ". Bitte prüfen, ob die Person schon erfasst ist."
        )
        self.candidates = candidates


@dataclass
class ClientInput:
    """The Stammdaten a user enters; empty strings and None mean "not given"."""

    kind: str = ClientKind.PERSON.value
    first_name: str = ""
    last_name: str = ""
    organisation_name: str = ""
    anonymous: bool = False
    gender: str = "not_stated"
    birth_date: date | None = None
    nationality: str | None = None
    languages: str = ""
    interpreter_language: str = ""
    municipality: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    arrival_date: date | None = None
    household_role: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        # Not asdict(): it deep-copies, and an import calls this for every row.
        return {name: getattr(self, name) for name in _INPUT_FIELDS}


@lru_cache(maxsize=8)
def _nationality_codes(reference: Reference) -> frozenset[str]:
    return frozenset(n.code for n in reference.nationalities)


_INPUT_FIELDS = tuple(name for name in ClientInput.__dataclass_fields__ if name != "extra")


def _clean_name(value: str, field_name: str, label: str) -> str:
    text = unicodedata.normalize("NFC", value.strip())
    if len(text) > 120:
        raise ValidationError(f"{label} ist zu lang (höchstens 120 Zeichen).", field_name)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise ValidationError(f"{label} enthält ein Steuerzeichen.", field_name)
    return text


def _validate(ctx: Context, data: ClientInput) -> None:
    check_code(ctx, "genders", data.gender, "gender", "Geschlecht")
    check_municipality(ctx, data.municipality)
    data.first_name = _clean_name(data.first_name, "first_name", "Vorname")
    data.last_name = _clean_name(data.last_name, "last_name", "Nachname")
    data.organisation_name = _clean_name(
        data.organisation_name, "organisation_name", "Name der Organisation"
    )
    if data.kind == ClientKind.ORGANISATION:
        if not data.organisation_name:
            raise ValidationError("Bitte den Namen der Organisation angeben.", "organisation_name")
    elif data.kind == ClientKind.PERSON:
        if not data.anonymous and not (data.first_name or data.last_name):
            raise ValidationError(
                "Bitte einen Namen angeben oder „anonyme Beratung“ wählen.", "last_name"
            )
    else:
        raise ValidationError("Unbekannte Art von Ratsuchenden.", "kind")
    if data.birth_date is not None:
        check_not_future(ctx, data.birth_date, "birth_date", "Das Geburtsdatum")
        if data.birth_date < EARLIEST_BIRTH_DATE:
            raise ValidationError("Das Geburtsdatum liegt vor 1900.", "birth_date")
    check_not_future(ctx, data.arrival_date, "arrival_date", "Das Einreisedatum")
    if data.nationality:
        data.nationality = data.nationality.upper()
        if data.nationality not in _nationality_codes(ctx.reference):
            raise ValidationError("Unbekannte Staatsangehörigkeit.", "nationality")
    if data.email and "@" not in data.email:
        raise ValidationError("Die E-Mail-Adresse ist unvollständig.", "email")


def _forget_identity(values: dict[str, Any]) -> None:
    """An anonymous Beratung keeps nothing that identifies the person."""
    for name in _IDENTIFYING_FIELDS:
        values[name] = None if name == "birth_date" else ""


def _consent_fields_used(values: dict[str, Any]) -> list[str]:
    return [name for name in sorted(CONSENT_FIELDS) if values.get(name) not in (None, "")]


def _require_consent_for(fields: list[str]) -> ValidationError:
    labels = ", ".join(_FIELD_LABELS.get(name, name) for name in fields)
    return ValidationError(
        f"Ohne Einwilligung in die Datenverarbeitung dürfen nur die für die Kurzintervention "
        f"nötigen Angaben gespeichert werden. Nicht erlaubt: {labels}.",
        fields[0],
    )


def create_client(
    ctx: Context,
    data: ClientInput,
    *,
    consent: ConsentInput | None = None,
    allow_duplicate: bool = False,
    session: Session | None = None,
) -> Client:
    """Create a Ratsuchende:n, optionally with the Einwilligung given at the same time.

    Raises :class:`LikelyDuplicate` if the person probably exists, unless ``allow_duplicate``.
    """
    _validate(ctx, data)
    values = data.values()
    if data.anonymous:
        _forget_identity(values)
    used = _consent_fields_used(values)
    if used and consent is None:
        raise _require_consent_for(used)
    if session is None:
        with ctx.vault.writing() as own:
            return _create(ctx, own, values, consent, allow_duplicate)
    return _create(ctx, session, values, consent, allow_duplicate)


def _create(
    ctx: Context,
    session: Session,
    values: dict[str, Any],
    consent: ConsentInput | None,
    allow_duplicate: bool,
) -> Client:
    if not allow_duplicate and values["kind"] == ClientKind.PERSON and not values["anonymous"]:
        candidates = search.likely_duplicates(
            session, values["first_name"], values["last_name"], values["birth_date"]
        )
        if candidates:
            raise LikelyDuplicate(candidates)
    client = Client(**values)
    stamp(ctx, client, created=True)
    session.add(client)
    session.flush()
    used = _consent_fields_used(values)
    record(ctx, session, "create", client.id, client, fields=used)
    if consent is not None:
        add_consent(ctx, session, client.id, consent)
    # Only an active Einwilligung in die Datenverarbeitung allows more than the minimum: not a
    # Schweigepflichtentbindung, not one that has already run out.
    if used and not has_processing_consent(session, client.id, ctx.today()):
        raise _require_consent_for(used)
    search.reindex(session, client)
    return client


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Tens of thousands of new ORM objects make every cyclic collection walk all of them
    (a third of an import's time); they form no garbage cycles worth collecting meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def create_clients(
    ctx: Context,
    session: Session,
    items: list[ClientInput],
    *,
    consent: ConsentInput | None = None,
    allow_duplicate: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Client | LikelyDuplicate | ValidationError]:
    """:func:`create_client` for a whole list inside the caller's write transaction (import).

    The same rules as one by one, as set operations: the vault's persons are read once for
    duplicate detection (:class:`search.DuplicateIndex`; earlier items count too), all rows are
    written in one flush, the audit entries and the search index in one statement each.
    Returns, per item, the new client, or why it was not created; nothing is written for those.
    """
    with without_cyclic_gc():
        return _create_many(ctx, session, items, consent, allow_duplicate, progress)


@dataclass(frozen=True)
class ListConsent:
    """The consent a list records for each of its new clients, validated once: ``template``
    (given today unless it says otherwise), an unsaved ``prototype`` record of it, and whether
    it ``covers`` the fields beyond the minimum (a data-processing consent in force today)."""

    template: ConsentInput
    prototype: Consent
    covers: bool


def list_consent(ctx: Context, session: Session, consent: ConsentInput) -> ListConsent:
    """``consent`` for a whole list (:func:`create_clients` and the import); ValidationError
    if it is not valid."""
    today = ctx.today()
    template = ConsentInput(**{**asdict(consent), "given_on": consent.given_on or today})
    prototype = new_consent(ctx, session, "", template)
    covers = (template.kind == ConsentKind.DATA_PROCESSING and template.given_on is not None
              and template.given_on <= today
              and (template.valid_until is None or template.valid_until >= today))
    return ListConsent(template, prototype, covers)


@dataclass(frozen=True)
class Admitted:
    """A list's item that passed the rules of :func:`create_client`: its column values, the
    fields only a consent allows (for the audit entry) and, for a named person, her key in the
    duplicate index (to add once she has an id)."""

    values: dict[str, Any]
    used: list[str]
    key: textmatch.PersonKey | None


def admit(ctx: Context, data: ClientInput, *, covers: bool,
          duplicates: search.DuplicateIndex | None) -> Admitted | LikelyDuplicate | ValidationError:
    """The rules of :func:`create_client` for one item of a list (earlier items are in
    ``duplicates`` already): what to create, or why not."""
    try:
        _validate(ctx, data)
    except ValidationError as exc:
        return exc
    values = data.values()
    if data.anonymous:
        _forget_identity(values)
    used = _consent_fields_used(values)
    if used and not covers:
        return _require_consent_for(used)
    person = values["kind"] == ClientKind.PERSON and not values["anonymous"]
    key = textmatch.PersonKey(values["first_name"], values["last_name"], values["birth_date"])
    if duplicates is not None and person and duplicates.find(key):
        return LikelyDuplicate([])
    return Admitted(values, used, key if person else None)


def _create_many(
    ctx: Context,
    session: Session,
    items: list[ClientInput],
    consent: ConsentInput | None,
    allow_duplicate: bool,
    progress: Callable[[int, int], None] | None,
) -> list[Client | LikelyDuplicate | ValidationError]:
    listed = list_consent(ctx, session, consent) if consent is not None else None
    template = listed.template if listed is not None else None
    duplicates = search.DuplicateIndex.load(session) if not allow_duplicate else None
    results: list[Client | LikelyDuplicate | ValidationError] = []
    created: list[Client] = []
    consents: list[Consent] = []
    entries: list[audit.NewEntry] = []
    total = len(items)
    for number, data in enumerate(items, start=1):
        if progress is not None and (number % 500 == 0 or number == total):
            progress(number, total)
        admitted = admit(ctx, data, covers=listed is not None and listed.covers,
                         duplicates=duplicates)
        if not isinstance(admitted, Admitted):
            results.append(admitted)
            continue
        client = Client(id=new_id(), **admitted.values)
        stamp(ctx, client, created=True)
        if duplicates is not None and admitted.key is not None:
            duplicates.add(admitted.key, client.id)
        entries.append(audit.NewEntry("create", client.id, Client.__tablename__, client.id,
                                      {"fields": admitted.used}))
        if template is not None:
            record_ = new_consent(ctx, session, client.id, template, validate=False)
            consents.append(record_)
            entries.append(audit.NewEntry("create", client.id, record_.__tablename__,
                                          record_.id, {"kind": template.kind}))
        created.append(client)
        results.append(client)
    session.add_all(created)
    session.add_all(consents)
    session.flush()
    audit.append_many(session, ctx.audit_key, ctx.user, entries)
    search.reindex_many(session, created, new=True)
    return results


def update_client(ctx: Context, client_id: str, changes: dict[str, Any]) -> Client:
    """Change Stammdaten; fields beyond the minimum need an active Einwilligung."""
    allowed = set(ClientInput.__dataclass_fields__) - {"extra", "kind"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Unbekannte Felder: {', '.join(sorted(unknown))}")
    with ctx.vault.writing() as session:
        client = load(session, Client, client_id, "Die Person")
        before = {name: getattr(client, name) for name in allowed}
        merged = ClientInput(kind=client.kind, **(before | changes))
        _validate(ctx, merged)
        after = {name: getattr(merged, name) for name in allowed}
        if after["anonymous"]:
            _forget_identity(after)
        changed = sorted(name for name in allowed if before[name] != after[name])
        newly_sensitive = [n for n in _consent_fields_used(after) if n in changed]
        if newly_sensitive and not has_processing_consent(session, client_id, ctx.today()):
            raise _require_consent_for(newly_sensitive)
        for name in changed:
            setattr(client, name, after[name])
        stamp(ctx, client)
        record(ctx, session, "update", client.id, client, fields=changed)
        search.reindex(session, client)
        return client


def read_client(ctx: Context, client_id: str) -> Client:
    """Open a client file for reading; the read is recorded in the audit trail."""
    with ctx.vault.writing() as session:
        client = load(session, Client, client_id, "Die Person")
        record(ctx, session, "read", client.id, client)
        return client


def find_clients(ctx: Context, query: str, limit: int = search.DEFAULT_LIMIT
                 ) -> list[search.ClientHit]:
    with ctx.vault.reading() as session:
        return search.hits(session, query, limit)


def create_household(
    ctx: Context, label: str, municipality: str, address: str = "", *,
    first_member: str | None = None, role: str = "",
) -> Household:
    """A Haushalt; with ``first_member`` that person joins it in the same transaction, so a
    refused member (no consent) leaves no empty household behind."""
    label = label.strip()
    if not label:
        raise ValidationError("Bitte eine Bezeichnung angeben, z. B. „Familie H.“.", "label")
    check_municipality(ctx, municipality)
    with ctx.vault.writing() as session:
        household = Household(label=label, municipality=municipality, address=address)
        stamp(ctx, household, created=True)
        session.add(household)
        session.flush()
        record(ctx, session, "create", None, household)
        if first_member is not None:
            _join(ctx, session, household, first_member, role)
        return household


def add_to_household(ctx: Context, household_id: str, client_id: str, role: str) -> None:
    with ctx.vault.writing() as session:
        household = load(session, Household, household_id, "Der Haushalt")
        _join(ctx, session, household, client_id, role)


def _join(ctx: Context, session: Session, household: Household, client_id: str,
          role: str) -> None:
    client = load(session, Client, client_id, "Die Person")
    if not has_processing_consent(session, client_id, ctx.today()):
        raise _require_consent_for(["household_id"])
    client.household_id = household.id
    client.household_role = role
    stamp(ctx, client)
    record(ctx, session, "update", client.id, client, fields=["household_id", "household_role"])


def household_members(ctx: Context, household_id: str) -> list[Client]:
    with ctx.vault.reading() as session:
        return list(
            session.scalars(
                select(Client)
                .where(Client.household_id == household_id)
                .order_by(Client.created_at)
            )
        )


def add_relation(ctx: Context, client_id: str, other_id: str, kind: str) -> Relation:
    if kind not in RELATION_KINDS:
        raise ValidationError("Unbekannte Art der Beziehung.", "kind")
    if client_id == other_id:
        raise ValidationError("Eine Person kann nicht mit sich selbst verbunden werden.", "other")
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        load(session, Client, other_id, "Die andere Person")
        for person in (client_id, other_id):
            if not has_processing_consent(session, person, ctx.today()):
                raise ValidationError(
                    "Beziehungen zwischen Personen dürfen nur mit Einwilligung beider "
                    "gespeichert werden.", "other")
        relation = Relation(client_id=client_id, other_id=other_id, kind=kind)
        stamp(ctx, relation, created=True)
        session.add(relation)
        session.flush()
        record(ctx, session, "create", client_id, relation)
        return relation
