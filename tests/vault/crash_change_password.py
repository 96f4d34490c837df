"""Child process for the crash tests: changes the vault password and kills itself on the way.

Usage: python crash_change_password.py DATA_DIR POINT (passwords come from tests.vault.support).
The kill is SIGKILL, sent by the process to itself from inside the patched ``os`` function, so it
lands exactly at the chosen point and nothing (no ``finally``, no ``atexit``) runs after it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kimdesk.vault import open_vault
from tests.vault.support import NEW_PASSWORD, PASSWORD

# Where the child dies, in the order the header is replaced (header.atomic_write).
KILL_POINTS = (
    "before_temp_file",  # the new key wrap exists only in memory
    "temp_file_half_written",
    "before_replace",  # the temp file is complete and fsynced
    "after_replace",  # renamed, but the directory not yet fsynced
)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(point: str) -> None:
    real_open, real_write, real_replace = os.open, os.write, os.replace

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(".tmp"):
            _die()
        return real_open(path, flags, *args, **kwargs)

    def write(fd: int, data: bytes) -> int:
        real_write(fd, data[: len(data) // 2])
        _die()
        return 0

    def replace_before(*args: Any, **kwargs: Any) -> None:
        _die()

    def replace_after(*args: Any, **kwargs: Any) -> None:
        real_replace(*args, **kwargs)
        _die()

    patches: dict[str, tuple[str, Callable[..., Any]]] = {
        "before_temp_file": ("open", open_),
        "temp_file_half_written": ("write", write),
        "before_replace": ("replace", replace_before),
        "after_replace": ("replace", replace_after),
    }
    name, patched = patches[point]
    setattr(os, name, patched)


def main() -> None:
    data_dir, point = Path(sys.argv[1]), sys.argv[2]
    vault = open_vault(data_dir, PASSWORD)
    _arm(point)
    vault.change_password(PASSWORD, NEW_PASSWORD)
    sys.exit("the kill point was never reached")


if __name__ == "__main__":
    main()
