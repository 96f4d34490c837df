"""Tests for the Controlling figures: counting rules (on the true counts), purged cases, areas,
and properties over generated vaults (every count published by the cell key method within its
documented noise, never 1–4, the same quantity alike everywhere, no personal data)."""

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
from kimdesk.stats.cellkey import MAX_NOISE, SMALL
from kimdesk.stats.figures import COUNT, Figure, Statistics, load, statistics, unprotected_counts
from kimdesk.stats.scope import Period, Scope, ScopeKind
from tests.stats.stats_builders import CaseSpec, clear, month_day, populate

REF = load_reference()
FIRST_HALF_2026 = Period("2026-01", "2026-06")


Truth = dict[tuple[str, str, str], int]


def computed(ctx: Context, period: Period, scope: Scope | None = None
             ) -> tuple[Statistics, Truth]:
    """The published statistics and the true counts behind them (checked against each other)."""
    scope = scope or Scope.county()
    stats = statistics(ctx, period, scope)
    truth = unprotected_counts(load(ctx, period, scope), REF)
    check_protected(stats, truth)
    return stats, truth


def shown(truth: Truth, figure: str, row: str, column: str) -> int:
    """The true count of a cell (the counting rules are about these)."""
    return truth[(figure, row, column)]


def check_protected(stats: Statistics, truth: Truth) -> None:
    """Every count is published within the documented noise and never as 1–4, a true zero
    stays zero, and every quantity shown in several figures is shown alike."""
    by_key: dict[str, set[object]] = defaultdict(set)
    for figure in stats.figures:
        for row, column, value in figure.iter_cells():
            if figure.measure(row, column) == COUNT:
                true = truth[(figure.code, row.code, column.code)]
                assert isinstance(value, int), (figure.code, row.code, column.code, value)
                assert not 1 <= value <= SMALL, (figure.code, row.code, column.code, value)
                assert abs(value - true) <= MAX_NOISE, (figure.code, row.code, column.code)
                assert true != 0 or value == 0
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
    stats, truth = computed(ctx, FIRST_HALF_2026)
    status = ("active", "new", "carried", "closed", "open_at_end")
    assert [shown(truth, "cases_by_kind", "process_support", c) for c in status] == [
        7, 7, 0, 0, 7]
    assert [shown(truth, "cases_by_kind", "case_management", c) for c in status] == [
        12, 6, 6, 6, 6]
    assert [shown(truth, "cases_by_kind", "short_intervention", c)
            for c in ("active", "new")] == [0, 0]
    assert shown(truth, "cases_by_kind", "total", "active") == 19
    assert shown(truth, "cm_by_phase", "monitoring", "highest") == 6
    assert shown(truth, "cm_by_phase", "intake", "highest") == 6
    assert shown(truth, "cm_by_phase", "intake", "at_end") == 6
    assert shown(truth, "cm_by_phase", "total", "at_end") == 6
    assert shown(truth, "closed_by_reason", "goals_achieved", "case_management") == 6
    assert shown(truth, "overview", "persons", "value") == 19
    assert stats.period.label == "Januar 2026 bis Juni 2026"
    # A true zero is published as zero.
    assert stats.figure("cases_by_kind").cell("short_intervention", "active") == 0


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
    stats, truth = computed(ctx, FIRST_HALF_2026)
    assert shown(truth, "cases_by_kind", "short_intervention", "closed") == 5
    assert shown(truth, "cases_by_kind", "process_support", "carried") == 5
    assert shown(truth, "closed_by_reason", "moved_away", "short_intervention") == 5
    assert shown(truth, "cases_by_nationality", "pl", "cases") == 11
    assert shown(truth, "cases_by_nationality", "not_stated", "cases") == 5
    assert shown(truth, "cases_by_age_gender", "age_27_44", "female") == 11
    assert shown(truth, "topics", "work", "cases") == 11
    assert shown(truth, "new_cases_by_access_route", "purged_unknown", "cases") == 5
    # 5 × 2 contacts of purged cases wholly inside the period; the partly inside one is noted.
    assert shown(truth, "contacts_by_kind", "purged_unknown", "total") == 10
    assert any("nur teilweise" in note for note in stats.notes)
    assert "gelöscht" in " ".join(stats.figure("cases_by_kind").notes)


