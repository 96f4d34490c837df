"""Termine with a time of day (an appointment, an escort to an authority) beside the date-only
Fristen, and the history of handing a case over to another case manager."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity


class Appointment(Entity):
    """Termin: a local wall-clock time in the county (Europe/Berlin), as the user agreed it."""

    __tablename__ = "appointments"

    # ON DELETE CASCADE: a purge under retention rules deletes clients and cases in bulk;
    # their Termine and handovers go with them on every device.
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"),
                                           index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                                index=True)
    kind: Mapped[str] = mapped_column(String(40))  # "appointment" or "escort"
    day: Mapped[date] = mapped_column(index=True)
    # Minutes after local midnight (a plain integer: the sync payload is JSON).
    start_minute: Mapped[int] = mapped_column(Integer)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    title: Mapped[str] = mapped_column(String(300))  # subject as the app shows it
    place: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    cancelled: Mapped[bool] = mapped_column(default=False)

    @property
    def starts_at(self) -> time:
        return time(self.start_minute // 60, self.start_minute % 60)


class CaseHandover(Entity):
    """Übergabe: the responsible case manager of a case changed, with the reason."""

    __tablename__ = "case_handovers"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         index=True)
    from_manager: Mapped[str] = mapped_column(String(120))
    to_manager: Mapped[str] = mapped_column(String(120))
    handed_over_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
