"""`kimdesk server-admin` as county IT runs it: a subprocess, German output, exit codes 0/1/2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from starlette.testclient import TestClient

from kimdesk.server.app import create_app
from kimdesk.sync import protocol
from kimdesk.sync.lease import parse_and_verify
from tests.server.support import Device, make_change, push_body, record_id_of

CODE = re.compile(r"Anmeldecode: ([2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){3})")


def kimdesk(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    return subprocess.run([sys.executable, "-m", "kimdesk.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120,
                          check=False)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Fehler: "), result.stderr
    return lines[0]


def test_it_sets_up_a_team_enrols_and_revokes_a_device(server_db_url: str) -> None:
    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        return kimdesk("server-admin", "--db", server_db_url, *args)

    assert "Team nord" in ok(admin("create-team", "nord", "Team Nord"))
    assert re.search(r"^nord\s+Team Nord\s+noch keiner", ok(admin("teams")), re.M)
    issued = ok(admin("issue-code", "--team", "nord", "--user", "Anna Becker",
                      "--coordinator", "--valid-days", "3"))
    code = CODE.search(issued).group(1)  # type: ignore[union-attr]
    assert "Koordination" in issued and "einmal gültig bis" in issued

    device = Device()
    with TestClient(create_app(server_db_url)) as client:
        body = client.post("/v1/enrol", json=device.enrol_body(code, "Anna Becker")).json()
        device.device_id, device.team, device.token = body["device_id"], "nord", body["token"]
        device.enrolment = body
        client.post("/v1/envelopes", headers=device.headers,
                    json={"envelopes": [device.seal(device, 1, os.urandom(32))]})
        client.post("/v1/push", headers=device.headers, json=push_body(
            [make_change(1, record_id=f"person-{n}") for n in range(3)]
            + [make_change(1, record_id="case-1", kind="cases")], by=device))

    listing = ok(admin("devices", "--team", "nord"))
    assert device.device_id in listing and body["fingerprint"] in listing
    assert "Anna Becker (Koordination)" in listing and "aktiv" in listing

    unlock = ok(admin("lease-code", device.device_id[:10]))
    lease = re.search(r"Freischaltcode: (\S+)", unlock).group(1)  # type: ignore[union-attr]
    secret = protocol.b64d(body["lease_secret"])
    assert parse_and_verify(secret, device.device_id, lease, 0) == 1

    report = ok(admin("lost-device", device.device_id))
    assert "4 Datensätze" in report and "3 Ratsuchende" in report
    assert "noch nicht gesperrt" in report
    data = json.loads(ok(admin("lost-device", device.device_id, "--json")))
    assert (data["record_count"], data["client_count"]) == (4, 3)
    assert {"kind": "cases", "record_id": record_id_of("case-1")} in data["records"]
    assert data["last_seen_at"]

    assert "gesperrt" in ok(admin("revoke", device.device_id))
    assert "gesperrt" in ok(admin("devices"))
    assert re.search(r"^nord\s.*\sja$", ok(admin("teams")), re.M)  # rotation due

    log = ok(admin("audit", "--limit", "4"))
    assert len(log.strip().splitlines()) == 5  # header + 4
    assert "Gerät gesperrt" in log and "Verlustbericht erstellt" in log
    entries = json.loads(ok(admin("audit", "--json")))
    assert entries[0]["action"] == "team_created"
    # --db may also follow the command name.
    assert device.device_id in ok(kimdesk("server-admin", "devices", "--db", server_db_url))


def test_expected_errors_are_one_german_line(tmp_path: Path) -> None:
    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        return kimdesk("server-admin", "--db", tmp_path / "server.db", *args)

    ok(admin("create-team", "nord", "Team Nord"))

    assert "gibt es schon" in one_line_error(admin("create-team", "nord", "Team Nord"))
    assert "sued" in one_line_error(admin("issue-code", "--team", "sued", "--user", "X"))
    assert "gibt es auf diesem Server nicht" in one_line_error(admin("revoke", "abcdef12"))
    assert one_line_error(admin("lease-code", "x"))
    missing = kimdesk("server-admin", "--db", tmp_path / "tippfehler.db", "devices")
    assert "Keine Server-Datenbank" in one_line_error(missing)
    assert not (tmp_path / "tippfehler.db").exists()
    unreachable = kimdesk("server-admin", "--db",
                          "postgresql://kim:geheim-123@127.0.0.1:1/kimdesk", "teams")
    line = one_line_error(unreachable)
    assert "nicht erreichbar" in line and "geheim-123" not in line

    usage = admin("issue-code", "--team", "nord")
    assert usage.returncode == 2 and "--user" in usage.stderr
    assert admin("audit", "--limit", "0").returncode == 2
    assert kimdesk("server-admin").returncode == 2


def test_the_default_database_is_a_file_in_the_current_directory(tmp_path: Path) -> None:
    ok(kimdesk("server-admin", "create-team", "ost", "Team Ost", cwd=tmp_path))

    assert (tmp_path / "kimdesk-server.db").is_file()
    assert "Team Ost" in ok(kimdesk("server-admin", "teams", cwd=tmp_path))


def test_the_desktop_cli_does_not_load_the_server_packages() -> None:
    code = ("import sys, kimdesk.cli; kimdesk.cli.build_parser(); "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'pydantic', 'psycopg') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