def test_small_counts_are_published_alike_everywhere_they_appear(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="case_management", opened=13, phase="planning") for _ in range(3)],
        *[CaseSpec(kind="process_support", opened=13, nationality="TR") for _ in range(10)],
    ])
    stats, truth = computed(ctx, FIRST_HALF_2026)
    assert shown(truth, "cases_by_kind", "case_management", "active") == 3
    cm = stats.figure("cases_by_kind").cell("case_management", "active")
    assert cm == 0 or cm >= 5
    # The same 3 CM cases are the base of the phase table and all of phase "planning":
    # same records, same published value.
    assert stats.figure("cm_by_phase").cell("total", "highest") == cm
    assert stats.figure("cm_by_phase").cell("planning", "highest") == cm
    assert stats.figure("overview").cell("cases_active", "value") == stats.figure(
        "cases_by_nationality").cell("total", "cases")
    # Computing again gives the same published values (consistent noise).
    assert statistics(ctx, FIRST_HALF_2026).figures == stats.figures


def test_areas(ctx: Context) -> None:
    findings = [Finding(noted_on=month_day(14), source="case", life_area="housing",
                        barrier="waiting_times", municipality=m)
                for m in ("kleve",) * 5 + ("goch",) * 6]
    populate(ctx.vault, REF, [
        *[CaseSpec(municipality="kleve", opened=13) for _ in range(6)],
        *[CaseSpec(municipality="kranenburg", opened=13, welcome=True) for _ in range(5)],
        *[CaseSpec(municipality="goch", opened=13) for _ in range(7)],
    ], findings=findings)
    county, truth = computed(ctx, FIRST_HALF_2026)
    assert shown(truth, "cases_by_team", "welcome", "active") == 5
    assert shown(truth, "findings", "total", "total") == 11
    assert {f.code for f in county.figures} >= {"caseload_teams", "caseload_providers",
                                                  "cases_by_team"}

    nord, truth = computed(ctx, FIRST_HALF_2026, Scope(ScopeKind.TEAM, "nord"))
    assert shown(truth, "overview", "cases_active", "value") == 6
    assert shown(truth, "findings", "total", "total") == 5
    assert [r.code for r in nord.figure("caseload_teams").rows] == ["nord"]
    assert "cases_by_team" not in {f.code for f in nord.figures}

    area, truth = computed(ctx, FIRST_HALF_2026, Scope(ScopeKind.PLANNING_AREA, "nord"))
    assert shown(truth, "overview", "cases_active", "value") == 11  # incl. the Welcome-Center
    assert "caseload_teams" not in {f.code for f in area.figures}
    assert area.scope_label == "Planungsraum Nord"

    welcome, truth = computed(ctx, FIRST_HALF_2026, Scope(ScopeKind.TEAM, "welcome"))
    assert shown(truth, "overview", "cases_active", "value") == 5
    assert "findings" not in {f.code for f in welcome.figures}

    goch, truth = computed(ctx, FIRST_HALF_2026, Scope(ScopeKind.MUNICIPALITY, "goch"))
    assert shown(truth, "overview", "cases_active", "value") == 7
    assert goch.scope_label == "Kommune Goch"


def test_caseload_against_the_key(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="case_management", opened=13) for _ in range(20)],
        *[CaseSpec(kind="short_intervention", opened=13) for _ in range(10)],
    ])
    stats = statistics(ctx, FIRST_HALF_2026, Scope(ScopeKind.TEAM, "nord"))
    teams = stats.figure("caseload_teams")
    assert teams.cell("nord", "vza") == 2.5
    assert teams.cell("nord", "capacity") == 125
    # 20 × 1.5 + 10 × 0.5 = 35, from the published counts (each within ±4), rounded to 5.
    weighted = teams.cell("nord", "weighted")
    assert isinstance(weighted, int) and weighted % 5 == 0 and abs(weighted - 35) <= 10
    assert teams.cell("nord", "utilisation") == round(100 * weighted / 125)
    providers = stats.figure("caseload_providers")
    assert providers.cell("caritas_kleve", "vza") == 1.0
    # The Träger's share (1.0 of the team's 2.5 VZÄ) of the weighted cases before rounding,
    # which come from the published counts, rounded to 5.
    published = (1.5 * teams.cell("nord", "case_management")
                 + 0.5 * teams.cell("nord", "short_intervention"))
    assert weighted == 5 * round(published / 5)
    assert providers.cell("caritas_kleve", "weighted") == 5 * round(published / 2.5 / 5)


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
    stats, _truth = computed(ctx, Period(f"{first:%Y-%m}", f"{last:%Y-%m}"), scope)
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
