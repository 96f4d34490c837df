"""Benchmark: `kimdesk demo` with its default 150 clients and with ``--clients 2000``.

Timed: :func:`kimdesk.demo.fill` (the five worked examples of the concept, the network of
institutions, households with their cases, contacts, plans and deadlines) into an empty vault;
median of ``--runs`` fresh vaults per size. Creating the vault itself (Argon2id, migrations) is
not timed. Targets (issue 17): 150 clients < 5 s, 2,000 clients < 30 s.
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

from _workload import TODAY, empty_vault, median_of, timed

from kimdesk import demo
from kimdesk.vault import open_vault

TARGETS_S = {150: 5.0, 2000: 30.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 2000])
    args = parser.parse_args()
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="kimdesk-bench-demo-") as tmp:
        folder = Path(tmp)
        for size in args.sizes:
            cpu: list[float] = []

            def once(number: int, size: int = size, cpu: list[float] = cpu) -> float:
                data_dir = empty_vault(folder / "template", folder / f"vault-{size}-{number}")
                vault = open_vault(data_dir, "benchmark-passwort")
                try:
                    started = time.process_time()
                    wall = timed(lambda: demo.fill(vault, clients=size, today=TODAY))
                    cpu.append(time.process_time() - started)
                    return wall
                finally:
                    vault.close()

            median, times = median_of(args.runs, once)
            target = TARGETS_S.get(size)
            goal = f" (target < {target:.0f} s)" if target else ""
            print(f"{size:>5} clients: " + ", ".join(f"{t:.1f}" for t in times)
                  + f" s; median {median:.1f} s{goal}; CPU median "
                  f"{statistics.median(cpu):.1f} s; load {os.getloadavg()[0]:.2f}")
            if target:
                verdicts.append(median < target)
    print(f"target 150 clients < 5 s, 2000 < 30 s: {'OK' if all(verdicts) else 'MISSED'}")


if __name__ == "__main__":
    main()
