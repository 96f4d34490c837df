"""Fallbesprechung (concept 5.5.3): prepared from a case in the fixed schema, shown
pseudonymised in the team meeting, with the team's advice and next steps returned to the case.

The fixed schema: Anlass und Fragestellung an das Team, relevante Informationen, bisheriger
Verlauf, beteiligtes Netzwerk. Every text is the presenter's confirmed text (checked against the
identifying values of the case's people when saved); the next steps agreed in the meeting go back
to the case through the planning and deadline use cases, as Handlungsschritte of a goal or as
Wiedervorlagen of the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kimdesk.casework.common import (
    add_recorded,
    check_codes,
    check_not_future,
    load,
    record,
    stamp,
)
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import add_deadline
from kimdesk.casework.planning import add_step
from kimdesk.casework.pseudonymise import (
    DEVELOPMENT,
    NETWORK,
    OCCASION,
    RELEVANT_INFORMATION,
    CasePseudonymiser,
    FreeTextCandidate,
    PersonLabel,
    check_general_text,
    collect_candidates,
    read_for_coordination,
)
from kimdesk.errors import ValidationError
from kimdesk.models import (
    Assessment,
    Case,
    CaseReview,
    CaseTopic,
    Contact,
    Goal,
    Institution,
    PhaseChange,
    Referral,
    utcnow,
)
from kimdesk.models.enums import CaseKind, Phase
from kimdesk.reference import ReviewTag

SECTION_LABELS = MappingProxyType({
    OCCASION: "Anlass und Fragestellung an das Team",
    RELEVANT_INFORMATION: "Relevante Informationen",
    DEVELOPMENT: "Bisheriger Verlauf",
    NETWORK: "Beteiligtes Netzwerk",
})
NEED_LABELS = ("kein Bedarf", "geringer Bedarf", "mittlerer Bedarf", "hoher Bedarf")
STEP = "step"  # a next step that becomes a Handlungsschritt of a goal
FOLLOW_UP = "follow_up"  # a next step that becomes a Wiedervorlage of the case


@dataclass
class ReviewDraft:
    """What the presenter confirmed for the fixed schema (all texts pseudonymised by her)."""

    occasion: str  # Anlass und Fragestellung an das Team
    relevant_information: str = ""
    development: str = ""  # bisheriger Verlauf
    network: str = ""  # beteiligtes Netzwerk
    held_on: date | None = None  # the (planned) day of the team meeting
    tags: list[str] = field(default_factory=list)  # review_tags codes


@dataclass
class NextStepInput:
    """A next step agreed in the meeting; with ``goal_id`` a Handlungsschritt of that goal,
    without one a Wiedervorlage of the case (then ``due_on`` is needed)."""

    description: str
    responsible: str = ""
    due_on: date | None = None
    goal_id: str | None = None


@dataclass
class ReviewOutcome:
    """The team's advice and agreed next steps; ``tags`` None keeps the tags as they are."""

    advice: str
    next_steps: list[NextStepInput] = field(default_factory=list)
    held_on: date | None = None  # defaults to the planned day, or today
    tags: list[str] | None = None


@dataclass(frozen=True)
class ReviewPreparation:
    """What the preparation form offers: generated, pseudonymised suggestions per section and
    the case's free texts as scrubbed candidates. Nothing here is confirmed yet."""

    case_id: str
    title: str  # "Frau A. (Ratsuchende, 18–26 Jahre), Planungsraum Nord"
    people: tuple[PersonLabel, ...]
    planning_area: str
    case_summary: str  # "Rechtskreisübergreifendes Case Management, Phase …, Monat 7 …"
    suggestions: Mapping[str, str]  # section → generated text (from codes, never free text)
    candidates: tuple[FreeTextCandidate, ...]


@dataclass(frozen=True)
class GoalChoice:
    """A goal of the case as the meeting view may show it: no title, which is free text."""

    id: str
    label: str  # "Ziel 1 (Kinderbetreuung) von Frau A."


@dataclass(frozen=True)
class NextStepRow:
    kind: str  # STEP or FOLLOW_UP
    kind_label: str  # "Handlungsschritt" / "Wiedervorlage"
    description: str
    responsible: str
    due_on: date | None
    goal_label: str  # "" for a Wiedervorlage


@dataclass(frozen=True)
class TagRow:
    code: str
    label: str
    group: str  # need, resource, challenge
    group_label: str  # Bedarf, Ressource, Herausforderung


