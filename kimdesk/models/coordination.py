"""Coordination objects (Fallbesprechung, Fallrekonstruktion, Erkenntnisse, Projektgruppen,
Lenkungsgruppe, kommunale Vereinbarungen). They hold no personal data by construction: a review
refers to its case by id only and carries pseudonymised text the presenter confirmed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity


class CaseReview(Entity):
    """Fallbesprechung in the fixed schema of concept 5.5.3."""

    __tablename__ = "case_reviews"

    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    held_on: Mapped[date | None]
    occasion: Mapped[str] = mapped_column(Text, default="")  # Anlass und Fragestellung
    relevant_information: Mapped[str] = mapped_column(Text, default="")
    development: Mapped[str] = mapped_column(Text, default="")  # bisheriger Verlauf
    network: Mapped[str] = mapped_column(Text, default="")  # beteiligtes Netzwerk
    advice: Mapped[str] = mapped_column(Text, default="")  # Empfehlungen des Teams
    next_steps: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)  # Bedarfe, Ressourcen, Herausforderungen


class Finding(Entity):
    """Versorgungslücke oder defizitäre Schnittstelle: structural, never about a person."""

    __tablename__ = "findings"

    noted_on: Mapped[date]
    source: Mapped[str] = mapped_column(String(20))  # case, contact, review, team_meeting
    life_area: Mapped[str] = mapped_column(String(40))
    institution_type: Mapped[str] = mapped_column(String(40), default="")
    barrier: Mapped[str] = mapped_column(String(40))  # kind of barrier (reference data)
    municipality: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    theme_id: Mapped[str | None] = mapped_column(ForeignKey("generative_themes.id"))


class CaseReconstruction(Entity):
    """Fallrekonstruktion: life areas, topics, the goal they are read under, a service chain."""

    __tablename__ = "case_reconstructions"

    title: Mapped[str] = mapped_column(String(200))
    presented_on: Mapped[date | None]
    goal: Mapped[str] = mapped_column(Text, default="")
    life_areas: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # area + topics
    actors: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # nodes of the chain
    relations: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # edges, obstacles


class GenerativeTheme(Entity):
    """A generative Thema, formulated positively as the improved state."""

    __tablename__ = "generative_themes"

    reconstruction_id: Mapped[str | None] = mapped_column(ForeignKey("case_reconstructions.id"))
    statement: Mapped[str] = mapped_column(Text)


class ProjectGroup(Entity):
    """Projektgruppe with its Zielschema (Grundsatzziel → Rahmenziele → Handlungsstrategien)."""

    __tablename__ = "project_groups"

    name: Mapped[str] = mapped_column(String(200))
    principal_goal: Mapped[str] = mapped_column(Text, default="")
    framework_goals: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    members: Mapped[list[str]] = mapped_column(default=list)  # institution ids
    theme_ids: Mapped[list[str]] = mapped_column(default=list)
    finding_ids: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="active")
    started_on: Mapped[date | None]
    ends_on: Mapped[date | None]


class SteeringDecision(Entity):
    """Beschluss der Lenkungsgruppe, linked to what led to it."""

    __tablename__ = "steering_decisions"

    decided_on: Mapped[date]
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    responsible: Mapped[str] = mapped_column(String(200), default="")
    follow_up_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="open")
    theme_ids: Mapped[list[str]] = mapped_column(default=list)
    finding_ids: Mapped[list[str]] = mapped_column(default=list)
    project_group_id: Mapped[str | None] = mapped_column(ForeignKey("project_groups.id"))


class MunicipalAgreement(Entity):
    """Kommunale Vereinbarung: what a Kommune and the KIM agreed, incl. the Fallzusteuerung."""

    __tablename__ = "municipal_agreements"

    municipality: Mapped[str] = mapped_column(String(40), index=True)
    signed_on: Mapped[date | None]
    valid_until: Mapped[date | None]
    case_allocation: Mapped[str] = mapped_column(Text, default="")  # Fallzusteuerung
    content: Mapped[str] = mapped_column(Text, default="")
