"""Small-cell suppression: no shown count is 1–4, and no hidden count follows from a total.

The counts of a table and the sums that tie them together are given as a flat list of values
and a list of :class:`Relation` (``total = sum of parts``: a row with its row total, a column with
its column total, the same quantity in two tables ...). The rules, applied until nothing changes
(official statistics practice, cf. § 16 BStatG, § 103 SGB VIII):

1. **Primary**: every count of 1–4 is hidden and shown as ``"<5"``, totals included.
2. **Secondary**: a relation with exactly one hidden member would give it away (total minus the
   shown parts), so the smallest other non-zero member is hidden too, shown as ``"."``
   ("Zahlenwert geheim gehalten", as in Destatis and IT.NRW tables). Parts are preferred over
   the total, which readers need most. A secondary cell is always 5 or more, which is why it
   gets a marker of its own: printing "<5" for a hidden 300 would mislead.
3. **Ranges**: a reader knows that "<5" means 1–4 and "." means at least 5. Where the shown
   values of a relation and these ranges still leave only one possible value for a hidden
   member (for example two "<5" summing to 8 must both be 4), one more member is hidden.
4. **Group**: where the total is shown, the hidden parts add up to a known sum; if it is below
   5 they still form a small group together, so one more part is hidden.

Zeros stay visible: a zero discloses nothing about a person. The guarantee holds per relation
(one row or one column with its total), which is what a reader can recompute by hand. One case
cannot be helped inside a relation: a hidden total of 4 with four hidden parts and nothing else
non-zero (then each part is 1); its protection comes from the relations the total belongs to.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

PRIMARY = "<5"  # a count of 1 to 4
SECONDARY = "."  # hidden so that no "<5" can be recomputed; always 5 or more
SUPPRESSED = (PRIMARY, SECONDARY)
THRESHOLD = 5  # counts below this (and above 0) are never shown


@dataclass(frozen=True)
class Relation:
    """``values[total] == sum(values[p] for p in parts)``, indices into the flat value list."""

    total: int
    parts: tuple[int, ...]

    @property
    def members(self) -> tuple[int, ...]:
        return (self.total, *self.parts)


def is_small(value: int) -> bool:
    """A count that must not be shown: 1 to 4."""
    return 0 < value < THRESHOLD


def bounds(mark: str) -> tuple[float, float]:
    """What a reader knows about a hidden value from its marker."""
    return (1, THRESHOLD - 1) if mark == PRIMARY else (THRESHOLD, math.inf)


def suppress(values: Sequence[int], relations: Sequence[Relation]) -> list[str | None]:
    """Per value: None if it may be shown, else its marker (:data:`PRIMARY`/:data:`SECONDARY`).

    Values must be non-negative counts and every relation must add up.
    """
    if any(v < 0 for v in values):
        raise ValueError("counts cannot be negative")
    by_member: dict[int, list[int]] = defaultdict(list)
    for number, relation in enumerate(relations):
        if values[relation.total] != sum(values[p] for p in relation.parts):
            raise ValueError(f"relation does not add up: {relation}")
        for member in set(relation.members):
            by_member[member].append(number)
    marks: list[str | None] = [PRIMARY if is_small(v) else None for v in values]
    queue = deque(range(len(relations)))
    queued = set(queue)
    while queue:
        number = queue.popleft()
        queued.discard(number)
        extra = _needs_more(values, marks, relations[number])
        if extra is None:
            continue
        marks[extra] = SECONDARY
        # The newly hidden member changes every relation it belongs to, this one included.
        for other in (number, *by_member[extra]):
            if other not in queued:
                queue.append(other)
                queued.add(other)
    return marks


def protect(values: Sequence[int], relations: Sequence[Relation]) -> list[int | str]:
    """The values as they may be shown: hidden ones replaced by their marker."""
    return [v if m is None else m for v, m in zip(values, suppress(values, relations),
                                                   strict=True)]


def feasible_range(values: Sequence[int], marks: Sequence[str | None], relation: Relation,
                   member: int) -> tuple[float, float]:
    """The values a reader can still think possible for a hidden ``member`` of ``relation``,
    knowing the shown values, the relation and what the markers say (closed interval)."""
    hidden = [m for m in relation.members if marks[m] is not None and m != member]
    own_low, own_high = bounds(marks[member] or "")
    shown_parts = sum(values[p] for p in relation.parts if marks[p] is None)
    hidden_parts = [p for p in relation.parts if p in hidden]
    low_parts = sum(bounds(marks[p] or "")[0] for p in hidden_parts)
    high_parts = sum(bounds(marks[p] or "")[1] for p in hidden_parts)
    if member == relation.total:
        low, high = shown_parts + low_parts, shown_parts + high_parts
    else:
        if marks[relation.total] is None:
            total_low = total_high = float(values[relation.total])
        else:
            total_low, total_high = bounds(marks[relation.total] or "")
        low = total_low - shown_parts - high_parts
        high = total_high - shown_parts - low_parts
    return max(low, own_low), min(high, own_high)


def _needs_more(values: Sequence[int], marks: list[str | None], relation: Relation
                ) -> int | None:
    """The member to hide next for this relation, or None if it is safe (or cannot be helped)."""
    hidden = [m for m in set(relation.members) if marks[m] is not None]
    if not hidden:
        return None
    if len(hidden) == 1:
        return _smallest_other(values, marks, relation)
    if marks[relation.total] is None:
        hidden_sum = sum(values[p] for p in relation.parts if marks[p] is not None)
        if hidden_sum < THRESHOLD:
            return _smallest_other(values, marks, relation)
    for member in hidden:
        low, high = feasible_range(values, marks, relation, member)
        if low >= high:
            return _smallest_other(values, marks, relation)
    return None


def _smallest_other(values: Sequence[int], marks: list[str | None], relation: Relation
                    ) -> int | None:
    parts = [p for p in relation.parts if marks[p] is None and values[p] > 0]
    if parts:
        return min(parts, key=lambda p: (values[p], p))
    if marks[relation.total] is None and values[relation.total] > 0:
        return relation.total
    return None


def grid_relations(
    rows: int,
    columns: int,
    *,
    row_sums: Sequence[tuple[int, Sequence[int]]] = (),
    total_row: int | None = None,
) -> list[Relation]:
    """Relations of a ``rows`` × ``columns`` grid stored row by row.

    ``row_sums``: within every row, column ``c`` is the sum of columns ``parts`` (for example the
    total column, or "betreut = neu + fortgeführt"). ``total_row``: that row is the sum of all
    other rows, column by column.
    """
    relations: list[Relation] = []
    for row in range(rows):
        for column, parts in row_sums:
            relations.append(
                Relation(row * columns + column, tuple(row * columns + p for p in parts))
            )
    if total_row is not None:
        others = [r for r in range(rows) if r != total_row]
        for column in range(columns):
            relations.append(
                Relation(
                    total_row * columns + column, tuple(r * columns + column for r in others)
                )
            )
    return relations
