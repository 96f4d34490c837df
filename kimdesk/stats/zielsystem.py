"""Zielsystem (concept section 6): goals for two years with indicators and target values,
agreed with the Lenkungsgruppe, and the measured value beside each.

Where it is stored: one TOML file per period in ``resources/reference/zielsystem/`` (beside the
other reference data, so the county edits it without a new release and an installation can
override it with ``KIMDESK_REFERENCE_DIR``). It is a decision of the Lenkungsgruppe, not case
data: it needs no encryption, no sync and no migration. The file format is explained in the
file itself; the indicators name a metric from :data:`METRICS`, or ``manual`` for values the
coordination enters by hand (e.g. results of a survey).
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.municipal import (
    municipalities_with_agreement,
    structural_minutes,
)
from kimdesk.models import CaseReview, ProjectGroup, SteeringDecision
from kimdesk.reference import Reference, ReferenceDataError
from kimdesk.stats.cellkey import Tally, perturb
from kimdesk.stats.figures import CaseData, Cell, Statistics, cases_tally, load, rounded_hours
from kimdesk.stats.scope import Period, Scope, ScopeKind, month_of, parse_month

HIDDEN = "."  # a share resting on fewer than SHARE_BASE published cases
SHARE_BASE = 5

DIRECTORY = "zielsystem"
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")

AT_LEAST = "at_least"
AT_MOST = "at_most"


@dataclass(frozen=True)
class Metric:
    """How an indicator is measured. ``personal``: a count of cases, persons or contacts,
    published with its cell key noise (shares: from the published counts).
    ``cumulative``: it grows over the period (the target is pro-rated for the
    expected value to date); otherwise it is a level or a share."""

    code: str
    label: str
    unit: str
    personal: bool
    cumulative: bool
    key: str | None = None  # the figure cell carrying the same quantity (same period and area)


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    metric: str
    target: float
    unit: str
    direction: str = AT_LEAST
    params: Mapping[str, Any] = field(default_factory=dict)
    measured: float | None = None  # only for metric "manual"
    measured_as_of: str = ""
    source: str = ""


@dataclass(frozen=True)
class Objective:
    """One Ziel of the Zielsystem with its indicators."""

    code: str
    title: str
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Zielsystem:
    code: str
    title: str
    period: Period
    adopted_on: date | None
    adopted_by: str
    objectives: tuple[Objective, ...]
    note: str = ""


@dataclass(frozen=True)
class Measurement:
    """An indicator with its measured value (shown form: a number, ``"<5"``, ``"."`` or None
    where nothing was measured) and how it stands against its target."""

    objective: Objective
    indicator: Indicator
    value: Cell
    expected_to_date: float | None
    status: str
    measured_over: Period | None


# --- metrics ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Value:
    number: float | Tally
    numerator: Tally | None = None  # for shares: what the share is made of
    denominator: Tally | None = None


_Measure = Callable[[Context, CaseData, Period, Mapping[str, Any]], _Value]


def _cases(data: CaseData, params: Mapping[str, Any], flag: str | None) -> list[Any]:
    kind = params.get("kind")
    reasons = params.get("reasons")
    return [c for c in data.cases
            if (flag is None or getattr(c, flag))
            and (kind is None or c.kind == kind)
            and (reasons is None or c.closing_reason in reasons)]


def _share(numerator: Tally, denominator: Tally) -> _Value:
    return _Value(0.0, numerator, denominator)


def _referral_success(_ctx: Context, data: CaseData, _p: Period, params: Mapping[str, Any]
                      ) -> _Value:
    outcomes = params.get("outcomes", ["attended", "granted"])
    good = sum((n for (_, outcome), n in data.referrals.items() if outcome in outcomes),
               Tally(0))
    return _share(good, sum(data.referrals.values(), Tally(0)))


def _goals_attained(_ctx: Context, data: CaseData, _p: Period, params: Mapping[str, Any]
                    ) -> _Value:
    attained = params.get("attainment", ["full", "partial"])
    assessed = {a: n for (_, a), n in data.goals_evaluated.items() if a != "not_assessable"}
    return _share(sum((n for a, n in assessed.items() if a in attained), Tally(0)),
                  sum(assessed.values(), Tally(0)))


def _closed_share(_ctx: Context, data: CaseData, _p: Period, params: Mapping[str, Any]
                  ) -> _Value:
    closed = _cases(data, {"kind": params.get("kind")}, "closed")
    reasons = params.get("reasons", ["goals_achieved", "goals_partly_achieved"])
    return _share(cases_tally(c for c in closed if c.closing_reason in reasons),
                  cases_tally(closed))


def _utilisation(ctx: Context, data: CaseData, _p: Period, params: Mapping[str, Any]) -> _Value:
    ref = ctx.reference
    teams = [t for t in ref.teams if data.scope.kind != ScopeKind.TEAM or t.code == data.scope.code]
    capacity = sum(t.vza for t in teams) * ref.rules.cases_per_vza
    # From the published open cases per Fallart, as in the caseload figure.
    weighted = sum(weight * perturb(cases_tally(c for c in data.cases
                                                if c.open_at_end and c.kind == kind))
                   for kind, weight in _kinds_and_weights(ref, data))
    rounded = 5 * round(weighted / 5)  # as in the caseload figure
    return _Value(round(100 * rounded / capacity) if capacity else 0)


def _kinds_and_weights(ref: Reference, data: CaseData) -> list[tuple[str, float]]:
    kinds = [t.code for t in ref.terms("case_kinds")]
    kinds += sorted({c.kind for c in data.cases} - set(kinds))
    return [(kind, ref.rules.caseload_weights.get(kind, 1.0)) for kind in kinds]


def _count_rows(model: Any, condition: Callable[[Period], Any]) -> _Measure:
    def measure(ctx: Context, _data: CaseData, period: Period, _params: Mapping[str, Any]
                ) -> _Value:
        with ctx.vault.reading() as session:
            count = session.scalar(select(func.count()).select_from(model)
                                   .where(condition(period))) or 0
        return _Value(count)
    return measure


def _agreements(ctx: Context, data: CaseData, period: Period, _params: Mapping[str, Any]
                ) -> _Value:
    """Kommunen of the scope with a kommunale Vereinbarung in force on the period's last day."""
    with ctx.vault.reading() as session:
        found = municipalities_with_agreement(session, period.last_day,
                                              data.scope.municipalities(ctx.reference))
    return _Value(len(found))


