"""Schema migrations (Alembic), applied when a vault is opened.

Before an existing vault is migrated, a copy of its (still encrypted) database is kept in
``backups/`` so that an update can never lose a vault. Once the migration has committed and the
migrated database passes SQLite's quick check, ``backups/`` is emptied: a copy kept longer would
keep people the vault has since purged (and a copy under an old key would open with an old
header and an old password). A migration that fails leaves its copy for county IT.

Developers create a new revision with::

    .venv/bin/python -m kimdesk.vault.migrate revision "what changed"
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: it costs ~0.2 s at start, before the unlock screen
# can show, and is needed only once a vault is opened.

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(connection: object | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is current."""
    current = current_revision(engine)
    if current == head_revision():
        return
    if current is not None:
        _backup(engine, current)
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")
    with engine.connect() as conn:
        sound = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check").all()] == ["ok"]
        main = conn.exec_driver_sql("PRAGMA database_list").first()
    if sound and main is not None:
        prune_backups(Path(main[2]).parent)


def prune_backups(data_dir: Path) -> None:
    """Delete every copy in ``data_dir/backups`` (each file is overwritten first)."""
    backups = Path(data_dir) / "backups"
    if not backups.is_dir():
        return
    for path in backups.iterdir():
        if path.is_file():
            _overwrite_and_delete(path)


def _overwrite_and_delete(path: Path) -> None:
    """Zeros over the file before unlinking it; on flash storage this is best effort (the copy
    is encrypted anyway, and its key is gone once the header no longer wraps it)."""
    size = path.stat().st_size
    with open(path, "r+b") as file:
        chunk = b"\0" * (1024 * 1024)
        remaining = size
        while remaining > 0:
            remaining -= file.write(chunk[: min(len(chunk), remaining)])
        file.flush()
        os.fsync(file.fileno())
    path.unlink()


def _backup(engine: Engine, revision: str) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        main = conn.exec_driver_sql("PRAGMA database_list").first()
    assert main is not None  # "main" is always listed
    source = Path(main[2])
    backups = source.parent / "backups"
    backups.mkdir(exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    shutil.copy2(source, backups / f"vault-before-{revision}-{stamp}.db")


def _make_revision(message: str) -> None:  # pragma: no cover - developer tool
    import tempfile

    from alembic import command
    from sqlalchemy import create_engine

    from kimdesk.models import Base

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/schema.db")
        with engine.begin() as conn:
            command.upgrade(_config(conn), "head")
        with engine.begin() as conn:
            cfg = _config(conn)
            cfg.attributes["target_metadata"] = Base.metadata
            command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) == 3 and sys.argv[1] == "revision":
        _make_revision(sys.argv[2])
    else:
        sys.exit("usage: python -m kimdesk.vault.migrate revision MESSAGE")
