"""Documents for the Ratsuchende in German and in her language: the information sheet on data
protection (Art. 13 DSGVO) and the form for the Einwilligung and Schweigepflichtentbindung.

The fixed texts live in ``resources/client_texts/<code>.toml`` (German is authoritative; each
translation carries the same keys and the mark "Übersetzung – Prüfung durch Sprachmittler:in
ausstehend" until the county's Sprachmittler:in has checked it, and the PDF prints that mark).
German and the other language stand side by side, paragraph by paragraph; whatever is filled in
(names, institutions, purposes) stays German. Arabic and Dari/Farsi are set right to left.

Functions return the PDF as bytes; nothing is written to disk here.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle
from sqlalchemy import select

from kimdesk.casework import views
from kimdesk.casework.common import load, record
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import Client, Institution
from kimdesk.models.enums import ConsentKind
from kimdesk.reference import load_reference
from kimdesk.reports.layout import (
    LINE,
    REGULAR,
    DocumentInfo,
    content_width,
    fields,
    german_date,
    para,
    render,
    signature_lines,
    styles,
    table,
)
from kimdesk.reports.shaping import RtlParagraph

TEXT_DIRECTORY = Path(__file__).resolve().parents[2] / "resources" / "client_texts"
REVIEW_MARK = "Übersetzung – Prüfung durch Sprachmittler:in ausstehend"
EINWILLIGUNG = "einwilligung_schweigepflichtentbindung"
CHECKBOX = "☐"
FORM_TITLE = "Einwilligungserklärung"  # footer and PDF title (short enough for the footer)

# code: German name (as staff choose it); at least the languages the issue asks for.
LANGUAGES: dict[str, str] = {
    "de": "Deutsch", "ar": "Arabisch", "uk": "Ukrainisch", "ru": "Russisch", "tr": "Türkisch",
    "fa": "Dari/Farsi", "pl": "Polnisch", "ro": "Rumänisch", "bg": "Bulgarisch",
    "en": "Englisch", "fr": "Französisch",
}
# Names of languages as they are written in a client's record ("Arabisch, Deutsch (A2)").
_RECORD_NAMES = {
    "arabisch": "ar", "ukrainisch": "uk", "russisch": "ru", "türkisch": "tr", "dari": "fa",
    "farsi": "fa", "persisch": "fa", "polnisch": "pl", "rumänisch": "ro", "bulgarisch": "bg",
    "englisch": "en", "französisch": "fr", "deutsch": "de",
}
# The institutions a blank form offers to tick (institution_types codes).
DEFAULT_INSTITUTIONS = ("immigration_office", "jobcenter", "employment_agency",
                        "social_welfare_office", "youth_office", "family_benefits_office")
DOCUMENT_KEYS: dict[str, tuple[str, ...]] = {
    "datenschutzinfo": (
        "title", "subtitle", "who_heading", "who", "what_heading", "what", "why_heading", "why",
        "legal_heading", "legal", "recipients_heading", "recipients", "retention_heading",
        "retention", "rights_heading", "rights", "voluntary_heading", "voluntary",
        "contact_heading", "controller", "officer", "authority", "received", "sign_client"),
    "einwilligung": (
        "title", "intro", "name", "birth_date", "consent_heading", "consent", "release_heading",
        "release", "institution", "information", "purpose", "mutual", "health",
        "revoke_heading", "revoke", "interpreter", "sign_client", "sign_case_manager",
        "sign_interpreter"),
    "zielvereinbarung": (
        "title", "client", "birth_date", "case", "case_manager", "team", "intro", "goal", "step",
        "who", "until", "done", "next_review", "sign_client", "sign_case_manager"),
}


@dataclass(frozen=True)
class ClientTexts:
    """The fixed texts of the client documents in one language."""

    code: str
    name: str  # in the language itself, e.g. "العربية"
    german_name: str
    rtl: bool
    review: str  # REVIEW_MARK while unchecked, "" for German or once checked
    documents: dict[str, dict[str, str]]
    contact: dict[str, str]

    def get(self, document: str, key: str) -> str:
        return self.documents[document][key]


def language_code(value: str) -> str:
    """The code for a language given as code ("ar") or German name ("Arabisch")."""
    key = value.strip().lower()
    if key in LANGUAGES:
        return key
    for code, german in LANGUAGES.items():
        if key == german.lower() or key in german.lower().split("/"):
            return code
    if key in _RECORD_NAMES:
        return _RECORD_NAMES[key]
    raise ValidationError(
        f"Für die Sprache „{value}“ gibt es keine Übersetzung. Verfügbar: "
        + ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items()) + ".", "sprache")


def language_of(client: Client) -> str | None:
    """The person's language from her record: the language for interpreting, else the first
    language she speaks that is not German and has a translation; None if none."""
    candidates = [client.interpreter_language, *client.languages.split(",")]
    for candidate in candidates:
        word = candidate.strip().split(" ")[0].split("(")[0].strip().lower()
        code = _RECORD_NAMES.get(word)
        if code and code != "de":
            return code
    return None


@functools.cache
def load_texts(code: str) -> ClientTexts:
    """The texts of one language, checked to have every key German has."""
    code = language_code(code)
    try:
        data = tomllib.loads((TEXT_DIRECTORY / f"{code}.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KimdeskError(f"Die Texte für {LANGUAGES[code]} fehlen oder sind fehlerhaft "
                           f"({TEXT_DIRECTORY / f'{code}.toml'}).") from exc
    documents: dict[str, dict[str, str]] = {}
    for document, keys in DOCUMENT_KEYS.items():
        section = data.get(document) or {}
        missing = [key for key in keys if not isinstance(section.get(key), str)]
        if missing:
            raise KimdeskError(f"In den Texten für {LANGUAGES[code]} fehlt "
                               f"[{document}] {', '.join(missing)}.")
        documents[document] = {key: section[key] for key in keys}
    contact = data.get("kontakt") or {}
    return ClientTexts(code=code, name=str(data.get("name", code)),
                       german_name=LANGUAGES[code], rtl=data.get("direction") == "rtl",
                       review=str(data.get("review", "")), documents=documents,
                       contact={k: str(v) for k, v in contact.items()})


# --- bilingual building blocks ----------------------------------------------------------------


@dataclass(frozen=True)
class Bilingual:
    """German and one other language (or German alone) for one document."""

    german: ClientTexts
    other: ClientTexts | None
    document: str

    def de(self, key: str) -> str:
        return self.german.get(self.document, key)

    def tr(self, key: str) -> str | None:
        return self.other.get(self.document, key) if self.other else None

    def both(self, key: str, separator: str = " / ") -> str:
        """German and translation on one line (labels, column headings)."""
        translated = self.tr(key)
        return f"{self.de(key)}{separator}{translated}" if translated else self.de(key)

    def block(self, value: str, kind: str = "body") -> Flowable:
        """A paragraph of the other language in its direction."""
        st = styles()
        style = {"body": st.body, "heading": st.subheading, "title": st.title,
                 "small": st.small}[kind]
        if self.other and self.other.rtl:
            return RtlParagraph(value, style)
        return para(value, style)

    def cells(self, specs: Sequence[tuple[str, ...]]) -> list[list[Flowable]]:
        """One row: the German paragraphs of ``specs`` (key, kind[, prefix]) and, if there is
        another language, its paragraphs beside them."""
        st = styles()
        german: list[Flowable] = []
        translated: list[Flowable] = []
        for spec in specs:
            key, kind, prefix = (*spec, "", "")[:3]
            style = {"body": st.body, "heading": st.subheading, "small": st.small}[kind]
            german.append(para(prefix + self.de(key), style))
            other = self.tr(key)
            if other is not None:
                translated.append(self.block(prefix + other, kind))
        return [german, translated] if self.other else [german]

    def rows(self, width: float, items: Sequence[Sequence[tuple[str, ...]]]) -> Table:
        """Paragraphs side by side: German left, the other language right; each item is one
        row (kept on one page)."""
        body = [self.cells(item) for item in items]
        columns = 2 if self.other else 1
        gap = 8 * mm
        column = (width - gap * (columns - 1)) / columns
        widths = [column] if columns == 1 else [column, column]
        result = Table(body, colWidths=widths, hAlign="LEFT")
        commands: list[tuple[object, ...]] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONT", (0, 0), (-1, -1), REGULAR, 9.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
        if columns == 2:
            commands += [("RIGHTPADDING", (0, 0), (0, -1), gap / 2),
                         ("LEFTPADDING", (1, 0), (1, -1), gap / 2),
                         ("LINEAFTER", (0, 0), (0, -1), 0.25, LINE)]
        result.setStyle(TableStyle(commands))
        return result

    def heading_cell(self, key: str) -> Flowable:
        """A column heading: German, the other language below it, both bold."""
        st = styles()
        parts: list[Flowable] = [para(self.de(key), st.cell_bold)]
        translated = self.tr(key)
        if translated:
            parts.append(RtlParagraph(translated, st.cell_bold) if self.other and self.other.rtl
                         else para(translated, st.cell_bold))
        return _label_cell(parts)

    def label(self, key: str) -> list[Flowable]:
        """A signature label: German, the other language below it."""
        st = styles()
        result: list[Flowable] = [para(self.de(key), st.small)]
        translated = self.tr(key)
        if translated:
            result.append(self.block(translated, "small"))
        return result


def bilingual(document: str, language: str) -> Bilingual:
    """The texts of ``document`` in German and ``language`` (German alone for "de")."""
    german = load_texts("de")
    code = language_code(language)
    return Bilingual(german, None if code == "de" else load_texts(code), document)


def title_block(texts: Bilingual, width: float) -> list[Flowable]:
    """Title in both languages, and what staff must know about the translation."""
    st = styles()
    story: list[Flowable] = [para(texts.de("title"), st.title)]
    other = texts.other
    if other:
        story.append(texts.block(texts.tr("title") or "", "title"))
        mark = f"Sprache: {other.german_name} ({other.name})"
        if other.review:
            mark += f" · {other.review}"
        story.append(para(mark, st.small))
    story.append(Spacer(1, 3 * mm))
    return story


class _Stack(Flowable):  # type: ignore[misc]  # reportlab has no type hints
    """Flowables one below the other at the full width of a table cell."""

    def __init__(self, parts: Sequence[Flowable]) -> None:
        super().__init__()
        self.parts = list(parts)
        self._heights: list[float] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self._heights = [part.wrap(availWidth, availHeight)[1] for part in self.parts]
        self.width, self.height = availWidth, sum(self._heights)
        return self.width, self.height

    def draw(self) -> None:
        y = self.height
        for part, height in zip(self.parts, self._heights, strict=True):
            y -= height
            part.drawOn(self.canv, 0, y)


def _label_cell(flowables: list[Flowable]) -> Flowable:
    return _Stack(flowables)


def bilingual_signatures(texts: Bilingual, keys: Sequence[str], width: float) -> Flowable:
    return signature_lines([_label_cell(texts.label(key)) for key in keys], width)


# --- Art. 13 information sheet ----------------------------------------------------------------


def datenschutzinfo_pdf(language: str, *, team: str, printed_on: date) -> bytes:
    """The information sheet on data protection (Art. 13 DSGVO) in German and ``language``."""
    texts = bilingual("datenschutzinfo", language)
    info = DocumentInfo(title=texts.de("title"), team=team, printed_on=printed_on,
                        confidential=False)
    width = content_width(info)
    story = title_block(texts, width)
    story.append(texts.rows(width, [[("subtitle", "small")]]))
    sections = ("who", "what", "why", "legal", "recipients", "retention", "rights", "voluntary")
    story.append(texts.rows(width, [[(f"{section}_heading", "heading"), (section, "body")]
                                    for section in sections]))
    story.append(texts.rows(width, [[("contact_heading", "heading")]]))
    contact = texts.german.contact
    story.append(fields([(texts.both("controller"), contact.get("verantwortlich", "")),
                         (texts.both("officer"), contact.get("datenschutzbeauftragte", "")),
                         (texts.both("authority"), contact.get("aufsicht", ""))],
                        width, label_width=58 * mm))
    story += [Spacer(1, 6 * mm), texts.rows(width, [[("received", "body")]]), Spacer(1, 4 * mm),
              bilingual_signatures(texts, ["sign_client"], width / 2)]
    return render(info, story)


def datenschutzinfo(ctx: Context, language: str) -> bytes:
    """The information sheet for the user's team (no personal data in it)."""
    return datenschutzinfo_pdf(language, team=_team_name(ctx), printed_on=ctx.today())


