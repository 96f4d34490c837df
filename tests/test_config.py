"""Settings from the environment and the installation profile; the auto-lock never ends up off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kimdesk import config
from kimdesk.errors import KimdeskError
from tests.installer.support import county_ca_pem


@pytest.mark.parametrize(("raw", "minutes"), [
    ("", 5), ("10", 10), ("1", 1), ("60", 60), ("0", 5), ("-3", 5), ("999", 5), ("fünf", 5),
])
def test_auto_lock_minutes(monkeypatch: pytest.MonkeyPatch, raw: str, minutes: int) -> None:
    monkeypatch.setenv(config.AUTO_LOCK_ENV, raw)
    assert config.auto_lock_minutes() == minutes


# --- the installation profile -------------------------------------------------------------------

NORD = """\
team = "nord"
municipalities = ["bedburg-hau", "kleve", "kranenburg"]
server_url = "https://kim-sync.kreis-kleve.de/"
ca_certificate = "ca/kreis-kleve-ca.pem"
auto_lock_minutes = 10
offline_warn_days = 20
offline_lock_days = 45
"""


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    """A folder with a valid Team Nord profile and its CA certificate in ``ca/``."""
    (tmp_path / "ca").mkdir()
    (tmp_path / "ca" / "kreis-kleve-ca.pem").write_bytes(county_ca_pem())
    (tmp_path / "profile.toml").write_text(NORD, encoding="utf-8")
    return tmp_path


@pytest.fixture(autouse=True)
def _no_profile_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(config.PROFILE_ENV, raising=False)
    monkeypatch.delenv(config.AUTO_LOCK_ENV, raising=False)


def test_a_developer_checkout_has_no_profile() -> None:
    assert config.install_profile() is None
    assert config.auto_lock_minutes() == config.DEFAULT_AUTO_LOCK_MINUTES


def test_profile_named_by_the_environment(monkeypatch: pytest.MonkeyPatch,
                                          profile_dir: Path) -> None:
    monkeypatch.setenv(config.PROFILE_ENV, str(profile_dir / "profile.toml"))
    assert config.install_profile() == config.InstallProfile(
        team="nord", municipalities=("bedburg-hau", "kleve", "kranenburg"),
        server_url="https://kim-sync.kreis-kleve.de",
        ca_certificate=profile_dir / "ca" / "kreis-kleve-ca.pem",  # beside the profile
        auto_lock_minutes=10, offline_warn_days=20, offline_lock_days=45)


def test_profile_baked_into_a_frozen_bundle(monkeypatch: pytest.MonkeyPatch,
                                            profile_dir: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(profile_dir), raising=False)
    profile = config.install_profile()
    assert profile is not None
    assert profile.team == "nord"
    assert profile.ca_certificate == profile_dir / "ca" / "kreis-kleve-ca.pem"
    # The environment still wins, e.g. for IT testing another profile on an installed laptop.
    other = profile_dir / "other.toml"
    other.write_text(NORD.replace('"nord"', '"welcome"'), encoding="utf-8")
    monkeypatch.setenv(config.PROFILE_ENV, str(other))
    assert config.install_profile().team == "welcome"  # type: ignore[union-attr]


def test_defaults_and_system_certificate_store(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    path = tmp_path / "profile.toml"
    path.write_text('team = "sued"\nmunicipalities = ["geldern"]\n'
                    'server_url = "http://127.0.0.1:8765"\nauto_lock_minutes = 5\n',
                    encoding="utf-8")
    monkeypatch.setenv(config.PROFILE_ENV, str(path))
    profile = config.install_profile()
    assert profile is not None
    assert profile.ca_certificate is None
    assert (profile.offline_warn_days, profile.offline_lock_days) == (30, 60)
    assert profile.server_url == "http://127.0.0.1:8765"


def test_auto_lock_comes_from_the_profile_unless_the_environment_sets_it(
        monkeypatch: pytest.MonkeyPatch, profile_dir: Path) -> None:
    monkeypatch.setenv(config.PROFILE_ENV, str(profile_dir / "profile.toml"))
    assert config.auto_lock_minutes() == 10
    monkeypatch.setenv(config.AUTO_LOCK_ENV, "3")
    assert config.auto_lock_minutes() == 3
    monkeypatch.setenv(config.AUTO_LOCK_ENV, "0")  # never "no lock": the profile's value
    assert config.auto_lock_minutes() == 10


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('team = "nord"', 'team = "west"', "unbekanntes Team „west“"),
    ('team = "nord"\n', "", "der Eintrag „team“ fehlt"),
    ("auto_lock_minutes = 10", "auto_lock = 10", "unbekannter Eintrag „auto_lock“"),
    ('["bedburg-hau", "kleve", "kranenburg"]', '"kleve"', "„municipalities“ muss eine Liste"),
    ('["bedburg-hau", "kleve", "kranenburg"]', "[]", "„municipalities“ muss eine Liste"),
    ('"kranenburg"]', '"kranenburg", "xanten"]', "unbekannte Kommune „xanten“"),
    ('"kranenburg"]', '"kranenburg", "kleve"]', "mehrfach"),
    ("https://kim-sync", "http://kim-sync", "muss mit https:// beginnen"),
    ("https://kim-sync.kreis-kleve.de/", "https://?x", "keine gültige Serveradresse"),
    ("kreis-kleve.de/", "kreis-kleve.de/?token=1", "keine gültige Serveradresse"),
    ('"ca/kreis-kleve-ca.pem"', '"ca/fehlt.pem"', "fehlt.pem wurde nicht gefunden"),
    ('"ca/kreis-kleve-ca.pem"', '"profile.toml"', "kein Zertifikat im PEM-Format"),
    ("auto_lock_minutes = 10", "auto_lock_minutes = 0", "„auto_lock_minutes“ muss eine ganze"),
    ("auto_lock_minutes = 10", "auto_lock_minutes = 61", "„auto_lock_minutes“ muss eine ganze"),
    ("auto_lock_minutes = 10", "auto_lock_minutes = true", "„auto_lock_minutes“ muss eine"),
    ("auto_lock_minutes = 10", 'auto_lock_minutes = "10"', "„auto_lock_minutes“ muss eine"),
    ("offline_lock_days = 45", "offline_lock_days = 20", "größer sein als „offline_warn_days“"),
    ("offline_warn_days = 20", "offline_warn_days = 0", "„offline_warn_days“ muss eine ganze"),
    ("team = ", "team: ", "kein gültiges TOML"),
])
def test_invalid_profile_is_refused_with_a_german_message(
        monkeypatch: pytest.MonkeyPatch, profile_dir: Path, old: str, new: str,
        problem: str) -> None:
    path = profile_dir / "profile.toml"
    assert old in NORD
    path.write_text(NORD.replace(old, new), encoding="utf-8")
    monkeypatch.setenv(config.PROFILE_ENV, str(path))
    with pytest.raises(KimdeskError) as raised:
        config.install_profile()
    assert raised.value.message.startswith(f"Installationsprofil {path}: ") or (
        raised.value.message.startswith(f"Das Installationsprofil {path} "))
    assert problem in raised.value.message
    assert "\n" not in raised.value.message


def test_named_profile_that_is_missing_is_an_error(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv(config.PROFILE_ENV, str(tmp_path / "nord.toml"))
    with pytest.raises(KimdeskError, match="wurde nicht gefunden"):
        config.install_profile()


# --- the county's recovery key in the profile ---------------------------------------------------


def _public_pem() -> tuple[object, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    key = X25519PrivateKey.generate().public_key()
    pem = key.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key, pem


def test_the_recovery_public_key_is_read_from_the_profile(
        monkeypatch: pytest.MonkeyPatch, profile_dir: Path) -> None:
    key, pem = _public_pem()
    line = pem.splitlines()[1]
    path = profile_dir / "profile.toml"
    path.write_text(NORD + f'recovery_public_key = "{line}"\n', encoding="utf-8")
    monkeypatch.setenv(config.PROFILE_ENV, str(path))
    assert config.county_recovery_key() == key
    profile = config.install_profile()
    assert profile is not None and profile.recovery_public_key == line
    # The whole PEM, pasted as a multi-line string, is accepted as well.
    path.write_text(NORD + f'recovery_public_key = """{pem}"""\n', encoding="utf-8")
    assert config.county_recovery_key() == key


def test_without_key_or_profile_there_is_no_county_wrap(
        monkeypatch: pytest.MonkeyPatch, profile_dir: Path) -> None:
    assert config.county_recovery_key() is None
    monkeypatch.setenv(config.PROFILE_ENV, str(profile_dir / "profile.toml"))
    assert config.county_recovery_key() is None


@pytest.mark.parametrize("value", ['"MCowBQYDK2VuAyEA"', '"kein Schlüssel"', "42",
                                   '"-----BEGIN PRIVATE KEY-----"'])
def test_an_invalid_recovery_key_is_refused(profile_dir: Path, value: str) -> None:
    path = profile_dir / "profile.toml"
    path.write_text(NORD + f"recovery_public_key = {value}\n", encoding="utf-8")
    with pytest.raises(KimdeskError, match="recovery_public_key"):
        config.read_install_profile(path)
