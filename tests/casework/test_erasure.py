"""Erasure on request (Art. 17 DSGVO): erased at once and on every device, or refused or
postponed under an exception of Art. 17 Abs. 3 with a reason in the audit trail; revoking an
Einwilligung decides about the data stored under it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from kimdesk.casework import audit
from kimdesk.casework.clients import find_clients, read_client
from kimdesk.casework.consents import consents_of
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_deadline
from kimdesk.casework.erasure import (
    ERASE,
    KEEP,
    erase_on_request,
    erasure_hints,
    restrict_erasure,
    revoke_with_decision,
    stored_under,
)
from kimdesk.casework.retention import confirm_deletion, due_for_deletion, propose_deletions
from kimdesk.casework.trail import client_trail
from kimdesk.errors import NotFound, ValidationError
from kimdesk.models import AuditEntry, Client, DeletionProposal, PurgedCaseCount
from kimdesk.models.enums import ProposalStatus
from tests.casework.vault_text import every_text_in_the_vault
from tests.factories import (
    CM,
    TODAY,
    Clock,
    make_case,
    make_contact,
    make_institution,
    make_person,
    make_waiver,
)
from tests.sync.devices import snapshot
from tests.sync.team import Team

ASKED = date(2026, 11, 20)


def test_an_erasure_on_request_purges_at_once_on_every_device(
        pair: tuple[Team, Context, Context]) -> None:
    team, anna, ewa = pair
    person = make_person(anna, consent=True, first_name="Halyna", last_name="Tkachenko",
                         address="Lindenallee 3, Kleve")
    case = make_case(anna, person, CM)  # open: no retention rule would ever propose it
    make_contact(anna, case, note="Gespräch mit Frau Tkachenko")
    team.sync_all()
    assert [c.id for c in find_clients(ewa, "Tkachenko")] == [person.id]
    assert "Fall/Fälle noch offen" in erasure_hints(anna, person.id)[0]

    outcome = erase_on_request(anna, person.id, ASKED)
    team.sync_all()

    assert (outcome.decision, outcome.cases_kept_as_counts) == ("erased", 1)
    for device in (anna, ewa):
        everything = every_text_in_the_vault(device)
        for part in ("Halyna", "Tkachenko", "Lindenallee"):
            assert part not in everything, (device.user, part)
        with pytest.raises(NotFound):
            read_client(device, person.id)
    assert snapshot(anna.vault) == snapshot(ewa.vault)
    with anna.vault.reading() as session:
        proposal = session.get(DeletionProposal, outcome.proposal_id)
        assert (proposal.status, proposal.requested_on) == (ProposalStatus.DONE, ASKED)
        [purge] = session.scalars(select(AuditEntry).where(AuditEntry.action == "purge"))
        assert (purge.detail["ground"], purge.detail["requested_on"]) == ("art17", "2026-11-20")
        assert session.scalar(select(PurgedCaseCount.kind)) == CM
        assert audit.verify(session, anna.audit_key) == []


@pytest.mark.parametrize(("exception", "reason", "until", "field"), [
    ("whim", "Klage anhängig", None, "exception"),
    ("legal_claims", "  ", None, "reason"),
    ("legal_claims", "Klage anhängig", TODAY, "until"),
])
def test_a_restriction_needs_a_lawful_exception_and_a_reason(
        ctx: Context, exception: str, reason: str, until: date | None, field: str) -> None:
    person = make_person(ctx)
    with ctx.vault.reading() as session:
        entries = audit.count(session)

    with pytest.raises(ValidationError) as error:
        restrict_erasure(ctx, person.id, ASKED, exception, reason, until)

    assert error.value.field == field
    with ctx.vault.reading() as session:
        assert audit.count(session) == entries


def test_a_refusal_is_recorded_with_its_reason(ctx: Context) -> None:
    person = make_person(ctx, consent=True)

    outcome = restrict_erasure(ctx, person.id, ASKED, "legal_obligation",
                               "Aufbewahrungspflicht nach § 110 SGB X läuft noch")

    assert outcome.decision == "refused"
    assert read_client(ctx, person.id).id == person.id
    with ctx.vault.reading() as session:
        [entry] = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "erasure_refused"))
    assert (entry.client_id, entry.detail["exception"], entry.detail["reason"]) == (
        person.id, "legal_obligation", "Aufbewahrungspflicht nach § 110 SGB X läuft noch")
    assert "Antrag auf Löschung abgelehnt (Art. 17 Abs. 3 DSGVO)" in {
        row.action for row in client_trail(ctx, person.id)}


def test_a_postponed_request_returns_on_its_day_and_can_then_be_confirmed(
        ctx: Context, clock: Clock) -> None:
    person = make_person(ctx, consent=True, last_name="Petrenko")
    make_case(ctx, person, CM)
    add_deadline(ctx, person.id, "appeal", date(2027, 2, 1), "Klage gegen Ablehnung")
    assert any("Widerspruchs- oder Klageverfahren" in h for h in erasure_hints(ctx, person.id))

    outcome = restrict_erasure(ctx, person.id, ASKED, "legal_claims",
                               "Klage vor dem Sozialgericht anhängig", date(2027, 3, 1))

    [due] = due_for_deletion(ctx)
    assert (due.status, due.postponed_until) == (ProposalStatus.POSTPONED, date(2027, 3, 1))
    assert due.reason.startswith("Art. 17 Abs. 3 lit. e DSGVO")
    assert due.why == "Antrag auf Löschung (Art. 17 DSGVO) vom 20.11.2026."
    with pytest.raises(ValidationError):
        confirm_deletion(ctx, outcome.proposal_id)

    clock.today = date(2027, 3, 1)
    propose_deletions(ctx)  # the open case would keep the file under the retention rules

    assert due_for_deletion(ctx)[0].status == ProposalStatus.PROPOSED
    assert confirm_deletion(ctx, outcome.proposal_id) == 1
    assert find_clients(ctx, "Petrenko") == []


# --- revoking an Einwilligung -----------------------------------------------------------------


def _consented(ctx: Context) -> Client:
    return make_person(ctx, consent=True, first_name="Mariam", last_name="Haidari",
                       address="Bahnhofstraße 8, Goch", birth_date=date(1990, 4, 2))


def test_revoking_names_the_data_stored_under_the_consent(ctx: Context) -> None:
    person = _consented(ctx)
    [consent] = consents_of(ctx, person.id)

    assert stored_under(ctx, consent.id) == ["Anschrift", "Geburtsdatum",
                                             "Staatsangehörigkeit"]
    waiver = make_waiver(ctx, person, make_institution(ctx))
    assert stored_under(ctx, waiver.id) == []


def test_revoking_without_a_decision_or_legal_basis_changes_nothing(ctx: Context) -> None:
    person = _consented(ctx)
    [consent] = consents_of(ctx, person.id)

    with pytest.raises(ValidationError) as error:
        revoke_with_decision(ctx, consent.id, None, "Widerruf per Brief", "later")
    assert error.value.field == "data"
    with pytest.raises(ValidationError) as error:
        revoke_with_decision(ctx, consent.id, None, "Widerruf per Brief", KEEP, " ")
    assert error.value.field == "legal_basis"

    assert consents_of(ctx, person.id)[0].revoked_on is None


def test_revoking_and_erasing_empties_the_consent_fields_on_every_device(
        pair: tuple[Team, Context, Context]) -> None:
    team, anna, ewa = pair
    person = _consented(anna)
    [consent] = consents_of(anna, person.id)
    team.sync_all()

    erased = revoke_with_decision(anna, consent.id, None, "Widerruf per Brief", ERASE)
    team.sync_all()

    assert erased == ["Anschrift", "Geburtsdatum", "Staatsangehörigkeit"]
    for device in (anna, ewa):
        client = read_client(device, person.id)
        assert (client.address, client.birth_date, client.nationality) == ("", None, None)
        assert client.last_name == "Haidari"  # what the Kurzintervention needs stays
        assert consents_of(device, person.id)[0].revoked_on == TODAY
        assert "Bahnhofstraße" not in every_text_in_the_vault(device, skip_prefix="sync_")
    assert "nach Widerruf gelöscht (Daten der Einwilligung)" in {
        row.action for row in client_trail(anna, person.id)}


def test_revoking_and_keeping_records_the_legal_basis(ctx: Context) -> None:
    person = _consented(ctx)
    [consent] = consents_of(ctx, person.id)

    assert revoke_with_decision(ctx, consent.id, None, "Widerruf telefonisch", KEEP,
                                "§ 67b SGB X, laufende Leistungsgewährung") == []

    assert read_client(ctx, person.id).address == "Bahnhofstraße 8, Goch"
    with ctx.vault.reading() as session:
        [entry] = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "consent_data_kept"))
    assert entry.detail == {"legal_basis": "§ 67b SGB X, laufende Leistungsgewährung",
                            "fields": ["Anschrift", "Geburtsdatum", "Staatsangehörigkeit"]}
