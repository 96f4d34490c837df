"""Work with the Kommunen (concept 4.5, 5.6–5.8): kommunale Vereinbarungen and structural
activities that are not cases.

A Vereinbarung records who agreed with whom on what, when it was signed, how long it holds and
whether (and how) the Kommune allocates cases to the Case Management (Fallzusteuerung). The
Zielsystem's "Kommunen mit Vereinbarung" counts the Kommunen with one in force
(:func:`municipalities_with_agreement`).

A structural activity — Gremienarbeit, a Planungsraum meeting, a format with a Kommune, work
with the Träger der Freien Wohlfahrt, Prozessberatung — is recorded with its day, kind,
Kommune(s) or Planungsraum, hours and participating organisations, so Controlling sees the
structural work beside the casework. Neither holds personal data: texts are checked like every
other coordination text, participants are organisations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework.common import (
    add_recorded,
    check_code,
    check_municipality,
    load,
    record,
    update_recorded,
)
from kimdesk.casework.context import Context
from kimdesk.casework.pseudonymise import check_general_text
from kimdesk.errors import ValidationError
from kimdesk.models import MunicipalAgreement, StructuralActivity

MAX_TEXT = 4000
MAX_PARTIES = 20
# One entry is one meeting or format (with its preparation): more than a day's work is two.
MAX_MINUTES = 24 * 60
HOURS_STEP_MINUTES = 15


# --- agreements -------------------------------------------------------------------------------


@dataclass
class AgreementInput:
    municipality: str  # Kommune code
    subject: str
    parties: list[str] = field(default_factory=list)  # organisations that agreed
    signed_on: date | None = None  # None: a draft, not in force
    valid_from: date | None = None  # None: from the day it was signed
    valid_until: date | None = None  # None: open-ended
    allocates_cases: bool = False  # Fallzusteuerung agreed
    case_allocation: str = ""  # how cases are allocated
    content: str = ""  # further content (Einsatzmanagement, Kommunikationsstrukturen, …)


@dataclass(frozen=True)
class AgreementRow:
    id: str
    municipality: str
    municipality_name: str
    subject: str
    parties: tuple[str, ...]
    signed_on: date | None
    valid_from: date | None
    valid_until: date | None
    allocates_cases: bool
    case_allocation: str
    content: str
    in_force: bool  # on the day asked for (today in the lists)

    @property
    def status(self) -> str:
        if self.signed_on is None:
            return "Entwurf"
        return "gültig" if self.in_force else "nicht gültig"


def in_force(agreement: MunicipalAgreement | AgreementRow, on: date) -> bool:
    """Signed, begun and not expired on ``on`` (the last day of validity counts)."""
    if agreement.signed_on is None:
        return False
    start = agreement.valid_from or agreement.signed_on
    return start <= on and (agreement.valid_until is None or agreement.valid_until >= on)


def _organisations(ctx: Context, names: Iterable[str], field_name: str, label: str
                   ) -> list[str]:
    cleaned = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if len(cleaned) > MAX_PARTIES:
        raise ValidationError(f"{label}: höchstens {MAX_PARTIES} Organisationen.", field_name)
    for name in cleaned:
        if len(name) > 200:
            raise ValidationError(f"{label}: ein Name hat höchstens 200 Zeichen.", field_name)
        check_general_text(name, field_name, label)
    return cleaned


def _long_text(text: str, field_name: str, label: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValidationError(f"{label} hat höchstens {MAX_TEXT} Zeichen.", field_name)
    return check_general_text(text.strip(), field_name, label)


def _agreement_values(ctx: Context, data: AgreementInput) -> dict[str, object]:
    check_municipality(ctx, data.municipality)
    subject = data.subject.strip()
    if not subject:
        raise ValidationError("Bitte den Gegenstand der Vereinbarung angeben.", "subject")
    if len(subject) > 200:
        raise ValidationError("Der Gegenstand hat höchstens 200 Zeichen.", "subject")
    parties = _organisations(ctx, data.parties, "parties", "Vertragsparteien")
    if data.signed_on is None and data.valid_from is not None:
        raise ValidationError("Eine Vereinbarung gilt erst, wenn sie unterzeichnet ist: bitte "
                              "das Datum der Unterzeichnung angeben.", "signed_on")
    if data.signed_on is not None and data.signed_on > ctx.today():
        raise ValidationError("Das Datum der Unterzeichnung darf nicht in der Zukunft liegen.",
                              "signed_on")
    start = data.valid_from or data.signed_on
    if data.valid_until is not None:
        if start is None:
            raise ValidationError("Eine Vereinbarung gilt erst, wenn sie unterzeichnet ist: "
                                  "bitte das Datum der Unterzeichnung angeben.", "signed_on")
        if data.valid_until < start:
            raise ValidationError("„Gültig bis“ liegt vor dem Beginn der Gültigkeit.",
                                  "valid_until")
    how = data.case_allocation.strip()
    if data.allocates_cases and not how:
        raise ValidationError("Bitte beschreiben, wie die Kommune Fälle zusteuert.",
                              "case_allocation")
    if not data.allocates_cases and how:
        raise ValidationError("Ohne vereinbarte Fallzusteuerung bleibt die Beschreibung der "
                              "Fallzusteuerung leer.", "case_allocation")
    return {
        "municipality": data.municipality,
        "subject": check_general_text(subject, "subject", "Der Gegenstand"),
        "parties": parties,
        "signed_on": data.signed_on,
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "allocates_cases": data.allocates_cases,
        "case_allocation": _long_text(how, "case_allocation", "Die Fallzusteuerung"),
        "content": _long_text(data.content, "content", "Der Inhalt"),
    }


def record_agreement(ctx: Context, data: AgreementInput) -> MunicipalAgreement:
    values = _agreement_values(ctx, data)
    with ctx.vault.writing() as session:
        agreement = MunicipalAgreement(**values)
        return add_recorded(ctx, session, agreement)


def update_agreement(ctx: Context, agreement_id: str, data: AgreementInput
                     ) -> MunicipalAgreement:
    values = _agreement_values(ctx, data)
    with ctx.vault.writing() as session:
        agreement = load(session, MunicipalAgreement, agreement_id, "Die Vereinbarung")
        return update_recorded(ctx, session, agreement, values)


def delete_agreement(ctx: Context, agreement_id: str) -> None:
    """An agreement entered by mistake; one that ended keeps its record (``valid_until``)."""
    with ctx.vault.writing() as session:
        agreement = load(session, MunicipalAgreement, agreement_id, "Die Vereinbarung")
        record(ctx, session, "delete", None, agreement)
        session.delete(agreement)


def agreement_rows(ctx: Context, on: date | None = None) -> list[AgreementRow]:
    """All agreements, by Kommune, newest first; ``in_force`` on ``on`` (today if not given)."""
    day = on or ctx.today()
    names = {m.code: m.name for m in ctx.reference.municipalities}
    with ctx.vault.reading() as session:
        agreements = list(session.scalars(select(MunicipalAgreement)))
    rows = [AgreementRow(a.id, a.municipality, names.get(a.municipality, a.municipality),
                         a.subject, tuple(a.parties), a.signed_on, a.valid_from, a.valid_until,
                         a.allocates_cases, a.case_allocation, a.content, in_force(a, day))
            for a in agreements]
    rows.sort(key=lambda r: (r.municipality_name, -(r.signed_on or date.max).toordinal()))
    return rows


def municipalities_with_agreement(session: Session, on: date,
                                  municipalities: Iterable[str] | None = None) -> set[str]:
    """The Kommunen with an agreement in force on ``on`` (only those in ``municipalities``
    when given) — what the Zielsystem counts."""
    wanted = set(municipalities) if municipalities is not None else None
    found = {a.municipality for a in session.scalars(select(MunicipalAgreement).where(
        MunicipalAgreement.signed_on.is_not(None), MunicipalAgreement.signed_on <= on))
        if in_force(a, on)}
    return found if wanted is None else found & wanted


# --- structural activities --------------------------------------------------------------------


@dataclass
class ActivityInput:
    held_on: date
    kind: str  # structural_activity_kinds code
    hours: float  # time spent, in steps of a quarter hour
    title: str = ""
    municipalities: list[str] = field(default_factory=list)  # Kommune codes
    planning_area: str = ""  # "Planungsraum Nord" …, as in the reference data
    participants: list[str] = field(default_factory=list)  # organisations, never clients
    note: str = ""


@dataclass(frozen=True)
class ActivityRow:
    id: str
    held_on: date
    kind: str
    kind_label: str
    title: str
    municipalities: tuple[str, ...]
    municipality_names: tuple[str, ...]
    planning_area: str
    minutes: int
    participants: tuple[str, ...]
    note: str

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def where(self) -> str:
        """Kommune(s) and Planungsraum in words, or "kreisweit"."""
        parts = list(self.municipality_names)
        if self.planning_area:
            parts.insert(0, self.planning_area)
        return ", ".join(parts) or "kreisweit"


@dataclass(frozen=True)
class HoursByKind:
    kind: str
    label: str
    activities: int
    minutes: int

    @property
    def hours(self) -> float:
        return self.minutes / 60


def planning_areas(ctx: Context) -> list[str]:
    """The Planungsräume of the regional teams, in the reference data's order."""
    return list(dict.fromkeys(t.planning_area for t in ctx.reference.teams if t.planning_area))


