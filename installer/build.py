"""Build KIMdesk's installation package for one team: `python installer/build.py --team nord`.

Steps: check the team's profile (installer/profiles/TEAM.toml) against the reference data,
stage it with the county CA, run PyInstaller with installer/kimdesk.spec, start the bundled
desktop once headless up to the unlock screen, pack the folder (tar.gz on Linux and macOS, zip
on Windows) as KIMdesk-VERSION-TEAM-PLATFORM, and, as the last step, unpack that archive into a
temporary folder and run its `kimdesk selftest` headless. Exit code 0 only if all of it worked.
How county IT uses it: docs/it/building.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: use this checkout's package
    sys.path.insert(0, str(ROOT))

from kimdesk import APP_ID, APP_NAME, __version__, config  # noqa: E402
from kimdesk.errors import KimdeskError  # noqa: E402
from kimdesk.reference import Reference, load_reference  # noqa: E402

PROFILES = ROOT / "installer" / "profiles"
SPEC = ROOT / "installer" / "kimdesk.spec"
INNO_SCRIPT = ROOT / "installer" / "windows" / "kimdesk.iss"
CA_FILE = "ca.pem"  # the county CA's name inside the bundle, beside profile.toml
GUI_PROGRAM = f"{APP_ID}-gui"
START_TIMEOUT = 120  # seconds for the headless start and the selftest of the bundle


# --- pure parts (unit-tested in tests/installer/test_build.py) ---------------------------------


def team_codes(profiles: Path = PROFILES) -> list[str]:
    """The teams an installer can be built for: one profile file each."""
    return sorted(p.stem for p in profiles.glob("*.toml"))


def load_team_profile(team: str, profiles: Path = PROFILES, *,
                      reference: Reference | None = None,
                      ca_certificate: Path | None = None) -> config.InstallProfile:
    """Read ``profiles/TEAM.toml`` and check it more strictly than the app does at start.

    At build time the profile must name exactly this team and exactly the team's Kommunen (all
    Kommunen for a county-wide team such as the Welcome-Center), so a copied profile that was
    not adjusted never reaches a laptop. ``ca_certificate`` replaces the profile's CA.
    """
    path = profiles / f"{team}.toml"
    if not path.is_file():
        known = ", ".join(team_codes(profiles)) or "keine"
        raise KimdeskError(f"Für das Team „{team}“ gibt es kein Profil {path} "
                           f"(vorhanden: {known}).")
    profile = config.read_install_profile(path)
    if ca_certificate is not None:
        profile = config.parse_install_profile(
            {**_as_toml_data(profile, None), "ca_certificate": str(ca_certificate.resolve())},
            path.parent, where=f"{path} mit --ca-certificate")
    if profile.team != team:
        raise KimdeskError(f"Installationsprofil {path}: Team „{profile.team}“ statt „{team}“.")
    reference = reference or load_reference()
    team_data = reference.team(team)
    expected = ({m.code for m in reference.municipalities} if team_data.countywide
                else set(team_data.municipalities))
    got = set(profile.municipalities)
    if got != expected:
        missing = ", ".join(sorted(expected - got)) or "–"
        foreign = ", ".join(sorted(got - expected)) or "–"
        raise KimdeskError(f"Installationsprofil {path}: die Kommunen passen nicht zum Team "
                           f"„{team}“ (fehlen: {missing}; gehören nicht dazu: {foreign}).")
    return profile


def platform_tag(system: str | None = None, machine: str | None = None) -> str:
    """``linux-x86_64``, ``windows-x86_64``, ``macos-arm64``: the platform part of the name."""
    system = (system or platform.system()).lower()
    machine = (machine or platform.machine()).lower()
    system = {"darwin": "macos"}.get(system, system)
    machine = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{machine}"


def archive_format(system: str | None = None) -> str:
    """``zip`` on Windows (Explorer opens it), ``gztar`` elsewhere (keeps the exec bits)."""
    return "zip" if (system or platform.system()).lower() == "windows" else "gztar"


def bundle_name(team: str, version: str = __version__, tag: str | None = None) -> str:
    """``KIMdesk-0.1.0-nord-linux-x86_64``: program, version, team, platform."""
    if not team or not team.replace("_", "").replace("-", "").isalnum() or not team.islower():
        raise KimdeskError(f"Ungültiger Teamcode „{team}“.")
    return f"{APP_NAME}-{version}-{team}-{tag or platform_tag()}"


def archive_name(team: str, version: str = __version__, tag: str | None = None,
                 system: str | None = None) -> str:
    """The archive's file name: the bundle name plus ``.zip`` or ``.tar.gz``."""
    suffix = ".zip" if archive_format(system) == "zip" else ".tar.gz"
    return bundle_name(team, version, tag) + suffix


