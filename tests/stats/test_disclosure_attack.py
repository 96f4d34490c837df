"""The attacker of issue 12 against the published statistics (see tests/stats/attacker.py):
it must recover no true count of 1–4 from one export, nor by differencing two exports of
overlapping periods or areas, over 220 random small vaults of every scope and period shape.

``old-method-export.csv`` is a CSV export made with the small-cell suppression KIMdesk used
before the cell key method (9 cases, January to June 2026, the whole Kreis); it is kept as the
documented demonstration that suppression checked relation by relation leaks.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimdesk.stats import cellkey, exports
from kimdesk.stats.figures import build, unprotected_counts
from kimdesk.stats.scope import Period, Scope, ScopeKind, add_months
from tests.stats import attacker
from tests.stats.microdata import REF, MicroCase, case_data, vaults

OLD_EXPORT = Path(__file__).parents[1] / "data" / "stats" / "old-method-export.csv"


def test_the_attacker_recovers_hidden_cells_of_the_old_suppression() -> None:
    cells = attacker.read_csv(OLD_EXPORT.read_bytes())
    hidden = [key for key, value in cells.items() if value in ("<5", ".")]
    assert len(hidden) > 40
    found = {d.what: d.value for d in attacker.attack(cells, attacker.suppression_reading)}
    # Each row and column was checked alone; their interplay gives away, for example, the one
    # case of team Nord closed in the period and the one of the Welcome-Center still open.
    assert found["cases_by_team/nord/closed"] == 1
    assert found["cases_by_team/welcome/open_at_end"] == 1
    assert found["cases_by_municipality/kleve/active"] == 2
    assert len(found) >= 30


# --- the cell key method against the same attacker ----------------------------------------------

READING = attacker.perturbation_reading(cellkey.possible_sources())
CREATED = date(2027, 1, 15)


def _export(cases: list[MicroCase], period: Period, scope: Scope
            ) -> tuple[dict[attacker.Key, str], dict[attacker.Key, int]]:
    """The CSV a user would receive, read back, and the true counts behind it."""
    data = case_data(cases, period, scope)
    content = exports.to_csv(build(data, REF, CREATED))
    return attacker.read_csv(content), unprotected_counts(data, REF)


def _nine_cases() -> list[MicroCase]:
    """The 9 cases behind the old export."""
    return [MicroCase(
        id=f"{i:032x}", client=f"{100 + i:032x}", kind=kind, team=team, municipality=kommune,
        opened=opened, closed=closed, gender="male", age_band="age_27_44",
        nationality_group="pl", residence_group="ungeklaert", access_route="self_referral",
        closing_reason="goals_achieved", phase="intake", topics=())
        for i, (kind, team, kommune, opened, closed) in enumerate([
            ("process_support", "nord", "kleve", "2025-11", "2025-12"),
            ("counselling", "nord", "kleve", "2025-11", "2026-01"),
            ("counselling", "sued", "geldern", "2025-09", None),
            ("case_management", "sued", "geldern", "2026-05", None),
            ("process_support", "welcome", "kleve", "2025-11", None),
            ("case_management", "sued", "geldern", "2026-02", "2026-05"),
            ("case_management", "ost", "goch", "2026-03", "2026-05"),
            ("case_management", "sued", "geldern", "2026-02", "2026-04"),
            ("counselling", "mitte", "kevelaer", "2026-04", None)])]


def test_the_attacker_catches_a_table_without_noise_on_large_counts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not vacuous: were counts of 5 and more published exactly (only 1–4 turned into 0 or
    5), totals would give small counts away, and the attacker finds them."""
    weak = {n: ((0, cellkey.KEY_RANGE - 1, 0),) for n in range(cellkey.TOP + 1)}
    for n in range(1, cellkey.SMALL + 1):
        weak[n] = ((0, 2047, -n), (2048, cellkey.KEY_RANGE - 1, 5 - n))
    monkeypatch.setattr(cellkey, "ptable", lambda: weak)
    reading = attacker.perturbation_reading(cellkey.possible_sources())
    kinds = ["case_management"] * 2 + ["short_intervention"] * 6 + ["process_support"] * 10
    cases = [dataclasses.replace(_nine_cases()[0], id=f"{i:032x}", closed=None, kind=kind)
             for i, kind in enumerate(kinds)]
    cells, truth = _export(cases, Period("2026-01", "2026-06"), Scope.county())
    found = {d.what: d.value for d in attacker.attack(cells, reading, truth)}
    assert found["cases_by_kind/case_management/active"] == 2  # 18 in all, 6 + 10 the others


def test_the_same_small_vault_under_the_cell_key_method() -> None:
    """The 9 cases of the old export, published with the cell key method: nothing pinned."""
    rows = list(csv.DictReader(io.StringIO(OLD_EXPORT.read_text(encoding="utf-8-sig")),
                               delimiter=";"))
    assert rows  # (the demonstration above uses this export)
    cases = _nine_cases()
    cells, truth = _export(cases, Period("2026-01", "2026-06"), Scope.county())
    assert sum(1 for v in truth.values() if 1 <= v <= 4) > 40
    assert attacker.attack(cells, READING, truth) == []


@settings(max_examples=160, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(vault=vaults())
def test_no_exact_recovery_from_one_export(
        vault: tuple[list[MicroCase], Period, Scope]) -> None:
    cells, truth = _export(*vault)
    assert attacker.attack(cells, READING, truth) == []


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(vault=vaults(), more=st.integers(1, 3), area=st.booleans())
def test_no_exact_recovery_by_differencing_overlapping_exports(
        vault: tuple[list[MicroCase], Period, Scope], more: int, area: bool) -> None:
    cases, period, _scope = vault
    planning_area = REF.team_for_municipality(cases[0].municipality).code
    if area:
        # Team Nord and Planungsraum Nord: the same Kommunen, plus the Welcome-Center's cases.
        first = _export(cases, period, Scope(ScopeKind.TEAM, planning_area))
        second = _export(cases, period, Scope(ScopeKind.PLANNING_AREA, planning_area))
        mode = "area"
    else:
        # The same start month, the second export running ``more`` months longer.
        first = _export(cases, period, Scope.county())
        second = _export(cases, Period(period.start, add_months(period.end, more)),
                         Scope.county())
        mode = "period"
    found = attacker.attack_difference(first[0], second[0], READING, first[1], second[1],
                                       mode=mode)
    assert found == []
