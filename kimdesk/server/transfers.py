"""Cases that move between teams (issue 15): the server relays sealed bundles, never reads them.

A device of the sending team declares a transfer (``PUT /v1/transfers/{id}``) with a header it
signed: receiving team, the HPKE envelopes of the bundle key for each certified device of the
receiving team, the number of chunks and each chunk's SHA-256. It uploads the chunks (AES-GCM
ciphertext; resumable, any order) and seals the transfer once all are here. Until then it may
declare it again (a sender killed before sealing builds a new bundle). A device of the receiving
team lists what is waiting for its team, fetches the chunks, and posts its signed
acknowledgement: the server then deletes the chunks at once. The sender sees the
acknowledgement, erases the moved records in its team, and deletes the transfer.

The devices check everything that matters (the sender's and the receivers' certificates
through the chain of trust, the signatures, the envelopes); the server checks only who may call
what and the shape, and relays the public part of another team's chain of trust
(``GET /v1/teams/{team}/members``: device ids, public keys, signed certificates; no names).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select, update
from starlette.concurrency import run_in_threadpool

from kimdesk.server import trust
from kimdesk.server.auth import Device
from kimdesk.server.db import Database, utcnow
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import ApiError
from kimdesk.server.tables import devices, teams, transfer_chunks, transfers
from kimdesk.sync import protocol

PURPOSE = "kimdesk case transfer v1"
CHUNK_BYTES = protocol.BLOB_CHUNK_BYTES
MAX_CHUNK = CHUNK_BYTES + protocol.BLOB_TAG_BYTES
MAX_CHUNKS = 4 * protocol.MAX_BLOB_CHUNKS  # a file with several documents
MAX_HEADER = 256 * 1024
_ID = r"^[0-9a-f]{32}$"
_TEAM = r"^[a-z0-9][a-z0-9_\-]{0,39}$"
_TransferId = Annotated[str, Path(pattern=_ID)]
_Index = Annotated[int, Path(ge=0, lt=MAX_CHUNKS)]
_OCTETS = "application/octet-stream"


class Declaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    header: str = Field(max_length=MAX_HEADER, description="kanonisches JSON, signiert")
    signature: str = Field(max_length=200)


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ack: str = Field(max_length=4096, description="kanonisches JSON, signiert")
    signature: str = Field(max_length=200)


class TransferState(BaseModel):
    transfer_id: str
    from_team: str
    to_team: str
    chunks: int
    sealed: bool
    have: list[int] = Field(description="Teile, die der Server schon hat")
    acknowledged: bool


class WaitingTransfer(BaseModel):
    transfer_id: str
    from_team: str
    to_team: str
    sender_id: str
    header: str
    signature: str
    chunks: int
    ack: str | None = None
    ack_signature: str | None = None


class TransferList(BaseModel):
    incoming: list[WaitingTransfer]
    outgoing: list[WaitingTransfer]


class Member(BaseModel):
    device_id: str
    state: str
    fingerprint: str
    sign_public_key: str
    box_public_key: str


class Members(BaseModel):
    team: str
    devices: list[Member]
    documents: list[dict[str, Any]]


class Done(BaseModel):
    stored: int


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Anfrage nicht lesbar (kein gültiges JSON)"},
    401: {"description": "Token fehlt oder ist ungültig"},
    403: {"description": "Gerät gesperrt oder nicht beteiligt"},
    404: {"description": "Keine solche Übergabe (oder schon abgeschlossen)"},
    409: {"description": "Gerät noch nicht bestätigt, oder die Übergabe ist in einem anderen "
                         "Zustand"},
    413: {"description": "Teil länger als erlaubt"},
    422: {"description": "Ungültige Angaben"},
}


def _header(text: str, transfer_id: str, caller: Caller) -> dict[str, Any]:
    """The declared header's fields the server relies on (shape only; devices verify)."""
    try:
        header = json.loads(text)
    except ValueError:
        raise ApiError(422, "Der Kopf der Übergabe ist kein JSON.") from None
    if not isinstance(header, dict) or protocol.canonical_json(header).decode("utf-8") != text:
        raise ApiError(422, "Der Kopf der Übergabe ist nicht kanonisch.")
    chunks = header.get("chunks")
    if header.get("purpose") != PURPOSE or header.get("transfer_id") != transfer_id or \
            header.get("from_team") != caller.team or header.get("sender_id") != caller.id or \
            not isinstance(chunks, int) or isinstance(chunks, bool) or \
            not 0 < chunks <= MAX_CHUNKS or not isinstance(header.get("to_team"), str):
        raise ApiError(422, "Der Kopf der Übergabe passt nicht zu Gerät, Team oder Übergabe.")
    if header["to_team"] == caller.team:
        raise ApiError(422, "Eine Übergabe geht an ein anderes Team.")
    return header


