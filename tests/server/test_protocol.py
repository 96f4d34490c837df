"""The wire helpers both sides share: base64, canonical JSON, fingerprints, signatures, AAD."""

from __future__ import annotations

import hashlib
import os
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kimdesk.sync import protocol
from tests.server.support import Device


def test_base64_round_trips_and_refuses_other_spellings() -> None:
    for data in (b"", b"A", b"\x00\xff" * 7, bytes(range(256))):
        assert protocol.b64d(protocol.b64e(data)) == data
    assert protocol.b64e(b"A") == "QQ=="
    # Same bytes, other padding bits or no padding: a signature over the text would not hold.
    for text in ("QR==", "QQ", "QQ==\n", "Q Q==", "QQ==QQ==", "-_8=", "ÄÖ=="):
        with pytest.raises(ValueError):
            protocol.b64d(text)


def test_canonical_json_is_sorted_compact_utf8() -> None:
    data = protocol.canonical_json({"b": 1, "a": ["Jülich", {"y": None, "x": True}]})

    assert data == '{"a":["Jülich",{"x":true,"y":null}],"b":1}'.encode()
    with pytest.raises(ValueError):
        protocol.canonical_json({"x": float("nan")})


def test_fingerprint_is_eight_groups_of_upper_hex_from_both_keys() -> None:
    device = Device()
    text = protocol.fingerprint(device.sign_public, device.box_public)

    assert re.fullmatch(r"[0-9A-F]{4}(-[0-9A-F]{4}){7}", text)
    digest = hashlib.sha256(device.sign_public + device.box_public).hexdigest().upper()
    assert text.replace("-", "") == digest[:32]
    assert text != protocol.fingerprint(device.box_public, device.sign_public)


def test_an_envelope_signature_covers_every_field_and_the_team() -> None:
    granter, recipient = Device(device_id="a" * 32, team="nord"), Device(device_id="b" * 32)
    envelope = granter.seal(recipient, 3, b"k" * 32)

    assert protocol.verify_envelope_signature(granter.sign_public, envelope, "nord")
    assert not protocol.verify_envelope_signature(granter.sign_public, envelope, "sued")
    assert not protocol.verify_envelope_signature(recipient.sign_public, envelope, "nord")
    for name, other in (("epoch", 4), ("recipient_id", "c" * 32), ("granter_id", "c" * 32),
                        ("nonce", protocol.b64e(b"\x00" * 12)),
                        ("ciphertext", protocol.b64e(b"\x01" * 48)),
                        ("ephemeral_public", protocol.b64e(b"\x02" * 32)),
                        ("signature", protocol.b64e(b"\x03" * 64)), ("signature", "kaputt")):
        assert not protocol.verify_envelope_signature(
            granter.sign_public, {**envelope, name: other}, "nord"), name
    assert not protocol.verify_envelope_signature(b"short", envelope, "nord")
    assert not protocol.verify_envelope_signature(granter.sign_public, {}, "nord")


def test_signing_bytes_are_canonical_json_with_version() -> None:
    data = protocol.envelope_signing_bytes("nord", 1, "r", "g", "RQ==", "Tg==", "Qw==")

    assert data == (b'{"ciphertext":"Qw==","ephemeral_public":"RQ==","epoch":1,"granter_id":"g",'
                    b'"nonce":"Tg==","recipient_id":"r","team":"nord","v":1}')
    signature = Ed25519PrivateKey.generate()
    assert len(signature.sign(data)) == 64


def test_record_aad_binds_every_part() -> None:
    base = protocol.record_aad("nord", "r1", "clients", "0001-a", 1)
    others = {protocol.record_aad("ost", "r1", "clients", "0001-a", 1),
              protocol.record_aad("nord", "r2", "clients", "0001-a", 1),
              protocol.record_aad("nord", "r1", "cases", "0001-a", 1),
              protocol.record_aad("nord", "r1", "clients", "0002-a", 1),
              protocol.record_aad("nord", "r1", "clients", "0001-a", 2)}

    assert base not in others and len(others) == 5


def test_team_checksum_is_order_free_and_defined_for_nothing() -> None:
    pairs = [("r2", "0005"), ("r1", "0009")]

    def share(text: bytes) -> int:
        return int.from_bytes(hashlib.sha256(text).digest(), "big")

    assert protocol.team_checksum([]) == "0" * 64
    assert protocol.team_checksum(pairs) == protocol.team_checksum(reversed(pairs))
    expected = (share(b"r1:0009\n") + share(b"r2:0005\n")) % 2 ** 256
    assert protocol.team_checksum(pairs) == f"{expected:064x}"
    assert protocol.team_checksum(pairs) != protocol.team_checksum([("r2", "0006"),
                                                                     ("r1", "0009")])


def test_the_team_checksum_follows_a_record_by_subtracting_its_old_share() -> None:
    """What the server does on push: old share out, new share in, no other record read."""
    pairs = {f"r{n}": f"{n:04d}" for n in range(50)}
    total = sum(protocol.record_digest(r, h) for r, h in pairs.items())

    total += protocol.record_digest("r7", "9999") - protocol.record_digest("r7", pairs["r7"])
    pairs["r7"] = "9999"

    assert protocol.checksum_text(total) == protocol.team_checksum(pairs.items())




def test_a_change_signature_is_checked_strictly() -> None:
    """libsodium's Ed25519 check: what an honest key signs verifies (as key object or raw
    bytes), anything altered does not, and a key of small order signs nothing. Under OpenSSL's
    check (before), a device enrolled with the identity point as its key had one "signature"
    (identity R, S = 0) that held for every message: a server could have written any change in
    that device's name."""
    device = Device()
    message = protocol.CHANGE_DOMAIN + b'{"change_id":"x"}'
    signature = device.sign_key.sign(message)
    assert protocol.change_signature_valid(device.sign_public, signature, message)
    assert protocol.change_signature_valid(device.sign_key.public_key(), signature, message)
    assert not protocol.change_signature_valid(device.sign_public, signature, message + b" ")
    assert not protocol.change_signature_valid(
        device.sign_public, bytes([signature[0] ^ 1]) + signature[1:], message)
    assert not protocol.change_signature_valid(Device().sign_public, signature, message)
    for short in (signature[:63], signature + b"\x00", b""):
        assert not protocol.change_signature_valid(device.sign_public, short, message)
    assert not protocol.change_signature_valid(device.sign_public[:31], signature, message)

    identity = bytes([1]) + bytes(31)
    forged = identity + bytes(32)
    for any_message in (message, b"eine andere Nachricht"):
        assert not protocol.change_signature_valid(identity, forged, any_message)


def test_the_change_signer_makes_openssls_signature_byte_for_byte() -> None:
    """The client signs changes through libsodium (faster); Ed25519 is deterministic, so every
    signature is the one OpenSSL makes for the same key and message, and it verifies."""
    for size in (0, 1, 63, 64, 200, 5000):
        seed = os.urandom(32)
        message = protocol.CHANGE_DOMAIN + os.urandom(size)
        signature = protocol.ChangeSigner(seed).sign(message)
        openssl = Ed25519PrivateKey.from_private_bytes(seed)
        assert signature == openssl.sign(message)
        public = openssl.public_key().public_bytes_raw()
        assert protocol.change_signature_valid(public, signature, message)
        assert not protocol.change_signature_valid(public, signature, message + b"x")
    for bad in (b"", os.urandom(31), os.urandom(33), bytearray(32)):
        with pytest.raises(ValueError):
            protocol.ChangeSigner(bad)
