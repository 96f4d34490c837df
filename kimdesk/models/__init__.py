"""SQLAlchemy entities of KIMdesk and the rules that belong to them, one module per area."""

from __future__ import annotations

from kimdesk.models import changelog  # noqa: F401 - registers the change capture
from kimdesk.models.appointments import Appointment, CaseHandover
from kimdesk.models.audit import AuditEntry
from kimdesk.models.base import Base, Entity, new_id, utcnow
from kimdesk.models.blobs import BlobDownload, BlobUpload
from kimdesk.models.cases import (
    Assessment,
    Case,
    CaseKindChange,
    CaseParticipant,
    CaseTopic,
    Contact,
    Goal,
    PhaseChange,
    Step,
)
from kimdesk.models.clients import ChecklistItem, Client, Household, Relation, ResidenceRecord
from kimdesk.models.consent import Consent
from kimdesk.models.coordination import (
    CaseReconstruction,
    CaseReview,
    Finding,
    GenerativeTheme,
    MunicipalAgreement,
    ProjectGroup,
    SteeringDecision,
    SteeringMeeting,
    SteeringMember,
    StructuralActivity,
)
from kimdesk.models.deadlines import Deadline
from kimdesk.models.documents import Attachment
from kimdesk.models.network import Institution, Referral
from kimdesk.models.profile import VaultProfile
from kimdesk.models.retention import DeletionProposal, PurgedCaseCount
from kimdesk.models.syncstate import QuarantinedChange, SyncDevice, TeamKey, TrustDocument
from kimdesk.models.transfer import CaseTransfer

__all__ = [
    "Appointment",
    "Assessment",
    "Attachment",
    "AuditEntry",
    "Base",
    "BlobDownload",
    "BlobUpload",
    "Case",
    "CaseHandover",
    "CaseKindChange",
    "CaseParticipant",
    "CaseReconstruction",
    "CaseReview",
    "CaseTopic",
    "CaseTransfer",
    "ChecklistItem",
    "Client",
    "Consent",
    "Contact",
    "Deadline",
    "DeletionProposal",
    "Entity",
    "Finding",
    "GenerativeTheme",
    "Goal",
    "Household",
    "Institution",
    "MunicipalAgreement",
    "PhaseChange",
    "ProjectGroup",
    "PurgedCaseCount",
    "QuarantinedChange",
    "Referral",
    "Relation",
    "ResidenceRecord",
    "SteeringDecision",
    "SteeringMeeting",
    "SteeringMember",
    "Step",
    "StructuralActivity",
    "SyncDevice",
    "TeamKey",
    "TrustDocument",
    "VaultProfile",
    "new_id",
    "utcnow",
]
