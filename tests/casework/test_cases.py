"""Fälle: the three kinds and conversions, the Kurzintervention's session limit, the CM phases,
contacts and closing."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from kimdesk.casework.cases import (
    CaseInput,
    ContactInput,
    ConversionRequired,
    add_participant,
    cases_of,
    change_phase,
    close_case,
    contacts_of,
    convert_case,
    correct_contact,
    kind_history,
    open_case,
    phase_history,
    record_intake,
)
from kimdesk.casework.clients import ClientInput, create_client
from kimdesk.casework.consents import consents_of, revoke_consent
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_deadline, due_items, record_residence
from kimdesk.errors import ValidationError
from kimdesk.models.enums import CaseStatus, Phase
from tests.factories import CM, SHORT, SUPPORT, Clock, make_case, make_contact, make_person

PHASES = [p.value for p in Phase]


# --- opening ----------------------------------------------------------------------------------


def test_short_intervention_needs_no_consent(ctx: Context) -> None:
    client = make_person(ctx)

    case = make_case(ctx, client, SHORT)

    assert (case.kind, case.status, case.phase) == (SHORT, CaseStatus.OPEN, None)
    assert case.case_manager == "Anna Becker"
    assert case.opened_on == ctx.today()


def test_case_management_cannot_be_opened_without_consent(ctx: Context) -> None:
    client = make_person(ctx)

    with pytest.raises(ValidationError) as error:
        make_case(ctx, client, CM)

    assert error.value.field == "kind"
    assert "Einwilligung" in error.value.message
    assert cases_of(ctx, client.id) == []


def test_case_management_with_consent_starts_in_intake(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    case = make_case(ctx, client, CM)

    assert case.phase == Phase.INTAKE
    [entry] = phase_history(ctx, case.id)
    assert (entry.from_phase, entry.to_phase, entry.changed_on, entry.created_by) == (
        None, "intake", ctx.today(), "Anna Becker")


def test_case_management_after_revoked_consent_is_refused(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    [consent] = consents_of(ctx, client.id)
    revoke_consent(ctx, consent.id)

    with pytest.raises(ValidationError):
        make_case(ctx, client, CM)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "counselling"}, "kind"),
    ({"opened_on": date(2026, 11, 26)}, "opened_on"),
    ({"access_route": "internet"}, "access_route"),
    ({"topics": ["astrology"]}, "topics"),
    ({"municipality": "wesel"}, "municipality"),
])
def test_invalid_case_is_refused(ctx: Context, overrides: dict[str, Any], field: str) -> None:
    client = make_person(ctx)
    values: dict[str, Any] = {"kind": SHORT} | overrides

    with pytest.raises(ValidationError) as error:
        open_case(ctx, client.id, CaseInput(**values))

    assert error.value.field == field
    assert cases_of(ctx, client.id) == []


def test_case_belongs_to_the_team_of_the_clients_kommune(ctx: Context) -> None:
    in_goch = make_person(ctx, municipality="goch")

    case = make_case(ctx, in_goch, SHORT)

    assert (case.municipality, case.team) == ("goch", "mitte")


def test_welcome_center_keeps_its_cases_countywide(ctx: Context) -> None:
    welcome = dataclasses.replace(ctx, team="welcome")
    in_geldern = make_person(welcome, municipality="geldern")

    case = make_case(welcome, in_geldern, SUPPORT)

    assert (case.municipality, case.team) == ("geldern", "welcome")


# --- conversions ------------------------------------------------------------------------------


def test_conversion_to_a_more_intensive_kind_keeps_the_history(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, SHORT)

    convert_case(ctx, case.id, SUPPORT, reason="Mehrere Anliegen rund um die Wohnung")
    converted = convert_case(ctx, case.id, CM, reason="Jobcenter und Jugendamt beteiligt")

    assert converted.kind == CM
    assert converted.phase == Phase.INTAKE
    history = [(h.from_kind, h.to_kind, h.reason, h.created_by)
               for h in kind_history(ctx, case.id)]
    assert history == [
        (None, SHORT, "", "Anna Becker"),
        (SHORT, SUPPORT, "Mehrere Anliegen rund um die Wohnung", "Anna Becker"),
        (SUPPORT, CM, "Jobcenter und Jugendamt beteiligt", "Anna Becker"),
    ]
    assert [p.to_phase for p in phase_history(ctx, case.id)] == ["intake"]


@pytest.mark.parametrize(("start", "target"), [
    (SUPPORT, SHORT), (CM, SUPPORT), (CM, SHORT), (SHORT, SHORT), (CM, CM),
])
def test_conversion_to_the_same_or_a_less_intensive_kind_is_refused(
    ctx: Context, start: str, target: str
) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, start)

    with pytest.raises(ValidationError) as error:
        convert_case(ctx, case.id, target)

    assert error.value.field == "kind"
    assert len(kind_history(ctx, case.id)) == 1
    assert cases_of(ctx, client.id)[0].kind == start


def test_conversion_to_case_management_needs_consent(ctx: Context) -> None:
    client = make_person(ctx)
    case = make_case(ctx, client, SHORT)
    convert_case(ctx, case.id, SUPPORT)  # a Begleitung needs none

    with pytest.raises(ValidationError) as error:
        convert_case(ctx, case.id, CM)

    assert "Einwilligung" in error.value.message
    assert cases_of(ctx, client.id)[0].kind == SUPPORT
    assert [h.to_kind for h in kind_history(ctx, case.id)] == [SHORT, SUPPORT]


def test_anonymous_short_intervention_cannot_be_converted(ctx: Context) -> None:
    anonymous = create_client(ctx, ClientInput(anonymous=True, municipality="kleve"))
    case = make_case(ctx, anonymous, SHORT)

    with pytest.raises(ValidationError):
        convert_case(ctx, case.id, SUPPORT)


# --- Kurzintervention: session limit ---------------------------------------------------------


def test_short_intervention_warns_at_the_fifth_session(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SHORT)

    recorded = [make_contact(ctx, case) for _ in range(5)]

    assert [r.session_number for r in recorded] == [1, 2, 3, 4, 5]
    assert [bool(r.warning) for r in recorded] == [False, False, False, False, True]
    assert "5. Sitzung" in recorded[4].warning


def test_sixth_session_requires_conversion_and_stores_nothing(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SHORT)
    for _ in range(5):
        make_contact(ctx, case)

    with pytest.raises(ConversionRequired) as error:
        make_contact(ctx, case, follow_up_on=ctx.today() + timedelta(days=7))

    assert error.value.session_number == 6
    assert error.value.case_id == case.id
    assert "umwandeln" in error.value.message
    assert len(contacts_of(ctx, case.id)) == 5
    assert due_items(ctx) == []  # the follow-up of the refused contact was not stored either


def test_after_conversion_the_sixth_session_is_accepted(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SHORT)
    for _ in range(5):
        make_contact(ctx, case)

    convert_case(ctx, case.id, SUPPORT, reason="Weitere Sitzungen nötig")
    sixth = make_contact(ctx, case)

    assert (sixth.session_number, sixth.warning) == (6, "")
    assert len(contacts_of(ctx, case.id)) == 6


def test_a_corrected_contact_is_not_a_further_session(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SHORT)
    first = make_contact(ctx, case, duration_minutes=30)
    for _ in range(4):
        make_contact(ctx, case)

    corrected = correct_contact(ctx, first.contact.id, ContactInput(
        contact_on=ctx.today(), mode="phone", duration_minutes=20))

    contacts = contacts_of(ctx, case.id)
    assert len(contacts) == 5
    assert first.contact.id not in {c.id for c in contacts}
    assert corrected.supersedes_id == first.contact.id
    with pytest.raises(ConversionRequired):
        make_contact(ctx, case)
    with pytest.raises(ValidationError):  # the old record stays as it was
        correct_contact(ctx, first.contact.id, ContactInput(contact_on=ctx.today(),
                                                           mode="office"))


def test_other_kinds_have_no_session_limit(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SUPPORT)

    recorded = [make_contact(ctx, case) for _ in range(7)]

    assert recorded[-1].session_number == 7
    assert all(r.warning == "" for r in recorded)


# --- contacts ---------------------------------------------------------------------------------


def test_contact_with_follow_up_creates_a_wiedervorlage(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SUPPORT)

    recorded = make_contact(ctx, case, topics=["housing", "education"], interpreter=True,
                            interpreter_language="Arabisch",
                            follow_up_on=ctx.today() + timedelta(days=7))

    [item] = due_items(ctx)
    assert (item.kind, item.due_on, item.case_id) == ("follow_up", date(2026, 12, 2), case.id)
    assert recorded.contact.interpreter_language == "Arabisch"
    assert recorded.contact.topics == ["housing", "education"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"mode": "carrier_pigeon"}, "mode"),
    ({"contact_on": date(2026, 11, 26)}, "contact_on"),
    ({"contact_on": date(2026, 11, 1)}, "contact_on"),  # before the case was opened
    ({"duration_minutes": 721}, "duration_minutes"),
    ({"duration_minutes": -5}, "duration_minutes"),
    ({"interpreter": True, "interpreter_language": " "}, "interpreter_language"),
    ({"follow_up_on": date(2026, 11, 24)}, "follow_up_on"),
    ({"topics": ["weather"]}, "topics"),
])
def test_invalid_contact_is_refused(ctx: Context, overrides: dict[str, Any],
                                    field: str) -> None:
    case = make_case(ctx, make_person(ctx), SUPPORT, opened_on=date(2026, 11, 10))

    with pytest.raises(ValidationError) as error:
        make_contact(ctx, case, **overrides)

    assert error.value.field == field
    assert contacts_of(ctx, case.id) == []


def test_contact_with_a_household_member_needs_them_in_the_case(ctx: Context) -> None:
    mother = make_person(ctx, consent=True)
    daughter = make_person(ctx, consent=True)
    stranger = make_person(ctx)
    case = make_case(ctx, mother, SUPPORT)
    add_participant(ctx, case.id, daughter.id)

    make_contact(ctx, case, client_id=daughter.id)
    with pytest.raises(ValidationError) as error:
        make_contact(ctx, case, client_id=stranger.id)

    assert error.value.field == "client_id"
    assert [c.client_id for c in contacts_of(ctx, case.id)] == [daughter.id]


# --- phases -----------------------------------------------------------------------------------


def test_phases_run_in_order_with_author_and_date(ctx: Context, clock: Clock) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM)

    for phase in PHASES[1:]:
        clock.advance(7)
        change_phase(ctx, case.id, phase, note=f"weiter: {phase}")

    history = phase_history(ctx, case.id)
    assert [(h.from_phase, h.to_phase) for h in history] == list(
        zip([None, *PHASES[:-1]], PHASES, strict=True))
    assert [h.changed_on for h in history] == [date(2026, 11, 25) + timedelta(days=7 * i)
                                               for i in range(6)]
    assert {h.created_by for h in history} == {"Anna Becker"}
    assert history[-1].note == "weiter: evaluation"


@pytest.mark.parametrize(("current", "target"), [
    ("intake", "planning"), ("intake", "evaluation"), ("assessment", "linking"),
    ("linking", "evaluation"),
])
def test_skipping_ahead_is_refused(ctx: Context, current: str, target: str) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM, phase=current)

    with pytest.raises(ValidationError) as error:
        change_phase(ctx, case.id, target)

    expected_next = Phase(PHASES[PHASES.index(current) + 1])
    assert expected_next.label in error.value.message
    assert cases_of(ctx, case.client_id)[0].phase == current
    assert len(phase_history(ctx, case.id)) == PHASES.index(current) + 1


def test_an_earlier_phase_can_be_revisited_and_left_again(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM, phase="monitoring")

    change_phase(ctx, case.id, "assessment", note="Neue Lage nach Umzug")
    with pytest.raises(ValidationError):
        change_phase(ctx, case.id, "linking")  # from the revisited phase, again in order
    change_phase(ctx, case.id, "planning")

    history = phase_history(ctx, case.id)
    assert [(h.from_phase, h.to_phase) for h in history[-2:]] == [
        ("monitoring", "assessment"), ("assessment", "planning")]
    assert history[-2].note == "Neue Lage nach Umzug"


def test_staying_in_the_same_phase_or_an_unknown_phase_is_refused(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM)

    for target in ("intake", "closing"):
        with pytest.raises(ValidationError):
            change_phase(ctx, case.id, target)


def test_only_case_management_has_phases(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SUPPORT)

    with pytest.raises(ValidationError):
        change_phase(ctx, case.id, "assessment")


def test_intake_finding_that_cm_does_not_fit_blocks_the_assessment(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM)
    record_intake(ctx, case.id, concern="Nur Frage zum Kita-Platz", access_route="self_referral",
                  cm_indicated=False, art13_informed_on=ctx.today())

    with pytest.raises(ValidationError) as error:
        change_phase(ctx, case.id, "assessment")
    assert error.value.field == "cm_indicated"

    record_intake(ctx, case.id, concern="Kita, Jobcenter und Aufenthalt",
                  access_route="self_referral", cm_indicated=True,
                  art13_informed_on=ctx.today())
    assert change_phase(ctx, case.id, "assessment").phase == "assessment"


# --- closing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["goals_achieved", "goals_partly_achieved",
                                    "no_further_need"])
def test_case_management_closing_on_its_goals_requires_the_evaluation(
    ctx: Context, reason: str
) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM, phase="monitoring")

    with pytest.raises(ValidationError) as error:
        close_case(ctx, case.id, reason)
    assert error.value.field == "closing_reason"
    assert cases_of(ctx, case.client_id)[0].status == CaseStatus.OPEN

    change_phase(ctx, case.id, "evaluation")
    closed = close_case(ctx, case.id, reason, note="Abschlussgespräch geführt")
    assert (closed.status, closed.closed_on, closed.closing_reason) == (
        CaseStatus.CLOSED, ctx.today(), reason)


def test_case_management_may_end_early_for_other_reasons(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM, phase="assessment")

    closed = close_case(ctx, case.id, "moved_away", note="Umzug nach Duisburg")

    assert closed.status == CaseStatus.CLOSED


def test_a_short_intervention_closes_with_goals_achieved(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SHORT)

    assert close_case(ctx, case.id, "goals_achieved").status == CaseStatus.CLOSED


@pytest.mark.parametrize(("reason", "on", "field"), [
    ("bored", None, "closing_reason"),
    ("moved_away", date(2026, 11, 26), "closed_on"),
    ("moved_away", date(2026, 10, 31), "closed_on"),  # before the case was opened
])
def test_invalid_closing_is_refused(ctx: Context, reason: str, on: date | None,
                                    field: str) -> None:
    case = make_case(ctx, make_person(ctx), SHORT, opened_on=date(2026, 11, 2))

    with pytest.raises(ValidationError) as error:
        close_case(ctx, case.id, reason, on=on)

    assert error.value.field == field


def test_a_closed_case_refuses_changes(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx, consent=True), CM, phase="assessment")
    close_case(ctx, case.id, "contact_lost")

    attempts = [
        lambda: make_contact(ctx, case),
        lambda: change_phase(ctx, case.id, "planning"),
        lambda: close_case(ctx, case.id, "other"),
        lambda: record_intake(ctx, case.id, concern="", access_route="", cm_indicated=True,
                              art13_informed_on=None),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="abgeschlossen"):
            attempt()

    short = make_case(ctx, make_person(ctx), SHORT)
    close_case(ctx, short.id, "goals_achieved")
    with pytest.raises(ValidationError, match="abgeschlossen"):
        convert_case(ctx, short.id, SUPPORT)


def test_closing_closes_the_cases_open_wiedervorlagen_only(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, SUPPORT)
    make_contact(ctx, case, follow_up_on=ctx.today() + timedelta(days=3))
    add_deadline(ctx, client.id, "appointment", ctx.today() + timedelta(days=5),
                 "Termin Ausländerbehörde", case_id=case.id)
    record_residence(ctx, client.id, "duldung", granted_on=date(2026, 9, 1),
                     valid_until=ctx.today() + timedelta(days=10))

    close_case(ctx, case.id, "handed_over")

    # The person's Duldung still runs out, whatever happens to the case.
    assert [(i.kind, i.case_id) for i in due_items(ctx)] == [("duldung_expiry", None)]


def test_a_correction_obeys_the_rules_of_a_contact(ctx: Context) -> None:
    case = make_case(ctx, make_person(ctx), SUPPORT, opened_on=date(2026, 11, 10))
    stranger = make_person(ctx)
    original = make_contact(ctx, case)

    with pytest.raises(ValidationError) as error:
        correct_contact(ctx, original.contact.id, ContactInput(
            contact_on=ctx.today(), mode="office", client_id=stranger.id))
    assert error.value.field == "client_id"
    with pytest.raises(ValidationError) as error:
        correct_contact(ctx, original.contact.id, ContactInput(
            contact_on=date(2026, 11, 1), mode="office"))
    assert error.value.field == "contact_on"

    assert [c.id for c in contacts_of(ctx, case.id)] == [original.contact.id]
