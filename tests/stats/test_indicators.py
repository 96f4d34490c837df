"""Indicators of a Lenkungsgruppe decision (issue 15): month by month before and after it,
counted as the statistics count (cell key method), withheld below the minimum base."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.stats import indicators
from kimdesk.stats.cellkey import MAX_NOISE
from kimdesk.vault import Vault
from tests.factories import TODAY
from tests.stats.stats_builders import referrals_with_outcomes as _referrals

DECIDED_ON = date(2026, 5, 12)  # the Lenkungsgruppe's decision; TODAY is 25.11.2026


def _month(year: int, month: int, day: int) -> date:
    return date(year, month, day)


def test_waiting_for_the_integration_course_halves_after_the_decision(
        ctx: Context, vault: Vault) -> None:
    rng = random.Random(5)
    rows = []
    for month in (2, 3, 4):  # before: about 90 days from referral to the course
        for _ in range(12):
            start = _month(2026, month, rng.randint(1, 28))
            rows.append((start - timedelta(days=rng.choice((85, 90, 95))), start, "attended"))
    for month in (6, 7, 8):  # after: about 40 days
        for _ in range(12):
            start = _month(2026, month, rng.randint(1, 28))
            rows.append((start - timedelta(days=rng.choice((35, 40, 45))), start, "attended"))
    # Still waiting or refused: not a waiting time
    rows += [(_month(2026, 7, 1), _month(2026, 7, 20), "waiting_list")] * 5
    _referrals(vault, "integration_course_provider", rows)

    series = indicators.indicator_series(ctx, "integration_course_wait", DECIDED_ON, 3)

    assert series.label == "Wartezeit auf den Integrationskurs (Median)"
    assert series.decided_month == "2026-05"
    assert [p.month for p in series.points] == [
        "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    assert series.before.value == 90
    assert series.after.value == 40
    assert series.point("2026-03").value in (85, 90, 95)  # type: ignore[union-attr]
    assert series.point("2026-05").value is None  # no course started that month
    assert indicators.format_value(series, series.after) == "40 Tage"


def test_a_share_is_the_ratio_of_protected_counts_and_moves_with_the_referrals(
        ctx: Context, vault: Vault) -> None:
    rows = []
    for month, succeeded in ((3, 4), (4, 5), (6, 15), (7, 16)):
        for n in range(20):
            outcome = "attended" if n < succeeded else "rejected"
            rows.append((_month(2026, month, 1), _month(2026, month, 10 + n % 10), outcome))
    _referrals(vault, "jobcenter", rows)
    _referrals(vault, "immigration_office", [(_month(2026, 6, 1), _month(2026, 6, 5),
                                              "rejected")] * 30)

    jobcenter, everything = indicators.indicator_table(
        ctx, ["jobcenter_referral_success", "referral_success"], DECIDED_ON, 2)

    # 9 of 40 before, 31 of 40 after; each count moves by at most MAX_NOISE.
    assert jobcenter.before.value is not None and jobcenter.after.value is not None
    assert abs(jobcenter.before.value - 100 * 9 / 40) <= 100 * 2 * MAX_NOISE / 36
    assert abs(jobcenter.after.value - 100 * 31 / 40) <= 100 * 2 * MAX_NOISE / 36
    assert abs(jobcenter.before.base - 40) <= MAX_NOISE
    # The Ausländerbehörde's refusals count only in the overall share.
    assert everything.after.value is not None and everything.after.value < jobcenter.after.value
    # The same records always give the same published value.
    again = indicators.indicator_series(ctx, "jobcenter_referral_success", DECIDED_ON, 2)
    assert again == jobcenter


def test_a_month_with_fewer_referrals_than_the_minimum_base_is_withheld(
        ctx: Context, vault: Vault) -> None:
    few = indicators.MIN_BASE - 1
    _referrals(vault, "jobcenter",
               [(_month(2026, 4, 1), _month(2026, 4, 8), "granted")] * few
               + [(_month(2026, 6, 1), _month(2026, 6, 8), "granted")] * 25)

    series = indicators.indicator_series(ctx, "jobcenter_referral_success", DECIDED_ON, 1)

    assert series.point("2026-04").value is None  # type: ignore[union-attr]
    assert series.before.value is None
    assert indicators.format_value(series, series.before) == "–"
    assert series.point("2026-06").value == 100  # type: ignore[union-attr]


def test_new_cases_per_month_are_published_counts(ctx: Context, vault: Vault) -> None:
    _referrals(vault, "jobcenter", [(_month(2026, 3, 3), _month(2026, 3, 9), "requested")] * 23)

    series = indicators.indicator_series(ctx, "new_cases", DECIDED_ON, 3)

    march = series.point("2026-03")
    assert march is not None and march.value is not None
    assert abs(march.value - 23) <= MAX_NOISE
    assert series.point("2026-02").value == 0  # type: ignore[union-attr]
    assert series.before.value == pytest.approx(march.value / 3, abs=0.05)


def test_the_series_stops_at_this_month(ctx: Context) -> None:
    series = indicators.indicator_series(ctx, "referral_success", date(2026, 10, 2), 6)

    assert series.points[-1].month == f"{TODAY:%Y-%m}"
    assert series.points[0].month == "2026-04"


def test_the_vocabulary_names_exactly_the_indicators_computed(ctx: Context) -> None:
    assert tuple(ctx.reference.codes("decision_indicators")) == indicators.codes()


def test_bad_requests_are_refused_in_german(ctx: Context) -> None:
    with pytest.raises(ValidationError, match="Unbekannter Indikator"):
        indicators.indicator_table(ctx, ["waiting_time"], DECIDED_ON)
    with pytest.raises(ValidationError, match="Zeitfenster"):
        indicators.indicator_table(ctx, ["new_cases"], DECIDED_ON, 0)
