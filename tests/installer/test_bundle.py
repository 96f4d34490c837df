"""What a built bundle holds: the app and its data, no tests, no server, no vault.

Runs only when ``KIMDESK_TEST_BUNDLE`` names a built bundle folder (CI's ``.ci/run`` builds one
with ``installer/build.py --team nord`` and sets it); building takes a minute, so a plain
``make test`` skips this module.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from kimdesk import APP_ID

BUNDLE_ENV = "KIMDESK_TEST_BUNDLE"
_bundle_dir = os.environ.get(BUNDLE_ENV, "")
if not _bundle_dir or not Path(_bundle_dir).is_dir():
    pytest.skip(f"no built bundle: set {BUNDLE_ENV} to a folder made by installer/build.py "
                "(.ci/run does)", allow_module_level=True)

readers = pytest.importorskip("PyInstaller.archive.readers",
                              reason="PyInstaller (extra 'installer') reads the bundle's archive")

BUNDLE = Path(_bundle_dir).resolve()
WINDOWS = platform.system() == "Windows"
SERVER_ONLY = ("fastapi", "uvicorn", "starlette", "pydantic", "pydantic_core", "psycopg",
               "kimdesk.server")
TEST_TOOLS = ("pytest", "_pytest", "pytestqt", "hypothesis", "schemathesis", "tests",
              "conftest")


def _program(name: str) -> Path:
    return BUNDLE / (f"{name}.exe" if WINDOWS else name)


@pytest.fixture(scope="module")
def files() -> list[Path]:
    return [p.relative_to(BUNDLE) for p in BUNDLE.rglob("*")]


@pytest.fixture(scope="module")
def modules() -> set[str]:
    """The Python modules frozen into the programs (PyInstaller's PYZ archive)."""
    names: set[str] = set()
    for program in (APP_ID, f"{APP_ID}-gui"):
        archive = readers.CArchiveReader(str(_program(program)))
        names |= set(archive.open_embedded_archive("PYZ.pyz").toc)
    return names


@pytest.fixture(scope="module")
def internal() -> Path:
    """PyInstaller's data folder (sys._MEIPASS of the installed app)."""
    return BUNDLE / "_internal"


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_both_programs_are_there() -> None:
    assert _program(APP_ID).is_file()
    assert _program(f"{APP_ID}-gui").is_file()
    if not WINDOWS:
        assert os.access(_program(APP_ID), os.X_OK)


def test_the_app_itself_is_frozen_in(modules: set[str]) -> None:
    for name in ("kimdesk.cli", "kimdesk.ui.start", "kimdesk.ui.stats_screen", "kimdesk.vault",
                 "kimdesk.reports.layout", "sqlcipher3.dbapi2", "alembic.op"):
        assert name in modules or any(_within(m, name) for m in modules), name


def test_no_test_files(files: list[Path], modules: set[str]) -> None:
    test_files = [f for f in files if "tests" in f.parts or f.name.startswith("conftest")
                  or (f.name.startswith("test_") and f.suffix in {".py", ".pyc"})]
    assert test_files == []
    test_modules = sorted(m for m in modules
                          if any(_within(m, tool) for tool in TEST_TOOLS)
                          or any(part in {"tests", "conftest"} or part.startswith("test_")
                                 for part in m.split(".")))
    assert test_modules == []


def test_no_server_code_or_server_dependencies(files: list[Path], modules: set[str]) -> None:
    assert sorted(m for m in modules if any(_within(m, p) for p in SERVER_ONLY)) == []
    folders = {f.parts[1] for f in files if len(f.parts) > 2 and f.parts[0] == "_internal"}
    assert sorted(f for f in folders
                  if f.split("-")[0].lower() in {"fastapi", "uvicorn", "starlette", "pydantic",
                                                 "pydantic_core", "psycopg", "psycopg_binary"}
                  ) == []
    assert not (BUNDLE / "_internal" / "kimdesk" / "server").exists()


def test_no_vault_and_no_plain_sqlite_database(files: list[Path]) -> None:
    vault_names = {"vault.db", "vault-header.json", "vault.db-wal", "vault.db-shm",
                   "unlock-attempts.json", ".demo-vault"}
    assert sorted(str(f) for f in files if f.name in vault_names) == []
    databases = []
    for path in (BUNDLE / f for f in files):
        if path.is_file():
            with path.open("rb") as file:
                if file.read(16) == b"SQLite format 3\0":
                    databases.append(path.name)
    assert databases == []


def test_profile_of_the_team_is_baked_in(internal: Path) -> None:
    profile = tomllib.loads((internal / "profile.toml").read_text(encoding="utf-8"))
    team = BUNDLE.name.split("-")[2]  # KIMdesk-VERSION-TEAM-PLATFORM
    assert profile["team"] == team
    assert profile["server_url"].startswith("https://")
    if "ca_certificate" in profile:
        assert (internal / profile["ca_certificate"]).read_bytes().startswith(b"-----BEGIN")


def test_fonts_reference_data_and_migrations(internal: Path) -> None:
    fonts = internal / "resources" / "fonts"
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "NotoSansArabic-Regular.ttf",
            "NotoSansArabic-Bold.ttf"} <= {p.name for p in fonts.iterdir()}
    texts = {p.name for p in (internal / "resources" / "client_texts").iterdir()}
    assert {"de.toml", "ar.toml", "fa.toml", "uk.toml"} <= texts
    reference = internal / "resources" / "reference"
    names = {p.name for p in reference.iterdir()}
    assert {"organisation.toml", "vocabularies.toml", "nationalities.toml", "rules.toml"} <= names
    assert list((reference / "zielsystem").glob("*.toml"))
    templates = {p.name for p in (internal / "resources" / "templates").glob("*.toml")}
    assert {"anschreiben_behoerde.toml", "terminbestaetigung.toml"} <= templates
    versions = internal / "kimdesk" / "vault" / "migrations" / "versions"
    assert (internal / "kimdesk" / "vault" / "migrations" / "env.py").is_file()
    assert any(p.name.startswith("0001_") for p in versions.glob("*.py"))