def _signature(text: str) -> None:
    try:
        if len(protocol.b64d(text)) != 64:
            raise ValueError
    except ValueError:
        raise ApiError(422, "Die Signatur hat nicht die erwartete Form.") from None


def _row(conn: Any, transfer_id: str) -> Any:
    row = conn.execute(select(transfers).where(transfers.c.id == transfer_id)).first()
    if row is None:
        raise ApiError(404, "Diese Übergabe ist auf dem Server nicht (mehr) vorhanden.")
    return row


def _have(conn: Any, transfer_id: str) -> list[int]:
    return [i for (i,) in conn.execute(select(transfer_chunks.c.idx).where(
        transfer_chunks.c.transfer_id == transfer_id).order_by(transfer_chunks.c.idx))]


def _state(conn: Any, row: Any) -> dict[str, Any]:
    return {"transfer_id": row.id, "from_team": row.from_team, "to_team": row.to_team,
            "chunks": row.chunks, "sealed": bool(row.sealed), "have": _have(conn, row.id),
            "acknowledged": row.ack is not None}


def _involved(row: Any, caller: Caller) -> None:
    if caller.team not in (row.from_team, row.to_team):
        raise ApiError(404, "Diese Übergabe ist auf dem Server nicht (mehr) vorhanden.")


def declare(db: Database, caller: Caller, transfer_id: str, header_text: str,
            signature: str) -> dict[str, Any]:
    """Register (or register again, until sealed) a transfer; says which chunks are here."""
    header = _header(header_text, transfer_id, caller)
    _signature(signature)
    with db.write() as conn:
        if conn.execute(select(teams.c.code).where(teams.c.code == header["to_team"])
                        ).first() is None:
            raise ApiError(422, "Das empfangende Team ist auf dem Server nicht bekannt.")
        row = conn.execute(select(transfers).where(transfers.c.id == transfer_id)).first()
        if row is not None and row.sender_id != caller.id:
            raise ApiError(403, "Diese Übergabe hat ein anderes Gerät angemeldet.")
        if row is not None and (row.header, row.signature) != (header_text, signature):
            if row.sealed:
                raise ApiError(409, "Diese Übergabe ist schon versiegelt.")
            conn.execute(delete(transfer_chunks).where(
                transfer_chunks.c.transfer_id == transfer_id))
            conn.execute(update(transfers).where(transfers.c.id == transfer_id).values(
                header=header_text, signature=signature, chunks=header["chunks"],
                to_team=header["to_team"]))
        elif row is None:
            conn.execute(transfers.insert().values(
                id=transfer_id, from_team=caller.team, to_team=header["to_team"],
                sender_id=caller.id, header=header_text, signature=signature,
                chunks=header["chunks"], sealed=False, created_at=utcnow()))
        return _state(conn, _row(conn, transfer_id))


def put_chunk(db: Database, caller: Caller, transfer_id: str, index: int, data: bytes) -> int:
    with db.write() as conn:
        row = _row(conn, transfer_id)
        if row.sender_id != caller.id:
            raise ApiError(403, "Nur das Gerät, das die Übergabe angemeldet hat, lädt sie hoch.")
        if row.sealed:
            return 0
        if index >= row.chunks:
            raise ApiError(422, f"Die Übergabe hat nur {row.chunks} Teile.")
        if not protocol.BLOB_TAG_BYTES < len(data) <= MAX_CHUNK:
            raise ApiError(413 if len(data) > MAX_CHUNK else 422,
                           "Ein Teil der Übergabe hat nicht die erlaubte Länge.")
        known = conn.execute(select(transfer_chunks.c.idx).where(
            transfer_chunks.c.transfer_id == transfer_id, transfer_chunks.c.idx == index)
            ).first()
        if known is not None:
            return 0
        db.insert_ignore(conn, transfer_chunks, [{"transfer_id": transfer_id, "idx": index,
                                                  "data": data}])
    return 1


