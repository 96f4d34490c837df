"""Fallzahlschlüssel: weighted open cases against 50 cases per VZÄ (weights configurable),
the list of one case manager's open cases, and what counts as hers (for Heute).

Her own: the open cases she is responsible for (``Case.case_manager``; a handover moves a case),
exactly what "Eigene Fallzahl" counts. A Frist or Termin is hers when it belongs to one of those
cases, or, without a case, when its person takes part in one of them; a person without any open
case leaves it with whoever entered it. The team's Vertretung is untouched: every member still
opens and works on every Akte of the team, Heute only stops listing the colleagues' days.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kimdesk.casework.context import Context
from kimdesk.models import Case, CaseParticipant, Client
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


@dataclass(frozen=True)
class OwnScope:
    """Which open cases and people are a case manager's own, and which people have any."""

    user: str
    case_ids: frozenset[str]
    client_ids: frozenset[str]  # the clients and participants of her open cases
    clients_in_open_cases: frozenset[str]  # of anyone's open cases

    def owns(self, case_id: str | None, client_id: str, created_by: str) -> bool:
        """Whether a Frist or Termin of this case (or person, without case) is hers."""
        if case_id is not None:
            return case_id in self.case_ids
        if client_id in self.client_ids:
            return True
        return client_id not in self.clients_in_open_cases and created_by == self.user


def own_scope(session: Session, user: str) -> OwnScope:
    """The :class:`OwnScope` of ``user`` (three small queries)."""
    people = select(Case.id, Case.client_id, Case.case_manager).where(
        Case.status == CaseStatus.OPEN)
    cases = session.execute(people).all()
    participants = session.execute(
        select(CaseParticipant.case_id, CaseParticipant.client_id)
        .join(Case, Case.id == CaseParticipant.case_id)
        .where(Case.status == CaseStatus.OPEN)).all()
    own_cases = {case_id for case_id, _client, manager in cases if manager == user}
    own_clients = {client for case_id, client, _manager in cases if case_id in own_cases}
    own_clients |= {client for case_id, client in participants if case_id in own_cases}
    everyone = {client for _case, client, _manager in cases} | {c for _, c in participants}
    return OwnScope(user, frozenset(own_cases), frozenset(own_clients), frozenset(everyone))
