"""Fallbesprechung: prepared in the fixed schema from confirmed text, shown pseudonymised, and
its next steps returned to the case as Handlungsschritte and Wiedervorlagen."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.reviews import (
    NextStepInput,
    ReviewDraft,
    ReviewOutcome,
    delete_review,
    prepare_review,
    presentation,
    record_outcome,
    review_preparation,
    review_rows,
    set_review_tags,
    tag_rows,
    update_review,
)
from kimdesk.casework.planning import steps_of
from kimdesk.errors import ValidationError
from kimdesk.models import AuditEntry, CaseReview, Deadline, Step
from tests.coordination_builders import LAST_NAME, Example5, build_example5_case
from tests.factories import CM, TODAY, make_case, make_person


def _draft(**overrides: object) -> ReviewDraft:
    values: dict[str, object] = {
        "occasion": "Wie kann Frau A. an der berufsvorbereitenden Maßnahme teilnehmen, "
                    "solange Kind 1 keinen Betreuungsplatz hat?",
        "relevant_information": "Frau A. (18–26 Jahre), alleinerziehend, Realschulabschluss.",
        "development": "Seit Monat 2 der Begleitung Kita-Platz beantragt.",
        "network": "Jobcenter, Kita, Sprachkursträger, Kinderarzt",
        "held_on": TODAY + timedelta(days=7),
        "tags": ["need_childcare", "challenge_single_parent", "resource_motivation"],
    }
    return ReviewDraft(**(values | overrides))  # type: ignore[arg-type]


def _strings(value: object) -> list[str]:
    """Every text inside a (nested) dataclass, tuple or mapping."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, tuple | list):
        return [s for v in value for s in _strings(v)]
    return []


def _assert_no_secrets(example: Example5, value: object) -> None:
    everything = "\n".join(_strings(value)).casefold()
    for secret in (*example.secrets, "Kilicarslan"):
        assert secret.casefold() not in everything, secret


@pytest.fixture
def example(ctx: Context) -> Example5:
    return build_example5_case(ctx)


def test_preparation_offers_pseudonymised_suggestions(ctx: Context, example: Example5) -> None:
    preparation = review_preparation(ctx, example.case.id)

    assert preparation.title == "Frau A. (Ratsuchende, 18–26 Jahre), Planungsraum Nord"
    assert "Kind 1 (Tochter, 0–13 Jahre)" in preparation.suggestions["relevant_information"]
    assert "Kinderbetreuung (Frau A.): hoher Bedarf" in (
        preparation.suggestions["relevant_information"])
    assert "Monat 1 der Begleitung: Phase Assessment" in preparation.suggestions["development"]
    assert "Kita: Vermittlung in Monat 2 der Begleitung" in preparation.suggestions["network"]
    assert {c.section for c in preparation.candidates} >= {"occasion", "development", "network"}
    _assert_no_secrets(example, preparation)


def test_prepare_stores_confirmed_text_and_audits_it(ctx: Context, example: Example5) -> None:
    review = prepare_review(ctx, example.case.id, _draft())

    with ctx.vault.reading() as session:
        stored = session.get(CaseReview, review.id)
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "case_reviews", AuditEntry.action == "create")).one()
    assert stored is not None
    assert stored.title == "Frau A. (Ratsuchende, 18–26 Jahre), Planungsraum Nord"
    assert (stored.team, stored.presenter, stored.confirmed_by) == ("nord", ctx.user, ctx.user)
    assert stored.confirmed_at is not None
    assert entry.client_id == example.client.id  # shows in the client's own audit trail


@pytest.mark.parametrize("field_name", ["occasion", "relevant_information", "development",
                                        "network"])
