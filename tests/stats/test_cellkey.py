"""The perturbation table of the cell key method: as documented, and as shipped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kimdesk.stats import cellkey
from kimdesk.stats.cellkey import KEY_RANGE, MAX_NOISE, SMALL, Tally, perturb


def test_shipped_table_is_the_designed_one() -> None:
    assert cellkey.PTABLE.read_text(encoding="utf-8") == cellkey.render(cellkey.design())


def test_table_properties() -> None:
    table = cellkey.ptable()
    assert sorted(table) == list(range(cellkey.TOP + 1))
    for n, ranges in table.items():
        keys = [k for start, end, _d in ranges for k in range(start, end + 1)]
        assert keys == list(range(KEY_RANGE)), n  # every key exactly once
        mean = sum((end - start + 1) * d for start, end, d in ranges) / KEY_RANGE
        assert abs(mean) < 0.001, (n, mean)  # zero-mean noise
        for _start, _end, d in ranges:
            assert abs(d) <= MAX_NOISE
            assert n + d == 0 or n + d > SMALL  # 1–4 are never published
    assert table[0] == ((0, KEY_RANGE - 1, 0),)  # zero stays zero
    top = {n + d for _s, _e, d in table[cellkey.TOP]}
    assert top == set(range(cellkey.TOP - MAX_NOISE, cellkey.TOP + MAX_NOISE + 1))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 10_000), key=st.integers(0, KEY_RANGE - 1))
def test_published_counts_stay_within_the_noise(n: int, key: int) -> None:
    published = perturb(Tally(n, key))
    assert abs(published - n) <= MAX_NOISE
    assert not 1 <= published <= SMALL
    assert (published == 0) == (n == 0) or n <= SMALL


def test_same_records_same_value_and_totals_carry_their_records() -> None:
    ids = [f"{i:032x}" for i in range(7)]
    whole = Tally.of(ids)
    assert whole == Tally.of(reversed(ids))
    assert whole == Tally.of(ids[:3]) + Tally.of(ids[3:])
    assert sum([Tally.one(i) for i in ids], 0) == whole
    assert perturb(whole) == perturb(Tally.of(ids[::-1]))
    assert perturb(0) == 0


def test_record_keys_never_change() -> None:
    """Every device and the county server derive the same keys from the synced ids; published
    values of the same records must not change with a release (values pinned from the first
    implementation, ``sha256(prefix + id)[:4] % 4096``)."""
    pinned = {"0f1e2d3c4b5a69788796a5b4c3d2e1f0": 1611, "7c9e6679742548b3a0f4c1a1b2c3d4e5": 4014,
              "purged-1#0": 3063, "": 777}
    assert {record_id: cellkey.record_key(record_id) for record_id in pinned} == pinned
    assert Tally.of(pinned) == Tally(4, 1273) == sum(map(Tally.one, pinned), Tally(0))
