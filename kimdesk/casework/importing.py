"""Import of client lists (CSV/XLSX): all rows or none, duplicates reported by line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kimdesk.casework.clients import ClientInput, LikelyDuplicate, create_client
from kimdesk.casework.common import record
from kimdesk.casework.consents import ConsentInput
from kimdesk.casework.context import Context
from kimdesk.casework.import_files import ImportFileError, read_client_rows
from kimdesk.errors import ValidationError


@dataclass
class ImportResult:
    imported: int = 0
    skipped_duplicates: list[int] = field(default_factory=list)  # line numbers


def import_clients(ctx: Context, path: Path, *, consent_on_file: bool = False,
                   import_duplicates: bool = False) -> ImportResult:
    """Import every row of the file in one transaction; a bad row imports nothing.

    Birth date and nationality are data beyond a Kurzintervention: they are imported only when
    the user confirms that each listed person's Einwilligung exists (``consent_on_file``); the
    consent is then recorded with the form "aus Liste übernommen".
    """
    rows = read_client_rows(path, ctx.reference)
    sensitive = [row.line for row in rows if row.birth_date or row.nationality]
    if sensitive and not consent_on_file:
        raise ImportFileError(
            "Die Liste enthält Geburtsdaten oder Staatsangehörigkeiten (z. B. Zeile "
            f"{sensitive[0]}). Diese dürfen nur mit Einwilligung gespeichert werden: bitte "
            "bestätigen, dass für alle Personen der Liste eine Einwilligung vorliegt.",
            [(line, "Einwilligung nicht bestätigt") for line in sensitive],
        )
    result = ImportResult()
    problems: list[tuple[int, str]] = []
    with ctx.vault.writing() as session:
        for row in rows:
            data = ClientInput(first_name=row.first_name, last_name=row.last_name,
                               birth_date=row.birth_date, nationality=row.nationality,
                               municipality=row.municipality)
            consent = ConsentInput(form="liste") if consent_on_file else None
            try:
                client = create_client(ctx, data, consent=consent,
                                       allow_duplicate=import_duplicates, session=session)
            except LikelyDuplicate:
                result.skipped_duplicates.append(row.line)
                continue
            except ValidationError as exc:
                # A rule of the domain the file reader does not know (e.g. a name's length).
                problems.append((row.line, exc.message))
                continue
            # On the person's own trail, so her Auskunft names the list as the data's source.
            record(ctx, session, "import", client.id, client, file_type=Path(path).suffix.lower())
            result.imported += 1
        if problems:
            # Raised inside the transaction, so it is rolled back: nothing is half-imported.
            raise ImportFileError.from_problems(problems)
        record(ctx, session, "import", None, None, rows=result.imported,
               file_type=Path(path).suffix.lower())
    return result
