"""Command line of sync: ``kimdesk enrol``, ``kimdesk devices [confirm FP]``, ``kimdesk sync``,
``kimdesk freischalten CODE`` (offline lease)."""

from __future__ import annotations

import argparse
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kimdesk.cli_toolkit import UsageError, add_vault_arguments, opened_context, run_guarded

if TYPE_CHECKING:
    import httpx

    from kimdesk.casework.context import Context


def _enrol(args: argparse.Namespace) -> str:
    from kimdesk.sync import client, transport

    url, ca = transport.server_settings(args.server)
    with opened_context(args) as ctx, transport.connect(url, ca) as http:
        device = client.enrol(ctx, http, server_url=url, code=args.code,
                              device_name=args.name or platform.node() or "Laptop")
        state = client.SyncClient(ctx, http).run().state
    lines = [f"Gerät angemeldet bei {url} (Team {device.team}).",
             f"Fingerabdruck: {device.fingerprint}"]
    if state == "pending":
        lines.append("Bitte der Koordination den Fingerabdruck nennen; nach der Bestätigung "
                     "(kimdesk devices confirm …) synchronisiert das Gerät.")
    return "\n".join(lines)


@contextmanager
def _connected(args: argparse.Namespace) -> Iterator[tuple[Context, httpx.Client]]:
    """The vault the arguments name and a connection to the server it is enrolled with."""
    from kimdesk.sync import client, transport

    with opened_context(args) as ctx:
        device = client.enrolled_device(ctx)
        _url, ca = transport.server_settings(device.server_url)
        with transport.connect(device.server_url, ca) as http:
            yield ctx, http


def _devices(args: argparse.Namespace) -> str:
    from kimdesk.sync.client import SyncClient

    with _connected(args) as (ctx, http):
        sync = SyncClient(ctx, http)
        if args.action == "confirm":
            if not args.fingerprint:
                raise UsageError("Bitte den Fingerabdruck des neuen Geräts angeben.")
            device = sync.confirm_device(args.fingerprint)
            return f"Bestätigt: {device['device_name']} von {device['user']}."
        rows = sorted(sync.devices(refresh=True).values(), key=lambda d: d["enrolled_at"])
    states = {"pending": "wartet auf Bestätigung", "active": "aktiv", "revoked": "gesperrt"}
    lines = [f"{'Fingerabdruck':<40} {'Status':<24} {'Gerät':<20} Person"]
    for device in rows:
        state = states.get(device["state"], device["state"])
        lines.append(f"{device['fingerprint']:<40} {state:<24} "
                     f"{device['device_name'][:20]:<20} {device['user']}")
    return "\n".join(lines)


def _sync(args: argparse.Namespace) -> str:
    from kimdesk.sync.client import SyncClient

    with _connected(args) as (ctx, http):
        report = SyncClient(ctx, http).run()
    if report.state == "pending":
        return "Das Gerät wartet auf die Bestätigung durch die Koordination."
    text = f"Synchronisiert: {report.pushed} gesendet, {report.pulled} empfangen."
    if report.conflicts:
        text += (f" {report.conflicts} gleichzeitige Änderungen zur Prüfung "
                 "(Datenschutz → Abgleich).")
    if report.repaired:
        text += " Der lokale Stand wurde vom Server neu aufgebaut."
    return text


def _unlock(args: argparse.Namespace) -> str:
    from kimdesk.sync.offline import unlock_with_code

    with opened_context(args) as ctx:
        unlock_with_code(ctx, args.code)
    return "Freigeschaltet: KIMdesk kann wieder offline genutzt werden."


def register(commands: Any) -> None:
    enrol = commands.add_parser(
        "enrol", help="dieses Gerät beim Kreis-Server anmelden",
        description="Meldet das Gerät mit einem Einmal-Code der Kreis-IT beim Kreis-Server an "
                    "und zeigt seinen Fingerabdruck für die Bestätigung durch die Koordination.")
    add_vault_arguments(enrol)
    enrol.add_argument("--server", metavar="URL", help="Adresse des Kreis-Servers "
                       "(Standard: aus dem Installationsprofil)")
    enrol.add_argument("--code", required=True, metavar="CODE", help="Einmal-Code der Kreis-IT")
    enrol.add_argument("--name", metavar="NAME", help="Name des Geräts (Standard: Rechnername)")
    enrol.set_defaults(handler=run_guarded(_enrol))

    devices = commands.add_parser(
        "devices", help="Geräte des Teams anzeigen oder ein neues bestätigen",
        description="Listet die Geräte des Teams mit Fingerabdruck; „confirm FINGERABDRUCK“ "
                    "(nur Koordination) gibt einem neuen Gerät den Teamschlüssel.")
    add_vault_arguments(devices)
    devices.add_argument("action", nargs="?", choices=["list", "confirm"], default="list")
    devices.add_argument("fingerprint", nargs="?", metavar="FINGERABDRUCK")
    devices.set_defaults(handler=run_guarded(_devices))

    sync = commands.add_parser(
        "sync", help="mit dem Team und dem Kreis-Server abgleichen",
        description="Sendet eigene Änderungen, empfängt die des Teams und meldet die "
                    "anonymisierten Statistiken.")
    add_vault_arguments(sync)
    sync.set_defaults(handler=run_guarded(_sync))

    unlock = commands.add_parser(
        "freischalten", help="Offline-Sperre mit dem Code der Kreis-IT aufheben",
        description="Hebt die Sperre nach langer Zeit ohne Verbindung mit einem Einmal-Code "
                    "der Kreis-IT auf.")
    add_vault_arguments(unlock)
    unlock.add_argument("code", metavar="CODE")
    unlock.set_defaults(handler=run_guarded(_unlock))
