"""The wire contract shared by the sync client and the county server: constants and pure helpers.

Standard library and ``cryptography`` only: the laptops' bundle imports this module and must not
need FastAPI or pydantic. Every byte string on the wire is standard base64 with padding, and
every signed or authenticated structure is serialised with :func:`canonical_json`, so both sides
produce the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

API_PREFIX = "/v1"
MAX_BATCH = 500  # changes per push and per pull page
PROTOCOL_VERSION = 1
KEY_BYTES = 32  # raw Ed25519 and X25519 public keys
FINGERPRINT_BYTES = 16


def b64e(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    """Decode standard base64; ValueError unless ``text`` is exactly what :func:`b64e` makes.

    Strict on purpose: a signature covers the base64 text, so two spellings of the same bytes
    (other padding bits, line breaks) must not both be accepted.
    """
    if not isinstance(text, str):
        raise ValueError("base64 text expected")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not valid base64") from exc
    if b64e(data) != text:
        raise ValueError("not canonical base64")
    return data


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def fingerprint(sign_public: bytes, box_public: bytes) -> str:
    """What a coordinator compares before confirming a device: ``3F2A-…`` (8 groups of 4)."""
    digest = hashlib.sha256(sign_public + box_public).digest()[:FINGERPRINT_BYTES]
    text = digest.hex().upper()
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def envelope_signing_bytes(team: str, epoch: int, recipient_id: str, granter_id: str,
                           ephemeral_public_b64: str, nonce_b64: str,
                           ciphertext_b64: str) -> bytes:
    """The bytes a granter signs for a wrapped team key (field names as on the wire)."""
    return canonical_json({
        "v": PROTOCOL_VERSION,
        "team": team,
        "epoch": epoch,
        "recipient_id": recipient_id,
        "granter_id": granter_id,
        "ephemeral_public": ephemeral_public_b64,
        "nonce": nonce_b64,
        "ciphertext": ciphertext_b64,
    })


def verify_envelope_signature(sign_public: bytes, envelope: Mapping[str, Any], team: str) -> bool:
    """True if ``envelope["signature"]`` is the granter's Ed25519 signature over its fields."""
    try:
        message = envelope_signing_bytes(
            team, int(envelope["epoch"]), str(envelope["recipient_id"]),
            str(envelope["granter_id"]), str(envelope["ephemeral_public"]),
            str(envelope["nonce"]), str(envelope["ciphertext"]))
        signature = b64d(str(envelope["signature"]))
        Ed25519PublicKey.from_public_bytes(sign_public).verify(signature, message)
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True


def record_aad(team: str, record_id: str, kind: str, hlc: str, epoch: int) -> bytes:
    """AES-GCM associated data of a change: a ciphertext moved elsewhere fails to decrypt."""
    return canonical_json(
        {"team": team, "record_id": record_id, "kind": kind, "hlc": hlc, "epoch": epoch})


def team_checksum(pairs: Iterable[tuple[str, str]]) -> str:
    """SHA-256 (hex) over the sorted ``(record id, highest HLC)`` pairs of a team."""
    digest = hashlib.sha256()
    for record_id, max_hlc in sorted(pairs):
        digest.update(f"{record_id}:{max_hlc}\n".encode())
    return digest.hexdigest()


# --- signed changes ---------------------------------------------------------------------------

CHANGE_DOMAIN = b"kimdesk signed change v1\n"
# A change whose clock is further ahead than this would win every later edit of its record:
# the server refuses it on push, a receiver quarantines it.
MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000
NONCE_BYTES = 12
SIGNATURE_BYTES = 64
CHANGE_ID_PATTERN = r"^[0-9a-f]{32}$"
RECORD_ID_PATTERN = r"^[0-9a-f]{32}$"  # kimdesk.models.base.new_id
KIND_PATTERN = r"^[a-z][a-z_]{0,39}$"  # a synced table's name
HLC_PATTERN = r"^[0-9]{13}\.[0-9]{5}$"  # kimdesk.models.changelog.format_hlc
_CHANGE_ID_RE = re.compile(CHANGE_ID_PATTERN)
_RECORD_ID_RE = re.compile(RECORD_ID_PATTERN)
_KIND_RE = re.compile(KIND_PATTERN)
_HLC_RE = re.compile(HLC_PATTERN)


def change_signing_bytes(*, team: str, device_id: str, change_id: str, record_id: str,
                         kind: str, hlc: str, epoch: int, nonce: bytes,
                         ciphertext: bytes) -> bytes:
    """What the author device signs for a change (Ed25519): domain-separated, binding the team,
    the author's device id, the change's place and clock, the key epoch and the ciphertext (by
    its SHA-256, so neither side needs the ciphertext twice in memory)."""
    return CHANGE_DOMAIN + canonical_json({
        "v": PROTOCOL_VERSION, "team": team, "device_id": device_id, "change_id": change_id,
        "record_id": record_id, "kind": kind, "hlc": hlc, "epoch": epoch,
        "nonce": b64e(nonce), "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest()})


def change_signature_valid(sign_public: Ed25519PublicKey, signature: bytes,
                           message: bytes) -> bool:
    try:
        sign_public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def change_shape_problem(*, change_id: str, record_id: str, kind: str, hlc: str, epoch: int,
                         nonce: bytes, signature: bytes, now_ms: int) -> str | None:
    """A machine code (English, stable) if a change's visible parts have no change's shape or
    its clock is more than MAX_CLOCK_AHEAD_MS ahead of ``now_ms``; None if it is fine.
    Server (422 on push) and receivers (quarantine) use the same rules."""
    if not isinstance(change_id, str) or not _CHANGE_ID_RE.match(change_id):
        return "bad_change_id"
    if not isinstance(record_id, str) or not _RECORD_ID_RE.match(record_id):
        return "bad_record_id"
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        return "bad_kind"
    if not isinstance(hlc, str) or not _HLC_RE.match(hlc):
        return "bad_clock"
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch < 2**31:
        return "bad_epoch"
    if len(nonce) != NONCE_BYTES:
        return "bad_nonce"
    if len(signature) != SIGNATURE_BYTES:
        return "bad_signature"
    if int(hlc[:13]) > now_ms + MAX_CLOCK_AHEAD_MS:
        return "clock_ahead"
    return None


# --- document blobs (kimdesk.sync.blobs, kimdesk.server.blobs) ------------------------------

# A document's content travels as a blob of encrypted chunks, not inside its change: each
# chunk is BLOB_CHUNK_BYTES of plaintext (the last one fewer) plus the AES-GCM tag.
BLOB_CHUNK_BYTES = 1024 * 1024
BLOB_TAG_BYTES = 16
MAX_BLOB_BYTES = 50 * 1024 * 1024  # the document limit of casework (plaintext)
MAX_BLOB_CHUNKS = -(-MAX_BLOB_BYTES // BLOB_CHUNK_BYTES)
BLOB_ID_PATTERN = r"^[0-9a-f]{32}$"


def blob_chunk_count(plain_size: int) -> int:
    """How many chunks a document of ``plain_size`` bytes has (at least one)."""
    return max(1, -(-plain_size // BLOB_CHUNK_BYTES))


def blob_chunk_length(plain_size: int, index: int) -> int:
    """The ciphertext length of chunk ``index`` of a document of ``plain_size`` bytes."""
    count = blob_chunk_count(plain_size)
    if index < count - 1:
        return BLOB_CHUNK_BYTES + BLOB_TAG_BYTES
    return plain_size - (count - 1) * BLOB_CHUNK_BYTES + BLOB_TAG_BYTES
