"""Attacks by a team member on authorship (issue 16, step 3): a member with a valid token and
the team key writes a change in a colleague's name (``origin``/``author`` forged inside the
encrypted payload), or with a clock far in the future that would win every later edit.

Both attacks succeeded before changes were signed: the receiver applied the forged change and
attributed it to the colleague, and the server stored the future clock."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from kimdesk.casework.context import Context
from kimdesk.models import Client, TeamKey, VaultProfile
from kimdesk.models.changelog import RecordState, format_hlc
from kimdesk.sync import client, crypto
from tests.factories import make_person
from tests.sync.team import Team

_UNSIGNED = "changes were not signed: the receiver took origin/author from the payload"


def _origin(ctx: Context) -> str:
    with ctx.vault.reading() as session:
        profile = session.query(VaultProfile).one()
        return str(profile.device_id)


def _forged_change(team: Team, mallory: Context, *, record_id: str, fields: dict[str, Any],
                   origin: str, author: str, hlc: str | None = None) -> dict[str, Any]:
    """A well-encrypted change of ``mallory`` (a member holding the team key) that claims to
    come from ``origin``/``author``."""
    with mallory.vault.reading() as session:
        epoch = max(k.epoch for k in session.query(TeamKey))
        key = session.get(TeamKey, epoch).key
    hlc = hlc or format_hlc(time.time_ns() // 1_000_000, 0)
    payload = {"origin": origin, "author": author, "cl": 1, "fields": fields,
               "base": {name: None for name in fields}}
    nonce, ciphertext = crypto.encrypt_change(key, team=team.team, record_id=record_id,
                                              kind="clients", hlc=hlc, epoch=epoch,
                                              payload=payload)
    return {"change_id": uuid.uuid4().hex, "record_id": record_id, "kind": "clients",
            "hlc": hlc, "epoch": epoch, "nonce": nonce, "ciphertext": ciphertext}


def _push_as(team: Team, ctx: Context, change: dict[str, Any]) -> Any:
    device = client.enrolled_device(ctx)
    return team.http.post("/v1/push",
                          json={"batch_id": uuid.uuid4().hex, "changes": [change]},
                          headers={"Authorization": f"Bearer {device.token}"})


@pytest.mark.xfail(strict=True, reason=_UNSIGNED)
def test_a_member_cannot_write_in_a_colleagues_name(devices, team):
    anna, ewa, mallory = devices(3)
    for ctx in (anna, ewa, mallory):
        team.join(ctx)
    person = make_person(ewa, consent=True, last_name="Ebrahimi")
    team.sync_all()
    ewa_origin = _origin(ewa)

    forged = _forged_change(team, mallory, record_id=person.id,
                            fields={"last_name": "Gefälscht"}, origin=ewa_origin,
                            author=ewa.user)
    assert _push_as(team, mallory, forged).status_code == 200
    report = team.sync(anna)

    with anna.vault.reading() as session:
        assert session.get(Client, person.id).last_name == "Ebrahimi"  # never applied
        clocks = session.get(RecordState, person.id).clocks
    assert clocks["last_name"][0] != forged["hlc"]
    assert report.quarantined == 1


@pytest.mark.xfail(strict=True, reason=_UNSIGNED)
def test_a_member_cannot_push_a_clock_far_in_the_future(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    team.sync_all()
    ahead = format_hlc(time.time_ns() // 1_000_000 + 3600 * 1000, 0)
    future = _forged_change(team, ewa, record_id=uuid.uuid4().hex,
                            fields={"last_name": "Zukunft"}, origin=_origin(ewa),
                            author=ewa.user, hlc=ahead)

    response = _push_as(team, ewa, future)

    assert response.status_code == 422
    assert response.json()["error"] == "clock_ahead"
