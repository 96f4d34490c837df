"""The wire contract shared by the sync client and the county server: constants and pure helpers.

Standard library, ``cryptography`` and PyNaCl (libsodium, for signing changes and checking
their signatures) only: the laptops' bundle imports this module and must not need FastAPI or
pydantic.
Every byte string on the wire is standard base64 with padding, and every signed or authenticated
structure is serialised with :func:`canonical_json`, so both sides produce the same bytes.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

API_PREFIX = "/v1"
MAX_BATCH = 500  # changes per push and per pull page
PROTOCOL_VERSION = 1
KEY_BYTES = 32  # raw Ed25519 and X25519 public keys
FINGERPRINT_BYTES = 16


def b64e(data: bytes) -> str:
    """Standard base64 with padding."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def b64d(text: str) -> bytes:
    """Decode standard base64; ValueError unless ``text`` is exactly what :func:`b64e` makes.

    Strict on purpose: a signature covers the base64 text, so two spellings of the same bytes
    (other padding bits, line breaks) must not both be accepted.
    """
    if not isinstance(text, str):
        raise ValueError("base64 text expected")
    try:
        raw = text.encode("ascii")
        # binascii directly (base64.b64decode(validate=True) runs a regex over the text first):
        # a sync decodes three fields of every change. Strict mode refuses characters outside
        # the alphabet and data after the padding; the comparison below everything else.
        data = binascii.a2b_base64(raw, strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not valid base64") from exc
    if binascii.b2a_base64(data, newline=False) != raw:
        raise ValueError("not canonical base64")
    return data


# One encoder for every call: json.dumps with options builds a new one each time, which cost
# more than the encoding of a change's small structures (a sync makes tens of thousands).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes."""
    return _CANONICAL.encode(obj).encode("utf-8")


def fingerprint(sign_public: bytes, box_public: bytes) -> str:
    """What a coordinator compares before confirming a device: ``3F2A-…`` (8 groups of 4)."""
    digest = hashlib.sha256(sign_public + box_public).digest()[:FINGERPRINT_BYTES]
    text = digest.hex().upper()
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def listed_device_keys(device: Any) -> tuple[bytes, bytes, str] | None:
    """The signing and box public keys of a device as the server lists it, with the
    fingerprint computed here from them (a key the server replaced has another fingerprint);
    None if the entry is malformed."""
    try:
        sign = b64d(device["sign_public_key"])
        box = b64d(device["box_public_key"])
    except (KeyError, TypeError, ValueError):
        return None
    if len(sign) != KEY_BYTES or len(box) != KEY_BYTES:
        return None
    return sign, box, fingerprint(sign, box)


# --- key envelopes ------------------------------------------------------------------------------
#
# Format 2 (written since issue 16): RFC 9180 HPKE, base mode, X25519 / HKDF-SHA256 /
# AES-256-GCM. On the wire an envelope keeps the fields of format 1 so the server stores both
# alike: ``ephemeral_public`` is HPKE's encapsulated key ``enc``, ``ciphertext`` the AEAD
# ciphertext with its tag, and ``nonce`` (HPKE derives its nonce from the key schedule) holds the
# constant ENVELOPE_HPKE_MARK that names the format. Format 1 (the hand-made X25519 + HKDF +
# AES-GCM of before) has a random 12-byte nonce there; devices still open it (existing
# installations hold such envelopes) but never write it (docs/sync.md, "Keys").

ENVELOPE_HPKE_MARK = "aHBrZTp2Mg=="  # b64e(b"hpke:v2")
ENVELOPE_V2_DOMAIN = b"kimdesk team key envelope v2\n"
HPKE_SUITE_NAME = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM"


def envelope_format(envelope: Mapping[str, Any]) -> int:
    """2 for an HPKE envelope, 1 for one of the hand-made format of before."""
    return 2 if envelope.get("nonce") == ENVELOPE_HPKE_MARK else 1


def envelope_signing_bytes(team: str, epoch: int, recipient_id: str, granter_id: str,
                           ephemeral_public_b64: str, nonce_b64: str,
                           ciphertext_b64: str) -> bytes:
    """The bytes a granter signs for a wrapped team key (field names as on the wire).

    Format 1 signs the bare canonical JSON (kept as it was, so stored envelopes still verify);
    format 2 is domain-separated and names the HPKE suite, so no signature of one format is
    a valid signature of the other."""
    fields: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "team": team,
        "epoch": epoch,
        "recipient_id": recipient_id,
        "granter_id": granter_id,
        "ephemeral_public": ephemeral_public_b64,
        "nonce": nonce_b64,
        "ciphertext": ciphertext_b64,
    }
    if nonce_b64 != ENVELOPE_HPKE_MARK:
        return canonical_json(fields)
    return ENVELOPE_V2_DOMAIN + canonical_json({**fields, "v": 2, "suite": HPKE_SUITE_NAME})


