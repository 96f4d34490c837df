"""Benchmark: how long the installed app (the PyInstaller bundle) takes to show its unlock screen.

Target (issue 17): under 0.8 s on this machine (issue #7 had asked for 2 s). Build the bundle first
(``.venv/bin/python installer/build.py --team nord``), then run
``.venv/bin/python benchmarks/bundle_start.py [--bundle DIR] [--runs N]``.

Each run starts the bundle's ``kimdesk-gui`` (on Windows ``kimdesk.exe gui``) headless
(``QT_QPA_PLATFORM=offscreen``) on a vault made once with the bundle's own ``kimdesk init``,
with ``KIMDESK_EXIT_AFTER_START=1``: the app prints ``ready <ms>`` after the first paint of the
unlock screen and quits. The time measured is from starting the process to reading that line
(loader, Python, imports, window, first paint); the app's own ``<ms>`` (from entering
``ui.start.run`` to the paint) is shown beside it. One warm-up run is not counted: the first
start after a build reads the files from disk. Measure on an otherwise idle machine; the CPU
time of the started process (user + system) is printed beside the wall time, as the steadier
figure on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Benchmark-Passwort-2026"
TARGET_S = 0.8
TIMEOUT_S = 60.0
BUNDLE_ENV = "KIMDESK_TEST_BUNDLE"


def _program(bundle: Path, name: str) -> Path:
    return bundle / (f"{name}.exe" if platform.system() == "Windows" else name)


def find_bundle() -> Path:
    """``$KIMDESK_TEST_BUNDLE``, else the newest bundle folder in dist/."""
    if os.environ.get(BUNDLE_ENV):
        return Path(os.environ[BUNDLE_ENV])
    folders = [p for p in (ROOT / "dist").glob("KIMdesk-*") if p.is_dir()]
    if not folders:
        sys.exit("No bundle in dist/: run `.venv/bin/python installer/build.py --team nord`.")
    return max(folders, key=lambda p: p.stat().st_mtime)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    env.update(QT_QPA_PLATFORM="offscreen", KIMDESK_DATA_DIR=str(data_dir))
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_once(bundle: Path, data_dir: Path) -> tuple[float, float, float]:
    """Seconds from process start to ``ready``, the app's own ms and the CPU seconds of the
    whole run (up to its exit); the app quits after the paint."""
    env = _env(data_dir)
    env["KIMDESK_EXIT_AFTER_START"] = "1"
    cpu_before = _children_cpu()
    started = time.perf_counter()
    # A windowed Windows program has no stdout for the `ready` line: there the console one.
    command = ([str(_program(bundle, "kimdesk")), "gui"] if platform.system() == "Windows"
               else [str(_program(bundle, "kimdesk-gui"))])
    process = subprocess.Popen(command, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    in_app_ms = None
    for line in process.stdout:
        if line.startswith("ready "):
            elapsed = time.perf_counter() - started
            in_app_ms = float(line.split()[1])
            break
    _out, err = process.communicate(timeout=TIMEOUT_S)
    if in_app_ms is None or process.returncode != 0:
        sys.exit(f"The bundle did not reach the unlock screen (exit {process.returncode}):\n{err}")
    return elapsed, in_app_ms, _children_cpu() - cpu_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="bundle folder (default: newest in dist/)")
    parser.add_argument("--runs", type=int, default=9, help="measured starts (at least 7)")
    args = parser.parse_args()
    if args.runs < 7:
        parser.error("--runs: at least 7")
    bundle = (args.bundle or find_bundle()).resolve()
    with tempfile.TemporaryDirectory(prefix="kimdesk-bench-start-") as tmp:
        data_dir = Path(tmp) / "vault"
        init = subprocess.run(
            [str(_program(bundle, "kimdesk")), "init", "--data-dir", str(data_dir),
             "--user", "Messung", "--team", "nord"],
            env={**_env(data_dir), "KIMDESK_PASSWORD": PASSWORD},
            capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        if init.returncode != 0:
            sys.exit(f"kimdesk init failed: {init.stderr}")
        start_once(bundle, data_dir)  # warm-up, not counted
        load_before = os.getloadavg()[0]
        runs = [start_once(bundle, data_dir) for _ in range(args.runs)]
        load_after = os.getloadavg()[0]
    wall = [seconds for seconds, _ms, _cpu in runs]
    in_app = [ms for _seconds, ms, _cpu in runs]
    cpu = [cpu for _seconds, _ms, cpu in runs]
    median = statistics.median(wall)
    print(f"bundle {bundle.name}; {args.runs} starts to the unlock screen (offscreen), "
          f"after 1 warm-up")
    print(f"process start → unlock screen: median {median:.2f} s, min {min(wall):.2f} s, "
          f"max {max(wall):.2f} s")
    print(f"  of which in the app (ui.start.run → first paint): median "
          f"{statistics.median(in_app):.0f} ms, min {min(in_app):.0f} ms, "
          f"max {max(in_app):.0f} ms")
    print(f"CPU time of the process (user + system, up to its exit): median "
          f"{statistics.median(cpu):.2f} s; load average (1 min) {load_before:.1f} before, "
          f"{load_after:.1f} after")
    print(f"target < {TARGET_S} s: {'OK' if median < TARGET_S else 'MISSED'}")


if __name__ == "__main__":
    main()
