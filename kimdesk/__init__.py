"""KIMdesk: case management for the Kommunales Integrationsmanagement (KIM) of the Kreis Kleve.

App identity lives here and only here: pyproject, the QApplication and the installer read it.
"""

from __future__ import annotations

APP_NAME = "KIMdesk"
APP_ID = "kimdesk"
ORGANIZATION = "Kreis Kleve – Kommunales Integrationsmanagement"
ORGANIZATION_DOMAIN = "kreis-kleve.de"
__version__ = "0.1.0"
