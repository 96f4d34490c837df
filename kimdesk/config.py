"""Where KIMdesk keeps its data on this computer, and the settings read from the environment.

The data directory holds the vault (encrypted database, header, attachments). It defaults to the
platform's per-user data directory (platformdirs); ``KIMDESK_DATA_DIR`` or ``--data-dir``
choose another one. The installation profile (team, Kommunen, county server, CA, auto-lock,
offline lease) comes from the installer: a ``profile.toml`` baked into the bundle, or the file
``KIMDESK_PROFILE`` names; a developer checkout has none.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from platformdirs import user_data_dir

from kimdesk import APP_NAME
from kimdesk.errors import KimdeskError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

APP_AUTHOR = "Kreis Kleve"
# Environment variables; all of them are documented in README.md and `kimdesk --help`.
DATA_DIR_ENV = "KIMDESK_DATA_DIR"
PASSWORD_ENV = "KIMDESK_PASSWORD"  # the vault password for non-interactive use (scripts, tests)
DEMO_DIR_NAME = "Demo"


def default_data_dir() -> Path:
    """The data directory of the real vault: ``$KIMDESK_DATA_DIR`` or the per-user data dir."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(user_data_dir(APP_NAME, APP_AUTHOR, roaming=False))


def demo_data_dir() -> Path:
    """Where `kimdesk demo` and `kimdesk gui --demo` keep the demo vault by default.

    Always beside, never inside, the real vault's directory, so demo people cannot end up in a
    real vault by accident.
    """
    return Path(user_data_dir(APP_NAME, APP_AUTHOR, roaming=False)).parent / (
        f"{APP_NAME}-{DEMO_DIR_NAME}"
    )


AUTO_LOCK_ENV = "KIMDESK_AUTO_LOCK_MINUTES"
DEFAULT_AUTO_LOCK_MINUTES = 5
MAX_AUTO_LOCK_MINUTES = 60


def auto_lock_minutes() -> int:
    """Idle minutes before the app locks: ``$KIMDESK_AUTO_LOCK_MINUTES`` (1–60), else the
    installation profile's value, else 5.

    A value outside the range or not a number is ignored (the profile's value or 5 apply)
    rather than ending up with no lock at all.
    """
    try:
        minutes = int(os.environ.get(AUTO_LOCK_ENV, ""))
    except ValueError:
        minutes = 0
    if 1 <= minutes <= MAX_AUTO_LOCK_MINUTES:
        return minutes
    profile = install_profile()
    return profile.auto_lock_minutes if profile else DEFAULT_AUTO_LOCK_MINUTES


# --- the installation profile -------------------------------------------------------------------

PROFILE_ENV = "KIMDESK_PROFILE"  # path to a profile TOML; wins over the one in the bundle
PROFILE_FILE = "profile.toml"  # the name of the profile the installer bakes into the bundle
DEFAULT_OFFLINE_WARN_DAYS = 30
DEFAULT_OFFLINE_LOCK_DAYS = 60
MAX_OFFLINE_DAYS = 365
# Plain HTTP only to this computer (a test server); client data never crosses a network unencrypted.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_PROFILE_KEYS = frozenset({"team", "municipalities", "server_url", "ca_certificate",
                           "auto_lock_minutes", "offline_warn_days", "offline_lock_days",
                           "recovery_public_key", "county_root_key"})
_PEM_PUBLIC = ("-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----")


@dataclass(frozen=True)
class InstallProfile:
    """What an installation knows without anyone typing it: team, Kommunen, county server.

    ``ca_certificate`` is the county's CA (PEM) the server's TLS certificate is checked
    against; ``None`` means the publicly trusted CAs (the certifi bundle httpx ships with,
    not the Windows certificate store). The offline lease warns after
    ``offline_warn_days`` without reaching the server and locks after ``offline_lock_days``.
    """

    team: str  # team code from resources/reference/organisation.toml, e.g. "nord"
    municipalities: tuple[str, ...]  # Kommune codes the installation works in
    server_url: str  # e.g. "https://kim-sync.kreis-kleve.de", without a trailing slash
    ca_certificate: Path | None
    auto_lock_minutes: int  # 1..60
    offline_warn_days: int = DEFAULT_OFFLINE_WARN_DAYS
    offline_lock_days: int = DEFAULT_OFFLINE_LOCK_DAYS
    # The county's recovery public key (X25519, the base64 line of its PEM): every vault
    # created on this installation wraps its key for it, so county IT can restore access.
    recovery_public_key: str | None = None
    # The county's root signing key (Ed25519 public key, raw 32 bytes): what devices check
    # every team certificate against (docs/sync.md, "Chain of trust").
    county_root_key: bytes | None = None

    def county_recovery_key(self) -> X25519PublicKey | None:
        """The county's recovery public key as a key object, or ``None`` when not configured."""
        if self.recovery_public_key is None:
            return None
        return _recovery_key(self.recovery_public_key)


