"""Benchmark: importing a client list of 1,000 and of 10,000 rows (`kimdesk import clients`).

Timed: :func:`kimdesk.casework.importing.import_clients` with consent on file (reading the CSV,
validation, duplicate detection against the vault and within the list, clients + consents +
audit entries + search index + sync change log, one commit) into an empty vault; median of
``--runs`` fresh vaults per size. Targets (issue 17): 10,000 rows < 5 s; 10,000 rows take at
most 11 times as long as 1,000 (linear).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import client_list, empty_vault, median_of, timed

from kimdesk.casework.importing import import_clients
from kimdesk.casework.profile import context_for
from kimdesk.vault import open_vault

TARGET_S = 5.0
TARGET_RATIO = 11.0


def run(folder: Path, template: Path, rows: int, runs: int) -> float:
    path = client_list(folder / f"liste-{rows}.csv", rows)

    cpu: list[float] = []

    def once(number: int) -> float:
        data_dir = empty_vault(template, folder / f"vault-{rows}-{number}")
        vault = open_vault(data_dir, "benchmark-passwort")
        try:
            ctx = context_for(vault)
            started = time.process_time()
            wall = timed(lambda: import_clients(ctx, path, consent_on_file=True))
            cpu.append(time.process_time() - started)
            return wall
        finally:
            vault.close()

    median, times = median_of(runs, once)
    print(f"{rows:>6} rows: " + ", ".join(f"{t:.2f}" for t in times)
          + f" s; median {median:.2f} s; CPU median {statistics.median(cpu):.2f} s; "
          f"load {os.getloadavg()[0]:.2f}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="kimdesk-bench-import-") as tmp:
        folder = Path(tmp)
        template = folder / "template"
        small = run(folder, template, args.small, args.runs)
        large = run(folder, template, args.large, args.runs)
    ratio = large / small
    print(f"{args.large} vs {args.small} rows: {ratio:.1f}×")
    ok = large < TARGET_S and ratio <= TARGET_RATIO
    print(f"target {args.large} rows < {TARGET_S:.0f} s and ≤ {TARGET_RATIO:.0f}× "
          f"{args.small}: {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
