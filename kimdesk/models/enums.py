"""Enumerations the rules depend on (case kinds, CM phases, statuses), with German labels.

Vocabularies the county may change (topics, statuses, institution types ...) live in
``resources/reference`` instead; these here are part of the method itself. Their labels equal
the reference vocabularies ``case_kinds`` and ``phases`` (a test keeps them in step).
"""

from __future__ import annotations

from enum import StrEnum


class CaseKind(StrEnum):
    SHORT_INTERVENTION = "short_intervention"
    PROCESS_SUPPORT = "process_support"
    CASE_MANAGEMENT = "case_management"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def intensity(self) -> int:
        """Conversions only go to a more intensive kind."""
        return list(CaseKind).index(self)


_KIND_LABELS = {
    CaseKind.SHORT_INTERVENTION: "Kurzintervention",
    CaseKind.PROCESS_SUPPORT: "Prozesshafte Begleitung",
    CaseKind.CASE_MANAGEMENT: "Rechtskreisübergreifendes Case Management",
}


class Phase(StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"
    PLANNING = "planning"
    LINKING = "linking"
    MONITORING = "monitoring"
    EVALUATION = "evaluation"

    @property
    def label(self) -> str:
        return _PHASE_LABELS[self]

    @property
    def index(self) -> int:  # type: ignore[override]  # str.index is never wanted on a Phase
        return list(Phase).index(self)


_PHASE_LABELS = {
    Phase.INTAKE: "Intake (Klärungsphase)",
    Phase.ASSESSMENT: "Assessment (Einschätzung, Erhebung)",
    Phase.PLANNING: "Planning (Planung)",
    Phase.LINKING: "Linking (Durchführung, Verknüpfung)",
    Phase.MONITORING: "Monitoring (Prozessbeobachtung)",
    Phase.EVALUATION: "Evaluation (Auswertung)",
}


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": "laufend", "closed": "abgeschlossen"}[self.value]


class ClientKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"  # e.g. an employer advised by the Welcome-Center


class ConsentKind(StrEnum):
    DATA_PROCESSING = "data_processing"  # Einwilligung in die Datenverarbeitung
    RELEASE = "confidentiality_waiver"  # Schweigepflichtentbindung gegenüber einer Stelle

    @property
    def label(self) -> str:
        return {
            "data_processing": "Einwilligung in die Datenverarbeitung",
            "confidentiality_waiver": "Schweigepflichtentbindung",
        }[self.value]


class GoalStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    POSTPONED = "postponed"
    DONE = "done"


class Role(StrEnum):
    CASE_MANAGER = "case_manager"
    COORDINATOR = "coordinator"
