"""Fristen and Wiedervorlagen: residence status dates, § 104c (18 months, reminders, checklist),
and the Heute view (overdue first)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kimdesk.casework.consents import consents_of, revoke_consent
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import (
    add_deadline,
    checklist,
    complete_deadline,
    due_items,
    p104c_expiry,
    record_residence,
    residence_history,
    set_checklist_item,
)
from kimdesk.errors import ValidationError
from kimdesk.models import Client, Deadline
from tests.factories import Clock, make_person


def _deadlines(ctx: Context, client: Client) -> list[Deadline]:
    with ctx.vault.reading() as session:
        return list(session.scalars(select(Deadline).where(Deadline.client_id == client.id)
                                    .order_by(Deadline.due_on)))


# --- § 104c -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("granted_on", "expiry"), [
    (date(2025, 3, 1), date(2026, 8, 31)),
    (date(2024, 6, 15), date(2025, 12, 14)),
    (date(2025, 12, 31), date(2027, 6, 30)),
    # § 188 Abs. 3 BGB: without the corresponding day, the period ends with the month.
    (date(2025, 8, 31), date(2027, 2, 28)),
    (date(2025, 8, 29), date(2027, 2, 28)),
    (date(2025, 8, 28), date(2027, 2, 27)),
    (date(2025, 3, 31), date(2026, 9, 30)),
    (date(2022, 8, 29), date(2024, 2, 28)),  # 29.02.2024 exists: ends the day before
])
def test_p104c_runs_18_months_ending_the_day_before(ctx: Context, granted_on: date,
                                                    expiry: date) -> None:
    assert p104c_expiry(ctx, granted_on) == expiry


def test_p104c_grant_creates_expiry_reminders_and_checklist(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    residence = record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 1))

    assert residence.valid_until == date(2026, 8, 31)
    deadlines = [(d.kind, d.due_on) for d in _deadlines(ctx, client)]
    assert deadlines == [
        ("follow_up", date(2026, 7, 6)),  # 8 weeks ahead
        ("follow_up", date(2026, 7, 20)),  # 6 weeks ahead
        ("p104c_expiry", date(2026, 8, 31)),
    ]
    assert "§ 25a/§ 25b" in _deadlines(ctx, client)[-1].title
    assert sorted(item.item for item in checklist(ctx, client.id)) == [
        "family", "identity", "language", "livelihood"]
    assert not any(item.fulfilled for item in checklist(ctx, client.id))


def test_p104c_checklist_items_are_created_once(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 1))
    set_checklist_item(ctx, client.id, "language", True, note="Zertifikat A2 liegt vor")

    # A correction of the grant date: the checklist and its progress stay.
    record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 3))

    items = {item.item: item for item in checklist(ctx, client.id)}
    assert len(checklist(ctx, client.id)) == 4
    assert items["language"].fulfilled
    assert items["language"].fulfilled_on == ctx.today()
    assert len(residence_history(ctx, client.id)) == 2


@pytest.mark.parametrize("granted_on", [date(2026, 1, 1), date(2026, 6, 1)])
def test_p104c_grant_after_2025_is_refused(ctx: Context, granted_on: date) -> None:
    client = make_person(ctx, consent=True)

    with pytest.raises(ValidationError) as error:
        record_residence(ctx, client.id, "p104c", granted_on=granted_on)

    assert error.value.field == "granted_on"
    assert "31.12.2025" in error.value.message
    assert _deadlines(ctx, client) == [] and checklist(ctx, client.id) == []


def test_p104c_grant_on_the_last_possible_day_is_accepted(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    residence = record_residence(ctx, client.id, "p104c", granted_on=date(2025, 12, 31))

    assert residence.valid_until == date(2027, 6, 30)


def test_p104c_needs_the_grant_date(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    with pytest.raises(ValidationError) as error:
        record_residence(ctx, client.id, "p104c", valid_until=date(2026, 8, 31))

    assert error.value.field == "granted_on"


def test_p104c_with_a_different_end_date_is_refused(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    with pytest.raises(ValidationError) as error:
        record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 1),
                         valid_until=date(2027, 3, 1))  # "extended": § 104c is not extendable

    assert error.value.field == "valid_until"
    assert "31.08.2026" in error.value.message
    assert residence_history(ctx, client.id) == []


def test_p104c_with_its_own_end_date_is_accepted(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    residence = record_residence(ctx, client.id, "p104c", granted_on=date(2025, 3, 1),
                                 valid_until=date(2026, 8, 31))

    assert residence.valid_until == date(2026, 8, 31)


def test_p104c_grant_in_the_future_is_refused(ctx: Context, clock: Clock) -> None:
    clock.today = date(2025, 6, 1)
    client = make_person(ctx, consent=True)

    with pytest.raises(ValidationError) as error:
        record_residence(ctx, client.id, "p104c", granted_on=date(2025, 6, 2))

    assert error.value.field == "granted_on"


# --- other statuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "kind"), [
    ("duldung", "duldung_expiry"),
    ("duldung_training", "duldung_expiry"),
    ("gestattung", "gestattung_expiry"),
    ("fiktion", "fiktion_expiry"),
    ("ae_25a", "permit_expiry"),
    ("ae_25_2_refugee", "permit_expiry"),
])
def test_status_with_an_end_date_creates_its_expiry_deadline(ctx: Context, status: str,
                                                             kind: str) -> None:
    client = make_person(ctx, consent=True)

    record_residence(ctx, client.id, status, granted_on=date(2026, 6, 1),
                     valid_until=date(2026, 12, 1))

    [deadline] = _deadlines(ctx, client)
    assert (deadline.kind, deadline.due_on, deadline.done_on) == (kind, date(2026, 12, 1), None)
    assert "01.12.2026" in deadline.title
    assert checklist(ctx, client.id) == []


def test_status_without_an_end_date_creates_no_deadline(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    record_residence(ctx, client.id, "settlement", granted_on=date(2020, 5, 4))

    assert _deadlines(ctx, client) == []


def test_ukraine_permit_valid_on_the_key_date_continues(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    record_residence(ctx, client.id, "ae_24", granted_on=date(2024, 3, 5),
                     valid_until=date(2026, 3, 4))

    assert ("p24_continuation", date(2027, 3, 4)) in [
        (d.kind, d.due_on) for d in _deadlines(ctx, client)]


@pytest.mark.parametrize(("status", "kwargs", "field"), [
    ("blue_card", {}, "status"),
    ("duldung", {"granted_on": date(2026, 9, 1), "valid_until": date(2026, 8, 1)},
     "valid_until"),
    ("duldung", {"granted_on": date(2026, 11, 26)}, "granted_on"),
])
def test_invalid_residence_is_refused(ctx: Context, status: str, kwargs: dict[str, date],
                                      field: str) -> None:
    client = make_person(ctx, consent=True)

    with pytest.raises(ValidationError) as error:
        record_residence(ctx, client.id, status, **kwargs)

    assert error.value.field == field


def test_residence_status_needs_consent(ctx: Context) -> None:
    client = make_person(ctx)

    with pytest.raises(ValidationError) as error:
        record_residence(ctx, client.id, "duldung", valid_until=date(2027, 1, 31))

    assert "Einwilligung" in error.value.message
    assert residence_history(ctx, client.id) == []


def test_residence_status_after_revocation_is_refused(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    revoke_consent(ctx, consents_of(ctx, client.id)[0].id)

    with pytest.raises(ValidationError):
        record_residence(ctx, client.id, "duldung", valid_until=date(2027, 1, 31))


# --- the Heute view ---------------------------------------------------------------------------


def test_due_items_show_overdue_first_and_flag_p104c(ctx: Context) -> None:
    p104c_client = make_person(ctx, consent=True)
    other = make_person(ctx, consent=True)
    # Expires 14.12.2026; the 8- and 6-week reminders (19.10. and 02.11.) are overdue.
    record_residence(ctx, p104c_client.id, "p104c", granted_on=date(2025, 6, 15))
    add_deadline(ctx, other.id, "appointment", date(2026, 11, 30), "Termin Jobcenter")
    add_deadline(ctx, other.id, "appeal", date(2026, 11, 20), "Widerspruch Bescheid")
    add_deadline(ctx, other.id, "follow_up", ctx.today(), "")

    items = due_items(ctx, within_days=30)

    assert [(i.due_on, i.overdue, i.p104c) for i in items] == [
        (date(2026, 10, 19), True, True),
        (date(2026, 11, 2), True, True),
        (date(2026, 11, 20), True, False),
        (date(2026, 11, 25), False, False),  # due today is not overdue
        (date(2026, 11, 30), False, False),
        (date(2026, 12, 14), False, True),
    ]
    assert items[3].title == "Wiedervorlage"  # the kind's label when no title is given


def test_due_items_leave_out_done_and_later_deadlines(ctx: Context) -> None:
    client = make_person(ctx)
    done = add_deadline(ctx, client.id, "follow_up", date(2026, 11, 20), "Rückruf")
    add_deadline(ctx, client.id, "course_registration", date(2026, 12, 9), "Kursanmeldung")
    add_deadline(ctx, client.id, "benefit_renewal", date(2027, 2, 1), "Weiterbewilligung")

    complete_deadline(ctx, done.id, note="Rückruf erledigt")

    assert [i.kind for i in due_items(ctx)] == ["course_registration"]
    assert [i.kind for i in due_items(ctx, within_days=90)] == ["course_registration",
                                                                "benefit_renewal"]


def test_deadline_of_an_unknown_kind_or_done_in_the_future_is_refused(ctx: Context) -> None:
    client = make_person(ctx)
    with pytest.raises(ValidationError):
        add_deadline(ctx, client.id, "birthday", date(2026, 12, 1), "Geburtstag")

    deadline = add_deadline(ctx, client.id, "follow_up", date(2026, 12, 1), "Rückruf")
    with pytest.raises(ValidationError):
        complete_deadline(ctx, deadline.id, ctx.today() + timedelta(days=1))


def test_unknown_checklist_item_is_refused(ctx: Context) -> None:
    client = make_person(ctx, consent=True)

    with pytest.raises(ValidationError) as error:
        set_checklist_item(ctx, client.id, "driving_licence", True)

    assert error.value.field == "item"
