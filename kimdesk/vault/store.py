"""The vault: one object owns the SQLCipher database, its key, its sessions and attachments.

Readers get their own session; writers are serialised through one lock and ``BEGIN IMMEDIATE``.
The DB key lives only in this object and is dropped by ``close()`` (auto-lock, quit).
SQLCipher's "corrupt" and "not a database" errors surface as :class:`VaultCorrupted`, wherever
they happen (opening, reading, writing).
"""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import Engine, ExceptionContext, create_engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from kimdesk.vault import keys
from kimdesk.vault.attachments import AttachmentStore, reencrypt_attachments
from kimdesk.vault.changes import ChangeFeed, ChangeSubscriber, written_table
from kimdesk.vault.errors import (
    VaultCorrupted,
    VaultError,
    VaultLocked,
    VaultMissing,
    WrongPassword,
)
from kimdesk.vault.header import VaultHeader, fsync_dir, read_header, write_header
from kimdesk.vault.migrate import prune_backups, upgrade
from kimdesk.vault.passwords import MIN_PASSWORD_LENGTH, check_password_policy
from kimdesk.vault.throttle import UnlockThrottle
from kimdesk.vault.walcheck import check_wal

DB_FILE = "vault.db"
HEADER_FILE = "vault-header.json"
ATTEMPTS_FILE = "unlock-attempts.json"
ATTACHMENT_DIR = "attachments"
# Set in ``session.info`` of an outermost :meth:`Vault.writing` by a caller that gives up its
# whole unit of work on any error (``kimdesk demo``): nested ``writing()`` calls then join the
# transaction without a SAVEPOINT of their own (a savepoint costs two statements and two
# flushes per use case, and nobody would roll back to it).
JOIN_NESTED = "kimdesk_vault_join_nested"
REKEY_FILE = DB_FILE + ".rekey"  # the database under the new key while a re-key copies it

# Switches for benchmarks/sqlcipher_cost.py only, which sets them in its own process: nothing
# in kimdesk changes them and neither the CLI nor the UI can (tests/vault check both).
# cipher_memory_security stays off in the app: see docs/sqlcipher-cost.md for why.
_BENCHMARK_MEMORY_SECURITY = False
_BENCHMARK_PLAIN_SQLITE = False

_LOCKED = "Der Datentresor ist gesperrt."
_DB_CORRUPTED = "Die Datenbank des Datentresors ist beschädigt oder wurde verändert."


__all__ = ["MIN_PASSWORD_LENGTH", "Vault", "check_password_policy", "create_vault",
           "open_vault", "open_with_county_key", "open_with_recovery_code",
           "unlock_with_county_key", "unlock_with_recovery_code", "vault_exists"]


def vault_exists(data_dir: Path) -> bool:
    return (Path(data_dir) / HEADER_FILE).is_file()