def test_a_name_left_in_any_section_is_refused_and_nothing_saved(
        ctx: Context, example: Example5, field_name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        prepare_review(ctx, example.case.id,
                       _draft(**{field_name: f"Frau {LAST_NAME} braucht Hilfe"}))

    assert refused.value.field == field_name
    assert LAST_NAME not in refused.value.message
    with ctx.vault.reading() as session:
        assert session.scalar(select(func.count()).select_from(CaseReview)) == 0


def test_occasion_and_tags_are_checked(ctx: Context, example: Example5) -> None:
    with pytest.raises(ValidationError, match="Anlass"):
        prepare_review(ctx, example.case.id, _draft(occasion="  "))
    with pytest.raises(ValidationError, match="Schlagwort"):
        prepare_review(ctx, example.case.id, _draft(tags=["need_unicorns"]))


def test_the_meeting_view_is_pseudonymised(ctx: Context, example: Example5) -> None:
    review = prepare_review(ctx, example.case.id, _draft())

    shown = presentation(ctx, review.id)

    assert shown.title.startswith("Frau A.")
    assert [p.label for p in shown.people] == ["Frau A.", "Kind 1"]
    assert shown.planning_area == "Planungsraum Nord"
    assert shown.team_label == "Team 1 Nord"
    assert not shown.held
    assert [t.group_label for t in shown.tags] == ["Bedarf", "Ressource", "Herausforderung"]
    assert [g.label for g in shown.goal_choices] == [
        "Ziel 1 (Qualifikation/Berufliche Orientierung (inkl. Anerkennung)) von Frau A."]
    _assert_no_secrets(example, shown)


def test_next_steps_return_to_the_case(ctx: Context, example: Example5) -> None:
    review = prepare_review(ctx, example.case.id, _draft(held_on=TODAY))
    due = TODAY + timedelta(days=21)

    record_outcome(ctx, review.id, ReviewOutcome(
        advice="Kindertagespflege als Übergang prüfen; Jobcenter um Kinderbetreuungszuschuss "
               "bitten.",
        next_steps=[
            NextStepInput("Kindertagespflege beim Jugendamt anfragen", "Case Managerin", due,
                          goal_id=example.goal.id),
            NextStepInput("Rückmeldung des Jobcenters nachhalten", "", TODAY + timedelta(30)),
        ]))

    steps = steps_of(ctx, example.goal.id)
    assert [(s.description, s.responsible, s.due_on) for s in steps] == [
        ("Kindertagespflege beim Jugendamt anfragen", "Case Managerin", due)]
    with ctx.vault.reading() as session:
        deadlines = session.scalars(select(Deadline).where(
            Deadline.case_id == example.case.id, Deadline.created_at.is_not(None))
            .order_by(Deadline.due_on)).all()
    assert [(d.kind, d.due_on) for d in deadlines] == [
        ("plan_review", due), ("follow_up", TODAY + timedelta(30))]
    assert deadlines[1].title == "Fallbesprechung: Rückmeldung des Jobcenters nachhalten"
    shown = presentation(ctx, review.id)
    assert shown.held and shown.held_on == TODAY
    assert [(s.kind_label, s.goal_label.split(" (")[0]) for s in shown.next_steps] == [
        ("Handlungsschritt", "Ziel 1"), ("Wiedervorlage", "")]


def test_a_refused_next_step_writes_nothing_to_the_case(ctx: Context, example: Example5) -> None:
    review = prepare_review(ctx, example.case.id, _draft())

    with pytest.raises(ValidationError) as refused:
        record_outcome(ctx, review.id, ReviewOutcome(advice="Kita anfragen", next_steps=[
            NextStepInput("Kita anfragen", "Case Managerin", TODAY + timedelta(7),
                          goal_id=example.goal.id),
            NextStepInput("Dilara anrufen", "", TODAY + timedelta(3)),
        ]))

    assert refused.value.field == "next_steps"
    assert steps_of(ctx, example.goal.id) == []
    with ctx.vault.reading() as session:
        assert session.scalar(select(func.count()).select_from(Step)) == 0
        assert session.get(CaseReview, review.id).advice == ""  # type: ignore[union-attr]


def test_next_steps_need_a_goal_of_the_case_or_a_date(ctx: Context, example: Example5) -> None:
    review = prepare_review(ctx, example.case.id, _draft())
    other_case = make_case(ctx, make_person(ctx, consent=True), CM, phase="planning")
    from kimdesk.casework.planning import add_goal
    foreign_goal = add_goal(ctx, other_case.id, other_case.client_id, "Deutschkurs B1")

    with pytest.raises(ValidationError, match="Datum"):
        record_outcome(ctx, review.id, ReviewOutcome("Rat", [NextStepInput("Nachhalten")]))
    with pytest.raises(ValidationError, match="gehört nicht zu diesem Fall"):
        record_outcome(ctx, review.id, ReviewOutcome("Rat", [
            NextStepInput("Kurs", "CM", TODAY, goal_id=foreign_goal.id)]))
    with pytest.raises(ValidationError, match="Zukunft"):
        record_outcome(ctx, review.id, ReviewOutcome("Rat", held_on=TODAY + timedelta(1)))


def test_update_tags_list_and_delete(ctx: Context, example: Example5) -> None:
    review = prepare_review(ctx, example.case.id, _draft())
    update_review(ctx, review.id, _draft(occasion="Wie gelingt der Einstieg in Ausbildung?"))
    set_review_tags(ctx, review.id, ["need_language_course"])

    (row,) = review_rows(ctx, case_id=example.case.id)
    assert (row.title, row.tags, row.held) == (
        "Frau A. (Ratsuchende, 18–26 Jahre), Planungsraum Nord", ("Sprachkurs",), False)
    assert presentation(ctx, review.id).occasion == "Wie gelingt der Einstieg in Ausbildung?"
    assert len(tag_rows(ctx)) == len(ctx.reference.terms("review_tags"))

    record_outcome(ctx, review.id, ReviewOutcome("Sprachkurs mit Kinderbetreuung suchen."))
    with pytest.raises(ValidationError, match="durchgeführte"):
        delete_review(ctx, review.id)
    second = prepare_review(ctx, example.case.id, _draft())
    delete_review(ctx, second.id)
    assert [r.id for r in review_rows(ctx)] == [review.id]


def test_a_review_outlives_its_case_without_next_steps(ctx: Context, example: Example5) -> None:
    review = prepare_review(ctx, example.case.id, _draft())
    with ctx.vault.writing() as session:
        session.get(CaseReview, review.id).case_id = None  # type: ignore[union-attr]

    shown = presentation(ctx, review.id)
    assert shown.case_id is None and shown.people == () and shown.goal_choices == ()
    with pytest.raises(ValidationError, match="nicht mehr vorhanden"):
        record_outcome(ctx, review.id, ReviewOutcome("Rat", [
            NextStepInput("Kita", "CM", date(2026, 12, 1))]))
    record_outcome(ctx, review.id, ReviewOutcome("Rat ohne Schritte"))
