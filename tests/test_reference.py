"""Tests for the Kreis Kleve reference data and its lookups."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kimdesk.reference import (
    DEFAULT_DIRECTORY,
    ENV_VAR,
    AgeBand,
    InstitutionType,
    ReferenceDataError,
    ResidenceStatus,
    load_reference,
)

REF = load_reference()

CONCEPT_TEAMS = {
    # team: (Kommunen, VZÄ, {Träger: VZÄ}) as in concept section 4.1
    "nord": ({"bedburg-hau", "kleve", "kranenburg"}, 2.5, {"kreis": 1.5, "caritas_kleve": 1.0}),
    "ost": ({"emmerich", "rees", "kalkar"}, 2.0, {"kreis": 1.5, "awo_kleve": 0.5}),
    "mitte": ({"goch", "kevelaer", "uedem", "weeze"}, 3.0, {"kreis": 2.5, "caritas_kleve": 0.5}),
    "sued": (
        {"geldern", "issum", "kerken", "rheurdt", "straelen", "wachtendonk"},
        4.5,
        {"kreis": 3.5, "caritas_geldern_kevelaer": 1.0},
    ),
    "welcome": (set(), 2.0, {"kreis": 2.0}),
}


def test_sixteen_kommunen_each_in_exactly_one_regional_team() -> None:
    assert len(REF.municipalities) == 16
    regional = REF.regional_teams
    assert {t.code for t in regional} == {"nord", "ost", "mitte", "sued"}
    for municipality in REF.municipalities:
        holders = [t.code for t in REF.teams if municipality.code in t.municipalities]
        assert holders == [municipality.team], municipality.code
        team = REF.team_for_municipality(municipality.code)
        assert not team.countywide
        assert municipality.planning_area == team.planning_area


def test_teams_match_concept() -> None:
    for code, (kommunen, vza, shares) in CONCEPT_TEAMS.items():
        team = REF.team(code)
        assert set(team.municipalities) == kommunen, code
        assert team.vza == vza, code
        assert team.vza_by_provider() == shares, code


def test_vza_total_is_the_concepts_fourteen() -> None:
    assert sum(t.vza for t in REF.regional_teams) == 12.0
    assert sum(t.vza for t in REF.teams) == 14.0
    outsourced = sum(
        share.vza
        for team in REF.teams
        for share in team.shares
        if REF.provider(share.provider).kind == "free_welfare"
    )
    assert outsourced == 3.0  # "Drei der vierzehn ... VZÄ ... an die Träger der Freien Wohlfahrt"


def test_outsourced_shares_name_their_kommune_where_the_concept_does() -> None:
    sued = REF.team("sued").shares
    assert {(s.provider, s.municipality) for s in sued if s.provider != "kreis"} == {
        ("caritas_geldern_kevelaer", "geldern"),
        ("caritas_geldern_kevelaer", "straelen"),
    }
    assert [s.municipality for s in REF.team("ost").shares if s.provider == "awo_kleve"] == [
        "emmerich"
    ]


def test_welcome_center_is_countywide_with_both_focus_topics() -> None:
    welcome = REF.team("welcome")
    assert welcome.countywide
    assert welcome.municipalities == ()
    assert any("§ 104c" in topic for topic in welcome.focus)
    assert any("Arbeitgeber" in topic for topic in welcome.focus)


def test_providers_and_their_kinds() -> None:
    kinds = {p.name: REF.label("provider_kinds", p.kind) for p in REF.providers}
    assert kinds == {
        "Kreis Kleve – Kommunales Integrationszentrum": "öffentlich",
        "Caritasverband Kleve e.V.": "Freie Wohlfahrt",
        "AWO-Kreisverband Kleve e.V.": "Freie Wohlfahrt",
        "Caritasverband Geldern-Kevelaer e.V.": "Freie Wohlfahrt",
    }


def test_every_vocabulary_code_is_unique_and_ascii() -> None:
    assert len(REF.vocabularies) >= 19
    for name, terms in REF.vocabularies.items():
        codes = [t.code for t in terms]
        assert len(codes) == len(set(codes)), name
        assert all(code.isascii() and code for code in codes), name
        assert all(t.label.strip() for t in terms), name
    for codes in ([m.code for m in REF.municipalities], [t.code for t in REF.teams],
                  [n.code for n in REF.nationalities]):
        assert len(codes) == len(set(codes))
        assert all(code.isascii() for code in codes)


def test_institution_defaults_and_residence_groups_exist() -> None:
    legal_domains = set(REF.codes("legal_domains"))
    for institution in REF.terms("institution_types"):
        assert isinstance(institution, InstitutionType)
        assert institution.legal_domain in legal_domains, institution.code
    assert REF.term("institution_types", "jobcenter").legal_domain == "sgb2"  # type: ignore[attr-defined]
    groups = set(REF.codes("residence_groups"))
    statuses = REF.terms("residence_statuses")
    assert all(isinstance(s, ResidenceStatus) and s.group in groups for s in statuses)
    chancen = [s.code for s in statuses if isinstance(s, ResidenceStatus) and s.chancen_104c]
    assert chancen == ["p104c"]


def test_vocabularies_from_the_brief() -> None:
    assert REF.label("deadline_kinds", "p104c_expiry").startswith("Ablauf Chancen")
    assert REF.label("deadline_kinds", "follow_up") == "Wiedervorlage"
    assert [REF.label("legal_domains", c) for c in REF.codes("legal_domains")] == [
        "SGB II", "SGB III", "SGB VIII", "SGB XII", "AsylbLG", "AufenthG", "keiner"
    ]
    assert REF.codes("life_areas") == REF.codes("topics")
    labels = {t.label for t in REF.terms("life_areas")}
    for concept_area in ("Arbeit", "Soziale Integration", "Kinderbetreuung", "Gesundheit",
                         "Qualifikation/Berufliche Orientierung"):
        assert any(label.startswith(concept_area) for label in labels), concept_area
    assert len(REF.codes("access_routes")) == 11
    assert len(REF.codes("closing_reasons")) == 9
    assert [t.label for t in REF.terms("genders")] == ["weiblich", "männlich", "divers",
                                                       "keine Angabe"]
    assert {REF.label("consent_kinds", c) for c in REF.codes("consent_kinds")} == {
        "Einwilligung Datenverarbeitung", "Schweigepflichtentbindung"
    }


@pytest.mark.parametrize(
    ("age", "label"),
    [(0, "0–13"), (13, "0–13"), (14, "14–17"), (26, "18–26"), (27, "27–44"), (64, "45–64"),
     (65, "65+"), (104, "65+")],
)
def test_age_bands(age: int, label: str) -> None:
    band = REF.age_band_for(age)
    assert isinstance(band, AgeBand)
    assert band.label == label


def test_rules() -> None:
    rules = REF.rules
    assert dict(rules.retention_months) == {
        "case_management": 36, "process_support": 36, "short_intervention": 12
    }
    assert rules.cases_per_vza == 50
    assert dict(rules.caseload_weights) == {
        "short_intervention": 0.5, "process_support": 1.0, "case_management": 1.5
    }
    assert rules.short_intervention_warn_at == 5
    assert rules.short_intervention_offer_conversion_at == 6
    assert rules.p104c_validity_months == 18
    assert rules.p104c_reminder_weeks == (8, 6)
    assert REF.codes("p104c_checklist") == ("livelihood", "language", "identity", "family")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Kleve", "kleve"),
        ("  kleve ", "kleve"),
        ("Emmerich", "emmerich"),
        ("Emmerich am Rhein", "emmerich"),
        ("EMMERICH AM RHEIN", "emmerich"),
        ("emmerich", "emmerich"),
        ("bedburg-hau", "bedburg-hau"),
        ("Bedburg Hau", "bedburg-hau"),
        ("Straelen", "straelen"),
        ("Stadt Geldern", "geldern"),
        ("47623 Kevelaer", "kevelaer"),
        ("Uedem", "uedem"),
        ("Üdem", "uedem"),
    ],
)
def test_find_municipality(text: str, code: str) -> None:
    found = REF.find_municipality(text)
    assert found is not None and found.code == code


@pytest.mark.parametrize("text", ["Berlin", "Klev", "", "   ", "Rhein", "Nord"])
def test_find_municipality_unknown(text: str) -> None:
    assert REF.find_municipality(text) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("PL", "PL"), ("pl", "PL"), ("Pl", "PL"),
        ("Polen", "PL"), ("polnisch", "PL"), ("Polnisch", "PL"), ("polnische", "PL"),
        ("polnischer", "PL"), ("Poland", "PL"),
        ("Türkei", "TR"), ("Tuerkei", "TR"), ("Turkei", "TR"), ("türkische", "TR"),
        ("Syria", "SY"), ("syrisch", "SY"), ("Afghanistan", "AF"), ("afghanische", "AF"),
        ("Niederlande", "NL"), ("niederländisch", "NL"), ("niederlaendisch", "NL"),
        ("Äthiopien", "ET"), ("Aethiopien", "ET"),
        ("Russische Föderation", "RU"), ("Kosovo", "XK"),
        ("deutsch", "DE"), ("Deutsche", "DE"),
        ("staatenlos", "XX"), ("XX", "XX"), ("ungeklärt", "XU"), ("xu", "XU"),
    ],
)
def test_find_nationality(text: str, code: str) -> None:
    found = REF.find_nationality(text)
    assert found is not None and found.code == code


@pytest.mark.parametrize("text", ["Atlantis", "", "  ", "QQ", "polnischxyz", "Europa"])
def test_find_nationality_unknown(text: str) -> None:
    assert REF.find_nationality(text) is None


def test_nationalities_cover_top_ten_and_common_origins() -> None:
    top10 = {n.name for n in REF.nationalities if n.top10}
    assert top10 == {"Polen", "Niederlande", "Rumänien", "Ukraine", "Syrien", "Türkei",
                     "Bulgarien", "Italien", "Afghanistan", "Irak"}
    assert len(REF.nationalities) >= 60
    regions = set(REF.codes("world_regions"))
    assert all(n.region in regions for n in REF.nationalities)
    for name in ("Eritrea", "Somalia", "Iran", "Russland", "Nordmazedonien", "Georgien",
                 "Nigeria", "Guinea", "Jemen", "Sri Lanka", "Vietnam", "Kolumbien", "Venezuela"):
        assert REF.find_nationality(name) is not None, name


def test_nationality_group() -> None:
    assert REF.nationality_group("PL") == "Polen"
    assert REF.nationality_group("ER") == "Afrika"
    assert REF.nationality_group("IQ") == "Irak"
    assert REF.nationality_group("IR") == "Naher Osten"
    assert REF.nationality_group("RS") == "Europa (Nicht-EU)"
    assert REF.nationality_group("ES") == "EU"


def test_unknown_codes_raise_key_error_naming_them() -> None:
    with pytest.raises(KeyError, match="gibt_es_nicht"):
        REF.label("gibt_es_nicht", "x")
    with pytest.raises(KeyError, match=r"xyz.*topics"):
        REF.label("topics", "xyz")
    with pytest.raises(KeyError, match="berlin"):
        REF.municipality("berlin")
    with pytest.raises(KeyError, match="west"):
        REF.team("west")
    with pytest.raises(KeyError):
        REF.nationality_group("QQ")


def _copy_reference(tmp_path: Path) -> Path:
    target = tmp_path / "reference"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target


def test_override_directory_is_loaded(tmp_path: Path) -> None:
    directory = _copy_reference(tmp_path)
    rules = directory / "rules.toml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("cases_per_vza = 50", "cases_per_vza = 45"),
        encoding="utf-8",
    )
    assert load_reference(directory).rules.cases_per_vza == 45
    assert load_reference().rules.cases_per_vza == 50


def test_environment_variable_overrides_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _copy_reference(tmp_path)
    vocabularies = directory / "vocabularies.toml"
    vocabularies.write_text(
        vocabularies.read_text(encoding="utf-8").replace(
            '{ code = "phone", label = "Telefon" }', '{ code = "phone", label = "Telefonat" }'
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv(ENV_VAR, str(directory))
    assert load_reference().label("contact_kinds", "phone") == "Telefonat"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("rules.toml", "cases_per_vza = 50", "cases_per_vza = fünfzig", "rules.toml"),
        ("organisation.toml", 'team = "nord"', 'team = "west"', "west"),
        ("organisation.toml", 'team = "nord"', 'team = "welcome"', "kreisweit"),
        ("vocabularies.toml", 'code = "phone"', 'code = "video"', "doppelt"),
        ("vocabularies.toml", 'legal_domain = "sgb2"', 'legal_domain = "sgb99"', "sgb99"),
        ("vocabularies.toml", 'min_age = 14', 'min_age = 15', "lückenlos"),
        ("nationalities.toml", 'region = "africa"', 'region = "mars"', "mars"),
        ("nationalities.toml", '"Poland"', '"Rumänien"', "passt sowohl"),
        ("organisation.toml", "vza = 1.0 }", "vza = 3.0 }", "größer als vza"),
    ],
)
def test_broken_files_give_a_german_message_naming_the_problem(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    directory = _copy_reference(tmp_path)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=message):
        load_reference(directory)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    directory = _copy_reference(tmp_path)
    (directory / "nationalities.toml").unlink()
    with pytest.raises(ReferenceDataError, match=r"nationalities\.toml.*fehlt"):
        load_reference(directory)
