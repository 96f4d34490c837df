"""The `kimdesk` command: argparse sub-commands per DESIGN.md's CLI contract.

Exit codes: 0 ok; 1 an expected runtime error, printed as one German line ``Fehler: …`` on
stderr (wrong password, no vault, bad import file …), never a traceback; 2 a usage error.
Error lines never name a client: messages of :class:`~kimdesk.errors.KimdeskError` are written
to be safe, and any other exception is reported only by its type, because its text (an SQL
statement with parameters, say) could carry client data.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from kimdesk import APP_NAME, __version__, config
from kimdesk import cli_recovery as recovery_commands
from kimdesk.cli_passwords import read_password
from kimdesk.cli_toolkit import (
    EXIT_ERROR,
    EXIT_OK,
    USAGE_ERROR,
    add_data_dir_argument,
    add_password_argument,
    open_vault_for,
    vault_dir,
)
from kimdesk.errors import KimdeskError
from kimdesk.reference import load_reference
from kimdesk.vault import KdfParams, create_vault, open_vault
from kimdesk.vault.store import vault_exists

EXIT_USAGE = USAGE_ERROR
# Set to 1 to see the traceback of an unexpected error (it may contain client data).
DEBUG_ENV = "KIMDESK_DEBUG"


# --- argparse in German -----------------------------------------------------------------------

_ARGPARSE_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"the following arguments are required: (.*)", r"Diese Angaben fehlen: \1"),
    (r"unrecognized arguments: (.*)", r"Unbekannte Angaben: \1"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)",
     r"\1: ungültige Auswahl \2 (möglich: \3)"),
    (r"argument (\S+): invalid (?:int|float|_positive_int|_fte) value: (.*)",
     r"\1: ungültige Zahl \2"),
    (r"argument (\S+): expected one argument", r"\1: hier fehlt ein Wert"),
    (r"argument (\S+): (.*)", r"\1: \2"),
    (r"ambiguous option: (\S+) could match (.*)", r"Mehrdeutige Option \1 (passt zu \2)"),
)


def _german(message: str) -> str:
    for pattern, replacement in _ARGPARSE_MESSAGES:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, replacement, message)
    return message


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any,
                  prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else "Aufruf: ")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that speaks German and exits with 2 on usage errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "Argumente"
        self._optionals.title = "Optionen"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="diese Hilfe anzeigen und beenden")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: Fehler: {_german(message)}\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"muss mindestens 1 sein, nicht {value}")
    return value


def _fte(text: str) -> float:
    value = float(text.replace(",", "."))
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("der Stellenanteil (VZÄ) liegt zwischen 0 und 1")
    return value


_EPILOG = f"""\
Passwort ohne Nachfrage (Skripte, IT): Umgebungsvariable {config.PASSWORD_ENV} oder
--password-file DATEI. Sonst fragt KIMdesk nach dem Passwort.
Standard-Datenverzeichnis: {config.DATA_DIR_ENV} oder das Benutzerdatenverzeichnis des Systems.

