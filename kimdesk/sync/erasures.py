"""Reporting purges to the county server, so that it drops the purged records' history.

Before a push the client notes which outgoing changes are erasures (a purge's tombstones,
causal length ``ERASED``); once the server stored them, it reports them (``POST
/v1/erasures``, ids only) and the server deletes every earlier change of those records
(:mod:`kimdesk.server.compaction`). Each report is signed with the device's key, so the
device's token alone cannot make the server drop history. A server without the endpoint, or a
failed report, costs only the compaction: the purge itself already reached the team through the
tombstones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kimdesk.models.changelog import ERASED, OutboxChange
from kimdesk.sync import protocol

Post = Callable[[str, dict[str, Any]], httpx.Response]


def pending_erasures(session: Session) -> list[dict[str, str]]:
    """The erasures waiting in the outbox: record id, kind and change id of each tombstone."""
    # Asked of the stored JSON in SQL: a first push has tens of thousands of changes waiting,
    # and decoding every payload cost more than sending them.
    cl = func.json_extract(OutboxChange.payload, "$.cl")
    rows = session.execute(select(OutboxChange.record_id, OutboxChange.kind,
                                  OutboxChange.change_id)
                           .where(cl >= ERASED).order_by(OutboxChange.seq))
    return [{"record_id": r, "kind": k, "change_id": c} for r, k, c in rows]


def signed(erasures: list[dict[str, str]], *, team: str, device_id: str,
           sign: Callable[[bytes], bytes]) -> list[dict[str, str]]:
    """The erasures with the device's Ed25519 signature (``protocol.erasure_signing_bytes``)."""
    return [{**e, "signature": protocol.b64e(sign(protocol.erasure_signing_bytes(
        team=team, device_id=device_id, record_id=e["record_id"], kind=e["kind"],
        change_id=e["change_id"])))} for e in erasures]


def report(post: Post, erasures: list[dict[str, str]]) -> int:
    """Report pushed erasures; the number of records whose history the server dropped."""
    compacted = 0
    for start in range(0, len(erasures), protocol.MAX_BATCH):
        response = post("/erasures", {"erasures": erasures[start:start + protocol.MAX_BATCH]})
        if response.status_code != 200:
            return compacted
        compacted += int(response.json().get("compacted", 0))
    return compacted
