"""Tests for small-cell suppression: properties over random tables with their margins."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimdesk.stats.suppression import (
    PRIMARY,
    SECONDARY,
    Relation,
    bounds,
    feasible_range,
    grid_relations,
    protect,
    suppress,
)

# Counts as they occur in a county's statistics: many zeros and small numbers, some large.
counts = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 12), st.integers(13, 400))


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[int], list[Relation]]:
    """A grid of counts with row totals, column totals and the grand total."""
    rows = draw(st.integers(1, 5))
    columns = draw(st.integers(1, 5))
    inner = [[draw(counts) for _ in range(columns)] for _ in range(rows)]
    grid = [[*line, sum(line)] for line in inner]
    grid.append([sum(line[c] for line in grid) for c in range(columns + 1)])
    values = [v for line in grid for v in line]
    relations = grid_relations(rows + 1, columns + 1,
                               row_sums=[(columns, range(columns))], total_row=rows)
    return values, relations


def test_primary_and_secondary_in_a_row() -> None:
    # 3 is small; the total would give it away, so the smallest other count goes too.
    values = [3, 20, 30, 53]
    assert protect(values, [Relation(3, (0, 1, 2))]) == [PRIMARY, SECONDARY, 30, 53]


def test_small_total_is_hidden_with_its_parts() -> None:
    values = [2, 1, 0, 3]
    assert protect(values, [Relation(3, (0, 1, 2))]) == [PRIMARY, PRIMARY, 0, PRIMARY]


def test_two_fours_summing_to_eight_are_not_left_alone() -> None:
    # "<5" + "<5" = 8 means both are 4: a third count must be hidden.
    values = [4, 4, 30, 7, 45]
    shown = protect(values, [Relation(4, (0, 1, 2, 3))])
    assert shown[:2] == [PRIMARY, PRIMARY]
    assert shown[3] == SECONDARY
    assert shown[4] == 45


def test_hidden_parts_summing_below_five_are_a_group() -> None:
    # 1 + 2 = 3 with the total shown: the two together are still a small group.
    values = [1, 2, 40, 50, 93]
    shown = protect(values, [Relation(4, (0, 1, 2, 3))])
    assert shown[:3] == [PRIMARY, PRIMARY, SECONDARY]


def test_the_same_quantity_in_two_tables_is_hidden_in_both() -> None:
    # Table A: [3, 9 | 12]; table B: [12 (same as A's total), 30 | 42].
    values = [3, 9, 12, 12, 30, 42]
    relations = [Relation(2, (0, 1)), Relation(5, (3, 4)), Relation(2, (3,))]
    marks = suppress(values, relations)
    assert marks[0] == PRIMARY and marks[1] == SECONDARY
    assert (marks[2] is None) == (marks[3] is None)


def test_relations_must_add_up() -> None:
    with pytest.raises(ValueError):
        suppress([1, 2, 4], [Relation(2, (0, 1))])
    with pytest.raises(ValueError):
        suppress([-1, 1, 0], [Relation(2, (0, 1))])


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_shown_count_is_small_and_markers_tell_the_truth(
        table: tuple[list[int], list[Relation]]) -> None:
    values, relations = table
    marks = suppress(values, relations)
    for value, mark in zip(values, marks, strict=True):
        if mark is None:
            assert not 0 < value < 5
        elif mark == PRIMARY:
            assert 1 <= value <= 4
        else:
            assert mark == SECONDARY and value >= 5
        assert value != 0 or mark is None  # zeros are never hidden


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_hidden_value_follows_from_one_row_or_column(
        table: tuple[list[int], list[Relation]]) -> None:
    values, relations = table
    marks = suppress(values, relations)
    for relation in relations:
        members = relation.members
        hidden = [m for m in members if marks[m] is not None]
        # Exactly one hidden member: total minus shown parts would recompute it.
        assert len(hidden) != 1
        if marks[relation.total] is None and hidden:
            # The hidden parts of a shown total are no small group either.
            assert sum(values[m] for m in hidden) >= 5
        for member in hidden:
            low, high = feasible_range(values, marks, relation, member)
            assert low <= values[member] <= high
            if low == high:
                # Only where nothing is left to hide (documented limit of the method).
                assert all(marks[m] is not None or values[m] == 0 for m in members)


@settings(max_examples=200, deadline=None)
@given(tables())
def test_feasible_ranges_agree_with_brute_force(table: tuple[list[int], list[Relation]]) -> None:
    """Enumerate what a reader could think possible, for relations with few hidden members."""
    values, relations = table
    marks = suppress(values, relations)
    for relation in relations:
        hidden = [m for m in relation.members if marks[m] is not None]
        if not hidden or len(hidden) > 3 or values[relation.total] > 60:
            continue
        cap = values[relation.total] + 4 * len(hidden) + 8  # no finite bound lies beyond
        *free, last = hidden
        choices = []
        for member in free:
            low, high = bounds(marks[member] or "")
            choices.append(range(int(low), int(min(high, cap)) + 1))
        possible: dict[int, set[int]] = {m: set() for m in hidden}
        for guess in itertools.product(*choices):
            trial = list(values)
            for member, value in zip(free, guess, strict=True):
                trial[member] = value
            # The relation fixes the last hidden member.
            if last == relation.total:
                trial[last] = sum(trial[p] for p in relation.parts)
            else:
                trial[last] = 0
                trial[last] = trial[relation.total] - sum(trial[p] for p in relation.parts)
            low, high = bounds(marks[last] or "")
            if low <= trial[last] <= high:
                for member in hidden:
                    possible[member].add(trial[member])
        for member in hidden:
            low, high = feasible_range(values, marks, relation, member)
            assert values[member] in possible[member]
            assert min(possible[member]) == low
            assert high == math.inf or max(possible[member]) == high
