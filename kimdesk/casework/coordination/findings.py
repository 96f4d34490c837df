"""Erkenntnisse (Versorgungslücken, defizitäre Schnittstellen): the standard form, the register
with its filters, and counts over time per month or quarter (concept 5.2, 5.5.3).

A finding is structural and never about a person: life area, institution type, kind of barrier,
Kommune and a description. A description captured from a case, a contact or a Fallbesprechung is
checked against the identifying values of that case's people; any description is refused while
it holds an e-mail address or a phone or file number. Only a Fallbesprechung is remembered as the
source, never a case or a contact, because findings travel county-wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kimdesk.casework.common import (
    add_recorded,
    check_code,
    check_municipality,
    check_not_future,
    load,
    record,
    stamp,
)
from kimdesk.casework.context import Context
from kimdesk.casework.pseudonymise import (
    CasePseudonymiser,
    check_general_text,
    month_year,
    read_for_coordination,
)
from kimdesk.errors import ValidationError
from kimdesk.models import Case, CaseReview, Contact, Finding, GenerativeTheme

SOURCES = ("case", "contact", "review", "team_meeting")
MONTH = "month"
QUARTER = "quarter"
MAX_DESCRIPTION = 4000


@dataclass
class FindingInput:
    """The standard form of an Erkenntnis."""

    life_area: str  # life_areas code
    barrier: str  # barrier_kinds code
    description: str
    source: str = "team_meeting"  # case, contact, review, team_meeting
    institution_type: str = ""  # institution_types code, "" when none in particular
    municipality: str = ""  # Kommune code, "" for kreisweit
    noted_on: date | None = None  # defaults to today
    theme_id: str | None = None


@dataclass
class FindingFilter:
    """Filters of the register; empty values do not filter. ``end`` is inclusive."""

    start: date | None = None
    end: date | None = None
    life_area: str = ""
    barrier: str = ""
    municipality: str = ""
    institution_type: str = ""
    source: str = ""
    theme_id: str = ""  # "none" for findings without a theme


@dataclass(frozen=True)
class FindingRow:
    id: str
    noted_on: date
    source: str
    source_label: str
    life_area: str
    life_area_label: str
    institution_type: str
    institution_type_label: str
    barrier: str
    barrier_label: str
    municipality: str
    municipality_label: str  # "kreisweit" when empty
    description: str
    theme_id: str | None
    theme_statement: str
    review_id: str | None


@dataclass(frozen=True)
class PeriodCount:
    period: str  # "2026-03" or "2026-Q1"
    label: str  # "März 2026" or "1. Quartal 2026"
    start: date
    end: date  # inclusive
    count: int


# --- use cases --------------------------------------------------------------------------------


def _check_input(ctx: Context, data: FindingInput) -> None:
    check_code(ctx, "life_areas", data.life_area, "life_area", "Lebensbereich")
    check_code(ctx, "barrier_kinds", data.barrier, "barrier", "Art der Barriere")
    check_code(ctx, "finding_sources", data.source, "source", "Quelle")
    if data.institution_type:
        check_code(ctx, "institution_types", data.institution_type, "institution_type",
                   "Institutionsart")
    if data.municipality:
        check_municipality(ctx, data.municipality)
    check_not_future(ctx, data.noted_on, "noted_on", "Das Datum der Erkenntnis")
    if not data.description.strip():
        raise ValidationError("Bitte die Erkenntnis beschreiben.", "description")
    if len(data.description) > MAX_DESCRIPTION:
        raise ValidationError(f"Die Beschreibung hat höchstens {MAX_DESCRIPTION} Zeichen.",
                              "description")


def _source_case(session: Session, data: FindingInput, case_id: str | None,
                 contact_id: str | None, review_id: str | None) -> tuple[str | None, str | None]:
    """The case to check the description against, and the review to remember."""
    if data.source == "case":
        if case_id is None:
            raise ValidationError("Bitte den Fall angeben, aus dem die Erkenntnis stammt.",
                                  "source")
        load(session, Case, case_id, "Der Fall")
        return case_id, None
    if data.source == "contact":
        if contact_id is None:
            raise ValidationError("Bitte den Kontakt angeben, aus dem die Erkenntnis stammt.",
                                  "source")
        return load(session, Contact, contact_id, "Der Kontakt").case_id, None
    if data.source == "review":
        if review_id is None:
            raise ValidationError("Bitte die Fallbesprechung angeben, aus der die Erkenntnis "
                                  "stammt.", "source")
        review = load(session, CaseReview, review_id, "Die Fallbesprechung")
        case = session.get(Case, review.case_id) if review.case_id else None
        return (case.id if case else None), review.id
    return case_id, None


def _checked_description(ctx: Context, session: Session, text: str, case_id: str | None
                         ) -> str:
    checker: CasePseudonymiser | None = (
        read_for_coordination(ctx, session, case_id) if case_id else None)
    if checker is None:
        return check_general_text(text, "description", "Die Beschreibung")
    return checker.check(text, "description", "Die Beschreibung")


def record_finding(ctx: Context, data: FindingInput, *, case_id: str | None = None,
                   contact_id: str | None = None, review_id: str | None = None) -> Finding:
    """Capture an Erkenntnis; from a case, contact or review the description is checked
    against that case's people and the Kommune defaults to the case's."""
    _check_input(ctx, data)
    with ctx.vault.writing() as session:
        source_case, source_review = _source_case(session, data, case_id, contact_id,
                                                  review_id)
        description = _checked_description(ctx, session, data.description, source_case)
        municipality = data.municipality
        if not municipality and source_case is not None:
            municipality = load(session, Case, source_case, "Der Fall").municipality
        if data.theme_id is not None:
            load(session, GenerativeTheme, data.theme_id, "Das generative Thema")
        finding = Finding(
            noted_on=data.noted_on or ctx.today(), source=data.source,
            life_area=data.life_area, institution_type=data.institution_type,
            barrier=data.barrier, municipality=municipality, description=description,
            theme_id=data.theme_id, review_id=source_review)
        add_recorded(ctx, session, finding, None, source=data.source)
        return finding


def update_finding(ctx: Context, finding_id: str, data: FindingInput, *,
                   case_id: str | None = None) -> Finding:
    """Correct a finding; ``case_id`` re-checks the description against that case's people.
    The source stays as captured."""
    _check_input(ctx, data)
    with ctx.vault.writing() as session:
        finding = load(session, Finding, finding_id, "Die Erkenntnis")
        if case_id is None and finding.review_id is not None:
            review = session.get(CaseReview, finding.review_id)
            if review is not None and review.case_id and session.get(Case, review.case_id):
                case_id = review.case_id
        finding.description = _checked_description(ctx, session, data.description, case_id)
        if data.theme_id is not None:
            load(session, GenerativeTheme, data.theme_id, "Das generative Thema")
        finding.life_area = data.life_area
        finding.barrier = data.barrier
        finding.institution_type = data.institution_type
        finding.municipality = data.municipality
        finding.noted_on = data.noted_on or finding.noted_on
        finding.theme_id = data.theme_id
        stamp(ctx, finding)
        record(ctx, session, "update", None, finding,
               fields=["life_area", "barrier", "institution_type", "municipality",
                       "description", "noted_on", "theme_id"])
        return finding


def assign_theme(ctx: Context, finding_ids: list[str], theme_id: str | None) -> int:
    """Assign findings to a generative theme (None removes the assignment); returns how many."""
    with ctx.vault.writing() as session:
        if theme_id is not None:
            load(session, GenerativeTheme, theme_id, "Das generative Thema")
        for finding_id in finding_ids:
            finding = load(session, Finding, finding_id, "Die Erkenntnis")
            finding.theme_id = theme_id
            stamp(ctx, finding)
            record(ctx, session, "update", None, finding, fields=["theme_id"])
        return len(finding_ids)


def delete_finding(ctx: Context, finding_id: str) -> None:
    with ctx.vault.writing() as session:
        finding = load(session, Finding, finding_id, "Die Erkenntnis")
        record(ctx, session, "delete", None, finding)
        session.delete(finding)


# --- register ---------------------------------------------------------------------------------


def _filtered(flt: FindingFilter | None) -> Select[Finding]:
    query = select(Finding)
    if flt is None:
        return query
    if flt.start is not None:
        query = query.where(Finding.noted_on >= flt.start)
    if flt.end is not None:
        query = query.where(Finding.noted_on <= flt.end)
    for column, value in ((Finding.life_area, flt.life_area), (Finding.barrier, flt.barrier),
                          (Finding.municipality, flt.municipality),
                          (Finding.institution_type, flt.institution_type),
                          (Finding.source, flt.source)):
        if value:
            query = query.where(column == value)
    if flt.theme_id == "none":
        query = query.where(Finding.theme_id.is_(None))
    elif flt.theme_id:
        query = query.where(Finding.theme_id == flt.theme_id)
    return query


def finding_rows(ctx: Context, flt: FindingFilter | None = None) -> list[FindingRow]:
    """The register, newest first."""
    with ctx.vault.reading() as session:
        statements = dict(session.execute(
            select(GenerativeTheme.id, GenerativeTheme.statement)).all())
        findings = session.scalars(_filtered(flt).order_by(Finding.noted_on.desc(),
                                                           Finding.created_at.desc()))
        return [_row(ctx, f, statements) for f in findings]


def rows_by_id(ctx: Context, session: Session, finding_ids: list[str]) -> list[FindingRow]:
    """Rows of the given findings (inside an open session), in the given order."""
    statements = dict(session.execute(
        select(GenerativeTheme.id, GenerativeTheme.statement)).all())
    found = {f.id: f for f in session.scalars(select(Finding).where(
        Finding.id.in_(finding_ids)))}
    return [_row(ctx, found[i], statements) for i in finding_ids if i in found]


def _row(ctx: Context, f: Finding, statements: dict[str, str]) -> FindingRow:
    return FindingRow(
        f.id, f.noted_on, f.source, _label(ctx, "finding_sources", f.source), f.life_area,
        _label(ctx, "life_areas", f.life_area), f.institution_type,
        _label(ctx, "institution_types", f.institution_type) if f.institution_type else "",
        f.barrier, _label(ctx, "barrier_kinds", f.barrier), f.municipality,
        _municipality_label(ctx, f.municipality), f.description, f.theme_id,
        statements.get(f.theme_id, "") if f.theme_id else "", f.review_id)


def finding_counts(ctx: Context, flt: FindingFilter | None = None,
                   granularity: str = MONTH) -> list[PeriodCount]:
    """Findings per month or quarter, every period from the filter's start (or the first
    finding) to its end (or today) listed, also those without findings."""
    if granularity not in (MONTH, QUARTER):
        raise ValidationError("Bitte Monat oder Quartal wählen.", "granularity")
    with ctx.vault.reading() as session:
        days = list(session.scalars(_filtered(flt).with_only_columns(Finding.noted_on)))
    start = flt.start if flt and flt.start else (min(days) if days else ctx.today())
    end = flt.end if flt and flt.end else max([ctx.today(), *days])
    periods = _periods(start, end, granularity)
    return [PeriodCount(key, label, first, last,
                        sum(1 for day in days if first <= day <= last))
            for key, label, first, last in periods]


def count_between(session: Session, start: date, end: date, *, theme_id: str | None = None,
                  life_area: str = "", barrier: str = "") -> int:
    """Findings noted from ``start`` up to but excluding ``end`` (for a decision's effect)."""
    query = select(func.count()).select_from(Finding).where(
        Finding.noted_on >= start, Finding.noted_on < end)
    if theme_id is not None:
        query = query.where(Finding.theme_id == theme_id)
    if life_area:
        query = query.where(Finding.life_area == life_area)
    if barrier:
        query = query.where(Finding.barrier == barrier)
    return session.scalar(query) or 0


def _periods(start: date, end: date, granularity: str) -> list[tuple[str, str, date, date]]:
    step = 1 if granularity == MONTH else 3
    first_month = start.month if granularity == MONTH else (start.month - 1) // 3 * 3 + 1
    current = date(start.year, first_month, 1)
    periods = []
    while current <= end:
        month_index = current.month - 1 + step
        following = date(current.year + month_index // 12, month_index % 12 + 1, 1)
        last = following - timedelta(days=1)
        if granularity == MONTH:
            periods.append((f"{current:%Y-%m}", month_year(current), current, last))
        else:
            quarter = (current.month - 1) // 3 + 1
            periods.append((f"{current.year}-Q{quarter}", f"{quarter}. Quartal {current.year}",
                            current, last))
        current = following
    return periods


def _label(ctx: Context, vocabulary: str, code: str) -> str:
    try:
        return ctx.reference.label(vocabulary, code)
    except KeyError:
        return code


def _municipality_label(ctx: Context, code: str) -> str:
    if not code:
        return "kreisweit"
    try:
        return ctx.reference.municipality(code).name
    except KeyError:
        return code
