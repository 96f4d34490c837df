"""Reload a screen from the vault when its data changed — at once if it is visible, else the
next time it is shown (a hidden screen does not read the vault for nothing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from kimdesk.ui.state import AppState


class ReloadWhenShown(QObject):
    """Connects ``widget`` to the hub: a change in one of ``areas`` (any area if ``None``)
    marks it stale; it reloads now if visible, else when it is shown next. ``after_unlock``
    treats an unlock like a change (the vault may hold what a sync wrote meanwhile)."""

    def __init__(self, widget: QWidget, state: AppState, reload: Callable[[], None], *,
                 areas: Iterable[str] | None = None, after_unlock: bool = False) -> None:
        super().__init__(widget)
        self._widget = widget
        self._state = state
        self._reload = reload
        self._areas = frozenset(areas) if areas is not None else None
        self.stale = True
        widget.installEventFilter(self)
        state.hub.data_changed.connect(self.changed)
        if after_unlock:
            # A bound slot (not a lambda) is disconnected when the screen goes.
            state.hub.vault_unlocked.connect(self._unlocked)

    def _unlocked(self) -> None:
        self.changed(None)

    def changed(self, area: str | None) -> None:
        if self._areas is not None and area is not None and area not in self._areas:
            return
        self.stale = True
        if self._widget.isVisible() and self._state.unlocked:
            self.reload()

    def reload(self) -> None:
        self.stale = False
        self._reload()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Show and self.stale \
                and self._state.unlocked:
            self.reload()
        return False
