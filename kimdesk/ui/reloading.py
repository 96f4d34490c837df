"""The one way a screen learns about changes: reload from the vault when its data changed — at
once if it is visible, else the next time it is shown (a hidden screen does not read the vault
for nothing).

Every screen owns a ``ReloadWhenShown`` and never reloads by hand after a save: the vault
reports each commit (a save in a dialog, a sync on a worker thread, another screen's action)
and the hub passes the areas on. After an unlock every screen counts as stale (a sync may have
written meanwhile, and the window showed nothing while locked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from kimdesk.ui.state import AppState


class ReloadWhenShown(QObject):
    """Connects ``widget`` to the hub: a change in one of ``areas`` (any area if ``None``)
    marks it stale; it reloads now if visible, else when it is shown next.

    ``ready`` says whether the screen has something to show at all (e.g. a file is chosen);
    while it is false a change only marks the screen stale. The hub's signals are connected to
    bound methods of this object, so Qt disconnects them when the screen goes.
    """

    def __init__(self, widget: QWidget, state: AppState, reload: Callable[[], None], *,
                 areas: Iterable[str] | None = None,
                 ready: Callable[[], bool] | None = None) -> None:
        super().__init__(widget)
        self._widget = widget
        self._state = state
        self._reload = reload
        self._ready = ready
        self._areas = frozenset(areas) if areas is not None else None
        self.stale = True
        self._reloading = False
        widget.installEventFilter(self)
        state.hub.data_changed.connect(self.changed)
        state.hub.vault_unlocked.connect(self.mark_stale)

    def concerns(self, changed: Iterable[str] | None) -> bool:
        return self._areas is None or changed is None or not self._areas.isdisjoint(changed)

    def changed(self, changed: frozenset[str] | None) -> None:
        if self.concerns(changed):
            self.mark_stale()

    def mark_stale(self) -> None:
        """Reload now if the screen is visible, else when it is shown next."""
        self.stale = True
        if self._widget.isVisible() and self._can_reload():
            self.reload()

    def reload(self) -> None:
        if self._reloading:
            # A write made while reloading (e.g. the audit entry of a read) reports back at
            # once; the screen is reading the latest state already, so it must not recurse.
            return
        self.stale = False
        self._reloading = True
        try:
            self._reload()
        finally:
            self._reloading = False

    def _can_reload(self) -> bool:
        return self._state.unlocked and (self._ready is None or self._ready())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Under load, PySide6 has now and then handed an event to a fresh wrapper of this
        # filter without its attributes ("no attribute '_widget'"); such a call does nothing.
        if "_widget" not in self.__dict__:
            return False
        if watched is self._widget and event.type() == QEvent.Type.Show and self.stale \
                and self._can_reload():
            self.reload()
        return False
