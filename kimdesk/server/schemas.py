"""Request and response bodies of the HTTP API (pydantic), as the OpenAPI schema shows them.

Limits are part of the contract: every string has a length and, where it is a code or an id,
a pattern; every number a range that fits the database columns. Base64 must be canonical
(``protocol.b64d``): signatures cover the base64 text.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from kimdesk.server.statistics import CODE_PATTERN, DIMENSIONS
from kimdesk.sync import protocol

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
MAX_CIPHERTEXT_CHARS = 16 * 1024 * 1024
MAX_ENVELOPES = 1000
MAX_STAT_CELLS = 20000


def _canonical_b64(text: str) -> str:
    protocol.b64d(text)  # ValueError → 422
    return text


def _plain_text(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ValueError("must not be empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise ValueError("control or unassigned characters are not allowed")
    return text


# Canonical standard base64 (what protocol.b64e makes): groups of 4, zero padding bits.
B64_PATTERN = (r"^(?:[A-Za-z0-9+/]{4})*"
               r"(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$")
KEY_PATTERN = r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$"  # exactly 32 bytes
SIGNATURE_PATTERN = r"^[A-Za-z0-9+/]{85}[AQgw]==$"  # exactly 64 bytes


def _b64(max_chars: int, pattern: str = B64_PATTERN) -> object:
    return Annotated[str, Field(min_length=4, max_length=max_chars, pattern=pattern),
                     AfterValidator(_canonical_b64)]


B64Key = _b64(44, KEY_PATTERN)
B64Nonce = _b64(64)
B64Signature = _b64(88, SIGNATURE_PATTERN)
B64EnvelopeCiphertext = _b64(1024)
B64Ciphertext = _b64(MAX_CIPHERTEXT_CHARS)
# The fields of a pushed change: the push endpoint decodes them itself (protocol.b64d, 422 if
# that fails), and their patterns admit canonical base64 only, so a request of 500 changes is
# not decoded twice. Same limits and patterns as above, so the same OpenAPI schema.
_PushedNonce = Annotated[str, Field(min_length=4, max_length=16,  # exactly 12 bytes
                                    pattern=r"^[A-Za-z0-9+/]{16}$")]
_PushedCiphertext = Annotated[str, Field(min_length=4, max_length=MAX_CIPHERTEXT_CHARS,
                                         pattern=B64_PATTERN)]
_PushedSignature = Annotated[str, Field(min_length=4, max_length=88, pattern=SIGNATURE_PATTERN)]
DeviceId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", examples=["9f1c" * 8])]
TeamCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$", examples=["nord"])]
PlainText = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*\S"),
                      AfterValidator(_plain_text)]
Code = Annotated[str, Field(pattern="^" + CODE_PATTERN + "$")]
Period = Annotated[str, Field(pattern=r"^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
                              examples=["2026", "2026-Q2", "2026-05"])]
Epoch = Annotated[int, Field(ge=1, le=MAX_INT32)]
Seq = Annotated[int, Field(ge=0, le=MAX_INT64)]
Dimension = Literal[DIMENSIONS]  # type: ignore[valid-type]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ErrorBody(_Model):
    detail: str = Field(description="eine Zeile auf Deutsch")


class RetryBody(ErrorBody):
    retry_after: int = Field(description="Sekunden bis zum nächsten Versuch")


class RevokedBody(ErrorBody):
    wipe: bool = True
    revocations: list[dict[str, Any]] = Field(
        default_factory=list, description="signierte Sperrungen dieses Geräts")
    issuer_keys: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="öffentliche Schlüssel der Aussteller")


class ChangeRejectedBody(_Model):
    """A pushed change the server refuses (nothing of the batch is stored): ``error`` and
    ``index`` are machine values, no German; the device maps ``error`` to its own message.
    A body that fails the request schema itself has the usual ``detail`` only."""

    detail: str = Field(description="change rejected: <error>")
    error: Literal["bad_change_id", "bad_record_id", "bad_kind", "bad_clock", "bad_epoch",
                   "bad_nonce", "bad_signature", "clock_ahead", "signature_invalid",
                   None] = None
    index: int | None = Field(default=None, description="Stelle der Änderung im Paket")


class EpochErrorBody(ErrorBody):
    epoch: int | None = Field(default=None, description="aktuelle Schlüsselversion des Teams "
                                                        "(fehlt, wenn das Gerät noch nicht "
                                                        "bestätigt ist)")


class Health(_Model):
    status: Literal["ok"]
    version: str


class EnrolRequest(_Model):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 \-]+$",
                      examples=["7KQM-3XNP-W8RT-2HJD"])
    user: PlainText
    device_name: PlainText
    sign_public_key: B64Key  # type: ignore[valid-type]
    box_public_key: B64Key  # type: ignore[valid-type]
    team: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$",
                             description="Team des Datentresors; ein Code eines anderen Teams "
                                         "wird abgelehnt (und bleibt gültig)")


class EnrolResponse(_Model):
    device_id: str
    team: str
    token: str
    fingerprint: str
    coordinator: bool
    team_has_key: bool
    lease_secret: str
    lease_warn_days: int
    lease_lock_days: int


class StatusResponse(_Model):
    device_id: str
    team: str
    state: Literal["pending", "active"]
    coordinator: bool
    epoch: int
    rotation_needed: bool
    head: int
    server_time: str


class DeviceInfo(_Model):
    device_id: str
    user: str
    device_name: str
    fingerprint: str
    coordinator: bool
    state: Literal["pending", "active", "revoked"]
    enrolled_at: str
    last_seen_at: str | None
    sign_public_key: str
    box_public_key: str


class DevicesResponse(_Model):
    devices: list[DeviceInfo]


class Envelope(_Model):
    recipient_id: DeviceId
    epoch: Epoch
    granter_id: DeviceId
    ephemeral_public: B64Key  # type: ignore[valid-type]
    nonce: B64Nonce  # type: ignore[valid-type]
    ciphertext: B64EnvelopeCiphertext  # type: ignore[valid-type]
    signature: B64Signature  # type: ignore[valid-type]


class EnvelopesRequest(_Model):
    envelopes: list[Envelope] = Field(min_length=1, max_length=MAX_ENVELOPES)


class EnvelopesResponse(_Model):
    envelopes: list[Envelope]


class TrustDocument(_Model):
    """A certificate or revocation (``kimdesk.sync.trust``); devices check the signature."""

    body: dict[str, Any] = Field(description="signierter Inhalt (Team, Fingerabdruck, Rolle, "
                                             "Aussteller)")
    signature: B64Signature  # type: ignore[valid-type]


class TrustRequest(_Model):
    documents: list[TrustDocument] = Field(min_length=1, max_length=100)


class TrustResponse(_Model):
    documents: list[TrustDocument]


class QuarantinedItem(_Model):
    seq: int = Field(ge=1, le=MAX_INT64)
    change_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    reason: str = Field(min_length=1, max_length=200)


class QuarantineRequest(_Model):
    changes: list[QuarantinedItem] = Field(min_length=1, max_length=500)


class Stored(_Model):
    stored: int


class Change(_Model):
    """A change as its author device pushes it, signed with the device's certified key."""

    change_id: str = Field(pattern=protocol.CHANGE_ID_PATTERN)
    record_id: str = Field(pattern=protocol.RECORD_ID_PATTERN)
    kind: str = Field(pattern=protocol.KIND_PATTERN, examples=["clients"])
    hlc: str = Field(pattern=protocol.HLC_PATTERN, examples=["1764000000000.00000"],
                     description="höchstens 5 Minuten vor der Serverzeit")
    epoch: Epoch
    nonce: _PushedNonce
    ciphertext: _PushedCiphertext
    signature: _PushedSignature = Field(
        description="Ed25519 des Autorgeräts über protocol.change_signing_bytes")