def _recovery_key(text: str) -> X25519PublicKey:
    """An X25519 public key from the base64 line of its PEM (or the whole PEM);
    ``ValueError`` for anything else."""
    from kimdesk.vault.keys import load_public_key_pem

    body = "".join(text.replace(_PEM_PUBLIC[0], "").replace(_PEM_PUBLIC[1], "").split())
    pem = f"{_PEM_PUBLIC[0]}\n{body}\n{_PEM_PUBLIC[1]}\n".encode("ascii", errors="replace")
    return load_public_key_pem(pem)


def county_recovery_key() -> X25519PublicKey | None:
    """The installation profile's recovery public key; ``None`` without profile or key.

    An invalid profile raises :class:`KimdeskError` (an installation must not create a vault
    under a half-understood profile).
    """
    profile = install_profile()
    return profile.county_recovery_key() if profile is not None else None



# Tests and development only: the county root public key (base64) when no profile names one.
ROOT_KEY_ENV = "KIMDESK_COUNTY_ROOT_KEY"


def county_root_key() -> bytes | None:
    """The county's root public key: from the installation profile, else
    ``$KIMDESK_COUNTY_ROOT_KEY`` (a developer checkout or a test), else ``None`` (enrolment is
    then refused)."""
    profile = install_profile()
    if profile is not None and profile.county_root_key is not None:
        return profile.county_root_key
    text = os.environ.get(ROOT_KEY_ENV, "").strip()
    if not text:
        return None
    key = _root_key(text)
    if key is None:
        raise KimdeskError(f"{ROOT_KEY_ENV} ist kein öffentlicher Ed25519-Schlüssel (Base64).")
    return key


def _root_key(text: str) -> bytes | None:
    import base64
    import binascii

    try:
        raw = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return raw if len(raw) == 32 else None


def bundled_profile_path() -> Path | None:
    """Where the installer put ``profile.toml`` in a frozen bundle; ``None`` when not frozen."""
    if not getattr(sys, "frozen", False):
        return None
    # PyInstaller unpacks the bundle's data files into sys._MEIPASS (the _internal folder).
    base = getattr(sys, "_MEIPASS", None)
    return Path(base if base else Path(sys.executable).parent) / PROFILE_FILE


def install_profile() -> InstallProfile | None:
    """The installation profile: ``$KIMDESK_PROFILE``, else the bundle's, else ``None``.

    ``None`` means a developer checkout (no profile, nothing baked in). A profile that is
    named but missing or invalid raises :class:`KimdeskError` naming the problem: an
    installation must not run with a half-understood profile.
    """
    override = os.environ.get(PROFILE_ENV)
    if override:
        return read_install_profile(Path(override).expanduser())
    baked = bundled_profile_path()
    if baked is not None and baked.is_file():
        return read_install_profile(baked)
    return None


