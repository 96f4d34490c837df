"""Import of client lists (CSV/XLSX): all rows or none, duplicates reported by line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kimdesk.casework import audit
from kimdesk.casework.clients import ClientInput, LikelyDuplicate, create_clients
from kimdesk.casework.common import record
from kimdesk.casework.consents import ConsentInput
from kimdesk.casework.context import Context
from kimdesk.casework.import_files import (
    ImportFileError,
    read_client_rows,
    refuse_suspicious,
    suspicious_cells,
)
from kimdesk.errors import ValidationError
from kimdesk.models import Client


@dataclass
class ImportResult:
    imported: int = 0
    skipped_duplicates: list[int] = field(default_factory=list)  # line numbers


def import_clients(ctx: Context, path: Path, *, consent_on_file: bool = False,
                   import_duplicates: bool = False, keep_suspicious_names: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import every row of the file in one transaction; a bad row imports nothing.

    Birth date and nationality are data beyond a Kurzintervention: they are imported only when
    the user confirms that each listed person's Einwilligung exists (``consent_on_file``); the
    consent is then recorded with the form "aus Liste übernommen". ``progress(done, total)``
    is called now and then while the rows are written. Names that look like an encoding
    accident ("Y?lmaz") refuse the import (:class:`SuspiciousCharacters`) unless
    ``keep_suspicious_names`` confirms them.
    """
    rows = read_client_rows(path, ctx.reference)
    suspicious = suspicious_cells(rows)
    if suspicious and not keep_suspicious_names:
        raise refuse_suspicious(suspicious)
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
    consent = ConsentInput(form="liste") if consent_on_file else None
    items = [ClientInput(first_name=row.first_name, last_name=row.last_name,
                         birth_date=row.birth_date, nationality=row.nationality,
                         municipality=row.municipality) for row in rows]
    with ctx.vault.writing() as session:
        outcomes = create_clients(ctx, session, items, consent=consent,
                                  allow_duplicate=import_duplicates, progress=progress)
        imported: list[audit.NewEntry] = []
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, LikelyDuplicate):
                result.skipped_duplicates.append(row.line)
            elif isinstance(outcome, ValidationError):
                # A rule of the domain the file reader does not know (e.g. a name's length).
                problems.append((row.line, outcome.message))
            else:
                # On the person's own trail, so her Auskunft names the list as the data's source.
                imported.append(audit.NewEntry("import", outcome.id, Client.__tablename__,
                                               outcome.id,
                                               {"file_type": Path(path).suffix.lower()}))
                result.imported += 1
        if problems:
            # Raised inside the transaction, so it is rolled back: nothing is half-imported.
            raise ImportFileError.from_problems(problems)
        audit.append_many(session, ctx.audit_key, ctx.user, imported)
        record(ctx, session, "import", None, None, rows=result.imported,
               file_type=Path(path).suffix.lower())
    return result
