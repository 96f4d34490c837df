"""installer/build.py without building: team profiles, names, the baked profile, Qt plugins."""

from __future__ import annotations

import dataclasses
import shutil
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from kimdesk import __version__, config
from kimdesk.errors import KimdeskError
from kimdesk.reference import load_reference
from tests.installer.conftest import ROOT
from tests.installer.support import county_ca_pem

TEAMS = ["mitte", "nord", "ost", "sued", "welcome"]


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    """A copy of the repository's profiles to spoil."""
    target = tmp_path / "profiles"
    shutil.copytree(ROOT / "installer" / "profiles", target)
    return target


def test_there_is_a_profile_for_every_team_of_the_reference_data(build: ModuleType) -> None:
    assert build.team_codes() == TEAMS
    assert sorted(t.code for t in load_reference().teams) == TEAMS


@pytest.mark.parametrize("team", TEAMS)
def test_repository_profiles_are_valid_and_complete(build: ModuleType, team: str) -> None:
    profile = build.load_team_profile(team)
    reference = load_reference()
    assert profile.team == team
    if reference.team(team).countywide:
        assert sorted(profile.municipalities) == sorted(m.code for m in reference.municipalities)
    else:
        assert sorted(profile.municipalities) == sorted(reference.team(team).municipalities)
    assert profile.server_url == "https://kim-sync.kreis-kleve.de"
    assert profile.auto_lock_minutes == config.DEFAULT_AUTO_LOCK_MINUTES
    assert (profile.offline_warn_days, profile.offline_lock_days) == (30, 60)


def test_profile_for_another_team_is_refused(build: ModuleType, profiles: Path) -> None:
    (profiles / "ost.toml").write_text((profiles / "nord.toml").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    with pytest.raises(KimdeskError, match="Team „nord“ statt „ost“"):
        build.load_team_profile("ost", profiles)


def test_kommunen_must_be_exactly_the_teams(build: ModuleType, profiles: Path) -> None:
    path = profiles / "nord.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"kranenburg"]', '"goch"]'), encoding="utf-8")
    with pytest.raises(KimdeskError) as raised:
        build.load_team_profile("nord", profiles)
    assert "fehlen: kranenburg; gehören nicht dazu: goch" in raised.value.message


def test_welcome_center_needs_all_kommunen(build: ModuleType, profiles: Path) -> None:
    path = profiles / "welcome.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"wachtendonk",', ""),
                    encoding="utf-8")
    with pytest.raises(KimdeskError, match="fehlen: wachtendonk"):
        build.load_team_profile("welcome", profiles)


def test_unknown_team_names_the_profiles_there_are(build: ModuleType, profiles: Path) -> None:
    with pytest.raises(KimdeskError, match="vorhanden: mitte, nord, ost, sued, welcome"):
        build.load_team_profile("west", profiles)


def test_ca_certificate_from_the_command_line_replaces_the_profiles(
        build: ModuleType, profiles: Path, tmp_path: Path) -> None:
    ca = tmp_path / "kreis-ca.pem"
    ca.write_bytes(county_ca_pem())
    profile = build.load_team_profile("sued", profiles, ca_certificate=ca)
    assert profile.ca_certificate == ca
    with pytest.raises(KimdeskError, match="wurde nicht gefunden"):
        build.load_team_profile("sued", profiles, ca_certificate=tmp_path / "fehlt.pem")


@pytest.mark.parametrize(("system", "machine", "tag", "suffix"), [
    ("Linux", "x86_64", "linux-x86_64", ".tar.gz"),
    ("Windows", "AMD64", "windows-x86_64", ".zip"),
    ("Darwin", "arm64", "macos-arm64", ".tar.gz"),
    ("Linux", "aarch64", "linux-arm64", ".tar.gz"),
])
def test_archive_is_named_by_team_version_and_platform(
        build: ModuleType, system: str, machine: str, tag: str, suffix: str) -> None:
    assert build.platform_tag(system, machine) == tag
    assert build.archive_name("nord", "1.2.0", tag, system) == f"KIMdesk-1.2.0-nord-{tag}{suffix}"
    assert build.archive_format(system) == ("zip" if suffix == ".zip" else "gztar")


def test_the_version_comes_from_the_package(build: ModuleType) -> None:
    assert build.bundle_name("ost", tag="linux-x86_64") == f"KIMdesk-{__version__}-ost-linux-x86_64"


@pytest.mark.parametrize("team", ["", "Nord", "nord/../x", "nord tmp"])
def test_bundle_name_refuses_odd_team_codes(build: ModuleType, team: str) -> None:
    with pytest.raises(KimdeskError, match="Ungültiger Teamcode"):
        build.bundle_name(team, tag="linux-x86_64")


def test_staged_profile_is_what_the_app_reads(build: ModuleType, profiles: Path,
                                              tmp_path: Path) -> None:
    ca = tmp_path / "kreis-ca.pem"
    pem = county_ca_pem()
    ca.write_bytes(pem)
    profile = build.load_team_profile("mitte", profiles, ca_certificate=ca)
    stage = build.stage_profile(profile, tmp_path / "stage", team_name="Team 3 Mitte")

    assert sorted(p.name for p in stage.iterdir()) == ["ca.pem", "profile.toml"]
    assert (stage / "ca.pem").read_bytes() == pem
    text = (stage / "profile.toml").read_text(encoding="utf-8")
    assert text.startswith("# Installationsprofil Team 3 Mitte")
    assert tomllib.loads(text)["ca_certificate"] == "ca.pem"  # beside the profile, not a path
    baked = config.read_install_profile(stage / "profile.toml")
    assert baked == config.InstallProfile(
        team="mitte", municipalities=profile.municipalities, server_url=profile.server_url,
        ca_certificate=stage / "ca.pem", auto_lock_minutes=profile.auto_lock_minutes,
        offline_warn_days=profile.offline_warn_days, offline_lock_days=profile.offline_lock_days)


