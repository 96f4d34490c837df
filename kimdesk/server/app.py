"""The HTTP API of the county server (FastAPI): ``create_app(db_url)``; OpenAPI at /openapi.json.

Endpoints are plain functions (FastAPI runs them in its thread pool) over the service modules:
``enrolment`` (codes, devices, tokens), ``keys`` (envelopes), ``changelog`` (push, pull,
checksum) and ``statistics``. Every error body is ``{"detail": "<one German line>"}`` plus the
extra keys an endpoint documents; request bodies are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kimdesk import __version__
from kimdesk.server import (
    anchors,
    blobs,
    changelog,
    compaction,
    enrolment,
    keys,
    schemas,
    statistics,
    transfers,
    trust,
    waiting,
)
from kimdesk.server.auth import Device, WaitingDevice, WaitingDeviceSeenNow
from kimdesk.server.db import Database, iso, utcnow
from kimdesk.server.errors import ApiError
from kimdesk.server.settings import Settings
from kimdesk.server.tables import devices, teams
from kimdesk.sync import protocol

log = logging.getLogger("kimdesk.server")

_STATUS_TEXT = {
    400: "Die Anfrage ist fehlerhaft.",
    401: "Anmeldung am Server fehlgeschlagen.",
    403: "Keine Berechtigung.",
    404: "Diese Adresse gibt es auf dem Server nicht.",
    405: "Diese Methode ist für diese Adresse nicht vorgesehen.",
    413: "Die Anfrage ist zu groß.",
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorBody, "description": "Anfrage nicht lesbar (kein gültiges JSON)"},
    401: {"model": schemas.ErrorBody, "description": "Token fehlt oder ist ungültig"},
    403: {"model": schemas.RevokedBody, "description": "Gerät gesperrt (wipe) oder keine "
                                                       "Berechtigung"},
    409: {"model": schemas.ErrorBody, "description": "Gerät noch nicht bestätigt"},
    422: {"model": schemas.ErrorBody, "description": "Ungültige Angaben"},
}


def _link(path: str, method: str, **fields: Any) -> dict[str, Any]:
    return {"operationRef": f"#/paths/{path.replace('/', '~1')}/{method}", **fields}


_V1 = protocol.API_PREFIX
# OpenAPI links: which answer feeds which next request (a pulled change id into a quarantine
# report, an own envelope back as a replay, …). Tools such as schemathesis follow them to test
# sequences of calls, not only single requests (tests/sync/test_fuzzed_team.py).
_LINKS: dict[str, dict[str, Any]] = {
    "status": {
        "PullFromHead": _link(f"{_V1}/pull", "get", parameters={"after": "$response.body#/head"}),
    },
    "push": {
        "PullPushed": _link(f"{_V1}/pull", "get", parameters={"after": "$response.body#/seqs/0"}),
    },
    "pull": {
        "PullOn": _link(f"{_V1}/pull", "get", parameters={"after": "$response.body#/head"}),
        "ReportQuarantine": _link(f"{_V1}/quarantine", "post", requestBody={"changes": [{
            "change_id": "$response.body#/changes/0/change_id", "reason": "undecryptable"}]}),
        "ReportErasure": _link(f"{_V1}/erasures", "post", requestBody={"erasures": [{
            "record_id": "$response.body#/changes/0/record_id",
            "kind": "$response.body#/changes/0/kind",
            "change_id": "$response.body#/changes/0/change_id"}]}),
    },
    "envelopes": {
        "Replay": _link(f"{_V1}/envelopes", "post",
                        requestBody={"envelopes": "$response.body#/envelopes"}),
    },
    "trust": {
        "Reupload": _link(f"{_V1}/trust", "post",
                          requestBody={"documents": "$response.body#/documents"}),
    },
    "audit-anchor": {
        "PutAgain": _link(f"{_V1}/audit-anchor", "put", requestBody={
            "seq": "$response.body#/anchors/0/seq", "mac": "$response.body#/anchors/0/mac"}),
    },
}


def _ok(name: str, description: str = "Erfolg") -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "links": _LINKS[name]}}


# For the endpoints a pending device may call (409 there means something else or nothing).
_WAITING_ERRORS = {k: v for k, v in _ERRORS.items() if k != 409}


class _BodyTooLarge(StarletteHTTPException):
    # An HTTPException, so FastAPI's body parsing passes it on instead of answering 400.
    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimit:
    """Refuses request bodies above ``limit`` bytes with 413 and a German JSON body."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(scope, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await _too_large(scope, send)