def inno_setup_command(iscc: Path, *, team: str, team_name: str, version: str, bundle: Path,
                       out_dir: Path) -> list[str]:
    """The ISCC command line that turns a Windows bundle into its setup program."""
    return [str(iscc), f"/DTeam={team}", f"/DTeamName={team_name}", f"/DAppVersion={version}",
            f"/DBundleDir={bundle}", f"/DOutputDir={out_dir}", str(INNO_SCRIPT)]


def _as_toml_data(profile: config.InstallProfile, ca_name: str | None) -> dict[str, object]:
    data: dict[str, object] = {
        "team": profile.team,
        "municipalities": list(profile.municipalities),
        "server_url": profile.server_url,
        "auto_lock_minutes": profile.auto_lock_minutes,
        "offline_warn_days": profile.offline_warn_days,
        "offline_lock_days": profile.offline_lock_days,
    }
    if ca_name is not None:
        data["ca_certificate"] = ca_name
    if profile.recovery_public_key is not None:
        data["recovery_public_key"] = profile.recovery_public_key
    return data


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        raise TypeError("no booleans in a profile")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # Basic strings: escape backslash and quote; a profile value has no control characters.
        if any(ord(c) < 32 for c in value):
            raise KimdeskError("Steuerzeichen in einem Profilwert.")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a profile")


def baked_profile_text(profile: config.InstallProfile, *, team_name: str) -> str:
    """The ``profile.toml`` that goes into the bundle: checked values, CA as ``ca.pem``."""
    data = _as_toml_data(profile, CA_FILE if profile.ca_certificate else None)
    lines = [f"# Installationsprofil {team_name}, eingebaut von installer/build.py "
             f"({APP_NAME} {__version__}).",
             "# Änderungen am installierten Programm: docs/it/profiles.md.", ""]
    lines += [f"{key} = {_toml_value(value)}" for key, value in data.items()]
    return "\n".join(lines) + "\n"


def stage_profile(profile: config.InstallProfile, target: Path, *, team_name: str) -> Path:
    """Write ``profile.toml`` (and ``ca.pem``) into an empty ``target`` folder."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if profile.ca_certificate is not None:
        shutil.copyfile(profile.ca_certificate, target / CA_FILE)
    (target / config.PROFILE_FILE).write_text(baked_profile_text(profile, team_name=team_name),
                                              encoding="utf-8")
    # Read back through the app's own parser: what the laptop will read must be valid.
    config.read_install_profile(target / config.PROFILE_FILE)
    return target


# --- the build --------------------------------------------------------------------------------


def _step(text: str) -> None:
    print(f"==> {text}", flush=True)


def _clean_env() -> dict[str, str]:
    """The environment for running the bundle: headless, and nothing of the developer's
    KIMDESK_* settings, so the bundle reads its own profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMDESK_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _program(bundle: Path, name: str) -> Path:
    return bundle / (f"{name}.exe" if platform.system() == "Windows" else name)


def _gui_command(bundle: Path) -> list[str]:
    """The desktop as started for a check: the windowed program, except on Windows, where a
    windowed program has no stdout for the `ready` line; there the console one runs `gui`."""
    if platform.system() == "Windows":
        return [str(_program(bundle, APP_ID)), "gui"]
    return [str(_program(bundle, GUI_PROGRAM))]


def run_pyinstaller(stage: Path, name: str, dist: Path, work: Path) -> Path:
    if importlib.util.find_spec("PyInstaller") is None:
        raise KimdeskError("PyInstaller fehlt in dieser Python-Umgebung: "
                           "pip install -e '.[installer]' (oder make venv).")
    env = dict(os.environ, KIMDESK_BUILD_PROFILE_DIR=str(stage), KIMDESK_BUILD_NAME=name)
    subprocess.run([sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--clean",
                    "--log-level", "WARN", "--distpath", str(dist), "--workpath", str(work)],
                   check=True, env=env, cwd=ROOT)
    return dist / name


def check_gui_start(bundle: Path) -> float:
    """Start the bundled desktop headless up to the unlock screen; returns seconds."""
    with tempfile.TemporaryDirectory(prefix="kimdesk-build-start-") as data:
        env = _clean_env()
        env["KIMDESK_EXIT_AFTER_START"] = "1"
        env[config.DATA_DIR_ENV] = data
        started = time.perf_counter()
        result = subprocess.run(_gui_command(bundle), env=env,
                                capture_output=True, text=True, timeout=START_TIMEOUT,
                                check=False)
        seconds = time.perf_counter() - started
    if result.returncode != 0 or not any(line.startswith("ready ")
                                         for line in result.stdout.splitlines()):
        raise KimdeskError(f"Die Oberfläche des Pakets startet nicht (Rückgabewert "
                           f"{result.returncode}): {result.stderr.strip()[-500:]}")
    return seconds


