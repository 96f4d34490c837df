"""Fixtures of the casework tests that need a team: two colleagues' devices on a county server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kimdesk.casework.context import Context
from kimdesk.reference import load_reference
from tests.factories import Clock
from tests.sync.devices import open_device
from tests.sync.team import Team, sqlite_url


@pytest.fixture
def pair(template_vault: Path, tmp_path: Path, clock: Clock
         ) -> Iterator[tuple[Team, Context, Context]]:
    """Anna (the first, coordinator) and Ewa of Team Nord, enrolled on a county server."""
    (tmp_path / "server").mkdir()
    team = Team(sqlite_url(tmp_path / "server"))
    reference = load_reference()
    anna = open_device(template_vault, tmp_path / "anna", "Anna Becker", reference, clock)
    ewa = open_device(template_vault, tmp_path / "ewa", "Ewa Nowak", reference, clock)
    team.join(anna)
    team.join(ewa)
    yield team, anna, ewa
    anna.vault.close()
    ewa.vault.close()
    team.close()
