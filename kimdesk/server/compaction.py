"""Compaction of the change log: a purged record's history leaves the server.

When a device purges a file (retention or Art. 17), it pushes one erasure per record (a
tombstone that always wins). Afterwards it reports those tombstones here (``POST
/v1/erasures``: record id, kind, change id — random ids, no content). For each reported
tombstone that this device itself pushed, the server deletes every other change of the
record from the team's log: the ciphertexts of its earlier versions (readable by any team
device holding that key version) are gone. The tombstone itself stays, so a device that is
still behind learns of the purge by an ordinary pull and deletes its copy; the record's
entry for the team checksum follows the tombstone, so a device that had received a later
concurrent edit of the record finds its checksum differing and rebuilds its merge state from
the log (the client's existing repair path). The deleted changes leave their place (seq, record,
author, no content) in ``compacted_changes`` for the lost-device report.

Only the device that pushed a tombstone may report it: another device cannot make the server
drop the history of a record it did not erase itself. The report is signed with the device's key
(``protocol.erasure_signing_bytes``): with the token alone (a schemathesis run with a device's
token reported the device's own first change of a record, and the server dropped a colleague's
later edit of it: the devices diverged) nothing is dropped.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, select, update

from kimdesk.server.db import Database
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import ApiError, not_confirmed
from kimdesk.server.tables import changes, compacted_changes, record_versions, teams
from kimdesk.sync import protocol

_ID = r"^[0-9a-f]{32}$"
_RECORD_ID = r"^[0-9A-Za-z_\-]{1,200}$"


class Erasure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: str = Field(pattern=_RECORD_ID)
    kind: str = Field(pattern=r"^[a-z_]{1,60}$")
    change_id: str = Field(pattern=_ID)
    signature: str = Field(pattern=r"^[A-Za-z0-9+/]{86}==$",
                           description="Ed25519 über protocol.erasure_signing_bytes (Base64)")


class ErasuresRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    erasures: list[Erasure] = Field(max_length=protocol.MAX_BATCH)


class ErasuresResponse(BaseModel):
    compacted: int  # records whose history was dropped
    dropped: int  # changes deleted from the log


def compact_erased(db: Database, caller: Caller, items: list[dict[str, Any]]
                   ) -> dict[str, int]:
    """Drop every change but the tombstone of each reported, own erasure; counts."""
    if not caller.active:
        raise not_confirmed()
    key = Ed25519PublicKey.from_public_bytes(caller.sign_public)
    for item in items:
        message = protocol.erasure_signing_bytes(
            team=caller.team, device_id=caller.id, record_id=item["record_id"],
            kind=item["kind"], change_id=item["change_id"])
        try:
            signature = protocol.b64d(item["signature"])
        except ValueError:  # base64 of the right length, not canonical
            signature = b""
        if not protocol.change_signature_valid(key, signature, message):
            raise ApiError(403, "Die Signatur einer Löschmeldung ist ungültig; es wird nichts "
                                "gelöscht.")
    compacted = dropped = 0
    with db.write() as conn:
        db.lock_team(conn, caller.team)
        for item in items:
            of_record = (changes.c.team == caller.team,
                         changes.c.record_id == item["record_id"],
                         changes.c.kind == item["kind"])
            tombstone = conn.execute(select(changes.c.hlc).where(
                *of_record, changes.c.change_id == item["change_id"],
                changes.c.device_id == caller.id)).first()
            if tombstone is None:
                continue  # not pushed (yet), or not this device's erasure
            dropping = (*of_record, changes.c.change_id != item["change_id"])
            # Their places stay for the lost-device report (no ciphertext).
            conn.execute(insert(compacted_changes).from_select(
                ["team", "seq", "device_id", "record_id", "kind"],
                select(changes.c.team, changes.c.seq, changes.c.device_id,
                       changes.c.record_id, changes.c.kind).where(*dropping)))
            result = conn.execute(delete(changes).where(*dropping))
            conn.execute(update(record_versions).where(
                record_versions.c.team == caller.team,
                record_versions.c.record_id == item["record_id"],
                record_versions.c.kind == item["kind"]).values(max_hlc=tombstone.hlc))
            compacted += 1
            dropped += result.rowcount or 0
        if compacted:
            # The running checksum is summed again from record_versions when next needed.
            conn.execute(update(teams).where(teams.c.code == caller.team)
                         .values(checksum=None))
    return {"compacted": compacted, "dropped": dropped}
