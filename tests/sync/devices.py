"""Several devices of one team in a test: vault copies with their own device id and user."""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path

from sqlalchemy import select, text

from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for
from kimdesk.models import VaultProfile
from kimdesk.models.changelog import LOCAL_ONLY, OutboxChange
from kimdesk.reference import Reference
from kimdesk.sync import merge
from kimdesk.vault import Vault, open_vault
from tests.factories import PASSWORD, Clock

USERS = ("Anna Becker", "Mehmet Yılmaz", "Ewa Nowak", "Jonas Hendricks", "Fatima Haddad")


def open_device(template: Path, target: Path, user: str, reference: Reference,
                clock: Clock, *, team: str | None = None) -> Context:
    """A copy of the template vault that acts as its own device (own id, own user; of another
    team than the template's if ``team`` names one)."""
    shutil.copytree(template, target)
    vault = open_vault(target, PASSWORD)
    with vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        profile = session.scalars(select(VaultProfile)).one()
        profile.device_id = uuid.uuid4().hex
        profile.user_name = user
        if team is not None:
            profile.team = team
    ctx = context_for(vault, reference)
    return dataclasses.replace(ctx, clock=clock)


def snapshot(vault: Vault) -> dict[str, list[tuple]]:
    """Every synced table's rows, sorted: what 'identical vault contents' compares."""
    from kimdesk.models.changelog import synced_tables

    result = {}
    with vault.reading() as session:
        for name, table in synced_tables().items():
            rows = session.execute(select(table).order_by(table.c.id)).all()
            result[name] = [tuple(row) for row in rows]
        result["client_search"] = [tuple(r) for r in session.execute(text(
            "SELECT client_id, tokens FROM client_search ORDER BY client_id")).all()]
    return result


def outbox(vault: Vault) -> list[merge.Received]:
    with vault.reading() as session:
        return [merge.Received(kind=c.kind, record_id=c.record_id, hlc=c.hlc,
                               payload=merge.outgoing_payload(vault, c))
                for c in session.scalars(select(OutboxChange).order_by(OutboxChange.seq))]


def deliver(changes: list[merge.Received], vault: Vault) -> merge.ApplyResult:
    return merge.apply_batch(vault, changes)