def test_sqlcipher_and_not_plain_sqlite(internal: Path, modules: set[str]) -> None:
    extensions = list((internal / "sqlcipher3").glob("_sqlite3*"))
    assert extensions, "SQLCipher's extension module is missing"
    assert "sqlite3" not in modules  # Python's plain SQLite is left out on purpose
    assert not list(internal.rglob("_sqlite3.*so")) or all(
        "sqlcipher3" in p.parts for p in internal.rglob("_sqlite3.*so"))


def test_qt_platforms_charts_and_german_translation(internal: Path) -> None:
    qt = internal / "PySide6"
    plugins = {p.stem.removeprefix("lib") for p in qt.rglob("platforms/*")}
    assert "qoffscreen" in plugins
    assert ("qwindows" if WINDOWS else "qxcb") in plugins
    # QtCharts draws the statistics screen: the binding and the Qt library.
    assert list(qt.glob("QtCharts.*")) and list(qt.rglob("*Qt6Charts*"))
    translations = sorted(p.name for p in qt.rglob("translations/*.qm"))
    assert "qtbase_de.qm" in translations
    assert all(name.endswith("_de.qm") for name in translations)
    for unused in ("WebEngine", "Qt6Quick", "Qt6Qml", "Qt63D", "Multimedia", "VirtualKeyboard"):
        assert not [p.name for p in internal.rglob(f"*{unused}*")], unused


def test_selftest_of_the_bundle_reads_its_profile() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    result = subprocess.run([str(_program(APP_ID)), "selftest"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    team = BUNDLE.name.split("-")[2]
    assert f"({team}), Server https://" in result.stdout
    assert "Selbsttest bestanden" in result.stdout


def _run(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if password:
        env["KIMDESK_PASSWORD"] = password
    return subprocess.run([str(_program(APP_ID)), *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_laptop_commands_without_the_server_commands() -> None:
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\s+selftest\s", result.stdout, re.MULTILINE)
    assert not re.search(r"^\s+(serve|server-admin)\b", result.stdout, re.MULTILINE)
    assert _run("serve").returncode == 2  # a usage error, not a crash


def test_a_pdf_from_the_bundle_embeds_its_fonts(tmp_path: Path) -> None:
    from pypdf import PdfReader

    password = "Schwanenburg-Kleve-2026"
    created = _run("init", "--data-dir", str(tmp_path / "vault"), "--user", "Test IT",
                   "--team", "nord", password=password)
    assert created.returncode == 0, created.stderr
    out = tmp_path / "statistik.pdf"
    report = _run("report", "statistik", "--data-dir", str(tmp_path / "vault"),
                  "--from", "2026-01", "--to", "2026-06", "--out", str(out), password=password)
    assert report.returncode == 0, report.stderr
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for page in PdfReader(out).pages
             for font in page["/Resources"]["/Font"].values()}
    assert fonts == {"DejaVuSans", "DejaVuSans-Bold"}


def test_the_arabic_information_sheet_from_the_bundle_embeds_noto(tmp_path: Path) -> None:
    from pypdf import PdfReader

    password = "Schwanenburg-Kleve-2026"
    created = _run("init", "--data-dir", str(tmp_path / "vault"), "--user", "Test IT",
                   "--team", "nord", password=password)
    assert created.returncode == 0, created.stderr
    out = tmp_path / "datenschutzinfo.pdf"
    report = _run("report", "datenschutzinfo", "--sprache", "ar", "--data-dir",
                  str(tmp_path / "vault"), "--out", str(out), password=password)
    assert report.returncode == 0, report.stderr
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for page in PdfReader(out).pages
             for font in page["/Resources"]["/Font"].values()}
    assert {"NotoSansArabic-Regular", "DejaVuSans"} <= fonts
