"""The counts of `kimdesk info` and the start screen."""

from __future__ import annotations

from datetime import date, timedelta

from kimdesk.casework.cases import close_case
from kimdesk.casework.clients import add_to_household, create_household
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_deadline, complete_deadline
from kimdesk.casework.overview import counts
from tests.factories import CM, SHORT, SUPPORT, make_case, make_person


def test_an_empty_vault_counts_nothing(ctx: Context) -> None:
    empty = counts(ctx)

    assert (empty.clients, empty.cases_open, empty.deadlines_open) == (0, 0, 0)
    assert set(empty.cases_by_kind) == {SHORT, SUPPORT, CM}
    assert set(empty.cases_by_phase) == {"intake", "assessment", "planning", "linking",
                                         "monitoring", "evaluation"}


def test_counts_of_clients_cases_and_deadlines(ctx: Context) -> None:
    family = create_household(ctx, "Familie R.", "kranenburg")
    mother, son = make_person(ctx, consent=True), make_person(ctx, consent=True)
    for member in (mother, son):
        add_to_household(ctx, family.id, member.id, "Kind")
    make_case(ctx, mother, CM, phase="planning")
    make_case(ctx, son, CM)
    make_case(ctx, son, SUPPORT)
    closed = make_case(ctx, mother, SHORT)
    close_case(ctx, closed.id, "goals_achieved")
    add_deadline(ctx, mother.id, "appeal", ctx.today() - timedelta(days=2), "Widerspruch")
    add_deadline(ctx, mother.id, "appointment", ctx.today() + timedelta(days=14), "Termin")
    add_deadline(ctx, son.id, "course_registration", date(2027, 3, 1), "Kursanmeldung")
    done = add_deadline(ctx, son.id, "follow_up", ctx.today(), "Rückruf")
    complete_deadline(ctx, done.id)

    result = counts(ctx)

    assert (result.clients, result.households) == (2, 1)
    assert (result.cases_open, result.cases_closed) == (3, 1)
    assert result.cases_by_kind == {SHORT: 0, SUPPORT: 1, CM: 2}
    assert (result.cases_by_phase["intake"], result.cases_by_phase["planning"]) == (1, 1)
    assert (result.deadlines_open, result.deadlines_overdue,
            result.deadlines_next_14_days) == (3, 1, 1)
    assert result.to_json()["cases_by_kind"][CM] == 2
