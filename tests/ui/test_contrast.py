"""Contrast (BITV 2.0 / EN 301 549 9.1.4.3, WCAG 1.4.3): the palette's text colours against
their backgrounds, and every text colour the UI's style sheets and brushes set, ≥ 4.5:1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette

from kimdesk.ui import accessibility, style
from kimdesk.ui.start import application

UI = Path(__file__).resolve().parents[2] / "kimdesk" / "ui"
MINIMUM = 4.5
Role = QPalette.ColorRole
# (text, background) pairs of the palette that widgets draw text with.
PAIRS = [
    (Role.WindowText, Role.Window), (Role.Text, Role.Base), (Role.Text, Role.AlternateBase),
    (Role.PlaceholderText, Role.Base), (Role.HighlightedText, Role.Highlight),
    (Role.ButtonText, Role.Button), (Role.ToolTipText, Role.ToolTipBase),
]


def luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def contrast(text: QColor, background: QColor) -> float:
    lighter, darker = sorted((luminance(text), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_wcag() -> None:
    assert contrast(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast(QColor("#767676"), QColor("#ffffff")) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("group", [QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive])
def test_the_apps_palette_is_readable(qapp, group: QPalette.ColorGroup) -> None:  # type: ignore[no-untyped-def]
    palette = style.palette(qapp.palette())
    failing = {
        f"{text.name}/{background.name}": round(contrast(palette.color(group, text),
                                                         palette.color(group, background)), 2)
        for text, background in PAIRS
        if contrast(palette.color(group, text), palette.color(group, background)) < MINIMUM
    }
    assert failing == {}


def test_the_app_starts_with_that_palette(qapp) -> None:  # type: ignore[no-untyped-def]
    before = qapp.palette()
    try:
        application()
        assert qapp.palette().color(Role.Highlight) == QColor(style.HIGHLIGHT)
        assert qapp.palette().color(Role.PlaceholderText) == QColor(style.PLACEHOLDER_TEXT)
    finally:
        qapp.setPalette(before)
        # Leave the session's QApplication as other tests expect it: no app-wide filter.
        for names in qapp.findChildren(accessibility.AccessibleNames):
            qapp.removeEventFilter(names)
            names.setParent(None)
        qapp.setProperty("kimdesk_accessible_names", False)


_VALUE = r"(#[0-9a-fA-F]{3,6}|palette\(\w[\w-]*\)|white|black)"
_COLOUR = re.compile(r"(?<![-\w])color:\s*" + _VALUE)
_BACKGROUND = re.compile(r"background(?:-color)?:\s*" + _VALUE)
_CONSTANT = re.compile(r"^(_?[A-Z][A-Z_]*)\s*=\s*\"(#[0-9a-fA-F]{3,6})\"", re.MULTILINE)


def _style_sheet_colours() -> list[tuple[str, str, str | None]]:
    """(place, text colour, background set in the same rule or None) of every style sheet
    string in kimdesk/ui."""
    found = []
    for path in sorted(UI.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        constants = dict(_CONSTANT.findall(source))
        for number, line in enumerate(source.splitlines(), 1):
            # An f-string's {NAME} is the module's colour constant; then rules end at braces.
            line = re.sub(r"\{(_?[A-Z][A-Z_]*)\}",
                          lambda m, names=constants: names.get(m.group(1), "?"), line)
            for rule in re.split(r"[{}]", line):
                background = _BACKGROUND.search(rule)
                for match in _COLOUR.finditer(rule):
                    found.append((f"{path.relative_to(UI)}:{number}", match.group(1),
                                  background.group(1) if background else None))
    return found


def test_every_style_sheet_text_colour_is_readable(qapp) -> None:  # type: ignore[no-untyped-def]
    palette = style.palette(qapp.palette())
    window, base = palette.color(Role.Window), palette.color(Role.Base)
    colours = _style_sheet_colours()
    assert len(colours) > 20  # the scan finds the style sheets
    failing = []
    for place, value, background in colours:
        if value.startswith("palette("):
            role = value[len("palette("):-1]
            if role not in ("text", "window-text", "highlighted-text", "button-text"):
                failing.append(f"{place}: {value} is no text colour")
            continue
        text = QColor(value)
        grounds = [QColor(background)] if background else [window, base]
        worst = min(contrast(text, ground) for ground in grounds)
        if worst < MINIMUM:
            failing.append(f"{place}: {value} {worst:.2f}:1")
    assert failing == []


_BRUSH = re.compile(r"(_?[A-Z_]*(?:TEXT|OVERDUE|DONE|DUE|CONFIRMED|MUTED)[A-Z_]*)\s*=\s*"
                    r"QColor\(\"(#[0-9a-fA-F]{6})\"\)")


def test_foreground_brushes_are_readable_on_their_rows(qapp) -> None:  # type: ignore[no-untyped-def]
    """Row colours (overdue red, done green, muted grey) on white and on the § 104c yellow."""
    backgrounds = [QColor("#ffffff"), QColor("#fff3cd"), qapp.palette().color(Role.AlternateBase)]
    found = [(path.relative_to(UI), name, value) for path in sorted(UI.rglob("*.py"))
             for name, value in _BRUSH.findall(path.read_text(encoding="utf-8"))]
    assert len(found) >= 6
    failing = [f"{place} {name} {value}" for place, name, value in found
               if min(contrast(QColor(value), b) for b in backgrounds) < MINIMUM]
    assert failing == []