def verify_envelope_signature(sign_public: bytes, envelope: Mapping[str, Any], team: str) -> bool:
    """True if ``envelope["signature"]`` is the granter's Ed25519 signature over its fields."""
    try:
        epoch = envelope["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            return False
        message = envelope_signing_bytes(
            team, epoch, str(envelope["recipient_id"]),
            str(envelope["granter_id"]), str(envelope["ephemeral_public"]),
            str(envelope["nonce"]), str(envelope["ciphertext"]))
        signature = b64d(str(envelope["signature"]))
        Ed25519PublicKey.from_public_bytes(sign_public).verify(signature, message)
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True


_PLAIN_TYPES = {str, int}


def _fast_json(*values: object) -> bool:
    """True if every value is a ``str`` or a plain ``int`` (not bool): then the hand-made
    canonical JSON below is byte for byte what :func:`canonical_json` makes (tested)."""
    return set(map(type, values)) <= _PLAIN_TYPES  # no generator: twice per change of a sync


# The JSON text of a string exactly as canonical_json writes it (ensure_ascii=False).
_quote = json.encoder.encode_basestring


def record_aad(team: str, record_id: str, kind: str, hlc: str, epoch: int) -> bytes:
    """AES-GCM associated data of a change: a ciphertext moved elsewhere fails to decrypt."""
    if not _fast_json(team, record_id, kind, hlc, epoch):
        return canonical_json(
            {"team": team, "record_id": record_id, "kind": kind, "hlc": hlc, "epoch": epoch})
    # canonical_json of the same object, written out (keys sorted): once per change of a sync.
    return (f'{{"epoch":{epoch},"hlc":{_quote(hlc)},"kind":{_quote(kind)},'
            f'"record_id":{_quote(record_id)},"team":{_quote(team)}}}').encode()


CHECKSUM_BITS = 256
_CHECKSUM_MODULUS = 1 << CHECKSUM_BITS


def record_digest(record_id: str, max_hlc: str) -> int:
    """One record's share of the team checksum: SHA-256 of ``record id:highest HLC``."""
    return int.from_bytes(hashlib.sha256(f"{record_id}:{max_hlc}\n".encode()).digest(), "big")


def checksum_text(total: int) -> str:
    """A sum of record digests as the checksum the API carries (64 hex digits)."""
    return f"{total % _CHECKSUM_MODULUS:064x}"


def team_checksum(pairs: Iterable[tuple[str, str]]) -> str:
    """The sum modulo 2**256 of the :func:`record_digest` of every ``(record id, highest
    HLC)`` pair of a team, as 64 hex digits.

    A sum, not a hash over the sorted pairs: the server keeps it up to date with each push
    (subtract a record's old digest, add its new one) instead of reading and sorting every
    record of the team for every request; the result does not depend on the order. Like the
    sorted hash before it, it detects damage and divergence; it is no defence against someone
    who picks very many records to make a sum collide (generalised birthday), which whoever
    answers the checksum request could simply lie about anyway.
    """
    return checksum_text(sum(record_digest(record_id, max_hlc) for record_id, max_hlc in pairs))


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
    digest = hashlib.sha256(ciphertext).hexdigest()
    if not _fast_json(team, device_id, change_id, record_id, kind, hlc, epoch):
        return CHANGE_DOMAIN + canonical_json({
            "v": PROTOCOL_VERSION, "team": team, "device_id": device_id,
            "change_id": change_id, "record_id": record_id, "kind": kind, "hlc": hlc,
            "epoch": epoch, "nonce": b64e(nonce), "ciphertext_sha256": digest})
    # canonical_json of the same object, written out (keys sorted): once per change of a sync.
    return CHANGE_DOMAIN + (
        f'{{"change_id":{_quote(change_id)},"ciphertext_sha256":"{digest}",'
        f'"device_id":{_quote(device_id)},"epoch":{epoch},"hlc":{_quote(hlc)},'
        f'"kind":{_quote(kind)},"nonce":"{b64e(nonce)}","record_id":{_quote(record_id)},'
        f'"team":{_quote(team)},"v":{PROTOCOL_VERSION}}}').encode()


class ChangeSigner:
    """Signs changes with a device's Ed25519 key through libsodium (PyNaCl).

    Ed25519 signatures are deterministic (RFC 8032): libsodium makes byte for byte the
    signature OpenSSL makes for the same key and message (tested), at about 70 % of its cost;
    a first push signs tens of thousands of changes."""

    __slots__ = ("_secret",)

    def __init__(self, seed: bytes) -> None:
        if type(seed) is not bytes or len(seed) != KEY_BYTES:
            raise ValueError("an Ed25519 private key of 32 bytes expected")
        self._secret = crypto_sign_seed_keypair(seed)[1]  # seed + public key, 64 bytes

    def sign(self, message: bytes) -> bytes:
        """The 64-byte signature of ``message``."""
        return crypto_sign(message, self._secret)[:SIGNATURE_BYTES]


def change_signature_valid(sign_public: Ed25519PublicKey | bytes, signature: bytes,
                           message: bytes) -> bool:
    """True if ``signature`` is the Ed25519 signature of ``message`` under ``sign_public`` (the
    key object or its 32 raw bytes).

    Verified with libsodium (PyNaCl), not OpenSSL: every change of a sync is verified by the
    server and again by every device, and libsodium's check costs about 60 % of OpenSSL's. It
    is also the stricter one: besides RFC 8032 it refuses public keys and ``R`` values of small
    order, so a device key such as the identity point, under which OpenSSL accepts one
    "signature" for every message, signs nothing here (tested)."""
    raw = sign_public if isinstance(sign_public, bytes) else sign_public.public_bytes_raw()
    # crypto_sign_open reads 32 key bytes and a 64-byte signature without checking lengths.
    if len(raw) != KEY_BYTES or type(signature) is not bytes \
            or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        crypto_sign_open(signature + message, raw)
    except BadSignatureError:
        return False
    return True


# Many checks at once go to two threads: libsodium runs without the GIL (cffi releases it), so
# a second core verifies half of a batch of changes while this thread verifies the other half.
_PARALLEL_FROM = 64
_verifier: ThreadPoolExecutor | None = None
_verifier_lock = threading.Lock()


def _verify_all(checks: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    return [change_signature_valid(key, signature, message)
            for key, signature, message in checks]


def change_signatures_valid(checks: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """:func:`change_signature_valid` of every ``(public key, signature, message)``, in order.

    From ``_PARALLEL_FROM`` checks on, half of them run on a helper thread (made on first use
    in the process, so a forking server makes it in each worker) while the calling thread does
    the other half: a batch's verification takes half the time where a core is free."""
    global _verifier
    if len(checks) < _PARALLEL_FROM:
        return _verify_all(checks)
    with _verifier_lock:
        if _verifier is None:
            _verifier = ThreadPoolExecutor(1, "kimdesk-verify")
        verifier = _verifier
    half = len(checks) // 2
    second = verifier.submit(_verify_all, checks[half:])
    first = _verify_all(checks[:half])
    return first + second.result()


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


# --- erasure reports ---------------------------------------------------------------------------

ERASURE_DOMAIN = b"kimdesk erasure report v1\n"


def erasure_signing_bytes(*, team: str, device_id: str, record_id: str, kind: str,
                          change_id: str) -> bytes:
    """What a device signs (Ed25519) when it reports one of its tombstones for compaction
    (``POST /v1/erasures``): the server drops a record's history only on a report signed with
    the key the device enrolled with, so a stolen or fuzzed token alone drops nothing."""
    return ERASURE_DOMAIN + canonical_json({
        "v": PROTOCOL_VERSION, "team": team, "device_id": device_id, "record_id": record_id,
        "kind": kind, "change_id": change_id})


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