@dataclass(frozen=True)
class ReviewPresentation:
    """One Fallbesprechung for the meeting view (projector): pseudonymised throughout."""

    review_id: str
    case_id: str | None  # None once the case was deleted under the retention rules
    title: str
    held_on: date | None
    held: bool  # advice or next steps recorded
    team: str
    team_label: str
    presenter: str  # the presenting case manager
    planning_area: str
    case_summary: str
    people: tuple[PersonLabel, ...]
    occasion: str
    relevant_information: str
    development: str
    network: str
    advice: str
    next_steps: tuple[NextStepRow, ...]
    tags: tuple[TagRow, ...]
    goal_choices: tuple[GoalChoice, ...]  # for new next steps (empty once the case is gone)


@dataclass(frozen=True)
class ReviewRow:
    id: str
    title: str
    held_on: date | None
    held: bool
    team: str
    presenter: str
    tags: tuple[str, ...]  # labels


# --- preparation ------------------------------------------------------------------------------


def review_preparation(ctx: Context, case_id: str) -> ReviewPreparation:
    """Suggestions and candidates for preparing a Fallbesprechung of ``case_id``."""
    with ctx.vault.writing() as session:
        p = read_for_coordination(ctx, session, case_id)
        case = load(session, Case, case_id, "Der Fall")
        return ReviewPreparation(
            case_id=case_id, title=_title(p), people=p.people, planning_area=p.planning_area,
            case_summary=_case_summary(ctx, case, p),
            suggestions=MappingProxyType(_suggestions(ctx, session, case, p)),
            candidates=tuple(collect_candidates(ctx, session, case_id, p)))


def prepare_review(ctx: Context, case_id: str, draft: ReviewDraft) -> CaseReview:
    """Create a Fallbesprechung from the presenter's confirmed texts.

    Saving is the confirmation: every text is re-checked against the names, birth dates,
    addresses, phone numbers and e-mails of the case's people and refused while one occurs.
    """
    _check_draft(ctx, draft)
    with ctx.vault.writing() as session:
        p = read_for_coordination(ctx, session, case_id)
        case = load(session, Case, case_id, "Der Fall")
        review = CaseReview(case_id=case_id, team=case.team, presenter=ctx.user,
                            title=_title(p))
        _apply_draft(ctx, review, draft, p)
        add_recorded(ctx, session, review, case.client_id)
        return review


def update_review(ctx: Context, review_id: str, draft: ReviewDraft) -> CaseReview:
    """Change the prepared texts (again confirmed by saving)."""
    _check_draft(ctx, draft)
    with ctx.vault.writing() as session:
        review = load(session, CaseReview, review_id, "Die Fallbesprechung")
        p, client_id = _pseudonymiser_of(ctx, session, review)
        _apply_draft(ctx, review, draft, p)
        stamp(ctx, review)
        record(ctx, session, "update", client_id, review,
               fields=["occasion", "relevant_information", "development", "network", "tags"])
        return review


def _check_draft(ctx: Context, draft: ReviewDraft) -> None:
    if not draft.occasion.strip():
        raise ValidationError("Bitte Anlass und Fragestellung an das Team angeben.", "occasion")
    check_codes(ctx, "review_tags", draft.tags, "tags", "Schlagwort")


def _apply_draft(ctx: Context, review: CaseReview, draft: ReviewDraft,
                 p: CasePseudonymiser | None) -> None:
    for name in (OCCASION, RELEVANT_INFORMATION, DEVELOPMENT, NETWORK):
        setattr(review, name, _confirmed(p, getattr(draft, name), name, SECTION_LABELS[name]))
    review.held_on = draft.held_on
    review.tags = list(dict.fromkeys(draft.tags))
    review.confirmed_by = ctx.user
    review.confirmed_at = utcnow()


def _confirmed(p: CasePseudonymiser | None, text: str, field_name: str, label: str) -> str:
    label = f"„{label}“"
    if p is None:
        return check_general_text(text, field_name, label)
    return p.check(text, field_name, label)


def _pseudonymiser_of(ctx: Context, session: Session, review: CaseReview
                      ) -> tuple[CasePseudonymiser | None, str | None]:
    if review.case_id is None or session.get(Case, review.case_id) is None:
        return None, None
    case = load(session, Case, review.case_id, "Der Fall")
    return read_for_coordination(ctx, session, review.case_id), case.client_id


