"""Akteure/Einrichtungen of the network and Vermittlungen (referrals) to them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity


class Institution(Entity):
    """An institution with its type and Rechtskreis; holds no client data."""

    __tablename__ = "institutions"

    name: Mapped[str] = mapped_column(String(200))
    institution_type: Mapped[str] = mapped_column(String(40))
    legal_domain: Mapped[str] = mapped_column(String(20))  # Rechtskreis code
    municipality: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(80), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    contact_person: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class Referral(Entity):
    """Vermittlung: to which institution, when, why, and what came of it."""

    __tablename__ = "referrals"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    referred_on: Mapped[date]
    purpose: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(40), default="requested")
    outcome_on: Mapped[date | None]
    shares_data: Mapped[bool] = mapped_column(default=False)
    information_kinds: Mapped[list[str]] = mapped_column(default=list)
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"))
