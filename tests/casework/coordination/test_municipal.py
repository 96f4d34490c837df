"""Work with the Kommunen (concept 4.5, 5.6–5.8): kommunale Vereinbarungen with parties,
subject, validity and Fallzusteuerung; structural activities that are not cases, with hours."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.municipal import (
    ActivityInput,
    AgreementInput,
    activity_rows,
    agreement_rows,
    delete_activity,
    delete_agreement,
    hours_by_kind,
    municipalities_with_agreement,
    planning_areas,
    record_activity,
    record_agreement,
    update_activity,
    update_agreement,
)
from kimdesk.errors import NotFound, ValidationError
from kimdesk.models import AuditEntry, MunicipalAgreement, StructuralActivity
from kimdesk.models.changelog import OutboxChange
from tests.factories import TODAY


def _goch(**overrides: object) -> AgreementInput:
    data = AgreementInput(
        municipality="goch", subject="Kommunale Vereinbarung KIM Goch",
        parties=["Stadt Goch", "Kreis Kleve – Kommunales Integrationszentrum"],
        signed_on=date(2026, 3, 1), valid_from=date(2026, 4, 1), valid_until=date(2027, 3, 31),
        allocates_cases=True, case_allocation="Das Sozialamt meldet Neuzugewiesene per Bogen.",
        content="Einsatzmanagement: dienstags Sprechstunde im Rathaus.")
    return dataclasses.replace(data, **overrides)


def _count(ctx: Context, model: type) -> int:
    with ctx.vault.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_agreement_is_stored_audited_and_synced(ctx: Context) -> None:
    agreement = record_agreement(ctx, _goch())

    [row] = agreement_rows(ctx)
    assert (row.municipality_name, row.subject, row.parties) == (
        "Goch", "Kommunale Vereinbarung KIM Goch",
        ("Stadt Goch", "Kreis Kleve – Kommunales Integrationszentrum"))
    assert (row.signed_on, row.valid_from, row.valid_until) == (
        date(2026, 3, 1), date(2026, 4, 1), date(2027, 3, 31))
    assert row.allocates_cases and "Bogen" in row.case_allocation
    assert row.in_force and row.status == "gültig"
    with ctx.vault.reading() as session:
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "municipal_agreements")).all()
        outbox = session.scalars(select(OutboxChange).where(
            OutboxChange.record_id == agreement.id)).all()
    assert [(a.action, a.entity_id, a.client_id) for a in audit] == [
        ("create", agreement.id, None)]
    assert [o.kind for o in outbox] == ["municipal_agreements"], "shared within the team"

    update_agreement(ctx, agreement.id, _goch(allocates_cases=False, case_allocation="",
                                              valid_until=date(2026, 10, 31)))
    [row] = agreement_rows(ctx)
    assert not row.allocates_cases and not row.in_force and row.status == "nicht gültig"
    with ctx.vault.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity == "municipal_agreements")).all()
    assert actions == ["create", "update"]

    delete_agreement(ctx, agreement.id)
    assert agreement_rows(ctx) == []
    with pytest.raises(NotFound, match="Vereinbarung"):
        delete_agreement(ctx, agreement.id)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"municipality": "atlantis"}, "municipality", "Kommune des Kreises Kleve"),
    ({"subject": "  "}, "subject", "Gegenstand"),
    ({"signed_on": None}, "signed_on", "unterzeichnet"),
    ({"signed_on": TODAY + timedelta(days=1), "valid_from": None}, "signed_on", "Zukunft"),
    ({"valid_until": date(2026, 3, 31)}, "valid_until", "vor dem Beginn"),
    ({"case_allocation": " "}, "case_allocation", "wie die Kommune Fälle zusteuert"),
    ({"allocates_cases": False}, "case_allocation", "leer"),
    ({"parties": ["Stadt Goch", "stadt.goch@example.org"]}, "parties", "E-Mail-Adresse"),
    ({"content": "x" * 4001}, "content", "4000 Zeichen"),
])
def test_a_bad_agreement_is_refused_in_german_and_nothing_is_saved(
        ctx: Context, overrides: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        record_agreement(ctx, _goch(**overrides))
    assert raised.value.field == field
    assert _count(ctx, MunicipalAgreement) == 0
    assert _count(ctx, OutboxChange) == 0


def test_a_draft_is_listed_but_not_in_force(ctx: Context) -> None:
    record_agreement(ctx, _goch(signed_on=None, valid_from=None, valid_until=None))
    [row] = agreement_rows(ctx)
    assert row.status == "Entwurf" and not row.in_force
    with ctx.vault.reading() as session:
        assert municipalities_with_agreement(session, TODAY) == set()


def test_kommunen_with_agreement_on_a_day(ctx: Context) -> None:
    record_agreement(ctx, _goch())  # 01.04.2026 – 31.03.2027
    record_agreement(ctx, _goch(municipality="kleve", subject="Vereinbarung Kleve",
                                parties=["Stadt Kleve"], signed_on=date(2025, 1, 10),
                                valid_from=None, valid_until=date(2025, 12, 31)))
    record_agreement(ctx, _goch(municipality="kleve", subject="Vereinbarung Kleve, Fortschreibung",
                                parties=["Stadt Kleve"], signed_on=date(2026, 1, 5),
                                valid_from=None, valid_until=None))
    with ctx.vault.reading() as session:
        assert municipalities_with_agreement(session, date(2025, 6, 30)) == {"kleve"}
        assert municipalities_with_agreement(session, date(2026, 1, 4)) == set()
        assert municipalities_with_agreement(session, date(2026, 3, 31)) == {"kleve"}
        assert municipalities_with_agreement(session, date(2026, 4, 1)) == {"kleve", "goch"}
        assert municipalities_with_agreement(session, date(2026, 4, 1), ["goch", "uedem"]) == {
            "goch"}
        assert municipalities_with_agreement(session, date(2027, 4, 1)) == {"kleve"}


def _meeting(**overrides: object) -> ActivityInput:
    data = ActivityInput(held_on=TODAY - timedelta(days=3), kind="planning_area_meeting",
                         hours=2.5, title="Austausch der Sozialämter im Planungsraum Süd",
                         municipalities=["geldern", "issum"], planning_area="Planungsraum Süd",
                         participants=["Stadt Geldern", "Gemeinde Issum", "Caritas Geldern"],
                         note="Wohnraum für Neuzugewiesene; nächstes Treffen im Februar.")
    return dataclasses.replace(data, **overrides)


def test_a_structural_activity_with_hours(ctx: Context) -> None:
    assert "Planungsraum Süd" in planning_areas(ctx)
    activity = record_activity(ctx, _meeting())

    [row] = activity_rows(ctx)
    assert (row.kind_label, row.hours, row.minutes) == (
        "Treffen im Planungsraum (kommunenübergreifend)", 2.5, 150)
    assert row.where == "Planungsraum Süd, Geldern, Issum"
    assert row.participants == ("Stadt Geldern", "Gemeinde Issum", "Caritas Geldern")
    with ctx.vault.reading() as session:
        kinds = session.scalars(select(OutboxChange.kind).where(
            OutboxChange.record_id == activity.id)).all()
        audit = session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity == "structural_activities")).all()
    assert kinds == ["structural_activities"] and audit == ["create"]

    update_activity(ctx, activity.id, _meeting(hours=3, municipalities=[], planning_area=""))
    [row] = activity_rows(ctx)
    assert (row.minutes, row.where) == (180, "kreisweit")
    with pytest.raises(NotFound, match="Tätigkeit"):
        update_activity(ctx, "0" * 32, _meeting())

    delete_activity(ctx, activity.id)
    assert activity_rows(ctx) == []
    with ctx.vault.reading() as session:
        audit = session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity == "structural_activities")).all()
        changes = session.scalars(select(OutboxChange).where(
            OutboxChange.record_id == activity.id).order_by(OutboxChange.seq)).all()
    assert audit == ["create", "update", "delete"]
    assert len(changes) == 3, "the deletion travels to the team too"
    with pytest.raises(NotFound, match="Tätigkeit"):
        delete_activity(ctx, activity.id)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"kind": "picnic"}, "kind", "Art der Tätigkeit"),
    ({"held_on": TODAY + timedelta(days=1)}, "held_on", "Zukunft"),
    ({"hours": 0}, "hours", "Stunden angeben"),
    ({"hours": 25}, "hours", "24 Stunden"),
    ({"hours": 1.1}, "hours", "Viertelstunden"),
    ({"municipalities": ["goch", "gotham"]}, "municipalities", "Kommune"),
    ({"planning_area": "Planungsraum West"}, "planning_area", "kein Planungsraum"),
    ({"note": "Rückruf unter 02821 594-123"}, "note", "Telefon- oder Aktennummer"),
    ({"participants": ["x" * 201]}, "participants", "200 Zeichen"),
])
def test_a_bad_activity_is_refused_in_german_and_nothing_is_saved(
        ctx: Context, overrides: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        record_activity(ctx, _meeting(**overrides))
    assert raised.value.field == field
    assert _count(ctx, StructuralActivity) == 0


def test_hours_per_kind_for_controlling(ctx: Context) -> None:
    record_activity(ctx, _meeting())
    record_activity(ctx, _meeting(kind="committee", hours=1.5, title="Integrationsrat"))
    record_activity(ctx, _meeting(kind="committee", hours=2, title="Sozialausschuss"))
    record_activity(ctx, _meeting(kind="process_consulting", hours=4,
                                  held_on=TODAY - timedelta(days=400)))

    summary = hours_by_kind(ctx, date(2026, 1, 1), TODAY)
    assert [(s.label, s.activities, s.hours) for s in summary] == [
        ("Gremienarbeit", 2, 3.5),
        ("Treffen im Planungsraum (kommunenübergreifend)", 1, 2.5),
    ]
    assert [s.kind for s in hours_by_kind(ctx, date(2025, 1, 1), TODAY)][-1] == (
        "process_consulting")
