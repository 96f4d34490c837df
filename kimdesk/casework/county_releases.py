"""When the team's findings and Fallrekonstruktionen were given to the Kreis: read from the
Kreis-Tresor's copies (``kimdesk/casework/county.py``), for "an den Kreis gegeben am …" on the
team's Koordination screen. A repeated release updates the copy, so the day is the last one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from kimdesk.casework.context import Context
from kimdesk.models import CaseReconstruction, Finding


def _local_day(moment: datetime) -> date:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone().date()


def _released(county_ctx: Context, model: Any) -> dict[str, date]:
    with county_ctx.vault.reading() as session:
        rows = session.execute(select(model.released_from, model.updated_at).where(
            model.released_from.is_not(None))).all()
    return {str(source): _local_day(moment) for source, moment in rows if source is not None}


def released_findings(county_ctx: Context) -> dict[str, date]:
    """Team finding id → the (local) day it was last given to the Kreis."""
    return _released(county_ctx, Finding)


def released_reconstructions(county_ctx: Context) -> dict[str, date]:
    """Team Fallrekonstruktion id → the (local) day it was last given to the Kreis."""
    return _released(county_ctx, CaseReconstruction)
