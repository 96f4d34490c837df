"""Assessment per Handlungsfeld, Zielvereinbarung per person, Handlungsschritte, Evaluation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from kimdesk.casework.cases import add_participant, change_phase
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import due_items
from kimdesk.casework.planning import (
    AssessmentInput,
    add_goal,
    add_step,
    assessments_of,
    complete_step,
    evaluate_goal,
    goals_of,
    save_assessment,
    steps_of,
)
from kimdesk.errors import ValidationError
from kimdesk.models import Case, Client
from kimdesk.models.enums import GoalStatus
from tests.factories import CM, SUPPORT, make_case, make_person


def _assessment(need: int = 2, **overrides: Any) -> AssessmentInput:
    values: dict[str, Any] = {
        "life_area": "work", "situation": "Helferin in einer Großbäckerei, befristet",
        "resources": "Berufserfahrung als Schneiderin", "client_view": "möchte Ausbildung",
        "need": need,
    }
    return AssessmentInput(**(values | overrides))


def _cm_case(ctx: Context, phase: str) -> tuple[Case, Client]:
    client = make_person(ctx, consent=True)
    return make_case(ctx, client, CM, phase=phase), client


# --- assessment -------------------------------------------------------------------------------


def test_assessment_of_a_case_management_needs_the_assessment_phase(ctx: Context) -> None:
    case, client = _cm_case(ctx, "intake")

    with pytest.raises(ValidationError) as error:
        save_assessment(ctx, case.id, client.id, _assessment())
    assert error.value.field == "phase"
    assert assessments_of(ctx, case.id) == []


@pytest.mark.parametrize("phase", ["assessment", "planning", "monitoring"])
def test_assessment_in_or_after_the_assessment_phase(ctx: Context, phase: str) -> None:
    case, client = _cm_case(ctx, phase)

    saved = save_assessment(ctx, case.id, client.id, _assessment(need=3, priority=1))

    assert (saved.life_area, saved.need, saved.priority) == ("work", 3, 1)
    assert saved.client_view == "möchte Ausbildung"
    assert saved.assessed_on == ctx.today()


@pytest.mark.parametrize("need", [0, 3])
def test_need_from_zero_to_three_is_accepted(ctx: Context, need: int) -> None:
    case, client = _cm_case(ctx, "assessment")

    assert save_assessment(ctx, case.id, client.id, _assessment(need=need)).need == need


@pytest.mark.parametrize(("overrides", "field"), [
    ({"need": 4}, "need"), ({"need": -1}, "need"), ({"priority": 0}, "priority"),
    ({"life_area": "hobbies"}, "life_area"),
])
def test_invalid_assessment_is_refused(ctx: Context, overrides: dict[str, Any],
                                       field: str) -> None:
    case, client = _cm_case(ctx, "assessment")

    with pytest.raises(ValidationError) as error:
        save_assessment(ctx, case.id, client.id, _assessment(**overrides))

    assert error.value.field == field
    assert assessments_of(ctx, case.id) == []


def test_one_assessment_per_life_area_and_person_is_updated(ctx: Context) -> None:
    case, client = _cm_case(ctx, "assessment")
    save_assessment(ctx, case.id, client.id, _assessment(need=3))
    save_assessment(ctx, case.id, client.id, _assessment(need=1, situation="Ausbildung ab 1.8."))
    save_assessment(ctx, case.id, client.id, _assessment(need=2, life_area="language"))

    assessments = assessments_of(ctx, case.id)

    assert [(a.life_area, a.need) for a in assessments] == [("language", 2), ("work", 1)]
    assert assessments[1].situation == "Ausbildung ab 1.8."


def test_assessment_per_person_of_the_case(ctx: Context) -> None:
    case, mother = _cm_case(ctx, "assessment")
    son = make_person(ctx, consent=True)
    stranger = make_person(ctx, consent=True)
    add_participant(ctx, case.id, son.id)

    save_assessment(ctx, case.id, son.id, _assessment(life_area="education"))
    with pytest.raises(ValidationError) as error:
        save_assessment(ctx, case.id, stranger.id, _assessment())

    assert error.value.field == "client_id"
    assert [a.client_id for a in assessments_of(ctx, case.id)] == [son.id]
    assert mother.id != son.id


def test_a_begleitung_may_assess_without_phases(ctx: Context) -> None:
    client = make_person(ctx)
    case = make_case(ctx, client, SUPPORT)

    assert save_assessment(ctx, case.id, client.id, _assessment()).need == 2


# --- goals and steps --------------------------------------------------------------------------


def test_goals_of_a_case_management_need_the_planning_phase(ctx: Context) -> None:
    case, client = _cm_case(ctx, "assessment")

    with pytest.raises(ValidationError) as error:
        add_goal(ctx, case.id, client.id, "Ausbildung zur Pflegefachfrau beginnen")

    assert error.value.field == "phase"
    assert goals_of(ctx, case.id) == []


def test_goals_per_person_of_the_case(ctx: Context) -> None:
    case, mother = _cm_case(ctx, "planning")
    son = make_person(ctx, consent=True)
    add_participant(ctx, case.id, son.id)

    add_goal(ctx, case.id, mother.id, "Sprachkurs B1 abschließen", life_area="language",
             agreed_on=ctx.today(), due_on=date(2027, 6, 30))
    add_goal(ctx, case.id, son.id, "Anmeldung an der Gesamtschule", life_area="education")

    assert [g.title for g in goals_of(ctx, case.id, mother.id)] == ["Sprachkurs B1 abschließen"]
    assert [g.title for g in goals_of(ctx, case.id, son.id)] == ["Anmeldung an der Gesamtschule"]
    assert goals_of(ctx, case.id, mother.id)[0].status == GoalStatus.OPEN


def test_goal_for_a_person_outside_the_case_is_refused(ctx: Context) -> None:
    case, _client = _cm_case(ctx, "planning")
    stranger = make_person(ctx, consent=True)

    with pytest.raises(ValidationError) as error:
        add_goal(ctx, case.id, stranger.id, "Führerschein machen")

    assert error.value.field == "client_id"
    assert goals_of(ctx, case.id) == []


@pytest.mark.parametrize(("title", "kwargs", "field"), [
    ("  ", {}, "title"),
    ("Wohnung finden", {"life_area": "luck"}, "life_area"),
    ("Wohnung finden", {"due_on": date(2026, 1, 1)}, "due_on"),  # before the case began
])
def test_invalid_goal_is_refused(ctx: Context, title: str, kwargs: dict[str, Any],
                                 field: str) -> None:
    case, client = _cm_case(ctx, "planning")

    with pytest.raises(ValidationError) as error:
        add_goal(ctx, case.id, client.id, title, **kwargs)

    assert error.value.field == field


def test_step_with_due_date_becomes_a_wiedervorlage_until_done(ctx: Context) -> None:
    case, client = _cm_case(ctx, "planning")
    goal = add_goal(ctx, case.id, client.id, "Anerkennung des Abschlusses beantragen")

    step = add_step(ctx, goal.id, "Unterlagen zur IQ-Beratung bringen", "Frau Haddad",
                    due_on=ctx.today() + timedelta(days=10))

    [item] = due_items(ctx)
    assert (item.kind, item.due_on, item.client_id, item.case_id) == (
        "plan_review", date(2026, 12, 5), client.id, case.id)
    assert goals_of(ctx, case.id)[0].status == GoalStatus.IN_PROGRESS

    done = complete_step(ctx, step.id)

    assert done.done_on == ctx.today()
    assert due_items(ctx) == []
    assert [s.done_on for s in steps_of(ctx, goal.id)] == [ctx.today()]


def test_step_without_due_date_creates_no_deadline(ctx: Context) -> None:
    case, client = _cm_case(ctx, "planning")
    goal = add_goal(ctx, case.id, client.id, "Schulden klären")

    add_step(ctx, goal.id, "Termin bei der Schuldnerberatung vereinbaren", "Case Managerin")

    assert due_items(ctx, within_days=3650) == []


@pytest.mark.parametrize(("description", "responsible", "field"), [
    ("", "Frau Haddad", "description"), ("Anmeldung", " ", "responsible"),
])
def test_step_needs_what_and_who(ctx: Context, description: str, responsible: str,
                                 field: str) -> None:
    case, client = _cm_case(ctx, "planning")
    goal = add_goal(ctx, case.id, client.id, "Kita-Platz finden")

    with pytest.raises(ValidationError) as error:
        add_step(ctx, goal.id, description, responsible)

    assert error.value.field == field
    assert steps_of(ctx, goal.id) == []


def test_a_step_cannot_be_done_in_the_future(ctx: Context) -> None:
    case, client = _cm_case(ctx, "planning")
    goal = add_goal(ctx, case.id, client.id, "Kita-Platz finden")
    step = add_step(ctx, goal.id, "Anmeldung im Kita-Portal", "Herr Rahimi")

    with pytest.raises(ValidationError):
        complete_step(ctx, step.id, ctx.today() + timedelta(days=1))


# --- evaluation -------------------------------------------------------------------------------


def test_goal_attainment_is_evaluated_only_in_the_evaluation_phase(ctx: Context) -> None:
    case, client = _cm_case(ctx, "planning")
    goal = add_goal(ctx, case.id, client.id, "Sprachkurs B1 abschließen")

    for phase in ("linking", "monitoring"):
        change_phase(ctx, case.id, phase)
        with pytest.raises(ValidationError) as error:
            evaluate_goal(ctx, goal.id, "full")
        assert error.value.field == "phase"

    change_phase(ctx, case.id, "evaluation")
    evaluated = evaluate_goal(ctx, goal.id, "full")

    assert (evaluated.attainment, evaluated.status, evaluated.evaluated_on) == (
        "full", GoalStatus.DONE, ctx.today())


@pytest.mark.parametrize(("attainment", "status"), [
    ("full", GoalStatus.DONE), ("partial", GoalStatus.DONE),
    ("none", GoalStatus.DROPPED), ("not_assessable", GoalStatus.DROPPED),
])
def test_attainment_sets_the_goal_status(ctx: Context, attainment: str,
                                         status: GoalStatus) -> None:
    case, client = _cm_case(ctx, "planning")
    goal = add_goal(ctx, case.id, client.id, "Sprachkurs B1 abschließen")
    for phase in ("linking", "monitoring", "evaluation"):
        change_phase(ctx, case.id, phase)

    assert evaluate_goal(ctx, goal.id, attainment).status == status


def test_unknown_attainment_is_refused(ctx: Context) -> None:
    case, client = _cm_case(ctx, "planning")
    goal = add_goal(ctx, case.id, client.id, "Sprachkurs B1 abschließen")

    with pytest.raises(ValidationError) as error:
        evaluate_goal(ctx, goal.id, "mostly")

    assert error.value.field == "attainment"
