"""Reference data of the Kreis Kleve (Kommunen, teams, Träger, vocabularies, rules) from TOML."""

from __future__ import annotations

import functools
import os
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

from kimdesk.errors import KimdeskError

ENV_VAR = "KIMDESK_REFERENCE_DIR"
DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "resources" / "reference"

ORGANISATION_FILE = "organisation.toml"
VOCABULARIES_FILE = "vocabularies.toml"
NATIONALITIES_FILE = "nationalities.toml"
RULES_FILE = "rules.toml"

# Vocabularies the code relies on; the county may add entries, but not drop a whole list.
REQUIRED_VOCABULARIES = (
    "case_kinds",
    "phases",
    "topics",
    "legal_domains",
    "residence_groups",
    "residence_statuses",
    "institution_types",
    "contact_kinds",
    "deadline_kinds",
    "referral_outcomes",
    "access_routes",
    "closing_reasons",
    "goal_attainment",
    "genders",
    "age_bands",
    "consent_kinds",
    "information_kinds",
    "provider_kinds",
    "world_regions",
    "barrier_kinds",
    "finding_sources",
    "review_tag_groups",
    "review_tags",
    "project_group_statuses",
    "decision_statuses",
    "decision_indicators",
    "steering_member_roles",
    "structural_activity_kinds",
)

_CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
_COUNTRY_CODE_PATTERN = re.compile(r"[A-Z]{2}")
# German adjective endings, longest first, so "polnischen" becomes "polnisch", not "polnische".
_ADJECTIVE_ENDINGS = ("en", "em", "er", "es", "e")
_POSTCODE_PREFIX = re.compile(r"^\d{5}\s+")
_MUNICIPALITY_PREFIX = re.compile(r"^(stadt|gemeinde)\s+", re.IGNORECASE)


class ReferenceDataError(KimdeskError):
    """A reference data file is missing or malformed (the county edits them by hand)."""


