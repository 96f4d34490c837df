"""Command line of sync: ``kimdesk enrol``, ``kimdesk devices [confirm FP]``, ``kimdesk sync``,
``kimdesk freischalten CODE`` (offline lease), ``kimdesk fall-uebergeben FALL --team T
--kommune K`` (a case that moves to another team) and ``kimdesk county-ca`` (county IT's offline
root key: make it, certify a coordinator device, sign a revocation)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimdesk.cli_toolkit import UsageError, add_vault_arguments, opened_context, run_guarded

_KREIS_HELP = ("den Kreis-Tresor dieses Datentresors verwenden (kreisweite Koordination, "
               "Team „kreis“; siehe kimdesk kreis einrichten)")

if TYPE_CHECKING:
    import httpx

    from kimdesk.casework.context import Context


def _opened(args: argparse.Namespace, *, past_the_lease: bool = False
            ) -> contextlib.AbstractContextManager[Context]:
    """The vault the arguments name, or with ``--kreis`` its Kreis-Tresor (county scope)."""
    if getattr(args, "kreis", False):
        from kimdesk.cli_county import opened_county_context

        return opened_county_context(args, past_the_lease=past_the_lease)
    return opened_context(args, past_the_lease=past_the_lease)


def _enrol(args: argparse.Namespace) -> str:
    from kimdesk import config
    from kimdesk.sync import client, transport

    if args.server:
        transport.require_https(args.server, insecure_local=args.insecure_local)
    url, ca = transport.server_settings(args.server)
    root = config.county_root_key()
    with _opened(args) as ctx, transport.connect(url, ca) as http:
        device = client.enrol(ctx, http, server_url=url, code=args.code,
                              device_name=args.name or platform.node() or "Laptop",
                              root_public=root)
        state = client.SyncClient(ctx, http).run().state
    lines = [f"Gerät angemeldet bei {url} (Team {device.team}).",
             f"Fingerabdruck: {device.fingerprint}"]
    if state == "pending" and device.coordinator:
        lines.append("Bitte der Kreis-IT den Fingerabdruck nennen; sobald sie das Gerät der "
                     "Koordination zertifiziert hat (kimdesk county-ca certify), synchronisiert "
                     "es.")
    elif state == "pending":
        lines.append("Bitte der Koordination den Fingerabdruck nennen; nach der Bestätigung "
                     "(kimdesk devices confirm …) synchronisiert das Gerät.")
    return "\n".join(lines)


@contextmanager
def _connected(args: argparse.Namespace, *, past_the_lease: bool = False
               ) -> Iterator[tuple[Context, httpx.Client]]:
    """The vault the arguments name and a connection to the server it is enrolled with."""
    from kimdesk.sync import client, transport

    with _opened(args, past_the_lease=past_the_lease) as ctx:
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

    # A sync is one way out of the offline lock: it passes the lease (the server decides).
    with _connected(args, past_the_lease=True) as (ctx, http):
        report = SyncClient(ctx, http).run()
    if report.state == "pending":
        return "Das Gerät wartet auf die Bestätigung durch die Koordination."
    text = f"Synchronisiert: {report.pushed} gesendet, {report.pulled} empfangen."
    if report.conflicts:
        text += (f" {report.conflicts} gleichzeitige Änderungen zur Prüfung "
                 "(Datenschutz → Abgleich).")
    if report.repaired:
        text += " Der lokale Stand wurde vom Server neu aufgebaut."
    if report.documents_held or report.documents_waiting:
        text += (f" Dokumente: {report.documents_held} noch nicht gesendet, "
                 f"{report.documents_waiting} noch nicht geladen (beim nächsten Abgleich).")
    if report.quarantined:
        text += (f" {report.quarantined} Änderungen zurückgehalten (Quarantäne, nicht "
                 "übernommen); die Kreis-IT ist informiert.")
    return text


def _unlock(args: argparse.Namespace) -> str:
    from kimdesk.sync.offline import unlock_with_code

    with _opened(args, past_the_lease=True) as ctx:  # the other way out
        unlock_with_code(ctx, args.code)
    return "Freigeschaltet: KIMdesk kann wieder offline genutzt werden."


_KEY_FILE_HEADER = "KIMdesk county root key v1"


def _read_root_key(path: str) -> bytes:
    from kimdesk.sync import trust

    try:
        lines = Path(path).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"Die Schlüsseldatei {path} ist nicht lesbar.") from None
    if len(lines) < 2 or " ".join(lines[:-1]) != _KEY_FILE_HEADER:
        raise UsageError(f"{path} ist keine Schlüsseldatei von „kimdesk county-ca keygen“.")
    try:
        return trust.decode_key(lines[-1], what="Stammschlüssel")
    except trust.TrustError as exc:
        raise UsageError(exc.message) from None


def _write_private(path: str, text: str) -> None:
    """Create ``path`` readable by its owner only (0600), refusing to overwrite."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} gibt es schon; bitte einen anderen Dateinamen wählen.") from None
    with os.fdopen(handle, "w", encoding="ascii") as file:
        file.write(text)


