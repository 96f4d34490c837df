"""PySide6.QtNetwork (PySide6 imports it itself) without its plugins and OpenSSL copies."""

from __future__ import annotations

import sys
from pathlib import Path

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qt_plugins import filtered

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = filtered(binaries)
datas = filtered(datas)