def _activity_values(ctx: Context, data: ActivityInput) -> dict[str, object]:
    check_code(ctx, "structural_activity_kinds", data.kind, "kind", "Art der Tätigkeit")
    if data.held_on > ctx.today():
        raise ValidationError("Das Datum darf nicht in der Zukunft liegen: erfasst wird "
                              "geleistete Arbeit.", "held_on")
    minutes = round(data.hours * 60)
    if minutes <= 0:
        raise ValidationError("Bitte die aufgewendeten Stunden angeben.", "hours")
    if minutes > MAX_MINUTES:
        raise ValidationError("Höchstens 24 Stunden je Eintrag; mehrtägige Formate bitte je "
                              "Tag erfassen.", "hours")
    if minutes % HOURS_STEP_MINUTES:
        raise ValidationError("Stunden bitte in Viertelstunden angeben (z. B. 1,25 oder 1,5).",
                              "hours")
    for code in data.municipalities:
        check_municipality(ctx, code, "municipalities")
    if data.planning_area and data.planning_area not in planning_areas(ctx):
        raise ValidationError(f"„{data.planning_area}“ ist kein Planungsraum des Kreises.",
                              "planning_area")
    title = data.title.strip()
    if len(title) > 200:
        raise ValidationError("Der Titel hat höchstens 200 Zeichen.", "title")
    return {
        "held_on": data.held_on,
        "kind": data.kind,
        "title": check_general_text(title, "title", "Der Titel"),
        "municipalities": list(dict.fromkeys(data.municipalities)),
        "planning_area": data.planning_area,
        "minutes": minutes,
        "participants": _organisations(ctx, data.participants, "participants",
                                       "Beteiligte Organisationen"),
        "note": _long_text(data.note, "note", "Die Notiz"),
    }