def test_staged_profile_without_ca_uses_the_system_store(build: ModuleType,
                                                         tmp_path: Path) -> None:
    profile = build.load_team_profile("nord")
    stage = build.stage_profile(profile, tmp_path / "stage", team_name="Team 1 Nord")
    assert [p.name for p in stage.iterdir()] == ["profile.toml"]
    assert config.read_install_profile(stage / "profile.toml") == profile


def test_baked_values_are_quoted_as_toml(build: ModuleType, tmp_path: Path) -> None:
    profile = config.InstallProfile(
        team="nord", municipalities=("kleve",), server_url='https://a.example/"x\\y',
        ca_certificate=None, auto_lock_minutes=7)
    text = build.baked_profile_text(profile, team_name="Team 1 Nord")
    assert tomllib.loads(text)["server_url"] == 'https://a.example/"x\\y'
    assert tomllib.loads(text)["auto_lock_minutes"] == 7


@pytest.mark.parametrize(("source", "kept"), [
    ("/q/PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("/q/PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
    ("C:\\q\\PySide6\\plugins\\platforms\\qwindows.dll", True),
    ("/q/PySide6/Qt/plugins/platforms/libqeglfs.so", False),
    ("/q/PySide6/Qt/plugins/platforms/libqvnc.so", False),
    ("/q/PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", False),
    ("/q/PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
     True),
    ("/q/PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("/q/PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-x11-integration.so", False),
    ("/q/PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
    ("/q/PySide6/Qt/plugins/imageformats/libqjpeg.so", True),
    ("/q/PySide6/Qt/plugins/styles/qmodernwindowsstyle.dll", True),
    ("/q/PySide6/Qt/lib/libQt6Gui.so.6", True),
])
def test_qt_plugins_kept_in_the_bundle(qt_plugins: ModuleType, source: str, kept: bool) -> None:
    assert qt_plugins.keep(source.replace("\\", "/")) is kept


def _iss_sections() -> dict[str, list[str]]:
    """The Inno Setup script's lines per [Section] (comments and preprocessor lines left out)."""
    sections: dict[str, list[str]] = {}
    current = ""
    text = (ROOT / "installer" / "windows" / "kimdesk.iss").read_text(encoding="utf-8")
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith((";", "#", "//")):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1]
            continue
        sections.setdefault(current, []).append(stripped)
    return sections


def test_inno_setup_command_defines_what_the_script_needs(build: ModuleType,
                                                          tmp_path: Path) -> None:
    command = build.inno_setup_command(
        Path("C:/Inno Setup 6/ISCC.exe"), team="sued", team_name="Team 4 Süd",
        version="0.1.0", bundle=tmp_path / "KIMdesk-0.1.0-sued-windows-x86_64",
        out_dir=tmp_path)
    assert command[-1] == str(ROOT / "installer" / "windows" / "kimdesk.iss")
    defines = dict(arg[2:].split("=", 1) for arg in command[1:-1])
    assert defines["Team"] == "sued"
    assert defines["TeamName"] == "Team 4 Süd"
    assert defines["BundleDir"].endswith("KIMdesk-0.1.0-sued-windows-x86_64")
    script = (ROOT / "installer" / "windows" / "kimdesk.iss").read_text(encoding="utf-8")
    for name in defines:
        assert f"#ifndef {name}" in script, name


def test_windows_installer_is_per_machine_german_and_keeps_the_data() -> None:
    sections = _iss_sections()
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    assert setup["PrivilegesRequired"] == "admin"
    assert setup["DefaultDirName"] == r"{autopf}\{#AppName}"
    assert "PrivilegesRequiredOverridesAllowed" not in setup  # no per-user install
    assert sections["Languages"] == [
        'Name: "german"; MessagesFile: "compiler:Languages\\German.isl"']
    assert any(line.startswith('Name: "{autoprograms}') for line in sections["Icons"])
    # Whatever an update or the uninstaller deletes lies inside the program folder.
    for section in ("InstallDelete", "UninstallDelete"):
        for line in sections[section]:
            name = line.split("Name:", 1)[1].strip().strip('"')
            assert name == "{app}" or name.startswith("{app}\\"), line
    assert not [line for lines in sections.values() for line in lines
                if "appdata}" in line.lower() or "localappdata" in line.lower()]


def test_the_county_recovery_key_is_baked_into_the_bundle(build: ModuleType,
                                                          tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    key = X25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode().splitlines()[1]
    profile = dataclasses.replace(build.load_team_profile("nord"), recovery_public_key=line)
    stage = build.stage_profile(profile, tmp_path / "stage", team_name="Team 1 Nord")
    baked = config.read_install_profile(stage / "profile.toml")
    assert baked == profile
    assert baked.county_recovery_key() == key
