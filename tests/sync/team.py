"""A team on a county server in one test: the real server app (in-process over HTTP via
Starlette's TestClient), real enrolment, real keys, real vaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kimdesk.casework.context import Context
from kimdesk.server import admin
from kimdesk.server.app import create_app
from kimdesk.sync import client, trust
from kimdesk.sync.client import SyncClient, SyncReport


class Team:
    """Team Nord on a fresh server database; ``join`` enrols a device (the first one is the
    coordinator, certified with the county's root key, and creates the team key; later ones are
    confirmed by it). ``root_key`` is the county's offline root signing key of the test."""

    def __init__(self, db_url: str, team: str = "nord", *, existing: bool = False,
                 statistics: bool = True) -> None:
        self.db_url = db_url
        self.team = team
        self.statistics = statistics
        self.db = admin.open_database(db_url)
        if not existing:
            admin.create_team(self.db, team, "Team 1 Nord")
        self.http = TestClient(create_app(db_url), base_url="http://kreis.test")
        self.http.__enter__()
        self.members: list[Context] = []
        self.root_key = trust.new_root_key()
        self.root_public = trust.public_key_of(self.root_key)

    def join(self, ctx: Context, *, coordinator: bool | None = None, confirm: bool = True,
             by: Context | None = None) -> Context:
        first = not self.members
        code, _expires = admin.issue_code(self.db, self.team, ctx.user,
                                          coordinator=first if coordinator is None
                                          else coordinator)
        client.enrol(ctx, self.http, server_url="http://kreis.test", code=code,
                     device_name=f"Laptop {len(self.members) + 1}",
                     root_public=self.root_public)
        if coordinator or (coordinator is None and first):
            self.certify(ctx, "coordinator")
        self.members.append(ctx)
        self.sync(ctx)
        if confirm and not first:
            fingerprint = client.enrolled_device(ctx).fingerprint
            SyncClient(by or self.members[0], self.http).confirm_device(fingerprint)
        return ctx

    def sync(self, ctx: Context) -> SyncReport:
        return SyncClient(ctx, self.http, statistics=self.statistics).run()

    def certify(self, ctx: Context, role: str = "coordinator") -> None:
        """County IT certifies the device of ``ctx`` with the root key and uploads it."""
        device = client.enrolled_device(ctx)
        admin.add_trust_document(self.db, trust.certify(
            team=self.team, fingerprint=device.fingerprint, role=role, issuer=trust.ROOT,
            signer_private=self.root_key))

    def revocation(self, ctx: Context) -> dict[str, Any]:
        return trust.revoke(team=self.team, fingerprint=client.enrolled_device(ctx).fingerprint,
                            issuer=trust.ROOT, signer_private=self.root_key)

    def revoke(self, ctx: Context, *, signed: bool = True) -> None:
        """County IT revokes the device of ``ctx`` (lost or stolen laptop), with a revocation
        signed by the root key unless ``signed`` is False."""
        admin.revoke(self.db, client.enrolled_device(ctx).device_id,
                     self.revocation(ctx) if signed else None)

    def sync_all(self, rounds: int = 2) -> None:
        for _ in range(rounds):
            for ctx in self.members:
                self.sync(ctx)

    def close(self) -> None:
        self.http.__exit__(None, None, None)
        self.db.dispose()


ROOT_KEY = trust.new_root_key()  # the county's root key for tests outside a Team
ROOT_PUBLIC = trust.public_key_of(ROOT_KEY)


def certify_coordinator(db: Any, ctx: Context, team: str = "nord") -> None:
    """County IT certifies the coordinator device of ``ctx`` with ``ROOT_KEY``."""
    admin.add_trust_document(db, trust.certify(
        team=team, fingerprint=client.enrolled_device(ctx).fingerprint, role="coordinator",
        issuer=trust.ROOT, signer_private=ROOT_KEY))


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'kimdesk-server.db'}"
