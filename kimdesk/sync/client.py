"""The sync client: enrolment, team keys, push of the outbox, pull after the cursor, repair.

One :meth:`SyncClient.run` is one sync: status → keys → push → pull → checksum → statistics.
Every step can be interrupted at any moment (laptop closed, process killed, server gone):

- a pushed batch is acknowledged (outbox rows deleted) only after the server answered; pushing
  it again returns the original sequence numbers and stores nothing twice;
- a pulled batch is applied and the cursor moved in one vault transaction.

The HTTP client is injected (``httpx.Client``), so tests drive the real server app in-process.
Thread rule: a ``SyncClient`` belongs to the thread that made it (the app runs it on a worker).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
from collections import deque
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kimdesk.casework import audit
from kimdesk.casework.clients import without_cyclic_gc
from kimdesk.casework.context import Context
from kimdesk.casework.county import CASE_TABLES, COUNTY_TEAM, county_vault_dir
from kimdesk.errors import KimdeskError
from kimdesk.models import QuarantinedChange, SyncDevice, TeamKey, TrustDocument, VaultProfile
from kimdesk.models.changelog import DeviceAuthor, OutboxChange
from kimdesk.sync import (
    blobs,
    closing,
    crypto,
    erasures,
    merge,
    protocol,
    statistics,
    transfer,
    trust,
)

FAULT_ENV = "KIMDESK_SYNC_FAULT"  # test hook: SIGKILL this process at a named step
FAULT_STEPS = ("push-before-send", "push-after-send", "push-after-ack", "pull-after-fetch",
               "pull-mid-apply", "pull-after-commit", "rotate-before-send", "rotate-after-send",
               blobs.FAULT_UPLOAD, blobs.FAULT_DOWNLOAD)
BATCH_ENV = "KIMDESK_SYNC_BATCH"  # smaller batches (tests, slow links); at most the protocol's
# A change whose clock is further ahead of this device's clock is quarantined, not merged: a
# clock far in the future would win every later edit of the record (docs/sync.md).
MAX_CLOCK_AHEAD_MS = protocol.MAX_CLOCK_AHEAD_MS
# Why a pulled change is quarantined, by the machine code of protocol.change_shape_problem.
_SHAPE_REASONS = {
    "clock_ahead": "Zeitstempel liegt mehr als 5 Minuten in der Zukunft",
    "bad_clock": "Zeitstempel hat nicht die erwartete Form",
    "bad_signature": "ist nicht vom Autorgerät signiert",
}
# What the device says when the server refuses one of its own changes (422 with a code).
_PUSH_REFUSALS = {
    "clock_ahead": "Die Uhr dieses Geräts geht mehr als 5 Minuten vor; bitte Datum und Uhrzeit "
                   "prüfen und danach erneut synchronisieren.",
    "signature_invalid": "Der Kreis-Server erkennt die Signatur dieses Geräts nicht an; bitte "
                         "die Kreis-IT fragen.",
}
ROTATION_OWED_NOTE = (
    "Ein Gerät des Teams wurde gesperrt, der Team-Schlüssel ist aber noch nicht erneuert. Dieses "
    "Gerät sendet so lange keine Änderungen (sie bleiben gespeichert); empfangen geht weiter. "
    "Bitte die Kreis-IT fragen (server-admin teams, server-admin devices).")
_PUSH_REFUSED = ("Der Kreis-Server lehnt eine Änderung dieses Geräts als ungültig ab; bitte die "
                 "Kreis-IT fragen.")


def _batch_size() -> int:
    try:
        wanted = int(os.environ.get(BATCH_ENV, protocol.MAX_BATCH))
    except ValueError:
        wanted = protocol.MAX_BATCH
    return max(1, min(wanted, protocol.MAX_BATCH))


class SyncError(KimdeskError):
    """Sync failed; nothing was lost, the next sync continues where this one stopped."""


class ServerUnreachable(SyncError):
    pass


class DeviceRevoked(SyncError):
    """The county server revoked this device; its vault has been wiped."""


class NotEnrolled(SyncError):
    pass


@dataclass
class SyncReport:
    state: str = "active"  # "pending" until a coordinator confirmed the device
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    quarantined: int = 0  # changes set aside in this sync (never applied)
    # What the device found against the anchors of its audit trail ("truncated:<seq>" …)
    audit_problems: list[str] = field(default_factory=list)
    repaired: bool = False
    documents_waiting: int = 0  # received documents whose content is still to be fetched
    documents_held: int = 0  # own new documents whose upload failed (sent at the next sync)
    finished_at: datetime | None = None
    notes: list[str] = field(default_factory=list)


def _fault(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def enrolled_device(ctx: Context) -> SyncDevice:
    with ctx.vault.reading() as session:
        device = session.get(SyncDevice, 1)
        if device is None:
            raise NotEnrolled(
                "Dieses Gerät ist noch nicht beim Kreis-Server angemeldet (kimdesk enrol).")
        session.expunge(device)
        return device


def is_enrolled(ctx: Context) -> bool:
    with ctx.vault.reading() as session:
        return session.get(SyncDevice, 1) is not None


def quarantine_counts(ctx: Context) -> tuple[int, int]:
    """(received changes this device set aside, of them not yet reported to the county
    server): for the sync status, without a connection."""
    with ctx.vault.reading() as session:
        total = session.scalar(select(func.count()).select_from(QuarantinedChange)) or 0
        unreported = session.scalar(select(func.count()).select_from(QuarantinedChange)
                                    .where(QuarantinedChange.reported.is_(False))) or 0
    return int(total), int(unreported)


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = None
        if not isinstance(detail, str):
            detail = f"Der Kreis-Server antwortet mit Fehler {response.status_code}."
        raise SyncError(detail)
    body: dict[str, Any] = response.json()
    return body


def enrol(ctx: Context, http: httpx.Client, *, server_url: str, code: str,
          device_name: str, root_public: bytes | None) -> SyncDevice:
    """Register this device with a one-time code from county IT; keys are made here.

    ``root_public`` is the county's root signing key from the installation profile; it is
    pinned in the vault and is what every certificate of the team is checked against."""
    with ctx.vault.reading() as session:
        if session.get(SyncDevice, 1) is not None:
            raise SyncError("Dieses Gerät ist bereits angemeldet.")
    if root_public is None or len(root_public) != protocol.KEY_BYTES:
        raise SyncError("Im Installationsprofil fehlt der öffentliche Schlüssel des Kreises "
                        "(county_root_key); ohne ihn kann das Gerät niemandem im Team trauen. "
                        "Bitte die Kreis-IT fragen.")
    keys = crypto.DeviceKeys.generate()
    with ctx.vault.reading() as session:
        own_team = session.scalars(select(VaultProfile.team)).first()
    body = {"code": code.strip(), "user": ctx.user, "device_name": device_name,
            "sign_public_key": protocol.b64e(keys.sign_public),
            "box_public_key": protocol.b64e(keys.box_public)}
    if own_team:
        body["team"] = own_team  # the server refuses a code of another team, unused
    try:
        response = http.post(f"{protocol.API_PREFIX}/enrol", json=body)
    except httpx.HTTPError as exc:
        raise ServerUnreachable("Der Kreis-Server ist nicht erreichbar.") from exc
    answer = _answer(response)
    with ctx.vault.writing() as session:
        device = SyncDevice(
            id=1, server_url=server_url, device_id=answer["device_id"], team=answer["team"],
            token=answer["token"], coordinator=bool(answer["coordinator"]),
            sign_private=keys.sign_private, box_private=keys.box_private,
            fingerprint=answer["fingerprint"], state="pending", cursor=0,
            lease_secret=protocol.b64d(answer["lease_secret"]), lease_counter_used=0,
            lease_warn_days=int(answer["lease_warn_days"]),
            lease_lock_days=int(answer["lease_lock_days"]), root_public=root_public)
        session.add(device)
        # Records written before enrolment join the change log now, so the team gets them.
        merge.seed_change_log(session)
    return enrolled_device(ctx)


def wipe_vault(data_dir: Path) -> None:
    """Remove the vault of a revoked device: the header (with every wrapped key) goes first,
    which leaves the encrypted database unreadable even if removing the rest fails.

    A team vault's Kreis-Tresor goes with it: its key is derived from the team vault's, so it
    could never be opened again, and a laptop whose team device the county revoked must not
    keep the county's data either (``kimdesk/casework/county.py``)."""
    data_dir = Path(data_dir)
    for name in ("vault-header.json", "vault.db", "vault.db-wal", "vault.db-shm",
                 "unlock-attempts.json"):
        (data_dir / name).unlink(missing_ok=True)
    for folder in ("attachments", "backups", blobs.PARTS_DIR):
        shutil.rmtree(data_dir / folder, ignore_errors=True)
    county_dir = county_vault_dir(data_dir)
    if county_dir.is_dir():
        # Best effort: where the desktop still holds it open (Windows refuses to delete an
        # open file) it stays behind unreadable, and the team vault's removal is complete.
        with contextlib.suppress(OSError):
            wipe_vault(county_dir)  # its header first, as above
        shutil.rmtree(county_dir, ignore_errors=True)


