"""The common layout of KIMdesk's PDFs: A4, embedded DejaVu fonts, the county's header, the date
of printing and "Seite X von Y" on every page, plain tables. Documents are built in memory.

The fonts are TrueType and embedded (as subsets), so names such as Łucja, Ștefănescu or Yılmaz
print as written on any computer; reportlab's built-in fonts cannot print ł, ș, ğ or ı. Arabic
script (a name such as محمد, the Arabic and Dari/Farsi documents) is shaped, right to left and in
Noto Sans Arabic (see ``shaping``); every text goes through ``text``, which does that.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from kimdesk import APP_NAME, ORGANIZATION
from kimdesk.errors import KimdeskError
from kimdesk.reports import shaping

FONT_DIRECTORY = Path(__file__).resolve().parents[2] / "resources" / "fonts"
REGULAR = "KIMdesk-DejaVuSans"
BOLD = "KIMdesk-DejaVuSans-Bold"
MARGIN = 18 * mm
HEADER_HEIGHT = 16 * mm
FOOTER_HEIGHT = 12 * mm
GREY = colors.HexColor("#555555")
LINE = colors.HexColor("#9a9a9a")
HEADER_FILL = colors.HexColor("#e6e6e6")
TOTAL_FILL = colors.HexColor("#f2f2f2")


@functools.cache
def register_fonts() -> None:
    """Register the DejaVu and Noto Sans Arabic fonts with reportlab once per process."""
    try:
        pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIRECTORY / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIRECTORY / "DejaVuSans-Bold.ttf")))
        shaping.register_arabic_fonts(FONT_DIRECTORY)
    except Exception as exc:  # reportlab raises TTFError, OSError ... for a missing/bad file
        raise KimdeskError(
            "Die Schriftart für PDF-Dokumente fehlt oder ist beschädigt "
            f"({FONT_DIRECTORY}). Bitte KIMdesk neu installieren."
        ) from exc
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                  boldItalic=BOLD)


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    number: ParagraphStyle
    number_bold: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle
    subheading: ParagraphStyle
    label: ParagraphStyle
    header: ParagraphStyle
    header_number: ParagraphStyle


@functools.cache
def styles() -> Styles:
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=12.5, spaceAfter=3,
                          bulletFontName=REGULAR)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=GREY),
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=BOLD),
        number=ParagraphStyle("number", parent=cell, alignment=TA_RIGHT),
        number_bold=ParagraphStyle("number_bold", parent=cell, alignment=TA_RIGHT,
                                   fontName=BOLD),
        title=ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=16, leading=20,
                             spaceAfter=4),
        heading=ParagraphStyle("heading", parent=body, fontName=BOLD, fontSize=12, leading=15,
                               spaceBefore=10, spaceAfter=4, keepWithNext=True),
        subheading=ParagraphStyle("subheading", parent=body, fontName=BOLD, fontSize=10,
                                  leading=13, spaceBefore=6, spaceAfter=2, keepWithNext=True),
        label=ParagraphStyle("label", parent=body, fontName=BOLD, fontSize=8.5, leading=11,
                             spaceBefore=5, spaceAfter=1.5, keepWithNext=True),
        header=ParagraphStyle("header", parent=cell, fontName=BOLD, fontSize=7.5, leading=9),
        header_number=ParagraphStyle("header_number", parent=cell, fontName=BOLD,
                                     fontSize=7.5, leading=9, alignment=TA_RIGHT),
    )


@dataclass(frozen=True)
class DocumentInfo:
    """What every page shows besides the content."""

    title: str  # e.g. "Zielvereinbarung"; also the PDF's title (never a person's name)
    team: str  # e.g. "Team 1 Nord"
    printed_on: date
    confidential: bool = True  # personal data: "Vertraulich" in the footer
    wide: bool = False  # landscape pages for wide tables


def text(value: object, *, bold: bool = False) -> str:
    """Plain text made safe for a reportlab Paragraph (which reads a little XML); Arabic script
    in it shaped and right to left (``bold``: for a bold style)."""
    result = escape(str(value)).replace("\n", "<br/>")
    return shaping.inline(result, bold=bold) if shaping.has_arabic(result) else result


def _is_bold(style: ParagraphStyle) -> bool:
    return style.fontName == BOLD


def para(value: object, style: ParagraphStyle | None = None) -> Paragraph:
    style = style or styles().body
    return Paragraph(text(value, bold=_is_bold(style)), style)


def markup(value: str, style: ParagraphStyle | None = None) -> Paragraph:
    """A paragraph whose text already is reportlab markup (escape user text with ``text``)."""
    return Paragraph(value, style or styles().body)


def german_date(value: date | None, empty: str = "–") -> str:
    return f"{value:%d.%m.%Y}" if value else empty


def number(value: object) -> str:
    """A number the German way (decimal comma); markers and text stay as they are."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}".replace(",", ".")
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


