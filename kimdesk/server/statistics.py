"""Anonymised statistics on the server: counts per period, Kommune, team and dimension.

A device sends its full counts for a period (the cases of its own user) and they replace what
that user's devices sent before: resending is harmless, and a replacement laptop of the same
person does not count her cases twice. Reading sums over devices and suppresses small cells:
no count of 1–4 ever leaves the server, and within each (team, Kommune, dimension) group a
lone hidden cell takes the smallest other non-zero cell with it, so it cannot be recomputed
from the group's total (which other dimensions of the same cases reveal). The rules are those
of ``kimdesk.stats.suppression``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, insert, select

from kimdesk.server.db import Database
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import ApiError, not_confirmed
from kimdesk.server.tables import devices, stat_cells
from kimdesk.stats.suppression import Relation, suppress

DIMENSIONS = ("case_kind", "phase", "topic", "age_band", "gender", "nationality_group",
              "residence_group", "finding_kind")
PERIOD = re.compile(r"[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?")
PERIOD_PATTERN = PERIOD.pattern
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:+\-]{0,59}"


def protect_group(members: list[tuple[str, int]]) -> list[tuple[str, int | None]]:
    """(value, count or None if suppressed) for the non-zero cells of one group, by value."""
    members = sorted((value, count) for value, count in members if count)
    values = [count for _value, count in members]
    # The group total is known from other dimensions of the same cases: treat it as shown.
    marks = suppress([*values, sum(values)], [Relation(len(values), tuple(range(len(values))))])
    return [(value, None if mark else count)
            for (value, count), mark in zip(members, marks, strict=False)]


def replace(db: Database, caller: Caller, period: str, cells: list[dict[str, Any]]) -> int:
    """The counts of the caller's user for ``period`` become exactly ``cells``."""
    keys = [(c["municipality"], c["dimension"], c["value"]) for c in cells]
    if len(set(keys)) != len(keys):
        raise ApiError(422, "Eine Zelle (Kommune, Merkmal, Wert) erscheint doppelt.")
    with db.write() as conn:
        # One device's resends are applied one after another.
        db.lock_device(conn, caller.id)
        same_user = select(devices.c.id).where(devices.c.team == caller.team,
                                               devices.c.user_name == caller.user_name)
        conn.execute(delete(stat_cells).where(stat_cells.c.device_id.in_(same_user),
                                              stat_cells.c.period == period))
        if cells:
            conn.execute(insert(stat_cells), [
                {"device_id": caller.id, "period": period, "team": caller.team, **cell}
                for cell in cells])
    return len(cells)


def read(db: Database, caller: Caller, period: str, *, team: str | None = None,
         municipality: str | None = None, dimension: str | None = None) -> dict[str, Any]:
    """Summed, suppressed cells; coordinators see the county, others their own team."""
    if not caller.active:
        raise not_confirmed()
    if not caller.coordinator:
        if team is not None and team != caller.team:
            raise ApiError(403, "Die Statistik anderer Teams sieht nur die Koordination.")
        team = caller.team
    conditions = [stat_cells.c.period == period]
    if team is not None:
        conditions.append(stat_cells.c.team == team)
    if municipality is not None:
        conditions.append(stat_cells.c.municipality == municipality)
    if dimension is not None:
        conditions.append(stat_cells.c.dimension == dimension)
    total = func.sum(stat_cells.c.count)
    with db.read() as conn:
        rows = conn.execute(
            select(stat_cells.c.team, stat_cells.c.municipality, stat_cells.c.dimension,
                   stat_cells.c.value, total)
            .where(*conditions)
            .group_by(stat_cells.c.team, stat_cells.c.municipality, stat_cells.c.dimension,
                      stat_cells.c.value)).all()
    groups: dict[tuple[str, str, str], list[tuple[str, int]]] = defaultdict(list)
    for team_code, kommune, dim, value, count in rows:
        if count:
            groups[(team_code, kommune, dim)].append((value, int(count)))
    cells = []
    for (team_code, kommune, dim), members in sorted(groups.items()):
        for value, count in protect_group(members):
            cells.append({"team": team_code, "municipality": kommune, "dimension": dim,
                          "value": value, "count": count, "suppressed": count is None})
    return {"period": period, "cells": cells}
