"""The `kimdesk` command as scripts, IT and the installer use it: run as a subprocess.

Each test checks what a caller relies on: the exit code (0 ok, 1 runtime error, 2 usage), one
German line ``Fehler: …`` on stderr and never a traceback, and the foundation's privacy promise
that no file of a filled vault holds a client's name or an unencrypted SQLite database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from kimdesk.models import Client
from kimdesk.vault import open_vault
from kimdesk.vault.store import HEADER_FILE

PASSWORD = "Rheinpromenade-Emmerich-7"
RECOVERY_CODE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}-[0-9A-Z]{2}\b")
# Encrypted pages look random, so a short byte string turns up by chance (a 3-byte name
# appears in a few MB of random data with odds of about 1 in 5); 6 bytes and more do not.
MIN_NAME_BYTES = 6
GOOD_CSV = (
    "Nachname;Vorname;Geburtsdatum;Staatsangehörigkeit;Kommune\n"
    "Al-Hassan;Mohammed;12.03.1988;syrisch;Kleve\n"
    "Wiśniewska;Zofia;23.01.1979;Polen;Emmerich am Rhein\n"
    "Ștefănescu;Ioana;30.06.1995;RO;Geldern\n"
    "Yılmaz;Ayşe;17.04.1991;Türkei;Goch\n"
)
BAD_CSV = (
    "Nachname;Vorname;Geburtsdatum;Staatsangehörigkeit;Kommune\n"
    "Haddad;Amina;17.04.1991;Syrien;Kleve\n"
    "Rahimi;Farid;31.02.1990;Afghanistan;Kranenburg\n"
)


def kimdesk(*args: str | Path, password: str | None = PASSWORD, timeout: float = 600
            ) -> subprocess.CompletedProcess[str]:
    """Run `python -m kimdesk.cli ARGS` with the password in KIMDESK_PASSWORD (if given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    if password is not None:
        env["KIMDESK_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "kimdesk.cli", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *, code: int = 1) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Fehler: ")
    return lines[0]


def info(data_dir: Path) -> dict[str, object]:
    result = kimdesk("info", "--data-dir", data_dir, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vault made by `kimdesk init` (production KDF), copied by the tests that change it."""
    data_dir = tmp_path_factory.mktemp("cli-init") / "vault"
    result = kimdesk("init", "--data-dir", data_dir, "--user", "Anna Becker", "--team", "ost",
                     "--fte", "0,5")
    assert result.returncode == 0, result.stderr
    assert RECOVERY_CODE.search(result.stdout)
    assert "nur dieses eine Mal" in result.stdout
    return data_dir


@pytest.fixture
def vault_dir(empty_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "vault"
    shutil.copytree(empty_template, target)
    return target


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-demo") / "demo"
    result = kimdesk("demo", "--data-dir", data_dir, "--clients", "30", "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert "Beispiel 4" in result.stdout
    return data_dir


def test_help_lists_every_command() -> None:
    result = kimdesk("--help")
    assert result.returncode == 0
    for command in ("gui", "init", "demo", "info", "find", "import", "selftest"):
        assert re.search(rf"^\s+{command}\s+\S", result.stdout, re.MULTILINE), command
    assert "KIMDESK_PASSWORD" in result.stdout
    assert "Aufruf:" in result.stdout


def test_init_creates_an_empty_vault_with_profile(empty_template: Path) -> None:
    counts = info(empty_template)
    assert counts["clients"] == 0
    assert counts["cases_open"] == 0
    assert counts["user"] == "Anna Becker"
    assert counts["team"] == "ost"


def test_init_refuses_an_existing_vault(vault_dir: Path) -> None:
    header = (vault_dir / HEADER_FILE).read_bytes()
    line = assert_one_line_error(
        kimdesk("init", "--data-dir", vault_dir, "--user", "Jana Hermsen", "--team", "nord"))
    assert "bereits einen Datentresor" in line
    assert (vault_dir / HEADER_FILE).read_bytes() == header


def test_info_in_german(vault_dir: Path) -> None:
    result = kimdesk("info", "--data-dir", vault_dir)
    assert result.returncode == 0, result.stderr
    assert "Ratsuchende:" in result.stdout
    assert "Team 2 Ost" in result.stdout
    assert "Offene Fristen und Wiedervorlagen:" in result.stdout


def test_password_file_is_read(vault_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "passwort.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    result = kimdesk("info", "--data-dir", vault_dir, "--password-file", secret, password=None)
    assert result.returncode == 0, result.stderr


def test_wrong_password_is_one_line_and_exit_1(vault_dir: Path) -> None:
    line = assert_one_line_error(kimdesk("info", "--data-dir", vault_dir,
                                         password="falsches-passwort"))
    assert "Passwort" in line
    assert info(vault_dir)["clients"] == 0  # nothing destroyed, the right password still opens


def test_missing_vault_is_exit_1(tmp_path: Path) -> None:
    line = assert_one_line_error(kimdesk("find", "Haddad", "--data-dir", tmp_path / "nichts"))
    assert "kein Datentresor" in line
    assert not (tmp_path / "nichts").exists()


def test_no_password_and_no_terminal_is_exit_1(vault_dir: Path) -> None:
    line = assert_one_line_error(kimdesk("info", "--data-dir", vault_dir, password=None))
    assert "KIMDESK_PASSWORD" in line


@pytest.mark.parametrize("args", [
    ("info", "--bogus"),
    ("import", "clients"),
    ("init", "--data-dir", "x", "--user", "A", "--team", "atlantis"),
    ("demo", "--clients", "viele"),
    ("zaubern",),  # no such command
])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = kimdesk(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Fehler:" in result.stderr


def test_import_then_find_tolerates_spellings(vault_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "liste.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")

    refused = assert_one_line_error(kimdesk("import", "clients", good, "--data-dir", vault_dir))
    assert "Einwilligung" in refused
    assert info(vault_dir)["clients"] == 0

    result = kimdesk("import", "clients", good, "--data-dir", vault_dir, "--consent-on-file")
    assert result.returncode == 0, result.stderr
    assert "4 Ratsuchende importiert" in result.stdout
    assert info(vault_dir)["clients"] == 4

    again = kimdesk("import", "clients", good, "--data-dir", vault_dir, "--consent-on-file")
    assert again.returncode == 0, again.stderr
    assert "0 Ratsuchende importiert" in again.stdout
    assert "Zeile 2, 3, 4, 5" in again.stdout

    for query, expected in (
        ("muhamad al hasan", "Al-Hassan, Mohammed"),  # transliteration
        ("STEFANESCU", "Ștefănescu, Ioana"),  # diacritics
        ("yilmaz ayse", "Yılmaz, Ayşe"),
        ("12.03.1988", "Al-Hassan, Mohammed"),  # birth date
    ):
        found = kimdesk("find", query, "--data-dir", vault_dir, "--json")
        assert found.returncode == 0, found.stderr
        assert [hit["name"] for hit in json.loads(found.stdout)] == [expected], query

    nothing = kimdesk("find", "Gebremedhin", "--data-dir", vault_dir)
    assert nothing.returncode == 0
    assert "Keine Treffer" in nothing.stdout


def test_a_bad_file_imports_nothing(vault_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "fehler.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    line = assert_one_line_error(
        kimdesk("import", "clients", bad, "--data-dir", vault_dir, "--consent-on-file"))
    assert "Zeile 3" in line
    assert "Haddad" not in line and "Rahimi" not in line  # no client names in error lines
    assert info(vault_dir)["clients"] == 0

    missing = assert_one_line_error(
        kimdesk("import", "clients", tmp_path / "gibtsnicht.csv", "--data-dir", vault_dir))
    assert "nicht gefunden" in missing


def test_demo_fills_a_vault_with_the_worked_examples(demo_dir: Path) -> None:
    counts = info(demo_dir)
    assert counts["user"] == "Demo Case Managerin"
    assert counts["clients"] >= 30
    assert counts["cases_closed"] >= 4  # Beispiel 1 to 4 are closed
    assert counts["cases_by_phase"]["monitoring"] >= 1  # Beispiel 5
    assert counts["deadlines_open"] > 0

    haidari = kimdesk("find", "Haydari", "--data-dir", demo_dir, "--json")
    names = {hit["name"] for hit in json.loads(haidari.stdout)}
    assert {"Haidari, Jawad", "Haidari, Soraya", "Haidari, Sima", "Haidari, Karim",
            "Haidari, Parwana"} <= names
    stefania = kimdesk("find", "stefania popescu", "--data-dir", demo_dir, "--json")
    assert [hit["name"] for hit in json.loads(stefania.stdout)] == ["Popescu, Ștefania"]

    refused = assert_one_line_error(kimdesk("demo", "--data-dir", demo_dir))
    assert "bereits Ratsuchende" in refused


def _plaintext_findings(data_dir: Path, names: set[str]) -> list[str]:
    needles = {name.encode("utf-8") for name in names} | {b"SQLite format 3"}
    findings = []
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        findings += [f"{path.name}: {needle!r}" for needle in needles if needle in data]
    return findings


def test_no_file_of_a_demo_vault_holds_a_name_or_plain_sqlite(demo_dir: Path) -> None:
    vault = open_vault(demo_dir, PASSWORD)
    try:
        with vault.reading() as session:
            rows = session.execute(select(Client.first_name, Client.last_name)).all()
        names = {name for row in rows for name in row
                 if len(name.encode("utf-8")) >= MIN_NAME_BYTES}
        assert {"Haidari", "Popescu", "Abdullah"} <= names
        assert len(names) >= 20
        open_findings = _plaintext_findings(demo_dir, names)  # with -wal and -shm present
    finally:
        vault.close()
    assert open_findings == []
    assert _plaintext_findings(demo_dir, names) == []


def test_selftest_passes() -> None:
    result = kimdesk("selftest", password=None)
    assert result.returncode == 0, result.stderr
    assert "Selbsttest bestanden" in result.stdout


def test_demo_progress_is_silent_without_a_console(monkeypatch) -> None:
    """The windowed Windows program has no stderr at all: `--demo` must not crash on it."""
    from kimdesk import cli

    monkeypatch.setattr(sys, "stderr", None)
    with cli._progress_bar("Demo-Daten erzeugen") as progress:
        assert progress is None
