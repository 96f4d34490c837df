"""Wrapped team keys (envelopes): the first key of a team, confirmation of a device, rotation.

The server never sees a team key. It stores envelopes a device sealed for another device's
X25519 key and signed with its own Ed25519 key, checks the signature against the granter's
registered key, and decides from the team's state which grants are legitimate:

(a) first key: the team has none (epoch 0); a coordinator's device grants epoch 1 to itself and
    becomes active (a case manager's device waits, so the order of enrolment cannot brick a team);
(b) confirm: an active coordinator grants an existing epoch to a pending or active device (any
    active device may grant to a coordinator's device: recovery after the coordinator was lost);
    a grant of the current epoch makes a pending device active;
(c) rotation: after a revocation, an active device grants epoch current+1 to every active
    device of the team (itself included) in one request; the team then moves to that epoch.

A request is all or nothing (one transaction, under the team lock). Replaying an envelope that
is already stored unchanged is harmless; a different one for the same recipient and epoch is 409.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from kimdesk.server import audit
from kimdesk.server.db import Database, utcnow
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import ApiError
from kimdesk.server.tables import devices, envelopes, teams
from kimdesk.sync import protocol

FIELDS = ("recipient_id", "epoch", "granter_id", "ephemeral_public", "nonce", "ciphertext",
          "signature")


def _forbidden(detail: str) -> ApiError:
    return ApiError(403, detail)


def store(db: Database, caller: Caller, items: list[dict[str, Any]]) -> int:
    """Check and store envelopes granted by ``caller``; returns how many the request held."""
    for item in items:
        if item["granter_id"] != caller.id:
            raise _forbidden("Ein Gerät kann Schlüssel nur in eigenem Namen weitergeben.")
        if not protocol.verify_envelope_signature(caller.sign_public, item, caller.team):
            raise _forbidden("Die Signatur eines Schlüsselumschlags ist ungültig.")
    keys = [(i["recipient_id"], i["epoch"]) for i in items]
    if len(set(keys)) != len(keys):
        raise ApiError(422, "Ein Empfänger erscheint mit derselben Schlüsselversion doppelt.")
    with db.write() as conn:
        team = db.lock_team(conn, caller.team)
        assert team is not None  # a device's team is never deleted
        me = conn.execute(select(devices.c.state, devices.c.coordinator)
                          .where(devices.c.id == caller.id)).one()
        members = {r.id: r for r in conn.execute(
            select(devices.c.id, devices.c.state, devices.c.coordinator)
            .where(devices.c.team == caller.team))}
        for recipient, _epoch in keys:
            member = members.get(recipient)
            if member is None or member.state == "revoked":
                raise _forbidden("Schlüssel gehen nur an nicht gesperrte Geräte des eigenen "
                                 "Teams.")
        new = _new_items(conn, items)
        if not new:
            return len(items)  # a replay of what is already stored
        if team.epoch == 0:
            _first_key(conn, caller, new)
        elif {i["epoch"] for i in new} == {team.epoch + 1}:
            _rotation(conn, caller, me.state, team, members, new)
        elif max(i["epoch"] for i in new) > team.epoch:
            raise ApiError(409, "Diese Schlüsselversion passt nicht zum Stand des Teams.",
                           epoch=team.epoch)
        else:
            _confirm(conn, caller, me, team, members, new)
    return len(items)


def _new_items(conn: Connection, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The envelopes not stored yet; 409 if one differs from a stored one."""
    new = []
    for item in items:
        stored = conn.execute(select(envelopes).where(
            envelopes.c.recipient_id == item["recipient_id"],
            envelopes.c.epoch == item["epoch"])).first()
        if stored is None:
            new.append(item)
        elif any(getattr(stored, f) != item[f] for f in FIELDS):
            raise ApiError(409, "Für dieses Gerät liegt diese Schlüsselversion schon anders "
                                "vor.")
    return new


def _insert(conn: Connection, team: str, items: list[dict[str, Any]]) -> None:
    now = utcnow()
    conn.execute(insert(envelopes), [
        {**{f: i[f] for f in FIELDS}, "team": team, "created_at": now} for i in items])


