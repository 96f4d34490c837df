"""Tests for the Zielsystem: the shipped file, validation of edited files, measured values."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from kimdesk.casework.context import Context
from kimdesk.models import CaseReview, MunicipalAgreement
from kimdesk.reference import DEFAULT_DIRECTORY, ReferenceDataError, load_reference
from kimdesk.stats.figures import statistics
from kimdesk.stats.scope import Period
from kimdesk.stats.zielsystem import (
    METRICS,
    Zielsystem,
    load_zielsysteme,
    measure,
    zielsystem_for,
)
from tests.stats.stats_builders import CaseSpec, populate

REF = load_reference()


def by_code(results: list, code: str):  # type: ignore[no-untyped-def]
    return next(m for m in results if m.indicator.code == code)


def test_shipped_zielsystem_covers_two_years() -> None:
    systems = load_zielsysteme(REF)
    assert systems, "resources/reference/zielsystem has no Zielsystem"
    system = systems[0]
    assert isinstance(system, Zielsystem)
    assert system.period.months == 24
    assert zielsystem_for(REF, "2026-06") == system
    assert zielsystem_for(REF, "2031-01") is None
    metrics = {i.metric for o in system.objectives for i in o.indicators}
    assert metrics <= {*METRICS, "manual"}


def _reference_with(tmp_path: Path, text: str, name: str = "2025-2026.toml") -> Path:
    directory = tmp_path / "reference"
    shutil.copytree(DEFAULT_DIRECTORY, directory)
    (directory / "zielsystem" / name).write_text(text, encoding="utf-8")
    return directory


GOOD = """
code = "z"
title = "Zielsystem"
start = "2025-01"
end = "2026-12"
[[goals]]
code = "g"
title = "Ziel"
[[goals.indicators]]
code = "i"
label = "Indikator"
metric = "{metric}"
target = {target}
"""


@pytest.mark.parametrize(("metric", "target", "message"), [
    ("cases_everywhere", "5", "unbekannte Messgröße „cases_everywhere“"),
    ("cases_new", "-1", "„target“ ist eine Zahl ≥ 0"),
    ("cases_new", '"viele"', "„target“ ist eine Zahl ≥ 0"),
])
def test_edited_files_are_checked(tmp_path: Path, metric: str, target: str,
                                  message: str) -> None:
    directory = _reference_with(tmp_path, GOOD.format(metric=metric, target=target))
    with pytest.raises(ReferenceDataError) as caught:
        load_zielsysteme(load_reference(directory))
    assert message in caught.value.message
    assert "2025-2026.toml" in caught.value.message


def test_overlapping_zielsysteme_are_refused(tmp_path: Path) -> None:
    directory = _reference_with(tmp_path, GOOD.format(metric="cases_new", target=5)
                                .replace('code = "z"', 'code = "y"'), "2026-2027.toml")
    with pytest.raises(ReferenceDataError, match="überschneiden sich"):
        load_zielsysteme(load_reference(directory))


def test_measured_values_beside_targets(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="case_management", opened=13, phase="evaluation",
                   goals=[("work", "full")]) for _ in range(8)],
        *[CaseSpec(kind="case_management", opened=13, goals=[("work", "none")])
          for _ in range(2)],
        *[CaseSpec(kind="short_intervention", opened=14) for _ in range(3)],
    ])
    with ctx.vault.writing() as session:
        session.add_all([MunicipalAgreement(municipality=m, signed_on=date(2025, 3, 1))
                         for m in ("kleve", "goch")])
        session.add_all([CaseReview(held_on=date(2026, 2, 1)) for _ in range(3)])
    system = zielsystem_for(REF, "2026-06")
    assert system is not None
    results = measure(ctx, system, "2026-06")
    new_cm = by_code(results, "zugang_cm_neu").value
    assert isinstance(new_cm, int) and abs(new_cm - 10) <= 4  # published with its noise
    assert by_code(results, "zugang_cm_neu").expected_to_date == 225.0  # 300 × 18 / 24
    assert by_code(results, "zugang_cm_neu").status == "unter Plan"
    assert by_code(results, "zugang_vereinbarungen").value == 2
    assert by_code(results, "struktur_fallbesprechungen").value == 3  # not about persons
    # 8 of 10 goals attained: the share is computed from the published counts.
    share = by_code(results, "wirkung_ziele").value
    assert isinstance(share, float) and 0 <= share <= 100
    assert by_code(results, "struktur_netzwerk").status == "nicht erhoben"
    assert all(m.measured_over == Period("2025-01", "2026-06") for m in results
               if m.indicator.metric != "manual")


def test_small_counts_are_never_shown_and_agree_with_the_figures(ctx: Context) -> None:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="case_management", opened=2) for _ in range(3)],
        *[CaseSpec(kind="process_support", opened=2) for _ in range(9)],
    ])
    system = zielsystem_for(REF, "2025-06")
    assert system is not None
    alone = measure(ctx, system, "2025-06")
    value = by_code(alone, "zugang_cm_neu").value
    assert value == 0 or (isinstance(value, int) and 5 <= value <= 7)  # 3, never 1–4
    stats = statistics(ctx, Period("2025-01", "2025-06"))
    # The same cases give the same published value, measured alone or with the figures.
    assert value == stats.figure("cases_by_kind").cell("case_management", "new")
    together = measure(ctx, system, "2025-06", stats)
    assert by_code(together, "zugang_cm_neu").value == value
    persons = by_code(together, "zugang_personen").value
    assert persons == stats.figure("overview").cell("persons", "value")
    assert isinstance(persons, int) and abs(persons - 12) <= 4


def test_before_the_period_nothing_is_measured(ctx: Context) -> None:
    system = load_zielsysteme(REF)[0]
    results = measure(ctx, system, "2024-12")
    assert {m.status for m in results} == {"noch nicht begonnen"}
