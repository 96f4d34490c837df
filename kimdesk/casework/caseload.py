"""Fallzahlschlüssel: weighted open cases against 50 cases per VZÄ (weights configurable),
and the list of one case manager's open cases."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from kimdesk.casework.context import Context
from kimdesk.models import Case, Client
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


@dataclass(frozen=True)
class OwnCase:
    """One open case of a case manager, as her own lists show it (with the client's name)."""

    id: str
    client_name: str
    kind: str
    phase: str | None
    opened_on: date


def open_cases_of(ctx: Context, case_manager: str) -> list[OwnCase]:
    """The open cases ``case_manager`` is responsible for, by client name (one query)."""
    with ctx.vault.reading() as session:
        rows = session.execute(
            select(Case.id, Client, Case.kind, Case.phase, Case.opened_on)
            .join(Client, Client.id == Case.client_id)
            .where(Case.status == CaseStatus.OPEN, Case.case_manager == case_manager)).all()
        found = [OwnCase(case_id, client.display_name, kind, phase, opened_on)
                 for case_id, client, kind, phase, opened_on in rows]
    return sorted(found, key=lambda c: (c.client_name.casefold(), c.opened_on))