async def _too_large(scope: Scope, send: Send) -> None:
    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    response = JSONResponse({"detail": _STATUS_TEXT[413]}, status_code=413)
    await response(scope, no_body, send)


def _validation_detail(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "Ungültige Angaben in der Anfrage."
    where = " → ".join(str(part) for part in errors[0].get("loc", ()) if part != "body")
    return f"Ungültige Angabe: {where or 'Anfrage'} ({errors[0].get('type', 'ungültig')})."


_PERIOD = "^" + statistics.PERIOD_PATTERN + "$"


def create_app(db_url: str, settings: Settings | None = None) -> FastAPI:
    """The API over the database at ``db_url`` (tables are created if missing)."""
    settings = settings or Settings(db_url=db_url)
    db = Database(settings)
    db.create_schema()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            db.dispose()

    app = FastAPI(
        title="KIMdesk-Kreisserver", version=__version__, lifespan=lifespan,
        description="Synchronisation der KIMdesk-Geräte: angemeldete Geräte, verschlüsselte "
                    "Änderungen, Team-Schlüssel (nur verpackt), anonymisierte Statistik.",
        # Swagger UI would load scripts from the internet; the schema is enough.
        docs_url=None, redoc_url=None,
    )
    app.state.db = db
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        retry = exc.extra.get("retry_after")
        return JSONResponse(exc.body(), status_code=exc.status,
                            headers={"Retry-After": str(retry)} if retry else None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # The offending input is not echoed back: it may be a token or ciphertext.
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": _validation_detail(exc), "errors": errors},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = _STATUS_TEXT.get(exc.status_code, "Die Anfrage konnte nicht bearbeitet "
                                                   "werden.")
        return JSONResponse({"detail": detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Only the type: the text of a database error may quote parameters.
        log.error("Unerwarteter Fehler: %s", type(exc).__name__)
        return JSONResponse({"detail": "Interner Fehler des Servers; bitte später erneut "
                                       "versuchen."}, status_code=500)

    v1 = protocol.API_PREFIX

    @app.get(f"{v1}/health", response_model=schemas.Health, tags=["Betrieb"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.post(f"{v1}/enrol", status_code=201, response_model=schemas.EnrolResponse,
              tags=["Geräte"], responses={
                  400: _ERRORS[400], 403: {"model": schemas.ErrorBody},
                  409: {"model": schemas.ErrorBody}, 422: _ERRORS[422],
                  429: {"model": schemas.RetryBody,
                        "description": "zu viele Fehlversuche; Retry-After in Sekunden"}})
    def enrol(body: schemas.EnrolRequest, request: Request) -> dict[str, Any]:
        address = request.client.host if request.client else "unbekannt"
        return enrolment.enrol(db, code=body.code, user=body.user, device_name=body.device_name,
                               sign_public_b64=body.sign_public_key,
                               box_public_b64=body.box_public_key, team=body.team,
                               address=address)

    @app.get(f"{v1}/status", response_model=schemas.StatusResponse, tags=["Geräte"],
             responses={**_WAITING_ERRORS, **_ok("status")})
    def status(device: WaitingDeviceSeenNow) -> dict[str, Any]:
        with db.read() as conn:
            team = conn.execute(select(teams).where(teams.c.code == device.team)).one()
        return {"device_id": device.id, "team": device.team, "state": device.state,
                "coordinator": device.coordinator, "epoch": team.epoch,
                "rotation_needed": bool(team.rotation_needed),
                # How much the team wrote is none of a waiting device's business.
                "head": team.head if device.active else 0,
                "server_time": utcnow().isoformat()}

    @app.get(f"{v1}/devices", response_model=schemas.DevicesResponse, tags=["Geräte"],
             responses=_WAITING_ERRORS)
    def team_devices(device: WaitingDevice) -> dict[str, Any]:
        query = select(devices).where(devices.c.team == device.team)
        if not device.active:
            query = query.where(devices.c.id.in_(sorted(waiting.visible_device_ids(
                db, device, waiting.visible_fingerprints(db, device)))))
        with db.read() as conn:
            rows = conn.execute(query.order_by(devices.c.enrolled_at, devices.c.id)).all()
        return {"devices": [{
            "device_id": r.id, "user": r.user_name, "device_name": r.device_name,
            "fingerprint": r.fingerprint, "coordinator": bool(r.coordinator),
            "state": r.state, "enrolled_at": iso(r.enrolled_at),
            "last_seen_at": iso(r.last_seen_at),
            "sign_public_key": protocol.b64e(bytes(r.sign_public)),
            "box_public_key": protocol.b64e(bytes(r.box_public))} for r in rows]}

    @app.post(f"{v1}/envelopes", response_model=schemas.Stored, tags=["Team-Schlüssel"],
              responses={**_ERRORS, 409: {"model": schemas.EpochErrorBody}})
    def post_envelopes(body: schemas.EnvelopesRequest, device: WaitingDevice) -> dict[str, Any]:
        return {"stored": keys.store(db, device, [e.model_dump() for e in body.envelopes])}

    @app.get(f"{v1}/envelopes", response_model=schemas.EnvelopesResponse,
             tags=["Team-Schlüssel"], responses={**_WAITING_ERRORS, **_ok("envelopes")})
    def get_envelopes(device: WaitingDevice) -> dict[str, Any]:
        return {"envelopes": keys.for_recipient(db, device)}

    @app.get(f"{v1}/trust", response_model=schemas.TrustResponse, tags=["Geräte"],
             responses={**_WAITING_ERRORS, **_ok("trust")})
    def get_trust(device: WaitingDevice) -> dict[str, Any]:
        documents = trust.of_team(db, device.team)
        if not device.active:
            visible = waiting.visible_fingerprints(db, device)
            documents = [d for d in documents if d["body"]["fingerprint"] in visible]
        return {"documents": documents}

    @app.post(f"{v1}/trust", response_model=schemas.Stored, tags=["Geräte"],
              responses=_ERRORS)
    def post_trust(body: schemas.TrustRequest, device: Device) -> dict[str, Any]:
        return {"stored": trust.upload(db, device, [d.model_dump() for d in body.documents])}

    @app.post(f"{v1}/push", response_model=schemas.PushResponse, tags=["Änderungen"],
              responses={**_ERRORS, **_ok("push"), 409: {"model": schemas.EpochErrorBody},
                         413: {"model": schemas.ErrorBody},
                         422: {"model": schemas.ChangeRejectedBody,
                               "description": "Änderung ungültig oder falsch signiert"}})
    def push(body: schemas.PushRequest, device: Device) -> dict[str, Any]:
        if len(body.changes) > protocol.MAX_BATCH:
            raise ApiError(413, f"Höchstens {protocol.MAX_BATCH} Änderungen je Paket.")
        try:  # the schema's patterns admit canonical base64 only; decoded here, once
            items = [{"change_id": c.change_id, "record_id": c.record_id, "kind": c.kind,
                      "hlc": c.hlc, "epoch": c.epoch, "nonce": protocol.b64d(c.nonce),
                      "ciphertext": protocol.b64d(c.ciphertext),
                      "signature": protocol.b64d(c.signature)} for c in body.changes]
        except ValueError:
            raise ApiError(422, "Ungültige Angabe: eine Änderung ist kein gültiges Base64.") \
                from None
        return {"seqs": changelog.push(db, device, items)}

    @app.get(f"{v1}/pull", response_model=schemas.PullResponse, tags=["Änderungen"],
             responses={**_ERRORS, **_ok("pull"), 409: {"model": schemas.ErrorBody},
                        410: {"model": schemas.ErrorBody}})
    def pull(device: Device,
             after: Annotated[int, Query(ge=0, le=schemas.MAX_INT64)] = 0,
             limit: Annotated[int, Query(ge=1, le=protocol.MAX_BATCH)] = protocol.MAX_BATCH,
             ) -> dict[str, Any]:
        return changelog.pull(db, device, after, limit)

    @app.post(f"{v1}/erasures", response_model=compaction.ErasuresResponse,
              tags=["Änderungen"], responses=_ERRORS)
    def erasures(body: compaction.ErasuresRequest, device: Device) -> dict[str, Any]:
        # Compaction of purged records: kimdesk/server/compaction.py; then their documents.
        result = compaction.compact_erased(db, device, [e.model_dump() for e in body.erasures])
        blobs.sweep(db, device.team)
        return result

    @app.get(f"{v1}/audit-anchor", response_model=anchors.AnchorsOut, tags=["Geräte"],
             responses={**_ERRORS, **_ok("audit-anchor")})
    def audit_anchors(device: Device) -> dict[str, Any]:
        # Anchors of the device's audit trail: kimdesk/server/anchors.py.
        return anchors.anchors_of(db, device)

    @app.put(f"{v1}/audit-anchor", response_model=anchors.AnchorsOut, tags=["Geräte"],
             responses=_ERRORS)
    def put_audit_anchor(body: anchors.AnchorIn, device: Device) -> dict[str, Any]:
        return anchors.store_anchor(db, device, body)

    @app.post(f"{v1}/quarantine", response_model=schemas.Stored, tags=["Änderungen"],
              responses={**_ERRORS, 409: {"model": schemas.ErrorBody}})
    def quarantine(body: schemas.QuarantineRequest, device: Device) -> dict[str, Any]:
        return {"stored": changelog.report_quarantine(
            db, device, [c.model_dump() for c in body.changes])}

    @app.get(f"{v1}/checksum", response_model=schemas.ChecksumResponse, tags=["Änderungen"],
             responses=_ERRORS)
    def checksum(device: Device) -> dict[str, Any]:
        return changelog.checksum(db, device)

    @app.put(f"{v1}/stats/{{period}}", response_model=schemas.Stored, tags=["Statistik"],
             responses=_ERRORS)
    def put_stats(period: Annotated[str, Path(pattern=_PERIOD)],
                  body: schemas.StatsPutRequest, device: Device) -> dict[str, Any]:
        cells = [c.model_dump() for c in body.cells]
        return {"stored": statistics.replace(db, device, period, cells)}

    @app.get(f"{v1}/stats", response_model=schemas.StatsResponse, tags=["Statistik"],
             responses={**_ERRORS, 409: {"model": schemas.ErrorBody}})
    def get_stats(device: Device,
                  period: Annotated[str, Query(pattern=_PERIOD)],
                  team: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$")
                                  ] = None,
                  municipality: Annotated[str | None,
                                          Query(pattern="^" + statistics.CODE_PATTERN + "$")
                                          ] = None,
                  dimension: Annotated[schemas.Dimension | None, Query()] = None,
                  ) -> dict[str, Any]:
        return statistics.read(db, device, period, team=team, municipality=municipality,
                               dimension=dimension)

    app.include_router(blobs.router)  # documents' encrypted chunks: kimdesk/server/blobs.py
    app.include_router(transfers.router)  # cases that move: kimdesk/server/transfers.py
    return app
