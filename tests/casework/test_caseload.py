"""Fallzahlschlüssel: open cases weighted per kind (rules.toml) against 50 cases per VZÄ."""

from __future__ import annotations

import dataclasses

import pytest

from kimdesk.casework.caseload import caseload, compute, open_cases_of, team_caseload
from kimdesk.casework.cases import close_case
from kimdesk.casework.context import Context
from kimdesk.models import Case
from kimdesk.models.enums import CaseStatus
from tests.factories import CM, SHORT, SUPPORT, make_case, make_person


def test_weights_per_kind_come_from_the_rules(ctx: Context) -> None:
    assert dict(ctx.reference.rules.caseload_weights) == {SHORT: 0.5, SUPPORT: 1.0, CM: 1.5}
    assert ctx.reference.rules.cases_per_vza == 50


@pytest.mark.parametrize(("counts", "weighted"), [
    ({SHORT: 4}, 2.0),
    ({SUPPORT: 4}, 4.0),
    ({CM: 4}, 6.0),
    ({SHORT: 10, SUPPORT: 20, CM: 20}, 55.0),
    ({}, 0.0),
])
def test_weighted_count(ctx: Context, counts: dict[str, int], weighted: float) -> None:
    load = compute(ctx, counts, fte=1.0)

    assert load.weighted == weighted
    assert load.capacity == 50
    assert load.ratio == pytest.approx(weighted / 50)


def test_capacity_is_fte_times_fifty(ctx: Context) -> None:
    half = compute(ctx, {SUPPORT: 25}, fte=0.5)

    assert half.capacity == 25
    assert half.ratio == 1.0  # exactly at the Fallzahlschlüssel
    assert compute(ctx, {CM: 40}, fte=1.0).ratio == pytest.approx(1.2)  # over capacity
    assert compute(ctx, {CM: 1}, fte=0.0).ratio == 0.0


def test_caseload_of_a_case_manager_counts_her_open_cases(ctx: Context) -> None:
    for kind in (SHORT, SHORT, SUPPORT, CM, CM):
        make_case(ctx, make_person(ctx, consent=True), kind)
    closed = make_case(ctx, make_person(ctx, consent=True), CM)
    close_case(ctx, closed.id, "moved_away")
    colleague = dataclasses.replace(ctx, user="Jonas Wagner")
    make_case(colleague, make_person(colleague), SUPPORT)

    load = caseload(ctx, fte=0.8, case_manager="Anna Becker")

    assert load.open_cases == {SHORT: 2, SUPPORT: 1, CM: 2}
    assert load.weighted == 5.0  # 2 × 0.5 + 1 × 1.0 + 2 × 1.5
    assert load.capacity == 40
    assert load.ratio == pytest.approx(0.125)


def test_team_caseload_uses_the_teams_vza(ctx: Context) -> None:
    make_case(ctx, make_person(ctx, municipality="kleve"), SUPPORT)
    make_case(ctx, make_person(ctx, municipality="kranenburg"), SHORT)
    make_case(ctx, make_person(ctx, municipality="goch"), SUPPORT)  # Team Mitte

    nord = team_caseload(ctx, "nord")
    mitte = team_caseload(ctx, "mitte")

    assert (nord.fte, nord.capacity, nord.weighted) == (2.5, 125, 1.5)
    assert (mitte.fte, mitte.capacity, mitte.weighted) == (3.0, 150, 1.0)


def test_open_cases_of_lists_only_the_own_open_cases_by_name(ctx: Context) -> None:
    zofia = make_person(ctx, first_name="Zofia", last_name="Wiśniewska", consent=True)
    ahmad = make_person(ctx, first_name="Ahmad", last_name="Haidari", consent=True)
    own = make_case(ctx, zofia, CM)
    other = make_case(ctx, ahmad, CM)
    closed = make_case(ctx, ahmad)
    with ctx.vault.writing() as session:
        session.get(Case, other.id).case_manager = "Mehmet Yılmaz"
        session.get(Case, closed.id).status = CaseStatus.CLOSED.value

    listed = open_cases_of(ctx, ctx.user)

    assert [(c.id, c.client_name, c.kind) for c in listed] == [
        (own.id, "Wiśniewska, Zofia", CM)]
