"""Anonymised statistics for the county server, and the county figures read back from it.

The only plaintext a device sends: its **team's** counts of a month per Kommune, dimension and
measure, each protected by the cell key method (``kimdesk.stats.cellkey``) before it leaves the
device. All devices of a team hold the same cases after a sync and derive the same record
keys from the synced ids, so they compute the same protected table; the server keeps the last
upload per team and month (resending is harmless; a case belongs to one team, so it is
counted once). Nothing sent names a device, a user or a case.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from kimdesk.casework.context import Context
from kimdesk.stats import figures
from kimdesk.stats.cellkey import Tally, perturb
from kimdesk.stats.scope import Period, Scope, ScopeKind, add_months, month_of

DIMENSIONS = ("case_kind", "phase", "topic", "age_band", "gender", "nationality_group",
              "residence_group")
MEASURES = ("new", "closed", "open_at_end")


def _values(case: figures.CaseFacts) -> dict[str, Iterable[str]]:
    return {
        "case_kind": [case.kind], "phase": [case.phase_at_end] if case.phase_at_end else [],
        "topic": case.topics, "age_band": [case.age_band], "gender": [case.gender],
        "nationality_group": [case.nationality_group],
        "residence_group": [case.residence_group],
    }


def month_cells(ctx: Context, month: str) -> list[dict[str, Any]]:
    """The protected cells of one month for the device's team: per Kommune, dimension and
    value the cases opened in the month (``new``), closed in it (``closed``) and open at its
    end (``open_at_end``). Zeros are left out."""
    data = figures.load(ctx, Period(month, month), Scope(ScopeKind.TEAM, ctx.team))
    tallies: dict[tuple[str, str, str, str], Tally] = {}
    for case in data.cases:
        if not case.municipality:
            continue  # a purged case without its Kommune: counted in the county's own reports
        measures = [m for m, flag in (("new", case.new), ("closed", case.closed),
                                      ("open_at_end", case.open_at_end)) if flag]
        for dimension, values in _values(case).items():
            for value in values:
                if not value:
                    continue
                for measure in measures:
                    key = (case.municipality, dimension, value, measure)
                    tallies[key] = tallies.get(key, Tally(0)) + Tally(1, case.record)
    cells = []
    for (municipality, dimension, value, measure), tally in sorted(tallies.items()):
        count = perturb(tally)
        if count:
            cells.append({"municipality": municipality, "dimension": dimension,
                          "value": value, "measure": measure, "count": count})
    return cells


def months_to_report(today: date, *, back: int = 1) -> list[str]:
    """This month and the ``back`` months before (late entries change a closed month)."""
    current = month_of(today)
    return [add_months(current, -offset) for offset in range(back, -1, -1)]
