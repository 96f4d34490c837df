"""Counts for `kimdesk info` and the start screen: clients, cases per kind and phase, Fristen."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from kimdesk.casework.context import Context
from kimdesk.models import Case, Client, Deadline
from kimdesk.models.enums import CaseKind, CaseStatus, Phase


@dataclass(frozen=True)
class VaultCounts:
    clients: int
    households: int
    cases_open: int
    cases_closed: int
    cases_by_kind: dict[str, int]  # open cases per kind
    cases_by_phase: dict[str, int]  # open case management cases per phase
    deadlines_open: int
    deadlines_overdue: int
    deadlines_next_14_days: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def counts(ctx: Context) -> VaultCounts:
    today = ctx.today()
    with ctx.vault.reading() as session:
        clients = session.scalar(select(func.count()).select_from(Client)) or 0
        households = session.scalar(
            select(func.count(func.distinct(Client.household_id)))) or 0
        status_rows = dict(session.execute(
            select(Case.status, func.count()).group_by(Case.status)).all())
        kind_rows = dict(session.execute(
            select(Case.kind, func.count()).where(Case.status == CaseStatus.OPEN)
            .group_by(Case.kind)).all())
        phase_rows = dict(session.execute(
            select(Case.phase, func.count()).where(
                Case.status == CaseStatus.OPEN, Case.kind == CaseKind.CASE_MANAGEMENT)
            .group_by(Case.phase)).all())
        open_deadlines = select(func.count()).select_from(Deadline).where(
            Deadline.done_on.is_(None))
        deadlines_open = session.scalar(open_deadlines) or 0
        overdue = session.scalar(open_deadlines.where(Deadline.due_on < today)) or 0
        soon = session.scalar(open_deadlines.where(
            Deadline.due_on >= today, Deadline.due_on <= today + timedelta(days=14))) or 0
    return VaultCounts(
        clients=clients,
        households=households,
        cases_open=status_rows.get(CaseStatus.OPEN.value, 0),
        cases_closed=status_rows.get(CaseStatus.CLOSED.value, 0),
        cases_by_kind={k.value: kind_rows.get(k.value, 0) for k in CaseKind},
        cases_by_phase={p.value: phase_rows.get(p.value, 0) for p in Phase},
        deadlines_open=deadlines_open,
        deadlines_overdue=overdue,
        deadlines_next_14_days=soon,
    )
