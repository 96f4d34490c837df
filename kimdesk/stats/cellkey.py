"""Cell key method: every published count carries consistent, bounded, zero-mean noise.

The method of official statistics for frequency tables (Destatis/statistical offices for the
Zensus 2022, the ONS for Census 2021, the ABS TableBuilder):

- Every record that is counted (a case, a person, a contact, a referral, a goal ...) has a
  **record key**, a number 0–4095 that looks random. KIMdesk derives it from the record's id,
  which is random (UUID 4) and synced with the record, so every device of a team and the
  county server agree on it, and nothing has to be stored for it.
- A cell's **cell key** is the sum of the record keys of the records it counts, modulo 4096.
  :class:`Tally` carries (count, cell key) through the arithmetic of the figures, so a total
  made of disjoint parts gets exactly the key of the records it counts.
- The **perturbation table** (``resources/statistics/ptable.csv``) maps (true count, cell key)
  to the noise that is added. Same records → same key → same published value: a cell published
  again (in another table, export, period or on the server) tells nothing new, and two cells
  that differ by a few records get unrelated noise, so their difference is noisy too.

The table (:func:`design`): no noise on 0; counts of 1–4 are never published (they become 0 or
5 and more); otherwise the noise is at most ±:data:`MAX_NOISE`, its mean is zero (to within the
4096 steps of the key), its variance about 2.6. Counts above the table's last row use that row's
noise. This module only knows counts; which counts a figure publishes is ``figures``' business.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

KEY_RANGE = 4096
MAX_NOISE = 4  # published counts are within ± this of the true count
SMALL = 4  # published counts are never 1 to SMALL
# Noise for large counts before it is tilted to mean zero: most cells keep their value.
BASE_WEIGHTS = {0: 0.40, 1: 0.15, 2: 0.08, 3: 0.04, 4: 0.03}
TOP = SMALL + 1 + MAX_NOISE  # from this count on, every noise value is allowed
PTABLE = Path(__file__).resolve().parents[2] / "resources" / "statistics" / "ptable.csv"
PTABLE_COLUMNS = ("anzahl", "schluessel_von", "schluessel_bis", "abweichung")


_RECORD_KEY_HASH = hashlib.sha256(b"kimdesk-record-key\0")


def record_key(record_id: str) -> int:
    """The record key of a record: 0–4095, derived from its random id (the first four bytes of
    SHA-256 over a fixed prefix and the id, modulo 4096)."""
    digest = _RECORD_KEY_HASH.copy()  # the prefix hashed once, not per record
    digest.update(record_id.encode())
    return int.from_bytes(digest.digest()[:4], "big") % KEY_RANGE


@dataclass(frozen=True, slots=True)
class Tally:
    """A true count with its cell key. Adding tallies of disjoint sets of records gives the
    tally of their union; adding 0 changes nothing (so ``sum`` and ``Counter`` work)."""

    n: int
    key: int = 0

    @classmethod
    def one(cls, record_id: str) -> Tally:
        return cls(1, record_key(record_id))

    @classmethod
    def of(cls, record_ids: Iterable[str]) -> Tally:
        keys = [record_key(record_id) for record_id in record_ids]
        return cls(len(keys), sum(keys) % KEY_RANGE)

    def __add__(self, other: object) -> Tally:
        if isinstance(other, Tally):
            return Tally(self.n + other.n, (self.key + other.key) % KEY_RANGE)
        if other == 0:
            return self
        return NotImplemented

    __radd__ = __add__

    def __int__(self) -> int:
        return self.n

    def __bool__(self) -> bool:
        return self.n != 0


def tally(value: Tally | int) -> Tally:
    """A value of a count cell as a Tally (a plain int may only be 0: no records)."""
    if isinstance(value, Tally):
        return value
    if value != 0:
        raise ValueError("a non-zero count without its records cannot be perturbed")
    return Tally(0, 0)


def _allowed(n: int, published: int) -> bool:
    return published >= 0 and abs(published - n) <= MAX_NOISE and not 1 <= published <= SMALL


def _distribution(n: int) -> dict[int, float]:
    """Noise for a true count ``n``: the base weights on the allowed values, tilted
    exponentially (as little as possible, maximum entropy) so that the mean is zero."""
    if n == 0:
        return {0: 1.0}
    offsets = [d for d in range(-MAX_NOISE, MAX_NOISE + 1) if _allowed(n, n + d)]
    if min(offsets) >= 0 or max(offsets) <= 0:
        return {0: 1.0}  # e.g. 5: only 5–9 are allowed, so no zero-mean noise but none

    def mean(tilt: float) -> float:
        weights = [BASE_WEIGHTS[abs(d)] * math.exp(tilt * d) for d in offsets]
        return sum(w * d for w, d in zip(weights, offsets, strict=True)) / sum(weights)

    low, high = -20.0, 20.0
    for _ in range(200):
        middle = (low + high) / 2
        if mean(middle) > 0:
            high = middle
        else:
            low = middle
    weights = {d: BASE_WEIGHTS[abs(d)] * math.exp(low * d) for d in offsets}
    total = sum(weights.values())
    return {d: w / total for d, w in weights.items()}


def design() -> dict[int, list[tuple[int, int, int]]]:
    """The perturbation table: per true count 0..TOP, key ranges (from, to inclusive) with
    their noise. Each noise value gets its probability's share of the 4096 keys (largest
    remainder, at least one key)."""
    table: dict[int, list[tuple[int, int, int]]] = {}
    for n in range(TOP + 1):
        probabilities = _distribution(n)
        shares = {d: max(1, math.floor(p * KEY_RANGE)) for d, p in probabilities.items()}
        rest = KEY_RANGE - sum(shares.values())
        by_remainder = sorted(probabilities, key=lambda d: (
            -(probabilities[d] * KEY_RANGE - math.floor(probabilities[d] * KEY_RANGE)), d))
        for d in by_remainder[:rest]:
            shares[d] += 1
        start, ranges = 0, []
        for d in sorted(shares):
            ranges.append((start, start + shares[d] - 1, d))
            start += shares[d]
        table[n] = ranges
    return table


def render(table: Mapping[int, list[tuple[int, int, int]]]) -> str:
    """The table as the CSV in resources (one line per key range)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(PTABLE_COLUMNS)
    for n, ranges in sorted(table.items()):
        for start, end, noise in ranges:
            writer.writerow([n, start, end, noise])
    return buffer.getvalue()


