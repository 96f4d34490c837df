"""Dokumente: encrypted in the vault, decrypted in memory only, every read audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimdesk.casework import audit
from kimdesk.casework.consents import consents_of, revoke_consent
from kimdesk.casework.context import Context
from kimdesk.casework.documents import (
    add_attachment,
    attachments_of,
    delete_attachment,
    read_attachment,
)
from kimdesk.errors import NotFound, ValidationError
from kimdesk.vault import VaultCorrupted
from tests.factories import SUPPORT, make_case, make_person

# What a scanned Duldung might contain: a name, a date of birth, a file number.
SCAN = (b"%PDF-1.7\n% Duldung nach 60a AufenthG\nName: HADDAD, Amina\n"
        b"geb. 17.04.1991 in Aleppo\nAZ: 3.2-1234/26\n%%EOF\n")


def _stored_files(ctx: Context) -> list[Path]:
    return [p for p in ctx.vault.data_dir.rglob("*") if p.is_file()]


def test_attachment_is_encrypted_on_disk_and_read_back_equal(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    attachment = add_attachment(ctx, client.id, "Duldung_Haddad.pdf", SCAN,
                                description="Duldung bis 31.01.2027")

    assert (attachment.filename, attachment.media_type, attachment.size) == (
        "Duldung_Haddad.pdf", "application/pdf", len(SCAN))
    for path in _stored_files(ctx):
        data = path.read_bytes()
        assert b"HADDAD" not in data and b"Aleppo" not in data, path
        assert b"Duldung_Haddad" not in path.name.encode()
    stored, content = read_attachment(ctx, attachment.id)
    assert content == SCAN
    assert stored.description == "Duldung bis 31.01.2027"


def test_reading_an_attachment_is_audited(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    attachment = add_attachment(ctx, client.id, "Mietvertrag.pdf", SCAN)

    read_attachment(ctx, attachment.id)

    with ctx.vault.reading() as session:
        last = audit.entries_for_client(session, client.id)[-1]
    assert (last.action, last.actor, last.entity, last.entity_id) == (
        "read", "Anna Becker", "attachments", attachment.id)


def test_attachment_needs_consent(ctx: Context) -> None:
    client = make_person(ctx)

    with pytest.raises(ValidationError) as error:
        add_attachment(ctx, client.id, "Pass.jpg", b"\xff\xd8\xff\xe0 JFIF")

    assert "Einwilligung" in error.value.message
    assert attachments_of(ctx, client.id) == []
    assert ctx.vault.attachments.stored_ids() == set()


def test_attachment_after_revocation_is_refused(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    revoke_consent(ctx, consents_of(ctx, client.id)[0].id)

    with pytest.raises(ValidationError):
        add_attachment(ctx, client.id, "Bescheid.pdf", SCAN)


@pytest.mark.parametrize(("filename", "content", "field"), [
    ("Leer.pdf", b"", "content"),
    ("  ", SCAN, "filename"),
])
def test_empty_or_nameless_file_is_refused(ctx: Context, filename: str, content: bytes,
                                           field: str) -> None:
    client = make_person(ctx, consent=True)

    with pytest.raises(ValidationError) as error:
        add_attachment(ctx, client.id, filename, content)

    assert error.value.field == field
    assert attachments_of(ctx, client.id) == []


def test_only_the_file_name_of_a_path_is_kept(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    attachment = add_attachment(ctx, client.id, "C:\\Users\\abecker\\Desktop\\Bescheid.pdf",
                                SCAN)

    assert attachment.filename == "Bescheid.pdf"


def test_attachment_of_a_case(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, SUPPORT)

    attachment = add_attachment(ctx, client.id, "Hilfeplan.docx", b"PK\x03\x04 docx",
                                case_id=case.id)

    assert attachment.case_id == case.id
    with pytest.raises(NotFound):
        add_attachment(ctx, client.id, "Hilfeplan.docx", b"PK", case_id="f" * 32)


def test_deleted_attachment_leaves_no_file(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    attachment = add_attachment(ctx, client.id, "Bescheid.pdf", SCAN)

    delete_attachment(ctx, attachment.id)

    assert attachments_of(ctx, client.id) == []
    assert not ctx.vault.attachments.exists(attachment.id)
    with pytest.raises(NotFound):
        read_attachment(ctx, attachment.id)


def test_altered_ciphertext_is_refused_not_returned(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    attachment = add_attachment(ctx, client.id, "Bescheid.pdf", SCAN)
    [path] = [p for p in _stored_files(ctx) if p.name == attachment.id]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))

    with pytest.raises(VaultCorrupted):
        read_attachment(ctx, attachment.id)