# --- the meeting ------------------------------------------------------------------------------


def presentation(ctx: Context, review_id: str) -> ReviewPresentation:
    """The Fallbesprechung as the meeting view shows it (reading the case is audited)."""
    with ctx.vault.writing() as session:
        review = load(session, CaseReview, review_id, "Die Fallbesprechung")
        p, _client_id = _pseudonymiser_of(ctx, session, review)
        case = session.get(Case, review.case_id) if review.case_id else None
        goals = _goal_choices(ctx, session, review.case_id, p) if p is not None else ()
        return ReviewPresentation(
            review_id=review.id, case_id=case.id if case else None, title=review.title,
            held_on=review.held_on, held=_held(review), team=review.team,
            team_label=_team_label(ctx, review.team), presenter=review.presenter,
            planning_area=p.planning_area if p else "",
            case_summary=_case_summary(ctx, case, p) if case and p else "",
            people=p.people if p else (), occasion=review.occasion,
            relevant_information=review.relevant_information, development=review.development,
            network=review.network, advice=review.advice,
            next_steps=tuple(_next_step_row(step) for step in review.next_steps),
            tags=tag_rows(ctx, review.tags), goal_choices=goals)


def record_outcome(ctx: Context, review_id: str, outcome: ReviewOutcome) -> CaseReview:
    """Record the team's advice and the agreed next steps; the steps go back to the case as
    Handlungsschritte (of a goal) or Wiedervorlagen, all in one transaction."""
    check_not_future(ctx, outcome.held_on, "held_on", "Der Tag der Fallbesprechung")
    if outcome.tags is not None:
        check_codes(ctx, "review_tags", outcome.tags, "tags", "Schlagwort")
    for index, step in enumerate(outcome.next_steps):
        if not step.description.strip():
            raise ValidationError(f"Nächster Schritt {index + 1}: bitte beschreiben.",
                                  "next_steps")
        if step.goal_id is None and step.due_on is None:
            raise ValidationError(
                f"Nächster Schritt {index + 1}: eine Wiedervorlage braucht ein Datum.",
                "next_steps")
    with ctx.vault.writing() as session:
        review = load(session, CaseReview, review_id, "Die Fallbesprechung")
        p, client_id = _pseudonymiser_of(ctx, session, review)
        if outcome.next_steps and p is None:
            raise ValidationError("Der Fall dieser Fallbesprechung ist nicht mehr vorhanden; "
                                  "nächste Schritte können nicht übertragen werden.",
                                  "next_steps")
        review.advice = _confirmed(p, outcome.advice, "advice", "Empfehlungen des Teams")
        held_on = outcome.held_on or review.held_on or ctx.today()
        if held_on > ctx.today():
            held_on = ctx.today()  # a planned day still ahead: the meeting is today
        review.held_on = held_on
        if outcome.tags is not None:
            review.tags = list(dict.fromkeys(outcome.tags))
        steps = list(review.next_steps)
        for index, step in enumerate(outcome.next_steps):
            steps.append(_return_to_case(ctx, session, review, step, index, p))
        review.next_steps = steps
        review.confirmed_by = ctx.user
        review.confirmed_at = utcnow()
        stamp(ctx, review)
        record(ctx, session, "update", client_id, review, fields=["advice", "next_steps"],
               next_steps=len(outcome.next_steps))
        return review


def _return_to_case(ctx: Context, session: Session, review: CaseReview, step: NextStepInput,
                    index: int, p: CasePseudonymiser | None) -> dict[str, object]:
    label = f"Nächster Schritt {index + 1}"
    description = _confirmed(p, step.description, "next_steps", label)
    responsible = _confirmed(p, step.responsible, "next_steps", f"{label} (verantwortlich)")
    case = load(session, Case, review.case_id or "", "Der Fall")
    row: dict[str, object] = {"description": description, "responsible": responsible,
                              "due_on": step.due_on.isoformat() if step.due_on else None,
                              "review_on": (review.held_on or ctx.today()).isoformat()}
    if step.goal_id is not None:
        goal = session.get(Goal, step.goal_id)
        if goal is None or goal.case_id != case.id:
            raise ValidationError(f"{label}: das Ziel gehört nicht zu diesem Fall.",
                                  "next_steps")
        created = add_step(ctx, goal.id, description, responsible or "Case Management",
                           step.due_on)
        row |= {"kind": STEP, "goal_id": goal.id, "step_id": created.id,
                "goal_label": _goal_label(ctx, session, goal, p)}
    else:
        assert step.due_on is not None
        deadline = add_deadline(ctx, case.client_id, "follow_up", step.due_on,
                                f"Fallbesprechung: {description}"[:300], case_id=case.id,
                                note=f"verantwortlich: {responsible}" if responsible else "")
        row |= {"kind": FOLLOW_UP, "deadline_id": deadline.id, "goal_label": ""}
    return row


