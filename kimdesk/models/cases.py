"""Fälle with their kind and phase history, contacts, assessment, goals and steps."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity
from kimdesk.models.enums import CaseKind, CaseStatus, GoalStatus, Phase

# Kurzintervention: max. 3–5 Sitzungen (concept 5.1.1); warn at the 5th, offer conversion at 6th.
SHORT_INTERVENTION_WARN_AT = 5
SHORT_INTERVENTION_CONVERT_AT = 6


class Case(Entity):
    """Fall: one of the three kinds; for case management it runs through six phases."""

    __tablename__ = "cases"

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    household_id: Mapped[str | None] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    phase: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=CaseStatus.OPEN.value, index=True)
    opened_on: Mapped[date]
    closed_on: Mapped[date | None]
    closing_reason: Mapped[str] = mapped_column(String(40), default="")
    closing_note: Mapped[str] = mapped_column(Text, default="")
    access_route: Mapped[str] = mapped_column(String(40), default="")  # Zugangsweg
    concern: Mapped[str] = mapped_column(Text, default="")  # Anliegen
    cm_indicated: Mapped[bool | None]  # Intake: does case management fit? (indication check)
    art13_informed_on: Mapped[date | None]  # Information nach Art. 13 DSGVO given
    team: Mapped[str] = mapped_column(String(20))
    municipality: Mapped[str] = mapped_column(String(40))
    case_manager: Mapped[str] = mapped_column(String(120))

    @property
    def case_kind(self) -> CaseKind:
        return CaseKind(self.kind)

    @property
    def case_phase(self) -> Phase | None:
        return Phase(self.phase) if self.phase else None

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class CaseParticipant(Entity):
    """A further person of the household the case works with (each gets own goals)."""

    __tablename__ = "case_participants"
    __table_args__ = (UniqueConstraint("case_id", "client_id"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)


class CaseTopic(Entity):
    __tablename__ = "case_topics"
    __table_args__ = (UniqueConstraint("case_id", "topic"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    topic: Mapped[str] = mapped_column(String(40))


class CaseKindChange(Entity):
    """History of conversions (Kurzintervention → Begleitung → Case Management)."""

    __tablename__ = "case_kind_changes"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    from_kind: Mapped[str | None] = mapped_column(String(30))
    to_kind: Mapped[str] = mapped_column(String(30))
    changed_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text, default="")


class PhaseChange(Entity):
    """History of CM phases: each step forward or back, with date and author."""

    __tablename__ = "phase_changes"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    from_phase: Mapped[str | None] = mapped_column(String(20))
    to_phase: Mapped[str] = mapped_column(String(20))
    changed_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")


class Contact(Entity):
    """Kontakt/Beratung. Append-only: a correction is a new record that supersedes the old."""

    __tablename__ = "contacts"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    contact_on: Mapped[date] = mapped_column(index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)
    mode: Mapped[str] = mapped_column(String(40))  # Kontaktart
    place: Mapped[str] = mapped_column(String(200), default="")
    interpreter: Mapped[bool] = mapped_column(default=False)  # Sprach- und Kulturmittlung
    interpreter_language: Mapped[str] = mapped_column(String(80), default="")
    client_present: Mapped[bool] = mapped_column(default=True)
    topics: Mapped[list[str]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id"))
    superseded: Mapped[bool] = mapped_column(default=False)


class Assessment(Entity):
    """Assessment per Handlungsfeld (life area) and person."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("case_id", "client_id", "life_area"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    life_area: Mapped[str] = mapped_column(String(40))
    situation: Mapped[str] = mapped_column(Text, default="")
    resources: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    client_view: Mapped[str] = mapped_column(Text, default="")  # the client's own view
    need: Mapped[int] = mapped_column(Integer, default=0)  # 0 (none) .. 3 (high)
    priority: Mapped[int | None] = mapped_column(Integer)
    institutions: Mapped[str] = mapped_column(Text, default="")
    assessed_on: Mapped[date]


class Goal(Entity):
    """Ziel of one person's Zielvereinbarung (grob: title, fein: detail)."""

    __tablename__ = "goals"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    life_area: Mapped[str] = mapped_column(String(40), default="")
    agreed_on: Mapped[date | None]
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default=GoalStatus.OPEN.value)
    attainment: Mapped[str] = mapped_column(String(30), default="")  # Zielerreichung
    evaluated_on: Mapped[date | None]


class Step(Entity):
    """Handlungsschritt towards a goal: who does what by when."""

    __tablename__ = "steps"

    goal_id: Mapped[str] = mapped_column(ForeignKey("goals.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    responsible: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None]
    done_on: Mapped[date | None]
