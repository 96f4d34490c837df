"""Documents' contents as blobs of encrypted chunks: upload (resumable, any order), download,
and deletion of blobs no change refers to any more.

A document's change carries only a reference to its content (blob id, size, SHA-256 and the
blob's key, all inside the team-encrypted, signed change); the content itself is uploaded here
beforehand as chunks of AES-GCM ciphertext (``kimdesk.sync.blobs``). The server never sees a
key or a plaintext byte. Its rules:

- the author device declares a blob (``PUT /v1/blobs/{id}``: the record and change it belongs
  to, the plaintext size) and gets back which chunks the server already has, so an interrupted
  upload resumes where it stopped; only that device uploads chunks to it;
- a chunk is stored once (a repeated upload is a no-op), in any order; its length must be
  exactly what the declared size gives (``protocol.blob_chunk_length``), so no blob grows beyond
  the 50 MB document limit plus one tag per chunk;
- every active device of the team reads a blob's state and chunks; another team's device gets
  404, a device not yet confirmed 409 (it may only wait);
- a blob whose change is gone from the log is deleted: at once when the record's history was
  compacted after a purge (``sweep``, called after ``POST /v1/erasures``), otherwise once nobody
  declared it for ``ORPHAN_GRACE`` (an upload whose change was never pushed).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, delete, exists, select, update
from starlette.concurrency import run_in_threadpool

from kimdesk.server.auth import Device
from kimdesk.server.db import Database, as_utc, utcnow
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import ApiError, not_confirmed
from kimdesk.server.settings import FAULT_ENV
from kimdesk.server.tables import blob_chunks, blobs, changes
from kimdesk.sync import protocol

ORPHAN_GRACE = timedelta(days=7)
FAULT_CHUNK_BEFORE_COMMIT = "blob-chunk-before-commit"  # test hook: die storing the 3rd chunk
_FAULT_AFTER = 2
_stored_in_process = 0
_ID = r"^[0-9a-f]{32}$"
_BlobId = Annotated[str, Path(pattern=_ID)]
_Index = Annotated[int, Path(ge=0, lt=protocol.MAX_BLOB_CHUNKS)]


class BlobDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: str = Field(pattern=protocol.RECORD_ID_PATTERN)
    change_id: str = Field(pattern=protocol.CHANGE_ID_PATTERN)
    size: int = Field(ge=1, le=protocol.MAX_BLOB_BYTES, description="Bytes des Klartexts")


class BlobState(BaseModel):
    blob_id: str
    size: int
    chunks: int
    have: list[int] = Field(description="Teile, die der Server schon hat")


class ChunkStored(BaseModel):
    stored: int


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Token fehlt oder ist ungültig"},
    403: {"description": "Gerät gesperrt oder keine Berechtigung"},
    404: {"description": "Kein solches Dokument im Team"},
    409: {"description": "Gerät noch nicht bestätigt, oder die Angaben widersprechen der "
                         "ersten Anmeldung des Dokuments"},
    413: {"description": "Teil länger als erlaubt"},
    422: {"description": "Ungültige Angaben"},
}


def _team_blob(conn: Any, caller: Caller, blob_id: str) -> Any:
    row = conn.execute(select(blobs).where(blobs.c.team == caller.team,
                                           blobs.c.blob_id == blob_id)).first()
    if row is None:
        raise ApiError(404, "Dieses Dokument ist auf dem Server (noch) nicht vorhanden.")
    return row


def _have(conn: Any, team: str, blob_id: str) -> list[int]:
    return [i for (i,) in conn.execute(
        select(blob_chunks.c.idx).where(blob_chunks.c.team == team,
                                        blob_chunks.c.blob_id == blob_id)
        .order_by(blob_chunks.c.idx))]


def _state(conn: Any, row: Any) -> dict[str, Any]:
    return {"blob_id": row.blob_id, "size": row.size,
            "chunks": protocol.blob_chunk_count(row.size),
            "have": _have(conn, row.team, row.blob_id)}


def declare(db: Database, caller: Caller, blob_id: str, *, record_id: str, change_id: str,
            size: int) -> dict[str, Any]:
    """Register a blob (or find it again) and say which chunks are here; idempotent."""
    if not caller.active:
        raise not_confirmed()
    with db.write() as conn:
        row = conn.execute(select(blobs).where(blobs.c.team == caller.team,
                                               blobs.c.blob_id == blob_id)).first()
        now = utcnow()
        if row is None:  # (a twin request that was faster wins; the check below applies)
            db.insert_ignore(conn, blobs, [{
                "team": caller.team, "blob_id": blob_id, "device_id": caller.id,
                "record_id": record_id, "change_id": change_id, "size": size,
                "created_at": now, "touched_at": now}])
            row = conn.execute(select(blobs).where(blobs.c.team == caller.team,
                                                   blobs.c.blob_id == blob_id)).one()
        if (row.device_id, row.record_id, row.change_id, row.size) != (
                caller.id, record_id, change_id, size):
            raise ApiError(409, "Dieses Dokument wurde mit anderen Angaben angemeldet.")
        conn.execute(update(blobs).where(blobs.c.team == caller.team,
                                         blobs.c.blob_id == blob_id).values(touched_at=now))
        return _state(conn, row)


def state(db: Database, caller: Caller, blob_id: str) -> dict[str, Any]:
    if not caller.active:
        raise not_confirmed()
    with db.read() as conn:
        return _state(conn, _team_blob(conn, caller, blob_id))


def put_chunk(db: Database, caller: Caller, blob_id: str, index: int, data: bytes) -> int:
    """Store chunk ``index`` unless it is here already (1 if stored now, 0 if it was)."""
    if not caller.active:
        raise not_confirmed()
    with db.write() as conn:
        row = _team_blob(conn, caller, blob_id)
        if row.device_id != caller.id:
            raise ApiError(403, "Nur das Gerät, das das Dokument angemeldet hat, lädt es hoch.")
        count = protocol.blob_chunk_count(row.size)
        if index >= count:
            raise ApiError(422, f"Das Dokument hat nur {count} Teile.")
        expected = protocol.blob_chunk_length(row.size, index)
        if len(data) != expected:
            raise ApiError(413 if len(data) > expected else 422,
                           f"Teil {index} muss genau {expected} Bytes lang sein.")
        known = conn.execute(select(blob_chunks.c.idx).where(
            blob_chunks.c.team == caller.team, blob_chunks.c.blob_id == blob_id,
            blob_chunks.c.idx == index)).first()
        if known is not None:
            return 0
        db.insert_ignore(conn, blob_chunks, [{"team": caller.team, "blob_id": blob_id,
                                              "idx": index, "data": data}])
        _fault_point()
    return 1


def get_chunk(db: Database, caller: Caller, blob_id: str, index: int) -> bytes:
    if not caller.active:
        raise not_confirmed()
    with db.read() as conn:
        _team_blob(conn, caller, blob_id)
        data = conn.execute(select(blob_chunks.c.data).where(
            blob_chunks.c.team == caller.team, blob_chunks.c.blob_id == blob_id,
            blob_chunks.c.idx == index)).scalar()
    if data is None:
        raise ApiError(404, "Dieser Teil des Dokuments ist auf dem Server (noch) nicht "
                            "vorhanden.")
    return bytes(data)


def sweep(db: Database, team: str) -> int:
    """Delete the team's blobs whose change is not in the log: at once if the record still has
    other changes there (its history was compacted after a purge), else after ``ORPHAN_GRACE``
    without a declaration. Returns how many blobs were deleted."""
    now = utcnow()
    with db.write() as conn:
        db.lock_team(conn, team)
        unreferenced = conn.execute(select(blobs).where(
            blobs.c.team == team,
            ~exists().where(and_(changes.c.team == team,
                                 changes.c.change_id == blobs.c.change_id)))).all()
        doomed = []
        for row in unreferenced:
            compacted = conn.execute(select(changes.c.seq).where(
                changes.c.team == team, changes.c.record_id == row.record_id).limit(1)).first()
            touched = as_utc(row.touched_at)
            if compacted is not None or touched is None or now - touched > ORPHAN_GRACE:
                doomed.append(row.blob_id)
        for blob_id in doomed:
            conn.execute(delete(blob_chunks).where(blob_chunks.c.team == team,
                                                   blob_chunks.c.blob_id == blob_id))
            conn.execute(delete(blobs).where(blobs.c.team == team, blobs.c.blob_id == blob_id))
    return len(doomed)


def _fault_point() -> None:
    global _stored_in_process
    if os.environ.get(FAULT_ENV) != FAULT_CHUNK_BEFORE_COMMIT:
        return
    _stored_in_process += 1
    if _stored_in_process > _FAULT_AFTER:
        os._exit(70)


# --- HTTP ------------------------------------------------------------------------------------

_Device = Device  # a confirmed device of the team (kimdesk/server/auth.py)
router = APIRouter(prefix=f"{protocol.API_PREFIX}/blobs", tags=["Dokumente"])
_OCTETS = "application/octet-stream"


@router.put("/{blob_id}", response_model=BlobState, responses=_ERRORS)
def declare_blob(blob_id: _BlobId, body: BlobDeclaration, device: _Device,
                 request: Request) -> dict[str, Any]:
    db: Database = request.app.state.db
    return declare(db, device, blob_id, record_id=body.record_id, change_id=body.change_id,
                   size=body.size)


@router.get("/{blob_id}", response_model=BlobState, responses=_ERRORS)
def blob_state(blob_id: _BlobId, device: _Device, request: Request) -> dict[str, Any]:
    return state(request.app.state.db, device, blob_id)


@router.put("/{blob_id}/chunks/{index}", response_model=ChunkStored, responses=_ERRORS,
            openapi_extra={"requestBody": {"required": True, "content": {
                _OCTETS: {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_chunk(blob_id: _BlobId, index: _Index, device: _Device,
                       request: Request) -> dict[str, Any]:
    limit = protocol.BLOB_CHUNK_BYTES + protocol.BLOB_TAG_BYTES
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > limit:
            raise ApiError(413, f"Ein Teil darf höchstens {limit} Bytes lang sein.")
    stored = await run_in_threadpool(put_chunk, request.app.state.db, device, blob_id, index,
                                     bytes(data))
    return {"stored": stored}


@router.get("/{blob_id}/chunks/{index}", response_class=Response,
            responses={200: {"content": {_OCTETS: {"schema": {"type": "string",
                                                               "format": "binary"}}}},
                       **_ERRORS})
def download_chunk(blob_id: _BlobId, index: _Index, device: _Device,
                   request: Request) -> Response:
    return Response(get_chunk(request.app.state.db, device, blob_id, index),
                    media_type=_OCTETS)
