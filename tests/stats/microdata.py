"""Random small "vaults" as in-memory case rows, turned into :class:`CaseData` the way
``figures.load`` reads a vault (same counting rules, without SQL), so that property tests can
build hundreds of exports in seconds. The rules for the vault itself are tested in
test_figures.py; this covers what the attacker needs: cases, contacts, referrals and goals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from hypothesis import strategies as st

from kimdesk.models.enums import CaseKind
from kimdesk.reference import Reference, load_reference
from kimdesk.stats.cellkey import Tally, record_key
from kimdesk.stats.figures import CaseData, CaseFacts
from kimdesk.stats.scope import Period, Scope, ScopeKind, add_months

REF = load_reference()
FIRST_MONTH = "2025-01"


@dataclass(frozen=True)
class MicroCase:
    id: str
    client: str
    kind: str
    team: str
    municipality: str
    opened: str  # YYYY-MM
    closed: str | None
    gender: str
    age_band: str
    nationality_group: str
    residence_group: str
    access_route: str
    closing_reason: str
    phase: str
    topics: tuple[str, ...]
    contacts: tuple[tuple[str, str, str, bool, int], ...] = field(default=())  # id, month ...
    referrals: tuple[tuple[str, str, str, str], ...] = field(default=())  # id, month, type, outcome
    goals: tuple[tuple[str, str, str, str], ...] = field(default=())  # id, month, area, attainment

    def __repr__(self) -> str:
        return (f"MicroCase({self.kind}, {self.team}/{self.municipality}, {self.opened}–"
                f"{self.closed}, {len(self.contacts)}c {len(self.referrals)}r {len(self.goals)}g)")


def _id(draw: st.DrawFn) -> str:
    return uuid.UUID(int=draw(st.integers(0, 2**128 - 1))).hex


@st.composite
def micro_cases(draw: st.DrawFn, opened_from: int = 0, opened_to: int = 23) -> MicroCase:
    """A case opened between the month offsets ``opened_from`` and ``opened_to`` (from
    January 2025)."""
    municipality = draw(st.sampled_from([m.code for m in REF.municipalities]))
    welcome = draw(st.booleans()) and draw(st.booleans())
    team = "welcome" if welcome else REF.team_for_municipality(municipality).code
    opened_offset = draw(st.integers(opened_from, opened_to))
    closed_after = draw(st.none() | st.integers(0, 6))
    opened = add_months(FIRST_MONTH, opened_offset)
    closed = add_months(opened, closed_after) if closed_after is not None else None
    last = closed or add_months(FIRST_MONTH, 30)

    def month_in_case(offset: int) -> str:
        month = add_months(opened, offset)
        return min(month, last)

    contacts = tuple(
        (_id(draw), month_in_case(draw(st.integers(0, 4))),
         draw(st.sampled_from(["office", "phone"])), draw(st.booleans()),
         draw(st.sampled_from([15, 45, 90])))
        for _ in range(draw(st.integers(0, 3))))
    referrals = tuple(
        (_id(draw), month_in_case(draw(st.integers(0, 3))),
         draw(st.sampled_from(["jobcenter", "youth_office"])),
         draw(st.sampled_from(["requested", "attended"])))
        for _ in range(draw(st.integers(0, 2))))
    goals = tuple(
        (_id(draw), month_in_case(draw(st.integers(0, 3))),
         draw(st.sampled_from(["work", "housing"])), draw(st.sampled_from(["full", "none"])))
        for _ in range(draw(st.integers(0, 2))))
    kind = draw(st.sampled_from(REF.codes("case_kinds")))
    return MicroCase(
        id=_id(draw), client=_id(draw), kind=kind, team=team, municipality=municipality,
        opened=opened, closed=closed,
        gender=draw(st.sampled_from(REF.codes("genders"))),
        age_band=draw(st.sampled_from([t.code for t in REF.terms("age_bands")])),
        nationality_group=draw(st.sampled_from(["pl", "tr", "sy", "region_eu", "not_stated"])),
        residence_group=draw(st.sampled_from(["ungeklaert", *REF.codes("residence_groups")[:2]])),
        access_route=draw(st.sampled_from(REF.codes("access_routes")[:3])),
        closing_reason=draw(st.sampled_from(REF.codes("closing_reasons")[:3])),
        phase=draw(st.sampled_from(REF.codes("phases")[:3])),
        topics=tuple(sorted(set(draw(st.lists(st.sampled_from(REF.codes("topics")[:4]),
                                              max_size=2))))),
        contacts=contacts, referrals=referrals, goals=goals)


def _add(counts: dict[object, Tally], key: object, record_id: str) -> None:
    counts[key] = counts.get(key, Tally(0)) + Tally.one(record_id)


def case_data(cases: list[MicroCase], period: Period, scope: Scope,
              ref: Reference = REF) -> CaseData:
    """What ``figures.load`` would read for ``period`` and ``scope`` from these cases."""
    data = CaseData(period, scope)
    for case in cases:
        if not scope.covers(ref, case.team, case.municipality):
            continue
        for contact_id, month, mode, interpreter, minutes in case.contacts:
            if period.contains_month(month):
                number, spent = data.contacts.get((mode, interpreter), (Tally(0), 0))
                data.contacts[(mode, interpreter)] = (number + Tally.one(contact_id),
                                                      spent + minutes)
        for referral_id, month, kind, outcome in case.referrals:
            if period.contains_month(month):
                _add(data.referrals, (kind, outcome), referral_id)  # type: ignore[arg-type]
        for goal_id, month, area, attainment in case.goals:
            if period.contains_month(month):
                _add(data.goals_evaluated, (area, attainment), goal_id)  # type: ignore[arg-type]
                _add(data.goals_agreed, area, goal_id)  # type: ignore[arg-type]
        if case.opened > period.end or (case.closed is not None and case.closed < period.start):
            continue
        closed_by_end = case.closed is not None and case.closed <= period.end
        is_cm = case.kind == CaseKind.CASE_MANAGEMENT
        data.cases.append(CaseFacts(
            record=record_key(case.id), client=case.client, purged=False, kind=case.kind,
            team=case.team, municipality=case.municipality,
            new=period.contains_month(case.opened),
            closed=case.closed is not None and period.contains_month(case.closed),
            open_at_end=not closed_by_end,
            highest_phase=case.phase if is_cm else "",
            phase_at_end=case.phase if is_cm and not closed_by_end else "",
            closing_reason=case.closing_reason
            if case.closed is not None and period.contains_month(case.closed) else "",
            access_route=case.access_route, age_band=case.age_band, gender=case.gender,
            nationality_group=case.nationality_group, residence_group=case.residence_group,
            topics=case.topics))
    if not (scope.kind == ScopeKind.TEAM and ref.team(scope.code).countywide):
        data.findings = {}
    return data


SCOPES = [Scope.county(), *[Scope(ScopeKind.TEAM, t.code) for t in REF.teams],
          *[Scope(ScopeKind.PLANNING_AREA, t.code) for t in REF.regional_teams],
          *[Scope(ScopeKind.MUNICIPALITY, m.code) for m in REF.municipalities]]


@st.composite
def periods(draw: st.DrawFn) -> Period:
    """A month, a quarter, a year or any span of months within the generated two years."""
    shape = draw(st.sampled_from(["month", "quarter", "year", "custom"]))
    if shape == "month":
        start = add_months(FIRST_MONTH, draw(st.integers(0, 23)))
        return Period(start, start)
    if shape == "quarter":
        start = add_months(FIRST_MONTH, 3 * draw(st.integers(0, 7)))
        return Period(start, add_months(start, 2))
    if shape == "year":
        start = add_months(FIRST_MONTH, 12 * draw(st.integers(0, 1)))
        return Period(start, add_months(start, 11))
    start = add_months(FIRST_MONTH, draw(st.integers(0, 20)))
    return Period(start, add_months(start, draw(st.integers(1, 9))))


def offset(month: str) -> int:
    return (int(month[:4]) - 2025) * 12 + int(month[5:]) - 1


@st.composite
def vaults(draw: st.DrawFn, min_size: int = 3, max_size: int = 18
           ) -> tuple[list[MicroCase], Period, Scope]:
    """A period, a small vault whose cases mostly fall into it, and a scope holding some."""
    period = draw(periods())
    cases = draw(st.lists(micro_cases(max(0, offset(period.start) - 6), offset(period.end)),
                          min_size=min_size, max_size=max_size))
    first = cases[0]
    covering = [s for s in SCOPES if s.covers(REF, first.team, first.municipality)]
    return cases, period, draw(st.sampled_from(covering))
