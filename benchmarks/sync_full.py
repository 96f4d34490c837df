"""Benchmark: the first full sync of a new device receives 10,000 changes in under 10 s
(issue 4).

Setup (not timed): `kimdesk serve` on loopback with a SQLite database; device A (the
coordinator) with about 10,000 records written in one transaction through the models (the
change log captures them like any write), pushed to the server; device B enrolled and
confirmed.

Timed: B's first ``SyncClient.run()`` over real HTTP — pull in pages of 500, decrypt, merge
and apply into B's SQLCipher vault, the team checksum, the statistics upload. Median of the
runs, each on a fresh copy of B's vault before its first sync. A's push is printed too.

Run: .venv/bin/python benchmarks/sync_full.py [--clients N] [--runs R]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

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
from kimdesk.vault import KdfParams, create_vault  # noqa: E402
from tests.server.support import ServerProcess  # noqa: E402

TARGET_S = 10.0
PASSWORD = "benchmark-passwort"


def _vault(path: Path, user: str):
    vault, _ = create_vault(path, PASSWORD, kdf=KdfParams.for_tests())
    create_profile(vault, user, "nord")
    return vault


def _fill(vault, clients: int) -> int:
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
        return session.scalar(select(func.count()).select_from(OutboxChange))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kimdesk-bench-sync-"))
    url = f"sqlite:///{root / 'server.db'}"
    db = admin.open_database(url)
    admin.create_team(db, "nord", "Team 1 Nord")
    codes = [admin.issue_code(db, "nord", user, coordinator=user == "Anna Becker")[0]
             for user in ["Anna Becker"] + [f"Kollegin {i}" for i in range(args.runs)]]
    db.dispose()
    root_key = trust.new_root_key()  # the county's offline root key
    root_public = trust.public_key_of(root_key)
    server = ServerProcess(url, log_path=root / "serve.log").start()
    try:
        anna_vault = _vault(root / "anna", "Anna Becker")
        changes = _fill(anna_vault, args.clients)
        anna = context_for(anna_vault)
        with httpx.Client(base_url=server.url, timeout=120) as http:
            client.enrol(anna, http, server_url=server.url, code=codes[0], device_name="A",
                         root_public=root_public)
            # County IT certifies the coordinator's device with the root key.
            certifying = admin.open_database(url)
            admin.add_trust_document(certifying, trust.certify(
                team="nord", fingerprint=client.enrolled_device(anna).fingerprint,
                role="coordinator", issuer=trust.ROOT, signer_private=root_key))
            certifying.dispose()
            started = time.perf_counter()
            SyncClient(anna, http).run()
            push_s = time.perf_counter() - started
            print(f"Device A pushed {changes} changes in {push_s:.2f} s")
            timings = []
            for run in range(args.runs):
                folder = root / f"new-device-{run}"
                vault = _vault(folder, f"Kollegin {run}")
                ctx = context_for(vault)
                client.enrol(ctx, http, server_url=server.url, code=codes[run + 1],
                             device_name=f"B{run}", root_public=root_public)
                SyncClient(anna, http).confirm_device(client.enrolled_device(ctx).fingerprint)
                started = time.perf_counter()
                report = SyncClient(ctx, http).run()
                timings.append(time.perf_counter() - started)
                with vault.reading() as session:
                    received = session.scalar(select(func.count()).select_from(Contact))
                vault.close()
                print(f"run {run + 1}: {timings[-1]:.2f} s, pulled {report.pulled} changes, "
                      f"{received} contacts in the new vault")
        anna_vault.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    median = statistics.median(timings)
    verdict = "OK" if median < TARGET_S else "MISSED"
    print(f"first full sync of {changes} changes: median {median:.2f} s "
          f"(min {min(timings):.2f}, max {max(timings):.2f})")
    print(f"target < {TARGET_S:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