def _first_key(conn: Connection, caller: Caller, new: list[dict[str, Any]]) -> None:
    if len(new) != 1 or new[0]["recipient_id"] != caller.id or new[0]["epoch"] != 1:
        raise _forbidden("Der erste Team-Schlüssel (Version 1) wird nur für das eigene Gerät "
                         "angelegt.")
    if not caller.coordinator:
        # A case manager's device waits for the coordination: a key it made could never be
        # handed on (only coordinators confirm devices), which bricked a team (issue 16).
        raise ApiError(409, "Den ersten Team-Schlüssel legt die Koordination an; dieses Gerät "
                            "wartet auf ihre Bestätigung.", epoch=0)
    _insert(conn, caller.team, new)
    # A key made after a revocation is already new: nothing to rotate.
    conn.execute(update(teams).where(teams.c.code == caller.team)
                 .values(epoch=1, rotation_needed=False))
    conn.execute(update(devices).where(devices.c.id == caller.id).values(state="active"))
    audit.record(conn, "team_key_created", audit.device_actor(caller.id), team=caller.team,
                 device_id=caller.id, epoch=1)


def _rotation(conn: Connection, caller: Caller, state: str, team: Any, members: dict[str, Any],
              new: list[dict[str, Any]]) -> None:
    if not team.rotation_needed:
        raise ApiError(409, "Der Team-Schlüssel muss gerade nicht erneuert werden.",
                       epoch=team.epoch)
    if state != "active":
        raise _forbidden("Nur ein bestätigtes Gerät kann den Team-Schlüssel erneuern.")
    recipients = {i["recipient_id"] for i in new}
    active = {device_id for device_id, m in members.items() if m.state == "active"}
    if recipients - active:
        raise _forbidden("Ein neuer Team-Schlüssel geht nur an bestätigte Geräte; neue Geräte "
                         "bestätigt danach die Koordination.")
    if recipients != active:
        raise ApiError(409, "Der neue Team-Schlüssel muss für alle aktiven Geräte des Teams "
                            "zugleich hinterlegt werden.", epoch=team.epoch)
    epoch = team.epoch + 1
    _insert(conn, caller.team, new)
    conn.execute(update(teams).where(teams.c.code == caller.team)
                 .values(epoch=epoch, rotation_needed=False))
    audit.record(conn, "key_rotated", audit.device_actor(caller.id), team=caller.team,
                 device_id=caller.id, epoch=epoch, devices=len(recipients))


def _confirm(conn: Connection, caller: Caller, me: Any, team: Any, members: dict[str, Any],
             new: list[dict[str, Any]]) -> None:
    if me.state != "active":
        if all(i["recipient_id"] == caller.id for i in new):
            raise ApiError(409, "Das Team hat bereits einen Schlüssel; dieses Gerät muss von "
                                "der Koordination bestätigt werden.", epoch=team.epoch)
        raise _forbidden("Nur ein bestätigtes Gerät der Koordination kann Geräte freigeben.")
    coordinator_recipients = {i["recipient_id"] for i in new} <= {
        device_id for device_id, m in members.items() if m.coordinator}
    if not me.coordinator and not coordinator_recipients:
        # Any confirmed device hands the keys to a coordinator device (the devices check the
        # county's certificate first): so a team whose only coordinator laptop was lost can
        # take in a new one.
        raise _forbidden("Geräte freigeben kann nur die Koordination.")
    if any(i["epoch"] < 1 for i in new):
        raise ApiError(422, "Schlüsselversionen beginnen bei 1.")
    _insert(conn, caller.team, new)
    activated = sorted({i["recipient_id"] for i in new if i["epoch"] == team.epoch
                        and members[i["recipient_id"]].state == "pending"})
    if activated:
        conn.execute(update(devices).where(devices.c.id.in_(activated))
                     .values(state="active"))
    for recipient in sorted({i["recipient_id"] for i in new}):
        epochs = sorted(i["epoch"] for i in new if i["recipient_id"] == recipient)
        audit.record(conn, "key_granted", audit.device_actor(caller.id), team=caller.team,
                     device_id=recipient, epochs=epochs, activated=recipient in activated)


def for_recipient(db: Database, caller: Caller) -> list[dict[str, Any]]:
    """Every envelope addressed to ``caller``, oldest epoch first."""
    with db.read() as conn:
        rows = conn.execute(select(envelopes).where(envelopes.c.recipient_id == caller.id)
                            .order_by(envelopes.c.epoch)).all()
    return [{f: getattr(r, f) for f in FIELDS} for r in rows]
