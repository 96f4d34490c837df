"""Arabic and Persian script in KIMdesk's PDFs: joined letters, right to left, readable back.

reportlab draws characters one by one, left to right. For Arabic script this module

- shapes the text with ``arabic-reshaper`` (each letter becomes its isolated, initial, medial or
  final presentation form; lām-alif becomes one ligature; Persian letters پ چ ژ گ ک ی included),
- reorders it for display with ``python-bidi`` (the Unicode bidirectional algorithm), line by
  line after wrapping, so a paragraph breaks between words in reading order,
- draws Arabic-script runs in Noto Sans Arabic and everything else (Latin, Cyrillic, digits,
  punctuation) in the documents' DejaVu Sans,
- writes a ToUnicode map that gives each presentation form back as its base letter(s), so that
  ``pdftotext``, search and screen readers read the name in logical order and with the
  ordinary letters (poppler reorders right-to-left text itself).

Vowel marks (harakāt) are left out, as in ordinary print: reportlab cannot position them.

Two entry points: ``inline`` for a name or phrase inside a left-to-right paragraph (all PDFs go
through ``layout.text``), and ``RtlParagraph`` for a right-to-left paragraph (the Arabic and
Dari/Farsi documents).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

import arabic_reshaper
from bidi.algorithm import get_display  # the implementation that mirrors brackets (L4)
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

ARABIC = "KIMdesk-NotoSansArabic"
ARABIC_BOLD = "KIMdesk-NotoSansArabic-Bold"
ARABIC_FILES = {ARABIC: "NotoSansArabic-Regular.ttf", ARABIC_BOLD: "NotoSansArabic-Bold.ttf"}

# Arabic script: Arabic, Arabic Supplement, Arabic Extended-A, presentation forms A and B.
_ARABIC_CHARS = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
_ARABIC = re.compile(f"[{_ARABIC_CHARS}]")
# A run of Arabic-script words: spaces, digits and punctuation between them belong to the run
# (Latin letters end it).
_ARABIC_RUN = re.compile(
    f"[{_ARABIC_CHARS}](?:[{_ARABIC_CHARS}0-9 .,:;!?()«»\"'/–-]*[{_ARABIC_CHARS}])?")
# Longer runs may break between lines (then in the wrong order: use RtlParagraph for sentences).
_KEEP_TOGETHER = 60
_PRESENTATION_FORMS = ((0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
# Zero-width non-joiner and joiner (Persian میکنم → می‌کنم) belong to the Arabic run.
_JOINER_CONTROLS = "\u200c\u200d"
NO_BREAK_SPACE = "\u00a0"
# Noto Sans Arabic looks smaller than DejaVu Sans at the same size: Arabic is set a little larger.
ARABIC_SCALE = 1.1


def has_arabic(value: str) -> bool:
    """Whether ``value`` contains a letter of the Arabic script (Arabic, Persian, Dari …)."""
    return _ARABIC.search(value) is not None


def _is_presentation_form(code: int) -> bool:
    return any(low <= code <= high for low, high in _PRESENTATION_FORMS)


def _to_unicode_cmap(font_name: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, but a presentation form maps to its base letter(s)."""
    entries = []
    for index, code in enumerate(subset):
        target = chr(code)
        if _is_presentation_form(code):
            # A ligature (lām-alif, Allah) gives several letters. They are written last to
            # first because a reader such as poppler reverses right-to-left text character by
            # character after mapping, which would otherwise turn لا into ال.
            target = unicodedata.normalize("NFKC", target)[::-1] or target
        entries.append(f"<{index:02X}> <{target.encode('utf-16-be').hex().upper()}>")
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        "/CIDSystemInfo", f"<< /Registry ({font_name})", f"/Ordering ({font_name})",
        "/Supplement 0", ">> def", f"/CMapName /{font_name} def", "/CMapType 2 def",
        "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
        f"{len(subset)} beginbfchar", *entries, "endbfchar", "endcmap",
        "CMapName currentdict /CMap defineresource pop", "end", "end",
    ])


class LogicalTTFont(TTFont):  # type: ignore[misc]  # reportlab has no type hints
    """A TrueType font whose text reads back as base letters (see the module docstring)."""

    def addObjects(self, doc: Any) -> None:  # reportlab's name
        state = self.state.get(doc)
        subsets = [list(subset) for subset in state.subsets] if state is not None else []
        super().addObjects(doc)
        for number, subset in enumerate(subsets):
            base = b"".join((SUBSETN(number), b"+", self.face.name,
                             self.face.subfontNameX)).decode("pdfdoc")
            stream = doc.idToObject.get("toUnicodeCMap:" + base)
            if stream is not None:
                stream.content = _to_unicode_cmap(base, subset)


def register_arabic_fonts(directory: Path) -> None:
    """Register Noto Sans Arabic (regular and bold, one family) from ``directory``."""
    _register(str(directory))


