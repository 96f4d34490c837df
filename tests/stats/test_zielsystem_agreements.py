"""The Zielsystem's "Kommunen mit Vereinbarung" counts the kommunale Vereinbarungen entered
through the use case: Kommunen (not agreements) with one in force at the end of the measured
period, only signed ones, within the indicator's team when it names one. "Stunden strukturelle
Arbeit" adds up the structural activities entered, for the county or a team's area."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.municipal import (
    ActivityInput,
    AgreementInput,
    record_activity,
    record_agreement,
)
from kimdesk.reference import DEFAULT_DIRECTORY, load_reference
from kimdesk.stats.zielsystem import load_zielsysteme, measure, zielsystem_for

REF = load_reference()


def _agree(ctx: Context, municipality: str, signed_on: date | None, *,
           valid_from: date | None = None, valid_until: date | None = None) -> None:
    record_agreement(ctx, AgreementInput(
        municipality=municipality, subject=f"Kommunale Vereinbarung {municipality}",
        parties=["Kreis Kleve"], signed_on=signed_on, valid_from=valid_from,
        valid_until=valid_until, allocates_cases=True,
        case_allocation="Zusteuerung über das Sozialamt"))


def _enter_agreements(ctx: Context) -> None:
    _agree(ctx, "goch", date(2026, 3, 1), valid_from=date(2026, 4, 1))
    _agree(ctx, "geldern", date(2025, 2, 1))
    _agree(ctx, "geldern", date(2026, 2, 1))  # a second one: still one Kommune
    _agree(ctx, "issum", date(2025, 5, 1))
    _agree(ctx, "kleve", date(2025, 1, 10), valid_until=date(2025, 12, 31))  # expired
    _agree(ctx, "kevelaer", None)  # a draft
    _agree(ctx, "emmerich", date(2026, 6, 15), valid_from=date(2026, 7, 1))  # not yet in force


def _value(ctx: Context, until: str) -> object:
    system = zielsystem_for(REF, until)
    assert system is not None
    [result] = [m for m in measure(ctx, system, until)
                if m.indicator.code == "zugang_vereinbarungen"]
    assert result.indicator.metric == "municipal_agreements"
    return result.value


def test_kommunen_mit_vereinbarung_counts_the_agreements_entered(ctx: Context) -> None:
    assert _value(ctx, "2026-06") == 0
    _enter_agreements(ctx)

    assert _value(ctx, "2025-06") == 3  # Geldern, Issum, Kleve
    assert _value(ctx, "2026-06") == 3  # Goch, Geldern, Issum (Kleve expired, Emmerich later)
    assert _value(ctx, "2026-10") == 4  # and Emmerich


def _system(tmp_path: Path, indicators: str) -> object:
    directory = tmp_path / "reference"
    shutil.copytree(DEFAULT_DIRECTORY, directory)
    (directory / "zielsystem" / "2025-2026.toml").write_text("""
code = "z"
title = "Zielsystem"
start = "2025-01"
end = "2026-12"
[[goals]]
code = "g"
title = "Ziel"
""" + indicators, encoding="utf-8")
    [system] = load_zielsysteme(load_reference(directory))
    return system


def _indicator(code: str, metric: str, team: str | None, target: int) -> str:
    line = f'team = "{team}"\n' if team else ""
    return (f'[[goals.indicators]]\ncode = "{code}"\nlabel = "{code}"\nmetric = "{metric}"\n'
            f"{line}target = {target}\n")


def test_a_team_indicator_counts_the_teams_kommunen_only(ctx: Context, tmp_path: Path) -> None:
    system = _system(tmp_path, _indicator("sued", "municipal_agreements", "sued", 6))
    _enter_agreements(ctx)
    [result] = measure(ctx, system, "2026-06")  # type: ignore[arg-type]
    assert result.value == 2  # Geldern and Issum; Goch belongs to team Mitte


def test_structural_hours_for_the_county_and_a_team(ctx: Context, tmp_path: Path) -> None:
    system = _system(tmp_path, _indicator("kreis", "structural_hours", None, 400)
                     + _indicator("sued", "structural_hours", "sued", 100)
                     + _indicator("nord", "structural_hours", "nord", 100))
    for held_on, hours, municipalities, area in (
            (date(2026, 3, 4), 3, ["geldern"], ""),  # Süd by its Kommune
            (date(2026, 5, 6), 2.5, [], "Planungsraum Süd"),  # Süd by its Planungsraum
            (date(2026, 5, 7), 4, [], ""),  # county-wide: the Kreis only
            (date(2026, 9, 1), 8, ["geldern"], "")):  # after the measured months
        record_activity(ctx, ActivityInput(held_on=held_on, kind="planning_area_meeting",
                                           hours=hours, municipalities=municipalities,
                                           planning_area=area))
    results = {m.indicator.code: m for m in measure(ctx, system, "2026-06")}  # type: ignore[arg-type]
    assert results["kreis"].value == 10  # 9.5 hours, rounded
    assert results["sued"].value == 6  # 5.5 hours, rounded half to even
    assert results["nord"].value == 0
    assert results["kreis"].expected_to_date == 300.0  # cumulative: 400 × 18 / 24
