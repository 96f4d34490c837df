"""Fallzahlschlüssel: weighted open cases against 50 cases per VZÄ (weights configurable)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from kimdesk.casework.context import Context
from kimdesk.models import Case
from kimdesk.models.enums import CaseStatus


@dataclass(frozen=True)
class Caseload:
    open_cases: dict[str, int]  # per case kind
    weighted: float
    capacity: float  # cases the VZÄ can carry by the key
    fte: float

    @property
    def ratio(self) -> float:
        """1.0 means exactly at the Fallzahlschlüssel; above 1.0 is over capacity."""
        return self.weighted / self.capacity if self.capacity else 0.0


def compute(ctx: Context, counts: Counter[str] | dict[str, int], fte: float) -> Caseload:
    rules = ctx.reference.rules
    weighted = sum(rules.caseload_weights.get(kind, 1.0) * n for kind, n in counts.items())
    return Caseload(dict(counts), round(weighted, 2), fte * rules.cases_per_vza, fte)


def caseload(ctx: Context, *, fte: float, case_manager: str | None = None,
             team: str | None = None) -> Caseload:
    """Case load of one case manager (``case_manager``) or a team, against its VZÄ."""
    with ctx.vault.reading() as session:
        query = select(Case.kind, func.count()).where(Case.status == CaseStatus.OPEN)
        if case_manager is not None:
            query = query.where(Case.case_manager == case_manager)
        if team is not None:
            query = query.where(Case.team == team)
        counts = {kind: n for kind, n in session.execute(query.group_by(Case.kind))}
    return compute(ctx, counts, fte)


def team_caseload(ctx: Context, team: str) -> Caseload:
    return caseload(ctx, fte=ctx.reference.team(team).vza, team=team)