def record_activity(ctx: Context, data: ActivityInput) -> StructuralActivity:
    values = _activity_values(ctx, data)
    with ctx.vault.writing() as session:
        return add_recorded(ctx, session, StructuralActivity(**values))


def update_activity(ctx: Context, activity_id: str, data: ActivityInput) -> StructuralActivity:
    values = _activity_values(ctx, data)
    with ctx.vault.writing() as session:
        activity = load(session, StructuralActivity, activity_id, "Die Tätigkeit")
        return update_recorded(ctx, session, activity, values)


def delete_activity(ctx: Context, activity_id: str) -> None:
    """An activity entered by mistake (or twice)."""
    with ctx.vault.writing() as session:
        activity = load(session, StructuralActivity, activity_id, "Die Tätigkeit")
        record(ctx, session, "delete", None, activity)
        session.delete(activity)


def _label(ctx: Context, code: str) -> str:
    try:
        return ctx.reference.label("structural_activity_kinds", code)
    except KeyError:
        return code


def activity_rows(ctx: Context, first_day: date | None = None, last_day: date | None = None
                  ) -> list[ActivityRow]:
    """Structural activities, newest first, optionally from ``first_day`` to ``last_day``."""
    names = {m.code: m.name for m in ctx.reference.municipalities}
    query = select(StructuralActivity)
    if first_day is not None:
        query = query.where(StructuralActivity.held_on >= first_day)
    if last_day is not None:
        query = query.where(StructuralActivity.held_on <= last_day)
    with ctx.vault.reading() as session:
        activities = list(session.scalars(query.order_by(StructuralActivity.held_on.desc(),
                                                         StructuralActivity.created_at.desc())))
    return [ActivityRow(a.id, a.held_on, a.kind, _label(ctx, a.kind), a.title,
                        tuple(a.municipalities),
                        tuple(names.get(m, m) for m in a.municipalities), a.planning_area,
                        a.minutes, tuple(a.participants), a.note) for a in activities]


def hours_by_kind(ctx: Context, first_day: date, last_day: date) -> list[HoursByKind]:
    """Per kind of structural work (in the vocabulary's order): how many activities and how
    much time from ``first_day`` to ``last_day``; kinds without any are left out."""
    totals: dict[str, tuple[int, int]] = {}
    for row in activity_rows(ctx, first_day, last_day):
        count, minutes = totals.get(row.kind, (0, 0))
        totals[row.kind] = (count + 1, minutes + row.minutes)
    order = [t.code for t in ctx.reference.terms("structural_activity_kinds")]
    kinds = sorted(totals, key=lambda k: order.index(k) if k in order else len(order))
    return [HoursByKind(k, _label(ctx, k), *totals[k]) for k in kinds]


def structural_minutes(session: Session, first_day: date, last_day: date,
                       municipalities: Iterable[str] | None = None,
                       planning_area: str = "") -> int:
    """Minutes of structural work from ``first_day`` to ``last_day``: all of it, or (when
    ``municipalities`` is given) the work that concerns one of those Kommunen or
    ``planning_area``; county-wide work without either then does not count."""
    wanted = set(municipalities) if municipalities is not None else None
    total = 0
    for activity in session.scalars(select(StructuralActivity).where(
            StructuralActivity.held_on >= first_day, StructuralActivity.held_on <= last_day)):
        if wanted is None or wanted.intersection(activity.municipalities) or (
                planning_area and activity.planning_area == planning_area):
            total += activity.minutes
    return total
