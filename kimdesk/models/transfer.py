"""Cases that move between teams (issue 15): the device-local record of each transfer.

Never synced: it is the bookkeeping of the device that runs a transfer's steps. An outgoing
transfer (``direction`` "out") goes requested → uploaded → handed_over (the moved records are
erased in the sending team) → closed (the server's copy is gone); what stays is the note
"übergeben an Team … am …" and opaque ids. If the file changed here after its bundle was
sealed, the acknowledgement does not erase it: uploaded → kept → kept_closed (the server's copy
is gone), with a note that says so. An incoming one is "imported" (in the same vault
transaction as its records, so a repeated import is recognised by the transfer id) or
"quarantined" (refused: tampered, signed by an unknown device; nothing applied).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Base, utcnow

OUT = "out"
IN = "in"
REQUESTED = "requested"
UPLOADED = "uploaded"
HANDED_OVER = "handed_over"
KEPT = "kept"  # acknowledged, but changed here after sealing: not erased
KEPT_CLOSED = "kept_closed"  # the same, and the server's copy is gone
CLOSED = "closed"
IMPORTED = "imported"
ACKNOWLEDGED = "acknowledged"
QUARANTINED = "quarantined"


class CaseTransfer(Base):
    """One transfer of a client's file to or from another team, as this device knows it."""

    __tablename__ = "case_transfers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the transfer id
    direction: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20))
    from_team: Mapped[str] = mapped_column(String(40))
    to_team: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(32), default="")
    case_id: Mapped[str] = mapped_column(String(32), default="")
    municipality: Mapped[str] = mapped_column(String(60), default="")  # the new Kommune
    requested_by: Mapped[str] = mapped_column(String(120), default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")  # German, names no person
    # Outgoing: the version of the file its bundle holds (casework.transfer.file_version).
    sealed_version: Mapped[str] = mapped_column(String(64), default="", server_default="")
