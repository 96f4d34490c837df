"""Statistics as CSV (German Excel: UTF-8 with BOM, ";" and decimal comma) and XLSX.

Both hold the same long table, one line per cell of every figure (and per value of the
Zielsystem), with codes beside the German labels so that a codebook (e.g. the state's
Fachdatenerhebung) can be mapped onto it; the XLSX adds one readable sheet per figure. Counts
are exported as published by the cell key method (``cellkey``), never as true counts. The
columns are documented in docs/statistics-columns.md. Both functions return bytes: writing
them is the caller's business.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from kimdesk import APP_NAME, ORGANIZATION
from kimdesk.stats.cellkey import MAX_NOISE, SMALL
from kimdesk.stats.figures import COUNT, Cell, Figure, Statistics
from kimdesk.stats.zielsystem import HIDDEN, Measurement, Zielsystem

COLUMNS = (
    "zeitraum_von",
    "zeitraum_bis",
    "gebiet_art",
    "gebiet_code",
    "gebiet",
    "tabelle",
    "tabelle_titel",
    "zeile",
    "zeile_bezeichnung",
    "spalte",
    "spalte_bezeichnung",
    "einheit",
    "wert",
)
ZIELSYSTEM_TABLE = "zielsystem"
LEGEND = (
    "Anzahlen sind nach dem Cell-Key-Verfahren geschützt (wie im Zensus 2022): jede Anzahl "
    f"ist um höchstens {MAX_NOISE} verändert; 1 bis {SMALL} werden nie ausgewiesen. Dieselben "
    "Fälle ergeben immer dieselbe Zahl; Summen sind eigene, ebenso veränderte Werte und "
    "können von der Summe der Teile abweichen.",
    "0: keine oder nur sehr wenige Fälle.",
    f"„{HIDDEN}“: Anteil nicht ausgewiesen (beruht auf weniger als 5 Fällen).",
    "Stunden sind auf 5 Stunden gerundet.",
)
PROTECTION_TEXT = (
    "Damit keine Person erkennbar wird, sind alle Anzahlen nach dem Cell-Key-Verfahren "
    "geschützt, das auch das Statistische Bundesamt für den Zensus 2022 verwendet: Zu jeder "
    f"Anzahl wird eine kleine Abweichung von höchstens {MAX_NOISE} addiert, die im Mittel null "
    f"ist. Werte von 1 bis {SMALL} erscheinen nie. Die Abweichung hängt nur davon ab, welche "
    "Fälle gezählt werden: dieselben Fälle ergeben in jeder Tabelle, in jedem Bericht und auf "
    "dem Kreisserver dieselbe Zahl. Deshalb lässt sich weder durch Rückrechnen aus Summen noch "
    "durch den Vergleich zweier Auswertungen überlappender Zeiträume oder Gebiete eine kleine "
    "Zahl genau ermitteln. Summen sind eigene, ebenso geschützte Werte und können daher um "
    "einige Fälle von der Summe ihrer Teile abweichen."
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class _Line:
    table: str
    table_title: str
    row: str
    row_label: str
    column: str
    column_label: str
    unit: str
    value: Cell


def _lines(stats: Statistics, zielsystem: tuple[Zielsystem, Sequence[Measurement]] | None
           ) -> Iterator[_Line]:
    for figure in stats.figures:
        for row, column, value in figure.iter_cells():
            yield _Line(figure.code, figure.title, row.code, row.label, column.code,
                        column.label, figure.measure(row, column), value)
    if zielsystem is None:
        return
    system, measurements = zielsystem
    title = f"{system.title} ({system.period.label})"
    for m in measurements:
        label = f"{m.objective.title}: {m.indicator.label}"
        unit = m.indicator.unit
        for code, column_label, value in (
            ("target", "Zielwert", m.indicator.target),
            ("expected_to_date", "Soll bis Ende des Zeitraums (anteilig)", m.expected_to_date),
            ("measured", "Messwert", m.value),
        ):
            yield _Line(ZIELSYSTEM_TABLE, title, m.indicator.code, label, code, column_label,
                        unit, value)


def _head(stats: Statistics) -> list[str]:
    scope = stats.scope
    return [stats.period.start, stats.period.end, scope.kind.value, scope.code,
            stats.scope_label]


def _safe_text(text: str) -> str:
    """Text that a spreadsheet will not run as a formula (labels come from editable files)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return str(int(value))


