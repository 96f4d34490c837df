"""Koordination: the coordinators' screen with Fallbesprechungen, Erkenntnisse,
Fallrekonstruktionen, Projektgruppen, the Lenkungsgruppe and the work with the Kommunen, one tab
each (concept 5.5, 4.4, 4.5, 5.6–5.8).

On a laptop with a Kreis-Tresor (the county scope, ``kimdesk/casework/county.py``) a switch at
the top chooses the scope: the team ("Team 1 Nord") or the Kreis. In the Kreis scope the same
tab widgets work on the county context (Erkenntnisse, Fallrekonstruktionen with their generative
themes, Projektgruppen, Lenkungsgruppe); Fallbesprechungen and the Kommunen stay the team's.
Without a Kreis-Tresor there is no switch (case managers never see it).

Everything shown here is pseudonymised or structural by construction; each tab reloads itself
on ``hub.data_changed`` for the areas it shows.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kimdesk.casework.profile import load_profile
from kimdesk.errors import KimdeskError
from kimdesk.ui.coordination.findings_tab import FindingsTab
from kimdesk.ui.coordination.municipal_tab import MunicipalTab
from kimdesk.ui.coordination.project_groups_tab import ProjectGroupsTab
from kimdesk.ui.coordination.reconstruction_editor import ReconstructionsTab
from kimdesk.ui.coordination.release_dialog import ReleaseDialog
from kimdesk.ui.coordination.reviews_tab import ReviewsTab
from kimdesk.ui.coordination.steering_tab import SteeringTab
from kimdesk.ui.dialogs import discard
from kimdesk.ui.state import AppState

TABS = ("Fallbesprechungen", "Erkenntnisse", "Fallrekonstruktionen", "Projektgruppen",
        "Lenkungsgruppe", "Kommunen")
COUNTY_TABS = ("Erkenntnisse", "Fallrekonstruktionen", "Projektgruppen", "Lenkungsgruppe")
TEAM, COUNTY = "team", "kreis"
_SEGMENT_STYLE = (
    "QPushButton { padding: 4px 14px; border: 1px solid #1f5f99; background: white;"
    " color: #1f5f99; }"
    # No bold when checked: the button keeps the width of its normal text (cut off at 150 %).
    "QPushButton:checked { background: #1f5f99; color: white; }"
    "QPushButton#scope_team { border-top-left-radius: 4px; border-bottom-left-radius: 4px; }"
    "QPushButton#scope_county { border-left: none; border-top-right-radius: 4px;"
    " border-bottom-right-radius: 4px; }")


class CountyTabs(QWidget):
    """The Kreis scope: the county's coordination data through the team's widgets."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        scope = state.county
        self.findings = FindingsTab(scope)
        self.reconstructions = ReconstructionsTab(scope)
        self.project_groups = ProjectGroupsTab(scope)
        self.steering = SteeringTab(scope)
        self.tabs = QTabWidget(objectName="county_tabs")
        for page, title in zip((self.findings, self.reconstructions, self.project_groups,
                                self.steering), COUNTY_TABS, strict=True):
            self.tabs.addTab(page, title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)

    def show_tab(self, title: str) -> None:
        self.tabs.setCurrentIndex(COUNTY_TABS.index(title))

    def has_unsaved_changes(self) -> bool:
        return self.reconstructions.has_unsaved_changes()


