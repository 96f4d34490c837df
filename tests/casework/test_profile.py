"""The vault's owner: one profile per vault, with a known team and a sensible VZÄ."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for, create_profile, load_profile
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.vault import KdfParams, Vault, create_vault
from tests.factories import PASSWORD


@pytest.fixture
def empty_vault(tmp_path: Path) -> Iterator[Vault]:
    vault, _code = create_vault(tmp_path / "neu", PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        yield vault


def test_the_context_is_the_profiles_owner(ctx: Context) -> None:
    profile = load_profile(ctx.vault)

    assert (profile.user_name, profile.team, profile.role, profile.fte) == (
        "Anna Becker", "nord", "case_manager", 1.0)
    assert (ctx.user, ctx.team) == ("Anna Becker", "nord")


def test_a_vault_has_one_profile(ctx: Context) -> None:
    with pytest.raises(KimdeskError):
        create_profile(ctx.vault, "Jonas Wagner", "nord")


def test_a_vault_without_profile_has_no_context(empty_vault: Vault) -> None:
    with pytest.raises(KimdeskError, match="kimdesk init"):
        context_for(empty_vault)


def test_welcome_center_coordinator_part_time(empty_vault: Vault) -> None:
    create_profile(empty_vault, "  Lea Hoffmann ", "welcome", role="coordinator", fte=0.5)

    profile = load_profile(empty_vault)
    assert (profile.user_name, profile.team, profile.role, profile.fte) == (
        "Lea Hoffmann", "welcome", "coordinator", 0.5)


@pytest.mark.parametrize(("user", "team", "kwargs", "field"), [
    (" ", "nord", {}, "user_name"),
    ("Lea Hoffmann", "west", {}, "team"),
    ("Lea Hoffmann", "nord", {"role": "admin"}, "role"),
    ("Lea Hoffmann", "nord", {"fte": 0.0}, "fte"),
    ("Lea Hoffmann", "nord", {"fte": 1.2}, "fte"),
])
def test_invalid_profile_is_refused(empty_vault: Vault, user: str, team: str,
                                    kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        create_profile(empty_vault, user, team, **kwargs)

    assert error.value.field == field
    with pytest.raises(KimdeskError):
        load_profile(empty_vault)