def fold(text: str) -> str:
    """Reduce text to a comparison key: case, spacing, punctuation and diacritics ignored.

    Umlauts typed as "ue"/"oe"/"ae" fold like "ü"/"ö"/"ä", so "Tuerkei", "Turkei" and "Türkei"
    meet. Both sides of every comparison go through this, so words that merely contain "ue"
    (Uedem) still match themselves.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    alphanumeric = "".join(ch for ch in stripped if ch.isalnum())
    return alphanumeric.replace("ae", "a").replace("oe", "o").replace("ue", "u")


@dataclass(frozen=True)
class Term:
    """One entry of a vocabulary: a stable code and the German label users see."""

    code: str
    label: str


@dataclass(frozen=True)
class ResidenceStatus(Term):
    """An Aufenthaltsstatus with its statistics group."""

    group: str
    chancen_104c: bool = False


@dataclass(frozen=True)
class InstitutionType(Term):
    """A kind of institution and the Rechtskreis proposed for referrals to it."""

    legal_domain: str


@dataclass(frozen=True)
class AgeBand(Term):
    """An age band for statistics; ``max_age`` None means open-ended."""

    min_age: int
    max_age: int | None

    def contains(self, age: int) -> bool:
        return age >= self.min_age and (self.max_age is None or age <= self.max_age)


@dataclass(frozen=True)
class InformationKind(Term):
    """A kind of information a release may cover; special categories are Art. 9 DSGVO data."""

    special_category: bool = False


@dataclass(frozen=True)
class ReviewTag(Term):
    """A Schlagwort of a Fallbesprechung; ``group`` is need, resource or challenge."""

    group: str


@dataclass(frozen=True)
class SteeringRole(Term):
    """A seat kind of the Lenkungsgruppe (concept 4.4) and how many seats it has."""

    seats: int = 1


@dataclass(frozen=True)
class Provider:
    """A Träger employing case managers."""

    code: str
    name: str
    short_name: str
    kind: str
    data_protection: str


@dataclass(frozen=True)
class ProviderShare:
    """VZÄ a Träger contributes to a team, optionally tied to one Kommune."""

    provider: str
    vza: float
    municipality: str | None = None


@dataclass(frozen=True)
class Team:
    """A Fachteam: a regional team with its Kommunen, or the county-wide Welcome-Center."""

    code: str
    name: str
    vza: float
    planning_area: str | None
    countywide: bool
    municipalities: tuple[str, ...]
    shares: tuple[ProviderShare, ...]
    focus: tuple[str, ...] = ()

    def vza_by_provider(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for share in self.shares:
            totals[share.provider] = round(totals.get(share.provider, 0.0) + share.vza, 4)
        return totals


@dataclass(frozen=True)
class Municipality:
    """A Kommune of the Kreis Kleve."""

    code: str
    name: str
    short_name: str | None
    team: str
    planning_area: str
    population: int | None = None


@dataclass(frozen=True)
class Nationality:
    """A Staatsangehörigkeit with its statistics grouping."""

    code: str
    name: str
    adjective: str
    region: str
    top10: bool
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Rules:
    """Configurable rules of casework: retention, caseload, Kurzintervention, § 104c, § 24."""

    retention_months: Mapping[str, int]
    cases_per_vza: int
    caseload_weights: Mapping[str, float]
    short_intervention_warn_at: int
    short_intervention_offer_conversion_at: int
    p104c_validity_months: int
    p104c_reminder_weeks: tuple[int, ...]
    p104c_last_grant_date: date
    p104c_checklist: tuple[Term, ...]
    p24_valid_on: date
    p24_continued_until: date


@dataclass(frozen=True, eq=False)
class Reference:
    """All reference data, with lookups. Build it with :func:`load_reference`."""

    directory: Path
    lead_provider: str
    providers: tuple[Provider, ...]
    teams: tuple[Team, ...]
    municipalities: tuple[Municipality, ...]
    nationalities: tuple[Nationality, ...]
    vocabularies: Mapping[str, tuple[Term, ...]]
    rules: Rules
    _municipality_keys: Mapping[str, str] = field(repr=False)
    _nationality_keys: Mapping[str, str] = field(repr=False)
    _adjective_keys: Mapping[str, str] = field(repr=False)

    @property
    def regional_teams(self) -> tuple[Team, ...]:
        return tuple(team for team in self.teams if not team.countywide)

    def provider(self, code: str) -> Provider:
        return _by_code(self.providers, code, "Träger")

    def team(self, code: str) -> Team:
        return _by_code(self.teams, code, "Team")

    def municipality(self, code: str) -> Municipality:
        return _by_code(self.municipalities, code, "Kommune")

    def team_for_municipality(self, code: str) -> Team:
        return self.team(self.municipality(code).team)

    def nationality(self, code: str) -> Nationality:
        return _by_code(self.nationalities, code.upper(), "Staatsangehörigkeit")

    def terms(self, vocabulary: str) -> tuple[Term, ...]:
        try:
            return self.vocabularies[vocabulary]
        except KeyError:
            known = ", ".join(sorted(self.vocabularies))
            raise KeyError(
                f"Unbekanntes Vokabular „{vocabulary}“ in den Referenzdaten (vorhanden: {known})"
            ) from None

    def term(self, vocabulary: str, code: str) -> Term:
        for term in self.terms(vocabulary):
            if term.code == code:
                return term
        raise KeyError(f"Unbekannter Code „{code}“ im Vokabular „{vocabulary}“")

    def label(self, vocabulary: str, code: str) -> str:
        return self.term(vocabulary, code).label

    def codes(self, vocabulary: str) -> tuple[str, ...]:
        return tuple(term.code for term in self.terms(vocabulary))

    def age_band_for(self, age: int) -> AgeBand:
        for band in self.terms("age_bands"):
            if isinstance(band, AgeBand) and band.contains(age):
                return band
        raise KeyError(f"Kein Altersband für das Alter {age}")

    def find_municipality(self, text: str) -> Municipality | None:
        """The Kommune meant by free text: code, name, short name, "Stadt Kleve", "47533 Kleve"."""
        cleaned = _MUNICIPALITY_PREFIX.sub("", _POSTCODE_PREFIX.sub("", text.strip()))
        code = self._municipality_keys.get(fold(cleaned))
        return self.municipality(code) if code else None

    def find_nationality(self, text: str) -> Nationality | None:
        """The Staatsangehörigkeit meant by free text: ISO code, name, adjective, English name."""
        stripped = text.strip()
        if _COUNTRY_CODE_PATTERN.fullmatch(stripped.upper()):
            code = stripped.upper()
            if any(n.code == code for n in self.nationalities):
                return self.nationality(code)
        key = fold(stripped)
        if not key:
            return None
        code = self._nationality_keys.get(key)
        if code is None:
            for ending in _ADJECTIVE_ENDINGS:
                if key.endswith(ending) and key[: -len(ending)] in self._adjective_keys:
                    code = self._adjective_keys[key[: -len(ending)]]
                    break
        return self.nationality(code) if code else None

    def nationality_group(self, code: str) -> str:
        """Statistics group: the country for the Kreis's top 10, otherwise the world region."""
        nationality = self.nationality(code)
        if nationality.top10:
            return nationality.name
        return self.label("world_regions", nationality.region)


