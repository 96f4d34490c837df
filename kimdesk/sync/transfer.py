"""Cases that move between teams over the county server (issue 15), as steps of a sync.

:func:`before_push` runs in :meth:`SyncClient.run` after the keys and before the push (upload
and import), :func:`after_pull` after the pull (removal), and they do whatever this device's
transfers need next:

- **upload** (sending team): the bundle of a requested transfer
  (:func:`kimdesk.casework.transfer.export_bundle`) is encrypted with a fresh bundle key
  (AES-256-GCM, chunks of ``BLOB_CHUNK_BYTES``, the chunk's index and count in the AAD); the
  key is sealed with RFC 9180 HPKE (the suite of :mod:`kimdesk.sync.crypto`) for every active
  device of the receiving team whose keys carry a certificate that chains to the county root
  pinned in this vault (the server's list is never believed); the header (teams, sender,
  envelopes, each chunk's SHA-256) is signed by this device. Declared, uploaded (resumable)
  and sealed on the server;
- **import** (receiving team): a sealed transfer for this team is verified (the sender is a
  certified device of the sending team, its signature holds, the chunks match the header),
  decrypted and applied in ONE vault transaction
  (:func:`kimdesk.casework.transfer.import_bundle`), idempotent by the transfer id; then this
  device posts its signed acknowledgement (the server drops the ciphertext). The push of the
  same sync shares the records with the team. A bundle that fails a check is quarantined:
  nothing applied, no acknowledgement, a note in the sync report;
- **removal** (sending team): on a verified acknowledgement the sending device erases the moved
  records (:func:`kimdesk.casework.transfer.hand_over`), which a second push of the same sync
  sends as erasures that win and purge on every device of the team; :func:`after_push` then
  deletes the transfer on the server. This comes after the pull, so a colleague's change of the
  file pushed before this sync has arrived: a file changed since its bundle was sealed is not
  erased (``hand_over`` keeps it and says so).

Each step is safe to be killed at any moment (``KIMDESK_SYNC_FAULT`` names the steps of
``FAULT_STEPS``): nothing is marked done before the server or the vault has it, and everything
is repeated by the next sync from where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from kimdesk.casework import transfer as casework
from kimdesk.errors import KimdeskError
from kimdesk.models.changelog import OutboxChange
from kimdesk.models.transfer import (
    ACKNOWLEDGED,
    CLOSED,
    HANDED_OVER,
    IMPORTED,
    IN,
    KEPT,
    KEPT_CLOSED,
    OUT,
    QUARANTINED,
    REQUESTED,
    UPLOADED,
)
from kimdesk.sync import protocol, trust
from kimdesk.sync.crypto import HPKE_SUITE

if TYPE_CHECKING:
    from kimdesk.sync.client import SyncClient

PURPOSE = "kimdesk case transfer v1"  # = kimdesk.server.transfers.PURPOSE
ACK_PURPOSE = "kimdesk case transfer ack v1"
_HEADER_DOMAIN = b"kimdesk case transfer v1\n"
_ACK_DOMAIN = b"kimdesk case transfer ack v1\n"
CHUNK_BYTES = protocol.BLOB_CHUNK_BYTES
_ENC_BYTES = 32
_KEY_BYTES = 32
FAULT_ENV = "KIMDESK_SYNC_FAULT"  # the sync's test hook (kimdesk.sync.client.FAULT_ENV)
FAULT_AFTER_UPLOAD = "transfer-after-upload"  # sealed on the server, not yet noted here
FAULT_MID_IMPORT = "transfer-mid-import"  # inside the import's vault transaction
FAULT_AFTER_IMPORT = "transfer-after-import"  # imported, not yet acknowledged
FAULT_AFTER_ACK = "transfer-after-ack"  # acknowledgement seen by the sender, before erasure
FAULT_STEPS = (FAULT_AFTER_UPLOAD, FAULT_MID_IMPORT, FAULT_AFTER_IMPORT, FAULT_AFTER_ACK)


class TransferRejected(KimdeskError):
    """An incoming bundle that failed verification (German reason, names no person)."""


def _fault(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _chunk_nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")  # a fresh key per transfer: the index never repeats


def _chunk_aad(transfer_id: str, index: int, count: int) -> bytes:
    return protocol.canonical_json({"purpose": PURPOSE, "transfer_id": transfer_id,
                                    "index": index, "chunks": count})


def envelope_info(header: dict[str, Any], recipient_id: str, recipient_fingerprint: str
                  ) -> bytes:
    """The HPKE ``info`` of a bundle key's envelope: everything the envelope is for."""
    return protocol.canonical_json({
        "purpose": PURPOSE, "suite": protocol.HPKE_SUITE_NAME,
        "transfer_id": header["transfer_id"], "from_team": header["from_team"],
        "to_team": header["to_team"], "sender_id": header["sender_id"],
        "sender_fingerprint": header["sender_fingerprint"], "recipient_id": recipient_id,
        "recipient_fingerprint": recipient_fingerprint})


