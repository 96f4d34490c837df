"""The Zielsystem's "Kommunen mit Vereinbarung" counts the kommunale Vereinbarungen entered
through the use case: Kommunen (not agreements) with one in force at the end of the measured
period, only signed ones, within the indicator's team when it names one."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.municipal import AgreementInput, record_agreement
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


def test_a_team_indicator_counts_the_teams_kommunen_only(ctx: Context, tmp_path: Path) -> None:
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
[[goals.indicators]]
code = "sued"
label = "Kommunen im Planungsraum Süd mit Vereinbarung"
metric = "municipal_agreements"
team = "sued"
target = 6
""", encoding="utf-8")
    _enter_agreements(ctx)
    [system] = load_zielsysteme(load_reference(directory))
    [result] = measure(ctx, system, "2026-06")
    assert result.value == 2  # Geldern and Issum; Goch belongs to team Mitte
