"""Benchmark: how long unlocking a vault takes with the production Argon2id parameters.

Target (DESIGN.md): well under a second on a modest laptop. Run with ``make bench`` or
``.venv/bin/python benchmarks/vault_open.py [RUNS]``; prints the median and fastest time.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from kimdesk.vault import KdfParams, create_vault, open_vault

PASSWORD = "Benchmark-Passwort-2026"
TARGET_MS = 1000.0


def main(runs: int = 7) -> None:
    kdf = KdfParams.new()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "vault"
        vault, _recovery_code = create_vault(data_dir, PASSWORD, kdf=kdf)
        vault.close()
        timings_ms = []
        for _ in range(runs):
            start = time.perf_counter()
            vault = open_vault(data_dir, PASSWORD)
            timings_ms.append((time.perf_counter() - start) * 1000)
            vault.close()
    median = statistics.median(timings_ms)
    print(
        f"Argon2id {kdf.memory_kib // 1024} MiB, t={kdf.iterations}, lanes={kdf.lanes}; "
        f"{runs} opens"
    )
    print(f"median {median:.0f} ms, min {min(timings_ms):.0f} ms")
    print(f"target < {TARGET_MS:.0f} ms: {'OK' if median < TARGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
