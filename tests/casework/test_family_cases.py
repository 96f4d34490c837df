"""Family cases: a household member who takes part in another member's case has a case, too
(Ratsuchende list, Akte), and her Verlauf holds the family's contacts with their notes."""

from __future__ import annotations

from kimdesk.casework.cases import add_participant, close_case
from kimdesk.casework.clients import add_to_household, create_household
from kimdesk.casework.context import Context
from kimdesk.casework.views import client_rows, open_client_file
from tests.factories import CM, make_case, make_contact, make_person


def _family(ctx: Context):  # type: ignore[no-untyped-def]
    mother = make_person(ctx, consent=True)
    daughter = make_person(ctx, consent=True)
    household = create_household(ctx, "Familie H.", mother.municipality,
                                 first_member=mother.id, role="parent")
    add_to_household(ctx, household.id, daughter.id, "child")
    case = make_case(ctx, mother, CM)
    add_participant(ctx, case.id, daughter.id)
    return mother, daughter, case


def test_participant_is_not_listed_without_a_case(ctx: Context) -> None:
    mother, daughter, case = _family(ctx)
    loner = make_person(ctx)

    rows = {r.id: r for r in client_rows(ctx)}

    assert (rows[daughter.id].case_status, rows[daughter.id].case_kind) == ("open", CM)
    assert rows[daughter.id].family_case
    assert not rows[mother.id].family_case
    assert rows[loner.id].case_status is None
    close_case(ctx, case.id, "moved_away")
    assert {r.id: r for r in client_rows(ctx)}[daughter.id].case_status == "closed"


def test_own_open_case_comes_before_a_closed_family_case(ctx: Context) -> None:
    _mother, daughter, case = _family(ctx)
    close_case(ctx, case.id, "moved_away")
    make_case(ctx, daughter)

    row = {r.id: r for r in client_rows(ctx)}[daughter.id]
    assert (row.case_status, row.family_case) == ("open", False)


def test_akte_of_a_participant_shows_the_family_case_and_its_contacts(ctx: Context) -> None:
    mother, daughter, case = _family(ctx)
    make_contact(ctx, case, note="Mutter bringt Schulanmeldung mit.")
    make_contact(ctx, case, client_id=daughter.id, note="Tochter: Praktikum gesucht.")

    file = open_client_file(ctx, daughter.id)

    assert file.cases == []
    assert [c.id for c in file.family_cases] == [case.id]
    assert file.family_case_clients == {case.id: mother.display_name}
    assert file.has_any_case
    contacts = [e for e in file.timeline if e.kind == "contact"]
    assert len(contacts) == 2
    assert all(f"Familienfall von {mother.display_name}" in e.title for e in contacts)
    details = "\n".join(e.detail for e in contacts)
    assert "Mutter bringt Schulanmeldung mit." in details
    assert "Tochter: Praktikum gesucht." in details
    assert any(e.title == f"Beteiligt am Fall von {mother.display_name}"
               for e in file.timeline)
    # The mother's own Akte is unchanged: her case is her own, not a family case.
    own = open_client_file(ctx, mother.id)
    assert [c.id for c in own.cases] == [case.id] and own.family_cases == []
