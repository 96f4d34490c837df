"""Koordination: the coordinators' screen with Fallbesprechungen, Erkenntnisse,
Fallrekonstruktionen, Projektgruppen, the Lenkungsgruppe and the work with the Kommunen, one tab
each (concept 5.5, 4.4, 4.5, 5.6–5.8).

Everything shown here is pseudonymised or structural by construction; each tab reloads itself
on ``hub.data_changed`` for the areas it shows.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from kimdesk.ui.coordination.findings_tab import FindingsTab
from kimdesk.ui.coordination.municipal_tab import MunicipalTab
from kimdesk.ui.coordination.project_groups_tab import ProjectGroupsTab
from kimdesk.ui.coordination.reconstruction_editor import ReconstructionsTab
from kimdesk.ui.coordination.reviews_tab import ReviewsTab
from kimdesk.ui.coordination.steering_tab import SteeringTab
from kimdesk.ui.state import AppState

TABS = ("Fallbesprechungen", "Erkenntnisse", "Fallrekonstruktionen", "Projektgruppen",
        "Lenkungsgruppe", "Kommunen")


class CoordinationScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reviews = ReviewsTab(state)
        self.findings = FindingsTab(state)
        self.reconstructions = ReconstructionsTab(state)
        self.project_groups = ProjectGroupsTab(state)
        self.steering = SteeringTab(state)
        self.municipal = MunicipalTab(state)
        self.tabs = QTabWidget(objectName="coordination_tabs")
        for page, title in zip((self.reviews, self.findings, self.reconstructions,
                                self.project_groups, self.steering, self.municipal), TABS,
                               strict=True):
            self.tabs.addTab(page, title)
        heading = QLabel("<h2>Koordination</h2>")
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.tabs, 1)

    def show_tab(self, title: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(title))

    def has_unsaved_changes(self) -> bool:
        """An open Fallrekonstruktion with changes, or a meeting result not saved yet (the
        other tabs edit in dialogs)."""
        return (self.reconstructions.has_unsaved_changes()
                or self.reviews.has_unsaved_changes())
