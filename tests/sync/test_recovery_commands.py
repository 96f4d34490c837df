"""The team states of docs/it/trust.md ("Wiederherstellung") end in a working team through
exactly the commands documented there, against a real `kimdesk serve` process: a case manager
enrolled before any coordinator, then all laptops lost but one member's, with the key rotation
of that survivor killed (SIGKILL) after the server took it.

Each command runs through `kimdesk`'s main() in this process (a process per command would cost
seconds each), except the sync that is killed, which runs in a process of its own."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from kimdesk.cli import main
from kimdesk.reference import load_reference
from kimdesk.server import admin
from kimdesk.server.tables import envelopes as server_envelopes
from kimdesk.sync.client import FAULT_ENV
from kimdesk.vault.store import vault_exists
from tests.factories import PASSWORD, make_person
from tests.server.support import ServerProcess
from tests.sync.devices import open_device
from tests.sync.team import sqlite_url

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class Commands:
    """`kimdesk …` as county IT and the case managers type it."""

    def __init__(self, db_url: str, server: ServerProcess, folder: Path) -> None:
        self.db_url = db_url
        self.server = server
        self.folder = folder
        self.root_public = ""

    def run(self, *args: str | Path) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            for name in [n for n in os.environ if n.startswith("KIMDESK_")]:
                patch.delenv(name)
            patch.setenv("KIMDESK_PASSWORD", PASSWORD)
            if self.root_public:
                patch.setenv("KIMDESK_COUNTY_ROOT_KEY", self.root_public)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main([str(arg) for arg in args])
        result = Result(code, out.getvalue(), err.getvalue())
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def ok(self, *args: str | Path) -> str:
        result = self.run(*args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def admin(self, *args: str | Path) -> str:
        return self.ok("server-admin", "--db", self.db_url, *args)

    def enrol(self, data_dir: Path, user: str, *, coordinator: bool = False) -> str:
        """Issue a code, enrol the laptop with it; returns the fingerprint it shows."""
        issued = self.admin("issue-code", "--team", "nord", "--user", user, "--json",
                            *(["--coordinator"] if coordinator else []))
        shown = self.ok("enrol", "--data-dir", data_dir, "--server", self.server.url,
                        "--insecure-local", "--code", json.loads(issued)["code"],
                        "--name", f"Laptop {user}")
        found = re.search(r"Fingerabdruck: (\S+)", shown)
        assert found is not None, shown
        return found.group(1)

    def certify_coordinator(self, fingerprint: str, name: str) -> None:
        """County IT on its offline workstation, then on the server."""
        out = self.folder / f"{name}.json"
        self.ok("county-ca", "certify", "--root-key-file", self.folder / "root.key",
                "--team", "nord", "--role", "coordinator", "--fingerprint", fingerprint,
                "--out", out)
        self.admin("certificate", out)

    def revoke(self, fingerprint: str, name: str) -> None:
        out = self.folder / f"{name}-revoked.json"
        self.ok("county-ca", "revoke", "--root-key-file", self.folder / "root.key",
                "--team", "nord", "--fingerprint", fingerprint, "--out", out)
        device = next(d for d in json.loads(self.admin("devices", "--team", "nord", "--json"))
                      if d["fingerprint"] == fingerprint)
        self.admin("revoke", device["id"], "--revocation", out)
        report = json.loads(self.admin("lost-device", device["id"], "--json"))
        assert report["device"]["state"] == "revoked" and report["note"]

    def sync_killed_at(self, data_dir: Path, step: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
        env.update({"KIMDESK_PASSWORD": PASSWORD, FAULT_ENV: step})
        return subprocess.run(
            [sys.executable, "-m", "kimdesk.cli", "sync", "--data-dir", str(data_dir)],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=180)

    def found(self, data_dir: Path, name: str) -> list[str]:
        return [row["id"] for row in json.loads(
            self.ok("find", name, "--data-dir", data_dir, "--json"))]


@pytest.mark.slow
def test_case_manager_first_then_all_laptops_but_one_lost_and_a_rotation_killed(
        template_vault, tmp_path, clock):
    url = sqlite_url(tmp_path)
    folder = tmp_path / "it"
    folder.mkdir()
    reference = load_reference()
    dirs = {}
    people = {}
    for name, user, last_name in (("jonas", "Jonas Hendricks", "Ebrahimi"),
                                  ("anna", "Anna Becker", None), ("ewa", "Ewa Nowak", None),
                                  ("new-anna", "Anna Becker", None),
                                  ("new-jonas", "Jonas Hendricks", None)):
        ctx = open_device(template_vault, tmp_path / name, user, reference, clock)
        if last_name:  # written offline before the laptop is enrolled
            people[last_name] = make_person(ctx, consent=True, last_name=last_name).id
        dirs[name] = ctx.vault.data_dir
        ctx.vault.close()
    server = ServerProcess(url, log_path=tmp_path / "serve.log")
    it = Commands(url, server, folder)
    it.admin("create-team", "nord", "Team 1 Nord")
    server.start()
    try:
        keygen = it.ok("county-ca", "keygen", "--out", folder / "root.key")
        it.root_public = re.search(r'county_root_key = "(\S+)"', keygen).group(1)

        # A case manager enrols before any coordinator: the laptop waits, makes no key.
        jonas = it.enrol(dirs["jonas"], "Jonas Hendricks")
        assert "wartet" in it.ok("sync", "--data-dir", dirs["jonas"])
        anna = it.enrol(dirs["anna"], "Anna Becker", coordinator=True)
        it.certify_coordinator(anna, "anna")
        it.ok("sync", "--data-dir", dirs["anna"])  # makes the first team key
        it.ok("devices", "confirm", jonas, "--data-dir", dirs["anna"])
        it.ok("sync", "--data-dir", dirs["jonas"])  # sends what was written offline
        ewa = it.enrol(dirs["ewa"], "Ewa Nowak")
        it.ok("devices", "confirm", ewa, "--data-dir", dirs["anna"])
        it.ok("sync", "--data-dir", dirs["ewa"])
        assert it.found(dirs["ewa"], "Ebrahimi") == [people["Ebrahimi"]]

        # Anna's and Jonas's laptops are stolen; Ewa's is the only one left.
        it.revoke(anna, "anna")
        it.revoke(jonas, "jonas")
        killed = it.sync_killed_at(dirs["ewa"], "rotate-after-send")  # power cut mid-rotation
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        (team,) = json.loads(it.admin("teams", "--json"))
        assert team["epoch"] == 2  # the server took the new key; the laptop died before keeping it
        it.ok("sync", "--data-dir", dirs["ewa"])  # finds its envelope of the new key
        (team,) = json.loads(it.admin("teams", "--json"))
        assert team["epoch"] == 2 and not team["rotation_needed"]

        # A new coordinator laptop, certified by the county, gets the keys from Ewa's laptop
        # and confirms a new laptop for Jonas.
        new_anna = it.enrol(dirs["new-anna"], "Anna Becker", coordinator=True)
        it.certify_coordinator(new_anna, "new-anna")
        it.ok("sync", "--data-dir", dirs["ewa"])
        it.ok("sync", "--data-dir", dirs["new-anna"])
        new_jonas = it.enrol(dirs["new-jonas"], "Jonas Hendricks")
        it.ok("devices", "confirm", new_jonas, "--data-dir", dirs["new-anna"])
        it.ok("sync", "--data-dir", dirs["new-jonas"])
        for name in ("new-anna", "new-jonas"):
            assert it.found(dirs[name], "Ebrahimi") == [people["Ebrahimi"]]

        # The stolen laptops wipe themselves when they connect (root-signed revocations), and
        # hold no envelope of the key made after the theft.
        for name in ("anna", "jonas"):
            assert it.run("sync", "--data-dir", dirs[name]).returncode == 1
            assert not vault_exists(dirs[name])
        db = admin.open_database(url)
        try:
            with db.engine.connect() as conn:
                holders = set(conn.execute(select(server_envelopes.c.recipient_id).where(
                    server_envelopes.c.epoch == 2)).scalars())
            devices = {d.fingerprint: d.id for d in admin.list_devices(db, "nord")}
        finally:
            db.dispose()
        assert holders == {devices[fp] for fp in (ewa, new_anna, new_jonas)}
    finally:
        server.stop()
