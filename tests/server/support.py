"""Helpers for server tests: a real PostgreSQL cluster, `kimdesk serve` as a process, devices.

``PostgresCluster`` runs initdb + pg_ctl in a temporary directory (as the ``postgres`` user when
the tests run as root) and hands out fresh databases copied from a template with the schema.
``ServerProcess`` runs ``kimdesk serve`` (uvicorn, optionally ``--workers N`` processes) as a
subprocess that tests can stop, kill with SIGKILL and restart. ``Device`` holds real
Ed25519/X25519 keys and signs key envelopes.
"""

from __future__ import annotations

import glob
import hashlib
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kimdesk.sync import protocol

REPO = Path(__file__).resolve().parents[2]
INSTALL_HINT = ("PostgreSQL server binaries (initdb, pg_ctl, postgres) are missing: run "
                "`bash scripts/install-system-deps.sh` as root (Debian package postgresql).")
_RAW = serialization.Encoding.Raw
_RAW_PUBLIC = serialization.PublicFormat.Raw


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """Where initdb/pg_ctl/postgres live: on PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name)
                        if Path(p).parent.parent.name.isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


class PostgresCluster:
    """A throwaway PostgreSQL server on a free loopback port, owned by the test session."""

    TEMPLATE = "kimdesk_template"

    def __init__(self) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError(INSTALL_HINT)
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="kimdesk-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        self._numbers = itertools.count(1)
        self.started = False

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            # PostgreSQL refuses to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                check=False)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}\n{log}")

    def start(self) -> PostgresCluster:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8")
        options = (f"-F -p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=300 -c shared_buffers=32MB")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l",
                  str(self.log), "-o", options)
        self.started = True
        self._admin(f"CREATE DATABASE {self.TEMPLATE}")
        from kimdesk.server.db import Database
        from kimdesk.server.settings import Settings

        db = Database(Settings(db_url=self.url(self.TEMPLATE)))
        try:
            db.create_schema()
        finally:
            db.dispose()
        return self

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def new_database(self) -> str:
        """A fresh database with the server schema; returns its SQLAlchemy URL."""
        name = f"kimdesk_test_{os.getpid()}_{next(self._numbers)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {self.TEMPLATE}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --- kimdesk serve as a process ---------------------------------------------------------------


class ServerProcess:
    """``kimdesk serve --db URL --port P`` as a real subprocess (uvicorn).

    ``env`` adds variables (e.g. ``KIMDESK_SERVER_FAULT=push-before-commit``); fault variables
    of the test process itself are never inherited. The port stays the same across restarts,
    so clients keep their URL. Output goes to ``log_path`` (appended across restarts).
    """

    def __init__(self, db_url: str, *, port: int | None = None, host: str = "127.0.0.1",
                 env: Mapping[str, str] | None = None, log_path: Path | None = None,
                 certfile: Path | None = None, keyfile: Path | None = None,
                 workers: int = 1) -> None:
        self.db_url = db_url
        self.workers = workers
        self.host = host
        self.port = port or free_port()
        self.env = dict(env or {})
        self.certfile = certfile
        self.keyfile = keyfile
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="kimdesk-serve-", suffix=".log")
            os.close(handle)
            log_path = Path(name)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.certfile else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "kimdesk.cli", "serve", "--db", self.db_url,
                   "--host", self.host, "--port", str(self.port)]
        if self.certfile and self.keyfile:
            command += ["--certfile", str(self.certfile), "--keyfile", str(self.keyfile)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        return command

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start and wait until ``/v1/health`` answers."""
        if self.running:
            raise RuntimeError("server already running")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_SERVER_FAULT")}
        env.update(self.env)
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "ab") as log:
            # Its own process group: a SIGKILL reaches the workers too.
            self._process = subprocess.Popen(self.command(), stdout=log,
                                             stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, env=env, cwd=REPO,
                                             start_new_session=self.workers > 1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"kimdesk serve exited with {self._process.returncode}:\n"
                                   f"{self.log_text()}")
            try:
                response = httpx.get(f"{self.url}/v1/health", verify=False, timeout=2)
                if response.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"kimdesk serve did not answer within {timeout} s:\n"
                           f"{self.log_text()}")

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the process to end by itself (e.g. the fault hook); its exit code."""
        assert self._process is not None
        return self._process.wait(timeout=timeout)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL if it does not end in time."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self._process.returncode

    @property
    def pid(self) -> int | None:
        """The process id of `kimdesk serve` (with workers: their supervisor)."""
        return None if self._process is None else self._process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit of anything in flight."""
        if self._process is not None and self._process.poll() is None:
            if self.workers > 1:
                os.killpg(self._process.pid, signal.SIGKILL)
            else:
                self._process.kill()
            self._process.wait(timeout=15)

    def restart(self, *, env: Mapping[str, str] | None = None, timeout: float = 30.0
                ) -> ServerProcess:
        """Stop (if running) and start again on the same port; ``env`` replaces the extras."""
        self.stop()
        if env is not None:
            self.env = dict(env)
        return self.start(timeout=timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") \
            if self.log_path.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# --- devices with real keys -------------------------------------------------------------------


@dataclass
class Device:
    """A device's key pairs and, once enrolled, its id, team and token."""

    sign_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    box_key: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)
    device_id: str = ""
    team: str = ""
    token: str = ""
    coordinator: bool = False
    enrolment: dict[str, Any] = field(default_factory=dict)

    @property
    def sign_public(self) -> bytes:
        return self.sign_key.public_key().public_bytes(_RAW, _RAW_PUBLIC)

    @property
    def box_public(self) -> bytes:
        return self.box_key.public_key().public_bytes(_RAW, _RAW_PUBLIC)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def enrol_body(self, code: str, user: str, device_name: str = "Laptop") -> dict[str, str]:
        return {"code": code, "user": user, "device_name": device_name,
                "sign_public_key": protocol.b64e(self.sign_public),
                "box_public_key": protocol.b64e(self.box_public)}

    def seal(self, recipient: Device, epoch: int, team_key: bytes) -> dict[str, Any]:
        """The team key wrapped for ``recipient`` (X25519 + HKDF + AES-GCM), signed by us."""
        ephemeral = X25519PrivateKey.generate()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.box_public))
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"kimdesk test envelope").derive(shared)
        nonce = os.urandom(12)
        envelope: dict[str, Any] = {
            "recipient_id": recipient.device_id, "epoch": epoch, "granter_id": self.device_id,
            "ephemeral_public": protocol.b64e(
                ephemeral.public_key().public_bytes(_RAW, _RAW_PUBLIC)),
            "nonce": protocol.b64e(nonce),
            "ciphertext": protocol.b64e(AESGCM(key).encrypt(nonce, team_key, None)),
        }
        message = protocol.envelope_signing_bytes(
            self.team, epoch, recipient.device_id, self.device_id,
            envelope["ephemeral_public"], envelope["nonce"], envelope["ciphertext"])
        envelope["signature"] = protocol.b64e(self.sign_key.sign(message))
        return envelope


