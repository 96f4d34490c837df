"""Reading and validating client lists (CSV or XLSX) for import; no database access."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from kimdesk.errors import KimdeskError
from kimdesk.reference import Municipality, Nationality, Reference, fold, load_reference

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
# Excel's own sheet limit; beyond it a file is not a client list, however many rows are blank.
MAX_PHYSICAL_LINES = 1_048_576
MAX_NAME_LENGTH = 200
MAX_LISTED_PROBLEMS = 10
MAX_SHOWN_VALUE = 40
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

_FIELDS = ("last_name", "first_name", "birth_date", "nationality", "municipality")
_COLUMN_NAMES = {
    "last_name": "Nachname",
    "first_name": "Vorname",
    "birth_date": "Geburtsdatum",
    "nationality": "Staatsangehörigkeit",
    "municipality": "Kommune",
}
_HEADER_ALIASES = {
    "last_name": ("Nachname", "Name", "Familienname", "Zuname"),
    "first_name": ("Vorname", "Vornamen"),
    "birth_date": ("Geburtsdatum", "Geb.-Datum", "Geb.datum", "Geburtstag", "geboren am"),
    "nationality": ("Staatsangehörigkeit", "Nationalität", "Staatsbürgerschaft"),
    "municipality": ("Kommune", "Wohnort", "Gemeinde", "Stadt", "Ort", "Wohnkommune"),
}
# fold() also maps "oe" to "ö", so "Staatsangehoerigkeit" is covered by the umlaut spelling.
_HEADER_KEYS = {fold(alias): name for name, aliases in _HEADER_ALIASES.items() for alias in aliases}

_TIME_SUFFIX = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
# [0-9], not \d: \d also matches Arabic-Indic and other digits that int() would silently accept.
_DOTTED_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}|[0-9]{2})" + _TIME_SUFFIX)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})" + _TIME_SUFFIX)


@dataclass(frozen=True)
class ImportRow:
    """One valid client row of an import file."""

    line: int  # line number in the file as a user sees it (header = line 1)
    last_name: str
    first_name: str
    birth_date: date | None
    nationality: str | None  # ISO alpha-2 code from the reference data
    municipality: str  # Kommune code from the reference data


class ImportFileError(KimdeskError):
    """The file cannot be imported; ``problems`` lists (line, German message) for every fault."""

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.problems: list[tuple[int, str]] = list(problems or [])

    @classmethod
    def from_problems(cls, problems: list[tuple[int, str]]) -> ImportFileError:
        lines = len({line for line, _ in problems})
        listed = "; ".join(f"Zeile {line}: {text}" for line, text in problems[:MAX_LISTED_PROBLEMS])
        more = len(problems) - MAX_LISTED_PROBLEMS
        suffix = f"; … und {more} weitere Fehler" if more > 0 else ""
        noun = "fehlerhafte Zeile" if lines == 1 else "fehlerhafte Zeilen"
        return cls(f"{lines} {noun}, nichts importiert: {listed}{suffix}", problems)


class SuspiciousCharacters(ImportFileError):
    """Names contain "?" or "\ufffd" where a letter was probably lost in an encoding accident.

    Nothing is imported unless the user confirms that the names really are spelled so."""


# A "?" with a letter on its left and right ("Y?lmaz", "Gül?en") is what a Windows-1252 export
# writes for a letter it cannot encode (ı, ş, ğ, ...); no name is spelled with one. U+FFFD is
# what a decoder writes for bytes it could not read, anywhere in the cell.
_LOST_LETTER = re.compile(r"(?<=\w)\?+(?=\w)|\ufffd")
_NAME_COLUMNS = (("last_name", "Nachname"), ("first_name", "Vorname"))


def suspicious_cells(rows: list[ImportRow]) -> list[tuple[int, str]]:
    """(line, German message) for every name cell that looks like an encoding accident.

    The message names the row and the column, never the name (messages end up in logs)."""
    found: list[tuple[int, str]] = []
    for row in rows:
        for attribute, column in _NAME_COLUMNS:
            if _LOST_LETTER.search(getattr(row, attribute)):
                found.append((row.line, f"Spalte {column}: „?“ oder „\ufffd“ statt eines "
                                        "Buchstabens"))
    return found


def refuse_suspicious(found: list[tuple[int, str]]) -> SuspiciousCharacters:
    lines = len({line for line, _ in found})
    listed = "; ".join(f"Zeile {line}, {text}" for line, text in found[:MAX_LISTED_PROBLEMS])
    more = len(found) - MAX_LISTED_PROBLEMS
    suffix = f"; … und {more} weitere" if more > 0 else ""
    noun = "Zeile enthält" if lines == 1 else "Zeilen enthalten"
    return SuspiciousCharacters(
        f"Nichts importiert: {lines} {noun} Namen mit Fragezeichen oder "
        f"Ersatzzeichen mitten im Wort ({listed}{suffix}). Vermutlich sind beim Speichern der "
        "Liste Buchstaben wie ı, ş oder ğ verloren gegangen. Bitte die Liste in Excel als "
        "„CSV UTF-8“ oder als .xlsx speichern und erneut importieren – oder bestätigen, dass "
        "die Namen wirklich so geschrieben werden.",
        found,
    )


def read_client_rows(path: Path, reference: Reference | None = None) -> list[ImportRow]:
    """All client rows of a CSV or XLSX file, or ImportFileError listing every problem."""
    reference = reference or load_reference()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        shown = _show(suffix) if suffix else "ohne Endung"
        raise ImportFileError(
            f"Dateityp „{shown}“ wird nicht unterstützt. Bitte die Liste als Excel-Datei (.xlsx) "
            "oder als CSV-Datei (.csv) speichern."
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFileError("Die Datei konnte nicht geöffnet werden.") from exc
    if size > MAX_FILE_BYTES:
        raise ImportFileError(
            "Die Datei ist größer als 20 MB. Bitte die Liste in mehrere Dateien aufteilen."
        )
    lines = _csv_lines(path) if suffix == ".csv" else _xlsx_lines(path)
    with contextlib.closing(lines), warnings.catch_warnings():
        # openpyxl warns about styles and extensions it skips; they do not affect cell values.
        warnings.simplefilter("ignore")
        return _parse(lines, reference)


# --- reading ----------------------------------------------------------------------------------


def _csv_lines(path: Path) -> Generator[tuple[int, list[Any]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError("Die Datei konnte nicht gelesen werden.") from exc
    text = _decode(raw)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # Excel writes ";" in German locales, "," elsewhere, tab for "Unicode-Text"; the header
    # line tells which, since column names contain none of them.
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for record in reader:
            yield line, record
            # A quoted cell may span lines; the next record starts after the ones consumed.
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(
            f"Die CSV-Datei ist ab Zeile {line} beschädigt oder keine Textdatei."
        ) from exc


def _decode(raw: bytes) -> str:
    # Excel's "Unicode-Text" export is UTF-16 with a byte order mark.
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8-sig", "cp1252"):  # cp1252: "CSV (Trennzeichen-getrennt)"
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ImportFileError(
        "Die Zeichenkodierung der CSV-Datei ist unbekannt. Bitte in Excel als "
        "„CSV UTF-8 (durch Trennzeichen getrennt)“ speichern."
    )


def _xlsx_lines(path: Path) -> Generator[tuple[int, list[Any]]]:
    import openpyxl  # imported here: CSV imports should not pay for loading openpyxl

    unreadable = (
        "Die Excel-Datei konnte nicht gelesen werden (beschädigt, verschlüsselt oder kein "
        "XLSX-Format). Bitte in Excel öffnen und erneut als .xlsx speichern."
    )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged file
        raise ImportFileError(unreadable) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError("Die Excel-Datei enthält kein Tabellenblatt.")
        sheet = workbook.worksheets[0]
        # The stored sheet size may be wrong or huge; read the cells that are really there.
        sheet.reset_dimensions()
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, list(values)
    except ImportFileError:
        raise
    except Exception as exc:  # damaged XML inside the archive surfaces only while iterating
        raise ImportFileError(unreadable) from exc
    finally:
        workbook.close()


# --- validation -------------------------------------------------------------------------------


def _parse(lines: Iterator[tuple[int, list[Any]]], reference: Reference) -> list[ImportRow]:
    columns: dict[str, int] | None = None
    rows: list[ImportRow] = []
    problems: list[tuple[int, str]] = []
    count = 0
    today = date.today()
    lookups = _Lookups(reference)
    for line, cells in lines:
        if line > MAX_PHYSICAL_LINES:
            raise _too_many_rows()
        if columns is None:
            if any(_text(cell) for cell in cells):
                columns = _map_header(line, cells)
            continue
        values = {name: cells[index] if index < len(cells) else None
                  for name, index in columns.items()}
        if not any(_text(value) for value in values.values()):
            continue
        count += 1
        if count > MAX_ROWS:
            raise _too_many_rows()
        row_problems: list[str] = []
        row = _validate(line, values, lookups, today, row_problems)
        if row_problems:
            problems.extend((line, text) for text in row_problems)
        elif row is not None:
            rows.append(row)
    if columns is None:
        raise ImportFileError("Die Datei ist leer.")
    if problems:
        raise ImportFileError.from_problems(problems)
    return rows


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        f"Die Datei hat mehr als {MAX_ROWS:,} Zeilen".replace(",", ".")
        + ". Bitte die Liste in mehrere Dateien aufteilen."
    )


def _map_header(line: int, cells: list[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, cell in enumerate(cells):
        header = _text(cell)
        name = _HEADER_KEYS.get(fold(header))
        if name is None:
            continue  # extra columns (Telefon, Notizen, …) are ignored
        if name in columns:
            raise ImportFileError(
                f"Die Spalten „{_show(headers[name])}“ und „{_show(header)}“ bedeuten beide "
                f"{_COLUMN_NAMES[name]}. Bitte eine davon umbenennen oder löschen.",
                [(line, f"Spalte {_COLUMN_NAMES[name]} doppelt")],
            )
        columns[name] = index
        headers[name] = header
    missing = [_COLUMN_NAMES[name] for name in _FIELDS if name not in columns]
    if missing:
        what = "Spalte" if len(missing) == 1 else "Spalten"
        listed = ", ".join(f"„{name}“" for name in missing)
        expected = ", ".join(_COLUMN_NAMES[name] for name in _FIELDS)
        raise ImportFileError(
            f"{what} {listed} fehlt in der Kopfzeile (Zeile {line}). Erwartet werden die "
            f"Spalten {expected}; Geburtsdatum und Staatsangehörigkeit dürfen leer bleiben.",
            [(line, f"{what} {listed} fehlt")],
        )
    return columns


class _Lookups:
    """The reference lookups of one file, each distinct cell text folded and looked up once
    (a list of 10,000 rows names a few dozen nationalities and the 16 Kommunen)."""

    def __init__(self, reference: Reference) -> None:
        self._reference = reference
        self._nationalities: dict[str, Nationality | None] = {}
        self._municipalities: dict[str, Municipality | None] = {}

    def nationality(self, text: str) -> Nationality | None:
        if text not in self._nationalities:
            self._nationalities[text] = self._reference.find_nationality(text)
        return self._nationalities[text]

    def municipality(self, text: str) -> Municipality | None:
        if text not in self._municipalities:
            self._municipalities[text] = self._reference.find_municipality(text)
        return self._municipalities[text]


def _validate(
    line: int, values: dict[str, Any], lookups: _Lookups, today: date, problems: list[str]
) -> ImportRow | None:
    last_name = _name(values["last_name"], "Nachname", problems)
    first_name = _name(values["first_name"], "Vorname", problems)
    birth_date = _birth_date(values["birth_date"], today, problems)

    nationality_code: str | None = None
    nationality_text = _text(values["nationality"])
    if nationality_text:
        nationality = lookups.nationality(nationality_text)
        if nationality is None:
            problems.append(f"Staatsangehörigkeit „{_show(nationality_text)}“ ist unbekannt")
        else:
            nationality_code = nationality.code

    municipality_code = ""
    municipality_text = _text(values["municipality"])
    if not municipality_text:
        problems.append("Kommune fehlt")
    else:
        municipality = lookups.municipality(municipality_text)
        if municipality is None:
            problems.append(
                f"Kommune „{_show(municipality_text)}“ ist keine Kommune des Kreises Kleve"
            )
        else:
            municipality_code = municipality.code

    if problems:
        return None
    return ImportRow(
        line=line,
        last_name=last_name,
        first_name=first_name,
        birth_date=birth_date,
        nationality=nationality_code,
        municipality=municipality_code,
    )


def _name(value: Any, column: str, problems: list[str]) -> str:
    # The name itself never goes into a message: messages end up in logs.
    text = _text(value)
    if not text:
        problems.append(f"{column} fehlt")
    elif len(text) > MAX_NAME_LENGTH:
        problems.append(f"{column} ist länger als {MAX_NAME_LENGTH} Zeichen")
    elif any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        problems.append(f"{column} enthält einen Zeilenumbruch oder ein Steuerzeichen")
    return text


def _birth_date(value: Any, today: date, problems: list[str]) -> date | None:
    parsed: date
    if isinstance(value, datetime):
        parsed = value.date()
        shown = value.strftime("%d.%m.%Y")
    elif isinstance(value, date):
        parsed, shown = value, value.strftime("%d.%m.%Y")
    else:
        shown = _text(value)
        if not shown:
            return None
        if isinstance(value, (int, float, time)):  # a bare Excel serial number: guessing is worse
            problems.append(f"Geburtsdatum „{_show(shown)}“ ist kein Datum (erwartet TT.MM.JJJJ)")
            return None
        found = _parse_date(shown, today)
        if found is None:
            if _DOTTED_DATE.fullmatch(shown) or _ISO_DATE.fullmatch(shown):
                problems.append(f"Geburtsdatum „{_show(shown)}“ ist kein gültiges Datum")
            else:
                problems.append(
                    f"Geburtsdatum „{_show(shown)}“ ist kein Datum (erwartet TT.MM.JJJJ)"
                )
            return None
        parsed = found
    if parsed > today:
        problems.append(f"Geburtsdatum „{_show(shown)}“ liegt in der Zukunft")
        return None
    if parsed < EARLIEST_BIRTH_DATE:
        problems.append(f"Geburtsdatum „{_show(shown)}“ liegt vor 1900")
        return None
    return parsed


def _parse_date(text: str, today: date) -> date | None:
    """The date in dd.mm.yyyy, d.m.yyyy, dd.mm.yy or yyyy-mm-dd; None if not a calendar date."""
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(group) for group in match.groups())
        return _date_or_none(year, month, day)
    if match := _DOTTED_DATE.fullmatch(text):
        day, month = int(match[1]), int(match[2])
        if len(match[3]) == 4:
            return _date_or_none(int(match[3]), month, day)
        # Two-digit year: the later century, unless that puts the birth in the future.
        year = 2000 + int(match[3])
        parsed = _date_or_none(year, month, day)
        if parsed is not None and parsed > today:
            parsed = _date_or_none(year - 100, month, day)
        return parsed
    return None


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _text(value: Any) -> str:
    """A cell as stripped text; whole numbers without ".0" (Excel stores 47533 as 47533.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value).strip()


def _show(value: str) -> str:
    """An offending value fit for a one-line message: control characters out, long text cut."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in value)
    if len(cleaned) > MAX_SHOWN_VALUE:
        return cleaned[: MAX_SHOWN_VALUE - 1] + "…"
    return cleaned
