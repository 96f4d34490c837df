"""A growing delay after failed unlock attempts, kept beside the vault.

The delay protects the unlock screen against guessing; an attacker with a copy of the files is
slowed down by Argon2id instead. The counter file holds no secret and no client data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from kimdesk.vault.header import atomic_write

FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 300.0


def delay_after(failures: int) -> float:
    """Seconds to wait after ``failures`` consecutive failures: 0, 0, 0, 1, 2, 4, ... 300."""
    if failures < FREE_ATTEMPTS:
        return 0.0
    return min(2.0 ** (failures - FREE_ATTEMPTS), MAX_DELAY_SECONDS)


class UnlockThrottle:
    """Counts consecutive failed unlocks in a file; ``now`` is the clock (tests inject one)."""

    def __init__(self, path: Path, now: Callable[[], float] = time.time) -> None:
        self._path = path
        self._now = now

    def _load(self) -> tuple[int, float]:
        try:
            data = json.loads(self._path.read_text())
            return int(data["failures"]), float(data["last_failure"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return 0, 0.0

    def wait_remaining(self) -> float:
        """Seconds until the next attempt is allowed; never more than the current delay."""
        failures, last = self._load()
        delay = delay_after(failures)
        # min(): a clock set back (or a future timestamp in the file) must not lock for longer.
        return min(delay, max(0.0, last + delay - self._now()))

    def record_failure(self) -> float:
        failures, _ = self._load()
        failures += 1
        atomic_write(
            self._path, json.dumps({"failures": failures, "last_failure": self._now()}).encode()
        )
        return delay_after(failures)

    def record_success(self) -> None:
        self._path.unlink(missing_ok=True)