def load_reference(directory: Path | None = None) -> Reference:
    """Load (once per directory) the reference data: given directory, $KIMDESK_REFERENCE_DIR,
    or the repository's resources/reference."""
    if directory is None:
        override = os.environ.get(ENV_VAR)
        directory = Path(override) if override else DEFAULT_DIRECTORY
    return _load_cached(Path(directory).resolve())


@functools.cache
def _load_cached(directory: Path) -> Reference:
    organisation = _read_toml(directory, ORGANISATION_FILE)
    vocabulary_data = _read_toml(directory, VOCABULARIES_FILE)
    nationality_data = _read_toml(directory, NATIONALITIES_FILE)
    rules_data = _read_toml(directory, RULES_FILE)

    vocabularies = _parse_vocabularies(vocabulary_data)
    providers = _parse_providers(organisation, vocabularies)
    lead_provider = _get(organisation, "lead_provider", str, ORGANISATION_FILE)
    if lead_provider not in {p.code for p in providers}:
        _fail(ORGANISATION_FILE, f"lead_provider „{lead_provider}“ ist kein Träger")
    teams, municipalities = _parse_teams(organisation, providers, lead_provider)
    nationalities = _parse_nationalities(nationality_data, vocabularies)
    rules = _parse_rules(rules_data, vocabularies)
    vocabularies["p104c_checklist"] = rules.p104c_checklist

    municipality_keys: dict[str, str] = {}
    for m in municipalities:
        for text in (m.code, m.name, m.short_name):
            if text:
                _add_key(municipality_keys, fold(text), m.code, ORGANISATION_FILE)
    nationality_keys: dict[str, str] = {}
    adjective_keys: dict[str, str] = {}
    for n in nationalities:
        for text in (n.code, n.name, n.adjective, *n.aliases):
            _add_key(nationality_keys, fold(text), n.code, NATIONALITIES_FILE)
        for text in (n.adjective, *n.aliases):
            if text == n.adjective or fold(text).endswith("isch"):
                _add_key(adjective_keys, fold(text), n.code, NATIONALITIES_FILE)

    return Reference(
        directory=directory,
        lead_provider=lead_provider,
        providers=providers,
        teams=teams,
        municipalities=municipalities,
        nationalities=nationalities,
        vocabularies=MappingProxyType(vocabularies),
        rules=rules,
        _municipality_keys=MappingProxyType(municipality_keys),
        _nationality_keys=MappingProxyType(nationality_keys),
        _adjective_keys=MappingProxyType(adjective_keys),
    )


# --- parsing ----------------------------------------------------------------------------------