Rückgabewerte: 0 = in Ordnung, 1 = Fehler (eine Zeile „Fehler: …“), 2 = falscher Aufruf.
"""


def build_parser() -> argparse.ArgumentParser:
    teams = [team.code for team in load_reference().teams]
    parser = _Parser(
        prog="kimdesk",
        description=f"{APP_NAME} – Fallmanagement des Kommunalen Integrationsmanagements (KIM) "
                    "im Kreis Kleve. Ohne Befehl startet die Oberfläche (wie „kimdesk gui“).",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}",
                        help="Programmversion anzeigen und beenden")
    commands = parser.add_subparsers(dest="command", title="Befehle", metavar="BEFEHL",
                                     parser_class=_Parser)

    gui = commands.add_parser("gui", help="die Oberfläche starten (Standard ohne Befehl)",
                              description="Startet die Oberfläche: Datentresor entsperren und "
                                          "Übersicht anzeigen.")
    add_data_dir_argument(gui, "Benutzerdatenverzeichnis")
    gui.add_argument("--demo", action="store_true",
                     help="den Demo-Datentresor öffnen (wird bei Bedarf mit erfundenen Daten "
                          "angelegt; Passwort „demo-passwort“)")

    init = commands.add_parser("init", help="einen Datentresor für eine Person und ein Team "
                                            "anlegen",
                               description="Legt einen neuen, verschlüsselten Datentresor an "
                                           "und zeigt einmalig den Wiederherstellungscode.")
    add_data_dir_argument(init, "Benutzerdatenverzeichnis")
    add_password_argument(init)
    init.add_argument("--user", required=True, metavar="NAME",
                      help="Name der Case Managerin / des Case Managers")
    init.add_argument("--team", required=True, choices=teams, metavar="TEAM",
                      help=f"regionales Fachteam: {', '.join(teams)}")
    init.add_argument("--role", choices=("case_manager", "coordinator"), default="case_manager",
                      help="Rolle: case_manager (Standard) oder coordinator (Koordination)")
    init.add_argument("--fte", type=_fte, default=1.0, metavar="VZÄ",
                      help="Stellenanteil für den Fallzahlschlüssel, z. B. 0.5 (Standard 1.0)")

    demo = commands.add_parser("demo", help="einen Datentresor mit erfundenen, realistischen "
                                            "Daten füllen",
                               description="Legt bei Bedarf einen Datentresor an und füllt ihn "
                                           "mit erfundenen Ratsuchenden, Fällen und Kontakten "
                                           "(darunter die fünf Beispiele des Gesamtkonzepts). "
                                           "Nur für Schulung und Test, nie für echte Daten.")
    add_data_dir_argument(demo, "Demo-Verzeichnis")
    add_password_argument(demo)
    demo.add_argument("--clients", type=_positive_int, default=None, metavar="ANZAHL",
                      help="ungefähre Zahl der Ratsuchenden (Standard 150)")
    demo.add_argument("--seed", type=int, default=None, metavar="ZAHL",
                      help="Startwert des Zufalls: gleicher Wert, gleiche Daten")
    demo.add_argument("--team", choices=teams, default=None, metavar="TEAM",
                      help="Team der Demo-Benutzerin, falls der Tresor neu angelegt wird "
                           "(Standard: nord)")

    info = commands.add_parser("info", help="Kennzahlen des Datentresors anzeigen",
                               description="Zeigt Zahl der Ratsuchenden, Fälle je Fallart und "
                                           "Phase sowie offene Fristen und Wiedervorlagen.")
    add_data_dir_argument(info, "Benutzerdatenverzeichnis")
    add_password_argument(info)
    info.add_argument("--json", action="store_true", help="Ausgabe als JSON")

    find = commands.add_parser("find", help="Ratsuchende suchen",
                               description="Sucht Ratsuchende nach Name oder Geburtsdatum, "
                                           "unabhängig von Akzenten und Schreibweisen "
                                           "(Mohammed/Muhammad).")
    find.add_argument("query", metavar="SUCHE", help="Name, Teil des Namens oder Geburtsdatum")
    add_data_dir_argument(find, "Benutzerdatenverzeichnis")
    add_password_argument(find)
    find.add_argument("--json", action="store_true", help="Ausgabe als JSON")
    find.add_argument("--limit", type=_positive_int, default=50, metavar="ANZAHL",
                      help="höchstens so viele Treffer (Standard 50)")

    importing = commands.add_parser("import", help="Listen importieren (import clients DATEI)",
                                    description="Importiert Daten aus Dateien.")
    what = importing.add_subparsers(dest="what", title="Was", metavar="ART", required=True,
                                    parser_class=_Parser)
    clients = what.add_parser(
        "clients", help="Ratsuchende aus einer CSV- oder Excel-Liste importieren",
        description="Importiert Ratsuchende aus einer CSV- oder XLSX-Datei mit den Spalten "
                    "Nachname, Vorname, Geburtsdatum, Staatsangehörigkeit, Kommune. Eine "
                    "fehlerhafte Zeile: es wird nichts importiert.")
    clients.add_argument("file", type=Path, metavar="DATEI", help="CSV- oder XLSX-Datei")
    add_data_dir_argument(clients, "Benutzerdatenverzeichnis")
    add_password_argument(clients)
    clients.add_argument("--consent-on-file", action="store_true",
                         help="bestätigt: für alle Personen der Liste liegt eine Einwilligung "
                              "vor (nötig für Geburtsdatum und Staatsangehörigkeit)")
    clients.add_argument("--import-duplicates", action="store_true",
                         help="auch Personen importieren, die wahrscheinlich schon erfasst sind")
    clients.add_argument("--keep-suspicious-names", action="store_true",
                         help="bestätigt: Namen mit „?“ mitten im Wort (z. B. nach einem "
                              "Export als Windows-1252) werden wirklich so geschrieben")

    commands.add_parser("selftest", help="kurzer Selbsttest (für die Installation)",
                        description="Legt in einem temporären Verzeichnis einen Datentresor an, "
                                    "erfasst, sucht und prüft; zeigt „Selbsttest bestanden“.")
    # The packages' commands load with the parser: `kimdesk` without a command (the desktop)
    # needs none of them, nor the PDF and XLSX libraries they bring (start time, issue 17).
    from kimdesk import cli_county as county_commands
    from kimdesk.reports import commands as report_commands
    from kimdesk.stats import commands as export_commands
    from kimdesk.sync import commands as sync_commands

    recovery_commands.register(commands)
    report_commands.register(commands)
    export_commands.register(commands)
    sync_commands.register(commands)
    county_commands.register(commands)
    try:  # the county server's commands; the laptops' installer bundle leaves kimdesk.server out
        from kimdesk.server import cli as server_commands
    except ModuleNotFoundError as exc:
        if exc.name != "kimdesk.server":
            raise
    else:
        server_commands.register(commands)
    return parser


# --- commands ---------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from kimdesk.casework.profile import create_profile

    data_dir = vault_dir(args)
    if vault_exists(data_dir):
        raise KimdeskError(f"In {data_dir} gibt es bereits einen Datentresor.")
    user = args.user.strip()
    if not user:
        raise KimdeskError("Bitte mit --user einen Namen angeben.")
    password = read_password(args, new=True)
    # The county's recovery key from the installation profile lets county IT restore access.
    vault, recovery_code = create_vault(data_dir, password, kdf=KdfParams.new(),
                                        county_public_key=config.county_recovery_key(),
                                        user_inputs=[user])
    try:
        create_profile(vault, user, args.team, role=args.role, fte=args.fte)
    finally:
        vault.close()
    team = load_reference().team(args.team).name
    print(f"Datentresor angelegt in {data_dir}")
    print(f"Benutzer:in: {user} · {team}")
    print()
    print("WIEDERHERSTELLUNGSCODE – wird nur dieses eine Mal angezeigt:")
    print()
    print(f"    {recovery_code}")
    print()
    print("Bitte drucken Sie den Code aus oder schreiben Sie ihn ab und bewahren Sie ihn "
          "verschlossen auf,")
    print("getrennt von diesem Gerät. Mit dem Code lässt sich der Datentresor öffnen, wenn das "
          "Passwort")
    print("vergessen wurde. Wer den Code hat, kann alle Daten lesen.")
    return EXIT_OK




def make_demo_vault(data_dir: Path, password: str, *, team: str | None = None,
                    clients: int | None = None, seed: int | None = None,
                    progress: Callable[[int, int], None] | None = None) -> Any:
    """Create (if missing) and fill a demo vault; returns the demo summary."""
    from kimdesk import demo
    from kimdesk.casework.profile import create_profile

    if vault_exists(data_dir):
        vault = open_vault(data_dir, password)
    else:
        # The demo vault holds invented people only: its fixed, published password may be
        # weak. Any other password for a demo vault must pass the strength check.
        vault, _recovery_code = create_vault(
            data_dir, password, kdf=KdfParams.new(),
            allow_weak_password=password == demo.DEMO_PASSWORD)
        try:
            create_profile(vault, demo.DEMO_USER, team or demo.DEMO_TEAM)
        except BaseException:
            vault.close()
            raise
    try:
        return demo.fill(vault, clients=clients or demo.DEFAULT_CLIENTS,
                         seed=demo.DEFAULT_SEED if seed is None else seed, progress=progress)
    finally:
        vault.close()


def cmd_demo(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir) if args.data_dir else config.demo_data_dir()
    new = not vault_exists(data_dir)
    password = read_password(args, new=new)
    if new:
        print(f"Demo-Datentresor wird angelegt in {data_dir}")
    with _progress_bar("Demo-Daten erzeugen") as progress:
        summary = make_demo_vault(data_dir, password, team=args.team, clients=args.clients,
                                  seed=args.seed, progress=progress)
    print(f"Demo-Daten erzeugt in {summary.seconds:.1f} s: {summary.clients} Ratsuchende, "
          f"{summary.households} Haushalte, {summary.cases} Fälle, {summary.contacts} Kontakte, "
          f"{summary.institutions} Einrichtungen.")
    reference = load_reference()
    examples = ", ".join(f"{name} ({reference.municipality(code).name})"
                         for name, code in summary.examples.items())
    print(f"Beispiele aus dem Gesamtkonzept: {examples}.")
    return EXIT_OK


def _counts_text(counts: Any, user: str, team: str, data_dir: Path) -> str:
    from kimdesk.models.enums import CaseKind, Phase

    rows: list[tuple[str, object]] = [
        ("Ratsuchende", counts.clients),
        ("Haushalte", counts.households),
        ("Laufende Fälle", counts.cases_open),
        *((f"  {kind.label}", counts.cases_by_kind.get(kind.value, 0)) for kind in CaseKind),
        *((f"    {phase.label}", counts.cases_by_phase.get(phase.value, 0)) for phase in Phase),
        ("Abgeschlossene Fälle", counts.cases_closed),
        ("Offene Fristen und Wiedervorlagen", counts.deadlines_open),
        ("  davon überfällig", counts.deadlines_overdue),
        ("  fällig in den nächsten 14 Tagen", counts.deadlines_next_14_days),
    ]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"Datentresor: {data_dir}", f"Benutzer:in: {user} · {team}", ""]
    lines += [f"{label + ':':<{width}}{value:>7}" for label, value in rows]
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    from kimdesk.casework.overview import counts
    from kimdesk.casework.profile import context_for

    vault = open_vault_for(args)
    try:
        ctx = context_for(vault)
        result = counts(ctx)
    finally:
        vault.close()
    if args.json:
        payload = result.to_json() | {"user": ctx.user, "team": ctx.team}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        team = ctx.reference.team(ctx.team).name
        print(_counts_text(result, ctx.user, team, vault.data_dir))
    return EXIT_OK


def cmd_find(args: argparse.Namespace) -> int:
    from kimdesk.casework.clients import find_clients
    from kimdesk.casework.profile import context_for

    vault = open_vault_for(args)
    try:
        ctx = context_for(vault)
        hits = find_clients(ctx, args.query, limit=args.limit)
    finally:
        vault.close()
    if args.json:
        rows = [{"id": h.id, "name": h.display_name,
                 "birth_date": h.birth_date.isoformat() if h.birth_date else None,
                 "municipality": h.municipality, "nationality": h.nationality} for h in hits]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not hits:
        print("Keine Treffer.")
        return EXIT_OK
    reference = ctx.reference
    for hit in hits:
        born = f"geb. {hit.birth_date:%d.%m.%Y}" if hit.birth_date else ""
        kommune = reference.municipality(hit.municipality).name if hit.municipality else ""
        print(f"{hit.display_name:<40} {born:<16} {kommune:<20} {hit.nationality or ''}")
    print(f"{len(hits)} Treffer" + (" (weitere mit --limit)" if len(hits) == args.limit else ""))
    return EXIT_OK


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr (rich), only when stderr is a terminal; None otherwise."""
    if sys.stderr is None or not sys.stderr.isatty():  # None: a windowed .exe has no console
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield show


