"""Benchmark: 100 simulated devices sync against one county server on loopback for 60 s.

Setup (not timed): `kimdesk serve` (SQLite file by default, ``--pg URL`` for PostgreSQL) as a
separate process; teams created and codes issued through ``kimdesk.server.admin``; every device
enrols over HTTP with real Ed25519/X25519 keys; the first device of each team creates the team
key, the others are confirmed with signed envelopes.

Timed: each device loops push (a batch of 1–50 changes, random ciphertext of 300–800 bytes, a
record pool per device so records are updated again) → pull after its cursor → checksum, all
devices at once (asyncio + httpx, one connection each). Prints p50/p99 latency per endpoint,
changes pushed and delivered per second, the error count (target: zero), and the time a new
device needs to pull the whole team log afterwards (server side only: no decryption).

Run: .venv/bin/python benchmarks/server_load.py [--devices 100] [--seconds 60] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kimdesk.server import admin  # noqa: E402
from kimdesk.sync import protocol  # noqa: E402
from tests.server.support import (  # noqa: E402
    Device,
    ServerProcess,
    enrol_devices,
    sign_change,
)

TEAMS = ("nord", "ost", "mitte", "sued", "welcome")


def _change(rng: random.Random, records: list[str], epoch: int, device: Device
            ) -> dict[str, Any]:
    """A change signed by ``device`` (the server verifies every signature on push)."""
    return sign_change({"change_id": uuid.uuid4().hex, "record_id": rng.choice(records),
                        "kind": rng.choice(("clients", "cases", "contacts")),
                        "hlc": f"{time.time_ns() // 1_000_000:013d}."
                               f"{rng.randrange(100_000):05d}", "epoch": epoch,
                        "nonce": protocol.b64e(os.urandom(12)),
                        "ciphertext": protocol.b64e(os.urandom(rng.randint(300, 800)))},
                       device)


def _setup(server: ServerProcess, db_url: str, devices: int) -> list[Device]:
    """Teams, codes, enrolment and confirmation of every device (not timed)."""
    db = admin.open_database(db_url)
    codes: list[tuple[str, str, str, bool]] = []
    try:
        for team in TEAMS:
            admin.create_team(db, team, f"Team {team.title()}")
        for number in range(devices):
            team = TEAMS[number % len(TEAMS)]
            coordinator = number < len(TEAMS)
            user = f"Benchmark {number}"
            code, _ = admin.issue_code(db, team, user, coordinator=coordinator)
            codes.append((team, user, code, coordinator))
    finally:
        db.dispose()
    return enrol_devices(server.url, codes, timeout=60)


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.pushed = 0
        self.delivered = 0


async def _device_loop(url: str, device: Device, deadline: float, stats: Stats,
                       seed: int) -> None:
    rng = random.Random(seed)
    records = [uuid.uuid4().hex for _ in range(60)]
    cursor = 0
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=url, headers=device.headers, timeout=120,
                                 limits=limits) as http:

        async def call(name: str, method: str, path: str, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                response = await http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                stats.errors.append(f"{name}: {type(exc).__name__}")
                return None
            stats.latency[name].append(time.perf_counter() - started)
            if response.status_code != 200:
                stats.errors.append(f"{name}: {response.status_code} {response.text[:200]}")
                return None
            return response.json()

        while time.monotonic() < deadline:
            batch = [_change(rng, records, 1, device) for _ in range(rng.randint(1, 50))]
            body = await call("push", "POST", "/v1/push",
                              json={"batch_id": uuid.uuid4().hex, "changes": batch})
            if body is not None:
                stats.pushed += len(batch)
            page = await call("pull", "GET", "/v1/pull", params={"after": cursor})
            if page is not None:
                stats.delivered += len(page["changes"])
                if page["changes"]:
                    cursor = page["changes"][-1]["seq"]
            await call("checksum", "GET", "/v1/checksum")


async def _load(url: str, devices: list[Device], seconds: float) -> Stats:
    stats = Stats()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_device_loop(url, device, deadline, stats, number)
                           for number, device in enumerate(devices)))
    return stats


def _full_pull(url: str, device: Device) -> tuple[int, float]:
    """A whole team log pulled page by page from seq 0 (what a new device does first)."""
    started = time.perf_counter()
    cursor, count = 0, 0
    with httpx.Client(base_url=url, headers=device.headers, timeout=120) as http:
        while True:
            page = http.get("/v1/pull", params={"after": cursor}).json()
            count += len(page["changes"])
            if page["changes"]:
                cursor = page["changes"][-1]["seq"]
            if not page["more"]:
                break
    return count, time.perf_counter() - started


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL URL instead of a SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kimdesk-load-") as tmp:
        db_url = args.pg or f"sqlite:///{Path(tmp) / 'server.db'}"
        server = ServerProcess(db_url, log_path=Path(tmp) / "serve.log")
        with server:
            setup_started = time.perf_counter()
            devices = _setup(server, db_url, args.devices)
            print(f"{len(devices)} devices in {len(TEAMS)} teams enrolled and confirmed in "
                  f"{time.perf_counter() - setup_started:.1f} s "
                  f"({'PostgreSQL' if args.pg else 'SQLite'}, one uvicorn process)")
            started = time.perf_counter()
            stats = asyncio.run(_load(server.url, devices, args.seconds))
            elapsed = time.perf_counter() - started
            newcomer = devices[-1]
            pulled, pull_seconds = _full_pull(server.url, newcomer)
            crashed = "Traceback" in server.log_text()

    print(f"load: {elapsed:.1f} s, {len(devices)} devices looping push → pull → checksum")
    print(f"{'endpoint':<10}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name in ("push", "pull", "checksum"):
        values = stats.latency.get(name, [])
        if values:
            print(f"{name:<10}{len(values):>10}{statistics.median(values) * 1000:>10.1f}"
                  f"{_percentile(values, 0.99) * 1000:>10.1f}")
    print(f"changes pushed: {stats.pushed} ({stats.pushed / elapsed:.0f}/s); "
          f"delivered by pull: {stats.delivered} ({stats.delivered / elapsed:.0f}/s)")
    print(f"full pull of one team's log afterwards: {pulled} changes in {pull_seconds:.2f} s")
    print(f"errors: {len(stats.errors)}" + (f" (first: {stats.errors[0]})"
                                             if stats.errors else ""))
    if crashed:
        print("server log contains a traceback")
    ok = not stats.errors and not crashed
    print(f"target zero errors: {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
