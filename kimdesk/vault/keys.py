"""Key derivation and wrapping: Argon2id, AES-256-GCM, HKDF and the X25519 recovery wrap.

Key hierarchy (DESIGN.md): password → Argon2id → KEK → unwraps the random DB key; the DB key is
SQLCipher's raw key and, through HKDF, the parent of the attachment key. The audit key derives
from the vault's first DB key (the "derivation root"), which a re-key keeps wrapped in the header,
so the audit chain still verifies after the DB key was replaced.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
_TAG_BYTES = 16
# Bounds for KDF parameters read from a header. The header's MAC can only be checked after the
# KDF has run, so an altered header must not be able to make Argon2 fail with a raw error or
# hold the machine for minutes (memory) or hours (iterations).
_KDF_SALT_BYTES = (8, 64)
_KDF_MAX_MEMORY_KIB = 1024 * 1024
_KDF_MAX_ITERATIONS = 16
_KDF_MAX_LANES = 64
# Crockford's base32 alphabet: no I, L, O, U, so a printed code cannot be misread.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters, stored in the vault header so they can be raised later."""

    salt: bytes
    memory_kib: int = 128 * 1024
    iterations: int = 3
    lanes: int = 4

    @classmethod
    def new(cls, memory_kib: int = 128 * 1024, iterations: int = 3, lanes: int = 4) -> KdfParams:
        if memory_kib < 64 * 1024 or iterations < 3:
            raise ValueError("Argon2id below 64 MiB / t=3 is not allowed for a vault")
        return cls(salt=os.urandom(16), memory_kib=memory_kib, iterations=iterations, lanes=lanes)

    @classmethod
    def for_tests(cls) -> KdfParams:
        """Cheap parameters for the test suite only; never reachable from the CLI or UI."""
        return cls(salt=os.urandom(16), memory_kib=1024, iterations=1, lanes=1)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["salt"] = b64(self.salt)
        data["name"] = "argon2id"
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> KdfParams:
        """Parameters from a header; ``ValueError`` for anything Argon2id should not be run with."""
        if data.get("name") != "argon2id":
            raise ValueError("unknown KDF")
        salt = unb64(str(data["salt"]))
        if not _KDF_SALT_BYTES[0] <= len(salt) <= _KDF_SALT_BYTES[1]:
            raise ValueError("KDF salt length out of range")
        lanes = _bounded_int(data["lanes"], 1, _KDF_MAX_LANES)
        return cls(
            salt=salt,
            memory_kib=_bounded_int(data["memory_kib"], 8 * lanes, _KDF_MAX_MEMORY_KIB),
            iterations=_bounded_int(data["iterations"], 1, _KDF_MAX_ITERATIONS),
            lanes=lanes,
        )


def _bounded_int(value: object, low: int, high: int) -> int:
    # bool is an int subclass; a header saying "lanes": true has been altered.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"expected an integer in [{low}, {high}], got {value!r}")
    return value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def derive_kek(password: str, params: KdfParams) -> bytes:
    """Key-encryption key from the user's password (Argon2id)."""
    kdf = Argon2id(
        salt=params.salt,
        length=KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return kdf.derive(password.encode("utf-8"))


def hkdf(key: bytes, info: str, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info.encode()).derive(
        key
    )


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


@dataclass(frozen=True)
class Wrapped:
    """A key sealed with AES-256-GCM; ``aad`` is not stored, the caller must supply it again."""

    nonce: bytes
    ciphertext: bytes

    def to_json(self) -> dict[str, str]:
        return {"nonce": b64(self.nonce), "ciphertext": b64(self.ciphertext)}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Wrapped:
        """A wrapped key from a header; ``ValueError`` if its parts have the wrong size."""
        wrapped = cls(nonce=unb64(data["nonce"]), ciphertext=unb64(data["ciphertext"]))
        if len(wrapped.nonce) != NONCE_BYTES or len(wrapped.ciphertext) != KEY_BYTES + _TAG_BYTES:
            raise ValueError("wrapped key has the wrong size")
        return wrapped


def wrap(kek: bytes, secret: bytes, aad: bytes) -> Wrapped:
    nonce = os.urandom(NONCE_BYTES)
    return Wrapped(nonce, AESGCM(kek).encrypt(nonce, secret, aad))


def unwrap(kek: bytes, wrapped: Wrapped, aad: bytes) -> bytes | None:
    """The secret, or None when the key is wrong or the wrap was altered."""
    try:
        return AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, aad)
    except InvalidTag:
        return None


