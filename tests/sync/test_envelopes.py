"""Team-key envelopes: RFC 9180 HPKE with the whole context in ``info`` (issue 16), and the
hand-made format of before, which devices still open (existing installations hold such
envelopes of their older epochs) but never write."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

from kimdesk.casework.clients import find_clients
from kimdesk.models import TeamKey
from kimdesk.server.tables import envelopes as server_envelopes
from kimdesk.sync import client, crypto, protocol, trust
from kimdesk.sync.client import SyncClient
from tests.factories import make_person

TEAM_KEY = bytes(range(32))
GRANTER_ID, RECIPIENT_ID, OTHER_ID = "a" * 32, "b" * 32, "c" * 32


def _raw_x25519(public: X25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def seal_format_1(*, team_key: bytes, team: str, epoch: int, recipient_id: str,
                  recipient_box_public: bytes, granter_id: str,
                  granter: crypto.DeviceKeys) -> dict[str, Any]:
    """An envelope as KIMdesk wrote it before HPKE (the former ``crypto.seal_team_key``,
    unchanged): ephemeral X25519, HKDF-SHA256 with team, epoch and recipient in its info,
    AES-256-GCM with the granter in the AAD, signed over the canonical JSON of the fields."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_box_public))
    info = protocol.canonical_json({"purpose": "kimdesk team key v1", "team": team,
                                    "epoch": epoch, "recipient": recipient_id})
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)
    nonce = os.urandom(12)
    aad = protocol.canonical_json({"team": team, "epoch": epoch, "recipient": recipient_id,
                                   "granter": granter_id})
    envelope: dict[str, Any] = {
        "recipient_id": recipient_id, "epoch": epoch, "granter_id": granter_id,
        "ephemeral_public": protocol.b64e(_raw_x25519(ephemeral.public_key())),
        "nonce": protocol.b64e(nonce),
        "ciphertext": protocol.b64e(AESGCM(key).encrypt(nonce, team_key, aad))}
    message = protocol.envelope_signing_bytes(
        team, epoch, recipient_id, granter_id, envelope["ephemeral_public"], envelope["nonce"],
        envelope["ciphertext"])
    envelope["signature"] = protocol.b64e(
        Ed25519PrivateKey.from_private_bytes(granter.sign_private).sign(message))
    return envelope


def _seal(granter: crypto.DeviceKeys, recipient: crypto.DeviceKeys, *, epoch: int = 3,
          team: str = "nord", recipient_id: str = RECIPIENT_ID,
          recipient_sign_public: bytes | None = None) -> dict[str, Any]:
    return crypto.seal_team_key(
        team_key=TEAM_KEY, team=team, epoch=epoch, recipient_id=recipient_id,
        recipient_sign_public=recipient_sign_public or recipient.sign_public,
        recipient_box_public=recipient.box_public, granter_id=GRANTER_ID, granter=granter)


def _open(envelope: dict[str, Any], recipient: crypto.DeviceKeys, granter: crypto.DeviceKeys,
          *, team: str = "nord", recipient_id: str = RECIPIENT_ID) -> bytes:
    return crypto.open_team_key(envelope, team=team, recipient_id=recipient_id,
                                recipient=recipient, granter_sign_public=granter.sign_public,
                                granter_box_public=granter.box_public)


def _resigned(envelope: dict[str, Any], granter: crypto.DeviceKeys, team: str = "nord",
              **changes: Any) -> dict[str, Any]:
    """``envelope`` with ``changes``, signed again by its granter: only HPKE's ``info`` can
    still tell that it was made for something else."""
    altered = {**envelope, **changes}
    message = protocol.envelope_signing_bytes(
        team, altered["epoch"], altered["recipient_id"], altered["granter_id"],
        altered["ephemeral_public"], altered["nonce"], altered["ciphertext"])
    altered["signature"] = protocol.b64e(
        Ed25519PrivateKey.from_private_bytes(granter.sign_private).sign(message))
    return altered