# --- who belongs to another team -------------------------------------------------------------


def verified_members(sync: SyncClient, team: str) -> dict[str, dict[str, Any]]:
    """Device id → keys, fingerprint, role and state of the devices of ``team`` whose keys
    carry a certificate of that team chaining to the county root pinned in this vault (not
    revoked). The server only relays the documents and keys; a replaced key has another
    fingerprint and no certificate."""
    root = sync._device.root_public
    if root is None:
        raise TransferRejected("Diesem Gerät fehlt der öffentliche Schlüssel des Kreises.")
    response = sync._call("GET", f"/teams/{team}/members")
    if response.status_code == 404:
        return {}  # the team is not on the server (yet): nobody to seal for
    answer = _checked(response)
    listed = [d for d in answer.get("devices", []) if isinstance(d, dict)]
    keys: dict[str, bytes] = {}
    found: dict[str, dict[str, Any]] = {}
    for device in listed:
        listed_keys = protocol.listed_device_keys(device)
        if listed_keys is None:
            continue
        sign, box, fingerprint = listed_keys
        keys[fingerprint] = sign
        found[str(device.get("device_id"))] = {
            "device_id": str(device.get("device_id")), "sign": sign, "box": box,
            "fingerprint": fingerprint, "state": str(device.get("state"))}
    verdict = trust.evaluate(root_public=root, team=team,
                             documents=answer.get("documents", []), sign_keys=keys)
    members = {}
    for device_id, device in found.items():
        role = verdict.role(device["fingerprint"])
        if role is not None:
            members[device_id] = {**device, "role": role}
    return members


# --- one sync's steps ------------------------------------------------------------------------


def before_push(sync: SyncClient) -> list[str]:
    """Upload requested transfers and import those waiting for this team. Returns notes for
    the sync report (German, naming no person)."""
    notes: list[str] = []
    for row in casework.transfers(sync._ctx, direction=OUT):
        if row.state == REQUESTED:
            notes += _upload(sync, row.id, row.to_team)
    response = sync._call("GET", "/transfers")
    if response.status_code == 404:
        return notes  # a server from before transfers: nothing can be waiting
    for item in _checked(response).get("incoming", []):
        notes += _receive(sync, item)
    return notes


def after_pull(sync: SyncClient) -> tuple[list[str], bool]:
    """Erase what the other team acknowledged (after the pull, so the version check of
    ``casework.hand_over`` sees the colleagues' changes pushed before) and delete the server's
    remains of a transfer kept here (nothing to push first). Returns the notes for the sync
    report and whether an erased file waits for its erasure to be pushed."""
    notes: list[str] = []
    rows = casework.transfers(sync._ctx, direction=OUT)
    uploaded = [r for r in rows if r.state == UPLOADED]
    if uploaded:
        listing = sync._get("/transfers")
        for row in uploaded:
            notes += _take_acknowledgement(sync, row.id, row.to_team, listing)
        rows = casework.transfers(sync._ctx, direction=OUT)
    for row in rows:
        if row.state == KEPT:
            response = sync._call("DELETE", f"/transfers/{row.id}")
            if response.status_code in (200, 404):
                casework.set_state(sync._ctx, row.id, KEPT_CLOSED)
    return notes, any(r.state == HANDED_OVER for r in rows)


