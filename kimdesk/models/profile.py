"""The vault's owner: who works with this vault, in which team, with which share of a post."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity


class VaultProfile(Entity):
    """Exactly one row: the case manager (or coordinator) this vault belongs to."""

    __tablename__ = "vault_profile"

    user_name: Mapped[str] = mapped_column(String(120))
    team: Mapped[str] = mapped_column(String(20))  # team code from the reference data
    role: Mapped[str] = mapped_column(String(20), default="case_manager")
    fte: Mapped[float] = mapped_column(default=1.0)  # VZÄ of this person, for the Fallzahlschlüssel
    device_id: Mapped[str] = mapped_column(String(32))
