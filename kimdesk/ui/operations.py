"""Run slow casework off the GUI thread and hand the result back on it (Anki's CollectionOp).

Thread rule: the worker only calls the function it was given; it never touches a widget. The
result or the error comes back through a queued signal, so callbacks run on the GUI thread.
The pool is given a plain callable: handing PySide6 6.12 a QRunnable subclass corrupts
reference counts and crashes the process.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

GC_INTERVAL_MS = 1000


class GuiThreadGarbageCollector(QObject):
    """Cyclic garbage is collected on the GUI thread only.

    Python's collector runs on whichever thread happens to allocate; when that is a pool
    thread and the garbage holds Qt wrappers, PySide6 destroys Qt objects off their thread
    and the process crashes (seen in a worker of the test suite). So automatic collection is
    switched off while this object lives and a timer collects on the GUI thread instead.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(GC_INTERVAL_MS)

    @staticmethod
    def collect() -> None:
        """Collect what the automatic collector would have collected by now: the youngest
        generation whose allocation count passed its threshold, and older ones only as rarely as
        Python itself does. A full collection every second holds the GIL for as long as the
        whole heap takes to walk (seconds in a long test worker, and a jerky window in a long
        session) and starves every other thread: a background sync took over a minute."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Back to automatic collection (tests, and the end of the program)."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()


class Operation(QObject):
    """One background call, owned by its parent and deleted with it.

    It is deliberately not deleted when done (no deleteLater): the pool thread may still hold
    the last reference to the bound method it ran, and deleting the QObject under it crashed
    PySide6 6.12 about every other run. One small object per call lives until its screen goes.
    """

    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fn = fn
        self.succeeded.connect(lambda result: self._done(on_success, result))
        self.failed.connect(lambda exc: self._done(on_error, exc))

    def _run(self) -> None:  # on a pool thread
        try:
            result = self._fn()
        except Exception as exc:  # handed to the GUI thread, which decides how to show it
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)

    def _done(self, callback: Callable[[Any], None], value: Any) -> None:
        try:
            callback(value)
        finally:
            self.finished.emit()

    def start(self, pool: QThreadPool | None = None) -> None:
        (pool or QThreadPool.globalInstance()).start(self._run)


def run_in_background(
    parent: QObject,
    fn: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_error: Callable[[Exception], None],
) -> Operation:
    operation = Operation(fn, on_success, on_error, parent)
    operation.start()
    return operation
