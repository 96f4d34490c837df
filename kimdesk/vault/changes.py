"""What a unit of work changed: the tables its statements wrote, reported after the commit.

This is Anki's ``OpChanges`` moved down to the storage layer. The vault watches every statement
its write connection executes (ORM flushes, Core statements of the sync merge, bulk purges alike)
and collects the names of the tables written. After the outermost ``Vault.writing()`` has
committed, each subscriber receives that set once. Nothing here knows the models: the table
names come from the SQL itself, so a new table is reported without any registration.

Subscribers are called on the thread that committed (often a worker): they must hand the
report on to their own thread themselves (the UI does it with a queued Qt signal).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable

_log = logging.getLogger(__name__)

ChangeSubscriber = Callable[[frozenset[str]], None]

# SQLAlchemy and our own SQL start every write with one of these; the first name is the target.
_WRITE = re.compile(
    r"""^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)
        \s+["`\[]?(?P<table>\w+)""",
    re.IGNORECASE | re.VERBOSE,
)


def written_table(statement: str) -> str | None:
    """The table a write statement targets, or ``None`` for reads, pragmas and DDL."""
    match = _WRITE.match(statement)
    return match.group("table").lower() if match else None


class ChangeFeed:
    """The subscribers of one vault. Thread-safe; a failing subscriber does not stop the rest
    and never undoes a commit that has already happened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[ChangeSubscriber] = []

    def subscribe(self, subscriber: ChangeSubscriber) -> Callable[[], None]:
        """Register ``subscriber``; returns the function that unsubscribes it."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, tables: Iterable[str]) -> None:
        changed = frozenset(tables)
        if not changed:
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(changed)
            except Exception as exc:
                # The data is committed: a failing listener must not make a successful save
                # look failed. Only the error's type is logged (its text may quote data).
                _log.error("Change subscriber failed: %s", type(exc).__name__)

    def clear(self) -> None:
        with self._lock:
            self._subscribers.clear()
