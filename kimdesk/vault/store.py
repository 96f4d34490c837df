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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import Engine, ExceptionContext, create_engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from kimdesk.errors import ValidationError
from kimdesk.vault import keys
from kimdesk.vault.attachments import AttachmentStore
from kimdesk.vault.changes import ChangeFeed, ChangeSubscriber, written_table
from kimdesk.vault.errors import (
    VaultCorrupted,
    VaultError,
    VaultLocked,
    VaultMissing,
    WrongPassword,
)
from kimdesk.vault.header import VaultHeader, read_header, write_header
from kimdesk.vault.migrate import upgrade
from kimdesk.vault.throttle import UnlockThrottle
from kimdesk.vault.walcheck import check_wal

DB_FILE = "vault.db"
HEADER_FILE = "vault-header.json"
ATTEMPTS_FILE = "unlock-attempts.json"
ATTACHMENT_DIR = "attachments"
MIN_PASSWORD_LENGTH = 10

_LOCKED = "Der Datentresor ist gesperrt."
_DB_CORRUPTED = "Die Datenbank des Datentresors ist beschädigt oder wurde verändert."


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein.", "password"
        )


def vault_exists(data_dir: Path) -> bool:
    return (Path(data_dir) / HEADER_FILE).is_file()


class Vault:
    """An unlocked vault. Create with :func:`create_vault` or :func:`open_vault`."""

    def __init__(self, data_dir: Path, header: VaultHeader, db_key: bytes) -> None:
        self.data_dir = Path(data_dir)
        self._header = header
        self._db_key: bytes | None = db_key
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
        assert self._db_key is not None
        return keys.hkdf(self._db_key, f"kimdesk {purpose} v1")

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

    def change_password(self, old_password: str, new_password: str) -> None:
        """Rewrap the DB key under a new password; the data is not re-encrypted."""
        self._require_open()
        check_password_policy(new_password)
        if _unwrap_with_password(self._header, old_password) != self._db_key:
            raise WrongPassword("Das bisherige Passwort ist nicht richtig.")
        self._set_password(new_password)

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
    conn.execute("PRAGMA cipher_memory_security = ON")
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


def _unwrap_with_password(header: VaultHeader, password: str) -> bytes | None:
    kek = keys.derive_kek(password, header.kdf)
    return keys.unwrap(kek, header.password_wrap, header.aad("password"))


def create_vault(
    data_dir: Path,
    password: str,
    *,
    kdf: keys.KdfParams | None = None,
    county_public_key: X25519PublicKey | None = None,
) -> tuple[Vault, str]:
    """Create an empty, migrated vault. Returns it with the recovery code to print once."""
    data_dir = Path(data_dir)
    check_password_policy(password)
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


def _open_and_set_password(
    data_dir: Path, header: VaultHeader, db_key: bytes, new_password: str
) -> Vault:
    vault = _open_with_key(data_dir, header, db_key)
    try:
        vault._set_password(new_password)
    except BaseException:
        vault._discard()
        raise
    UnlockThrottle(data_dir / ATTEMPTS_FILE).record_success()
    return vault


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


def open_with_recovery_code(data_dir: Path, code: str, new_password: str) -> Vault:
    """The printed recovery code opens the vault and sets a new password."""
    data_dir = Path(data_dir)
    check_password_policy(new_password)
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
    return _open_and_set_password(data_dir, header, db_key, new_password)


def open_with_county_key(
    data_dir: Path, county_private_key: X25519PrivateKey, new_password: str
) -> Vault:
    """County IT restores access with the county's recovery key without knowing any password."""
    data_dir = Path(data_dir)
    check_password_policy(new_password)
    header = _read_existing_header(data_dir)
    if header.county_wrap is None:
        raise VaultError("Dieser Datentresor hat keinen Wiederherstellungsschlüssel des Kreises.")
    db_key = keys.open_sealed(county_private_key, header.county_wrap, header.aad("county"))
    if db_key is None:
        raise WrongPassword("Der Wiederherstellungsschlüssel passt nicht zu diesem Datentresor.")
    return _open_and_set_password(data_dir, header, db_key, new_password)