def table(rows: Sequence[Sequence[Any]], widths: Sequence[float], *, header: bool = True,
          total_rows: Sequence[int] = (), numeric_from: int | None = None,
          numeric: Collection[int] = (), zebra: bool = False) -> Table:
    """A plain table; strings become wrapping paragraphs, the first row is a repeated header.

    ``numeric_from``: columns from this index on, and the columns in ``numeric``, are numbers
    (German format, right-aligned).
    """
    st = styles()
    body: list[list[Any]] = []
    for r, row in enumerate(rows):
        line = []
        for c, value in enumerate(row):
            if isinstance(value, Flowable):
                line.append(value)
                continue
            bold = (header and r == 0) or r in total_rows
            if (numeric_from is not None and c >= numeric_from) or c in numeric:
                style = st.number_bold if bold else st.number
                line.append(Paragraph(text(number(value), bold=bold), style))
            else:
                line.append(Paragraph(text(value, bold=bold), st.cell_bold if bold else st.cell))
        body.append(line)
    result = Table(body, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands += [("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                     ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black)]
    for r in total_rows:
        commands += [("BACKGROUND", (0, r), (-1, r), TOTAL_FILL),
                     ("LINEABOVE", (0, r), (-1, r), 0.6, colors.black)]
    if zebra:
        for r in range(1 if header else 0, len(body), 2):
            if r not in total_rows:
                commands.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#fafafa")))
    result.setStyle(TableStyle(commands))
    return result


def fields(pairs: Sequence[tuple[str, object]], width: float, label_width: float = 48 * mm
           ) -> Table:
    """Label/value lines without a header (Stammdaten, Falldaten)."""
    st = styles()
    rows = [[Paragraph(text(label, bold=True), st.cell_bold), Paragraph(text(value if value not in
                                                                  (None, "") else "–"), st.cell)]
            for label, value in pairs]
    result = Table(rows, colWidths=[label_width, width - label_width], hAlign="LEFT")
    result.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d0d0d0")),
    ]))
    return result


def signature_lines(labels: Sequence[str | Flowable], width: float) -> KeepTogether:
    """Lines to sign on, side by side, with what each signature stands for below (a text, or a
    flowable such as a bilingual label)."""
    st = styles()
    gap = 12 * mm
    column = (width - gap * (len(labels) - 1)) / len(labels)
    widths: list[float] = []
    top: list[Any] = []
    bottom: list[Any] = []
    for index, label in enumerate(labels):
        if index:
            widths.append(gap)
            top.append("")
            bottom.append("")
        widths.append(column)
        top.append(Spacer(1, 16 * mm))
        bottom.append(label if isinstance(label, Flowable) else Paragraph(text(label), st.small))
    result = Table([top, bottom], colWidths=widths, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP"),
                                       ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 0)]
    for c in range(0, len(widths), 2):
        commands.append(("LINEABOVE", (c, 1), (c, 1), 0.8, colors.black))
    result.setStyle(TableStyle(commands))
    return KeepTogether([result])


