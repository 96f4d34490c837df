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
