"""The HTTP connection to the county server: TLS checked against the county's CA."""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from kimdesk import __version__, config
from kimdesk.errors import KimdeskError

TIMEOUT_SECONDS = 30.0


def server_settings(explicit_url: str | None = None) -> tuple[str, Path | None]:
    """The server URL (argument, else the installation profile) and the CA to trust."""
    profile = config.install_profile()
    url = explicit_url or (profile.server_url if profile else "")
    if not url:
        raise KimdeskError("Kein Kreis-Server angegeben (--server oder Installationsprofil).")
    return url.rstrip("/"), profile.ca_certificate if profile else None


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def require_https(url: str, *, insecure_local: bool = False) -> None:
    """A server address typed on the command line: https, or plain http to this computer only
    with ``--insecure-local`` (a test server). Client data never crosses a network unencrypted."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and insecure_local:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        raise KimdeskError("Unverschlüsselt (http://) nur zum Testen auf diesem Computer und nur "
                           "mit --insecure-local.")
    raise KimdeskError(f"Die Serveradresse muss mit https:// beginnen, nicht „{url}“.")


def connect(url: str, ca_certificate: Path | None = None) -> httpx.Client:
    """An HTTP client for ``url``; with a CA file only certificates it signed are accepted."""
    verify: ssl.SSLContext | bool = True
    if ca_certificate is not None:
        try:
            verify = ssl.create_default_context(cafile=str(ca_certificate))
        except (OSError, ssl.SSLError) as exc:
            raise KimdeskError(
                f"Das CA-Zertifikat {ca_certificate} kann nicht gelesen werden.") from exc
    return httpx.Client(base_url=url, verify=verify, timeout=TIMEOUT_SECONDS,
                        headers={"User-Agent": f"KIMdesk/{__version__}"})
