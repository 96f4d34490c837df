"""Import of client lists (CSV/XLSX): all rows or none, duplicates reported by line.

The rows are written with Core statements (one ``executemany`` per table), not an ORM object
each: a list of 10,000 persons stays well under five seconds. The result is the one
:func:`kimdesk.casework.clients.create_clients` gives: the same rows, change-log entries,
audit entries and search index (``tests/sync/test_imported_clients.py`` holds it to that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, inspect
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from kimdesk.casework import audit, search
from kimdesk.casework.clients import (
    Admitted,
    ClientInput,
    LikelyDuplicate,
    admit,
    list_consent,
    without_cyclic_gc,
)
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
from kimdesk.models import Client, Consent, changelog
from kimdesk.models.base import new_id, table_of


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
    file_type = Path(path).suffix.lower()
    items = [ClientInput(first_name=row.first_name, last_name=row.last_name,
                         birth_date=row.birth_date, nationality=row.nationality,
                         municipality=row.municipality) for row in rows]
    consent = ConsentInput(form="liste") if consent_on_file else None
    with ctx.vault.writing() as session, without_cyclic_gc():
        outcomes = _write_clients(ctx, session, items, consent, import_duplicates, progress,
                                  file_type)
        result = ImportResult()
        problems: list[tuple[int, str]] = []
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, LikelyDuplicate):
                result.skipped_duplicates.append(row.line)
            elif isinstance(outcome, ValidationError):
                # A rule of the domain the file reader does not know (e.g. a name's length).
                problems.append((row.line, outcome.message))
            else:
                result.imported += 1
        if problems:
            # Raised inside the transaction, so it is rolled back: nothing is half-imported.
            raise ImportFileError.from_problems(problems)
        record(ctx, session, "import", None, None, rows=result.imported, file_type=file_type)
    return result


@dataclass(frozen=True)
class _NewClient:
    """An imported client as the search index reads it (its row is written with Core)."""

    id: str
    anonymous: bool
    first_name: str
    last_name: str
    organisation_name: str
    birth_date: date | None


def _write_clients(
    ctx: Context,
    session: Session,
    items: list[ClientInput],
    consent: ConsentInput | None,
    allow_duplicate: bool,
    progress: Callable[[int, int], None] | None,
    file_type: str,
) -> list[_NewClient | LikelyDuplicate | ValidationError]:
    """:func:`kimdesk.casework.clients.create_clients` for an import, written with Core.

    The same rules and the same result in the vault (rows, change log, audit entries, search
    index), without an ORM object per row: the clients and consents go in with one
    ``executemany`` each, their change-log entries with :func:`changelog.record_inserts`
    (Core statements bypass the flush listener), the audit entries and the index entries in
    bulk. Nothing is written unless every row is valid: a row's ValidationError is returned
    and the caller raises it, so the transaction is rolled back anyway."""
    listed = list_consent(ctx, session, consent) if consent is not None else None
    template = listed.template if listed is not None else None
    consent_values: dict[str, Any] = {}
    if listed is not None:
        state = inspect(listed.prototype).dict
        consent_values = {column.name: state[column.name] for column in _CONSENTS.columns
                          if column.name in state}
    duplicates = search.DuplicateIndex.load(session) if not allow_duplicate else None
    results: list[_NewClient | LikelyDuplicate | ValidationError] = []
    clients: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    created: list[_NewClient] = []
    entries: list[audit.NewEntry] = []
    imported: list[audit.NewEntry] = []
    client_defaults = _Defaults(_CLIENTS)
    consent_defaults = _Defaults(_CONSENTS)
    stamps = {"created_by": ctx.user, "updated_by": ctx.user}
    total = len(items)
    for number, data in enumerate(items, start=1):
        if progress is not None and (number % 500 == 0 or number == total):
            progress(number, total)
        admitted = admit(ctx, data, covers=listed is not None and listed.covers,
                         duplicates=duplicates)
        if not isinstance(admitted, Admitted):
            results.append(admitted)
            continue
        values = admitted.values
        client_id = new_id()
        clients.append(client_defaults.complete({**values, "id": client_id, **stamps}))
        if duplicates is not None and admitted.key is not None:
            duplicates.add(admitted.key, client_id)
        entries.append(audit.NewEntry("create", client_id, _CLIENTS.name, client_id,
                                      {"fields": admitted.used}))
        if template is not None:
            consent_id = new_id()
            consents.append(consent_defaults.complete(
                {**consent_values, "id": consent_id, "client_id": client_id}))
            entries.append(audit.NewEntry("create", client_id, _CONSENTS.name, consent_id,
                                          {"kind": template.kind}))
        # On the person's own trail, so her Auskunft names the list as the data's source.
        imported.append(audit.NewEntry("import", client_id, _CLIENTS.name, client_id,
                                       {"file_type": file_type}))
        new = _NewClient(client_id, values["anonymous"], values["first_name"],
                         values["last_name"], values["organisation_name"], values["birth_date"])
        created.append(new)
        results.append(new)
    if any(isinstance(outcome, ValidationError) for outcome in results):
        return results  # the caller refuses the whole list: write nothing
    if clients:
        session.execute(insert(_CLIENTS), clients)
    if consents:
        session.execute(insert(_CONSENTS), consents)
    changelog.record_inserts(session, [(_CLIENTS, clients), (_CONSENTS, consents)])
    audit.append_many(session, ctx.audit_key, ctx.user, entries + imported)
    search.reindex_many(session, created, new=True)
    return results


_CLIENTS = table_of(Client)
_CONSENTS = table_of(Consent)


class _Defaults:
    """Fills in the column defaults the ORM would apply (Python-side ones: a Core row must
    hold every column for the change log, as a new record's entry does)."""

    def __init__(self, table: Table) -> None:
        self._makers: list[tuple[str, Callable[[], Any]]] = []
        for column in table.columns:
            default = column.default
            if column.server_default is not None:
                raise TypeError(f"{table.name}.{column.name}: server default not supported")
            if default is None:
                self._makers.append((column.name, _none))
            elif isinstance(default, CallableColumnDefault):
                # SQLAlchemy wraps an argument-less default (utcnow, list) to take a context.
                wrapped: Callable[[Any], Any] = default.arg
                self._makers.append((column.name, partial(wrapped, None)))
            elif isinstance(default, ScalarElementColumnDefault):
                self._makers.append((column.name, partial(_constant, default.arg)))
            else:
                raise TypeError(f"{table.name}.{column.name}: unsupported default")

    def complete(self, given: dict[str, Any]) -> dict[str, Any]:
        for name, make in self._makers:
            if name not in given:
                given[name] = make()
        return given


def _none() -> None:
    return None


def _constant(value: Any) -> Any:
    return value
