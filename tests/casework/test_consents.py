"""Einwilligungen and Schweigepflichtentbindungen: specific, separate, revocable; no blanket."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from kimdesk.casework.consents import (
    ConsentInput,
    consents_of,
    record_consent,
    revoke_consent,
)
from kimdesk.casework.context import Context
from kimdesk.errors import NotFound, ValidationError
from kimdesk.models.enums import ConsentKind
from tests.factories import (
    data_processing_consent,
    make_institution,
    make_person,
    make_waiver,
)

RELEASE = ConsentKind.RELEASE.value


def test_einwilligung_is_recorded_with_date_form_and_language(ctx: Context) -> None:
    client = make_person(ctx)

    consent = record_consent(ctx, client.id, ConsentInput(
        form="muendlich", language="Arabisch", interpreter=True))

    assert consent.kind == ConsentKind.DATA_PROCESSING
    assert consent.given_on == ctx.today()
    assert (consent.form, consent.language, consent.interpreter) == ("muendlich", "Arabisch",
                                                                     True)
    assert consent.created_by == "Anna Becker"
    assert consent.is_active(ctx.today())


def test_consent_for_an_unknown_person_is_refused(ctx: Context) -> None:
    with pytest.raises(NotFound):
        record_consent(ctx, "0" * 32, data_processing_consent(ctx))


@pytest.mark.parametrize(("overrides", "field"), [
    ({"given_on": date(2026, 11, 26)}, "given_on"),
    ({"given_on": date(2026, 3, 1), "valid_until": date(2026, 2, 28)}, "valid_until"),
    ({"purpose": "  "}, "purpose"),
    ({"form": "per Handschlag"}, "form"),
    ({"kind": "blanket"}, "kind"),
])
def test_invalid_einwilligung_is_refused(ctx: Context, overrides: dict[str, Any],
                                         field: str) -> None:
    client = make_person(ctx)

    with pytest.raises(ValidationError) as error:
        record_consent(ctx, client.id, ConsentInput(**overrides))

    assert error.value.field == field
    assert consents_of(ctx, client.id) == []


def test_waiver_names_recipient_and_takes_its_type_from_the_institution(ctx: Context) -> None:
    client = make_person(ctx)
    jobcenter = make_institution(ctx, "jobcenter")

    waiver = make_waiver(ctx, client, jobcenter, information_kinds=("master_data", "finances"))

    assert waiver.kind == RELEASE
    assert waiver.recipient_institution_id == jobcenter.id
    assert waiver.recipient_type == "jobcenter"
    assert waiver.information_kinds == ["master_data", "finances"]


def test_waiver_towards_a_type_of_institution(ctx: Context) -> None:
    client = make_person(ctx)

    waiver = make_waiver(ctx, client, recipient_type="immigration_office")

    assert waiver.recipient_institution_id is None
    assert waiver.recipient_type == "immigration_office"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"recipient_type": ""}, "recipient_institution_id"),  # no blanket waiver
    ({"recipient_type": "tax_office"}, "recipient_type"),
    ({"recipient_type": "jobcenter", "information_kinds": ()}, "information_kinds"),
    ({"recipient_type": "jobcenter", "information_kinds": ("religion",)}, "information_kinds"),
])
def test_waiver_without_recipient_or_kinds_of_information_is_refused(
    ctx: Context, overrides: dict[str, Any], field: str
) -> None:
    client = make_person(ctx)

    with pytest.raises(ValidationError) as error:
        make_waiver(ctx, client, **overrides)

    assert error.value.field == field
    assert consents_of(ctx, client.id) == []


def test_health_data_must_be_named_as_special_category(ctx: Context) -> None:
    client = make_person(ctx)
    practice = make_institution(ctx, "health_care")

    with pytest.raises(ValidationError) as error:
        make_waiver(ctx, client, practice, information_kinds=("master_data", "health"))
    assert error.value.field == "special_categories"

    waiver = make_waiver(ctx, client, practice, information_kinds=("master_data", "health"),
                         special_categories=True)
    assert waiver.special_categories


def test_einwilligung_and_waiver_are_separate_records(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    make_waiver(ctx, client, make_institution(ctx))

    kinds = sorted(c.kind for c in consents_of(ctx, client.id))

    assert kinds == sorted([ConsentKind.DATA_PROCESSING.value, RELEASE])


def test_revocation_ends_the_consent_from_its_day(ctx: Context) -> None:
    client = make_person(ctx)
    consent = record_consent(ctx, client.id, data_processing_consent(
        ctx, given_on=date(2026, 1, 15)))

    revoked = revoke_consent(ctx, consent.id, date(2026, 10, 1), "Widerruf per Brief")

    assert revoked.revoked_on == date(2026, 10, 1)
    assert revoked.revocation_note == "Widerruf per Brief"
    assert revoked.is_active(date(2026, 9, 30))  # what happened before stays lawful
    assert not revoked.is_active(date(2026, 10, 1))
    assert not revoked.is_active(ctx.today())


@pytest.mark.parametrize("revoked_on", [date(2026, 1, 14), date(2026, 11, 26)])
def test_revocation_before_the_consent_or_in_the_future_is_refused(
    ctx: Context, revoked_on: date
) -> None:
    client = make_person(ctx)
    consent = record_consent(ctx, client.id, data_processing_consent(
        ctx, given_on=date(2026, 1, 15)))

    with pytest.raises(ValidationError) as error:
        revoke_consent(ctx, consent.id, revoked_on)

    assert error.value.field == "revoked_on"
    assert consents_of(ctx, client.id)[0].revoked_on is None


def test_a_consent_cannot_be_revoked_twice(ctx: Context) -> None:
    client = make_person(ctx)
    consent = record_consent(ctx, client.id, data_processing_consent(ctx))
    revoke_consent(ctx, consent.id)

    with pytest.raises(ValidationError):
        revoke_consent(ctx, consent.id)


def test_consent_with_end_date_is_active_up_to_that_day(ctx: Context) -> None:
    client = make_person(ctx)
    consent = record_consent(ctx, client.id, data_processing_consent(
        ctx, valid_until=ctx.today() + timedelta(days=10)))

    assert consent.is_active(ctx.today() + timedelta(days=10))
    assert not consent.is_active(ctx.today() + timedelta(days=11))
    assert not consent.is_active(ctx.today() - timedelta(days=1))  # not yet given
