"""Netzwerk: institutions with their Rechtskreis; referrals and the Schweigepflichtentbindung
that data sharing needs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from kimdesk.casework.cases import add_participant
from kimdesk.casework.consents import record_consent, revoke_consent
from kimdesk.casework.context import Context
from kimdesk.casework.network import (
    InstitutionInput,
    ReferralInput,
    create_institution,
    institutions,
    refer,
    referrals_of,
    set_referral_outcome,
)
from kimdesk.errors import ValidationError
from kimdesk.models import Case, Client, Institution
from tests.factories import (
    SUPPORT,
    data_processing_consent,
    make_case,
    make_institution,
    make_person,
    make_waiver,
)


def _refer(ctx: Context, case: Case, institution: Institution, *kinds: str,
           **overrides: Any):
    values: dict[str, Any] = {
        "institution_id": institution.id, "purpose": "Antrag auf Bürgergeld begleiten",
        "shares_data": bool(kinds), "information_kinds": list(kinds),
    }
    return refer(ctx, case.id, ReferralInput(**(values | overrides)))


def _client_with_case(ctx: Context) -> tuple[Client, Case]:
    client = make_person(ctx, consent=True)
    return client, make_case(ctx, client, SUPPORT)


# --- institutions -----------------------------------------------------------------------------


def test_institution_takes_the_rechtskreis_of_its_type(ctx: Context) -> None:
    jobcenter = make_institution(ctx, "jobcenter")
    agency = make_institution(ctx, "employment_agency")
    mbe = make_institution(ctx, "mbe", name="Migrationsberatung der Caritas Kleve")

    assert (jobcenter.legal_domain, agency.legal_domain, mbe.legal_domain) == (
        "sgb2", "sgb3", "none")


def test_institution_rechtskreis_can_be_set_explicitly(ctx: Context) -> None:
    office = make_institution(ctx, "social_welfare_office", legal_domain="asylblg")

    assert office.legal_domain == "asylblg"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": " "}, "name"),
    ({"institution_type": "tax_office"}, "institution_type"),
    ({"legal_domain": "sgb5"}, "legal_domain"),
    ({"municipality": "wesel"}, "municipality"),
])
def test_invalid_institution_is_refused(ctx: Context, overrides: dict[str, str],
                                        field: str) -> None:
    values = {"name": "Jobcenter Kreis Kleve", "institution_type": "jobcenter"} | overrides

    with pytest.raises(ValidationError) as error:
        create_institution(ctx, InstitutionInput(**values))

    assert error.value.field == field
    assert institutions(ctx) == []


def test_institutions_of_a_kommune_include_countywide_ones(ctx: Context) -> None:
    make_institution(ctx, "jobcenter", municipality="kleve")
    make_institution(ctx, "immigration_office", municipality="")
    make_institution(ctx, "health_care", municipality="goch")

    names = [i.institution_type for i in institutions(ctx, "kleve")]

    assert sorted(names) == ["immigration_office", "jobcenter"]


# --- referrals and the Schweigepflichtentbindung ----------------------------------------------


def test_referral_without_data_sharing_needs_no_waiver(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    jobcenter = make_institution(ctx)

    referral = _refer(ctx, case, jobcenter)

    assert (referral.outcome, referral.shares_data, referral.consent_id) == (
        "requested", False, None)
    assert referral.referred_on == ctx.today()
    assert referral.client_id == client.id


def test_data_sharing_without_a_waiver_is_refused(ctx: Context) -> None:
    _client, case = _client_with_case(ctx)
    jobcenter = make_institution(ctx)

    with pytest.raises(ValidationError) as error:
        _refer(ctx, case, jobcenter, "master_data")

    assert error.value.field == "shares_data"
    assert "Schweigepflichtentbindung" in error.value.message
    assert referrals_of(ctx, case.id) == []


def test_the_einwilligung_in_data_processing_is_no_waiver(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    record_consent(ctx, client.id, data_processing_consent(ctx))

    with pytest.raises(ValidationError):
        _refer(ctx, case, make_institution(ctx), "master_data")


def test_waiver_covering_institution_and_kinds_allows_sharing(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    jobcenter = make_institution(ctx)
    waiver = make_waiver(ctx, client, jobcenter, information_kinds=("master_data", "finances"))

    referral = _refer(ctx, case, jobcenter, "master_data", "finances")

    assert referral.shares_data
    assert referral.consent_id == waiver.id
    assert referral.information_kinds == ["master_data", "finances"]


def test_waiver_for_one_institution_does_not_cover_another_of_its_type(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    kleve = make_institution(ctx, name="Jobcenter Kreis Kleve, Geschäftsstelle Kleve")
    geldern = make_institution(ctx, name="Jobcenter Kreis Kleve, Geschäftsstelle Geldern",
                               municipality="geldern")
    make_waiver(ctx, client, kleve)

    with pytest.raises(ValidationError):
        _refer(ctx, case, geldern, "master_data")


def test_waiver_towards_a_type_covers_every_institution_of_that_type(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    make_waiver(ctx, client, recipient_type="jobcenter")
    geldern = make_institution(ctx, name="Jobcenter Kreis Kleve, Geschäftsstelle Geldern")
    agency = make_institution(ctx, "employment_agency")

    assert _refer(ctx, case, geldern, "residence").shares_data
    with pytest.raises(ValidationError):
        _refer(ctx, case, agency, "residence")


def test_waiver_must_cover_every_kind_of_information_shared(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    jobcenter = make_institution(ctx)
    make_waiver(ctx, client, jobcenter, information_kinds=("master_data", "residence"))

    with pytest.raises(ValidationError):
        _refer(ctx, case, jobcenter, "master_data", "finances")
    assert _refer(ctx, case, jobcenter, "residence").shares_data


def test_health_data_needs_a_waiver_naming_it_as_special_category(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    centre = make_institution(ctx, "psychosocial_centre")
    make_waiver(ctx, client, centre, information_kinds=("master_data", "family"))

    with pytest.raises(ValidationError):
        _refer(ctx, case, centre, "master_data", "health")

    make_waiver(ctx, client, centre, information_kinds=("master_data", "health"),
                special_categories=True)
    assert _refer(ctx, case, centre, "master_data", "health").shares_data


def test_revoked_waiver_is_refused(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    jobcenter = make_institution(ctx)
    waiver = make_waiver(ctx, client, jobcenter)
    revoke_consent(ctx, waiver.id, note="möchte keine Weitergabe mehr")

    with pytest.raises(ValidationError):
        _refer(ctx, case, jobcenter, "master_data")


def test_expired_waiver_is_refused(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    jobcenter = make_institution(ctx)
    make_waiver(ctx, client, jobcenter, given_on=date(2026, 1, 5),
                valid_until=ctx.today() - timedelta(days=1))

    with pytest.raises(ValidationError):
        _refer(ctx, case, jobcenter, "master_data")


def test_waiver_given_after_the_referral_date_does_not_cover_it(ctx: Context) -> None:
    client, case = _client_with_case(ctx)
    jobcenter = make_institution(ctx)
    make_waiver(ctx, client, jobcenter)

    with pytest.raises(ValidationError):
        _refer(ctx, case, jobcenter, "master_data",
               referred_on=ctx.today() - timedelta(days=1))


def test_waiver_of_one_person_does_not_cover_another(ctx: Context) -> None:
    mother, case = _client_with_case(ctx)
    son = make_person(ctx, consent=True)
    add_participant(ctx, case.id, son.id)
    school = make_institution(ctx, "school", name="Gesamtschule am Forstgarten")
    make_waiver(ctx, mother, school, information_kinds=("master_data", "education_work"))

    with pytest.raises(ValidationError):
        _refer(ctx, case, school, "master_data", client_id=son.id)
    make_waiver(ctx, son, school, information_kinds=("master_data",))
    assert _refer(ctx, case, school, "master_data", client_id=son.id).client_id == son.id


@pytest.mark.parametrize(("overrides", "field"), [
    ({"purpose": " "}, "purpose"),
    ({"shares_data": True, "information_kinds": []}, "information_kinds"),
    ({"information_kinds": ["gossip"], "shares_data": True}, "information_kinds"),
    ({"referred_on": date(2026, 11, 26)}, "referred_on"),
])
def test_invalid_referral_is_refused(ctx: Context, overrides: dict[str, Any],
                                     field: str) -> None:
    _client, case = _client_with_case(ctx)

    with pytest.raises(ValidationError) as error:
        _refer(ctx, case, make_institution(ctx), **overrides)

    assert error.value.field == field


def test_referral_for_a_person_outside_the_case_is_refused(ctx: Context) -> None:
    _client, case = _client_with_case(ctx)
    stranger = make_person(ctx)

    with pytest.raises(ValidationError) as error:
        _refer(ctx, case, make_institution(ctx), client_id=stranger.id)

    assert error.value.field == "client_id"


# --- outcome ----------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["appointment_made", "granted", "waiting_list",
                                     "not_attended"])
def test_outcome_from_the_vocabulary_is_recorded(ctx: Context, outcome: str) -> None:
    _client, case = _client_with_case(ctx)
    referral = _refer(ctx, case, make_institution(ctx))

    updated = set_referral_outcome(ctx, referral.id, outcome)

    assert (updated.outcome, updated.outcome_on) == (outcome, ctx.today())
    assert referrals_of(ctx, case.id)[0].outcome == outcome


@pytest.mark.parametrize(("outcome", "on", "field"), [
    ("went_well", None, "outcome"),
    ("granted", date(2026, 11, 26), "outcome_on"),
    ("granted", date(2026, 11, 19), "outcome_on"),  # before the referral
])
def test_invalid_outcome_is_refused(ctx: Context, outcome: str, on: date | None,
                                    field: str) -> None:
    _client, case = _client_with_case(ctx)
    referral = _refer(ctx, case, make_institution(ctx), referred_on=date(2026, 11, 20))

    with pytest.raises(ValidationError) as error:
        set_referral_outcome(ctx, referral.id, outcome, on)

    assert error.value.field == field
    assert referrals_of(ctx, case.id)[0].outcome == "requested"