def to_csv(stats: Statistics,
           zielsystem: tuple[Zielsystem, Sequence[Measurement]] | None = None) -> bytes:
    """The long table as CSV for German Excel (UTF-8 with BOM, ";", decimal comma)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    head = [_safe_text(text) for text in _head(stats)]
    for line in _lines(stats, zielsystem):
        writer.writerow([*head, line.table, _safe_text(line.table_title), line.row,
                         _safe_text(line.row_label), line.column, _safe_text(line.column_label),
                         line.unit, _csv_value(line.value)])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _xlsx_value(value: Cell) -> str | int | float | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sheet_title(figure: Figure, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", figure.title)[:28].strip()
    title, number = base, 2
    while title.casefold() in used:
        title = f"{base[:26]} {number}"
        number += 1
    used.add(title.casefold())
    return title


def to_xlsx(stats: Statistics,
            zielsystem: tuple[Zielsystem, Sequence[Measurement]] | None = None) -> bytes:
    """A workbook: "Info" (period, area, legend, notes), "Daten" (the long table as in the
    CSV), one sheet per figure as it is printed, and the Zielsystem."""
    workbook = Workbook()
    workbook.properties.creator = APP_NAME
    workbook.properties.title = f"Statistik {stats.period.label}"
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDDDDD")

    info = workbook.active
    assert info is not None
    info.title = "Info"
    rows: list[list[str]] = [
        [ORGANIZATION],
        ["Statistik für das Programmcontrolling"],
        [],
        ["Zeitraum", stats.period.label],
        ["Gebiet", stats.scope_label],
        ["Stand", f"{stats.created_on:%d.%m.%Y}"],
        [],
        ["Zeichenerklärung"],
        *[["", text] for text in LEGEND],
    ]
    notes = list(stats.notes)
    if notes:
        rows += [[], ["Hinweise"], *[["", note] for note in notes]]
    rows += [[], ["Spalten der Tabelle „Daten“: siehe docs/statistics-columns.md"]]
    for line in rows:
        info.append(line)
    info["A1"].font = Font(bold=True, size=13)
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 110

    data = workbook.create_sheet("Daten")
    data.append(list(COLUMNS))
    for cell in data[1]:
        cell.font = bold
        cell.fill = header_fill
    head = _head(stats)
    for line in _lines(stats, zielsystem):
        data.append([*head, line.table, line.table_title, line.row, line.row_label,
                     line.column, line.column_label, line.unit, _xlsx_value(line.value)])
    data.freeze_panes = "A2"
    for index, width in enumerate((11, 11, 13, 12, 26, 24, 40, 22, 40, 16, 36, 9, 8), start=1):
        data.column_dimensions[get_column_letter(index)].width = width

    used = {"info", "daten", "zielsystem"}
    for figure in stats.figures:
        sheet = workbook.create_sheet(_sheet_title(figure, used))
        sheet.append([figure.title])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append([f"{stats.period.label} · {stats.scope_label}"])
        sheet.append([])
        sheet.append([figure.row_heading, *[c.label for c in figure.columns]])
        for cell in sheet[4]:
            cell.font = bold
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row, values in zip(figure.rows, figure.cells, strict=True):
            sheet.append([row.label, *[_xlsx_value(v) for v in values]])
            if row.total:
                for cell in sheet[sheet.max_row]:
                    cell.font = bold
        for column_index, column in enumerate(figure.columns, start=2):
            for (cell,) in sheet.iter_rows(min_row=5, min_col=column_index,
                                           max_col=column_index):
                cell.alignment = Alignment(horizontal="right")
                if column.measure != COUNT and isinstance(cell.value, float):
                    cell.number_format = "0.0"
        for note in figure.notes:
            sheet.append([])
            sheet.append([note])
        sheet.column_dimensions["A"].width = 44
        for index in range(2, len(figure.columns) + 2):
            sheet.column_dimensions[get_column_letter(index)].width = 14
        sheet.freeze_panes = "B5"

    if zielsystem is not None:
        system, measurements = zielsystem
        sheet = workbook.create_sheet("Zielsystem")
        sheet.append([system.title])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append([f"Zeitraum des Zielsystems: {system.period.label}"])
        sheet.append([])
        sheet.append(["Ziel", "Indikator", "Einheit", "Zielwert", "Soll anteilig", "Messwert",
                      "Stand"])
        for cell in sheet[4]:
            cell.font = bold
            cell.fill = header_fill
        for m in measurements:
            sheet.append([m.objective.title, m.indicator.label, m.indicator.unit,
                          _xlsx_value(m.indicator.target), _xlsx_value(m.expected_to_date),
                          _xlsx_value(m.value), m.status])
        for column, width in zip("ABCDEFG", (50, 60, 10, 10, 12, 10, 24), strict=True):
            sheet.column_dimensions[column].width = width

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
