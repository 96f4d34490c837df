"""Read models: frozen snapshots of the entities that screens show.

Screens never hold ORM entities (they would be detached, half-loaded and mutable across
threads): casework hands them these records. Each has the entity's columns and the few
derived values screens use; ``of(entity)`` copies one inside the session that loaded it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Self

from kimdesk.models.clients import display_name_of
from kimdesk.models.consent import consent_active
from kimdesk.models.enums import CaseKind, CaseStatus, Phase


@dataclass(frozen=True)
class _Record:
    """What every record has: the entity's id and who changed it when; ``of(entity)`` copies an
    entity's columns into the record inside the session that loaded it."""

    id: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, entity: Any) -> Self:
        return cls(**cls.columns_of(entity))

    @classmethod
    def columns_of(cls, entity: Any) -> dict[str, Any]:
        """The entity's values of this record's columns (for records that add more)."""
        return {f.name: getattr(entity, f.name) for f in dataclasses.fields(cls)}


@dataclass(frozen=True)
class ClientRecord(_Record):
    """A client as screens see it (table ``clients``)."""

    kind: str
    anonymous: bool
    first_name: str
    last_name: str
    organisation_name: str
    gender: str
    birth_date: date | None
    nationality: str | None
    languages: str
    interpreter_language: str
    municipality: str
    address: str
    phone: str
    email: str
    arrival_date: date | None
    household_id: str | None
    household_role: str
    notes: str

    @property
    def display_name(self) -> str:
        return display_name_of(self.kind, self.anonymous, self.organisation_name,
                               self.first_name, self.last_name)



@dataclass(frozen=True)
class HouseholdRecord(_Record):
    """A household as screens see it (table ``households``)."""

    label: str
    municipality: str
    address: str



@dataclass(frozen=True)
class RelationRecord(_Record):
    """A relation as screens see it (table ``relations``)."""

    client_id: str
    other_id: str
    kind: str



@dataclass(frozen=True)
class ConsentRecord(_Record):
    """A consent as screens see it (table ``consents``)."""

    client_id: str
    kind: str
    recipient_institution_id: str | None
    recipient_type: str
    recipient_text: str
    information_kinds: list[str]
    purpose: str
    special_categories: bool
    mutual: bool
    given_on: date
    form: str
    language: str
    interpreter: bool
    valid_until: date | None
    revoked_on: date | None
    revocation_note: str

    def is_active(self, on: date) -> bool:
        return consent_active(self.given_on, self.valid_until, self.revoked_on, on)



@dataclass(frozen=True)
class ResidenceEntry(_Record):
    """A residencerecord as screens see it (table ``residence_records``)."""

    client_id: str
    status: str
    granted_on: date | None
    valid_until: date | None
    note: str



@dataclass(frozen=True)
class ChecklistEntry(_Record):
    """A checklistitem as screens see it (table ``checklist_items``)."""

    client_id: str
    item: str
    fulfilled: bool
    fulfilled_on: date | None
    note: str



@dataclass(frozen=True)
class AttachmentRecord(_Record):
    """A attachment as screens see it (table ``attachments``)."""

    client_id: str
    case_id: str | None
    filename: str
    media_type: str
    size: int
    sha256: str
    description: str



@dataclass(frozen=True)
class CaseRecord(_Record):
    """A case as screens see it (table ``cases``)."""

    client_id: str
    household_id: str | None
    kind: str
    phase: str | None
    status: str
    opened_on: date
    closed_on: date | None
    closing_reason: str
    closing_note: str
    access_route: str
    concern: str
    cm_indicated: bool | None
    art13_informed_on: date | None
    team: str
    municipality: str
    case_manager: str

    @property
    def case_kind(self) -> CaseKind:
        return CaseKind(self.kind)

    @property
    def case_phase(self) -> Phase | None:
        return Phase(self.phase) if self.phase else None

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN



@dataclass(frozen=True)
class ContactRecord(_Record):
    """A contact as screens see it (table ``contacts``)."""

    case_id: str
    client_id: str
    contact_on: date
    duration_minutes: int
    mode: str
    place: str
    interpreter: bool
    interpreter_language: str
    client_present: bool
    topics: list[str]
    note: str
    supersedes_id: str | None
    superseded: bool



@dataclass(frozen=True)
class DeadlineRecord(_Record):
    """A deadline as screens see it (table ``deadlines``)."""

    client_id: str
    case_id: str | None
    kind: str
    due_on: date
    title: str
    note: str
    done_on: date | None
    source: str



@dataclass(frozen=True)
class InstitutionRecord(_Record):
    """A institution as screens see it (table ``institutions``)."""

    name: str
    institution_type: str
    legal_domain: str
    municipality: str
    address: str
    phone: str
    email: str
    contact_person: str
    notes: str



@dataclass(frozen=True)
class AppointmentRecord(_Record):
    """An appointment as screens see it (table ``appointments``)."""

    client_id: str
    case_id: str | None
    kind: str
    day: date
    start_minute: int
    duration_minutes: int
    title: str
    place: str
    note: str
    cancelled: bool