def _document_out(document: dict[str, Any], out: str | None) -> str:
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if out:
        Path(out).write_text(text, encoding="utf-8")
        return out
    return text.rstrip("\n")


def _county_ca(args: argparse.Namespace) -> str:
    from kimdesk.sync import trust

    if args.action == "keygen":
        key = trust.new_root_key()
        _write_private(args.out, f"{_KEY_FILE_HEADER}\n{trust.encode_key(key)}\n")
        public = trust.encode_key(trust.public_key_of(key))
        return (f"Stammschlüssel in {args.out} gespeichert (nur offline aufbewahren).\n"
                f"Für die Installationsprofile: county_root_key = \"{public}\"")
    if not args.root_key_file or not args.fingerprint or not args.team:
        raise UsageError("Bitte --root-key-file, --fingerprint und --team angeben.")
    key = _read_root_key(args.root_key_file)
    try:
        if args.action == "certify":
            document = trust.certify(team=args.team, fingerprint=args.fingerprint,
                                     role=args.role, issuer=trust.ROOT, signer_private=key)
            done = _document_out(document, args.out)
            where = (f"Zertifikat in {done}; hochladen mit: kimdesk server-admin certificate "
                     f"{done}") if args.out else done
            return where
        document = trust.revoke(team=args.team, fingerprint=args.fingerprint,
                                issuer=trust.ROOT, signer_private=key)
    except trust.TrustError as exc:
        raise UsageError(exc.message) from None
    done = _document_out(document, args.out)
    return (f"Sperrung in {done}; hinterlegen mit: kimdesk server-admin revoke GERÄTE-ID "
            f"--revocation {done}") if args.out else done


def _hand_over_case(args: argparse.Namespace) -> str:
    from kimdesk.casework import transfer

    with opened_context(args) as ctx:
        row = transfer.request_transfer(ctx, args.case_id, args.team, args.kommune)
        name = transfer.team_name(ctx, row.to_team)
    return (f"Übergabe an {name} angefordert; sie geht beim nächsten Abgleich (kimdesk sync) "
            "hinaus. Nach der Bestätigung durch das Team wird die Akte hier gelöscht.")


