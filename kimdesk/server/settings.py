"""Settings of the county server: database URL, lifetimes, limits (defaults for a county)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from kimdesk.errors import KimdeskError

DEFAULT_DB_FILE = "kimdesk-server.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443
# Test hook (see kimdesk.server.changelog): terminate the process inside a push before commit.
FAULT_ENV = "KIMDESK_SERVER_FAULT"
FAULT_EVERY_ENV = "KIMDESK_SERVER_FAULT_EVERY"


@dataclass(frozen=True)
class Settings:
    """What a county may want to change; the defaults follow DESIGN.md."""

    db_url: str
    code_valid_days: int = 7  # one-time enrolment codes
    lease_warn_days: int = 30  # offline lease: warn after this many days without a sync
    lease_lock_days: int = 60  # ... and open only after a sync or an unlock code
    max_body_bytes: int = 64 * 1024 * 1024  # a push of 500 changes stays far below
    pool_size: int = 10  # PostgreSQL connections kept open
    max_overflow: int = 30
    touch_interval_seconds: int = 60  # last_seen_at is written at most this often
    # Enrolment: refused attempts (wrong/used/expired code, another person or team) allowed per
    # client address and per team within the window; then every attempt is refused (429), also
    # with a right code, until the oldest leaves the window (docs/it/security.md).
    enrol_window_minutes: int = 15
    enrol_failures_per_address: int = 30
    enrol_failures_per_team: int = 30

    @classmethod
    def from_env(cls, db_url: str) -> Settings:
        """Defaults, overridden by ``KIMDESK_SERVER_LEASE_WARN_DAYS`` and friends."""
        values: dict[str, int] = {}
        for name in ("code_valid_days", "lease_warn_days", "lease_lock_days",
                     "enrol_window_minutes", "enrol_failures_per_address",
                     "enrol_failures_per_team"):
            raw = os.environ.get(f"KIMDESK_SERVER_{name.upper()}")
            if raw is None:
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                raise KimdeskError(f"KIMDESK_SERVER_{name.upper()} muss eine ganze Zahl sein."
                                   ) from None
            if values[name] < 1:
                raise KimdeskError(f"KIMDESK_SERVER_{name.upper()} muss mindestens 1 sein.")
        return cls(db_url=db_url, **values)


def normalise_db_url(text: str | None) -> str:
    """A SQLAlchemy URL from what IT types: a URL, a plain file path, or nothing (default file).

    ``postgresql://`` means psycopg 3 (the driver the server extra installs).
    """
    if not text:
        text = DEFAULT_DB_FILE
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    try:
        url = make_url(text)
    except Exception:  # SQLAlchemy raises ArgumentError; the text may hold a password
        raise KimdeskError("Die Datenbank-Angabe (--db) ist keine gültige URL.") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise KimdeskError("Als Datenbank gehen nur SQLite (Datei) und PostgreSQL.")
    return url.render_as_string(hide_password=False)


def safe_db_label(db_url: str) -> str:
    """The database for messages and logs: never the password."""
    url: URL = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite-Datei {url.database}"
    return f"PostgreSQL {url.set(password=None).render_as_string(hide_password=True)}"