def pack(bundle: Path, archive: Path) -> Path:
    """Pack the bundle folder (as the archive's single top-level folder)."""
    archive.unlink(missing_ok=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
            for path in sorted(bundle.rglob("*")):
                out.write(path, Path(bundle.name) / path.relative_to(bundle))
    else:
        with tarfile.open(archive, "w:gz", compresslevel=6) as out:
            out.add(bundle, arcname=bundle.name)
    return archive


def unpack(archive: Path, target: Path) -> Path:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as source:
            source.extractall(target)
    else:
        with tarfile.open(archive) as source:
            source.extractall(target, filter="tar")
    (folder,) = list(target.iterdir())
    return folder


def selftest(bundle: Path, team_name: str, team: str) -> str:
    """Run the bundle's `kimdesk selftest` headless; it must read the baked-in profile."""
    result = subprocess.run([str(_program(bundle, APP_ID)), "selftest"], env=_clean_env(),
                            capture_output=True, text=True, timeout=START_TIMEOUT, check=False)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise KimdeskError(f"Der Selbsttest des Pakets ist fehlgeschlagen: {output}")
    if f"Installationsprofil: {team_name} ({team})" not in result.stdout:
        raise KimdeskError(f"Das Paket liest sein Installationsprofil nicht: {output}")
    return output


def build(team: str, *, dist: Path, work: Path, ca_certificate: Path | None = None,
          iscc: Path | None = None) -> Path:
    started = time.perf_counter()
    reference = load_reference()
    _step(f"Profil prüfen: installer/profiles/{team}.toml")
    profile = load_team_profile(team, reference=reference, ca_certificate=ca_certificate)
    team_name = reference.team(team).name
    name = bundle_name(team)
    stage = stage_profile(profile, work / "profile" / team, team_name=team_name)

    _step(f"PyInstaller: {name}")
    bundle = run_pyinstaller(stage, name, dist, work / "pyinstaller")
    _step("Oberfläche headless bis zum Sperrbildschirm starten")
    print(f"    gestartet in {check_gui_start(bundle):.2f} s", flush=True)

    archive = dist / archive_name(team)
    _step(f"Packen: {archive.name}")
    pack(bundle, archive)
    print(f"    {archive.stat().st_size / 1e6:.1f} MB", flush=True)

    if iscc is not None:
        _step("Inno Setup: Setup-Programm für Windows")
        subprocess.run(inno_setup_command(iscc, team=team, team_name=team_name,
                                          version=__version__, bundle=bundle, out_dir=dist),
                       check=True)

    _step("Selbsttest des ausgepackten Pakets (headless)")
    with tempfile.TemporaryDirectory(prefix="kimdesk-build-test-") as unpacked:
        print("    " + selftest(unpack(archive, Path(unpacked)), team_name, team)
              .replace("\n", "\n    "), flush=True)
    print(f"Fertig in {time.perf_counter() - started:.0f} s: {archive}", flush=True)
    print(f"Paketordner: {bundle}", flush=True)
    return archive


def main(argv: list[str] | None = None) -> int:
    teams = team_codes()
    parser = argparse.ArgumentParser(
        prog="installer/build.py",
        description=f"Baut das {APP_NAME}-Installationspaket für ein Team und prüft es.")
    parser.add_argument("--team", required=True, choices=teams,
                        help=f"Team, dessen Profil eingebaut wird: {', '.join(teams)}")
    parser.add_argument("--ca-certificate", type=Path, metavar="PEM",
                        help="CA-Zertifikat der Kreis-IT (ersetzt ca_certificate des Profils)")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", metavar="ORDNER",
                        help="Zielordner für Paketordner und Archiv (Standard: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "installer",
                        metavar="ORDNER", help="Arbeitsordner (Standard: build/installer/)")
    parser.add_argument("--inno-setup", type=Path, metavar="ISCC.EXE",
                        help="nur Windows: danach mit diesem Inno-Setup-Compiler das "
                             "Setup-Programm bauen (installer/windows/kimdesk.iss)")
    args = parser.parse_args(argv)
    if args.inno_setup is not None and platform.system() != "Windows":
        parser.error("--inno-setup: das Windows-Setup wird unter Windows gebaut")
    try:
        build(args.team, dist=args.dist.resolve(), work=args.work.resolve(),
              ca_certificate=args.ca_certificate, iscc=args.inno_setup)
    except KimdeskError as exc:
        print(f"Fehler: {exc.message}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"Fehler: {' '.join(map(str, exc.cmd[:3]))} … endete mit Rückgabewert "
              f"{exc.returncode}.", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as exc:
        print(f"Fehler: keine Antwort nach {exc.timeout:.0f} s ({exc.cmd[0]}).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