class SyncClient:
    """One enrolled device talking to the county server."""

    def __init__(self, ctx: Context, http: httpx.Client, *,
                 progress: Callable[[str], None] | None = None,
                 statistics: bool = True) -> None:
        self._ctx = ctx
        self._send_statistics = statistics
        self._http = http
        self._device = enrolled_device(ctx)
        self._progress = progress or (lambda _text: None)
        self._keys = crypto.DeviceKeys(self._device.sign_private, self._device.box_private)
        self._team_keys: dict[int, bytes] = {}
        self._devices: dict[str, dict[str, Any]] | None = None
        self._trust: trust.TeamTrust | None = None
        self._quarantined_now = 0
        self._signing_key = Ed25519PrivateKey.from_private_bytes(self._keys.sign_private)
        self._change_signer = protocol.ChangeSigner(self._keys.sign_private)
        self._signers: dict[str, _Signer] | None = None
        self._signers_refreshed = False
        self._origins: dict[str, str | None] = {}  # origin → device allowed to write under it
        self._ciphers: dict[int, crypto.RecordCipher] = {}  # by epoch
        # Requests on the sender thread, oldest first (:meth:`_send_ahead`).
        self._in_flight: deque[futures.Future[httpx.Response | None]] = deque()
        self._blobs = blobs.BlobTransfer(ctx, self._call, self._device.team,
                                         transient=(ServerUnreachable,), progress=self._progress)
        self._held_documents = 0  # documents whose upload failed in this sync (sent later)
        self._closing: closing.ClosingReads | None = None  # started by a long push

    # --- HTTP ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._in_flight:  # one request at a time on the shared HTTP client
            futures.wait(self._in_flight)
        return self._checked(self._request(method, path, **kwargs))

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The HTTP exchange alone (may run on the sender thread: it touches no vault)."""
        headers = {"Authorization": f"Bearer {self._device.token}", **kwargs.pop("headers", {})}
        try:
            return self._http.request(method, f"{protocol.API_PREFIX}{path}",
                                      headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerUnreachable("Der Kreis-Server ist nicht erreichbar.") from exc

    @contextlib.contextmanager
    def _sender(self) -> Iterator[futures.Executor]:
        """The thread that sends :meth:`_send_ahead`'s requests, for one push or pull."""
        sender = futures.ThreadPoolExecutor(1, "kimdesk-sync-http")
        try:
            yield sender
        finally:  # after a failure, what is still queued is not sent
            sender.shutdown(wait=True, cancel_futures=True)
            self._in_flight.clear()

    def _send_ahead(self, sender: futures.Executor, method: str, path: str,
                    **kwargs: Any) -> None:
        """Queue a request on the sender thread; :meth:`_received` takes the answers in the
        order the requests were queued. Meanwhile this thread prepares the next batch or
        applies the last page (server and device work at the same time).

        The sender thread sends one request after the other, each as soon as the server has
        answered the one before, so a request queued while another is out follows it without
        waiting for this thread. It is not sent if the one before it failed or was refused:
        the answer is then ``None`` (its caller has stopped at the failure already)."""
        before = self._in_flight[-1] if self._in_flight else None

        def send() -> httpx.Response | None:
            if before is not None:  # done: the sender thread runs the requests in order
                answer = before.result() if before.exception() is None else None
                if answer is None or answer.status_code != 200:
                    return None
            return self._request(method, path, **kwargs)

        self._in_flight.append(sender.submit(send))

    def _received(self) -> httpx.Response:
        """The answer of the oldest request queued by :meth:`_send_ahead` (on this thread: a
        revoked device's wipe never runs beside a vault transaction)."""
        response = self._in_flight.popleft().result()
        if response is None:  # pragma: no cover - the failure before it was raised first
            raise SyncError("Der Kreis-Server hat eine vorige Anfrage abgelehnt.")
        return self._checked(response)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code == 403:
            try:
                body = response.json()
            except ValueError:
                body = {}
            if body.get("wipe"):
                if self._revocation_is_signed(body):
                    self._wipe()
                raise SyncError("Der Kreis-Server meldet dieses Gerät als gesperrt, legt aber "
                                "keine vom Kreis oder der Koordination signierte Sperrung vor. "
                                "Der Datentresor bleibt erhalten; bitte die Kreis-IT fragen.")
        return response

    def _revocation_is_signed(self, body: dict[str, Any]) -> bool:
        """True if ``body`` holds a revocation of this device that the chain of trust signed."""
        root = self._device.root_public
        revocations = body.get("revocations")
        if root is None or not isinstance(revocations, list):
            return False
        listed = body.get("issuer_keys")
        keys: dict[str, Any] = listed if isinstance(listed, dict) else {}
        known, revoked = self._stored_trust()
        verdict = trust.evaluate(root_public=root, team=self._device.team,
                                 documents=revocations, sign_keys=_sign_keys(keys.values()),
                                 known=known,
                                 known_revoked={fp: at for fp, at in revoked.items()
                                                if fp != self._device.fingerprint})
        return self._device.fingerprint in verdict.revoked

    def _wipe(self) -> None:
        data_dir = self._ctx.vault.data_dir
        self._ctx.vault.close()
        wipe_vault(data_dir)
        raise DeviceRevoked("Dieses Gerät wurde vom Kreis gesperrt. Der Datentresor wurde "
                            "gelöscht; bitte wenden Sie sich an die Kreis-IT.")

    def _get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return _answer(self._call("GET", path, **kwargs))

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self._call("POST", path, json=body)

    # --- keys ---------------------------------------------------------------------------

    def _load_team_keys(self) -> None:
        with self._ctx.vault.reading() as session:
            self._team_keys = {k.epoch: k.key for k in session.scalars(select(TeamKey))}

    def _store_team_key(self, epoch: int, key: bytes) -> None:
        with self._ctx.vault.writing() as session:
            if session.get(TeamKey, epoch) is None:
                session.add(TeamKey(epoch=epoch, key=key))
        self._team_keys[epoch] = key

    def devices(self, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
        if self._devices is None or refresh:
            self._devices = {d["device_id"]: d for d in self._get("/devices")["devices"]}
        return self._devices

    # --- chain of trust -----------------------------------------------------------------

    def _stored_trust(self) -> tuple[dict[str, str], dict[str, str]]:
        members: dict[str, str] = {}
        revoked: dict[str, str] = {}
        with self._ctx.vault.reading() as session:
            for row in session.scalars(select(TrustDocument).order_by(TrustDocument.id)):
                if row.kind == "revocation":
                    revoked[row.fingerprint] = str(row.document["body"]["issued_at"])
                elif row.role is not None and members.get(row.fingerprint) != "coordinator":
                    members[row.fingerprint] = row.role
        return members, revoked

    def team_trust(self, *, refresh: bool = False) -> trust.TeamTrust:
        """Who belongs to the team by the documents this device verified (new ones from the
        server are verified against the pinned root key and stored in the vault)."""
        if self._trust is not None and not refresh:
            return self._trust
        root = self._device.root_public
        if root is None:
            raise SyncError("Diesem Gerät fehlt der öffentliche Schlüssel des Kreises; bitte "
                            "das Gerät neu anmelden (Kreis-IT).")
        documents = self._get("/trust")["documents"]
        listed = list(self.devices(refresh=True).values())
        listed.append({"sign_public_key": protocol.b64e(self._keys.sign_public),
                       "box_public_key": protocol.b64e(self._keys.box_public)})
        known, revoked = self._stored_trust()
        verdict = trust.evaluate(root_public=root, team=self._device.team, documents=documents,
                                 sign_keys=_sign_keys(listed), known=known,
                                 known_revoked=revoked)
        if verdict.accepted:
            with self._ctx.vault.writing() as session:
                for document in verdict.accepted:
                    body = document["body"]
                    session.add(TrustDocument(kind=body["kind"], fingerprint=body["fingerprint"],
                                              role=body.get("role"), document=document))
        self._trust = verdict
        return verdict

    def trusted_devices(self, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
        """The devices the server lists whose keys carry a valid certificate, by device id."""
        verdict = self.team_trust(refresh=refresh)
        found = {}
        for device in self.devices().values():
            try:
                computed = protocol.fingerprint(protocol.b64d(device["sign_public_key"]),
                                                protocol.b64d(device["box_public_key"]))
            except (KeyError, ValueError):
                continue
            role = verdict.role(computed)
            if role is not None:
                found[device["device_id"]] = {**device, "fingerprint": computed, "role": role}
        return found

    def _trusted_granter(self, device_id: str) -> dict[str, Any] | None:
        granter = self.trusted_devices().get(device_id)
        if granter is None:
            granter = self.trusted_devices(refresh=True).get(device_id)
        return granter

    def _grant(self, epoch: int, key: bytes, recipient: dict[str, Any]) -> dict[str, Any]:
        return crypto.seal_team_key(
            team_key=key, team=self._device.team, epoch=epoch,
            recipient_id=recipient["device_id"],
            recipient_sign_public=protocol.b64d(recipient["sign_public_key"]),
            recipient_box_public=protocol.b64d(recipient["box_public_key"]),
            granter_id=self._device.device_id, granter=self._keys)

    def _fetch_envelopes(self) -> None:
        """Open the envelopes the server holds for this device, of epochs it lacks. One from a
        granter without a certificate this device verified, or one that does not open (altered,
        replayed as another epoch, team or device) is skipped: the server cannot hand out keys
        of its own, and one bad envelope does not cost the device the others."""
        for envelope in self._get("/envelopes")["envelopes"]:
            try:
                epoch = int(envelope["epoch"])
                granter_id = str(envelope["granter_id"])
            except (KeyError, TypeError, ValueError):
                continue
            if epoch in self._team_keys:
                continue
            granter = self._trusted_granter(granter_id)
            if granter is None:
                continue  # not certified: the server cannot hand out keys of its own
            try:
                key = crypto.open_team_key(
                    envelope, team=self._device.team, recipient_id=self._device.device_id,
                    recipient=self._keys,
                    granter_sign_public=protocol.b64d(granter["sign_public_key"]),
                    granter_box_public=protocol.b64d(granter["box_public_key"]))
            except crypto.DecryptionFailed:
                continue
            self._store_team_key(epoch, key)

    def _ensure_keys(self, status: dict[str, Any]) -> int:
        """The current epoch, with its key in hand; 0 while this device waits for a key."""
        self._load_team_keys()
        epoch = int(status["epoch"])
        if self._team_keys and epoch < max(self._team_keys):
            raise SyncError("Der Kreis-Server nennt eine ältere Schlüsselversion als die, die "
                            "dieses Gerät schon hat; es sendet nichts. Bitte die Kreis-IT fragen.")
        if epoch == 0:
            if not self.team_trust(refresh=True).is_coordinator(self._device.fingerprint):
                return 0  # only a coordinator certified by the county makes the first key
            key = crypto.new_team_key()
            me = {"device_id": self._device.device_id,
                  "sign_public_key": protocol.b64e(self._keys.sign_public),
                  "box_public_key": protocol.b64e(self._keys.box_public)}
            response = self._post("/envelopes", {"envelopes": [self._grant(1, key, me)]})
            if response.status_code == 200:
                self._store_team_key(1, key)
                epoch = 1
            else:  # another device of the team was first
                epoch = int(self._get("/status")["epoch"])
        if epoch not in self._team_keys:
            self._fetch_envelopes()
        if epoch not in self._team_keys:
            return 0
        if status.get("rotation_needed"):
            epoch = self._rotate(epoch)
        return epoch

    def _rotate(self, epoch: int) -> int:
        """A device was revoked: a new team key for every remaining device.

        Interrupted anywhere, nothing is half done: the server stores the new epoch with all
        its envelopes in one transaction or not at all, and the key itself is only in them
        (HPKE, never in the clear). Killed before the answer, the device finds its own envelope
        of the new epoch at the next sync; refused, the next sync rotates again."""
        key = crypto.new_team_key()
        recipients = [d for d in self.trusted_devices(refresh=True).values()
                      if d["state"] == "active"]
        envelopes = [self._grant(epoch + 1, key, d) for d in recipients]
        _fault("rotate-before-send")
        response = self._post("/envelopes", {"envelopes": envelopes})
        _fault("rotate-after-send")
        if response.status_code == 200:
            self._store_team_key(epoch + 1, key)
            return epoch + 1
        self._fetch_envelopes()  # someone else rotated first
        current = int(self._get("/status")["epoch"])
        return current if current in self._team_keys else 0

    def rotation_owed(self, epoch: int) -> bool:
        """True if a device whose revocation this device verified may hold the key of
        ``epoch``: the revocation reached this device after it took that key. A key it made or
        received after verifying the revocation comes from a rotation that left the revoked
        device out (granters wrap keys only for certified, unrevoked devices); a device that
        takes all its keys only after verifying it (one joining just then) is not covered
        (docs/sync.md, Known limits).

        Until the team key is renewed such a device sends nothing (a server that relays a
        revocation but blocks the rotation would otherwise keep the team writing under a key
        the stolen laptop holds); its changes wait in the outbox. A revocation signed after
        the rotation makes the server ask for one more rotation (``server-admin revoke``)."""
        self.team_trust()  # verifies (and stores) what the server relays now
        own = self._device.fingerprint
        with self._ctx.vault.reading() as session:
            key = session.get(TeamKey, epoch)
            verified = [row.verified_at for row in session.scalars(
                select(TrustDocument).where(TrustDocument.kind == "revocation",
                                            TrustDocument.fingerprint != own))]
        return key is not None and any(key.received_at <= at for at in verified)

    def _hand_keys_to_new_coordinators(self) -> None:
        """Give the team keys to a waiting coordinator device that the county certified (a new
        coordinator laptop after the only one was lost: docs/it/trust.md)."""
        waiting = [d for d in self.devices(refresh=True).values()
                   if d["state"] == "pending" and d.get("coordinator")]
        if not waiting:
            return
        certified = self.trusted_devices(refresh=True)
        for device in waiting:
            found = certified.get(device["device_id"])
            if found is None or found["role"] != "coordinator":
                continue
            envelopes = [self._grant(epoch, key, found)
                         for epoch, key in sorted(self._team_keys.items())]
            self._post("/envelopes", {"envelopes": envelopes})  # 409: another device was first

    def confirm_device(self, fingerprint: str) -> dict[str, Any]:
        """Coordinator: give a new device of the team the team keys, after comparing the
        fingerprint it shows with the one the server lists."""
        try:
            wanted = trust.normalise_fingerprint(fingerprint)
        except trust.TrustError as exc:
            raise SyncError(exc.message) from None
        status = self._get("/status")
        self._ensure_keys(status)
        if not self.team_trust(refresh=True).is_coordinator(self._device.fingerprint):
            raise SyncError("Geräte bestätigen kann nur ein vom Kreis zertifiziertes Gerät der "
                            "Koordination.")
        for device in self.devices(refresh=True).values():
            computed = protocol.fingerprint(protocol.b64d(device["sign_public_key"]),
                                            protocol.b64d(device["box_public_key"]))
            if computed != wanted:
                continue
            if computed != device["fingerprint"]:
                raise SyncError("Der Fingerabdruck passt nicht zu den Schlüsseln des Geräts.")
            if self.team_trust().role(wanted) is None:
                certificate = trust.certify(team=self._device.team, fingerprint=wanted,
                                            role="member", issuer=self._device.fingerprint,
                                            signer_private=self._keys.sign_private)
                _answer(self._post("/trust", {"documents": [certificate]}))
                self.team_trust(refresh=True)
            envelopes = [self._grant(epoch, key, device)
                         for epoch, key in sorted(self._team_keys.items())]
            _answer(self._post("/envelopes", {"envelopes": envelopes}))
            return device
        raise SyncError("Kein Gerät des Teams hat diesen Fingerabdruck.")

    # --- authors of changes ---------------------------------------------------------------

    def _load_signers(self, *, refresh: bool) -> dict[str, _Signer]:
        """Device id → signing key of every device the chain of trust certified (revoked ones
        with the time of their revocation), from the documents this device verified itself;
        the server's list only supplies keys, which must match a certified fingerprint."""
        verdict = self.team_trust(refresh=refresh)
        signers: dict[str, _Signer] = {}
        for device in self.devices().values():
            keys = protocol.listed_device_keys(device)
            if keys is None:
                continue
            sign, _box, computed = keys
            if computed not in verdict.members:
                continue
            revoked = verdict.revoked.get(computed)
            signers[str(device["device_id"])] = _Signer(
                key=sign,
                user=str(device.get("user") or "")[:120] or "unbekannt",
                revoked_at_ms=None if revoked is None else _iso_ms(revoked))
        return signers

    def _signer(self, device_id: str) -> _Signer | None:
        if self._signers is None:
            self._signers = self._load_signers(refresh=False)
        found = self._signers.get(device_id)
        if found is None and not self._signers_refreshed:  # a device certified meanwhile
            self._signers_refreshed = True
            self._signers = self._load_signers(refresh=True)
            found = self._signers.get(device_id)
        return found

    def _load_origins(self) -> None:
        with self._ctx.vault.reading() as session:
            self._origins = dict(session.execute(
                select(DeviceAuthor.origin, DeviceAuthor.device_id)).all())
            own = session.scalars(select(VaultProfile.device_id)).first()
        if own:
            self._origins[own] = self._device.device_id

    # --- push ---------------------------------------------------------------------------

    def _cipher(self, epoch: int) -> crypto.RecordCipher:
        cipher = self._ciphers.get(epoch)
        if cipher is None:
            cipher = self._ciphers[epoch] = crypto.RecordCipher(self._team_keys[epoch],
                                                                self._device.team)
        return cipher

    @staticmethod
    def _as_outbox(change: merge.Outgoing) -> OutboxChange:
        return OutboxChange(change_id=change.change_id, kind=change.kind,
                            record_id=change.record_id, hlc=change.hlc,
                            payload=json.loads(change.payload_json))

    def _plaintext(self, change: merge.Outgoing, content: dict[str, Any] | None) -> bytes:
        """The payload as stored in the outbox (JSON, not decoded and encoded again); a new
        document with the reference to its blob (its file never travels inside the change)."""
        if change.kind != "attachments":
            return change.payload_json.encode("utf-8")
        return protocol.canonical_json(merge.outgoing_payload(
            self._ctx.vault, self._as_outbox(change), content=content, inline=False))

    def _wire_change(self, change: merge.Outgoing, epoch: int,
                     content: dict[str, Any] | None = None) -> dict[str, Any]:
        nonce, ciphertext = self._cipher(epoch).encrypt(
            record_id=change.record_id, kind=change.kind, hlc=change.hlc, epoch=epoch,
            plaintext=self._plaintext(change, content))
        message = protocol.change_signing_bytes(
            team=self._device.team, device_id=self._device.device_id,
            change_id=change.change_id, record_id=change.record_id, kind=change.kind,
            hlc=change.hlc, epoch=epoch, nonce=nonce, ciphertext=ciphertext)
        return {"change_id": change.change_id, "record_id": change.record_id,
                "kind": change.kind, "hlc": change.hlc, "epoch": epoch,
                "nonce": protocol.b64e(nonce), "ciphertext": protocol.b64e(ciphertext),
                "signature": protocol.b64e(self._change_signer.sign(message))}

    def push(self, epoch: int) -> int:
        """Send the outbox in batches. While the server stores one batch, the next one is
        read, encrypted, signed and queued on the sender thread, which sends it as soon as the
        server answered for the one before; that one is acknowledged (its outbox rows deleted)
        meanwhile, so the server never waits for the device's vault or this thread. Batches
        go out one after the other in outbox order, none after a batch the server refused,
        and a batch is acknowledged only after the server answered for it."""
        pushed = 0
        after = 0  # outbox seq up to which batches were prepared
        # The batches sent and not answered yet, oldest first: their change ids, and those of
        # them that are documents (with a blob upload).
        unanswered: deque[tuple[list[str], list[str]]] = deque()
        deferred: set[str] = set()  # records whose document upload failed: sent next sync
        with self._sender() as sender, without_cyclic_gc():
            while True:
                with self._ctx.vault.reading() as session:
                    batch = merge.outgoing(session, after, _batch_size())
                exhausted = not batch
                if len(batch) == _batch_size() and self._closing is None:
                    self._read_closing_ahead()
                contents: dict[str, dict[str, Any]] = {}
                if batch:
                    after = batch[-1].seq
                    # Documents' contents first (resumable); one that fails holds back only
                    # its record, the rest of the batch goes.
                    contents, failed = self._blobs.upload_for(
                        [self._as_outbox(c) for c in batch if c.kind == "attachments"],
                        deferred)
                    deferred |= failed
                    batch = [c for c in batch if c.record_id not in deferred]
                changes = [self._wire_change(change, epoch, contents.get(change.change_id))
                           for change in batch]
                if changes:
                    _fault("push-before-send")
                    # Encoded here, while the server stores the batch before: the sender
                    # thread sends it the moment the server has answered for that one.
                    body = json.dumps({
                        "batch_id": hashlib.sha256("".join(
                            c["change_id"] for c in changes).encode()).hexdigest()[:32],
                        "changes": changes}, separators=(",", ":")).encode()
                    self._send_ahead(sender, "POST", "/push", content=body,
                                     headers={"Content-Type": "application/json"})
                    unanswered.append(([c["change_id"] for c in changes],
                                       [c["change_id"] for c in changes
                                        if c["kind"] == "attachments"]))
                # One batch waits on the sender thread behind the one the server stores; the
                # one before is acknowledged. At the end every batch is.
                while len(unanswered) > (0 if exhausted else 1):
                    sent, documents = unanswered.popleft()
                    pushed += self._acknowledge(sent, documents, self._pushed_seqs(sent))
                    self._progress(f"{pushed} Änderungen gesendet")
                if exhausted:
                    self._held_documents = len(deferred)
                    return pushed

    def _read_closing_ahead(self) -> None:
        """A push of more than one batch keeps the server busy for a while: the reads that end
        the sync are made meanwhile (``kimdesk/sync/closing.py``)."""
        months = (statistics.months_to_report(self._ctx.today())
                  if self._send_statistics and self._device.team != COUNTY_TEAM else [])
        self._closing = closing.ClosingReads(self._ctx, months)
        self._closing.start()

    def _pushed_seqs(self, change_ids: list[str]) -> list[int]:
        """The server's answer to the pushed batch ``change_ids``: the seq of every change."""
        response = self._received()
        if response.status_code == 409 and "epoch" in _json(response):
            raise _EpochChanged()
        refusal = _json(response).get("error") if response.status_code == 422 else None
        if isinstance(refusal, str):
            raise SyncError(_PUSH_REFUSALS.get(refusal, _PUSH_REFUSED))
        answer = _answer(response)
        _fault("push-after-send")
        seqs: list[int] = answer["seqs"]
        if len(seqs) != len(change_ids):
            raise SyncError("Der Kreis-Server hat nicht alle Änderungen bestätigt.")
        return seqs

    def _acknowledge(self, change_ids: list[str], documents: list[str],
                     seqs: list[int]) -> int:
        """Delete a batch the server stored from the outbox and, if the server stored it right
        after this device's cursor (nothing of others between), move the cursor past it (the
        device would only skip its own changes in the pull)."""
        with self._ctx.vault.writing() as session:
            merge.acknowledge(session, change_ids)
            if documents:  # only a document's change has a blob upload to forget
                blobs.forget_uploads(session, documents)
            device = session.get(SyncDevice, 1)
            assert device is not None
            if sorted(seqs) == list(range(device.cursor + 1, device.cursor + 1 + len(seqs))):
                device.cursor += len(seqs)
        _fault("push-after-ack")
        return len(change_ids)

    # --- pull ---------------------------------------------------------------------------

    def pull(self, *, repair: bool = False) -> tuple[int, int]:
        """Fetch the team's changes after the cursor in pages and apply them. While one page
        is verified, decrypted and applied, the server already sends the next one; a page is
        applied and the cursor moved in one vault transaction."""
        pulled = conflicts = 0
        self._load_origins()
        self._signers = None  # from the trust this sync holds (a revocation may be new)
        limit = _batch_size()
        with self._sender() as sender, without_cyclic_gc():
            self._send_ahead(sender, "GET", "/pull",
                             params={"after": self._cursor(), "limit": limit})
            while True:
                response = self._received()
                if response.status_code == 410:
                    raise _ResyncNeeded()
                answer = _answer(response)
                changes = answer["changes"]
                _fault("pull-after-fetch")
                if not changes:
                    return pulled, conflicts
                last_seq = int(changes[-1]["seq"])
                more = bool(answer.get("more"))
                if more:
                    self._send_ahead(sender, "GET", "/pull",
                                     params={"after": last_seq, "limit": limit})
                conflicts += self._apply_page(changes, last_seq, repair=repair)
                pulled += len(changes)
                self._progress(f"{pulled} Änderungen empfangen")
                if not more:
                    return pulled, conflicts

    def _apply_page(self, changes: list[dict[str, Any]], last_seq: int, *,
                    repair: bool) -> int:
        """Verify, decrypt and apply one page; the cursor moves to ``last_seq`` in the same
        transaction. Returns the number of conflicts."""
        received: list[merge.Received] = []
        refused: list[tuple[dict[str, Any], str]] = []
        self._signers_refreshed = False  # one look for newly certified devices per page
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        checked: list[tuple[dict[str, Any], _Signed | _Refused]] = []
        for change in changes:
            if not repair and change["device_id"] == self._device.device_id:
                continue
            try:
                checked.append((change, self._signed(change, now_ms)))
            except _Refused as exc:
                checked.append((change, exc))
        # The page's signatures at once (two threads where a core is free), then the rest of
        # every change's checks in log order (origins belong to their first signer).
        valid = iter(protocol.change_signatures_valid(
            [(s.signer.key, s.signature, s.message) for _c, s in checked
             if isinstance(s, _Signed)]))
        for change, signed in checked:
            try:
                if isinstance(signed, _Refused):
                    raise signed
                received.append(self._open(change, signed, next(valid)))
            except _Refused as exc:
                refused.append((change, exc.reason))

        def within(session: Session, index: int, count: int = len(received)) -> None:
            if index == count // 2:
                _fault("pull-mid-apply")
            if index == count - 1:
                self._move_cursor(session, last_seq)
                _quarantine(session, refused)

        result = merge.apply_batch(self._ctx.vault, received, within=within)
        if not received:
            with self._ctx.vault.writing() as session:
                self._move_cursor(session, last_seq)
                _quarantine(session, refused)
        self._quarantined_now += len(refused)
        _fault("pull-after-commit")
        return result.conflicts

    @staticmethod
    def _move_cursor(session: Session, seq: int) -> None:
        device = session.get(SyncDevice, 1)
        assert device is not None
        device.cursor = seq

    def _cursor(self) -> int:
        with self._ctx.vault.reading() as session:
            device = session.get(SyncDevice, 1)
            assert device is not None
            return device.cursor

    def _signed(self, change: dict[str, Any], now_ms: int) -> _Signed:
        """What the signature check of a change needs; _Refused (→ quarantine) if the change
        has no change's shape or its clock is too far ahead, or no device this device found
        certified is its author. Reads no vault."""
        try:
            nonce = protocol.b64d(change["nonce"])
            signature = protocol.b64d(change.get("signature") or "")
            ciphertext = protocol.b64d(change["ciphertext"])
            problem = protocol.change_shape_problem(
                change_id=change["change_id"], record_id=change["record_id"],
                kind=change["kind"], hlc=change["hlc"], epoch=change["epoch"], nonce=nonce,
                signature=signature, now_ms=now_ms)
        except (KeyError, TypeError, ValueError):
            problem = "bad_shape"
        if problem is not None:
            raise _Refused(_SHAPE_REASONS.get(problem, "hat nicht die Form einer Änderung"))
        if self._device.team == COUNTY_TEAM and change["kind"] in CASE_TABLES:
            raise _Refused("enthält Falldaten, die nicht in den Kreis-Tresor gehören")
        device_id = str(change["device_id"])
        signer = self._signer(device_id)
        if signer is None:
            raise _Refused("stammt von keinem zertifizierten Gerät des Teams")
        message = protocol.change_signing_bytes(
            team=self._device.team, device_id=device_id, change_id=change["change_id"],
            record_id=change["record_id"], kind=change["kind"], hlc=change["hlc"],
            epoch=change["epoch"], nonce=nonce, ciphertext=ciphertext)
        return _Signed(device_id, signer, nonce, signature, ciphertext, message)

    def opened(self, change: dict[str, Any], now_ms: int) -> merge.Received:
        """One change from the server, verified and decrypted as a pull would (nothing applied);
        _Refused if it fails a check. For audits and tests of what a change carries."""
        signed = self._signed(change, now_ms)
        valid, = protocol.change_signatures_valid(
            [(signed.signer.key, signed.signature, signed.message)])
        return self._open(change, signed, valid)

    def _open(self, change: dict[str, Any], signed: _Signed,
              signature_valid: bool) -> merge.Received:
        """The decrypted change; _Refused (→ quarantine) if it fails verification.

        Checked in this order, without reading the vault: the change's shape and clock and its
        author (:meth:`_signed`), the author device's signature (``signature_valid``) against
        the key of a device this device found certified, not revoked before the change's
        clock, then decryption, the payload's shape, and that the payload's origin belongs to
        the signer (the first signer that used an origin, in the team log's order, owns it).
        Author and origin are the verified signer's."""
        device_id, signer = signed.device_id, signed.signer
        nonce, ciphertext = signed.nonce, signed.ciphertext
        if not signature_valid:
            raise _Refused("Signatur des Autorgeräts ist ungültig")
        if signer.revoked_at_ms is not None and \
                int(change["hlc"][:13]) >= signer.revoked_at_ms:
            raise _Refused("stammt von einem gesperrten Gerät (nach seiner Sperrung)")
        epoch = int(change["epoch"])
        key = self._team_keys.get(epoch)
        if key is None:
            self._fetch_envelopes()
            key = self._team_keys.get(epoch)
        if key is None:
            raise SyncError("Für diese Änderungen fehlt dem Gerät der Teamschlüssel.")
        try:
            payload = self._cipher(epoch).decrypt(
                record_id=change["record_id"], kind=change["kind"], hlc=change["hlc"],
                epoch=epoch, nonce=nonce, ciphertext=ciphertext)
        except (crypto.DecryptionFailed, ValueError):
            raise _Refused("lässt sich nicht entschlüsseln (verändert, falsch zugeordnet "
                           "oder unbrauchbar)") from None
        if not _payload_shape_ok(payload):
            raise _Refused("Inhalt hat nicht die Form einer Änderung")
        origin = payload["origin"]
        owner = self._origins.get(origin)
        if owner is not None and owner != device_id:
            raise _Refused("gibt sich als Gerät einer anderen Person aus")
        self._origins[origin] = device_id
        payload["author"] = signer.user  # the verified signer's, never what the payload says
        return merge.Received(kind=change["kind"], record_id=change["record_id"],
                              hlc=change["hlc"], payload=payload, signer=device_id,
                              change_id=change["change_id"], seq=int(change["seq"]),
                              epoch=epoch)

    # --- checksum and repair ------------------------------------------------------------

    def verify(self) -> bool:
        """True if this device holds what the team's log says; False means damage."""
        answer = self._get("/checksum")
        with self._ctx.vault.reading() as session:
            if int(answer["head"]) != self._cursor() or merge.pending(session, 1):
                return True  # the team moved on meanwhile; the next sync checks again
            ahead = self._closing.take_verification(session) if self._closing else None
            local = ahead or closing.verification(session)
        return not local.problems and local.checksum == str(answer["checksum"])

    def resync(self) -> tuple[int, int]:
        """Rebuild this device's merge state from the server's log (nothing local is lost:
        the outbox stays and is pushed first)."""
        with self._ctx.vault.writing() as session:
            merge.forget_merge_state(session)
            device = session.get(SyncDevice, 1)
            assert device is not None
            device.cursor = 0
        return self.pull(repair=True)

    # --- one sync -----------------------------------------------------------------------

    def _push_outbox(self, epoch: int, report: SyncReport) -> int:
        """Push the outbox (again under a new key if the team's changed meanwhile), report the
        erasures it carried, and tidy the server's remains of finished transfers. Returns the
        epoch pushed under."""
        with self._ctx.vault.reading() as session:
            erased = erasures.pending_erasures(session)  # reported once they are pushed
        try:
            report.pushed += self.push(epoch)
        except _EpochChanged:
            epoch = self._ensure_keys(self._get("/status"))
            report.pushed += self.push(epoch)
        if erased:  # unreachable now: only the compaction is lost, the purge went out
            with contextlib.suppress(ServerUnreachable):
                erasures.report(self._post, erasures.signed(
                    erased, team=self._device.team, device_id=self._device.device_id,
                    sign=self._signing_key.sign))
        transfer.after_push(self)
        return epoch

    def run(self) -> SyncReport:
        try:
            return self._run()
        finally:
            if self._closing is not None:
                self._closing.close()
                self._closing = None

    def _run(self) -> SyncReport:
        report = SyncReport()
        status = self._get("/status")
        self._touch(last_contact=True)
        epoch = self._ensure_keys(status)
        if epoch == 0 or (status["state"] == "pending" and epoch not in self._team_keys):
            report.state = "pending"
            report.notes.append("Das Gerät wartet auf die Bestätigung durch die Koordination.")
            return report
        self._set_state("active")
        self._hand_keys_to_new_coordinators()
        report.notes += transfer.before_push(self)  # cases that move: kimdesk/sync/transfer.py
        owed = self.rotation_owed(epoch)
        if owed:  # nothing goes out under a key a revoked device holds
            report.notes.append(ROTATION_OWED_NOTE)
        else:
            epoch = self._push_outbox(epoch, report)
        try:
            report.pulled, report.conflicts = self.pull()
        except _ResyncNeeded:
            report.pulled, report.conflicts = self.resync()
            report.repaired = True
        # Acknowledged transfers are erased here only after the pull: a colleague's change
        # of the file pushed before this sync is then seen and keeps the file.
        notes, erased = transfer.after_pull(self)
        report.notes += notes
        if erased and not owed:
            self._push_outbox(epoch, report)
        if not self.verify():
            report.pulled, report.conflicts = self.resync()
            report.repaired = True
            if not self.verify():
                raise SyncError("Der Abgleich mit dem Team ist nicht vollständig; bitte "
                                "erneut synchronisieren oder die Kreis-IT fragen.")
        fetched = self._blobs.download_pending()  # documents' contents, after their records
        self._quarantined_now += fetched.quarantined
        report.documents_waiting = fetched.waiting
        if fetched.waiting:
            report.notes.append(_documents_note(fetched.waiting, "noch nicht vollständig auf "
                                                "diesem Gerät; sie werden beim nächsten "
                                                "Abgleich geladen."))
        report.documents_held = self._held_documents
        if self._held_documents:
            report.notes.append(_documents_note(self._held_documents, "noch nicht gesendet "
                                                "(Verbindung unterbrochen); sie folgen beim "
                                                "nächsten Abgleich."))
        report.quarantined = self._quarantined_now
        if report.quarantined:
            report.notes.append(f"{report.quarantined} Änderungen vom Server wurden "
                                "zurückgehalten (Quarantäne) und nicht übernommen; die "
                                "Kreis-IT ist informiert.")
        self.report_quarantine()
        report.audit_problems = self.anchor_audit_trail()
        if report.audit_problems:
            report.notes.append(
                "Das Protokoll dieses Geräts ist kürzer oder anders als beim letzten Abgleich "
                "festgehalten (Einträge entfernt oder verändert). Die Kreis-IT ist informiert.")
        if self._send_statistics:
            self.push_statistics()
        report.finished_at = datetime.now(UTC)
        self._touch(last_contact=True, finished=report.finished_at)
        return report

    def anchor_audit_trail(self) -> list[str]:
        """Check the audit trail against the anchors the server kept of it, then anchor its
        head (number and MAC, no content); returns what the check found (also reported)."""
        anchors = self._get("/audit-anchor").get("anchors", [])
        with self._ctx.vault.reading() as session:
            problems = audit.check_anchors(session, self._ctx.audit_key,
                                           ((a["seq"], a["mac"]) for a in anchors))
            newest = audit.head(session)
        seq, mac = newest if newest is not None else (0, "0" * 64)
        _answer(self._call("PUT", "/audit-anchor",
                           json={"seq": seq, "mac": mac, "problems": problems}))
        return problems

    def quarantined(self) -> list[QuarantinedChange]:
        """The changes this device set aside (newest first): for the sync status."""
        with self._ctx.vault.reading() as session:
            rows = list(session.scalars(select(QuarantinedChange)
                                        .order_by(QuarantinedChange.id.desc())))
            for row in rows:
                session.expunge(row)
        return rows

    def report_quarantine(self) -> None:
        """Tell the county server which changes this device quarantined (server-admin lists
        them); a failure is retried at the next sync."""
        with self._ctx.vault.reading() as session:
            rows = list(session.scalars(select(QuarantinedChange).where(
                QuarantinedChange.reported.is_(False)).limit(protocol.MAX_BATCH)))
            items = [{"seq": r.seq, "change_id": r.change_id, "reason": r.reason}
                     for r in rows]
            ids = [r.id for r in rows]
        if not items:
            return
        response = self._post("/quarantine", {"changes": items})
        if response.status_code != 200:
            return
        with self._ctx.vault.writing() as session:
            for row in session.scalars(select(QuarantinedChange)
                                       .where(QuarantinedChange.id.in_(ids))):
                row.reported = True

    def push_statistics(self) -> None:
        """The anonymised counts of this and last month (replacing what was sent before)."""
        if self._device.team == COUNTY_TEAM:
            return  # a Kreis-Tresor holds no cases (kimdesk/casework/county.py)
        for month in statistics.months_to_report(self._ctx.today()):
            ahead = self._closing.take_cells(month) if self._closing else None
            cells = ahead if ahead is not None else statistics.month_cells(self._ctx, month)
            _answer(self._call("PUT", f"/stats/{month}", json={"cells": cells}))

    def _touch(self, *, last_contact: bool = False, finished: datetime | None = None) -> None:
        with self._ctx.vault.writing() as session:
            device = session.get(SyncDevice, 1)
            assert device is not None
            now = datetime.now(UTC)
            if last_contact:
                device.last_contact_at = now
            if finished is not None:
                device.last_sync_at = finished

    def _set_state(self, state: str) -> None:
        if self._device.state == state:
            return
        with self._ctx.vault.writing() as session:
            device = session.get(SyncDevice, 1)
            assert device is not None
            device.state = state
        self._device.state = state


class _EpochChanged(Exception):
    pass


class _ResyncNeeded(Exception):
    pass


class _Refused(Exception):
    """A pulled change that must not be applied; ``reason`` is German and names no client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Signed:
    """A pulled change's parts for its signature check (``SyncClient._signed``)."""

    device_id: str
    signer: _Signer
    nonce: bytes
    signature: bytes
    ciphertext: bytes
    message: bytes


@dataclass(frozen=True)
class _Signer:
    """A certified device as an author of changes."""

    key: bytes  # raw Ed25519 public key (protocol.change_signature_valid)
    user: str  # the name the device enrolled with (shown to the coordinator at confirmation)
    revoked_at_ms: int | None  # changes with a later clock are refused


def _iso_ms(text: str) -> int:
    """Milliseconds since the epoch of a trust document's ``issued_at``; 0 (everything after
    it refused) if it cannot be read."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return 0
    return int(moment.timestamp() * 1000)


def _payload_shape_ok(payload: Any) -> bool:
    if not isinstance(payload, dict) or not isinstance(payload.get("origin"), str) \
            or not 0 < len(payload["origin"]) <= 32:
        return False
    if not isinstance(payload.get("fields", {}), dict) or not isinstance(
            payload.get("base", {}), dict):
        return False
    cl = payload.get("cl", 1)
    return isinstance(cl, int) and not isinstance(cl, bool) and cl >= 0


def _quarantine(session: Session, refused: list[tuple[dict[str, Any], str]]) -> None:
    if not refused:
        return
    known = set(session.scalars(select(QuarantinedChange.change_id).where(
        QuarantinedChange.change_id.in_([c["change_id"] for c, _ in refused]))))
    for change, reason in refused:
        if change["change_id"] in known:
            continue
        known.add(change["change_id"])
        session.add(QuarantinedChange(
            seq=int(change["seq"]), change_id=str(change["change_id"])[:32],
            author_device=str(change["device_id"])[:32],
            record_id=str(change["record_id"])[:200], kind=str(change["kind"])[:60],
            hlc=str(change["hlc"])[:100], epoch=int(change["epoch"]), reason=reason,
            reported=False))


def _sign_keys(listed: Any) -> dict[str, bytes]:
    """Fingerprint → Ed25519 key of devices as listed by the server, each fingerprint computed
    here from the listed keys (a key the server replaced has another fingerprint)."""
    found: dict[str, bytes] = {}
    for device in listed:
        keys = protocol.listed_device_keys(device)
        if keys is not None:
            sign, _box, computed = keys
            found[computed] = sign
    return found


def _documents_note(count: int, what: str) -> str:
    """A note of the sync report about ``count`` documents: "Dokumente: 2 noch nicht …"."""
    return f"Dokumente: {count} {what}"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
