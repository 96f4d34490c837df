"""Lenkungsgruppe: seats as concept 4.4 lists them, meetings, decisions linked to what led to
them, follow-ups, and the effect on findings before and after a decision."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.findings import FindingInput, record_finding
from kimdesk.casework.coordination.reconstructions import add_theme
from kimdesk.casework.coordination.steering import (
    DecisionInput,
    MeetingInput,
    SteeringMemberInput,
    add_steering_member,
    create_meeting,
    decision_detail,
    decision_effect,
    decision_rows,
    due_follow_ups,
    meeting_rows,
    record_decision,
    set_decision_status,
    steering_composition,
    update_steering_member,
)
from kimdesk.errors import ValidationError
from tests.coordination_builders import THEME, build_example5
from tests.factories import TODAY, Clock


def test_the_seats_are_those_of_concept_4_4(ctx: Context) -> None:
    seats = steering_composition(ctx)

    assert len(seats) == 15
    assert sum(s.seats for s in seats) == 17  # two each for AG Wohlfahrt and the Kommunen
    assert seats[4].role_label == "Teamleitung KIM"
    assert all(s.vacant == s.seats for s in seats)

    first = add_steering_member(ctx, SteeringMemberInput("municipality", "Stadt Goch"))
    add_steering_member(ctx, SteeringMemberInput("municipality", "Stadt Emmerich am Rhein"))
    with pytest.raises(ValidationError, match="alle 2 Sitze"):
        add_steering_member(ctx, SteeringMemberInput("municipality", "Gemeinde Uedem"))
    update_steering_member(ctx, first.id, SteeringMemberInput("municipality", "Stadt Goch",
                                                              active=False))
    add_steering_member(ctx, SteeringMemberInput("municipality", "Gemeinde Uedem"))
    municipal = next(s for s in steering_composition(ctx) if s.role == "municipality")
    assert [m.organisation for m in municipal.members] == [
        "Stadt Emmerich am Rhein", "Gemeinde Uedem"]
    with pytest.raises(ValidationError, match="Sitz"):
        add_steering_member(ctx, SteeringMemberInput("king"))


def test_a_decision_needs_what_led_to_it(ctx: Context) -> None:
    meeting = create_meeting(ctx, MeetingInput(held_on=TODAY))
    assert meeting.title == "Sitzung der Lenkungsgruppe am 25.11.2026"

    with pytest.raises(ValidationError, match="geführt"):
        record_decision(ctx, DecisionInput("Kita-Kontingent", TODAY))
    theme = add_theme(ctx, None, THEME)
    with pytest.raises(ValidationError, match="Datum seiner Sitzung"):
        record_decision(ctx, DecisionInput("Kita-Kontingent", TODAY - timedelta(1),
                                           theme_ids=[theme.id], meeting_id=meeting.id))
    with pytest.raises(ValidationError, match="Wiedervorlage"):
        record_decision(ctx, DecisionInput("Kita-Kontingent", TODAY, theme_ids=[theme.id],
                                           follow_up_on=TODAY - timedelta(1)))
    with pytest.raises(ValidationError, match="Telefon"):
        record_decision(ctx, DecisionInput("Kita-Kontingent", TODAY, theme_ids=[theme.id],
                                           responsible="Frau Muster, 02821 594 123"))
    assert decision_rows(ctx) == []


def test_a_decision_names_the_indicators_that_measure_it(ctx: Context) -> None:
    theme = add_theme(ctx, None, THEME)
    with pytest.raises(ValidationError, match="Indikator"):
        record_decision(ctx, DecisionInput("Kita-Kontingent", TODAY, theme_ids=[theme.id],
                                           indicators=["kita_places"]))
    assert decision_rows(ctx) == []

    decision = record_decision(ctx, DecisionInput(
        "Kita-Kontingent", TODAY, theme_ids=[theme.id],
        indicators=["new_cases", "jobcenter_referral_success", "new_cases"]))

    assert decision_detail(ctx, decision.id).indicators == (
        "new_cases", "jobcenter_referral_success")


def test_beispiel_5_reaches_the_lenkungsgruppe(ctx: Context, clock: Clock) -> None:
    chain = build_example5(ctx)

    detail = decision_detail(ctx, chain.decision.id)

    assert detail.themes == ((chain.theme.id, THEME),)
    assert detail.project_group_id == chain.project_group.id
    assert detail.row.project_group_name == "Vereinbarkeit von Familie und Qualifizierung"
    assert detail.meeting_title == "Lenkungsgruppe, 4. Sitzung"
    assert len(detail.findings) == 2
    assert [m.decisions for m in meeting_rows(ctx)] == [1]
    assert due_follow_ups(ctx) == []
    clock.today = TODAY + timedelta(days=55)
    assert [r.title for r in due_follow_ups(ctx)] == [chain.decision.title]
    set_decision_status(ctx, chain.decision.id, "done")
    assert due_follow_ups(ctx) == []
    assert decision_rows(ctx, status="done")[0].status_label == "umgesetzt"


def test_the_effect_counts_equal_windows_before_and_after(ctx: Context, clock: Clock) -> None:
    theme = add_theme(ctx, None, THEME)
    decided = date(2026, 6, 1)
    clock.today = decided
    for day, theme_id, area in (
        (date(2025, 11, 29), theme.id, "childcare"),  # before the 6-month window
        (date(2026, 1, 10), theme.id, "childcare"),
        (date(2026, 3, 2), theme.id, "childcare"),
        (date(2026, 5, 31), theme.id, "childcare"),
        (date(2026, 5, 20), None, "housing"),
    ):
        clock.today = max(clock.today, day)
        record_finding(ctx, FindingInput(area, "capacity", "Wartezeit", noted_on=day,
                                         theme_id=theme_id))
    housing = record_finding(ctx, FindingInput("housing", "capacity", "Wartezeit",
                                               noted_on=date(2026, 5, 25)))
    decision = record_decision(ctx, DecisionInput("Kontingent", decided, theme_ids=[theme.id],
                                                  finding_ids=[housing.id]))
    clock.today = date(2026, 8, 1)  # two months after: both windows shrink to 61 days
    record_finding(ctx, FindingInput("childcare", "capacity", "Wartezeit",
                                     noted_on=date(2026, 7, 1), theme_id=theme.id))

    young = decision_effect(ctx, decision.id)
    assert (young.window_days, young.complete) == (61, False)
    assert young.before_start == date(2026, 4, 1)
    assert [(r.label, r.before, r.after) for r in young.rows] == [
        (THEME, 1, 1), ("Wohnen: Angebot ausgelastet, Wartezeit", 2, 0)]

    clock.today = date(2027, 1, 1)
    full = decision_effect(ctx, decision.id)
    assert (full.window_days, full.complete) == (183, True)
    assert [(r.before, r.after) for r in full.rows] == [(3, 1), (2, 0)]
    with pytest.raises(ValidationError):
        decision_effect(ctx, decision.id, window_months=0)