def cmd_import(args: argparse.Namespace) -> int:
    from kimdesk.casework.import_files import SuspiciousCharacters
    from kimdesk.casework.importing import import_clients
    from kimdesk.casework.profile import context_for

    if not args.file.is_file():
        raise KimdeskError(f"Die Datei {args.file} wurde nicht gefunden.")
    vault = open_vault_for(args)
    try:
        with _progress_bar("Ratsuchende importieren") as progress:
            result = import_clients(context_for(vault), args.file,
                                    consent_on_file=args.consent_on_file,
                                    import_duplicates=args.import_duplicates,
                                    keep_suspicious_names=args.keep_suspicious_names,
                                    progress=progress)
    except SuspiciousCharacters as exc:
        raise KimdeskError(f"{exc} Bestätigen mit --keep-suspicious-names.") from exc
    finally:
        vault.close()
    print(f"{result.imported} Ratsuchende importiert.")
    if result.skipped_duplicates:
        lines = ", ".join(str(line) for line in result.skipped_duplicates)
        print(f"Übersprungen, weil wahrscheinlich schon erfasst: Zeile {lines}. "
              "Bitte prüfen; mit --import-duplicates werden sie trotzdem importiert.")
    return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir) if args.data_dir else (
        config.demo_data_dir() if args.demo else config.default_data_dir())
    demo_password = None
    if args.demo:  # the demo generator loads only for the demo (start time: issue 17)
        from kimdesk import demo

        demo_password = demo.DEMO_PASSWORD
        if not vault_exists(data_dir):
            print(f"Demo-Datentresor wird angelegt in {data_dir} (Passwort „{demo_password}“) …")
            with _progress_bar("Demo-Daten erzeugen") as progress:
                make_demo_vault(data_dir, demo_password, progress=progress)
    return start_gui(data_dir, demo_password=demo_password)


