"""Einwilligungen and Schweigepflichtentbindungen: separate, specific, revocable records."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity
from kimdesk.models.enums import ConsentKind

HEALTH = "health"  # the special category (Art. 9 DSGVO) that must be named explicitly


class Consent(Entity):
    __tablename__ = "consents"

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # For a release: to whom (a concrete institution, or else an institution type) ...
    recipient_institution_id: Mapped[str | None] = mapped_column(ForeignKey("institutions.id"))
    recipient_type: Mapped[str] = mapped_column(String(40), default="")
    recipient_text: Mapped[str] = mapped_column(String(200), default="")
    # ... which kinds of information, for which purpose. No blanket consent.
    information_kinds: Mapped[list[str]] = mapped_column(default=list)
    purpose: Mapped[str] = mapped_column(Text)
    special_categories: Mapped[bool] = mapped_column(default=False)  # health named explicitly
    mutual: Mapped[bool] = mapped_column(default=False)
    given_on: Mapped[date]
    form: Mapped[str] = mapped_column(String(20), default="schriftlich")
    language: Mapped[str] = mapped_column(String(80), default="Deutsch")
    interpreter: Mapped[bool] = mapped_column(default=False)
    valid_until: Mapped[date | None]
    revoked_on: Mapped[date | None]
    revocation_note: Mapped[str] = mapped_column(Text, default="")

    def is_active(self, on: date) -> bool:
        return consent_active(self.given_on, self.valid_until, self.revoked_on, on)

    def covers(self, institution_id: str, institution_type: str, kinds: list[str]) -> bool:
        """Whether this release allows passing ``kinds`` of information to that institution."""
        if self.kind != ConsentKind.RELEASE:
            return False
        if self.recipient_institution_id:
            if self.recipient_institution_id != institution_id:
                return False
        elif self.recipient_type != institution_type:
            return False
        if HEALTH in kinds and not self.special_categories:
            return False
        return set(kinds) <= set(self.information_kinds)


def consent_active(given_on: date, valid_until: date | None, revoked_on: date | None,
                   on: date) -> bool:
    """Whether a consent given, limited and perhaps revoked so is in force on ``on``."""
    if given_on > on:
        return False
    if revoked_on is not None and revoked_on <= on:
        return False
    return valid_until is None or valid_until >= on
