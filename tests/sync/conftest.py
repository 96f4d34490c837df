"""Fixtures of the sync tests: several devices of Team Nord, each a vault of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kimdesk.casework.context import Context
from kimdesk.reference import load_reference
from tests.factories import Clock
from tests.sync.devices import USERS, open_device


@pytest.fixture
def devices(template_vault: Path, tmp_path: Path, clock: Clock
            ) -> Iterator[Callable[[int], list[Context]]]:
    """``devices(n)``: n vaults of colleagues, closed after the test; ``devices(n, team=T)``
    makes them vaults of team T."""
    opened: list[Context] = []
    reference = load_reference()

    def make(count: int, *, team: str | None = None) -> list[Context]:
        for index in range(count):
            opened.append(open_device(template_vault, tmp_path / f"device-{len(opened)}",
                                      USERS[index % len(USERS)], reference, clock, team=team))
        return opened[-count:]

    yield make
    for ctx in opened:
        ctx.vault.close()