def _structural_hours(ctx: Context, data: CaseData, period: Period, _params: Mapping[str, Any]
                      ) -> _Value:
    """Hours of structural work (not cases) in the period: for a regional team, the work in
    its Kommunen or its Planungsraum."""
    scope, ref = data.scope, ctx.reference
    regional = scope.kind == ScopeKind.TEAM and not ref.team(scope.code).countywide
    with ctx.vault.reading() as session:
        minutes = structural_minutes(
            session, period.first_day, period.last_day,
            scope.municipalities(ref) if regional else None,
            (ref.team(scope.code).planning_area or "") if regional else "")
    return _Value(round(minutes / 60))


METRICS: Mapping[str, tuple[Metric, _Measure]] = MappingProxyType({
    "cases_active": (
        Metric("cases_active", "Im Zeitraum betreute Fälle", "Fälle", True, True, "cases|active"),
        lambda _c, d, _p, p: _Value(cases_tally(_cases(d, p, None)))),
    "cases_new": (
        Metric("cases_new", "Neu aufgenommene Fälle", "Fälle", True, True, "cases|new"),
        lambda _c, d, _p, p: _Value(cases_tally(_cases(d, p, "new")))),
    "cases_closed": (
        Metric("cases_closed", "Abgeschlossene Fälle", "Fälle", True, True, "cases|closed"),
        lambda _c, d, _p, p: _Value(cases_tally(_cases(d, p, "closed")))),
    "persons": (
        Metric("persons", "Betreute Ratsuchende", "Personen", True, True, "persons"),
        lambda _c, d, _p, _params: _Value(d.persons)),
    "contacts": (
        Metric("contacts", "Kontakte", "Kontakte", True, True, "contacts"),
        lambda _c, d, _p, _params: _Value(sum((n for n, _ in d.contacts.values()), Tally(0)))),
    "contact_hours": (
        Metric("contact_hours", "Beratungsstunden", "Stunden", False, True),
        lambda _c, d, _p, _params: _Value(rounded_hours(sum(m for _, m in d.contacts.values())))),
    "referrals": (
        Metric("referrals", "Vermittlungen", "Vermittlungen", True, True, "referrals"),
        lambda _c, d, _p, p: _Value(sum((n for (_, o), n in d.referrals.items()
                                         if "outcomes" not in p or o in p["outcomes"]),
                                        Tally(0)))),
    "referral_success_rate": (
        Metric("referral_success_rate", "Anteil erfolgreicher Vermittlungen", "%", True, False),
        _referral_success),
    "goals_attained_rate": (
        Metric("goals_attained_rate", "Anteil (teilweise) erreichter Ziele", "%", True, False),
        _goals_attained),
    "closed_goals_achieved_rate": (
        Metric("closed_goals_achieved_rate",
               "Anteil der Abschlüsse mit (teilweise) erreichten Zielen", "%", True, False),
        _closed_share),
    "caseload_utilisation": (
        Metric("caseload_utilisation", "Auslastung nach Fallzahlschlüssel am Ende", "%", False,
               False), _utilisation),
    "findings": (
        Metric("findings", "Dokumentierte Erkenntnisse (Versorgungslücken)", "Erkenntnisse",
               False, True),
        lambda _c, d, _p, _params: _Value(sum((d.findings or {}).values(), Tally(0)))),
    "case_reviews": (
        Metric("case_reviews", "Fallbesprechungen", "Fallbesprechungen", False, True),
        _count_rows(CaseReview, lambda p: CaseReview.held_on.between(p.first_day, p.last_day))),
    "steering_decisions": (
        Metric("steering_decisions", "Beschlüsse der Lenkungsgruppe", "Beschlüsse", False, True),
        _count_rows(SteeringDecision,
                    lambda p: SteeringDecision.decided_on.between(p.first_day, p.last_day))),
    "project_groups": (
        Metric("project_groups", "Aktive Projektgruppen", "Projektgruppen", False, False),
        _count_rows(ProjectGroup, lambda p: (ProjectGroup.started_on <= p.last_day)
                    & (ProjectGroup.ends_on.is_(None) | (ProjectGroup.ends_on >= p.first_day)))),
    "municipal_agreements": (
        Metric("municipal_agreements", "Kommunen mit gültiger kommunaler Vereinbarung",
               "Kommunen", False, False), _agreements),
    "structural_hours": (
        Metric("structural_hours", "Stunden strukturelle Arbeit (Gremien, Kommunen, Wohlfahrt, "
               "Prozessberatung)", "Stunden", False, True), _structural_hours),
})
MANUAL = Metric("manual", "von der Koordination erhoben", "", False, False)


