"""Anonymised statistics for the county server: counts per month, Kommune and dimension.

The only plaintext a device sends. Each device reports the cases its own user manages (a
team's shared cases are then counted once) and re-sends the full counts of a month, which the
server stores replacing the earlier ones: sending twice is harmless.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from kimdesk.casework.context import Context
from kimdesk.stats import figures
from kimdesk.stats.scope import Period, Scope, add_months, month_of

DIMENSIONS = ("case_kind", "phase", "topic", "age_band", "gender", "nationality_group",
              "residence_group")


def month_cells(ctx: Context, month: str) -> list[dict[str, Any]]:
    """The cells of one month: cases active in it, counted per Kommune and dimension."""
    data = figures.load(ctx, Period(month, month), Scope.county(), case_manager=ctx.user)
    counts: Counter[tuple[str, str, str]] = Counter()
    for case in data.cases:
        if not case.municipality:
            continue  # a purged case without its Kommune: counted in the county's own reports
        values = {
            "case_kind": [case.kind], "phase": [case.phase_at_end] if case.phase_at_end else [],
            "topic": list(case.topics), "age_band": [case.age_band], "gender": [case.gender],
            "nationality_group": [case.nationality_group],
            "residence_group": [case.residence_group],
        }
        for dimension in DIMENSIONS:
            for value in values[dimension]:
                if value:
                    counts[(case.municipality, dimension, value)] += 1
    return [{"municipality": municipality, "dimension": dimension, "value": value,
             "count": count}
            for (municipality, dimension, value), count in sorted(counts.items())]


def months_to_report(today: date, *, back: int = 1) -> list[str]:
    """This month and the ``back`` months before (late entries change a closed month)."""
    current = month_of(today)
    return [add_months(current, -offset) for offset in range(back, -1, -1)]
