"""What the installed desktop needs from kimdesk/ui/start.py, checked in a fresh process each.

`KIMDESK_EXIT_AFTER_START=1` makes the desktop say `ready <ms>` at its unlock screen and quit
(benchmarks/bundle_start.py and installer/build.py rely on it); Qt's own texts are German
(the bundle ships only Qt's German translation).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from kimdesk.vault import KdfParams, create_vault


def _start(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    env.update(QT_QPA_PLATFORM="offscreen", KIMDESK_EXIT_AFTER_START="1")
    return subprocess.run([sys.executable, "-m", "kimdesk.cli", "gui", "--data-dir",
                           str(data_dir)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_ready_at_the_unlock_screen_then_quits(tmp_path: Path) -> None:
    vault, _code = create_vault(tmp_path / "vault", "Kermisdahl-Kleve-2026",
                                kdf=KdfParams.for_tests())
    vault.close()
    result = _start(tmp_path / "vault")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"ready \d+", result.stdout.strip())


def test_ready_on_first_start_too(tmp_path: Path) -> None:
    # No vault yet: the screen to create one is what the user sees first.
    result = _start(tmp_path / "empty")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"ready \d+", result.stdout.strip())
    assert not (tmp_path / "empty" / "vault.db").exists()


def test_qt_standard_texts_are_german() -> None:
    script = (
        "from kimdesk.ui.start import application\n"
        "from PySide6.QtWidgets import QLineEdit, QMessageBox\n"
        "app = application()\n"
        "box = QMessageBox(QMessageBox.Icon.Question, 'KIMdesk', '?',\n"
        "                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)\n"
        "print('|'.join(sorted(b.text() for b in box.buttons())))\n"
        "field = QLineEdit()\n"
        "menu = field.createStandardContextMenu()\n"
        "print('|'.join(a.text() for a in menu.actions() if a.text()))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    buttons, menu = result.stdout.splitlines()
    assert buttons == "&Ja|&Nein"
    assert "&Kopieren\tStrg+C" in menu.split("|")


def test_the_unlock_screen_comes_before_the_screens_behind_it(tmp_path: Path) -> None:
    # Issue 17: `kimdesk` without a command paints the lock screen before it loads the
    # command line's other commands, the screens, and the PDF and spreadsheet libraries;
    # the screens are built right after that paint (here: before the app quits).
    script = (
        "import sys\n"
        "from kimdesk import cli\n"
        "from kimdesk.ui import main_window\n"
        "built = []\n"
        "build = main_window.MainWindow.build_workspace\n"
        "def watched(self):\n"
        "    built.append(sorted(m for m in ('kimdesk.ui.today_screen', 'kimdesk.demo',\n"
        "                                    'kimdesk.reports.commands') if m in sys.modules))\n"
        "    build(self)\n"
        "main_window.MainWindow.build_workspace = watched\n"
        "code = cli.main([])\n"
        "print('built', built[:1])\n"
        "print('loaded', sorted(m for m in ('reportlab', 'openpyxl') if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    env.update(QT_QPA_PLATFORM="offscreen", KIMDESK_EXIT_AFTER_START="1",
               KIMDESK_DATA_DIR=str(tmp_path / "vault"))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    ready, built, loaded = result.stdout.splitlines()
    assert re.fullmatch(r"ready \d+", ready)
    # Built once the lock screen was painted, and with none of the screens loaded before.
    assert built == "built [[]]"
    assert loaded == "loaded []"
