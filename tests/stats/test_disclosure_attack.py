"""The attacker of issue 12 against the published statistics (see tests/stats/attacker.py).

``old-method-export.csv`` is a CSV export made with the small-cell suppression KIMdesk used
before the cell key method (9 cases, January to June 2026, the whole Kreis); it is kept as the
documented demonstration that suppression checked relation by relation leaks.
"""

from __future__ import annotations

from pathlib import Path

from tests.stats import attacker

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
