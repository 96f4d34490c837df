"""The one place for app-wide signals (Frescobaldi's and Picard's hub).

Screens never call each other to refresh and never announce a change themselves: the vault
reports the tables each committed unit of work wrote, ``AppState`` turns them into areas
(``kimdesk/ui/change_areas.py``) and emits ``data_changed`` once per commit with the set of
areas; every screen listens through ``ReloadWhenShown`` (``kimdesk/ui/reloading.py``).
Connect only bound methods of QObjects: reports may come from a worker thread, and Qt queues
them to the receiver's thread (and disconnects them when the receiver goes) only then.
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
AUDIT = "audit"  # the Protokoll of a file
CONFLICTS = "conflicts"  # concurrent edits kept by the sync (Abgleich)
# A commit of the Kreis-Tresor (the county scope of Koordination); it also counts as a change of
# COORDINATION, so the same tabs reload whichever vault they show.
COUNTY = "county"
ALL = frozenset({CLIENTS, CASES, DEADLINES, CONSENTS, NETWORK, DOCUMENTS, RETENTION,
                 COORDINATION, AUDIT, CONFLICTS, COUNTY})


class Hub(QObject):
    data_changed = Signal(object)  # frozenset of areas, once per committed unit of work
    client_opened = Signal(str)  # client id; the main window shows the file
    case_opened = Signal(str)  # case id
    vault_locked = Signal()
    vault_unlocked = Signal()
    status_message = Signal(str)
    # County IT revoked this laptop's Kreis-Tresor and the sync wiped it: the Kreis scope goes.
    county_removed = Signal()