# --- Einwilligung / Schweigepflichtentbindung --------------------------------------------------


@dataclass(frozen=True)
class Release:
    """One line of the Schweigepflichtentbindung: German, as recorded or to fill in by hand."""

    institution: str
    information: str = ""
    purpose: str = ""
    mutual: bool | None = None  # None: to tick by hand


@dataclass(frozen=True)
class FormPerson:
    name: str
    birth_date: date | None


def einwilligung_pdf(language: str, *, team: str, printed_on: date,
                     person: FormPerson | None = None,
                     releases: Sequence[Release] = ()) -> bytes:
    """The form for the Einwilligung and Schweigepflichtentbindung in German and ``language``.
    Without ``person`` the name lines stay empty; without ``releases`` the usual institutions
    are offered to tick."""
    texts = bilingual("einwilligung", language)
    info = DocumentInfo(title=FORM_TITLE, team=team, printed_on=printed_on,
                        confidential=person is not None)
    width = content_width(info)
    st = styles()
    blank = "_" * 34
    story = title_block(texts, width)
    story.append(texts.rows(width, [[("intro", "body")]]))
    story += [Spacer(1, 2 * mm), fields([
        (texts.both("name"), person.name if person else blank),
        (texts.both("birth_date"),
         german_date(person.birth_date, blank) if person else blank),
    ], width, label_width=58 * mm), Spacer(1, 2 * mm)]
    story.append(texts.rows(width, [[("consent_heading", "heading"),
                                     ("consent", "body", f"{CHECKBOX} ")]]))
    story.append(texts.rows(width, [[("release_heading", "heading"), ("release", "body")]]))
    lines = list(releases) or [Release(_institution_type(name)) for name in DEFAULT_INSTITUTIONS]
    rows: list[list[object]] = [["", *(texts.heading_cell(key) for key in
                                       ("institution", "information", "purpose", "mutual"))]]
    for line in lines:
        mutual = (f"{CHECKBOX} ja  {CHECKBOX} nein" if line.mutual is None
                  else ("ja" if line.mutual else "nein"))
        rows.append([CHECKBOX, line.institution, line.information, line.purpose, mutual])
    if not releases:
        rows.append([CHECKBOX, "", "", "", f"{CHECKBOX} ja  {CHECKBOX} nein"])
    story += [Spacer(1, 1.5 * mm),
              table(rows, [7 * mm, 48 * mm, 42 * mm, width - 7 * mm - 48 * mm - 42 * mm - 32 * mm,
                           32 * mm]),
              Spacer(1, 2 * mm)]
    story.append(texts.rows(width, [[("health", "body", f"{CHECKBOX} ")]]))
    story.append(texts.rows(width, [[("revoke_heading", "heading"), ("revoke", "body")]]))
    story += [Spacer(1, 2 * mm), texts.rows(width, [[("interpreter", "small")]]),
              para("_" * 60, st.body), Spacer(1, 2 * mm),
              bilingual_signatures(texts, ["sign_client", "sign_case_manager",
                                           *(["sign_interpreter"] if texts.other else [])],
                                   width)]
    return render(info, story)


