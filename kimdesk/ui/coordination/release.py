"""The Koordination screens' side of "An den Kreis weitergeben": the session's two contexts
(team vault and Kreis-Tresor) handed to ``kimdesk/casework/county.py``, and how a release is
shown ("an den Kreis gegeben am …")."""

from __future__ import annotations

from datetime import date

from kimdesk.casework import county as county_vaults
from kimdesk.casework.context import Context
from kimdesk.ui.fields import format_date
from kimdesk.ui.state import AppState
from kimdesk.vault import VaultError


def _contexts(state: AppState) -> tuple[Context, Context]:
    county_ctx = state.county_ctx
    if county_ctx is None:
        raise VaultError("Der Kreis-Tresor ist nicht geöffnet.")
    return state.ctx, county_ctx


def release_finding(state: AppState, finding_id: str) -> str:
    """Copy the team finding into the Kreis-Tresor; a refusal raises a KimdeskError whose
    German message names the field to rewrite."""
    team_ctx, county_ctx = _contexts(state)
    return county_vaults.release_finding(team_ctx, county_ctx, finding_id)


def release_reconstruction(state: AppState, reconstruction_id: str) -> str:
    """Copy the team Fallrekonstruktion (with its generative themes) into the Kreis-Tresor."""
    team_ctx, county_ctx = _contexts(state)
    return county_vaults.release_reconstruction(team_ctx, county_ctx, reconstruction_id)


def released_findings(state: AppState) -> dict[str, date]:
    """Team finding id → the day it was last given to the Kreis."""
    _team_ctx, county_ctx = _contexts(state)
    return county_vaults.released_findings(county_ctx)


def released_reconstructions(state: AppState) -> dict[str, date]:
    """Team Fallrekonstruktion id → the day it was last given to the Kreis."""
    _team_ctx, county_ctx = _contexts(state)
    return county_vaults.released_reconstructions(county_ctx)


def released_text(day: date | None) -> str:
    return f"an den Kreis gegeben am {format_date(day)}" if day is not None else ""
