"""Tests for the PDFs about a person: Zielvereinbarung, Auskunft nach Art. 15 DSGVO,
Fallübersicht. The text is read back with pypdf; names keep their diacritics."""

from __future__ import annotations

import tempfile

import pytest
from sqlalchemy import select

from kimdesk.casework import cases, clients, consents
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import AuditEntry
from kimdesk.reports.personal import AUSKUNFT, ZIELVEREINBARUNG, auskunft, case_summary
from kimdesk.reports.personal import zielvereinbarung as zielvereinbarung_pdf
from tests.reports.pdftext import fonts, metadata, pages, text
from tests.reports.report_builders import (
    CLIENT_FIRST,
    CLIENT_LAST,
    MEMBER_FIRST,
    MEMBER_LAST,
    STEP_RESPONSIBLE,
    CaseFile,
)

CLIENT = f"{CLIENT_FIRST} {CLIENT_LAST}"  # Łucja Wiśniewska-Ștefănescu
MEMBER = f"{MEMBER_FIRST} {MEMBER_LAST}"  # Mehmet Yılmaz
HEADER = ("Kreis Kleve – Kommunales Integrationsmanagement", "Team 1 Nord",
          "Gedruckt am 25.11.2026")


def exports_of(ctx: Context, client_id: str) -> list[dict[str, object]]:
    with ctx.vault.reading() as session:
        return [e.detail for e in session.scalars(
            select(AuditEntry).where(AuditEntry.client_id == client_id,
                                     AuditEntry.action == "export"))]


def check_layout(pdf: bytes, title: str) -> None:
    """Header and footer on every page, "Seite X von Y", embedded TrueType fonts only."""
    texts = pages(pdf)
    for number, page in enumerate(texts, start=1):
        for part in HEADER:
            assert part in page
        assert f"Seite {number} von {len(texts)}" in page
    used = fonts(pdf)
    assert used
    for font in used:
        assert "DejaVuSans" in str(font["/BaseFont"])
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] if (
            "/DescendantFonts" in font) else font["/FontDescriptor"]
        assert "/FontFile2" in descriptor.get_object()  # embedded TrueType
    info = metadata(pdf)
    assert info.get("/Title") == title
    assert CLIENT_LAST not in " ".join(info.values())


def test_zielvereinbarung(ctx: Context, case_file: CaseFile) -> None:
    pdf = zielvereinbarung_pdf(ctx, case_file.case_id)
    content = text(pdf)
    assert CLIENT in content
    assert STEP_RESPONSIBLE in content  # Ayşe Yılmaz: ş and dotless ı intact
    for expected in ("Zielvereinbarung", "Ziel 1: Berufsabschluss als Lehrerin anerkennen lassen",
                     "Antrag bei der Bezirksregierung Düsseldorf bis Ende April gestellt",
                     "Unterlagen übersetzen lassen (Diplom, Zeugnisse)", "15.03.2026",
                     "Ziel 2: Kita-Platz für Zofia ab August", "Anmeldung im Kita-Navigator",
                     "Rechtskreisübergreifendes Case Management", "Anna Becker",
                     "Ort, Datum, Unterschrift Ratsuchende:r",
                     "Ort, Datum, Unterschrift Case Manager:in", "14.03.1990"):
        assert expected in content, expected
    # Per person: Mehmet's goal belongs to his own Zielvereinbarung.
    assert "Sprachkurs B1" not in content
    check_layout(pdf, "Zielvereinbarung")
    assert exports_of(ctx, case_file.client_id) == [
        {"document": ZIELVEREINBARUNG, "case_id": case_file.case_id}]


def test_zielvereinbarung_of_a_household_member(ctx: Context, case_file: CaseFile) -> None:
    content = text(zielvereinbarung_pdf(ctx, case_file.case_id, case_file.member_id))
    assert MEMBER in content
    assert "Sprachkurs B1 abschließen" in content
    assert "Berufsabschluss" not in content


