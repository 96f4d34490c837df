"""Keys of sync: device key pairs, team keys, sealed and signed key envelopes, record ciphers.

A team key is wrapped for one device HPKE-style (ephemeral X25519 + HKDF-SHA256 + AES-256-GCM)
and the envelope is signed (Ed25519) by the device that granted it. A change is encrypted with
AES-256-GCM under the team key of its epoch; team, record id, kind, HLC and epoch are the AAD, so
a ciphertext moved to another record (or epoch) fails to decrypt. A sync encrypts and decrypts
thousands of changes: :class:`RecordCipher` holds the AES-GCM object of one team key for all of
them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kimdesk.errors import KimdeskError
from kimdesk.sync import protocol

_RAW = serialization.Encoding.Raw
_RAW_PUBLIC = serialization.PublicFormat.Raw
_RAW_PRIVATE = serialization.PrivateFormat.Raw
_NO_ENCRYPTION = serialization.NoEncryption()


class DecryptionFailed(KimdeskError):
    """A ciphertext or envelope that does not open: wrong key, altered, or moved."""


@dataclass(frozen=True)
class DeviceKeys:
    """The two key pairs of a device: Ed25519 to sign, X25519 to receive team keys."""

    sign_private: bytes
    box_private: bytes

    @classmethod
    def generate(cls) -> DeviceKeys:
        sign = Ed25519PrivateKey.generate().private_bytes(_RAW, _RAW_PRIVATE, _NO_ENCRYPTION)
        box = X25519PrivateKey.generate().private_bytes(_RAW, _RAW_PRIVATE, _NO_ENCRYPTION)
        return cls(sign, box)

    @property
    def sign_public(self) -> bytes:
        key = Ed25519PrivateKey.from_private_bytes(self.sign_private)
        return key.public_key().public_bytes(_RAW, _RAW_PUBLIC)

    @property
    def box_public(self) -> bytes:
        key = X25519PrivateKey.from_private_bytes(self.box_private)
        return key.public_key().public_bytes(_RAW, _RAW_PUBLIC)

    @property
    def fingerprint(self) -> str:
        return protocol.fingerprint(self.sign_public, self.box_public)


def new_team_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _envelope_key(shared: bytes, team: str, epoch: int, recipient_id: str) -> bytes:
    info = protocol.canonical_json(
        {"purpose": "kimdesk team key v1", "team": team, "epoch": epoch,
         "recipient": recipient_id})
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def _envelope_aad(team: str, epoch: int, recipient_id: str, granter_id: str) -> bytes:
    return protocol.canonical_json(
        {"team": team, "epoch": epoch, "recipient": recipient_id, "granter": granter_id})


def seal_team_key(*, team_key: bytes, team: str, epoch: int, recipient_id: str,
                  recipient_box_public: bytes, granter_id: str,
                  granter: DeviceKeys) -> dict[str, Any]:
    """An envelope that only ``recipient`` can open, signed by ``granter``."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_box_public))
    key = _envelope_key(shared, team, epoch, recipient_id)
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(
        nonce, team_key, _envelope_aad(team, epoch, recipient_id, granter_id))
    ephemeral_b64 = protocol.b64e(ephemeral.public_key().public_bytes(_RAW, _RAW_PUBLIC))
    nonce_b64, ciphertext_b64 = protocol.b64e(nonce), protocol.b64e(ciphertext)
    envelope: dict[str, object] = {
        "recipient_id": recipient_id,
        "epoch": epoch,
        "granter_id": granter_id,
        "ephemeral_public": ephemeral_b64,
        "nonce": nonce_b64,
        "ciphertext": ciphertext_b64,
    }
    message = protocol.envelope_signing_bytes(
        team, epoch, recipient_id, granter_id, ephemeral_b64, nonce_b64, ciphertext_b64)
    signer = Ed25519PrivateKey.from_private_bytes(granter.sign_private)
    envelope["signature"] = protocol.b64e(signer.sign(message))
    return envelope