def _parse_vocabularies(data: dict[str, Any]) -> dict[str, tuple[Term, ...]]:
    missing = [name for name in REQUIRED_VOCABULARIES if name not in data]
    if missing:
        _fail(VOCABULARIES_FILE, f"es fehlen die Listen {', '.join(missing)}")
    vocabularies: dict[str, tuple[Term, ...]] = {}
    for name, entries in data.items():
        where = f"{VOCABULARIES_FILE}, Liste {name}"
        if not isinstance(entries, list):
            _fail(where, "ist keine Liste [ ... ]")
        terms: list[Term] = []
        for entry in entries:
            if not isinstance(entry, dict):
                _fail(where, "jeder Eintrag braucht die Form { code = \"...\", label = \"...\" }")
            terms.append(_parse_term(name, entry, where))
        vocabularies[name] = _check_unique(terms, where)
    # The assessment's life areas are the Handlungsfelder; one list keeps them in step.
    vocabularies["life_areas"] = vocabularies["topics"]

    groups = {t.code for t in vocabularies["residence_groups"]}
    for status in vocabularies["residence_statuses"]:
        assert isinstance(status, ResidenceStatus)
        if status.group not in groups:
            _fail(VOCABULARIES_FILE, f"Aufenthaltsstatus „{status.code}“: Gruppe „{status.group}“ "
                  "fehlt in residence_groups")
    domains = {t.code for t in vocabularies["legal_domains"]}
    for institution in vocabularies["institution_types"]:
        assert isinstance(institution, InstitutionType)
        if institution.legal_domain not in domains:
            _fail(VOCABULARIES_FILE, f"Institutionsart „{institution.code}“: Rechtskreis "
                  f"„{institution.legal_domain}“ fehlt in legal_domains")
    _check_age_bands(vocabularies["age_bands"])
    tag_groups = {t.code for t in vocabularies["review_tag_groups"]}
    for tag in vocabularies["review_tags"]:
        assert isinstance(tag, ReviewTag)
        if tag.group not in tag_groups:
            _fail(VOCABULARIES_FILE, f"Schlagwort „{tag.code}“: Gruppe „{tag.group}“ fehlt in "
                  "review_tag_groups")
    return vocabularies


def _parse_term(vocabulary: str, entry: dict[str, Any], where: str) -> Term:
    code = _get(entry, "code", str, where)
    where = f"{where}, Code „{code}“"
    if not _CODE_PATTERN.fullmatch(code):
        _fail(where, "Codes bestehen nur aus Kleinbuchstaben a–z, Ziffern, _ und -")
    label = _get(entry, "label", str, where)
    if vocabulary == "residence_statuses":
        return ResidenceStatus(
            code, label, _get(entry, "group", str, where),
            _get(entry, "chancen_104c", bool, where, False),
        )
    if vocabulary == "institution_types":
        return InstitutionType(code, label, _get(entry, "legal_domain", str, where))
    if vocabulary == "age_bands":
        return AgeBand(
            code, label, _get(entry, "min_age", int, where),
            _get(entry, "max_age", int, where, None),
        )
    if vocabulary == "information_kinds":
        return InformationKind(code, label, _get(entry, "special_category", bool, where, False))
    if vocabulary == "review_tags":
        return ReviewTag(code, label, _get(entry, "group", str, where))
    if vocabulary == "steering_member_roles":
        seats = _get(entry, "seats", int, where, 1)
        if seats < 1:
            _fail(where, "seats ist mindestens 1")
        return SteeringRole(code, label, seats)
    return Term(code, label)


def _check_age_bands(bands: tuple[Term, ...]) -> None:
    expected_min = 0
    for index, band in enumerate(bands):
        assert isinstance(band, AgeBand)
        last = index == len(bands) - 1
        if band.min_age != expected_min:
            _fail(VOCABULARIES_FILE, f"Altersband „{band.code}“ muss bei {expected_min} beginnen "
                  "(die Bänder müssen lückenlos bei 0 anfangen)")
        if last != (band.max_age is None):
            _fail(VOCABULARIES_FILE, "nur das letzte Altersband hat kein max_age")
        if band.max_age is not None:
            if band.max_age < band.min_age:
                _fail(VOCABULARIES_FILE, f"Altersband „{band.code}“: max_age < min_age")
            expected_min = band.max_age + 1