def after_push(sync: SyncClient) -> None:
    """Delete the server's remains of transfers whose erasure this sync pushed."""
    for row in casework.transfers(sync._ctx, direction=OUT):
        if row.state != HANDED_OVER:
            continue
        with sync._ctx.vault.reading() as session:
            waiting = session.scalars(select(OutboxChange.seq).limit(1)).first() is not None
        if waiting:
            return  # the erasure is not on the server yet (pushed at the next sync)
        response = sync._call("DELETE", f"/transfers/{row.id}")
        if response.status_code in (200, 404):
            casework.set_state(sync._ctx, row.id, CLOSED)


def _upload(sync: SyncClient, transfer_id: str, to_team: str) -> list[str]:
    name = casework.team_name(sync._ctx, to_team)
    state = sync._call("GET", f"/transfers/{transfer_id}")
    if state.status_code == 200 and state.json().get("sealed"):
        casework.set_state(sync._ctx, transfer_id, UPLOADED)  # sealed before a crash
        return []
    recipients = [d for d in verified_members(sync, to_team).values() if d["state"] == "active"]
    if not recipients:
        return [f"Übergabe an {name}: dort ist noch kein vom Kreis bestätigtes Gerät bekannt; "
                "die Übergabe wartet und wird beim nächsten Abgleich erneut versucht."]
    plain = protocol.canonical_json(casework.export_bundle(sync._ctx, transfer_id))
    key = AESGCM.generate_key(bit_length=256)
    aead = AESGCM(key)
    count = max(1, -(-len(plain) // CHUNK_BYTES))
    chunks = [aead.encrypt(_chunk_nonce(i), plain[i * CHUNK_BYTES:(i + 1) * CHUNK_BYTES],
                           _chunk_aad(transfer_id, i, count)) for i in range(count)]
    del plain
    header: dict[str, Any] = {
        "purpose": PURPOSE, "v": 1, "transfer_id": transfer_id,
        "from_team": sync._device.team, "to_team": to_team,
        "sender_id": sync._device.device_id, "sender_fingerprint": sync._keys.fingerprint,
        "chunks": count, "digests": [hashlib.sha256(c).hexdigest() for c in chunks]}
    envelopes = []
    for device in sorted(recipients, key=lambda d: str(d["device_id"])):
        sealed = HPKE_SUITE.encrypt(key, X25519PublicKey.from_public_bytes(device["box"]),
                                    info=envelope_info(header, device["device_id"],
                                                       device["fingerprint"]))
        envelopes.append({"recipient_id": device["device_id"],
                          "recipient_fingerprint": device["fingerprint"],
                          "enc": protocol.b64e(sealed[:_ENC_BYTES]),
                          "wrapped": protocol.b64e(sealed[_ENC_BYTES:])})
    header["envelopes"] = envelopes
    text = protocol.canonical_json(header).decode("utf-8")
    signer = Ed25519PrivateKey.from_private_bytes(sync._keys.sign_private)
    signature = protocol.b64e(signer.sign(_HEADER_DOMAIN + text.encode("utf-8")))
    declared = _checked(sync._call("PUT", f"/transfers/{transfer_id}",
                                   json={"header": text, "signature": signature}))
    have = set(declared.get("have", []))
    for index, chunk in enumerate(chunks):
        if index not in have:
            _checked(sync._call("PUT", f"/transfers/{transfer_id}/chunks/{index}",
                                content=chunk))
    _checked(sync._call("POST", f"/transfers/{transfer_id}/seal"))
    _fault(FAULT_AFTER_UPLOAD)
    casework.set_state(sync._ctx, transfer_id, UPLOADED)
    return [f"Übergabe an {name}: verschlüsselt an den Kreis-Server übermittelt; sie wartet "
            "auf die Bestätigung des Teams."]


def _checked(response: Any) -> dict[str, Any]:
    from kimdesk.sync.client import _answer

    return _answer(response)


def _take_acknowledgement(sync: SyncClient, transfer_id: str, to_team: str,
                          listing: dict[str, Any]) -> list[str]:
    item = next((t for t in listing.get("outgoing", [])
                 if t.get("transfer_id") == transfer_id), None)
    if item is None:  # the server lost it before any acknowledgement: send it again
        casework.set_state(sync._ctx, transfer_id, REQUESTED)
        return []
    if not item.get("ack"):
        return []
    members = verified_members(sync, to_team)
    try:
        ack = json.loads(item["ack"])
        device = members.get(str(ack.get("device_id")))
        if device is None or ack.get("purpose") != ACK_PURPOSE or \
                ack.get("transfer_id") != transfer_id or ack.get("team") != to_team or \
                ack.get("fingerprint") != device["fingerprint"] or \
                ack.get("header_sha256") != hashlib.sha256(
                    str(item["header"]).encode("utf-8")).hexdigest():
            raise ValueError
        Ed25519PublicKey.from_public_bytes(device["sign"]).verify(
            protocol.b64d(str(item["ack_signature"])),
            _ACK_DOMAIN + str(item["ack"]).encode("utf-8"))
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return [f"Übergabe an {casework.team_name(sync._ctx, to_team)}: die Bestätigung "
                "ist nicht gültig signiert; die Akte bleibt hier. Bitte die Kreis-IT fragen."]
    _fault(FAULT_AFTER_ACK)
    name = casework.team_name(sync._ctx, to_team)
    done = casework.hand_over(sync._ctx, transfer_id)
    if done == KEPT:
        return [f"Übergabe an {name} bestätigt, aber die Akte wurde hier nach dem Versand noch "
                "geändert: sie bleibt deshalb auch in diesem Team. Bitte die Änderungen mit "
                f"{name} abstimmen und die Akte danach hier löschen."]
    return [f"Übergabe an {name} bestätigt; die Akte wurde in diesem Team gelöscht."]


def _known_state(sync: SyncClient, transfer_id: str) -> str | None:
    for row in casework.transfers(sync._ctx, direction=IN):
        if row.id == transfer_id:
            return row.state
    return None


def _receive(sync: SyncClient, item: dict[str, Any]) -> list[str]:
    transfer_id = str(item.get("transfer_id", ""))
    from_team = str(item.get("from_team", ""))
    known = _known_state(sync, transfer_id)
    if known == QUARANTINED:
        return []
    if known not in (IMPORTED, ACKNOWLEDGED):
        try:
            bundle = open_bundle(sync, item)
        except TransferRejected as exc:
            casework.quarantine(sync._ctx, transfer_id, from_team, sync._device.team,
                                exc.message)
            return [f"Eine Übergabe von {casework.team_name(sync._ctx, from_team)} wurde "
                    f"zurückgehalten (Quarantäne) und nicht übernommen: {exc.message}"]
        if bundle is None:
            return []  # not for this device, or taken over by another device of the team
        size = sum(len(v) for v in bundle.get("records", {}).values())

        def each(index: int) -> None:
            if index == size // 2:
                _fault(FAULT_MID_IMPORT)

        try:
            casework.import_bundle(sync._ctx, bundle, each=each)
        except casework.BundleInvalid as exc:
            casework.quarantine(sync._ctx, transfer_id, from_team, sync._device.team,
                                exc.message)
            return [f"Eine Übergabe von {casework.team_name(sync._ctx, from_team)} wurde "
                    f"zurückgehalten (Quarantäne) und nicht übernommen: {exc.message}"]
        _fault(FAULT_AFTER_IMPORT)
    _acknowledge(sync, item)
    casework.set_state(sync._ctx, transfer_id, ACKNOWLEDGED)
    return [f"Eine Akte von {casework.team_name(sync._ctx, from_team)} wurde übernommen."]


def _acknowledge(sync: SyncClient, item: dict[str, Any]) -> None:
    ack = protocol.canonical_json({
        "purpose": ACK_PURPOSE, "transfer_id": item["transfer_id"],
        "team": sync._device.team, "device_id": sync._device.device_id,
        "fingerprint": sync._keys.fingerprint,
        "header_sha256": hashlib.sha256(str(item["header"]).encode("utf-8")).hexdigest(),
    }).decode("utf-8")
    signer = Ed25519PrivateKey.from_private_bytes(sync._keys.sign_private)
    signature = protocol.b64e(signer.sign(_ACK_DOMAIN + ack.encode("utf-8")))
    response = sync._call("POST", f"/transfers/{item['transfer_id']}/ack",
                          json={"ack": ack, "signature": signature})
    if response.status_code != 409:  # 409: another device of the team acknowledged first
        _checked(response)


def open_bundle(sync: SyncClient, item: dict[str, Any]) -> dict[str, Any] | None:
    """The verified, decrypted bundle of a waiting transfer; None if it holds no envelope for
    this device or another device of the team took it over meanwhile; TransferRejected if
    anything fails a check."""
    text = str(item.get("header", ""))
    try:
        header = json.loads(text)
        if not isinstance(header, dict) or protocol.canonical_json(header).decode() != text:
            raise ValueError
        transfer_id = str(header["transfer_id"])
        count = int(header["chunks"])
        digests = [str(d) for d in header["digests"]]
        envelopes = [e for e in header["envelopes"] if isinstance(e, dict)]
        if header.get("purpose") != PURPOSE or transfer_id != item.get("transfer_id") or \
                header.get("to_team") != sync._device.team or \
                header.get("from_team") != item.get("from_team") or \
                header.get("sender_id") != item.get("sender_id") or \
                len(digests) != count or count < 1:
            raise ValueError
        signature = protocol.b64d(str(item.get("signature", "")))
    except (KeyError, TypeError, ValueError):
        raise TransferRejected("Die Übergabe hat nicht die erwartete Form.") from None
    sender = verified_members(sync, str(header["from_team"])).get(str(header["sender_id"]))
    if sender is None or sender["fingerprint"] != header.get("sender_fingerprint"):
        raise TransferRejected("Die Übergabe stammt von keinem vom Kreis zertifizierten Gerät "
                               "des abgebenden Teams.")
    try:
        Ed25519PublicKey.from_public_bytes(sender["sign"]).verify(
            signature, _HEADER_DOMAIN + text.encode("utf-8"))
    except InvalidSignature:
        raise TransferRejected("Die Übergabe ist nicht gültig signiert.") from None
    own = next((e for e in envelopes if e.get("recipient_id") == sync._device.device_id
                and e.get("recipient_fingerprint") == sync._keys.fingerprint), None)
    if own is None:
        return None
    try:
        sealed = protocol.b64d(str(own["enc"])) + protocol.b64d(str(own["wrapped"]))
        key = HPKE_SUITE.decrypt(sealed, X25519PrivateKey.from_private_bytes(
            sync._keys.box_private), info=envelope_info(header, sync._device.device_id,
                                                         sync._keys.fingerprint))
        if len(key) != _KEY_BYTES:
            raise ValueError
    except (InvalidTag, KeyError, ValueError):
        raise TransferRejected("Der Schlüssel der Übergabe lässt sich nicht öffnen.") from None
    aead = AESGCM(key)
    parts = []
    for index in range(count):
        chunk = sync._call("GET", f"/transfers/{transfer_id}/chunks/{index}")
        if chunk.status_code == 404:
            return None  # another device of the team took it over meanwhile (chunks gone)
        if chunk.status_code != 200:
            _checked(chunk)
        if hashlib.sha256(chunk.content).hexdigest() != digests[index]:
            raise TransferRejected("Ein Teil der Übergabe wurde verändert.")
        try:
            parts.append(aead.decrypt(_chunk_nonce(index), chunk.content,
                                      _chunk_aad(transfer_id, index, count)))
        except InvalidTag:
            raise TransferRejected("Ein Teil der Übergabe lässt sich nicht entschlüsseln.") \
                from None
    try:
        bundle = json.loads(b"".join(parts))
    except ValueError:
        raise TransferRejected("Die Übergabe hat nicht die erwartete Form.") from None
    if not isinstance(bundle, dict) or bundle.get("transfer_id") != transfer_id or \
            bundle.get("from_team") != header["from_team"] or \
            bundle.get("to_team") != header["to_team"]:
        raise TransferRejected("Die Übergabe passt nicht zu ihrem Kopf.")
    checked: dict[str, Any] = bundle
    return checked
