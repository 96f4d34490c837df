"""Lenkungsgruppe (concept 4.4, 5.3): its members as the concept lists them, its meetings, its
decisions with responsibility and follow-up, each linked to what led to it, and their effect:
per theme, the findings noted in equal windows before and after the decision (concept 5.5.3),
and the indicators it names (computed in :mod:`kimdesk.stats.indicators`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kimdesk.casework.common import add_recorded, check_code, load, record, stamp, update_recorded
from kimdesk.casework.context import Context
from kimdesk.casework.coordination.findings import FindingRow, count_between, rows_by_id
from kimdesk.casework.deadlines import add_months
from kimdesk.casework.pseudonymise import check_general_text
from kimdesk.errors import ValidationError
from kimdesk.models import (
    Finding,
    GenerativeTheme,
    ProjectGroup,
    SteeringDecision,
    SteeringMeeting,
    SteeringMember,
)
from kimdesk.reference import SteeringRole

MAX_TEXT = 4000
OPEN_STATUSES = ("open", "in_progress")
DEFAULT_EFFECT_MONTHS = 6


@dataclass
class SteeringMemberInput:
    role: str  # steering_member_roles code
    organisation: str = ""
    name: str = ""  # the official holding the seat (never a client)
    active: bool = True


@dataclass(frozen=True)
class MemberRef:
    id: str
    organisation: str
    name: str
    active: bool


@dataclass(frozen=True)
class SeatRow:
    """One kind of seat of concept 4.4, with its members and how many seats are vacant."""

    role: str
    role_label: str
    seats: int
    members: tuple[MemberRef, ...]  # active ones
    vacant: int


@dataclass
class MeetingInput:
    held_on: date
    title: str = ""
    agenda: str = ""
    minutes: str = ""
    attendee_ids: list[str] = field(default_factory=list)  # steering member ids


@dataclass(frozen=True)
class MeetingRow:
    id: str
    held_on: date
    title: str
    agenda: str
    minutes: str
    attendee_ids: tuple[str, ...]
    decisions: int


@dataclass
class DecisionInput:
    title: str
    decided_on: date
    text: str = ""
    responsible: str = ""  # who carries it out (a role or an institution)
    follow_up_on: date | None = None  # Wiedervorlage in the Lenkungsgruppe
    status: str = "open"  # decision_statuses code
    theme_ids: list[str] = field(default_factory=list)
    finding_ids: list[str] = field(default_factory=list)
    project_group_id: str | None = None
    meeting_id: str | None = None
    indicators: list[str] = field(default_factory=list)  # decision_indicators codes


@dataclass(frozen=True)
class DecisionRow:
    id: str
    decided_on: date
    title: str
    responsible: str
    follow_up_on: date | None
    status: str
    status_label: str
    follow_up_due: bool  # open and the follow-up day has come
    meeting_id: str | None
    project_group_name: str
    themes: int
    findings: int


@dataclass(frozen=True)
class DecisionDetail:
    row: DecisionRow
    text: str
    themes: tuple[tuple[str, str], ...]  # (id, statement)
    findings: tuple[FindingRow, ...]
    project_group_id: str | None
    meeting_title: str
    indicators: tuple[str, ...] = ()  # decision_indicators codes, in the order chosen


@dataclass(frozen=True)
class EffectRow:
    """Findings of one theme (or one kind of finding) before and after the decision."""

    label: str
    theme_id: str | None
    life_area: str
    barrier: str
    before: int
    after: int


@dataclass(frozen=True)
class DecisionEffect:
    decision_id: str
    decided_on: date
    window_days: int  # length of each window (equal before and after)
    before_start: date
    after_end: date  # exclusive
    complete: bool  # the requested window has fully passed since the decision
    rows: tuple[EffectRow, ...]


# --- members ----------------------------------------------------------------------------------


def _role(ctx: Context, code: str) -> SteeringRole:
    check_code(ctx, "steering_member_roles", code, "role", "Sitz")
    term = ctx.reference.term("steering_member_roles", code)
    assert isinstance(term, SteeringRole)
    return term


def _check_seats(ctx: Context, session: Session, role: SteeringRole,
                 exclude: str | None = None) -> None:
    taken = session.scalar(select(func.count()).select_from(SteeringMember).where(
        SteeringMember.role == role.code, SteeringMember.active.is_(True),
        SteeringMember.id != (exclude or ""))) or 0
    if taken >= role.seats:
        raise ValidationError(
            f"Für „{role.label}“ sind alle {role.seats} Sitze besetzt. Bitte zuerst ein "
            "Mitglied ausscheiden lassen.", "role")


def add_steering_member(ctx: Context, data: SteeringMemberInput) -> SteeringMember:
    role = _role(ctx, data.role)
    with ctx.vault.writing() as session:
        if data.active:
            _check_seats(ctx, session, role)
        member = SteeringMember(role=role.code, organisation=data.organisation.strip(),
                                name=data.name.strip(), active=data.active)
        add_recorded(ctx, session, member)
        return member


def update_steering_member(ctx: Context, member_id: str, data: SteeringMemberInput
                           ) -> SteeringMember:
    role = _role(ctx, data.role)
    with ctx.vault.writing() as session:
        member = load(session, SteeringMember, member_id, "Das Mitglied")
        if data.active:
            _check_seats(ctx, session, role, exclude=member.id)
        member.role, member.active = role.code, data.active
        member.organisation, member.name = data.organisation.strip(), data.name.strip()
        stamp(ctx, member)
        record(ctx, session, "update", None, member, fields=["role", "organisation", "name",
                                                              "active"])
        return member


def steering_composition(ctx: Context) -> list[SeatRow]:
    """The seats of concept 4.4 in order, each with its active members."""
    with ctx.vault.reading() as session:
        members = list(session.scalars(select(SteeringMember).where(
            SteeringMember.active.is_(True)).order_by(SteeringMember.created_at)))
    rows = []
    for term in ctx.reference.terms("steering_member_roles"):
        assert isinstance(term, SteeringRole)
        own = tuple(MemberRef(m.id, m.organisation, m.name, m.active)
                    for m in members if m.role == term.code)
        rows.append(SeatRow(term.code, term.label, term.seats, own,
                            max(0, term.seats - len(own))))
    return rows


# --- meetings ---------------------------------------------------------------------------------


def _meeting_values(session: Session, data: MeetingInput) -> dict[str, object]:
    for member_id in data.attendee_ids:
        load(session, SteeringMember, member_id, "Das Mitglied")
    return {
        "held_on": data.held_on,
        "title": check_general_text(data.title.strip()[:200], "title", "Der Titel")
        or f"Sitzung der Lenkungsgruppe am {data.held_on:%d.%m.%Y}",
        "agenda": check_general_text(data.agenda, "agenda", "Die Tagesordnung"),
        "minutes": check_general_text(data.minutes, "minutes", "Das Protokoll"),
        "attendee_ids": list(dict.fromkeys(data.attendee_ids)),
    }


def create_meeting(ctx: Context, data: MeetingInput) -> SteeringMeeting:
    with ctx.vault.writing() as session:
        meeting = SteeringMeeting(**_meeting_values(session, data))
        add_recorded(ctx, session, meeting)
        return meeting


def update_meeting(ctx: Context, meeting_id: str, data: MeetingInput) -> SteeringMeeting:
    with ctx.vault.writing() as session:
        meeting = load(session, SteeringMeeting, meeting_id, "Die Sitzung")
        values = _meeting_values(session, data)
        update_recorded(ctx, session, meeting, values)
        return meeting


def meeting_rows(ctx: Context) -> list[MeetingRow]:
    """Meetings, newest first."""
    with ctx.vault.reading() as session:
        counts = dict(session.execute(select(SteeringDecision.meeting_id, func.count())
                                      .group_by(SteeringDecision.meeting_id)).all())
        return [MeetingRow(m.id, m.held_on, m.title, m.agenda, m.minutes,
                           tuple(m.attendee_ids), counts.get(m.id, 0))
                for m in session.scalars(select(SteeringMeeting).order_by(
                    SteeringMeeting.held_on.desc()))]


# --- decisions --------------------------------------------------------------------------------


def _decision_values(ctx: Context, session: Session, data: DecisionInput) -> dict[str, object]:
    title = data.title.strip()
    if not title:
        raise ValidationError("Bitte den Beschluss benennen.", "title")
    if len(title) > 300:
        raise ValidationError("Der Titel hat höchstens 300 Zeichen.", "title")
    if len(data.text) > MAX_TEXT:
        raise ValidationError(f"Der Text hat höchstens {MAX_TEXT} Zeichen.", "text")
    check_code(ctx, "decision_statuses", data.status, "status", "Status")
    if data.follow_up_on is not None and data.follow_up_on < data.decided_on:
        raise ValidationError("Die Wiedervorlage liegt vor dem Beschluss.", "follow_up_on")
    if not (data.theme_ids or data.finding_ids or data.project_group_id):
        raise ValidationError("Bitte angeben, was zu dem Beschluss geführt hat: ein generatives "
                              "Thema, Erkenntnisse oder eine Projektgruppe.", "theme_ids")
    for theme_id in data.theme_ids:
        load(session, GenerativeTheme, theme_id, "Das generative Thema")
    for finding_id in data.finding_ids:
        load(session, Finding, finding_id, "Die Erkenntnis")
    if data.project_group_id is not None:
        load(session, ProjectGroup, data.project_group_id, "Die Projektgruppe")
    for code in data.indicators:
        check_code(ctx, "decision_indicators", code, "indicators", "Indikator")
    if data.meeting_id is not None:
        meeting = load(session, SteeringMeeting, data.meeting_id, "Die Sitzung")
        if meeting.held_on != data.decided_on:
            raise ValidationError("Der Beschluss trägt das Datum seiner Sitzung.", "decided_on")
    return {
        "title": check_general_text(title, "title", "Der Titel"),
        "decided_on": data.decided_on,
        "text": check_general_text(data.text, "text", "Der Beschlusstext"),
        "responsible": check_general_text(data.responsible.strip()[:200], "responsible",
                                          "Die Verantwortung"),
        "follow_up_on": data.follow_up_on, "status": data.status,
        "theme_ids": list(dict.fromkeys(data.theme_ids)),
        "finding_ids": list(dict.fromkeys(data.finding_ids)),
        "project_group_id": data.project_group_id, "meeting_id": data.meeting_id,
        "indicators": list(dict.fromkeys(data.indicators)),
    }


def record_decision(ctx: Context, data: DecisionInput) -> SteeringDecision:
    """A Beschluss; it must name what led to it (theme, findings or Projektgruppe)."""
    with ctx.vault.writing() as session:
        decision = SteeringDecision(**_decision_values(ctx, session, data))
        add_recorded(ctx, session, decision)
        return decision


def update_decision(ctx: Context, decision_id: str, data: DecisionInput) -> SteeringDecision:
    with ctx.vault.writing() as session:
        decision = load(session, SteeringDecision, decision_id, "Der Beschluss")
        values = _decision_values(ctx, session, data)
        update_recorded(ctx, session, decision, values)
        return decision


def set_decision_status(ctx: Context, decision_id: str, status: str,
                        follow_up_on: date | None = None) -> SteeringDecision:
    """Move a decision on (offen → in Umsetzung → umgesetzt/verworfen), optionally with a new
    follow-up day."""
    check_code(ctx, "decision_statuses", status, "status", "Status")
    with ctx.vault.writing() as session:
        decision = load(session, SteeringDecision, decision_id, "Der Beschluss")
        if follow_up_on is not None:
            if follow_up_on < decision.decided_on:
                raise ValidationError("Die Wiedervorlage liegt vor dem Beschluss.",
                                      "follow_up_on")
            decision.follow_up_on = follow_up_on
        decision.status = status
        stamp(ctx, decision)
        record(ctx, session, "update", None, decision, fields=["status", "follow_up_on"])
        return decision


def decision_rows(ctx: Context, status: str | None = None) -> list[DecisionRow]:
    """Beschlüsse, newest first (only one status when given)."""
    with ctx.vault.reading() as session:
        query = select(SteeringDecision)
        if status is not None:
            query = query.where(SteeringDecision.status == status)
        decisions = list(session.scalars(query.order_by(SteeringDecision.decided_on.desc(),
                                                        SteeringDecision.created_at.desc())))
        return [_decision_row(ctx, session, d) for d in decisions]


def due_follow_ups(ctx: Context, within_days: int = 14) -> list[DecisionRow]:
    """Open decisions whose follow-up falls within ``within_days`` (overdue included)."""
    horizon = ctx.today() + timedelta(days=within_days)
    with ctx.vault.reading() as session:
        decisions = session.scalars(select(SteeringDecision).where(
            SteeringDecision.status.in_(OPEN_STATUSES),
            SteeringDecision.follow_up_on.is_not(None),
            SteeringDecision.follow_up_on <= horizon).order_by(SteeringDecision.follow_up_on))
        return [_decision_row(ctx, session, d) for d in decisions]


def decision_detail(ctx: Context, decision_id: str) -> DecisionDetail:
    with ctx.vault.reading() as session:
        d = load(session, SteeringDecision, decision_id, "Der Beschluss")
        statements = dict(session.execute(select(GenerativeTheme.id, GenerativeTheme.statement)
                                          .where(GenerativeTheme.id.in_(d.theme_ids))).all())
        meeting = session.get(SteeringMeeting, d.meeting_id) if d.meeting_id else None
        return DecisionDetail(
            _decision_row(ctx, session, d), d.text,
            tuple((t, statements[t]) for t in d.theme_ids if t in statements),
            tuple(rows_by_id(ctx, session, d.finding_ids)), d.project_group_id,
            meeting.title if meeting else "", tuple(d.indicators))


def _decision_row(ctx: Context, session: Session, d: SteeringDecision) -> DecisionRow:
    group = session.get(ProjectGroup, d.project_group_id) if d.project_group_id else None
    due = d.status in OPEN_STATUSES and d.follow_up_on is not None and (
        d.follow_up_on <= ctx.today())
    return DecisionRow(d.id, d.decided_on, d.title, d.responsible, d.follow_up_on, d.status,
                       _label(ctx, "decision_statuses", d.status), due, d.meeting_id,
                       group.name if group else "", len(d.theme_ids), len(d.finding_ids))


def decision_effect(ctx: Context, decision_id: str,
                    window_months: int = DEFAULT_EFFECT_MONTHS) -> DecisionEffect:
    """Findings per theme in equal windows before and after the decision.

    Both windows have the same length: ``window_months`` before the decision day, and as long
    after it; while that has not passed yet, both shrink to the days since the decision, so a
    young decision is not judged on half a window (``complete`` tells which it is). Themes are
    those the decision links, those of its Projektgruppe, and those of its linked findings;
    linked findings without a theme are counted by their life area and kind of barrier.
    """
    if not 1 <= window_months <= 36:
        raise ValidationError("Das Zeitfenster umfasst 1 bis 36 Monate.", "window_months")
    with ctx.vault.reading() as session:
        d = load(session, SteeringDecision, decision_id, "Der Beschluss")
        requested = (add_months(d.decided_on, window_months) - d.decided_on).days
        elapsed = max(0, (ctx.today() - d.decided_on).days)
        days = min(requested, elapsed) or requested
        before_start = d.decided_on - timedelta(days=days)
        after_end = d.decided_on + timedelta(days=days)
        theme_ids = list(d.theme_ids)
        group = session.get(ProjectGroup, d.project_group_id) if d.project_group_id else None
        if group is not None:
            theme_ids += [t for t in group.theme_ids if t not in theme_ids]
        linked = list(session.scalars(select(Finding).where(Finding.id.in_(
            d.finding_ids + (group.finding_ids if group else [])))))
        theme_ids += [f.theme_id for f in linked if f.theme_id and f.theme_id not in theme_ids]
        statements = dict(session.execute(select(GenerativeTheme.id, GenerativeTheme.statement)
                                          .where(GenerativeTheme.id.in_(theme_ids))).all())
        rows = [EffectRow(statements[t], t, "", "",
                          count_between(session, before_start, d.decided_on, theme_id=t),
                          count_between(session, d.decided_on, after_end, theme_id=t))
                for t in theme_ids if t in statements]
        kinds = list(dict.fromkeys((f.life_area, f.barrier) for f in linked if not f.theme_id))
        rows += [EffectRow(f"{_label(ctx, 'life_areas', area)}: "
                           f"{_label(ctx, 'barrier_kinds', barrier)}", None, area, barrier,
                           count_between(session, before_start, d.decided_on, life_area=area,
                                         barrier=barrier),
                           count_between(session, d.decided_on, after_end, life_area=area,
                                         barrier=barrier))
                 for area, barrier in kinds]
        return DecisionEffect(d.id, d.decided_on, days, before_start, after_end,
                              elapsed >= requested, tuple(rows))


def _label(ctx: Context, vocabulary: str, code: str) -> str:
    try:
        return ctx.reference.label(vocabulary, code)
    except KeyError:
        return code
