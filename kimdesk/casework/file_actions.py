"""Small reads the client file screen needs beside ``views.open_client_file``.

Reads go through the models; the one that hands out a document's plaintext for saving a copy
records the export in the audit trail, as reading a client file does.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from kimdesk.casework import cases
from kimdesk.casework.common import load, record
from kimdesk.casework.context import Context
from kimdesk.casework.documents import read_attachment
from kimdesk.models import Attachment, Case, Client


def case_people(ctx: Context, case_id: str) -> list[tuple[str, str]]:
    """(client id, display name) of the case's client, then its further participants."""
    with ctx.vault.reading() as session:
        ids = cases.case_people(session, load(session, Case, case_id, "Der Fall"))
        names = {c.id: c.display_name
                 for c in session.scalars(select(Client).where(Client.id.in_(ids)))}
    return [(client_id, names[client_id]) for client_id in dict.fromkeys(ids)
            if client_id in names]


def client_names(ctx: Context, client_ids: Iterable[str]) -> dict[str, str]:
    """Display names of the given persons (e.g. the other side of a relation)."""
    ids = set(client_ids)
    if not ids:
        return {}
    with ctx.vault.reading() as session:
        return {c.id: c.display_name
                for c in session.scalars(select(Client).where(Client.id.in_(ids)))}


def export_attachment(ctx: Context, attachment_id: str) -> tuple[Attachment, bytes]:
    """A document's plaintext for "Kopie speichern unter"; the export is audited.

    The caller writes the bytes where the user chose; nothing here touches the disk.
    """
    attachment, content = read_attachment(ctx, attachment_id)
    with ctx.vault.writing() as session:
        stored = load(session, Attachment, attachment_id, "Das Dokument")
        record(ctx, session, "export", stored.client_id, stored)
    return attachment, content
