"""The recovery code sheet: the code of the Datentresor to print and keep apart from the
laptop. Made in memory; it reaches the disk only where the user saves it."""

from __future__ import annotations

from datetime import date

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from kimdesk import APP_NAME
from kimdesk.reports.layout import BOLD, DocumentInfo, para, render, styles

TITLE = "Wiederherstellungscode"


def recovery_code_pdf(code: str, printed_on: date, team: str = "") -> bytes:
    """One page: what the code is for, the code in large type, how to keep it."""
    st = styles()
    code_style = ParagraphStyle("recovery_code", parent=st.body, fontName=BOLD, fontSize=20,
                                leading=26, spaceBefore=6, spaceAfter=10)
    story: list[Flowable] = [
        para(f"{TITLE} für den {APP_NAME}-Datentresor", st.title),
        para("Mit diesem Code kommen Sie an Ihre Daten, wenn Sie das Passwort vergessen "
             "(Sperrbildschirm: „Passwort vergessen?“).", st.body),
        Spacer(1, 4 * mm),
        para(code, code_style),
        para("Getrennt vom Laptop sicher aufbewahren (z. B. im verschlossenen Schrank). Wer "
             "den Code und den Laptop hat, kann den Datentresor öffnen. Nach einer "
             "Wiederherstellung gilt dieser Code nicht mehr; Sie erhalten dann einen neuen.",
             st.body),
        Spacer(1, 8 * mm),
        para("Dieses Blatt enthält keine Daten von Ratsuchenden.", st.small),
    ]
    return render(DocumentInfo(title=TITLE, team=team, printed_on=printed_on,
                               confidential=False), story)