def text_width(value: str, style: ParagraphStyle) -> float:
    """Width of ``value`` on one line in ``style``'s font (points)."""
    return pdfmetrics.stringWidth(value, style.fontName, style.fontSize)


def longest_word_width(value: str, style: ParagraphStyle) -> float:
    """The narrowest a cell can be without splitting a word of ``value`` (points)."""
    return max((text_width(word, style) for word in value.split()), default=0.0)


def content_width(info: DocumentInfo) -> float:
    page_width = landscape(A4)[0] if info.wide else A4[0]
    return page_width - 2 * MARGIN


def content_height(info: DocumentInfo) -> float:
    """Height of the frame a page's content flows into (points), as ``render`` sets it."""
    page_height = landscape(A4)[1] if info.wide else A4[1]
    return page_height - 2 * MARGIN - HEADER_HEIGHT - FOOTER_HEIGHT + 12 * mm


class _NumberedCanvas(Canvas):
    """Remembers every page and writes "Seite X von Y" once the number of pages is known."""

    info: DocumentInfo

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's name
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_pages)
        for state in self._saved_pages:
            self.__dict__.update(state)
            self._footer(total)
            super().showPage()
        super().save()

    def _footer(self, total: int) -> None:
        width, _height = self._pagesize
        self.saveState()
        self.setFont(REGULAR, 8)
        self.setFillColor(GREY)
        self.setStrokeColor(LINE)
        self.setLineWidth(0.4)
        y = MARGIN - 6 * mm
        self.line(MARGIN, y + 4 * mm, width - MARGIN, y + 4 * mm)
        self.drawString(MARGIN, y, self.info.title)
        if self.info.confidential:
            self.drawCentredString(width / 2, y, "Vertraulich – personenbezogene Daten")
        self.drawRightString(width - MARGIN, y, f"Seite {self._pageNumber} von {total}")
        self.restoreState()


def _header(info: DocumentInfo, canvas: Canvas, _doc: BaseDocTemplate) -> None:
    width, height = canvas._pagesize
    canvas.saveState()
    top = height - MARGIN + 4 * mm
    canvas.setFont(BOLD, 9.5)
    canvas.drawString(MARGIN, top, ORGANIZATION)
    canvas.setFont(REGULAR, 8.5)
    canvas.setFillColor(GREY)
    canvas.drawString(MARGIN, top - 4.2 * mm, info.team)
    canvas.drawRightString(width - MARGIN, top, f"Gedruckt am {german_date(info.printed_on)}")
    canvas.setStrokeColor(LINE)
    canvas.setLineWidth(0.4)
    canvas.line(MARGIN, top - 7 * mm, width - MARGIN, top - 7 * mm)
    canvas.restoreState()


def render(info: DocumentInfo, story: Sequence[Flowable]) -> bytes:
    """The PDF as bytes, built in memory."""
    register_fonts()
    pagesize = landscape(A4) if info.wide else A4
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer, pagesize=pagesize, leftMargin=MARGIN, rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_HEIGHT - 6 * mm, bottomMargin=MARGIN + FOOTER_HEIGHT - 6 * mm,
        title=info.title, author=ORGANIZATION, creator=APP_NAME, producer=APP_NAME,
        subject=info.title, invariant=1, lang="de-DE",
        # Otherwise every page starts in Helvetica, a font that is not embedded.
        initialFontName=REGULAR, initialFontSize=9.5,
    )
    frame = Frame(document.leftMargin, document.bottomMargin, document.width, document.height,
                  id="content", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    document.addPageTemplates([PageTemplate(
        id="page", frames=[frame], onPage=functools.partial(_header, info))])

    canvas_class = type("NumberedCanvas", (_NumberedCanvas,), {"info": info})
    document.build(list(story), canvasmaker=canvas_class)
    return buffer.getvalue()