def _parse_providers(
    data: dict[str, Any], vocabularies: Mapping[str, tuple[Term, ...]]
) -> tuple[Provider, ...]:
    kinds = {t.code for t in vocabularies["provider_kinds"]}
    providers = []
    for entry in _get_tables(data, "providers", ORGANISATION_FILE):
        code = _get(entry, "code", str, ORGANISATION_FILE)
        where = f"{ORGANISATION_FILE}, Träger „{code}“"
        kind = _get(entry, "kind", str, where)
        if kind not in kinds:
            _fail(where, f"Art „{kind}“ fehlt in provider_kinds")
        providers.append(Provider(
            code=code,
            name=_get(entry, "name", str, where),
            short_name=_get(entry, "short_name", str, where),
            kind=kind,
            data_protection=_get(entry, "data_protection", str, where),
        ))
    return _check_unique(providers, f"{ORGANISATION_FILE}, Träger")


def _parse_teams(
    data: dict[str, Any], providers: tuple[Provider, ...], lead_provider: str
) -> tuple[tuple[Team, ...], tuple[Municipality, ...]]:
    team_entries = _get_tables(data, "teams", ORGANISATION_FILE)
    team_info: dict[str, dict[str, Any]] = {}
    for entry in team_entries:
        code = _get(entry, "code", str, ORGANISATION_FILE)
        where = f"{ORGANISATION_FILE}, Team „{code}“"
        if code in team_info:
            _fail(where, "Code kommt doppelt vor")
        countywide = _get(entry, "countywide", bool, where, False)
        team_info[code] = {
            "where": where,
            "name": _get(entry, "name", str, where),
            "vza": _get(entry, "vza", float, where),
            "countywide": countywide,
            "planning_area": None if countywide else _get(entry, "planning_area", str, where),
            "focus": tuple(_get(entry, "focus", list, where, [])),
            "shares": _get(entry, "shares", list, where, []),
        }

    municipalities = []
    for entry in _get_tables(data, "municipalities", ORGANISATION_FILE):
        code = _get(entry, "code", str, ORGANISATION_FILE)
        where = f"{ORGANISATION_FILE}, Kommune „{code}“"
        if not _CODE_PATTERN.fullmatch(code):
            _fail(where, "Codes bestehen nur aus Kleinbuchstaben a–z, Ziffern, _ und -")
        team_code = _get(entry, "team", str, where)
        info = team_info.get(team_code)
        if info is None:
            _fail(where, f"Team „{team_code}“ gibt es nicht")
        if info["countywide"]:
            _fail(where, f"Team „{team_code}“ arbeitet kreisweit und hat keine eigenen Kommunen")
        municipalities.append(Municipality(
            code=code,
            name=_get(entry, "name", str, where),
            short_name=_get(entry, "short_name", str, where, None),
            team=team_code,
            planning_area=info["planning_area"],
            population=_get(entry, "population", int, where, None),
        ))
    municipalities_checked = _check_unique(municipalities, f"{ORGANISATION_FILE}, Kommunen")

    provider_codes = {p.code for p in providers}
    teams = []
    for code, info in team_info.items():
        where = info["where"]
        own = tuple(m.code for m in municipalities_checked if m.team == code)
        if not info["countywide"] and not own:
            _fail(where, "ein regionales Team braucht mindestens eine Kommune")
        shares = []
        for share in info["shares"]:
            if not isinstance(share, dict):
                _fail(where, "shares: Einträge haben die Form { provider = \"...\", vza = 0.5 }")
            provider = _get(share, "provider", str, where)
            if provider not in provider_codes:
                _fail(where, f"Träger „{provider}“ gibt es nicht")
            municipality = _get(share, "municipality", str, where, None)
            if municipality is not None and municipality not in own:
                _fail(where, f"Kommune „{municipality}“ gehört nicht zu diesem Team")
            shares.append(ProviderShare(provider, _get(share, "vza", float, where), municipality))
        # Whatever is not outsourced is staffed by the lead provider (the Kreis itself).
        remainder = round(info["vza"] - sum(s.vza for s in shares), 4)
        if remainder < 0:
            _fail(where, "die Stellenanteile der Träger sind größer als vza")
        if remainder > 0:
            shares.insert(0, ProviderShare(lead_provider, remainder))
        teams.append(Team(
            code=code,
            name=info["name"],
            vza=info["vza"],
            planning_area=info["planning_area"],
            countywide=info["countywide"],
            municipalities=own,
            shares=tuple(shares),
            focus=tuple(str(item) for item in info["focus"]),
        ))
    return tuple(teams), municipalities_checked