def test_an_hpke_envelope_opens_for_its_recipient_and_is_standard_rfc_9180():
    granter, recipient = crypto.DeviceKeys.generate(), crypto.DeviceKeys.generate()
    envelope = _seal(granter, recipient)

    assert protocol.envelope_format(envelope) == 2
    assert envelope["nonce"] == protocol.ENVELOPE_HPKE_MARK
    assert _open(envelope, recipient, granter) == TEAM_KEY
    assert protocol.verify_envelope_signature(granter.sign_public, envelope, "nord")
    # Plain RFC 9180 single-shot HPKE opens it with the documented info: nothing hand-made.
    info = protocol.canonical_json({
        "purpose": "kimdesk team key envelope v2", "suite": protocol.HPKE_SUITE_NAME,
        "team": "nord", "epoch": 3, "recipient_id": RECIPIENT_ID,
        "recipient_fingerprint": recipient.fingerprint, "granter_id": GRANTER_ID,
        "granter_fingerprint": granter.fingerprint})
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    sealed = protocol.b64d(envelope["ephemeral_public"]) + protocol.b64d(envelope["ciphertext"])
    assert suite.decrypt(sealed, X25519PrivateKey.from_private_bytes(recipient.box_private),
                         info=info) == TEAM_KEY
    # Each envelope is fresh (new encapsulation), and the team key is not in it.
    again = _seal(granter, recipient)
    assert again["ephemeral_public"] != envelope["ephemeral_public"]
    assert protocol.b64e(TEAM_KEY) not in str(envelope)


def test_another_device_cannot_open_an_envelope():
    granter, recipient, mallory = (crypto.DeviceKeys.generate() for _ in range(3))
    envelope = _seal(granter, recipient)

    with pytest.raises(crypto.DecryptionFailed):
        _open(envelope, mallory, granter)  # the recipient's id, another device's key
    with pytest.raises(crypto.DecryptionFailed):
        _open(envelope, recipient, granter, recipient_id=OTHER_ID)  # addressed to another id
    with pytest.raises(crypto.DecryptionFailed):
        _open(envelope, recipient, mallory)  # a granter that did not sign it


@pytest.mark.parametrize("replay", ["epoch 3 as epoch 4", "for another team",
                                    "for another device id", "for another fingerprint",
                                    "from another granter id"])
def test_an_envelope_replayed_in_another_context_does_not_open(replay):
    granter, recipient = crypto.DeviceKeys.generate(), crypto.DeviceKeys.generate()
    team, recipient_id = "nord", RECIPIENT_ID
    if replay == "for another fingerprint":
        # Made for the same box key under another device's fingerprint (a server that swapped
        # the signing key of a device, then handed it the result).
        envelope = _seal(granter, recipient,
                         recipient_sign_public=crypto.DeviceKeys.generate().sign_public)
    else:
        envelope = _seal(granter, recipient)
    unchanged = dict(envelope)
    if replay == "epoch 3 as epoch 4":
        changes: dict[str, Any] = {"epoch": 4}
    elif replay == "for another team":
        changes, team = {}, "sued"
    elif replay == "for another device id":
        changes, recipient_id = {"recipient_id": OTHER_ID}, OTHER_ID
    elif replay == "from another granter id":
        changes = {"granter_id": OTHER_ID}
    else:
        changes = {}

    # As the server could alter it: the granter's signature no longer fits.
    if changes or team != "nord":
        with pytest.raises(crypto.DecryptionFailed, match="signiert"):
            _open({**unchanged, **changes}, recipient, granter, team=team,
                  recipient_id=recipient_id)
    # Even signed again by the granter itself, HPKE's info refuses it.
    resigned = _resigned(unchanged, granter, team, **changes)
    assert protocol.verify_envelope_signature(granter.sign_public, resigned, team)
    with pytest.raises(crypto.DecryptionFailed, match="nicht öffnen"):
        _open(resigned, recipient, granter, team=team, recipient_id=recipient_id)