# --- recovery code (printed, 128 bit) ---------------------------------------------------------


def new_recovery_code() -> str:
    """128 random bits as 26 Crockford base32 characters in groups of four (last group two)."""
    value = int.from_bytes(secrets.token_bytes(16), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CODE_ALPHABET[digit])
    code = "".join(reversed(chars))
    return "-".join(code[i : i + 4] for i in range(0, 26, 4))


# Dashes a word processor or PDF viewer may put in place of the printed hyphen.
_DASHES = str.maketrans("", "", "-\u2010\u2011\u2012\u2013\u2014\u2212")


def normalise_recovery_code(code: str) -> str:
    """Accepts what a person types: any case, spaces or dashes, O for 0, I/L for 1."""
    cleaned = "".join(code.upper().translate(_DASHES).split())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    return cleaned


def is_well_formed_recovery_code(code: str) -> bool:
    """True when ``code`` (as typed) normalises to 26 characters of the printed alphabet."""
    cleaned = normalise_recovery_code(code)
    return len(cleaned) == 26 and all(char in _CODE_ALPHABET for char in cleaned)


def recovery_code_key(code: str, salt: bytes) -> bytes:
    # The code carries 128 bits of entropy, so a fast KDF is enough; no brute force is feasible.
    return hkdf(normalise_recovery_code(code).encode("ascii"), "kimdesk recovery code v1", salt)


# --- county recovery wrap (X25519, HPKE-style) -------------------------------------------------


@dataclass(frozen=True)
class SealedForRecipient:
    ephemeral_public: bytes
    recipient_public: bytes
    wrapped: Wrapped

    def to_json(self) -> dict[str, object]:
        return {
            "ephemeral_public": b64(self.ephemeral_public),
            "recipient_public": b64(self.recipient_public),
            **self.wrapped.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> SealedForRecipient:
        sealed = cls(
            unb64(data["ephemeral_public"]),
            unb64(data["recipient_public"]),
            Wrapped.from_json(data),
        )
        if len(sealed.ephemeral_public) != KEY_BYTES or len(sealed.recipient_public) != KEY_BYTES:
            raise ValueError("X25519 public key has the wrong size")
        return sealed


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _sealing_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    return hkdf(shared, "kimdesk sealed key v1", salt=ephemeral_public + recipient_public)


def seal_for(recipient: X25519PublicKey, secret: bytes, aad: bytes) -> SealedForRecipient:
    ephemeral = X25519PrivateKey.generate()
    eph_pub = _raw_public(ephemeral.public_key())
    rec_pub = _raw_public(recipient)
    key = _sealing_key(ephemeral.exchange(recipient), eph_pub, rec_pub)
    return SealedForRecipient(eph_pub, rec_pub, wrap(key, secret, aad))


def open_sealed(private: X25519PrivateKey, sealed: SealedForRecipient, aad: bytes) -> bytes | None:
    """The secret, or None when the private key does not fit or the seal was altered."""
    try:
        eph = X25519PublicKey.from_public_bytes(sealed.ephemeral_public)
        shared = private.exchange(eph)
    except ValueError:  # an altered ephemeral key of low order gives no shared secret
        return None
    key = _sealing_key(shared, sealed.ephemeral_public, sealed.recipient_public)
    return unwrap(key, sealed.wrapped, aad)


def load_public_key_pem(pem: bytes) -> X25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, X25519PublicKey):
        raise ValueError("not an X25519 public key")
    return key


def load_private_key_pem(pem: bytes, passphrase: bytes | None = None) -> X25519PrivateKey:
    """The county's private recovery key from PEM (PKCS#8, optionally with a passphrase)."""
    key = serialization.load_pem_private_key(pem, password=passphrase)
    if not isinstance(key, X25519PrivateKey):
        raise ValueError("not an X25519 private key")
    return key
