"""Tests for reading client lists (CSV/XLSX) before import."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kimdesk.casework.import_files import (
    MAX_ROWS,
    ImportFileError,
    ImportRow,
    read_client_rows,
)
from kimdesk.reference import load_reference

REF = load_reference()
HEADER = ["Nachname", "Vorname", "Geburtsdatum", "Staatsangehörigkeit", "Kommune"]


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ";",
              encoding: str = "utf-8") -> Path:
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_semicolon_utf8_csv_keeps_names_as_typed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "liste.csv", [
        HEADER,
        ["Kowalski", "Łukasz", "03.04.1985", "polnisch", "Kleve"],
        ["  Popescu ", "Ștefan", "7.1.1990", "RO", "Emmerich"],
        ["Ağaoğlu", "Ayşe", "", "Türkei", "47608 Geldern"],
        ["Haddad", "Rania", "1999-12-31", "", "bedburg-hau"],
    ])
    assert read_client_rows(path, REF) == [
        ImportRow(2, "Kowalski", "Łukasz", date(1985, 4, 3), "PL", "kleve"),
        ImportRow(3, "Popescu", "Ștefan", date(1990, 1, 7), "RO", "emmerich"),
        ImportRow(4, "Ağaoğlu", "Ayşe", None, "TR", "geldern"),
        ImportRow(5, "Haddad", "Rania", date(1999, 12, 31), None, "bedburg-hau"),
    ]


def test_utf8_bom_comma_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "liste.csv", [
        HEADER, ["Nowak", "Zofia", "01.02.2001", "Polen", "Goch"],
    ], delimiter=",", encoding="utf-8-sig")
    rows = read_client_rows(path, REF)
    assert [(r.last_name, r.nationality, r.municipality) for r in rows] == [
        ("Nowak", "PL", "goch")
    ]


def test_cp1252_csv_from_excel_on_windows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "liste.csv", [
        HEADER, ["Müller", "Jürgen", "24.12.1960", "deutsch", "Straelen"],
    ], encoding="cp1252")
    rows = read_client_rows(path, REF)
    assert [(r.last_name, r.first_name, r.nationality) for r in rows] == [
        ("Müller", "Jürgen", "DE")
    ]


def test_tab_separated_utf16_from_excel_unicode_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "liste.csv", [
        HEADER, ["Müller", "Jürgen", "24.12.1960", "", "Kalkar"],
    ], delimiter="\t", encoding="utf-16")
    assert [r.municipality for r in read_client_rows(path, REF)] == ["kalkar"]


def test_header_variants_and_extra_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "liste.csv", [
        ["Telefon", " name ", "VORNAME", "Geb.-Datum", "Staatsangehoerigkeit", "Wohnort"],
        ["0123", "Ahmadi", "Farid", "15.06.1995", "afghanisch", "Kevelaer"],
    ])
    assert read_client_rows(path, REF) == [
        ImportRow(2, "Ahmadi", "Farid", date(1995, 6, 15), "AF", "kevelaer")
    ]
    path = write_csv(tmp_path / "liste2.csv", [
        ["Nachname", "Vorname", "Geburtstag", "Staatsangehörigkeit", "Gemeinde"],
        ["Ahmadi", "Farid", "15.06.1995", "AF", "Wachtendonk"],
    ])
    assert read_client_rows(path, REF)[0].municipality == "wachtendonk"


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path: Path) -> None:
    path = tmp_path / "liste.csv"
    path.write_text(
        "Nachname;Vorname;Geburtsdatum;Staatsangehörigkeit;Kommune;Notiz\n"
        "\n"
        "Kowalski;Jan;;;Kleve;\"zwei\nZeilen\"\n"
        ";;;;\n"
        "Nowak;Anna;;;Rees;\n",
        encoding="utf-8",
    )
    assert [(r.line, r.last_name) for r in read_client_rows(path, REF)] == [
        (3, "Kowalski"), (6, "Nowak")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03.04.1985", date(1985, 4, 3)),
        ("3.4.1985", date(1985, 4, 3)),
        ("03.04.85", date(1985, 4, 3)),
        ("05.05.05", date(2005, 5, 5)),
        ("01.01.99", date(1999, 1, 1)),
        ("1985-04-03", date(1985, 4, 3)),
        ("1985-04-03 00:00:00", date(1985, 4, 3)),
        ("29.02.2000", date(2000, 2, 29)),
    ],
)
def test_date_formats(tmp_path: Path, text: str, expected: date) -> None:
    path = write_csv(tmp_path / "liste.csv", [HEADER, ["A", "B", text, "", "Kleve"]])
    assert read_client_rows(path, REF)[0].birth_date == expected


def test_two_digit_year_of_this_year_stays_in_this_century(tmp_path: Path) -> None:
    today = date.today()
    earlier = date(today.year, 1, 1)
    text = earlier.strftime("%d.%m.%y")
    path = write_csv(tmp_path / "liste.csv", [HEADER, ["A", "B", text, "", "Kleve"]])
    assert read_client_rows(path, REF)[0].birth_date == earlier


def test_xlsx_with_real_dates_and_strings(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "liste.xlsx", [
        ["Name", "Vorname", "Geburtsdatum", "Staatsangehörigkeit", "Kommune"],
        ["Kowalski", "Łukasz", date(1985, 4, 3), "Polish", "Kleve"],
        ["Popescu", "Ștefan", datetime(1990, 1, 7, 0, 0), "rumänische", "Emmerich am Rhein"],
        [None, None, None, None, None],
        ["Ağaoğlu", "Ayşe", "24.12.1960", None, 47533],  # postcode alone is no Kommune
        ["Haddad", "Rania", "1999-12-31", "Syria", "Uedem"],
    ])
    with pytest.raises(ImportFileError) as caught:
        read_client_rows(path, REF)
    assert caught.value.problems == [(5, "Kommune „47533“ ist keine Kommune des Kreises Kleve")]

    path = write_xlsx(tmp_path / "liste2.xlsx", [
        ["Name", "Vorname", "Geburtsdatum", "Staatsangehörigkeit", "Kommune"],
        ["Kowalski", "Łukasz", date(1985, 4, 3), "Polish", "Kleve"],
        ["Popescu", "Ștefan", datetime(1990, 1, 7, 0, 0), "rumänische", "Emmerich am Rhein"],
        [None, None, None, None, None],
        ["Haddad", "Rania", "1999-12-31", "Syria", "Uedem"],
    ])
    assert read_client_rows(path, REF) == [
        ImportRow(2, "Kowalski", "Łukasz", date(1985, 4, 3), "PL", "kleve"),
        ImportRow(3, "Popescu", "Ștefan", date(1990, 1, 7), "RO", "emmerich"),
        ImportRow(5, "Haddad", "Rania", date(1999, 12, 31), "SY", "uedem"),
    ]


def test_bad_rows_are_all_reported_at_once(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "liste.csv", [
        HEADER,
        ["Kowalski", "Jan", "03.04.1985", "PL", "Kleve"],
        ["Schmidt", "Eva", "31.02.1990", "PL", "Kleve"],
        ["", "Ali", "01.01.2000", "Atlantis", "Berlin"],
        ["Nowak", "Anna", "01.01.2999", "PL", "Goch"],
        ["Alt", "Otto", "31.12.1899", "", "Goch"],
        ["Weiß", "Lea", "morgen", "", ""],
    ])
    with pytest.raises(ImportFileError) as caught:
        read_client_rows(path, REF)
    error = caught.value
    assert error.problems == [
        (3, "Geburtsdatum „31.02.1990“ ist kein gültiges Datum"),
        (4, "Nachname fehlt"),
        (4, "Staatsangehörigkeit „Atlantis“ ist unbekannt"),
        (4, "Kommune „Berlin“ ist keine Kommune des Kreises Kleve"),
        (5, "Geburtsdatum „01.01.2999“ liegt in der Zukunft"),
        (6, "Geburtsdatum „31.12.1899“ liegt vor 1900"),
        (7, "Geburtsdatum „morgen“ ist kein Datum (erwartet TT.MM.JJJJ)"),
        (7, "Kommune fehlt"),
    ]
    assert error.message.startswith(
        "5 fehlerhafte Zeilen, nichts importiert: "
        "Zeile 3: Geburtsdatum „31.02.1990“ ist kein gültiges Datum; Zeile 4: Nachname fehlt;"
    )
    for name in ("Kowalski", "Schmidt", "Eva", "Ali", "Nowak", "Otto", "Weiß"):
        assert name not in error.message


def test_long_error_lists_are_cut_in_the_message(tmp_path: Path) -> None:
    rows = [HEADER] + [["A", "B", "", "", "Nirgendwo"] for _ in range(25)]
    with pytest.raises(ImportFileError) as caught:
        read_client_rows(write_csv(tmp_path / "liste.csv", rows), REF)
    assert len(caught.value.problems) == 25
    assert caught.value.message.startswith("25 fehlerhafte Zeilen")
    assert caught.value.message.endswith("… und 15 weitere Fehler")


def test_names_with_line_breaks_are_rejected_without_echoing_them(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "liste.xlsx", [HEADER, ["Geheim\nName", "B", None, None, "Rees"]])
    with pytest.raises(ImportFileError) as caught:
        read_client_rows(path, REF)
    assert caught.value.problems == [
        (2, "Nachname enthält einen Zeilenumbruch oder ein Steuerzeichen")
    ]
    assert "Geheim" not in caught.value.message


@pytest.mark.parametrize("name", ["liste.xls", "liste.txt", "liste.ods", "liste"])
def test_wrong_extension(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(";".join(HEADER), encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"\.xlsx.*\.csv"):
        read_client_rows(path, REF)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "liste.csv", [HEADER[:4], ["A", "B", "", ""]])
    with pytest.raises(ImportFileError, match="Spalte „Kommune“ fehlt") as caught:
        read_client_rows(path, REF)
    assert caught.value.problems == [(1, "Spalte „Kommune“ fehlt")]
    path = write_xlsx(tmp_path / "liste.xlsx", [["Vorname", "Kommune"], ["B", "Kleve"]])
    with pytest.raises(ImportFileError, match="„Nachname“, „Geburtsdatum“, „Staatsangehörigkeit“"):
        read_client_rows(path, REF)


def test_ambiguous_columns_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "liste.csv", [["Name", *HEADER], ["X", "A", "B", "", "", "Kleve"]])
    with pytest.raises(ImportFileError, match="„Name“ und „Nachname“"):
        read_client_rows(path, REF)


def test_header_only_gives_no_rows_and_empty_file_is_refused(tmp_path: Path) -> None:
    assert read_client_rows(write_csv(tmp_path / "kopf.csv", [HEADER]), REF) == []
    empty = tmp_path / "leer.csv"
    empty.write_bytes(b"")
    with pytest.raises(ImportFileError, match="leer"):
        read_client_rows(empty, REF)


def test_unreadable_files(tmp_path: Path) -> None:
    broken = tmp_path / "kaputt.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.raises(ImportFileError, match="Excel-Datei konnte nicht gelesen werden"):
        read_client_rows(broken, REF)
    with pytest.raises(ImportFileError, match="nicht geöffnet"):
        read_client_rows(tmp_path / "fehlt.csv", REF)
    undecodable = tmp_path / "binär.csv"
    undecodable.write_bytes(b"Nachname;Vorname\x81\x8d\x8f\x90\x9d")
    with pytest.raises(ImportFileError, match="Zeichenkodierung"):
        read_client_rows(undecodable, REF)


def test_files_over_20_mb_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gross.csv", [HEADER])
    with path.open("r+b") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)
    with pytest.raises(ImportFileError, match="größer als 20 MB"):
        read_client_rows(path, REF)


def test_more_than_100000_rows_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "viele.csv"
    path.write_text(";".join(HEADER) + "\n" + "A;B;;;Kleve\n" * (MAX_ROWS + 1), encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"mehr als 100\.000 Zeilen"):
        read_client_rows(path, REF)


cells = st.lists(st.text(max_size=30), min_size=0, max_size=7)


def _quoted(row: list[str]) -> str:
    return ";".join('"' + cell.replace('"', '""') + '"' for cell in row)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.one_of(st.just(HEADER), cells), rows=st.lists(cells, max_size=5))
def test_arbitrary_csv_cells_raise_only_import_file_error(
    header: list[str], rows: list[list[str]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "liste.csv"
        path.write_text("\n".join(_quoted(row) for row in [header, *rows]), encoding="utf-8")
        try:
            result = read_client_rows(path, REF)
        except ImportFileError as error:
            assert error.message
        else:
            assert all(isinstance(row, ImportRow) for row in result)


@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=300))
def test_arbitrary_csv_bytes_raise_only_import_file_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "liste.csv"
        path.write_bytes(";".join(HEADER).encode() + b"\n" + content)
        try:
            read_client_rows(path, REF)
        except ImportFileError as error:
            assert error.message


xlsx_cell = st.one_of(
    st.none(),
    st.text(max_size=30).map(lambda text: ILLEGAL_CHARACTERS_RE.sub("", text)),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 1, 1)),
    st.booleans(),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(xlsx_cell, max_size=6), max_size=5))
def test_arbitrary_xlsx_cells_raise_only_import_file_error(rows: list[list[object]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = write_xlsx(Path(directory) / "liste.xlsx", [list(HEADER), *rows])
        try:
            result = read_client_rows(path, REF)
        except ImportFileError as error:
            assert error.message
        else:
            assert all(isinstance(row, ImportRow) for row in result)
