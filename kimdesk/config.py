"""Where KIMdesk keeps its data on this computer, and the settings read from the environment.

The data directory holds the vault (encrypted database, header, attachments). It defaults to the
platform's per-user data directory (platformdirs); ``KIMDESK_DATA_DIR`` or ``--data-dir``
choose another one. The installer profile (team, server URL, CA) joins this module later.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

from kimdesk import APP_NAME

APP_AUTHOR = "Kreis Kleve"
# Environment variables; all of them are documented in README.md and `kimdesk --help`.
DATA_DIR_ENV = "KIMDESK_DATA_DIR"
PASSWORD_ENV = "KIMDESK_PASSWORD"  # the vault password for non-interactive use (scripts, tests)
DEMO_DIR_NAME = "Demo"


def default_data_dir() -> Path:
    """The data directory of the real vault: ``$KIMDESK_DATA_DIR`` or the per-user data dir."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(user_data_dir(APP_NAME, APP_AUTHOR, roaming=False))


def demo_data_dir() -> Path:
    """Where `kimdesk demo` and `kimdesk gui --demo` keep the demo vault by default.

    Always beside, never inside, the real vault's directory, so demo people cannot end up in a
    real vault by accident.
    """
    return Path(user_data_dir(APP_NAME, APP_AUTHOR, roaming=False)).parent / (
        f"{APP_NAME}-{DEMO_DIR_NAME}"
    )


AUTO_LOCK_ENV = "KIMDESK_AUTO_LOCK_MINUTES"
DEFAULT_AUTO_LOCK_MINUTES = 5
MAX_AUTO_LOCK_MINUTES = 60


def auto_lock_minutes() -> int:
    """Idle minutes before the app locks: ``$KIMDESK_AUTO_LOCK_MINUTES`` (1–60), default 5.

    A value outside the range or not a number falls back to the default rather than to no
    lock at all; the installer profile will set it per team.
    """
    raw = os.environ.get(AUTO_LOCK_ENV, "")
    try:
        minutes = int(raw)
    except ValueError:
        return DEFAULT_AUTO_LOCK_MINUTES
    return minutes if 1 <= minutes <= MAX_AUTO_LOCK_MINUTES else DEFAULT_AUTO_LOCK_MINUTES
