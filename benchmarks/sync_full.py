"""Benchmark: a new device's first full sync of 10,000 changes in under 3 s, their push in
under 1.5 s (issue 17).

Setup (not timed): device A (the coordinator) with about 10,000 records written in one
transaction through the models (the change log captures them like any write). For every push
run a copy of A's vault is enrolled with a fresh `kimdesk serve` on loopback (SQLite database)
and certified by the county root key.

Timed:

- push: A's first ``SyncClient.run()`` over real HTTP — sign, encrypt and push the outbox in
  batches of 500 (plus status, keys, checksum, statistics upload). Median of the runs, each
  against a fresh server.
- first full sync: a new device B's first ``SyncClient.run()`` against the last of those
  servers — pull in pages of 500, verify, decrypt, merge and apply into B's SQLCipher vault,
  the team checksum, the statistics upload. Median of the runs, each with a fresh device.

Beside the wall time the CPU time of the client process and of the server process (user +
system, Linux ``/proc``) is printed, and the load average: on a shared machine the CPU time is
the steadier figure. ``--profile DIR`` writes cProfile files (CPU time) of the first push and
the first pull (client) and of the last server process (its push and every pull) into DIR.

Run: .venv/bin/python benchmarks/sync_full.py [--clients N] [--runs R] [--profile DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kimdesk.casework.profile import context_for, create_profile  # noqa: E402
from kimdesk.models import Case, Client, Contact  # noqa: E402
from kimdesk.models.changelog import OutboxChange  # noqa: E402
from kimdesk.server import admin  # noqa: E402
from kimdesk.sync import client, trust  # noqa: E402
from kimdesk.sync.client import SyncClient  # noqa: E402
from kimdesk.vault import KdfParams, Vault, create_vault, open_vault  # noqa: E402
from tests.server.support import ServerProcess  # noqa: E402

TARGET_S = 3.0
PUSH_TARGET_S = 1.5
PASSWORD = "benchmark-passwort"


def _vault(path: Path, user: str) -> Vault:
    vault, _ = create_vault(path, PASSWORD, kdf=KdfParams.for_tests())
    create_profile(vault, user, "nord")
    return vault


def _fill(vault: Vault, clients: int) -> int:
    rng = random.Random(4)
    with vault.writing() as session:
        for number in range(clients):
            person = Client(first_name=f"Vorname{number}", last_name=f"Nachname{number}",
                            municipality="kleve", gender="female",
                            birth_date=date(1990, 1, 1) + timedelta(days=number))
            session.add(person)
            session.flush()
            case = Case(client_id=person.id, kind="process_support", opened_on=date(2026, 1, 5),
                        team="nord", municipality="kleve", case_manager="Anna Becker")
            session.add(case)
            session.flush()
            for day in range(8):
                session.add(Contact(case_id=case.id, client_id=person.id,
                                    contact_on=date(2026, 2, 1) + timedelta(days=day),
                                    duration_minutes=rng.choice([15, 30, 45]), mode="in_person",
                                    note=f"Gespräch {day}"))
    with vault.reading() as session:
        count: int = session.scalar(select(func.count()).select_from(OutboxChange)) or 0
        return count


# `kimdesk serve` with one cProfile profiler per thread (FastAPI runs the endpoints on worker
# threads); on SIGTERM, after uvicorn's graceful shutdown re-raises it, the merged statistics
# are written to argv[1].
_PROFILED_SERVE = """
import cProfile, pstats, signal, sys, threading, time
path, sys.argv = sys.argv[1], ["kimdesk", *sys.argv[2:]]
profiles = []
def _start(*_args):
    profile = cProfile.Profile(time.thread_time)
    profiles.append(profile)
    profile.enable()
def _dump(*_args):
    stats = pstats.Stats(*profiles)
    stats.dump_stats(path)
    sys.exit(0)