def einwilligung(ctx: Context, client_id: str, language: str | None = None) -> bytes:
    """The form for one person, with her recorded Schweigepflichtentbindungen (active ones) or,
    if none, the usual institutions to tick. ``language``: else from her record."""
    file = views.open_client_file(ctx, client_id)
    client = file.client
    code = language_code(language) if language else language_of(client)
    if code is None:
        raise ValidationError("In den Daten der Person ist keine Sprache mit Übersetzung "
                              "eingetragen. Bitte die Sprache angeben (--sprache).", "sprache")
    with ctx.vault.reading() as session:
        institutions = {i.id: i.name for i in session.scalars(select(Institution))}
    today = ctx.today()
    releases = [_release(ctx, consent, institutions) for consent in file.consents
                if consent.kind == ConsentKind.RELEASE and consent.is_active(today)]
    from kimdesk.reports.personal import person_name

    content = einwilligung_pdf(code, team=_team_name(ctx), printed_on=today,
                               person=FormPerson(person_name(client), client.birth_date),
                               releases=releases)
    with ctx.vault.writing() as session:
        stored = load(session, Client, client_id, "Die Person")
        record(ctx, session, "export", client_id, stored, document=EINWILLIGUNG, language=code)
    return content


def _release(ctx: Context, consent: object, institutions: dict[str, str]) -> Release:
    institution_id = getattr(consent, "recipient_institution_id", None)
    recipient_type = getattr(consent, "recipient_type", "")
    if institution_id in institutions:
        name = institutions[str(institution_id)]
    elif recipient_type:
        name = _label(ctx, "institution_types", recipient_type)
    else:
        name = getattr(consent, "recipient_text", "") or "–"
    kinds = ", ".join(_label(ctx, "information_kinds", code)
                      for code in getattr(consent, "information_kinds", []))
    return Release(institution=name, information=kinds,
                   purpose=str(getattr(consent, "purpose", "")),
                   mutual=bool(getattr(consent, "mutual", False)))


def _label(ctx: Context, vocabulary: str, code: str) -> str:
    try:
        return ctx.reference.label(vocabulary, code)
    except KeyError:
        return code


def _institution_type(code: str) -> str:
    try:
        return load_reference().label("institution_types", code)
    except KeyError:
        return code


def _team_name(ctx: Context) -> str:
    try:
        return ctx.reference.team(ctx.team).name
    except KeyError:
        return ctx.team
