"""The one place for app-wide signals (Frescobaldi's and Picard's hub).

Screens never call each other to refresh; a use case that changed data emits ``data_changed``
with the area it touched, and every screen that shows that area reloads.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

# Areas a change can touch; screens subscribe to the ones they show.
CLIENTS = "clients"
CASES = "cases"
DEADLINES = "deadlines"
CONSENTS = "consents"
NETWORK = "network"
DOCUMENTS = "documents"
RETENTION = "retention"
COORDINATION = "coordination"  # Fallbesprechungen, Erkenntnisse, Rekonstruktionen …


class Hub(QObject):
    data_changed = Signal(str)
    client_opened = Signal(str)  # client id; the main window shows the file
    case_opened = Signal(str)  # case id
    vault_locked = Signal()
    vault_unlocked = Signal()
    status_message = Signal(str)
