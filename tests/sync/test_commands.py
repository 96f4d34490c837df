"""The sync commands as county IT and case managers type them: create a team, issue codes,
enrol two laptops, confirm, sync, unlock the lease, revoke. The server is a real `kimdesk serve`
process; each command runs through `kimdesk`'s main() in this process (tests/cli_support.py:
a process per command cost over a second each; the binary's own exit codes and messages are
tested in tests/test_cli.py)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from kimdesk.vault.store import vault_exists
from tests.cli_support import run_kimdesk
from tests.factories import PASSWORD, make_person
from tests.server.support import ServerProcess
from tests.sync.devices import open_device
from tests.sync.team import sqlite_url

REPO = Path(__file__).resolve().parents[2]


def kimdesk(*args: str, root: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"KIMDESK_PASSWORD": PASSWORD}
    if root:
        env["KIMDESK_COUNTY_ROOT_KEY"] = root
    return run_kimdesk(*args, env=env, cwd=REPO)


@pytest.mark.slow
def test_county_it_and_two_case_managers_set_up_sync_from_the_command_line(
        template_vault, tmp_path, clock):
    from kimdesk.reference import load_reference

    url = sqlite_url(tmp_path)
    admin = ("server-admin", "--db", url)
    assert kimdesk(*admin, "create-team", "nord", "Team 1 Nord").returncode == 0
    server = ServerProcess(url, log_path=tmp_path / "serve.log").start()
    reference = load_reference()
    anna = open_device(template_vault, tmp_path / "anna", "Anna Becker", reference, clock)
    ewa = open_device(template_vault, tmp_path / "ewa", "Ewa Nowak", reference, clock)
    person = make_person(anna, consent=True, last_name="Wiśniewska")
    anna_dir, ewa_dir = anna.vault.data_dir, ewa.vault.data_dir
    anna.vault.close()
    ewa.vault.close()
    try:
        codes = {}
        for user, extra in (("Anna Becker", ["--coordinator"]), ("Ewa Nowak", [])):
            issued = kimdesk(*admin, "issue-code", "--team", "nord", "--user", user, "--json",
                             *extra)
            assert issued.returncode == 0, issued.stderr
            codes[user] = json.loads(issued.stdout)["code"]

        # County IT, on its offline workstation: the root key of the chain of trust.
        root_file = tmp_path / "root.key"
        made = kimdesk("county-ca", "keygen", "--out", str(root_file))
        assert made.returncode == 0, made.stderr
        assert root_file.stat().st_mode & 0o777 == 0o600
        root = re.search(r'county_root_key = "(\S+)"', made.stdout).group(1)

        plain = kimdesk("enrol", "--data-dir", str(anna_dir), "--server", server.url,
                        "--code", codes["Anna Becker"], root=root)
        assert plain.returncode == 1 and "--insecure-local" in plain.stderr  # http refused
        no_root = kimdesk("enrol", "--data-dir", str(anna_dir), "--server", server.url,
                          "--insecure-local", "--code", codes["Anna Becker"])
        assert no_root.returncode == 1 and "county_root_key" in no_root.stderr
        enrolled = kimdesk("enrol", "--data-dir", str(anna_dir), "--server", server.url,
                           "--insecure-local", "--code", codes["Anna Becker"], "--name",
                           "Laptop Anna", root=root)
        assert enrolled.returncode == 0, enrolled.stderr
        assert "Kreis-IT" in enrolled.stdout  # the coordinator waits for the county's certificate
        anna_print = re.search(r"Fingerabdruck: (\S+)", enrolled.stdout).group(1)
        certified = kimdesk("county-ca", "certify", "--root-key-file", str(root_file),
                            "--fingerprint", anna_print, "--team", "nord", "--role",
                            "coordinator", "--out", str(tmp_path / "anna.json"))
        assert certified.returncode == 0, certified.stderr
        uploaded = kimdesk(*admin, "certificate", str(tmp_path / "anna.json"))
        assert uploaded.returncode == 0, uploaded.stderr
        assert kimdesk("sync", "--data-dir", str(anna_dir)).returncode == 0  # makes the key

        reused = kimdesk("enrol", "--data-dir", str(ewa_dir), "--server", server.url,
                         "--insecure-local", "--code", codes["Anna Becker"], root=root)
        assert reused.returncode == 1 and reused.stderr.startswith("Fehler: ")
        enrolled = kimdesk("enrol", "--data-dir", str(ewa_dir), "--server", server.url,
                           "--insecure-local", "--code", codes["Ewa Nowak"], "--name",
                           "Laptop Ewa", root=root)
        assert enrolled.returncode == 0, enrolled.stderr
        fingerprint = re.search(r"Fingerabdruck: (\S+)", enrolled.stdout).group(1)
        assert "Koordination" in enrolled.stdout  # waits for confirmation

        listed = kimdesk("devices", "--data-dir", str(anna_dir))
        assert fingerprint in listed.stdout and "wartet auf Bestätigung" in listed.stdout
        confirmed = kimdesk("devices", "confirm", fingerprint, "--data-dir", str(anna_dir))
        assert confirmed.returncode == 0, confirmed.stderr
        assert "Laptop Ewa" in confirmed.stdout

        synced = kimdesk("sync", "--data-dir", str(ewa_dir))
        assert synced.returncode == 0, synced.stderr
        assert "empfangen" in synced.stdout
        found = kimdesk("find", "Wisniewska", "--data-dir", str(ewa_dir), "--json")
        assert [row["id"] for row in json.loads(found.stdout)] == [person.id]

        device_id = next(line.split()[0] for line in kimdesk(*admin, "devices").stdout
                         .splitlines() if "Laptop Ewa" in line)
        wrong = kimdesk("freischalten", "1-AAAA-BBBB-CCCC-DDDD", "--data-dir", str(ewa_dir))
        assert wrong.returncode == 1 and "nicht gültig" in wrong.stderr
        lease = kimdesk(*admin, "lease-code", device_id)
        code = re.search(r"Freischaltcode: (\S+)", lease.stdout).group(1)
        assert kimdesk("freischalten", code, "--data-dir", str(ewa_dir)).returncode == 0
        again = kimdesk("freischalten", code, "--data-dir", str(ewa_dir))
        assert again.returncode == 1  # each code works once

        unsigned = kimdesk(*admin, "revoke", device_id)
        assert unsigned.returncode == 0
        kept = kimdesk("sync", "--data-dir", str(ewa_dir))  # no signed revocation: no wipe
        assert kept.returncode == 1 and "signierte Sperrung" in kept.stderr
        assert vault_exists(ewa_dir)
        signed = kimdesk("county-ca", "revoke", "--root-key-file", str(root_file),
                         "--fingerprint", fingerprint, "--team", "nord",
                         "--out", str(tmp_path / "ewa-revoked.json"))
        assert signed.returncode == 0, signed.stderr
        assert kimdesk(*admin, "revoke", device_id, "--revocation",
                       str(tmp_path / "ewa-revoked.json")).returncode == 0
        revoked = kimdesk("sync", "--data-dir", str(ewa_dir))
        assert revoked.returncode == 1 and "gesperrt" in revoked.stderr
        assert not vault_exists(ewa_dir)
        report = kimdesk(*admin, "lost-device", device_id, "--json")
        assert report.returncode == 0, report.stderr
        assert person.id in report.stdout

        assert kimdesk("sync", "--data-dir", str(anna_dir)).returncode == 0  # rotates the key
    finally:
        server.stop()


@pytest.mark.parametrize("url, insecure_local, allowed", [
    ("https://kim-sync.kreis-kleve.de", False, True),
    ("http://127.0.0.1:8080", True, True),
    ("http://localhost:8080", False, False),
    ("http://kim-sync.kreis-kleve.de", True, False),
    ("ftp://kim-sync.kreis-kleve.de", False, False),
])
def test_a_typed_server_address_is_https_or_loopback_with_insecure_local(
        url, insecure_local, allowed):
    from kimdesk.errors import KimdeskError
    from kimdesk.sync import transport

    if allowed:
        transport.require_https(url, insecure_local=insecure_local)
    else:
        with pytest.raises(KimdeskError):
            transport.require_https(url, insecure_local=insecure_local)