def set_review_tags(ctx: Context, review_id: str, tags: list[str]) -> CaseReview:
    """Bedarfe, Ressourcen, Herausforderungen of a Fallbesprechung (review_tags codes)."""
    check_codes(ctx, "review_tags", tags, "tags", "Schlagwort")
    with ctx.vault.writing() as session:
        review = load(session, CaseReview, review_id, "Die Fallbesprechung")
        review.tags = list(dict.fromkeys(tags))
        stamp(ctx, review)
        record(ctx, session, "update", None, review, fields=["tags"])
        return review


def delete_review(ctx: Context, review_id: str) -> None:
    """Remove a Fallbesprechung that was prepared but not held (a held one is a record)."""
    with ctx.vault.writing() as session:
        review = load(session, CaseReview, review_id, "Die Fallbesprechung")
        if _held(review):
            raise ValidationError("Eine durchgeführte Fallbesprechung kann nicht gelöscht "
                                  "werden.")
        case = session.get(Case, review.case_id) if review.case_id else None
        record(ctx, session, "delete", case.client_id if case else None, review)
        session.delete(review)


# --- lists ------------------------------------------------------------------------------------


def review_rows(ctx: Context, *, case_id: str | None = None, team: str | None = None
                ) -> list[ReviewRow]:
    """Fallbesprechungen, newest first; their titles are pseudonymised at preparation."""
    with ctx.vault.reading() as session:
        query = select(CaseReview)
        if case_id is not None:
            query = query.where(CaseReview.case_id == case_id)
        if team is not None:
            query = query.where(CaseReview.team == team)
        reviews = session.scalars(query.order_by(
            func.coalesce(CaseReview.held_on, func.date(CaseReview.created_at)).desc(),
            CaseReview.created_at.desc()))
        return [ReviewRow(r.id, r.title, r.held_on, _held(r), r.team, r.presenter,
                          tuple(t.label for t in tag_rows(ctx, r.tags))) for r in reviews]


def tag_rows(ctx: Context, codes: list[str] | None = None) -> tuple[TagRow, ...]:
    """The given review tags (all of the vocabulary when None), in vocabulary order."""
    groups = {t.code: t.label for t in ctx.reference.terms("review_tag_groups")}
    wanted = None if codes is None else set(codes)
    rows = []
    for term in ctx.reference.terms("review_tags"):
        if wanted is not None and term.code not in wanted:
            continue
        assert isinstance(term, ReviewTag)
        rows.append(TagRow(term.code, term.label, term.group, groups.get(term.group, "")))
    return tuple(rows)


# --- helpers ----------------------------------------------------------------------------------


def _held(review: CaseReview) -> bool:
    return bool(review.advice.strip() or review.next_steps)


def _title(p: CasePseudonymiser) -> str:
    main = next((person for person in p.people if person.main), None)
    who = main.description if main else "Fall"
    return f"{who}, {p.planning_area}"


def _team_label(ctx: Context, team: str) -> str:
    try:
        return ctx.reference.team(team).name
    except KeyError:
        return team


def _case_summary(ctx: Context, case: Case, p: CasePseudonymiser) -> str:
    kind = CaseKind(case.kind).label
    phase = f", Phase {Phase(case.phase).label}" if case.phase else ""
    return f"{kind}{phase}, {p.case_month(ctx.today())}"


def _label(ctx: Context, vocabulary: str, code: str) -> str:
    try:
        return ctx.reference.label(vocabulary, code)
    except KeyError:
        return code


