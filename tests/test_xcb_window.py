"""`make run` opens a real window: `kimdesk gui --demo` under a virtual X server (Xvfb) loads
Qt's xcb platform plugin (all its shared libraries installed by scripts/install-system-deps.sh)
and paints the lock screen in a mapped window; with a missing library Qt aborts instead.

The app's start hook (KIMDESK_EXIT_AFTER_START) prints "ready <ms>" after the first paint and
quits; on xcb a widget is painted only once the X server has mapped and exposed its window.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the xcb platform is Linux's")


@pytest.fixture
def display() -> Iterator[str]:
    """A private Xvfb at 1366×768; its display number chosen by Xvfb itself (-displayfd)."""
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb fehlt: bash scripts/install-system-deps.sh ausführen"
    read_end, write_end = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0",
                               "1366x768x24", "-nolisten", "tcp"],
                              pass_fds=(write_end,), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        with os.fdopen(read_end) as announced:
            number = announced.readline().strip()
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_gui_demo_opens_a_real_xcb_window(display: str, template_vault: Path,
                                          tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    shutil.copytree(template_vault, data_dir)  # an existing vault: no demo data to build
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QT_", "KIMDESK_")) and k != "WAYLAND_DISPLAY"}
    env |= {"DISPLAY": display, "QT_DEBUG_PLUGINS": "1", "KIMDESK_EXIT_AFTER_START": "1",
            "PYTHONPATH": str(ROOT)}

    result = subprocess.run([sys.executable, "-m", "kimdesk.cli", "gui", "--demo",
                             "--data-dir", str(data_dir)], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)

    tail = result.stderr[-1500:]
    assert result.returncode == 0, tail
    assert any(line.startswith("ready ") for line in result.stdout.splitlines()), tail
    assert 'plugins/platforms/libqxcb.so" loaded library' in result.stderr, tail
    assert "Could not load the Qt platform plugin" not in result.stderr
