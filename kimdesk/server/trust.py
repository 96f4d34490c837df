"""Certificates and revocations on the server: stored and relayed, never believed.

The devices verify every document against the county root key pinned in their vault
(``kimdesk.sync.trust``). The server checks only the shape, the team and, for a document a device
uploads, that the device signed it itself as an active coordinator: a hygiene check that keeps
garbage out of the store, not a decision anyone relies on.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, select

from kimdesk.server import audit
from kimdesk.server.db import Database, utcnow
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import ApiError
from kimdesk.server.tables import devices, trust_documents
from kimdesk.sync import protocol
from kimdesk.sync import trust as chain


def checked(document: Any, team: str | None = None) -> dict[str, Any]:
    """The document if its shape is right (and it is of ``team``); 422 else."""
    try:
        shaped = chain.check_shape(document)
    except chain.TrustError as exc:
        raise ApiError(422, exc.message) from None
    if team is not None and shaped["body"]["team"] != team:
        raise ApiError(422, "Das Vertrauensdokument gehört zu einem anderen Team.")
    return shaped


def insert(conn: Connection, document: dict[str, Any]) -> bool:
    """Store ``document`` unless it is stored already; True if it is new."""
    text = protocol.canonical_json(document).decode("utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if conn.execute(select(trust_documents.c.id).where(
            trust_documents.c.digest == digest)).first() is not None:
        return False
    body = document["body"]
    conn.execute(trust_documents.insert().values(
        team=body["team"], kind=body["kind"], fingerprint=body["fingerprint"],
        issuer=body["issuer"], document=text, digest=digest, created_at=utcnow()))
    return True


def upload(db: Database, caller: Caller, documents: list[dict[str, Any]]) -> int:
    """Documents a coordinator device signed (certificates of its team's devices)."""
    checked_documents = [checked(d, caller.team) for d in documents]
    with db.write() as conn:
        me = conn.execute(select(devices.c.state, devices.c.coordinator, devices.c.fingerprint)
                          .where(devices.c.id == caller.id)).one()
        if me.state != "active" or not me.coordinator:
            raise ApiError(403, "Zertifikate hinterlegen kann nur ein bestätigtes Gerät der "
                                "Koordination.")
        for document in checked_documents:
            if document["body"]["issuer"] != me.fingerprint or not chain.signature_valid(
                    document, caller.sign_public):
                raise ApiError(403, "Ein Gerät kann nur selbst signierte Dokumente "
                                    "hinterlegen.")
        stored = 0
        for document in checked_documents:
            if insert(conn, document):
                stored += 1
                body = document["body"]
                audit.record(conn, f"trust_{body['kind']}", audit.device_actor(caller.id),
                             team=caller.team, fingerprint=body["fingerprint"])
    return len(documents)


def of_team(db: Database, team: str, *, kind: str | None = None,
            fingerprint: str | None = None) -> list[dict[str, Any]]:
    query = select(trust_documents.c.document).where(trust_documents.c.team == team)
    if kind is not None:
        query = query.where(trust_documents.c.kind == kind)
    if fingerprint is not None:
        query = query.where(trust_documents.c.fingerprint == fingerprint)
    with db.read() as conn:
        rows = conn.execute(query.order_by(trust_documents.c.id)).scalars().all()
    return [json.loads(text) for text in rows]


def revocation_evidence(db: Database, team: str, fingerprint: str) -> dict[str, Any]:
    """What a revoked device is shown: its signed revocations and the issuers' public keys."""
    revocations = of_team(db, team, kind="revocation", fingerprint=fingerprint)
    issuers = {r["body"]["issuer"] for r in revocations} - {chain.ROOT}
    keys: dict[str, dict[str, str]] = {}
    if issuers:
        with db.read() as conn:
            for row in conn.execute(select(devices).where(devices.c.team == team,
                                                          devices.c.fingerprint.in_(issuers))):
                keys[row.fingerprint] = {
                    "sign_public_key": protocol.b64e(bytes(row.sign_public)),
                    "box_public_key": protocol.b64e(bytes(row.box_public))}
    return {"revocations": revocations, "issuer_keys": keys}
