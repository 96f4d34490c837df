"""Client search inside the encrypted vault: diacritics, transliterations, Cyrillic input,
prefixes while typing, birth dates, and input that must never break the query."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from kimdesk import textmatch
from kimdesk.casework import search
from kimdesk.casework.clients import (
    ClientInput,
    LikelyDuplicate,
    create_client,
    find_clients,
    update_client,
)
from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for
from kimdesk.models import Client
from tests.factories import context_on_copy, data_processing_consent, make_person


def _ids(ctx: Context, query: str) -> list[str]:
    return [hit.id for hit in find_clients(ctx, query)]


def _person(ctx: Context, first: str, last: str, born: date | None = None) -> Client:
    data = ClientInput(first_name=first, last_name=last, birth_date=born, municipality="kleve")
    consent = data_processing_consent(ctx) if born else None
    return create_client(ctx, data, consent=consent, allow_duplicate=True)


@pytest.mark.parametrize(("first", "last", "query"), [
    ("Zofia", "Wiśniewska", "Wisniewska"),
    ("Ștefan", "Ștefănescu", "Stefanescu"),
    ("Ayşe", "Yılmaz", "Yilmaz"),
    ("Łukasz", "Kowalczyk", "lukasz"),
    ("Jürgen", "Müller", "muller"),
    ("Ayşe", "Yılmaz", "YILMAZ"),
    ("Ayşe", "Yılmaz", "ayse"),
    ("Zofia", "Wisniewska", "Wiśniewska"),  # and the other way round
])
def test_search_ignores_diacritics_and_case(ctx: Context, first: str, last: str,
                                            query: str) -> None:
    client = _person(ctx, first, last)
    other = _person(ctx, "Grace", "Okafor")

    found = _ids(ctx, query)

    assert found == [client.id]
    assert other.id not in found


@pytest.mark.parametrize("query", ["Mohamad", "Muhammad", "Mohammed", "Mohammad",
                                   "Muhammed"])
def test_transliteration_variants_find_each_other(ctx: Context, query: str) -> None:
    mohammed = _person(ctx, "Mohammed", "Al-Hassan")
    _person(ctx, "Rania", "Haddad")

    assert _ids(ctx, query) == [mohammed.id]


@pytest.mark.parametrize(("latin", "cyrillic"), [
    (("Oleksandr", "Shevchenko"), "Шевченко"),
    (("Oleksandr", "Shevchenko"), "Олександр"),
    (("Yuliia", "Kovalenko"), "Коваленко Юлія"),
    (("Olha", "Zhuravska"), "Журавська"),
])
def test_cyrillic_input_finds_the_latin_transliteration(ctx: Context,
                                                        latin: tuple[str, str],
                                                        cyrillic: str) -> None:
    client = _person(ctx, *latin)
    _person(ctx, "Amina", "Haddad")

    assert _ids(ctx, cyrillic) == [client.id]


def test_a_name_stored_in_cyrillic_is_found_in_latin(ctx: Context) -> None:
    client = _person(ctx, "Олександр", "Шевченко")

    assert _ids(ctx, "Shevchenko") == [client.id]


@pytest.mark.parametrize("typed", ["W", "Wi", "Wiś", "Wisn", "Wiśniew", "Wiśniewska"])
def test_prefix_search_while_typing(ctx: Context, typed: str) -> None:
    client = _person(ctx, "Zofia", "Wiśniewska")
    _person(ctx, "Amina", "Haddad")

    assert client.id in _ids(ctx, typed)
    if len(typed) >= 3:
        assert _ids(ctx, typed) == [client.id]


def test_first_and_last_name_together_narrow_the_result(ctx: Context) -> None:
    amina = _person(ctx, "Amina", "Haddad")
    rania = _person(ctx, "Rania", "Haddad")

    assert set(_ids(ctx, "Haddad")) == {amina.id, rania.id}
    assert _ids(ctx, "Haddad Am") == [amina.id]
    assert _ids(ctx, "rania haddad") == [rania.id]


@pytest.mark.parametrize("query", ["12.03.1988", "12.3.1988", "1988-03-12"])
def test_birth_date_finds_the_person(ctx: Context, query: str) -> None:
    ayse = _person(ctx, "Ayşe", "Yılmaz", date(1988, 3, 12))
    _person(ctx, "Farid", "Rahimi", date(1988, 12, 3))  # same digits, other date
    _person(ctx, "Grace", "Okafor", date(1993, 12, 1))

    assert _ids(ctx, query) == [ayse.id]


def test_birth_date_and_name_together(ctx: Context) -> None:
    first = _person(ctx, "Mohammed", "Al-Hassan", date(1990, 5, 14))
    _person(ctx, "Mohammed", "Al-Hassan", date(1992, 5, 14))

    assert _ids(ctx, "Al-Hassan 14.05.1990") == [first.id]


def test_renamed_client_is_found_under_the_new_name_only(ctx: Context) -> None:
    client = _person(ctx, "Amina", "Haddad")

    update_client(ctx, client.id, {"last_name": "Okafor"})

    assert _ids(ctx, "Haddad") == []
    assert _ids(ctx, "Okafor") == [client.id]


def test_organisations_are_found_by_name(ctx: Context) -> None:
    employer = create_client(ctx, ClientInput(kind="organisation", municipality="straelen",
                                              organisation_name="Gärtnerei Verhoeven GmbH"))

    assert _ids(ctx, "gartnerei") == [employer.id]


@pytest.mark.parametrize("query", [
    '"', '""', '"Haddad', "*", "Had*", "**", "NEAR(", "NEAR(Haddad Amina, 2)", "-", "-Haddad",
    "Haddad -Amina", "OR", "Haddad OR", "AND", "NOT", "NOT Haddad", "(", ")", "()", "^Haddad",
    "tokens:Haddad", "client_id : x", "{tokens}: Haddad", ":", "'", "Al'Hassan", "+", "\\",
    "%", "_", ";DROP TABLE clients;--", "\x00", "  ", "", "\u200b", "🙂", "Had\x07dad",
])
def test_query_syntax_in_the_input_never_raises(ctx: Context, query: str) -> None:
    amina = _person(ctx, "Amina", "Haddad")

    found = _ids(ctx, query)

    assert found in ([], [amina.id])


def test_fts_operators_are_searched_as_words(ctx: Context) -> None:
    amina = _person(ctx, "Amina", "Haddad")

    assert _ids(ctx, '"Haddad"') == [amina.id]
    assert _ids(ctx, "Haddad*") == [amina.id]
    assert _ids(ctx, "NEAR(Haddad)") == []  # "near" is a word like any other here


def test_search_finds_more_than_the_first_page_when_asked(ctx: Context) -> None:
    for _ in range(12):
        make_person(ctx, last_name="Haddad", first_name="Amina", allow_duplicate=True)

    assert len(find_clients(ctx, "Haddad", limit=5)) == 5
    assert len(find_clients(ctx, "Haddad")) == 12


# --- property: whatever the name, its exact last name finds it --------------------------------

# Letters and marks of any script, spaces, hyphens and apostrophes, as names are written.
_NAME_CHARS = st.characters(categories=["L", "M", "Nd"], include_characters=" -'’.",
                            exclude_characters="\x00")
_NAMES = st.text(_NAME_CHARS, min_size=1, max_size=40).filter(
    lambda name: textmatch.fold(name) != "")


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first_name=_NAMES, last_name=_NAMES)
def test_any_name_is_found_by_its_exact_last_name(
    template_vault: Path, tmp_path: Path, first_name: str, last_name: str
) -> None:
    with context_on_copy(template_vault, tmp_path / uuid.uuid4().hex) as ctx:
        client = _person(ctx, first_name, last_name)
        stored_last_name = find_clients(ctx, last_name)

        assert client.id in [hit.id for hit in stored_last_name], (first_name, last_name)


def test_a_name_written_joined_finds_the_hyphenated_one(ctx: Context) -> None:
    client = make_person(ctx, first_name="Mohammed", last_name="Al-Hassan")
    assert [hit.id for hit in find_clients(ctx, "Alhassan")] == [client.id]
    assert [hit.id for hit in find_clients(ctx, "al hassan")] == [client.id]


# --- names across scripts and spellings (issue 17) --------------------------------------------


@pytest.mark.parametrize("stored", ["Schewtschenko", "Shevchenko", "Ševčenko", "Шевченко"])
@pytest.mark.parametrize("typed", ["Schewtschenko", "Shevchenko", "Ševčenko", "Шевченко",
                                   "Szewczenko"])
def test_shevchenko_in_every_script_and_spelling_finds_the_others(
    ctx: Context, stored: str, typed: str
) -> None:
    client = _person(ctx, "Taras", stored)
    _person(ctx, "Taras", "Schneider")
    _person(ctx, "Olena", "Kovalenko")

    assert _ids(ctx, typed) == [client.id]


@pytest.mark.parametrize(("stored", "typed"), [
    ("Jawad", "Dschawad"), ("Dschawad", "Djawad"), ("Haidari", "Haydari"),
    ("Yusuf", "Youssef"), ("Chalil", "Khalil"), ("Παπαδόπουλος", "Papadopoulos"),
])
def test_german_english_and_french_spellings_find_each_other(
    ctx: Context, stored: str, typed: str
) -> None:
    client = _person(ctx, "Amir", stored)
    _person(ctx, "Amir", "Okafor")

    assert client.id in _ids(ctx, typed)


def test_haydari_dschawad_is_a_likely_duplicate_of_haidari_jawad(ctx: Context) -> None:
    born = date(1992, 7, 1)
    existing = _person(ctx, "Jawad", "Haidari", born)
    data = ClientInput(first_name="Dschawad", last_name="Haydari", birth_date=born,
                       municipality="goch")

    with pytest.raises(LikelyDuplicate) as found:
        create_client(ctx, data, consent=data_processing_consent(ctx))

    assert [hit.id for hit in found.value.candidates] == [existing.id]
    other_day = ClientInput(first_name="Dschawad", last_name="Haydari",
                            birth_date=date(1992, 7, 2), municipality="goch")
    create_client(ctx, other_day, consent=data_processing_consent(ctx))  # not the same person


def test_an_index_built_by_an_older_folding_is_rebuilt_on_unlock(ctx: Context) -> None:
    client = _person(ctx, "Jawad", "Haidari")
    with ctx.vault.writing() as session:
        # What a vault indexed before the spelling rules holds: no code for "Dschawad".
        session.execute(text("DELETE FROM client_search"))
        session.execute(text("INSERT INTO client_search (client_id, tokens) VALUES (:i, :t)"),
                        {"i": client.id, "t": "jawad haidari"})
        session.execute(text("PRAGMA user_version = 0"))
    assert _ids(ctx, "Dschawad") == []

    context_for(ctx.vault)

    assert _ids(ctx, "Dschawad") == [client.id]
    with ctx.vault.reading() as session:
        assert search.index_is_current(session)
