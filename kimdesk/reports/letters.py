"""Briefe aus Vorlagen (concept 5.5.3): the county's text templates in ``resources/templates``,
filled from the Akte and printed as PDF in memory.

A template is a TOML file: ``title``, ``recipient`` ("institution": an Einrichtung of the
network, or "client": the person herself), ``subject`` and ``body`` with ``${placeholders}``,
and ``[inputs]``, the values typed by hand (name = label). Placeholders are
:data:`PLACEHOLDERS` plus the template's inputs; a template naming anything else is refused when
loaded, so a typo in a county template shows at once, not as a gap in a letter.

Filling returns a :class:`Letter` (plain text the user may still edit); :func:`letter_pdf` prints
it. A letter to an institution names the person, so it needs her active
Schweigepflichtentbindung towards that institution. Printing is recorded in the person's audit
trail as "exportiert"; nothing is written to disk except where the user saves the PDF.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from kimdesk import ORGANIZATION
from kimdesk.casework import appointments, case_views
from kimdesk.casework.cases import case_people
from kimdesk.casework.common import load, record
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import Appointment, Case, Client, Institution
from kimdesk.models.enums import CaseKind, ClientKind
from kimdesk.reports.layout import DocumentInfo, german_date, para, render, styles

TEMPLATE_DIRECTORY = Path(__file__).resolve().parents[2] / "resources" / "templates"
INSTITUTION = "institution"
CLIENT = "client"
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")

# What the Akte fills in: name → meaning (shown to whoever writes a template).
PLACEHOLDERS: dict[str, str] = {
    "ratsuchende_name": "Vor- und Nachname der Person",
    "vorname": "Vorname",
    "nachname": "Nachname",
    "geburtsdatum": "Geburtsdatum (TT.MM.JJJJ)",
    "anschrift": "Anschrift der Person",
    "fallart": "Art des Falls",
    "fall_seit": "Beginn des Falls",
    "case_manager": "zuständige Case Manager:in",
    "team": "Fachteam",
    "datum": "heutiges Datum",
    "behoerde_name": "Name der Einrichtung",
    "behoerde_anschrift": "Anschrift der Einrichtung",
    "behoerde_ansprechperson": "Ansprechperson der Einrichtung",
    "termin_art": "Art des Termins",
    "termin_datum": "Datum des Termins",
    "termin_wochentag": "Wochentag des Termins",
    "termin_uhrzeit": "Uhrzeit des Termins (HH:MM)",
    "termin_ort": "Ort des Termins",
}
_APPOINTMENT_PLACEHOLDERS = {name for name in PLACEHOLDERS if name.startswith("termin_")}
_INSTITUTION_PLACEHOLDERS = {name for name in PLACEHOLDERS if name.startswith("behoerde_")}


@dataclass(frozen=True)
class Template:
    code: str  # the file name without ".toml"
    title: str
    recipient: str
    subject: str
    body: str
    inputs: dict[str, str]  # name → label

    @property
    def placeholders(self) -> set[str]:
        found: set[str] = set()
        for text in (self.subject, self.body):
            for _, named, braced, _ in string.Template.pattern.findall(text):
                found.add(named or braced)
        return found - {""}

    @property
    def needs_appointment(self) -> bool:
        return bool(self.placeholders & _APPOINTMENT_PLACEHOLDERS)


@dataclass(frozen=True)
class Letter:
    """A filled template: what the user sees, may edit, and prints."""

    template: str
    title: str
    client_id: str
    recipient: str  # address block, lines separated by "\n"
    subject: str
    body: str
    sender: str  # the case manager who signs


def load_template(code: str, directory: Path = TEMPLATE_DIRECTORY) -> Template:
    """One template, checked: a broken county template is refused with a German message."""
    path = directory / f"{code}.toml"
    if not code.replace("_", "").isalnum() or not path.is_file():
        raise KimdeskError(f"Die Vorlage „{code}“ gibt es nicht.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        inputs = {str(k): str(v) for k, v in data.get("inputs", {}).items()}
        template = Template(code, str(data["title"]), str(data["recipient"]),
                            str(data["subject"]).strip(), str(data["body"]).strip(), inputs)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, AttributeError
            ) as exc:
        raise KimdeskError(f"Die Vorlage „{code}“ ist fehlerhaft: {exc}") from exc
    if template.recipient not in (INSTITUTION, CLIENT):
        raise KimdeskError(f"Die Vorlage „{code}“: Empfänger muss „institution“ oder „client“ "
                           "sein.")
    unknown = template.placeholders - PLACEHOLDERS.keys() - inputs.keys()
    if template.recipient == CLIENT:
        unknown |= template.placeholders & _INSTITUTION_PLACEHOLDERS
    if unknown:
        raise KimdeskError(f"Die Vorlage „{code}“ enthält unbekannte Platzhalter: "
                           f"{', '.join(sorted(unknown))}.")
    for text in (template.subject, template.body):
        try:
            string.Template(text).substitute(dict.fromkeys(template.placeholders, ""))
        except ValueError as exc:
            raise KimdeskError(f"Die Vorlage „{code}“ enthält ein einzelnes „$“ ({exc}); "
                               "ein Dollarzeichen schreibt man „$$“.") from exc
    return template


def templates(directory: Path = TEMPLATE_DIRECTORY) -> list[Template]:
    """Every template of the county, by title."""
    found = [load_template(path.stem, directory) for path in directory.glob("*.toml")]
    return sorted(found, key=lambda t: t.title.casefold())


def _name(client: Client) -> str:
    if client.kind == ClientKind.ORGANISATION:
        return client.organisation_name
    return " ".join(part for part in (client.first_name, client.last_name) if part)


def fill(ctx: Context, code: str, client_id: str, *, case_id: str | None = None,
         institution_id: str | None = None, appointment_id: str | None = None,
         inputs: dict[str, str] | None = None) -> Letter:
    """The template filled from the Akte (and the typed ``inputs``), ready to edit and print."""
    template = load_template(code)
    typed = {name: (inputs or {}).get(name, "").strip() for name in template.inputs}
    for name, label in template.inputs.items():
        if not typed[name]:
            raise ValidationError(f"Bitte „{label}“ ausfüllen.", name)
    today = ctx.today()
    with ctx.vault.reading() as session:
        client = load(session, Client, client_id, "Die Person")
        if client.anonymous:
            raise ValidationError("Für eine anonyme Beratung gibt es keine Briefe.",
                                  "client_id")
        values = {
            "ratsuchende_name": _name(client), "vorname": client.first_name,
            "nachname": client.last_name, "geburtsdatum": german_date(client.birth_date, ""),
            "anschrift": client.address.replace("\n", ", "), "datum": german_date(today),
            "case_manager": ctx.user, "team": _team_name(ctx, ctx.team),
            "fallart": "", "fall_seit": "",
        }
        if case_id is not None:
            case = load(session, Case, case_id, "Der Fall")
            if client_id not in case_people(session, case):
                raise ValidationError("Die Person gehört nicht zu diesem Fall.", "case_id")
            values |= {"fallart": CaseKind(case.kind).label,
                       "fall_seit": german_date(case.opened_on),
                       "case_manager": case.case_manager, "team": _team_name(ctx, case.team)}
        if template.needs_appointment:
            if appointment_id is None:
                raise ValidationError("Bitte den Termin wählen, den der Brief bestätigt.",
                                      "appointment_id")
            termin = load(session, Appointment, appointment_id, "Der Termin")
            if termin.client_id != client_id or termin.cancelled:
                raise ValidationError("Dieser Termin gehört nicht zu der Person oder ist "
                                      "abgesagt.", "appointment_id")
            values |= {
                "termin_art": appointments.KINDS.get(termin.kind, termin.kind),
                "termin_datum": german_date(termin.day),
                "termin_wochentag": WEEKDAYS[termin.day.weekday()],
                "termin_uhrzeit": f"{termin.starts_at:%H:%M}",
                "termin_ort": termin.place or "Büro des Kommunalen Integrationsmanagements",
            }
        if template.recipient == INSTITUTION:
            if institution_id is None:
                raise ValidationError("Bitte die Behörde oder Einrichtung wählen.",
                                      "institution_id")
            institution = load(session, Institution, institution_id, "Die Einrichtung")
            values |= {"behoerde_name": institution.name,
                       "behoerde_anschrift": institution.address.strip(),
                       "behoerde_ansprechperson": institution.contact_person}
            recipient = "\n".join(line for line in (
                institution.name,
                f"z. Hd. {institution.contact_person}" if institution.contact_person else "",
                institution.address.strip()) if line)
        else:
            recipient = "\n".join(line for line in (_name(client), client.address.strip())
                                  if line)
    if template.recipient == INSTITUTION:
        assert institution_id is not None
        if not any(r.information_kinds and "master_data" in r.information_kinds
                   for r in case_views.releases_towards(ctx, client_id, institution_id)):
            raise ValidationError(
                "Für ein Anschreiben an diese Einrichtung fehlt eine gültige "
                "Schweigepflichtentbindung der Person (mit Stammdaten).", "institution_id")
    values |= typed
    return Letter(code, template.title, client_id, recipient,
                  string.Template(template.subject).substitute(values),
                  string.Template(template.body).substitute(values), values["case_manager"])


def _team_name(ctx: Context, code: str) -> str:
    try:
        return ctx.reference.team(code).name
    except KeyError:
        return code


def letter_pdf(ctx: Context, letter: Letter) -> bytes:
    """The letter as PDF bytes; the export is recorded in the person's audit trail."""
    if not letter.subject.strip() or not letter.body.strip():
        raise ValidationError("Betreff und Text des Briefs dürfen nicht leer sein.", "body")
    with ctx.vault.writing() as session:
        client = load(session, Client, letter.client_id, "Die Person")
        record(ctx, session, "export", client.id, client, document=f"letter:{letter.template}")
    today: date = ctx.today()
    info = DocumentInfo(title=letter.title, team=_team_name(ctx, ctx.team), printed_on=today)
    st = styles()
    story: list[Flowable] = [
        para(ORGANIZATION, st.small),
        Spacer(1, 3 * mm),
        para(letter.recipient),
        Spacer(1, 12 * mm),
        para(f"Datum: {german_date(today)}", st.body),
        Spacer(1, 6 * mm),
        para(letter.subject, st.subheading),
        Spacer(1, 3 * mm),
    ]
    paragraph_style = ParagraphStyle("letter", parent=st.body, fontSize=10.5, leading=14,
                                     spaceAfter=8)
    story += [para(paragraph.strip(), paragraph_style) for paragraph in letter.body.split("\n\n")
              if paragraph.strip()]
    story.append(KeepTogether([Spacer(1, 10 * mm), para(letter.sender),
                               para("Kommunales Integrationsmanagement", st.small)]))
    return render(info, story)
