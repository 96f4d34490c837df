"""A sync killed at every step (SIGKILL, separate process) and a server that dies mid-batch:
after the next sync nothing is lost and nothing is applied twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kimdesk.casework.context import Context
from kimdesk.models import SyncDevice
from kimdesk.models.changelog import OutboxChange
from kimdesk.server import admin
from kimdesk.server.tables import changes as server_changes
from kimdesk.sync import client
from kimdesk.sync.client import FAULT_ENV, SyncClient
from tests.factories import CM, PASSWORD, make_case, make_contact, make_person
from tests.server.support import ServerProcess
from tests.sync.devices import snapshot
from tests.sync.team import ROOT_PUBLIC, certify_coordinator, sqlite_url

REPO = Path(__file__).resolve().parents[2]
PUSH_STEPS = ("push-before-send", "push-after-send", "push-after-ack")
PULL_STEPS = ("pull-after-fetch", "pull-mid-apply", "pull-after-commit")


def _kimdesk_sync(ctx: Context, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    """`kimdesk sync` on the device's vault in a process of its own (the vault is closed
    here meanwhile, as on a laptop where only one program runs)."""
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env.update({"KIMDESK_PASSWORD": PASSWORD, "KIMDESK_SYNC_BATCH": "7", "KIMDESK_DEBUG": "1"})
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, "-m", "kimdesk.cli", "sync", "--data-dir", str(ctx.vault.data_dir)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


def _server_change_count(db_url: str) -> int:
    db = admin.open_database(db_url)
    try:
        with db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(server_changes)).scalar_one()
    finally:
        db.dispose()


def _outbox_size(ctx: Context) -> int:
    with ctx.vault.reading() as session:
        return session.scalar(select(func.count()).select_from(OutboxChange))


def _cursor(ctx: Context) -> int:
    with ctx.vault.reading() as session:
        return session.get(SyncDevice, 1).cursor


def _fill(ctx: Context, people: int) -> None:
    for index in range(people):
        person = make_person(ctx, consent=True, allow_duplicate=True,
                             last_name=f"Kowalczyk-{index}")
        make_contact(ctx, make_case(ctx, person, CM))


@pytest.fixture
def server(tmp_path: Path):
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    db = admin.open_database(url)
    admin.create_team(db, "nord", "Team 1 Nord")
    db.dispose()
    process = ServerProcess(url, log_path=tmp_path / "serve.log").start()
    yield process
    process.stop()


def _enrol(ctx: Context, server: ServerProcess, *, coordinator: bool) -> None:
    db = admin.open_database(server.db_url)
    try:
        code, _ = admin.issue_code(db, "nord", ctx.user, coordinator=coordinator)
        with httpx.Client(base_url=server.url) as http:
            client.enrol(ctx, http, server_url=server.url, code=code, device_name="Laptop",
                         root_public=ROOT_PUBLIC)
        if coordinator:
            certify_coordinator(db, ctx)
    finally:
        db.dispose()


def _sync_in_process(ctx: Context, server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        SyncClient(ctx, http).run()


def _confirm(coordinator: Context, newcomer: Context, server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url) as http:
        fingerprint = client.enrolled_device(newcomer).fingerprint
        SyncClient(coordinator, http).confirm_device(fingerprint)


@pytest.mark.slow
@pytest.mark.parametrize("step", PUSH_STEPS)
def test_a_push_killed_at_any_step_loses_nothing_and_stores_nothing_twice(
        devices, server, step):
    anna, ewa = devices(2)
    _enrol(anna, server, coordinator=True)
    _sync_in_process(anna, server)
    _fill(anna, 6)
    written = _outbox_size(anna)
    assert written > 14  # more than two batches of 7
    data_dir = anna.vault.data_dir
    anna.vault.close()

    killed = _kimdesk_sync(anna, step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    finished = _kimdesk_sync(anna)
    assert finished.returncode == 0, finished.stderr

    anna = _reopen(anna, data_dir)
    assert _outbox_size(anna) == 0
    assert _server_change_count(server.db_url) == written
    _enrol(ewa, server, coordinator=False)
    _confirm(anna, ewa, server)
    _sync_in_process(ewa, server)
    assert snapshot(ewa.vault) == snapshot(anna.vault)
    anna.vault.close()


@pytest.mark.slow
@pytest.mark.parametrize("step", PULL_STEPS)
def test_a_pull_killed_at_any_step_loses_nothing_and_applies_nothing_twice(
        devices, server, step):
    anna, ewa = devices(2)
    _enrol(anna, server, coordinator=True)
    _sync_in_process(anna, server)
    _enrol(ewa, server, coordinator=False)
    _confirm(anna, ewa, server)
    _fill(anna, 6)
    _sync_in_process(anna, server)
    _sync_in_process(ewa, server)  # Ewa's own statistics etc.; now Anna writes more
    _fill(anna, 4)
    _sync_in_process(anna, server)
    data_dir = ewa.vault.data_dir
    ewa.vault.close()

    killed = _kimdesk_sync(ewa, step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    finished = _kimdesk_sync(ewa)
    assert finished.returncode == 0, finished.stderr

    ewa = _reopen(ewa, data_dir)
    assert snapshot(ewa.vault) == snapshot(anna.vault)
    head = _server_change_count(server.db_url)
    assert _cursor(ewa) == head
    ewa.vault.close()


def test_a_server_that_dies_in_the_middle_of_a_batch_loses_nothing(devices, tmp_path):
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    db = admin.open_database(url)
    admin.create_team(db, "nord", "Team 1 Nord")
    db.dispose()
    dying = ServerProcess(url, env={"KIMDESK_SERVER_FAULT": "push-before-commit"},
                          log_path=tmp_path / "serve.log")
    anna, ewa = devices(2)
    healthy = ServerProcess(url, port=dying.port, log_path=tmp_path / "serve.log").start()
    _enrol(anna, healthy, coordinator=True)
    _sync_in_process(anna, healthy)
    _enrol(ewa, healthy, coordinator=False)
    _confirm(anna, ewa, healthy)
    healthy.stop()
    _fill(anna, 5)
    written = _outbox_size(anna)

    dying.start()
    with pytest.raises(client.ServerUnreachable):
        _sync_in_process(anna, dying)
    dying.stop()
    assert _outbox_size(anna) == written  # nothing acknowledged, nothing lost

    healthy.start()
    try:
        _sync_in_process(anna, healthy)
        _sync_in_process(ewa, healthy)
    finally:
        healthy.stop()
    assert _outbox_size(anna) == 0
    assert _server_change_count(url) == written
    assert snapshot(ewa.vault) == snapshot(anna.vault)


def _reopen(ctx: Context, data_dir: Path) -> Context:
    import dataclasses

    from kimdesk.vault import open_vault

    return dataclasses.replace(ctx, vault=open_vault(data_dir, PASSWORD))
