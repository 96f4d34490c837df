"""What Heute lists: only the user's own Fristen (her cases, as "Eigene Fallzahl" counts them),
Wiedervorlagen with a subject, and an expired § 104c marked as expired."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from kimdesk.casework import caseload
from kimdesk.casework.cases import add_participant
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_deadline, due_items, p104c_state, record_residence
from tests.factories import CM, Clock, make_case, make_contact, make_person

COLLEAGUE = "Mehmet Yılmaz"


def test_heute_lists_the_own_fristen_like_the_own_caseload(ctx: Context) -> None:
    mehmet = dataclasses.replace(ctx, user=COLLEAGUE)
    soon = ctx.today() + timedelta(days=3)
    mine = make_person(ctx, consent=True)
    my_case = make_case(ctx, mine, CM)
    partner = make_person(ctx, consent=True)
    add_participant(ctx, my_case.id, partner.id)
    theirs = make_person(ctx, consent=True)
    their_case = make_case(mehmet, theirs, CM)
    no_case = make_person(ctx, consent=True)

    add_deadline(ctx, mine.id, "follow_up", soon, "Eigener Fall", case_id=my_case.id)
    add_deadline(mehmet, partner.id, "passport_expiry", soon, "Pass der Partnerin")
    add_deadline(ctx, theirs.id, "follow_up", soon, "Fall des Kollegen", case_id=their_case.id)
    add_deadline(ctx, theirs.id, "passport_expiry", soon, "Person im Fall des Kollegen")
    add_deadline(ctx, no_case.id, "follow_up", soon, "Ohne Fall, selbst angelegt")
    add_deadline(mehmet, no_case.id, "follow_up", soon, "Ohne Fall, vom Kollegen")

    assert sorted(d.title for d in due_items(ctx, own=True)) == [
        "Eigener Fall", "Ohne Fall, selbst angelegt", "Pass der Partnerin"]
    assert sorted(d.title for d in due_items(mehmet, own=True)) == [
        "Fall des Kollegen", "Ohne Fall, vom Kollegen", "Person im Fall des Kollegen"]
    assert len(due_items(ctx)) == 6  # the team's view (Vertretung) is unchanged
    own_cases = {c.id for c in caseload.open_cases_of(ctx, ctx.user)}
    assert {d.case_id for d in due_items(ctx, own=True)} - {None} <= own_cases


def test_wiedervorlage_from_a_contact_has_a_subject(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    make_contact(ctx, case, follow_up_on=ctx.today() + timedelta(days=7),
                 follow_up_subject="  Bescheid   Jobcenter prüfen ")
    make_contact(ctx, case, follow_up_on=ctx.today() + timedelta(days=8),
                 topics=["livelihood", "housing"])

    titles = [d.title for d in due_items(ctx, own=True)]
    labels = ", ".join(ctx.reference.label("topics", t) for t in ("livelihood", "housing"))
    assert titles == ["Bescheid Jobcenter prüfen",
                      f"Nachfassen zum Kontakt vom {ctx.today():%d.%m.%Y}: {labels}"]
    assert "Wiedervorlage" not in titles


def test_expired_p104c_is_marked_expired(ctx: Context, clock: Clock) -> None:
    client = make_person(ctx, consent=True)
    make_case(ctx, client, CM)
    record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 1))  # until 31.08.2026

    clock.today = date(2026, 8, 20)
    running = p104c_state(ctx, client.id)
    assert running is not None and not running.expired and running.days_left == 11
    assert "gültig bis 31.08.2026" in running.label
    item = next(d for d in due_items(ctx, own=True) if d.kind == "p104c_expiry")
    assert not item.expired and "läuft ab" in item.display_title

    clock.today = date(2026, 9, 1)
    expired = p104c_state(ctx, client.id)
    assert expired is not None and expired.expired
    assert expired.label == "§ 104c abgelaufen am 31.08.2026"
    item = next(d for d in due_items(ctx, own=True) if d.kind == "p104c_expiry")
    assert item.expired and item.overdue
    assert "abgelaufen am 31.08.2026" in item.display_title
    assert "läuft ab" not in item.display_title


def test_p104c_state_is_none_after_a_later_status(ctx: Context, clock: Clock) -> None:
    client = make_person(ctx, consent=True)
    record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 1))
    assert p104c_state(ctx, client.id) is not None
    record_residence(ctx, client.id, "ae_25b", granted_on=ctx.today())
    assert p104c_state(ctx, client.id) is None


def test_goal_review_is_called_zielueberpruefung(ctx: Context) -> None:
    """The concept's term; "Hilfeplan" belongs to the youth welfare office (SGB VIII)."""
    assert ctx.reference.label("deadline_kinds", "plan_review") == "Zielüberprüfung"
    assert not any("Hilfeplan" in t.label for t in ctx.reference.terms("deadline_kinds"))


def test_today_data_counts_the_same_cases_as_it_lists(ctx: Context) -> None:
    from datetime import time

    from kimdesk.casework.appointments import add_appointment
    from kimdesk.casework.handover import hand_over_case
    from kimdesk.casework.today import today_data

    mehmet = dataclasses.replace(ctx, user=COLLEAGUE)
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    add_deadline(ctx, client.id, "follow_up", ctx.today(), "Rückruf", case_id=case.id)
    add_appointment(ctx, client.id, ctx.today(), time(9, 0), case_id=case.id)

    mine = today_data(ctx)
    assert [d.title for d in mine.due] == ["Rückruf"]
    assert len(mine.appointments) == 1 and mine.caseload.open_cases == {CM: 1}
    assert today_data(mehmet).due == [] and today_data(mehmet).caseload.open_cases == {}

    hand_over_case(ctx, case.id, COLLEAGUE, "Teamwechsel")
    theirs = today_data(mehmet)
    assert [d.title for d in theirs.due] == ["Rückruf"]
    assert len(theirs.appointments) == 1 and theirs.caseload.open_cases == {CM: 1}
    assert today_data(ctx).due == [] and today_data(ctx).appointments == []
