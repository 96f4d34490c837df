"""Anonymised statistics on the server: each team's protected counts per month and Kommune.

What is stored (``team_stat_cells``): per team, month, Kommune, dimension (Fallart, Phase,
Handlungsfeld, Altersgruppe, Geschlecht, Staatsangehörigkeitsgruppe, Aufenthaltsgruppe), value
and measure (``new``: opened in the month, ``closed``: closed in it, ``open_at_end``: open at
its end) the count **as protected by the cell key method** on the device (``kimdesk.stats.
cellkey``): never 1–4, within ±4 of the true count, the same records always giving the same
number. Nothing names a device, a user or a case; the server refuses counts of 1–4.

Every device of a team holds all the team's cases (sync), so any of them computes the whole
team's table; an upload replaces the team's cells of that month (resending is harmless, and
a case belongs to one team, so it is counted once). Only confirmed (active) devices may
upload; revoked ones are refused at authentication.

Reading sums the stored (already protected) counts: sums of values that are 0 or at least 5
are 0 or at least 5 again. New and closed cases add up over months; open cases are those at
the end of the last month a team uploaded within the period. Coordinators see the county,
case managers their own team.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, select

from kimdesk.server.db import Database, iso, utcnow
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import ApiError, not_confirmed
from kimdesk.server.tables import team_stat_cells, team_stat_uploads

DIMENSIONS = ("case_kind", "phase", "topic", "age_band", "gender", "nationality_group",
              "residence_group")
MEASURES = ("new", "closed", "open_at_end")
SMALL = 4  # protected counts are never 1..SMALL
PERIOD = re.compile(r"[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?")
PERIOD_PATTERN = PERIOD.pattern
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:+\-]{0,59}"


def months_of(period: str) -> tuple[str, str]:
    """First and last month of ``2026``, ``2026-Q2`` or ``2026-05``."""
    year = period[:4]
    if len(period) == 4:
        return f"{year}-01", f"{year}-12"
    if period[5] == "Q":
        quarter = int(period[6])
        return f"{year}-{3 * quarter - 2:02d}", f"{year}-{3 * quarter:02d}"
    return period, period


def replace(db: Database, caller: Caller, month: str, cells: list[dict[str, Any]]) -> int:
    """The caller's team's protected counts of ``month`` become exactly ``cells``."""
    if not caller.active:
        raise not_confirmed()
    if not MONTH.fullmatch(month):
        raise ApiError(422, "Statistik wird je Monat gesendet (JJJJ-MM).")
    keys = [(c["municipality"], c["dimension"], c["value"], c["measure"]) for c in cells]
    if len(set(keys)) != len(keys):
        raise ApiError(422, "Eine Zelle (Kommune, Merkmal, Wert, Größe) erscheint doppelt.")
    if any(1 <= c["count"] <= SMALL for c in cells):
        raise ApiError(422, "Die Statistik enthält ungeschützte kleine Zahlen (1 bis 4); "
                            "bitte KIMdesk aktualisieren.")
    rows = [{"team": caller.team, "month": month, **cell} for cell in cells if cell["count"]]
    with db.write() as conn:
        # One team's uploads are applied one after another.
        db.lock_team(conn, caller.team)
        conn.execute(delete(team_stat_cells).where(team_stat_cells.c.team == caller.team,
                                                   team_stat_cells.c.month == month))
        if rows:
            conn.execute(insert(team_stat_cells), rows)
        conn.execute(delete(team_stat_uploads).where(team_stat_uploads.c.team == caller.team,
                                                     team_stat_uploads.c.month == month))
        conn.execute(insert(team_stat_uploads),
                     [{"team": caller.team, "month": month, "uploaded_at": utcnow()}])
    return len(rows)


def read(db: Database, caller: Caller, period: str, *, team: str | None = None,
         municipality: str | None = None, dimension: str | None = None) -> dict[str, Any]:
    """Summed protected cells of ``period``; coordinators see the county, others their team."""
    if not caller.active:
        raise not_confirmed()
    if not caller.coordinator:
        if team is not None and team != caller.team:
            raise ApiError(403, "Die Statistik anderer Teams sieht nur die Koordination.")
        team = caller.team
    first, last = months_of(period)
    conditions = [team_stat_cells.c.month >= first, team_stat_cells.c.month <= last]
    upload_conditions = [team_stat_uploads.c.month >= first, team_stat_uploads.c.month <= last]
    if team is not None:
        conditions.append(team_stat_cells.c.team == team)
        upload_conditions.append(team_stat_uploads.c.team == team)
    if municipality is not None:
        conditions.append(team_stat_cells.c.municipality == municipality)
    if dimension is not None:
        conditions.append(team_stat_cells.c.dimension == dimension)
    with db.read(snapshot=True) as conn:
        uploads = conn.execute(
            select(team_stat_uploads.c.team, team_stat_uploads.c.month,
                   team_stat_uploads.c.uploaded_at).where(*upload_conditions)).all()
        rows = conn.execute(
            select(team_stat_cells.c.team, team_stat_cells.c.month,
                   team_stat_cells.c.municipality, team_stat_cells.c.dimension,
                   team_stat_cells.c.value, team_stat_cells.c.measure,
                   team_stat_cells.c.count).where(*conditions)).all()
    latest_month: dict[str, str] = {}
    last_upload: dict[str, Any] = {}
    for team_code, month, uploaded_at in uploads:
        latest_month[team_code] = max(month, latest_month.get(team_code, month))
        if team_code not in last_upload or uploaded_at > last_upload[team_code]:
            last_upload[team_code] = uploaded_at
    sums: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for team_code, month, kommune, dim, value, measure, count in rows:
        if measure == "open_at_end" and month != latest_month.get(team_code):
            continue  # open cases: at the end of the team's last uploaded month
        sums[(team_code, kommune, dim, value, measure)] += int(count)
    cells = [{"team": t, "municipality": m, "dimension": d, "value": v, "measure": s,
              "count": n} for (t, m, d, v, s), n in sorted(sums.items()) if n]
    return {"period": period, "first_month": first, "last_month": last, "cells": cells,
            "uploads": [{"team": t, "last_upload": iso(last_upload[t]),
                         "as_of_month": latest_month[t]} for t in sorted(last_upload)]}
