"""The app's colours: the palette every widget draws with, and the few text colours the screens
set themselves, all readable at WCAG 2.1 contrast ≥ 4.5:1 (BITV 2.0 / EN 301 549 9.1.4.3).

Qt's default Fusion palette fails that in three places KIMdesk shows all day: placeholder text
(4.0:1 on white), the selected row and navigation item (white on #308cc6, 3.7:1), and the "mid"
grey some labels borrowed for secondary text (1.8:1). ``tests/ui/test_contrast.py`` checks the
palette and every colour written into the UI's style sheets.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

# Secondary text (who saved a value, hints): on white 7.0:1, on the window grey 6.1:1.
MUTED_TEXT = "#555555"
PLACEHOLDER_TEXT = "#666666"  # on white 5.7:1
HIGHLIGHT = "#1f5f99"  # selection background; white text on it 6.8:1
HIGHLIGHTED_TEXT = "#ffffff"


def palette(base: QPalette) -> QPalette:
    """``base`` with readable placeholder, selection and secondary-text colours, in the active
    and inactive groups (a selected navigation item stays readable when another window has the
    focus)."""
    result = QPalette(base)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        result.setColor(group, QPalette.ColorRole.PlaceholderText, QColor(PLACEHOLDER_TEXT))
        result.setColor(group, QPalette.ColorRole.Highlight, QColor(HIGHLIGHT))
        result.setColor(group, QPalette.ColorRole.HighlightedText, QColor(HIGHLIGHTED_TEXT))
    return result


def apply_palette(app: QGuiApplication) -> None:
    """Give the application the readable palette (at start, before the first window)."""
    app.setPalette(palette(app.palette()))