def read_install_profile(path: Path) -> InstallProfile:
    """Read and check one profile file; a relative ``ca_certificate`` is taken from its folder."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise KimdeskError(f"Das Installationsprofil {path} wurde nicht gefunden.") from None
    except OSError as exc:
        raise KimdeskError(f"Das Installationsprofil {path} ist nicht lesbar "
                           f"({exc.strerror or type(exc).__name__}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise KimdeskError(f"Das Installationsprofil {path} ist kein gültiges TOML "
                           f"({exc}).") from None
    return parse_install_profile(data, Path(path).resolve().parent, where=str(path))


def parse_install_profile(data: dict[str, Any], base: Path, *, where: str) -> InstallProfile:
    """Check the parsed TOML of a profile; ``base`` resolves a relative CA path."""
    from kimdesk.reference import ReferenceDataError, load_reference

    def fail(problem: str) -> KimdeskError:
        return KimdeskError(f"Installationsprofil {where}: {problem}")

    unknown = sorted(set(data) - _PROFILE_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_PROFILE_KEYS))
        raise fail(f"unbekannter Eintrag „{unknown[0]}“ (erlaubt: {allowed}).")
    for key in ("team", "municipalities", "server_url", "auto_lock_minutes"):
        if key not in data:
            raise fail(f"der Eintrag „{key}“ fehlt.")

    try:
        reference = load_reference()
    except ReferenceDataError as exc:
        raise fail(f"die Referenzdaten sind nicht lesbar ({exc.message})") from None
    team = data["team"]
    teams = [t.code for t in reference.teams]
    if not isinstance(team, str) or team not in teams:
        raise fail(f"unbekanntes Team „{team}“ (möglich: {', '.join(teams)}).")

    municipalities = data["municipalities"]
    if (not isinstance(municipalities, list) or not municipalities
            or not all(isinstance(m, str) for m in municipalities)):
        raise fail("„municipalities“ muss eine Liste von Kommunen-Codes sein, z. B. "
                   '["kleve", "goch"].')
    known = {m.code for m in reference.municipalities}
    for code in municipalities:
        if code not in known:
            raise fail(f"unbekannte Kommune „{code}“ in „municipalities“.")
    if len(set(municipalities)) != len(municipalities):
        raise fail("eine Kommune steht mehrfach in „municipalities“.")

    server_url = data["server_url"]
    if not isinstance(server_url, str):
        raise fail("„server_url“ muss eine Adresse sein, z. B. \"https://kim-sync.kreis-kleve.de\".")
    parts = urlsplit(server_url.strip())
    if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        raise fail(f"„server_url“ ist keine gültige Serveradresse: „{server_url}“.")
    if parts.scheme != "https" and not (parts.scheme == "http"
                                        and parts.hostname in _LOOPBACK_HOSTS):
        raise fail("„server_url“ muss mit https:// beginnen (unverschlüsselt nur zum Testen auf "
                   "diesem Computer).")

    ca_certificate = data.get("ca_certificate")
    ca_path: Path | None = None
    if ca_certificate is not None:
        if not isinstance(ca_certificate, str) or not ca_certificate.strip():
            raise fail("„ca_certificate“ muss ein Dateipfad sein (PEM-Datei).")
        ca_path = Path(ca_certificate).expanduser()
        if not ca_path.is_absolute():
            ca_path = base / ca_path
        try:
            pem = ca_path.read_bytes()
        except OSError:
            raise fail(f"das CA-Zertifikat {ca_path} wurde nicht gefunden.") from None
        if b"-----BEGIN CERTIFICATE-----" not in pem:
            raise fail(f"{ca_path} ist kein Zertifikat im PEM-Format.")

    root_text = data.get("county_root_key")
    root_key: bytes | None = None
    if root_text is not None:
        root_key = _root_key(root_text) if isinstance(root_text, str) else None
        if root_key is None:
            raise fail("„county_root_key“ muss der öffentliche Schlüssel des Kreises sein "
                       "(Base64, 32 Byte; ausgegeben von „kimdesk county-ca keygen“).")

    auto_lock = _bounded(data["auto_lock_minutes"], 1, MAX_AUTO_LOCK_MINUTES,
                         "auto_lock_minutes", fail)
    warn_days = _bounded(data.get("offline_warn_days", DEFAULT_OFFLINE_WARN_DAYS), 1,
                         MAX_OFFLINE_DAYS, "offline_warn_days", fail)
    lock_days = _bounded(data.get("offline_lock_days", DEFAULT_OFFLINE_LOCK_DAYS), 1,
                         MAX_OFFLINE_DAYS, "offline_lock_days", fail)
    if lock_days <= warn_days:
        raise fail("„offline_lock_days“ muss größer sein als „offline_warn_days“ (erst warnen, "
                   "dann sperren).")
    recovery_key = data.get("recovery_public_key")
    if recovery_key is not None:
        try:
            if not isinstance(recovery_key, str):
                raise ValueError("not a string")
            _recovery_key(recovery_key)
        except ValueError:
            raise fail("„recovery_public_key“ ist kein öffentlicher X25519-Schlüssel (die "
                       "Base64-Zeile aus dessen PEM-Datei, siehe docs/it/recovery.md).") from None
        recovery_key = "".join(recovery_key.replace(_PEM_PUBLIC[0], "")
                               .replace(_PEM_PUBLIC[1], "").split())
    return InstallProfile(team=team, municipalities=tuple(municipalities),
                          server_url=server_url.strip().rstrip("/"), ca_certificate=ca_path,
                          auto_lock_minutes=auto_lock, offline_warn_days=warn_days,
                          offline_lock_days=lock_days, recovery_public_key=recovery_key,
                          county_root_key=root_key)


def _bounded(value: object, low: int, high: int, key: str,
             fail: Callable[[str], KimdeskError]) -> int:
    # bool is an int in Python; `true` in a profile is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise fail(f"„{key}“ muss eine ganze Zahl von {low} bis {high} sein, nicht „{value}“.")
    return value
