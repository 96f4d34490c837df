"""Briefe aus Vorlagen: the county's two templates filled from the Akte and printed as PDF
(read back with pypdf); a letter to an authority needs the person's release; broken templates
are refused when loaded."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy import select

from kimdesk.casework.appointments import add_appointment
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import AuditEntry
from kimdesk.reports import letters
from tests.factories import CM, make_case, make_institution, make_person, make_waiver
from tests.reports.pdftext import fonts, metadata, text


def test_the_county_ships_both_templates() -> None:
    titles = [t.title for t in letters.templates()]
    assert {"Anschreiben an eine Behörde", "Terminbestätigung"} <= set(titles)


def test_anschreiben_an_eine_behoerde_end_to_end(ctx: Context, tmp_path: Path) -> None:
    client = make_person(ctx, consent=True, first_name="Zofia", last_name="Wiśniewska",
                         birth_date=date(1979, 1, 23))
    case = make_case(ctx, client, CM)
    office = make_institution(ctx, "immigration_office", address="Nassauerallee 15\n47533 Kleve",
                              contact_person="Frau Janssen")
    make_waiver(ctx, client, office)

    letter = letters.fill(ctx, "anschreiben_behoerde", client.id, case_id=case.id,
                          institution_id=office.id,
                          inputs={"betreff": "Verlängerung der Aufenthaltserlaubnis",
                                  "anliegen": "Bitte teilen Sie mit, welche Unterlagen fehlen."})
    assert letter.subject == ("Zofia Wiśniewska, geb. 23.01.1979 – "
                              "Verlängerung der Aufenthaltserlaubnis")
    assert letter.recipient.splitlines() == [office.name, "z. Hd. Frau Janssen",
                                             "Nassauerallee 15", "47533 Kleve"]
    assert "Bitte teilen Sie mit, welche Unterlagen fehlen." in letter.body
    assert "${" not in letter.body

    before = set(tmp_path.iterdir())
    pdf = letters.letter_pdf(ctx, letter)
    assert set(tmp_path.iterdir()) == before  # built in memory
    content = text(pdf)
    for expected in ("Zofia Wiśniewska", "Nassauerallee 15", "Frau Janssen",
                     "Verlängerung der Aufenthaltserlaubnis", "Mit freundlichen Grüßen",
                     "Anna Becker", "Seite 1 von 1"):
        assert expected in content, expected
    assert metadata(pdf)["/Title"] == "Anschreiben an eine Behörde"  # never a person's name
    assert all("DejaVu" in str(f.get("/BaseFont")) for f in fonts(pdf))
    with ctx.vault.reading() as session:
        exports = session.scalars(select(AuditEntry).where(
            AuditEntry.client_id == client.id, AuditEntry.action == "export")).all()
    assert len(exports) == 1


def test_terminbestaetigung_from_a_termin(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    termin = add_appointment(ctx, client.id, date(2026, 12, 3), time(9, 30),
                             place="Rathaus Goch, Zimmer 12", case_id=case.id)

    letter = letters.fill(ctx, "terminbestaetigung", client.id, case_id=case.id,
                          appointment_id=termin.id)
    content = text(letters.letter_pdf(ctx, letter))

    assert "Termin am Donnerstag, 03.12.2026, um 09:30 Uhr" in content
    assert "Rathaus Goch, Zimmer 12" in content
    assert f"Guten Tag {client.first_name} {client.last_name}" in content
    assert client.address.split(",")[0] in content  # addressed to her


def test_letter_to_an_authority_needs_a_release(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    office = make_institution(ctx, "jobcenter")
    with pytest.raises(ValidationError, match="Schweigepflichtentbindung") as refused:
        letters.fill(ctx, "anschreiben_behoerde", client.id, institution_id=office.id,
                     inputs={"betreff": "x", "anliegen": "y"})
    assert refused.value.field == "institution_id"


@pytest.mark.parametrize(("code", "kwargs", "field"), [
    ("anschreiben_behoerde", {"inputs": {"betreff": "x"}}, "anliegen"),
    ("anschreiben_behoerde", {"inputs": {"betreff": "x", "anliegen": "y"}}, "institution_id"),
    ("terminbestaetigung", {}, "appointment_id"),
])
def test_missing_parts_are_asked_for(ctx: Context, code: str, kwargs: dict[str, object],
                                     field: str) -> None:
    client = make_person(ctx, consent=True)
    with pytest.raises(ValidationError) as refused:
        letters.fill(ctx, code, client.id, **kwargs)  # type: ignore[arg-type]
    assert refused.value.field == field


@pytest.mark.parametrize(("content", "message"), [
    ('title = "T"\nrecipient = "client"\nsubject = "S"\nbody = "${geheim}"\n', "geheim"),
    ('title = "T"\nrecipient = "client"\nsubject = "S"\nbody = "${behoerde_name}"\n',
     "behoerde_name"),
    ('title = "T"\nrecipient = "client"\nsubject = "S"\nbody = "5 $ bar"\n', "$$"),
    ('title = "T"\nrecipient = "post"\nsubject = "S"\nbody = "B"\n', "Empfänger"),
    ('title = "T"\nsubject = "S"\nbody = "B"\n', "fehlerhaft"),
    ('title = "T\n', "fehlerhaft"),
])
def test_broken_template_is_refused(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "broken.toml").write_text(content, encoding="utf-8")
    with pytest.raises(KimdeskError, match=message.replace("$", r"\$")):
        letters.load_template("broken", tmp_path)


def test_template_name_cannot_leave_the_folder() -> None:
    with pytest.raises(KimdeskError, match="gibt es nicht"):
        letters.load_template("../reference/rules")
