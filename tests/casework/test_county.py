"""The Kreis-Tresor (issue 15): created and opened from the team vault, releases that run the
pseudonymisation checks again, and the guard that keeps every case table out of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kimdesk.casework import county
from kimdesk.casework.context import Context
from kimdesk.casework.coordination.findings import FindingInput, finding_rows, record_finding
from kimdesk.casework.coordination.municipal import (
    ActivityInput,
    AgreementInput,
    activity_rows,
    agreement_rows,
    record_activity,
    record_agreement,
)
from kimdesk.casework.coordination.project_groups import (
    FrameworkGoal,
    ProjectGroupInput,
    create_project_group,
    project_group_detail,
)
from kimdesk.casework.coordination.reconstructions import reconstruction_detail, theme_rows
from kimdesk.casework.coordination.steering import (
    DecisionInput,
    MeetingInput,
    SteeringMemberInput,
    add_steering_member,
    create_meeting,
    decision_rows,
    record_decision,
    steering_composition,
)
from kimdesk.errors import KimdeskError
from kimdesk.models import Client, Finding, VaultProfile
from kimdesk.models.changelog import LOCAL_ONLY
from kimdesk.sync.client import wipe_vault
from kimdesk.vault import open_vault
from kimdesk.vault.errors import WrongPassword
from tests.coordination_builders import (
    BIRTH_DATE,
    FIRST_NAME,
    LAST_NAME,
    PHONE,
    Example5Coordination,
    build_example5,
)
from tests.factories import PASSWORD, make_person


def make_coordinator(ctx: Context) -> Context:
    with ctx.vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        session.scalars(select(VaultProfile)).one().role = "coordinator"
    return ctx


@pytest.fixture
def coordinator(ctx: Context) -> Context:
    return make_coordinator(ctx)


@pytest.fixture
def kreis(coordinator: Context) -> Iterator[Context]:
    county.create_county_vault(coordinator, coordinator.vault.data_dir)
    opened = county.open_county_context(coordinator, coordinator.vault.data_dir)
    assert opened is not None
    yield opened
    opened.vault.close()


def test_the_kreis_tresor_opens_with_the_team_vault_only(coordinator: Context) -> None:
    data_dir = coordinator.vault.data_dir
    assert not county.has_county_vault(data_dir)
    assert county.open_county_context(coordinator, data_dir) is None
    county.create_county_vault(coordinator, data_dir)
    assert county.has_county_vault(data_dir)
    assert county.county_vault_dir(data_dir) == data_dir / "kreis"
    with pytest.raises(county.CountyScopeError, match="bereits einen Kreis-Tresor"):
        county.create_county_vault(coordinator, data_dir)
    kreis = county.open_county_context(coordinator, data_dir)
    assert kreis is not None
    try:
        assert kreis.team == "kreis" and kreis.user == coordinator.user
        assert county.is_county_context(kreis) and not county.is_county_context(coordinator)
        assert kreis.today() == coordinator.today()
    finally:
        kreis.vault.close()
    # The team vault's password is not the Kreis-Tresor's: only the derived secret opens it.
    with pytest.raises(WrongPassword):
        open_vault(county.county_vault_dir(data_dir), PASSWORD)


def test_what_a_revocation_wipe_left_of_the_kreis_tresor_is_removed(
        coordinator: Context) -> None:
    data_dir = coordinator.vault.data_dir
    folder = county.county_vault_dir(data_dir)
    assert not county.remove_wiped_county_vault(data_dir)  # none there
    county.create_county_vault(coordinator, data_dir)
    assert not county.remove_wiped_county_vault(data_dir)  # a Kreis-Tresor stays
    assert county.has_county_vault(data_dir)
    (folder / "exports").mkdir()
    (folder / "exports" / "liste.csv").write_bytes(b"\x00encrypted")
    wipe_vault(folder)  # what the sync does for a revoked device
    assert not county.has_county_vault(data_dir) and folder.exists()
    assert county.remove_wiped_county_vault(data_dir)
    assert not folder.exists()
    # After a new enrolment the coordinator can set up a Kreis-Tresor again.
    county.create_county_vault(coordinator, data_dir)
    assert county.has_county_vault(data_dir)


def test_only_a_coordinator_sets_up_a_kreis_tresor(ctx: Context) -> None:
    with pytest.raises(county.CountyScopeError, match="nur die Koordination"):
        county.create_county_vault(ctx, ctx.vault.data_dir)
    assert not county.has_county_vault(ctx.vault.data_dir)


def test_the_guard_refuses_case_data_and_writes_nothing(kreis: Context) -> None:
    with pytest.raises(county.CountyScopeError, match="Personen werden dort nicht gespeichert"):
        make_person(kreis, consent=True, first_name="Ida", last_name="Test")
    with kreis.vault.reading() as session:
        assert session.scalars(select(Client)).first() is None
    assert {"clients", "cases", "contacts", "consents", "attachments"} <= county.CASE_TABLES
    assert not county.CASE_TABLES & {"findings", "project_groups", "steering_decisions"}


def _example(coordinator: Context) -> Example5Coordination:
    return build_example5(coordinator)


def test_a_released_finding_reaches_the_kreis_tresor_and_a_new_release_updates_it(
        coordinator: Context, kreis: Context) -> None:
    example = _example(coordinator)
    finding = example.findings[0]
    county_id = county.release_finding(coordinator, kreis, finding.id)
    assert county_id != finding.id
    rows = finding_rows(kreis)
    assert [r.id for r in rows] == [county_id]
    assert rows[0].description == finding.description
    assert rows[0].life_area == "childcare" and rows[0].barrier == "compatibility"
    assert rows[0].theme_id is None and rows[0].review_id is None
    with kreis.vault.reading() as session:
        copy = session.get(Finding, county_id)
        assert copy is not None
        assert (copy.released_from, copy.released_team) == (finding.id, "nord")
        assert copy.created_by == coordinator.user
    # Editing the team finding does not reach the county; a new release does.
    with coordinator.vault.writing() as session:
        team_finding = session.get(Finding, finding.id)
        assert team_finding is not None
        team_finding.description = "Maßnahmen ohne Kinderbetreuung schließen Eltern aus."
    assert finding_rows(kreis)[0].description == finding.description
    assert county.release_finding(coordinator, kreis, finding.id) == county_id
    assert [r.description for r in finding_rows(kreis)] == [
        "Maßnahmen ohne Kinderbetreuung schließen Eltern aus."]


@pytest.mark.parametrize(("text", "kind"), [
    (f"Frau {LAST_NAME} findet keine Kita.", "Name"),
    (f"Geboren am {BIRTH_DATE:%d.%m.%Y}, keine Kita.", "Geburtsdatum"),
    (f"Rückruf unter {PHONE}.", "Telefonnummer"),
])
def test_a_release_that_names_a_person_is_refused_and_changes_nothing(
        coordinator: Context, kreis: Context, text: str, kind: str) -> None:
    example = _example(coordinator)
    # Written past the checks of record_finding, as an older version or a bug might have.
    with coordinator.vault.writing() as session:
        finding = session.get(Finding, example.findings[1].id)
        assert finding is not None
        finding.description = text
    with pytest.raises(county.ReleaseRefused) as refused:
        county.release_finding(coordinator, kreis, example.findings[1].id)
    assert refused.value.field == "description"
    assert "Die Beschreibung" in refused.value.message and kind in refused.value.message
    assert FIRST_NAME not in refused.value.message and LAST_NAME not in refused.value.message
    assert finding_rows(kreis) == []


def test_a_release_naming_a_case_id_is_refused(coordinator: Context, kreis: Context) -> None:
    example = _example(coordinator)
    with coordinator.vault.writing() as session:
        finding = session.get(Finding, example.findings[1].id)
        assert finding is not None
        finding.description = f"Siehe Fall {example.example.case.id}."
    with pytest.raises(county.ReleaseRefused, match="Kennung"):
        county.release_finding(coordinator, kreis, example.findings[1].id)


def test_a_reconstruction_is_released_with_its_chain_and_themes(
        coordinator: Context, kreis: Context) -> None:
    example = _example(coordinator)
    county_id = county.release_reconstruction(coordinator, kreis, example.reconstruction.id)
    detail = reconstruction_detail(kreis, county_id)
    assert detail.title == example.reconstruction.title
    assert [a["label"] for a in detail.actors] == [a["label"] for a in
                                                   example.reconstruction.actors]
    themes = theme_rows(kreis, county_id)
    assert [t.statement for t in themes] == [example.theme.statement]
    # The finding of that theme now points at the county theme.
    finding_id = county.release_finding(coordinator, kreis, example.findings[0].id)
    assert [r.theme_id for r in finding_rows(kreis) if r.id == finding_id] == [themes[0].id]
    assert county.release_reconstruction(coordinator, kreis,
                                         example.reconstruction.id) == county_id
    assert len(theme_rows(kreis)) == 1
    copies = county.released_copies(kreis)
    assert copies[example.reconstruction.id] == county_id
    assert copies[example.theme.id] == themes[0].id


def test_a_reconstruction_naming_a_person_is_refused(coordinator: Context,
                                                     kreis: Context) -> None:
    example = _example(coordinator)
    from kimdesk.models import CaseReconstruction
    with coordinator.vault.writing() as session:
        reconstruction = session.get(CaseReconstruction, example.reconstruction.id)
        assert reconstruction is not None
        reconstruction.actors = [*reconstruction.actors,
                                 {"id": "a9", "label": f"{FIRST_NAME}s Mutter",
                                  "kind": "person", "x": 1.0, "y": 1.0}]
    with pytest.raises(county.ReleaseRefused) as refused:
        county.release_reconstruction(coordinator, kreis, example.reconstruction.id)
    assert refused.value.field == "actors"
    assert theme_rows(kreis) == []


def test_coordination_use_cases_work_in_the_kreis_tresor(kreis: Context) -> None:
    today = kreis.today()
    group = create_project_group(kreis, ProjectGroupInput(
        name="Vereinbarkeit von Familie und Qualifizierung", principal_goal="Kinderbetreuung",
        framework_goals=[FrameworkGoal("Maßnahmen bieten Kinderbetreuung an.",
                                       ["Kooperation mit der Kindertagespflege"])],
        started_on=today - timedelta(days=10)))
    assert project_group_detail(kreis, group.id).name == group.name
    meeting = create_meeting(kreis, MeetingInput(held_on=today, title="Lenkungsgruppe"))
    record_decision(kreis, DecisionInput(title="Kontingent Betreuungsplätze", decided_on=today,
                                         project_group_id=group.id, meeting_id=meeting.id))
    assert [d.title for d in decision_rows(kreis)] == ["Kontingent Betreuungsplätze"]
    record_finding(kreis, FindingInput(life_area="childcare", barrier="capacity",
                                       description="Wartezeit auf Kita-Plätze."))
    assert len(finding_rows(kreis)) == 1
    add_steering_member(kreis, SteeringMemberInput(role="ki_lead", organisation="Kreis Kleve"))
    assert any(seat.members for seat in steering_composition(kreis))
    record_agreement(kreis, AgreementInput(municipality="goch", subject="Fallzusteuerung",
                                           signed_on=today, allocates_cases=True,
                                           case_allocation="über das Sozialamt"))
    assert [a.municipality for a in agreement_rows(kreis)] == ["goch"]
    record_activity(kreis, ActivityInput(held_on=today, kind="committee", hours=1.5,
                                         title="Integrationsrat"))
    assert len(activity_rows(kreis)) == 1


def test_releases_need_a_coordinator_and_the_kreis_tresor(
        coordinator: Context, kreis: Context) -> None:
    example = _example(coordinator)
    with pytest.raises(KimdeskError, match="nur in den Kreis-Tresor"):
        county.release_finding(coordinator, coordinator, example.findings[0].id)
    with coordinator.vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        session.scalars(select(VaultProfile)).one().role = "case_manager"
    with pytest.raises(KimdeskError, match="nur die Koordination"):
        county.release_finding(coordinator, kreis, example.findings[0].id)
    assert finding_rows(kreis) == []


def test_case_changes_received_from_the_server_are_refused(coordinator: Context,
                                                           kreis: Context) -> None:
    """The attack: a (compromised) kreis member pushes a client's record under the county key;
    the other Kreis-Tresore apply nothing of it."""
    from kimdesk.models.changelog import RecordState
    from tests.sync.devices import deliver, outbox

    make_person(coordinator, consent=True, first_name="Ida", last_name="Quandtmeyer")
    changes = outbox(coordinator.vault)
    assert {c.kind for c in changes} >= {"clients"}
    with pytest.raises(county.CountyScopeError):
        deliver(changes, kreis.vault)
    with kreis.vault.reading() as session:
        assert session.scalars(select(Client)).first() is None
        assert session.scalars(select(RecordState)).first() is None


def test_the_vault_checker_refuses_exactly_what_checking_every_person_refuses(
        coordinator: Context) -> None:
    """The release check keeps only the people who could occur in a text before it checks:
    it must refuse the same texts, with the same message, as a check against everyone."""
    from kimdesk.casework.pseudonymise import CasePseudonymiser, VaultChecker, _Prefilter
    from kimdesk.errors import ValidationError
    from tests.coordination_builders import ADDRESS, DAUGHTER_FIRST_NAME, EMAIL

    example = _example(coordinator)
    make_person(coordinator, consent=True, first_name="Ahmad", last_name="Al-Hassan",
                birth_date=BIRTH_DATE.replace(year=1990), phone="+49 2821 123456")
    texts = [
        "Wartezeit auf einen Kita-Platz länger als ein Jahr.",
        f"{FIRST_NAME}s Antrag liegt beim Jobcenter.", f"frau {LAST_NAME.upper()} wartet",
        f"{DAUGHTER_FIRST_NAME} ist krank", f"am {BIRTH_DATE:%-d.%-m.%y} geboren",
        f"{BIRTH_DATE.isoformat()}", f"14. März {BIRTH_DATE.year}", f"Tel. {PHONE}",
        "Rückruf 02821/123456", "Herr Al-Hassan kam nicht", "Al Hassan", ADDRESS,
        "Lindenallee", "47533", EMAIL, "jemand@example.com", "Akte 12345678",
        "Kinderarztpraxis in Kleve", "Frau A. und Kind 1 warten", f"Fall {example.example.case.id}",
    ]
    with coordinator.vault.reading() as session:
        checker = VaultChecker(coordinator, session)
        everyone = CasePseudonymiser(
            today=coordinator.today(), opened_on=coordinator.today(), planning_area="",
            people=(), identities=[p.identity for p in checker._people])
        assert all(isinstance(p, _Prefilter) for p in checker._people)

    def verdict(check: Any, text: str) -> str:
        try:
            check(text, "description", "Die Beschreibung")
        except ValidationError as exc:
            return exc.message
        return ""

    verdicts = [(verdict(checker.check, t), verdict(everyone.check, t)) for t in texts]
    assert [a for a, _b in verdicts] == [b for _a, b in verdicts]
    refused = [t for t, (a, _b) in zip(texts, verdicts, strict=True) if a]
    assert texts[0] not in refused and "Frau A. und Kind 1 warten" not in refused
    assert len(refused) >= 15, refused
