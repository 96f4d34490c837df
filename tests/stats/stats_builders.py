"""Builders for statistics tests: small vaults filled straight through the models.

Statistics only read, so their tests may write the rows they read directly; casework rules
(consent, phase order ...) are not what is under test here, and this is fast enough for
property tests over many generated vaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from kimdesk.models import (
    Assessment,
    Base,
    Case,
    CaseKindChange,
    CaseTopic,
    Client,
    Contact,
    Finding,
    Goal,
    Institution,
    PhaseChange,
    PurgedCaseCount,
    Referral,
    ResidenceRecord,
)
from kimdesk.reference import Reference
from kimdesk.vault import Vault

# Surnames and first names that appear nowhere in labels, so tests can look for them.
SURNAMES = ("Wiśniewska-Ștefănescu", "Yılmazoğlu", "Zabłocka", "Popescuțiu", "Öztürkmen",
            "Kowalczykówna", "Haddadine", "Ağaoğlu")
FIRST_NAMES = ("Łucja", "Ștefania", "Ayşegül", "Grzegorz", "Mihăiță", "Rüzgar", "Zofiaś",
               "Bogdănel")


def month_day(offset: int, day: int = 10) -> date:
    """The ``day`` of the month ``offset`` months after January 2025."""
    return date(2025 + offset // 12, offset % 12 + 1, day)


@dataclass(repr=False)
class CaseSpec:
    kind: str = "process_support"
    municipality: str = "kleve"
    welcome: bool = False
    opened: int = 0  # month offset from 2025-01
    closed_after: int | None = None  # months after opening; None: still open
    reason: str = "goals_achieved"
    gender: str = "female"
    age: int | None = 30
    nationality: str | None = "PL"
    organisation: bool = False
    phase: str = "intake"
    converted_from: str | None = None  # earlier kind, converted one month after opening
    topics: list[str] = field(default_factory=list)
    contacts: list[tuple[int, str, int, bool]] = field(default_factory=list)  # month, mode ...
    referrals: list[tuple[str, str]] = field(default_factory=list)  # institution type, outcome
    goals: list[tuple[str, str]] = field(default_factory=list)  # life area, attainment
    residence: str | None = None
    access_route: str = "self_referral"

    def __repr__(self) -> str:
        # Compact: Hypothesis prints lists of these for a failing example.
        shown = {k: v for k, v in vars(self).items() if v != getattr(CaseSpec(), k)}
        return "CaseSpec(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


def clear(vault: Vault) -> None:
    """Remove every row a builder may have written (the vault's profile stays)."""
    with vault.writing() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ("vault_profile", "audit_entries"):
                session.execute(table.delete())


def populate(vault: Vault, ref: Reference, specs: Sequence[CaseSpec], *,
             purged: Sequence[PurgedCaseCount] = (),
             findings: Sequence[Finding] = ()) -> list[Client]:
    """Write clients with one case each (and whatever the specs name); returns the clients."""
    clients: list[Client] = []
    with vault.writing() as session:
        institutions = {}
        for term in ref.terms("institution_types"):
            institution = Institution(name=f"Einrichtung {term.code}",
                                      institution_type=term.code, legal_domain="none")
            session.add(institution)
            institutions[term.code] = institution
        session.flush()
        for number, spec in enumerate(specs):
            opened = month_day(spec.opened, 5)
            closed = (month_day(spec.opened + spec.closed_after, 20)
                      if spec.closed_after is not None else None)
            client = Client(
                kind="organisation" if spec.organisation else "person",
                first_name=FIRST_NAMES[number % len(FIRST_NAMES)],
                last_name=SURNAMES[number % len(SURNAMES)],
                organisation_name="Gärtnerei Ökoflor GmbH" if spec.organisation else "",
                gender=spec.gender, nationality=spec.nationality, municipality=spec.municipality,
                birth_date=(date(opened.year - spec.age, 1, 1) if spec.age is not None
                            and not spec.organisation else None),
                address=f"Verschwiegenheitsgasse {number}")
            session.add(client)
            session.flush()
            clients.append(client)
            team = "welcome" if spec.welcome else ref.team_for_municipality(
                spec.municipality).code
            case = Case(client_id=client.id, kind=spec.kind,
                        phase=spec.phase if spec.kind == "case_management" else None,
                        status="closed" if closed else "open", opened_on=opened,
                        closed_on=closed, closing_reason=spec.reason if closed else "",
                        access_route=spec.access_route, team=team,
                        municipality=spec.municipality, case_manager="Anna Becker")
            session.add(case)
            session.flush()
            if spec.converted_from:
                session.add(CaseKindChange(case_id=case.id, to_kind=spec.converted_from,
                                           changed_on=opened))
                session.add(CaseKindChange(case_id=case.id, from_kind=spec.converted_from,
                                           to_kind=spec.kind,
                                           changed_on=month_day(spec.opened + 1, 5)))
            else:
                session.add(CaseKindChange(case_id=case.id, to_kind=spec.kind,
                                           changed_on=opened))
            if spec.kind == "case_management":
                since = month_day(spec.opened + 1, 5) if spec.converted_from else opened
                session.add(PhaseChange(case_id=case.id, to_phase="intake", changed_on=since))
                if spec.phase != "intake":
                    session.add(PhaseChange(case_id=case.id, from_phase="intake",
                                            to_phase=spec.phase, changed_on=since))
            for topic in dict.fromkeys(spec.topics):
                session.add(CaseTopic(case_id=case.id, topic=topic))
            for month, mode, minutes, interpreter in spec.contacts:
                session.add(Contact(case_id=case.id, client_id=client.id,
                                    contact_on=month_day(month, 12), duration_minutes=minutes,
                                    mode=mode, interpreter=interpreter,
                                    interpreter_language="Arabisch" if interpreter else "",
                                    note=f"Vertrauliche Notiz zu {client.last_name}"))
            for institution_type, outcome in spec.referrals:
                session.add(Referral(case_id=case.id, client_id=client.id,
                                     institution_id=institutions[institution_type].id,
                                     referred_on=month_day(spec.opened, 15), outcome=outcome,
                                     purpose=f"Vermittlung {client.last_name}"))
            for life_area, attainment in spec.goals:
                session.add(Goal(case_id=case.id, client_id=client.id,
                                 title=f"Ziel von {client.first_name}", life_area=life_area,
                                 agreed_on=month_day(spec.opened, 20),
                                 attainment=attainment,
                                 evaluated_on=month_day(spec.opened + 2, 1) if attainment
                                 else None))
            for life_area in dict.fromkeys(area or "work" for area, _ in spec.goals):
                session.add(Assessment(case_id=case.id, client_id=client.id,
                                       life_area=life_area, need=2,
                                       assessed_on=month_day(spec.opened, 18),
                                       situation=f"Lage von {client.last_name}"))
            if spec.residence:
                session.add(ResidenceRecord(client_id=client.id, status=spec.residence,
                                            granted_on=date(2024, 1, 1)))
        session.add_all(list(purged))
        session.add_all(list(findings))
    return clients


def referrals_with_outcomes(vault: Vault, institution_type: str,
                            outcomes: list[tuple[date, date, str]]) -> None:
    """Referrals to one new institution of ``institution_type``, each of another person
    with a case of its own: (referred on, outcome on, outcome)."""
    with vault.writing() as session:
        institution = Institution(name=f"Einrichtung {institution_type}",
                                  institution_type=institution_type, legal_domain="none")
        session.add(institution)
        session.flush()
        for number, (referred_on, outcome_on, outcome) in enumerate(outcomes):
            client = Client(kind="person", first_name="Rasha", last_name=f"Tahhan{number}",
                            municipality="kleve")
            session.add(client)
            session.flush()
            case = Case(client_id=client.id, kind="process_support", status="open",
                        opened_on=referred_on, team="nord", municipality="kleve",
                        case_manager="Anna Becker")
            session.add(case)
            session.flush()
            session.add(Referral(case_id=case.id, client_id=client.id,
                                 institution_id=institution.id, referred_on=referred_on,
                                 outcome=outcome, outcome_on=outcome_on,
                                 purpose="Sprachkurs" if institution_type.startswith(
                                     "integration") else "Leistungen"))