class PushRequest(_Model):
    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    # More than protocol.MAX_BATCH is refused with 413 by the endpoint.
    changes: list[Change] = Field(min_length=1)


class PushResponse(_Model):
    seqs: list[int]


class PulledChange(_Model):
    seq: int
    change_id: str
    device_id: str
    record_id: str
    kind: str
    hlc: str
    epoch: int
    nonce: str
    ciphertext: str
    signature: str | None


class PullResponse(_Model):
    changes: list[PulledChange]
    head: int
    more: bool


class ChecksumResponse(_Model):
    head: int
    checksum: str


class StatCell(_Model):
    municipality: Code
    dimension: Dimension
    value: Code
    measure: Literal["new", "closed", "open_at_end"]
    count: int = Field(ge=0, le=10**9)  # protected by the cell key method: never 1–4


class StatsPutRequest(_Model):
    cells: list[StatCell] = Field(max_length=MAX_STAT_CELLS)


class StatCellOut(_Model):
    team: str
    municipality: str
    dimension: str
    value: str
    measure: str
    count: int


class StatUpload(_Model):
    team: str
    last_upload: str | None
    as_of_month: str


class StatsResponse(_Model):
    period: str
    first_month: str
    last_month: str
    cells: list[StatCellOut]
    uploads: list[StatUpload]