threading.setprofile(_start)
signal.signal(signal.SIGTERM, _dump)
_start()
from kimdesk.cli import main
main()
_dump()
"""


class _ProfiledServer(ServerProcess):
    """``kimdesk serve`` under cProfile, every thread (written when the server stops)."""

    def __init__(self, db_url: str, *, profile: Path, log_path: Path) -> None:
        super().__init__(db_url, log_path=log_path)
        self.profile = profile

    def command(self) -> list[str]:
        plain = super().command()
        return [plain[0], "-c", _PROFILED_SERVE, str(self.profile), *plain[3:]]


def _process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    wall: float
    cpu: float  # this (client) process
    server_cpu: float | None
    result: Any


def _measure(server: ServerProcess, action: Callable[[], Any],
             profile: Path | None = None) -> Measured:
    pid = server._process.pid if server._process is not None else -1
    server_before = _process_cpu(pid)
    # CPU time, not wall time: on a shared machine waiting for a core is not the code's cost.
    profiler = cProfile.Profile(time.process_time) if profile is not None else None
    cpu_before = time.process_time()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    result = action()
    if profiler is not None:
        profiler.disable()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    server_after = _process_cpu(pid)
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    server_cpu = (server_after - server_before
                  if server_before is not None and server_after is not None else None)
    return Measured(wall, cpu, server_cpu, result)


def _server(root: Path, index: int, runs: int, profile_dir: Path | None
            ) -> tuple[ServerProcess, str, list[str]]:
    """A fresh server database with team nord and enrolment codes: A, then one per B run."""
    folder = root / f"server-{index}"
    folder.mkdir()
    url = f"sqlite:///{folder / 'server.db'}"
    db = admin.open_database(url)
    admin.create_team(db, "nord", "Team 1 Nord")
    codes = [admin.issue_code(db, "nord", user, coordinator=user == "Anna Becker")[0]
             for user in ["Anna Becker"] + [f"Kollegin {i}" for i in range(runs)]]
    db.dispose()
    log = folder / "serve.log"
    server: ServerProcess = (
        _ProfiledServer(url, profile=profile_dir / "server.prof", log_path=log)
        if profile_dir is not None else ServerProcess(url, log_path=log))
    return server.start(), url, codes


def _cpu_text(measured: list[Measured]) -> str:
    client_cpu = statistics.median(m.cpu for m in measured)
    servers = [m.server_cpu for m in measured if m.server_cpu is not None]
    text = f"CPU client {client_cpu:.2f} s"
    if servers:
        text += f" + server {statistics.median(servers):.2f} s"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="write cProfile files of client and server into DIR")
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="kimdesk-bench-sync-"))
    root_key = trust.new_root_key()  # the county's offline root key
    root_public = trust.public_key_of(root_key)
    servers: list[ServerProcess] = []
    pushes: list[Measured] = []
    pulls: list[Measured] = []
    load_before = os.getloadavg()
    try:
        source = _vault(root / "anna-source", "Anna Becker")
        changes = _fill(source, args.clients)
        source.close()
        for run in range(args.runs):
            last = run == args.runs - 1
            # The profiled server is the last one: it serves the last push and every pull.
            server, url, codes = _server(root, run, args.runs,
                                         args.profile if last else None)
            servers.append(server)
            shutil.copytree(root / "anna-source", root / f"anna-{run}")
            anna_vault = open_vault(root / f"anna-{run}", PASSWORD)
            anna = context_for(anna_vault)
            with httpx.Client(base_url=server.url, timeout=120) as http:
                client.enrol(anna, http, server_url=server.url, code=codes[0],
                             device_name="A", root_public=root_public)
                # County IT certifies the coordinator's device with the root key.
                certifying = admin.open_database(url)
                admin.add_trust_document(certifying, trust.certify(
                    team="nord", fingerprint=client.enrolled_device(anna).fingerprint,
                    role="coordinator", issuer=trust.ROOT, signer_private=root_key))
                certifying.dispose()
                profile = args.profile / "client-push.prof" if args.profile and run == 0 \
                    else None
                pushes.append(_measure(server, SyncClient(anna, http).run, profile))
                print(f"push run {run + 1}: {pushes[-1].wall:.2f} s "
                      f"({pushes[-1].result.pushed} changes), {_cpu_text(pushes[-1:])}",
                      flush=True)
                if not last:
                    anna_vault.close()
                    server.stop()
                    continue
                for pull_run in range(args.runs):
                    folder = root / f"new-device-{pull_run}"
                    vault = _vault(folder, f"Kollegin {pull_run}")
                    ctx = context_for(vault)
                    client.enrol(ctx, http, server_url=server.url, code=codes[pull_run + 1],
                                 device_name=f"B{pull_run}", root_public=root_public)
                    SyncClient(anna, http).confirm_device(
                        client.enrolled_device(ctx).fingerprint)
                    profile = args.profile / "client-pull.prof" \
                        if args.profile and pull_run == 0 else None
                    pulls.append(_measure(server, SyncClient(ctx, http).run, profile))
                    with vault.reading() as session:
                        received = session.scalar(select(func.count()).select_from(Contact))
                    vault.close()
                    print(f"pull run {pull_run + 1}: {pulls[-1].wall:.2f} s, pulled "
                          f"{pulls[-1].result.pulled} changes, {received} contacts in the new "
                          f"vault, {_cpu_text(pulls[-1:])}", flush=True)
            anna_vault.close()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()
    push_median = statistics.median(m.wall for m in pushes)
    median = statistics.median(m.wall for m in pulls)
    print(f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"push of {changes} changes: median {push_median:.2f} s "
          f"(min {min(m.wall for m in pushes):.2f}, max {max(m.wall for m in pushes):.2f}), "
          f"{_cpu_text(pushes)}")
    print(f"first full sync of {changes} changes: median {median:.2f} s "
          f"(min {min(m.wall for m in pulls):.2f}, max {max(m.wall for m in pulls):.2f}), "
          f"{_cpu_text(pulls)}")
    if args.profile is not None:
        print(f"profiles in {args.profile}: client-push.prof, client-pull.prof, server.prof")
    ok = median < TARGET_S and push_median < PUSH_TARGET_S
    print(f"target first full sync < {TARGET_S:.0f} s, push < {PUSH_TARGET_S} s: "
          f"{'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
