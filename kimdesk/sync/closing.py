"""The reads that close a sync, made while a long push is still running.

A sync ends with reads of the whole vault: the local team checksum and the consistency check
(:meth:`SyncClient.verify`) and the statistics cells of the months it reports
(:meth:`SyncClient.push_statistics`). During a first push of tens of thousands of changes the
device mostly waits for the county server's answers, and these reads do not depend on the
push (it only deletes acknowledged outbox rows). So a big push starts them on a thread
(:class:`ClosingReads`), and the sync's end takes their results instead of reading again.

They are taken only if nothing they read can have changed since they began:

- this process: the vault's change feed (``kimdesk/vault/changes.py``) reports the tables
  of every commit; one that wrote any table but the sync's own bookkeeping (the outbox and the
  device's cursor, document uploads, keys, trust) makes them stale: a pulled page, a merge,
  an edit in the desktop app while the sync runs;
- another process (a ``kimdesk`` command beside the desktop app): every local edit advances
  the device's clock in its own transaction (``models.changelog.ClockState``); the clock is
  read with them and again at the end.

Stale, failed or not started, the sync's end reads as before. Either way each result is used
once: a repair after a failed check always reads afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework.context import Context
from kimdesk.models import QuarantinedChange
from kimdesk.models.changelog import ClockState
from kimdesk.sync import merge, statistics

# Tables the sync itself writes that none of the closing reads depend on (module docstring).
BOOKKEEPING = frozenset({
    "sync_outbox", "sync_device", "sync_blob_uploads", "sync_blob_downloads",
    "sync_team_keys", "sync_trust", "sync_authors",
})


@dataclass(frozen=True)
class Verification:
    """What :meth:`SyncClient.verify` compares with the server: local damage the checksum
    cannot see (synced tables missing alive records) and the local team checksum."""

    problems: list[str]
    checksum: str


def verification(session: Session) -> Verification:
    """The vault's consistency problems and team checksum; quarantined changes count as held
    (the server's log has them, and this device kept them aside on purpose)."""
    held = [(r, h) for r, h in session.execute(
        select(QuarantinedChange.record_id, QuarantinedChange.hlc))]
    return Verification(merge.consistency_problems(session),
                        merge.local_checksum(session, held))


def _clock_mark(session: Session) -> str:
    """The last clock this device issued or saw: it moves with every local edit (in the
    edit's transaction) and with every change received."""
    return session.scalar(select(ClockState.last_hlc).where(ClockState.id == 1)) or ""


class ClosingReads:
    """The end-of-sync reads, made on a thread from :meth:`start` on (see the module)."""

    def __init__(self, ctx: Context, months: list[str]) -> None:
        self._ctx = ctx
        self._months = months
        self._stale = False
        self._verification: Verification | None = None
        self._cells: dict[str, list[dict[str, Any]]] = {}
        self._mark: str | None = None
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        # Watching begins before the first read: a commit seen after it may or may not be
        # in what is read, so it makes the reads stale either way.
        self._unsubscribe = self._ctx.vault.subscribe(self._committed)
        self._thread = threading.Thread(target=self._read, name="kimdesk-sync-closing",
                                        daemon=True)
        self._thread.start()

    def _committed(self, tables: frozenset[str]) -> None:
        if tables - BOOKKEEPING:
            self._stale = True

    def _read(self) -> None:
        try:
            with self._ctx.vault.reading() as session:
                mark = _clock_mark(session)
                result = verification(session)
            cells = {month: statistics.month_cells(self._ctx, month) for month in self._months}
        except Exception:  # the sync's end reads again and meets the error there
            self._stale = True
            return
        self._mark, self._verification, self._cells = mark, result, cells

    def _usable(self, session: Session) -> bool:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return not self._stale and self._mark == _clock_mark(session)

    def take_verification(self, session: Session) -> Verification | None:
        """The verification read ahead if it still holds for ``session``'s vault, else None;
        only once."""
        result = self._verification if self._usable(session) else None
        self._verification = None
        return result

    def take_cells(self, month: str) -> list[dict[str, Any]] | None:
        """The statistics cells of ``month`` read ahead if they still hold, else None; once."""
        with self._ctx.vault.reading() as session:
            usable = self._usable(session)
        cells = self._cells.pop(month, None)
        return cells if usable else None

    def close(self) -> None:
        """Wait for the thread and stop watching (idempotent)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
