"""Keys of sync: device key pairs, team keys, sealed and signed key envelopes, record ciphers.

A team key is wrapped for one device with RFC 9180 HPKE (base mode, DHKEM(X25519, HKDF-SHA256),
HKDF-SHA256, AES-256-GCM; ``cryptography.hazmat.primitives.hpke``). The HPKE ``info`` holds the
whole context: purpose and format, team, epoch, recipient device id and fingerprint, granter
device id and fingerprint, so an envelope opens only as what it was made for (another epoch,
team or device fails even if its granter signed the altered fields). The envelope is signed
(Ed25519) by the device that granted it. Envelopes of the hand-made format of before (ephemeral
X25519 + HKDF + AES-GCM, "format 1") are opened, never written (protocol.envelope_format).

A change is encrypted with AES-256-GCM under the team key of its epoch; team, record id, kind,
HLC and epoch are the AAD, so a ciphertext moved to another record (or epoch) fails to decrypt.
A sync encrypts and decrypts thousands of changes: :class:`RecordCipher` holds the AES-GCM
object of one team key for all of them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
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


HPKE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
ENVELOPE_PURPOSE = "kimdesk team key envelope v2"
_ENC_BYTES = 32  # HPKE's encapsulated key for DHKEM(X25519)
_TEAM_KEY_BYTES = 32


def envelope_info(*, team: str, epoch: int, recipient_id: str, recipient_fingerprint: str,
                  granter_id: str, granter_fingerprint: str) -> bytes:
    """The HPKE ``info`` of an envelope: everything it is for, as canonical JSON."""
    return protocol.canonical_json({
        "purpose": ENVELOPE_PURPOSE, "suite": protocol.HPKE_SUITE_NAME, "team": team,
        "epoch": epoch, "recipient_id": recipient_id,
        "recipient_fingerprint": recipient_fingerprint, "granter_id": granter_id,
        "granter_fingerprint": granter_fingerprint})


def seal_team_key(*, team_key: bytes, team: str, epoch: int, recipient_id: str,
                  recipient_sign_public: bytes, recipient_box_public: bytes, granter_id: str,
                  granter: DeviceKeys) -> dict[str, Any]:
    """An HPKE envelope that only ``recipient`` can open, signed by ``granter``."""
    info = envelope_info(
        team=team, epoch=epoch, recipient_id=recipient_id,
        recipient_fingerprint=protocol.fingerprint(recipient_sign_public, recipient_box_public),
        granter_id=granter_id, granter_fingerprint=granter.fingerprint)
    sealed = HPKE_SUITE.encrypt(team_key, X25519PublicKey.from_public_bytes(
        recipient_box_public), info=info)
    enc_b64 = protocol.b64e(sealed[:_ENC_BYTES])
    ciphertext_b64 = protocol.b64e(sealed[_ENC_BYTES:])
    envelope: dict[str, Any] = {
        "recipient_id": recipient_id,
        "epoch": epoch,
        "granter_id": granter_id,
        "ephemeral_public": enc_b64,
        "nonce": protocol.ENVELOPE_HPKE_MARK,
        "ciphertext": ciphertext_b64,
    }
    message = protocol.envelope_signing_bytes(
        team, epoch, recipient_id, granter_id, enc_b64, protocol.ENVELOPE_HPKE_MARK,
        ciphertext_b64)
    signer = Ed25519PrivateKey.from_private_bytes(granter.sign_private)
    envelope["signature"] = protocol.b64e(signer.sign(message))
    return envelope


def open_team_key(envelope: dict[str, Any], *, team: str, recipient_id: str,
                  recipient: DeviceKeys, granter_sign_public: bytes,
                  granter_box_public: bytes) -> bytes:
    """The team key from an envelope addressed to this device, after checking that the granter
    (whose certified keys the caller passes) signed it; DecryptionFailed otherwise."""
    if envelope.get("recipient_id") != recipient_id:
        raise DecryptionFailed("Der Teamschlüssel ist nicht für dieses Gerät bestimmt.")
    if not protocol.verify_envelope_signature(granter_sign_public, envelope, team):
        raise DecryptionFailed("Der Teamschlüssel ist nicht gültig signiert.")
    epoch = int(envelope["epoch"])
    granter_id = str(envelope["granter_id"])
    try:
        enc = protocol.b64d(envelope["ephemeral_public"])
        ciphertext = protocol.b64d(envelope["ciphertext"])
        if protocol.envelope_format(envelope) == 1:
            key = _open_format_1(enc, protocol.b64d(envelope["nonce"]), ciphertext, team=team,
                                 epoch=epoch, recipient_id=recipient_id, granter_id=granter_id,
                                 recipient=recipient)
        else:
            info = envelope_info(
                team=team, epoch=epoch, recipient_id=recipient_id,
                recipient_fingerprint=recipient.fingerprint, granter_id=granter_id,
                granter_fingerprint=protocol.fingerprint(granter_sign_public,
                                                         granter_box_public))
            key = HPKE_SUITE.decrypt(enc + ciphertext, X25519PrivateKey.from_private_bytes(
                recipient.box_private), info=info)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed("Der Teamschlüssel lässt sich nicht öffnen.") from exc
    if len(key) != _TEAM_KEY_BYTES:
        raise DecryptionFailed("Der Teamschlüssel lässt sich nicht öffnen.")
    return key


def _open_format_1(ephemeral_public: bytes, nonce: bytes, ciphertext: bytes, *, team: str,
                   epoch: int, recipient_id: str, granter_id: str,
                   recipient: DeviceKeys) -> bytes:
    """An envelope written before HPKE (format 1: ephemeral X25519, HKDF-SHA256 with team,
    epoch and recipient in its info, AES-256-GCM with the granter in the AAD). Read only:
    existing installations hold such envelopes of their older epochs."""
    private = X25519PrivateKey.from_private_bytes(recipient.box_private)
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    info = protocol.canonical_json(
        {"purpose": "kimdesk team key v1", "team": team, "epoch": epoch,
         "recipient": recipient_id})
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)
    aad = protocol.canonical_json(
        {"team": team, "epoch": epoch, "recipient": recipient_id, "granter": granter_id})
    return AESGCM(key).decrypt(nonce, ciphertext, aad)


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
