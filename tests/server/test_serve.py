"""`kimdesk serve` as a real process: health, TLS, quiet access log, and the crash hook."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kimdesk import __version__
from kimdesk.server import admin
from kimdesk.server.changelog import FAULT_EXIT_CODE
from kimdesk.server.settings import FAULT_ENV
from tests.server.support import Device, ServerProcess, free_port, make_change, push_body


def _enrol_active(server: ServerProcess, db_url: str, user: str = "Anna Becker") -> Device:
    db = admin.open_database(db_url)
    try:
        if not admin.list_teams(db):
            admin.create_team(db, "nord", "Team Nord")
        code, _ = admin.issue_code(db, "nord", user, coordinator=True)
    finally:
        db.dispose()
    device = Device()
    with httpx.Client(base_url=server.url, verify=False) as http:
        body = http.post("/v1/enrol", json=device.enrol_body(code, user)).json()
        device.device_id, device.team, device.token = body["device_id"], "nord", body["token"]
        response = http.post("/v1/envelopes", headers=device.headers,
                             json={"envelopes": [device.seal(device, 1, os.urandom(32))]})
        assert response.status_code == 200, response.text
    return device


def test_serve_answers_and_logs_no_query_strings_or_bodies(server_db_url: str,
                                                          tmp_path: Path) -> None:
    with ServerProcess(server_db_url, log_path=tmp_path / "serve.log") as server:
        health = httpx.get(f"{server.url}/v1/health")
        device = _enrol_active(server, server_db_url)
        change = make_change(1, record_id="record-secret-id")
        with httpx.Client(base_url=server.url, headers=device.headers) as http:
            pushed = http.post("/v1/push", json=push_body([change], by=device)).json()
            assert pushed == {"seqs": [1]}
            pulled = http.get("/v1/pull", params={"after": 0, "limit": 7}).json()
        schema = httpx.get(f"{server.url}/openapi.json").json()
    log = server.log_text()

    assert health.json() == {"status": "ok", "version": __version__}
    assert [c["change_id"] for c in pulled["changes"]] == [change["change_id"]]
    assert "/v1/push" in schema["paths"] and "/v1/stats/{period}" in schema["paths"]
    assert "KIMdesk-Kreisserver auf http://127.0.0.1" in log
    assert '"GET /v1/pull HTTP/1.1" 200' in log
    for secret in ("after=", "limit=7", change["record_id"], change["ciphertext"][:40],
                   device.token.split(".")[1]):
        assert secret not in log
    # SIGTERM: graceful shutdown (uvicorn then ends by that signal, as systemd expects).
    assert "Application shutdown complete" in log


def test_a_push_interrupted_before_commit_leaves_nothing(server_db_url: str,
                                                         tmp_path: Path) -> None:
    server = ServerProcess(server_db_url, env={FAULT_ENV: "push-before-commit"},
                           log_path=tmp_path / "serve.log")
    with server:
        device = _enrol_active(server, server_db_url)
        batch = push_body([make_change(1) for _ in range(30)], by=device)
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{server.url}/v1/push", headers=device.headers, json=batch)
        assert server.wait(timeout=30) == FAULT_EXIT_CODE

        server.restart(env={})
        with httpx.Client(base_url=server.url, headers=device.headers) as http:
            assert http.get("/v1/pull").json() == {"changes": [], "head": 0, "more": False}
            assert http.post("/v1/push", json=batch).json() == {"seqs": list(range(1, 31))}
            assert http.post("/v1/push", json=batch).json() == {"seqs": list(range(1, 31))}
            assert http.get("/v1/checksum").json()["head"] == 30


def _certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kreis Kleve Test-CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_serve_with_tls_answers_over_https(tmp_path: Path) -> None:
    ca, certfile, keyfile = _certificate(tmp_path)
    context = ssl.create_default_context(cafile=str(ca))
    server = ServerProcess(f"sqlite:///{tmp_path / 'server.db'}", certfile=certfile,
                           keyfile=keyfile, log_path=tmp_path / "serve.log")

    with server:
        assert server.url.startswith("https://127.0.0.1:")
        response = httpx.get(f"{server.url}/v1/health", verify=context)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{server.port}/v1/health", timeout=5)
        with pytest.raises(httpx.ConnectError):  # a client that does not trust the CA
            httpx.get(f"{server.url}/v1/health", verify=ssl.create_default_context())

    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert "https://127.0.0.1" in server.log_text()


def _serve(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    return subprocess.run([sys.executable, "-m", "kimdesk.cli", "serve", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=timeout,
                          check=False)


def test_serve_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "server.db")]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = _serve(*db, "--port", str(busy.getsockname()[1]))
    half_tls = _serve(*db, "--certfile", tmp_path / "x.pem")
    plain_on_network = _serve(*db, "--host", "0.0.0.0", "--port", str(free_port()))
    no_file = _serve(*db, "--certfile", tmp_path / "x.pem", "--keyfile", tmp_path / "x.key")
    (tmp_path / "bad.pem").write_text("kein Zertifikat")
    bad_cert = _serve(*db, "--port", str(free_port()), "--certfile",
                      tmp_path / "bad.pem", "--keyfile", tmp_path / "bad.pem")
    # With workers each process loads TLS itself: the parent checks it first, once.
    bad_cert_workers = _serve(*db, "--port", str(free_port()), "--workers", "2", "--certfile",
                              tmp_path / "bad.pem", "--keyfile", tmp_path / "bad.pem")
    no_workers = _serve(*db, "--workers", "0")

    def line(result: subprocess.CompletedProcess[str], code: int) -> str:
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr
        (single,) = result.stderr.strip().splitlines()
        return single

    assert "kann nicht auf 127.0.0.1" in line(taken, 1)
    assert "gehören zusammen" in line(half_tls, 2)
    assert "Ohne TLS" in line(plain_on_network, 1) and "0.0.0.0" in line(plain_on_network, 1)
    assert "nicht gefunden" in line(no_file, 1)
    assert "TLS nicht nutzbar" in line(bad_cert, 1)
    assert "TLS nicht nutzbar" in line(bad_cert_workers, 1)
    assert no_workers.returncode == 2 and "mindestens 1" in no_workers.stderr
