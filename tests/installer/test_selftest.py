"""`kimdesk selftest`, the installers' smoke test, names the profile it found or fails on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.installer.conftest import ROOT


def _selftest(profile: Path | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    if profile is not None:
        env["KIMDESK_PROFILE"] = str(profile)
    return subprocess.run([sys.executable, "-m", "kimdesk.cli", "selftest"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_selftest_names_the_installation_profile() -> None:
    result = _selftest(ROOT / "installer" / "profiles" / "sued.toml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "Installationsprofil: Team 4 Süd (sued), Server https://kim-sync.kreis-kleve.de, "
        "öffentliche Zertifizierungsstellen, Sperre nach 5 min")
    assert "Selbsttest bestanden" in result.stdout


def test_selftest_fails_on_an_invalid_profile(tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text('team = "sued"\nmunicipalities = ["geldern"]\n'
                       'server_url = "http://kim-sync.kreis-kleve.de"\nauto_lock_minutes = 5\n',
                       encoding="utf-8")
    result = _selftest(profile)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"Selbsttest fehlgeschlagen: Installationsprofil {profile}: „server_url“ muss mit "
        "https:// beginnen (unverschlüsselt nur zum Testen auf diesem Computer).")
