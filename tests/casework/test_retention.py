"""Retention: closed files are proposed for deletion after the configured periods; a person
confirms or postpones; a purge removes every trace but one audit entry and anonymised counts."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import delete, select, text

from kimdesk.casework import audit
from kimdesk.casework.cases import add_participant, change_phase, close_case
from kimdesk.casework.clients import (
    add_relation,
    add_to_household,
    create_household,
    find_clients,
    read_client,
)
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import record_residence
from kimdesk.casework.documents import add_attachment
from kimdesk.casework.network import ReferralInput, refer
from kimdesk.casework.planning import AssessmentInput, add_goal, add_step, save_assessment
from kimdesk.casework.retention import (
    confirm_deletion,
    due_for_deletion,
    postpone_deletion,
    propose_deletions,
)
from kimdesk.errors import NotFound, ValidationError
from kimdesk.models import AuditEntry, Base, Client, DeletionProposal, PurgedCaseCount
from kimdesk.models.enums import ProposalStatus
from tests.factories import (
    CM,
    SHORT,
    SUPPORT,
    TODAY,
    Clock,
    make_case,
    make_contact,
    make_institution,
    make_person,
    make_waiver,
)


def _closed_case(ctx: Context, clock: Clock, client: Client, kind: str, opened: date,
                 closed: date, reason: str = "moved_away") -> None:
    """A case worked and closed in the past; the clock is back on TODAY afterwards."""
    clock.today = opened
    case = make_case(ctx, client, kind)
    make_contact(ctx, case)
    clock.today = closed
    close_case(ctx, case.id, reason)
    clock.today = TODAY


def _proposal_of(proposals: list[DeletionProposal], client_id: str) -> DeletionProposal:
    [proposal] = [p for p in proposals if p.client_id == client_id]
    return proposal


def _proposed_ids(ctx: Context) -> set[str]:
    return {p.client_id for p in propose_deletions(ctx)}


# --- when a file is due -----------------------------------------------------------------------


def test_short_intervention_closed_13_months_ago_is_proposed(ctx: Context,
                                                             clock: Clock) -> None:
    client = make_person(ctx)
    _closed_case(ctx, clock, client, SHORT, date(2025, 10, 1), date(2025, 10, 25))

    [proposal] = propose_deletions(ctx)

    assert (proposal.client_id, proposal.due_since, proposal.status) == (
        client.id, date(2026, 10, 25), ProposalStatus.PROPOSED)
    [due] = due_for_deletion(ctx)
    assert (due.proposal_id, due.display_name) == (proposal.id, client.display_name)


def test_short_intervention_is_due_exactly_12_months_after_closing(ctx: Context,
                                                                   clock: Clock) -> None:
    due_today, due_tomorrow = make_person(ctx), make_person(ctx)
    _closed_case(ctx, clock, due_today, SHORT, date(2025, 11, 3), date(2025, 11, 25))
    _closed_case(ctx, clock, due_tomorrow, SHORT, date(2025, 11, 3), date(2025, 11, 26))

    assert _proposed_ids(ctx) == {due_today.id}


@pytest.mark.parametrize("kind", [CM, SUPPORT])
def test_case_management_and_begleitung_closed_35_months_ago_are_kept(
    ctx: Context, clock: Clock, kind: str
) -> None:
    clock.today = date(2023, 6, 1)
    client = make_person(ctx, consent=True)
    _closed_case(ctx, clock, client, kind, date(2023, 6, 1), date(2023, 12, 20))

    assert propose_deletions(ctx) == []

    clock.today = date(2026, 12, 20)  # 36 months
    assert _proposed_ids(ctx) == {client.id}


def test_an_open_case_blocks_the_deletion(ctx: Context, clock: Clock) -> None:
    client = make_person(ctx)
    _closed_case(ctx, clock, client, SHORT, date(2024, 1, 8), date(2024, 2, 1))
    make_case(ctx, client, SHORT)

    assert propose_deletions(ctx) == []


def test_the_latest_closed_case_decides(ctx: Context, clock: Clock) -> None:
    client = make_person(ctx)
    _closed_case(ctx, clock, client, SHORT, date(2022, 1, 10), date(2022, 2, 1))
    _closed_case(ctx, clock, client, SUPPORT, date(2024, 5, 1), date(2024, 9, 30))

    assert propose_deletions(ctx) == []  # the Begleitung runs until 30.09.2027


def test_a_file_is_proposed_once(ctx: Context, clock: Clock) -> None:
    client = make_person(ctx)
    _closed_case(ctx, clock, client, SHORT, date(2024, 1, 8), date(2024, 2, 1))

    assert len(propose_deletions(ctx)) == 1
    assert propose_deletions(ctx) == []
    assert len(due_for_deletion(ctx)) == 1


# --- postponing -------------------------------------------------------------------------------


@pytest.mark.parametrize(("until", "reason", "field"), [
    (date(2027, 6, 30), "  ", "reason"),
    (TODAY, "Kinder im Haushalt, Jugendamt beteiligt", "until"),
    (date(2026, 1, 1), "Kinder im Haushalt, Jugendamt beteiligt", "until"),
])
def test_postponing_needs_a_reason_and_a_future_date(ctx: Context, clock: Clock, until: date,
                                                     reason: str, field: str) -> None:
    client = make_person(ctx)
    _closed_case(ctx, clock, client, SHORT, date(2024, 1, 8), date(2024, 2, 1))
    [proposal] = propose_deletions(ctx)

    with pytest.raises(ValidationError) as error:
        postpone_deletion(ctx, proposal.id, until, reason)

    assert error.value.field == field
    assert due_for_deletion(ctx)[0].status == ProposalStatus.PROPOSED


def test_a_postponed_file_waits_until_its_date(ctx: Context, clock: Clock) -> None:
    client = make_person(ctx)
    _closed_case(ctx, clock, client, SHORT, date(2024, 1, 8), date(2024, 2, 1))
    [proposal] = propose_deletions(ctx)

    postpone_deletion(ctx, proposal.id, date(2027, 3, 1), "Widerspruchsverfahren läuft noch")

    [due] = due_for_deletion(ctx)
    assert (due.status, due.postponed_until, due.reason) == (
        ProposalStatus.POSTPONED, date(2027, 3, 1), "Widerspruchsverfahren läuft noch")
    with pytest.raises(ValidationError):
        confirm_deletion(ctx, proposal.id)
    clock.today = date(2027, 2, 28)
    assert propose_deletions(ctx) == []
    assert due_for_deletion(ctx)[0].status == ProposalStatus.POSTPONED

    clock.today = date(2027, 3, 1)
    propose_deletions(ctx)

    assert due_for_deletion(ctx)[0].status == ProposalStatus.PROPOSED
    assert confirm_deletion(ctx, proposal.id) == 1


def test_a_new_case_after_the_proposal_stops_the_deletion(ctx: Context,
                                                          clock: Clock) -> None:
    client = make_person(ctx)
    _closed_case(ctx, clock, client, SHORT, date(2024, 1, 8), date(2024, 2, 1))
    [proposal] = propose_deletions(ctx)
    make_case(ctx, client, SHORT)

    with pytest.raises(ValidationError):
        confirm_deletion(ctx, proposal.id)

    assert read_client(ctx, client.id).id == client.id


# --- the purge --------------------------------------------------------------------------------

NAME_PARTS = ("Zofia", "Wiśniewska", "Wisniewska", "1979-01-23", "23.01.1979",
              "Steinstraße 20")


def _full_file(ctx: Context, clock: Clock) -> tuple[Client, Client]:
    """A case management worked in 2023 with everything a file can hold; returns the client
    and her husband, whose own file stays."""
    clock.today = date(2023, 3, 1)
    zofia = make_person(ctx, consent=True, first_name="Zofia", last_name="Wiśniewska",
                        birth_date=date(1979, 1, 23), address="Steinstraße 20, Emmerich",
                        municipality="emmerich", nationality="PL", gender="female")
    husband = make_person(ctx, consent=True, first_name="Piotr", last_name="Kowalczyk")
    household = create_household(ctx, "Familie Wiśniewska", "emmerich",
                                 "Steinstraße 20, 46446 Emmerich am Rhein")
    add_to_household(ctx, household.id, zofia.id, "Haushaltsvorstand")
    add_relation(ctx, zofia.id, husband.id, "spouse")
    record_residence(ctx, zofia.id, "p104c", granted_on=date(2023, 2, 1))
    case = make_case(ctx, zofia, CM, phase="assessment")
    add_participant(ctx, case.id, husband.id)
    save_assessment(ctx, case.id, zofia.id, AssessmentInput(
        life_area="work", situation="Zofia Wiśniewska arbeitet als Erntehelferin", need=2))
    change_phase(ctx, case.id, "planning")
    goal = add_goal(ctx, case.id, zofia.id, "Aufenthalt nach § 25b sichern")
    add_step(ctx, goal.id, "Nachweise für die Ausländerbehörde sammeln", "Frau Wiśniewska",
             due_on=date(2023, 5, 1))
    jobcenter = make_institution(ctx)
    make_waiver(ctx, zofia, jobcenter)
    change_phase(ctx, case.id, "linking")
    refer(ctx, case.id, ReferralInput(institution_id=jobcenter.id, purpose="Bürgergeld",
                                      shares_data=True, information_kinds=["master_data"]))
    make_contact(ctx, case, duration_minutes=60, note="Gespräch mit Frau Wiśniewska",
                 follow_up_on=date(2023, 3, 15))
    add_attachment(ctx, zofia.id, "Wiśniewska_Pass.pdf", b"%PDF Zofia Wisniewska",
                   case_id=case.id)
    change_phase(ctx, case.id, "monitoring")
    change_phase(ctx, case.id, "evaluation")
    clock.today = date(2023, 9, 29)
    close_case(ctx, case.id, "goals_achieved")
    clock.today = TODAY
    return zofia, husband


def _every_text_in_the_vault(ctx: Context, skip_prefix: str = "-") -> str:
    """All values of all tables, as an auditor browsing the database would see them."""
    parts: list[str] = []
    with ctx.vault.reading() as session:
        for table in Base.metadata.sorted_tables:
            if table.name.startswith(skip_prefix):
                continue
            for row in session.execute(select(table)):
                parts.extend(json.dumps(v, default=str, ensure_ascii=False) for v in row)
        parts.extend(str(v) for row in session.execute(text("SELECT * FROM client_search"))
                     for v in row)
    return "\n".join(parts)


def test_confirmed_deletion_purges_the_file_and_every_related_row(ctx: Context,
                                                                  clock: Clock) -> None:
    zofia, husband = _full_file(ctx, clock)
    assert all(part in _every_text_in_the_vault(ctx) for part in ("Wiśniewska", zofia.id))
    assert ctx.vault.attachments.stored_ids()
    proposals = propose_deletions(ctx)
    proposal = _proposal_of(proposals, zofia.id)
    # Her husband took part in her case and has none of his own: he is due with it.
    assert {p.client_id for p in proposals} == {zofia.id, husband.id}

    assert confirm_deletion(ctx, proposal.id) == 1

    everything = _every_text_in_the_vault(ctx)
    for part in NAME_PARTS:
        assert part not in everything, part
    # Her id (random, no personal data) survives only in the proposal that records the
    # deletion itself and in the sync tombstones that carry the erasure to the team.
    everything_but_sync = _every_text_in_the_vault(ctx, skip_prefix="sync_")
    with ctx.vault.reading() as session:
        assert everything_but_sync.count(zofia.id) == 1
        # (her husband's own proposal stands beside it: both are due, in no fixed order)
        assert zofia.id in set(session.scalars(select(DeletionProposal.client_id)))
    assert ctx.vault.attachments.stored_ids() == set()
    assert list((ctx.vault.data_dir / "attachments").iterdir()) == []
    assert find_clients(ctx, "Wiśniewska") == []
    with pytest.raises(NotFound):
        read_client(ctx, zofia.id)
    assert read_client(ctx, husband.id).last_name == "Kowalczyk"
    assert [h.id for h in find_clients(ctx, "Kowalczyk")] == [husband.id]


def test_a_purge_leaves_anonymised_counts(ctx: Context, clock: Clock) -> None:
    zofia, _husband = _full_file(ctx, clock)
    proposal = _proposal_of(propose_deletions(ctx), zofia.id)

    confirm_deletion(ctx, proposal.id)

    with ctx.vault.reading() as session:
        [count] = session.scalars(select(PurgedCaseCount))
    assert (count.opened_month, count.closed_month, count.kind, count.highest_phase) == (
        "2023-03", "2023-09", CM, "evaluation")
    assert (count.team, count.municipality, count.closing_reason) == (
        "ost", "emmerich", "goals_achieved")
    assert (count.age_band, count.gender, count.nationality_group) == (
        "age_27_44", "female", "Polen")
    assert (count.contacts, count.contact_minutes) == (1, 60)
    assert count.topics == ["language", "livelihood", "residence", "work"]


def test_a_purge_leaves_exactly_one_audit_entry_and_a_sound_chain(ctx: Context,
                                                                  clock: Clock) -> None:
    zofia, husband = _full_file(ctx, clock)
    proposal = _proposal_of(propose_deletions(ctx), zofia.id)
    with ctx.vault.reading() as session:
        removed = {e.seq for e in audit.entries_for_client(session, zofia.id)}

    confirm_deletion(ctx, proposal.id)

    with ctx.vault.reading() as session:
        assert audit.entries_for_client(session, zofia.id) == []
        assert audit.entries_for_client(session, husband.id) != []
        [purge] = session.scalars(select(AuditEntry).where(AuditEntry.action == "purge"))
        assert audit.verify(session, ctx.audit_key) == []
    assert (purge.actor, purge.client_id, purge.entity, purge.entity_id) == (
        "Anna Becker", None, "deletion_proposals", proposal.id)
    assert purge.detail["cases"] == 1
    assert set(purge.detail["removed_seqs"]) == removed
    # The purge entry comes after every entry it removed: numbers are never handed out twice.
    assert purge.seq > max(removed)


def test_tampering_after_a_purge_is_still_detected(ctx: Context, clock: Clock) -> None:
    zofia, _husband = _full_file(ctx, clock)
    proposal = _proposal_of(propose_deletions(ctx), zofia.id)
    confirm_deletion(ctx, proposal.id)
    for _ in range(3):
        make_person(ctx)
    with ctx.vault.reading() as session:
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    victim = seqs[-2]  # an entry written after the purge

    with ctx.vault.writing() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == victim))

    with ctx.vault.reading() as session:
        problems = audit.verify(session, ctx.audit_key)
    assert problems and problems[0].seq == seqs[-1]


def test_a_household_is_purged_with_its_last_member(ctx: Context, clock: Clock) -> None:
    zofia, _husband = _full_file(ctx, clock)
    assert "Familie Wiśniewska" in _every_text_in_the_vault(ctx)
    proposal = _proposal_of(propose_deletions(ctx), zofia.id)

    confirm_deletion(ctx, proposal.id)

    everything = _every_text_in_the_vault(ctx)
    assert "Familie Wiśniewska" not in everything
    assert "46446 Emmerich" not in everything


def test_a_household_stays_while_it_has_members(ctx: Context, clock: Clock) -> None:
    clock.today = date(2024, 1, 8)
    leaving = make_person(ctx, consent=True)
    staying = make_person(ctx, consent=True)
    household = create_household(ctx, "Familie H.", "kleve", "Hoffmannallee 12, 47533 Kleve")
    add_to_household(ctx, household.id, leaving.id, "Elternteil")
    add_to_household(ctx, household.id, staying.id, "Kind")
    clock.today = TODAY
    _closed_case(ctx, clock, leaving, SHORT, date(2024, 1, 8), date(2024, 2, 1))
    proposal = _proposal_of(propose_deletions(ctx), leaving.id)

    confirm_deletion(ctx, proposal.id)

    assert read_client(ctx, staying.id).household_id == household.id
    assert "Familie H." in _every_text_in_the_vault(ctx)


@pytest.mark.parametrize("state", ["postponed", "done"])
def test_confirming_a_postponed_or_done_proposal_is_refused(ctx: Context, clock: Clock,
                                                            state: str) -> None:
    client = make_person(ctx)
    _closed_case(ctx, clock, client, SHORT, date(2024, 1, 8), date(2024, 2, 1))
    [proposal] = propose_deletions(ctx)
    if state == "postponed":
        postpone_deletion(ctx, proposal.id, date(2027, 1, 31), "Kinder im Haushalt")
    else:
        confirm_deletion(ctx, proposal.id)
    with ctx.vault.reading() as session:
        entries = audit.count(session)

    with pytest.raises(ValidationError):
        confirm_deletion(ctx, proposal.id)

    with ctx.vault.reading() as session:
        assert audit.count(session) == entries
    if state == "done":
        with pytest.raises(ValidationError):
            postpone_deletion(ctx, proposal.id, date(2027, 1, 31), "doch aufbewahren")
        assert due_for_deletion(ctx) == []
        assert propose_deletions(ctx) == []