def seal(db: Database, caller: Caller, transfer_id: str) -> dict[str, Any]:
    with db.write() as conn:
        row = _row(conn, transfer_id)
        if row.sender_id != caller.id:
            raise ApiError(403, "Nur das Gerät, das die Übergabe angemeldet hat, versiegelt sie.")
        if not row.sealed:
            count = conn.execute(select(func.count()).select_from(transfer_chunks).where(
                transfer_chunks.c.transfer_id == transfer_id)).scalar_one()
            if count != row.chunks:
                raise ApiError(409, "Es fehlen noch Teile der Übergabe.")
            conn.execute(update(transfers).where(transfers.c.id == transfer_id)
                         .values(sealed=True))
        return _state(conn, _row(conn, transfer_id))


def state(db: Database, caller: Caller, transfer_id: str) -> dict[str, Any]:
    with db.read() as conn:
        row = _row(conn, transfer_id)
        _involved(row, caller)
        return _state(conn, row)


def _listed(row: Any) -> dict[str, Any]:
    return {"transfer_id": row.id, "from_team": row.from_team, "to_team": row.to_team,
            "sender_id": row.sender_id, "header": row.header, "signature": row.signature,
            "chunks": row.chunks, "ack": row.ack, "ack_signature": row.ack_signature}


def listing(db: Database, caller: Caller) -> dict[str, Any]:
    """Sealed transfers waiting for the caller's team, and the caller's own transfers."""
    with db.read() as conn:
        incoming = conn.execute(select(transfers).where(
            transfers.c.to_team == caller.team, transfers.c.sealed.is_(True),
            transfers.c.ack.is_(None)).order_by(transfers.c.created_at)).all()
        outgoing = conn.execute(select(transfers).where(
            transfers.c.sender_id == caller.id).order_by(transfers.c.created_at)).all()
    return {"incoming": [_listed(r) for r in incoming],
            "outgoing": [_listed(r) for r in outgoing]}


def _sealed_for(conn: Any, transfer_id: str, caller: Caller) -> Any:
    """The transfer as its receiving team may take it: addressed to the caller's team (else
    404, as if it were not there) and sealed (else 409)."""
    row = _row(conn, transfer_id)
    if row.to_team != caller.team:
        raise ApiError(404, "Diese Übergabe ist auf dem Server nicht (mehr) vorhanden.")
    if not row.sealed:
        raise ApiError(409, "Die Übergabe ist noch nicht vollständig.")
    return row


def get_chunk(db: Database, caller: Caller, transfer_id: str, index: int) -> bytes:
    with db.read() as conn:
        _sealed_for(conn, transfer_id, caller)
        data = conn.execute(select(transfer_chunks.c.data).where(
            transfer_chunks.c.transfer_id == transfer_id, transfer_chunks.c.idx == index)
            ).scalar()
    if data is None:
        raise ApiError(404, "Dieser Teil der Übergabe ist auf dem Server nicht (mehr) "
                            "vorhanden.")
    return bytes(data)


def acknowledge(db: Database, caller: Caller, transfer_id: str, ack_text: str,
                signature: str) -> dict[str, Any]:
    """A receiving device took the bundle over: the ciphertext goes at once. Repeating the
    first acknowledgement is a no-op; a different one after it is refused."""
    _signature(signature)
    try:
        ack = json.loads(ack_text)
    except ValueError:
        raise ApiError(422, "Die Bestätigung ist kein JSON.") from None
    if not isinstance(ack, dict) or ack.get("transfer_id") != transfer_id or \
            ack.get("device_id") != caller.id or ack.get("team") != caller.team:
        raise ApiError(422, "Die Bestätigung passt nicht zu Gerät, Team oder Übergabe.")
    with db.write() as conn:
        row = _sealed_for(conn, transfer_id, caller)
        if row.ack is None:
            conn.execute(update(transfers).where(transfers.c.id == transfer_id).values(
                ack=ack_text, ack_signature=signature, acked_at=utcnow()))
        elif row.ack != ack_text:
            raise ApiError(409, "Diese Übergabe hat ein anderes Gerät schon bestätigt.")
        conn.execute(delete(transfer_chunks).where(
            transfer_chunks.c.transfer_id == transfer_id))
        return _state(conn, _row(conn, transfer_id))


