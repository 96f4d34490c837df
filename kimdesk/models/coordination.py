"""Coordination objects (Fallbesprechung, Fallrekonstruktion, Erkenntnisse, Projektgruppen,
Lenkungsgruppe, kommunale Vereinbarungen, strukturelle Tätigkeiten). They hold no personal data
by construction: a review refers to its case by id only and carries pseudonymised text the
presenter confirmed.
"""

from __future__ import annotations

from datetime import date, datetime
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
    title: Mapped[str] = mapped_column(String(200), default="")  # pseudonymised: "Frau A. (…)"
    team: Mapped[str] = mapped_column(String(20), default="")  # the Fachteam that discusses it
    presenter: Mapped[str] = mapped_column(String(120), default="")  # the presenting case manager
    # Who confirmed the (pseudonymised) texts, and when: only confirmed text is stored here.
    confirmed_by: Mapped[str] = mapped_column(String(120), default="")
    confirmed_at: Mapped[datetime | None]


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
    # Only a Fallbesprechung is remembered as the source: a case or contact id would lead back
    # to a person, and findings travel county-wide.
    review_id: Mapped[str | None] = mapped_column(
        ForeignKey("case_reviews.id", ondelete="SET NULL"))
    # On the Kreis-Tresor's copy a team coordinator released (kimdesk/casework/county.py): the
    # id of the team's record it was released from and the releasing team; empty elsewhere.
    released_from: Mapped[str | None] = mapped_column(String(32))
    released_team: Mapped[str] = mapped_column(String(20), default="")


class CaseReconstruction(Entity):
    """Fallrekonstruktion: life areas, topics, the goal they are read under, a service chain."""

    __tablename__ = "case_reconstructions"

    title: Mapped[str] = mapped_column(String(200))
    presented_on: Mapped[date | None]
    goal: Mapped[str] = mapped_column(Text, default="")
    life_areas: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # area + topics
    actors: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # nodes of the chain
    relations: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # edges, obstacles
    # On the Kreis-Tresor's copy a team coordinator released (kimdesk/casework/county.py): the
    # id of the team's record it was released from and the releasing team; empty elsewhere.
    released_from: Mapped[str | None] = mapped_column(String(32))
    released_team: Mapped[str] = mapped_column(String(20), default="")


class GenerativeTheme(Entity):
    """A generative Thema, formulated positively as the improved state."""

    __tablename__ = "generative_themes"

    reconstruction_id: Mapped[str | None] = mapped_column(ForeignKey("case_reconstructions.id"))
    statement: Mapped[str] = mapped_column(Text)
    mandate: Mapped[str] = mapped_column(Text, default="")  # Arbeitsauftrag that comes with it
    # On the Kreis-Tresor's copy a team coordinator released (kimdesk/casework/county.py): the
    # id of the team's record it was released from and the releasing team; empty elsewhere.
    released_from: Mapped[str | None] = mapped_column(String(32))
    released_team: Mapped[str] = mapped_column(String(20), default="")


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
    meeting_id: Mapped[str | None] = mapped_column(ForeignKey("steering_meetings.id"))
    # decision_indicators codes: what the Lenkungsgruppe watches to see the decision work.
    indicators: Mapped[list[str]] = mapped_column(default=list)


class SteeringMember(Entity):
    """A seat of the Lenkungsgruppe (concept 4.4): a leadership role of an institution."""

    __tablename__ = "steering_members"

    role: Mapped[str] = mapped_column(String(40))  # steering_member_roles code
    organisation: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(200), default="")  # the official, not a client
    active: Mapped[bool] = mapped_column(default=True)


class SteeringMeeting(Entity):
    """A Sitzung der Lenkungsgruppe with agenda, minutes and who attended."""

    __tablename__ = "steering_meetings"

    held_on: Mapped[date]
    title: Mapped[str] = mapped_column(String(200), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    attendee_ids: Mapped[list[str]] = mapped_column(default=list)  # steering member ids


class MunicipalAgreement(Entity):
    """Kommunale Vereinbarung (concept 4.5, 5.6.1): what a Kommune and the KIM agreed — the
    parties, the subject, when it was signed and how long it holds, and whether and how cases
    are allocated (Fallzusteuerung). An agreement counts as in force from ``valid_from`` (or the
    day it was signed) until ``valid_until``; one without a signing date is a draft."""

    __tablename__ = "municipal_agreements"

    municipality: Mapped[str] = mapped_column(String(40), index=True)
    signed_on: Mapped[date | None]
    valid_until: Mapped[date | None]
    case_allocation: Mapped[str] = mapped_column(Text, default="")  # Fallzusteuerung: how
    content: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(200), default="")
    parties: Mapped[list[str]] = mapped_column(default=list)  # organisations that signed
    valid_from: Mapped[date | None]
    allocates_cases: Mapped[bool] = mapped_column(default=False)  # Fallzusteuerung: yes/no


class StructuralActivity(Entity):
    """Structural work that is not a case (concept 5.6–5.8): Gremienarbeit, Planungsraum
    meetings, formats with a Kommune, work with the Träger der Freien Wohlfahrt,
    Prozessberatung — with its hours, so Controlling sees it. Participants are organisations;
    nothing here is about a person."""

    __tablename__ = "structural_activities"

    held_on: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(40))  # structural_activity_kinds code
    title: Mapped[str] = mapped_column(String(200), default="")
    municipalities: Mapped[list[str]] = mapped_column(default=list)  # Kommune codes
    planning_area: Mapped[str] = mapped_column(String(60), default="")  # "Planungsraum Nord"
    minutes: Mapped[int] = mapped_column(default=0)  # the time spent, in minutes
    participants: Mapped[list[str]] = mapped_column(default=list)  # organisations
    note: Mapped[str] = mapped_column(Text, default="")
