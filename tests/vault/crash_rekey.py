"""Child process for the re-key crash tests: re-keys the vault and kills itself on the way.

Usage: python -m tests.vault.crash_rekey DATA_DIR POINT (passwords from tests.vault.support).
A re-key replaces files in this order, each by ``os.replace``: the header with the new key and
the old one beside it, every attachment, the database, the final header. POINT names the
replacement and whether the process dies just before or just after it (SIGKILL to itself, so
nothing runs after it).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from kimdesk.vault import open_vault
from tests.vault.support import NEW_PASSWORD, PASSWORD

ATTACHMENTS = 2
# point -> (number of the os.replace call, die before it or after it)
KILL_POINTS: dict[str, tuple[int, str]] = {
    "before_new_header": (1, "before"),
    "after_new_header": (1, "after"),
    "after_first_attachment": (2, "after"),
    "before_database_swap": (2 + ATTACHMENTS, "before"),
    "after_database_swap": (2 + ATTACHMENTS, "after"),
    "before_final_header": (3 + ATTACHMENTS, "before"),
}


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(point: str) -> None:
    number, when = KILL_POINTS[point]
    real_replace = os.replace
    calls = 0

    def replace(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == number and when == "before":
            _die()
        real_replace(*args, **kwargs)
        if calls == number and when == "after":
            _die()

    os.replace = replace  # type: ignore[assignment]


def main() -> None:
    data_dir, point = Path(sys.argv[1]), sys.argv[2]
    vault = open_vault(data_dir, PASSWORD)
    _arm(point)
    vault.change_password(PASSWORD, NEW_PASSWORD, rekey=True)
    sys.exit("the kill point was never reached")


if __name__ == "__main__":
    main()
