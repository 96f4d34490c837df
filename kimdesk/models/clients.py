"""Ratsuchende (persons and organisations), households, relations and residence status."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Entity
from kimdesk.models.enums import ClientKind

# Fields a Kurzintervention may hold without an Einwilligung: only what the concern needs.
MINIMAL_FIELDS = frozenset(
    {"kind", "first_name", "last_name", "organisation_name", "anonymous", "gender",
     "municipality", "languages", "interpreter_language", "phone"}
)
# Everything else about a person needs an active Einwilligung in die Datenverarbeitung.
CONSENT_FIELDS = frozenset(
    {"birth_date", "nationality", "address", "email", "arrival_date", "household_id",
     "household_role", "notes"}
)


class Household(Entity):
    """Haushalt/Familie: persons living together, e.g. "Familie H."."""

    __tablename__ = "households"

    label: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(Text, default="")


class Client(Entity):
    """Ratsuchende:r: a person, or an organisation such as an employer."""

    __tablename__ = "clients"

    kind: Mapped[str] = mapped_column(String(20), default=ClientKind.PERSON.value)
    anonymous: Mapped[bool] = mapped_column(default=False)
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    gender: Mapped[str] = mapped_column(String(20), default="not_stated")
    birth_date: Mapped[date | None]
    nationality: Mapped[str | None] = mapped_column(String(2))
    languages: Mapped[str] = mapped_column(String(200), default="")
    interpreter_language: Mapped[str] = mapped_column(String(80), default="")
    municipality: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(80), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    arrival_date: Mapped[date | None]
    household_id: Mapped[str | None] = mapped_column(ForeignKey("households.id"), index=True)
    household_role: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    @property
    def display_name(self) -> str:
        return display_name_of(self.kind, self.anonymous, self.organisation_name,
                               self.first_name, self.last_name)


def display_name_of(kind: str, anonymous: bool, organisation_name: str, first_name: str,
                    last_name: str) -> str:
    """"Nachname, Vorname", an organisation's name, or "Anonyme Beratung" (entity and record)."""
    if kind == ClientKind.ORGANISATION:
        return organisation_name
    if anonymous:
        return "Anonyme Beratung"
    if last_name and first_name:
        return f"{last_name}, {first_name}"
    return last_name or first_name


class Relation(Entity):
    """A relation between two persons (Ehepartner:in, Elternteil, Kind, Geschwister ...)."""

    __tablename__ = "relations"

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    other_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # "spouse", "parent_of", "sibling", "other"


class ResidenceRecord(Entity):
    """Aufenthaltsstatus with its dates; the newest record is the current status."""

    __tablename__ = "residence_records"

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[str] = mapped_column(String(40))  # residence status code (reference data)
    granted_on: Mapped[date | None]
    valid_until: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")


class ChecklistItem(Entity):
    """One condition of the § 104c checklist (Lebensunterhalt, Sprache, Identität, Familie)."""

    __tablename__ = "checklist_items"

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    item: Mapped[str] = mapped_column(String(40))
    fulfilled: Mapped[bool] = mapped_column(default=False)
    fulfilled_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