def remove(db: Database, caller: Caller, transfer_id: str) -> int:
    """The sender erased its copy after the acknowledgement: the transfer goes."""
    with db.write() as conn:
        row = conn.execute(select(transfers).where(transfers.c.id == transfer_id)).first()
        if row is None:
            return 0
        if row.sender_id != caller.id:
            raise ApiError(403, "Nur das Gerät, das die Übergabe angemeldet hat, löscht sie.")
        if row.ack is None:
            raise ApiError(409, "Die Übergabe ist noch nicht bestätigt.")
        conn.execute(delete(transfer_chunks).where(
            transfer_chunks.c.transfer_id == transfer_id))
        conn.execute(delete(transfers).where(transfers.c.id == transfer_id))
    return 1


def members(db: Database, team: str) -> dict[str, Any]:
    """The public part of a team's chain of trust: its devices' keys and the signed documents
    (no user or device names). The devices verify it against the pinned county root."""
    with db.read() as conn:
        if conn.execute(select(teams.c.code).where(teams.c.code == team)).first() is None:
            raise ApiError(404, "Dieses Team ist auf dem Server nicht bekannt.")
        rows = conn.execute(select(devices).where(devices.c.team == team)
                            .order_by(devices.c.enrolled_at, devices.c.id)).all()
    return {"team": team, "devices": [{
        "device_id": r.id, "state": r.state, "fingerprint": r.fingerprint,
        "sign_public_key": protocol.b64e(bytes(r.sign_public)),
        "box_public_key": protocol.b64e(bytes(r.box_public))} for r in rows],
        "documents": trust.of_team(db, team)}


# --- HTTP ------------------------------------------------------------------------------------

router = APIRouter(prefix=f"{protocol.API_PREFIX}", tags=["Übergaben"])


@router.get("/teams/{team}/members", response_model=Members, responses=_ERRORS)
def team_members(team: Annotated[str, Path(pattern=_TEAM)], device: Device,
                 request: Request) -> dict[str, Any]:
    del device  # any confirmed device: the chain of trust is public, and checked by devices
    return members(request.app.state.db, team)


@router.get("/transfers", response_model=TransferList, responses=_ERRORS)
def list_transfers(device: Device, request: Request) -> dict[str, Any]:
    return listing(request.app.state.db, device)


@router.put("/transfers/{transfer_id}", response_model=TransferState, responses=_ERRORS)
def declare_transfer(transfer_id: _TransferId, body: Declaration, device: Device,
                     request: Request) -> dict[str, Any]:
    return declare(request.app.state.db, device, transfer_id, body.header, body.signature)


@router.get("/transfers/{transfer_id}", response_model=TransferState, responses=_ERRORS)
def transfer_state(transfer_id: _TransferId, device: Device,
                   request: Request) -> dict[str, Any]:
    return state(request.app.state.db, device, transfer_id)


@router.delete("/transfers/{transfer_id}", response_model=Done, responses=_ERRORS)
def delete_transfer(transfer_id: _TransferId, device: Device,
                    request: Request) -> dict[str, Any]:
    return {"stored": remove(request.app.state.db, device, transfer_id)}


@router.put("/transfers/{transfer_id}/chunks/{index}", response_model=Done,
            responses=_ERRORS, openapi_extra={"requestBody": {"required": True, "content": {
                _OCTETS: {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_chunk(transfer_id: _TransferId, index: _Index, device: Device,
                       request: Request) -> dict[str, Any]:
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > MAX_CHUNK:
            raise ApiError(413, f"Ein Teil darf höchstens {MAX_CHUNK} Bytes lang sein.")
    stored = await run_in_threadpool(put_chunk, request.app.state.db, device, transfer_id,
                                     index, bytes(data))
    return {"stored": stored}


@router.get("/transfers/{transfer_id}/chunks/{index}", response_class=Response,
            responses={200: {"content": {_OCTETS: {"schema": {"type": "string",
                                                               "format": "binary"}}}},
                       **_ERRORS})
def download_chunk(transfer_id: _TransferId, index: _Index, device: Device,
                   request: Request) -> Response:
    return Response(get_chunk(request.app.state.db, device, transfer_id, index),
                    media_type=_OCTETS)


@router.post("/transfers/{transfer_id}/seal", response_model=TransferState, responses=_ERRORS)
def seal_transfer(transfer_id: _TransferId, device: Device, request: Request) -> dict[str, Any]:
    return seal(request.app.state.db, device, transfer_id)


@router.post("/transfers/{transfer_id}/ack", response_model=TransferState, responses=_ERRORS)
def acknowledge_transfer(transfer_id: _TransferId, body: Acknowledgement, device: Device,
                         request: Request) -> dict[str, Any]:
    return acknowledge(request.app.state.db, device, transfer_id, body.ack, body.signature)