_CLOCK = itertools.count()
_HLC_BASE_MS = 1_764_000_000_000


def record_id_of(name: str) -> str:
    """A record id of the protocol's shape for a readable test name (the same name, the same
    id)."""
    if re.fullmatch(protocol.RECORD_ID_PATTERN, name):
        return name
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def hlc_of(text: str) -> str:
    """An HLC of the protocol's shape for a readable test clock such as ``"0002-b"``: the wall
    part counts milliseconds after a fixed moment, the counter part orders within it."""
    if re.fullmatch(protocol.HLC_PATTERN, text):
        return text
    wall, _, counter = text.partition("-")
    tick = int(counter) if counter.isdigit() else ord(counter[:1] or "0")
    return f"{_HLC_BASE_MS + int(wall):013d}.{tick:05d}"


def make_change(epoch: int = 1, *, record_id: str | None = None, kind: str = "clients",
                hlc: str | None = None, size: int = 400) -> dict[str, Any]:
    """A change as a client pushes it (unsigned until :func:`push_body` signs it for its
    author): random ciphertext of a realistic size."""
    now_ms = time.time_ns() // 1_000_000
    return {"change_id": uuid.uuid4().hex,
            "record_id": record_id_of(record_id) if record_id else uuid.uuid4().hex,
            "kind": kind,
            "hlc": hlc_of(hlc) if hlc else f"{now_ms:013d}.{next(_CLOCK) % 100000:05d}",
            "epoch": epoch, "nonce": protocol.b64e(os.urandom(12)),
            "ciphertext": protocol.b64e(os.urandom(size))}


def sign_change(change: dict[str, Any], by: Device) -> dict[str, Any]:
    """``change`` with the Ed25519 signature of its author device ``by``."""
    message = protocol.change_signing_bytes(
        team=by.team, device_id=by.device_id, change_id=change["change_id"],
        record_id=change["record_id"], kind=change["kind"], hlc=change["hlc"],
        epoch=change["epoch"], nonce=protocol.b64d(change["nonce"]),
        ciphertext=protocol.b64d(change["ciphertext"]))
    return {**change, "signature": protocol.b64e(by.sign_key.sign(message))}


def push_body(changes: list[dict[str, Any]], batch_id: str | None = None, *,
              by: Device | None = None) -> dict[str, Any]:
    """A push request; signed for ``by`` (without it the changes go unsigned)."""
    if by is not None:
        changes = [sign_change(change, by) for change in changes]
    return {"batch_id": batch_id or uuid.uuid4().hex, "changes": changes}


def enrol_devices(url: str, codes: list[tuple[str, str, str, bool]], *,
                  timeout: float) -> list[Device]:
    """Enrol a device per (team, user, code, coordinator) over HTTP; the first device of each
    team grants every device of it one random team key (epoch 1). For load benchmarks."""
    enrolled: list[Device] = []
    first: dict[str, Device] = {}
    team_key = os.urandom(32)
    with httpx.Client(base_url=url, timeout=timeout) as http:
        for team, user, code, coordinator in codes:
            device = Device(coordinator=coordinator)
            response = http.post("/v1/enrol", json=device.enrol_body(code, user, "Laptop"))
            response.raise_for_status()
            body = response.json()
            device.device_id, device.team, device.token = (body["device_id"], team,
                                                           body["token"])
            granter = first.setdefault(team, device)
            response = http.post("/v1/envelopes", headers=granter.headers, json={
                "envelopes": [granter.seal(device, 1, team_key)]})
            response.raise_for_status()
            enrolled.append(device)
    return enrolled