@cache
def ptable() -> dict[int, tuple[tuple[int, int, int], ...]]:
    """The perturbation table as published in ``resources/statistics/ptable.csv``."""
    rows: dict[int, list[tuple[int, int, int]]] = {}
    with PTABLE.open(encoding="utf-8", newline="") as handle:
        for line in csv.DictReader(handle, delimiter=";"):
            rows.setdefault(int(line["anzahl"]), []).append(
                (int(line["schluessel_von"]), int(line["schluessel_bis"]),
                 int(line["abweichung"])))
    return {n: tuple(ranges) for n, ranges in rows.items()}


def noise(n: int, key: int) -> int:
    """The noise the table adds to a true count ``n`` with cell key ``key``."""
    if n < 0:
        raise ValueError("counts cannot be negative")
    table = ptable()
    for start, end, d in table[min(n, max(table))]:
        if start <= key <= end:
            return d
    raise AssertionError("the perturbation table does not cover every key")


def perturb(value: Tally | int) -> int:
    """The published value of a count cell."""
    t = tally(value)
    return t.n + noise(t.n, t.key)


def possible_sources() -> dict[int, dict[int, float]]:
    """Per true count 0..TOP: published value → probability (what a reader can know)."""
    return {n: {n + d: (end - start + 1) / KEY_RANGE for start, end, d in ranges}
            for n, ranges in ptable().items()}
