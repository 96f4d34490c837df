"""Fristen and Wiedervorlagen."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity


class Deadline(Entity):
    __tablename__ = "deadlines"

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # Fristtyp (reference data)
    due_on: Mapped[date] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    done_on: Mapped[date | None]
    # Generated deadlines (e.g. from a § 104c grant) remember their source to be regenerated.
    source: Mapped[str] = mapped_column(String(80), default="")
