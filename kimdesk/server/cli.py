"""Command line of the county server: ``kimdesk serve`` and ``kimdesk server-admin …``.

``register(subparsers)`` adds both to the ``kimdesk`` parser; each handler is set as ``handler``
and returns the exit code. FastAPI and uvicorn are imported inside ``serve`` only, so the
desktop CLI (and its installer bundle) never needs them. Expected errors are
:class:`~kimdesk.errors.KimdeskError` (the main CLI prints ``Fehler: …`` and exits 1).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import ssl
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from kimdesk.errors import KimdeskError

EXIT_OK = 0
EXIT_USAGE = 2
_WORKER_DB_ENV = "KIMDESK_SERVE_WORKER_DB"
DB_HELP = ("Datenbank: Pfad einer SQLite-Datei oder postgresql://BENUTZER@HOST/DB "
           "(Standard: kimdesk-server.db im aktuellen Verzeichnis)")


@contextmanager
def _database_errors() -> Iterator[None]:
    """Database failures as one German line; their text (URL, parameters) is not shown."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        raise KimdeskError("Die Server-Datenbank ist nicht erreichbar oder nicht nutzbar "
                           f"({type(exc).__name__}).") from None


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%d.%m.%Y %H:%M") if value else "–"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows,
                                                                       strict=True)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
             .rstrip() for row in (header, *rows)]
    return "\n".join(lines)


# --- serve ------------------------------------------------------------------------------------