def _suggestions(ctx: Context, session: Session, case: Case, p: CasePseudonymiser
                 ) -> dict[str, str]:
    """Texts generated from codes, counts and relative dates only (no free text at all)."""
    people = "; ".join(person.description for person in p.people)
    topics = [_label(ctx, "topics", t) for t in session.scalars(
        select(CaseTopic.topic).where(CaseTopic.case_id == case.id))]
    info = [f"Personen: {people}.", f"Planungsraum: {p.planning_area}.",
            f"Fall: {_case_summary(ctx, case, p)}."]
    if topics:
        info.append(f"Handlungsfelder: {', '.join(topics)}.")
    needs = [
        f"{_label(ctx, 'life_areas', a.life_area)} ({p.label_of(a.client_id)}): "
        f"{NEED_LABELS[max(0, min(3, a.need))]}"
        for a in session.scalars(select(Assessment).where(Assessment.case_id == case.id)
                                 .order_by(Assessment.need.desc(), Assessment.life_area))
        if a.need > 0]
    if needs:
        info.append("Assessment: " + "; ".join(needs) + ".")

    development = [f"{p.case_month(change.changed_on)}: Phase "
                   f"{Phase(change.to_phase).label}" for change in session.scalars(
                       select(PhaseChange).where(PhaseChange.case_id == case.id)
                       .order_by(PhaseChange.created_at))]
    contacts = list(session.scalars(select(Contact).where(
        Contact.case_id == case.id, Contact.superseded.is_(False))))
    if contacts:
        interpreted = sum(1 for c in contacts if c.interpreter)
        last = max(c.contact_on for c in contacts)
        line = f"{len(contacts)} Kontakte, der letzte {p.ago(last)}"
        if interpreted:
            line += f", davon {interpreted} mit Sprach- und Kulturmittlung"
        development.append(line + ".")
    goals = list(session.scalars(select(Goal).where(Goal.case_id == case.id)
                                 .order_by(Goal.created_at)))
    for index, goal in enumerate(goals, start=1):
        status = _label(ctx, "goal_attainment", goal.attainment) if goal.attainment else {
            "open": "offen", "in_progress": "in Arbeit", "done": "erreicht",
            "dropped": "nicht weiter verfolgt"}.get(goal.status, goal.status)
        area = f" ({_label(ctx, 'life_areas', goal.life_area)})" if goal.life_area else ""
        development.append(f"Ziel {index}{area} von {p.label_of(goal.client_id)}: {status}.")

    network = []
    for referral, kind in session.execute(
            select(Referral, Institution.institution_type).join(
                Institution, Institution.id == Referral.institution_id)
            .where(Referral.case_id == case.id).order_by(Referral.referred_on)):
        network.append(f"{_label(ctx, 'institution_types', kind)}: Vermittlung in "
                       f"{p.case_month(referral.referred_on)}, Ergebnis: "
                       f"{_label(ctx, 'referral_outcomes', referral.outcome)}.")
    return {OCCASION: "", RELEVANT_INFORMATION: "\n".join(info),
            DEVELOPMENT: "\n".join(development), NETWORK: "\n".join(network)}


def _goal_label(ctx: Context, session: Session, goal: Goal, p: CasePseudonymiser | None) -> str:
    ids = list(session.scalars(select(Goal.id).where(Goal.case_id == goal.case_id)
                               .order_by(Goal.created_at)))
    number = ids.index(goal.id) + 1 if goal.id in ids else 0
    area = f" ({_label(ctx, 'life_areas', goal.life_area)})" if goal.life_area else ""
    who = f" von {p.label_of(goal.client_id)}" if p is not None else ""
    return f"Ziel {number}{area}{who}"


def _goal_choices(ctx: Context, session: Session, case_id: str | None, p: CasePseudonymiser
                  ) -> tuple[GoalChoice, ...]:
    if case_id is None:
        return ()
    goals = session.scalars(select(Goal).where(Goal.case_id == case_id,
                                               Goal.status.in_(("open", "in_progress")))
                            .order_by(Goal.created_at))
    return tuple(GoalChoice(g.id, _goal_label(ctx, session, g, p)) for g in goals)


def _next_step_row(step: dict[str, object]) -> NextStepRow:
    due = step.get("due_on")
    kind = str(step.get("kind", FOLLOW_UP))
    return NextStepRow(kind, "Handlungsschritt" if kind == STEP else "Wiedervorlage",
                       str(step.get("description", "")), str(step.get("responsible", "")),
                       date.fromisoformat(due) if isinstance(due, str) else None,
                       str(step.get("goal_label", "")))