def _parse_nationalities(
    data: dict[str, Any], vocabularies: Mapping[str, tuple[Term, ...]]
) -> tuple[Nationality, ...]:
    regions = {t.code for t in vocabularies["world_regions"]}
    nationalities = []
    for entry in _get_tables(data, "nationalities", NATIONALITIES_FILE):
        code = _get(entry, "code", str, NATIONALITIES_FILE)
        where = f"{NATIONALITIES_FILE}, „{code}“"
        if not _COUNTRY_CODE_PATTERN.fullmatch(code):
            _fail(where, "der Code besteht aus zwei Großbuchstaben (ISO 3166-1 Alpha-2)")
        region = _get(entry, "region", str, where)
        if region not in regions:
            _fail(where, f"Region „{region}“ fehlt in world_regions")
        aliases = _get(entry, "aliases", list, where, [])
        if not all(isinstance(alias, str) for alias in aliases):
            _fail(where, "aliases ist eine Liste von Texten")
        nationalities.append(Nationality(
            code=code,
            name=_get(entry, "name", str, where),
            adjective=_get(entry, "adjective", str, where),
            region=region,
            top10=_get(entry, "top10", bool, where, False),
            aliases=tuple(aliases),
        ))
    return _check_unique(nationalities, NATIONALITIES_FILE)


def _parse_rules(data: dict[str, Any], vocabularies: Mapping[str, tuple[Term, ...]]) -> Rules:
    case_kinds = {t.code for t in vocabularies["case_kinds"]}

    def per_case_kind(table: dict[str, Any], kind: type, where: str) -> Mapping[str, Any]:
        if set(table) != case_kinds:
            _fail(where, f"braucht genau die Fallarten {', '.join(sorted(case_kinds))}")
        return MappingProxyType({key: _get(table, key, kind, where) for key in sorted(table)})

    caseload = _get(data, "caseload", dict, RULES_FILE)
    short = _get(data, "short_intervention", dict, RULES_FILE)
    p104c = _get(data, "p104c", dict, RULES_FILE)
    p24 = _get(data, "p24", dict, RULES_FILE)
    weeks = _get(p104c, "reminder_weeks", list, f"{RULES_FILE}, [p104c]")
    if not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in weeks):
        _fail(f"{RULES_FILE}, [p104c]", "reminder_weeks ist eine Liste ganzer Zahlen, z. B. [8, 6]")
    checklist = []
    for entry in _get(p104c, "checklist", list, f"{RULES_FILE}, [p104c]"):
        if not isinstance(entry, dict):
            _fail(f"{RULES_FILE}, [p104c]", 'checklist: Einträge { code = "...", label = "..." }')
        checklist.append(_parse_term("p104c_checklist", entry, f"{RULES_FILE}, [p104c] checklist"))
    return Rules(
        retention_months=per_case_kind(
            _get(data, "retention_months", dict, RULES_FILE), int,
            f"{RULES_FILE}, [retention_months]",
        ),
        cases_per_vza=_get(caseload, "cases_per_vza", int, f"{RULES_FILE}, [caseload]"),
        caseload_weights=per_case_kind(
            _get(caseload, "weights", dict, f"{RULES_FILE}, [caseload]"), float,
            f"{RULES_FILE}, [caseload.weights]",
        ),
        short_intervention_warn_at=_get(
            short, "warn_at_session", int, f"{RULES_FILE}, [short_intervention]"
        ),
        short_intervention_offer_conversion_at=_get(
            short, "offer_conversion_at_session", int, f"{RULES_FILE}, [short_intervention]"
        ),
        p104c_validity_months=_get(p104c, "validity_months", int, f"{RULES_FILE}, [p104c]"),
        p104c_reminder_weeks=tuple(sorted(weeks, reverse=True)),
        p104c_last_grant_date=_get(p104c, "last_grant_date", date, f"{RULES_FILE}, [p104c]"),
        p104c_checklist=_check_unique(checklist, f"{RULES_FILE}, [p104c] checklist"),
        p24_valid_on=_get(p24, "valid_on", date, f"{RULES_FILE}, [p24]"),
        p24_continued_until=_get(p24, "continued_until", date, f"{RULES_FILE}, [p24]"),
    )