class StripQueryStrings(logging.Filter):
    """Access-log lines show the path without its query string (cursors, filters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = json.loads(json.dumps(LOGGING_CONFIG))
    config["filters"] = {"strip_query": {"()": StripQueryStrings}}
    config["handlers"]["access"]["filters"] = ["strip_query"]
    return config


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise KimdeskError(f"Der Server kann nicht auf {host}:{port} lauschen "
                           f"({exc.strerror or type(exc).__name__}).") from None
    sock.set_inheritable(True)
    return sock


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from kimdesk.server.app import create_app
    except ImportError:
        raise KimdeskError("Für den Server fehlen Pakete (pip install 'kimdesk[server]')."
                           ) from None
    from kimdesk.server.settings import Settings, normalise_db_url, safe_db_label

    if bool(args.certfile) != bool(args.keyfile):
        print("kimdesk serve: Fehler: --certfile und --keyfile gehören zusammen.",
              file=sys.stderr)
        return EXIT_USAGE
    for path in (args.certfile, args.keyfile):
        if path is not None and not Path(path).is_file():
            raise KimdeskError(f"Die Datei {path} wurde nicht gefunden.")
    if not args.certfile and args.host not in _LOOPBACK:
        # Tokens and envelopes must not cross a network in the clear (issue 16).
        raise KimdeskError(f"Ohne TLS (--certfile/--keyfile) lauscht der Server nur auf diesem "
                           f"Computer (127.0.0.1, ::1, localhost), nicht auf {args.host}.")
    url = normalise_db_url(args.db)
    workers = args.workers
    with _database_errors():
        # One process creates or upgrades the tables; several workers would race on the DDL.
        app = create_app(url, Settings.from_env(url))
    sock = _bind(args.host, args.port)
    if workers > 1:
        app.state.db.dispose()
        os.environ[_WORKER_DB_ENV] = url  # each worker process builds its own app from it
    config = uvicorn.Config(
        f"{__name__}:worker_app" if workers > 1 else app, factory=workers > 1,
        workers=workers, log_config=_log_config(), access_log=True, server_header=False,
        ssl_certfile=str(args.certfile) if args.certfile else None,
        ssl_keyfile=str(args.keyfile) if args.keyfile else None,
        timeout_graceful_shutdown=10,
        # A worker that does not answer the supervisor's ping in time is replaced; starting
        # one takes seconds on a busy machine (uvicorn's default: 5 s).
        timeout_worker_healthcheck=60)
    try:
        if workers == 1:
            config.load()
        elif args.certfile:
            # Each worker loads the app and TLS itself (the config travels to it pickled,
            # which a loaded one cannot); a bad certificate must fail here, once.
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(args.certfile,
                                                                    args.keyfile)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        sock.close()
        raise KimdeskError(f"Zertifikat oder Schlüssel für TLS nicht nutzbar "
                           f"({type(exc).__name__}).") from None
    scheme = "https" if args.certfile else "http"
    processes = f", {workers} Prozesse" if workers > 1 else ""
    print(f"KIMdesk-Kreisserver auf {scheme}://{args.host}:{args.port} "
          f"({safe_db_label(url)}{processes}); beenden mit Strg+C.", file=sys.stderr, flush=True)
    if not args.certfile:
        print("Hinweis: ohne --certfile/--keyfile läuft der Server ohne TLS, nur auf diesem "
              "Computer (für Tests oder hinter einem TLS-Proxy auf demselben Rechner).",
              file=sys.stderr, flush=True)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
    return EXIT_OK


def worker_app() -> Any:
    """The app of one worker process of ``serve --workers N`` (uvicorn's factory): the database
    URL comes from the parent through the environment; the schema is already there."""
    from kimdesk.server.app import create_app
    from kimdesk.server.settings import Settings

    url = os.environ[_WORKER_DB_ENV]
    return create_app(url, Settings.from_env(url))


# --- server-admin -----------------------------------------------------------------------------


def _db(args: argparse.Namespace, *, must_exist: bool = True) -> Any:
    from kimdesk.server.admin import open_database

    return open_database(args.db, must_exist=must_exist)


def _admin(action: Callable[[Any, argparse.Namespace], int], *, must_exist: bool = True
           ) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        with _database_errors():
            db = _db(args, must_exist=must_exist)
            try:
                return action(db, args)
            finally:
                db.dispose()

    return handler


def _create_team(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    team = admin.create_team(db, args.code, args.name)
    print(f"Team {team.code} („{team.name}“) angelegt. Anmeldecodes: "
          f"kimdesk server-admin issue-code --team {team.code} --user NAME")
    return EXIT_OK


def _teams(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    found = admin.list_teams(db)
    if args.json:
        print(json.dumps([t.__dict__ for t in found], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not found:
        print("Noch keine Teams (server-admin create-team CODE NAME).")
        return EXIT_OK
    rows = [(t.code, t.name, str(t.epoch) if t.epoch else "noch keiner",
             str(t.active_devices), str(t.pending_devices), str(t.head),
             "ja" if t.rotation_needed else "") for t in found]
    print(_table(("Team", "Name", "Schlüssel", "aktiv", "wartend", "Änderungen",
                  "Schlüsselwechsel fällig"), rows))
    return EXIT_OK


def _issue_code(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    code, expires = admin.issue_code(db, args.team, args.user, coordinator=args.coordinator,
                                     valid_days=args.valid_days)
    role = "Koordination" if args.coordinator else "Case Management"
    if args.json:
        print(json.dumps({"code": code, "team": args.team, "user": " ".join(args.user.split()),
                          "coordinator": args.coordinator, "expires_at": expires.isoformat()},
                         ensure_ascii=False))
        return EXIT_OK
    print(f"Anmeldecode: {code}")
    print(f"Für {' '.join(args.user.split())} · Team {args.team} · {role}; einmal gültig bis "
          f"{_when(expires)}.")
    print(f"Auf dem Gerät: kimdesk enrol --server URL --code {code}")
    return EXIT_OK


def _devices(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    found = admin.list_devices(db, args.team)
    if args.json:
        print(json.dumps([d.to_json() for d in found], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not found:
        print("Keine Geräte angemeldet.")
        return EXIT_OK
    rows = [(d.id, d.team, d.user + (" (Koordination)" if d.coordinator else ""),
             d.device_name, d.fingerprint, d.state_label, _when(d.last_seen_at))
            for d in found]
    print(_table(("Geräte-ID", "Team", "Benutzer:in", "Gerät", "Fingerabdruck", "Status",
                  "zuletzt gesehen"), rows))
    return EXIT_OK


def _revoke(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    revocation = _json_file(args.revocation) if args.revocation else None
    device, newly = admin.revoke(db, args.device, revocation)
    if not newly:
        print(f"Das Gerät {device.id} ({device.user}, {device.device_name}) war bereits "
              "gesperrt.")
        return EXIT_OK
    print(f"Gerät {device.id} ({device.user}, {device.device_name}) gesperrt.")
    print(f"Team {device.team}: der Team-Schlüssel wird beim nächsten Abgleich eines aktiven "
          "Geräts erneuert.")
    if revocation is None:
        print("Ohne signierte Sperrung (kimdesk county-ca revoke) löscht das Gerät seine Daten "
              "nicht selbst; sie kann nachgereicht werden: server-admin revoke "
              f"{device.id} --revocation DATEI")
    else:
        print("Meldet sich das gesperrte Gerät, löscht es seine Daten.")
    print(f"Was auf dem Gerät war: kimdesk server-admin lost-device {device.id}")
    return EXIT_OK


def _rotate_key(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    team = admin.request_rotation(db, args.team)
    print(f"Team {team.code}: der Schlüssel (Version {team.epoch}) wird beim nächsten Abgleich "
          "eines aktiven Geräts erneuert; erst dann ist der alte Schlüssel abgelöst.")
    return EXIT_OK


def _json_file(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise KimdeskError(f"{path} ist keine lesbare JSON-Datei.") from None


def _certificate(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    fingerprint, new = admin.add_trust_document(db, _json_file(args.file))
    print(f"Zertifikat für {fingerprint} " + ("hinterlegt." if new else "lag schon vor."))
    print("Die Geräte des Teams prüfen es selbst gegen den Schlüssel des Kreises.")
    return EXIT_OK


def _quarantine(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    reports = admin.quarantine_reports_of(db, args.team)
    if args.json:
        print(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not reports:
        print("Keine zurückgehaltenen Änderungen.")
        return EXIT_OK
    print(_table(("Team", "Nr.", "Von Gerät", "Gemeldet von", "Gemeldet", "Grund"),
                 [(r.team, str(r.seq), r.author_id[:8], r.reporter_id[:8],
                   _when(r.reported_at), r.reason) for r in reports]))
    return EXIT_OK


def _transfers(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    held = admin.open_transfers(db, args.team)
    if args.json:
        print(json.dumps([t.to_json() for t in held], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not held:
        print("Keine offenen Übergaben.")
        return EXIT_OK
    print(_table(("Übergabe", "Von", "An", "Sendendes Gerät", "Seit", "Stand", "Gespeichert"),
                 [(t.transfer_id[:8], t.from_team, t.to_team, t.sender_id[:8],
                   _when(t.created_at), t.step_label, f"{t.stored_bytes / 1e6:.1f} MB")
                  for t in held]))
    print("Der Server hält nur verschlüsselte Akten. Eine Übergabe, die lange wartet: im "
          "Zielteam hat kein vom Kreis bestätigtes Gerät abgeglichen, oder das sendende Gerät "
          "gleicht nicht mehr ab (dann die Übergabe von einem anderen Gerät neu anfordern).")
    return EXIT_OK


_KIND_LABELS = {"clients": "Ratsuchende", "cases": "Fälle", "contacts": "Kontakte"}


def _lost_device(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    report = admin.lost_device_report(db, args.device)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return EXIT_OK
    device = report.device
    print(f"Verlustbericht für Gerät {device.id}")
    print(f"Benutzer:in: {device.user} · Gerät: {device.device_name} · Team {device.team}")
    print(f"Status: {device.state_label} · angemeldet {_when(device.enrolled_at)} · "
          f"zuletzt mit dem Server verbunden: {_when(device.last_seen_at)}")
    print(f"Letzte vom Gerät gesendete Änderung: {_when(report.last_push_at)}")
    print(admin.UNKNOWN_AFTER_NOTE)
    print()
    print(f"Das Gerät hat {len(report.records)} Datensätze geschrieben oder erhalten, darunter "
          f"{report.client_count} Ratsuchende (verschiedene Personen).")
    for kind, count in sorted(report.by_kind().items()):
        print(f"  {_KIND_LABELS.get(kind, kind)}: {count}")
    print()
    print("Die Datensätze sind verschlüsselt und auf dem Gerät zusätzlich durch den "
          "Datentresor geschützt.")
    print("Die Liste der Datensatz-Kennungen (für die Zuordnung in KIMdesk) mit --json; sie "
          "ist Grundlage")
    print("der Prüfung einer Meldung nach Art. 33/34 DSGVO.")
    if device.state != "revoked":
        print()
        print(f"Das Gerät ist noch nicht gesperrt: kimdesk server-admin revoke {device.id}")
    return EXIT_OK


def _lease_code(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin

    code, device = admin.next_lease_code(db, args.device)
    print(f"Freischaltcode: {code}")
    print(f"Für Gerät {device.id} ({device.user}, {device.device_name}); gilt einmal, ältere "
          "Codes werden damit ungültig.")
    return EXIT_OK


def _audit(db: Any, args: argparse.Namespace) -> int:
    from kimdesk.server import admin
    from kimdesk.server.audit import ACTIONS

    unknown = sorted(set(args.action or ()) - set(ACTIONS))
    if unknown:
        raise KimdeskError(f"Unbekannte Aktion {unknown[0]}; möglich: {', '.join(ACTIONS)}.")
    entries = admin.audit_entries(db, args.limit, args.action or ())
    if args.json:
        print(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not entries:
        print("Das Protokoll ist leer.")
        return EXIT_OK
    rows = [(_when(e.at), e.label, e.actor, e.team or "", e.device_id or "",
             ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items())))
            for e in entries]
    print(_table(("Zeit", "Aktion", "durch", "Team", "Gerät", "Angaben"), rows))
    return EXIT_OK


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"keine ganze Zahl: {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"muss mindestens 1 sein, nicht {value}")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"kein gültiger Port: {value}")
    return value


def register(subparsers: Any) -> None:
    """Add ``serve`` and ``server-admin`` to the sub-commands of ``kimdesk``."""
    serve = subparsers.add_parser(
        "serve", help="den Kreisserver für die Synchronisation starten",
        description="Startet den KIMdesk-Kreisserver (HTTP-API unter /v1, Schema unter "
                    "/openapi.json). Er speichert nur verschlüsselte Änderungen, öffentliche "
                    "Schlüssel und anonymisierte Zählungen. Test-Schalter: "
                    "KIMDESK_SERVER_FAULT=push-before-commit beendet den Prozess mitten in "
                    "einem Abgleich (nur für Tests).")
    serve.add_argument("--db", metavar="URL", help=DB_HELP)
    serve.add_argument("--host", default="127.0.0.1", metavar="ADRESSE",
                       help="Adresse, auf der der Server lauscht (Standard 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8443, metavar="PORT",
                       help="Port (Standard 8443)")
    serve.add_argument("--certfile", type=Path, metavar="DATEI",
                       help="TLS-Zertifikat (PEM, mit Zwischenzertifikaten)")
    serve.add_argument("--keyfile", type=Path, metavar="DATEI",
                       help="privater Schlüssel des Zertifikats (PEM)")
    serve.add_argument("--workers", type=_positive, default=1, metavar="ANZAHL",
                       help="Anzahl der Server-Prozesse (Standard 1; mit PostgreSQL z. B. einer "
                            "je Prozessorkern)")
    serve.set_defaults(handler=_serve)

    admin = subparsers.add_parser(
        "server-admin", help="Kreisserver verwalten: Teams, Anmeldecodes, Geräte",
        description="Verwaltung des Kreisservers durch die Kreis-IT. Jede Änderung wird im "
                    "Protokoll des Servers festgehalten (server-admin audit).")
    admin.add_argument("--db", metavar="URL", help=DB_HELP)
    commands = admin.add_subparsers(dest="admin_command", metavar="BEFEHL", required=True)

    def command(name: str, help_text: str, action: Callable[[Any, argparse.Namespace], int],
                *, must_exist: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text,
                                                              description=help_text)
        # --db also after the command name; the value before it stays unless repeated here.
        parser.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help=DB_HELP)
        parser.set_defaults(handler=_admin(action, must_exist=must_exist))
        return parser

    parser = command("create-team", "ein Team anlegen", _create_team, must_exist=False)
    parser.add_argument("code", metavar="CODE", help="Kurzname, z. B. nord")
    parser.add_argument("name", metavar="NAME", help="Name, z. B. „Team Nord“")

    parser = command("teams", "Teams mit Schlüsselstand und Geräten anzeigen", _teams)
    parser.add_argument("--json", action="store_true", help="Ausgabe als JSON")

    parser = command("issue-code", "einen einmaligen Anmeldecode für eine Person ausgeben",
                     _issue_code)
    parser.add_argument("--team", required=True, metavar="TEAM", help="Team-Code")
    parser.add_argument("--user", required=True, metavar="NAME",
                        help="Name der Person, wie in KIMdesk auf ihrem Gerät")
    parser.add_argument("--coordinator", action="store_true",
                        help="die Person gehört zur Koordination (darf Geräte bestätigen)")
    parser.add_argument("--valid-days", type=_positive, default=None, metavar="TAGE",
                        help="Gültigkeit in Tagen (Standard 7)")
    parser.add_argument("--json", action="store_true", help="Ausgabe als JSON")

    parser = command("devices", "angemeldete Geräte anzeigen", _devices)
    parser.add_argument("--team", metavar="TEAM", help="nur dieses Team")
    parser.add_argument("--json", action="store_true", help="Ausgabe als JSON")

    parser = command("revoke", "ein Gerät sperren (verloren, ausgeschieden)", _revoke)
    parser.add_argument("device", metavar="GERÄTE-ID", help="ID (oder eindeutiger Anfang)")
    parser.add_argument("--revocation", metavar="DATEI",
                        help="signierte Sperrung (kimdesk county-ca revoke); erst damit löscht "
                             "das Gerät seine Daten")

    parser = command("rotate-key", "den Team-Schlüssel erneuern lassen, ohne ein Gerät zu "
                                   "sperren (Verdacht auf Verlust, z. B. Team kreis)",
                     _rotate_key)
    parser.add_argument("team", metavar="TEAM", help="Team-Code, z. B. kreis")

    parser = command("quarantine", "Änderungen, die Geräte zurückgehalten haben (nicht "
                                   "entschlüsselbar, ungültig, Zeitstempel in der Zukunft)",
                     _quarantine)
    parser.add_argument("--team", metavar="TEAM", help="nur dieses Team")
    parser.add_argument("--json", action="store_true", help="Ausgabe als JSON")

    parser = command("transfers", "offene Übergaben von Akten zwischen Teams (nur "
                                  "verschlüsselt gespeichert)", _transfers)
    parser.add_argument("--team", metavar="TEAM", help="nur Übergaben von oder an dieses Team")
    parser.add_argument("--json", action="store_true", help="Ausgabe als JSON")

    parser = command("certificate", "ein Gerätezertifikat der Kreis-IT hinterlegen "
                                    "(kimdesk county-ca certify)", _certificate)
    parser.add_argument("file", metavar="DATEI", help="Zertifikat (JSON)")

    parser = command("lost-device", "Verlustbericht: welche Datensätze auf dem Gerät waren "
                                    "(Art. 33/34 DSGVO)", _lost_device)
    parser.add_argument("device", metavar="GERÄTE-ID", help="ID (oder eindeutiger Anfang)")
    parser.add_argument("--json", action="store_true",
                        help="Ausgabe als JSON, mit allen Datensatz-Kennungen")

    parser = command("lease-code", "einmaligen Freischaltcode für ein lange nicht "
                                   "verbundenes Gerät ausgeben", _lease_code)
    parser.add_argument("device", metavar="GERÄTE-ID", help="ID (oder eindeutiger Anfang)")

    parser = command("audit", "Protokoll des Servers anzeigen", _audit)
    parser.add_argument("--limit", type=_positive, default=50, metavar="ANZAHL",
                        help="die neuesten so vielen Einträge (Standard 50)")
    parser.add_argument("--json", action="store_true", help="Ausgabe als JSON")
    parser.add_argument("--action", action="append", metavar="AKTION",
                        help="nur Einträge dieser Aktion (mehrfach möglich), z. B. "
                             "enrol_refused, enrol_blocked")
