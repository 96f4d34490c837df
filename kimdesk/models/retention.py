"""Retention: deletion proposals for closed files, and the anonymised counts a purge leaves."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity
from kimdesk.models.enums import ProposalStatus


class DeletionProposal(Entity):
    """A client file whose retention period has run out, or whose erasure the person asked
    for (Art. 17 DSGVO, ``requested_on`` set); a person confirms or postpones it."""

    __tablename__ = "deletion_proposals"

    # No foreign key: the proposal outlives the client it proposed to delete.
    client_id: Mapped[str] = mapped_column(String(32), index=True)
    due_since: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default=ProposalStatus.PROPOSED.value)
    postponed_until: Mapped[date | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(120), default="")
    decided_on: Mapped[date | None]
    # The day the person asked for erasure (Art. 17 DSGVO); None for the retention rules.
    requested_on: Mapped[date | None]


class PurgedCaseCount(Entity):
    """What statistics keep of a purged case: dimensions only, no person, no day."""

    __tablename__ = "purged_case_counts"

    opened_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    closed_month: Mapped[str] = mapped_column(String(7), default="")
    team: Mapped[str] = mapped_column(String(20))
    municipality: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(30))
    highest_phase: Mapped[str] = mapped_column(String(20), default="")
    closing_reason: Mapped[str] = mapped_column(String(40), default="")
    age_band: Mapped[str] = mapped_column(String(20), default="")
    gender: Mapped[str] = mapped_column(String(20), default="")
    nationality_group: Mapped[str] = mapped_column(String(80), default="")
    contacts: Mapped[int] = mapped_column(Integer, default=0)
    contact_minutes: Mapped[int] = mapped_column(Integer, default=0)
    topics: Mapped[list[str]] = mapped_column(default=list)