def test_zielvereinbarung_needs_goals_and_a_person_of_the_case(
        ctx: Context, case_file: CaseFile) -> None:
    stranger = clients.create_client(ctx, clients.ClientInput(
        first_name="Ștefan", last_name="Ionescu", municipality="goch"),
        consent=consents.ConsentInput())
    with pytest.raises(ValidationError, match="gehört nicht zu diesem Fall"):
        zielvereinbarung_pdf(ctx, case_file.case_id, stranger.id)
    other = cases.open_case(ctx, stranger.id, cases.CaseInput(kind="process_support"))
    with pytest.raises(KimdeskError, match="noch keine Ziele vereinbart"):
        zielvereinbarung_pdf(ctx, other.id)
    assert exports_of(ctx, stranger.id) == []


def test_auskunft_holds_everything_about_the_person(ctx: Context, case_file: CaseFile) -> None:
    pdf = auskunft(ctx, case_file.client_id)
    content = text(pdf)
    for expected in (
        "Auskunft nach Art. 15 DSGVO", CLIENT, "14.03.1990", "Polen",
        "Hafenstraße 3, 47533 Kleve", "lucja@example.org", "0151 2345678",
        "Familie W.-Ș.", "Haushaltsvorstand",
        # consents
        "Einwilligung Datenverarbeitung", "Schweigepflichtentbindung",
        "Anerkennungsberatung IQ Niederrhein", "Anerkennungsverfahren", "Stammdaten",
        # residence, case, assessment, goals, contacts, referrals
        "EU-Freizügigkeit", "Anerkennung des Berufsabschlusses, Kita-Platz, Sprachkurs B1",
        "Jobcenter", "Ich möchte wieder unterrichten.", "Lehrerin in Polen",
        "Berufsabschluss als Lehrerin anerkennen lassen", STEP_RESPONSIBLE,
        "Erstgespräch, Anliegen geklärt", "Sprachmittlung Polnisch",
        "Beratung zur Anerkennung", "wahrgenommen",
        # deadlines, documents, audit, information
        "Termin Bezirksregierung", "Diplom_Übersetzung.pdf", "Übersetzung des Diploms",
        "wer Ihre Akte wann geöffnet oder geändert hat", "geöffnet", "angelegt",
        "exportiert", "diese Auskunft (PDF)", "Speicherdauer", "Ihre Rechte",
        "Berichtigung (Art. 16)",
    ):
        assert expected in content, expected
    # Data of other persons stay out (Art. 15 Abs. 4 DSGVO).
    assert MEMBER_FIRST not in content
    assert "Sprachkurs B1 abschließen" not in content
    check_layout(pdf, "Auskunft nach Art. 15 DSGVO")
    assert {"document": AUSKUNFT} in exports_of(ctx, case_file.client_id)


def test_auskunft_of_a_household_member_shows_the_shared_case(
        ctx: Context, case_file: CaseFile) -> None:
    content = text(auskunft(ctx, case_file.member_id))
    assert MEMBER in content
    assert "Fall eines Haushaltsmitglieds, an dem Sie beteiligt sind" in content
    assert "Sprachkurs B1 abschließen" in content
    assert "Mehmet: Rückfrage zum Sprachkurs" in content
    assert CLIENT_LAST not in content  # nothing about Łucja herself
    assert "Anerkennung des Berufsabschlusses" not in content


def test_case_summary(ctx: Context, case_file: CaseFile) -> None:
    pdf = case_summary(ctx, case_file.case_id)
    content = text(pdf)
    for expected in ("Fallübersicht", CLIENT, MEMBER, "Kontakte (4)", f"mit {MEMBER}",
                     "Phase: Assessment", "Sprachkurs B1 abschließen", "Beratung zur Anerkennung",
                     "Offene Fristen und Wiedervorlagen", "Termin Bezirksregierung",
                     "Einwilligung liegt vor"):
        assert expected in content, expected
    check_layout(pdf, "Fallübersicht")


def test_pdfs_are_built_in_memory(ctx: Context, case_file: CaseFile,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a temporary file was requested")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile",
                 "SpooledTemporaryFile", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, refuse)
    before = {p.name for p in ctx.vault.data_dir.rglob("*")}
    for pdf in (zielvereinbarung_pdf(ctx, case_file.case_id),
                auskunft(ctx, case_file.client_id), case_summary(ctx, case_file.case_id)):
        assert pdf.startswith(b"%PDF-")
    # Nothing new beside the vault's own files (the database log may change, not grow files).
    after = {p.name for p in ctx.vault.data_dir.rglob("*")}
    assert after - before <= {"vault.db-wal", "vault.db-shm"}
