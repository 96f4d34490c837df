"""The layers of DESIGN.md, checked by reading the imports of every module (STYLE.md point 1).

Data flows one way, ui → casework → models → vault; only ``kimdesk/ui`` imports Qt, so all
else runs and tests without a display.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kimdesk"
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6")

# Functions allowed to cross a layer, with the reason. Only their own body is exempt.
EXEMPT_FUNCTIONS = {
    # `python -m kimdesk.vault.migrate revision MESSAGE`: a developer's tool that autogenerates
    # a migration from the models' metadata. It never runs when a vault is created or opened.
    "kimdesk.vault.migrate": {"_make_revision"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool = False,
               exempt: frozenset[str] = frozenset()) -> set[str]:
    """Every module the source of ``module`` imports, wherever the import stands (top level,
    functions, TYPE_CHECKING blocks), with relative imports resolved; the bodies of the
    functions named in ``exempt`` are skipped."""
    tree = ast.parse(source)
    package = module.split(".") if is_package else module.split(".")[:-1]
    skipped = [(f.lineno, f.end_lineno or f.lineno) for f in ast.walk(tree)
               if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name in exempt]
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom | ast.Call):
            continue
        if any(start <= node.lineno <= end for start, end in skipped):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
        elif (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


@functools.cache
def _modules(under: str = "") -> dict[str, set[str]]:
    root = PACKAGE / under if under else PACKAGE
    modules = {}
    for path in sorted(root.rglob("*.py")):
        name = _module_name(path)
        modules[name] = imports_of(
            path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py",
            exempt=frozenset(EXEMPT_FUNCTIONS.get(name, ())))
    return modules


def _offending(modules: dict[str, set[str]], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    def hits(imported: set[str]) -> list[str]:
        return sorted(i for i in imported
                      if any(i == f or i.startswith(f + ".") for f in forbidden))

    return {name: hits(imported) for name, imported in modules.items() if hits(imported)}


# --- the scanner itself -----------------------------------------------------------------------


def test_the_scan_sees_the_whole_package() -> None:
    modules = _modules()

    for expected in ("kimdesk.casework.cases", "kimdesk.models.clients", "kimdesk.vault.store",
                     "kimdesk.reference", "kimdesk.casework"):
        assert expected in modules
    assert "kimdesk.models" in modules["kimdesk.casework.cases"]
    assert "kimdesk.vault" in modules["kimdesk.casework.context"]


def test_the_scan_finds_every_form_of_import() -> None:
    source = (
        "import PySide6.QtCore\n"
        "from ..ui import widgets\n"
        "from . import audit\n"
        "from .. import models\n"
        "def later():\n"
        "    from PySide6.QtWidgets import QApplication\n"
        "    importlib.import_module('kimdesk.ui.app')\n"
        "def tool():\n"
        "    from kimdesk.models import Base\n"
    )

    found = imports_of(source, "kimdesk.casework.cases", exempt=frozenset({"tool"}))

    assert {"PySide6.QtCore", "kimdesk.ui.widgets", "kimdesk.casework.audit",
            "kimdesk.models", "PySide6.QtWidgets.QApplication", "kimdesk.ui.app"} <= found
    assert "kimdesk.models.Base" not in found
    assert _offending({"m": found}, QT) == {"m": ["PySide6.QtCore", "PySide6.QtWidgets",
                                                  "PySide6.QtWidgets.QApplication"]}


# --- the rules --------------------------------------------------------------------------------


def test_only_the_ui_imports_qt() -> None:
    outside_ui = {name: imported for name, imported in _modules().items()
                  if not (name == "kimdesk.ui" or name.startswith("kimdesk.ui."))}

    assert _offending(outside_ui, QT) == {}


# Every layer below the UI that exists so far (reports, sync and server join when written).
LOWER_LAYERS = [layer for layer in ("casework", "models", "vault", "stats", "reports", "sync",
                                    "server") if (PACKAGE / layer).is_dir()]


@pytest.mark.parametrize("layer", LOWER_LAYERS)
def test_lower_layers_never_import_the_ui(layer: str) -> None:
    assert _offending(_modules(layer), ("kimdesk.ui",)) == {}


def test_models_never_import_casework() -> None:
    assert _offending(_modules("models"), ("kimdesk.casework",)) == {}


def test_vault_never_imports_models_or_casework() -> None:
    assert _offending(_modules("vault"), ("kimdesk.models", "kimdesk.casework")) == {}


def test_nothing_imports_the_command_line() -> None:
    # cli.py is the top: it wires everything; whatever it shares lives in kimdesk.cli_toolkit.
    others = {name: imported for name, imported in _modules().items() if name != "kimdesk.cli"}
    assert _offending(others, ("kimdesk.cli",)) == {}


def _orm_entities(imported: set[str]) -> list[str]:
    import importlib

    from kimdesk.models import Base

    found = []
    for name in imported:
        module, _, attribute = name.rpartition(".")
        if not module.startswith("kimdesk.models"):
            continue
        try:
            value = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
        if isinstance(value, type) and issubclass(value, Base):
            found.append(name)
    return sorted(found)


def test_the_ui_never_imports_orm_entities() -> None:
    # Screens get frozen records (kimdesk/casework/records.py) and row dataclasses, never
    # detached entities; enumerations and constants of the models are fine.
    ui = {name: imported for name, imported in _modules("ui").items()}
    assert {name: hits for name, imported in ui.items() if (hits := _orm_entities(imported))} \
        == {}
    assert _orm_entities({"kimdesk.models.Client", "kimdesk.models.enums.CaseKind"}) == [
        "kimdesk.models.Client"]


# What the county server shares with the laptops: the wire protocol and the pure formats both
# sides check (certificates, one-time lease codes). Each imports nothing of the client's store.
SHARED_WITH_SERVER = ("kimdesk.sync.protocol", "kimdesk.sync.trust", "kimdesk.sync.lease")
_ALLOWED_FOR_SERVER = ("kimdesk.server", "kimdesk.errors", *SHARED_WITH_SERVER)


def test_the_server_imports_only_the_shared_protocol() -> None:
    def outside(imported: set[str]) -> list[str]:
        return sorted(i for i in imported if i.startswith("kimdesk.")
                      and i != "kimdesk.sync" and i != "kimdesk.__version__"
                      and not any(i == a or i.startswith(a + ".") for a in _ALLOWED_FOR_SERVER))

    server = {name: hits for name, imported in _modules("server").items()
              if (hits := outside(imported))}
    assert server == {}


@pytest.mark.parametrize("module", SHARED_WITH_SERVER)
def test_the_shared_protocol_needs_nothing_of_the_client(module: str) -> None:
    imported = _modules("sync")[module]
    assert [i for i in imported if i.startswith("kimdesk.") and i != "kimdesk.sync" and not (
        i.startswith("kimdesk.errors") or i.startswith(SHARED_WITH_SERVER))] == []