def test_an_altered_envelope_does_not_open():
    granter, recipient = crypto.DeviceKeys.generate(), crypto.DeviceKeys.generate()
    envelope = _seal(granter, recipient)
    flipped = bytearray(protocol.b64d(envelope["ciphertext"]))
    flipped[0] ^= 1
    other_enc = _raw_x25519(X25519PrivateKey.generate().public_key())
    for changes in ({"ciphertext": protocol.b64e(bytes(flipped))},
                    {"ephemeral_public": protocol.b64e(other_enc)},
                    {"ciphertext": protocol.b64e(b"short")}):
        with pytest.raises(crypto.DecryptionFailed):
            _open({**envelope, **changes}, recipient, granter)
        with pytest.raises(crypto.DecryptionFailed):
            _open(_resigned(envelope, granter, **changes), recipient, granter)


def test_an_envelope_of_the_format_before_hpke_still_opens_but_cannot_be_confused():
    granter, recipient = crypto.DeviceKeys.generate(), crypto.DeviceKeys.generate()
    old = seal_format_1(team_key=TEAM_KEY, team="nord", epoch=3, recipient_id=RECIPIENT_ID,
                        recipient_box_public=recipient.box_public, granter_id=GRANTER_ID,
                        granter=granter)

    assert protocol.envelope_format(old) == 1
    assert _open(old, recipient, granter) == TEAM_KEY  # existing devices keep their keys
    with pytest.raises(crypto.DecryptionFailed):
        _open(_resigned(old, granter, epoch=4), recipient, granter)  # context still bound
    with pytest.raises(crypto.DecryptionFailed):
        _open(old, recipient, granter, team="sued")
    # A new envelope relabelled as the old format (a downgrade by the server) fails: the
    # formats sign different, domain-separated bytes.
    new = _seal(granter, recipient)
    downgraded = {**new, "nonce": protocol.b64e(os.urandom(12))}
    assert not protocol.verify_envelope_signature(granter.sign_public, downgraded, "nord")
    with pytest.raises(crypto.DecryptionFailed):
        _open(downgraded, recipient, granter)


def test_devices_write_only_hpke_envelopes_and_read_those_of_before(devices, team):
    """An installation from before HPKE: the coordinator confirmed Ewa with an envelope of
    format 1 (the server took it as the old client sent it). After the update Ewa still opens
    it and reads the team's records; every envelope written since is HPKE, and the next
    rotation gives every device an HPKE envelope of the new epoch."""
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(jonas)
    team.join(ewa, confirm=False)
    person = make_person(anna, consent=True, last_name="Ebrahimi")
    team.sync(anna)
    anna_client = SyncClient(anna, team.http)
    ewa_device = client.enrolled_device(ewa)
    anna_device = client.enrolled_device(anna)
    certificate = trust.certify(team=team.team, fingerprint=ewa_device.fingerprint,
                                role="member", issuer=anna_device.fingerprint,
                                signer_private=anna_device.sign_private)
    anna_client._post("/trust", {"documents": [certificate]}).raise_for_status()
    with anna.vault.reading() as session:
        team_key = session.get(TeamKey, 1).key
    old = seal_format_1(
        team_key=team_key, team=team.team, epoch=1, recipient_id=ewa_device.device_id,
        recipient_box_public=crypto.DeviceKeys(ewa_device.sign_private,
                                               ewa_device.box_private).box_public,
        granter_id=anna_device.device_id,
        granter=crypto.DeviceKeys(anna_device.sign_private, anna_device.box_private))
    anna_client._post("/envelopes", {"envelopes": [old]}).raise_for_status()

    assert team.sync(ewa).state == "active"
    assert [hit.id for hit in find_clients(ewa, "Ebrahimi")] == [person.id]

    team.revoke(jonas)
    team.sync(anna)  # rotation to epoch 2
    team.sync(ewa)
    with ewa.vault.reading() as session:
        assert session.get(TeamKey, 2) is not None
    with team.db.engine.connect() as conn:
        rows = conn.execute(select(server_envelopes)).all()
    formats = {(row.recipient_id, row.epoch): protocol.envelope_format(row._mapping)
               for row in rows}
    assert formats.pop((ewa_device.device_id, 1)) == 1  # the one written before the update
    assert set(formats.values()) == {2}
    assert (ewa_device.device_id, 2) in formats
