"""Settings from the environment: the auto-lock never ends up switched off."""

from __future__ import annotations

import pytest

from kimdesk import config


@pytest.mark.parametrize(("raw", "minutes"), [
    ("", 5), ("10", 10), ("1", 1), ("60", 60), ("0", 5), ("-3", 5), ("999", 5), ("fünf", 5),
])
def test_auto_lock_minutes(monkeypatch: pytest.MonkeyPatch, raw: str, minutes: int) -> None:
    monkeypatch.setenv(config.AUTO_LOCK_ENV, raw)
    assert config.auto_lock_minutes() == minutes