@functools.cache
def _register(directory: str) -> None:
    for name, filename in ARABIC_FILES.items():
        pdfmetrics.registerFont(LogicalTTFont(name, str(Path(directory) / filename)))
    pdfmetrics.registerFontFamily(ARABIC, normal=ARABIC, bold=ARABIC_BOLD, italic=ARABIC,
                                  boldItalic=ARABIC_BOLD)


def visual(value: str, *, rtl: bool = True) -> str:
    """``value`` (logical order) shaped and in display order for one line."""
    return str(get_display(arabic_reshaper.reshape(value), base_dir="R" if rtl else "L"))


def inline(escaped: str, *, bold: bool = False) -> str:
    """Paragraph markup with every Arabic-script run of ``escaped`` shaped, in display order and
    in Noto Sans Arabic; the run does not break across lines (a name stays together)."""
    font = ARABIC_BOLD if bold else ARABIC

    def replace(match: re.Match[str]) -> str:
        run = visual(match.group(0))
        if len(run) <= _KEEP_TOGETHER:
            run = run.replace(" ", NO_BREAK_SPACE)
        return f'<font name="{font}" size="+1">{run}</font>'  # about ARABIC_SCALE

    return _ARABIC_RUN.sub(replace, escaped)


def runs(line: str, latin: str, arabic: str) -> list[tuple[str, str]]:
    """A display-order line cut into (text, font) runs: Arabic script in ``arabic``, the rest
    (Latin, Cyrillic, digits, punctuation, spaces) in ``latin``."""
    result: list[tuple[str, str]] = []
    for char in line:
        font = arabic if _ARABIC.match(char) or char in _JOINER_CONTROLS else latin
        if char == " " and result:
            font = result[-1][1]
        if result and result[-1][1] == font:
            result[-1] = (result[-1][0] + char, font)
        else:
            result.append((char, font))
    return result


class RtlParagraph(Flowable):  # type: ignore[misc]  # reportlab has no type hints
    """A right-to-left paragraph of plain text (no markup), right-aligned, wrapped between
    words in reading order, splittable across pages."""

    def __init__(self, value: str, style: ParagraphStyle, *, bold: bool | None = None,
                 lines: list[str] | None = None) -> None:
        super().__init__()
        self.value = value
        self.style = style
        self.bold = bold if bold is not None else "Bold" in style.fontName
        self.latin = style.fontName
        self.arabic = ARABIC_BOLD if self.bold else ARABIC
        self._lines = lines
        self._split_part = lines is not None  # a part after a page break keeps its lines
        self.width = 0.0
        self.height = 0.0

    def _size(self, font: str) -> float:
        return float(self.style.fontSize) * (ARABIC_SCALE if font == self.arabic else 1.0)

    def _line_width(self, logical: str) -> float:
        return sum(pdfmetrics.stringWidth(part, font, self._size(font))
                   for part, font in runs(arabic_reshaper.reshape(logical), self.latin,
                                          self.arabic))

    def _wrap_lines(self, width: float) -> list[str]:
        lines: list[str] = []
        for paragraph in self.value.split("\n"):
            current = ""
            for word in paragraph.split():
                candidate = f"{current} {word}" if current else word
                if current and self._line_width(candidate) > width:
                    lines.append(current)
                    current = word
                else:
                    current = candidate
            lines.append(current)
        return lines

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._lines is None or (self.width != availWidth and not self._split_part):
            self._lines = self._wrap_lines(availWidth)
        self.width = availWidth
        self.height = len(self._lines) * self.style.leading
        return availWidth, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        self.wrap(availWidth, availHeight)
        assert self._lines is not None
        fit = int(availHeight // self.style.leading)
        if fit <= 0 or fit >= len(self._lines):
            return [] if fit <= 0 else [self]
        return [RtlParagraph(self.value, self.style, bold=self.bold, lines=self._lines[:fit]),
                RtlParagraph(self.value, self.style, bold=self.bold, lines=self._lines[fit:])]

    def getSpaceBefore(self) -> float:
        return float(self.style.spaceBefore)

    def getSpaceAfter(self) -> float:
        return float(self.style.spaceAfter)

    def draw(self) -> None:
        canvas: Canvas = self.canv
        assert self._lines is not None
        size = self.style.fontSize
        canvas.setFillColor(self.style.textColor)
        y = self.height - size  # the first baseline, as in a reportlab Paragraph
        for logical in self._lines:
            parts = runs(visual(logical), self.latin, self.arabic)
            x = self.width - sum(pdfmetrics.stringWidth(part, font, self._size(font))
                                 for part, font in parts)
            for part, font in parts:
                canvas.setFont(font, self._size(font))
                canvas.drawString(x, y, part)
                x += pdfmetrics.stringWidth(part, font, self._size(font))
            y -= self.style.leading
