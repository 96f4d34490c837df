"""Anonymised statistics for the county server, and the county figures read back from it.

The only plaintext a device sends: its **team's** counts of a month per Kommune, dimension and
measure, each protected by the cell key method (``kimdesk.stats.cellkey``) before it leaves the
device. All devices of a team hold the same cases after a sync and derive the same record
keys from the synced ids, so they compute the same protected table; the server keeps the last
upload per team and month (resending is harmless; a case belongs to one team, so it is
counted once). Nothing sent names a device, a user or a case. :func:`fetch_county` reads the
county figures back (coordinators: all teams; case managers: their own team).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError
from kimdesk.models import SyncDevice
from kimdesk.stats import figures
from kimdesk.stats.cellkey import Tally, perturb
from kimdesk.stats.county import CountyData, build_county, combine
from kimdesk.stats.figures import Statistics
from kimdesk.stats.scope import Period, Scope, ScopeKind, add_months, month_of

DIMENSIONS = ("case_kind", "phase", "topic", "age_band", "gender", "nationality_group",
              "residence_group")
MEASURES = ("new", "closed", "open_at_end")


def _values(case: figures.CaseFacts) -> dict[str, Iterable[str]]:
    return {
        "case_kind": [case.kind], "phase": [case.phase_at_end] if case.phase_at_end else [],
        "topic": case.topics, "age_band": [case.age_band], "gender": [case.gender],
        "nationality_group": [case.nationality_group],
        "residence_group": [case.residence_group],
    }


def _team(ctx: Context) -> str:
    """The team the device is enrolled for (the server files the upload under it)."""
    with ctx.vault.reading() as session:
        device = session.get(SyncDevice, 1)
        return device.team if device is not None else ctx.team


def month_cells(ctx: Context, month: str) -> list[dict[str, Any]]:
    """The protected cells of one month for the device's team: per Kommune, dimension and
    value the cases opened in the month (``new``), closed in it (``closed``) and open at its
    end (``open_at_end``). Zeros are left out."""
    data = figures.load(ctx, Period(month, month), Scope(ScopeKind.TEAM, _team(ctx)))
    tallies: dict[tuple[str, str, str, str], Tally] = {}
    for case in data.cases:
        if not case.municipality:
            continue  # a purged case without its Kommune: counted in the county's own reports
        measures = [m for m, flag in (("new", case.new), ("closed", case.closed),
                                      ("open_at_end", case.open_at_end)) if flag]
        for dimension, values in _values(case).items():
            for value in values:
                if not value:
                    continue
                for measure in measures:
                    key = (case.municipality, dimension, value, measure)
                    tallies[key] = tallies.get(key, Tally(0)) + Tally(1, case.record)
    cells = []
    for (municipality, dimension, value, measure), tally in sorted(tallies.items()):
        count = perturb(tally)
        if count:
            cells.append({"municipality": municipality, "dimension": dimension,
                          "value": value, "measure": measure, "count": count})
    return cells


def months_to_report(today: date, *, back: int = 1) -> list[str]:
    """This month and the ``back`` months before (late entries change a closed month)."""
    current = month_of(today)
    return [add_months(current, -offset) for offset in range(back, -1, -1)]


def fetch_county(ctx: Context, http: Any, period: Period, scope: Scope) -> CountyData:
    """The server's protected cells of ``period`` for ``scope`` (one request per month).

    Coordinators may read the county and every team; case managers only their own team
    (``scope`` must then be that team: the server would refuse others anyway)."""
    from kimdesk.sync.client import SyncClient, enrolled_device  # the client imports us

    device = enrolled_device(ctx)
    if not device.coordinator and not (scope.kind == ScopeKind.TEAM
                                       and scope.code == device.team):
        raise KimdeskError("Die Kreiszahlen sieht nur die Koordination; Case-Manager sehen "
                           f"die Zahlen ihres Teams (--team {device.team}).")
    params: dict[str, str] = {}
    if scope.kind == ScopeKind.TEAM:
        params["team"] = scope.code
    elif scope.kind == ScopeKind.MUNICIPALITY:
        params["municipality"] = scope.code
    sync = SyncClient(ctx, http, statistics=False)
    answers = []
    month = period.start
    while month <= period.end:
        answers.append(sync._get("/stats", params={"period": month, **params}))
        month = add_months(month, 1)
    return combine(period, answers)


def own_team_scope(ctx: Context) -> Scope:
    """The scope a case manager's county view is limited to: the device's team."""
    from kimdesk.sync.client import enrolled_device

    return Scope(ScopeKind.TEAM, enrolled_device(ctx).team)


def county_view(ctx: Context, period: Period, scope: Scope) -> Statistics:
    """The county figures of ``period`` and ``scope``, read from the server this device is
    enrolled with (for the CLI's ``--quelle kreis`` and the Statistik screen)."""
    from kimdesk.sync import transport
    from kimdesk.sync.client import enrolled_device

    device = enrolled_device(ctx)
    _url, ca = transport.server_settings(device.server_url)
    with transport.connect(device.server_url, ca) as http:
        data = fetch_county(ctx, http, period, scope)
    return build_county(data, ctx.reference, scope, ctx.today())
