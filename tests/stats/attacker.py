"""An exact attacker on published statistics, as a statistician would build one.

It reads an export the way a user receives it (the CSV of ``kimdesk export statistik``) and
knows only what is documented: what the markers mean, the perturbation table, and how the
counts of a table hang together (row and column totals ``total``, *betreut = neu + aus dem
Vorzeitraum = abgeschlossen + laufend*, the overview repeating the totals of the tables).
From that it builds an integer programme over the true counts and asks, per cell, for the
smallest and largest true value (HiGHS through ``scipy.optimize.milp``). A cell whose true
value is thereby pinned to 1–4 is disclosed.

With two exports of overlapping periods (same first month, one ending later) it also knows
that cases carried over from before the start are the same in both and that new and closed
cases can only grow, and asks whether the difference (the cases of the extra months) is
pinned to 1–4.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_array

Key = tuple[str, str, str]  # (tabelle, zeile, spalte)
STATUS = ("active", "new", "carried", "closed", "open_at_end")
STATUS_TABLES = ("cases_by_kind", "cases_by_team", "cases_by_municipality")
# Rows of the overview that repeat the total row of cases_by_kind.
OVERVIEW = {"cases_active": "active", "cases_new": "new", "cases_closed": "closed",
            "cases_open_at_end": "open_at_end"}
# Tables whose rows do not add up (a case has several Handlungsfelder ...).
NOT_ADDITIVE = {"topics", "life_areas", "zielsystem", "overview"}
BIG = 100_000


def read_csv(content: bytes) -> dict[Key, str]:
    """The count cells of an export: (table, row, column) → the value as printed."""
    text = content.decode("utf-8-sig")
    cells: dict[Key, str] = {}
    for line in csv.DictReader(io.StringIO(text), delimiter=";"):
        if line["einheit"] == "count" and line["tabelle"] != "zielsystem":
            cells[(line["tabelle"], line["zeile"], line["spalte"])] = line["wert"]
    return cells


# What a printed value says about the true count, as a set of possible values.
Reading = Callable[[str], Sequence[int] | tuple[int, int]]


def suppression_reading(value: str) -> tuple[int, int]:
    """The old method: a number is exact, "<5" is 1–4, "." is 5 or more."""
    if value == "<5":
        return (1, 4)
    if value == ".":
        return (5, BIG)
    return (int(value), int(value))


def perturbation_reading(table: Mapping[int, Mapping[int, float]]) -> Reading:
    """The cell key method: the true counts that the published value can come from, read off
    the published perturbation table (true count → {published count: probability})."""
    top = max(table)

    def possible(value: str) -> Sequence[int] | tuple[int, int]:
        shown = int(value)
        sources = {n for n, row in table.items() if shown in row}
        # Above the table's last row the perturbation repeats that row's offsets.
        offsets = {p - top for p in table[top]}
        sources |= {shown - d for d in offsets if shown - d > top}
        return sorted(sources)

    return possible


@dataclass
class _Programme:
    index: dict[Key, int] = field(default_factory=dict)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integral: list[int] = field(default_factory=list)
    rows: list[dict[int, float]] = field(default_factory=list)
    row_low: list[float] = field(default_factory=list)
    row_high: list[float] = field(default_factory=list)
    compiled: tuple[Any, ...] | None = None

    def variable(self, low: float, high: float) -> int:
        self.lower.append(low)
        self.upper.append(high)
        self.integral.append(1)
        return len(self.lower) - 1

    def constrain(self, terms: Mapping[int, float], low: float, high: float) -> None:
        self.rows.append(dict(terms))
        self.row_low.append(low)
        self.row_high.append(high)

    def cell(self, key: Key, value: str, reading: Reading) -> int:
        possible = reading(value)
        if isinstance(possible, tuple):
            x = self.variable(*possible)
        else:
            x = self.variable(min(possible), max(possible))
            if len(possible) != max(possible) - min(possible) + 1:
                # Not an interval: x = Σ v·z_v with one z_v = 1.
                choice = {self.variable(0, 1): float(v) for v in possible}
                self.constrain({**{z: -v for z, v in choice.items()}, x: 1.0}, 0, 0)
                self.constrain(dict.fromkeys(choice, 1.0), 1, 1)
        self.index[key] = x
        return x

    def equal(self, total: int, parts: Iterable[int]) -> None:
        terms: dict[int, float] = defaultdict(float)
        terms[total] += 1.0
        for p in parts:
            terms[p] -= 1.0
        self.constrain(terms, 0, 0)

    def _components(self) -> dict[int, tuple[list[int], list[int]]]:
        """Per variable: the variables and constraints it is linked with (solved alone)."""
        if self.compiled is not None and self.compiled[0] == (len(self.rows), len(self.lower)):
            return self.compiled[1]  # type: ignore[no-any-return]
        parent = list(range(len(self.lower)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for row in self.rows:
            first, *others = row
            for other in others:
                parent[find(other)] = find(first)
        members: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.lower)):
            members[find(i)].append(i)
        constraints: dict[int, list[int]] = defaultdict(list)
        for r, row in enumerate(self.rows):
            constraints[find(next(iter(row)))].append(r)
        result = {i: (members[find(i)], constraints[find(i)]) for i in range(len(self.lower))}
        self.compiled = ((len(self.rows), len(self.lower)), result)
        return result

    def extreme(self, terms: Mapping[int, float], sense: int) -> float:
        """min (sense 1) or max (sense -1) of the linear expression, solved over the part of
        the programme linked to it."""
        return self.solve(terms, sense)[0]

    def solve(self, terms: Mapping[int, float], sense: int) -> tuple[float, dict[int, int]]:
        """The optimum and an optimal solution (the linked variables' values)."""
        components = self._components()
        variables: list[int] = []
        rows: list[int] = []
        for i in terms:
            if i not in variables:
                more, more_rows = components[i]
                variables += [v for v in more if v not in variables]
                rows += [r for r in more_rows if r not in rows]
        position = {v: k for k, v in enumerate(variables)}
        c = np.zeros(len(variables))
        for i, w in terms.items():
            c[position[i]] = sense * w
        constraints = []
        if rows:
            matrix = lil_array((len(rows), len(variables)))
            for k, r in enumerate(rows):
                for i, w in self.rows[r].items():
                    matrix[k, position[i]] = w
            constraints = [LinearConstraint(matrix.tocsr(), [self.row_low[r] for r in rows],
                                            [self.row_high[r] for r in rows])]
        result = milp(c, constraints=constraints,
                      integrality=np.array([self.integral[v] for v in variables]),
                      bounds=Bounds([self.lower[v] for v in variables],
                                    [self.upper[v] for v in variables]))
        if result.status != 0:
            raise AssertionError(f"attacker's programme not solvable: {result.message}")
        values = {v: round(float(result.x[k])) for k, v in enumerate(variables)}
        return round(sense * float(result.fun)), values


def _add_export(programme: _Programme, cells: Mapping[Key, str], reading: Reading,
                tag: str) -> dict[Key, int]:
    variables: dict[Key, int] = {}
    for key, value in cells.items():
        variables[key] = programme.cell((tag, *key), value, reading)  # type: ignore[arg-type]
    by_table: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for (table, row, column), x in variables.items():
        by_table[table][(row, column)] = x
    for table, grid in by_table.items():
        if table in NOT_ADDITIVE:
            continue
        rows = {r for r, _ in grid}
        columns = {c for _, c in grid}
        if "total" in rows:
            for column in columns:
                parts = [grid[(r, column)] for r in rows if r != "total" and (r, column) in grid]
                programme.equal(grid[("total", column)], parts)
        if "total" in columns:
            for row in rows:
                parts = [grid[(row, c)] for c in columns if c != "total" and (row, c) in grid]
                programme.equal(grid[(row, "total")], parts)
        if table in STATUS_TABLES:
            for row in rows:
                programme.equal(grid[(row, "active")], [grid[(row, "new")],
                                                        grid[(row, "carried")]])
                programme.equal(grid[(row, "active")], [grid[(row, "closed")],
                                                        grid[(row, "open_at_end")]])
    if ("cases_by_kind", "total", "active") in variables:
        for row, column in OVERVIEW.items():
            if ("overview", row, "value") in variables:
                programme.equal(variables[("overview", row, "value")],
                                [variables[("cases_by_kind", "total", column)]])
    return variables


@dataclass(frozen=True)
class Disclosure:
    what: str
    value: int


def _pinned_small(programme: _Programme, terms: Mapping[int, float], truth: int) -> bool:
    """Whether the expression is pinned to its true value and that value is 1–4."""
    if not 1 <= truth <= 4:
        return False
    if programme.extreme(terms, 1) != truth:
        return False
    return programme.extreme(terms, -1) == truth


def _not_ruled_out(programme: _Programme, candidates: Mapping[int, int]) -> set[int]:
    """The candidate cells that keep their true value when all candidates of their part of
    the programme are pushed down together, and then up together."""
    remaining = dict(candidates)
    components = programme._components()
    groups: dict[int, list[int]] = defaultdict(list)
    for x in candidates:
        groups[min(components[x][0])].append(x)
    for members in groups.values():
        for sense in (1, -1):
            alive = [x for x in members if x in remaining]
            if not alive:
                break
            _value, solution = programme.solve(dict.fromkeys(alive, 1.0), sense)
            for x in alive:
                if solution[x] != remaining[x]:
                    del remaining[x]
    return set(remaining)


def _pinned(programme: _Programme, x: int) -> int | None:
    """The one value a hidden cell can have, if there is only one."""
    low = programme.extreme({x: 1.0}, 1)
    return low if programme.extreme({x: 1.0}, -1) == low else None


def attack(cells: Mapping[Key, str], reading: Reading, truth: Mapping[Key, int] | None = None
           ) -> list[Disclosure]:
    """Every protected cell of one export whose true value the attacker pins down exactly.

    With ``truth`` (the unprotected counts, known to the test), only cells whose true value is
    1–4 are asked about; the attacker's answer uses nothing but the export. Without it, every
    cell printed as a marker is asked about (the old method: a hidden value pinned down is
    disclosed, whatever it is)."""
    programme = _Programme()
    variables = _add_export(programme, cells, reading, "a")
    found = []
    if truth is not None:
        # Cheap first: a few solutions of the programme; a cell that differs from its true
        # value in any of them is not pinned. Only the rest are asked about one by one.
        candidates = {x: truth[key] for key, x in variables.items()
                      if 1 <= truth.get(key, 0) <= 4}
        open_ = _not_ruled_out(programme, candidates)
        return [Disclosure("/".join(key), truth[key]) for key, x in variables.items()
                if x in open_ and _pinned_small(programme, {x: 1.0}, truth[key])]
    for key, x in variables.items():
        if truth is None:
            if cells[key].lstrip("-").isdigit():
                continue
            value = _pinned(programme, x)
            if value is not None:
                found.append(Disclosure("/".join(key), value))
            continue
        true = truth.get(key)
        if true is not None and _pinned_small(programme, {x: 1.0}, true):
            found.append(Disclosure("/".join(key), true))
    return found


def attack_difference(smaller: Mapping[Key, str], larger: Mapping[Key, str], reading: Reading,
                      truth_smaller: Mapping[Key, int], truth_larger: Mapping[Key, int],
                      *, mode: str = "period") -> list[Disclosure]:
    """Differencing two overlapping exports, ``larger`` covering more, per cell of the status
    tables: is the difference (the cases only ``larger`` counts) pinned to 1–4?

    ``mode="period"``: the same first month, ``larger`` ending later: cases carried over
    from before are the same, new and closed cases can only be more. ``mode="area"``: the
    same period, ``larger`` a wider area (Planungsraum against its regional team): every
    count can only be more."""
    programme = _Programme()
    a = _add_export(programme, smaller, reading, "a")
    b = _add_export(programme, larger, reading, "b")
    growing = ("new", "closed") if mode == "period" else STATUS
    for key in a.keys() & b.keys():
        table, _row, column = key
        if table in STATUS_TABLES and column == "carried" and mode == "period":
            programme.equal(b[key], [a[key]])
        elif table in STATUS_TABLES and column in growing:
            programme.constrain({b[key]: 1.0, a[key]: -1.0}, 0, math.inf)
    found = []
    truth_earlier, truth_later = truth_smaller, truth_larger
    for key in a.keys() & b.keys():
        table, _row, column = key
        if table in STATUS_TABLES and column in growing:
            true = truth_later[key] - truth_earlier[key]
            if _pinned_small(programme, {b[key]: 1.0, a[key]: -1.0}, true):
                found.append(Disclosure("Δ " + "/".join(key), true))
    return found


def truth_of(stats_cells: Iterable[tuple[Key, int]]) -> dict[Key, int]:
    return dict(stats_cells)