def metric(code: str) -> Metric:
    return MANUAL if code == "manual" else METRICS[code][0]


# --- loading ----------------------------------------------------------------------------------


def load_zielsysteme(ref: Reference) -> list[Zielsystem]:
    """All Zielsysteme in the reference data, oldest first."""
    directory = Path(ref.directory) / DIRECTORY
    if not directory.is_dir():
        return []
    systems = [_read(path, ref) for path in sorted(directory.glob("*.toml"))]
    systems.sort(key=lambda z: z.period.start)
    for earlier, later in itertools.pairwise(systems):
        if later.period.start <= earlier.period.end:
            raise ReferenceDataError(
                f"Zielsysteme „{earlier.code}“ und „{later.code}“ überschneiden sich zeitlich.")
    return systems


def zielsystem_for(ref: Reference, month: str) -> Zielsystem | None:
    """The Zielsystem whose period contains ``month`` (YYYY-MM), if any."""
    for system in load_zielsysteme(ref):
        if system.period.contains_month(month):
            return system
    return None


def _fail(path: Path, problem: str) -> ReferenceDataError:
    return ReferenceDataError(f"Zielsystem fehlerhaft ({path.name}): {problem}")


def _read(path: Path, ref: Reference) -> Zielsystem:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _fail(path, f"nicht lesbar ({exc})") from None

    def text(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise _fail(path, f"{where}: „{key}“ fehlt oder ist kein Text")
        return value

    def code(table: Mapping[str, Any], where: str) -> str:
        value = text(table, "code", where)
        if not _CODE.fullmatch(value):
            raise _fail(path, f"{where}: Codes bestehen nur aus a–z, Ziffern, _ und -")
        return value

    try:
        period = Period.parse(text(data, "start", "Kopf"), text(data, "end", "Kopf"))
    except Exception as exc:
        raise _fail(path, f"Zeitraum: {getattr(exc, 'message', exc)}") from None
    adopted_on = data.get("adopted_on")
    if adopted_on is not None and type(adopted_on) is not date:
        raise _fail(path, "„adopted_on“ ist ein Datum (JJJJ-MM-TT)")
    objectives: list[Objective] = []
    codes: set[str] = set()
    goals = data.get("goals")
    if not isinstance(goals, list) or not goals:
        raise _fail(path, "es fehlen die Ziele ([[goals]])")
    for goal in goals:
        where = f"Ziel „{goal.get('code', '?')}“"
        goal_code = code(goal, where)
        indicators: list[Indicator] = []
        entries = goal.get("indicators")
        if not isinstance(entries, list) or not entries:
            raise _fail(path, f"{where}: es fehlen die Indikatoren ([[goals.indicators]])")
        for entry in entries:
            indicators.append(_indicator(path, entry, where, text, code, ref))
        for item in (goal_code, *(i.code for i in indicators)):
            if item in codes:
                raise _fail(path, f"Code „{item}“ kommt doppelt vor")
            codes.add(item)
        objectives.append(Objective(goal_code, text(goal, "title", where), tuple(indicators)))
    return Zielsystem(
        code=code(data, "Kopf"), title=text(data, "title", "Kopf"), period=period,
        adopted_on=adopted_on, adopted_by=text(data, "adopted_by", "Kopf", ""),
        objectives=tuple(objectives), note=text(data, "note", "Kopf", ""))


def _indicator(path: Path, entry: Mapping[str, Any], where: str,
               text: Callable[..., str], code: Callable[..., str], ref: Reference) -> Indicator:
    where = f"{where}, Indikator „{entry.get('code', '?')}“"
    metric_code = text(entry, "metric", where)
    if metric_code != "manual" and metric_code not in METRICS:
        raise _fail(path, f"{where}: unbekannte Messgröße „{metric_code}“ "
                          f"(möglich: manual, {', '.join(METRICS)})")
    target = entry.get("target")
    if isinstance(target, bool) or not isinstance(target, int | float) or target < 0:
        raise _fail(path, f"{where}: „target“ ist eine Zahl ≥ 0")
    direction = entry.get("direction", AT_LEAST)
    if direction not in (AT_LEAST, AT_MOST):
        raise _fail(path, f"{where}: „direction“ ist „at_least“ oder „at_most“")
    params: dict[str, Any] = {}
    if "kind" in entry:
        if entry["kind"] not in ref.codes("case_kinds"):
            raise _fail(path, f"{where}: unbekannte Fallart „{entry['kind']}“")
        params["kind"] = entry["kind"]
    for key, vocabulary in (("outcomes", "referral_outcomes"), ("reasons", "closing_reasons"),
                            ("attainment", "goal_attainment")):
        if key in entry:
            values = entry[key]
            if not isinstance(values, list) or not all(
                    v in ref.codes(vocabulary) for v in values):
                raise _fail(path, f"{where}: „{key}“ ist eine Liste von Codes aus {vocabulary}")
            params[key] = tuple(values)
    if "team" in entry:
        if entry["team"] not in {t.code for t in ref.teams}:
            raise _fail(path, f"{where}: unbekanntes Team „{entry['team']}“")
        params["team"] = entry["team"]
    measured = entry.get("measured")
    if metric_code == "manual":
        if measured is not None and (isinstance(measured, bool)
                                     or not isinstance(measured, int | float)):
            raise _fail(path, f"{where}: „measured“ ist eine Zahl")
    elif measured is not None:
        raise _fail(path, f"{where}: „measured“ gibt es nur bei metric = \"manual\"")
    as_of = text(entry, "measured_as_of", where, "")
    if as_of:
        try:
            as_of = parse_month(as_of)
        except Exception:
            raise _fail(path, f"{where}: „measured_as_of“ ist ein Monat (JJJJ-MM)") from None
    default_unit = "" if metric_code == "manual" else METRICS[metric_code][0].unit
    return Indicator(
        code=code(entry, where), label=text(entry, "label", where), metric=metric_code,
        target=float(target), unit=text(entry, "unit", where, default_unit),
        direction=direction, params=MappingProxyType(params),
        measured=float(measured) if measured is not None else None, measured_as_of=as_of,
        source=text(entry, "source", where, ""))


# --- measuring --------------------------------------------------------------------------------


def measure(ctx: Context, system: Zielsystem, until: str | None = None,
            statistics: Statistics | None = None, data: CaseData | None = None
            ) -> list[Measurement]:
    """Measured values of every indicator over the Zielsystem's period up to ``until``
    (YYYY-MM; default: the current month), protected like the figures.

    Where ``statistics`` covers exactly the measured period and area, an indicator that is one
    of its figures takes the value shown there, so that the two never disagree about what is
    hidden. ``data`` (the raw data of those statistics) is reused when it covers the measured
    period and area, instead of reading the vault again.
    """
    until = min(until or month_of(ctx.today()), system.period.end)
    if until < system.period.start:
        return [Measurement(o, i, None, None, "noch nicht begonnen", None)
                for o in system.objectives for i in o.indicators]
    period = Period(system.period.start, until)
    elapsed = period.months / system.period.months
    cache: dict[Scope, CaseData] = {}
    if data is not None and data.period == period:
        cache[data.scope] = data
    results: list[Measurement] = []
    for objective in system.objectives:
        for indicator in objective.indicators:
            info = metric(indicator.metric)
            if indicator.metric == "manual":
                value: Cell = indicator.measured
                over = None
            else:
                team = indicator.params.get("team")
                scope = Scope(ScopeKind.TEAM, team) if team else Scope.county()
                if scope not in cache:
                    cache[scope] = load(ctx, period, scope)
                value = _from_statistics(statistics, period, scope, info, indicator)
                if value is None:
                    raw = METRICS[indicator.metric][1](ctx, cache[scope], period,
                                                       indicator.params)
                    value = _shown(info, raw)
                over = period
            expected = (round(indicator.target * elapsed, 1) if info.cumulative
                        else indicator.target)
            results.append(Measurement(objective, indicator, value, expected,
                                       _status(indicator, value, expected), over))
    return results


def _from_statistics(statistics: Statistics | None, period: Period, scope: Scope,
                     info: Metric, indicator: Indicator) -> Cell:
    if statistics is None or info.key is None or statistics.period != period:
        return None
    if statistics.scope != scope:
        return None
    key = info.key
    kind = indicator.params.get("kind")
    if kind is not None:
        if info.key not in ("cases|active", "cases|new", "cases|closed"):
            return None
        key = f"{info.key}|kind={kind}"
    if set(indicator.params) - {"kind"}:
        return None
    for figure in statistics.figures:
        for position, cell_key in figure.keys.items():
            if cell_key == key:
                return figure.cells[position[0]][position[1]]
    return None


def _shown(info: Metric, raw: _Value) -> Cell:
    if isinstance(raw.number, Tally):
        return perturb(raw.number)  # the same records give the same value as in the figures
    if raw.denominator is None:
        return raw.number
    # A share is computed from the published counts; on fewer than 5 it says nothing.
    numerator, denominator = perturb(raw.numerator or Tally(0)), perturb(raw.denominator)
    if denominator < SHARE_BASE:
        return HIDDEN
    return min(100.0, round(100 * numerator / denominator, 1))


def _status(indicator: Indicator, value: Cell, expected: float | None) -> str:
    if value is None:
        return "nicht erhoben"
    if isinstance(value, str):
        return "nicht ausweisbar (kleine Zahl)"
    met = value >= indicator.target if indicator.direction == AT_LEAST else (
        value <= indicator.target)
    if met:
        return "erreicht" if indicator.direction == AT_LEAST else "eingehalten"
    if indicator.direction == AT_MOST:
        return "überschritten"
    if expected is not None and value >= expected:
        return "im Plan"
    return "unter Plan"