class CoordinationScreen(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
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
        # The Kreis scope is built the first time it is chosen (most laptops never show it).
        self.county: CountyTabs | None = None

        # --- the scope switch: two segments, only with a Kreis-Tresor -----------------------
        self.scope = QWidget(objectName="coordination_scope")
        self.scope.setAccessibleName("Bereich der Koordination")
        self.team_button = QPushButton("Team", objectName="scope_team", checkable=True)
        self.county_button = QPushButton("Kreis", objectName="scope_county", checkable=True)
        self.county_button.setToolTip(
            "Die Koordinationsdaten des Kreises (Kreis-Tresor): Erkenntnisse und "
            "Fallrekonstruktionen, die die Teams an den Kreis gegeben haben, Projektgruppen "
            "und Lenkungsgruppe des Kreises.")
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        segments = QHBoxLayout(self.scope)
        segments.setContentsMargins(0, 0, 0, 0)
        segments.setSpacing(0)
        for button in (self.team_button, self.county_button):
            self._group.addButton(button)
            segments.addWidget(button)
        self.scope.setStyleSheet(_SEGMENT_STYLE)
        self.team_button.setChecked(True)
        self.scope.hide()

        self.stack = QStackedWidget(objectName="coordination_stack")
        self.stack.addWidget(self.tabs)
        heading = QLabel("<h2>Koordination</h2>")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(16)
        top.addWidget(self.scope)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self.team_button.toggled.connect(self._scope_chosen)
        state.hub.vault_unlocked.connect(self._unlocked)
        state.hub.vault_locked.connect(self.scope.hide)
        state.hub.county_removed.connect(self._county_removed)
        if state.unlocked:
            self._unlocked()

    # --- scope ------------------------------------------------------------------------------

    @property
    def current_scope(self) -> str:
        return COUNTY if self.county is not None and self.stack.currentWidget() is self.county \
            else TEAM

    def _unlocked(self) -> None:
        """After an unlock: the switch if this laptop has a Kreis-Tresor, named after the
        team of the vault."""
        if not self._state.unlocked:
            return
        try:
            profile = load_profile(self._state.ctx.vault)
            self.team_button.setText(self._state.reference.team(profile.team).name)
        except KimdeskError:
            self.team_button.setText("Team")
        has_county = self._state.has_county
        self.scope.setVisible(has_county)
        if not has_county and self.current_scope == COUNTY:
            self.team_button.setChecked(True)

    def _county_removed(self) -> None:
        """County IT revoked the Kreis-Tresor and the sync wiped it: back to the team scope,
        without the switch. The Kreis scope's tabs go with every dialog they had open (a
        Projektgruppe of the Kreis being typed could never be saved), and so does a pending
        "An den Kreis weitergeben"."""
        for widget in QApplication.topLevelWidgets():
            # Hidden ones too: an auto-lock hides dialogs and the unlock would show them again.
            if isinstance(widget, QDialog) and (
                    isinstance(widget, ReleaseDialog) or self._in_county_scope(widget)):
                discard(widget)
        showing = self.current_scope == COUNTY
        self.team_button.setChecked(True)
        self.scope.hide()
        if self.county is not None:
            if showing:  # the team's tab of the same name (Erkenntnisse stays Erkenntnisse)
                self.tabs.setCurrentIndex(TABS.index(
                    COUNTY_TABS[self.county.tabs.currentIndex()]))
            self.stack.removeWidget(self.county)
            self.county.deleteLater()
            self.county = None

    def _in_county_scope(self, widget: QWidget | None) -> bool:
        while widget is not None:
            if widget is self.county:
                return True
            widget = widget.parentWidget()
        return False

    def _scope_chosen(self) -> None:
        if self.team_button.isChecked():
            self.stack.setCurrentWidget(self.tabs)
            return
        if self.county is None:
            self.county = CountyTabs(self._state)
            self.stack.addWidget(self.county)
        self.stack.setCurrentWidget(self.county)

    def show_scope(self, scope: str) -> None:
        """Choose the team or the Kreis scope (as a click on the switch does)."""
        (self.county_button if scope == COUNTY else self.team_button).setChecked(True)

    # --- tabs -------------------------------------------------------------------------------

    def show_tab(self, title: str) -> None:
        self.show_scope(TEAM)
        self.tabs.setCurrentIndex(TABS.index(title))

    def has_unsaved_changes(self) -> bool:
        """An open Fallrekonstruktion with changes, or a meeting result not saved yet (the
        other tabs edit in dialogs)."""
        return (self.reconstructions.has_unsaved_changes()
                or self.reviews.has_unsaved_changes()
                or (self.county is not None and self.county.has_unsaved_changes()))
