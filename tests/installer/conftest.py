"""Loads installer/build.py and installer/hooks/qt_plugins.py (scripts, not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script(name: str, path: Path) -> ModuleType:
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build() -> ModuleType:
    return load_script("kimdesk_installer_build", ROOT / "installer" / "build.py")


@pytest.fixture(scope="session")
def qt_plugins() -> ModuleType:
    return load_script("kimdesk_installer_qt_plugins",
                       ROOT / "installer" / "hooks" / "qt_plugins.py")
