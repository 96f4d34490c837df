"""Tests for the CSV and XLSX exports: German Excel format, markers, and a round trip."""

from __future__ import annotations

import csv
import io
import tempfile

import openpyxl
import pytest

from kimdesk.casework.context import Context
from kimdesk.reference import load_reference
from kimdesk.stats import exports
from kimdesk.stats.figures import Statistics, statistics
from kimdesk.stats.scope import Period
from kimdesk.stats.zielsystem import measure, zielsystem_for
from tests.stats.stats_builders import CaseSpec, populate

REF = load_reference()
PERIOD = Period("2026-01", "2026-06")


@pytest.fixture
def stats(ctx: Context) -> Statistics:
    populate(ctx.vault, REF, [
        *[CaseSpec(kind="process_support", opened=13,
                   contacts=[(13, "office", 45, False)] * 2 + [(14, "phone", 15, True)])
          for _ in range(9)],
        *[CaseSpec(kind="case_management", opened=12, phase="planning") for _ in range(3)],
    ])
    return statistics(ctx, PERIOD)


def test_csv_is_for_german_excel(stats: Statistics) -> None:
    content = exports.to_csv(stats)
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    text = content.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == ";".join(exports.COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    by_key = {(r["tabelle"], r["zeile"], r["spalte"]): r for r in rows}
    hours = by_key[("contacts_by_kind", "office", "hours")]
    assert hours["wert"] == "15"  # 18 × 45 minutes = 13.5 hours, rounded to 5
    assert hours["einheit"] == "hours"
    vza = by_key[("caseload_teams", "nord", "vza")]
    assert vza["wert"] == "2,5"  # with a decimal comma
    # Counts as published: the 3 CM cases never as 1–4, and alike where they recur.
    cm = by_key[("cases_by_kind", "case_management", "active")]["wert"]
    assert cm == "0" or int(cm) >= 5
    assert by_key[("cm_by_phase", "total", "highest")]["wert"] == cm
    assert abs(int(by_key[("cases_by_kind", "total", "active")]["wert"]) - 12) <= 4
    first = rows[0]
    assert (first["zeitraum_von"], first["zeitraum_bis"], first["gebiet_art"]) == (
        "2026-01", "2026-06", "county")
    assert first["tabelle_titel"] == "Überblick"


def test_xlsx_round_trip(stats: Statistics) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(stats)))
    assert workbook.sheetnames[:2] == ["Info", "Daten"]
    data = workbook["Daten"]
    header = [cell.value for cell in data[1]]
    assert header == list(exports.COLUMNS)
    values = {}
    for row in data.iter_rows(min_row=2, values_only=True):
        record = dict(zip(header, row, strict=True))
        values[(record["tabelle"], record["zeile"], record["spalte"])] = record["wert"]
    for figure in stats.figures:
        for row, column, value in figure.iter_cells():
            read = values[(figure.code, row.code, column.code)]
            expected = int(value) if isinstance(value, float) and value.is_integer() else value
            assert read == expected, (figure.code, row.code, column.code)
    # One readable sheet per figure, with its title on top.
    titles = {workbook[name]["A1"].value for name in workbook.sheetnames[2:]}
    assert {f.title for f in stats.figures} <= titles
    info = " ".join(str(c) for row in workbook["Info"].iter_rows(values_only=True)
                    for c in row if c)
    assert "Cell-Key-Verfahren" in info and "Januar 2026 bis Juni 2026" in info


def test_zielsystem_is_exported(ctx: Context, stats: Statistics) -> None:
    system = zielsystem_for(REF, PERIOD.end)
    assert system is not None
    measured = measure(ctx, system, PERIOD.end, stats)
    text = exports.to_csv(stats, (system, measured)).decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text), delimiter=";")
            if r["tabelle"] == "zielsystem"]
    assert {r["spalte"] for r in rows} == {"target", "expected_to_date", "measured"}
    assert len(rows) == 3 * sum(len(o.indicators) for o in system.objectives)
    workbook = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(stats, (system, measured))))
    assert "Zielsystem" in workbook.sheetnames


def test_text_that_looks_like_a_formula_is_defused() -> None:
    assert exports._safe_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert exports._safe_text("-1") == "'-1"
    assert exports._safe_text("Kleve") == "Kleve"


def test_exports_write_no_temporary_files(stats: Statistics,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a temporary file was requested")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile",
                 "SpooledTemporaryFile", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, refuse)
    assert exports.to_xlsx(stats).startswith(b"PK")
    assert exports.to_csv(stats)
