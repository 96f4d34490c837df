"""Who acts on which vault, with which reference data, on which day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from kimdesk.reference import Reference, load_reference
from kimdesk.vault import Vault


@dataclass
class Context:
    """Everything a use case needs. ``clock`` is injectable so rules about days can be tested."""

    vault: Vault
    user: str
    team: str
    reference: Reference = field(default_factory=load_reference)
    clock: Callable[[], date] = date.today

    def today(self) -> date:
        return self.clock()

    @property
    def audit_key(self) -> bytes:
        return self.vault.derived_key("audit")
