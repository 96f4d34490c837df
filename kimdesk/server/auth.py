"""Who may call what on the county server: every authentication dependency of the API, for the
app's own endpoints and for routers in other modules alike (kimdesk/server/blobs.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kimdesk.server import enrolment
from kimdesk.server.enrolment import Caller
from kimdesk.server.errors import not_confirmed

_bearer = HTTPBearer(auto_error=False, description="Bearer <device_id>.<secret>")
_Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


# --- who may call what (all authentication dependencies are here) --------------------------
# ``Device``: a confirmed (active) device; the default for every endpoint, also for routers
# added later. ``WaitingDevice``: also a pending one, for the few endpoints a device needs while
# it waits for its confirmation (kimdesk/server/waiting.py); a revoked device gets 403 + wipe.


def waiting_device(request: Request, _credentials: _Credentials) -> Caller:
    """An authenticated device, confirmed or still pending (the security scheme documents the
    header in OpenAPI)."""
    return enrolment.authenticate(request.app.state.db, request.headers.get("authorization"))


def waiting_device_seen_now(request: Request, _credentials: _Credentials) -> Caller:
    return enrolment.authenticate(request.app.state.db, request.headers.get("authorization"),
                                  always_touch=True)


def confirmed_device(request: Request, _credentials: _Credentials) -> Caller:
    """An authenticated, confirmed device; a pending one gets 409 before anything is read."""
    caller = enrolment.authenticate(request.app.state.db, request.headers.get("authorization"))
    if not caller.active:
        raise not_confirmed()
    return caller


current_device = confirmed_device  # the name routers use
Device = Annotated[Caller, Depends(confirmed_device)]
WaitingDevice = Annotated[Caller, Depends(waiting_device)]
WaitingDeviceSeenNow = Annotated[Caller, Depends(waiting_device_seen_now)]
