"""Builders for test data: realistic people of the Kreis Kleve, cases, contacts, institutions.

Every builder goes through the casework use cases (never around them) and takes keyword
overrides, e.g. ``make_person(ctx, last_name="Wiśniewska", consent=True)``.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kimdesk.casework.cases import (
    CaseInput,
    ContactInput,
    ContactRecorded,
    change_phase,
    open_case,
    record_contact,
)
from kimdesk.casework.clients import ClientInput, create_client
from kimdesk.casework.consents import ConsentInput, record_consent
from kimdesk.casework.context import Context
from kimdesk.casework.network import InstitutionInput, create_institution
from kimdesk.casework.profile import context_for, create_profile
from kimdesk.models import Case, Client, Consent, Institution
from kimdesk.models.enums import CaseKind, ClientKind, ConsentKind, Phase
from kimdesk.reference import load_reference
from kimdesk.vault import KdfParams, Vault, create_vault, open_vault

PASSWORD = "Rheinufer-Kleve-2026"
USER = "Anna Becker"
TEAM = "nord"
# A fixed day, so rules about days (retention, § 104c, overdue Fristen) give the same answer
# whenever the suite runs.
TODAY = date(2026, 11, 25)

SHORT = CaseKind.SHORT_INTERVENTION.value
SUPPORT = CaseKind.PROCESS_SUPPORT.value
CM = CaseKind.CASE_MANAGEMENT.value


class Clock:
    """A settable clock for :class:`Context`; ``ctx.today()`` returns ``clock.today``."""

    def __init__(self, today: date) -> None:
        self.today = today

    def __call__(self) -> date:
        return self.today

    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)


# --- vaults -----------------------------------------------------------------------------------


def make_template_vault(path: Path) -> Path:
    """Create a migrated vault with a profile at ``path`` and close it again."""
    vault, _recovery_code = create_vault(path, PASSWORD, kdf=KdfParams.for_tests())
    try:
        create_profile(vault, USER, TEAM)
    finally:
        vault.close()
    return path


@contextmanager
def vault_copy(template: Path, target: Path) -> Iterator[Vault]:
    """Open a fresh copy of the closed template vault at ``target``; closed again on exit."""
    shutil.copytree(template, target)
    vault = open_vault(target, PASSWORD)
    try:
        yield vault
    finally:
        vault.close()


@contextmanager
def context_on_copy(template: Path, target: Path, clock: Clock | None = None
                    ) -> Iterator[Context]:
    """A context on a fresh vault copy, e.g. one per example of a property test."""
    with vault_copy(template, target) as vault:
        yield dataclasses.replace(context_for(vault, load_reference()),
                                  clock=clock or Clock(TODAY))


# --- people -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    gender: str
    birth_date: date
    nationality: str
    municipality: str
    languages: str
    address: str


# Synthetic, but shaped like the Kreis Kleve's clients (main nationalities of the concept).
# Names are phonetically distinct, so building several never trips the duplicate check.
PEOPLE = (
    Person("Amina", "Haddad", "female", date(1991, 4, 17), "SY", "kleve", "Arabisch",
           "Hoffmannallee 12, 47533 Kleve"),
    Person("Oleksandr", "Shevchenko", "male", date(1984, 9, 2), "UA", "goch", "Ukrainisch",
           "Voßstraße 3, 47574 Goch"),
    Person("Zofia", "Wiśniewska", "female", date(1979, 1, 23), "PL", "emmerich", "Polnisch",
           "Steinstraße 20, 46446 Emmerich am Rhein"),
    Person("Ștefan", "Popescu", "male", date(1995, 6, 30), "RO", "geldern", "Rumänisch",
           "Issumer Tor 7, 47608 Geldern"),
    Person("Ayşe", "Yılmaz", "female", date(1988, 3, 12), "TR", "kevelaer", "Türkisch",
           "Hauptstraße 41, 47623 Kevelaer"),
    Person("Farid", "Rahimi", "male", date(2001, 11, 5), "AF", "kranenburg", "Dari, Paschtu",
           "Große Straße 9, 47559 Kranenburg"),
    Person("Daniela", "Ivanova", "female", date(1990, 2, 14), "BG", "rees", "Bulgarisch",
           "Vor dem Falltor 2, 46459 Rees"),
    Person("Karwan", "Barzani", "male", date(1976, 7, 8), "IQ", "straelen",
           "Kurdisch (Sorani), Arabisch", "Bahnhofstraße 15, 47638 Straelen"),
    Person("Grace", "Okafor", "female", date(1993, 12, 1), "NG", "kalkar", "Englisch, Igbo",
           "Monrestraße 4, 47546 Kalkar"),
    Person("Tesfay", "Gebremedhin", "male", date(1998, 5, 21), "ER", "weeze", "Tigrinya",
           "Cyriakusplatz 1, 47652 Weeze"),
)


def client_count(ctx: Context) -> int:
    with ctx.vault.reading() as session:
        return session.scalar(select(func.count()).select_from(Client)) or 0


def data_processing_consent(ctx: Context, **overrides: Any) -> ConsentInput:
    """A written Einwilligung in die Datenverarbeitung, given today."""
    values: dict[str, Any] = {"kind": ConsentKind.DATA_PROCESSING.value, "given_on": ctx.today()}
    return ConsentInput(**(values | overrides))


def make_person(ctx: Context, *, consent: bool = False, allow_duplicate: bool = False,
                **overrides: Any) -> Client:
    """A person from ``PEOPLE`` (the next one not yet in the vault).

    Without ``consent`` only what a Kurzintervention needs is filled in; with it, also birth
    date, nationality and address, and the Einwilligung is recorded at the same time.
    Fields of :class:`ClientInput` can be overridden.
    """
    index = client_count(ctx)
    person = PEOPLE[index % len(PEOPLE)]
    values: dict[str, Any] = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "gender": person.gender,
        "municipality": person.municipality,
        "languages": person.languages,
        "phone": f"0157 {3400000 + index * 7919:07d}",
    }
    if consent:
        values |= {"birth_date": person.birth_date, "nationality": person.nationality,
                   "address": person.address}
    values |= overrides
    return create_client(
        ctx,
        ClientInput(**values),
        consent=data_processing_consent(ctx) if consent else None,
        # Past the pool the names repeat; those people are meant to be different ones.
        allow_duplicate=allow_duplicate or index >= len(PEOPLE),
    )


def make_organisation(ctx: Context, **overrides: Any) -> Client:
    """An employer the Welcome-Center advises."""
    values: dict[str, Any] = {"kind": ClientKind.ORGANISATION.value,
                              "organisation_name": "Gartenbau Verhoeven GmbH",
                              "municipality": "straelen", "phone": "02834 70110"}
    return create_client(ctx, ClientInput(**(values | overrides)))


# --- cases ------------------------------------------------------------------------------------

_CONCERNS = {
    SHORT: ("Hilfe beim Ausfüllen des Antrags auf Weiterbewilligung", ["livelihood"]),
    SUPPORT: ("Suche nach einer Wohnung und Anmeldung der Kinder in der Schule",
              ["housing", "education"]),
    CM: ("Aufenthalt sichern, Sprachkurs und Arbeit finden; mehrere Stellen beteiligt",
         ["residence", "language", "work"]),
}


def make_case(ctx: Context, client: Client, kind: str = SHORT, *, phase: str | None = None,
              **overrides: Any) -> Case:
    """A case of ``kind`` for ``client``; for case management, walked forward to ``phase``."""
    concern, topics = _CONCERNS[kind]
    values: dict[str, Any] = {"kind": kind, "concern": concern, "topics": topics,
                              "access_route": "self_referral"}
    case = open_case(ctx, client.id, CaseInput(**(values | overrides)))
    if phase is not None:
        target = Phase(phase)
        for step in list(Phase)[1 : target.index + 1]:
            case = change_phase(ctx, case.id, step.value)
    return case


def make_contact(ctx: Context, case: Case, **overrides: Any) -> ContactRecorded:
    """A 45-minute office session on the case today."""
    values: dict[str, Any] = {"contact_on": ctx.today(), "mode": "office",
                              "duration_minutes": 45, "topics": ["livelihood"],
                              "note": "Unterlagen für das Jobcenter gemeinsam sortiert."}
    return record_contact(ctx, case.id, ContactInput(**(values | overrides)))


# --- network ----------------------------------------------------------------------------------

_INSTITUTION_NAMES = {
    "jobcenter": "Jobcenter Kreis Kleve, Geschäftsstelle Kleve",
    "immigration_office": "Ausländerbehörde des Kreises Kleve",
    "health_care": "Allgemeinmedizinische Praxis Dr. Janssen, Goch",
    "psychosocial_centre": "Psychosoziales Zentrum Niederrhein",
    "social_welfare_office": "Sozialamt der Stadt Kleve",
    "employment_agency": "Agentur für Arbeit Wesel, Geschäftsstelle Kleve",
}


def make_institution(ctx: Context, institution_type: str = "jobcenter",
                     **overrides: Any) -> Institution:
    values: dict[str, Any] = {
        "name": _INSTITUTION_NAMES.get(institution_type, "Beratungsstelle Kleve"),
        "institution_type": institution_type,
        "municipality": "kleve",
    }
    return create_institution(ctx, InstitutionInput(**(values | overrides)))


def make_waiver(ctx: Context, client: Client, institution: Institution | None = None, *,
                information_kinds: tuple[str, ...] = ("master_data", "residence"),
                **overrides: Any) -> Consent:
    """A Schweigepflichtentbindung of ``client`` towards ``institution`` (or a type)."""
    values: dict[str, Any] = {
        "kind": ConsentKind.RELEASE.value,
        "purpose": "Klärung des Leistungsanspruchs",
        "given_on": ctx.today(),
        "recipient_institution_id": institution.id if institution else None,
        "information_kinds": list(information_kinds),
    }
    return record_consent(ctx, client.id, ConsentInput(**(values | overrides)))