def start_gui(data_dir: Path, *, demo_password: str | None = None) -> int:
    """The desktop on the vault in ``data_dir`` (what `kimdesk gui` runs)."""
    try:
        from kimdesk.ui.start import run
    except ImportError as exc:
        raise KimdeskError(
            f"Die Oberfläche kann nicht starten (Qt fehlt oder ist unvollständig: {exc})."
        ) from None
    return run(data_dir, demo_password=demo_password)


# --- selftest ---------------------------------------------------------------------------------

_SELFTEST_FIRST = "Zofia"
_SELFTEST_LAST = "Wiśniewska-Selbsttest"


class _SelftestFailed(Exception):
    pass


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise _SelftestFailed(what)


def _files_containing(directory: Path, needles: Sequence[bytes]) -> list[str]:
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(needle in data for needle in needles):
            found.append(path.name)
    return found


def _selftest_steps(work: Path) -> None:
    from kimdesk.casework import audit
    from kimdesk.casework.cases import CaseInput, ContactInput, open_case, record_contact
    from kimdesk.casework.clients import ClientInput, create_client, find_clients
    from kimdesk.casework.consents import ConsentInput
    from kimdesk.casework.overview import counts
    from kimdesk.casework.profile import context_for, create_profile

    data_dir = work / "vault"
    password = "Selbsttest-" + os.urandom(8).hex()
    needles = [_SELFTEST_LAST.encode(), "Wiśniewska".encode(), b"SQLite format 3"]
    # KdfParams.new() with its lowest allowed memory keeps the check fast and honest.
    vault, _recovery_code = create_vault(data_dir, password,
                                         kdf=KdfParams.new(memory_kib=64 * 1024))
    try:
        create_profile(vault, "Selbsttest", "nord")
        ctx = context_for(vault)
        client = create_client(ctx, ClientInput(
            first_name=_SELFTEST_FIRST, last_name=_SELFTEST_LAST, gender="female",
            birth_date=date(1979, 1, 23), nationality="PL", municipality="kleve"),
            consent=ConsentInput())
        case = open_case(ctx, client.id, CaseInput(kind="short_intervention",
                                                   topics=["language"], concern="Selbsttest"))
        record_contact(ctx, case.id, ContactInput(contact_on=ctx.today(), mode="office",
                                                  duration_minutes=10, topics=["language"]))
        hits = find_clients(ctx, "wisniewska selbsttest")
        _check([h.id for h in hits] == [client.id], "Suche findet die Testperson nicht")
        _check(bool(find_clients(ctx, "23.01.1979")), "Suche nach Geburtsdatum ohne Treffer")
        with vault.reading() as session:
            problems = audit.verify(session, ctx.audit_key)
        _check(not problems, "Protokollkette (Audit) ist nicht in Ordnung")
        _check(not vault.check_integrity(), "Integritätsprüfung der Datenbank meldet Fehler")
        leaked = _files_containing(data_dir, needles)
        _check(not leaked, f"Klartext in Datei(en) gefunden: {', '.join(leaked)}")
    finally:
        vault.close()
    leaked = _files_containing(data_dir, needles)
    _check(not leaked, f"Klartext nach dem Schließen in Datei(en): {', '.join(leaked)}")
    vault = open_vault(data_dir, password)
    try:
        ctx = context_for(vault)
        result = counts(ctx)
        _check(result.clients == 1 and result.cases_open == 1,
               "nach dem erneuten Öffnen fehlen Daten")
    finally:
        vault.close()


