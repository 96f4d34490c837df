"""Assessment per Handlungsfeld, Zielvereinbarung (Ziele and Handlungsschritte per person),
monitoring of steps and the evaluation of goal attainment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kimdesk.casework.cases import _open_case_for_write, case_people
from kimdesk.casework.common import check_code, check_not_future, load, record, stamp
from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.models import Assessment, Case, Deadline, Goal, Step
from kimdesk.models.enums import CaseKind, GoalStatus, Phase


@dataclass
class AssessmentInput:
    life_area: str
    situation: str = ""
    resources: str = ""
    problems: str = ""
    client_view: str = ""
    need: int = 0
    priority: int | None = None
    institutions: str = ""
    assessed_on: date | None = None


def _require_phase(case: Case, earliest: Phase, what: str) -> None:
    if case.case_kind != CaseKind.CASE_MANAGEMENT:
        return  # Begleitung and Kurzintervention may plan without the formal phases
    assert case.case_phase is not None
    if case.case_phase.index < earliest.index:
        raise ValidationError(
            f"{what} gehört zur Phase {earliest.label}; der Fall ist noch in "
            f"{case.case_phase.label}.",
            "phase",
        )


def save_assessment(ctx: Context, case_id: str, client_id: str, data: AssessmentInput
                    ) -> Assessment:
    """Create or update the assessment of one life area of one person."""
    check_code(ctx, "life_areas", data.life_area, "life_area", "Handlungsfeld")
    if not 0 <= data.need <= 3:
        raise ValidationError("Der Bedarf wird von 0 (keiner) bis 3 (hoch) eingeschätzt.", "need")
    if data.priority is not None and not 1 <= data.priority <= 20:
        raise ValidationError("Die Priorität ist eine Zahl von 1 bis 20.", "priority")
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        _require_phase(case, Phase.ASSESSMENT, "Das Assessment")
        if client_id not in case_people(session, case):
            raise ValidationError("Die Person gehört nicht zu diesem Fall.", "client_id")
        assessment = session.scalar(select(Assessment).where(
            Assessment.case_id == case_id, Assessment.client_id == client_id,
            Assessment.life_area == data.life_area))
        created = assessment is None
        if assessment is None:
            assessment = Assessment(case_id=case_id, client_id=client_id,
                                    life_area=data.life_area, assessed_on=ctx.today())
            stamp(ctx, assessment, created=True)
            session.add(assessment)
        for name in ("situation", "resources", "problems", "client_view", "need", "priority",
                     "institutions"):
            setattr(assessment, name, getattr(data, name))
        assessment.assessed_on = data.assessed_on or ctx.today()
        stamp(ctx, assessment)
        session.flush()
        record(ctx, session, "create" if created else "update", client_id, assessment,
               life_area=data.life_area)
        return assessment


def add_goal(ctx: Context, case_id: str, client_id: str, title: str, *, detail: str = "",
             life_area: str = "", due_on: date | None = None,
             agreed_on: date | None = None) -> Goal:
    title = title.strip()
    if not title:
        raise ValidationError("Bitte das Ziel beschreiben.", "title")
    if life_area:
        check_code(ctx, "life_areas", life_area, "life_area", "Handlungsfeld")
    with ctx.vault.writing() as session:
        case = _open_case_for_write(session, case_id)
        _require_phase(case, Phase.PLANNING, "Die Zielplanung")
        if client_id not in case_people(session, case):
            raise ValidationError("Die Person gehört nicht zu diesem Fall.", "client_id")
        if due_on is not None and due_on < case.opened_on:
            raise ValidationError("Das Zieldatum liegt vor dem Fallbeginn.", "due_on")
        goal = Goal(case_id=case_id, client_id=client_id, title=title, detail=detail,
                    life_area=life_area, due_on=due_on, agreed_on=agreed_on,
                    status=GoalStatus.OPEN.value)
        stamp(ctx, goal, created=True)
        session.add(goal)
        session.flush()
        record(ctx, session, "create", client_id, goal)
        return goal


def add_step(ctx: Context, goal_id: str, description: str, responsible: str,
             due_on: date | None = None) -> Step:
    """A Handlungsschritt: who does what by when; a due date becomes a Wiedervorlage."""
    description, responsible = description.strip(), responsible.strip()
    if not description:
        raise ValidationError("Bitte den Handlungsschritt beschreiben.", "description")
    if not responsible:
        raise ValidationError("Bitte angeben, wer verantwortlich ist.", "responsible")
    with ctx.vault.writing() as session:
        goal = load(session, Goal, goal_id, "Das Ziel")
        case = _open_case_for_write(session, goal.case_id)
        _require_phase(case, Phase.PLANNING, "Ein Handlungsschritt")
        if due_on is not None and due_on < case.opened_on:
            raise ValidationError("Die Frist liegt vor dem Fallbeginn.", "due_on")
        step = Step(goal_id=goal_id, description=description, responsible=responsible,
                    due_on=due_on)
        stamp(ctx, step, created=True)
        session.add(step)
        session.flush()
        if due_on is not None:
            session.add(Deadline(client_id=goal.client_id, case_id=case.id, kind="plan_review",
                                 due_on=due_on, title="Handlungsschritt fällig",
                                 source=f"step:{step.id}", created_by=ctx.user))
        if goal.status == GoalStatus.OPEN:
            goal.status = GoalStatus.IN_PROGRESS.value
        record(ctx, session, "create", goal.client_id, step)
        return step


def complete_step(ctx: Context, step_id: str, done_on: date | None = None) -> Step:
    done_on = done_on or ctx.today()
    with ctx.vault.writing() as session:
        step = load(session, Step, step_id, "Der Handlungsschritt")
        goal = load(session, Goal, step.goal_id, "Das Ziel")
        _open_case_for_write(session, goal.case_id)
        if done_on > ctx.today():
            raise ValidationError("Das Erledigt-Datum liegt in der Zukunft.", "done_on")
        step.done_on = done_on
        for deadline in session.scalars(select(Deadline).where(
                Deadline.source == f"step:{step.id}", Deadline.done_on.is_(None))):
            deadline.done_on = done_on
        stamp(ctx, step)
        record(ctx, session, "update", goal.client_id, step, fields=["done_on"])
        return step


def evaluate_goal(ctx: Context, goal_id: str, attainment: str,
                  on: date | None = None) -> Goal:
    """Zielerreichung (vollständig/teilweise/nicht/nicht bewertbar), part of the Evaluation."""
    check_code(ctx, "goal_attainment", attainment, "attainment", "Zielerreichung")
    check_not_future(ctx, on, "evaluated_on", "Das Datum der Bewertung")
    with ctx.vault.writing() as session:
        goal = load(session, Goal, goal_id, "Das Ziel")
        case = _open_case_for_write(session, goal.case_id)
        _require_phase(case, Phase.EVALUATION, "Die Bewertung der Zielerreichung")
        goal.attainment = attainment
        goal.evaluated_on = on or ctx.today()
        goal.status = GoalStatus.DONE.value if attainment in ("full", "partial") else (
            GoalStatus.DROPPED.value)
        stamp(ctx, goal)
        record(ctx, session, "update", goal.client_id, goal, fields=["attainment"])
        return goal


def goals_of(ctx: Context, case_id: str, client_id: str | None = None) -> list[Goal]:
    with ctx.vault.reading() as session:
        query = select(Goal).where(Goal.case_id == case_id)
        if client_id:
            query = query.where(Goal.client_id == client_id)
        return list(session.scalars(query.order_by(Goal.created_at)))


def steps_of(ctx: Context, goal_id: str) -> list[Step]:
    with ctx.vault.reading() as session:
        return list(session.scalars(
            select(Step).where(Step.goal_id == goal_id).order_by(Step.created_at)))


def assessments_of(ctx: Context, case_id: str) -> list[Assessment]:
    with ctx.vault.reading() as session:
        return list(session.scalars(
            select(Assessment).where(Assessment.case_id == case_id)
            .order_by(Assessment.life_area)))
