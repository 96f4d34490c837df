"""Projektgruppen (concept 5.5.2): the Zielschema Grundsatzziel → Rahmenziele →
Handlungsstrategien, member institutions, linked generative themes and findings, status.

``ProjectGroup.framework_goals`` holds ``[{"goal": "Rahmenziel", "strategies":
["Handlungsstrategie", …]}]``. A Projektgruppe is time-limited and thematic; its results go to
the Lenkungsgruppe, so it can only be marked as reported once it has a strategy to report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework.common import add_recorded, check_code, load, record, stamp, update_recorded
from kimdesk.casework.context import Context
from kimdesk.casework.coordination.findings import FindingRow, rows_by_id
from kimdesk.casework.pseudonymise import check_general_text
from kimdesk.errors import ValidationError
from kimdesk.models import Finding, GenerativeTheme, Institution, ProjectGroup, SteeringDecision

MAX_TEXT = 2000
# Statuses that present results: they need a Zielschema with at least one strategy.
REPORTING_STATUSES = ("reported", "closed")


@dataclass
class FrameworkGoal:
    """A Rahmenziel and the Handlungsstrategien worked out for it."""

    goal: str
    strategies: list[str] = field(default_factory=list)


@dataclass
class ProjectGroupInput:
    name: str
    principal_goal: str = ""  # Grundsatzziel, formulated positively as the state to reach
    framework_goals: list[FrameworkGoal] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # institution ids
    theme_ids: list[str] = field(default_factory=list)
    finding_ids: list[str] = field(default_factory=list)
    status: str = "planned"  # project_group_statuses code
    started_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class MemberRow:
    id: str
    name: str
    institution_type_label: str


@dataclass(frozen=True)
class LinkRow:
    id: str
    label: str


@dataclass(frozen=True)
class ProjectGroupRow:
    id: str
    name: str
    status: str
    status_label: str
    started_on: date | None
    ends_on: date | None
    members: int
    framework_goals: int
    strategies: int
    themes: int


@dataclass(frozen=True)
class ProjectGroupDetail:
    id: str
    name: str
    principal_goal: str
    framework_goals: tuple[FrameworkGoal, ...]
    status: str
    status_label: str
    started_on: date | None
    ends_on: date | None
    members: tuple[MemberRow, ...]
    themes: tuple[LinkRow, ...]  # generative themes: id, statement
    findings: tuple[FindingRow, ...]
    decisions: tuple[LinkRow, ...]  # Beschlüsse of the Lenkungsgruppe that refer to it


def _text(value: str, what: str, field_name: str, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise ValidationError(f"Bitte {what} angeben.", field_name)
    if len(text) > MAX_TEXT:
        raise ValidationError(f"{what}: höchstens {MAX_TEXT} Zeichen.", field_name)
    return check_general_text(text, field_name, what)


def _checked(ctx: Context, session: Session, data: ProjectGroupInput) -> dict[str, Any]:
    name = _text(data.name, "den Namen der Projektgruppe", "name", required=True)
    principal = _text(data.principal_goal, "das Grundsatzziel", "principal_goal",
                      required=bool(data.framework_goals))
    goals: list[dict[str, Any]] = []
    for index, framework in enumerate(data.framework_goals, start=1):
        goal = _text(framework.goal, f"das Rahmenziel {index}", "framework_goals",
                     required=True)
        strategies = [_text(s, f"die Handlungsstrategie {n} zu Rahmenziel {index}",
                            "framework_goals", required=True)
                      for n, s in enumerate(framework.strategies, start=1)]
        goals.append({"goal": goal, "strategies": strategies})
    check_code(ctx, "project_group_statuses", data.status, "status", "Status")
    if data.status in REPORTING_STATUSES and not any(g["strategies"] for g in goals):
        raise ValidationError("Ergebnisse an die Lenkungsgruppe brauchen ein Zielschema mit "
                              "mindestens einer Handlungsstrategie.", "status")
    if data.started_on and data.ends_on and data.ends_on < data.started_on:
        raise ValidationError("Das Ende liegt vor dem Beginn.", "ends_on")
    for institution_id in data.members:
        load(session, Institution, institution_id, "Die Einrichtung")
    for theme_id in data.theme_ids:
        load(session, GenerativeTheme, theme_id, "Das generative Thema")
    for finding_id in data.finding_ids:
        load(session, Finding, finding_id, "Die Erkenntnis")
    return {"name": name, "principal_goal": principal, "framework_goals": goals,
            "members": list(dict.fromkeys(data.members)),
            "theme_ids": list(dict.fromkeys(data.theme_ids)),
            "finding_ids": list(dict.fromkeys(data.finding_ids)), "status": data.status,
            "started_on": data.started_on, "ends_on": data.ends_on}


def create_project_group(ctx: Context, data: ProjectGroupInput) -> ProjectGroup:
    with ctx.vault.writing() as session:
        group = ProjectGroup(**_checked(ctx, session, data))
        add_recorded(ctx, session, group)
        return group


def update_project_group(ctx: Context, group_id: str, data: ProjectGroupInput) -> ProjectGroup:
    with ctx.vault.writing() as session:
        group = load(session, ProjectGroup, group_id, "Die Projektgruppe")
        values = _checked(ctx, session, data)
        update_recorded(ctx, session, group, values)
        return group


def set_project_group_status(ctx: Context, group_id: str, status: str) -> ProjectGroup:
    check_code(ctx, "project_group_statuses", status, "status", "Status")
    with ctx.vault.writing() as session:
        group = load(session, ProjectGroup, group_id, "Die Projektgruppe")
        if status in REPORTING_STATUSES and not any(
                g.get("strategies") for g in group.framework_goals):
            raise ValidationError("Ergebnisse an die Lenkungsgruppe brauchen ein Zielschema mit "
                                  "mindestens einer Handlungsstrategie.", "status")
        group.status = status
        stamp(ctx, group)
        record(ctx, session, "update", None, group, fields=["status"])
        return group


def project_group_rows(ctx: Context) -> list[ProjectGroupRow]:
    with ctx.vault.reading() as session:
        return [
            ProjectGroupRow(
                g.id, g.name, g.status, _label(ctx, "project_group_statuses", g.status),
                g.started_on, g.ends_on, len(g.members), len(g.framework_goals),
                sum(len(x.get("strategies", [])) for x in g.framework_goals), len(g.theme_ids))
            for g in session.scalars(select(ProjectGroup).order_by(ProjectGroup.created_at))]


def project_group_detail(ctx: Context, group_id: str) -> ProjectGroupDetail:
    with ctx.vault.reading() as session:
        g = load(session, ProjectGroup, group_id, "Die Projektgruppe")
        institutions = {i.id: i for i in session.scalars(select(Institution).where(
            Institution.id.in_(g.members)))}
        members = tuple(
            MemberRow(i, institutions[i].name,
                      _label(ctx, "institution_types", institutions[i].institution_type))
            for i in g.members if i in institutions)
        statements = dict(session.execute(select(GenerativeTheme.id, GenerativeTheme.statement)
                                          .where(GenerativeTheme.id.in_(g.theme_ids))).all())
        decisions = tuple(LinkRow(d.id, d.title) for d in session.scalars(
            select(SteeringDecision).where(SteeringDecision.project_group_id == g.id)
            .order_by(SteeringDecision.decided_on)))
        return ProjectGroupDetail(
            g.id, g.name, g.principal_goal,
            tuple(FrameworkGoal(x["goal"], list(x.get("strategies", [])))
                  for x in g.framework_goals),
            g.status, _label(ctx, "project_group_statuses", g.status), g.started_on, g.ends_on,
            members, tuple(LinkRow(t, statements[t]) for t in g.theme_ids if t in statements),
            tuple(rows_by_id(ctx, session, g.finding_ids)), decisions)


def _label(ctx: Context, vocabulary: str, code: str) -> str:
    try:
        return ctx.reference.label(vocabulary, code)
    except KeyError:
        return code