def open_team_key(envelope: dict[str, Any], *, team: str, recipient_id: str,
                  recipient: DeviceKeys, granter_sign_public: bytes) -> bytes:
    """The team key from an envelope addressed to this device, after checking its signature."""
    message = protocol.envelope_signing_bytes(
        team, int(envelope["epoch"]), recipient_id, envelope["granter_id"],
        envelope["ephemeral_public"], envelope["nonce"], envelope["ciphertext"])
    try:
        Ed25519PublicKey.from_public_bytes(granter_sign_public).verify(
            protocol.b64d(envelope["signature"]), message)
    except (InvalidSignature, ValueError) as exc:
        raise DecryptionFailed("Der Teamschlüssel ist nicht gültig signiert.") from exc
    private = X25519PrivateKey.from_private_bytes(recipient.box_private)
    shared = private.exchange(
        X25519PublicKey.from_public_bytes(protocol.b64d(envelope["ephemeral_public"])))
    key = _envelope_key(shared, team, int(envelope["epoch"]), recipient_id)
    try:
        return AESGCM(key).decrypt(
            protocol.b64d(envelope["nonce"]), protocol.b64d(envelope["ciphertext"]),
            _envelope_aad(team, int(envelope["epoch"]), recipient_id, envelope["granter_id"]))
    except InvalidTag as exc:
        raise DecryptionFailed("Der Teamschlüssel lässt sich nicht öffnen.") from exc


class RecordCipher:
    """AES-256-GCM of changes under one team key: one cipher object for every change of a sync
    (made once per key, not once per change). Plaintexts are JSON objects."""

    __slots__ = ("_aead", "_team")

    def __init__(self, team_key: bytes, team: str) -> None:
        self._aead = AESGCM(team_key)
        self._team = team

    def encrypt(self, *, record_id: str, kind: str, hlc: str, epoch: int,
                plaintext: bytes) -> tuple[bytes, bytes]:
        """(nonce, ciphertext) of a serialised payload, raw bytes."""
        nonce = os.urandom(12)
        aad = protocol.record_aad(self._team, record_id, kind, hlc, epoch)
        return nonce, self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, *, record_id: str, kind: str, hlc: str, epoch: int, nonce: bytes,
                ciphertext: bytes) -> dict[str, Any]:
        """The payload; :class:`DecryptionFailed` if the ciphertext does not open here."""
        aad = protocol.record_aad(self._team, record_id, kind, hlc, epoch)
        try:
            plain = self._aead.decrypt(nonce, ciphertext, aad)
        except (InvalidTag, ValueError) as exc:
            raise DecryptionFailed(
                "Eine Änderung vom Server lässt sich nicht entschlüsseln (verändert oder "
                "einem anderen Datensatz zugeordnet).") from exc
        payload: dict[str, Any] = json.loads(plain)
        return payload


def encrypt_change(team_key: bytes, *, team: str, record_id: str, kind: str, hlc: str,
                   epoch: int, payload: dict[str, Any]) -> tuple[str, str]:
    """(nonce, ciphertext), both base64."""
    nonce, ciphertext = RecordCipher(team_key, team).encrypt(
        record_id=record_id, kind=kind, hlc=hlc, epoch=epoch,
        plaintext=protocol.canonical_json(payload))
    return protocol.b64e(nonce), protocol.b64e(ciphertext)


def decrypt_change(team_key: bytes, *, team: str, record_id: str, kind: str, hlc: str,
                   epoch: int, nonce: str, ciphertext: str) -> dict[str, Any]:
    try:
        nonce_raw, ciphertext_raw = protocol.b64d(nonce), protocol.b64d(ciphertext)
    except ValueError as exc:
        raise DecryptionFailed(
            "Eine Änderung vom Server lässt sich nicht entschlüsseln (verändert oder "
            "einem anderen Datensatz zugeordnet).") from exc
    return decrypt_change_bytes(team_key, team=team, record_id=record_id, kind=kind, hlc=hlc,
                                epoch=epoch, nonce=nonce_raw, ciphertext=ciphertext_raw)


def decrypt_change_bytes(team_key: bytes, *, team: str, record_id: str, kind: str, hlc: str,
                         epoch: int, nonce: bytes, ciphertext: bytes) -> dict[str, Any]:
    """:func:`decrypt_change` for a change whose base64 the caller decoded already."""
    return RecordCipher(team_key, team).decrypt(record_id=record_id, kind=kind, hlc=hlc,
                                                epoch=epoch, nonce=nonce, ciphertext=ciphertext)
