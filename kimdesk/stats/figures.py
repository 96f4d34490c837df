"""The figures of Controlling: cases, persons, contacts, topics, referrals, findings, goals and
case load per period and area, every count protected by the cell key method (``cellkey``).

Two steps. :func:`load` reads the vault into :class:`CaseData`: raw, unprotected counts that
never leave this package (the Zielsystem measures from them). Every count is a
:class:`~kimdesk.stats.cellkey.Tally` (true count and cell key of the records it counts).
:func:`build` turns them into :class:`Figure` tables keyed by codes with German labels and
publishes each count with its consistent noise: the same records give the same published
value, so the same quantity (e.g. the cases of the period) shows the same number in every
table, export and period where it recurs; totals are cells of their own.

Rules of counting (documented for users in docs/statistics-columns.md):
- a case counts in a period if it was open on any day of it; its Fallart is the one it had at
  the end of the period (conversions have dates), its phase the highest reached by then;
- age is the age at the opening of the case, as for purged cases;
- cases purged under the retention rules still count through their :class:`PurgedCaseCount`;
  dimensions they no longer carry appear as "nicht mehr bekannt (Akte gelöscht)".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from kimdesk.casework.clients import without_cyclic_gc
from kimdesk.casework.context import Context
from kimdesk.models import (
    Assessment,
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
from kimdesk.models.enums import CaseKind, ClientKind, Phase
from kimdesk.reference import Reference, ResidenceStatus
from kimdesk.stats.cellkey import KEY_RANGE, Tally, perturb, record_key, tally
from kimdesk.stats.scope import Period, Scope, ScopeKind

# Kinds of values in a column or cell.
COUNT = "count"  # a number of cases, persons, contacts ...: perturbed (cell key method)
HOURS = "hours"  # hours of contacts: rounded to HOURS_ROUNDING
NUMBER = "number"  # VZÄ, capacities, rounded weighted case loads: not about persons
PERCENT = "percent"

TOTAL = "total"
PURGED = "purged_unknown"
PURGED_LABEL = "nicht mehr bekannt (Akte gelöscht)"
NOT_STATED = "not_stated"
NOT_STATED_LABEL = "keine Angabe"
UNKNOWN_CODE = "unknown_code"
UNKNOWN_LABEL = "unbekannter Eintrag"
WEIGHTED_ROUNDING = 5  # weighted case loads are rounded to this, see _caseload_figures
HOURS_ROUNDING = 5  # hours of contacts are published rounded to this many hours

Cell = int | float | str | None
Position = tuple[int, int]

_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_STATUS_COLUMNS = (
    ("active", "Betreut im Zeitraum"),
    ("new", "davon neu aufgenommen"),
    ("carried", "davon aus dem Vorzeitraum"),
    ("closed", "Abgeschlossen im Zeitraum"),
    ("open_at_end", "Laufend am Ende des Zeitraums"),
)
# Within a row: betreut = neu + fortgeführt = abgeschlossen + laufend (column indices).
_STATUS_SUMS = ((0, (1, 2)), (0, (3, 4)))


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    measure: str = COUNT


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    total: bool = False
    measure: str | None = None  # overrides the column's kind of value (e.g. hours in a list)


@dataclass(frozen=True)
class Figure:
    """One table as shown and exported: counts are published with their cell key noise
    (never 1–4); shares resting on too few cases are shown as ``"."``.

    ``relations`` (total cell, part cells) and ``keys`` (the quantity a cell carries, shared
    with other figures) document how the counts hang together, for checks and tests.
    """

    code: str
    title: str
    row_heading: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    cells: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    relations: tuple[tuple[Position, tuple[Position, ...]], ...] = ()
    keys: Mapping[Position, str] = field(default_factory=dict)

    def cell(self, row: str, column: str) -> Cell:
        r = next(i for i, item in enumerate(self.rows) if item.code == row)
        c = next(i for i, item in enumerate(self.columns) if item.code == column)
        return self.cells[r][c]

    def iter_cells(self) -> Iterator[tuple[Row, Column, Cell]]:
        for row, values in zip(self.rows, self.cells, strict=True):
            for column, value in zip(self.columns, values, strict=True):
                yield row, column, value

    def measure(self, row: Row, column: Column) -> str:
        """What kind of value the cell holds: COUNT (perturbed), HOURS, ..."""
        return row.measure or column.measure


@dataclass(frozen=True)
class Statistics:
    """All figures of one period and area, ready to show, print or export."""

    period: Period
    scope: Scope
    scope_label: str
    created_on: date
    figures: tuple[Figure, ...]
    notes: tuple[str, ...] = ()

    def figure(self, code: str) -> Figure:
        for figure in self.figures:
            if figure.code == code:
                return figure
        raise KeyError(code)


# --- raw data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """One case as statistics see it: dimensions only, no person, no day."""

    record: int  # record key of the case (cell key method)
    client: str | None  # opaque key to count persons; None for a purged case
    purged: bool
    kind: str
    team: str
    municipality: str
    new: bool
    closed: bool  # closed within the period
    open_at_end: bool
    highest_phase: str
    phase_at_end: str
    closing_reason: str
    access_route: str
    age_band: str
    gender: str
    nationality_group: str
    residence_group: str
    topics: tuple[str, ...]


@dataclass
class CaseData:
    """Raw counts of one period and area. Unprotected: never show or export these directly;
    every count is a :class:`Tally` (true count and cell key)."""

    period: Period
    scope: Scope
    cases: list[CaseFacts] = field(default_factory=list)
    # (Kontaktart, Sprachmittlung) → (number, minutes); purged contacts under (PURGED, None)
    contacts: dict[tuple[str, bool | None], tuple[Tally, int]] = field(default_factory=dict)
    purged_cases_partly_in_period: int = 0
    referrals: dict[tuple[str, str], Tally] = field(default_factory=dict)
    findings: dict[tuple[str, str], Tally] | None = None  # None: not attributable to scope
    assessments: dict[str, Tally] = field(default_factory=dict)
    goals_agreed: dict[str, Tally] = field(default_factory=dict)
    goals_evaluated: dict[tuple[str, str], Tally] = field(default_factory=dict)
    # the persons' tally for a set of clients (computed once for the figures and the
    # Zielsystem); not part of the data
    _persons: tuple[frozenset[str], Tally] | None = field(default=None, init=False,
                                                          repr=False, compare=False)

    @property
    def persons(self) -> Tally:
        clients = frozenset(c.client for c in self.cases if c.client is not None)
        if self._persons is None or self._persons[0] != clients:
            self._persons = (clients, Tally.of(clients))
        return self._persons[1]


def cases_tally(cases: Iterable[CaseFacts]) -> Tally:
    """The number of ``cases`` with their cell key."""
    number = keys = 0
    for case in cases:
        number += 1
        keys += case.record
    return Tally(number, keys % KEY_RANGE)


def load(ctx: Context, period: Period, scope: Scope) -> CaseData:
    """Read everything the figures need for ``period`` and ``scope`` in one snapshot."""
    ref = ctx.reference
    scope.check(ref)
    # Tens of thousands of rows and tallies, no garbage cycles: a cyclic collection in between
    # would only walk them.
    with ctx.vault.reading() as session, without_cyclic_gc():
        return _load(session, ref, period, scope)


def _scope_condition(ref: Reference, scope: Scope) -> ColumnElement[bool]:
    if scope.kind == ScopeKind.COUNTY:
        return true()
    if scope.kind == ScopeKind.TEAM:
        return Case.team == scope.code
    return Case.municipality.in_(scope.municipalities(ref))


def _load(session: Session, ref: Reference, period: Period, scope: Scope) -> CaseData:
    # Read each table once, in plain column rows (no ORM objects), and join in memory: the
    # histories, contacts, referrals and goals of the cases in scope are picked by their case
    # id instead of one index lookup per row. Writes of an enclosing unit of work are flushed
    # first, as the ORM would before a query.
    session.flush()
    conn = session.connection()
    start, end = period.first_day, period.last_day
    in_scope = _scope_condition(ref, scope)
    active = and_(in_scope, Case.opened_on <= end,
                  or_(Case.closed_on.is_(None), Case.closed_on >= start))
    data = CaseData(period, scope)
    scope_ids = set(conn.execute(select(Case.id).where(in_scope)).scalars().all())
    case_rows = conn.execute(
        select(Case.id, Case.client_id, Case.kind, Case.phase, Case.opened_on, Case.closed_on,
               Case.closing_reason, Case.access_route, Case.team, Case.municipality,
               Client.kind, Client.gender, Client.birth_date, Client.nationality)
        .join(Client, Client.id == Case.client_id).where(active)).all()
    active_ids = {row[0] for row in case_rows}

    # Histories come ordered by (date, entry time): the last row per case is the newest.
    kind_at_end = {case_id: kind for case_id, kind in conn.execute(
        select(CaseKindChange.case_id, CaseKindChange.to_kind)
        .where(CaseKindChange.changed_on <= end)
        .order_by(CaseKindChange.changed_on, CaseKindChange.created_at)).all()
        if case_id in active_ids}
    phases: dict[str, list[str]] = defaultdict(list)
    for case_id, to_phase in conn.execute(
            select(PhaseChange.case_id, PhaseChange.to_phase)
            .where(PhaseChange.changed_on <= end)
            .order_by(PhaseChange.changed_on, PhaseChange.created_at)).all():
        if case_id in active_ids:
            phases[case_id].append(to_phase)
    topics: dict[str, set[str]] = defaultdict(set)
    for case_id, topic in conn.execute(select(CaseTopic.case_id, CaseTopic.topic)).all():
        if case_id in active_ids:
            topics[case_id].add(topic)
    residence = _residence_groups(conn, ref, {row[1] for row in case_rows}, end)

    age_bands: dict[int, str] = {}
    nationality_groups: dict[str | None, str] = {}
    for (case_id, client_id, kind, phase, opened_on, closed_on, reason, route, team,
         municipality, client_kind, gender, birth_date, nationality) in case_rows:
        kind = kind_at_end.get(case_id, kind)
        closed_by_end = closed_on is not None and closed_on <= end
        history = phases.get(case_id)
        if kind == CaseKind.CASE_MANAGEMENT:
            if history:
                highest = max(history, key=_PHASE_ORDER.__getitem__)
                at_end = history[-1]
            else:
                highest = at_end = Phase(phase).value if phase else Phase.INTAKE.value
        else:
            highest = at_end = ""
        if client_kind == ClientKind.ORGANISATION:
            age_band = "organisation"
        elif birth_date is None:
            age_band = "unknown"
        else:
            age = _age(birth_date, opened_on)
            age_band = age_bands.get(age) or age_bands.setdefault(
                age, ref.age_band_for(age).code)
        group = nationality_groups.get(nationality)
        if group is None:
            group = nationality_groups[nationality] = nationality_group_code(ref, nationality)
        closed_in_period = closed_on is not None and start <= closed_on <= end
        data.cases.append(CaseFacts(
            record=record_key(case_id), client=client_id, purged=False, kind=kind, team=team,
            municipality=municipality,
            new=start <= opened_on <= end, closed=closed_in_period,
            open_at_end=not closed_by_end, highest_phase=highest,
            phase_at_end=at_end if not closed_by_end else "",
            closing_reason=(reason or NOT_STATED) if closed_in_period else "",
            access_route=route or NOT_STATED,
            age_band=age_band,
            gender=gender or NOT_STATED,
            nationality_group=group,
            residence_group=residence.get(client_id, "ungeklaert"),
            topics=tuple(sorted(topics.get(case_id, ()))),
        ))

    _load_purged(conn, ref, period, scope, data)

    # Counted one by one (not grouped in SQL): each record brings its record key. The
    # contacts of the period are found through the date index, then read in table order
    # (one pass over the table's pages instead of one lookup per contact).
    in_period: Select[int] = (
        select(literal_column("rowid", Integer)).select_from(Contact.__table__)
        .where(Contact.contact_on >= start, Contact.contact_on <= end))
    contacts: dict[tuple[str, bool], list[int]] = {}
    for contact_id, case_id, mode, interpreter, minutes in conn.execute(
            select(Contact.id, Contact.case_id, Contact.mode, Contact.interpreter,
                   func.coalesce(Contact.duration_minutes, 0))
            .where(literal_column("contacts.rowid").in_(in_period),
                   Contact.superseded.is_(False))).all():
        if case_id not in scope_ids:
            continue
        sums = contacts.get((mode, bool(interpreter)))
        if sums is None:
            sums = contacts[(mode, bool(interpreter))] = [0, 0, 0]
        sums[0] += 1
        sums[1] += record_key(contact_id)
        sums[2] += minutes
    for group_key, (number, keys, spent) in contacts.items():
        data.contacts[group_key] = (Tally(number, keys % KEY_RANGE), spent)

    institution_types = {institution_id: institution_type for institution_id, institution_type
                         in conn.execute(select(Institution.id, Institution.institution_type))}
    referrals = _Tallies()
    for referral_id, case_id, institution_id, outcome in conn.execute(
            select(Referral.id, Referral.case_id, Referral.institution_id, Referral.outcome)
            .where(Referral.referred_on >= start, Referral.referred_on <= end)).all():
        if case_id in scope_ids and institution_id in institution_types:
            referrals.add((institution_types[institution_id], outcome), referral_id)
    data.referrals = referrals.result()

    assessments = _Tallies()
    for assessment_id, case_id, life_area in conn.execute(
            select(Assessment.id, Assessment.case_id, Assessment.life_area)
            .where(Assessment.need >= 1, Assessment.assessed_on <= end)).all():
        if case_id in active_ids:
            assessments.add(life_area, assessment_id)
    data.assessments = assessments.result()
    since = datetime.combine(start, time(), UTC)
    until = datetime.combine(end + timedelta(days=1), time(), UTC)
    goals_agreed = _Tallies()
    for goal_id, case_id, life_area in conn.execute(
            select(Goal.id, Goal.case_id, Goal.life_area)
            .where(or_(and_(Goal.agreed_on >= start, Goal.agreed_on <= end),
                       and_(Goal.agreed_on.is_(None), Goal.created_at >= since,
                            Goal.created_at < until)))).all():
        if case_id in scope_ids:
            goals_agreed.add(life_area, goal_id)
    data.goals_agreed = goals_agreed.result()
    goals_evaluated = _Tallies()
    for goal_id, case_id, life_area, attainment in conn.execute(
            select(Goal.id, Goal.case_id, Goal.life_area, Goal.attainment)
            .where(Goal.attainment != "", Goal.evaluated_on >= start,
                   Goal.evaluated_on <= end)).all():
        if case_id in scope_ids:
            goals_evaluated.add((life_area, attainment), goal_id)
    data.goals_evaluated = goals_evaluated.result()

    if not (scope.kind == ScopeKind.TEAM and ref.team(scope.code).countywide):
        query = (select(Finding.id, Finding.life_area, Finding.barrier)
                 .where(Finding.noted_on >= start, Finding.noted_on <= end))
        if scope.kind != ScopeKind.COUNTY:
            query = query.where(Finding.municipality.in_(scope.municipalities(ref)))
        findings = _Tallies()
        for finding_id, area, barrier in conn.execute(query).all():
            findings.add((area, barrier), finding_id)
        data.findings = findings.result()
    return data


class _Tallies:
    """Counts with their cell keys per cell, summed as plain numbers (many records)."""

    def __init__(self) -> None:
        self._sums: dict[Any, list[int]] = {}

    def add(self, cell: Any, record_id: str) -> None:
        self.add_key(cell, record_key(record_id))

    def add_key(self, cell: Any, key: int) -> None:
        sums = self._sums.get(cell)
        if sums is None:
            self._sums[cell] = [1, key]
        else:
            sums[0] += 1
            sums[1] += key

    def result(self) -> dict[Any, Tally]:
        return {cell: Tally(n, keys % KEY_RANGE) for cell, (n, keys) in self._sums.items()}


def _residence_groups(conn: Connection, ref: Reference, client_ids: set[str], end: date
                      ) -> dict[str, str]:
    """Per client, the statistics group of the residence status valid at ``end``."""
    groups = {t.code: t.group for t in ref.terms("residence_statuses")
              if isinstance(t, ResidenceStatus)}
    best: dict[str, tuple[date, datetime, str]] = {}
    for client_id, status, granted_on, created_at in conn.execute(
            select(ResidenceRecord.client_id, ResidenceRecord.status, ResidenceRecord.granted_on,
                   ResidenceRecord.created_at)).all():
        if client_id not in client_ids:
            continue
        since = granted_on or created_at.date()
        if since > end:
            continue
        if client_id not in best or (since, created_at) >= best[client_id][:2]:
            best[client_id] = (since, created_at, groups.get(status, "ungeklaert"))
    return {client_id: entry[2] for client_id, entry in best.items()}


def _load_purged(conn: Connection, ref: Reference, period: Period, scope: Scope,
                 data: CaseData) -> None:
    by_label = _nationality_groups_by_label(ref)
    purged_contacts, purged_minutes = Tally(0), 0
    for purged in conn.execute(
            select(PurgedCaseCount.id, PurgedCaseCount.opened_month,
                   PurgedCaseCount.closed_month, PurgedCaseCount.team,
                   PurgedCaseCount.municipality, PurgedCaseCount.kind,
                   PurgedCaseCount.highest_phase, PurgedCaseCount.closing_reason,
                   PurgedCaseCount.age_band, PurgedCaseCount.gender,
                   PurgedCaseCount.nationality_group, PurgedCaseCount.contacts,
                   PurgedCaseCount.contact_minutes, PurgedCaseCount.topics)
            .where(PurgedCaseCount.opened_month <= period.end,
                   or_(PurgedCaseCount.closed_month == "",
                       PurgedCaseCount.closed_month >= period.start))).all():
        if not scope.covers(ref, purged.team, purged.municipality):
            continue
        closed_by_end = bool(purged.closed_month) and purged.closed_month <= period.end
        is_cm = purged.kind == CaseKind.CASE_MANAGEMENT
        data.cases.append(CaseFacts(
            record=record_key(purged.id), client=None, purged=True, kind=purged.kind,
            team=purged.team,
            municipality=purged.municipality,
            new=period.contains_month(purged.opened_month),
            closed=period.contains_month(purged.closed_month),
            open_at_end=not closed_by_end,
            highest_phase=(purged.highest_phase or PURGED) if is_cm else "",
            phase_at_end=PURGED if is_cm and not closed_by_end else "",
            closing_reason=(purged.closing_reason or NOT_STATED)
            if period.contains_month(purged.closed_month) else "",
            access_route=PURGED,
            age_band=purged.age_band or "unknown",
            gender=purged.gender or NOT_STATED,
            nationality_group=by_label.get(purged.nationality_group, PURGED)
            if purged.nationality_group else NOT_STATED,
            residence_group=PURGED,
            topics=tuple(sorted(set(purged.topics))),
        ))
        # Contacts of a purged case have no dates: they count only where the whole case lies
        # inside the period (then so do its contacts); otherwise they are left out and noted.
        inside = purged.opened_month >= period.start and closed_by_end
        if inside:
            # The contacts of a purged case have no ids left: each gets a record key
            # derived from the purged count's id and its number.
            purged_contacts += Tally.of(f"{purged.id}#{i}" for i in range(purged.contacts))
            purged_minutes += purged.contact_minutes
        elif purged.contacts:
            data.purged_cases_partly_in_period += 1
    if purged_contacts:
        data.contacts[(PURGED, None)] = (purged_contacts, purged_minutes)


_PHASE_ORDER = {p.value: p.index for p in Phase}


def _age(birth_date: date, on: date) -> int:
    """Age in whole years on ``on`` (0 for a birth date after it)."""
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return max(age, 0)


def nationality_group_code(ref: Reference, nationality: str | None) -> str:
    """Statistics group of a Staatsangehörigkeit: the country (top 10 of the Kreis) or region."""
    if not nationality:
        return NOT_STATED
    try:
        entry = ref.nationality(nationality)
    except KeyError:
        return NOT_STATED
    return entry.code.lower() if entry.top10 else f"region_{entry.region}"


def nationality_groups(ref: Reference) -> list[tuple[str, str]]:
    """All groups in display order: the top 10 countries, then the world regions."""
    groups = [(n.code.lower(), n.name) for n in ref.nationalities if n.top10]
    groups += [(f"region_{t.code}", t.label) for t in ref.terms("world_regions")]
    return groups


def _nationality_groups_by_label(ref: Reference) -> dict[str, str]:
    # PurgedCaseCount keeps the group's label (Reference.nationality_group); map it back.
    return {label: code for code, label in nationality_groups(ref)}


# --- building the figures ---------------------------------------------------------------------


@dataclass
class _Draft:
    """A figure before protection: raw counts, how they add up, what they share."""

    code: str
    title: str
    row_heading: str
    rows: list[Row]
    columns: list[Column]
    values: list[list[Any]]  # Tally (or 0) in count cells, plain numbers elsewhere
    relations: list[tuple[Position, tuple[Position, ...]]] = field(default_factory=list)
    keys: dict[Position, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sort_column: str | None = None  # rows ordered by this column's shown values

    def is_count(self, position: Position) -> bool:
        row, column = self.rows[position[0]], self.columns[position[1]]
        return (row.measure or column.measure) == COUNT


def _table(
    code: str,
    title: str,
    row_heading: str,
    rows: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, str]],
    counts: Mapping[tuple[str, str], Tally],
    *,
    total_column: str | None = "Insgesamt",
    total_row: bool = True,
    row_sums: Sequence[tuple[int, Sequence[int]]] = (),
    key: str | None = None,
    row_key: str | None = None,
    column_key: str | None = None,
) -> _Draft:
    """A table of counts with its margins.

    Codes in ``counts`` that ``rows`` or ``columns`` do not list (a vocabulary entry the county
    removed) get a row or column of their own, so that no count is lost and totals agree with
    the other figures. ``key``: the quantity of the grand total (e.g. ``"cases|active"``);
    ``row_key`` and ``column_key``: templates with ``{code}`` for the row and column totals.
    """
    rows, columns, counts = _complete(rows, columns, counts)
    row_objects = [Row(c, label) for c, label in rows]
    column_objects = [Column(c, label) for c, label in columns]
    sums = list(row_sums)
    if total_column is not None:
        sums.append((len(column_objects), tuple(range(len(column_objects)))))
        column_objects.append(Column(TOTAL, total_column))
    values: list[list[Any]] = []
    for row in row_objects:
        line: list[Any] = [counts.get((row.code, column.code), Tally(0))
                           for column in column_objects[:len(columns)]]
        if total_column is not None:
            line.append(sum(line, Tally(0)))
        values.append(line)
    if total_row:
        values.append([sum((line[i] for line in values), Tally(0))
                       for i in range(len(column_objects))])
        row_objects.append(Row(TOTAL, "Insgesamt", total=True))
    draft = _Draft(code, title, row_heading, row_objects, column_objects, values)
    width = len(column_objects)
    for r in range(len(row_objects)):
        for total, parts in sums:
            draft.relations.append(((r, total), tuple((r, p) for p in parts)))
    if total_row:
        last = len(row_objects) - 1
        for c in range(width):
            draft.relations.append(((last, c), tuple((r, c) for r in range(last))))
    last_row = len(row_objects) - 1 if total_row else None
    last_column = width - 1 if total_column is not None else None
    if key and last_row is not None and last_column is not None:
        draft.keys[(last_row, last_column)] = key
    if row_key and last_column is not None:
        for r, row in enumerate(row_objects):
            if not row.total:
                draft.keys[(r, last_column)] = row_key.format(code=row.code)
    if column_key and last_row is not None:
        for c, column in enumerate(column_objects):
            if column.code != TOTAL:
                draft.keys[(last_row, c)] = column_key.format(code=column.code)
    return draft


def _complete(
    rows: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, str]],
    counts: Mapping[tuple[str, str], Tally],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[tuple[str, str], Tally]]:
    """Rows and columns for every code in ``counts``; anything that is not a code at all
    (never expected: codes are checked on entry) is counted as "unbekannter Eintrag" rather
    than shown, so no stray text can reach a statistic."""
    rows, columns = list(rows), list(columns)
    known_rows, known_columns = {c for c, _ in rows}, {c for c, _ in columns}
    completed: dict[tuple[str, str], Tally] = {}
    for (row, column), n in counts.items():
        row = row if row in known_rows or _CODE.fullmatch(row) else UNKNOWN_CODE
        column = column if column in known_columns or _CODE.fullmatch(column) else UNKNOWN_CODE
        completed[(row, column)] = completed.get((row, column), Tally(0)) + n
    for code in sorted({r for r, _ in completed} - known_rows):
        rows.append((code, UNKNOWN_LABEL if code == UNKNOWN_CODE else code))
    for code in sorted({c for _, c in completed} - known_columns):
        columns.append((code, UNKNOWN_LABEL if code == UNKNOWN_CODE else code))
    return rows, columns, completed


def _status_table(code: str, title: str, row_heading: str, rows: Sequence[tuple[str, str]],
                  cases: Sequence[CaseFacts], dimension: str, cell_key: str) -> _Draft:
    """Cases by a dimension and their status in the period (betreut, neu, abgeschlossen ...)."""
    tallies = _Tallies()
    for case in cases:
        value = getattr(case, dimension)
        tallies.add_key((value, "active"), case.record)
        tallies.add_key((value, "new" if case.new else "carried"), case.record)
        tallies.add_key((value, "open_at_end" if case.open_at_end else "closed"), case.record)
    counts = tallies.result()
    draft = _table(code, title, row_heading, rows, _STATUS_COLUMNS, counts, total_column=None,
                   row_sums=_STATUS_SUMS)
    for r, row in enumerate(draft.rows):
        for c, (status, _label) in enumerate(_STATUS_COLUMNS):
            draft.keys[(r, c)] = (f"cases|{status}" if row.total
                                  else f"cases|{status}|{cell_key}={row.code}")
    return draft


def _terms(ref: Reference, vocabulary: str) -> list[tuple[str, str]]:
    return [(t.code, t.label) for t in ref.terms(vocabulary)]


def build(data: CaseData, ref: Reference, created_on: date) -> Statistics:
    """All figures of ``data``, each count published with its cell key noise."""
    drafts, notes = _drafts(data, ref)
    figures = _solve(drafts)
    return Statistics(data.period, data.scope, data.scope.label(ref), created_on,
                      tuple(figures), tuple(notes))


def unprotected_counts(data: CaseData, ref: Reference
                       ) -> dict[tuple[str, str, str], int]:
    """The true counts behind the figures, (figure, row, column) → count. For tests and
    checks of the method only: never show, export or send these."""
    drafts, _notes = _drafts(data, ref)
    counts: dict[tuple[str, str, str], int] = {}
    for draft in drafts:
        for r, row in enumerate(draft.rows):
            for c, column in enumerate(draft.columns):
                if draft.is_count((r, c)):
                    counts[(draft.code, row.code, column.code)] = tally(draft.values[r][c]).n
    return counts


def _drafts(data: CaseData, ref: Reference) -> tuple[list[_Draft], list[str]]:
    scope = data.scope
    cases = data.cases
    drafts: list[_Draft] = []
    notes: list[str] = []
    purged_any = any(c.purged for c in cases)

    kinds = _terms(ref, "case_kinds")
    by_kind = _status_table("cases_by_kind", "Fälle nach Fallart und Status", "Fallart", kinds,
                            cases, "kind", "kind")
    if purged_any:
        by_kind.notes.append("Einschließlich anonymisiert gezählter Fälle, deren Akte nach Ablauf "
                             "der Aufbewahrungsfrist gelöscht wurde.")
    overview = _overview(data)
    drafts += [overview, by_kind]

    if scope.kind == ScopeKind.COUNTY:
        teams = [(t.code, t.name) for t in ref.teams]
        drafts.append(_status_table("cases_by_team", "Fälle nach Team", "Team", teams, cases,
                                    "team", "team"))
    if scope.kind != ScopeKind.MUNICIPALITY:
        municipalities = [(m.code, m.name) for m in ref.municipalities
                          if m.code in scope.municipalities(ref)]
        drafts.append(_status_table("cases_by_municipality", "Fälle nach Kommune", "Kommune",
                                    municipalities, cases, "municipality", "municipality"))

    drafts.append(_phase_figure(ref, cases))
    drafts.append(_closing_figure(ref, cases))
    drafts.append(_age_gender_figure(ref, cases))
    drafts.append(_single_dimension(
        "cases_by_nationality", "Fälle nach Staatsangehörigkeit (Gruppe)",
        "Staatsangehörigkeit", nationality_groups(ref), cases, "nationality_group",
        (NOT_STATED, NOT_STATED_LABEL), (PURGED, PURGED_LABEL), key="cases|active",
        note="Die zehn häufigsten Staatsangehörigkeiten im Kreis Kleve einzeln, alle anderen "
             "nach Weltregion."))
    drafts.append(_single_dimension(
        "cases_by_residence_group", "Fälle nach Aufenthaltsstatus (Gruppe)",
        "Aufenthaltsstatus", _terms(ref, "residence_groups"), cases, "residence_group",
        (PURGED, PURGED_LABEL), key="cases|active",
        note="Aufenthaltsstatus am Ende des Zeitraums (bzw. zuletzt erfasster Status)."))
    drafts.append(_single_dimension(
        "new_cases_by_access_route", "Neu aufgenommene Fälle nach Zugangsweg", "Zugangsweg",
        _terms(ref, "access_routes"), [c for c in cases if c.new], "access_route",
        (NOT_STATED, NOT_STATED_LABEL), (PURGED, PURGED_LABEL), key="cases|new"))
    drafts.append(_contacts_figure(ref, data))
    drafts.append(_topics_figure(ref, cases))
    drafts.append(_life_areas_figure(ref, data))
    drafts.append(_goal_attainment_figure(ref, data))
    drafts.append(_referrals_figure(ref, data))
    if data.findings is not None:
        drafts.append(_findings_figure(ref, data.findings))
    else:
        notes.append("Erkenntnisse (Versorgungslücken) sind Kommunen zugeordnet, nicht Teams; "
                     "für das kreisweite Welcome-Center stehen sie in der Kreisstatistik.")
    if scope.kind in (ScopeKind.COUNTY, ScopeKind.TEAM):
        drafts += _caseload_figures(ref, scope, cases)
    else:
        notes.append("Die Auslastung nach Fallzahlschlüssel wird je Team und für den Kreis "
                     "ausgewiesen, nicht für Planungsräume und Kommunen.")
    if data.purged_cases_partly_in_period:
        notes.append("Kontakte gelöschter Akten, die nur teilweise in den Zeitraum fallen, "
                     "sind nicht enthalten (ihre Kontakte haben kein Datum mehr).")

    return drafts, notes


def statistics(ctx: Context, period: Period, scope: Scope | None = None) -> Statistics:
    """Load and build the figures of ``period`` for ``scope`` (default: the whole Kreis)."""
    scope = scope or Scope.county()
    data = load(ctx, period, scope)
    with without_cyclic_gc():
        return build(data, ctx.reference, ctx.today())


def _overview(data: CaseData) -> _Draft:
    cases = data.cases
    contacts = sum((n for n, _ in data.contacts.values()), Tally(0))
    minutes = sum(m for _, m in data.contacts.values())
    rows: list[tuple[str, str, str | None, Any]] = [
        ("cases_active", "Betreute Fälle im Zeitraum", "cases|active", cases_tally(cases)),
        ("cases_new", "davon neu aufgenommen", "cases|new",
         cases_tally(c for c in cases if c.new)),
        ("cases_closed", "Abgeschlossene Fälle", "cases|closed",
         cases_tally(c for c in cases if c.closed)),
        ("cases_open_at_end", "Laufende Fälle am Ende des Zeitraums", "cases|open_at_end",
         cases_tally(c for c in cases if c.open_at_end)),
        ("persons", "Betreute Ratsuchende (Personen und Organisationen)", "persons",
         data.persons),
        ("contacts", "Kontakte", "contacts", contacts),
        ("contact_hours", "Beratungsstunden", None, rounded_hours(minutes)),
        ("referrals", "Vermittlungen", "referrals", sum(data.referrals.values(), Tally(0))),
        ("goals_evaluated", "Bewertete Ziele", "goals|evaluated",
         sum(data.goals_evaluated.values(), Tally(0))),
    ]
    if data.findings is not None:
        rows.append(("findings", "Dokumentierte Erkenntnisse (Versorgungslücken)", "findings",
                     sum(data.findings.values(), Tally(0))))
    draft = _Draft("overview", "Überblick", "Kennzahl",
                   [Row(code, label, measure=HOURS if code == "contact_hours" else None)
                    for code, label, _, _ in rows],
                   [Column("value", "Anzahl")], [[value] for *_, value in rows])
    for r, (_code, _label, key, _value) in enumerate(rows):
        if key:
            draft.keys[(r, 0)] = key
    draft.notes.append("Betreute Ratsuchende ohne gelöschte Akten (diese sind nur als Fälle "
                       "gezählt).")
    return draft


def _single_dimension(code: str, title: str, row_heading: str, rows: list[tuple[str, str]],
                      cases: Sequence[CaseFacts], dimension: str, *extra: tuple[str, str],
                      key: str, note: str = "") -> _Draft:
    counts = _count_cases(cases, lambda c: (getattr(c, dimension), "cases"))
    draft = _table(code, title, row_heading, [*rows, *extra],
                   [("cases", "Fälle")], counts, total_column=None, key=None)
    draft.keys[(len(draft.rows) - 1, 0)] = key
    if note:
        draft.notes.append(note)
    return draft


def _phase_figure(ref: Reference, cases: Sequence[CaseFacts]) -> _Draft:
    cm = [c for c in cases if c.kind == CaseKind.CASE_MANAGEMENT]
    counts = _count_cases(cm, lambda c: (c.highest_phase, "highest"))
    for key, n in _count_cases([c for c in cm if c.open_at_end],
                               lambda c: (c.phase_at_end, "at_end")).items():
        counts[key] = n
    draft = _table(
        "cm_by_phase", "Case Management nach Phase", "Phase",
        [*_terms(ref, "phases"), (PURGED, PURGED_LABEL)],
        [("highest", "Höchste erreichte Phase (alle betreuten CM-Fälle)"),
         ("at_end", "Phase am Ende des Zeitraums (laufende CM-Fälle)")],
        counts, total_column=None)
    last = len(draft.rows) - 1
    draft.keys[(last, 0)] = "cases|active|kind=case_management"
    draft.keys[(last, 1)] = "cases|open_at_end|kind=case_management"
    return draft


def _closing_figure(ref: Reference, cases: Sequence[CaseFacts]) -> _Draft:
    counts = _count_cases([c for c in cases if c.closed], lambda c: (c.closing_reason, c.kind))
    return _table(
        "closed_by_reason", "Abgeschlossene Fälle nach Abschlussgrund und Fallart",
        "Abschlussgrund",
        [*_terms(ref, "closing_reasons"), (NOT_STATED, NOT_STATED_LABEL)],
        _terms(ref, "case_kinds"), counts, key="cases|closed",
        column_key="cases|closed|kind={code}")


def _age_gender_figure(ref: Reference, cases: Sequence[CaseFacts]) -> _Draft:
    counts = _count_cases(cases, lambda c: (c.age_band, c.gender))
    rows = [*_terms(ref, "age_bands"), ("unknown", "Alter unbekannt"),
            ("organisation", "Organisation (z. B. Arbeitgeber)")]
    genders = _terms(ref, "genders")
    draft = _table("cases_by_age_gender", "Fälle nach Altersgruppe und Geschlecht",
                   "Altersgruppe", rows, genders, counts,
                   key="cases|active")
    draft.notes.append("Alter bei Beginn des Falls.")
    return draft


def _contacts_figure(ref: Reference, data: CaseData) -> _Draft:
    counts: dict[tuple[str, str], Tally] = {}
    minutes: Counter[str] = Counter()
    for (mode, interpreter), (number, spent) in data.contacts.items():
        column = "unknown" if interpreter is None else ("with" if interpreter else "without")
        counts[(mode, column)] = counts.get((mode, column), Tally(0)) + number
        minutes[mode] += spent
    draft = _table(
        "contacts_by_kind", "Kontakte und Beratungszeit nach Kontaktart", "Kontaktart",
        [*_terms(ref, "contact_kinds"), (PURGED, PURGED_LABEL)],
        [("with", "mit Sprachmittlung"), ("without", "ohne Sprachmittlung"),
         ("unknown", "Sprachmittlung nicht bekannt")],
        counts, total_column="Kontakte insgesamt", key="contacts",
        column_key="contacts|interpreter={code}")
    draft.columns.append(Column("hours", f"Stunden (auf {HOURS_ROUNDING} gerundet)", HOURS))
    for r, row in enumerate(draft.rows):
        spent = sum(minutes.values()) if row.total else minutes.get(row.code, 0)
        draft.values[r].append(rounded_hours(spent))
    return draft


def rounded_hours(minutes: int) -> int:
    """Hours of contacts as published: rounded to :data:`HOURS_ROUNDING` hours, so that they
    do not tell how many contacts (of typical length) a row holds."""
    return int(HOURS_ROUNDING * round(minutes / 60 / HOURS_ROUNDING))


def _count_cases(cases: Iterable[CaseFacts], cell: Any) -> dict[tuple[str, str], Tally]:
    """Cases per cell (``cell(case)`` → (row code, column code)), with their cell keys."""
    counts = _Tallies()
    for case in cases:
        counts.add_key(cell(case), case.record)
    return counts.result()


def _topics_figure(ref: Reference, cases: Sequence[CaseFacts]) -> _Draft:
    tallies = _Tallies()
    for case in cases:
        for topic in case.topics:
            tallies.add_key((topic, "cases"), case.record)
    counts = tallies.result()
    rows = _terms(ref, "topics")
    # A case has several Handlungsfelder, so the rows do not add up; the number of cases is
    # given as the base the shares refer to.
    draft = _table("topics", "Handlungsfelder der betreuten Fälle (Häufigkeit)",
                   "Handlungsfeld", rows, [("cases", "Fälle mit diesem Handlungsfeld")], counts,
                   total_column=None, total_row=False)
    draft.rows.append(Row("cases_total", "Betreute Fälle insgesamt (Bezugsgröße)", total=True))
    draft.values.append([cases_tally(cases)])
    draft.keys[(len(draft.rows) - 1, 0)] = "cases|active"
    draft.sort_column = "cases"
    draft.notes.append("Ein Fall kann mehrere Handlungsfelder haben; die Zeilen ergeben daher "
                       "zusammen nicht die Zahl der Fälle.")
    return draft


def _life_areas_figure(ref: Reference, data: CaseData) -> _Draft:
    counts: dict[tuple[str, str], Tally] = {}

    def add(cell: tuple[str, str], n: Tally) -> None:
        counts[cell] = counts.get(cell, Tally(0)) + n

    for area, n in data.assessments.items():
        add((area or "none", "assessed"), n)
    for area, n in data.goals_agreed.items():
        add((area or "none", "goals_agreed"), n)
    for (area, _attainment), n in data.goals_evaluated.items():
        add((area or "none", "goals_evaluated"), n)
    draft = _table(
        "life_areas", "Lebensbereiche: Bedarfe und Ziele (Häufigkeit)", "Lebensbereich",
        [*_terms(ref, "life_areas"), ("none", "ohne Lebensbereich")],
        [("assessed", "Assessments mit Bedarf"), ("goals_agreed", "Ziele vereinbart"),
         ("goals_evaluated", "Ziele bewertet")],
        counts, total_column=None)
    draft.keys[(len(draft.rows) - 1, 2)] = "goals|evaluated"
    for r, row in enumerate(draft.rows):
        if not row.total:
            draft.keys[(r, 2)] = f"goals|evaluated|life_area={row.code}"
    draft.sort_column = "assessed"
    draft.notes.append("Assessments mit Bedarf: Einschätzungen je Person und Lebensbereich mit "
                       "Bedarf 1–3 in den betreuten Fällen. Ziele vereinbart bzw. bewertet: "
                       "im Zeitraum.")
    return draft


def _goal_attainment_figure(ref: Reference, data: CaseData) -> _Draft:
    counts: dict[tuple[str, str], Tally] = {}
    for (area, attainment), n in data.goals_evaluated.items():
        cell = (area or "none", attainment)
        counts[cell] = counts.get(cell, Tally(0)) + n
    attainments = _terms(ref, "goal_attainment")
    return _table(
        "goal_attainment", "Zielerreichung der im Zeitraum bewerteten Ziele", "Lebensbereich",
        [*_terms(ref, "life_areas"), ("none", "ohne Lebensbereich")],
        attainments, counts, key="goals|evaluated",
        row_key="goals|evaluated|life_area={code}",
        column_key="goals|evaluated|attainment={code}")


def _referrals_figure(ref: Reference, data: CaseData) -> _Draft:
    outcomes = _terms(ref, "referral_outcomes")
    draft = _table(
        "referrals", "Vermittlungen nach Art der Einrichtung und Ergebnis", "Einrichtung",
        _terms(ref, "institution_types"),
        outcomes, data.referrals, key="referrals")
    draft.notes.append("Vermittlungen mit Datum im Zeitraum, mit ihrem zuletzt erfassten "
                       "Ergebnis.")
    return draft


def _findings_figure(ref: Reference, findings: Mapping[tuple[str, str], Tally]) -> _Draft:
    if "barriers" in ref.vocabularies:
        barriers = _terms(ref, "barriers")
    else:  # until the reference data name the kinds of barriers, show their codes
        barriers = sorted({(b, b) for _, b in findings if _CODE.fullmatch(b)})
    known = {code for code, _ in barriers}
    counts: dict[tuple[str, str], Tally] = {}
    for (area, barrier), n in findings.items():
        cell = (area, barrier if barrier in known else "other_barrier")
        counts[cell] = counts.get(cell, Tally(0)) + n
    if any(b == "other_barrier" for _, b in counts):
        barriers = [*barriers, ("other_barrier", "sonstige Hürde")]
    draft = _table(
        "findings", "Erkenntnisse (Versorgungslücken) nach Lebensbereich und Hürde",
        "Lebensbereich", _terms(ref, "life_areas"), barriers, counts,
        key="findings")
    draft.notes.append("Strukturelle Erkenntnisse aus der Fallarbeit, ohne Bezug zu Personen.")
    return draft


def _caseload_figures(ref: Reference, scope: Scope, cases: Sequence[CaseFacts]
                      ) -> list[_Draft]:
    """Fallzahlschlüssel per team and per Träger.

    The weighted case load is computed from the published (perturbed) open cases per Fallart
    and rounded to a multiple of 5, so it says nothing the published counts do not. Capacity
    and VZÄ are not about persons.
    """
    rules = ref.rules
    county = scope.kind == ScopeKind.COUNTY
    teams = list(ref.teams) if county else [ref.team(scope.code)]
    kinds = _terms(ref, "case_kinds")
    counts = _count_cases([c for c in cases if c.open_at_end], lambda c: (c.team, c.kind))
    # County: per team and kind. Team: the one row is the open cases of the scope, the same
    # quantities as the column "laufend" of the table by Fallart.
    team_draft = _table(
        "caseload_teams", "Auslastung nach Fallzahlschlüssel je Team", "Team",
        [(t.code, t.name) for t in teams], kinds, counts,
        total_column="Laufende Fälle insgesamt", total_row=county,
        key="cases|open_at_end", row_key="cases|open_at_end|team={code}" if county else None,
        column_key="cases|open_at_end|kind={code}")
    for r, row in enumerate(team_draft.rows):
        for c, column in enumerate(team_draft.columns):
            if row.total:
                continue
            if county:
                team_draft.keys.setdefault((r, c), f"cases|open_at_end|team={row.code}"
                                                   f"|kind={column.code}")
            else:
                team_draft.keys[(r, c)] = ("cases|open_at_end" if column.code == TOTAL
                                           else f"cases|open_at_end|kind={column.code}")
    weights = rules.caseload_weights
    vza_by_team = {t.code: t.vza for t in teams}
    for column in (Column("vza", "VZÄ", NUMBER), Column("capacity", "Kapazität (Fälle)", NUMBER),
                   Column("weighted", "Gewichtete Fälle (auf 5 gerundet)", NUMBER),
                   Column("per_vza", "Gewichtete Fälle je VZÄ", NUMBER),
                   Column("utilisation", "Auslastung in %", PERCENT)):
        team_draft.columns.append(column)
    weighted_by_team: dict[str, float] = {}
    for r, row in enumerate(team_draft.rows):
        # From the published (perturbed) counts: the true ones would give them away.
        weighted = sum(weights.get(code, 1.0) * perturb(team_draft.values[r][k])
                       for k, (code, _) in enumerate(kinds))
        vza = sum(vza_by_team.values()) if row.total else vza_by_team.get(row.code, 0.0)
        if not row.total:
            weighted_by_team[row.code] = weighted
        team_draft.values[r].extend(_load_measures(vza, weighted, rules.cases_per_vza))
    team_draft.notes.append(
        f"Fallzahlschlüssel: {rules.cases_per_vza} Fälle je VZÄ; laufende Fälle am Ende des "
        "Zeitraums, gewichtet nach Fallart ("
        + ", ".join(f"{label} {rules.caseload_weights.get(code, 1.0):g}".replace(".", ",")
                    for code, label in kinds) + ").")

    provider_vza: dict[str, float] = defaultdict(float)
    provider_weighted: dict[str, float] = defaultdict(float)
    for team in teams:
        for share in team.shares:
            provider_vza[share.provider] += share.vza
            if team.vza:
                provider_weighted[share.provider] += (weighted_by_team.get(team.code, 0.0)
                                                      * share.vza / team.vza)
    providers = [p for p in ref.providers if p.code in provider_vza]
    provider_draft = _Draft(
        "caseload_providers", "Auslastung nach Fallzahlschlüssel je Träger (anteilig)", "Träger",
        [Row(p.code, p.name) for p in providers] + [Row(TOTAL, "Insgesamt", total=True)],
        [Column("vza", "VZÄ", NUMBER), Column("capacity", "Kapazität (Fälle)", NUMBER),
         Column("weighted", "Gewichtete Fälle anteilig (auf 5 gerundet)", NUMBER),
         Column("per_vza", "Gewichtete Fälle je VZÄ", NUMBER),
         Column("utilisation", "Auslastung in %", PERCENT)],
        [_load_measures(provider_vza[p.code], provider_weighted[p.code], rules.cases_per_vza)
         for p in providers]
        + [_load_measures(sum(provider_vza.values()), sum(provider_weighted.values()),
                          rules.cases_per_vza)])
    provider_draft.notes.append(
        "Fälle sind Teams zugeordnet, nicht Trägern: die gewichteten Fälle eines Teams werden "
        "den Trägern nach ihrem Anteil an den VZÄ des Teams zugerechnet.")
    return [team_draft, provider_draft]


def _load_measures(vza: float, weighted: float, cases_per_vza: int) -> list[float | int]:
    rounded = int(WEIGHTED_ROUNDING * round(weighted / WEIGHTED_ROUNDING))
    capacity = vza * cases_per_vza
    return [
        round(vza, 2),
        round(capacity, 1),
        rounded,
        round(rounded / vza, 1) if vza else 0.0,
        round(100 * rounded / capacity) if capacity else 0,
    ]


# --- protection across all figures -----------------------------------------------------------


def _solve(drafts: Sequence[_Draft]) -> list[Figure]:
    """Publish every count cell of all drafts with its cell key noise and build the figures.

    Cells that carry the same quantity (``keys``) must hold the same records: they then get
    the same published value, in this report and in any other."""
    by_key: dict[str, list[Tally]] = defaultdict(list)
    for draft in drafts:
        for position, key in draft.keys.items():
            by_key[key].append(tally(draft.values[position[0]][position[1]]))
    for key, tallies in by_key.items():
        if len(set(tallies)) != 1:
            raise AssertionError(f"figures disagree on {key}")
    figures: list[Figure] = []
    for draft in drafts:
        cells: list[list[Cell]] = []
        for r, line in enumerate(draft.values):
            cells.append([perturb(value) if draft.is_count((r, c)) else value
                          for c, value in enumerate(line)])
        rows = list(draft.rows)
        if draft.sort_column is not None:
            rows, cells = _by_frequency(draft, rows, cells)
            # Relations and keys refer to the original order; re-map them.
            order = {row.code: i for i, row in enumerate(rows)}
            remap = {r: order[row.code] for r, row in enumerate(draft.rows)}
        else:
            remap = {r: r for r in range(len(rows))}
        figures.append(Figure(
            code=draft.code, title=draft.title, row_heading=draft.row_heading,
            columns=tuple(draft.columns), rows=tuple(rows),
            cells=tuple(tuple(line) for line in cells), notes=tuple(draft.notes),
            relations=tuple(((remap[t[0]], t[1]), tuple((remap[p[0]], p[1]) for p in parts))
                            for t, parts in draft.relations),
            keys={(remap[p[0]], p[1]): key for p, key in draft.keys.items()},
        ))
    return figures


def _by_frequency(draft: _Draft, rows: list[Row], cells: list[list[Cell]]
                  ) -> tuple[list[Row], list[list[Cell]]]:
    """Data rows by their published value, largest first (ties in vocabulary order: the true
    order would say something), then zeros; totals last."""
    column = next(i for i, c in enumerate(draft.columns) if c.code == draft.sort_column)

    def rank(item: tuple[int, Row]) -> tuple[int, float, int]:
        position, row = item
        value = cells[position][column]
        if row.total:
            return (4, 0, position)
        number = float(value) if isinstance(value, int | float) else 0.0
        return (0, -number, position) if number > 0 else (3, 0, position)

    order = sorted(enumerate(rows), key=rank)
    return [row for _, row in order], [cells[i] for i, _ in order]
