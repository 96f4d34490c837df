"""The server's database: one engine, transactions that lock the right thing on either backend.

SQLite (a file, WAL): every transaction that writes starts with ``BEGIN IMMEDIATE``, so writers
queue on the database lock instead of failing half-way with SQLITE_BUSY, and seqs are assigned
under that lock. PostgreSQL: writers lock the team row (``SELECT … FOR UPDATE``), which orders
pushes of one team; reads that must see one snapshot (checksum) run REPEATABLE READ.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, case, create_engine, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from kimdesk.server import tables
from kimdesk.server.settings import Settings

_BEGIN_OPTION = "kimdesk_sqlite_begin"


# Tables of earlier versions that hold data the server must no longer keep: ``stat_cells`` had
# statistics per device (small counts linked to a device) before the protected team tables.
_OBSOLETE_TABLES = ("stat_cells",)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value else None


class Database:
    """Owns the engine; hands out transactions. Thread-safe (one connection per transaction)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = make_url(settings.db_url)
        self.backend = url.get_backend_name()
        # SQLite has one writer at a time anyway: queue this process's writers on a lock
        # (first come, first served) instead of SQLite's sleep-and-retry busy handler.
        self._write_lock = threading.Lock() if self.backend == "sqlite" else None
        if self.backend == "sqlite":
            _private_sqlite_files(url.database)
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 60})
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(
                url, pool_size=settings.pool_size, max_overflow=settings.max_overflow,
                pool_pre_ping=True)

    @property
    def is_postgresql(self) -> bool:
        return self.backend == "postgresql"

    def create_schema(self) -> None:
        """Create what is missing: tables, then columns and indexes that a database made by an
        earlier version lacks (``create_all`` adds neither to a table that exists)."""
        tables.metadata.create_all(self.engine)
        inspector = inspect(self.engine)
        blob = "BYTEA" if self.is_postgresql else "BLOB"
        # Added later: the changes' signatures, the teams' running checksum (NULL: summed again
        # from record_versions on first use).
        added = {"changes": [("signature", blob)], "teams": [("checksum", "VARCHAR(64)"),
                                                              ("checksum_head", "BIGINT")]}
        with self.engine.begin() as conn:
            for obsolete in _OBSOLETE_TABLES:
                if inspector.has_table(obsolete):
                    conn.exec_driver_sql(f"DROP TABLE {obsolete}")
            for table_name, columns in added.items():
                present = {c["name"] for c in inspector.get_columns(table_name)}
                for name, sql_type in columns:
                    if name not in present:
                        conn.exec_driver_sql(
                            f"ALTER TABLE {table_name} ADD COLUMN {name} {sql_type}")
            for table in tables.metadata.sorted_tables:
                present = {str(i["name"]) for i in inspector.get_indexes(table.name)}
                for index in table.indexes:
                    if index.name not in present:
                        index.create(conn)

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("teams")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed at the end unless an exception leaves it."""
        with self._write_lock or nullcontext(), self.engine.connect() as conn:
            if self.backend == "sqlite":
                conn = conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """A read transaction; ``snapshot`` makes all its statements see one moment."""
        with self.engine.connect() as conn:
            if snapshot and self.is_postgresql:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # --- helpers that differ per backend ------------------------------------------------------

    def lock_team(self, conn: Connection, team: str) -> Row[Any] | None:
        """The team row, locked until the transaction ends (SQLite: the write lock is held)."""
        stmt = select(tables.teams).where(tables.teams.c.code == team)
        if self.is_postgresql:
            stmt = stmt.with_for_update()
        return conn.execute(stmt).first()

    def lock_device(self, conn: Connection, device_id: str) -> Row[Any] | None:
        stmt = select(tables.devices).where(tables.devices.c.id == device_id)
        if self.is_postgresql:
            stmt = stmt.with_for_update()
        return conn.execute(stmt).first()

    def insert_ignore(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
                      ) -> None:
        """Insert rows, skipping those whose primary key exists (sorted: no lock-order cycles)."""
        if not rows:
            return
        keys = [c.name for c in table.primary_key.columns]
        ordered = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
        dialect = postgresql if self.is_postgresql else sqlite
        stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=keys)
        conn.execute(stmt, ordered)

    def upsert_max(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
                   column: str) -> None:
        """Insert rows; where the key exists keep the larger ``column`` value."""
        if not rows:
            return
        keys = [c.name for c in table.primary_key.columns]
        ordered = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
        dialect = postgresql if self.is_postgresql else sqlite
        stmt = dialect.insert(table)
        new, old = stmt.excluded[column], table.c[column]
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={column: case((new > old, new), else_=old)})
        conn.execute(stmt, ordered)


def _private_sqlite_files(database: str | None) -> None:
    """The database file (it holds lease secrets and token hashes) readable by the server's
    user only, whatever the umask: created 0600 before SQLite opens it; SQLite gives its -wal and
    -shm files the main file's mode, existing ones are corrected too."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = os.path.abspath(database)
    if not os.path.isdir(os.path.dirname(path)):
        return  # SQLite reports the missing folder itself
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(name):
            os.chmod(name, 0o600)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would begin lazily).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged push survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")
