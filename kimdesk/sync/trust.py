"""The chain of trust of a team, held by the devices, not by the county server.

The county keeps an offline root signing key (Ed25519). Its public key is in every installation
profile and is pinned in the vault at enrolment. Two kinds of signed documents exist:

- a **certificate** says "the device with fingerprint F is a member (or the coordination) of
  team T". The root certifies coordinator devices (``kimdesk county-ca certify`` on a
  workstation of county IT, never on the server); a root-certified coordinator certifies the
  devices of its team (``kimdesk devices confirm``);
- a **revocation** says "the device with fingerprint F of team T is removed"; signed by the root,
  or by a coordinator for a device that is not a coordinator.

A fingerprint is SHA-256 over the device's two public keys (:func:`protocol.fingerprint`), so the
keys the server hands out for a device are checked against the certificate, never believed.
The server stores and relays the documents; :func:`evaluate` decides from the documents alone
who belongs to a team. A certificate a coordinator issued before the county revoked that
coordinator stays valid (so losing the only coordinator laptop does not lock out the team's other
devices); one dated later does not, and a revoked device's own certificate never counts again.
Verified documents are kept in the vault, so a device's view only grows by what it checked.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kimdesk.errors import KimdeskError
from kimdesk.sync import protocol

ROOT = "county-root"  # issuer of documents signed with the county's root key
ROLES = ("coordinator", "member")
KINDS = ("certificate", "revocation")
_DOMAIN = b"kimdesk trust document v1\n"
_RAW = serialization.Encoding.Raw
_RAW_PUBLIC = serialization.PublicFormat.Raw
_RAW_PRIVATE = serialization.PrivateFormat.Raw


class TrustError(KimdeskError):
    """A trust document or root key that cannot be used."""


def normalise_fingerprint(text: str) -> str:
    """``3f2a 9c…`` → ``3F2A-9C…`` (8 groups of 4 hex digits); TrustError if not one."""
    digits = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(digits) != 2 * protocol.FINGERPRINT_BYTES or any(
            ch not in "0123456789ABCDEF" for ch in digits):
        raise TrustError("Das ist kein Fingerabdruck eines Geräts (32 Hex-Zeichen).")
    return "-".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def public_key_of(private: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(private)
    return key.public_key().public_bytes(_RAW, _RAW_PUBLIC)


def new_root_key() -> bytes:
    """A fresh root signing key (raw 32 bytes); county IT keeps it offline."""
    return Ed25519PrivateKey.generate().private_bytes(
        _RAW, _RAW_PRIVATE, serialization.NoEncryption())


def encode_key(raw: bytes) -> str:
    return protocol.b64e(raw)


def decode_key(text: str, *, what: str = "Schlüssel") -> bytes:
    """A base64 Ed25519 key (32 bytes); TrustError with a German message otherwise."""
    try:
        raw = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise TrustError(f"Der {what} ist kein gültiger Base64-Text.") from None
    if len(raw) != protocol.KEY_BYTES:
        raise TrustError(f"Der {what} hat nicht die Länge eines Ed25519-Schlüssels.")
    return raw


def signing_bytes(body: Mapping[str, Any]) -> bytes:
    return _DOMAIN + protocol.canonical_json(dict(body))


def _sign(body: dict[str, Any], signer_private: bytes) -> dict[str, Any]:
    signature = Ed25519PrivateKey.from_private_bytes(signer_private).sign(signing_bytes(body))
    return {"body": body, "signature": protocol.b64e(signature)}


def _now() -> str:
    # Fixed width, so the times of documents compare as strings.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def certify(*, team: str, fingerprint: str, role: str, issuer: str,
            signer_private: bytes) -> dict[str, Any]:
    """A certificate for ``fingerprint`` in ``team``; ``issuer`` is ROOT or the issuing
    coordinator's fingerprint."""
    if role not in ROLES:
        raise TrustError("Rolle muss „coordinator“ oder „member“ sein.")
    body = {"v": 1, "kind": "certificate", "team": team,
            "fingerprint": normalise_fingerprint(fingerprint), "role": role,
            "issuer": issuer, "issued_at": _now()}
    return _sign(body, signer_private)


def revoke(*, team: str, fingerprint: str, issuer: str, signer_private: bytes
           ) -> dict[str, Any]:
    """A signed revocation of ``fingerprint`` in ``team``."""
    body = {"v": 1, "kind": "revocation", "team": team,
            "fingerprint": normalise_fingerprint(fingerprint), "issuer": issuer,
            "issued_at": _now()}
    return _sign(body, signer_private)


