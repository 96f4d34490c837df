"""Pseudonymisation of a case for every coordination view: neutral labels, relative dates, age
bands, the Planungsraum, and free text only as scrubbed candidates the presenter confirms.

What leaves a client file for a coordination object (Fallbesprechung, Fallrekonstruktion,
Erkenntnis, later statistics) passes through this module:

- **Names** become neutral labels per case, gender-aware, in a fixed order (the case's client
  first): adults "Frau A.", "Herr B.", "Person C." (divers/keine Angabe), children "Kind 1",
  "Kind 2"; an organisation becomes "Organisation A"; an institution of the network becomes its
  kind ("Jobcenter"). The letters are given in order, never taken from the real name, so even an
  initial does not leak.
- **Exact dates** become relative ones ("Monat 3 der Begleitung", "vor 4 Monaten") or a month
  ("März 2026"); a birth date never leaves, not even as a month.
- **Ages** become the statistics age bands of the reference data (DOMAIN.md: 0–13, 14–17, 18–26,
  27–44, 45–64, 65+). Using the same bands as the statistics means a review and a statistics
  table can never be combined into a finer age than either shows; 14 and 27 are the JMD/MBE
  boundaries coordinators already think in.
- **Places and addresses** become the Planungsraum of the client's Kommune (team.planning_area).
- **Free text** (notes, concern, goals, steps …) is never passed through automatically: it is
  offered as :class:`FreeTextCandidate` with a best-effort scrubbed suggestion (names, birth date,
  address, phone, e-mail of the people of the case replaced). Only text the presenter confirmed
  (:func:`confirm_free_text`, or a coordination use case that calls :meth:`CasePseudonymiser.
  check`) may enter a coordination object; the confirmation re-checks the text and refuses it
  with a German ValidationError while an identifying value of a person of the case still occurs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kimdesk.casework.cases import case_people
from kimdesk.casework.common import load, record_read
from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.models import (
    Assessment,
    Case,
    Client,
    Contact,
    Goal,
    Household,
    Institution,
    PhaseChange,
    Referral,
    Relation,
    Step,
)
from kimdesk.models.enums import ClientKind
from kimdesk.reference import AgeBand, Reference

# Kinds of identifying values, as a presenter reads them in a refusal.
NAME = "Name"
BIRTH_DATE = "Geburtsdatum"
ADDRESS = "Adresse"
PHONE = "Telefonnummer"
EMAIL = "E-Mail-Adresse"
FILE_NUMBER = "Telefon- oder Aktennummer"

# What a scrubbed suggestion puts where an identifying value was.
PLACEHOLDERS = {
    BIRTH_DATE: "[Geburtsdatum]",
    ADDRESS: "[Adresse]",
    PHONE: "[Telefonnummer]",
    EMAIL: "[E-Mail]",
    FILE_NUMBER: "[Nummer]",
}

# Review sections a candidate is offered for (CaseReview's fixed schema, concept 5.5.3).
OCCASION = "occasion"
RELEVANT_INFORMATION = "relevant_information"
DEVELOPMENT = "development"
NETWORK = "network"
SECTIONS = (OCCASION, RELEVANT_INFORMATION, DEVELOPMENT, NETWORK)

MONTH_NAMES = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
               "September", "Oktober", "November", "Dezember")

ADULT_AGE = 18
# Name particles that identify nobody on their own; matched only as part of the whole name.
_PARTICLES = frozenset({
    "von", "van", "der", "den", "de", "del", "della", "di", "da", "dos", "du", "la", "le", "al",
    "el", "bin", "ibn", "ben", "bint", "abu", "zu", "ter", "ten", "y", "e",
})
_TITLES = ("frau", "herr", "fr", "hr", "familie", "fam")
_CHILD_ROLES = ("kind", "tochter", "sohn", "enkel", "child", "daughter", "son")
# Letters that do not decompose under NFKD but are typed without their mark ("Yilmaz").
_TRANSLITERATE = str.maketrans({"ı": "i", "ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe",
                                "ð": "d", "þ": "th", "ħ": "h"})
# Neutral labels a confirmed text may contain even where a surname happens to be "Kind" or "Frau".
_LABEL_PATTERN = re.compile(r"\b(?:Frau|Herr|Person|Organisation) [A-Z]{1,2}\.|\bKind \d{1,3}\b")
_EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number, file number or account number: a run of digits with the usual separators.
_NUMBER_RUN = re.compile(r"\+?\d(?:[\d /().-]*\d)?")
MIN_GENERIC_DIGITS = 7
MIN_PHONE_DIGITS = 6
_DATE_DMY = re.compile(r"(?<!\d)(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?!\d)")
_DATE_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DATE_SLASH = re.compile(r"(?<!\d)(\d{1,2})[/-](\d{1,2})[/-](\d{4}|\d{2})(?!\d)")
_DATE_WORDS = re.compile(
    r"(?<!\d)(\d{1,2})\.?\s*(" + "|".join((*MONTH_NAMES, "Jan", "Feb", "Mär", "Apr", "Jun",
                                               "Jul", "Aug", "Sep", "Sept", "Okt", "Nov", "Dez"))
    + r")\.?\s*(\d{4})(?!\d)", re.IGNORECASE)
_POSTCODE_TOWN = re.compile(r"^\s*(\d{5})\s+(.+?)\s*$")


# --- result types -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonLabel:
    """A person of the case as coordination views show them: never a name or a birth date."""

    label: str  # "Frau A.", "Herr B.", "Person C.", "Kind 1", "Organisation A"
    role: str  # "Ratsuchende", "Tochter", "Ehepartner:in", "Haushaltsmitglied" ...
    age_band: str  # "18–26 Jahre", or "Alter unbekannt"
    is_child: bool
    main: bool  # the case's own client

    @property
    def description(self) -> str:
        """"Frau A. (Ratsuchende, 18–26 Jahre)"."""
        return f"{self.label} ({self.role}, {self.age_band})"


@dataclass(frozen=True)
class FreeTextCandidate:
    """A free text of the case offered for a coordination object, with a scrubbed suggestion.

    ``suggestion`` is a best effort only: the presenter reads, edits and confirms it; nothing
    enters a coordination object without that confirmation (see :func:`confirm_free_text`).
    ``replaced`` names the kinds of values that were replaced (e.g. ("Name", "Telefonnummer")).
    """

    key: str  # stable: "case:concern", "contact:<id>:note", "goal:<id>:title" ...
    source: str  # German: "Anliegen", "Kontakt (Monat 3 der Begleitung)", "Ziel von Frau A."
    section: str  # review section it suits: occasion, relevant_information, development, network
    suggestion: str
    replaced: tuple[str, ...] = ()


# --- text matching ----------------------------------------------------------------------------


def fold_token(token: str) -> str:
    """A word's comparison key: case and diacritics ignored ("Wiśniewska" ~ "WISNIEWSKA")."""
    decomposed = unicodedata.normalize("NFKD", token.casefold().translate(_TRANSLITERATE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def tokens(text: str) -> list[tuple[int, int, str]]:
    """Words of ``text`` as (start, end, folded word); letters, digits and combining marks."""
    result: list[tuple[int, int, str]] = []
    start: int | None = None
    for index, ch in enumerate(text):
        if _is_word_char(ch):
            if start is None:
                start = index
        elif start is not None:
            result.append((start, index, fold_token(text[start:index])))
            start = None
    if start is not None:
        result.append((start, len(text), fold_token(text[start:])))
    return result


def _word_keys(text: str) -> tuple[str, ...]:
    return tuple(t[2] for t in tokens(unicodedata.normalize("NFC", text)))


def _digits(text: str) -> str:
    """A phone number's digits in national form: "+49 157 …" and "0049 157 …" → "0157…"."""
    stripped = text.strip()
    digits = "".join(ch for ch in stripped if ch.isdigit())
    if stripped.startswith("+"):
        digits = "0" + digits[2:] if digits.startswith("49") else "00" + digits
    if digits.startswith("0049"):
        digits = "0" + digits[4:]
    return digits


def _date_formats(day: date) -> set[str]:
    """The ways a German text writes ``day``: 07.04.1991, 7.4.91, 1991-04-07, 07/04/1991 …"""
    d, m, y, yy = day.day, day.month, day.year, day.year % 100
    found = {day.isoformat()}
    for dd in {f"{d:02d}", str(d)}:
        for mm in {f"{m:02d}", str(m)}:
            for year in (str(y), f"{yy:02d}"):
                found |= {f"{dd}.{mm}.{year}", f"{dd}/{mm}/{year}", f"{dd}-{mm}-{year}",
                          f"{dd}. {mm}. {year}"}
    return found


def _parse_dates(text: str) -> list[tuple[int, int, date]]:
    """Every exact date written in ``text`` with its span (two-digit years as 19xx/20xx)."""
    found: list[tuple[int, int, date]] = []

    def add(start: int, end: int, year: int, month: int, day: int, two_digit: bool) -> None:
        years = [1900 + year, 2000 + year] if two_digit else [year]
        for full in years:
            try:
                found.append((start, end, date(full, month, day)))
            except ValueError:
                continue

    for match in _DATE_DMY.finditer(text):
        d, m, y = match.groups()
        add(match.start(), match.end(), int(y), int(m), int(d), len(y) == 2)
    for match in _DATE_SLASH.finditer(text):
        d, m, y = match.groups()
        add(match.start(), match.end(), int(y), int(m), int(d), len(y) == 2)
    for match in _DATE_ISO.finditer(text):
        y, m, d = match.groups()
        add(match.start(), match.end(), int(y), int(m), int(d), False)
    for match in _DATE_WORDS.finditer(text):
        d, month_word, y = match.groups()
        month = _month_number(month_word)
        if month:
            add(match.start(), match.end(), int(y), month, int(d), False)
    return found


def _month_number(word: str) -> int:
    key = fold_token(word)[:3]
    for index, name in enumerate(MONTH_NAMES, start=1):
        if fold_token(name)[:3] == key:
            return index
    return 0


@dataclass(frozen=True)
class _NamePattern:
    words: tuple[str, ...]  # folded words that must follow each other
    replacement: str
    kind: str


@dataclass
class _Identity:
    """The identifying values of one person of the case."""

    label: str
    names: list[tuple[str, ...]] = field(default_factory=list)
    birth_date: date | None = None
    street_parts: list[tuple[str, ...]] = field(default_factory=list)
    postcodes: list[str] = field(default_factory=list)
    literals: list[str] = field(default_factory=list)  # whole address lines, e-mail
    phones: list[str] = field(default_factory=list)  # national digits


def _name_patterns(full_name: str) -> list[tuple[str, ...]]:
    """The whole name and each distinctive part of it (particles only as part of the whole)."""
    words = _word_keys(full_name)
    if not words:
        return []
    patterns = [words]
    if len(words) > 1:
        patterns += [(w,) for w in words if len(w) >= 2 and w not in _PARTICLES]
    return [p for p in patterns if any(len(w) >= 2 for w in p)]


def _address_parts(address: str) -> tuple[list[tuple[str, ...]], list[str], list[str]]:
    """Street lines (as word sequences, with and without the house number) and postcodes."""
    streets: list[tuple[str, ...]] = []
    postcodes: list[str] = []
    towns: list[str] = []
    for part in re.split(r"[,;\n]+", address):
        part = part.strip()
        if not part:
            continue
        postcode_town = _POSTCODE_TOWN.match(part)
        if postcode_town:
            postcodes.append(postcode_town.group(1))
            towns.append(postcode_town.group(2))
            continue
        words = _word_keys(part)
        if not words:
            continue
        if len(words) == 1 and words[0].isdigit():
            if len(words[0]) == 5:
                postcodes.append(words[0])
            continue
        streets.append(words)
        without_number = tuple(w for w in words if not any(ch.isdigit() for ch in w))
        if without_number and without_number != words:
            streets.append(without_number)
    return streets, postcodes, towns


class CasePseudonymiser:
    """Pseudonymises what one case shows: its people, dates, places and free texts.

    Built by :func:`pseudonymiser_for` inside a session; afterwards it holds no ORM objects and
    can be used after the session closed (by the worker thread that built it).
    """

    def __init__(self, *, today: date, opened_on: date, planning_area: str,
                 people: Sequence[PersonLabel], identities: Sequence[_Identity],
                 towns: Iterable[str] = (), institutions: Iterable[tuple[str, str]] = ()
                 ) -> None:
        self.today = today
        self.opened_on = opened_on
        self.planning_area = planning_area
        self.people = tuple(people)
        self._identities = list(identities)
        self._towns = [w for w in (_word_keys(t) for t in towns) if w]
        # Institution names may name a doctor; suggestions show the kind instead.
        self._institutions = [(words, kind) for words, kind in
                              ((_word_keys(name), kind) for name, kind in institutions) if words]
        self._labels: dict[str, str] = {}

    # --- labels, dates, ages --------------------------------------------------------------

    def label_of(self, client_id: str) -> str:
        """The neutral label of a person of the case ("Person" for anyone else)."""
        return self._labels.get(client_id, "eine weitere Person")

    def case_month(self, day: date) -> str:
        """"Monat 3 der Begleitung": the month of the case ``day`` falls in."""
        return relative_month(self.opened_on, day)

    def ago(self, day: date) -> str:
        return months_ago(self.today, day)

    # --- free text ------------------------------------------------------------------------

    def _name_patterns(self) -> list[_NamePattern]:
        patterns = [_NamePattern(words, identity.label, NAME)
                    for identity in self._identities for words in identity.names]
        # "Frau Yılmaz" becomes "Frau A.", not "Frau Frau A.".
        patterns += [_NamePattern((title, *p.words), p.replacement, NAME)
                     for p in list(patterns) for title in _TITLES]
        patterns += [_NamePattern(words, PLACEHOLDERS[ADDRESS], ADDRESS)
                     for identity in self._identities for words in identity.street_parts]
        return sorted(patterns, key=lambda p: -len(p.words))

    def _literal_hits(self, text: str) -> list[tuple[int, int, str, str]]:
        """Spans of birth dates, e-mails, whole address lines, postcodes and phone numbers."""
        hits: list[tuple[int, int, str, str]] = []
        for identity in self._identities:
            for literal in identity.literals:
                kind = EMAIL if "@" in literal else ADDRESS
                for match in re.finditer(re.escape(literal), text, re.IGNORECASE):
                    hits.append((match.start(), match.end(), kind, PLACEHOLDERS[kind]))
            if identity.birth_date is not None:
                for fmt in _date_formats(identity.birth_date):
                    for match in re.finditer(r"(?<!\d)" + re.escape(fmt) + r"(?!\d)", text):
                        hits.append((match.start(), match.end(), BIRTH_DATE,
                                     PLACEHOLDERS[BIRTH_DATE]))
                for start, end, day in _parse_dates(text):
                    if day == identity.birth_date:
                        hits.append((start, end, BIRTH_DATE, PLACEHOLDERS[BIRTH_DATE]))
            for postcode in identity.postcodes:
                for match in re.finditer(r"(?<!\d)" + postcode + r"(?!\d)", text):
                    hits.append((match.start(), match.end(), ADDRESS, PLACEHOLDERS[ADDRESS]))
        for match in _EMAIL_PATTERN.finditer(text):
            hits.append((match.start(), match.end(), EMAIL, PLACEHOLDERS[EMAIL]))
        phones = [p for identity in self._identities for p in identity.phones]
        for match in _NUMBER_RUN.finditer(text):
            run = _digits(match.group())
            own = any(p in run or (len(p) > MIN_PHONE_DIGITS and p[1:] in run) for p in phones)
            if own:
                hits.append((match.start(), match.end(), PHONE, PLACEHOLDERS[PHONE]))
            elif len(run) >= MIN_GENERIC_DIGITS and not _is_date_run(match.group()):
                hits.append((match.start(), match.end(), FILE_NUMBER, PLACEHOLDERS[FILE_NUMBER]))
        return hits

    def _word_hits(self, text: str, patterns: list[_NamePattern]
                   ) -> list[tuple[int, int, str, str]]:
        words = tokens(text)
        keys = [w[2] for w in words]
        hits: list[tuple[int, int, str, str]] = []
        index = 0
        while index < len(words):
            matched = 0
            for pattern in patterns:
                size = len(pattern.words)
                window = keys[index:index + size]
                if len(window) == size and all(
                    _word_matches(have, want) for have, want in zip(window, pattern.words,
                                                                    strict=True)
                ):
                    hits.append((words[index][0], words[index + size - 1][1], pattern.kind,
                                 pattern.replacement))
                    matched = size
                    break
            index += matched or 1
        return hits

    def identifiers_in(self, text: str) -> list[str]:
        """The kinds of identifying values still in ``text`` (empty: it may be confirmed)."""
        text = unicodedata.normalize("NFC", text)
        masked = _LABEL_PATTERN.sub(lambda m: "#" * len(m.group()), text)
        hits = self._literal_hits(masked) + self._word_hits(masked, self._name_patterns())
        order = (NAME, BIRTH_DATE, ADDRESS, PHONE, EMAIL, FILE_NUMBER)
        kinds = {hit[2] for hit in hits}
        return [kind for kind in order if kind in kinds]

    def check(self, text: str, field_name: str = "text", label: str = "Der Text") -> str:
        """``text`` as confirmed by the presenter, or a German ValidationError while a name,
        birth date, address, phone number or e-mail of a person of the case still occurs."""
        text = unicodedata.normalize("NFC", text.strip())
        kinds = self.identifiers_in(text)
        if kinds:
            raise ValidationError(
                f"{label} enthält noch persönliche Angaben ({', '.join(kinds)}). Bitte "
                "entfernen oder durch die neutrale Bezeichnung ersetzen (z. B. „Frau A.“).",
                field_name)
        return text

    def scrub(self, text: str) -> tuple[str, tuple[str, ...]]:
        """A best-effort suggestion: identifying values replaced, exact dates made relative.

        Returns the suggestion and the kinds of values replaced. Runs until nothing is left to
        replace, so a suggestion always passes :meth:`check` unless the presenter adds a value.
        """
        text = unicodedata.normalize("NFC", text.strip())
        replaced: list[str] = []
        for _round in range(5):
            masked = _LABEL_PATTERN.sub(lambda m: "#" * len(m.group()), text)
            hits = self._literal_hits(masked) + self._word_hits(masked, self._name_patterns())
            hits += self._other_hits(masked)
            if not hits:
                break
            text = _apply(text, hits)
            replaced += [hit[2] for hit in hits if hit[2]]
        order = (NAME, BIRTH_DATE, ADDRESS, PHONE, EMAIL, FILE_NUMBER)
        return text, tuple(kind for kind in order if kind in replaced)

    def _other_hits(self, text: str) -> list[tuple[int, int, str, str]]:
        """Places become the Planungsraum, exact dates relative, institutions their kind."""
        hits = [(s, e, "", kind) for s, e, kind in
                ((s, e, k) for s, e, k in self._pattern_spans(text, self._institutions))]
        hits += [(s, e, "", self.planning_area) for s, e, _ in
                 self._pattern_spans(text, [(words, "") for words in self._towns])]
        for start, end, day in _parse_dates(text):
            hits.append((start, end, "", f"[{self.case_month(day)}]"))
        return hits

    @staticmethod
    def _pattern_spans(text: str, patterns: list[tuple[tuple[str, ...], str]]
                       ) -> list[tuple[int, int, str]]:
        words = tokens(text)
        keys = [w[2] for w in words]
        spans: list[tuple[int, int, str]] = []
        for index in range(len(words)):
            for pattern, replacement in patterns:
                if tuple(keys[index:index + len(pattern)]) == pattern:
                    spans.append((words[index][0], words[index + len(pattern) - 1][1],
                                  replacement))
                    break
        return spans

    def candidate(self, key: str, source: str, section: str, text: str) -> FreeTextCandidate:
        suggestion, replaced = self.scrub(text)
        return FreeTextCandidate(key, source, section, suggestion, replaced)


def _word_matches(have: str, want: str) -> bool:
    # German genitive: "Aminas Termin" still names Amina.
    return have == want or (len(want) >= 2 and have in (want + "s", want + "ss"))


def _is_date_run(text: str) -> bool:
    text = text.strip()
    return any(pattern.fullmatch(text) for pattern in (_DATE_DMY, _DATE_ISO, _DATE_SLASH))


def _apply(text: str, hits: list[tuple[int, int, str, str]]) -> str:
    """Replace the spans of ``hits`` (overlaps merged, the widest span wins)."""
    hits = sorted(hits, key=lambda h: (h[0], -(h[1] - h[0])))
    merged: list[tuple[int, int, str]] = []
    for start, end, _kind, replacement in hits:
        if merged and start < merged[-1][1]:
            last_start, last_end, last_replacement = merged[-1]
            merged[-1] = (last_start, max(last_end, end), last_replacement)
            continue
        merged.append((start, end, replacement))
    parts: list[str] = []
    position = 0
    for start, end, replacement in merged:
        parts.append(text[position:start])
        parts.append(replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


# --- dates and ages ---------------------------------------------------------------------------


def _months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end >= start and end.day < start.day:
        months -= 1
    elif end < start and end.day > start.day:
        months += 1
    return months


def relative_month(start: date, day: date) -> str:
    """"Monat 3 der Begleitung" (the first month is Monat 1); earlier days "vor Beginn"."""
    if day < start:
        return "vor Beginn der Begleitung"
    return f"Monat {_months_between(start, day) + 1} der Begleitung"


def months_ago(today: date, day: date) -> str:
    """"vor 4 Monaten", "vor 2 Jahren", "in diesem Monat", "in 3 Monaten"."""
    months = _months_between(day, today)
    if months < 0:
        ahead = -months
        return "in 1 Monat" if ahead == 1 else f"in {ahead} Monaten"
    if months == 0:
        return "in diesem Monat"
    if months < 24:
        return "vor 1 Monat" if months == 1 else f"vor {months} Monaten"
    return f"vor {months // 12} Jahren"


def month_year(day: date) -> str:
    """"März 2026": the finest a date may be outside the client file."""
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def age_band_label(reference: Reference, birth_date: date | None, on: date) -> str:
    """The statistics age band of a person on ``on``: "18–26 Jahre", or "Alter unbekannt"."""
    if birth_date is None or birth_date > on:
        return "Alter unbekannt"
    band = reference.age_band_for(age_on(birth_date, on))
    assert isinstance(band, AgeBand)
    return f"{band.label} Jahre"


# --- building a case's pseudonymiser ----------------------------------------------------------


def _letter(index: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[index] if index < len(letters) else letters[index // 26 - 1] + letters[
        index % 26]


def _is_child(client: Client, on: date, parent_of: bool) -> bool:
    if client.birth_date is not None:
        return age_on(client.birth_date, on) < ADULT_AGE
    role = fold_token(client.household_role)
    return parent_of or any(word in role for word in _CHILD_ROLES)


def _identity(client: Client, label: str, household: Household | None) -> _Identity:
    identity = _Identity(label)
    for name in (f"{client.first_name} {client.last_name}", client.first_name,
                 client.last_name, client.organisation_name):
        for pattern in _name_patterns(name):
            if pattern not in identity.names:
                identity.names.append(pattern)
    identity.birth_date = client.birth_date
    for address in (client.address, household.address if household else ""):
        if address.strip():
            streets, postcodes, _towns = _address_parts(address)
            identity.street_parts += streets
            identity.postcodes += postcodes
            identity.literals.append(address.strip())
    if client.email.strip():
        identity.literals.append(client.email.strip())
    phone = _digits(client.phone)
    if len(phone) >= MIN_PHONE_DIGITS:
        identity.phones.append(phone)
    return identity


def pseudonymiser_for(ctx: Context, session: Session, case_id: str) -> CasePseudonymiser:
    """The pseudonymiser of a case: its client, participants, household and related persons.

    Reads the client file inside ``session`` (the caller audits the reading, see
    :func:`read_for_coordination`).
    """
    case = load(session, Case, case_id, "Der Fall")
    today = ctx.today()
    people_ids = list(case_people(session, case))
    main = load(session, Client, case.client_id, "Die Person")
    household_id = case.household_id or main.household_id
    if household_id:
        people_ids += [i for i in session.scalars(
            select(Client.id).where(Client.household_id == household_id)
            .order_by(Client.created_at)) if i not in people_ids]
    relations = list(session.scalars(select(Relation).where(or_(
        Relation.client_id.in_(people_ids), Relation.other_id.in_(people_ids)))))
    for relation in relations:
        for other in (relation.client_id, relation.other_id):
            if other not in people_ids:
                people_ids.append(other)
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(people_ids)))}
    children_of_main = {r.other_id for r in relations
                        if r.client_id == main.id and r.kind == "parent_of"}
    parents_of_main = {r.client_id for r in relations
                       if r.other_id == main.id and r.kind == "parent_of"}
    spouses = {r.other_id if r.client_id == main.id else r.client_id for r in relations
               if r.kind == "spouse" and main.id in (r.client_id, r.other_id)}
    participants = set(case_people(session, case))
    households = {h.id: h for h in session.scalars(select(Household).where(
        Household.id.in_({c.household_id for c in clients.values() if c.household_id})))}

    labels: list[PersonLabel] = []
    identities: list[_Identity] = []
    by_id: dict[str, str] = {}
    adults = children = organisations = 0
    towns: list[str] = []
    for client_id in people_ids:
        client = clients.get(client_id)
        if client is None:
            continue
        if client.kind == ClientKind.ORGANISATION:
            label = f"Organisation {_letter(organisations)}"
            organisations += 1
            role = "Ratsuchende Organisation" if client_id == main.id else "Organisation"
            child = False
        else:
            child = _is_child(client, today, client_id in children_of_main)
            if child:
                children += 1
                label = f"Kind {children}"
            else:
                title = {"female": "Frau", "male": "Herr"}.get(client.gender, "Person")
                label = f"{title} {_letter(adults)}."
                adults += 1
            role = _role(client, client_id == main.id, child, client_id in children_of_main,
                         client_id in parents_of_main, client_id in spouses,
                         client_id in participants)
        by_id[client_id] = label
        labels.append(PersonLabel(label, role, age_band_label(ctx.reference, client.birth_date,
                                                              today),
                                  child, client_id == main.id))
        household = households.get(client.household_id or "")
        identities.append(_identity(client, label, household))
        for address in (client.address, household.address if household else ""):
            towns += _address_parts(address)[2]
        municipality = ctx.reference.find_municipality(client.municipality) if (
            client.municipality) else None
        if municipality is not None:
            towns += [municipality.name] + ([municipality.short_name]
                                            if municipality.short_name else [])
    institution_rows = session.execute(
        select(Institution.name, Institution.institution_type).join(
            Referral, Referral.institution_id == Institution.id).where(
            Referral.case_id == case_id)).all()
    institutions = [(row.name, _institution_label(ctx, row.institution_type))
                    for row in institution_rows]
    pseudonymiser = CasePseudonymiser(
        today=today, opened_on=case.opened_on, planning_area=planning_area(ctx, case.municipality),
        people=labels, identities=identities, towns=towns, institutions=institutions)
    pseudonymiser._labels = by_id
    return pseudonymiser


class VaultChecker:
    """The checks of :meth:`CasePseudonymiser.check` against every person of the vault, for a
    text that names no case (a release to the county scope, kimdesk/casework/county.py): it
    refuses the names, birth dates, addresses, phone numbers and e-mail addresses of all of
    them, and any e-mail address or phone or file number. It only checks; it labels nobody.

    Checking a text against thousands of people at once is slow (every name pattern at every
    word), so each check first keeps the people who could occur in that text at all (one of
    their words, literals, dates or numbers is there) and checks against those: the same hits,
    since every hit of a person needs one of them.
    """

    def __init__(self, ctx: Context, session: Session) -> None:
        households = {h.id: h for h in session.scalars(select(Household))}
        self._people = [_Prefilter(_identity(client, "Person",
                                             households.get(client.household_id or "")))
                        for client in session.scalars(select(Client))]
        self._today = ctx.today()

    def check(self, text: str, field_name: str = "text", label: str = "Der Text") -> str:
        normal = unicodedata.normalize("NFC", text.strip())
        words = {w[2] for w in tokens(normal)}
        words |= {w[:-1] for w in words if w.endswith("s")}  # genitive: "Aminas"
        words |= {w[:-2] for w in words if w.endswith("ss")}
        days = {day for _s, _e, day in _parse_dates(normal)}
        runs = [_digits(m.group()) for m in _NUMBER_RUN.finditer(normal)]
        lowered = normal.lower()
        candidates = [p.identity for p in self._people
                      if p.may_occur(normal, lowered, words, days, runs)]
        return CasePseudonymiser(today=self._today, opened_on=self._today, planning_area="",
                                 people=(), identities=candidates).check(text, field_name,
                                                                         label)


class _Prefilter:
    """One person's values prepared for :meth:`may_occur` (a superset of the checker's hits)."""

    def __init__(self, identity: _Identity) -> None:
        self.identity = identity
        self._words = frozenset(w for pattern in (*identity.names, *identity.street_parts)
                                for w in pattern)
        self._literals = [literal.lower() for literal in identity.literals]
        self._exotic = [literal for literal in identity.literals
                        if len(literal.lower()) != len(literal)]
        self._dates = (_date_formats(identity.birth_date) if identity.birth_date is not None
                       else set())

    def may_occur(self, text: str, lowered: str, words: set[str], days: set[date],
                  runs: list[str]) -> bool:
        identity = self.identity
        return bool(
            not self._words.isdisjoint(words)
            or any(literal in lowered for literal in self._literals)
            or any(re.search(re.escape(literal), text, re.IGNORECASE)
                   for literal in self._exotic)
            or (identity.birth_date is not None and identity.birth_date in days)
            or any(fmt in text for fmt in self._dates)
            or any(postcode in text for postcode in identity.postcodes)
            or any(p in run or (len(p) > MIN_PHONE_DIGITS and p[1:] in run)
                   for p in identity.phones for run in runs))


def _role(client: Client, main: bool, child: bool, child_of_main: bool, parent_of_main: bool,
          spouse: bool, participant: bool) -> str:
    if main:
        return {"female": "Ratsuchende", "male": "Ratsuchender"}.get(client.gender,
                                                                     "Ratsuchende:r")
    if child_of_main:
        return {"female": "Tochter", "male": "Sohn"}.get(client.gender, "Kind")
    if parent_of_main:
        return {"female": "Mutter", "male": "Vater"}.get(client.gender, "Elternteil")
    if spouse:
        return "Ehepartner:in"
    if child:
        return "Kind im Haushalt"
    return "weitere Person im Fall" if participant else "Haushaltsmitglied"


def _institution_label(ctx: Context, institution_type: str) -> str:
    try:
        return ctx.reference.label("institution_types", institution_type)
    except KeyError:
        return "Einrichtung"


def planning_area(ctx: Context, municipality: str) -> str:
    """The Planungsraum of a Kommune (team.planning_area); "Kreis Kleve" where there is none."""
    try:
        team = ctx.reference.team_for_municipality(municipality)
    except KeyError:
        return "Kreis Kleve"
    return team.planning_area or "Kreis Kleve"


# --- use cases --------------------------------------------------------------------------------


def read_for_coordination(ctx: Context, session: Session, case_id: str) -> CasePseudonymiser:
    """Build the case's pseudonymiser and audit that its client file was read for it."""
    pseudonymiser = pseudonymiser_for(ctx, session, case_id)
    case = load(session, Case, case_id, "Der Fall")
    record_read(ctx, session, load(session, Client, case.client_id, "Die Person"), case)
    return pseudonymiser


def case_people_labels(ctx: Context, case_id: str) -> tuple[PersonLabel, ...]:
    """The people of a case as neutral labels, the case's client first."""
    with ctx.vault.writing() as session:
        return read_for_coordination(ctx, session, case_id).people


def free_text_candidates(ctx: Context, case_id: str) -> list[FreeTextCandidate]:
    """Every free text of the case, each with a scrubbed suggestion, for the presenter to
    read, edit and confirm; nothing here has been confirmed yet."""
    with ctx.vault.writing() as session:
        pseudonymiser = read_for_coordination(ctx, session, case_id)
        return collect_candidates(ctx, session, case_id, pseudonymiser)


def collect_candidates(ctx: Context, session: Session, case_id: str,
                       pseudonymiser: CasePseudonymiser) -> list[FreeTextCandidate]:
    """The free texts of a case as candidates (inside an open session)."""
    case = load(session, Case, case_id, "Der Fall")
    p = pseudonymiser
    found: list[FreeTextCandidate] = []

    def offer(key: str, source: str, section: str, text: str) -> None:
        if text and text.strip():
            found.append(p.candidate(key, source, section, text))

    offer("case:concern", "Anliegen", OCCASION, case.concern)
    people = case_people(session, case)
    for client in session.scalars(select(Client).where(Client.id.in_(people))):
        offer(f"client:{client.id}:notes", f"Notizen zu {p.label_of(client.id)}",
              RELEVANT_INFORMATION, client.notes)
    for a in session.scalars(select(Assessment).where(Assessment.case_id == case_id)
                             .order_by(Assessment.created_at)):
        area = _term_label(ctx, "life_areas", a.life_area)
        who = p.label_of(a.client_id)
        for name, label, section in (("situation", "Situation", RELEVANT_INFORMATION),
                                     ("resources", "Ressourcen", RELEVANT_INFORMATION),
                                     ("problems", "Probleme", RELEVANT_INFORMATION),
                                     ("client_view", "Sicht der Person", RELEVANT_INFORMATION),
                                     ("institutions", "beteiligte Stellen", NETWORK)):
            offer(f"assessment:{a.id}:{name}", f"Assessment {area} ({who}): {label}", section,
                  getattr(a, name))
    for change in session.scalars(select(PhaseChange).where(PhaseChange.case_id == case_id)
                                  .order_by(PhaseChange.created_at)):
        offer(f"phase:{change.id}:note", f"Phasenwechsel ({p.case_month(change.changed_on)})",
              DEVELOPMENT, change.note)
    for contact in session.scalars(select(Contact).where(
            Contact.case_id == case_id, Contact.superseded.is_(False))
            .order_by(Contact.contact_on, Contact.created_at)):
        offer(f"contact:{contact.id}:note", f"Kontakt ({p.case_month(contact.contact_on)})",
              DEVELOPMENT, contact.note)
    goals = list(session.scalars(select(Goal).where(Goal.case_id == case_id)
                                 .order_by(Goal.created_at)))
    for goal in goals:
        who = p.label_of(goal.client_id)
        offer(f"goal:{goal.id}:title", f"Ziel von {who}", DEVELOPMENT, goal.title)
        offer(f"goal:{goal.id}:detail", f"Ziel von {who} (Feinziel)", DEVELOPMENT, goal.detail)
    for step in session.scalars(select(Step).where(Step.goal_id.in_([g.id for g in goals]))
                                .order_by(Step.created_at)):
        offer(f"step:{step.id}:description", "Handlungsschritt", DEVELOPMENT, step.description)
    for referral, kind in session.execute(
            select(Referral, Institution.institution_type).join(
                Institution, Institution.id == Referral.institution_id)
            .where(Referral.case_id == case_id).order_by(Referral.referred_on)):
        offer(f"referral:{referral.id}:purpose",
              f"Vermittlung an {_institution_label(ctx, kind)} "
              f"({p.case_month(referral.referred_on)})", NETWORK, referral.purpose)
    return found


def _term_label(ctx: Context, vocabulary: str, code: str) -> str:
    try:
        return ctx.reference.label(vocabulary, code)
    except KeyError:
        return code


def identifiers_in(ctx: Context, case_id: str, text: str) -> list[str]:
    """Kinds of identifying values of the case's people still in ``text`` (for live hints)."""
    with ctx.vault.reading() as session:
        return pseudonymiser_for(ctx, session, case_id).identifiers_in(text)


def confirm_free_text(ctx: Context, case_id: str, text: str, field_name: str = "text",
                      label: str = "Der Text") -> str:
    """The presenter's explicit confirmation of a (possibly edited) text for a coordination
    object of ``case_id``: returns the text, or raises a German ValidationError naming the
    kinds of identifying values (never the values) that still occur."""
    with ctx.vault.reading() as session:
        return pseudonymiser_for(ctx, session, case_id).check(text, field_name, label)


def check_general_text(text: str, field_name: str = "text", label: str = "Der Text") -> str:
    """For texts not taken from a case (Projektgruppe, Lenkungsgruppe, Teamsitzung): refuses
    e-mail addresses and phone or file numbers, which are personal data whoever they name."""
    return CasePseudonymiser(today=date.min, opened_on=date.min, planning_area="", people=(),
                             identities=()).check(text, field_name, label)