class Vault:
    """An unlocked vault. Create with :func:`create_vault` or :func:`open_vault`."""

    def __init__(self, data_dir: Path, header: VaultHeader, db_key: bytes) -> None:
        self.data_dir = Path(data_dir)
        self._header = header
        self._db_key: bytes | None = db_key
        self._root: bytes | None = _derivation_root(header, db_key)
        # Set when the vault was opened with the recovery code or the county key: only then may
        # reset_password() set a new password without the old one.
        self._recovered = False
        self._write_lock = threading.RLock()
        self._unit_of_work = threading.local()
        self._changes = ChangeFeed()
        # The engine's connection factory holds the key; close() drops the engine with it.
        self._engine: Engine | None = _make_engine(self.db_path, db_key)
        self.attachments = AttachmentStore(
            self.data_dir / ATTACHMENT_DIR, keys.hkdf(db_key, "kimdesk attachments v1"), header
        )

    # --- paths and identity ---------------------------------------------------------------

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE

    @property
    def header_path(self) -> Path:
        return self.data_dir / HEADER_FILE

    @property
    def vault_id(self) -> str:
        return self._header.vault_id

    @property
    def is_open(self) -> bool:
        return self._db_key is not None

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine; :class:`VaultError` once the vault is locked."""
        if self._engine is None or self._db_key is None:
            raise VaultError(_LOCKED)
        return self._engine

    def derived_key(self, purpose: str) -> bytes:
        """A key for one purpose inside the vault (e.g. the audit chain's MAC)."""
        self._require_open()
        assert self._root is not None
        return keys.hkdf(self._root, f"kimdesk {purpose} v1")

    # --- sessions -------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; it sees one consistent snapshot of the database.

        Inside a write transaction of the same thread it is that transaction's session, so a
        use case reads what the enclosing unit of work has written so far.
        """
        outer: Session | None = getattr(self._unit_of_work, "session", None)
        if outer is not None:
            yield outer
            return
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in a write transaction; commits on success, rolls back on any error.

        Writes are serialised in this process by a lock and across processes by BEGIN IMMEDIATE.
        Nested in another ``writing()`` of the same thread it becomes a SAVEPOINT of that
        transaction (a unit of work: many use cases, one commit); an error rolls back only
        the nested part and propagates.

        After the outermost transaction has committed, the subscribers (:meth:`subscribe`)
        receive the names of the tables it wrote, on this thread, outside the write lock.
        """
        outer: Session | None = getattr(self._unit_of_work, "session", None)
        if outer is not None:
            if outer.info.get(JOIN_NESTED):
                yield outer
                return
            with outer.begin_nested():
                yield outer
            return
        engine = self.engine
        written: set[str] = set()
        with self._write_lock:
            conn = engine.connect().execution_options(
                kimdesk_immediate=True, kimdesk_written=written)
            try:
                with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                    self._unit_of_work.session = session
                    try:
                        yield session
                    finally:
                        self._unit_of_work.session = None
            finally:
                conn.close()
        self._changes.publish(written)

    def subscribe(self, subscriber: ChangeSubscriber) -> Callable[[], None]:
        """Call ``subscriber`` with the set of table names after every committed unit of work
        (on the committing thread). Returns the function that unsubscribes it."""
        return self._changes.subscribe(subscriber)

    # --- maintenance ----------------------------------------------------------------------

    def check_integrity(self) -> list[str]:
        """All problems SQLCipher (page MACs) and SQLite (structure) find; empty means sound.

        Damage that stops a check half-way is reported as a problem, not raised.
        """
        problems: list[str] = []
        with self.engine.connect() as conn:
            for pragma in ("PRAGMA cipher_integrity_check", "PRAGMA integrity_check"):
                try:
                    rows = conn.exec_driver_sql(pragma).all()
                except VaultCorrupted as exc:
                    problems.append(f"{pragma}: {exc.__cause__ or exc}")
                    continue
                problems.extend(str(row[0]) for row in rows if row[0] != "ok")
        return problems

    def change_password(
        self,
        old_password: str,
        new_password: str,
        *,
        user_inputs: Sequence[str] = (),
        rekey: bool = False,
        county_public_key: X25519PublicKey | None = None,
    ) -> str | None:
        """Set a new password; ``user_inputs`` (the user's name) count as easy to guess.

        Without ``rekey`` the DB key is rewrapped and the data is not re-encrypted. With
        ``rekey`` the vault gets a new DB key (see :meth:`rekey`) and the new recovery code is
        returned: the old password, old headers, the old recovery code and backups no longer
        open anything.
        """
        self._require_open()
        check_password_policy(new_password, user_inputs=user_inputs)
        if _unwrap_with_password(self._header, old_password) != self._db_key:
            raise WrongPassword("Das bisherige Passwort ist nicht richtig.")
        if rekey:
            return self.rekey(new_password, county_public_key=county_public_key)
        self._set_password(new_password)
        return None

    def reset_password(
        self,
        new_password: str,
        *,
        user_inputs: Sequence[str] = (),
        county_public_key: X25519PublicKey | None = None,
    ) -> str:
        """After a recovery: a new password and a new DB key; returns the new recovery code.

        Only a vault opened by :func:`unlock_with_recovery_code` or
        :func:`unlock_with_county_key` may do this (everyone else must know the old password).
        """
        self._require_open()
        if not self._recovered:
            raise VaultError("Ein neues Passwort ohne das bisherige setzt nur die "
                             "Wiederherstellung.")
        check_password_policy(new_password, user_inputs=user_inputs)
        code = self.rekey(new_password, county_public_key=county_public_key)
        self._recovered = False
        UnlockThrottle(self.data_dir / ATTEMPTS_FILE).record_success()
        return code

    def rekey(self, new_password: str, *, county_public_key: X25519PublicKey | None = None) -> str:
        """Give the vault a new random DB key under ``new_password``; returns the new recovery code.

        The database is copied under the new key (``sqlcipher_export``) and renamed over the old
        file, every attachment is re-encrypted, the old recovery code stops working and
        ``backups/`` (copies under the old key) is emptied. The county's recovery key wraps the
        new key too (``county_public_key`` replaces or adds it). The new header, written first,
        carries the old key wrapped under the new one until the end: a crash at any moment
        leaves a vault that either the old password (before that header) or the new one (after
        it) opens completely; the next opening finishes the re-key. The caller checks the
        password policy. Keys derived with :meth:`derived_key` (the audit chain's) stay the same.
        """
        self._require_open()
        assert self._db_key is not None and self._root is not None
        with self._write_lock:
            old_key, new_key = self._db_key, keys.new_key()
            code = keys.new_recovery_code()
            if county_public_key is None and self._header.county_wrap is not None:
                county_public_key = X25519PublicKey.from_public_bytes(
                    self._header.county_wrap.recipient_public)
            kdf = replace(self._header.kdf, salt=os.urandom(16))
            recovery_salt = os.urandom(16)
            draft = self._header
            pending = replace(
                draft,
                kdf=kdf,
                password_wrap=keys.wrap(keys.derive_kek(new_password, kdf), new_key,
                                        draft.aad("password")),
                recovery_salt=recovery_salt,
                recovery_code_wrap=keys.wrap(keys.recovery_code_key(code, recovery_salt),
                                             new_key, draft.aad("recovery-code")),
                county_wrap=(keys.seal_for(county_public_key, new_key, draft.aad("county"))
                             if county_public_key is not None else None),
                derivation_root=keys.wrap(new_key, self._root, draft.aad("derivation-root")),
                previous_key=keys.wrap(new_key, old_key, draft.aad("previous-key")),
            ).signed(new_key)
            # No connection may hold the old key's pages while the file is replaced.
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            self._discard()
            write_header(self.header_path, pending)  # from here on the new password opens
            header = _finish_rekey(self.data_dir, pending, new_key, old_key)
            self._header, self._db_key, self._root = header, new_key, _derivation_root(
                header, new_key)
            self._engine = _make_engine(self.db_path, new_key)
            self.attachments = AttachmentStore(
                self.data_dir / ATTACHMENT_DIR, keys.hkdf(new_key, "kimdesk attachments v1"),
                header)
        return code

    def _set_password(self, new_password: str) -> None:
        assert self._db_key is not None
        kdf = keys.KdfParams(
            salt=os.urandom(16),
            memory_kib=self._header.kdf.memory_kib,
            iterations=self._header.kdf.iterations,
            lanes=self._header.kdf.lanes,
        )
        kek = keys.derive_kek(new_password, kdf)
        header = replace(
            self._header,
            kdf=kdf,
            password_wrap=keys.wrap(kek, self._db_key, self._header.aad("password")),
        ).signed(self._db_key)
        write_header(self.header_path, header)
        self._header = header

    def close(self) -> None:
        """Checkpoint the log into the database, drop every connection and forget the key."""
        if self._db_key is None:
            return
        with self._write_lock:
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._discard()

    def _discard(self) -> None:
        """Close every connection and forget the key and the engine (whose factory holds it)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self._db_key = None
        self._root = None
        self.attachments.forget_key()
        self._changes.clear()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_open(self) -> None:
        if self._db_key is None:
            raise VaultError(_LOCKED)


# --- engine -----------------------------------------------------------------------------------


def _make_engine(db_path: Path, db_key: bytes) -> Engine:
    pragma_key = f"PRAGMA key = \"x'{db_key.hex()}'\""

    def connect() -> sqlcipher.Connection:
        conn = sqlcipher.connect(str(db_path), check_same_thread=False, timeout=15)
        try:
            _prepare_connection(conn, pragma_key)
        except BaseException:
            conn.close()  # a raw error from here is translated by _translate_corruption
            raise
        return conn

    engine = create_engine(
        f"sqlite:///{db_path}",
        creator=connect,
        module=sqlcipher,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
        # SQL errors would otherwise quote their parameters (names, notes) in the message,
        # which ends up in tracebacks, logs and crash reports.
        hide_parameters=True,
    )

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        immediate = conn.get_execution_options().get("kimdesk_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @event.listens_for(engine, "after_cursor_execute")
    def _note_write(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        written = conn.get_execution_options().get("kimdesk_written")
        if written is not None:
            table = written_table(statement)
            if table is not None:
                written.add(table)

    event.listen(engine, "handle_error", _translate_corruption)
    return engine


def _prepare_connection(conn: sqlcipher.Connection, pragma_key: str) -> None:
    conn.isolation_level = None  # transactions are begun explicitly by the "begin" listener
    if _BENCHMARK_MEMORY_SECURITY:  # once on, it stays on for the whole process
        conn.execute("PRAGMA cipher_memory_security = ON")
    if not _BENCHMARK_PLAIN_SQLITE:
        conn.execute(pragma_key)
    version = conn.execute("PRAGMA cipher_version").fetchone()
    if not version or not version[0]:
        raise VaultError(
            "SQLCipher fehlt: KIMdesk startet nicht mit einer unverschlüsselten Datenbank."
        )
    # The first read checks the key against page 1; a wrong key or damage gives SQLITE_NOTADB.
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    for pragma in (
        "PRAGMA temp_store = MEMORY",
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA secure_delete = ON",
        "PRAGMA trusted_schema = OFF",
    ):
        conn.execute(pragma)


def _is_corruption(exc: BaseException) -> bool:
    """True for SQLCipher's answers to damaged or altered pages (page MAC or structure)."""
    if not isinstance(exc, sqlcipher.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):  # extended codes (e.g. SQLITE_CORRUPT_VTAB) keep the primary code
        return code & 0xFF in (sqlcipher.SQLITE_CORRUPT, sqlcipher.SQLITE_NOTADB)
    return str(exc) in ("file is not a database", "database disk image is malformed")


def _translate_corruption(context: ExceptionContext) -> None:
    """The one place where a damaged database becomes :class:`VaultCorrupted`.

    SQLCipher keeps a connection that met a page with a bad MAC in an error state (later writes
    fail as "readonly"), so that connection is discarded rather than returned to the pool.
    """
    if _is_corruption(context.original_exception):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False  # the other connections are fine
        raise VaultCorrupted(_DB_CORRUPTED) from context.original_exception


# --- create / open / recover ------------------------------------------------------------------


def _derivation_root(header: VaultHeader, db_key: bytes) -> bytes:
    """The root of :meth:`Vault.derived_key`: the vault's first DB key, kept across re-keys."""
    if header.derivation_root is None:
        return db_key
    root = keys.unwrap(db_key, header.derivation_root, header.aad("derivation-root"))
    if root is None:
        raise VaultCorrupted("Der Kopf des Datentresors ist beschädigt.")
    return root


def _opens_with(db_path: Path, db_key: bytes) -> bool:
    """True when ``db_key`` opens the database file (reads page 1); nothing is changed."""
    conn = sqlcipher.connect(str(db_path), check_same_thread=False, timeout=15)
    try:
        conn.execute(f"PRAGMA key = \"x'{db_key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher.DatabaseError as exc:
        if _is_corruption(exc):
            return False
        raise
    finally:
        conn.close()


def _export_under_new_key(data_dir: Path, old_key: bytes, new_key: bytes) -> None:
    """Copy the database under ``new_key`` into a new file and rename it over the old one.

    The old file stays whole until the atomic rename, so a crash leaves either database.
    """
    db_path, target = data_dir / DB_FILE, data_dir / REKEY_FILE
    for leftover in (REKEY_FILE, REKEY_FILE + "-journal"):
        (data_dir / leftover).unlink(missing_ok=True)
    conn = sqlcipher.connect(str(db_path), check_same_thread=False, timeout=15)
    try:
        _prepare_connection(conn, f"PRAGMA key = \"x'{old_key.hex()}'\"")
        conn.execute(f"ATTACH DATABASE ? AS rekeyed KEY \"x'{new_key.hex()}'\"",
                     (str(target),))
        conn.execute("SELECT sqlcipher_export('rekeyed')")
        conn.execute("DETACH DATABASE rekeyed")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if os.name == "posix":
        target.chmod(0o600)
    # The old database's log is empty (checkpointed, last connection closed); a leftover empty
    # -wal or -shm must not be taken for the new file's.
    for name in (DB_FILE + "-wal", DB_FILE + "-shm"):
        path = data_dir / name
        if path.exists() and (name.endswith("-shm") or path.stat().st_size == 0):
            path.unlink()
    if (data_dir / (DB_FILE + "-wal")).exists():
        raise VaultCorrupted(_DB_CORRUPTED)
    os.replace(target, db_path)
    fsync_dir(data_dir)


def _finish_rekey(data_dir: Path, header: VaultHeader, new_key: bytes, old_key: bytes
                  ) -> VaultHeader:
    """Complete a re-key whose header (with ``previous_key``) is written; idempotent."""
    reencrypt_attachments(data_dir / ATTACHMENT_DIR, header.vault_id,
                          keys.hkdf(old_key, "kimdesk attachments v1"),
                          keys.hkdf(new_key, "kimdesk attachments v1"))
    # The old key first: that is the usual case, and a failed try makes SQLCipher log an error.
    if _opens_with(data_dir / DB_FILE, old_key):
        _export_under_new_key(data_dir, old_key, new_key)
    elif not _opens_with(data_dir / DB_FILE, new_key):
        raise VaultCorrupted(_DB_CORRUPTED)
    for leftover in (REKEY_FILE, REKEY_FILE + "-journal"):
        (data_dir / leftover).unlink(missing_ok=True)
    # Copies under the old key would open with an old header and the old password.
    prune_backups(data_dir)
    done = replace(header, previous_key=None).signed(new_key)
    write_header(data_dir / HEADER_FILE, done)
    return done


def _unwrap_with_password(header: VaultHeader, password: str) -> bytes | None:
    kek = keys.derive_kek(password, header.kdf)
    return keys.unwrap(kek, header.password_wrap, header.aad("password"))


def create_vault(
    data_dir: Path,
    password: str,
    *,
    kdf: keys.KdfParams | None = None,
    county_public_key: X25519PublicKey | None = None,
    user_inputs: Sequence[str] = (),
    allow_weak_password: bool = False,
) -> tuple[Vault, str]:
    """Create an empty, migrated vault. Returns it with the recovery code to print once.

    ``user_inputs`` (the user's name) count as easy to guess in the password check;
    ``allow_weak_password`` is for the demo vault only (invented people, fixed password).
    ``county_public_key`` (the installation profile's) lets county IT restore access.
    """
    data_dir = Path(data_dir)
    check_password_policy(password, user_inputs=user_inputs, allow_weak=allow_weak_password)
    if vault_exists(data_dir):
        raise VaultError(f"In {data_dir} gibt es bereits einen Datentresor.")
    # A database without header is an interrupted creation: its key was never written down,
    # so nobody can ever read it. Clearing it lets the user simply start again.
    for leftover in (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", DB_FILE + "-journal"):
        (data_dir / leftover).unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    kdf = kdf or keys.KdfParams.new()
    db_key = keys.new_key()
    recovery_code = keys.new_recovery_code()
    recovery_salt = os.urandom(16)
    draft = VaultHeader(
        vault_id=uuid.uuid4().hex,
        kdf=kdf,
        password_wrap=keys.Wrapped(b"", b""),
        recovery_salt=recovery_salt,
        recovery_code_wrap=keys.Wrapped(b"", b""),
        county_wrap=None,
    )
    header = replace(
        draft,
        password_wrap=keys.wrap(keys.derive_kek(password, kdf), db_key, draft.aad("password")),
        recovery_code_wrap=keys.wrap(
            keys.recovery_code_key(recovery_code, recovery_salt), db_key, draft.aad("recovery-code")
        ),
        county_wrap=(
            keys.seal_for(county_public_key, db_key, draft.aad("county"))
            if county_public_key
            else None
        ),
    ).signed(db_key)
    vault = Vault(data_dir, header, db_key)
    try:
        upgrade(vault.engine)
        # The header goes last: a vault without header is an unfinished creation, not a vault.
        write_header(data_dir / HEADER_FILE, header)
    except BaseException:
        vault._discard()
        raise
    restrict_permissions(data_dir)
    return vault, recovery_code


def _read_existing_header(data_dir: Path) -> VaultHeader:
    if not vault_exists(data_dir):
        raise VaultMissing(f"In {data_dir} wurde kein Datentresor gefunden.")
    return read_header(data_dir / HEADER_FILE)


def _open_with_key(data_dir: Path, header: VaultHeader, db_key: bytes) -> Vault:
    header.verify(db_key)
    if header.previous_key is not None:  # a re-key was interrupted: finish it first
        old_key = keys.unwrap(db_key, header.previous_key, header.aad("previous-key"))
        if old_key is None:
            raise VaultCorrupted("Der Kopf des Datentresors ist beschädigt.")
        header = _finish_rekey(data_dir, header, db_key, old_key)
    report = check_wal(data_dir / (DB_FILE + "-wal"))
    if report.damaged:
        raise VaultCorrupted(
            "Das Schreibprotokoll des Datentresors ist beschädigt "
            f"({report.detail}). Es wurde nichts verändert; bitte wenden Sie sich an die Kreis-IT."
        )
    if not (data_dir / DB_FILE).is_file():
        raise VaultCorrupted("Die Datenbank des Datentresors fehlt.")
    vault = Vault(data_dir, header, db_key)
    try:
        upgrade(vault.engine)
    except BaseException:
        vault._discard()
        raise
    restrict_permissions(data_dir)
    return vault


def restrict_permissions(data_dir: Path) -> None:
    """Owner-only access to the database files (SQLite creates them with the umask)."""
    if os.name != "posix":  # NTFS: the data directory's ACL, set by the installer, applies
        return
    for name in (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"):
        path = data_dir / name
        if path.exists():
            path.chmod(0o600)


def _seconds(value: float) -> str:
    whole = max(1, math.ceil(value))
    return "1 Sekunde" if whole == 1 else f"{whole} Sekunden"


def open_vault(data_dir: Path, password: str, *, now: Callable[[], float] = time.time) -> Vault:
    """Unlock with the password. Wrong password: :class:`WrongPassword`, nothing changed.

    ``now`` is the clock of the unlock throttle (tests pass their own).
    """
    data_dir = Path(data_dir)
    header = _read_existing_header(data_dir)
    throttle = UnlockThrottle(data_dir / ATTEMPTS_FILE, now=now)
    wait = throttle.wait_remaining()
    if wait > 0:
        raise VaultLocked(
            f"Zu viele Fehlversuche. Bitte warten Sie noch {_seconds(wait)}.", retry_after=wait
        )
    db_key = _unwrap_with_password(header, password)
    if db_key is None:
        delay = throttle.record_failure()
        hint = f" Nächster Versuch in {_seconds(delay)} möglich." if delay else ""
        raise WrongPassword("Das Passwort ist nicht richtig." + hint, retry_after=delay)
    vault = _open_with_key(data_dir, header, db_key)
    throttle.record_success()
    return vault


def unlock_with_recovery_code(data_dir: Path, code: str) -> Vault:
    """The printed recovery code opens the vault; the caller must then call
    :meth:`Vault.reset_password` (nothing on disk is changed until then)."""
    data_dir = Path(data_dir)
    header = _read_existing_header(data_dir)
    if not keys.is_well_formed_recovery_code(code):
        raise WrongPassword(
            "Der Wiederherstellungscode ist nicht richtig: "
            "er besteht aus 26 Ziffern und Buchstaben."
        )
    key = keys.recovery_code_key(code, header.recovery_salt)
    db_key = keys.unwrap(key, header.recovery_code_wrap, header.aad("recovery-code"))
    if db_key is None:
        raise WrongPassword("Der Wiederherstellungscode ist nicht richtig.")
    vault = _open_with_key(data_dir, header, db_key)
    vault._recovered = True
    return vault


def unlock_with_county_key(data_dir: Path, county_private_key: X25519PrivateKey) -> Vault:
    """County IT opens the vault with the county's recovery key (offline, on the laptop);
    the caller must then call :meth:`Vault.reset_password`."""
    data_dir = Path(data_dir)
    header = _read_existing_header(data_dir)
    if header.county_wrap is None:
        raise VaultError("Dieser Datentresor hat keinen Wiederherstellungsschlüssel des Kreises.")
    db_key = keys.open_sealed(county_private_key, header.county_wrap, header.aad("county"))
    if db_key is None:
        raise WrongPassword("Der Wiederherstellungsschlüssel passt nicht zu diesem Datentresor.")
    vault = _open_with_key(data_dir, header, db_key)
    vault._recovered = True
    return vault


def _reset(vault: Vault, new_password: str) -> tuple[Vault, str]:
    try:
        code = vault.reset_password(new_password)
    except BaseException:
        vault._discard()
        raise
    return vault, code


def open_with_recovery_code(data_dir: Path, code: str, new_password: str) -> tuple[Vault, str]:
    """The printed recovery code opens the vault, which gets a new password and a new key.

    Returns the vault and the new recovery code (the used one stops working).
    """
    check_password_policy(new_password)  # before anything is opened
    return _reset(unlock_with_recovery_code(data_dir, code), new_password)


def open_with_county_key(
    data_dir: Path, county_private_key: X25519PrivateKey, new_password: str
) -> tuple[Vault, str]:
    """County IT restores access with the county's recovery key without knowing any password;
    the vault gets a new password and a new key. Returns it with the new recovery code."""
    check_password_policy(new_password)
    return _reset(unlock_with_county_key(data_dir, county_private_key), new_password)
