"""Heute's data in one read: the user's own Fristen and Termine, her Fallzahl and the Akten she
opened last. "Own" follows :mod:`kimdesk.casework.caseload`, so the list and "Eigene Fallzahl"
always count the same cases (a handover moves both)."""

from __future__ import annotations

from dataclasses import dataclass

from kimdesk.casework import appointments, caseload, deadlines, views
from kimdesk.casework.context import Context
from kimdesk.casework.profile import load_profile

HORIZON_DAYS = 14
MAX_RECENT = 8


@dataclass(frozen=True)
class TodayData:
    due: list[deadlines.DueItem]  # own Fristen and Wiedervorlagen, overdue first
    appointments: list[appointments.AppointmentRow]  # own Termine from today on, by time
    caseload: caseload.Caseload  # own open cases against the Fallzahlschlüssel
    recent: list[views.RecentFile]
    user_name: str


def today_data(ctx: Context, horizon_days: int = HORIZON_DAYS) -> TodayData:
    profile = load_profile(ctx.vault)
    return TodayData(
        due=deadlines.due_items(ctx, horizon_days, own=True),
        appointments=appointments.upcoming(ctx, horizon_days),
        caseload=caseload.caseload(ctx, fte=profile.fte, case_manager=ctx.user),
        recent=views.recent_files(ctx, MAX_RECENT),
        user_name=profile.user_name,
    )
