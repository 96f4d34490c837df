"""Run slow casework off the GUI thread and hand the result back on it (Anki's CollectionOp).

Thread rule: the worker only calls the function it was given; it never touches a widget. The
result or the error comes back through a queued signal, so callbacks run on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Relay(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # handed to the GUI thread, which decides how to show it
            self._relay.failed.emit(exc)
        else:
            self._relay.succeeded.emit(result)


class Operation(QObject):
    """One background call. Keep a reference until ``finished`` fired (the runner does)."""

    finished = Signal()

    def __init__(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.succeeded.connect(lambda result: self._done(on_success, result))
        self._relay.failed.connect(lambda exc: self._done(on_error, exc))
        self._job = _Job(fn, self._relay)

    def _done(self, callback: Callable[[Any], None], value: Any) -> None:
        try:
            callback(value)
        finally:
            self.finished.emit()

    def start(self, pool: QThreadPool | None = None) -> None:
        (pool or QThreadPool.globalInstance()).start(self._job)


def run_in_background(
    parent: QObject,
    fn: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_error: Callable[[Exception], None],
) -> Operation:
    operation = Operation(fn, on_success, on_error, parent)
    operation.finished.connect(operation.deleteLater)
    operation.start()
    return operation
