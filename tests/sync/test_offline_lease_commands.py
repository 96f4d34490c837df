"""The offline lease on the command line: a laptop away from the county server for longer than
the lease opens for no command (the attack: ``kimdesk find`` on a locked vault printed the
register), except the two ways out, ``kimdesk freischalten CODE`` and ``kimdesk sync``."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kimdesk.models import SyncDevice
from kimdesk.sync.client import enrolled_device
from kimdesk.sync.lease import lease_code
from kimdesk.vault import open_vault
from tests.cli_support import run_kimdesk
from tests.factories import PASSWORD, make_person
from tests.server.support import ServerProcess

REPO = Path(__file__).resolve().parents[2]


def kimdesk(*args: str) -> subprocess.CompletedProcess[str]:
    """The command through `kimdesk`'s main() in this process (tests/cli_support.py): the
    lease is checked where the commands open the vault, the same code in a process of its own."""
    return run_kimdesk(*args, env={"KIMDESK_PASSWORD": PASSWORD}, cwd=REPO)


def _away_for(data_dir: Path, days: int, *, server_url: str | None = None) -> None:
    """Pretend the last contact with the county server was ``days`` ago."""
    vault = open_vault(data_dir, PASSWORD)
    try:
        with vault.writing() as session:
            device = session.get(SyncDevice, 1)
            device.last_contact_at = datetime.now(UTC) - timedelta(days=days, hours=1)
            device.lease_unlocked_at = None
            if server_url is not None:
                device.server_url = server_url
    finally:
        vault.close()


def test_a_vault_offline_too_long_opens_for_no_command_but_sync_and_the_code(
        devices, team, tmp_path):
    [anna] = devices(1)
    team.join(anna)
    person = make_person(anna, first_name="Zofia", last_name="Wiśniewska", consent=True)
    team.sync(anna)
    device = enrolled_device(anna)
    data_dir = anna.vault.data_dir
    anna.vault.close()
    where = ("--data-dir", str(data_dir))

    _away_for(data_dir, 61)
    # Before the lease was checked here, each of these opened the locked vault (find printed
    # the person, info the counts).
    for command in (("find", "Wisniewska", "--json"), ("info",),
                    ("export", "statistik", "--from", "2026-01", "--to", "2026-06",
                     "--out", str(tmp_path / "s.csv"))):
        refused = kimdesk(*command, *where)
        assert refused.returncode == 1, (command, refused.stdout, refused.stderr)
        assert refused.stdout == ""
        assert refused.stderr.startswith("Fehler: Dieses Gerät war seit 61 Tagen nicht mit dem "
                                         "Kreis-Server verbunden"), refused.stderr
        assert "kimdesk freischalten CODE" in refused.stderr
        assert device.device_id[:8] in refused.stderr  # what county IT asks for
        assert "Wi" not in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert not (tmp_path / "s.csv").exists()

    # Way out 1: the one-time code county IT reads out (the command itself must open).
    code = lease_code(device.lease_secret, device.device_id, 1)
    unlocked = kimdesk("freischalten", code, *where)
    assert unlocked.returncode == 0, unlocked.stderr
    found = kimdesk("find", "Wisniewska", *where, "--json")
    assert found.returncode == 0, found.stderr
    assert [row["id"] for row in json.loads(found.stdout)] == [person.id]

    # Way out 2: a sync with the county server (a real server process on the team's database).
    server = ServerProcess(team.db_url, log_path=tmp_path / "serve.log").start()
    try:
        _away_for(data_dir, 90, server_url=server.url)
        synced = kimdesk("sync", *where)
        assert synced.returncode == 0, synced.stderr
    finally:
        server.stop()
    assert kimdesk("info", *where).returncode == 0