def register(commands: Any) -> None:
    enrol = commands.add_parser(
        "enrol", help="dieses Gerät beim Kreis-Server anmelden",
        description="Meldet das Gerät mit einem Einmal-Code der Kreis-IT beim Kreis-Server an "
                    "und zeigt seinen Fingerabdruck für die Bestätigung durch die Koordination.")
    add_vault_arguments(enrol)
    enrol.add_argument("--server", metavar="URL", help="Adresse des Kreis-Servers "
                       "(Standard: aus dem Installationsprofil)")
    enrol.add_argument("--code", required=True, metavar="CODE", help="Einmal-Code der Kreis-IT")
    enrol.add_argument("--insecure-local", action="store_true",
                       help="unverschlüsseltes http:// zu einem Testserver auf diesem Computer "
                            "erlauben (nie im Betrieb)")
    enrol.add_argument("--name", metavar="NAME", help="Name des Geräts (Standard: Rechnername)")
    enrol.add_argument("--kreis", action="store_true", help=_KREIS_HELP)
    enrol.set_defaults(handler=run_guarded(_enrol))

    devices = commands.add_parser(
        "devices", help="Geräte des Teams anzeigen oder ein neues bestätigen",
        description="Listet die Geräte des Teams mit Fingerabdruck; „confirm FINGERABDRUCK“ "
                    "(nur Koordination) gibt einem neuen Gerät den Teamschlüssel.")
    add_vault_arguments(devices)
    devices.add_argument("action", nargs="?", choices=["list", "confirm"], default="list")
    devices.add_argument("fingerprint", nargs="?", metavar="FINGERABDRUCK")
    devices.add_argument("--kreis", action="store_true", help=_KREIS_HELP)
    devices.set_defaults(handler=run_guarded(_devices))

    sync = commands.add_parser(
        "sync", help="mit dem Team und dem Kreis-Server abgleichen",
        description="Sendet eigene Änderungen, empfängt die des Teams und meldet die "
                    "anonymisierten Statistiken.")
    add_vault_arguments(sync)
    sync.add_argument("--kreis", action="store_true", help=_KREIS_HELP)
    sync.set_defaults(handler=run_guarded(_sync))

    unlock = commands.add_parser(
        "freischalten", help="Offline-Sperre mit dem Code der Kreis-IT aufheben",
        description="Hebt die Sperre nach langer Zeit ohne Verbindung mit einem Einmal-Code "
                    "der Kreis-IT auf.")
    add_vault_arguments(unlock)
    unlock.add_argument("code", metavar="CODE")
    unlock.add_argument("--kreis", action="store_true", help=_KREIS_HELP)
    unlock.set_defaults(handler=run_guarded(_unlock))

    hand_over = commands.add_parser(
        "fall-uebergeben", help="einen Fall an ein anderes Team übergeben (Umzug)",
        description="Die Person ist in den Bereich eines anderen Teams gezogen: ihre Akte geht "
                    "mit dem nächsten Abgleich verschlüsselt an dieses Team und wird hier nach "
                    "dessen Bestätigung gelöscht. Setzt eine Einwilligung voraus, die die "
                    "Weitergabe innerhalb des KIM abdeckt.")
    add_vault_arguments(hand_over)
    hand_over.add_argument("case_id", metavar="FALL-ID")
    hand_over.add_argument("--team", required=True, metavar="TEAM",
                           help="Team-Code des übernehmenden Teams, z. B. mitte")
    hand_over.add_argument("--kommune", required=True, metavar="KOMMUNE",
                           help="Code der neuen Kommune, z. B. goch")
    hand_over.set_defaults(handler=run_guarded(_hand_over_case))

    ca = commands.add_parser(
        "county-ca", help="Stammschlüssel des Kreises: Koordinationsgeräte zertifizieren",
        description="Auf dem Offline-Rechner der Kreis-IT, nie auf dem Server: „keygen --out "
                    "DATEI“ legt den Stammschlüssel an; „certify“ zertifiziert ein Gerät der "
                    "Koordination (Fingerabdruck vom Gerät, persönlich abgeglichen); „revoke“ "
                    "signiert die Sperrung eines Geräts. Siehe docs/it/trust.md.")
    ca.add_argument("action", choices=["keygen", "certify", "revoke"])
    ca.add_argument("--root-key-file", metavar="DATEI", help="Datei mit dem Stammschlüssel")
    ca.add_argument("--fingerprint", metavar="FINGERABDRUCK", help="Fingerabdruck des Geräts")
    ca.add_argument("--team", metavar="TEAM", help="Team-Code, z. B. nord")
    ca.add_argument("--role", choices=["coordinator", "member"], default="coordinator",
                    help="Rolle im Team (Standard: coordinator)")
    ca.add_argument("--out", metavar="DATEI", help="Ausgabedatei (keygen: Pflicht)")
    ca.set_defaults(handler=run_guarded(_county_ca))
