"""Benchmark: what encryption costs — the same app workload on SQLCipher and on plain SQLite.

Each run is a fresh process (``cipher_memory_security`` once on stays on for the process) that
creates its vaults and runs the workload through the real use cases:

- import: a list of ``--rows`` clients (:func:`kimdesk.casework.importing.import_clients`);
- demo: ``kimdesk demo`` with ``--clients`` clients (:func:`kimdesk.demo.fill`);
- search: 200 typical queries (names, prefixes, spellings, birth dates) through
  :func:`kimdesk.casework.clients.find_clients` in the demo vault after the import;
- statistics: all figures of the Kreis over 22 months (:func:`kimdesk.stats.figures.statistics`).

Three modes: ``sqlcipher`` (the app as shipped: cipher_memory_security off), ``memsec`` (SQLCipher
with cipher_memory_security on, as before issue 17) and ``plain`` (the same SQLite library with no
key: an unencrypted file; a benchmark-only switch in kimdesk.vault.store that neither the CLI nor
the UI can reach). Prints the median of ``--runs`` runs per mode and part, and the ratios to
plain SQLite. Target (issue 17): SQLCipher ≤ 1.15× plain SQLite. The decision about
cipher_memory_security and its reasoning are in docs/sqlcipher-cost.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import TODAY, client_list, empty_vault

MODES = ("plain", "sqlcipher", "memsec")
PARTS = ("import", "demo", "search", "statistics")
TARGET_RATIO = 1.15
QUERIES = ("Mohammed", "Muhammad Al", "al-", "Schewtschenko", "Kowalska", "Yilmaz", "Ayse",
           "Popescu", "Haddad", "Ahmadi", "Ivanova", "12.03.1988", "Nowak", "Hussein",
           "Sha", "Abdul", "Elena", "Jawad", "Haidari", "Olek")


def worker(mode: str, rows: int, clients: int) -> dict[str, float]:
    """One run of the workload in this process; seconds per part."""
    from kimdesk.vault import store

    store._BENCHMARK_PLAIN_SQLITE = mode == "plain"
    store._BENCHMARK_MEMORY_SECURITY = mode == "memsec"

    import dataclasses

    from kimdesk import demo
    from kimdesk.casework.clients import find_clients
    from kimdesk.casework.importing import import_clients
    from kimdesk.casework.profile import context_for
    from kimdesk.stats.figures import statistics as figures
    from kimdesk.stats.scope import Period
    from kimdesk.vault import open_vault

    times: dict[str, float] = {}

    def part(name: str, action: Callable[[], object]) -> None:
        # Wall time, and the process's CPU time (user + system): on a shared machine the
        # latter is the steadier figure (waiting for a core is not the database's cost).
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        times[name] = time.perf_counter() - wall
        times["cpu " + name] = time.process_time() - cpu

    def searches() -> None:
        for _ in range(10):
            for query in QUERIES:
                find_clients(ctx, query)

    with tempfile.TemporaryDirectory(prefix="kimdesk-bench-cipher-") as tmp:
        folder = Path(tmp)
        path = client_list(folder / "liste.csv", rows)
        data_dir = empty_vault(folder / "template", folder / "vault")
        vault = open_vault(data_dir, "benchmark-passwort")
        try:
            ctx = dataclasses.replace(context_for(vault), clock=lambda: TODAY)
            part("demo", lambda: demo.fill(vault, clients=clients, today=TODAY))
            part("import", lambda: import_clients(ctx, path, consent_on_file=True,
                                                  import_duplicates=True))
            part("search", searches)
            part("statistics", lambda: figures(ctx, Period("2025-01", "2026-10")))
        finally:
            vault.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, args.clients)))
        return
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"workload: demo {args.clients} clients, import {args.rows} rows, "
          f"{10 * len(QUERIES)} searches, statistics; {args.runs} runs per mode, interleaved")
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    for _ in range(args.runs):
        for mode in MODES:  # interleaved, so a change in the machine's load hits every mode
            out = subprocess.run(
                [sys.executable, __file__, "--worker", mode, "--rows", str(args.rows),
                 "--clients", str(args.clients)],
                check=True, capture_output=True, text=True)
            results[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for label, prefix in (("wall", ""), ("CPU", "cpu ")):
        medians = {mode: {part: statistics.median(run[prefix + part] for run in runs)
                          for part in PARTS} for mode, runs in results.items()}
        for mode in MODES:
            medians[mode]["total"] = statistics.median(
                sum(run[prefix + part] for part in PARTS) for run in results[mode])
        print(f"{label + ', median s':<20}" + "".join(f"{part:>12}" for part in (*PARTS, "total")))
        for mode in MODES:
            print(f"{mode:<20}" + "".join(f"{medians[mode][part]:>12.2f}"
                                          for part in (*PARTS, "total")))
        for mode in ("sqlcipher", "memsec"):
            print(f"{mode + ' / plain':<20}" + "".join(
                f"{medians[mode][part] / medians['plain'][part]:>11.2f}×"
                for part in (*PARTS, "total")))
        ratio = medians["sqlcipher"]["total"] / medians["plain"]["total"]
        print(f"target SQLCipher (as shipped) ≤ {TARGET_RATIO:.2f}× plain SQLite ({label}): "
              f"{ratio:.2f}× {'OK' if ratio <= TARGET_RATIO else 'MISSED'}")


if __name__ == "__main__":
    main()