def check_shape(document: Any) -> dict[str, Any]:
    """The document if it has the shape of one (signature not checked); TrustError else."""
    if not isinstance(document, dict) or set(document) != {"body", "signature"}:
        raise TrustError("Ein Vertrauensdokument hat nicht die erwartete Form.")
    body = document["body"]
    if not isinstance(body, dict) or body.get("v") != 1 or body.get("kind") not in KINDS:
        raise TrustError("Ein Vertrauensdokument hat nicht die erwartete Form.")
    wanted = {"v", "kind", "team", "fingerprint", "issuer", "issued_at"}
    if body["kind"] == "certificate":
        wanted.add("role")
        if body.get("role") not in ROLES:
            raise TrustError("Ein Zertifikat nennt keine gültige Rolle.")
    if set(body) != wanted or not all(isinstance(body[k], str) for k in wanted - {"v"}):
        raise TrustError("Ein Vertrauensdokument hat nicht die erwartete Form.")
    if body["fingerprint"] != normalise_fingerprint(body["fingerprint"]):
        raise TrustError("Ein Vertrauensdokument nennt keinen gültigen Fingerabdruck.")
    if body["issuer"] != ROOT and body["issuer"] != normalise_fingerprint(body["issuer"]):
        raise TrustError("Ein Vertrauensdokument nennt keinen gültigen Aussteller.")
    if len(body["team"]) > 40 or len(body["issued_at"]) > 40:
        raise TrustError("Ein Vertrauensdokument hat nicht die erwartete Form.")
    try:
        if len(protocol.b64d(document["signature"])) != 64:
            raise ValueError
    except ValueError:
        raise TrustError("Ein Vertrauensdokument hat keine gültige Signatur.") from None
    checked: dict[str, Any] = document
    return checked


def signature_valid(document: Mapping[str, Any], signer_public: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(signer_public).verify(
            protocol.b64d(document["signature"]), signing_bytes(document["body"]))
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True


@dataclass
class TeamTrust:
    """Who belongs to a team according to the verified documents: fingerprint → role."""

    members: dict[str, str] = field(default_factory=dict)
    revoked: dict[str, str] = field(default_factory=dict)  # fingerprint → revoked at (ISO)
    accepted: list[dict[str, Any]] = field(default_factory=list)  # newly verified documents

    def role(self, fingerprint: str) -> str | None:
        return None if fingerprint in self.revoked else self.members.get(fingerprint)

    def is_coordinator(self, fingerprint: str) -> bool:
        return self.role(fingerprint) == "coordinator"

    def could_issue(self, issuer: str, issued_at: str) -> bool:
        """True if ``issuer`` was a coordinator when it signed at ``issued_at``: certificates a
        coordinator issued before the county revoked it stay valid (the team's other devices
        keep working when its laptop is lost)."""
        if self.members.get(issuer) != "coordinator":
            return False
        revoked_at = self.revoked.get(issuer)
        return revoked_at is None or issued_at < revoked_at


def evaluate(*, root_public: bytes, team: str, documents: Iterable[Any],
             sign_keys: Mapping[str, bytes], known: Mapping[str, str] | None = None,
             known_revoked: Mapping[str, str] | None = None) -> TeamTrust:
    """The team's members from signed documents.

    ``sign_keys`` maps a fingerprint to its Ed25519 public key; the caller builds it from the
    keys the server lists, computing each fingerprint itself (so a replaced key simply has
    another fingerprint). ``known`` and ``known_revoked`` are what this device verified before.
    Documents of another team, with a bad signature or from an issuer outside the chain are
    ignored.
    """
    trust = TeamTrust(members=dict(known or {}), revoked=dict(known_revoked or {}))
    pending: list[dict[str, Any]] = []
    for document in documents:
        try:
            checked = check_shape(document)
        except TrustError:
            continue
        if checked["body"]["team"] == team:
            pending.append(checked)
    # Root documents first (revocations before certificates), then those of coordinators,
    # until nothing new is accepted.
    pending.sort(key=lambda d: (d["body"]["issuer"] != ROOT, d["body"]["kind"] != "revocation"))
    progress = True
    while progress:
        progress = False
        for document in list(pending):
            body = document["body"]
            issuer = body["issuer"]
            if issuer == ROOT:
                signer = root_public
            elif trust.could_issue(issuer, body["issued_at"]) and issuer in sign_keys:
                signer = sign_keys[issuer]
            else:
                continue
            if not signature_valid(document, signer):
                pending.remove(document)
                continue
            pending.remove(document)
            target = body["fingerprint"]
            if body["kind"] == "revocation":
                if issuer != ROOT and trust.members.get(target) == "coordinator":
                    continue  # only the county removes a coordinator
                if target not in trust.revoked:
                    trust.revoked[target] = body["issued_at"]
                    trust.accepted.append(document)
                    progress = True
                continue
            if issuer != ROOT and body["role"] != "member":
                continue  # a coordinator certifies members; the county certifies coordinators
            # A revoked device is recorded too (role() leaves it out): what it certified
            # before its revocation still counts.
            current = trust.members.get(target)
            if current == "coordinator" or current == body["role"]:
                continue
            trust.members[target] = body["role"]
            trust.accepted.append(document)
            progress = True
    return trust