# --- helpers ----------------------------------------------------------------------------------

_MISSING: Any = object()
_T = TypeVar("_T")
_TYPE_NAMES = {
    str: "ein Text in Anführungszeichen",
    int: "eine ganze Zahl",
    float: "eine Zahl (Dezimalpunkt, z. B. 2.5)",
    bool: "true oder false",
    list: "eine Liste [ ... ]",
    dict: "ein Abschnitt",
    date: "ein Datum (JJJJ-MM-TT)",
}


def _fail(where: str, problem: str) -> NoReturn:
    raise ReferenceDataError(f"Referenzdaten fehlerhaft ({where}): {problem}")


def _read_toml(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        _fail(name, f"Datei fehlt im Ordner {directory}")
    except tomllib.TOMLDecodeError as exc:
        _fail(name, f"kein gültiges TOML: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(name, f"Datei nicht lesbar: {exc}")


def _get(table: dict[str, Any], key: str, kind: type, where: str, default: Any = _MISSING) -> Any:
    if key not in table:
        if default is _MISSING:
            _fail(where, f"„{key}“ fehlt")
        return default
    value = table[key]
    # TOML integers are fine where a decimal is expected (vza = 2); booleans are not numbers.
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    is_datetime_for_date = kind is date and type(value) is not date
    if not isinstance(value, kind) or is_datetime_for_date or (
        kind is int and isinstance(value, bool)
    ):
        _fail(where, f"„{key}“ muss {_TYPE_NAMES[kind]} sein")
    return value


def _get_tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    tables = _get(data, key, list, where)
    if not all(isinstance(table, dict) for table in tables):
        _fail(where, f"„{key}“ besteht aus Abschnitten [[{key}]]")
    return tables


def _check_unique(items: list[_T], where: str) -> tuple[_T, ...]:
    seen: set[str] = set()
    for item in items:
        code = item.code  # type: ignore[attr-defined]
        if code in seen:
            _fail(where, f"Code „{code}“ kommt doppelt vor")
        seen.add(code)
    return tuple(items)


def _add_key(index: dict[str, str], key: str, code: str, where: str) -> None:
    # Two entries folding to the same text would make free-text lookups ambiguous.
    if index.get(key, code) != code:
        _fail(where, f"„{key}“ passt sowohl zu „{index[key]}“ als auch zu „{code}“")
    index[key] = code


def _by_code(items: tuple[_T, ...], code: str, what: str) -> _T:
    for item in items:
        if item.code == code:  # type: ignore[attr-defined]
            return item
    raise KeyError(f"{what} mit dem Code „{code}“ gibt es nicht in den Referenzdaten")
