"""Tests for the Controlling figures: counting rules, purged cases, areas, and properties over
generated vaults (no small count shown, nothing recomputable, no personal data)."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimdesk.casework.context import Context
from kimdesk.models import Finding, PurgedCaseCount
from kimdesk.reference import load_reference
from kimdesk.stats import exports
from kimdesk.stats.figures import COUNT, Figure, Statistics, statistics
from kimdesk.stats.scope import Period, Scope, ScopeKind
from kimdesk.stats.suppression import PRIMARY, SECONDARY
from tests.stats.stats_builders import CaseSpec, clear, month_day, populate

REF = load_reference()
FIRST_HALF_2026 = Period("2026-01", "2026-06")


def shown(stats: Statistics, figure: str, row: str, column: str) -> object:
    return stats.figure(figure).cell(row, column)


def check_protected(stats: Statistics) -> None:
    """No count of 1–4 is shown, no relation has exactly one hidden member, and every
    quantity shown in several figures is shown (or hidden) alike."""
    by_key: dict[str, set[object]] = defaultdict(set)
    for figure in stats.figures:
        for row, column, value in figure.iter_cells():
            if figure.measure(row, column) == COUNT and not isinstance(value, str):
                assert not 0 < value < 5, (figure.code, row.code, column.code, value)
            if isinstance(value, str):
                assert value in (PRIMARY, SECONDARY)
        for total, parts in figure.relations:
            members = (total, *parts)
            hidden = [m for m in members if isinstance(figure.cells[m[0]][m[1]], str)]
            assert len(hidden) != 1, (figure.code, total, parts)
        for (r, c), key in figure.keys.items():
            by_key[key].add(figure.cells[r][c])
    for key, values in by_key.items():
        assert len(values) == 1, (key, values)


def test_counting_rules(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="process_support", opened=13) for _ in range(7)],
        *[CaseSpec(kind="case_management", opened=5, closed_after=10, phase="monitoring")
          for _ in range(6)],
        *[CaseSpec(kind="short_intervention", opened=0, closed_after=2) for _ in range(5)],
        *[CaseSpec(kind="short_intervention", opened=18) for _ in range(5)],
        *[CaseSpec(kind="case_management", opened=12, converted_from="process_support")
          for _ in range(6)],
    ])
    stats = statistics(ctx, FIRST_HALF_2026)
    kinds = stats.figure("cases_by_kind")
    assert kinds.cells[kinds.rows.index(next(r for r in kinds.rows if r.code ==
                                               "process_support"))] == (7, 7, 0, 0, 7)
    assert [kinds.cell("case_management", c) for c in
            ("active", "new", "carried", "closed", "open_at_end")] == [12, 6, 6, 6, 6]
    assert [kinds.cell("short_intervention", c) for c in ("active", "new")] == [0, 0]
    assert kinds.cell("total", "active") == 19
    phases = stats.figure("cm_by_phase")
    assert phases.cell("monitoring", "highest") == 6
    assert phases.cell("intake", "highest") == 6
    assert phases.cell("intake", "at_end") == 6
    assert phases.cell("total", "at_end") == 6
    assert shown(stats, "closed_by_reason", "goals_achieved", "case_management") == 6
    assert shown(stats, "overview", "persons", "value") == 19
    assert stats.period.label == "Januar 2026 bis Juni 2026"
    check_protected(stats)


def test_purged_cases_still_count(ctx: Context) -> None:
    purged = [PurgedCaseCount(opened_month="2026-01", closed_month="2026-03", team="nord",
                              municipality="kleve", kind="short_intervention",
                              closing_reason="moved_away", age_band="age_27_44",
                              gender="female", nationality_group="Polen", contacts=2,
                              contact_minutes=30, topics=["work"]) for _ in range(5)]
    partly = [PurgedCaseCount(opened_month="2025-10", closed_month="2026-02", team="nord",
                              municipality="kleve", kind="process_support", contacts=3,
                              contact_minutes=90) for _ in range(5)]
    populate(ctx.vault, REF, [CaseSpec(kind="process_support", opened=13, topics=["work"])
                              for _ in range(6)], purged=[*purged, *partly])
    stats = statistics(ctx, FIRST_HALF_2026)
    assert shown(stats, "cases_by_kind", "short_intervention", "closed") == 5
    assert shown(stats, "cases_by_kind", "process_support", "carried") == 5
    assert shown(stats, "closed_by_reason", "moved_away", "short_intervention") == 5
    assert shown(stats, "cases_by_nationality", "pl", "cases") == 11
    assert shown(stats, "cases_by_nationality", "not_stated", "cases") == 5
    assert shown(stats, "cases_by_age_gender", "age_27_44", "female") == 11
    assert shown(stats, "topics", "work", "cases") == 11
    assert shown(stats, "new_cases_by_access_route", "purged_unknown", "cases") == 5
    # 5 × 2 contacts of purged cases wholly inside the period; the partly inside one is noted.
    assert shown(stats, "contacts_by_kind", "purged_unknown", "total") == 10
    assert any("nur teilweise" in note for note in stats.notes)
    assert "gelöscht" in " ".join(stats.figure("cases_by_kind").notes)
    check_protected(stats)


def test_small_counts_are_hidden_everywhere_they_appear(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="case_management", opened=13, phase="planning") for _ in range(3)],
        *[CaseSpec(kind="process_support", opened=13, nationality="TR") for _ in range(10)],
    ])
    stats = statistics(ctx, FIRST_HALF_2026)
    assert shown(stats, "cases_by_kind", "case_management", "active") == PRIMARY
    assert shown(stats, "cases_by_kind", "process_support", "active") == SECONDARY
    assert shown(stats, "cases_by_kind", "total", "active") == 13
    # The 3 CM cases are the base of the phase table: hidden there too.
    assert shown(stats, "cm_by_phase", "total", "highest") == PRIMARY
    assert shown(stats, "cm_by_phase", "planning", "highest") == PRIMARY
    assert shown(stats, "cases_by_nationality", "pl", "cases") == PRIMARY
    check_protected(stats)


def test_areas(ctx: Context) -> None:
    findings = [Finding(noted_on=month_day(14), source="case", life_area="housing",
                        barrier="waiting_times", municipality=m)
                for m in ("kleve",) * 5 + ("goch",) * 6]
    populate(ctx.vault, REF, [
        *[CaseSpec(municipality="kleve", opened=13) for _ in range(6)],
        *[CaseSpec(municipality="kranenburg", opened=13, welcome=True) for _ in range(5)],
        *[CaseSpec(municipality="goch", opened=13) for _ in range(7)],
    ], findings=findings)
    county = statistics(ctx, FIRST_HALF_2026)
    assert shown(county, "cases_by_team", "welcome", "active") == 5
    assert shown(county, "findings", "total", "total") == 11
    assert {f.code for f in county.figures} >= {"caseload_teams", "caseload_providers",
                                                  "cases_by_team"}

    nord = statistics(ctx, FIRST_HALF_2026, Scope(ScopeKind.TEAM, "nord"))
    assert shown(nord, "overview", "cases_active", "value") == 6
    assert shown(nord, "findings", "total", "total") == 5
    assert [r.code for r in nord.figure("caseload_teams").rows] == ["nord"]
    assert "cases_by_team" not in {f.code for f in nord.figures}

    area = statistics(ctx, FIRST_HALF_2026, Scope(ScopeKind.PLANNING_AREA, "nord"))
    assert shown(area, "overview", "cases_active", "value") == 11  # incl. the Welcome-Center
    assert "caseload_teams" not in {f.code for f in area.figures}
    assert area.scope_label == "Planungsraum Nord"

    welcome = statistics(ctx, FIRST_HALF_2026, Scope(ScopeKind.TEAM, "welcome"))
    assert shown(welcome, "overview", "cases_active", "value") == 5
    assert "findings" not in {f.code for f in welcome.figures}

    goch = statistics(ctx, FIRST_HALF_2026, Scope(ScopeKind.MUNICIPALITY, "goch"))
    assert shown(goch, "overview", "cases_active", "value") == 7
    assert goch.scope_label == "Kommune Goch"
    for stats in (county, nord, area, welcome, goch):
        check_protected(stats)


def test_caseload_against_the_key(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="case_management", opened=13) for _ in range(20)],
        *[CaseSpec(kind="short_intervention", opened=13) for _ in range(10)],
    ])
    stats = statistics(ctx, FIRST_HALF_2026, Scope(ScopeKind.TEAM, "nord"))
    teams = stats.figure("caseload_teams")
    assert teams.cell("nord", "vza") == 2.5
    assert teams.cell("nord", "capacity") == 125
    assert teams.cell("nord", "weighted") == 35  # 20 × 1.5 + 10 × 0.5
    assert teams.cell("nord", "utilisation") == 28
    providers = stats.figure("caseload_providers")
    assert providers.cell("caritas_kleve", "vza") == 1.0
    assert providers.cell("caritas_kleve", "weighted") == 15  # 35 × 1.0 / 2.5 = 14 → 15


def test_codes_outside_the_vocabulary_do_not_leak_text(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(opened=13, access_route="Herr Müller vom Amt") for _ in range(5)],
        *[CaseSpec(opened=13, access_route="") for _ in range(5)],
        *[CaseSpec(opened=13, access_route="street_work") for _ in range(5)],
    ])
    stats = statistics(ctx, FIRST_HALF_2026)
    routes = stats.figure("new_cases_by_access_route")
    assert routes.cell("unknown_code", "cases") == 5
    assert routes.cell("not_stated", "cases") == 5
    assert routes.cell("street_work", "cases") == 5
    assert "Müller" not in exports.to_csv(stats).decode("utf-8-sig")


# --- properties over generated vaults ---------------------------------------------------------

MUNICIPALITIES = [m.code for m in REF.municipalities]


@st.composite
def specs(draw: st.DrawFn) -> CaseSpec:
    # Built by hand, not with st.builds: Hypothesis then prints the compact CaseSpec repr.
    return CaseSpec(
        kind=draw(st.sampled_from(REF.codes("case_kinds"))),
        municipality=draw(st.sampled_from(MUNICIPALITIES)),
        welcome=draw(st.booleans()),
        opened=draw(st.integers(0, 20)),
        closed_after=draw(st.none() | st.integers(0, 8)),
        reason=draw(st.sampled_from(REF.codes("closing_reasons"))),
        gender=draw(st.sampled_from(REF.codes("genders"))),
        age=draw(st.none() | st.integers(0, 80)),
        nationality=draw(st.sampled_from(["PL", "TR", "SY", "FR", "NG", None])),
        organisation=draw(st.booleans()),
        phase=draw(st.sampled_from(REF.codes("phases"))),
        topics=draw(st.lists(st.sampled_from(REF.codes("topics")[:5]), max_size=3)),
        contacts=draw(st.lists(st.tuples(st.integers(0, 23), st.sampled_from(["office", "phone"]),
                                         st.sampled_from([15, 45, 90]), st.booleans()),
                               max_size=4)),
        referrals=draw(st.lists(st.tuples(st.sampled_from(["jobcenter", "youth_office"]),
                                          st.sampled_from(["requested", "attended"])),
                                max_size=2)),
        goals=draw(st.lists(st.tuples(st.sampled_from(["work", "housing", ""]),
                                      st.sampled_from(["full", "none", ""])), max_size=2)),
        residence=draw(st.sampled_from([None, "duldung", "ae_24"])),
    )


purged_counts = st.builds(
    PurgedCaseCount,
    opened_month=st.sampled_from(["2025-03", "2025-11", "2026-02"]),
    closed_month=st.sampled_from(["2026-01", "2026-04", "2026-09"]),
    team=st.just("nord"), municipality=st.just("kleve"),
    kind=st.sampled_from(REF.codes("case_kinds")),
    highest_phase=st.sampled_from(["", "planning"]),
    closing_reason=st.sampled_from(["", "moved_away"]),
    gender=st.just("male"), nationality_group=st.sampled_from(["", "Polen", "Afrika"]),
    contacts=st.integers(0, 6), contact_minutes=st.integers(0, 300),
    topics=st.lists(st.sampled_from(["work", "housing"]), max_size=2),
)
NAME_PARTS = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cases=st.lists(specs(), max_size=25), purged=st.lists(purged_counts, max_size=6),
       start=st.integers(6, 14), months=st.integers(1, 12),
       scope=st.sampled_from([Scope.county(), Scope(ScopeKind.TEAM, "nord"),
                              Scope(ScopeKind.MUNICIPALITY, "kleve")]))
def test_generated_vaults_show_no_small_count_and_no_person(
        quiet_ctx: Any, cases: list[CaseSpec], purged: list[PurgedCaseCount], start: int,
        months: int, scope: Scope) -> None:
    ctx = quiet_ctx.ctx
    clear(ctx.vault)  # one vault per test, emptied for every example
    clients = populate(ctx.vault, REF, cases, purged=purged)
    first = month_day(start)
    last = month_day(start + months - 1)
    stats = statistics(ctx, Period(f"{first:%Y-%m}", f"{last:%Y-%m}"), scope)
    check_protected(stats)
    text = exports.to_csv(stats).decode("utf-8-sig")
    workbook = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(stats)))
    cells = " ".join(str(c) for sheet in workbook.worksheets
                     for row in sheet.iter_rows(values_only=True) for c in row
                     if c is not None)
    names = {part for c in clients for value in (c.first_name, c.last_name, c.address)
             for part in NAME_PARTS.findall(value) if len(part) > 3}
    for name in names:
        assert name not in text and name not in cells, name
    # Never a date finer than a month in the data.
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4}", text)
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        assert len(row) == len(exports.COLUMNS)


def test_every_figure_is_documented() -> None:
    """docs/statistics-columns.md names every table and column code an export can hold."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "statistics-columns.md").read_text()
    for code in exports.COLUMNS:
        assert f"`{code}`" in doc, code
    figures = ["overview", "cases_by_kind", "cases_by_team", "cases_by_municipality",
               "cm_by_phase", "closed_by_reason", "cases_by_age_gender",
               "cases_by_nationality", "cases_by_residence_group",
               "new_cases_by_access_route", "contacts_by_kind", "topics", "life_areas",
               "goal_attainment", "referrals", "findings", "caseload_teams",
               "caseload_providers", "zielsystem"]
    for code in figures:
        assert f"`{code}`" in doc, code


def test_figure_rows_and_columns_have_codes_and_labels(ctx: Context) -> None:
    populate(ctx.vault, REF, [CaseSpec(opened=13) for _ in range(5)])
    stats = statistics(ctx, FIRST_HALF_2026)
    code = re.compile(r"[a-z0-9][a-z0-9_-]*")
    for figure in stats.figures:
        assert isinstance(figure, Figure)
        assert code.fullmatch(figure.code) and figure.title
        for item in (*figure.rows, *figure.columns):
            assert code.fullmatch(item.code), item
            assert item.label