def _profile_line() -> str:
    """The installation profile in one line; raises KimdeskError for an invalid one."""
    profile = config.install_profile()
    if profile is None:
        return "Installationsprofil: keines (Entwicklungsumgebung)"
    team = load_reference().team(profile.team).name
    ca = (f"CA-Zertifikat {profile.ca_certificate.name}" if profile.ca_certificate
          else "öffentliche Zertifizierungsstellen")
    return (f"Installationsprofil: {team} ({profile.team}), Server {profile.server_url}, {ca}, "
            f"Sperre nach {profile.auto_lock_minutes} min")


def cmd_selftest(args: argparse.Namespace) -> int:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="kimdesk-selftest-"))
    try:
        # An installation with an unreadable profile must not pass (installer smoke test).
        profile_line = _profile_line()
        _selftest_steps(work)
    except _SelftestFailed as exc:
        print(f"Selbsttest fehlgeschlagen: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KimdeskError as exc:
        print(f"Selbsttest fehlgeschlagen: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # the selftest's own synthetic data only, so the text is safe
        print(f"Selbsttest fehlgeschlagen: {type(exc).__name__}: {exc}".splitlines()[0],
              file=sys.stderr)
        return EXIT_ERROR
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(profile_line)
    print(f"Selbsttest bestanden ({time.monotonic() - started:.1f} s)")
    return EXIT_OK


# --- main -------------------------------------------------------------------------------------

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "gui": cmd_gui,
    "init": cmd_init,
    "demo": cmd_demo,
    "info": cmd_info,
    "find": cmd_find,
    "import": cmd_import,
    "selftest": cmd_selftest,
    # `report` and `export` bring their own handler (set by their register()).
    "report": lambda args: args.handler(args),
    "export": lambda args: args.handler(args),
    "serve": lambda args: args.handler(args),
    "server-admin": lambda args: args.handler(args),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    if not (argv if argv is not None else sys.argv[1:]):
        # No command: the desktop, as the start menu opens it, without building the parser of
        # every command first (`kimdesk gui` with its defaults).
        return _run_command(cmd_gui, argparse.Namespace(command="gui", data_dir=None,
                                                        demo=False))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv if argv is not None else sys.argv[1:])])
    # Sub-commands registered by their package (report, export, sync …) bring a handler.
    return _run_command(_COMMANDS.get(args.command) or args.handler, args)


def _run_command(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command's handler; errors become a German line on stderr and exit code 1."""
    try:
        return command(args)
    except KimdeskError as exc:
        print(f"Fehler: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Abgebrochen.", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped early; nothing more to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except OSError as exc:
        # A file system problem (no permission, disk full); paths name no client.
        where = f" {exc.filename}" if exc.filename else ""
        print(f"Fehler: Datei oder Verzeichnis{where} nicht nutzbar "
              f"({exc.strerror or type(exc).__name__}).", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        # The text of an unexpected error may quote client data (SQL parameters): not shown.
        print(f"Fehler: unerwarteter Fehler ({type(exc).__name__}). Details mit "
              f"{DEBUG_ENV}=1.", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
