"""Fallübergabe: the responsible case manager changes with a reason, kept in the case's history
and the audit trail; the new case manager's Fallzahl and Heute take the case over."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from kimdesk.casework import caseload
from kimdesk.casework.audit import entries_for_client
from kimdesk.casework.cases import close_case
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_deadline, due_items
from kimdesk.casework.handover import hand_over_case, handovers_of, known_case_managers
from kimdesk.casework.views import open_client_file
from kimdesk.errors import ValidationError
from kimdesk.models import Case, CaseHandover
from tests.factories import CM, make_case, make_person

COLLEAGUE = "Mehmet Yılmaz"


def test_handover_moves_the_case_with_its_fristen_to_the_new_case_manager(ctx: Context) -> None:
    mehmet = dataclasses.replace(ctx, user=COLLEAGUE)
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    add_deadline(ctx, client.id, "follow_up", ctx.today() + timedelta(days=2), "Rückruf",
                 case_id=case.id)
    assert caseload.caseload(ctx, fte=1.0, case_manager=ctx.user).open_cases == {CM: 1}
    assert [d.title for d in due_items(ctx, own=True)] == ["Rückruf"]
    assert due_items(mehmet, own=True) == []

    hand_over_case(ctx, case.id, COLLEAGUE, "Frau Becker wechselt in die Koordination")

    assert caseload.caseload(ctx, fte=1.0, case_manager=ctx.user).open_cases == {}
    assert caseload.caseload(ctx, fte=1.0, case_manager=COLLEAGUE).open_cases == {CM: 1}
    assert [c.id for c in caseload.open_cases_of(ctx, COLLEAGUE)] == [case.id]
    assert due_items(ctx, own=True) == []
    assert [d.title for d in due_items(mehmet, own=True)] == ["Rückruf"]
    # Vertretung unchanged: the whole team still sees the Frist.
    assert [d.title for d in due_items(ctx)] == ["Rückruf"]
    [row] = handovers_of(ctx, case.id)
    assert (row.from_manager, row.to_manager, row.author) == (ctx.user, COLLEAGUE, ctx.user)
    assert row.reason == "Frau Becker wechselt in die Koordination"
    timeline = open_client_file(ctx, client.id).timeline
    assert any(e.kind == "handover" and COLLEAGUE in e.title for e in timeline)


def test_handover_is_audited_without_the_reason(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    hand_over_case(ctx, case.id, COLLEAGUE, "Umzug nach Goch, Geheimnis-4711")

    with ctx.vault.reading() as session:
        handover_id = session.scalars(select(CaseHandover.id)).one()
        trail = entries_for_client(session, client.id)
        found = {(e.action, e.entity, e.entity_id) for e in trail}
        details = [repr(e.detail) for e in trail]
    assert ("update", "cases", case.id) in found
    assert ("create", "case_handovers", handover_id) in found
    assert not any("Geheimnis" in d for d in details)


@pytest.mark.parametrize(("to_manager", "reason", "field"), [
    ("", "Umzug", "to_manager"),
    ("   ", "Umzug", "to_manager"),
    (COLLEAGUE, "  ", "reason"),
    ("Anna Becker", "Umzug", "to_manager"),  # already responsible
    ("x" * 121, "Umzug", "to_manager"),
])
def test_bad_handover_is_refused_and_changes_nothing(ctx: Context, to_manager: str, reason: str,
                                                     field: str) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    with pytest.raises(ValidationError) as refused:
        hand_over_case(ctx, case.id, to_manager, reason)
    assert refused.value.field == field
    with ctx.vault.reading() as session:
        assert session.get(Case, case.id).case_manager == ctx.user  # type: ignore[union-attr]
        assert session.scalars(select(CaseHandover)).all() == []


def test_closed_case_cannot_be_handed_over(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    close_case(ctx, case.id, "moved_away")
    with pytest.raises(ValidationError, match="abgeschlossener Fall"):
        hand_over_case(ctx, case.id, COLLEAGUE, "Umzug")


def test_known_case_managers_offer_the_team(ctx: Context) -> None:
    mehmet = dataclasses.replace(ctx, user=COLLEAGUE)
    make_case(mehmet, make_person(ctx, consent=True), CM)
    assert known_case_managers(ctx) == ["Anna Becker", COLLEAGUE]


def test_fall_shows_its_handovers(ctx: Context) -> None:
    from kimdesk.casework.case_views import load_case

    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    hand_over_case(ctx, case.id, COLLEAGUE, "Umzug nach Goch")
    detail = load_case(ctx, case.id)
    assert detail.case_manager == COLLEAGUE
    assert [(h.from_manager, h.to_manager) for h in detail.handovers] == [(ctx.user, COLLEAGUE)]


def test_purge_takes_the_handovers_and_termine_with_the_case(ctx: Context) -> None:
    from datetime import time

    from kimdesk.casework.appointments import add_appointment
    from kimdesk.casework.retention import purge_client
    from kimdesk.models import Appointment

    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    add_appointment(ctx, client.id, ctx.today(), time(9, 0), case_id=case.id)
    add_appointment(ctx, client.id, ctx.today(), time(10, 0))
    hand_over_case(ctx, case.id, COLLEAGUE, "Umzug")

    with ctx.vault.writing() as session:
        purge_client(session, client.id)

    with ctx.vault.reading() as session:
        assert session.scalars(select(CaseHandover)).all() == []
        assert session.scalars(select(Appointment)).all() == []
