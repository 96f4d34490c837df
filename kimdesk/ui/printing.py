"""Saving a generated document (PDF, CSV, XLSX): made off the GUI thread, kept in memory, and
written only to the path the user chooses in a save dialog.

Thread rule: ``produce`` runs on a pool thread and must not touch widgets (it gets what it needs,
e.g. the context, captured beforehand); the dialog and the writing happen on the GUI thread.
Tests pass ``choose_path`` instead of the dialog, so no blocking dialog ever opens there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from kimdesk.cli_toolkit import write_output
from kimdesk.errors import KimdeskError
from kimdesk.ui.operations import Operation, run_in_background

PathChooser = Callable[[str], str | None]
"""Given the suggested file name, the path to write to, or None when the user cancels."""
PersonChooser = Callable[[list[tuple[str, str]]], str | None]
"""Given (id, name) pairs, the chosen id, or None when the user cancels."""

PDF_FILTER = "PDF-Dokument (*.pdf)"
CSV_FILTER = "CSV-Datei (*.csv)"
XLSX_FILTER = "Excel-Arbeitsmappe (*.xlsx)"
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


def file_name(document: str, name: str, day: date, suffix: str = "pdf") -> str:
    """``Zielvereinbarung-Wiśniewska-2026-11-25.pdf``: letters with diacritics stay, characters
    that no file system accepts and blanks become hyphens."""
    parts = [document, *(_UNSAFE.sub("-", name).split())] if name else [document]
    stem = "-".join(part.strip("-. ") for part in parts if part.strip("-. "))
    return f"{stem}-{day.isoformat()}.{suffix}"


def last_name(display_name: str) -> str:
    """The Nachname from a display name "Nachname, Vorname" (organisations keep their name)."""
    return display_name.split(",", 1)[0].strip()


def save_dialog(parent: QWidget, title: str, file_filter: str) -> PathChooser:
    """The real chooser: a modal save dialog starting in the home directory."""

    def choose(suggested: str) -> str | None:
        target, _selected = QFileDialog.getSaveFileName(
            parent, title, str(Path.home() / suggested), file_filter)
        return target or None

    return choose


def person_dialog(parent: QWidget, title: str = "Person wählen") -> PersonChooser:
    """The real person chooser: a modal list of the people of a case."""

    def choose(people: list[tuple[str, str]]) -> str | None:
        names = [name for _id, name in people]
        name, accepted = QInputDialog.getItem(
            parent, title, "Für welche Person?", names, 0, False)
        if not accepted:
            return None
        return next((pid for pid, label in people if label == name), None)

    return choose


def save_document(
    parent: QWidget,
    produce: Callable[[], bytes],
    suggested_name: str,
    *,
    title: str = "PDF speichern",
    file_filter: str = PDF_FILTER,
    choose_path: PathChooser | None = None,
    on_saved: Callable[[Path], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    on_failed: Callable[[str], None] | None = None,
) -> Operation:
    """Run ``produce`` off the GUI thread, then ask where to save and write the bytes there.

    Nothing is written when the user cancels. ``on_failed`` gets one German sentence (an error
    of ``produce`` or of writing). The returned operation's ``finished`` fires after all that.
    """
    chooser = choose_path or save_dialog(parent, title, file_filter)

    def produced(content: bytes) -> None:
        target = chooser(suggested_name)
        if not target:
            if on_cancelled is not None:
                on_cancelled()
            return
        path = Path(target)
        try:
            write_output(path, content)
        except KimdeskError as exc:
            if on_failed is not None:
                on_failed(exc.message)
            return
        if on_saved is not None:
            on_saved(path)

    def failed(exc: Exception) -> None:
        if on_failed is not None:
            on_failed(error_text(exc))

    return run_in_background(parent, produce, produced, failed)


def error_text(exc: Exception) -> str:
    if isinstance(exc, KimdeskError):
        return exc.message
    return f"Das Dokument konnte nicht erstellt werden ({type(exc).__name__}: {exc})."
