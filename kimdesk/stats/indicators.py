"""Indicators a Lenkungsgruppe decision names to measure its effect (concept 5.5.3, issue 15):
month by month before and after the decision, protected like every published figure.

Each indicator rests on records the team holds: referrals (Vermittlungen) with their
institution and outcome, and cases. Counts are published with the cell key method
(:mod:`kimdesk.stats.cellkey`); a share is the ratio of two published counts; a waiting time is
the median in whole days. A month's value (and a window's) is shown only when it rests on at
least :data:`MIN_BASE` records: a median or a share of a handful of referrals would describe
persons, not the county (the threshold rule for magnitudes of official statistics).

The codes are the vocabulary ``decision_indicators`` (``resources/reference/vocabularies.toml``),
so a decision names them and the casework checks them without knowing how they are computed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.models import Case, Institution, Referral
from kimdesk.stats.cellkey import Tally, perturb
from kimdesk.stats.scope import add_months, month_of

MIN_BASE = 10  # records a published share or median needs at least
MAX_WINDOW_MONTHS = 24

# Outcomes (vocabulary referral_outcomes) that decide a referral, and those that count as success.
SUCCESS = frozenset({"attended", "granted"})
DECIDED = SUCCESS | {"rejected", "not_attended", "discontinued"}

DAYS, PERCENT, PER_MONTH = "Tage", "%", "je Monat"


@dataclass(frozen=True)
class IndicatorPoint:
    """One month (``"2026-03"``) of an indicator; ``value`` is None when too few records."""

    month: str
    value: float | None
    base: int  # the published number of records the value rests on


@dataclass(frozen=True)
class IndicatorSeries:
    code: str
    label: str
    unit: str
    decided_month: str
    points: tuple[IndicatorPoint, ...]
    before: IndicatorPoint  # the whole window before the decision month
    after: IndicatorPoint  # the months after it that have begun

    def point(self, month: str) -> IndicatorPoint | None:
        return next((p for p in self.points if p.month == month), None)


@dataclass(frozen=True)
class _Referral:
    id: str
    institution_type: str
    referred_on: date
    outcome: str
    outcome_on: date | None


# --- what each indicator measures --------------------------------------------------------------


def _waiting_days(referrals: Sequence[_Referral]) -> IndicatorPoint:
    started = [r for r in referrals if r.outcome in SUCCESS and r.outcome_on is not None]
    base = _published(r.id for r in started)
    if len(started) < MIN_BASE:
        return IndicatorPoint("", None, base)
    days = statistics.median((r.outcome_on - r.referred_on).days  # type: ignore[operator]
                             for r in started)
    return IndicatorPoint("", float(round(days)), base)


def _success_share(referrals: Sequence[_Referral]) -> IndicatorPoint:
    decided = [r for r in referrals if r.outcome in DECIDED and r.outcome_on is not None]
    base = _published(r.id for r in decided)
    if len(decided) < MIN_BASE or base == 0:
        return IndicatorPoint("", None, base)
    succeeded = _published(r.id for r in decided if r.outcome in SUCCESS)
    return IndicatorPoint("", float(min(100, round(100 * succeeded / base))), base)


def _published(record_ids: Iterable[str]) -> int:
    return perturb(sum((Tally.one(i) for i in record_ids), Tally(0)))


@dataclass(frozen=True)
class _Definition:
    unit: str
    institution_types: frozenset[str] | None  # None: referrals to every institution
    measure: Callable[[Sequence[_Referral]], IndicatorPoint] | None  # None: new cases


_DEFINITIONS = {
    "integration_course_wait": _Definition(
        DAYS, frozenset({"integration_course_provider"}), _waiting_days),
    "jobcenter_referral_success": _Definition(PERCENT, frozenset({"jobcenter"}), _success_share),
    "employment_agency_referral_success": _Definition(
        PERCENT, frozenset({"employment_agency"}), _success_share),
    "referral_success": _Definition(PERCENT, None, _success_share),
    "new_cases": _Definition(PER_MONTH, None, None),
}


def codes() -> tuple[str, ...]:
    """Every indicator this module computes (the vocabulary must name exactly these)."""
    return tuple(_DEFINITIONS)


# --- series -----------------------------------------------------------------------------------


def _months(first: str, last: str) -> list[str]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def indicator_series(ctx: Context, code: str, decided_on: date,
                     window_months: int = 6) -> IndicatorSeries:
    """``code`` for ``window_months`` before the decision's month up to as many after it (or up
    to this month, whichever comes first)."""
    return indicator_table(ctx, [code], decided_on, window_months)[0]


def indicator_table(ctx: Context, indicator_codes: Sequence[str], decided_on: date,
                    window_months: int = 6) -> list[IndicatorSeries]:
    """Several indicators over the same months, read in one snapshot."""
    if not 1 <= window_months <= MAX_WINDOW_MONTHS:
        raise ValidationError(f"Das Zeitfenster umfasst 1 bis {MAX_WINDOW_MONTHS} Monate.",
                              "window_months")
    unknown = [c for c in indicator_codes if c not in _DEFINITIONS]
    if unknown:
        raise ValidationError(f"Unbekannter Indikator: {', '.join(unknown)}.", "indicators")
    decided = month_of(decided_on)
    first = add_months(decided, -window_months)
    last = min(add_months(decided, window_months), month_of(ctx.today()))
    months = _months(first, last)
    with ctx.vault.reading() as session:
        referrals = _referrals(session, first) if any(
            _DEFINITIONS[c].measure for c in indicator_codes) else []
        opened = _cases_opened(session, first) if "new_cases" in indicator_codes else []
    return [_series(ctx, code, decided, months, referrals, opened) for code in indicator_codes]


def _series(ctx: Context, code: str, decided: str, months: list[str],
            referrals: list[_Referral], opened: list[tuple[str, date]]) -> IndicatorSeries:
    definition = _DEFINITIONS[code]
    label = ctx.reference.label("decision_indicators", code)
    before_months = [m for m in months if m < decided]
    after_months = [m for m in months if m > decided]
    if definition.measure is None:
        by_month: dict[str, list[str]] = defaultdict(list)
        for case_id, opened_on in opened:
            by_month[month_of(opened_on)].append(case_id)

        def count(window: list[str]) -> IndicatorPoint:
            ids = [i for m in window for i in by_month.get(m, [])]
            published = _published(ids)
            value = round(published / len(window), 1) if window else None
            return IndicatorPoint("", value, published)

        points = tuple(_in(m, count([m])) for m in months)
        return IndicatorSeries(code, label, definition.unit, decided, points,
                               count(before_months), count(after_months))

    measure = definition.measure
    chosen = [r for r in referrals if definition.institution_types is None
              or r.institution_type in definition.institution_types]
    month_of_result: dict[str, list[_Referral]] = defaultdict(list)
    for r in chosen:
        if r.outcome_on is not None:
            month_of_result[month_of(r.outcome_on)].append(r)

    def window(of: list[str]) -> IndicatorPoint:
        return measure([r for m in of for r in month_of_result.get(m, [])])

    points = tuple(_in(m, window([m])) for m in months)
    return IndicatorSeries(code, label, definition.unit, decided, points,
                           window(before_months), window(after_months))


def _in(month: str, point: IndicatorPoint) -> IndicatorPoint:
    return IndicatorPoint(month, point.value, point.base)


def _referrals(session: Session, first_month: str) -> list[_Referral]:
    """Referrals whose outcome came in or after ``first_month`` (a month's value is the month
    the outcome came: the course started, the Jobcenter decided)."""
    since = date.fromisoformat(f"{first_month}-01")
    rows = session.execute(
        select(Referral.id, Institution.institution_type, Referral.referred_on,
               Referral.outcome, Referral.outcome_on)
        .join(Institution, Institution.id == Referral.institution_id)
        .where(Referral.outcome_on >= since))
    return [_Referral(*row) for row in rows]


def _cases_opened(session: Session, first_month: str) -> list[tuple[str, date]]:
    since = date.fromisoformat(f"{first_month}-01")
    return [(case_id, opened_on) for case_id, opened_on in session.execute(
        select(Case.id, Case.opened_on).where(Case.opened_on >= since))]


def format_value(series: IndicatorSeries, point: IndicatorPoint) -> str:
    """A value as the Lenkungsgruppe reads it, German decimal comma; a dash when withheld."""
    if point.value is None:
        return "–"
    if series.unit == PERCENT:
        return f"{point.value:.0f} %"
    if series.unit == DAYS:
        return f"{point.value:.0f} Tage"
    return f"{point.value:.1f}".replace(".", ",").removesuffix(",0")
