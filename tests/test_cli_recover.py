"""`kimdesk recover` and `kimdesk password`, run through the command line's main() the way a
user or county IT would: init notes the recovery code, the password is forgotten, the code (or
the county's private key, generated here) sets a new one, the old password fails and the new
one opens."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kimdesk.vault.header import read_header
from kimdesk.vault.store import HEADER_FILE
from tests.cli_support import run_kimdesk

PASSWORD = "Rheinpromenade-Emmerich-7"
NEW_PASSWORD = "Schwanenburg-Kellen-Rindern"
USER = "Anna Becker"
RECOVERY_CODE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}-[0-9A-Z]{2}\b")


Result = subprocess.CompletedProcess[str]
run = run_kimdesk  # `kimdesk ARGS` through main() in this process (tests/cli_support.py)


def error_line(result: Result) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Fehler: "), result.stderr
    return lines[0]


def opens(data_dir: Path, password: str) -> bool:
    result = run("info", "--data-dir", data_dir, "--json", env={"KIMDESK_PASSWORD": password})
    if result.returncode == 0:
        assert json.loads(result.stdout)["user"] == USER
        return True
    assert "Passwort ist nicht richtig" in error_line(result)
    return False


@pytest.fixture(scope="module")
def county_key() -> X25519PrivateKey:
    """The county's recovery key pair, made for the test (county IT makes it with openssl)."""
    return X25519PrivateKey.generate()


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory, county_key: X25519PrivateKey) -> Path:
    """An installation profile with the county's recovery public key (the PEM's base64 line)."""
    pem = county_key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    line = pem.decode().splitlines()[1]
    path = tmp_path_factory.mktemp("profile") / "profile.toml"
    path.write_text(f'team = "nord"\nmunicipalities = ["kleve"]\n'
                    f'server_url = "https://kim-sync.kreis-kleve.de"\nauto_lock_minutes = 5\n'
                    f'recovery_public_key = "{line}"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, profile: Path) -> tuple[Path, str]:
    """`kimdesk init` on an installation with the county key (production KDF), made once."""
    data_dir = tmp_path_factory.mktemp("cli-recover") / "vault"
    result = run("init", "--data-dir", data_dir, "--user", USER, "--team", "nord",
                 env={"KIMDESK_PASSWORD": PASSWORD, "KIMDESK_PROFILE": str(profile)})
    assert result.returncode == 0, result.stderr
    match = RECOVERY_CODE.search(result.stdout)
    assert match
    return data_dir, match.group(0)


@pytest.fixture
def initialised(template: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    """A copy of the template vault and its recovery code."""
    data_dir = tmp_path / "vault"
    shutil.copytree(template[0], data_dir)
    return data_dir, template[1]


def test_init_wraps_the_key_for_the_county(initialised: tuple[Path, str],
                                           county_key: X25519PrivateKey) -> None:
    data_dir, _code = initialised
    sealed = read_header(data_dir / HEADER_FILE).county_wrap
    assert sealed is not None
    assert sealed.recipient_public == county_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_forgotten_password_recovered_with_the_printed_code(
        initialised: tuple[Path, str], tmp_path: Path) -> None:
    data_dir, code = initialised
    code_file = tmp_path / "code.txt"
    code_file.write_text(code.lower().replace("-", " ") + "\n", encoding="utf-8")  # as typed

    result = run("recover", "--data-dir", data_dir, "--recovery-code-file", code_file,
                 env={"KIMDESK_NEW_PASSWORD": NEW_PASSWORD})
    assert result.returncode == 0, result.stderr
    new_code = RECOVERY_CODE.search(result.stdout)
    assert new_code and new_code.group(0) != code
    assert "Der bisherige Code gilt nicht mehr" in result.stdout

    assert not opens(data_dir, PASSWORD)
    assert opens(data_dir, NEW_PASSWORD)
    # The used code is spent: it no longer opens the re-keyed vault.
    line = error_line(run("recover", "--data-dir", data_dir, "--recovery-code-file", code_file,
                          env={"KIMDESK_NEW_PASSWORD": "Dritter-Anlauf-Hanselaer"}))
    assert "Wiederherstellungscode ist nicht richtig" in line
    # A password change afterwards keeps the county key on the vault.
    assert read_header(data_dir / HEADER_FILE).county_wrap is not None


@pytest.mark.parametrize(("weak", "reason"), [
    ("aaaaaaaaaa", "Wiederholungen"),
    ("passwort12", "zu leicht zu erraten"),
    ("AnnaBecker2026", "Ihren Namen"),
])
def test_recover_refuses_a_weak_new_password_and_changes_nothing(
        initialised: tuple[Path, str], tmp_path: Path, weak: str, reason: str) -> None:
    data_dir, code = initialised
    code_file = tmp_path / "code.txt"
    code_file.write_text(code, encoding="utf-8")
    header = (data_dir / HEADER_FILE).read_bytes()
    line = error_line(run("recover", "--data-dir", data_dir, "--recovery-code-file", code_file,
                          env={"KIMDESK_NEW_PASSWORD": weak}))
    assert reason in line
    assert (data_dir / HEADER_FILE).read_bytes() == header
    assert opens(data_dir, PASSWORD)


def test_init_refuses_a_weak_password(tmp_path: Path) -> None:
    for weak in ("aaaaaaaaaa", "passwort12", "AnnaBecker2026"):
        line = error_line(run("init", "--data-dir", tmp_path / "vault", "--user", USER,
                              "--team", "nord", env={"KIMDESK_PASSWORD": weak}))
        assert "zu leicht zu erraten" in line
    assert not (tmp_path / "vault" / HEADER_FILE).exists()


def test_county_it_recovers_with_the_private_key_offline(
        initialised: tuple[Path, str], county_key: X25519PrivateKey, tmp_path: Path) -> None:
    data_dir, _code = initialised
    key_file = tmp_path / "kreis-recovery-private.pem"
    key_file.write_bytes(county_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"Tresor-Schrank-Kreishaus")))

    refused = error_line(run("recover", "--data-dir", data_dir, "--county-key-file", key_file,
                             env={"KIMDESK_NEW_PASSWORD": NEW_PASSWORD,
                                  "KIMDESK_COUNTY_KEY_PASSPHRASE": "falsch-falsch-falsch"}))
    assert "Passphrase ist falsch" in refused
    assert opens(data_dir, PASSWORD)

    result = run("recover", "--data-dir", data_dir, "--county-key-file", key_file,
                 env={"KIMDESK_NEW_PASSWORD": NEW_PASSWORD,
                      "KIMDESK_COUNTY_KEY_PASSPHRASE": "Tresor-Schrank-Kreishaus"})
    assert result.returncode == 0, result.stderr
    assert not opens(data_dir, PASSWORD)
    assert opens(data_dir, NEW_PASSWORD)

    other = tmp_path / "other.pem"
    other.write_bytes(X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    line = error_line(run("recover", "--data-dir", data_dir, "--county-key-file", other,
                          env={"KIMDESK_NEW_PASSWORD": "Dritter-Anlauf-Hanselaer"}))
    assert "passt nicht" in line


def test_password_change_with_rekey(initialised: tuple[Path, str], tmp_path: Path) -> None:
    data_dir, code = initialised
    old_header = (data_dir / HEADER_FILE).read_bytes()
    result = run("password", "--data-dir", data_dir, "--rekey",
                 env={"KIMDESK_PASSWORD": PASSWORD, "KIMDESK_NEW_PASSWORD": NEW_PASSWORD})
    assert result.returncode == 0, result.stderr
    assert RECOVERY_CODE.search(result.stdout).group(0) != code  # type: ignore[union-attr]
    assert opens(data_dir, NEW_PASSWORD)
    # An old copy of the header with the old password opens nothing any more.
    (data_dir / HEADER_FILE).write_bytes(old_header)
    line = error_line(run("info", "--data-dir", data_dir, env={"KIMDESK_PASSWORD": PASSWORD}))
    assert "Datenbank des Datentresors ist beschädigt" in line


def test_password_change_refuses_the_users_name(initialised: tuple[Path, str]) -> None:
    data_dir, _code = initialised
    line = error_line(run("password", "--data-dir", data_dir,
                          env={"KIMDESK_PASSWORD": PASSWORD,
                               "KIMDESK_NEW_PASSWORD": "Becker-Anna-1986"}))
    assert "Ihren Namen" in line
    assert opens(data_dir, PASSWORD)


def test_no_code_and_no_terminal_is_a_clear_error(initialised: tuple[Path, str]) -> None:
    data_dir, _code = initialised
    line = error_line(run("recover", "--data-dir", data_dir,
                          env={"KIMDESK_NEW_PASSWORD": NEW_PASSWORD}))
    assert "Wiederherstellungscode" in line
