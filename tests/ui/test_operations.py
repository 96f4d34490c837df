"""The GUI thread's garbage collection: what the automatic collector would do, not a full
collection every second (that held the GIL for seconds and starved a background sync)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from kimdesk.ui.operations import GuiThreadGarbageCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _collections_during(action: Any) -> list[int]:
    generations: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        action()
    finally:
        gc.callbacks.remove(record)
    return generations


def test_a_tick_collects_the_young_generation_only_when_it_is_due(qapp: Any) -> None:
    collector = GuiThreadGarbageCollector()
    try:
        assert not gc.isenabled()
        gc.collect()
        assert _collections_during(collector.collect) == []  # nothing allocated: nothing to do

        cycle = _Cycle()
        gone = weakref.ref(cycle)
        del cycle
        for _ in range(gc.get_threshold()[0] + 1):
            _Cycle()
        generations = _collections_during(collector.collect)

        assert generations and max(generations) < 2  # no walk over the whole heap
        assert gone() is None  # the young cycle is collected
    finally:
        collector.stop()
