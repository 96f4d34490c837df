"""Benchmark: the county server under an open-loop load of N devices syncing once a minute.

Open loop: every device has a fixed moment in each minute (spread evenly) at which it starts a
sync, whether or not the server has answered the earlier ones; a slow server therefore meets
the same arrival rate, and queueing shows in the latencies (a closed loop, where each device
waits for its answer, would hide it by slowing its own arrivals down).

One sync is what a device does: push a few changes (0–8, most 1–4, random ciphertext of
300–800 bytes, signed with the device's real Ed25519 key, records from a per-device pool so
records are updated again), pull after its cursor page by page, then the team checksum.
Devices are enrolled over HTTP in teams of ``--team-size`` (setup, not timed).

Printed per minute: requests, p50/p99 per endpoint (ms), errors, the server's CPU (cores, all
its processes) and memory (RSS, MB), the machine's load average. At the end the targets of
issue 17: 0 errors, p99 < 200 ms in the last minute as in the first (every endpoint), server
memory flat (last minute ≤ 1.25 × the second minute's).

``--saturate`` instead raises the rate step by step (sync interval 60 s, 30 s, 20 s, …, each
step ``--step-seconds`` long) until p99 of some endpoint exceeds 200 ms or errors appear, and
reports the saturation throughput: requests/s of the last good step and per core of server CPU.

Defaults are the issue's full run (1,000 devices, 30 minutes, SQLite, one process). Also:
``--pg auto`` (a throwaway PostgreSQL, as the tests start it) or ``--pg URL``, ``--workers 2``.

Run: .venv/bin/python benchmarks/server_load_open.py [--devices 1000] [--minutes 30]
     [--interval 60] [--pg auto|URL] [--workers N] [--saturate]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kimdesk.server import admin  # noqa: E402
from kimdesk.sync import protocol  # noqa: E402
from tests.server.support import (  # noqa: E402
    Device,
    PostgresCluster,
    ServerProcess,
    enrol_devices,
    sign_change,
)

ENDPOINTS = ("push", "pull", "checksum")
P99_TARGET_MS = 200.0
RSS_GROWTH_LIMIT = 1.25
KINDS = ("clients", "cases", "contacts", "contacts", "contacts")


# --- setup --------------------------------------------------------------------------------


def _setup(url: str, db_url: str, devices: int, team_size: int) -> list[Device]:
    """Teams of ``team_size``, codes, enrolment over HTTP and a team key for each (not timed)."""
    db = admin.open_database(db_url)
    codes: list[tuple[str, str, str, bool]] = []
    try:
        for number in range(devices):
            team = f"team{number // team_size:03d}"
            first = number % team_size == 0
            if first:
                admin.create_team(db, team, f"Team {number // team_size}")
            user = f"Benchmark {number}"
            code, _ = admin.issue_code(db, team, user, coordinator=first)
            codes.append((team, user, code, first))
    finally:
        db.dispose()
    return enrol_devices(url, codes, timeout=120)


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Minute:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    syncs: int = 0
    cpu_cores: float = 0.0
    cpu_seconds: float = 0.0
    client_cores: float = 0.0  # this load generator's own CPU: it must not be the limit
    db_cores: float = 0.0  # the PostgreSQL cluster's CPU (with --pg auto)
    rss_mb: float = 0.0
    load: float = 0.0


class Recorder:
    """Latencies and errors by the minute (of the request's start) since ``started``."""

    def __init__(self, bucket_seconds: float = 60.0) -> None:
        self.started = time.monotonic()
        self.bucket = bucket_seconds
        self.minutes: dict[int, Minute] = defaultdict(Minute)

    def at(self, moment: float) -> Minute:
        return self.minutes[int((moment - self.started) // self.bucket)]


def _tree_usage(root: psutil.Process) -> tuple[float, float]:
    """CPU seconds and RSS bytes of a process and all its children."""
    cpu = rss = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
            cpu += times.user + times.system
            rss += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return cpu, rss


class ServerSampler:
    """CPU seconds and RSS of the server's processes (supervisor and workers), CPU of the
    PostgreSQL cluster where it is ours, and of this load generator, every 5 s."""

    def __init__(self, pid: int, recorder: Recorder, db_pid: int | None = None) -> None:
        self.root = psutil.Process(pid)
        self.db_root = psutil.Process(db_pid) if db_pid else None
        self.me = psutil.Process()
        self.recorder = recorder
        # (monotonic, server cpu s, server rss bytes, own cpu s, database cpu s)
        self.samples: list[tuple[float, float, float, float, float]] = []

    def sample(self) -> None:
        cpu, rss = _tree_usage(self.root)
        db_cpu = _tree_usage(self.db_root)[0] if self.db_root else 0.0
        own = self.me.cpu_times()
        self.samples.append((time.monotonic(), cpu, rss, own.user + own.system, db_cpu))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=5)
        self.sample()

    def fill(self) -> None:
        """Per minute: CPU cores used (Δcpu / Δwall) and the largest RSS sampled in it."""
        by_minute: dict[int, list[tuple[float, float, float, float, float]]] = \
            defaultdict(list)
        for sample in self.samples:
            index = int((sample[0] - self.recorder.started) // self.recorder.bucket)
            by_minute[index].append(sample)
        previous: tuple[float, float, float, float, float] | None = None
        for index in sorted(by_minute):
            rows = by_minute[index]
            start = previous or rows[0]
            end = rows[-1]
            minute = self.recorder.minutes.get(index)
            if minute is not None:
                wall = end[0] - start[0]
                minute.cpu_seconds = end[1] - start[1]
                minute.cpu_cores = minute.cpu_seconds / wall if wall > 0 else 0.0
                minute.client_cores = (end[3] - start[3]) / wall if wall > 0 else 0.0
                minute.db_cores = (end[4] - start[4]) / wall if wall > 0 else 0.0
                minute.rss_mb = max(r[2] for r in rows) / 1e6
            previous = end


# --- the devices --------------------------------------------------------------------------


class SimDevice:
    def __init__(self, device: Device, seed: int) -> None:
        self.device = device
        self.rng = random.Random(seed)
        self.records = [uuid.uuid4().hex for _ in range(40)]
        self.cursor = 0
        self.http: httpx.AsyncClient | None = None  # the running load's client

    def batch(self) -> list[dict[str, Any]]:
        rng = self.rng
        count = rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 4, 6, 8))
        return [sign_change({
            "change_id": uuid.uuid4().hex,
            "record_id": rng.choice(self.records) if rng.random() < 0.7 else uuid.uuid4().hex,
            "kind": rng.choice(KINDS),
            "hlc": f"{time.time_ns() // 1_000_000:013d}.{rng.randrange(100_000):05d}",
            "epoch": 1, "nonce": protocol.b64e(os.urandom(12)),
            "ciphertext": protocol.b64e(os.urandom(rng.randint(300, 800)))}, self.device)
            for _ in range(count)]


async def _call(http: httpx.AsyncClient, recorder: Recorder, name: str, method: str,
                path: str, headers: dict[str, str], **kwargs: Any) -> Any:
    started = time.monotonic()
    minute = recorder.at(started)
    try:
        response = await http.request(method, path, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        minute.errors.append(f"{name}: {type(exc).__name__}")
        return None
    minute.latency[name].append(time.monotonic() - started)
    if response.status_code != 200:
        minute.errors.append(f"{name}: {response.status_code} {response.text[:120]}")
        return None
    return response.json()


async def _sync(recorder: Recorder, sim: SimDevice) -> None:
    http, headers = sim.http, sim.device.headers
    assert http is not None
    recorder.at(time.monotonic()).syncs += 1
    batch = sim.batch()
    if batch:
        await _call(http, recorder, "push", "POST", "/v1/push", headers,
                    json={"batch_id": uuid.uuid4().hex, "changes": batch})
    while True:
        page = await _call(http, recorder, "pull", "GET", "/v1/pull", headers,
                           params={"after": sim.cursor})
        if page is None:
            return
        if page["changes"]:
            sim.cursor = max(sim.cursor, page["changes"][-1]["seq"])
        if not page["more"]:
            break
    await _call(http, recorder, "checksum", "GET", "/v1/checksum", headers)


async def _open_loop(url: str, sims: list[SimDevice], interval: float, seconds: float,
                     recorder: Recorder, server_pid: int, db_pid: int | None) -> None:
    """Each device starts a sync every ``interval`` s at its own offset, for ``seconds``."""
    sampler = ServerSampler(server_pid, recorder, db_pid)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    progress = asyncio.create_task(_progress(recorder, stop))
    # One client (one connection) per device, as in reality; one shared pool for all devices
    # costs the generator CPU that grows with the requests waiting in it (httpcore).
    limits = httpx.Limits(max_connections=1)
    tasks: set[asyncio.Task[None]] = set()
    loop_load: list[tuple[float, float]] = []
    async with AsyncExitStack() as stack:
        for sim in sims:
            sim.http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=120, limits=limits))
        schedule = sorted((n * interval / len(sims), n) for n in range(len(sims)))
        recorder.started = started = time.monotonic()
        rounds = math.ceil(seconds / interval)
        for round_ in range(rounds):
            for offset, number in schedule:
                due = started + round_ * interval + offset
                if due - started >= seconds:
                    break
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(_sync(recorder, sims[number]))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                if not loop_load or time.monotonic() - loop_load[-1][0] >= 10:
                    loop_load.append((time.monotonic(), os.getloadavg()[0]))
        if tasks:
            await asyncio.gather(*tasks)
    stop.set()
    await sampling
    await progress
    sampler.fill()
    if os.environ.get("KIMDESK_BENCH_DEBUG"):
        print(sampler.samples)
    for moment, load in loop_load:
        minute = recorder.minutes.get(int((moment - started) // recorder.bucket))
        if minute is not None:
            minute.load = max(minute.load, load)


async def _progress(recorder: Recorder, stop: asyncio.Event) -> None:
    """A line per minute while the run goes on (a long run shows its shape early)."""
    shown = 0
    while not stop.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5)
        current = int((time.monotonic() - recorder.started) // recorder.bucket)
        while shown < current and not stop.is_set():
            m = recorder.minutes.get(shown)
            if m is not None:
                print(f"… minute {shown + 1}: {m.syncs} syncs, " + ", ".join(
                    f"{name} p50/p99 {_fmt(_p(m, name, 0.5))}/{_fmt(_p(m, name, 0.99))} ms"
                    for name in ENDPOINTS) + f", {len(m.errors)} errors, load "
                    f"{os.getloadavg()[0]:.1f} (requests still running are not counted)",
                    flush=True)
            shown += 1


# --- reporting ----------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _p(minute: Minute, name: str, fraction: float) -> float | None:
    values = minute.latency.get(name)
    return _percentile(values, fraction) * 1000 if values else None


def _fmt(value: float | None) -> str:
    return f"{value:.0f}" if value is not None else "–"


def _print_minutes(recorder: Recorder, unit: str) -> None:
    header = f"{unit:>4} {'syncs':>6} {'req':>6}"
    for name in ENDPOINTS:
        header += f" {name + ' p50':>12} {'p99':>6}"
    header += (f" {'err':>4} {'CPU':>5} {'ms/req':>6} {'RSS MB':>7} {'DB CPU':>6}"
               f" {'load':>5} {'gen CPU':>7}")
    print(header)
    for index in sorted(recorder.minutes):
        m = recorder.minutes[index]
        requests = sum(len(v) for v in m.latency.values()) + len(m.errors)
        line = f"{index + 1:>4} {m.syncs:>6} {requests:>6}"
        for name in ENDPOINTS:
            line += f" {_fmt(_p(m, name, 0.5)):>12} {_fmt(_p(m, name, 0.99)):>6}"
        per_request = m.cpu_seconds * 1000 / requests if requests else 0.0
        line += (f" {len(m.errors):>4} {m.cpu_cores:>5.2f} {per_request:>6.1f}"
                 f" {m.rss_mb:>7.0f} {m.db_cores:>6.2f} {m.load:>5.1f} {m.client_cores:>7.2f}")
        print(line)


def _verdict(recorder: Recorder) -> bool:
    minutes = [recorder.minutes[i] for i in sorted(recorder.minutes)]
    full = [m for m in minutes if m.syncs > 0]
    errors = sum(len(m.errors) for m in minutes)
    first, last = full[0], full[-1]
    ok = errors == 0
    first_error = next((e for m in minutes for e in m.errors), "")
    print(f"errors: {errors}" + (f" (first: {first_error})" if errors else "")
          + f"  target 0: {'OK' if not errors else 'MISSED'}")
    for name in ENDPOINTS:
        a, b = _p(first, name, 0.99), _p(last, name, 0.99)
        good = a is not None and b is not None and a < P99_TARGET_MS and b < P99_TARGET_MS
        ok &= good
        print(f"{name}: p99 first minute {_fmt(a)} ms, last minute {_fmt(b)} ms  "
              f"target < {P99_TARGET_MS:.0f} ms in both: {'OK' if good else 'MISSED'}")
    if len(full) >= 3:
        base, end = full[1].rss_mb, full[-1].rss_mb
        flat = end <= base * RSS_GROWTH_LIMIT
        ok &= flat
        print(f"server RSS minute 2 {base:.0f} MB, last minute {end:.0f} MB  target ≤ "
              f"{RSS_GROWTH_LIMIT:.2f}×: {'OK' if flat else 'MISSED'}")
    return ok


# --- main ---------------------------------------------------------------------------------


@contextmanager
def _database(pg: str | None, tmp: Path) -> Iterator[tuple[str, int | None]]:
    """The database URL, and the PostgreSQL postmaster's pid where we started it."""
    if pg is None:
        yield f"sqlite:///{tmp / 'server.db'}", None
        return
    if pg != "auto":
        yield pg, None
        return
    cluster = PostgresCluster()
    try:
        cluster.start()
        url = cluster.new_database()
        pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
        yield url, pid
    finally:
        cluster.stop()


def _row_counts(db_url: str) -> str:
    """Rows of the tables that grow (those this server version has)."""
    from sqlalchemy import inspect, text

    db = admin.open_database(db_url)
    try:
        present = set(inspect(db.engine).get_table_names())
        with db.read() as conn:
            counts = {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                      for name in ("changes", "record_versions", "device_deliveries",
                                   "device_records") if name in present}
    finally:
        db.dispose()
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=60.0,
                        help="seconds between two syncs of a device (default 60)")
    parser.add_argument("--team-size", type=int, default=25)
    parser.add_argument("--pg", metavar="auto|URL",
                        help="PostgreSQL: 'auto' starts a throwaway cluster (needs the "
                             "postgresql package), or an empty database's URL")
    parser.add_argument("--workers", type=int, default=1, help="kimdesk serve --workers")
    parser.add_argument("--saturate", action="store_true",
                        help="raise the rate step by step until p99 > 200 ms or errors")
    parser.add_argument("--step-seconds", type=float, default=60.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kimdesk-open-") as tmp_name, \
            _database(args.pg, Path(tmp_name)) as (db_url, db_pid):
        tmp = Path(tmp_name)
        server = ServerProcess(db_url, log_path=tmp / "serve.log", workers=args.workers)
        with server:
            assert server.pid is not None
            started = time.perf_counter()
            devices = _setup(server.url, db_url, args.devices, args.team_size)
            backend = "PostgreSQL" if args.pg else "SQLite"
            print(f"{len(devices)} devices in teams of {args.team_size} enrolled in "
                  f"{time.perf_counter() - started:.0f} s; {backend}, kimdesk serve "
                  f"--workers {args.workers}; {psutil.cpu_count()} cores; load average "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
            sims = [SimDevice(device, number) for number, device in enumerate(devices)]
            if args.saturate:
                ok = _saturate(server, sims, args.step_seconds, db_pid)
            else:
                recorder = Recorder()
                asyncio.run(_open_loop(server.url, sims, args.interval, args.minutes * 60,
                                       recorder, server.pid, db_pid))
                print(f"open loop: {len(sims)} devices, one sync every {args.interval:.0f} s "
                      f"each ({len(sims) / args.interval:.1f} syncs/s), "
                      f"{args.minutes:g} min")
                _print_minutes(recorder, "min")
                ok = _verdict(recorder)
            crashed = "Traceback" in server.log_text()
        print(f"rows: {_row_counts(db_url)}")
    if crashed:
        print("server log contains a traceback")
    print(f"target (issue 17, open loop): {'OK' if ok and not crashed else 'MISSED'}")


def _saturate(server: ServerProcess, sims: list[SimDevice], step_seconds: float,
              db_pid: int | None) -> bool:
    """Raise the sync rate step by step; the last step that kept p99 < 200 ms and no error.
    Per core: requests/s divided by the CPU of the server's processes (and of PostgreSQL
    where we started it)."""
    assert server.pid is not None
    good: tuple[float, float, float] | None = None  # (requests/s, cores, syncs/s)
    print(f"{'interval':>8} {'syncs/s':>8} {'req/s':>7} " + " ".join(
        f"{name + ' p99':>12}" for name in ENDPOINTS)
          + f" {'err':>4} {'CPU':>5} {'DB CPU':>6} {'load':>5} {'gen CPU':>7}")
    for interval in (60, 30, 20, 15, 10, 7.5, 5, 4, 3, 2, 1.5, 1):
        recorder = Recorder(bucket_seconds=step_seconds)
        asyncio.run(_open_loop(server.url, sims, interval, step_seconds, recorder,
                               server.pid, db_pid))
        minute = recorder.minutes[0]
        requests = sum(len(v) for v in minute.latency.values()) + len(minute.errors)
        rate = requests / step_seconds
        p99s = [_p(minute, name, 0.99) for name in ENDPOINTS]
        print(f"{interval:>8g} {len(sims) / interval:>8.1f} {rate:>7.1f} " + " ".join(
            f"{_fmt(p):>12}" for p in p99s) + f" {len(minute.errors):>4} "
              f"{minute.cpu_cores:>5.2f} {minute.db_cores:>6.2f} {minute.load:>5.1f} "
              f"{minute.client_cores:>7.2f}", flush=True)
        if minute.errors:
            print(f"first error: {minute.errors[0]}")
        if minute.errors or any(p is None or p >= P99_TARGET_MS for p in p99s):
            break
        good = (rate, minute.cpu_cores + minute.db_cores, len(sims) / interval)
    if good is None:
        print("saturation: already the first step missed p99 < 200 ms")
        return False
    rate, cores, syncs = good
    print(f"saturation throughput: {rate:.0f} requests/s ({syncs:.1f} syncs/s) with p99 < "
          f"{P99_TARGET_MS:.0f} ms, server{' + PostgreSQL' if db_pid else ''} CPU "
          f"{cores:.2f} cores → {rate / max(cores, 0.01):.0f} requests/s per core")
    return True


if __name__ == "__main__":
    main()
