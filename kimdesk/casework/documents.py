"""Dokumente: encrypted attachments of a client file, decrypted in memory only."""

from __future__ import annotations

import hashlib
import mimetypes
import time
from pathlib import PurePath

from sqlalchemy import select

from kimdesk.casework.common import load, record, require_processing_consent, stamp
from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.models import Attachment, BlobDownload, Case, Client, new_id

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
ORPHAN_MIN_AGE_SECONDS = 3600


def add_attachment(ctx: Context, client_id: str, filename: str, content: bytes, *,
                   case_id: str | None = None, description: str = "") -> Attachment:
    name = PurePath(filename.replace("\\", "/")).name.strip()
    if not name:
        raise ValidationError("Die Datei hat keinen Namen.", "filename")
    if not content:
        raise ValidationError("Die Datei ist leer.", "content")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationError("Die Datei ist größer als 50 MB.", "content")
    attachment_id = new_id()
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        if case_id is not None:
            load(session, Case, case_id, "Der Fall")
        require_processing_consent(ctx, session, client_id, "Das Speichern von Dokumenten")
        attachment = Attachment(
            id=attachment_id, client_id=client_id, case_id=case_id, filename=name[:255],
            media_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
            size=len(content), sha256=hashlib.sha256(content).hexdigest(),
            description=description,
        )
        stamp(ctx, attachment, created=True)
        session.add(attachment)
        session.flush()
        # The file is written inside the transaction: if it fails, no row points to nothing;
        # if the commit fails after it, an orphan ciphertext remains for sweep_orphan_files.
        ctx.vault.attachments.put(attachment_id, content)
        record(ctx, session, "create", client_id, attachment)
        return attachment


def read_attachment(ctx: Context, attachment_id: str) -> tuple[Attachment, bytes]:
    """Metadata and decrypted content (in memory); the read is audited."""
    with ctx.vault.writing() as session:
        attachment = load(session, Attachment, attachment_id, "Das Dokument")
        if not ctx.vault.attachments.exists(attachment_id) and \
                session.get(BlobDownload, attachment_id) is not None:
            raise ValidationError("Der Inhalt dieses Dokuments ist noch nicht auf diesem "
                                  "Gerät; er wird beim nächsten Abgleich geladen.")
        content = ctx.vault.attachments.get(attachment_id)
        if hashlib.sha256(content).hexdigest() != attachment.sha256:
            raise ValidationError("Das Dokument passt nicht zu seiner Prüfsumme.")
        record(ctx, session, "read", attachment.client_id, attachment)
        return attachment, content


def delete_attachment(ctx: Context, attachment_id: str) -> None:
    with ctx.vault.writing() as session:
        attachment = load(session, Attachment, attachment_id, "Das Dokument")
        session.delete(attachment)
        record(ctx, session, "delete", attachment.client_id, attachment)
    ctx.vault.attachments.delete(attachment_id)


def attachments_of(ctx: Context, client_id: str) -> list[Attachment]:
    with ctx.vault.reading() as session:
        return list(session.scalars(select(Attachment).where(
            Attachment.client_id == client_id).order_by(Attachment.created_at)))


def sweep_orphan_files(ctx: Context) -> int:
    """Delete ciphertext files no row refers to (left by a crash between write and commit).

    Only files older than an hour count: a younger one may belong to a transaction that is
    about to commit in another thread.
    """
    cutoff = time.time() - ORPHAN_MIN_AGE_SECONDS
    candidates = ctx.vault.attachments.stored_ids(older_than=cutoff)
    with ctx.vault.reading() as session:
        known = set(session.scalars(select(Attachment.id)))
    orphans = candidates - known
    for attachment_id in orphans:
        ctx.vault.attachments.delete(attachment_id)
    return len(orphans)
