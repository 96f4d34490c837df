"""Fallübergabe: hand a case to another case manager of the team, with the reason.

A colleague leaves or a client moves Kommune: the responsible case manager changes, the change
is kept in the case's history (a ``CaseHandover`` record, synced with the team) and in the audit
trail, and from then on the case counts in the new case manager's Fallzahl and Heute. The team's
Vertretung is unchanged: every member of the team still sees and works on the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kimdesk.casework.common import check_not_future, load, record, stamp
from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.models import Case, CaseHandover
from kimdesk.models.changelog import DeviceAuthor
from kimdesk.models.enums import CaseStatus

MAX_NAME = 120


@dataclass(frozen=True)
class HandoverRow:
    """One entry of a case's handover history."""

    handed_over_on: date
    from_manager: str
    to_manager: str
    reason: str
    author: str


def hand_over_case(ctx: Context, case_id: str, to_manager: str, reason: str,
                   on: date | None = None) -> CaseHandover:
    """Make ``to_manager`` responsible for the open case; the reason is required."""
    to_manager = " ".join(to_manager.split())
    reason = reason.strip()
    on = on or ctx.today()
    if not to_manager:
        raise ValidationError("Bitte die übernehmende Fallmanagerin oder den übernehmenden "
                              "Fallmanager angeben.", "to_manager")
    if len(to_manager) > MAX_NAME:
        raise ValidationError(f"Der Name ist zu lang (höchstens {MAX_NAME} Zeichen).",
                              "to_manager")
    if not reason:
        raise ValidationError("Bitte den Grund der Übergabe angeben.", "reason")
    check_not_future(ctx, on, "handed_over_on", "Das Datum der Übergabe")
    with ctx.vault.writing() as session:
        case = load(session, Case, case_id, "Der Fall")
        if case.status != CaseStatus.OPEN:
            raise ValidationError("Ein abgeschlossener Fall kann nicht übergeben werden.",
                                  "to_manager")
        if case.case_manager == to_manager:
            raise ValidationError(f"{to_manager} ist bereits für diesen Fall zuständig.",
                                  "to_manager")
        if on < case.opened_on:
            raise ValidationError("Die Übergabe liegt vor dem Fallbeginn.", "handed_over_on")
        handover = CaseHandover(case_id=case.id, from_manager=case.case_manager,
                                to_manager=to_manager, handed_over_on=on, reason=reason)
        stamp(ctx, handover, created=True)
        session.add(handover)
        case.case_manager = to_manager
        stamp(ctx, case)
        session.flush()
        # The audit names the fields, never the reason's text (it may hold client details).
        record(ctx, session, "update", case.client_id, case, fields=["case_manager"],
               handover=handover.id)
        record(ctx, session, "create", case.client_id, handover)
        return handover


def handovers_of(ctx: Context, case_id: str) -> list[HandoverRow]:
    """The case's handovers, oldest first."""
    with ctx.vault.reading() as session:
        return [
            HandoverRow(h.handed_over_on, h.from_manager, h.to_manager, h.reason, h.created_by)
            for h in session.scalars(select(CaseHandover).where(CaseHandover.case_id == case_id)
                                     .order_by(CaseHandover.handed_over_on,
                                               CaseHandover.created_at))
        ]


def known_case_managers(ctx: Context) -> list[str]:
    """Names a case can be handed to: everyone responsible for a case of the own team or known
    as an author of the team's synced changes, and the user herself; sorted."""
    with ctx.vault.reading() as session:
        names = set(session.scalars(select(Case.case_manager).where(Case.team == ctx.team)))
        names |= set(session.scalars(select(DeviceAuthor.user_name)))
    names.add(ctx.user)
    return sorted((n for n in names if n.strip()), key=str.casefold)
