"""Import of client lists: all rows or none, errors by line, consent for birth dates,
duplicates reported by line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from kimdesk.casework import audit
from kimdesk.casework.clients import ClientInput, create_client, find_clients, read_client
from kimdesk.casework.consents import consents_of
from kimdesk.casework.context import Context
from kimdesk.casework.import_files import ImportFileError, SuspiciousCharacters
from kimdesk.casework.importing import import_clients
from kimdesk.models import AuditEntry
from tests.factories import client_count, data_processing_consent

HEADER = "Nachname;Vorname;Geburtsdatum;Staatsangehörigkeit;Kommune"
GOOD_ROWS = [
    "Wiśniewska;Zofia;23.01.1979;polnisch;Emmerich",
    "Popescu;Ștefan;30.06.1995;RO;47608 Geldern",
    "Haddad;Amina;17.04.1991;Syrien;Kleve",
    "Yılmaz;Ayşe;12.03.1988;türkisch;Kevelaer",
]
NAMES_ONLY = [
    "Rahimi;Farid;;;Kranenburg",
    "Okafor;Grace;;;Kalkar",
]


def _csv(tmp_path: Path, *rows: str, name: str = "liste.csv") -> Path:
    path = tmp_path / name
    path.write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    return path


def _audit_count(ctx: Context) -> int:
    with ctx.vault.reading() as session:
        return audit.count(session)


def test_a_good_csv_imports_every_row(ctx: Context, tmp_path: Path) -> None:
    result = import_clients(ctx, _csv(tmp_path, *GOOD_ROWS), consent_on_file=True)

    assert (result.imported, result.skipped_duplicates) == (4, [])
    assert client_count(ctx) == 4
    [hit] = find_clients(ctx, "Wisniewska")
    zofia = read_client(ctx, hit.id)
    assert (zofia.first_name, zofia.birth_date, zofia.nationality, zofia.municipality) == (
        "Zofia", date(1979, 1, 23), "PL", "emmerich")
    [consent] = consents_of(ctx, zofia.id)
    assert (consent.kind, consent.form, consent.given_on) == (
        "data_processing", "liste", ctx.today())


def test_an_xlsx_list_imports_like_a_csv(ctx: Context, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.split(";"))
    sheet.append(["Shevchenko", "Oleksandr", date(1984, 9, 2), "Ukraine", "Goch"])
    sheet.append(["Ivanova", "Daniela", "14.02.1990", "BG", "Rees"])
    path = tmp_path / "liste.xlsx"
    workbook.save(path)

    result = import_clients(ctx, path, consent_on_file=True)

    assert result.imported == 2
    [hit] = find_clients(ctx, "Шевченко")
    assert (hit.birth_date, hit.nationality, hit.municipality) == (date(1984, 9, 2), "UA",
                                                                   "goch")


def test_the_import_is_audited_without_names(ctx: Context, tmp_path: Path) -> None:
    import_clients(ctx, _csv(tmp_path, *GOOD_ROWS), consent_on_file=True)

    with ctx.vault.reading() as session:
        [entry] = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "import", AuditEntry.client_id.is_(None)))
        per_person = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "import", AuditEntry.client_id.is_not(None))))
        assert audit.verify(session, ctx.audit_key) == []
    assert entry.actor == "Anna Becker"
    assert entry.detail == {"rows": 4, "file_type": ".csv"}
    # Each person's own trail says her data came from a list (the Auskunft names it).
    assert len({e.client_id for e in per_person}) == 4
    assert all(e.detail == {"file_type": ".csv"} for e in per_person)


def test_names_and_kommune_need_no_consent(ctx: Context, tmp_path: Path) -> None:
    result = import_clients(ctx, _csv(tmp_path, *NAMES_ONLY))

    assert result.imported == 2
    [hit] = find_clients(ctx, "Rahimi")
    assert consents_of(ctx, hit.id) == []
    assert read_client(ctx, hit.id).birth_date is None


@pytest.mark.parametrize("bad_row", [
    "Haddad;Amina;31.02.1991;Syrien;Kleve",  # no such day
    "Haddad;Amina;17.04.1991;Atlantis;Kleve",
    "Haddad;Amina;17.04.1991;Syrien;Düsseldorf",  # not a Kommune of the Kreis Kleve
    ";Amina;17.04.1991;Syrien;Kleve",
])
def test_one_bad_row_imports_nothing_and_names_its_line(ctx: Context, tmp_path: Path,
                                                        bad_row: str) -> None:
    rows = [*GOOD_ROWS[:2], bad_row, *GOOD_ROWS[3:]]
    entries = _audit_count(ctx)

    with pytest.raises(ImportFileError) as error:
        import_clients(ctx, _csv(tmp_path, *rows), consent_on_file=True)

    assert "Zeile 4" in error.value.message
    assert [line for line, _ in error.value.problems] == [4]
    assert client_count(ctx) == 0
    assert _audit_count(ctx) == entries


def test_a_row_that_breaks_a_rule_of_the_domain_imports_nothing_and_names_its_line(
    ctx: Context, tmp_path: Path
) -> None:
    too_long = "Abdulrahman-" * 12  # longer than a name may be stored
    rows = [*NAMES_ONLY, f"{too_long};Karwan;;;Straelen"]

    with pytest.raises(ImportFileError) as error:
        import_clients(ctx, _csv(tmp_path, *rows))

    assert "Zeile 4" in error.value.message
    assert client_count(ctx) == 0


def test_birth_dates_without_consent_on_file_are_refused(ctx: Context,
                                                         tmp_path: Path) -> None:
    rows = [*NAMES_ONLY, GOOD_ROWS[0]]

    with pytest.raises(ImportFileError) as error:
        import_clients(ctx, _csv(tmp_path, *rows))

    assert "Zeile 4" in error.value.message
    assert "Einwilligung" in error.value.message
    assert client_count(ctx) == 0


def test_nationality_without_consent_on_file_is_refused(ctx: Context, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError):
        import_clients(ctx, _csv(tmp_path, "Rahimi;Farid;;afghanisch;Kranenburg"))

    assert client_count(ctx) == 0


def _existing_al_hassan(ctx: Context) -> None:
    create_client(ctx, ClientInput(first_name="Mohammed", last_name="Al-Hassan",
                                   birth_date=date(1990, 5, 14), municipality="goch"),
                  consent=data_processing_consent(ctx))


def test_duplicates_are_skipped_and_reported_by_line(ctx: Context, tmp_path: Path) -> None:
    _existing_al_hassan(ctx)
    rows = [GOOD_ROWS[0], "Alhasan;Muhammad;14.05.1990;syrisch;Goch", GOOD_ROWS[1]]

    result = import_clients(ctx, _csv(tmp_path, *rows), consent_on_file=True)

    assert (result.imported, result.skipped_duplicates) == (2, [3])
    assert client_count(ctx) == 3


def test_a_person_listed_twice_is_imported_once(ctx: Context, tmp_path: Path) -> None:
    rows = [GOOD_ROWS[2], GOOD_ROWS[0], "HADDAD;Amina;17.04.1991;SY;Kleve"]

    result = import_clients(ctx, _csv(tmp_path, *rows), consent_on_file=True)

    assert (result.imported, result.skipped_duplicates) == (2, [4])


def test_duplicates_are_imported_when_asked(ctx: Context, tmp_path: Path) -> None:
    _existing_al_hassan(ctx)
    rows = ["Alhasan;Muhammad;14.05.1990;syrisch;Goch"]

    result = import_clients(ctx, _csv(tmp_path, *rows), consent_on_file=True,
                            import_duplicates=True)

    assert (result.imported, result.skipped_duplicates) == (1, [])
    assert client_count(ctx) == 2


@pytest.mark.parametrize(("row", "column"), [
    ("Y?lmaz;Ayse;;;Kevelaer", "Nachname"),  # ı lost in a Windows-1252 export
    ("Demir;Gül?en;;;Goch", "Vorname"),  # ş lost
    ("Demir;G\ufffdlsen;;;Goch", "Vorname"),  # bytes the decoder could not read
])
def test_a_name_that_looks_like_an_encoding_accident_imports_nothing(
    ctx: Context, tmp_path: Path, row: str, column: str
) -> None:
    rows = [*NAMES_ONLY, row]

    with pytest.raises(SuspiciousCharacters) as error:
        import_clients(ctx, _csv(tmp_path, *rows))

    message = error.value.message
    assert f"Zeile 4, Spalte {column}" in message
    assert "CSV UTF-8" in message
    # The row and the column are named, the name is not (messages end up in logs).
    assert "lmaz" not in message and "Gül" not in message and "lsen" not in message
    assert error.value.problems == [(4, error.value.problems[0][1])]
    assert client_count(ctx) == 0


def test_names_confirmed_as_spelled_are_imported_despite_question_marks(
    ctx: Context, tmp_path: Path
) -> None:
    rows = [*NAMES_ONLY, "Y?lmaz;Ayse;;;Kevelaer"]

    result = import_clients(ctx, _csv(tmp_path, *rows), keep_suspicious_names=True)

    assert result.imported == 3


def test_a_question_mark_that_is_not_inside_a_word_is_no_encoding_accident(
    ctx: Context, tmp_path: Path
) -> None:
    result = import_clients(ctx, _csv(tmp_path, "Rahimi ?;Farid;;;Kranenburg"))

    assert result.imported == 1


def test_a_large_list_is_one_unit_of_work_with_an_intact_audit_chain(
    ctx: Context, tmp_path: Path
) -> None:
    _existing_al_hassan(ctx)
    letters = "bdfglmrs"  # eight consonants with eight different Kölner Phonetik codes
    names = [f"{letters[i // 64].upper()}a{letters[i // 8 % 8]}e{letters[i % 8]}o"
             for i in range(300)]
    rows = [f"{name};Jana;;;Kleve" for name in names]
    rows.insert(150, "Alhasan;Muhammad;;;Goch")  # probably Mohammed Al-Hassan (no birth date)
    seen: list[tuple[int, int]] = []

    result = import_clients(ctx, _csv(tmp_path, *rows),
                            progress=lambda done, total: seen.append((done, total)))

    assert (result.imported, result.skipped_duplicates) == (300, [152])
    assert seen[-1] == (301, 301)
    assert client_count(ctx) == 301
    assert [hit.display_name for hit in find_clients(ctx, names[-1])] == [f"{names[-1]}, Jana"]
    with ctx.vault.reading() as session:
        assert audit.verify(session, ctx.audit_key) == []
        created = session.scalars(select(AuditEntry).where(AuditEntry.action == "create",
                                                           AuditEntry.entity == "clients"))
        assert len(list(created)) == 301
